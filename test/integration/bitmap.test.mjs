// Bitmap commands against a real vireo-server: SETBIT, GETBIT, BITCOUNT,
// BITPOS, BITOP, BITFIELD, BITFIELD_RO. Exact replies on raw sockets (RESP2 and
// RESP3); ioredis and node-redis (RESP2 and RESP3) check what clients see.
// Expected values were checked against redis-server 7.0.15, except where
// Valkey 8 differs (BITCOUNT key start; argument checks before the key lookup).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const NOT_INT = '-ERR value is not an integer or out of range\r\n';
const SYNTAX = '-ERR syntax error\r\n';
const BAD_OFFSET = '-ERR bit offset is not an integer or out of range\r\n';
const BAD_BIT = '-ERR bit is not an integer or out of range\r\n';
const BAD_TYPE = '-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n';
const int = (n) => `:${n}\r\n`;
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;

let srv;
let small; // proto-max-bulk-len 1mb
let raw;
let raw3;
let r;
let nr2;
let nr3;

before(async () => {
  [srv, small] = await Promise.all([startVireo(), startVireo(['--proto-max-bulk-len', '1mb'])]);
  raw = await RawConn.connect(srv.port);
  raw3 = await RawConn.connect(srv.port);
  await raw3.call('HELLO', '3');
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
  await Promise.allSettled([srv?.stop(), small?.stop()]);
});

async function expectRaw(conn, pairs) {
  for (const [cmd, want] of pairs) assert.equal(await conn.call(...cmd), want, JSON.stringify(cmd));
}

test('SETBIT / GETBIT: values, growth, errors', async () => {
  await expectRaw(raw, [
    [['SETBIT', 'sb', '7', '1'], int(0)],
    [['SETBIT', 'sb', '7', '1'], int(1)],
    [['SETBIT', 'sb', '7', '0'], int(1)],
    [['SETBIT', 'sb', '100', '1'], int(0)],
    [['STRLEN', 'sb'], int(13)],
    [['GETBIT', 'sb', '100'], int(1)],
    [['GETBIT', 'sb', '99'], int(0)],
    [['GETBIT', 'sb', '999999'], int(0)],
    [['GETBIT', 'sb:none', '3'], int(0)],
    [['OBJECT', 'ENCODING', 'sb'], bulk('raw')],
    [['SETBIT', 'sb', '-1', '1'], BAD_OFFSET],
    [['SETBIT', 'sb', '4294967296', '1'], BAD_OFFSET],
    [['SETBIT', 'sb', 'x', '1'], BAD_OFFSET],
    [['SETBIT', 'sb', '0', '2'], BAD_BIT],
    [['SETBIT', 'sb', '0', 'x'], BAD_BIT],
    [['GETBIT', 'sb', '#1'], BAD_OFFSET],
    [['SET', 'sb:num', '12345'], '+OK\r\n'],
    [['GETBIT', 'sb:num', '2'], int(1)],
    [['SETBIT', 'sb:num', '0', '1'], int(0)],
    [['GET', 'sb:num'], bulk('\xb12345')],
    [['LPUSH', 'sb:list', 'a'], int(1)],
    [['SETBIT', 'sb:list', '0', '1'], WRONGTYPE],
    [['GETBIT', 'sb:list', '0'], WRONGTYPE],
  ]);
  // A SETBIT keeps the TTL.
  await r.set('sb:ttl', 'foobar', 'EX', 1000);
  assert.equal(await r.setbit('sb:ttl', 0, 1), 0);
  assert.ok((await r.ttl('sb:ttl')) > 990);
  assert.deepEqual(await r.getBuffer('sb:ttl'), Buffer.from('\xe6oobar', 'latin1'));
  // The offset limit follows proto-max-bulk-len.
  const s = await RawConn.connect(small.port);
  await expectRaw(s, [
    [['SETBIT', 'k', String(1024 * 1024 * 8), '1'], BAD_OFFSET],
    [['SETBIT', 'k', String(1024 * 1024 * 8 - 1), '1'], int(0)],
    [['STRLEN', 'k'], int(1024 * 1024)],
  ]);
  s.close();
});

