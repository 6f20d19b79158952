// Set commands against a real vireo-server: SADD, SREM, SISMEMBER, SMISMEMBER,
// SMEMBERS, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE,
// SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN, and the intset / listpack /
// hashtable encodings with their CONFIG SET thresholds. Exact bytes (errors,
// RESP2 and RESP3 types) are checked on raw sockets; ioredis and node-redis
// (RESP2 and RESP3) check what clients see. Expected replies follow Valkey 8.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const NOT_INT = '-ERR value is not an integer or out of range\r\n';
const SYNTAX = '-ERR syntax error\r\n';
const NOT_POSITIVE = '-ERR value is out of range, must be positive\r\n';
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n) => `:${n}\r\n`;
const arr = (...xs) => `*${xs.length}\r\n${xs.map(bulk).join('')}`;
const set3 = (...xs) => `~${xs.length}\r\n${xs.map(bulk).join('')}`;
const scanReply = (cursor, ...xs) => `*2\r\n${bulk(cursor)}${arr(...xs)}`;
const arity = (cmd) => `-ERR wrong number of arguments for '${cmd}' command\r\n`;

let srv;
let raw; // RESP2
let raw3; // RESP3
let r; // ioredis
let nr2; // node-redis RESP2
let nr3; // node-redis RESP3

before(async () => {
  srv = await startVireo();
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
    assert.equal(got, want, JSON.stringify(cmd));
  }
}

const sorted = (xs) => [...xs].sort();
/** node-redis RESP3 may hand a set reply over as a Set or an array. */
const members = (x) => sorted(Array.from(x));

/** Parses a flat RESP2/RESP3 aggregate of bulk strings into an array of strings (for random replies). */
function bulks(reply) {
  const lines = reply.split('\r\n');
  const out = [];
  for (let i = 1; i < lines.length; i++) if (lines[i].startsWith('$')) out.push(lines[++i]);
  return out;
}

// ------------------------------------------------------------------ SADD / SREM / SCARD / SISMEMBER / SMISMEMBER

test('SADD, SREM, SCARD, SISMEMBER, SMISMEMBER: replies and deletion of emptied sets', async () => {
  await r.del('s:a', 's:str');
  await r.set('s:str', 'x');
  await expectRaw(raw, [
    [['SADD', 's:a', '3', '1', '2', '1'], int(3)],
    [['SADD', 's:a', '2', '4'], int(1)],
    [['SCARD', 's:a'], int(4)],
    [['SCARD', 's:none'], int(0)],
    [['SMEMBERS', 's:a'], arr('1', '2', '3', '4')],
    [['SISMEMBER', 's:a', '2'], int(1)],
    [['SISMEMBER', 's:a', '02'], int(0)],
    [['SISMEMBER', 's:none', '2'], int(0)],
    [['SMISMEMBER', 's:a', '1', 'x', '4'], '*3\r\n:1\r\n:0\r\n:1\r\n'],
    [['SMISMEMBER', 's:none', 'a'], '*1\r\n:0\r\n'],
    [['SREM', 's:a', '1', '9'], int(1)],
    [['SREM', 's:none', '1'], int(0)],
    [['SREM', 's:a', '2', '3', '4', '5'], int(3)],
    [['EXISTS', 's:a'], int(0)],
    [['SADD', 's:str', 'a'], WRONGTYPE],
    [['SREM', 's:str', 'a'], WRONGTYPE],
    [['SCARD', 's:str'], WRONGTYPE],
    [['SISMEMBER', 's:str', 'a'], WRONGTYPE],
    [['SMISMEMBER', 's:str', 'a'], WRONGTYPE],
    [['SMEMBERS', 's:str'], WRONGTYPE],
    [['SADD', 's:a'], arity('sadd')],
    [['SMISMEMBER', 's:a'], arity('smismember')],
    [['SCARD'], arity('scard')],
  ]);
  await expectRaw(raw3, [
    [['SADD', 's:a', 'b', 'a'], int(2)],
    [['SMEMBERS', 's:a'], set3('b', 'a')],
    [['SMEMBERS', 's:none'], '~0\r\n'],
    [['SMISMEMBER', 's:a', 'a', 'z'], '*2\r\n:1\r\n:0\r\n'],
    [['SISMEMBER', 's:a', 'a'], int(1)],
  ]);
  // Binary-safe members.
  assert.equal(await r.sadd('s:bin', Buffer.from([0, 0xff, 13, 10]), Buffer.from('')), 2);
  assert.equal(await r.sismember('s:bin', Buffer.from([0, 0xff, 13, 10])), 1);
  assert.equal(await r.sismember('s:bin', ''), 1);
  const got = await r.smembersBuffer('s:bin');
  assert.deepEqual(got.map((b) => b.toString('hex')).sort(), ['', '00ff0d0a']);
  // Clients.
  assert.equal(await r.sadd('s:c', 'x', 'y'), 2);
  assert.deepEqual(sorted(await r.smembers('s:c')), ['x', 'y']);
  assert.equal(await nr2.sAdd('s:c', ['z']), 1);
  assert.deepEqual(members(await nr2.sMembers('s:c')), ['x', 'y', 'z']);
  assert.deepEqual(members(await nr3.sMembers('s:c')), ['x', 'y', 'z']);
  assert.equal(await nr3.sCard('s:c'), 3);
  assert.equal(await nr2.sIsMember('s:c', 'x'), 1);
  assert.deepEqual(await nr3.smIsMember('s:c', ['x', 'q']), [1, 0]);
  assert.deepEqual(await r.smismember('s:c', 'x', 'q'), [1, 0]);
  assert.equal(await nr3.sRem('s:c', ['x', 'q']), 1);
  assert.equal(await r.scard('s:c'), 2);
  await assert.rejects(nr3.sAdd('s:str', 'a'), /WRONGTYPE/);
  await assert.rejects(r.sadd('s:str', 'a'), /WRONGTYPE/);
});

