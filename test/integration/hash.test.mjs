// Hash commands against a real vireo-server: exact RESP2/RESP3 bytes on raw
// sockets, and what ioredis and node-redis (RESP2 and RESP3) see. Classic
// commands were checked against redis-server 7.0.15 (see also the differential
// corpus test/interop/corpus/hashes.txt); the field expiration commands follow
// Valkey 9 (HEXPIRE family, HTTL family, HPERSIST, HGETEX, HSETEX) and 9.1 (HGETDEL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const NOT_INT = '-ERR value is not an integer or out of range\r\n';
const SYNTAX = '-ERR syntax error\r\n';
const NUMFIELDS = '-ERR numfields should be greater than 0 and match the provided number of fields\r\n';
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n) => `:${n}\r\n`;
const ints = (...ns) => `*${ns.length}\r\n` + ns.map(int).join('');
const arr = (...items) => `*${items.length}\r\n` + items.join('');

let srv;
let raw;
let raw3;
let r;
let nr2;
let nr3;

before(async () => {
  srv = await startVireo(['--hz', '100']);
  raw = await RawConn.connect(srv.port);
  raw3 = await RawConn.connect(srv.port);
  assert.ok((await raw3.call('HELLO', '3')).startsWith('%'));
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
  await srv?.stop();
});

