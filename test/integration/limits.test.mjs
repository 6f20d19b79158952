// Connection limits and guards: maxclients, protected mode (the decision function,
// a real loopback peer and, where the machine has one, a peer on a
// non-loopback address), the Unix socket, idle `timeout` and who is exempt,
// client-query-buffer-limit, proto-max-bulk-len, client-output-buffer-limit
// for normal clients, maxmemory-clients with CLIENT NO-EVICT, and CONFIG SET of
// the immutable ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { startVireo, freePort, VIREO_BIN } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { isLocalAddress, protectedModeDenies, PROTECTED_MODE_DENIED } from '../../dist/src/server/listeners.js';

let srv;
let admin;
const sockDir = mkdtempSync(join(tmpdir(), 'vireo-unix-'));
const sockPath = join(sockDir, 'vireo.sock');

function infoField(info, name) {
  const m = new RegExp(`^${name}:(.*)\\r$`, 'm').exec(info);
  return m ? m[1] : undefined;
}

async function info(section) {
  const r = await admin.call('INFO', section);
  return r;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  srv = await startVireo(['--unixsocket', sockPath, '--unixsocketperm', '700', '--loglevel', 'verbose']);
  admin = await RawConn.connect(srv.port);
});

after(async () => {
  admin?.close();
  await srv?.stop();
});

test('maxclients: one more connection gets the error and is closed', async () => {
  const before = Number(infoField(await info('stats'), 'rejected_connections'));
  const n = Number(infoField(await info('clients'), 'connected_clients'));
  assert.equal(await admin.call('CONFIG', 'SET', 'maxclients', String(n + 1)), '+OK\r\n');
  const ok = await RawConn.connect(srv.port);
  assert.equal(await ok.call('PING'), '+PONG\r\n');
  const over = await RawConn.connect(srv.port);
  assert.equal(await over.readBytes(100, 3000), '-ERR max number of clients reached\r\n');
  await over.waitClosed();
  ok.close();
  assert.equal(await admin.call('CONFIG', 'SET', 'maxclients', '10000'), '+OK\r\n');
  assert.equal(Number(infoField(await info('stats'), 'rejected_connections')), before + 1);
});

test('maxclients and the open files limit: CONFIG SET refuses, start-up lowers it', async () => {
  const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))[1]);
  assert.equal(
    await admin.call('CONFIG', 'SET', 'maxclients', String(limit + 100)),
    `-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with ${limit - 32}\r\n`,
  );
  assert.equal(await admin.call('CONFIG', 'GET', 'maxclients'), '*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n');
  // A server started under `ulimit -n 512` serves at most 480 clients.
  const port = await freePort();
  const p = spawn('bash', ['-c', `ulimit -n 512 && exec "${process.execPath}" "${VIREO_BIN}" --port ${port} --bind 127.0.0.1 --save "" --appendonly no`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  try {
    let c;
    for (let i = 0; i < 100 && !c; i++) {
      try {
        c = await RawConn.connect(port);
      } catch {
        await sleep(50);
      }
    }
    assert.equal(await c.call('CONFIG', 'GET', 'maxclients'), '*2\r\n$10\r\nmaxclients\r\n$3\r\n480\r\n');
    assert.match(out, /maxclients has been reduced to 480/);
    c.close();
  } finally {
    p.kill('SIGKILL');
  }
});

test('protected mode: the decision (Valkey treats 127.0.0.0/8 and ::1 as local)', () => {
  assert.equal(isLocalAddress('127.0.0.1'), true);
  assert.equal(isLocalAddress('127.0.0.2'), true);
  assert.equal(isLocalAddress('::1'), true);
  assert.equal(isLocalAddress('10.0.0.5'), false);
  assert.equal(isLocalAddress('192.168.1.2'), false);
  assert.equal(isLocalAddress('::ffff:127.0.0.1'), false);
  assert.equal(isLocalAddress('fe80::1'), false);
  assert.equal(isLocalAddress(undefined), false);
  // protected-mode yes, default user without password: remote peers are refused...
  assert.equal(protectedModeDenies(true, true, 'tcp', '10.0.0.5'), true);
  assert.equal(protectedModeDenies(true, true, 'tls', '2001:db8::1'), true);
  // ...local ones and Unix socket clients are not.
  assert.equal(protectedModeDenies(true, true, 'tcp', '127.0.0.1'), false);
  assert.equal(protectedModeDenies(true, true, 'unix', undefined), false);
  // A password, or protected-mode no, lets everyone in.
  assert.equal(protectedModeDenies(true, false, 'tcp', '10.0.0.5'), false);
  assert.equal(protectedModeDenies(false, true, 'tcp', '10.0.0.5'), false);
  assert.ok(PROTECTED_MODE_DENIED.startsWith('-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user.'));
  assert.ok(PROTECTED_MODE_DENIED.endsWith('in order for the server to start accepting connections from the outside.\r\n'));
});