// ------------------------------------------------------------------ encodings

test('encodings: intset, listpack, hashtable and their thresholds', async () => {
  const enc = (k) => raw.call('OBJECT', 'ENCODING', k);
  await r.del('e:i', 'e:l', 'e:h', 'e:x');
  await r.sadd('e:i', '1', '-9223372036854775808', '9223372036854775807');
  assert.equal(await enc('e:i'), bulk('intset'));
  assert.deepEqual(await r.smembers('e:i'), ['-9223372036854775808', '1', '9223372036854775807']);
  await r.sadd('e:i', '9223372036854775808');
  assert.equal(await enc('e:i'), bulk('listpack'));
  await r.sadd('e:l', 'a', '1');
  assert.equal(await enc('e:l'), bulk('listpack'));
  assert.deepEqual(await r.smembers('e:l'), ['a', '1']); // insertion order
  await r.sadd('e:l', 'x'.repeat(65));
  assert.equal(await enc('e:l'), bulk('hashtable'));
  // 512 integers stay an intset; the 513th makes a hashtable.
  const ints = Array.from({ length: 512 }, (_, i) => String(i * 3));
  await r.sadd('e:h', ...ints);
  assert.equal(await enc('e:h'), bulk('intset'));
  await r.sadd('e:h', '-1');
  assert.equal(await enc('e:h'), bulk('hashtable'));
  // 128 strings stay a listpack; the 129th makes a hashtable.
  const strs = Array.from({ length: 128 }, (_, i) => `m${i}`);
  await r.sadd('e:x', ...strs);
  assert.equal(await enc('e:x'), bulk('listpack'));
  await r.sadd('e:x', 'm128');
  assert.equal(await enc('e:x'), bulk('hashtable'));
  await r.srem('e:x', ...strs);
  assert.equal(await enc('e:x'), bulk('hashtable'), 'never converts back');
  // CONFIG SET thresholds.
  await expectRaw(raw, [
    [['CONFIG', 'SET', 'set-max-intset-entries', '2'], '+OK\r\n'],
    [['CONFIG', 'SET', 'set-max-listpack-entries', '3'], '+OK\r\n'],
    [['CONFIG', 'SET', 'set-max-listpack-value', '4'], '+OK\r\n'],
    [['DEL', 'e:c'], int(0)],
    [['SADD', 'e:c', '1', '2'], int(2)],
    [['OBJECT', 'ENCODING', 'e:c'], bulk('intset')],
    [['SADD', 'e:c', '3'], int(1)],
    [['OBJECT', 'ENCODING', 'e:c'], bulk('hashtable')],
    [['DEL', 'e:c'], int(1)],
    [['SADD', 'e:c', 'abcd', 'b', 'c'], int(3)],
    [['OBJECT', 'ENCODING', 'e:c'], bulk('listpack')],
    [['SADD', 'e:c', 'd'], int(1)],
    [['OBJECT', 'ENCODING', 'e:c'], bulk('hashtable')],
    [['DEL', 'e:c'], int(1)],
    [['SADD', 'e:c', 'abcde'], int(1)],
    [['OBJECT', 'ENCODING', 'e:c'], bulk('hashtable')],
    [['CONFIG', 'SET', 'set-max-intset-entries', '-1'], "-ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - argument must be between 0 and 9223372036854775807 inclusive\r\n"],
    [['CONFIG', 'SET', 'set-max-intset-entries', '512'], '+OK\r\n'],
    [['CONFIG', 'SET', 'set-max-listpack-entries', '128'], '+OK\r\n'],
    [['CONFIG', 'SET', 'set-max-listpack-value', '64'], '+OK\r\n'],
  ]);
  const cfg = await r.config('GET', 'set-max-*');
  const obj = {};
  for (let i = 0; i < cfg.length; i += 2) obj[cfg[i]] = cfg[i + 1];
  assert.deepEqual(obj, { 'set-max-intset-entries': '512', 'set-max-listpack-entries': '128', 'set-max-listpack-value': '64' });
  // *STORE results take the compact encoding they fit.
  await r.del('e:h2');
  await r.sadd('e:h2', ...ints, 'x');
  assert.equal(await enc('e:h2'), bulk('hashtable'));
  await r.sinterstore('e:d', 'e:h2', 'e:h2');
  assert.equal(await enc('e:d'), bulk('hashtable'));
  await r.srem('e:h2', 'x');
  await r.sinterstore('e:d', 'e:h2', 'e:h2');
  assert.equal(await enc('e:d'), bulk('intset'));
  await r.sunionstore('e:d', 'e:l', 'e:i');
  assert.equal(await enc('e:d'), bulk('hashtable'));
  await r.sunionstore('e:d', 'e:i');
  assert.equal(await enc('e:d'), bulk('listpack'));
  await r.sdiffstore('e:d', 'e:h', 'e:h2');
  assert.equal(await enc('e:d'), bulk('intset'));
  assert.deepEqual(await r.smembers('e:d'), ['-1']);
});