async function expectRaw(conn, pairs) {
  for (const [cmd, want] of pairs) {
    const got = await conn.call(...cmd);
    assert.equal(got, want, `${cmd.join(' ')}`);
  }
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

test('HSET / HGET / HMGET / HLEN / HSTRLEN / HEXISTS / HDEL, RESP2 and RESP3 bytes', async () => {
  await raw.call('DEL', 'h', 's');
  await expectRaw(raw, [
    [['HSET', 'h', 'a', '1', 'b', '22'], int(2)],
    [['HSET', 'h', 'a', 'x', 'c', '3'], int(1)],
    [['HGET', 'h', 'a'], bulk('x')],
    [['HGET', 'h', 'nope'], '$-1\r\n'],
    [['HGET', 'nokey', 'a'], '$-1\r\n'],
    [['HMGET', 'h', 'a', 'nope', 'b'], arr(bulk('x'), '$-1\r\n', bulk('22'))],
    [['HLEN', 'h'], int(3)],
    [['HSTRLEN', 'h', 'b'], int(2)],
    [['HSTRLEN', 'h', 'zz'], int(0)],
    [['HEXISTS', 'h', 'c'], int(1)],
    [['HEXISTS', 'h', 'zz'], int(0)],
    [['HSET', 'h', 'a'], "-ERR wrong number of arguments for 'hset' command\r\n"],
    [['HMSET', 'h', 'a', '1', 'b'], "-ERR wrong number of arguments for 'hmset' command\r\n"],
    [['HMSET', 'h', 'd', '4'], '+OK\r\n'],
    [['HSETNX', 'h', 'd', '5'], int(0)],
    [['HSETNX', 'h', 'e', '5'], int(1)],
    [['HDEL', 'h', 'a', 'a', 'zz'], int(1)],
    [['HDEL', 'h', 'b', 'c', 'd', 'e'], int(4)],
    [['EXISTS', 'h'], int(0)],
    [['SET', 's', 'v'], '+OK\r\n'],
    [['HGET', 's', 'a'], WRONGTYPE],
    [['HSET', 's', 'a', 'b'], WRONGTYPE],
    [['HLEN', 's'], WRONGTYPE],
  ]);
  await expectRaw(raw3, [
    [['HSET', 'h3', 'a', '1'], int(1)],
    [['HGET', 'h3', 'nope'], '_\r\n'],
    [['HMGET', 'h3', 'a', 'nope'], arr(bulk('1'), '_\r\n')],
    [['HGETALL', 'h3'], `%1\r\n${bulk('a')}${bulk('1')}`],
    [['HGETALL', 'nokey'], '%0\r\n'],
    [['HKEYS', 'h3'], arr(bulk('a'))],
    [['HVALS', 'h3'], arr(bulk('1'))],
  ]);
  await expectRaw(raw, [
    [['HGETALL', 'h3'], arr(bulk('a'), bulk('1'))],
    [['HGETALL', 'nokey'], '*0\r\n'],
  ]);
});

test('HINCRBY / HINCRBYFLOAT: errors, overflow, long double exactness', async () => {
  await raw.call('DEL', 'c');
  await expectRaw(raw, [
    [['HINCRBY', 'c', 'n', '5'], int(5)],
    [['HINCRBY', 'c', 'n', 'x'], NOT_INT],
    [['HINCRBY', 'c', 'n', '9223372036854775802'], int('9223372036854775807')],
    [['HINCRBY', 'c', 'n', '1'], '-ERR increment or decrement would overflow\r\n'],
    [['HSET', 'c', 's', 'abc'], int(1)],
    [['HINCRBY', 'c', 's', '1'], '-ERR hash value is not an integer\r\n'],
    [['HINCRBYFLOAT', 'c', 's', '1'], '-ERR hash value is not a float\r\n'],
    [['HINCRBYFLOAT', 'c', 'f', '10.5'], bulk('10.5')],
    [['HINCRBYFLOAT', 'c', 'f', '0.1'], bulk('10.6')],
    [['HINCRBYFLOAT', 'c', 'f', '-10.6'], bulk('0')],
    [['HINCRBYFLOAT', 'c', 'g', '1.23456789012345678901234567890'], bulk('1.23456789012345679')],
    [['HINCRBYFLOAT', 'c', 'f', 'abc'], '-ERR value is not a valid float\r\n'],
    [['HINCRBYFLOAT', 'c', 'f', 'inf'], '-ERR value is NaN or Infinity\r\n'],
    [['HSET', 'c', 'big', '1.7976931348623157e308'], int(1)],
  ]);
  // Long double range: twice DBL_MAX is finite, printed in full (309 digits).
  assert.ok((await raw.call('HINCRBYFLOAT', 'c', 'big', '1.7976931348623157e308')).startsWith('$309\r\n35953862697246313'));
  assert.equal(await r.hincrby('c', 'k', 3), 3);
  assert.equal(await nr2.hIncrBy('c', 'k', 2), 5);
  assert.equal(await nr3.hIncrByFloat('c', 'k', 0.5), '5.5');
  assert.equal(await r.hincrbyfloat('c', 'k', '1e1'), '15.5');
});

test('HGETALL / HKEYS / HVALS through ioredis and node-redis (RESP2 and RESP3)', async () => {
  await r.del('ha');
  await r.hset('ha', { a: '1', b: '2', c: '3' });
  assert.deepEqual(await r.hgetall('ha'), { a: '1', b: '2', c: '3' });
  assert.deepEqual({ ...(await nr2.hGetAll('ha')) }, { a: '1', b: '2', c: '3' });
  assert.deepEqual({ ...(await nr3.hGetAll('ha')) }, { a: '1', b: '2', c: '3' });
  assert.deepEqual(await nr3.hKeys('ha'), ['a', 'b', 'c']);
  assert.deepEqual(await nr2.hVals('ha'), ['1', '2', '3']);
  assert.deepEqual(await r.hmget('ha', 'a', 'zz'), ['1', null]);
  assert.deepEqual(await nr3.hmGet('ha', ['a', 'zz']), ['1', null]);
  assert.equal(await nr3.hGet('ha', 'zz'), null);
  assert.equal(await nr2.hLen('ha'), 3);
  assert.equal(await nr3.hStrLen('ha', 'a'), 1);
  assert.equal(await nr3.hExists('ha', 'a'), 1);
  assert.equal(await nr2.hSetNX('ha', 'a', 'x'), 0);
  assert.equal(await r.hdel('ha', 'a', 'b'), 2);
  assert.equal(await nr3.hDel('ha', 'c'), 1);
  assert.equal(await r.exists('ha'), 0);
});

test('HRANDFIELD: counts, WITHVALUES shapes in RESP2 and RESP3', async () => {
  await raw.call('DEL', 'r');
  await raw.call('HSET', 'r', 'a', '1', 'b', '2', 'c', '3');
  await expectRaw(raw, [
    [['HRANDFIELD', 'nokey'], '$-1\r\n'],
    [['HRANDFIELD', 'nokey', '3'], '*0\r\n'],
    [['HRANDFIELD', 'r', '0'], '*0\r\n'],
    [['HRANDFIELD', 'r', 'x'], NOT_INT],
    [['HRANDFIELD', 'r', '1', 'bad'], SYNTAX],
    [['HRANDFIELD', 'r', '4611686018427387904', 'WITHVALUES'], '-ERR value is out of range\r\n'],
  ]);
  await expectRaw(raw3, [
    [['HRANDFIELD', 'nokey'], '_\r\n'],
    [['HRANDFIELD', 'nokey', '3', 'WITHVALUES'], '*0\r\n'],
  ]);
  const all2 = await raw.call('HRANDFIELD', 'r', '5', 'WITHVALUES');
  assert.ok(all2.startsWith('*6\r\n'));
  const all3 = await raw3.call('HRANDFIELD', 'r', '5', 'WITHVALUES');
  assert.ok(all3.startsWith('*3\r\n*2\r\n'));
  const neg3 = await raw3.call('HRANDFIELD', 'r', '-7', 'WITHVALUES');
  assert.equal(neg3.match(/\*2\r\n/g).length, 7);
  const neg2 = await r.hrandfield('r', -10);
  assert.equal(neg2.length, 10);
  for (const f of neg2) assert.ok(['a', 'b', 'c'].includes(f));
  const uniq = await r.hrandfield('r', 2);
  assert.equal(new Set(uniq).size, 2);
  const wv = await nr3.hRandFieldCountWithValues('r', 2);
  assert.equal(wv.length, 2);
  for (const { field, value } of wv) assert.equal(String(Number(value)), value, field);
  const wv2 = await nr2.hRandFieldCountWithValues('r', -4);
  assert.equal(wv2.length, 4);
  assert.ok(['a', 'b', 'c'].includes(await nr2.hRandField('r')));
  // A big (hashtable) hash: distinct picks, both strategies.
  const big = {};
  for (let i = 0; i < 1000; i++) big[`f${i}`] = String(i);
  await r.hset('rbig', big);
  for (const n of [10, 400, 999]) {
    const got = await r.hrandfield('rbig', n);
    assert.equal(got.length, n);
    assert.equal(new Set(got).size, n);
  }
});

test('HSCAN: listpack in one call, hashtable with cursors, MATCH, COUNT, NOVALUES', async () => {
  await raw.call('DEL', 'sc', 'sb');
  await raw.call('HSET', 'sc', 'a', '1', 'b', '2');
  await expectRaw(raw, [
    [['HSCAN', 'sc', '0'], arr(bulk('0'), arr(bulk('a'), bulk('1'), bulk('b'), bulk('2')))],
    [['HSCAN', 'sc', '0', 'NOVALUES'], arr(bulk('0'), arr(bulk('a'), bulk('b')))],
    [['HSCAN', 'sc', '0', 'MATCH', 'b*', 'COUNT', '1'], arr(bulk('0'), arr(bulk('b'), bulk('2')))],
    [['HSCAN', 'nokey', '0'], arr(bulk('0'), '*0\r\n')],
    [['HSCAN', 'sc', 'x'], '-ERR invalid cursor\r\n'],
    [['HSCAN', 'sc', '0', 'COUNT', '0'], SYNTAX],
    [['HSCAN', 'sc', '0', 'NOSCORES'], '-ERR NOSCORES option can only be used in ZSCAN\r\n'],
    [['SCAN', '0', 'NOVALUES'], '-ERR NOVALUES option can only be used in HSCAN\r\n'],
  ]);
  const want = new Map();
  for (let i = 0; i < 700; i++) want.set(`f${i}`, `v${i}`);
  await r.hset('sb', Object.fromEntries(want));
  assert.equal(await r.object('ENCODING', 'sb'), 'hashtable');
  const seen = new Map();
  let cursor = '0';
  let calls = 0;
  do {
    const [next, items] = await r.hscan('sb', cursor, 'COUNT', 50);
    for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
    if (calls === 2) await r.hdel('sb', 'f699'); // mutate during the scan
    cursor = next;
    calls++;
  } while (cursor !== '0');
  assert.ok(calls > 10);
  for (const [f, v] of want) if (f !== 'f699') assert.equal(seen.get(f), v);
  const it = [];
  for await (const entries of nr3.hScanIterator('sb', { COUNT: 100 })) it.push(...entries);
  assert.equal(it.length, 699);
  const nv = await raw3.call('HSCAN', 'sb', '0', 'MATCH', 'f1?', 'COUNT', '10000', 'NOVALUES');
  assert.equal(nv.match(/\$3\r\nf1\d\r\n/g).length, 10);
});

test('encodings: listpack thresholds from CONFIG SET, hashtable for big or volatile hashes', async () => {
  try {
    await expectRaw(raw, [
      [['CONFIG', 'SET', 'hash-max-listpack-entries', '2'], '+OK\r\n'],
      [['HSET', 'e1', 'a', '1', 'b', '2'], int(2)],
      [['OBJECT', 'ENCODING', 'e1'], bulk('listpack')],
      [['HSET', 'e1', 'c', '3'], int(1)],
      [['OBJECT', 'ENCODING', 'e1'], bulk('hashtable')],
      [['CONFIG', 'SET', 'hash-max-ziplist-value', '3'], '+OK\r\n'],
      [['CONFIG', 'GET', 'hash-max-listpack-value'], arr(bulk('hash-max-listpack-value'), bulk('3'))],
      [['HSET', 'e2', 'a', '123'], int(1)],
      [['OBJECT', 'ENCODING', 'e2'], bulk('listpack')],
      [['HINCRBY', 'e2', 'a', '1000'], int(1123)],
      [['OBJECT', 'ENCODING', 'e2'], bulk('hashtable')],
      [['CONFIG', 'SET', 'hash-max-listpack-value', '64'], '+OK\r\n'],
      [['HSET', 'e3', 'a', '1'], int(1)],
      [['HEXPIRE', 'e3', '100', 'NX', 'FIELDS', '1', 'a'], ints(1)],
      [['OBJECT', 'ENCODING', 'e3'], bulk('hashtable')],
      [['HPERSIST', 'e3', 'FIELDS', '1', 'a'], ints(1)],
      [['OBJECT', 'ENCODING', 'e3'], bulk('hashtable')],
    ]);
  } finally {
    await raw.call('CONFIG', 'SET', 'hash-max-listpack-entries', '512');
    await raw.call('CONFIG', 'SET', 'hash-max-listpack-value', '64');
  }
});

test('HEXPIRE family: per-field codes, conditions, errors', async () => {
  await raw.call('DEL', 'x', 's');
  await raw.call('SET', 's', 'v');
  await raw.call('HSET', 'x', 'a', '1', 'b', '2', 'c', '3');
  const future = String(Math.floor(Date.now() / 1000) + 1000);
  await expectRaw(raw, [
    // Listpack fields have no TTL: XX / GT fail, NX / LT apply.
    [['HEXPIRE', 'x', '100', 'XX', 'FIELDS', '1', 'a'], ints(0)],
    [['HEXPIRE', 'x', '100', 'GT', 'FIELDS', '1', 'a'], ints(0)],
    [['OBJECT', 'ENCODING', 'x'], bulk('listpack')],
    [['HEXPIRE', 'x', '100', 'FIELDS', '3', 'a', 'zz', 'b'], ints(1, -2, 1)],
    [['HEXPIRE', 'x', '200', 'NX', 'FIELDS', '2', 'a', 'c'], ints(0, 1)],
    [['HEXPIRE', 'x', '50', 'GT', 'FIELDS', '1', 'a'], ints(0)],
    [['HEXPIRE', 'x', '500', 'GT', 'FIELDS', '1', 'a'], ints(1)],
    [['HEXPIRE', 'x', '400', 'LT', 'FIELDS', '1', 'a'], ints(1)],
    [['HEXPIRE', 'x', '450', 'LT', 'FIELDS', '1', 'a'], ints(0)],
    [['HEXPIRE', 'x', '300', 'XX', 'FIELDS', '1', 'a'], ints(1)],
    [['HTTL', 'x', 'FIELDS', '4', 'a', 'b', 'c', 'zz'], ints(300, 100, 200, -2)],
    [['HEXPIREAT', 'x', future, 'FIELDS', '1', 'b'], ints(1)],
    [['HEXPIRETIME', 'x', 'FIELDS', '1', 'b'], ints(Number(future))],
    [['HPEXPIREAT', 'x', `${future}000`, 'FIELDS', '1', 'c'], ints(1)],
    [['HPEXPIRETIME', 'x', 'FIELDS', '2', 'c', 'zz'], ints(Number(`${future}000`), -2)],
    [['HPEXPIRE', 'nokey', '100', 'FIELDS', '2', 'a', 'b'], ints(-2, -2)],
    [['HTTL', 'nokey', 'FIELDS', '1', 'a'], ints(-2)],
    [['HPERSIST', 'nokey', 'FIELDS', '1', 'a'], ints(-2)],
    // Errors.
    [['HEXPIRE', 'x', '100', 'FIELDS', '2', 'a'], NUMFIELDS],
    [['HEXPIRE', 'x', '100', 'FIELDS', '0', 'a'], NUMFIELDS],
    [['HEXPIRE', 'x', '100', 'FIELDS', 'z', 'a'], NOT_INT],
    [['HEXPIRE', 'x', '100', 'NOPE', '1', 'a'], NUMFIELDS],
    [['HEXPIRE', 'x', '100', 'BAD', 'FIELDS', '1', 'a'], '-ERR Unsupported option BAD\r\n'],
    [['HEXPIRE', 'x', '100', 'NX', 'XX', 'FIELDS', '1', 'a'], '-ERR NX and XX, GT or LT options at the same time are not compatible\r\n'],
    [['HEXPIRE', 'x', '100', 'GT', 'LT', 'FIELDS', '1', 'a'], '-ERR GT and LT options at the same time are not compatible\r\n'],
    [['HEXPIRE', 'x', '-1', 'FIELDS', '1', 'a'], "-ERR invalid expire time in 'hexpire' command\r\n"],
    [['HPEXPIREAT', 'x', 'abc', 'FIELDS', '1', 'a'], NOT_INT],
    [['HEXPIRE', 'x', '9223372036854775807', 'FIELDS', '1', 'a'], "-ERR invalid expire time in 'hexpire' command\r\n"],
    [['HEXPIRE', 's', '100', 'FIELDS', '1', 'a'], WRONGTYPE],
    [['HTTL', 'x', 'FIELDS', '2', 'a'], SYNTAX],
    [['HTTL', 'x', 'FIELDS', 'q', 'a'], NOT_INT],
    [['HTTL', 's', 'FIELDS', '1', 'a'], WRONGTYPE],
    [['HPERSIST', 'x', 'FIELDS', '2', 'a'], NUMFIELDS],
    [['HEXPIRE', 'x', '100', 'FIELDS'], "-ERR wrong number of arguments for 'hexpire' command\r\n"],
    // HPERSIST codes, then a zero TTL deletes (code 2); the last field deletes the key.
    [['HPERSIST', 'x', 'FIELDS', '3', 'a', 'a', 'zz'], ints(1, -1, -2)],
    [['HTTL', 'x', 'FIELDS', '1', 'a'], ints(-1)],
    [['HEXPIRE', 'x', '0', 'FIELDS', '2', 'a', 'b'], ints(2, 2)],
    [['HPEXPIREAT', 'x', '1', 'FIELDS', '2', 'c', 'c'], ints(2, -2)],
    [['EXISTS', 'x'], int(0)],
  ]);
  await raw3.call('HSET', 'x3', 'a', '1');
  await expectRaw(raw3, [[['HPEXPIRE', 'x3', '100000', 'FIELDS', '1', 'a'], ints(1)]]);
  const pttl = await raw3.call('HPTTL', 'x3', 'FIELDS', '1', 'a');
  const ms = Number(/:(\d+)/.exec(pttl)[1]);
  assert.ok(ms > 90000 && ms <= 100000);
});

test('field expiry: lazy on access, active from the cron, key deleted with its last field', async () => {
  await raw.call('DEL', 'lz', 'ac');
  await raw.call('HSET', 'lz', 'a', '1', 'b', '2', 'c', '3');
  await expectRaw(raw, [[['HPEXPIRE', 'lz', '30', 'FIELDS', '2', 'a', 'b'], ints(1, 1)]]);
  await sleep(60);
  await expectRaw(raw, [
    [['HLEN', 'lz'], int(1)],
    [['HGETALL', 'lz'], arr(bulk('c'), bulk('3'))],
    [['HGET', 'lz', 'a'], '$-1\r\n'],
    [['HTTL', 'lz', 'FIELDS', '2', 'a', 'c'], ints(-2, -1)],
  ]);
  // Active: nobody touches the key; the cron removes the fields and then the key.
  await raw.call('HSET', 'ac', 'a', '1', 'b', '2');
  await expectRaw(raw, [[['HPEXPIRE', 'ac', '20', 'FIELDS', '2', 'a', 'b'], ints(1, 1)]]);
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    await sleep(20);
    gone = (await raw.call('KEYS', 'ac')) === '*0\r\n'; // KEYS does not run hash lazy expiry
  }
  assert.ok(gone, 'the cron deleted the hash whose fields all expired');
});

