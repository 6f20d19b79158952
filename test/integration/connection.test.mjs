// Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET and CLIENT
// (ID, INFO, LIST, KILL, SETNAME, GETNAME, SETINFO, PAUSE, UNPAUSE, REPLY,
// NO-EVICT, NO-TOUCH, HELP), checked byte for byte over raw sockets in RESP2
// and RESP3, and through ioredis and node-redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const VERSION = '8.0.2';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
const HELLO_NOAUTH =
  '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n';
const NAME_ERR = '-ERR Client names cannot contain spaces, newlines or special characters.\r\n';

// Valkey 8.0's CLIENT LIST / CLIENT INFO line, field by field.
const LINE_RE =
  /^id=(\d+) addr=(\S+) laddr=(\S+) fd=-?\d+ name=(\S*) age=\d+ idle=\d+ flags=(\S+) db=(\d+) sub=0 psub=0 ssub=0 multi=-1 watch=0 qbuf=\d+ qbuf-free=\d+ argv-mem=(\d+) multi-mem=0 rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r?w? cmd=(\S+) user=default redir=-1 resp=([23]) lib-name=(\S*) lib-ver=(\S*) tot-net-in=\d+ tot-net-out=\d+ tot-cmds=\d+$/;

let srv; // no password
let srvAuth; // --requirepass secret
const open = [];

before(async () => {
  [srv, srvAuth] = await Promise.all([startVireo(), startVireo(['--requirepass', 'secret'])]);
});
after(async () => {
  for (const c of open) c.close?.();
  await Promise.all([srv.stop(), srvAuth.stop()]);
});

async function raw(port = srv.port) {
  const c = await RawConn.connect(port);
  open.push(c);
  return c;
}