// ------------------------------------------------------------------ SPOP / SRANDMEMBER

test('SPOP: single, with count, errors, RESP3 set replies', async () => {
  await r.del('p:a', 'p:str');
  await r.set('p:str', 'v');
  await expectRaw(raw, [
    [['SPOP', 'p:none'], '$-1\r\n'],
    [['SPOP', 'p:none', '2'], '*0\r\n'],
    [['SPOP', 'p:none', '-2'], NOT_POSITIVE],
    [['SPOP', 'p:none', 'x'], NOT_POSITIVE],
    [['SPOP', 'p:str'], WRONGTYPE],
    [['SPOP', 'p:str', '1'], WRONGTYPE],
    [['SPOP', 'p:str', '-1'], NOT_POSITIVE],
    [['SPOP', 'p:a', '1', '2'], SYNTAX],
    [['SADD', 'p:a', '5'], int(1)],
    [['SPOP', 'p:a', '0'], '*0\r\n'],
    [['SPOP', 'p:a'], bulk('5')],
    [['EXISTS', 'p:a'], int(0)],
    [['SADD', 'p:a', '3', '1', '2'], int(3)],
    [['SPOP', 'p:a', '3'], arr('1', '2', '3')],
    [['EXISTS', 'p:a'], int(0)],
  ]);
  await expectRaw(raw3, [
    [['SPOP', 'p:none'], '_\r\n'],
    [['SPOP', 'p:none', '2'], '~0\r\n'],
    [['SADD', 'p:a', '3', '1', '2'], int(3)],
    [['SPOP', 'p:a', '9'], set3('1', '2', '3')],
  ]);
  // Every strategy: a few out of many, almost all, in every encoding.
  for (const [name, mk] of [
    ['intset', (i) => String(i)],
    ['listpack', (i) => `m${i}`],
  ]) {
    for (const [size, count] of [
      [20, 1],
      [20, 3],
      [20, 19],
      [100, 90],
    ]) {
      const all = Array.from({ length: size }, (_, i) => mk(i));
      await r.del('p:b');
      await r.sadd('p:b', ...all);
      const reply = await raw.call('SPOP', 'p:b', String(count));
      assert.ok(reply.startsWith(`*${count}\r\n`), `${name} ${size} ${count}`);
      const popped = bulks(reply);
      assert.equal(new Set(popped).size, count);
      const rest = await r.smembers('p:b');
      assert.equal(rest.length, size - count);
      assert.deepEqual(sorted([...popped, ...rest]), sorted(all));
    }
  }
  const big = Array.from({ length: 1000 }, (_, i) => `b${i}`);
  await r.del('p:h');
  await r.sadd('p:h', ...big);
  const popped = await r.spop('p:h', 990);
  assert.equal(new Set(popped).size, 990);
  assert.equal(await r.scard('p:h'), 10);
  assert.equal(await raw.call('OBJECT', 'ENCODING', 'p:h'), bulk('listpack'));
  const one = await nr2.sPop('p:h');
  assert.ok(big.includes(one));
  const few = await nr3.sPopCount('p:h', 3);
  assert.equal(Array.from(few).length, 3);
  assert.equal(await r.scard('p:h'), 6);
});

