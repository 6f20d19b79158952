// Blocking list commands against a real vireo-server: clients blocked on keys
// are served in FIFO order by pushes from other clients, their pipelined input
// waits, timeouts answer a null array, CLIENT UNBLOCK, disconnects, chains of
// BLMOVE, databases and SWAPDB, INFO/CLIENT LIST, and the client libraries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const arr = (...items) => `*${items.length}\r\n${items.map(bulk).join('')}`;
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

let srv, ctl;
const conns = [];

before(async () => {
  srv = await startVireo();
  ctl = await RawConn.connect(srv.port);
});

after(async () => {
  for (const c of conns) c.close();
  ctl?.close();
  await srv?.stop();
});

async function conn(resp3 = false) {
  const c = await RawConn.connect(srv.port);
  conns.push(c);
  if (resp3) await c.call('HELLO', '3');
  return c;
}

function infoField(info, name) {
  const m = new RegExp(`${name}:(\\d+)`).exec(info);
  return m ? Number(m[1]) : NaN;
}

/** Waits until INFO reports `n` blocked clients. */
async function waitBlocked(n) {
  for (let i = 0; i < 200; i++) {
    const info = await ctl.call('INFO', 'clients');
    if (infoField(info, 'blocked_clients') === n) return info;
    await sleep(10);
  }
  throw new Error(`blocked_clients never reached ${n}`);
}

test('BLPOP blocks until a push, shows flags=b and counts in INFO', async () => {
  const a = await conn();
  a.send('BLPOP', 'k1', 'k2', '0');
  const info = await waitBlocked(1);
  assert.equal(infoField(info, 'total_blocking_keys'), 2);
  assert.equal(infoField(info, 'clients_in_timeout_table'), 0);
  const list = await ctl.call('CLIENT', 'LIST');
  assert.match(list, /flags=b [^\n]*cmd=blpop/);
  assert.equal(await ctl.call('RPUSH', 'k2', 'v1', 'v2'), ':2\r\n');
  assert.equal(await a.readReply(), arr('k2', 'v1'));
  await waitBlocked(0);
  assert.equal(await ctl.call('LRANGE', 'k2', '0', '-1'), arr('v2'));
  await ctl.call('DEL', 'k2');
});

test('clients blocked on one key are served first come, first served; RESP3 too', async () => {
  const a = await conn();
  const b = await conn(true);
  const c = await conn();
  a.send('BRPOP', 'q', '0');
  await waitBlocked(1);
  b.send('BLPOP', 'q', '0');
  await waitBlocked(2);
  c.send('BLMPOP', '0', '1', 'q', 'LEFT', 'COUNT', '5');
  await waitBlocked(3);
  assert.equal(await ctl.call('RPUSH', 'q', 'x', 'y', 'z', 'w'), ':4\r\n');
  assert.equal(await a.readReply(), arr('q', 'w'));
  assert.equal(await b.readReply(), arr('q', 'x'));
  assert.equal(await c.readReply(), '*2\r\n$1\r\nq\r\n*2\r\n$1\r\ny\r\n$1\r\nz\r\n');
  assert.equal(await ctl.call('EXISTS', 'q'), ':0\r\n');
  await waitBlocked(0);
});

test('a blocked client holds its pipelined commands until served', async () => {
  const a = await conn();
  a.write('*3\r\n$5\r\nBLPOP\r\n$2\r\npp\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n');
  await waitBlocked(1);
  await sleep(30);
  assert.equal(a.buf.length, 0, 'nothing answered while blocked');
  await ctl.call('LPUSH', 'pp', 'v');
  assert.equal(await a.readReply(), arr('pp', 'v'));
  assert.equal(await a.readReply(), '+PONG\r\n');
  assert.equal(await a.readReply(), bulk('hi'));
});

test('timeouts: null array in RESP2 and RESP3, fractional seconds', async () => {
  const a = await conn();
  const b = await conn(true);
  const t0 = Date.now();
  assert.equal(await a.call('BLPOP', 'none', '0.05'), '*-1\r\n');
  assert.ok(Date.now() - t0 >= 40);
  assert.equal(await b.call('BLPOP', 'none', '0.02'), '_\r\n');
  assert.equal(await a.call('BLMOVE', 'none', 'd', 'LEFT', 'LEFT', '0.02'), '*-1\r\n');
  assert.equal(await a.call('BRPOPLPUSH', 'none', 'd', '0.02'), '*-1\r\n');
  assert.equal(await a.call('BLMPOP', '0.02', '1', 'none', 'LEFT'), '*-1\r\n');
  assert.equal(await b.call('BLMPOP', '0.02', '1', 'none', 'LEFT'), '_\r\n');
  assert.equal(await a.call('BLPOP', 'none', '-1'), '-ERR timeout is negative\r\n');
  assert.equal(await a.call('BLPOP', 'none', 'x'), '-ERR timeout is not a float or out of range\r\n');
  assert.equal(await a.call('BLPOP', 'none', 'inf'), '-ERR timeout is out of range\r\n');
  // A timeout counted in the INFO timeout table while blocked.
  a.send('BLPOP', 'none', '10');
  const info = await waitBlocked(1);
  assert.equal(infoField(info, 'clients_in_timeout_table'), 1);
  await ctl.call('RPUSH', 'none', 'v');
  assert.equal(await a.readReply(), arr('none', 'v'));
  await waitBlocked(0);
});