test('protected mode: default yes; a peer on 127.0.0.2 is local and accepted; CONFIG SET protected-mode', async () => {
  assert.equal(await admin.call('CONFIG', 'GET', 'protected-mode'), '*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n');
  const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  const reply = await new Promise((resolve) => {
    let out = '';
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      out += d;
      if (out.endsWith('\r\n')) resolve(out);
    });
    s.on('error', (e) => resolve(e.message));
  });
  s.destroy();
  assert.equal(reply, '+PONG\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'protected-mode', 'no'), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'protected-mode', 'yes'), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'protected-mode', 'maybe'), "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n");
});

/** A non-loopback IPv4 address of this machine (what a remote peer looks like), or null. */
function externalIPv4() {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.')) return a.address;
  }
  return null;
}

/** PINGs from `host`; with `untilClosed`, waits for the server to close the connection too. */
async function pingFrom(port, host, untilClosed = false) {
  const s = net.connect({ port, host });
  const reply = await new Promise((resolve) => {
    let out = '';
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      out += d;
      if (!untilClosed && out.endsWith('\r\n')) resolve(out);
    });
    s.on('close', () => resolve(untilClosed ? `${out}<closed>` : out));
    s.on('error', (e) => resolve(out || e.message));
  });
  s.destroy();
  return reply;
}

const extIp = externalIPv4();
test('protected mode: a peer on a non-loopback address gets DENIED and is closed; a password or protected-mode no lets it in', { skip: extIp === null && 'no non-loopback IPv4 address on this machine' }, async () => {
  const open = await startVireo(['--bind', '*', '-::*']);
  const c = await RawConn.connect(open.port);
  try {
    assert.equal(await pingFrom(open.port, extIp, true), `${PROTECTED_MODE_DENIED}<closed>`);
    assert.equal(await c.call('PING'), '+PONG\r\n', 'loopback clients are served');
    assert.equal(await c.call('CONFIG', 'SET', 'requirepass', 'pw'), '+OK\r\n');
    assert.equal(await pingFrom(open.port, extIp), '-NOAUTH Authentication required.\r\n');
    assert.equal(await c.call('AUTH', 'pw'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'requirepass', ''), '+OK\r\n');
    assert.equal(await pingFrom(open.port, extIp), PROTECTED_MODE_DENIED);
    assert.equal(await c.call('CONFIG', 'SET', 'protected-mode', 'no'), '+OK\r\n');
    assert.equal(await pingFrom(open.port, extIp), '+PONG\r\n');
  } finally {
    c.close();
    await open.stop();
  }
});

test('unixsocket and unixsocketperm: redis-cli -s, CLIENT INFO addr and flag U, INFO listener', async () => {
  const st = statSync(sockPath);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o700);
  const r = spawnSync('redis-cli', ['-s', sockPath, 'PING'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.stdout.trim(), 'PONG', r.stderr);
  const ci = spawnSync('redis-cli', ['-s', sockPath, 'CLIENT', 'INFO'], { encoding: 'utf8', timeout: 10000 });
  assert.match(ci.stdout, new RegExp(`addr=${sockPath.replace(/[.]/g, '\\.')}:0 laddr=${sockPath.replace(/[.]/g, '\\.')}:0 `));
  assert.match(ci.stdout, / flags=U /);
  const inf = await info('server');
  assert.equal(infoField(inf, 'listener1'), `name=unix,bind=${sockPath}`);
  assert.match(infoField(inf, 'listener0'), new RegExp(`^name=tcp,bind=127\\.0\\.0\\.1,port=${srv.port}$`));
  assert.equal(await admin.call('CONFIG', 'GET', 'unixsocketperm'), '*2\r\n$14\r\nunixsocketperm\r\n$3\r\n700\r\n');
});

