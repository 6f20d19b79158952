// String commands against a real vireo-server: GET, SET and every option,
// SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX, APPEND,
// STRLEN, INCR/DECR/INCRBY/DECRBY, INCRBYFLOAT, GETRANGE/SUBSTR, SETRANGE, LCS,
// DELIFEQ. Exact replies (errors, RESP2 and RESP3 types) are checked on a raw
// socket; ioredis and node-redis (RESP2 and RESP3) check what clients see.
// Expected values were checked against redis-server 7.0.15 (same semantics as
// Valkey 8 for these commands) except IFEQ and DELIFEQ, which are Valkey-only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { startServer } from '../../dist/src/index.js';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const NOT_INT = '-ERR value is not an integer or out of range\r\n';
const NOT_FLOAT = '-ERR value is not a valid float\r\n';
const SYNTAX = '-ERR syntax error\r\n';
const OVERFLOW = '-ERR increment or decrement would overflow\r\n';
const TOO_BIG = '-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n';
const invalidExpire = (cmd) => `-ERR invalid expire time in '${cmd}' command\r\n`;
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n) => `:${n}\r\n`;

let srv; // spawned vireo-server, default config
let small; // spawned vireo-server with proto-max-bulk-len 1mb
let inproc; // in-process server, for WRONGTYPE setup and introspection
let raw; // RESP2 raw connection to srv
let raw3; // RESP3 raw connection to srv
let r; // ioredis
let nr2; // node-redis RESP2
let nr3; // node-redis RESP3

before(async () => {
  [srv, small, inproc] = await Promise.all([startVireo(), startVireo(['--proto-max-bulk-len', '1mb']), startServer({ port: 0 })]);
  raw = await RawConn.connect(srv.port);
  raw3 = await RawConn.connect(srv.port);
  const hello = await raw3.call('HELLO', '3');
  assert.ok(hello.startsWith('%'), 'HELLO 3 must switch to RESP3');
  r = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
  await r.connect();
  nr2 = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  nr3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await Promise.all([nr2.connect(), nr3.connect()]);
});

after(async () => {
  raw?.close();
  raw3?.close();
  r?.disconnect();
  await Promise.allSettled([nr2?.quit(), nr3?.quit()]);
  await Promise.allSettled([srv?.stop(), small?.stop(), inproc?.close()]);
});

/** Runs [command, expected raw reply] pairs in order on a raw connection. */
async function expectRaw(conn, pairs) {
  for (const [cmd, want] of pairs) {
    const got = await conn.call(...cmd);
    assert.equal(got, want, `${JSON.stringify(cmd)}`);
  }
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// ------------------------------------------------------------------ GET / SET

test('GET and SET: plain values, integers, empty and binary values', async () => {
  assert.equal(await r.set('s:a', 'hello'), 'OK');
  assert.equal(await r.get('s:a'), 'hello');
  assert.equal(await r.get('s:missing'), null);
  await r.set('s:empty', '');
  assert.equal(await r.get('s:empty'), '');
  for (const v of ['0', '-1', '123', '999999999999999', '-999999999999999', '1000000000000000', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '+5', ' 1', '1.5']) {
    await r.set('s:int', v);
    assert.equal(await r.get('s:int'), v, `round trip of ${v}`);
  }
  const bin = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) bin[i] = i;
  await r.set('s:bin', bin);
  assert.deepEqual(await r.getBuffer('s:bin'), bin);
  await expectRaw(raw, [
    [['GET', 's:missing'], '$-1\r\n'],
    [['SET', 's:int', '42'], '+OK\r\n'],
    [['GET', 's:int'], bulk('42')],
    [['GET'], "-ERR wrong number of arguments for 'get' command\r\n"],
    [['SET', 'x'], "-ERR wrong number of arguments for 'set' command\r\n"],
  ]);
  await expectRaw(raw3, [[['GET', 's:missing'], '_\r\n']]);
  assert.equal(await nr2.get('s:missing'), null);
  assert.equal(await nr3.get('s:a'), 'hello');
});

test('SET NX / XX / GET and their combinations', async () => {
  await r.del('nx:k');
  await expectRaw(raw, [
    [['SET', 'nx:k', '1', 'NX'], '+OK\r\n'],
    [['SET', 'nx:k', '2', 'NX'], '$-1\r\n'],
    [['GET', 'nx:k'], bulk('1')],
    [['SET', 'nx:k', '3', 'XX'], '+OK\r\n'],
    [['SET', 'nx:none', '3', 'XX'], '$-1\r\n'],
    [['GET', 'nx:none'], '$-1\r\n'],
    [['SET', 'nx:k', '4', 'GET'], bulk('3')],
    [['SET', 'nx:new', 'a', 'GET'], '$-1\r\n'],
    [['GET', 'nx:new'], bulk('a')],
    // NX with GET is allowed (since 7.0): returns the old value, does not set.
    [['SET', 'nx:k', '5', 'NX', 'GET'], bulk('4')],
    [['GET', 'nx:k'], bulk('4')],
    [['SET', 'nx:fresh', '5', 'GET', 'NX'], '$-1\r\n'],
    [['GET', 'nx:fresh'], bulk('5')],
    [['SET', 'nx:none2', 'v', 'XX', 'GET'], '$-1\r\n'],
    [['GET', 'nx:none2'], '$-1\r\n'],
    [['SET', 'nx:k', '6', 'xX', 'gEt'], bulk('4')],
    // Repeating an option is fine; conflicting ones are not.
    [['SET', 'nx:k', '7', 'XX', 'XX', 'GET', 'GET'], bulk('6')],
    [['SET', 'nx:k', '7', 'NX', 'XX'], SYNTAX],
    [['SET', 'nx:k', '7', 'XX', 'NX'], SYNTAX],
    [['SET', 'nx:k', '7', 'FOO'], SYNTAX],
    [['SET', 'nx:k', '7', 'PERSIST'], SYNTAX],
    [['SET', 'nx:k', '7', 'NXX'], SYNTAX],
  ]);
  await expectRaw(raw3, [
    [['SET', 'nx:k', '8', 'NX'], '_\r\n'],
    [['SET', 'nx:gone', '8', 'XX', 'GET'], '_\r\n'],
  ]);
  assert.equal(await r.set('nx:k', 'z', 'NX'), null);
  assert.equal(await nr2.set('nx:k', 'z', { condition: 'NX' }), null);
  assert.equal(await nr3.set('nx:k', 'z', { condition: 'XX' }), 'OK');
});