test('SETBIT grows a bitmap bit by bit', async () => {
  // Many SETBITs past the end: each grows the value by a byte.
  const pipe = r.pipeline();
  for (let i = 0; i < 40000; i += 3) pipe.setbit('sb:grow', i, 1);
  await pipe.exec();
  assert.equal(await r.strlen('sb:grow'), Math.floor(39999 / 8) + 1);
  assert.equal(await r.bitcount('sb:grow'), Math.ceil(40000 / 3));
  const buf = await r.getBuffer('sb:grow');
  for (let i = 0; i < 40000; i++) assert.equal((buf[i >> 3] >> (7 - (i & 7))) & 1, i % 3 === 0 ? 1 : 0);
});

test('BITCOUNT: ranges, BYTE/BIT, negative indexes, errors', async () => {
  await r.set('bc', 'foobar');
  await expectRaw(raw, [
    [['BITCOUNT', 'bc'], int(26)],
    [['BITCOUNT', 'bc', '0', '0'], int(4)],
    [['BITCOUNT', 'bc', '1', '1'], int(6)],
    [['BITCOUNT', 'bc', '1', '-2'], int(18)],
    [['BITCOUNT', 'bc', '-1', '-2'], int(0)],
    [['BITCOUNT', 'bc', '-100', '-1'], int(26)],
    [['BITCOUNT', 'bc', '5', '30', 'BIT'], int(17)],
    [['BITCOUNT', 'bc', '0', '-1', 'bit'], int(26)],
    [['BITCOUNT', 'bc', '9', '3', 'BIT'], int(0)],
    [['BITCOUNT', 'bc', '0', '-1', 'WORD'], SYNTAX],
    [['BITCOUNT', 'bc', '0', '-1', 'BIT', 'x'], SYNTAX],
    [['BITCOUNT', 'bc', 'a', '1'], NOT_INT],
    [['BITCOUNT', 'bc:none'], int(0)],
    [['BITCOUNT', 'bc:none', '0', '-1', 'x'], SYNTAX],
    // Valkey 8: the end is optional.
    [['BITCOUNT', 'bc', '0'], int(26)],
    [['BITCOUNT', 'bc', '-1'], int(4)],
  ]);
  await r.lpush('bc:list', 'a');
  assert.equal(await raw.call('BITCOUNT', 'bc:list'), WRONGTYPE);
  assert.equal(await r.bitcount('bc', 1, 1), 6);
  assert.equal(await nr2.bitCount('bc', { start: 5, end: 30, mode: 'BIT' }), 17);
  assert.equal(await nr3.bitCount('bc'), 26);
  // Large values: word-at-a-time counting agrees with a byte count.
  const big = Buffer.alloc(100003);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  await r.set('bc:big', big);
  let want = 0;
  for (const b of big) for (let k = 0; k < 8; k++) want += (b >> k) & 1;
  assert.equal(await r.bitcount('bc:big'), want);
  let want2 = 0;
  for (let i = 3; i <= 100000; i++) for (let k = 0; k < 8; k++) want2 += (big[i] >> k) & 1;
  assert.equal(await r.bitcount('bc:big', 3, 100000), want2);
});

test('BITPOS: bits, ranges, all-ones and all-zeros rules', async () => {
  await r.set('bp', Buffer.from([0xff, 0xf0, 0x00]));
  await r.set('bp:ones', Buffer.from([0xff, 0xff, 0xff]));
  await r.set('bp:zeros', Buffer.from([0, 0, 0]));
  await expectRaw(raw, [
    [['BITPOS', 'bp', '0'], int(12)],
    [['BITPOS', 'bp', '1'], int(0)],
    [['BITPOS', 'bp', '1', '2'], int(-1)],
    [['BITPOS', 'bp', '0', '0', '11', 'BIT'], int(-1)],
    [['BITPOS', 'bp', '0', '7', '15', 'BIT'], int(12)],
    [['BITPOS', 'bp', '1', '-5', '-1', 'BIT'], int(-1)],
    [['BITPOS', 'bp:ones', '0'], int(24)],
    [['BITPOS', 'bp:ones', '0', '1'], int(24)],
    [['BITPOS', 'bp:ones', '0', '0', '-1'], int(-1)],
    [['BITPOS', 'bp:zeros', '1'], int(-1)],
    [['BITPOS', 'bp:zeros', '0'], int(0)],
    [['BITPOS', 'bp:none', '0'], int(0)],
    [['BITPOS', 'bp:none', '1'], int(-1)],
    [['BITPOS', 'bp', '2'], '-ERR The bit argument must be 1 or 0.\r\n'],
    [['BITPOS', 'bp', 'x'], NOT_INT],
    [['BITPOS', 'bp', '1', '0', '1', 'WORD'], SYNTAX],
    [['BITPOS', 'bp', '1', '0', '1', 'BIT', 'x'], SYNTAX],
    [['BITPOS', 'bp:none', '0', 'x'], NOT_INT],
  ]);
  assert.equal(await r.bitpos('bp', 0), 12);
  assert.equal(await nr2.bitPos('bp', 1, 1), 8);
  assert.equal(await nr3.bitPos('bp', 0, 7, 15, 'BIT'), 12);
});