test('SRANDMEMBER: without count, positive and negative counts, errors', async () => {
  await r.del('r:a', 'r:str');
  await r.set('r:str', 'v');
  await expectRaw(raw, [
    [['SRANDMEMBER', 'r:none'], '$-1\r\n'],
    [['SRANDMEMBER', 'r:none', '3'], '*0\r\n'],
    [['SRANDMEMBER', 'r:none', '-3'], '*0\r\n'],
    [['SRANDMEMBER', 'r:none', 'x'], NOT_INT],
    [['SRANDMEMBER', 'r:str'], WRONGTYPE],
    [['SRANDMEMBER', 'r:str', '2'], WRONGTYPE],
    [['SRANDMEMBER', 'r:a', '1', '2'], SYNTAX],
    [['SRANDMEMBER', 'r:a', '-9223372036854775808'], '-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n'],
    [['SADD', 'r:a', '2', '1'], int(2)],
    [['SRANDMEMBER', 'r:a', '0'], '*0\r\n'],
    [['SRANDMEMBER', 'r:a', '2'], arr('1', '2')],
    [['SRANDMEMBER', 'r:a', '9223372036854775807'], arr('1', '2')],
  ]);
  await expectRaw(raw3, [
    [['SRANDMEMBER', 'r:none'], '_\r\n'],
    [['SRANDMEMBER', 'r:none', '3'], '*0\r\n'],
    [['SRANDMEMBER', 'r:a', '5'], arr('1', '2')],
  ]);
  for (const [name, mk] of [
    ['intset', (i) => String(i)],
    ['listpack', (i) => `m${i}`],
    ['hashtable', (i) => `h${i}`],
  ]) {
    const n = name === 'hashtable' ? 300 : 50;
    const all = Array.from({ length: n }, (_, i) => mk(i));
    await r.del('r:b');
    await r.sadd('r:b', ...all);
    assert.equal(await raw.call('OBJECT', 'ENCODING', 'r:b'), bulk(name));
    for (const count of [1, 5, n - 1, n, n + 5]) {
      const got = await r.srandmember('r:b', count);
      assert.equal(got.length, Math.min(count, n));
      assert.equal(new Set(got).size, got.length, 'distinct');
      for (const m of got) assert.ok(all.includes(m));
    }
    const rep = await r.srandmember('r:b', -(n * 3));
    assert.equal(rep.length, n * 3);
    for (const m of rep) assert.ok(all.includes(m));
    const single = await raw3.call('SRANDMEMBER', 'r:b');
    assert.ok(all.includes(bulks(`*1\r\n${single}`)[0]));
    assert.equal(await r.scard('r:b'), n, 'SRANDMEMBER does not remove');
  }
  assert.equal((await nr2.sRandMemberCount('r:b', 4)).length, 4);
  assert.equal((await nr3.sRandMemberCount('r:b', -4)).length, 4);
  assert.ok(typeof (await nr3.sRandMember('r:b')) === 'string');
});

// ------------------------------------------------------------------ SMOVE

