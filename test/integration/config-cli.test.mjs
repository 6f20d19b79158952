// bin/vireo-server's command line and config file: quoting, include, units,
// repeated directives, command-line overrides, start-up errors (exit code 1 and
// the FATAL CONFIG FILE ERROR report), --version/--help, stdin config, pidfile,
// SIGTERM, and CONFIG REWRITE of the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { startVireo, freePort, VIREO_BIN, ROOT } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-cfg-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const pair = (k, v) => `*2\r\n${bulk(k)}${bulk(v)}`;

/** Runs vireo-server to completion (for start-up errors and --version/--help). */
function run(args, input) {
  return spawnSync(process.execPath, [VIREO_BIN, ...args], { cwd: ROOT, encoding: 'latin1', timeout: 10000, input });
}

function file(name, text) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function waitForPort(port, proc) {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => (s.destroy(), r(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('server did not listen');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a config file: quoted arguments, include, units, repeated save "", comments', async () => {
  const inc = file('inc.conf', '# included\nhz 20\ntcp-keepalive 60\n');
  const conf = file(
    'main.conf',
    [
      '# Vireo test config',
      '',
      '   # an indented comment',
      'timeout 10',
      'maxmemory 1gb',
      'proto-max-bulk-len 2mb',
      'requirepass "pa ss\\x41\\"word"',
      "loglevel 'notice'",
      'save ""',
      'save ""',
      'MAXCLIENTS 123',
      `include ${inc}`,
      '\tdatabases 4\t',
      '',
    ].join('\r\n'),
  );
  const srv = await startVireo([], { configFile: conf });
  try {
    const c = await RawConn.connect(srv.port);
    assert.equal(await c.call('AUTH', 'pa ssA"word'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'timeout'), pair('timeout', '10'));
    assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), pair('maxmemory', '1073741824'));
    assert.equal(await c.call('CONFIG', 'GET', 'proto-max-bulk-len'), pair('proto-max-bulk-len', '2097152'));
    assert.equal(await c.call('CONFIG', 'GET', 'save'), pair('save', ''));
    assert.equal(await c.call('CONFIG', 'GET', 'maxclients'), pair('maxclients', '123'));
    assert.equal(await c.call('CONFIG', 'GET', 'hz'), pair('hz', '20'));
    assert.equal(await c.call('CONFIG', 'GET', 'tcp-keepalive'), pair('tcp-keepalive', '60'));
    assert.equal(await c.call('CONFIG', 'GET', 'databases'), pair('databases', '4'));
    // The command line (--loglevel warning from the test helper) wins over the file.
    assert.equal(await c.call('CONFIG', 'GET', 'loglevel'), pair('loglevel', 'warning'));
    assert.equal(await c.call('SELECT', '4'), '-ERR DB index is out of range\r\n');
    const info = await c.call('INFO', 'server');
    assert.ok(info.includes(`config_file:${conf}\r\n`));
    c.close();
  } finally {
    await srv.stop();
  }
});

test('command-line options override the file and take several values', async () => {
  const conf = file('override.conf', 'timeout 10\nhz 15\n');
  const srv = await startVireo(['--timeout', '99', '--save', '--maxmemory', '2mb', '--bind', '127.0.0.1', '-::1'], { configFile: conf });
  try {
    const c = await RawConn.connect(srv.port);
    assert.equal(await c.call('CONFIG', 'GET', 'timeout'), pair('timeout', '99'));
    assert.equal(await c.call('CONFIG', 'GET', 'hz'), pair('hz', '15'));
    assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), pair('maxmemory', '2097152'));
    assert.equal(await c.call('CONFIG', 'GET', 'save'), pair('save', ''));
    assert.equal(await c.call('CONFIG', 'GET', 'bind'), pair('bind', '127.0.0.1 -::1'));
    c.close();
  } finally {
    await srv.stop();
  }
});

test('an unknown directive stops start-up: exit code 1, file, line and directive named', () => {
  const conf = file('bad.conf', 'port 0\n# fine so far\nnosuchdirective yes\n');
  const r = run([conf]);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    `\n*** FATAL CONFIG FILE ERROR (Vireo 0.1.0) ***\nReading the configuration file ${conf}, at line 3\n>>> 'nosuchdirective yes'\nBad directive or wrong number of arguments\n`,
  );
});

test('malformed lines and bad values stop start-up with the reason', () => {
  const quotes = file('quotes.conf', 'bind "127.0.0.1\n');
  let r = run([quotes]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`Reading the configuration file ${quotes}, at line 1\n>>> 'bind "127.0.0.1'\nUnbalanced quotes in configuration line\n`));
  const units = file('units.conf', 'maxmemory 10x\n');
  r = run([units]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.endsWith(">>> 'maxmemory 10x'\nargument must be a memory value\n"));
  const inc = file('badinc.conf', 'hz 10\ntimeout soon\n');
  const outer = file('outer.conf', `include ${inc}\n`);
  r = run([outer]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`Reading the configuration file ${inc}, at line 2\n>>> 'timeout soon'\nargument couldn't be parsed into an integer\n`));
  r = run(['--port', '0', '--nosuch', 'x']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes("Reading the configuration file (command line), at line 2\n>>> 'nosuch \"x\"'\nBad directive or wrong number of arguments\n"));
  r = run(['--port']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.endsWith(">>> 'port'\nwrong number of arguments\n"));
  r = run([join(dir, 'missing.conf')]);
  assert.equal(r.status, 1);
  assert.ok(r.stdout.includes(`Fatal error, can't open config file '${join(dir, 'missing.conf')}': No such file or directory`));
  r = run(['--port', '0', '--save', '3600']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes('Invalid save parameters'));
});