test('CONFIG SET of immutable directives answers Valkey error', async () => {
  for (const [name, v] of [
    ['unixsocket', '/tmp/x.sock'],
    ['unixsocketperm', '777'],
    ['tcp-backlog', '10'],
  ]) {
    assert.equal(await admin.call('CONFIG', 'SET', name, v), `-ERR CONFIG SET failed (possibly related to argument '${name}') - can't set immutable config\r\n`);
  }
  // tcp-keepalive is mutable.
  assert.equal(await admin.call('CONFIG', 'SET', 'tcp-keepalive', '60'), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'tcp-keepalive', '300'), '+OK\r\n');
});

test('timeout: idle clients are closed by the cron; blocked and pub/sub clients are not; MULTI ones are', async () => {
  const idle = await RawConn.connect(srv.port);
  const inMulti = await RawConn.connect(srv.port);
  assert.equal(await inMulti.call('MULTI'), '+OK\r\n');
  const blocked = await RawConn.connect(srv.port);
  blocked.send('BLPOP', 'never-pushed', '0');
  const sub = await RawConn.connect(srv.port);
  await sub.call('SUBSCRIBE', 'ch');
  const busy = await RawConn.connect(srv.port);
  assert.equal(await admin.call('CONFIG', 'SET', 'timeout', '1'), '+OK\r\n');
  // `busy` keeps talking, the others stay silent.
  const t0 = Date.now();
  while (Date.now() - t0 < 3500) {
    assert.equal(await busy.call('PING'), '+PONG\r\n');
    assert.equal(await admin.call('PING'), '+PONG\r\n');
    await sleep(200);
  }
  assert.equal(idle.closed, true, 'idle client closed');
  assert.equal(inMulti.closed, true, 'a client in MULTI is not exempt');
  assert.equal(blocked.closed, false, 'blocked client stays');
  assert.equal(sub.closed, false, 'pub/sub client stays');
  assert.equal(busy.closed, false);
  assert.equal(await admin.call('CONFIG', 'SET', 'timeout', '0'), '+OK\r\n');
  assert.equal(await admin.call('LPUSH', 'never-pushed', 'x'), ':1\r\n');
  assert.equal(await blocked.readReply(), '*2\r\n$12\r\nnever-pushed\r\n$1\r\nx\r\n');
  for (const c of [blocked, sub, busy]) c.close();
});