test('HGETEX: EX/PX/EXAT/PXAT/PERSIST, errors, RESP3', async () => {
  await raw.call('DEL', 'g', 's');
  await raw.call('SET', 's', 'v');
  await raw.call('HSET', 'g', 'a', '1', 'b', '2', 'c', '3');
  const past = String(Math.floor(Date.now() / 1000) - 10);
  await expectRaw(raw, [
    [['HGETEX', 'g', 'FIELDS', '2', 'a', 'zz'], arr(bulk('1'), '$-1\r\n')],
    [['HGETEX', 'g', 'EX', '100', 'FIELDS', '2', 'a', 'zz'], arr(bulk('1'), '$-1\r\n')],
    [['HTTL', 'g', 'FIELDS', '1', 'a'], ints(100)],
    [['HGETEX', 'g', 'PX', '50000', 'FIELDS', '1', 'b'], arr(bulk('2'))],
    [['HGETEX', 'g', 'PERSIST', 'FIELDS', '1', 'a'], arr(bulk('1'))],
    [['HTTL', 'g', 'FIELDS', '2', 'a', 'b'], ints(-1, 50)],
    [['HGETEX', 'g', 'EXAT', past, 'FIELDS', '2', 'c', 'c'], arr(bulk('3'), '$-1\r\n')],
    [['HEXISTS', 'g', 'c'], int(0)],
    [['HGETEX', 'g', 'EX', '10', 'PX', '10', 'FIELDS', '1', 'a'], SYNTAX],
    [['HGETEX', 'g', 'EX', '10', 'PERSIST', 'FIELDS', '1', 'a'], SYNTAX],
    [['HGETEX', 'g', 'KEEPTTL', 'FIELDS', '1', 'a'], SYNTAX],
    [['HGETEX', 'g', 'EX', '-1', 'FIELDS', '1', 'a'], "-ERR invalid expire time in 'hgetex' command\r\n"],
    [['HGETEX', 'g', 'EX', 'x', 'FIELDS', '1', 'a'], NOT_INT],
    [['HGETEX', 'g', 'FIELDS', '2', 'a'], NUMFIELDS],
    [['HGETEX', 'g', 'FIELDS', 'x', 'a'], NOT_INT],
    [['HGETEX', 'g', 'a', 'b', 'c'], NUMFIELDS],
    [['HGETEX', 's', 'FIELDS', '1', 'a'], WRONGTYPE],
    [['HGETEX', 'nokey', 'EX', '10', 'FIELDS', '1', 'a'], arr('$-1\r\n')],
    [['HGETEX', 'g', 'PXAT', '1', 'FIELDS', '2', 'a', 'b'], arr(bulk('1'), bulk('2'))],
    [['EXISTS', 'g'], int(0)],
  ]);
  await raw3.call('HSET', 'g3', 'a', '1');
  await expectRaw(raw3, [[['HGETEX', 'g3', 'FIELDS', '2', 'a', 'b'], arr(bulk('1'), '_\r\n')]]);
});