function bulk(s) {
  return `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
}

function verbatim(s) {
  return `=${s.length + 4}\r\ntxt:${s}\r\n`;
}

/** Payload of a RESP2 bulk or RESP3 verbatim reply. */
function payload(reply) {
  const nl = reply.indexOf('\r\n');
  const body = reply.slice(nl + 2, -2);
  return reply[0] === '=' ? body.slice(4) : body;
}

function parseLine(line) {
  const m = LINE_RE.exec(line);
  assert.ok(m, `unexpected CLIENT LIST line: ${line}`);
  const [, id, addr, laddr, name, flags, db, argvMem, cmd, resp, libName, libVer] = m;
  return { id: Number(id), addr, laddr, name, flags, db: Number(db), argvMem: Number(argvMem), cmd, resp: Number(resp), libName, libVer };
}

async function info(c) {
  const r = await c.call('CLIENT', 'INFO');
  const text = payload(r);
  assert.ok(text.endsWith('\n'));
  return parseLine(text.slice(0, -1));
}

async function idOf(c) {
  const r = await c.call('CLIENT', 'ID');
  return Number(r.slice(1, -2));
}

function helloReply(resp, id) {
  const head = resp === 3 ? '%7\r\n' : '*14\r\n';
  return (
    head +
    bulk('server') + bulk('valkey') +
    bulk('version') + bulk(VERSION) +
    bulk('proto') + `:${resp}\r\n` +
    bulk('id') + `:${id}\r\n` +
    bulk('mode') + bulk('standalone') +
    bulk('role') + bulk('master') +
    bulk('modules') + '*0\r\n'
  );
}

/** Polls until fn() is truthy (bounded), for state another connection must reach first. */
async function waitFor(fn, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until client `id` is held back by CLIENT PAUSE (flag b in CLIENT LIST). */
async function waitPostponed(ctl, id) {
  await waitFor(async () => {
    const r = await ctl.call('CLIENT', 'LIST', 'ID', String(id));
    const text = payload(r);
    return text !== '' && parseLine(text.trim()).flags.includes('b');
  }, `client ${id} to be paused`);
}

// ---------------------------------------------------------------- PING / ECHO / QUIT / SELECT

test('PING and ECHO in RESP2 and RESP3', async () => {
  const c = await raw();
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('ping', 'hello world'), bulk('hello world'));
  assert.equal(await c.call('PING', 'a', 'b'), "-ERR wrong number of arguments for 'ping' command\r\n");
  assert.equal(await c.call('ECHO', ''), '$0\r\n\r\n');
  assert.equal(await c.call('ECHO', Buffer.from([0, 0xff, 13, 10])), '$4\r\n\x00\xff\r\n\r\n');
  assert.equal(await c.call('ECHO'), "-ERR wrong number of arguments for 'echo' command\r\n");
  assert.equal(await c.call('ECHO', 'a', 'b'), "-ERR wrong number of arguments for 'echo' command\r\n");
  await c.call('HELLO', '3');
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('PING', 'x'), bulk('x'));
  assert.equal(await c.call('ECHO', 'y'), bulk('y'));
});

test('QUIT replies OK, closes, and runs nothing pipelined after it', async () => {
  const c = await raw();
  c.write('*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$8\r\nquitkey1\r\n$1\r\nv\r\n');
  assert.equal(await c.readReply(), '+OK\r\n');
  await c.waitClosed();
  const d = await raw();
  assert.equal(await d.call('GET', 'quitkey1'), '$-1\r\n');
  assert.equal(await d.call('QUIT', 'extra'), '+OK\r\n');
  await d.waitClosed();
});

test('SELECT switches databases and validates the index like Valkey', async () => {
  const c = await raw();
  assert.equal(await c.call('SELECT', '15'), '+OK\r\n');
  assert.equal(await c.call('SET', 'dbkey', 'in15'), '+OK\r\n');
  assert.equal(await c.call('SELECT', '0'), '+OK\r\n');
  assert.equal(await c.call('GET', 'dbkey'), '$-1\r\n');
  assert.equal(await c.call('SELECT', '15'), '+OK\r\n');
  assert.equal(await c.call('GET', 'dbkey'), bulk('in15'));
  assert.equal((await info(c)).db, 15);
  for (const bad of ['16', '-1', '2147483647', '-2147483648']) assert.equal(await c.call('SELECT', bad), '-ERR DB index is out of range\r\n', bad);
  for (const bad of ['abc', '01', '1.0', ' 1', '+1', '-0', '', '99999999999999999999'])
    assert.equal(await c.call('SELECT', bad), '-ERR value is not an integer or out of range\r\n', JSON.stringify(bad));
  for (const bad of ['2147483648', '-2147483649', '9223372036854775807'])
    assert.equal(await c.call('SELECT', bad), '-ERR value is out of range, value must between -2147483648 and 2147483647\r\n', bad);
  assert.equal(await c.call('SELECT'), "-ERR wrong number of arguments for 'select' command\r\n");
  assert.equal((await info(c)).db, 15, 'a failed SELECT keeps the database');
});

// ---------------------------------------------------------------- HELLO

test('HELLO reply map, switching RESP3 and back to RESP2', async () => {
  const c = await raw();
  const id = await idOf(c);
  assert.equal(await c.call('HELLO'), helloReply(2, id));
  assert.equal(await c.call('CLIENT', 'GETNAME'), '$-1\r\n');
  assert.equal(await c.call('HELLO', '3'), helloReply(3, id));
  // RESP3 types from here on.
  assert.equal(await c.call('CLIENT', 'GETNAME'), '_\r\n');
  assert.equal(await c.call('GET', 'no-such-key-hello'), '_\r\n');
  const inf = await c.call('CLIENT', 'INFO');
  assert.match(inf, /^=\d+\r\ntxt:id=/);
  assert.equal(inf, verbatim(payload(inf)));
  assert.equal((await info(c)).resp, 3);
  assert.equal(await c.call('HELLO'), helloReply(3, id), 'HELLO without a version keeps the protocol');
  assert.equal(await c.call('HELLO', '2'), helloReply(2, id));
  assert.equal(await c.call('CLIENT', 'GETNAME'), '$-1\r\n');
  assert.match(await c.call('CLIENT', 'INFO'), /^\$\d+\r\nid=/);
  assert.equal((await info(c)).resp, 2);
});

test('HELLO errors and SETNAME', async () => {
  const c = await raw();
  const id = await idOf(c);
  for (const v of ['1', '4', '0', '-3', '9223372036854775807']) assert.equal(await c.call('HELLO', v), '-NOPROTO unsupported protocol version\r\n', v);
  for (const v of ['abc', '3.0', '', '99999999999999999999'])
    assert.equal(await c.call('HELLO', v), '-ERR Protocol version is not an integer or out of range\r\n', v);
  assert.equal(await c.call('HELLO', '3', 'foo'), "-ERR Syntax error in HELLO option 'foo'\r\n");
  assert.equal(await c.call('HELLO', '3', 'SETNAME'), "-ERR Syntax error in HELLO option 'SETNAME'\r\n");
  assert.equal(await c.call('HELLO', '3', 'AUTH', 'default'), "-ERR Syntax error in HELLO option 'AUTH'\r\n");
  assert.equal(await c.call('HELLO', '3', 'SETNAME', 'bad name'), NAME_ERR);
  assert.equal((await info(c)).resp, 2, 'a failed HELLO does not switch the protocol');
  assert.equal(await c.call('HELLO', '3', 'SETNAME', 'conn-a'), helloReply(3, id));
  assert.equal(await c.call('CLIENT', 'GETNAME'), bulk('conn-a'));
  assert.equal(await c.call('HELLO', '2', 'setname', 'conn-b', 'setname', 'conn-c'), helloReply(2, id));
  assert.equal(await c.call('CLIENT', 'GETNAME'), bulk('conn-c'));
  assert.equal(await c.call('HELLO', '2', 'SETNAME', ''), helloReply(2, id));
  assert.equal(await c.call('CLIENT', 'GETNAME'), '$-1\r\n');
  // Without requirepass the default user takes any password.
  assert.equal(await c.call('HELLO', '3', 'AUTH', 'default', 'whatever'), helloReply(3, id));
  assert.equal(await c.call('HELLO', '3', 'AUTH', 'alice', 'pw'), WRONGPASS);
});

// ---------------------------------------------------------------- AUTH

test('AUTH without requirepass', async () => {
  const c = await raw();
  assert.equal(
    await c.call('AUTH', 'pw'),
    '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n',
  );
  assert.equal(await c.call('AUTH', 'default', 'anything'), '+OK\r\n');
  assert.equal(await c.call('AUTH', 'alice', 'pw'), WRONGPASS);
  assert.equal(await c.call('AUTH', 'Default', 'pw'), WRONGPASS, 'user names are case sensitive');
  assert.equal(await c.call('AUTH', 'a', 'b', 'c'), '-ERR syntax error\r\n');
  assert.equal(await c.call('AUTH'), "-ERR wrong number of arguments for 'auth' command\r\n");
  assert.equal(await c.call('PING'), '+PONG\r\n');
});

test('requirepass: NOAUTH, AUTH, HELLO AUTH', async () => {
  const c = await raw(srvAuth.port);
  assert.equal(await c.call('PING'), '-NOAUTH Authentication required.\r\n');
  assert.equal(await c.call('CLIENT', 'ID'), '-NOAUTH Authentication required.\r\n');
  assert.equal(await c.call('SELECT', '1'), '-NOAUTH Authentication required.\r\n');
  assert.equal(await c.call('HELLO'), HELLO_NOAUTH);
  assert.equal(await c.call('HELLO', '3'), HELLO_NOAUTH);
  assert.equal(await c.call('HELLO', '3', 'SETNAME', 'x'), HELLO_NOAUTH);
  assert.equal(await c.call('HELLO', '5'), '-NOPROTO unsupported protocol version\r\n');
  assert.equal(await c.call('HELLO', '3', 'AUTH', 'default', 'wrong'), WRONGPASS);
  // Valkey checks the name while parsing the options, before authenticating.
  assert.equal(await c.call('HELLO', '3', 'AUTH', 'default', 'wrong', 'SETNAME', 'bad name'), NAME_ERR);
  assert.equal(await c.call('AUTH', 'wrong'), WRONGPASS);
  assert.equal(await c.call('AUTH', 'default', 'wrong'), WRONGPASS);
  assert.equal(await c.call('AUTH', 'secret', 'secret'), WRONGPASS);
  assert.equal(await c.call('AUTH', 'x', 'y', 'z'), '-ERR syntax error\r\n');
  assert.equal(await c.call('PING'), '-NOAUTH Authentication required.\r\n');
  assert.equal(await c.call('AUTH', 'secret'), '+OK\r\n');
  assert.equal(await c.call('PING'), '+PONG\r\n');
  // A failed AUTH does not log an authenticated client out.
  assert.equal(await c.call('AUTH', 'wrong'), WRONGPASS);
  assert.equal(await c.call('PING'), '+PONG\r\n');

  const d = await raw(srvAuth.port);
  const id = Number((await (async () => {
    const r = await d.call('HELLO', '3', 'AUTH', 'default', 'secret', 'SETNAME', 'authed');
    return /\$2\r\nid\r\n:(\d+)\r\n/.exec(r)[1];
  })()));
  assert.equal(await d.call('HELLO'), helloReply(3, id));
  assert.equal(await d.call('CLIENT', 'GETNAME'), bulk('authed'));
  assert.equal(await d.call('AUTH', 'default', 'secret'), '+OK\r\n');
});

test('authenticating lifts the size limits for unauthenticated clients', async () => {
  const big = 'x'.repeat(20000);
  const c = await raw(srvAuth.port);
  c.send('ECHO', big);
  assert.equal(await c.readReply(), '-ERR Protocol error: unauthenticated bulk length\r\n');
  await c.waitClosed();
  const d = await raw(srvAuth.port);
  assert.equal(await d.call('AUTH', 'secret'), '+OK\r\n');
  assert.equal(await d.call('ECHO', big), bulk(big));
  const e = await raw(srvAuth.port);
  await e.call('HELLO', '2', 'AUTH', 'default', 'secret');
  assert.equal(await e.call('ECHO', big), bulk(big));
  // RESET logs out again, limits included.
  assert.equal(await e.call('RESET'), '+RESET\r\n');
  e.send('ECHO', big);
  assert.equal(await e.readReply(), '-ERR Protocol error: unauthenticated bulk length\r\n');
  await e.waitClosed();
});

test('client libraries authenticate with a password (ioredis, node-redis RESP2/RESP3)', async () => {
  const io = new Redis({ port: srvAuth.port, host: '127.0.0.1', password: 'secret', enableReadyCheck: false, lazyConnect: true, connectionName: 'io-conn' });
  await io.connect();
  assert.equal(await io.ping(), 'PONG');
  assert.equal(await io.client('GETNAME'), 'io-conn');
  const ioInfo = parseLine((await io.client('INFO')).trim());
  assert.equal(ioInfo.libName, 'ioredis');
  io.disconnect();

  for (const RESP of [2, 3]) {
    const nr = createClient({ url: `redis://127.0.0.1:${srvAuth.port}`, password: 'secret', RESP });
    nr.on('error', () => {});
    await nr.connect();
    assert.equal(await nr.ping(), 'PONG');
    const ci = await nr.clientInfo();
    assert.equal(ci.resp, RESP);
    assert.equal(ci.libName, 'node-redis');
    assert.equal(ci.cmd, 'client|info');
    assert.equal(await nr.clientGetName(), null);
    const h = await nr.hello();
    assert.equal(h.server, 'valkey');
    assert.equal(h.version, VERSION);
    assert.equal(h.proto, RESP);
    assert.equal(h.mode, 'standalone');
    assert.equal(h.role, 'master');
    assert.deepEqual(h.modules, []);
    await nr.close();
  }
  const bad = createClient({ url: `redis://127.0.0.1:${srvAuth.port}`, password: 'nope', RESP: 3, socket: { reconnectStrategy: false } });
  bad.on('error', () => {});
  await assert.rejects(bad.connect(), /WRONGPASS/);
  if (bad.isOpen) bad.destroy();
});