test('BITOP: AND, OR, XOR, NOT, missing keys, errors', async () => {
  await r.set('bo1', 'foobar');
  await r.set('bo2', 'abcdef');
  await r.set('bo3', Buffer.from([0xff]));
  assert.equal(await r.bitop('AND', 'bo:d', 'bo1', 'bo2'), 6);
  assert.equal(await r.get('bo:d'), '`bc`ab');
  assert.equal(await r.bitop('OR', 'bo:d', 'bo1', 'bo2'), 6);
  assert.equal(await r.get('bo:d'), 'goofev');
  assert.equal(await nr2.bitOp('XOR', 'bo:d', ['bo1', 'bo2']), 6);
  assert.equal(await r.get('bo:d'), '\x07\r\x0c\x06\x04\x14');
  assert.equal(await nr3.bitOp('NOT', 'bo:d', 'bo1'), 6);
  assert.deepEqual(await r.getBuffer('bo:d'), Buffer.from(Buffer.from('foobar').map((b) => ~b & 0xff)));
  assert.equal(await r.bitop('AND', 'bo:d', 'bo1', 'bo:none'), 6);
  assert.deepEqual(await r.getBuffer('bo:d'), Buffer.alloc(6));
  assert.equal(await r.bitop('OR', 'bo:d', 'bo:none', 'bo:none2'), 0);
  assert.equal(await r.exists('bo:d'), 0);
  await r.set('bo:t', 'v', 'EX', 100);
  assert.equal(await r.bitop('OR', 'bo:t', 'bo1'), 6);
  assert.equal(await r.ttl('bo:t'), -1);
  await r.lpush('bo:list', 'a');
  await expectRaw(raw, [
    [['BITOP', 'NOT', 'bo:d', 'bo1', 'bo2'], '-ERR BITOP NOT must be called with a single source key.\r\n'],
    [['BITOP', 'FOO', 'bo:d', 'bo1'], SYNTAX],
    [['BITOP', 'DIFF', 'bo:d', 'bo1', 'bo2'], SYNTAX],
    [['BITOP', 'AND', 'bo:d', 'bo1', 'bo:list'], WRONGTYPE],
    [['BITOP', 'and', 'bo:d', 'bo3'], int(1)],
    [['OBJECT', 'ENCODING', 'bo:d'], bulk('raw')],
  ]);
});