test('SET expiration options set, keep and clear the TTL', async () => {
  await r.set('ttl:k', 'v', 'EX', 100);
  let ttl = await r.ttl('ttl:k');
  assert.ok(ttl > 90 && ttl <= 100, `EX ttl ${ttl}`);
  await r.set('ttl:k', 'v', 'PX', 50000);
  let pttl = await r.pttl('ttl:k');
  assert.ok(pttl > 40000 && pttl <= 50000, `PX pttl ${pttl}`);
  await r.set('ttl:k', 'v2', 'KEEPTTL');
  pttl = await r.pttl('ttl:k');
  assert.ok(pttl > 40000 && pttl <= 50000, `KEEPTTL pttl ${pttl}`);
  assert.equal(await r.get('ttl:k'), 'v2');
  await r.set('ttl:k', 'v3');
  assert.equal(await r.ttl('ttl:k'), -1, 'plain SET clears the TTL');
  const nowS = Math.floor(Date.now() / 1000);
  await r.set('ttl:k', 'v', 'EXAT', nowS + 200);
  ttl = await r.ttl('ttl:k');
  assert.ok(ttl > 150 && ttl <= 200, `EXAT ttl ${ttl}`);
  await r.set('ttl:k', 'v', 'PXAT', Date.now() + 30000);
  pttl = await r.pttl('ttl:k');
  assert.ok(pttl > 20000 && pttl <= 30000, `PXAT pttl ${pttl}`);
  // The last EX wins when repeated.
  await r.set('ttl:k', 'v', 'EX', 10, 'EX', 1000);
  ttl = await r.ttl('ttl:k');
  assert.ok(ttl > 900, `repeated EX ttl ${ttl}`);
  // Far-future absolute times are kept exactly.
  await expectRaw(raw, [
    [['SET', 'ttl:far', 'v', 'PXAT', '9223372036854775807'], '+OK\r\n'],
    [['PEXPIRETIME', 'ttl:far'], int('9223372036854775807')],
    [['SET', 'ttl:far', 'v', 'EXAT', '9223372036854775'], '+OK\r\n'],
    [['PEXPIRETIME', 'ttl:far'], int('9223372036854775000')],
    [['GETEX', 'ttl:far', 'PXAT', '9007199254740993'], bulk('v')],
    [['PEXPIRETIME', 'ttl:far'], int('9007199254740993')],
  ]);
  // SET with GET and an expire.
  assert.equal(await r.set('ttl:k', 'new', 'EX', 100, 'GET'), 'v');
  assert.ok((await r.ttl('ttl:k')) > 90);
  // A key set with a short PX really expires.
  await r.set('ttl:short', 'v', 'PX', 60);
  await sleep(200);
  assert.equal(await r.get('ttl:short'), null);
});

test('SET expire errors', async () => {
  await expectRaw(raw, [
    [['SET', 'e:k', 'v', 'EX'], SYNTAX],
    [['SET', 'e:k', 'v', 'EX', '10', 'PX', '10'], SYNTAX],
    [['SET', 'e:k', 'v', 'PX', '10', 'EX', '10'], SYNTAX],
    [['SET', 'e:k', 'v', 'KEEPTTL', 'EX', '10'], SYNTAX],
    [['SET', 'e:k', 'v', 'EX', '10', 'KEEPTTL'], SYNTAX],
    [['SET', 'e:k', 'v', 'EXAT', '10', 'PXAT', '10'], SYNTAX],
    [['SET', 'e:k', 'v', 'KEEPTTL', 'KEEPTTL'], '+OK\r\n'],
    [['SET', 'e:k', 'v', 'EX', '0'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'EX', '-1'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'PX', '0'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'EXAT', '0'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'PXAT', '-5'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'EX', 'abc'], NOT_INT],
    [['SET', 'e:k', 'v', 'EX', '1.5'], NOT_INT],
    [['SET', 'e:k', 'v', 'EX', '9223372036854775808'], NOT_INT],
    // Overflows once scaled to ms or once "now" is added.
    [['SET', 'e:k', 'v', 'EX', '9223372036854776'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'EX', '9223372036854775'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'PX', '9223372036854775807'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'PX', '9223372036854775000'], invalidExpire('set')],
    [['SET', 'e:k', 'v', 'EXAT', '9223372036854775'], '+OK\r\n'],
    [['SET', 'e:k', 'v', 'EXAT', '9223372036854776'], invalidExpire('set')],
    // The expire is checked before GET runs.
    [['SET', 'e:k', 'v', 'EX', '0', 'GET'], invalidExpire('set')],
    [['SETEX', 'e:k', '0', 'v'], invalidExpire('setex')],
    [['SETEX', 'e:k', '-10', 'v'], invalidExpire('setex')],
    [['SETEX', 'e:k', 'x', 'v'], NOT_INT],
    [['SETEX', 'e:k', '9223372036854776', 'v'], invalidExpire('setex')],
    [['PSETEX', 'e:k', '0', 'v'], invalidExpire('psetex')],
    [['PSETEX', 'e:k', '9223372036854775807', 'v'], invalidExpire('psetex')],
    [['SETEX', 'e:k', '10'], "-ERR wrong number of arguments for 'setex' command\r\n"],
  ]);
});

test('SET EXAT/PXAT in the past deletes the key and replies OK', async () => {
  await r.set('past:k', 'old');
  assert.equal(await r.set('past:k', 'new', 'EXAT', 1), 'OK');
  assert.equal(await r.exists('past:k'), 0);
  await r.set('past:k', 'old');
  assert.equal(await r.set('past:k', 'new', 'PXAT', Date.now() - 1000), 'OK');
  assert.equal(await r.exists('past:k'), 0);
  // Missing key: nothing is created.
  assert.equal(await r.set('past:none', 'new', 'PXAT', 1), 'OK');
  assert.equal(await r.exists('past:none'), 0);
  // With GET the old value is the reply.
  await r.set('past:k', 'old');
  assert.equal(await r.set('past:k', 'new', 'EXAT', 1, 'GET'), 'old');
  assert.equal(await r.exists('past:k'), 0);
  // NX on an existing key wins over the past expire: nothing changes.
  await r.set('past:k', 'old');
  assert.equal(await r.set('past:k', 'new', 'NX', 'PXAT', 1), null);
  assert.equal(await r.get('past:k'), 'old');
});

test('SET IFEQ (Valkey 8.1)', async () => {
  await r.set('ifeq:k', 'initial');
  await expectRaw(raw, [
    [['SET', 'ifeq:k', 'next', 'IFEQ', 'initial'], '+OK\r\n'],
    [['GET', 'ifeq:k'], bulk('next')],
    [['SET', 'ifeq:k', 'nope', 'IFEQ', 'wrong'], '$-1\r\n'],
    [['GET', 'ifeq:k'], bulk('next')],
    [['SET', 'ifeq:none', 'v', 'IFEQ', 'x'], '$-1\r\n'],
    [['GET', 'ifeq:none'], '$-1\r\n'],
    // With GET: the old value (or null) whether or not it was set.
    [['SET', 'ifeq:none', 'v', 'IFEQ', 'x', 'GET'], '$-1\r\n'],
    [['GET', 'ifeq:none'], '$-1\r\n'],
    [['SET', 'ifeq:k', 'third', 'IFEQ', 'next', 'GET'], bulk('next')],
    [['GET', 'ifeq:k'], bulk('third')],
    [['SET', 'ifeq:k', 'fourth', 'GET', 'IFEQ', 'wrong'], bulk('third')],
    [['GET', 'ifeq:k'], bulk('third')],
    [['SET', 'ifeq:k', 'v', 'ifeq', 'third', 'px', '100000'], '+OK\r\n'],
    // Conflicts and malformed use.
    [['SET', 'ifeq:k', 'v', 'IFEQ', 'a', 'XX'], SYNTAX],
    [['SET', 'ifeq:k', 'v', 'IFEQ', 'a', 'NX'], SYNTAX],
    [['SET', 'ifeq:k', 'v', 'XX', 'IFEQ', 'a'], SYNTAX],
    [['SET', 'ifeq:k', 'v', 'NX', 'IFEQ', 'a'], SYNTAX],
    [['SET', 'ifeq:k', 'v', 'IFEQ', 'a', 'IFEQ', 'b'], SYNTAX],
    [['SET', 'ifeq:k', 'v', 'IFEQ'], SYNTAX],
    // Integer-encoded values compare by their decimal form.
    [['SET', 'ifeq:n', '10'], '+OK\r\n'],
    [['SET', 'ifeq:n', '11', 'IFEQ', '010'], '$-1\r\n'],
    [['SET', 'ifeq:n', '11', 'IFEQ', '10'], '+OK\r\n'],
    [['GET', 'ifeq:n'], bulk('11')],
    // IFEQ without KEEPTTL replaces the TTL like any SET.
    [['TTL', 'ifeq:k'], int(100)],
    [['SET', 'ifeq:k', 'u', 'IFEQ', 'v'], '+OK\r\n'],
    [['TTL', 'ifeq:k'], int(-1)],
    [['SET', 'ifeq:k', 'w', 'IFEQ', 'u', 'EX', '100'], '+OK\r\n'],
    [['SET', 'ifeq:k', 'x', 'IFEQ', 'w', 'KEEPTTL'], '+OK\r\n'],
    [['TTL', 'ifeq:k'], int(100)],
    [['SET', 'ifeq:k', 'v', 'IFEQ', 'x', 'PXAT', '1'], '+OK\r\n'],
    [['EXISTS', 'ifeq:k'], int(0)],
  ]);
  await expectRaw(raw3, [[['SET', 'ifeq:none', 'v', 'IFEQ', 'x'], '_\r\n']]);
  assert.equal(await nr3.sendCommand(['SET', 'ifeq:n', '12', 'IFEQ', '11']), 'OK');
});