test('SMOVE', async () => {
  await r.del('m:a', 'm:b', 'm:str');
  await r.set('m:str', 'v');
  await expectRaw(raw, [
    [['SADD', 'm:a', '1', 'x'], int(2)],
    [['SMOVE', 'm:a', 'm:b', '1'], int(1)],
    [['OBJECT', 'ENCODING', 'm:b'], bulk('intset')],
    [['SMOVE', 'm:a', 'm:b', '1'], int(0)],
    [['SMOVE', 'm:none', 'm:str', '1'], int(0)],
    [['SMOVE', 'm:a', 'm:str', 'x'], WRONGTYPE],
    [['SMOVE', 'm:str', 'm:a', 'x'], WRONGTYPE],
    [['SMOVE', 'm:a', 'm:a', 'x'], int(1)],
    [['SMOVE', 'm:a', 'm:a', 'nope'], int(0)],
    [['SMOVE', 'm:a', 'm:b', 'x'], int(1)],
    [['EXISTS', 'm:a'], int(0)],
    [['OBJECT', 'ENCODING', 'm:b'], bulk('listpack')],
    [['SMEMBERS', 'm:b'], arr('1', 'x')],
    [['SMOVE', 'm:a'], arity('smove')],
  ]);
  await r.sadd('m:c', '1');
  assert.equal(await r.smove('m:b', 'm:c', '1'), 1);
  assert.deepEqual(await r.smembers('m:c'), ['1']);
  assert.equal(await nr2.sMove('m:b', 'm:c', 'x'), 1);
  assert.equal(await nr3.sMove('m:b', 'm:c', 'x'), 0);
  assert.equal(await r.exists('m:b'), 0);
});

// ------------------------------------------------------------------ SINTER / SINTERCARD / SINTERSTORE

test('SINTER, SINTERCARD, SINTERSTORE', async () => {
  await r.del('i:a', 'i:b', 'i:c', 'i:d', 'i:str');
  await r.set('i:str', 'v');
  await r.sadd('i:a', '1', '2', '3', '4');
  await r.sadd('i:b', '2', '3', '4', '5');
  await r.sadd('i:c', 'x', '3', '4');
  await expectRaw(raw, [
    [['SINTER', 'i:a', 'i:b'], arr('2', '3', '4')],
    [['SINTER', 'i:a', 'i:b', 'i:c'], arr('3', '4')],
    [['SINTER', 'i:a', 'i:none'], '*0\r\n'],
    [['SINTER', 'i:none', 'i:str'], WRONGTYPE],
    [['SINTER', 'i:a', 'i:a'], arr('1', '2', '3', '4')],
    [['SINTERSTORE', 'i:d', 'i:a', 'i:b'], int(3)],
    [['SMEMBERS', 'i:d'], arr('2', '3', '4')],
    [['OBJECT', 'ENCODING', 'i:d'], bulk('intset')],
    [['SINTERSTORE', 'i:d', 'i:a', 'i:none'], int(0)],
    [['EXISTS', 'i:d'], int(0)],
    [['SET', 'i:d', 'v', 'EX', '100'], '+OK\r\n'],
    [['SINTERSTORE', 'i:d', 'i:c', 'i:c'], int(3)],
    [['TTL', 'i:d'], int(-1)],
    [['OBJECT', 'ENCODING', 'i:d'], bulk('listpack')],
    [['SINTERSTORE', 'i:d', 'i:str'], WRONGTYPE],
    [['SINTERCARD', '2', 'i:a', 'i:b'], int(3)],
    [['SINTERCARD', '2', 'i:a', 'i:b', 'LIMIT', '2'], int(2)],
    [['SINTERCARD', '2', 'i:a', 'i:b', 'limit', '0'], int(3)],
    [['SINTERCARD', '2', 'i:a', 'i:none'], int(0)],
    [['SINTERCARD', '0', 'i:a'], '-ERR numkeys should be greater than 0\r\n'],
    [['SINTERCARD', 'x', 'i:a'], '-ERR numkeys should be greater than 0\r\n'],
    [['SINTERCARD', '3', 'i:a', 'i:b'], "-ERR Number of keys can't be greater than number of args\r\n"],
    [['SINTERCARD', '2', 'i:a', 'i:b', 'LIMIT', '-1'], "-ERR LIMIT can't be negative\r\n"],
    [['SINTERCARD', '2', 'i:a', 'i:b', 'LIMIT', 'x'], "-ERR LIMIT can't be negative\r\n"],
    [['SINTERCARD', '2', 'i:a', 'i:b', 'LIMIT'], SYNTAX],
    [['SINTERCARD', '2', 'i:a', 'i:b', 'FOO', '1'], SYNTAX],
    [['SINTERCARD', '1', 'i:str'], WRONGTYPE],
  ]);
  await expectRaw(raw3, [
    [['SINTER', 'i:a', 'i:b'], set3('2', '3', '4')],
    [['SINTER', 'i:a', 'i:none'], '~0\r\n'],
    [['SINTERCARD', '1', 'i:a'], int(4)],
  ]);
  assert.deepEqual(sorted(await r.sinter('i:a', 'i:b')), ['2', '3', '4']);
  assert.deepEqual(members(await nr2.sInter(['i:a', 'i:c'])), ['3', '4']);
  assert.deepEqual(members(await nr3.sInter(['i:a', 'i:c'])), ['3', '4']);
  assert.equal(await r.sintercard(2, 'i:a', 'i:b'), 3);
  assert.equal(await nr3.sInterCard(['i:a', 'i:b'], { LIMIT: 1 }), 1);
  assert.equal(await nr2.sInterStore('i:e', ['i:a', 'i:b']), 3);
  assert.equal(await r.sinterstore('i:e', 'i:a', 'i:b'), 3);
});