test('BITFIELD: GET/SET/INCRBY, overflow modes, 64-bit fields, # offsets', async () => {
  await expectRaw(raw, [
    [['BITFIELD', 'bf', 'SET', 'i8', '0', '100', 'GET', 'i8', '0', 'INCRBY', 'i8', '0', '100', 'GET', 'u8', '0'], '*4\r\n:0\r\n:100\r\n:-56\r\n:200\r\n'],
    [['BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'INCRBY', 'i8', '0', '-300', 'OVERFLOW', 'FAIL', 'INCRBY', 'i8', '0', '-1', 'OVERFLOW', 'WRAP', 'INCRBY', 'i8', '0', '-1'], '*3\r\n:-128\r\n$-1\r\n:127\r\n'],
    [['BITFIELD', 'bf', 'SET', 'u8', '#1', '255', 'GET', 'u8', '8', 'INCRBY', 'u8', '#1', '1', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '#1', '-5'], '*4\r\n:0\r\n:255\r\n:0\r\n:0\r\n'],
    [['BITFIELD', 'bf', 'SET', 'i64', '0', '-9223372036854775808', 'GET', 'i64', '0', 'GET', 'u63', '0', 'INCRBY', 'i64', '0', '-1'], '*4\r\n:9151314442816847872\r\n:-9223372036854775808\r\n:4611686018427387904\r\n:9223372036854775807\r\n'],
    [['BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'INCRBY', 'i64', '0', '1', 'OVERFLOW', 'FAIL', 'INCRBY', 'i64', '0', '1'], '*2\r\n:9223372036854775807\r\n$-1\r\n'],
    [['BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'SET', 'u8', '0', '-1', 'GET', 'u8', '0', 'SET', 'i8', '0', '-9223372036854775808', 'GET', 'i8', '0'], '*4\r\n:127\r\n:255\r\n:-1\r\n:127\r\n'],
    [['BITFIELD', 'bf', 'OVERFLOW', 'WRAP', 'SET', 'u8', '0', '-1', 'SET', 'u8', '0', '257', 'GET', 'u8', '0'], '*3\r\n:127\r\n:255\r\n:1\r\n'],
    [['BITFIELD', 'bf'], '*0\r\n'],
    [['BITFIELD', 'bf:none', 'GET', 'u8', '0'], '*1\r\n:0\r\n'],
    [['EXISTS', 'bf:none'], int(0)],
    [['BITFIELD', 'bf:fail', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '100', '256'], '*1\r\n$-1\r\n'],
    [['STRLEN', 'bf:fail'], int(14)],
    [['BITFIELD', 'bf', 'GET', 'u64', '0'], BAD_TYPE],
    [['BITFIELD', 'bf', 'GET', 'i65', '0'], BAD_TYPE],
    [['BITFIELD', 'bf', 'GET', 'I8', '0'], BAD_TYPE],
    [['BITFIELD', 'bf', 'GET', 'i8', '-1'], BAD_OFFSET],
    [['BITFIELD', 'bf', 'GET', 'i8', '#x'], BAD_OFFSET],
    [['BITFIELD', 'bf', 'SET', 'i8', '0', 'x'], NOT_INT],
    [['BITFIELD', 'bf', 'SET', 'i8', '0'], SYNTAX],
    [['BITFIELD', 'bf', 'OVERFLOW', 'BAD', 'GET', 'i8', '0'], '-ERR Invalid OVERFLOW type specified\r\n'],
    [['BITFIELD_RO', 'bf', 'GET', 'i8', '0', 'GET', 'u4', '4'], '*2\r\n:1\r\n:1\r\n'],
    [['BITFIELD_RO', 'bf', 'SET', 'i8', '0', '1'], '-ERR BITFIELD_RO only supports the GET subcommand\r\n'],
  ]);
  // RESP3: null for FAIL is _.
  assert.equal(await raw3.call('BITFIELD', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '1000'), '*1\r\n_\r\n');
  await r.lpush('bf:list', 'a');
  assert.equal(await raw.call('BITFIELD', 'bf:list', 'GET', 'u8', '0'), WRONGTYPE);
  // Clients.
  await r.del('bfc');
  assert.deepEqual(await r.bitfield('bfc', 'SET', 'u8', 0, 200, 'INCRBY', 'u8', 0, 100, 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', 0, 1000), [0, 44, null]);
  assert.deepEqual(
    await nr2.bitField('bfc', [
      { operation: 'OVERFLOW', behavior: 'SAT' },
      { operation: 'INCRBY', encoding: 'u8', offset: 0, increment: 1000 },
      { operation: 'GET', encoding: 'i8', offset: 0 },
    ]),
    [255, -1],
  );
  assert.deepEqual(
    await nr3.bitField('bfc', [
      { operation: 'OVERFLOW', behavior: 'FAIL' },
      { operation: 'INCRBY', encoding: 'u8', offset: 0, increment: 1 },
      { operation: 'SET', encoding: 'i16', offset: '#1', value: -2 },
    ]),
    [null, 0],
  );
  assert.deepEqual(await nr3.bitFieldRo('bfc', [{ encoding: 'i16', offset: '#1' }, { encoding: 'u4', offset: 0 }]), [-2, 15]);
  assert.deepEqual(await nr2.bitFieldRo('bfc', [{ encoding: 'u8', offset: 0 }]), [255]);
});

test('bitmap commands through clients: ioredis, node-redis RESP2 and RESP3', async () => {
  for (const [name, c] of [['nr2', nr2], ['nr3', nr3]]) {
    const k = `cl:${name}`;
    assert.equal(await c.setBit(k, 3, 1), 0, name);
    assert.equal(await c.getBit(k, 3), 1, name);
    assert.equal(await c.bitCount(k), 1, name);
    assert.equal(await c.bitPos(k, 1), 3, name);
  }
  assert.equal(await r.setbit('cl:io', 10, 1), 0);
  assert.equal(await r.getbit('cl:io', 10), 1);
  assert.equal(await r.bitpos('cl:io', 1), 10);
});