test('SETNX, SETEX, PSETEX, GETSET', async () => {
  await r.del('sx:a', 'sx:b');
  await expectRaw(raw, [
    [['SETNX', 'sx:a', '1'], int(1)],
    [['SETNX', 'sx:a', '2'], int(0)],
    [['GET', 'sx:a'], bulk('1')],
    [['SETEX', 'sx:b', '100', 'val'], '+OK\r\n'],
    [['GET', 'sx:b'], bulk('val')],
    [['GETSET', 'sx:b', 'other'], bulk('val')],
    [['TTL', 'sx:b'], int(-1)],
    [['GETSET', 'sx:new', 'first'], '$-1\r\n'],
    [['GET', 'sx:new'], bulk('first')],
  ]);
  await r.psetex('sx:p', 50000, 'pv');
  const pttl = await r.pttl('sx:p');
  assert.ok(pttl > 40000 && pttl <= 50000, `PSETEX pttl ${pttl}`);
  await r.setex('sx:b', 100, 'v');
  const ttl = await r.ttl('sx:b');
  assert.ok(ttl > 90 && ttl <= 100);
  // SETNX against a volatile key that is still alive does nothing.
  assert.equal(await r.setnx('sx:b', 'x'), 0);
  assert.equal(Number(await nr2.setNX('sx:a', 'z')), 0);
  assert.equal(Number(await nr3.setNX('sx:fresh', 'z')), 1);
});

test('GETDEL and DELIFEQ', async () => {
  await r.set('gd:k', 'v');
  await expectRaw(raw, [
    [['GETDEL', 'gd:k'], bulk('v')],
    [['GETDEL', 'gd:k'], '$-1\r\n'],
    [['EXISTS', 'gd:k'], int(0)],
    [['SET', 'gd:n', '77'], '+OK\r\n'],
    [['GETDEL', 'gd:n'], bulk('77')],
    [['DELIFEQ', 'gd:none', 'x'], int(0)],
    [['SET', 'gd:d', 'value'], '+OK\r\n'],
    [['DELIFEQ', 'gd:d', 'other'], int(0)],
    [['GET', 'gd:d'], bulk('value')],
    [['DELIFEQ', 'gd:d', 'value'], int(1)],
    [['EXISTS', 'gd:d'], int(0)],
    [['SET', 'gd:d', '15'], '+OK\r\n'],
    [['DELIFEQ', 'gd:d', '015'], int(0)],
    [['DELIFEQ', 'gd:d', '15'], int(1)],
    [['DELIFEQ', 'gd:d'], "-ERR wrong number of arguments for 'delifeq' command\r\n"],
  ]);
  await expectRaw(raw3, [[['GETDEL', 'gd:k'], '_\r\n']]);
});

test('GETEX options', async () => {
  await r.set('gx:k', 'bar');
  assert.equal(await r.getex('gx:k', 'EX', 100), 'bar');
  let ttl = await r.ttl('gx:k');
  assert.ok(ttl > 90 && ttl <= 100, `EX ${ttl}`);
  assert.equal(await r.getex('gx:k', 'PX', 50000), 'bar');
  let pttl = await r.pttl('gx:k');
  assert.ok(pttl > 40000 && pttl <= 50000, `PX ${pttl}`);
  assert.equal(await r.getex('gx:k', 'EXAT', Math.floor(Date.now() / 1000) + 200), 'bar');
  ttl = await r.ttl('gx:k');
  assert.ok(ttl > 150 && ttl <= 200, `EXAT ${ttl}`);
  assert.equal(await r.getex('gx:k', 'PXAT', Date.now() + 30000), 'bar');
  pttl = await r.pttl('gx:k');
  assert.ok(pttl > 20000 && pttl <= 30000, `PXAT ${pttl}`);
  assert.equal(await r.getex('gx:k'), 'bar');
  assert.ok((await r.pttl('gx:k')) > 0, 'plain GETEX keeps the TTL');
  assert.equal(await r.getex('gx:k', 'PERSIST'), 'bar');
  assert.equal(await r.ttl('gx:k'), -1);
  assert.equal(await r.getex('gx:k', 'PERSIST'), 'bar');
  assert.equal(await r.getex('gx:missing', 'EX', 10), null);
  // An absolute time in the past deletes the key after replying its value.
  assert.equal(await r.getex('gx:k', 'PXAT', 1), 'bar');
  assert.equal(await r.exists('gx:k'), 0);
  await r.set('gx:k', 'bar');
  await expectRaw(raw, [
    [['GETEX', 'gx:k', 'FOO'], SYNTAX],
    [['GETEX', 'gx:k', 'EX'], SYNTAX],
    [['GETEX', 'gx:k', 'PERSIST', 'EX', '10'], SYNTAX],
    [['GETEX', 'gx:k', 'EX', '10', 'PERSIST'], SYNTAX],
    [['GETEX', 'gx:k', 'EX', '10', 'PX', '10'], SYNTAX],
    [['GETEX', 'gx:k', 'KEEPTTL'], SYNTAX],
    [['GETEX', 'gx:k', 'NX'], SYNTAX],
    [['GETEX', 'gx:k', 'GET'], SYNTAX],
    [['GETEX', 'gx:k', 'IFEQ', 'bar'], SYNTAX],
    [['GETEX', 'gx:k', 'EX', '0'], invalidExpire('getex')],
    [['GETEX', 'gx:k', 'PX', '-1'], invalidExpire('getex')],
    [['GETEX', 'gx:k', 'EX', '9223372036854776'], invalidExpire('getex')],
    [['GETEX', 'gx:k', 'EXAT', 'abc'], NOT_INT],
    // Valkey 8 looks the key up before validating the time: a missing key is null.
    [['GETEX', 'gx:none', 'EX', '0'], '$-1\r\n'],
    [['GETEX', 'gx:none', 'EX', 'abc'], '$-1\r\n'],
    [['GETEX', 'gx:none', 'FOO'], SYNTAX],
    [['GETEX', 'gx:k', 'PERSIST', 'PERSIST'], bulk('bar')],
    [['GETEX', 'gx:k', 'ex', '10', 'ex', '20'], bulk('bar')],
    [['TTL', 'gx:k'], int(20)],
    [['GETEX'], "-ERR wrong number of arguments for 'getex' command\r\n"],
  ]);
  await expectRaw(raw3, [[['GETEX', 'gx:none'], '_\r\n']]);
  // A short PX really expires.
  await r.getex('gx:k', 'PX', 60);
  await sleep(200);
  assert.equal(await r.get('gx:k'), null);
});