// ---------------------------------------------------------------- RESET

test('RESET restores a fresh connection state (library info stays)', async () => {
  const c = await raw();
  await c.call('HELLO', '3', 'SETNAME', 'before-reset');
  await c.call('SELECT', '7');
  await c.call('CLIENT', 'NO-EVICT', 'on');
  await c.call('CLIENT', 'NO-TOUCH', 'on');
  await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib');
  await c.call('CLIENT', 'SETINFO', 'LIB-VER', '1.2');
  let i = await info(c);
  assert.deepEqual([i.db, i.name, i.flags, i.resp], [7, 'before-reset', 'eT', 3]);
  assert.equal(await c.call('RESET'), '+RESET\r\n');
  i = await info(c);
  assert.deepEqual([i.db, i.name, i.flags, i.resp, i.libName, i.libVer], [0, '', 'N', 2, 'mylib', '1.2']);
  assert.equal(await c.call('CLIENT', 'GETNAME'), '$-1\r\n');
  // RESET also turns replies back on, and answers even when they were off.
  c.send('CLIENT', 'REPLY', 'OFF');
  c.send('PING', 'hidden');
  assert.equal(await c.call('RESET'), '+RESET\r\n');
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('RESET', 'x'), "-ERR wrong number of arguments for 'reset' command\r\n");
});