test('HSETEX: NX/XX/FNX/FXX, EX/PX/EXAT/PXAT/KEEPTTL, errors', async () => {
  await raw.call('DEL', 'se', 's');
  await raw.call('SET', 's', 'v');
  await expectRaw(raw, [
    [['HSETEX', 'se', 'XX', 'FIELDS', '1', 'a', '1'], int(0)],
    [['HSETEX', 'se', 'FXX', 'FIELDS', '1', 'a', '1'], int(0)],
    [['EXISTS', 'se'], int(0)],
    [['HSETEX', 'se', 'NX', 'EX', '100', 'FIELDS', '2', 'a', '1', 'b', '2'], int(1)],
    [['HSETEX', 'se', 'NX', 'FIELDS', '1', 'c', '3'], int(0)],
    [['HTTL', 'se', 'FIELDS', '2', 'a', 'b'], ints(100, 100)],
    [['HSETEX', 'se', 'FNX', 'FIELDS', '2', 'a', 'x', 'c', '3'], int(0)],
    [['HSETEX', 'se', 'FNX', 'PX', '300000', 'FIELDS', '1', 'c', '3'], int(1)],
    [['HSETEX', 'se', 'FXX', 'KEEPTTL', 'FIELDS', '1', 'a', 'new'], int(1)],
    [['HTTL', 'se', 'FIELDS', '1', 'a'], ints(100)],
    [['HSETEX', 'se', 'XX', 'FIELDS', '1', 'a', 'newer'], int(1)],
    [['HTTL', 'se', 'FIELDS', '3', 'a', 'c', 'zz'], ints(-1, 300, -2)],
    [['HGET', 'se', 'a'], bulk('newer')],
    [['HSETEX', 'se', 'PXAT', '1', 'FIELDS', '1', 'b', 'gone'], int(1)],
    [['HEXISTS', 'se', 'b'], int(0)],
    [['HSETEX', 'se', 'FIELDS', '1', 'a'], "-ERR wrong number of arguments for 'hsetex' command\r\n"],
    [['HSETEX', 'se', 'FIELDS', '2', 'a', '1', 'b'], NUMFIELDS],
    [['HSETEX', 'se', 'FIELDS', '0', 'a', '1'], NUMFIELDS],
    [['HSETEX', 'se', 'NX', 'XX', 'FIELDS', '1', 'a', '1'], SYNTAX],
    [['HSETEX', 'se', 'FNX', 'FXX', 'FIELDS', '1', 'a', '1'], SYNTAX],
    [['HSETEX', 'se', 'EX', '1', 'KEEPTTL', 'FIELDS', '1', 'a', '1'], SYNTAX],
    [['HSETEX', 'se', 'PERSIST', 'FIELDS', '1', 'a', '1'], SYNTAX],
    [['HSETEX', 'se', 'EX', '-5', 'FIELDS', '1', 'a', '1'], "-ERR invalid expire time in 'hsetex' command\r\n"],
    [['HSETEX', 's', 'FIELDS', '1', 'a', '1'], WRONGTYPE],
    [['HSETEX', 'se', 'EX', '0', 'FIELDS', '2', 'a', '1', 'c', '1'], int(1)],
    [['EXISTS', 'se'], int(0)],
    // A time already past deletes the named fields; the reply is 1 only when every one was deleted (Valkey 9).
    [['HSETEX', 'fresh', 'EX', '0', 'FIELDS', '1', 'a', '1'], int(0)],
    [['EXISTS', 'fresh'], int(0)],
  ]);
});