test('proto-max-bulk-len and client-query-buffer-limit', async () => {
  // A bulk length over proto-max-bulk-len is a protocol error.
  const c = await RawConn.connect(srv.port);
  c.write('*2\r\n$3\r\nGET\r\n$1073741824\r\n');
  assert.equal(await c.readBytes(100, 3000), '-ERR Protocol error: invalid bulk length\r\n');
  await c.waitClosed();
  assert.equal(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb'), '+OK\r\n');
  const c2 = await RawConn.connect(srv.port);
  c2.write(`*2\r\n$3\r\nGET\r\n$${1024 * 1024 + 1}\r\n`);
  assert.equal(await c2.readBytes(100, 3000), '-ERR Protocol error: invalid bulk length\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb'), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '1000'), "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n");
  // A command that is never completed and grows past client-query-buffer-limit closes the client.
  const before = Number(infoField(await info('stats'), 'client_query_buffer_limit_disconnections'));
  assert.equal(await admin.call('CONFIG', 'SET', 'client-query-buffer-limit', '1mb'), '+OK\r\n');
  const q = await RawConn.connect(srv.port);
  q.write(`*2\r\n$3\r\nSET\r\n$${100 * 1024 * 1024}\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  for (let i = 0; i < 40 && !q.closed; i++) {
    q.write(chunk);
    await sleep(5);
  }
  await q.waitClosed();
  assert.equal(Number(infoField(await info('stats'), 'client_query_buffer_limit_disconnections')), before + 1);
  assert.equal(await admin.call('CONFIG', 'SET', 'client-query-buffer-limit', '1gb'), '+OK\r\n');
  assert.equal(await admin.call('PING'), '+PONG\r\n');
});

test('client-output-buffer-limit normal: hard limit closes a client that does not read', async () => {
  const before = Number(infoField(await info('stats'), 'client_output_buffer_limit_disconnections'));
  assert.equal(await admin.call('SET', 'big', 'x'.repeat(1024 * 1024)), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 4mb 0 0'), '+OK\r\n');
  const c = await RawConn.connect(srv.port);
  c.sock.pause(); // never reads
  let cmds = '';
  for (let i = 0; i < 64; i++) cmds += '*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n';
  c.write(cmds);
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    if (Number(infoField(await info('stats'), 'client_output_buffer_limit_disconnections')) === before + 1) break;
    await sleep(50);
  }
  assert.equal(Number(infoField(await info('stats'), 'client_output_buffer_limit_disconnections')), before + 1);
  c.close();
  // Soft limit: over it for longer than the seconds given.
  assert.equal(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 2mb 1'), '+OK\r\n');
  const s = await RawConn.connect(srv.port);
  s.sock.pause();
  s.write(cmds);
  await sleep(300);
  assert.equal(Number(infoField(await info('stats'), 'client_output_buffer_limit_disconnections')), before + 1, 'not yet: under the soft seconds');
  // The limit is checked when output is added: a few more replies after the soft period.
  await sleep(1200);
  s.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n');
  const t1 = Date.now();
  while (Date.now() - t1 < 5000) {
    if (Number(infoField(await info('stats'), 'client_output_buffer_limit_disconnections')) === before + 2) break;
    await sleep(50);
  }
  assert.equal(Number(infoField(await info('stats'), 'client_output_buffer_limit_disconnections')), before + 2);
  s.close();
  assert.equal(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0'), '+OK\r\n');
  assert.equal(await admin.call('DEL', 'big'), ':1\r\n');
});

test('maxmemory-clients: the client using the most memory is evicted; CLIENT NO-EVICT protects', async () => {
  assert.equal(await admin.call('CONFIG', 'GET', 'maxmemory-clients'), '*2\r\n$17\r\nmaxmemory-clients\r\n$1\r\n0\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'maxmemory-clients', '10%'), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'GET', 'maxmemory-clients'), '*2\r\n$17\r\nmaxmemory-clients\r\n$3\r\n10%\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'maxmemory-clients', 'lots'), "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value\r\n");
  assert.equal(await admin.call('CLIENT', 'NO-EVICT', 'on'), '+OK\r\n');
  const before = Number(infoField(await info('stats'), 'evicted_clients'));
  assert.equal(await admin.call('CONFIG', 'SET', 'maxmemory-clients', '3mb'), '+OK\r\n');
  const small = await RawConn.connect(srv.port);
  const hog = await RawConn.connect(srv.port);
  // An unfinished 8 MB argument: its bytes sit in the query buffer.
  hog.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${8 * 1024 * 1024}\r\n`);
  const chunk = Buffer.alloc(256 * 1024, 'b');
  for (let i = 0; i < 20 && !hog.closed; i++) {
    hog.write(chunk);
    await sleep(10);
  }
  await hog.waitClosed();
  assert.equal(await small.call('PING'), '+PONG\r\n');
  assert.equal(Number(infoField(await info('stats'), 'evicted_clients')), before + 1);
  // The same client with NO-EVICT on stays (the limit is not enforced against it).
  const keep = await RawConn.connect(srv.port);
  assert.equal(await keep.call('CLIENT', 'NO-EVICT', 'on'), '+OK\r\n');
  keep.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${8 * 1024 * 1024}\r\n`);
  for (let i = 0; i < 20; i++) {
    keep.write(chunk);
    await sleep(10);
  }
  await sleep(300);
  assert.equal(keep.closed, false);
  assert.equal(Number(infoField(await info('stats'), 'evicted_clients')), before + 1);
  keep.write(Buffer.alloc(8 * 1024 * 1024 - 20 * chunk.length, 'b'));
  keep.write('\r\n');
  assert.equal(await keep.readReply(), '+OK\r\n');
  assert.equal(await admin.call('STRLEN', 'k'), `:${8 * 1024 * 1024}\r\n`);
  assert.equal(await admin.call('CONFIG', 'SET', 'maxmemory-clients', '0'), '+OK\r\n');
  assert.equal(await admin.call('CLIENT', 'NO-EVICT', 'off'), '+OK\r\n');
  for (const c of [small, keep]) c.close();
});