test('RESET with requirepass logs the client out', async () => {
  const c = await raw(srvAuth.port);
  assert.equal(await c.call('RESET'), '+RESET\r\n', 'RESET runs before authentication');
  assert.equal(await c.call('AUTH', 'secret'), '+OK\r\n');
  assert.equal(await c.call('SELECT', '3'), '+OK\r\n');
  assert.equal(await c.call('RESET'), '+RESET\r\n');
  assert.equal(await c.call('PING'), '-NOAUTH Authentication required.\r\n');
  assert.equal(await c.call('AUTH', 'secret'), '+OK\r\n');
  assert.equal((await info(c)).db, 0);
});

// ---------------------------------------------------------------- CLIENT ID / NAME / SETINFO / INFO

test('CLIENT ID, SETNAME, GETNAME', async () => {
  const a = await raw();
  const b = await raw();
  const ia = await idOf(a);
  const ib = await idOf(b);
  assert.ok(ib > ia, 'ids grow');
  assert.equal(await a.call('CLIENT', 'GETNAME'), '$-1\r\n');
  assert.equal(await a.call('CLIENT', 'SETNAME', 'name-1!~'), '+OK\r\n');
  assert.equal(await a.call('CLIENT', 'GETNAME'), bulk('name-1!~'));
  for (const bad of ['a b', 'a\nb', 'tab\t', 'caf\xe9', '\x7f', 'x\x00'])
    assert.equal(await a.call('CLIENT', 'SETNAME', Buffer.from(bad, 'latin1')), NAME_ERR, JSON.stringify(bad));
  assert.equal(await a.call('CLIENT', 'GETNAME'), bulk('name-1!~'), 'a rejected name keeps the old one');
  assert.equal(await a.call('CLIENT', 'SETNAME', ''), '+OK\r\n');
  assert.equal(await a.call('CLIENT', 'GETNAME'), '$-1\r\n');
  assert.equal(await a.call('client', 'setname'), "-ERR wrong number of arguments for 'client|setname' command\r\n");
  assert.equal(await a.call('CLIENT', 'GETNAME', 'x'), "-ERR wrong number of arguments for 'client|getname' command\r\n");
  assert.equal(await a.call('CLIENT', 'ID', 'x'), "-ERR wrong number of arguments for 'client|id' command\r\n");
  assert.equal(await a.call('CLIENT'), "-ERR wrong number of arguments for 'client' command\r\n");
  assert.equal(await a.call('CLIENT', 'Nope'), "-ERR unknown subcommand 'Nope'. Try CLIENT HELP.\r\n");
});

test('CLIENT SETINFO', async () => {
  const c = await raw();
  assert.equal(await c.call('CLIENT', 'SETINFO', 'lib-name', 'redis-py'), '+OK\r\n');
  assert.equal(await c.call('CLIENT', 'SETINFO', 'LIB-VER', '5.0.1'), '+OK\r\n');
  let i = await info(c);
  assert.deepEqual([i.libName, i.libVer], ['redis-py', '5.0.1']);
  assert.equal(await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'a b'), '-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n');
  assert.equal(await c.call('CLIENT', 'SETINFO', 'lib-ver', '1\n2'), '-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n');
  assert.equal(await c.call('CLIENT', 'SETINFO', 'lib-nam', 'x'), "-ERR Unrecognized option 'lib-nam'\r\n");
  assert.equal(await c.call('CLIENT', 'SETINFO', 'lib-name'), "-ERR wrong number of arguments for 'client|setinfo' command\r\n");
  assert.equal(await c.call('CLIENT', 'SETINFO', 'lib-name', 'a', 'b'), "-ERR wrong number of arguments for 'client|setinfo' command\r\n");
  assert.equal(await c.call('CLIENT', 'SETINFO', 'lib-ver', ''), '+OK\r\n');
  i = await info(c);
  assert.deepEqual([i.libName, i.libVer], ['redis-py', '']);
});