test('HGETDEL and the expire commands through ioredis and node-redis', async () => {
  await r.del('gd');
  await r.hset('gd', 'a', '1', 'b', '2', 'c', '3');
  await expectRaw(raw, [
    [['HGETDEL', 'gd', 'FIELDS', '2', 'a', 'zz'], arr(bulk('1'), '$-1\r\n')],
    [['HGETDEL', 'gd', 'FIELDS', '2', 'a'], NUMFIELDS],
    [['HGETDEL', 'gd', 'FIELDS', '2', 'b', 'c'], arr(bulk('2'), bulk('3'))],
    [['EXISTS', 'gd'], int(0)],
  ]);
  await r.hset('ex', 'a', '1', 'b', '2');
  assert.deepEqual(await r.call('HEXPIRE', 'ex', '100', 'FIELDS', '2', 'a', 'zz'), [1, -2]);
  assert.deepEqual(await nr2.hExpire('ex', ['b'], 200), [1]);
  assert.deepEqual(await nr3.hTTL('ex', ['a', 'b']), [100, 200]);
  assert.deepEqual(await nr3.hPersist('ex', ['a']), [1]);
  assert.deepEqual(await nr2.hpTTL('ex', ['a']), [-1]);
  const t = await nr3.hExpireTime('ex', ['b']);
  assert.ok(Math.abs(t[0] - (Date.now() / 1000 + 200)) < 3);
  assert.deepEqual(await r.call('HGETEX', 'ex', 'PERSIST', 'FIELDS', '1', 'b'), ['2']);
  assert.equal(await r.call('HSETEX', 'ex', 'EX', '50', 'FIELDS', '1', 'c', '3'), 1);
  assert.deepEqual(await nr3.sendCommand(['HTTL', 'ex', 'FIELDS', '1', 'c']), [50]);
  assert.deepEqual(await nr3.sendCommand(['HGETDEL', 'ex', 'FIELDS', '1', 'c']), ['3']);
});

