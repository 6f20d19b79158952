// redis-cli and redis-benchmark (Debian's redis-tools) against a real vireo-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { startVireo, startRedis } from '../helpers/servers.mjs';

// VIREO_CLI_REFERENCE=1 runs the same expectations against Debian's redis-server,
// to check the expectations themselves.
const start = process.env.VIREO_CLI_REFERENCE ? startRedis : startVireo;

const run = promisify(execFile);
let srv;
let authSrv;
before(async () => {
  [srv, authSrv] = await Promise.all([start(), start(['--requirepass', 'pass'])]);
});
after(async () => {
  await Promise.all([srv?.stop(), authSrv?.stop()]);
});

/** Runs redis-cli against the plain server; resolves to stdout (latin1). */
async function cli(...args) {
  const { stdout } = await run('redis-cli', ['-p', String(srv.port), ...args], { encoding: 'latin1', maxBuffer: 64 << 20 });
  return stdout;
}

/** Runs a tool with `input` on stdin; resolves to { code, stdout, stderr }. */
function runWithInput(cmd, args, input) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

test('redis-cli ping, set, get', async () => {
  assert.equal(await cli('ping'), 'PONG\n');
  assert.equal(await cli('set', 'demo', 'hola valkey'), 'OK\n');
  assert.equal(await cli('get', 'demo'), 'hola valkey\n');
  assert.equal(await cli('set', 'a', 'b'), 'OK\n');
  assert.equal(await cli('get', 'a'), 'b\n');
});

test('redis-cli --raw and --no-raw output', async () => {
  assert.equal(await cli('set', 'multi', 'line1\nline2'), 'OK\n');
  assert.equal(await cli('--raw', 'get', 'multi'), 'line1\nline2\n');
  assert.equal(await cli('--no-raw', 'get', 'multi'), '"line1\\nline2"\n');
  assert.equal(await cli('--no-raw', 'get', 'no-such-key'), '(nil)\n');
  assert.equal(await cli('--raw', 'get', 'no-such-key'), '\n');
  assert.equal(await cli('del', 'rawcounter'), '0\n');
  assert.equal(await cli('--no-raw', 'incr', 'rawcounter'), '(integer) 1\n');
  assert.equal(await cli('--raw', 'incr', 'rawcounter'), '2\n');
  assert.equal(await cli('--no-raw', 'nosuchcommand'), "(error) ERR unknown command 'nosuchcommand', with args beginning with: \n");
});

test('redis-cli -n selects a database', async () => {
  assert.equal(await cli('-n', '2', 'set', 'dbkey', 'in-db-2'), 'OK\n');
  assert.equal(await cli('-n', '2', 'get', 'dbkey'), 'in-db-2\n');
  assert.equal(await cli('get', 'dbkey'), '\n');
  assert.equal(await cli('-n', '2', 'exists', 'dbkey'), '1\n');
  assert.equal(await cli('-n', '2', 'del', 'dbkey'), '1\n');
});

test('redis-cli -a against a server with requirepass', async () => {
  const port = String(authSrv.port);
  const ok = await run('redis-cli', ['-p', port, '--no-auth-warning', '-a', 'pass', 'ping'], { encoding: 'latin1' });
  assert.equal(ok.stdout, 'PONG\n');
  assert.equal(ok.stderr, '');
  const noauth = await run('redis-cli', ['-p', port, 'ping'], { encoding: 'latin1' });
  assert.match(noauth.stdout, /^NOAUTH Authentication required\./);
  const wrong = await run('redis-cli', ['-p', port, '--no-auth-warning', '-a', 'wrong', 'ping'], { encoding: 'latin1' });
  assert.match(wrong.stderr, /AUTH failed: WRONGPASS/);
  const setget = await run('redis-cli', ['-p', port, '--no-auth-warning', '-a', 'pass', 'set', 'secret', 'v'], { encoding: 'latin1' });
  assert.equal(setget.stdout, 'OK\n');
});

test('redis-cli --pipe mass insertion of 100,000 commands', async () => {
  const n = 100000;
  const parts = [];
  for (let i = 0; i < n; i++) {
    const k = `mass:${i}`;
    const v = `value-${i}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
  }
  const { code, stdout, stderr } = await runWithInput('redis-cli', ['-p', String(srv.port), '-n', '5', '--pipe'], parts.join(''));
  assert.equal(code, 0, stderr);
  assert.match(stdout, /errors: 0, replies: 100000/);
  assert.equal(await cli('-n', '5', 'dbsize'), `${n}\n`);
  assert.equal(await cli('-n', '5', 'get', 'mass:99999'), 'value-99999\n');
  assert.equal(await cli('-n', '5', 'flushdb'), 'OK\n');
});

test('redis-cli -r repeats a command', async () => {
  await cli('del', 'counter');
  assert.equal(await cli('-r', '5', 'incr', 'counter'), '1\n2\n3\n4\n5\n');
  assert.equal(await cli('get', 'counter'), '5\n');
});

test('redis-cli --scan --pattern', async () => {
  const want = [];
  const args = [];
  for (let i = 0; i < 120; i++) {
    want.push(`user:${i}`);
    args.push(`user:${i}`, String(i), `other:${i}`, String(i));
  }
  assert.equal(await cli('-n', '6', 'mset', ...args), 'OK\n');
  const out = await cli('-n', '6', '--scan', '--pattern', 'user:*');
  const got = out.split('\n').filter(Boolean);
  assert.deepEqual([...new Set(got)].sort(), want.sort());
  await cli('-n', '6', 'flushdb');
});

test('redis-cli info server parses', async () => {
  const out = await cli('info', 'server');
  const lines = out.split(/\r?\n/);
  assert.ok(lines[0].startsWith('# Server'), lines[0]);
  const fields = {};
  for (const l of lines) {
    if (l === '' || l.startsWith('#')) continue;
    const m = /^([a-z0-9_]+):(.*)$/.exec(l);
    assert.ok(m, `not a field line: ${JSON.stringify(l)}`);
    fields[m[1]] = m[2];
  }
  assert.equal(fields.tcp_port, String(srv.port));
  assert.equal(fields.process_id, String(srv.proc.pid));
  assert.ok('redis_version' in fields, 'redis_version is what clients parse');
});

test('redis-benchmark -t set,get runs against vireo', async () => {
  const { stdout, stderr } = await run('redis-benchmark', ['-p', String(srv.port), '-t', 'set,get', '-n', '2000', '-q'], {
    encoding: 'latin1',
    timeout: 60000,
  });
  assert.match(stdout, /SET: [\d.]+ requests per second/, stdout + stderr);
  assert.match(stdout, /GET: [\d.]+ requests per second/, stdout + stderr);
});