test('--version and --help', () => {
  let r = run(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Vireo server v=0\.1\.0 valkey-compat=8\.0\.2 node=\S+ bits=64\n$/);
  assert.equal(run(['-v']).stdout, r.stdout);
  r = run(['--help']);
  assert.equal(r.status, 1); // as valkey-server
  assert.equal(r.stdout, '');
  assert.ok(r.stderr.startsWith('Usage: vireo-server [/path/to/valkey.conf] [options] [-]\n'));
  assert.equal(run(['-h']).stderr, r.stderr);
});

test('"-" reads the config from stdin, after the file and before the options', async () => {
  const port = await freePort();
  const conf = file('stdin-base.conf', 'timeout 5\nhz 12\nsave ""\n');
  const proc = spawn(process.execPath, [VIREO_BIN, conf, '--hz', '13', '-'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  proc.stdin.end(`port ${port}\nbind 127.0.0.1\ntimeout 6\nhz 11\nloglevel warning\n`);
  try {
    await waitForPort(port, proc);
    const c = await RawConn.connect(port);
    assert.equal(await c.call('CONFIG', 'GET', 'timeout'), pair('timeout', '6'));
    assert.equal(await c.call('CONFIG', 'GET', 'hz'), pair('hz', '13'));
    c.close();
    assert.ok(out.includes('Reading config from stdin'));
  } finally {
    const done = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await done;
  }
});

test('pidfile is written at start and removed at exit; SIGTERM exits with 0', async () => {
  const pidfile = join(dir, 'vireo.pid');
  const srv = await startVireo(['--pidfile', pidfile]);
  assert.equal(readFileSync(pidfile, 'latin1'), `${srv.proc.pid}\n`);
  const exited = new Promise((r) => srv.proc.once('exit', (code, signal) => r({ code, signal })));
  srv.proc.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  assert.equal(existsSync(pidfile), false);
  assert.ok(srv.output().includes('Received SIGTERM scheduling shutdown...'));
});

test('CONFIG REWRITE keeps comments and other lines, updates directives in place, appends new ones', async () => {
  const sub = mkdtempSync(join(dir, 'rw-'));
  const inc = join(sub, 'extra.conf');
  writeFileSync(inc, 'hz 20\n');
  const conf = join(sub, 'rw.conf');
  writeFileSync(
    conf,
    [
      '# Header comment',
      'port 1',
      '',
      '',
      '# timeout section',
      'timeout 10   ',
      'maxmemory 1mb',
      'save ""',
      'save ""',
      `include ${inc}`,
      'loglevel notice',
      'requirepass ""',
      '',
    ].join('\n'),
  );
  const srv = await startVireo([], { configFile: conf });
  try {
    const c = await RawConn.connect(srv.port);
    assert.equal(await c.call('CONFIG', 'SET', 'timeout', '20', 'maxclients', '500', 'maxmemory', '2gb', 'requirepass', 'a b"c'), '+OK\r\n');
    assert.equal(await c.call('AUTH', 'a b"c'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'REWRITE'), '+OK\r\n');
    const text = readFileSync(conf, 'latin1');
    assert.equal(
      text,
      [
        '# Header comment',
        `port ${srv.port}`,
        '',
        '# timeout section',
        'timeout 20',
        'maxmemory 2gb',
        'save ""',
        '', // the repeated save line
        `include ${inc}`,
        'loglevel warning',
        'requirepass "a b\\"c"',
        '', // what followed the last newline, as Valkey counts it
        '# Generated by CONFIG REWRITE',
        'bind 127.0.0.1',
        'maxclients 500',
        'hz 20',
        `dir "${ROOT}"`,
        // With no aclfile the users are written too (Valkey's rewriteConfigUserOption); requirepass is the default user's password.
        `user default on sanitize-payload #${createHash('sha256').update('a b"c').digest('hex')} ~* &* +@all`,
        '',
      ].join('\n'),
    );
    // No temporary file is left behind. Like Valkey, a second rewrite keeps the
    // blank line after the last newline, and from then on nothing changes.
    assert.deepEqual(readdirSync(sub).sort(), ['extra.conf', 'rw.conf']);
    assert.equal(await c.call('CONFIG', 'REWRITE'), '+OK\r\n');
    assert.equal(readFileSync(conf, 'latin1'), text + '\n');
    assert.equal(await c.call('CONFIG', 'REWRITE'), '+OK\r\n');
    assert.equal(readFileSync(conf, 'latin1'), text + '\n');
    c.close();
  } finally {
    await srv.stop();
  }
  // The rewritten file starts a server with the same settings.
  const again = await startVireo([], { configFile: conf });
  try {
    const c = await RawConn.connect(again.port);
    assert.equal(await c.call('AUTH', 'a b"c'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'maxclients'), pair('maxclients', '500'));
    c.close();
  } finally {
    await again.stop();
  }
});