// ------------------------------------------------------------------ SUNION / SDIFF and STORE forms

test('SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE', async () => {
  await r.del('u:a', 'u:b', 'u:c', 'u:d', 'u:str');
  await r.set('u:str', 'v');
  await r.sadd('u:a', '3', '1');
  await r.sadd('u:b', '2', '1');
  await r.sadd('u:c', 'z', '1');
  await expectRaw(raw, [
    [['SUNION', 'u:a', 'u:b'], arr('1', '2', '3')],
    [['SUNION', 'u:a', 'u:none'], arr('1', '3')],
    [['SUNION', 'u:none'], '*0\r\n'],
    [['SUNION', 'u:a', 'u:str'], WRONGTYPE],
    [['SUNION', 'u:c', 'u:a'], arr('z', '1', '3')],
    [['SUNIONSTORE', 'u:d', 'u:a', 'u:b'], int(3)],
    [['SMEMBERS', 'u:d'], arr('1', '2', '3')],
    [['SUNIONSTORE', 'u:d', 'u:none'], int(0)],
    [['EXISTS', 'u:d'], int(0)],
    [['SUNIONSTORE', 'u:d', 'u:str'], WRONGTYPE],
    [['SDIFF', 'u:a', 'u:b'], arr('3')],
    [['SDIFF', 'u:a', 'u:a'], '*0\r\n'],
    [['SDIFF', 'u:none', 'u:a'], '*0\r\n'],
    [['SDIFF', 'u:c', 'u:none', 'u:a'], arr('z')],
    [['SDIFF', 'u:str', 'u:a'], WRONGTYPE],
    [['SDIFFSTORE', 'u:d', 'u:a', 'u:b'], int(1)],
    [['SMEMBERS', 'u:d'], arr('3')],
    [['SDIFFSTORE', 'u:d', 'u:a', 'u:a'], int(0)],
    [['EXISTS', 'u:d'], int(0)],
    [['SUNIONSTORE', 'u:a', 'u:a', 'u:b'], int(3)],
    [['SMEMBERS', 'u:a'], arr('1', '2', '3')],
  ]);
  await expectRaw(raw3, [
    [['SUNION', 'u:a', 'u:b'], set3('1', '2', '3')],
    [['SDIFF', 'u:a', 'u:b'], set3('3')],
    [['SUNION', 'u:none'], '~0\r\n'],
  ]);
  // Algorithm 2 of SDIFF (many small sets subtracted from one big set) gives the same answer.
  const big = Array.from({ length: 300 }, (_, i) => `e${i}`);
  await r.sadd('u:big', ...big);
  await r.sadd('u:s1', 'e1');
  await r.sadd('u:s2', 'e2');
  await r.sadd('u:s3', 'e3', 'nope');
  const d = await r.sdiff('u:big', 'u:s1', 'u:s2', 'u:s3');
  assert.deepEqual(sorted(d), sorted(big.filter((m) => !['e1', 'e2', 'e3'].includes(m))));
  assert.deepEqual(sorted(await r.sunion('u:a', 'u:c')), ['1', '2', '3', 'z']);
  assert.deepEqual(members(await nr2.sUnion(['u:a', 'u:c'])), ['1', '2', '3', 'z']);
  assert.deepEqual(members(await nr3.sUnion(['u:a', 'u:c'])), ['1', '2', '3', 'z']);
  assert.deepEqual(members(await nr3.sDiff(['u:a', 'u:b'])), ['3']);
  assert.deepEqual(members(await nr2.sDiff(['u:c', 'u:a'])), ['z']);
  assert.equal(await nr3.sUnionStore('u:e', ['u:a', 'u:c']), 4);
  assert.equal(await nr2.sDiffStore('u:e', ['u:c', 'u:a']), 1);
  assert.equal(await r.sunionstore('u:e', 'u:a', 'u:c'), 4);
  assert.equal(await r.sdiffstore('u:e', 'u:a', 'u:c'), 2);
});