// ------------------------------------------------------------------ multi-key

test('MGET, MSET, MSETNX', async () => {
  assert.equal(await r.mset('m:a', '1', 'm:b', 'two', 'm:c', 'x y\r\n'), 'OK');
  assert.deepEqual(await r.mget('m:a', 'm:b', 'm:none', 'm:c'), ['1', 'two', null, 'x y\r\n']);
  await r.set('m:a', 'old', 'EX', 100);
  await r.mset('m:a', 'new', 'm:a', 'newer');
  assert.equal(await r.get('m:a'), 'newer');
  assert.equal(await r.ttl('m:a'), -1, 'MSET clears the TTL');
  await expectRaw(raw, [
    [['MSET', 'm:a', '1', 'm:b'], "-ERR wrong number of arguments for 'mset' command\r\n"],
    [['MSETNX', 'm:a', '1', 'm:b'], "-ERR wrong number of arguments for 'msetnx' command\r\n"],
    [['MSET', 'm:a'], "-ERR wrong number of arguments for 'mset' command\r\n"],
    [['MGET'], "-ERR wrong number of arguments for 'mget' command\r\n"],
    [['MSETNX', 'm:n1', 'x', 'm:a', 'y'], int(0)],
    [['EXISTS', 'm:n1'], int(0)],
    [['MSETNX', 'm:n1', 'x', 'm:n2', 'y'], int(1)],
    [['MGET', 'm:n1', 'm:n2'], '*2\r\n' + bulk('x') + bulk('y')],
    [['MSETNX', 'm:n3', 'x', 'm:n3', 'y'], int(1)],
    [['GET', 'm:n3'], bulk('y')],
    [['MGET', 'm:n1', 'm:nothing'], '*2\r\n' + bulk('x') + '$-1\r\n'],
  ]);
  await expectRaw(raw3, [[['MGET', 'm:n1', 'm:nothing'], '*2\r\n' + bulk('x') + '_\r\n']]);
  assert.deepEqual(await nr2.mGet(['m:n1', 'm:nothing']), ['x', null]);
  assert.deepEqual(await nr3.mGet(['m:n1', 'm:nothing']), ['x', null]);
  assert.equal(Number(await nr3.mSetNX(['m:n1', 'a', 'm:n9', 'b'])), 0);
});

// ------------------------------------------------------------------ APPEND, STRLEN, SETRANGE, GETRANGE

test('APPEND and STRLEN', async () => {
  await r.del('ap:k');
  await expectRaw(raw, [
    [['APPEND', 'ap:k', '12'], int(2)],
    [['APPEND', 'ap:k', '34'], int(4)],
    [['GET', 'ap:k'], bulk('1234')],
    [['STRLEN', 'ap:k'], int(4)],
    [['INCR', 'ap:k'], int(1235)],
    [['APPEND', 'ap:k', ''], int(4)],
    [['APPEND', 'ap:k', 'x'], int(5)],
    [['GET', 'ap:k'], bulk('1235x')],
    [['STRLEN', 'ap:none'], int(0)],
    [['SET', 'ap:n', '-555'], '+OK\r\n'],
    [['STRLEN', 'ap:n'], int(4)],
    [['SET', 'ap:n', '123456789012345678901'], '+OK\r\n'],
    [['STRLEN', 'ap:n'], int(21)],
  ]);
  // APPEND keeps the TTL.
  await r.set('ap:t', 'a', 'EX', 100);
  await r.append('ap:t', 'b');
  assert.ok((await r.ttl('ap:t')) > 90);
});

test('APPEND and SETRANGE on big binary values match a local model', async () => {
  let model = Buffer.alloc(0);
  await r.del('big:k');
  let seed = 12345;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const chunk = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = rand(256);
    return b;
  };
  for (let step = 0; step < 120; step++) {
    if (rand(3) === 0) {
      const off = rand(model.length + 3000);
      const data = chunk(1 + rand(step % 10 === 0 ? 20000 : 300));
      const n = await r.setrange('big:k', off, data);
      const end = off + data.length;
      const next = Buffer.alloc(Math.max(model.length, end));
      model.copy(next);
      data.copy(next, off);
      model = next;
      assert.equal(n, model.length);
    } else {
      const data = chunk(rand(step % 7 === 0 ? 30000 : 500));
      const n = await r.append('big:k', data);
      model = Buffer.concat([model, data]);
      assert.equal(n, model.length);
    }
    if (step % 10 === 9) {
      assert.deepEqual(await r.getBuffer('big:k'), model, `value after step ${step}`);
      assert.equal(await r.strlen('big:k'), model.length);
      const s = rand(model.length);
      assert.deepEqual(await r.getrangeBuffer('big:k', s, s + 999), model.subarray(s, s + 1000));
      assert.deepEqual(await r.getrangeBuffer('big:k', -500, -1), model.subarray(model.length - 500));
    }
  }
  assert.ok(model.length > 100000);
  // A copy taken before further appends does not change.
  const before = await r.getBuffer('big:k');
  await r.set('big:copy', before);
  await r.append('big:k', 'tail');
  assert.deepEqual(await r.getBuffer('big:copy'), before);
  assert.deepEqual(await r.getBuffer('big:k'), Buffer.concat([before, Buffer.from('tail')]));
  // Overwriting a big value with SET and growing it again starts from the new value.
  await r.set('big:k', 'small');
  await r.setrange('big:k', 20000, 'end');
  const v = await r.getBuffer('big:k');
  assert.equal(v.length, 20003);
  assert.equal(v.subarray(0, 5).toString(), 'small');
  assert.ok(v.subarray(5, 20000).every((b) => b === 0));
  assert.equal(v.subarray(20000).toString(), 'end');
});

test('SETRANGE', async () => {
  await r.del('sr:k');
  await expectRaw(raw, [
    [['SETRANGE', 'sr:k', '0', ''], int(0)],
    [['EXISTS', 'sr:k'], int(0)],
    [['SETRANGE', 'sr:k', '1', 'foo'], int(4)],
    [['GET', 'sr:k'], bulk('\0foo')],
    [['SET', 'sr:k', 'foo'], '+OK\r\n'],
    [['SETRANGE', 'sr:k', '0', 'b'], int(3)],
    [['GET', 'sr:k'], bulk('boo')],
    [['SETRANGE', 'sr:k', '0', ''], int(3)],
    [['SETRANGE', 'sr:k', '100', ''], int(3)],
    [['SETRANGE', 'sr:k', '1', 'b'], int(3)],
    [['GET', 'sr:k'], bulk('bbo')],
    [['SETRANGE', 'sr:k', '4', 'bar'], int(7)],
    [['GET', 'sr:k'], bulk('bbo\0bar')],
    [['SET', 'sr:n', '1234'], '+OK\r\n'],
    [['SETRANGE', 'sr:n', '0', '2'], int(4)],
    [['GET', 'sr:n'], bulk('2234')],
    [['INCR', 'sr:n'], int(2235)],
    [['SETRANGE', 'sr:n', '5', '2'], int(6)],
    [['GET', 'sr:n'], bulk('2235\x002')],
    [['SETRANGE', 'sr:k', '-1', 'x'], '-ERR offset is out of range\r\n'],
    [['SETRANGE', 'sr:k', 'x', 'x'], NOT_INT],
    [['SETRANGE', 'sr:k', '9223372036854775808', 'x'], NOT_INT],
    [['SETRANGE', 'sr:k', '536870911', 'ab'], TOO_BIG],
    [['SETRANGE', 'sr:k', '9223372036854775807', 'ab'], TOO_BIG],
    [['SETRANGE', 'sr:none', '536870911', 'ab'], TOO_BIG],
    [['SETRANGE', 'sr:none', '9223372036854775807', 'ab'], TOO_BIG],
    // Nothing to write: no size check, the length is returned.
    [['SETRANGE', 'sr:k', '9223372036854775807', ''], int(7)],
    [['SETRANGE', 'sr:none', '9223372036854775807', ''], int(0)],
  ]);
  await r.set('sr:t', 'abc', 'EX', 100);
  await r.setrange('sr:t', 1, 'X');
  assert.ok((await r.ttl('sr:t')) > 90, 'SETRANGE keeps the TTL');
  assert.equal(await r.get('sr:t'), 'aXc');
});