test('CLIENT INFO line', async () => {
  const c = await raw();
  const id = await idOf(c);
  const r = await c.call('CLIENT', 'INFO');
  assert.match(r, /^\$\d+\r\nid=/);
  const text = payload(r);
  assert.equal(text.split('\n').length, 2, 'one line ending in a newline');
  const i = parseLine(text.trimEnd());
  assert.equal(i.id, id);
  assert.equal(i.cmd, 'client|info');
  assert.equal(i.argvMem, 'CLIENTINFO'.length);
  assert.equal(i.flags, 'N');
  assert.equal(i.addr, `127.0.0.1:${c.sock.localPort}`);
  assert.equal(i.laddr, `127.0.0.1:${srv.port}`);
  assert.equal(await c.call('CLIENT', 'INFO', 'x'), "-ERR wrong number of arguments for 'client|info' command\r\n");
});

// ---------------------------------------------------------------- CLIENT LIST

test('CLIENT LIST with TYPE and ID filters', async () => {
  const a = await raw();
  const b = await raw();
  const ia = await idOf(a);
  const ib = await idOf(b);
  await b.call('CLIENT', 'SETNAME', 'listed-b');
  const all = payload(await a.call('CLIENT', 'LIST'));
  assert.ok(all.endsWith('\n'));
  const lines = all.slice(0, -1).split('\n').map(parseLine);
  const ids = lines.map((l) => l.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'oldest connection first');
  const me = lines.find((l) => l.id === ia);
  const other = lines.find((l) => l.id === ib);
  assert.equal(me.cmd, 'client|list');
  assert.equal(me.argvMem, 'CLIENTLIST'.length);
  assert.equal(other.cmd, 'client|setname');
  assert.equal(other.name, 'listed-b');
  assert.equal(other.argvMem, 0);

  const normal = payload(await a.call('CLIENT', 'LIST', 'type', 'NORMAL'));
  assert.deepEqual(normal.slice(0, -1).split('\n').map((l) => parseLine(l).id), ids, 'every connection here is normal');
  for (const t of ['pubsub', 'replica', 'slave', 'master', 'primary']) assert.equal(await a.call('CLIENT', 'LIST', 'TYPE', t), '$0\r\n\r\n', t);
  assert.equal(await a.call('CLIENT', 'LIST', 'TYPE', 'foo'), "-ERR Unknown client type 'foo'\r\n");

  const byId = payload(await a.call('CLIENT', 'LIST', 'ID', String(ib), '999999', String(ia), String(ib)));
  assert.deepEqual(byId.slice(0, -1).split('\n').map((l) => parseLine(l).id), [ib, ia, ib], 'in argument order, repeats kept');
  assert.equal(await a.call('CLIENT', 'LIST', 'ID', '999999'), '$0\r\n\r\n');
  assert.equal(await a.call('CLIENT', 'LIST', 'ID', '1', 'x'), '-ERR Invalid client ID\r\n');
  assert.equal(await a.call('CLIENT', 'LIST', 'ID', '1', 'TYPE', 'normal'), '-ERR Invalid client ID\r\n');
  assert.equal(await a.call('CLIENT', 'LIST', 'ID'), '-ERR syntax error\r\n');
  assert.equal(await a.call('CLIENT', 'LIST', 'foo'), '-ERR syntax error\r\n');
  assert.equal(await a.call('CLIENT', 'LIST', 'TYPE', 'normal', 'ID', '1'), '-ERR syntax error\r\n');

  await a.call('HELLO', '3');
  const r3 = await a.call('CLIENT', 'LIST', 'ID', String(ia));
  assert.equal(r3, verbatim(payload(r3)));
  assert.equal(parseLine(payload(r3).trim()).resp, 3);
  assert.equal(await a.call('CLIENT', 'LIST', 'TYPE', 'pubsub'), '=4\r\ntxt:\r\n');
});

// ---------------------------------------------------------------- CLIENT KILL

test('CLIENT KILL addr:port (old form)', async () => {
  const ctl = await raw();
  const victim = await raw();
  const vinfo = await info(victim);
  assert.equal(await ctl.call('CLIENT', 'KILL', vinfo.addr), '+OK\r\n');
  await victim.waitClosed();
  assert.equal(await ctl.call('CLIENT', 'KILL', vinfo.addr), '-ERR No such client\r\n');
  assert.equal(await ctl.call('CLIENT', 'KILL', '1.2.3.4:5'), '-ERR No such client\r\n');
  // The old form may kill the caller: the reply still arrives, then the connection closes.
  const self = await raw();
  const me = await info(self);
  assert.equal(await self.call('CLIENT', 'KILL', me.addr), '+OK\r\n');
  await self.waitClosed();
});

test('CLIENT KILL filters', async () => {
  const ctl = await raw();
  const myId = await idOf(ctl);
  const v1 = await raw();
  const v2 = await raw();
  const id1 = await idOf(v1);
  const id2 = await idOf(v2);
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(id1)), ':1\r\n');
  await v1.waitClosed();
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(id1)), ':0\r\n');
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(myId)), ':0\r\n', 'SKIPME defaults to yes');
  const a2 = (await info(v2)).addr;
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ADDR', a2, 'TYPE', 'pubsub'), ':0\r\n', 'all filters must match');
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ADDR', a2, 'ID', String(id1)), ':0\r\n');
  assert.equal(await ctl.call('CLIENT', 'KILL', 'addr', a2, 'user', 'default', 'type', 'normal', 'laddr', `127.0.0.1:${srv.port}`, 'id', String(id2)), ':1\r\n');
  await v2.waitClosed();

  const young = await raw();
  const iy = await idOf(young);
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(iy), 'MAXAGE', '100'), ':0\r\n');
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(iy), 'LADDR', '127.0.0.1:1'), ':0\r\n');
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(iy), 'USER', 'default', 'SKIPME', 'no'), ':1\r\n');
  await young.waitClosed();

  // SKIPME no: the caller is counted and closed once the reply is written;
  // what it pipelined after the KILL never runs.
  const self = await raw();
  const is = await idOf(self);
  self.write(`*6\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$2\r\nID\r\n$${String(is).length}\r\n${is}\r\n$6\r\nSKIPME\r\n`);
  self.write('$2\r\nNO\r\n*3\r\n$3\r\nSET\r\n$9\r\nkilledkey\r\n$1\r\nx\r\n');
  assert.equal(await self.readReply(), ':1\r\n');
  await self.waitClosed();
  assert.equal(await ctl.call('GET', 'killedkey'), '$-1\r\n');
});