// ------------------------------------------------------------------ SSCAN

test('SSCAN: compact sets in one call, hashtables by cursor, options and errors', async () => {
  await r.del('c:i', 'c:h', 'c:str');
  await r.set('c:str', 'v');
  await r.sadd('c:i', '1', '2', '10');
  await expectRaw(raw, [
    [['SSCAN', 'c:i', '0'], scanReply('0', '1', '2', '10')],
    [['SSCAN', 'c:i', '0', 'COUNT', '1'], scanReply('0', '1', '2', '10')],
    [['SSCAN', 'c:i', '0', 'MATCH', '1*'], scanReply('0', '1', '10')],
    [['SSCAN', 'c:none', '0'], scanReply('0')],
    [['SSCAN', 'c:none', '0', 'COUNT', '0'], scanReply('0')],
    [['SSCAN', 'c:none', 'x'], '-ERR invalid cursor\r\n'],
    [['SSCAN', 'c:i', '-1'], '-ERR invalid cursor\r\n'],
    [['SSCAN', 'c:str', '0'], WRONGTYPE],
    [['SSCAN', 'c:i', '0', 'COUNT', '0'], SYNTAX],
    [['SSCAN', 'c:i', '0', 'COUNT', 'x'], NOT_INT],
    [['SSCAN', 'c:i', '0', 'MATCH'], SYNTAX],
    [['SSCAN', 'c:i', '0', 'TYPE', 'set'], SYNTAX],
    [['SSCAN', 'c:i', '0', 'NOVALUES'], '-ERR NOVALUES option can only be used in HSCAN\r\n'],
    [['SSCAN', 'c:i', '0', 'NOSCORES'], '-ERR NOSCORES option can only be used in ZSCAN\r\n'],
  ]);
  await expectRaw(raw3, [[['SSCAN', 'c:i', '0'], scanReply('0', '1', '2', '10')]]);
  const all = Array.from({ length: 1000 }, (_, i) => `k${i}`);
  await r.sadd('c:h', ...all);
  // Full iteration, with members removed and added meanwhile: every member
  // present throughout is returned.
  const seen = new Set();
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, batch] = await r.sscan('c:h', cursor, 'COUNT', 50);
    for (const m of batch) seen.add(m);
    cursor = next;
    if (rounds === 3) {
      await r.srem('c:h', 'k999', 'k998');
      await r.sadd('c:h', 'new1', 'new2');
    }
    rounds++;
  } while (cursor !== '0');
  for (const m of all.slice(0, 998)) assert.ok(seen.has(m), m);
  assert.ok(rounds > 10);
  // MATCH on a hashtable.
  const matched = new Set();
  cursor = '0';
  do {
    const [next, batch] = await r.sscan('c:h', cursor, 'MATCH', 'k1?', 'COUNT', 100);
    for (const m of batch) matched.add(m);
    cursor = next;
  } while (cursor !== '0');
  assert.deepEqual(sorted(matched), sorted(Array.from({ length: 10 }, (_, i) => `k1${i}`)));
  // node-redis iterators.
  const viaNr = new Set();
  for await (const batch of nr3.sScanIterator('c:h', { COUNT: 200 })) for (const m of batch) viaNr.add(m);
  assert.equal(viaNr.size, await r.scard('c:h'));
  const res = await nr2.sScan('c:i', '0');
  assert.deepEqual(members(res.members), ['1', '10', '2']);
});

test('writes count in INFO and emptied sets disappear', async () => {
  await r.del('w:a');
  const dirty = async () => Number(/rdb_changes_since_last_save:(\d+)/.exec(await r.info('persistence'))?.[1] ?? NaN);
  const before = await dirty();
  if (Number.isNaN(before)) return; // INFO persistence not implemented yet
  await r.sadd('w:a', 'a', 'b', 'c');
  await r.srem('w:a', 'a', 'zz');
  await r.spop('w:a', 2);
  assert.equal(await dirty(), before + 3 + 1 + 2);
  assert.equal(await r.exists('w:a'), 0);
});