test('proto-max-bulk-len limits APPEND, SETRANGE and LCS', async () => {
  const c = await RawConn.connect(small.port);
  try {
    const limit = 1024 * 1024;
    await expectRaw(c, [
      [['SET', 'lim:a', 'x'.repeat(1000)], '+OK\r\n'],
      [['APPEND', 'lim:a', 'y'.repeat(limit - 1000)], int(limit)],
      [['APPEND', 'lim:a', 'z'], TOO_BIG],
      [['APPEND', 'lim:a', ''], int(limit)],
      [['STRLEN', 'lim:a'], int(limit)],
      [['SETRANGE', 'lim:b', String(limit - 1), 'z'], int(limit)],
      [['SETRANGE', 'lim:b', String(limit), 'z'], TOO_BIG],
      [['SETRANGE', 'lim:c', String(limit - 1), 'zz'], TOO_BIG],
      [['SETRANGE', 'lim:b', String(limit), ''], int(limit)],
      [['SET', 'lim:x', 'x'.repeat(600)], '+OK\r\n'],
      [['SET', 'lim:y', 'y'.repeat(600)], '+OK\r\n'],
      [['SET', 'lim:z', 'z'.repeat(500)], '+OK\r\n'],
      // (600+1)^2 cells of 4 bytes exceed 1 MB; (500+1)^2 do not.
      [['LCS', 'lim:x', 'lim:y', 'LEN'], '-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n'],
      [['LCS', 'lim:x', 'lim:z'], '-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n'],
      [['LCS', 'lim:z', 'lim:z', 'LEN'], int(500)],
    ]);
  } finally {
    c.close();
  }
});

test('GETRANGE and SUBSTR index rules', async () => {
  await r.set('gr:s', '0123456789');
  await r.set('gr:n', '1234');
  await r.set('gr:e', '');
  const cases = [
    ['gr:s', '0', '3', '0123'],
    ['gr:s', '0', '-1', '0123456789'],
    ['gr:s', '-4', '-1', '6789'],
    ['gr:s', '5', '3', ''],
    ['gr:s', '5', '5000', '56789'],
    ['gr:s', '-5000', '10000', '0123456789'],
    ['gr:s', '9', '100', '9'],
    ['gr:s', '10', '100', ''],
    ['gr:s', '-3', '-3', '7'],
    ['gr:s', '-3', '-5', ''],
    // A negative end before the start clamps to 0 (Valkey, like Redis 7.0).
    ['gr:s', '0', '-100', '0'],
    ['gr:s', '1', '-100', ''],
    ['gr:s', '-1', '-100', ''],
    ['gr:s', '-100', '-99', '0'],
    ['gr:s', '-100', '-100', '0'],
    ['gr:s', '-100', '-101', ''],
    ['gr:s', '9223372036854775807', '9223372036854775807', ''],
    ['gr:s', '-9223372036854775808', '9223372036854775807', '0123456789'],
    ['gr:s', '-9007199254740993', '-9007199254740994', ''],
    ['gr:n', '0', '2', '123'],
    ['gr:n', '-3', '-1', '234'],
    ['gr:n', '3', '5000', '4'],
    ['gr:e', '0', '-1', ''],
    ['gr:e', '-1', '-1', ''],
    ['gr:e', '0', '0', ''],
    ['gr:none', '0', '-1', ''],
  ];
  for (const [k, s, e, want] of cases) {
    assert.equal(await raw.call('GETRANGE', k, s, e), bulk(want), `GETRANGE ${k} ${s} ${e}`);
    assert.equal(await raw.call('SUBSTR', k, s, e), bulk(want), `SUBSTR ${k} ${s} ${e}`);
  }
  await expectRaw(raw, [
    [['GETRANGE', 'gr:s', '-0', '1'], NOT_INT],
    [['GETRANGE', 'gr:s', 'a', '1'], NOT_INT],
    [['GETRANGE', 'gr:none', '0', 'b'], NOT_INT],
    [['GETRANGE', 'gr:s', '0', '9223372036854775808'], NOT_INT],
    [['GETRANGE', 'gr:s', '0'], "-ERR wrong number of arguments for 'getrange' command\r\n"],
    [['SUBSTR', 'gr:s'], "-ERR wrong number of arguments for 'substr' command\r\n"],
  ]);
  await expectRaw(raw3, [[['GETRANGE', 'gr:none', '0', '-1'], '$0\r\n\r\n']]);
  assert.equal(await r.getrange('gr:s', 2, 4), '234');
  assert.equal(await nr3.getRange('gr:s', -2, -1), '89');
});

// ------------------------------------------------------------------ counters

test('INCR, DECR, INCRBY, DECRBY', async () => {
  await r.del('c:k');
  await expectRaw(raw, [
    [['INCR', 'c:k'], int(1)],
    [['INCRBY', 'c:k', '-5'], int(-4)],
    [['DECRBY', 'c:k', '-5'], int(1)],
    [['DECR', 'c:k'], int(0)],
    [['INCRBY', 'c:k', 'abc'], NOT_INT],
    [['INCRBY', 'c:k', '1.5'], NOT_INT],
    [['INCRBY', 'c:k', ' 1'], NOT_INT],
    [['DECRBY', 'c:k', '9223372036854775808'], NOT_INT],
    [['DECRBY', 'c:k', '-9223372036854775808'], '-ERR decrement would overflow\r\n'],
    [['DECRBY', 'c:k', '9223372036854775807'], int('-9223372036854775807')],
    [['DECR', 'c:k'], int('-9223372036854775808')],
    [['DECR', 'c:k'], OVERFLOW],
    [['INCRBY', 'c:k', '-1'], OVERFLOW],
    [['GET', 'c:k'], bulk('-9223372036854775808')],
    [['SET', 'c:k', '0'], '+OK\r\n'],
    [['INCRBY', 'c:k', '9223372036854775807'], int('9223372036854775807')],
    [['INCR', 'c:k'], OVERFLOW],
    [['INCRBY', 'c:k', '-9223372036854775807'], int(0)],
    // Crossing the 15-digit boundary in both directions.
    [['SET', 'c:k', '999999999999999'], '+OK\r\n'],
    [['INCR', 'c:k'], int('1000000000000000')],
    [['GET', 'c:k'], bulk('1000000000000000')],
    [['INCRBY', 'c:k', '9007199254740992'], int('10007199254740992')],
    [['GET', 'c:k'], bulk('10007199254740992')],
    [['INCRBY', 'c:k', '-10007199254740990'], int(2)],
    [['GET', 'c:k'], bulk('2')],
    [['SET', 'c:k', '-999999999999999'], '+OK\r\n'],
    [['DECR', 'c:k'], int('-1000000000000000')],
    [['INCRBY', 'c:k', '1000000000000001'], int(1)],
    [['SET', 'c:k', '9007199254740993'], '+OK\r\n'],
    [['INCR', 'c:k'], int('9007199254740994')],
    // Values that are not canonical integers.
    [['SET', 'c:k', ' 1'], '+OK\r\n'],
    [['INCR', 'c:k'], NOT_INT],
    [['SET', 'c:k', '01'], '+OK\r\n'],
    [['INCR', 'c:k'], NOT_INT],
    [['SET', 'c:k', '-0'], '+OK\r\n'],
    [['INCR', 'c:k'], NOT_INT],
    [['SET', 'c:k', '+1'], '+OK\r\n'],
    [['INCR', 'c:k'], NOT_INT],
    [['SET', 'c:k', '1.0'], '+OK\r\n'],
    [['DECR', 'c:k'], NOT_INT],
    [['SET', 'c:k', '9223372036854775808'], '+OK\r\n'],
    [['INCR', 'c:k'], NOT_INT],
    [['INCR', 'c:k', 'x'], "-ERR wrong number of arguments for 'incr' command\r\n"],
  ]);
  // The TTL survives INCR.
  await r.set('c:t', '10', 'EX', 100);
  assert.equal(await r.incr('c:t'), 11);
  assert.ok((await r.ttl('c:t')) > 90);
  // Many increments stay exact.
  await r.del('c:many');
  const p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.incrby('c:many', i);
  await p.exec();
  assert.equal(await r.get('c:many'), String((999 * 1000) / 2));
  assert.equal(await nr2.incrBy('c:many', 1), 499501);
  assert.equal(await nr3.decrBy('c:many', 1), 499500);
});