test('CLIENT KILL MAXAGE', async () => {
  const ctl = await raw();
  const old = await raw();
  const io = await idOf(old);
  await new Promise((r) => setTimeout(r, 1100));
  const young = await raw();
  const iy = await idOf(young);
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(iy), 'MAXAGE', '1'), ':0\r\n');
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(io), 'MAXAGE', '1'), ':1\r\n');
  await old.waitClosed();
  assert.equal(await young.call('PING'), '+PONG\r\n');
});

test('CLIENT KILL errors', async () => {
  const c = await raw();
  const cases = [
    [['ID', '0'], '-ERR client-id should be greater than 0'],
    [['ID', '-5'], '-ERR client-id should be greater than 0'],
    [['ID', 'abc'], '-ERR client-id should be greater than 0'],
    [['MAXAGE', '0'], '-ERR maxage should be greater than 0'],
    [['MAXAGE', '-1'], '-ERR maxage should be greater than 0'],
    [['MAXAGE', 'x'], '-ERR maxage is not an integer or out of range'],
    [['TYPE', 'foo'], "-ERR Unknown client type 'foo'"],
    [['USER', 'alice'], "-ERR No such user 'alice'"],
    [['SKIPME', 'maybe'], '-ERR syntax error'],
    [['FOO', 'bar'], '-ERR syntax error'],
    [['ID', '5', 'SKIPME'], '-ERR syntax error'],
    [['ID', '5', 'TYPE', 'foo', 'USER'], "-ERR Unknown client type 'foo'"],
  ];
  for (const [args, err] of cases) assert.equal(await c.call('CLIENT', 'KILL', ...args), err + '\r\n', args.join(' '));
  assert.equal(await c.call('CLIENT', 'KILL'), "-ERR wrong number of arguments for 'client|kill' command\r\n");
  assert.equal(await c.call('PING'), '+PONG\r\n');
});

test('CLIENT KILL TYPE normal, and IPv6 addresses in brackets', async () => {
  // ::1 is required here (no '-'), so a port that is taken on ::1 makes the
  // start fail and startVireo retries on another port.
  const s = await startVireo(['--bind', '127.0.0.1 ::1']);
  try {
    const ctl = await RawConn.connect(s.port);
    // startVireo waits for 127.0.0.1 only; the ::1 listener may bind a moment later.
    let v6conn;
    for (let i = 0; ; i++) {
      try {
        v6conn = await RawConn.connect(s.port, '::1');
        break;
      } catch (e) {
        if (i >= 40) throw e;
        await new Promise((res) => setTimeout(res, 25));
      }
    }
    const others = [await RawConn.connect(s.port), await RawConn.connect(s.port), v6conn];
    const v6 = others[2];
    const i6 = await info(v6);
    assert.equal(i6.addr, `[::1]:${v6.sock.localPort}`);
    assert.equal(i6.laddr, `[::1]:${s.port}`);
    assert.equal(await ctl.call('CLIENT', 'KILL', 'TYPE', 'replica'), ':0\r\n');
    assert.equal(await ctl.call('CLIENT', 'KILL', 'TYPE', 'master'), ':0\r\n');
    assert.equal(await ctl.call('CLIENT', 'KILL', 'TYPE', 'normal'), ':3\r\n');
    await Promise.all(others.map((o) => o.waitClosed()));
    assert.equal(await ctl.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'), ':0\r\n');
    assert.equal(await ctl.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'no'), ':1\r\n');
    await ctl.waitClosed();
  } finally {
    await s.stop();
  }
});

// ---------------------------------------------------------------- CLIENT PAUSE / UNPAUSE

test('CLIENT PAUSE WRITE holds writes, lets reads through, resumes in order on UNPAUSE', async () => {
  const ctl = await raw();
  const writer = await raw();
  const reader = await raw();
  assert.equal(await ctl.call('SET', 'pk', 'old'), '+OK\r\n');
  const wid = await idOf(writer);
  assert.equal(await ctl.call('CLIENT', 'PAUSE', '100000', 'WRITE'), '+OK\r\n');
  // One pipeline: two writes then a read; all wait behind the first write.
  writer.send('SET', 'pk', 'new');
  writer.send('SET', 'pk', 'newer');
  writer.send('GET', 'pk');
  await waitPostponed(ctl, wid);
  assert.equal(await reader.call('GET', 'pk'), bulk('old'), 'reads run during a WRITE pause');
  assert.equal(await reader.call('PING'), '+PONG\r\n');
  assert.equal(await reader.call('SET', 'pk'), "-ERR wrong number of arguments for 'set' command\r\n", 'rejected commands answer at once');
  assert.equal(writer.buf.length, 0, 'the paused writer has no reply yet');
  assert.equal(await ctl.call('CLIENT', 'UNPAUSE'), '+OK\r\n');
  assert.equal(await writer.readReply(), '+OK\r\n');
  assert.equal(await writer.readReply(), '+OK\r\n');
  assert.equal(await writer.readReply(), bulk('newer'));
  assert.equal(await reader.call('GET', 'pk'), bulk('newer'));
  assert.equal(await ctl.call('CLIENT', 'UNPAUSE'), '+OK\r\n', 'UNPAUSE without a pause is fine');
});