test('CLIENT UNBLOCK with TIMEOUT and ERROR', async () => {
  const a = await conn();
  const id = (await a.call('CLIENT', 'ID')).slice(1, -2);
  assert.equal(await ctl.call('CLIENT', 'UNBLOCK', id), ':0\r\n');
  a.send('BLPOP', 'u', '0');
  await waitBlocked(1);
  assert.equal(await ctl.call('CLIENT', 'UNBLOCK', id), ':1\r\n');
  assert.equal(await a.readReply(), '*-1\r\n');
  a.send('BLMOVE', 'u', 'v', 'LEFT', 'LEFT', '0');
  await waitBlocked(1);
  assert.equal(await ctl.call('CLIENT', 'UNBLOCK', id, 'ERROR'), ':1\r\n');
  assert.equal(await a.readReply(), '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
  assert.equal(await ctl.call('CLIENT', 'UNBLOCK', id, 'FOO'), '-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n');
  assert.equal(await a.call('PING'), '+PONG\r\n');
});

test('a blocked client that disconnects is forgotten', async () => {
  const a = await conn();
  a.send('BLPOP', 'gone', '0');
  await waitBlocked(1);
  a.close();
  await waitBlocked(0);
  assert.equal(await ctl.call('RPUSH', 'gone', 'v'), ':1\r\n');
  assert.equal(await ctl.call('LLEN', 'gone'), ':1\r\n');
  await ctl.call('DEL', 'gone');
});

test('BLMOVE into a key another client waits on chains', async () => {
  const a = await conn();
  const b = await conn();
  a.send('BLMOVE', 'src', 'mid', 'RIGHT', 'LEFT', '0');
  await waitBlocked(1);
  b.send('BLPOP', 'mid', '0');
  await waitBlocked(2);
  await ctl.call('RPUSH', 'src', 'v1');
  assert.equal(await a.readReply(), bulk('v1'));
  assert.equal(await b.readReply(), arr('mid', 'v1'));
  assert.equal(await ctl.call('EXISTS', 'src', 'mid'), ':0\r\n');
  await waitBlocked(0);
});

test('a key of another type does not serve; deleting and pushing does', async () => {
  const a = await conn();
  a.send('BLPOP', 'typed', '0');
  await waitBlocked(1);
  await ctl.call('SET', 'typed', 'str');
  await sleep(20);
  assert.equal(a.buf.length, 0);
  await ctl.call('DEL', 'typed');
  await ctl.call('LPUSH', 'typed', 'v');
  assert.equal(await a.readReply(), arr('typed', 'v'));
});

test('databases are separate; SWAPDB can serve blocked clients', async () => {
  const a = await conn();
  await a.call('SELECT', '1');
  a.send('BLPOP', 'dbk', '0');
  await waitBlocked(1);
  await ctl.call('RPUSH', 'dbk', 'in-db0');
  await sleep(20);
  assert.equal(a.buf.length, 0, 'a push in db 0 does not serve db 1');
  assert.equal(await ctl.call('SWAPDB', '0', '1'), '+OK\r\n');
  assert.equal(await a.readReply(), arr('dbk', 'in-db0'));
  await waitBlocked(0);
  // RENAME creating the key serves too.
  a.send('BLPOP', 'renamed', '0');
  await waitBlocked(1);
  await ctl.call('SELECT', '1');
  await ctl.call('RPUSH', 'tmp', 'r1');
  await ctl.call('RENAME', 'tmp', 'renamed');
  assert.equal(await a.readReply(), arr('renamed', 'r1'));
  await ctl.call('SELECT', '0');
});

test('ioredis and node-redis (RESP2 and RESP3) get served while blocked', async () => {
  const io = new Redis({ port: srv.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  const nr2 = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  const nr3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  const nr3b = nr3.duplicate();
  await Promise.all([nr2.connect(), nr3.connect(), nr3b.connect()]);
  try {
    const p1 = io.blpop('lib1', 0);
    const p2 = nr2.blPop('lib2', 0);
    const p3 = nr3.blMove('lib3', 'lib3dst', 'LEFT', 'RIGHT', 0);
    const p4 = nr3b.blmPop(0, 'lib4', 'RIGHT', { COUNT: 2 });
    await waitBlocked(4);
    await ctl.call('RPUSH', 'lib1', 'a');
    await ctl.call('RPUSH', 'lib2', 'b');
    await ctl.call('RPUSH', 'lib3', 'c');
    await ctl.call('RPUSH', 'lib4', 'd', 'e', 'f');
    assert.deepEqual(await p1, ['lib1', 'a']);
    assert.deepEqual(await p2, { key: 'lib2', element: 'b' });
    assert.equal(await p3, 'c');
    assert.deepEqual(await p4, ['lib4', ['f', 'e']]);
    assert.equal(await io.brpop('lib-none', 0.02), null);
    assert.equal(await nr3.blPop('lib-none', 0.02), null);
  } finally {
    io.disconnect();
    await Promise.allSettled([nr2.quit(), nr3.quit(), nr3b.quit()]);
  }
});