test('INCRBYFLOAT formats like Valkey (x87 long double, %.17Lf)', async () => {
  // [initial value or null, increment, reply]; all checked on redis-server 7.0.15.
  const cases = [
    ['10.50', '0.1', '10.6'],
    [null, '0.1', '0.1'],
    ['0.1', '0.2', '0.3'],
    ['5.0e3', '0', '5000'],
    [null, '1e20', '100000000000000000000'],
    [null, '0.000003814697265625', '0.00000381469726562'],
    ['1.5e-17', '-3e-17', '-0.00000000000000002'],
    ['0.00000000000000002', '-3e-17', '-0.00000000000000001'],
    [null, '1.5e-17', '0.00000000000000002'],
    [null, '0x1p3', '8'],
    [null, '-0', '0'],
    ['-0.0000000000000000001', '0', '0'],
    ['3.0000000000000000001', '1e-310', '3'],
    ['9223372036854775807', '1', '9223372036854775808'],
    ['18446744073709551617', '0', '18446744073709551616'],
    ['1', '-1', '0'],
    ['0.1', '-0.1', '0'],
    ['1.1', '2.2', '3.3'],
    ['2.675', '0', '2.675'],
    ['123', '-0.5', '122.5'],
    ['-5', '3.25', '-1.75'],
    ['1e-4940', '8', '8'],
    ['+.5', '1.', '1.5'],
    ['1E5', '1e+5', '200000'],
    [null, '3.14159265358979323846264338327950288', '3.14159265358979324'],
    [null, '1e-18', '0'],
    [null, '-1e-18', '0'],
    [null, '5e-18', '0'],
    [null, '5.000001e-18', '0.00000000000000001'],
  ];
  for (const [init, inc, want] of cases) {
    if (init === null) await r.del('f:k');
    else await r.set('f:k', init);
    assert.equal(await raw.call('INCRBYFLOAT', 'f:k', inc), bulk(want), `${init} + ${inc}`);
    assert.equal(await r.get('f:k'), want);
  }
  await r.del('f:k');
  await r.incrbyfloat('f:k', '0.1');
  assert.equal(await r.incrbyfloat('f:k', '0.2'), '0.3');
  // The largest finite value prints in full.
  await r.set('f:max', '1.18973149535723176502e4932');
  const max = await r.incrbyfloat('f:max', '0');
  assert.equal(max.length, 4933);
  assert.ok(max.startsWith('118973149535723176502126385303'));
  await expectRaw(raw, [
    [['SET', 'f:k', '1'], '+OK\r\n'],
    [['INCRBYFLOAT', 'f:k', ' 1'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '1 '], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', 'nan'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '-nan'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', 'abc'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', ''], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '1e'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '0x'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '.'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '1e5000'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '1e-5000'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', '1'.repeat(5120)], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k', 'inf'], '-ERR increment would produce NaN or Infinity\r\n'],
    [['INCRBYFLOAT', 'f:k', '-Infinity'], '-ERR increment would produce NaN or Infinity\r\n'],
    [['GET', 'f:k'], bulk('1')],
    [['SET', 'f:k', 'inf'], '+OK\r\n'],
    [['INCRBYFLOAT', 'f:k', '-inf'], '-ERR increment would produce NaN or Infinity\r\n'],
    [['SET', 'f:k', '1.18e4932'], '+OK\r\n'],
    [['INCRBYFLOAT', 'f:k', '1e4932'], '-ERR increment would produce NaN or Infinity\r\n'],
    [['SET', 'f:k', 'abc'], '+OK\r\n'],
    [['INCRBYFLOAT', 'f:k', '1'], NOT_FLOAT],
    [['SET', 'f:k', ' 1'], '+OK\r\n'],
    [['INCRBYFLOAT', 'f:k', '1'], NOT_FLOAT],
    [['INCRBYFLOAT', 'f:k'], "-ERR wrong number of arguments for 'incrbyfloat' command\r\n"],
  ]);
  // Result usable by INCR when integral; TTL kept.
  await r.set('f:t', '1.5', 'EX', 100);
  assert.equal(await r.incrbyfloat('f:t', '1.5'), '3');
  assert.equal(await r.incr('f:t'), 4);
  assert.ok((await r.ttl('f:t')) > 90);
  await expectRaw(raw3, [[['INCRBYFLOAT', 'f:t', '0.5'], bulk('4.5')]]);
  assert.equal(await nr2.incrByFloat('f:t', 0.25), '4.75');
  assert.equal(String(await nr3.incrByFloat('f:t', 0.25)), '5');
});

// ------------------------------------------------------------------ LCS

const M = (...n) => n.map((x) => `:${x}\r\n`).join('');