test('CLIENT PAUSE ends by itself at the timeout', async () => {
  const ctl = await raw();
  const writer = await raw();
  assert.equal(await ctl.call('CLIENT', 'PAUSE', '200', 'write'), '+OK\r\n');
  writer.send('SET', 'pk2', 'a');
  writer.send('SET', 'pk2', 'b');
  assert.equal(await writer.readReply(), '+OK\r\n');
  assert.equal(await writer.readReply(), '+OK\r\n');
  assert.equal(await ctl.call('GET', 'pk2'), bulk('b'));
});

test('CLIENT PAUSE ALL holds every command, CLIENT UNPAUSE included', async () => {
  const ctl = await raw();
  const writer = await raw();
  const reader = await raw();
  const other = await raw();
  await ctl.call('SET', 'pk3', 'before');
  const wid = await idOf(writer);
  // Start with WRITE so the held write can be observed, then make the pause
  // ALL: the end time stays the later one, the mode the stricter one.
  assert.equal(await ctl.call('CLIENT', 'PAUSE', '2500', 'WRITE'), '+OK\r\n');
  writer.send('SET', 'pk3', 'after');
  await waitPostponed(ctl, wid);
  assert.equal(await ctl.call('CLIENT', 'PAUSE', '0'), '+OK\r\n');
  // A read now waits too: it runs after the held write, so it sees the new value.
  reader.send('GET', 'pk3');
  ctl.send('CLIENT', 'UNPAUSE');
  assert.equal(await other.call('GET'), "-ERR wrong number of arguments for 'get' command\r\n");
  assert.equal(await other.call('NOSUCHCMD'), "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n");
  assert.equal(writer.buf.length + reader.buf.length + ctl.buf.length, 0, 'nothing answered while paused');
  assert.equal(await writer.readReply(), '+OK\r\n');
  assert.equal(await reader.readReply(), bulk('after'));
  assert.equal(await ctl.readReply(), '+OK\r\n');
  assert.equal(await other.call('GET', 'pk3'), bulk('after'));
});

test('CLIENT PAUSE with a timeout beyond setTimeout range, and killing a paused client', async () => {
  const ctl = await raw();
  const writer = await raw();
  const wid = await idOf(writer);
  await ctl.call('SET', 'pk4', 'kept');
  assert.equal(await ctl.call('CLIENT', 'PAUSE', '9000000000000', 'WRITE'), '+OK\r\n');
  writer.send('SET', 'pk4', 'lost');
  await waitPostponed(ctl, wid);
  assert.equal(await ctl.call('CLIENT', 'KILL', 'ID', String(wid)), ':1\r\n');
  await writer.waitClosed();
  assert.equal(await ctl.call('CLIENT', 'UNPAUSE'), '+OK\r\n');
  assert.equal(await ctl.call('GET', 'pk4'), bulk('kept'));
  assert.equal(await ctl.call('SET', 'pk4', 'free'), '+OK\r\n');
});

test('CLIENT PAUSE errors', async () => {
  const c = await raw();
  const cases = [
    [['abc'], '-ERR timeout is not an integer or out of range'],
    [['1.5'], '-ERR timeout is not an integer or out of range'],
    [['-1'], '-ERR timeout is negative'],
    [['9223372036854775807'], '-ERR timeout is out of range'],
    [['10', 'foo'], '-ERR CLIENT PAUSE mode must be WRITE or ALL'],
    [['abc', 'foo'], '-ERR CLIENT PAUSE mode must be WRITE or ALL'],
    [['10', 'write', 'x'], "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."],
    [[], "-ERR wrong number of arguments for 'client|pause' command"],
  ];
  for (const [args, err] of cases) assert.equal(await c.call('CLIENT', 'PAUSE', ...args), err + '\r\n', args.join(' '));
  assert.equal(await c.call('CLIENT', 'UNPAUSE', 'x'), "-ERR wrong number of arguments for 'client|unpause' command\r\n");
  assert.equal(await c.call('SET', 'pk5', 'v'), '+OK\r\n', 'no pause was left behind');
});

// ---------------------------------------------------------------- CLIENT REPLY