// ------------------------------------------------------------------ big sets, pipelines (member prefetch)

test('pipelined SADD/SREM/SISMEMBER/HSET/HGET/HDEL on big collections agree with a model', async () => {
  // ioredis sends a pipeline in one write, so the server sees many buffered
  // commands and prefetches their keys and members (src/commands/collection-common.ts).
  await r.del('pf:s', 'pf:h', 'pf:str');
  await r.set('pf:str', 'x');
  const set = new Set();
  const hash = new Map();
  // Start both as hashtables (over the listpack thresholds).
  const first = [];
  for (let i = 0; i < 3000; i += 3) first.push(`element:${String(i).padStart(12, '0')}`);
  await r.sadd('pf:s', ...first);
  await r.hset('pf:h', ...first.flatMap((m) => [m, 'v']));
  for (const m of first) {
    set.add(m);
    hash.set(m, 'v');
  }
  let seed = 12345;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 6; round++) {
    const p = r.pipeline();
    const want = [];
    for (let i = 0; i < 2000; i++) {
      const m = `element:${String(rnd(3000)).padStart(12, '0')}`;
      switch (rnd(8)) {
        case 0:
        case 1:
          p.sadd('pf:s', m);
          want.push(set.has(m) ? 0 : 1);
          set.add(m);
          break;
        case 2:
          p.srem('pf:s', m);
          want.push(set.delete(m) ? 1 : 0);
          break;
        case 3:
          p.sismember('pf:s', m);
          want.push(set.has(m) ? 1 : 0);
          break;
        case 4:
          p.hset('pf:h', m, String(i % 7));
          want.push(hash.has(m) ? 0 : 1);
          hash.set(m, String(i % 7));
          break;
        case 5:
          p.hget('pf:h', m);
          want.push(hash.get(m) ?? null);
          break;
        case 6:
          p.hdel('pf:h', m);
          want.push(hash.delete(m) ? 1 : 0);
          break;
        default:
          p.sadd('pf:str', m); // a string key: WRONGTYPE, whatever the prefetch guessed
          want.push('WRONGTYPE');
      }
    }
    const got = await p.exec();
    got.forEach(([err, v], i) => {
      if (want[i] === 'WRONGTYPE') assert.match(String(err), /WRONGTYPE/);
      else assert.equal(v, want[i], `round ${round} command ${i}`);
    });
  }
  assert.equal(await r.scard('pf:s'), set.size);
  assert.equal(await r.hlen('pf:h'), hash.size);
  assert.equal(await r.object('ENCODING', 'pf:s'), 'hashtable');
  assert.equal(await r.object('ENCODING', 'pf:h'), 'hashtable');
  assert.deepEqual(sorted(await r.smembers('pf:s')), sorted(set));
  assert.deepEqual(new Map(Object.entries(await r.hgetall('pf:h'))), hash);
  await r.del('pf:s', 'pf:h', 'pf:str');
});

test('SSCAN on a big set returns every member present throughout exactly once while it changes', async () => {
  await r.del('sc:big');
  const all = [];
  for (let i = 0; i < 5000; i++) all.push(`m${i}`);
  await r.sadd('sc:big', ...all);
  const seen = new Map();
  const removed = new Set();
  let cursor = '0';
  let step = 0;
  do {
    const [next, items] = await r.sscan('sc:big', cursor, 'COUNT', 100);
    for (const m of items) seen.set(m, (seen.get(m) ?? 0) + 1);
    // Remove members on both sides of the walk, add new ones, pop a random one.
    const victims = [`m${(step * 37) % 5000}`, `m${4999 - ((step * 53) % 5000)}`];
    await r.srem('sc:big', ...victims);
    for (const v of victims) removed.add(v);
    await r.sadd('sc:big', `new${step}`);
    const popped = await r.spop('sc:big');
    removed.add(popped);
    cursor = next;
    step++;
  } while (cursor !== '0');
  for (const [m, n] of seen) assert.equal(n, 1, `${m} returned ${n} times`);
  for (const m of all) if (!removed.has(m)) assert.ok(seen.has(m), `missed ${m}`);
  await r.del('sc:big');
});