test('LCS: string, LEN, IDX, MINMATCHLEN, WITHMATCHLEN (RESP2)', async () => {
  await r.mset('l:a', 'thequickbrownfox', 'l:b', 'aquickredfoxjumps', 'l:n1', '1234567', 'l:n2', '24680', 'l:c', 'abcabc', 'l:d', 'cbacba');
  const idx2 = (withLen) =>
    '*4\r\n$7\r\nmatches\r\n*3\r\n' +
    (withLen ? '*3\r\n' : '*2\r\n') + '*2\r\n' + M(13, 15) + '*2\r\n' + M(9, 11) + (withLen ? M(3) : '') +
    (withLen ? '*3\r\n' : '*2\r\n') + '*2\r\n' + M(9, 9) + '*2\r\n' + M(6, 6) + (withLen ? M(1) : '') +
    (withLen ? '*3\r\n' : '*2\r\n') + '*2\r\n' + M(3, 7) + '*2\r\n' + M(1, 5) + (withLen ? M(5) : '') +
    '$3\r\nlen\r\n' + M(9);
  await expectRaw(raw, [
    [['LCS', 'l:a', 'l:b'], bulk('quickrfox')],
    [['LCS', 'l:a', 'l:b', 'LEN'], int(9)],
    [['LCS', 'l:a', 'l:b', 'IDX'], idx2(false)],
    [['LCS', 'l:a', 'l:b', 'idx', 'withmatchlen'], idx2(true)],
    [['LCS', 'l:a', 'l:b', 'IDX', 'MINMATCHLEN', '3', 'WITHMATCHLEN'],
      '*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n' + M(13, 15) + '*2\r\n' + M(9, 11) + M(3) + '*3\r\n*2\r\n' + M(3, 7) + '*2\r\n' + M(1, 5) + M(5) + '$3\r\nlen\r\n' + M(9)],
    [['LCS', 'l:a', 'l:b', 'MINMATCHLEN', '-5', 'IDX'], idx2(false)],
    [['LCS', 'l:n1', 'l:n2'], bulk('246')],
    [['LCS', 'l:n1', 'l:n2', 'IDX', 'WITHMATCHLEN'],
      '*4\r\n$7\r\nmatches\r\n*3\r\n*3\r\n*2\r\n' + M(5, 5) + '*2\r\n' + M(2, 2) + M(1) + '*3\r\n*2\r\n' + M(3, 3) + '*2\r\n' + M(1, 1) + M(1) + '*3\r\n*2\r\n' + M(1, 1) + '*2\r\n' + M(0, 0) + M(1) + '$3\r\nlen\r\n' + M(3)],
    [['LCS', 'l:c', 'l:d'], bulk('cbc')],
    [['LCS', 'l:a', 'l:none'], bulk('')],
    [['LCS', 'l:none', 'l:none', 'IDX', 'WITHMATCHLEN'], '*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n'],
    [['LCS', 'l:a', 'l:b', 'LEN', 'LEN'], int(9)],
    [['LCS', 'l:a', 'l:b', 'LEN', 'IDX'], '-ERR If you want both the length and indexes, please just use IDX.\r\n'],
    [['LCS', 'l:a', 'l:b', 'MINMATCHLEN'], SYNTAX],
    [['LCS', 'l:a', 'l:b', 'MINMATCHLEN', 'x'], NOT_INT],
    [['LCS', 'l:a', 'l:b', 'FOO'], SYNTAX],
    [['LCS', 'l:a'], "-ERR wrong number of arguments for 'lcs' command\r\n"],
  ]);
  assert.equal(await r.lcs('l:a', 'l:b'), 'quickrfox');
  const ioIdx = await r.lcs('l:a', 'l:b', 'IDX', 'WITHMATCHLEN');
  assert.deepEqual(ioIdx, ['matches', [[[13, 15], [9, 11], 3], [[9, 9], [6, 6], 1], [[3, 7], [1, 5], 5]], 'len', 9]);
  assert.equal(await nr2.lcsLen('l:a', 'l:b'), 9);
});

test('LCS IDX is a map in RESP3', async () => {
  await r.mset('l3:a', 'thequickbrownfox', 'l3:b', 'aquickredfoxjumps');
  assert.equal(
    await raw3.call('LCS', 'l3:a', 'l3:b', 'IDX', 'MINMATCHLEN', '4'),
    '%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n' + M(3, 7) + '*2\r\n' + M(1, 5) + '$3\r\nlen\r\n' + M(9),
  );
  assert.equal(await raw3.call('LCS', 'l3:a', 'l3:b'), bulk('quickrfox'));
  const res = await nr3.sendCommand(['LCS', 'l3:a', 'l3:b', 'IDX', 'WITHMATCHLEN']);
  assert.deepEqual(JSON.parse(JSON.stringify(res)), { matches: [[[13, 15], [9, 11], 3], [[9, 9], [6, 6], 1], [[3, 7], [1, 5], 5]], len: 9 });
});

test('LCS on longer strings agrees with a straightforward implementation', async () => {
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const lcsLen = (a, b) => {
    const prev = new Array(b.length + 1).fill(0);
    for (let i = 1; i <= a.length; i++) {
      let diag = 0;
      for (let j = 1; j <= b.length; j++) {
        const up = prev[j];
        prev[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, prev[j - 1]);
        diag = up;
      }
    }
    return prev[b.length];
  };
  const isSubseq = (s, t) => {
    let k = 0;
    for (let i = 0; i < t.length && k < s.length; i++) if (t[i] === s[k]) k++;
    return k === s.length;
  };
  for (let round = 0; round < 5; round++) {
    let a = '';
    let b = '';
    const alpha = 'ACGT\x00\xff';
    for (let i = 0, n = 200 + rand(600); i < n; i++) a += alpha[rand(alpha.length)];
    for (let i = 0, n = 200 + rand(600); i < n; i++) b += alpha[rand(alpha.length)];
    await r.mset(Buffer.from('lx:a'), Buffer.from(a, 'latin1'), Buffer.from('lx:b'), Buffer.from(b, 'latin1'));
    const want = lcsLen(a, b);
    assert.equal(await r.lcs('lx:a', 'lx:b', 'LEN'), want);
    const s = (await r.callBuffer('LCS', 'lx:a', 'lx:b')).toString('latin1');
    assert.equal(s.length, want);
    assert.ok(isSubseq(s, a) && isSubseq(s, b));
    const [, matches, , len] = await r.lcs('lx:a', 'lx:b', 'IDX', 'WITHMATCHLEN');
    assert.equal(len, want);
    let sum = 0;
    for (const [[as, ae], [bs, be], ml] of matches) {
      assert.equal(ae - as + 1, ml);
      assert.equal(be - bs + 1, ml);
      assert.equal(a.slice(as, ae + 1), b.slice(bs, be + 1));
      sum += ml;
    }
    assert.equal(sum, want);
  }
});

// ------------------------------------------------------------------ WRONGTYPE and introspection (in-process server)

test('WRONGTYPE on every string command (in-process server with a non-string key)', async () => {
  const server = inproc.server;
  const db = server.dbs[0];
  const fake = { objType: 1, encoding: () => 'listpack', clone: () => fake };
  db.set('wt', fake);
  const c = await RawConn.connect(inproc.port);
  try {
    await expectRaw(c, [
      [['GET', 'wt'], WRONGTYPE],
      [['SET', 'wt', 'x', 'GET'], WRONGTYPE],
      [['SET', 'wt', 'x', 'IFEQ', 'a'], WRONGTYPE],
      [['SET', 'wt', 'x', 'IFEQ', 'a', 'GET'], WRONGTYPE],
      [['SET', 'wt', 'x', 'XX', 'GET'], WRONGTYPE],
      [['GETSET', 'wt', 'x'], WRONGTYPE],
      [['GETDEL', 'wt'], WRONGTYPE],
      [['GETEX', 'wt'], WRONGTYPE],
      [['GETEX', 'wt', 'EX', '0'], WRONGTYPE],
      [['DELIFEQ', 'wt', 'x'], WRONGTYPE],
      [['APPEND', 'wt', 'x'], WRONGTYPE],
      [['STRLEN', 'wt'], WRONGTYPE],
      [['SETRANGE', 'wt', '0', 'x'], WRONGTYPE],
      [['SETRANGE', 'wt', '0', ''], WRONGTYPE],
      [['GETRANGE', 'wt', '0', '1'], WRONGTYPE],
      [['SUBSTR', 'wt', '0', '1'], WRONGTYPE],
      [['INCR', 'wt'], WRONGTYPE],
      [['DECR', 'wt'], WRONGTYPE],
      [['INCRBY', 'wt', '1'], WRONGTYPE],
      [['DECRBY', 'wt', '1'], WRONGTYPE],
      [['INCRBYFLOAT', 'wt', '1'], WRONGTYPE],
      // Argument errors come first where Valkey parses arguments first.
      [['INCRBY', 'wt', 'x'], NOT_INT],
      [['GETRANGE', 'wt', 'x', '1'], NOT_INT],
      [['SETRANGE', 'wt', '-1', 'x'], '-ERR offset is out of range\r\n'],
      [['SET', 'wt', 'x', 'EX', '0', 'GET'], invalidExpire('set')],
      [['MSETNX', 'wt', 'x', 'other', 'y'], int(0)],
      [['MGET', 'wt', 'missing'], '*2\r\n$-1\r\n$-1\r\n'],
      [['LCS', 'wt', 'missing'], '-ERR The specified keys must contain string values\r\n'],
      [['LCS', 'missing', 'wt', 'FOO'], '-ERR The specified keys must contain string values\r\n'],
      [['SETNX', 'wt', 'x'], int(0)],
    ]);
    assert.equal(db.lookup('wt'), fake, 'nothing replaced the non-string value');
    // Plain SET, SETEX and MSET overwrite any type.
    await expectRaw(c, [
      [['SET', 'wt', 'now a string'], '+OK\r\n'],
      [['GET', 'wt'], bulk('now a string')],
    ]);
    db.set('wt', fake);
    await expectRaw(c, [[['SET', 'wt', 'x', 'XX'], '+OK\r\n']]);
    db.set('wt', fake);
    await expectRaw(c, [[['SETEX', 'wt', '100', 'y'], '+OK\r\n']]);
    db.set('wt', fake);
    await expectRaw(c, [[['MSET', 'wt', 'z'], '+OK\r\n'], [['GET', 'wt'], bulk('z')]]);
  } finally {
    c.close();
  }
});