test('CLIENT REPLY ON / OFF / SKIP', async () => {
  const c = await raw();
  // OFF: nothing until ON, errors included; ON answers OK.
  c.send('CLIENT', 'REPLY', 'OFF');
  c.send('PING', 'a');
  c.send('SELECT', 'abc');
  c.send('SET', 'replykey', '1');
  c.send('CLIENT', 'REPLY', 'ON');
  c.send('PING', 'b');
  assert.equal(await c.readReply(), '+OK\r\n');
  assert.equal(await c.readReply(), bulk('b'));
  // SKIP: only the next command goes unanswered.
  c.send('CLIENT', 'REPLY', 'SKIP');
  c.send('PING', 'c');
  c.send('PING', 'd');
  c.send('PING', 'e');
  assert.equal(await c.readReply(), bulk('d'));
  assert.equal(await c.readReply(), bulk('e'));
  // SKIP while OFF does nothing.
  c.send('client', 'reply', 'off');
  c.send('client', 'reply', 'skip');
  c.send('PING', 'f');
  c.send('CLIENT', 'REPLY', 'on');
  c.send('PING', 'g');
  assert.equal(await c.readReply(), '+OK\r\n');
  assert.equal(await c.readReply(), bulk('g'));
  assert.equal(await c.call('GET', 'replykey'), bulk('1'));
  assert.equal(await c.call('CLIENT', 'REPLY', 'maybe'), '-ERR syntax error\r\n');
  assert.equal(await c.call('CLIENT', 'REPLY'), "-ERR wrong number of arguments for 'client|reply' command\r\n");
  // With ioredis too: OFF then ON.
  const io = new Redis({ port: srv.port, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true });
  await io.connect();
  assert.equal(await io.client('REPLY', 'ON'), 'OK');
  io.disconnect();
});

test('CLIENT REPLY ON right after SKIP answers OK (as Valkey)', async () => {
  const c = await raw();
  c.send('CLIENT', 'REPLY', 'SKIP');
  c.send('CLIENT', 'REPLY', 'ON');
  c.send('PING', 'x');
  assert.equal(await c.readReply(), '+OK\r\n');
});

test('CLIENT REPLY SKIP also silences a rejected command (as Valkey)', async () => {
  const c = await raw();
  c.send('CLIENT', 'REPLY', 'SKIP');
  c.send('NOSUCHCMD');
  c.send('PING', 'y');
  assert.equal(await c.readReply(), bulk('y'));
});

// ---------------------------------------------------------------- NO-EVICT / NO-TOUCH / HELP

test('CLIENT NO-EVICT and NO-TOUCH set flags e and T', async () => {
  const c = await raw();
  assert.equal(await c.call('CLIENT', 'NO-EVICT', 'on'), '+OK\r\n');
  assert.equal((await info(c)).flags, 'e');
  assert.equal(await c.call('CLIENT', 'NO-TOUCH', 'ON'), '+OK\r\n');
  assert.equal((await info(c)).flags, 'eT');
  assert.equal(await c.call('CLIENT', 'NO-EVICT', 'Off'), '+OK\r\n');
  assert.equal((await info(c)).flags, 'T');
  assert.equal(await c.call('CLIENT', 'NO-TOUCH', 'off'), '+OK\r\n');
  assert.equal((await info(c)).flags, 'N');
  assert.equal(await c.call('CLIENT', 'NO-EVICT', 'yes'), '-ERR syntax error\r\n');
  assert.equal(await c.call('CLIENT', 'NO-TOUCH', '1'), '-ERR syntax error\r\n');
  assert.equal(await c.call('CLIENT', 'NO-EVICT'), "-ERR wrong number of arguments for 'client|no-evict' command\r\n");
  assert.equal(await c.call('CLIENT', 'NO-TOUCH', 'on', 'x'), "-ERR wrong number of arguments for 'client|no-touch' command\r\n");
});

test('CLIENT HELP is an array of simple strings in both protocols', async () => {
  const c = await raw();
  for (const proto of ['2', '3']) {
    await c.call('HELLO', proto);
    const r = await c.call('CLIENT', 'HELP');
    const [head, ...rest] = r.split('\r\n');
    const items = rest.slice(0, -1);
    assert.equal(head, `*${items.length}`);
    assert.ok(items.every((l) => l.startsWith('+')));
    assert.equal(items[0], '+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    assert.equal(items.at(-2), '+HELP');
    for (const sub of ['ID', 'INFO', 'GETNAME', 'SETNAME <name>', 'UNPAUSE', 'PAUSE <timeout> [WRITE|ALL]', 'REPLY (ON|OFF|SKIP)', 'NO-EVICT (ON|OFF)', 'NO-TOUCH (ON|OFF)'])
      assert.ok(items.includes('+' + sub), sub);
  }
  assert.equal(await c.call('CLIENT', 'HELP', 'x'), "-ERR wrong number of arguments for 'client|help' command\r\n");
});

// ---------------------------------------------------------------- RESP3 through node-redis

test('node-redis RESP3: HELLO, CLIENT commands, KILL', async () => {
  const nr = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  nr.on('error', () => {});
  await nr.connect();
  const id = await nr.clientId();
  assert.equal(typeof id, 'number');
  assert.equal(await nr.clientSetName('nr3'), 'OK');
  assert.equal(await nr.clientGetName(), 'nr3');
  const ci = await nr.clientInfo();
  assert.equal(ci.id, id);
  assert.equal(ci.name, 'nr3');
  assert.equal(ci.resp, 3);
  assert.equal(ci.libName, 'node-redis');
  const list = await nr.clientList();
  assert.ok(list.some((e) => e.id === id && e.name === 'nr3' && e.cmd === 'client|list'));
  await nr.select(2);
  assert.equal((await nr.clientInfo()).db, 2);
  const victim = await raw();
  const vid = await idOf(victim);
  assert.equal(await nr.sendCommand(['CLIENT', 'KILL', 'ID', String(vid)]), 1);
  await victim.waitClosed();
  assert.equal(await nr.sendCommand(['CLIENT', 'NO-EVICT', 'on']), 'OK');
  await nr.close();
});