test('COMMAND INFO knows the Valkey 9 hash commands', async () => {
  const info = await r.call('COMMAND', 'INFO', 'hexpire', 'httl', 'hsetex', 'hgetex', 'hgetdel', 'hpersist');
  assert.deepEqual(
    info.map((x) => [x[0], x[1]]),
    [['hexpire', -6], ['httl', -5], ['hsetex', -6], ['hgetex', -5], ['hgetdel', -5], ['hpersist', -5]],
  );
  assert.deepEqual(info[1][2], ['readonly', 'fast']);
  assert.deepEqual(info[2][2], ['write', 'denyoom', 'fast']);
});

test('HSCAN on a big hash returns every field present throughout exactly once while it changes', async () => {
  await r.del('hsc:big');
  const want = new Map();
  for (let i = 0; i < 3000; i++) want.set(`f${i}`, String(i));
  await r.hset('hsc:big', Object.fromEntries(want));
  const seen = new Map();
  const removed = new Set();
  let cursor = '0';
  let step = 0;
  do {
    const [next, items] = await r.hscan('hsc:big', cursor, 'COUNT', 60);
    for (let i = 0; i < items.length; i += 2) {
      seen.set(items[i], (seen.get(items[i]) ?? 0) + 1);
      assert.equal(items[i + 1], want.get(items[i]) ?? 'new');
    }
    // Delete fields on both sides of the walk and add new ones meanwhile.
    const victims = [`f${(step * 37) % 3000}`, `f${2999 - ((step * 53) % 3000)}`];
    await r.hdel('hsc:big', ...victims);
    for (const v of victims) removed.add(v);
    await r.hset('hsc:big', `n${step}`, 'new');
    cursor = next;
    step++;
  } while (cursor !== '0');
  for (const [f, n] of seen) assert.equal(n, 1, `${f} returned ${n} times`);
  for (const f of want.keys()) if (!removed.has(f)) assert.ok(seen.has(f), `missed ${f}`);
  await r.del('hsc:big');
});