test('writes count as changes (dirty); compact storage of values', async () => {
  const server = inproc.server;
  const db = server.dbs[0];
  const c = await RawConn.connect(inproc.port);
  try {
    const d0 = server.dirty;
    await c.call('SET', 'dy:a', '1');
    await c.call('INCR', 'dy:a');
    await c.call('MSET', 'dy:b', '1', 'dy:c', '2');
    await c.call('APPEND', 'dy:b', 'x');
    await c.call('SETRANGE', 'dy:b', '0', 'y');
    await c.call('INCRBYFLOAT', 'dy:a', '1.5');
    await c.call('GETDEL', 'dy:c');
    assert.equal(server.dirty - d0, 8);
    const d1 = server.dirty;
    await c.call('GET', 'dy:a');
    await c.call('SET', 'dy:a', 'x', 'NX');
    await c.call('SETRANGE', 'dy:b', '0', '');
    await c.call('GETDEL', 'dy:none');
    await c.call('GETEX', 'dy:a', 'PERSIST');
    await c.call('DELIFEQ', 'dy:a', 'nope');
    assert.equal(server.dirty, d1, 'no change, no dirty');
    // Canonical integers of up to 15 digits are stored as numbers.
    await c.call('SET', 'dy:n', '123');
    assert.equal(db.lookup('dy:n'), 123);
    await c.call('INCRBY', 'dy:n', '-1000');
    assert.equal(db.lookup('dy:n'), -877);
    await c.call('SET', 'dy:n', '999999999999999');
    await c.call('INCR', 'dy:n');
    assert.equal(db.lookup('dy:n'), '1000000000000000');
    await c.call('DECR', 'dy:n');
    assert.equal(db.lookup('dy:n'), 999999999999999);
    await c.call('SET', 'dy:n', '0123');
    assert.equal(db.lookup('dy:n'), '0123');
    await c.call('INCRBYFLOAT', 'dy:f', '2.5');
    await c.call('INCRBYFLOAT', 'dy:f', '2.5');
    // INCRBYFLOAT results stay strings (Valkey: embstr, never int).
    assert.equal(db.lookup('dy:f'), '5');
    // APPEND to a missing key stores the argument as SET would (int here);
    // appending to an existing value makes it raw: kept in a Buffer.
    await c.call('APPEND', 'dy:ap', '42');
    assert.equal(db.lookup('dy:ap'), 42);
    await c.call('APPEND', 'dy:ap', '7');
    assert.ok(Buffer.isBuffer(db.lookup('dy:ap')));
    assert.equal(db.lookup('dy:ap').toString('latin1'), '427');
    // Big values grown by APPEND live in Buffers that grow in place; an older
    // view held elsewhere (two keys sharing one value) is never written over.
    await c.call('SET', 'dy:big', 'a'.repeat(20000));
    await c.call('APPEND', 'dy:big', 'b');
    const shared = db.lookup('dy:big');
    assert.ok(Buffer.isBuffer(shared));
    db.set('dy:big2', shared);
    await c.call('APPEND', 'dy:big', 'c');
    await c.call('APPEND', 'dy:big2', 'd');
    await c.call('APPEND', 'dy:big', 'e');
    assert.equal(await c.call('GETRANGE', 'dy:big', '-4', '-1'), bulk('abce'));
    assert.equal(await c.call('GETRANGE', 'dy:big2', '-4', '-1'), bulk('aabd'));
    assert.equal(await c.call('STRLEN', 'dy:big'), int(20003));
    assert.equal(await c.call('STRLEN', 'dy:big2'), int(20002));
  } finally {
    c.close();
  }
});

test('reads count keyspace hits and misses, writes do not', async () => {
  const c = await RawConn.connect(inproc.port);
  try {
    const keyspaceStats = inproc.server.keyspace.stats;
    await c.call('SET', 'hm:a', '1');
    const h0 = keyspaceStats.hits;
    const m0 = keyspaceStats.misses;
    await c.call('GET', 'hm:a');
    await c.call('GET', 'hm:none');
    await c.call('MGET', 'hm:a', 'hm:none');
    await c.call('STRLEN', 'hm:a');
    await c.call('GETRANGE', 'hm:none', '0', '1');
    assert.equal(keyspaceStats.hits - h0, 3);
    assert.equal(keyspaceStats.misses - m0, 3);
    await c.call('INCR', 'hm:a');
    await c.call('APPEND', 'hm:a', '0');
    await c.call('SETRANGE', 'hm:b', '0', 'x');
    await c.call('INCRBYFLOAT', 'hm:c', '1');
    await c.call('SET', 'hm:a', 'x', 'NX');
    await c.call('MSETNX', 'hm:d', 'x');
    await c.call('DELIFEQ', 'hm:d', 'y');
    assert.equal(keyspaceStats.hits - h0, 3);
    assert.equal(keyspaceStats.misses - m0, 3);
    // SET ... GET reads like GET.
    await c.call('SET', 'hm:a', 'y', 'GET');
    assert.equal(keyspaceStats.hits - h0, 4);
  } finally {
    c.close();
  }
});

test('command table: DELIFEQ metadata and SET IFEQ argument', () => {
  const table = inproc.server.table;
  const del = table.lookup('delifeq');
  assert.ok(del);
  assert.equal(del.arity, 3);
  assert.deepEqual(del.flagNames, ['write']);
  assert.equal(del.firstKey, 1);
  assert.equal(del.lastKey, 1);
  assert.equal(del.keyStep, 1);
  const cond = table.lookup('set').meta.args.find((a) => a.name === 'condition');
  assert.deepEqual(
    cond.arguments.map((a) => a.token),
    ['NX', 'XX', 'IFEQ'],
  );
  for (const name of ['get', 'set', 'setnx', 'setex', 'psetex', 'getset', 'getdel', 'getex', 'mget', 'mset', 'msetnx', 'append', 'strlen', 'incr', 'decr', 'incrby', 'decrby', 'incrbyfloat', 'getrange', 'substr', 'setrange', 'lcs']) {
    assert.ok(table.lookup(name)?.handler, `${name} is implemented`);
  }
});
