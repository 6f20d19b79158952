// Generic keyspace commands against a real vireo-server: DEL, UNLINK, EXISTS,
// TYPE, KEYS, SCAN, RANDOMKEY, RENAME(NX), COPY, MOVE, SWAPDB, FLUSHDB,
// FLUSHALL, DBSIZE, EXPIRE family, TTL family, PERSIST, TOUCH, OBJECT.
// Exact bytes through RawConn (RESP2 and RESP3), plus ioredis (RESP2) and
// node-redis (RESP3). Only SET/GET are used as fixtures.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { startServer } from '../../dist/src/index.js';

let srv;
let c; // RawConn, RESP2
let c3; // RawConn, RESP3
let r; // ioredis
let n3; // node-redis, RESP3

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const call = (...args) => c.call(...args);
const call3 = (...args) => c3.call(...args);
const int = (s) => {
  const m = /^:(-?\d+)\r\n$/.exec(s);
  assert.ok(m, `integer reply expected, got ${JSON.stringify(s)}`);
  return Number(m[1]);
};
const bulkArray = (items) => `*${items.length}\r\n` + items.map((x) => `$${Buffer.byteLength(x, 'latin1')}\r\n${x}\r\n`).join('');
const err = (msg) => `-${msg}\r\n`;
const ok = '+OK\r\n';

/** Sets each key to a value with SET. */
async function setKeys(conn, ...keys) {
  for (const k of keys) assert.equal(await conn.call('SET', k, 'v'), ok);
}

/** Keys of a SCAN reply parsed from RawConn text (cursor, keys). */
function parseScan(raw) {
  const m = /^\*2\r\n\$\d+\r\n(\d+)\r\n\*(\d+)\r\n/.exec(raw);
  assert.ok(m, `scan reply expected, got ${JSON.stringify(raw.slice(0, 80))}`);
  const keys = [];
  let rest = raw.slice(m[0].length);
  for (let i = 0; i < Number(m[2]); i++) {
    const h = /^\$(\d+)\r\n/.exec(rest);
    const len = Number(h[1]);
    keys.push(rest.slice(h[0].length, h[0].length + len));
    rest = rest.slice(h[0].length + len + 2);
  }
  return { cursor: m[1], keys };
}

/** Follows a SCAN to the end and returns every key seen (with repeats). */
async function scanAll(conn, ...opts) {
  const seen = [];
  let cursor = '0';
  let calls = 0;
  do {
    const res = parseScan(await conn.call('SCAN', cursor, ...opts));
    cursor = res.cursor;
    seen.push(...res.keys);
    assert.ok(++calls < 100000, 'scan does not end');
  } while (cursor !== '0');
  return seen;
}

before(async () => {
  srv = await startVireo(['--databases', '16']);
  c = await RawConn.connect(srv.port);
  c3 = await RawConn.connect(srv.port);
  assert.match(await c3.call('HELLO', '3'), /^%/);
  r = new Redis({ port: srv.port, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true });
  await r.connect();
  n3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  n3.on('error', () => {});
  await n3.connect();
});

after(async () => {
  c?.close();
  c3?.close();
  r?.disconnect();
  await n3?.close?.();
  await srv?.stop();
});

beforeEach(async () => {
  assert.equal(await call('SELECT', '0'), ok);
  assert.equal(await call('FLUSHALL'), ok);
});

// ------------------------------------------------------------------ DEL, UNLINK, EXISTS, TYPE, DBSIZE, RANDOMKEY

test('DEL and UNLINK count the keys they removed', async () => {
  await setKeys(c, 'a', 'b', 'c', 'd');
  assert.equal(await call('DEL', 'a', 'a', 'missing'), ':1\r\n');
  assert.equal(await call('DEL', 'a'), ':0\r\n');
  assert.equal(await call('UNLINK', 'b', 'c', 'b'), ':2\r\n');
  assert.equal(await call('UNLINK', 'b'), ':0\r\n');
  assert.equal(await call('EXISTS', 'a', 'b', 'c', 'd'), ':1\r\n');
  assert.equal(await call('DEL'), err("ERR wrong number of arguments for 'del' command"));
  assert.equal(await call('UNLINK'), err("ERR wrong number of arguments for 'unlink' command"));
  assert.equal(await r.del('d', 'zz'), 1);
  await r.set('e', '1');
  assert.equal(await n3.sendCommand(['UNLINK', 'e']), 1);
});

test('DEL does not count a key that had just expired', async () => {
  await setKeys(c, 'gone', 'kept');
  assert.equal(await call('PEXPIRE', 'gone', '1'), ':1\r\n');
  await sleep(30);
  assert.equal(await call('DEL', 'gone', 'kept'), ':1\r\n');
});

test('EXISTS counts every argument, repeats included', async () => {
  await setKeys(c, 'k', 'x\x00y');
  assert.equal(await call('EXISTS', 'k'), ':1\r\n');
  assert.equal(await call('EXISTS', 'k', 'k', 'k'), ':3\r\n');
  assert.equal(await call('EXISTS', 'k', 'missing', 'k', 'x\x00y'), ':3\r\n');
  assert.equal(await call('EXISTS', 'missing'), ':0\r\n');
  assert.equal(await call('EXISTS'), err("ERR wrong number of arguments for 'exists' command"));
  assert.equal(await r.exists('k', 'k', 'nope'), 2);
  assert.equal(await n3.exists(['k', 'k']), 2);
});

test('TYPE replies a simple string in both protocols', async () => {
  await setKeys(c, 's');
  assert.equal(await call('TYPE', 's'), '+string\r\n');
  assert.equal(await call('TYPE', 'missing'), '+none\r\n');
  assert.equal(await call3('TYPE', 's'), '+string\r\n');
  assert.equal(await call3('TYPE', 'missing'), '+none\r\n');
  assert.equal(await call('TYPE'), err("ERR wrong number of arguments for 'type' command"));
  assert.equal(await call('TYPE', 'a', 'b'), err("ERR wrong number of arguments for 'type' command"));
  assert.equal(await r.type('s'), 'string');
  assert.equal(await n3.type('missing'), 'none');
});

test('DBSIZE counts the selected database only', async () => {
  assert.equal(await call('DBSIZE'), ':0\r\n');
  await setKeys(c, 'a', 'b', 'c');
  assert.equal(await call('DBSIZE'), ':3\r\n');
  assert.equal(await call('SELECT', '5'), ok);
  assert.equal(await call('DBSIZE'), ':0\r\n');
  await setKeys(c, 'z');
  assert.equal(await call('DBSIZE'), ':1\r\n');
  assert.equal(await call('DBSIZE', 'x'), err("ERR wrong number of arguments for 'dbsize' command"));
  assert.equal(await r.dbsize(), 3);
});

test('RANDOMKEY: null when empty, else an existing key', async () => {
  assert.equal(await call('RANDOMKEY'), '$-1\r\n');
  assert.equal(await call3('RANDOMKEY'), '_\r\n');
  assert.equal(await r.randomkey(), null);
  assert.equal(await n3.randomKey(), null);
  const keys = ['k1', 'k2', 'k3', 'k\xff'];
  await setKeys(c, ...keys);
  const seen = new Set();
  for (let i = 0; i < 60; i++) {
    const raw = await call('RANDOMKEY');
    const m = /^\$(\d+)\r\n([\s\S]*)\r\n$/.exec(raw);
    assert.ok(m, raw);
    assert.ok(keys.includes(m[2]), m[2]);
    seen.add(m[2]);
  }
  assert.ok(seen.size >= 2, 'more than one key comes out');
  assert.equal(await call('RANDOMKEY', 'x'), err("ERR wrong number of arguments for 'randomkey' command"));
});

test('RANDOMKEY does not return a key whose TTL passed', async () => {
  await setKeys(c, 'live');
  for (let i = 0; i < 20; i++) {
    await setKeys(c, `dead${i}`);
    await call('PEXPIRE', `dead${i}`, '1');
  }
  await sleep(30);
  for (let i = 0; i < 20; i++) assert.equal(await call('RANDOMKEY'), '$4\r\nlive\r\n');
});

// ------------------------------------------------------------------ KEYS

test('KEYS matches glob patterns', async () => {
  const keys = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h*llo', 'h?llo', 'h[a]llo', 'h\\llo', 'user:1', 'user:2', 'user:10', 'user:abc', '', 'b\xffin\x00'];
  await setKeys(c, ...keys);
  const keysOf = async (p) => {
    const raw = await call('KEYS', p);
    const res = [];
    let rest = raw.slice(raw.indexOf('\r\n') + 2);
    const n = Number(raw.slice(1, raw.indexOf('\r\n')));
    for (let i = 0; i < n; i++) {
      const h = /^\$(\d+)\r\n/.exec(rest);
      res.push(rest.slice(h[0].length, h[0].length + Number(h[1])));
      rest = rest.slice(h[0].length + Number(h[1]) + 2);
    }
    return res.sort();
  };
  assert.deepEqual(await keysOf('*'), keys.slice().sort());
  // "*" is special-cased; "**" goes through the matcher, which never matches "".
  assert.deepEqual(await keysOf('**'), keys.filter((k) => k !== '').sort());
  assert.deepEqual(await keysOf(''), ['']);
  assert.deepEqual(await keysOf('h?llo'), ['h*llo', 'h?llo', 'h\\llo', 'hallo', 'hello', 'hxllo']);
  assert.deepEqual(await keysOf('h*llo'), ['h*llo', 'h?llo', 'h[a]llo', 'h\\llo', 'hallo', 'heeeello', 'hello', 'hllo', 'hxllo']);
  assert.deepEqual(await keysOf('h[ae]llo'), ['hallo', 'hello']);
  assert.deepEqual(await keysOf('h[^e]llo'), ['h*llo', 'h?llo', 'h\\llo', 'hallo', 'hxllo']);
  assert.deepEqual(await keysOf('h[b-a]llo'), ['hallo']);
  assert.deepEqual(await keysOf('h\\*llo'), ['h*llo']);
  assert.deepEqual(await keysOf('h\\[a\\]llo'), ['h[a]llo']);
  assert.deepEqual(await keysOf('h\\\\llo'), ['h\\llo']);
  assert.deepEqual(await keysOf('user:?'), ['user:1', 'user:2']);
  assert.deepEqual(await keysOf('user:[0-9]*'), ['user:1', 'user:10', 'user:2']);
  assert.deepEqual(await keysOf('user:[!0-9]*'), ['user:1', 'user:10', 'user:2']);
  assert.deepEqual(await keysOf('b[\x80-\xff]in?'), ['b\xffin\x00']);
  assert.deepEqual(await keysOf('h['), []);
  assert.deepEqual(await keysOf('hello'), ['hello']);
  assert.deepEqual(await keysOf('HELLO'), []);
  assert.equal(await call('KEYS'), err("ERR wrong number of arguments for 'keys' command"));
  assert.equal(await call('KEYS', 'a', 'b'), err("ERR wrong number of arguments for 'keys' command"));
  // An array in RESP3 too, and through the clients.
  assert.equal(await call3('KEYS', 'user:1?'), bulkArray(['user:10']));
  assert.equal(await call3('KEYS', 'nomatch'), '*0\r\n');
  assert.deepEqual((await r.keys('user:?')).sort(), ['user:1', 'user:2']);
  assert.deepEqual((await n3.keys('h[ae]llo')).sort(), ['hallo', 'hello']);
});

test('KEYS skips keys whose TTL passed', async () => {
  await setKeys(c, 'k1', 'k2', 'k3');
  assert.equal(await call('PEXPIRE', 'k2', '1'), ':1\r\n');
  await sleep(30);
  assert.deepEqual((await r.keys('*')).sort(), ['k1', 'k3']);
  assert.deepEqual((await r.keys('k2')).sort(), []);
});

// ------------------------------------------------------------------ SCAN

test('SCAN walks the whole keyspace with MATCH, COUNT and TYPE', async () => {
  const keys = [];
  for (let i = 0; i < 120; i++) keys.push(`key:${i}`);
  keys.push('other', '', '\x00bin\xff');
  await setKeys(c, ...keys);
  const all = await scanAll(c);
  assert.equal(all.length, keys.length, 'no duplicates without changes');
  assert.deepEqual(all.slice().sort(), keys.slice().sort());
  assert.deepEqual((await scanAll(c, 'COUNT', '1')).sort(), keys.slice().sort());
  assert.deepEqual((await scanAll(c, 'count', '7', 'MATCH', 'key:1?')).sort(), keys.filter((k) => /^key:1.$/.test(k)).sort());
  assert.deepEqual((await scanAll(c, 'MATCH', '*')).sort(), keys.slice().sort(), '"*" also matches the empty key');
  assert.deepEqual(await scanAll(c, 'MATCH', 'nomatch*'), []);
  assert.deepEqual((await scanAll(c, 'TYPE', 'string')).sort(), keys.slice().sort());
  assert.deepEqual((await scanAll(c, 'TYPE', 'STRING', 'COUNT', '1000')).sort(), keys.slice().sort());
  assert.deepEqual(await scanAll(c, 'TYPE', 'list'), []);
  assert.deepEqual(await scanAll(c, 'TYPE', 'hash', 'TYPE', 'zset'), []);
  // Repeated options: the last one wins.
  assert.deepEqual((await scanAll(c, 'MATCH', 'nomatch', 'MATCH', 'oth*')).sort(), ['other']);
  assert.deepEqual((await scanAll(c, 'MATCH', '?bin?', 'TYPE', 'set', 'TYPE', 'string')).sort(), ['\x00bin\xff']);
  // A COUNT that covers the keyspace finishes in one call.
  const one = parseScan(await call('SCAN', '0', 'COUNT', '1000'));
  assert.equal(one.cursor, '0');
  assert.equal(one.keys.length, keys.length);
  // COUNT is how many keys one call walks.
  const first = parseScan(await call('SCAN', '0', 'COUNT', '5'));
  assert.notEqual(first.cursor, '0');
  assert.equal(first.keys.length, 5);
  const second = parseScan(await call('SCAN', first.cursor, 'COUNT', '5'));
  assert.equal(second.keys.length, 5);
  assert.equal(new Set([...first.keys, ...second.keys]).size, 10);
  const filtered = parseScan(await call('SCAN', '0', 'COUNT', '5', 'MATCH', 'nomatch'));
  assert.deepEqual(filtered.keys, []);
  assert.notEqual(filtered.cursor, '0', 'a call that matched nothing may still have more to walk');
});

test('SCAN on an empty database', async () => {
  assert.equal(await call('SCAN', '0'), '*2\r\n$1\r\n0\r\n*0\r\n');
  assert.equal(await call3('SCAN', '0', 'MATCH', '*'), '*2\r\n$1\r\n0\r\n*0\r\n');
});

test('SCAN reply shape in RESP2 and RESP3, and through the clients', async () => {
  await setKeys(c, 'only');
  assert.equal(await call('SCAN', '0'), '*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n');
  assert.equal(await call3('SCAN', '0'), '*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n');
  assert.deepEqual(await r.scan('0', 'MATCH', 'o*', 'COUNT', '100'), ['0', ['only']]);
  assert.deepEqual(await n3.scan('0', { MATCH: 'o*', COUNT: 100 }), { cursor: '0', keys: ['only'] });
  await setKeys(c, 'a', 'b', 'c');
  const [cursor, keys] = await r.scan('0', 'COUNT', '1');
  assert.match(cursor, /^[1-9]\d*$/, 'a cursor is a decimal unsigned number');
  assert.equal(keys.length, 1);
});

test('SCAN argument errors', async () => {
  for (const bad of ['abc', '-1', '1.5', '', '18446744073709551616', '0x10', '5 ', '- 5', '+', '1e3']) {
    assert.equal(await call('SCAN', bad), err('ERR invalid cursor'), `cursor ${JSON.stringify(bad)}`);
  }
  // What strtoull accepts is a valid cursor (an unknown one starts over).
  for (const good of ['007', '+0', ' 0', '-0', '\t12', '18446744073709551615', '12345']) {
    assert.match(await call('SCAN', good), /^\*2\r\n\$1\r\n0\r\n\*0\r\n$/, `cursor ${JSON.stringify(good)}`);
  }
  assert.equal(await call('SCAN', '0', 'COUNT', '0'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'COUNT', '-1'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'COUNT', 'abc'), err('ERR value is not an integer or out of range'));
  assert.equal(await call('SCAN', '0', 'COUNT', '9223372036854775808'), err('ERR value is not an integer or out of range'));
  assert.equal(await call('SCAN', '0', 'COUNT', '9223372036854775807'), '*2\r\n$1\r\n0\r\n*0\r\n');
  assert.equal(await call('SCAN', '0', 'COUNT'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'MATCH'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'TYPE'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'FOO', 'bar'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'MATCH', '*', 'FOO'), err('ERR syntax error'));
  assert.equal(await call('SCAN', '0', 'TYPE', 'foo'), err("ERR unknown type name 'foo'"));
  assert.equal(await call('SCAN', '0', 'TYPE', 'none'), err("ERR unknown type name 'none'"));
  assert.equal(await call('SCAN', '0', 'NOVALUES'), err('ERR NOVALUES option can only be used in HSCAN'));
  assert.equal(await call('SCAN', '0', 'NOSCORES'), err('ERR NOSCORES option can only be used in ZSCAN'));
  // The cursor is checked before the options.
  assert.equal(await call('SCAN', 'x', 'COUNT', '0'), err('ERR invalid cursor'));
  assert.equal(await call('SCAN'), err("ERR wrong number of arguments for 'scan' command"));
});

test('SCAN returns every key present throughout while keys are added and removed', async () => {
  const pipe = r.pipeline();
  const stable = [];
  for (let i = 0; i < 3000; i++) {
    stable.push(`stable:${i}`);
    pipe.set(`stable:${i}`, 'v');
  }
  const doomed = [];
  for (let i = 0; i < 1500; i++) {
    doomed.push(`doomed:${i}`);
    pipe.set(`doomed:${i}`, 'v');
  }
  await pipe.exec();
  const everExisted = new Set([...stable, ...doomed]);
  const seen = new Map();
  let cursor = '0';
  let step = 0;
  let added = 0;
  let removed = 0;
  do {
    const res = parseScan(await call('SCAN', cursor, 'COUNT', String(5 + (step % 17))));
    cursor = res.cursor;
    for (const k of res.keys) {
      assert.ok(everExisted.has(k), `SCAN returned ${k}, which never existed`);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    // Between calls: add new keys, delete some of the doomed ones, and delete
    // and re-create a few (which may then be returned twice).
    const p = r.pipeline();
    for (let j = 0; j < 4; j++) {
      const k = `new:${added++}`;
      everExisted.add(k);
      p.set(k, 'v');
    }
    for (let j = 0; j < 3 && removed < doomed.length; j++) p.del(doomed[removed++]);
    if (step % 5 === 0) {
      const k = doomed[doomed.length - 1 - (step % 200)];
      p.del(k);
      p.set(k, 'again');
    }
    await p.exec();
    step++;
  } while (cursor !== '0');
  assert.ok(step > 100, 'the iteration took many calls');
  for (const k of stable) assert.equal(seen.get(k), 1, `${k} returned exactly once`);
});

test('SCAN cursor after FLUSHDB, SWAPDB or from nowhere starts the iteration over', async () => {
  await setKeys(c, 'a', 'b', 'c', 'd', 'e', 'f');
  let res = parseScan(await call('SCAN', '0', 'COUNT', '2'));
  assert.notEqual(res.cursor, '0');
  assert.equal(await call('FLUSHDB'), ok);
  await setKeys(c, 'x', 'y');
  res = parseScan(await call('SCAN', res.cursor, 'COUNT', '100'));
  assert.equal(res.cursor, '0');
  assert.deepEqual(res.keys.sort(), ['x', 'y']);

  res = parseScan(await call('SCAN', '0', 'COUNT', '1'));
  assert.notEqual(res.cursor, '0');
  assert.equal(await call('SELECT', '1'), ok);
  await setKeys(c, 'one1', 'one2', 'one3');
  assert.equal(await call('SELECT', '0'), ok);
  assert.equal(await call('SWAPDB', '0', '1'), ok);
  res = parseScan(await call('SCAN', res.cursor, 'COUNT', '100'));
  assert.equal(res.cursor, '0');
  assert.deepEqual(res.keys.sort(), ['one1', 'one2', 'one3']);

  // A cursor used from another database starts over there.
  res = parseScan(await call('SCAN', '0', 'COUNT', '1'));
  assert.equal(await call('SELECT', '1'), ok);
  const other = parseScan(await call('SCAN', res.cursor, 'COUNT', '100'));
  assert.deepEqual(other.keys.sort(), ['x', 'y']);
  assert.equal(await call('SELECT', '0'), ok);

  // A cursor this server never issued starts over too.
  res = parseScan(await call('SCAN', '987654321', 'COUNT', '100'));
  assert.equal(res.cursor, '0');
  assert.deepEqual(res.keys.sort(), ['one1', 'one2', 'one3']);
});

test('SCAN does not return keys whose TTL passed', async () => {
  await setKeys(c, 'live1', 'live2', 'dead1', 'dead2');
  await call('PEXPIRE', 'dead1', '1');
  await call('PEXPIRE', 'dead2', '1');
  await sleep(30);
  assert.deepEqual((await scanAll(c)).sort(), ['live1', 'live2']);
  assert.deepEqual((await scanAll(c, 'MATCH', 'dead*', 'TYPE', 'string')).sort(), []);
  assert.equal(await call('DBSIZE'), ':2\r\n', 'the expired keys are gone');
});

// ------------------------------------------------------------------ RENAME, RENAMENX

test('RENAME', async () => {
  await setKeys(c, 'src');
  assert.equal(await call('RENAME', 'src', 'dst'), ok);
  assert.equal(await call('GET', 'dst'), '$1\r\nv\r\n');
  assert.equal(await call('EXISTS', 'src'), ':0\r\n');
  assert.equal(await call('RENAME', 'src', 'dst'), err('ERR no such key'));
  assert.equal(await call('RENAME', 'missing', 'missing'), err('ERR no such key'));
  assert.equal(await call('RENAME', 'dst', 'dst'), ok);
  assert.equal(await call('GET', 'dst'), '$1\r\nv\r\n');
  assert.equal(await call('SET', 'other', 'w'), ok);
  assert.equal(await call('RENAME', 'dst', 'other'), ok);
  assert.equal(await call('GET', 'other'), '$1\r\nv\r\n');
  assert.equal(await call('DBSIZE'), ':1\r\n');
  assert.equal(await call('RENAME', 'other', 'bin\x00\xff'), ok);
  assert.equal(await call('GET', 'bin\x00\xff'), '$1\r\nv\r\n');
  assert.equal(await call('RENAME', 'a'), err("ERR wrong number of arguments for 'rename' command"));
  assert.equal(await call('RENAME', 'a', 'b', 'c'), err("ERR wrong number of arguments for 'rename' command"));
  assert.equal(await r.rename(Buffer.from('bin\x00\xff', 'latin1'), 'plain'), 'OK', 'ioredis sends Buffers as raw bytes');
  await assert.rejects(r.rename('nope', 'x'), /ERR no such key/);
  await assert.rejects(n3.rename('nope', 'x'), /ERR no such key/);
});

test('RENAME carries the TTL and drops the destination TTL', async () => {
  await setKeys(c, 't');
  assert.equal(await call('EXPIRE', 't', '100'), ':1\r\n');
  assert.equal(await call('RENAME', 't', 't2'), ok);
  assert.ok(int(await call('PTTL', 't2')) > 99000);
  assert.equal(await call('TTL', 't'), ':-2\r\n');
  await setKeys(c, 'plain', 'withttl');
  assert.equal(await call('EXPIRE', 'withttl', '100'), ':1\r\n');
  assert.equal(await call('RENAME', 'plain', 'withttl'), ok);
  assert.equal(await call('TTL', 'withttl'), ':-1\r\n');
  // Renaming to itself keeps the TTL.
  assert.equal(await call('RENAME', 't2', 't2'), ok);
  assert.ok(int(await call('TTL', 't2')) > 98);
});

test('RENAMENX', async () => {
  assert.equal(await call('SET', 'r1', 'a'), ok);
  assert.equal(await call('SET', 'r2', 'b'), ok);
  assert.equal(await call('RENAMENX', 'r1', 'r2'), ':0\r\n');
  assert.equal(await call('GET', 'r1'), '$1\r\na\r\n');
  assert.equal(await call('GET', 'r2'), '$1\r\nb\r\n');
  assert.equal(await call('RENAMENX', 'r1', 'r3'), ':1\r\n');
  assert.equal(await call('GET', 'r3'), '$1\r\na\r\n');
  assert.equal(await call('EXISTS', 'r1'), ':0\r\n');
  assert.equal(await call('RENAMENX', 'r3', 'r3'), ':0\r\n');
  assert.equal(await call('RENAMENX', 'missing', 'x'), err('ERR no such key'));
  assert.equal(await call('RENAMENX', 'missing', 'missing'), err('ERR no such key'));
  assert.equal(await call('EXPIRE', 'r3', '100'), ':1\r\n');
  assert.equal(await call('RENAMENX', 'r3', 'r4'), ':1\r\n');
  assert.ok(int(await call('TTL', 'r4')) > 98);
  assert.equal(await call('RENAMENX', 'a'), err("ERR wrong number of arguments for 'renamenx' command"));
  assert.equal(await r.renamenx('r4', 'r2'), 0);
  assert.equal(await n3.renameNX('r4', 'r5'), 1);
});

test('RENAME of a key whose TTL passed is a missing key', async () => {
  await setKeys(c, 'old');
  await call('PEXPIRE', 'old', '1');
  await sleep(30);
  assert.equal(await call('RENAME', 'old', 'new'), err('ERR no such key'));
  assert.equal(await call('EXISTS', 'new'), ':0\r\n');
});

// ------------------------------------------------------------------ COPY

test('COPY within a database, with REPLACE', async () => {
  assert.equal(await call('SET', 'cs', 'hello'), ok);
  assert.equal(await call('COPY', 'cs', 'cd'), ':1\r\n');
  assert.equal(await call('GET', 'cd'), '$5\r\nhello\r\n');
  assert.equal(await call('COPY', 'cs', 'cd'), ':0\r\n');
  assert.equal(await call('SET', 'cs', 'world'), ok);
  assert.equal(await call('GET', 'cd'), '$5\r\nhello\r\n', 'the copy is independent');
  assert.equal(await call('COPY', 'cs', 'cd', 'REPLACE'), ':1\r\n');
  assert.equal(await call('GET', 'cd'), '$5\r\nworld\r\n');
  assert.equal(await call('COPY', 'cs', 'cd', 'replace', 'REPLACE'), ':1\r\n');
  assert.equal(await call('COPY', 'missing', 'cd'), ':0\r\n');
  assert.equal(await call('COPY', 'missing', 'cd', 'REPLACE'), ':0\r\n');
  assert.equal(await call('GET', 'cd'), '$5\r\nworld\r\n');
  assert.equal(await call('COPY', 'cs', 'cs'), err('ERR source and destination objects are the same'));
  assert.equal(await call('COPY', 'cs', 'cs', 'DB', '0'), err('ERR source and destination objects are the same'));
  assert.equal(await call('COPY', 'missing', 'missing'), err('ERR source and destination objects are the same'));
  assert.equal(await r.copy('cs', 'cr'), 1);
  assert.equal(await n3.copy('cs', 'cr', { REPLACE: true }), 1);
});

test('COPY to another database', async () => {
  assert.equal(await call('SET', 'cs', 'hello'), ok);
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', '1'), ':1\r\n');
  assert.equal(await call('EXISTS', 'cd'), ':0\r\n');
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', '1'), ':0\r\n');
  assert.equal(await call('COPY', 'cs', 'cs', 'DB', '1'), ':1\r\n', 'same name in another db is fine');
  assert.equal(await call('SET', 'cs', 'new'), ok);
  assert.equal(await call('COPY', 'cs', 'cd', 'db', '1', 'replace'), ':1\r\n');
  assert.equal(await call('SELECT', '1'), ok);
  assert.equal(await call('GET', 'cd'), '$3\r\nnew\r\n');
  assert.equal(await call('GET', 'cs'), '$5\r\nhello\r\n');
  // The source is always the selected database.
  assert.equal(await call('COPY', 'cd', 'back', 'DB', '0'), ':1\r\n');
  assert.equal(await call('SELECT', '0'), ok);
  assert.equal(await call('GET', 'back'), '$3\r\nnew\r\n');
});

test('COPY argument errors', async () => {
  assert.equal(await call('SET', 'cs', 'v'), ok);
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', '16'), err('ERR DB index is out of range'));
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', '-1'), err('ERR DB index is out of range'));
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', 'abc'), err('ERR value is not an integer or out of range'));
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', '2147483648'), err('ERR value is out of range, value must between -2147483648 and 2147483647'));
  assert.equal(await call('COPY', 'cs', 'cd', 'DB'), err('ERR syntax error'));
  assert.equal(await call('COPY', 'cs', 'cd', 'FOO'), err('ERR syntax error'));
  assert.equal(await call('COPY', 'cs', 'cd', 'REPLACE', 'DB'), err('ERR syntax error'));
  // Options are checked in order: the bad DB comes first here.
  assert.equal(await call('COPY', 'cs', 'cd', 'DB', '99', 'FOO'), err('ERR DB index is out of range'));
  assert.equal(await call('COPY', 'cs', 'cd', 'FOO', 'DB', '99'), err('ERR syntax error'));
  // Missing source is checked after the options.
  assert.equal(await call('COPY', 'missing', 'cd', 'FOO'), err('ERR syntax error'));
  assert.equal(await call('COPY', 'cs'), err("ERR wrong number of arguments for 'copy' command"));
  assert.equal(await call('EXISTS', 'cd'), ':0\r\n');
});

test('COPY carries the TTL; REPLACE drops the old destination TTL', async () => {
  await setKeys(c, 'ce', 'plain', 'target');
  assert.equal(await call('EXPIRE', 'ce', '100'), ':1\r\n');
  assert.equal(await call('COPY', 'ce', 'ce2'), ':1\r\n');
  assert.ok(int(await call('TTL', 'ce2')) > 98);
  assert.equal(await call('PEXPIRETIME', 'ce2'), await call('PEXPIRETIME', 'ce'));
  assert.equal(await call('COPY', 'ce', 'ce3', 'DB', '2'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'target', '100'), ':1\r\n');
  assert.equal(await call('COPY', 'plain', 'target', 'REPLACE'), ':1\r\n');
  assert.equal(await call('TTL', 'target'), ':-1\r\n');
  assert.equal(await call('SELECT', '2'), ok);
  assert.ok(int(await call('TTL', 'ce3')) > 98);
});

test('COPY of a small integer stays an int (shared: refcount differs from Valkey, see keyspace.ts)', async () => {
  assert.equal(await call('SET', 'i', '100'), ok);
  assert.equal(await call('OBJECT', 'REFCOUNT', 'i'), ':2147483647\r\n');
  assert.equal(await call('COPY', 'i', 'j'), ':1\r\n');
  assert.equal(await call('OBJECT', 'REFCOUNT', 'j'), ':2147483647\r\n');
  assert.equal(await call('OBJECT', 'ENCODING', 'j'), '$3\r\nint\r\n');
  assert.equal(await call('GET', 'j'), '$3\r\n100\r\n');
  assert.equal(await call('SET', 'big', '123456789'), ok);
  assert.equal(await call('COPY', 'big', 'big2'), ':1\r\n');
  assert.equal(await call('OBJECT', 'ENCODING', 'big2'), '$3\r\nint\r\n');
  assert.equal(await call('GET', 'big2'), '$9\r\n123456789\r\n');
});

// ------------------------------------------------------------------ MOVE, SWAPDB

test('MOVE', async () => {
  await setKeys(c, 'm');
  assert.equal(await call('EXPIRE', 'm', '100'), ':1\r\n');
  assert.equal(await call('MOVE', 'm', '1'), ':1\r\n');
  assert.equal(await call('EXISTS', 'm'), ':0\r\n');
  assert.equal(await call('SELECT', '1'), ok);
  assert.equal(await call('GET', 'm'), '$1\r\nv\r\n');
  assert.ok(int(await call('TTL', 'm')) > 98, 'the TTL moves with the key');
  assert.equal(await call('SELECT', '0'), ok);
  assert.equal(await call('MOVE', 'm', '1'), ':0\r\n', 'no such key here');
  assert.equal(await call('SET', 'm', 'local'), ok);
  assert.equal(await call('MOVE', 'm', '1'), ':0\r\n', 'the target has the key');
  assert.equal(await call('GET', 'm'), '$5\r\nlocal\r\n');
  assert.equal(await call('MOVE', 'missing', '1'), ':0\r\n');
  assert.equal(await call('MOVE', 'm', '0'), err('ERR source and destination objects are the same'));
  assert.equal(await call('MOVE', 'missing', '0'), err('ERR source and destination objects are the same'));
  assert.equal(await call('MOVE', 'm', '16'), err('ERR DB index is out of range'));
  assert.equal(await call('MOVE', 'm', '-1'), err('ERR DB index is out of range'));
  assert.equal(await call('MOVE', 'm', 'abc'), err('ERR value is not an integer or out of range'));
  assert.equal(await call('MOVE', 'm', '1.0'), err('ERR value is not an integer or out of range'));
  assert.equal(await call('MOVE', 'm', '99999999999'), err('ERR value is out of range, value must between -2147483648 and 2147483647'));
  assert.equal(await call('MOVE', 'm'), err("ERR wrong number of arguments for 'move' command"));
  assert.equal(await r.move('m', 3), 1);
  assert.equal(await call('SELECT', '3'), ok);
  assert.equal(await call('TTL', 'm'), ':-1\r\n');
});

test('SWAPDB swaps contents for every client', async () => {
  assert.equal(await call('SET', 's0', 'zero'), ok);
  assert.equal(await call('EXPIRE', 's0', '100'), ':1\r\n');
  const other = await RawConn.connect(srv.port);
  try {
    assert.equal(await other.call('SELECT', '1'), ok);
    assert.equal(await other.call('SET', 's1', 'one'), ok);
    assert.equal(await call('SWAPDB', '0', '1'), ok);
    assert.equal(await call('GET', 's0'), '$-1\r\n');
    assert.equal(await call('GET', 's1'), '$3\r\none\r\n');
    assert.equal(await other.call('GET', 's0'), '$4\r\nzero\r\n', 'a client on db 1 sees the old db 0');
    assert.ok(int(await other.call('TTL', 's0')) > 98, 'TTLs travel too');
    assert.equal(await call('SWAPDB', '1', '0'), ok);
    assert.equal(await call('GET', 's0'), '$4\r\nzero\r\n');
    assert.equal(await call('SWAPDB', '0', '0'), ok);
    assert.equal(await call('GET', 's0'), '$4\r\nzero\r\n');
    assert.equal(await call('SWAPDB', '0', '15'), ok);
    assert.equal(await call('DBSIZE'), ':0\r\n');
  } finally {
    other.close();
  }
});

test('SWAPDB errors', async () => {
  assert.equal(await call('SWAPDB', '0', '16'), err('ERR DB index is out of range'));
  assert.equal(await call('SWAPDB', '-1', '0'), err('ERR DB index is out of range'));
  assert.equal(await call('SWAPDB', 'a', '0'), err('ERR invalid first DB index'));
  assert.equal(await call('SWAPDB', '0', 'b'), err('ERR invalid second DB index'));
  assert.equal(await call('SWAPDB', 'a', 'b'), err('ERR invalid first DB index'));
  assert.equal(await call('SWAPDB', '2147483648', '0'), err('ERR invalid first DB index'));
  assert.equal(await call('SWAPDB', '0', '1.5'), err('ERR invalid second DB index'));
  assert.equal(await call('SWAPDB', '0'), err("ERR wrong number of arguments for 'swapdb' command"));
  assert.equal(await r.swapdb(0, 1), 'OK');
});

// ------------------------------------------------------------------ FLUSHDB, FLUSHALL

test('FLUSHDB and FLUSHALL with SYNC and ASYNC', async () => {
  await setKeys(c, 'f1', 'f2');
  assert.equal(await call('SELECT', '3'), ok);
  await setKeys(c, 'g');
  assert.equal(await call('SELECT', '0'), ok);
  assert.equal(await call('FLUSHDB', 'ASYNC'), ok);
  assert.equal(await call('DBSIZE'), ':0\r\n');
  assert.equal(await call('SELECT', '3'), ok);
  assert.equal(await call('DBSIZE'), ':1\r\n', 'FLUSHDB leaves other databases');
  assert.equal(await call('SELECT', '0'), ok);
  await setKeys(c, 'f');
  assert.equal(await call('FLUSHDB', 'sync'), ok);
  assert.equal(await call('DBSIZE'), ':0\r\n');
  assert.equal(await call('FLUSHDB'), ok);
  await setKeys(c, 'f');
  assert.equal(await call('FLUSHALL', 'async'), ok);
  assert.equal(await call('DBSIZE'), ':0\r\n');
  assert.equal(await call('SELECT', '3'), ok);
  assert.equal(await call('DBSIZE'), ':0\r\n', 'FLUSHALL empties every database');
  assert.equal(await call('SELECT', '0'), ok);
  assert.equal(await call('FLUSHALL', 'SYNC'), ok);
  for (const cmd of ['FLUSHDB', 'FLUSHALL']) {
    assert.equal(await call(cmd, 'FOO'), err('ERR syntax error'));
    assert.equal(await call(cmd, 'SYNC', 'ASYNC'), err('ERR syntax error'));
    assert.equal(await call(cmd, 'ASYNC', 'ASYNC'), err('ERR syntax error'));
  }
  assert.equal(await r.flushdb(), 'OK');
  assert.equal(await r.flushall('ASYNC'), 'OK');
  assert.equal(await n3.flushAll(), 'OK');
});

// ------------------------------------------------------------------ EXPIRE family, TTL family, PERSIST

test('TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL', async () => {
  for (const cmd of ['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']) {
    assert.equal(await call(cmd, 'missing'), ':-2\r\n');
    assert.equal(await call3(cmd, 'missing'), ':-2\r\n');
  }
  await setKeys(c, 'k');
  for (const cmd of ['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']) {
    assert.equal(await call(cmd, 'k'), ':-1\r\n');
    assert.equal(await call(cmd), err(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`));
    assert.equal(await call(cmd, 'a', 'b'), err(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`));
  }
  assert.equal(await r.ttl('k'), -1);
  assert.equal(await n3.pTTL('missing'), -2);
});

test('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT set relative and absolute times', async () => {
  await setKeys(c, 'k');
  const before = Date.now();
  assert.equal(await call('EXPIRE', 'k', '100'), ':1\r\n');
  const after = Date.now();
  const ttl = int(await call('TTL', 'k'));
  assert.ok(ttl >= 99 && ttl <= 100, `TTL ${ttl}`);
  const pttl = int(await call('PTTL', 'k'));
  assert.ok(pttl > 99000 && pttl <= 100000, `PTTL ${pttl}`);
  const pat = int(await call('PEXPIRETIME', 'k'));
  assert.ok(pat >= before + 100000 - 1000 && pat <= after + 100000 + 1000, `PEXPIRETIME ${pat}`);
  assert.equal(int(await call('EXPIRETIME', 'k')), Math.floor((pat + 500) / 1000));
  assert.equal(await call('PEXPIRE', 'k', '200000'), ':1\r\n');
  assert.ok(int(await call('TTL', 'k')) > 198);
  assert.equal(await call('EXPIREAT', 'k', '4102444800'), ':1\r\n');
  assert.equal(await call('EXPIRETIME', 'k'), ':4102444800\r\n');
  assert.equal(await call('PEXPIRETIME', 'k'), ':4102444800000\r\n');
  assert.equal(await call('PEXPIREAT', 'k', '4102444800123'), ':1\r\n');
  assert.equal(await call('PEXPIRETIME', 'k'), ':4102444800123\r\n');
  assert.equal(await call('EXPIRETIME', 'k'), ':4102444800\r\n');
  assert.equal(await call('PEXPIREAT', 'k', '4102444800500'), ':1\r\n');
  assert.equal(await call('EXPIRETIME', 'k'), ':4102444801\r\n', 'EXPIRETIME rounds to the nearest second');
  for (const cmd of ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT']) {
    assert.equal(await call(cmd, 'missing', '100'), ':0\r\n');
    assert.equal(await call(cmd, 'k'), err(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`));
  }
  assert.equal(await r.expire('k', 50), 1);
  assert.equal(await r.expire('k', 500, 'GT'), 1);
  assert.equal(await n3.expire('k', 10, 'GT'), 0);
  assert.equal(await n3.pExpireAt('k', 4102444800000), 1);
  assert.equal(await n3.expireTime('k'), 4102444800);
});

test('EXPIRE NX / XX / GT / LT', async () => {
  await setKeys(c, 'e');
  assert.equal(await call('EXPIRE', 'e', '100', 'XX'), ':0\r\n', 'XX needs a TTL');
  assert.equal(await call('EXPIRE', 'e', '100', 'GT'), ':0\r\n', 'no TTL counts as infinite: nothing is greater');
  assert.equal(await call('TTL', 'e'), ':-1\r\n');
  assert.equal(await call('EXPIRE', 'e', '100', 'LT'), ':1\r\n', 'anything is less than infinite');
  assert.ok(int(await call('TTL', 'e')) > 98);
  assert.equal(await call('EXPIRE', 'e', '200', 'NX'), ':0\r\n');
  assert.equal(await call('EXPIRE', 'e', '200', 'XX'), ':1\r\n');
  assert.ok(int(await call('TTL', 'e')) > 198);
  assert.equal(await call('EXPIRE', 'e', '100', 'GT'), ':0\r\n');
  assert.equal(await call('EXPIRE', 'e', '300', 'GT'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'e', '400', 'LT'), ':0\r\n');
  assert.equal(await call('EXPIRE', 'e', '50', 'LT'), ':1\r\n');
  assert.ok(int(await call('TTL', 'e')) <= 50);
  assert.equal(await call('EXPIRE', 'e', '60', 'nx'), ':0\r\n');
  assert.equal(await call('EXPIRE', 'e', '70', 'xx', 'gt'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'e', '10', 'XX', 'LT'), ':1\r\n');
  assert.ok(int(await call('TTL', 'e')) <= 10);
  // Equal is neither greater nor less.
  const at = await call('PEXPIRETIME', 'e');
  const ms = at.slice(1, -2);
  assert.equal(await call('PEXPIREAT', 'e', ms, 'GT'), ':0\r\n');
  assert.equal(await call('PEXPIREAT', 'e', ms, 'LT'), ':0\r\n');
  assert.equal(await call('PEXPIREAT', 'e', ms, 'XX'), ':1\r\n');
  // Options may repeat.
  assert.equal(await call('EXPIRE', 'e', '100', 'XX', 'XX'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'e', '200', 'GT', 'GT'), ':1\r\n');
  assert.equal(await call('EXPIREAT', 'e', '4102444800', 'GT'), ':1\r\n');
  assert.equal(await call('EXPIREAT', 'e', '4102444801', 'LT'), ':0\r\n');
  assert.equal(await call('PEXPIREAT', 'e', '4102444800000', 'NX'), ':0\r\n');
  assert.equal(await call('EXPIRETIME', 'e'), ':4102444800\r\n');
  // Missing keys answer 0 whatever the options.
  assert.equal(await call('EXPIRE', 'missing', '100', 'LT'), ':0\r\n');
});

test('EXPIRE option errors', async () => {
  await setKeys(c, 'e');
  const nxErr = err('ERR NX and XX, GT or LT options at the same time are not compatible');
  const gtltErr = err('ERR GT and LT options at the same time are not compatible');
  assert.equal(await call('EXPIRE', 'e', '100', 'NX', 'XX'), nxErr);
  assert.equal(await call('EXPIRE', 'e', '100', 'NX', 'GT'), nxErr);
  assert.equal(await call('EXPIRE', 'e', '100', 'lt', 'nx'), nxErr);
  assert.equal(await call('EXPIRE', 'e', '100', 'NX', 'GT', 'LT'), nxErr);
  assert.equal(await call('EXPIRE', 'e', '100', 'GT', 'LT'), gtltErr);
  assert.equal(await call('EXPIRE', 'e', '100', 'XX', 'GT', 'LT'), gtltErr);
  assert.equal(await call('PEXPIRE', 'e', '100', 'NX', 'XX'), nxErr);
  assert.equal(await call('EXPIREAT', 'e', '100', 'GT', 'LT'), gtltErr);
  assert.equal(await call('PEXPIREAT', 'e', '100', 'LT', 'GT'), gtltErr);
  assert.equal(await call('EXPIRE', 'e', '100', 'FOO'), err('ERR Unsupported option FOO'));
  assert.equal(await call('EXPIRE', 'e', '100', 'XX', 'foo'), err('ERR Unsupported option foo'));
  assert.equal(await call('EXPIRE', 'e', '100', 'x\x00y'), err('ERR Unsupported option x'), 'a C string ends at NUL');
  assert.equal(await call('EXPIRE', 'e', '100', 'a\r\nb'), err('ERR Unsupported option a  b'));
  // Options are parsed before the time.
  assert.equal(await call('EXPIRE', 'e', 'abc', 'NX', 'XX'), nxErr);
  assert.equal(await call('EXPIRE', 'e', 'abc', 'FOO'), err('ERR Unsupported option FOO'));
  assert.equal(await call('TTL', 'e'), ':-1\r\n', 'failed calls change nothing');
});

test('EXPIRE time parsing and overflow', async () => {
  await setKeys(c, 'e');
  const notInt = err('ERR value is not an integer or out of range');
  for (const bad of ['abc', '1.5', '', ' 1', '1 ', '+1', '01', '9223372036854775808', '-9223372036854775809', '0x10']) {
    assert.equal(await call('EXPIRE', 'e', bad), notInt, JSON.stringify(bad));
  }
  const inv = (cmd) => err(`ERR invalid expire time in '${cmd}' command`);
  assert.equal(await call('EXPIRE', 'e', '9223372036854775807'), inv('expire'));
  assert.equal(await call('EXPIRE', 'e', '9223372036854775'), inv('expire'), 'fits *1000 but not plus now');
  assert.equal(await call('EXPIRE', 'e', '9223370399119966'), inv('expire'));
  assert.equal(await call('EXPIRE', 'e', '-9223372036854776'), inv('expire'));
  assert.equal(await call('EXPIRE', 'e', '-9223372036854775808'), inv('expire'));
  assert.equal(await call('PEXPIRE', 'e', '9223372036854775807'), inv('pexpire'));
  assert.equal(await call('EXPIREAT', 'e', '9223372036854775807'), inv('expireat'));
  assert.equal(await call('EXPIREAT', 'e', '9223372036854776'), inv('expireat'));
  assert.equal(await call('expire', 'missing', '9223372036854775807'), inv('expire'), 'checked before the key, lower-case name');
  assert.equal(await call('ExpireAt', 'e', '-9223372036854776'), inv('expireat'));
  assert.equal(await call('TTL', 'e'), ':-1\r\n');
  // The largest values that fit are accepted and read back exactly.
  assert.equal(await call('PEXPIREAT', 'e', '9223372036854775807'), ':1\r\n');
  assert.equal(await call('PEXPIRETIME', 'e'), ':9223372036854775807\r\n');
  assert.equal(await call('EXPIRETIME', 'e'), ':9223372036854776\r\n');
  assert.equal(await call('EXPIREAT', 'e', '9223372036854775'), ':1\r\n');
  assert.equal(await call('PEXPIRETIME', 'e'), ':9223372036854775000\r\n');
  assert.equal(await call('PEXPIREAT', 'e', '9007199254740993'), ':1\r\n');
  assert.equal(await call('PEXPIRETIME', 'e'), ':9007199254740993\r\n');
  const pttl = BigInt(int(await call('PTTL', 'e')));
  assert.ok(pttl > 9007199254740993n - BigInt(Date.now()) - 10000n);
  assert.equal(await call('PEXPIRE', 'e', '9223370000000000000'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'e', '100', 'LT'), ':1\r\n', 'LT compares exact int64 times');
  assert.ok(int(await call('TTL', 'e')) > 98);
});

test('a time in the past deletes the key and answers 1', async () => {
  const cases = [
    ['EXPIRE', '0'],
    ['EXPIRE', '-100'],
    ['PEXPIRE', '-1'],
    ['PEXPIRE', '-9223372036854775808'],
    ['EXPIREAT', '1'],
    ['EXPIREAT', '-9223372036854775'],
    ['PEXPIREAT', '0'],
    ['PEXPIREAT', String(Date.now() - 1000)],
  ];
  for (const [cmd, t] of cases) {
    await setKeys(c, 'z');
    assert.equal(await call(cmd, 'z', t), ':1\r\n', `${cmd} ${t}`);
    assert.equal(await call('EXISTS', 'z'), ':0\r\n', `${cmd} ${t}`);
  }
  await setKeys(c, 'z');
  assert.equal(await call('EXPIRE', 'z', '-100', 'GT'), ':0\r\n', 'GT against no TTL fails first');
  assert.equal(await call('EXISTS', 'z'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'z', '-100', 'XX'), ':0\r\n');
  assert.equal(await call('EXISTS', 'z'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'z', '-100', 'LT'), ':1\r\n');
  assert.equal(await call('EXISTS', 'z'), ':0\r\n');
  await setKeys(c, 'z');
  assert.equal(await call('EXPIRE', 'z', '100'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'z', '-1', 'NX'), ':0\r\n');
  assert.equal(await call('EXISTS', 'z'), ':1\r\n');
  assert.equal(await call('EXPIRE', 'z', '-1', 'XX'), ':1\r\n');
  assert.equal(await call('EXISTS', 'z'), ':0\r\n');
});

test('keys expire (lazily on access and actively)', async () => {
  await setKeys(c, 'soon', 'soon2', 'soon3', 'soon4', 'stay');
  for (const k of ['soon', 'soon2', 'soon3', 'soon4']) assert.equal(await call('PEXPIRE', k, '40'), ':1\r\n');
  await sleep(250);
  assert.equal(await call('EXISTS', 'soon'), ':0\r\n');
  assert.equal(await call('TTL', 'soon2'), ':-2\r\n');
  assert.equal(await call('TYPE', 'soon3'), '+none\r\n');
  assert.equal(await call('TOUCH', 'soon4', 'stay'), ':1\r\n');
  assert.equal(await call('PERSIST', 'soon4'), ':0\r\n');
  assert.equal(await call('GET', 'soon'), '$-1\r\n');
  assert.equal(await call('DBSIZE'), ':1\r\n');
});

test('PERSIST', async () => {
  await setKeys(c, 'k');
  assert.equal(await call('PERSIST', 'k'), ':0\r\n');
  assert.equal(await call('EXPIRE', 'k', '100'), ':1\r\n');
  assert.equal(await call('PERSIST', 'k'), ':1\r\n');
  assert.equal(await call('TTL', 'k'), ':-1\r\n');
  assert.equal(await call('PERSIST', 'k'), ':0\r\n');
  assert.equal(await call('PERSIST', 'missing'), ':0\r\n');
  assert.equal(await call('PERSIST'), err("ERR wrong number of arguments for 'persist' command"));
  assert.equal(await call('PERSIST', 'a', 'b'), err("ERR wrong number of arguments for 'persist' command"));
  await call('EXPIRE', 'k', '100');
  assert.equal(await r.persist('k'), 1);
  assert.equal(await n3.persist('k'), 0);
});

test('SET clears the TTL that EXPIRE set', async () => {
  await setKeys(c, 'k');
  assert.equal(await call('EXPIRE', 'k', '100'), ':1\r\n');
  await setKeys(c, 'k');
  assert.equal(await call('TTL', 'k'), ':-1\r\n');
});

// ------------------------------------------------------------------ TOUCH, OBJECT

test('TOUCH counts existing keys, repeats included', async () => {
  await setKeys(c, 't1', 't2');
  assert.equal(await call('TOUCH', 't1'), ':1\r\n');
  assert.equal(await call('TOUCH', 't1', 't2', 'missing', 't1'), ':3\r\n');
  assert.equal(await call('TOUCH', 'missing'), ':0\r\n');
  assert.equal(await call('TOUCH'), err("ERR wrong number of arguments for 'touch' command"));
  assert.equal(await r.touch('t1', 't2'), 2);
});

test('OBJECT ENCODING', async () => {
  const cases = [
    ['12345', 'int'],
    ['-12345', 'int'],
    ['0', 'int'],
    ['9223372036854775807', 'int'],
    ['-9223372036854775808', 'int'],
    ['9223372036854775808', 'embstr'],
    ['0123', 'embstr'],
    [' 1', 'embstr'],
    ['+1', 'embstr'],
    ['hello', 'embstr'],
    ['', 'embstr'],
    ['x'.repeat(44), 'embstr'],
    ['x'.repeat(45), 'raw'],
    ['1'.repeat(44), 'embstr'],
  ];
  for (const [value, enc] of cases) {
    assert.equal(await call('SET', 'enc', value), ok);
    assert.equal(await call('OBJECT', 'ENCODING', 'enc'), `$${enc.length}\r\n${enc}\r\n`, JSON.stringify(value));
  }
  assert.equal(await call('OBJECT', 'ENCODING', 'missing'), '$-1\r\n');
  assert.equal(await call3('OBJECT', 'ENCODING', 'missing'), '_\r\n');
  assert.equal(await call3('OBJECT', 'ENCODING', 'enc'), '$6\r\nembstr\r\n');
  assert.equal(await call('object', 'encoding', 'enc'), '$6\r\nembstr\r\n');
  assert.equal(await r.object('ENCODING', 'enc'), 'embstr');
  assert.equal(await n3.objectEncoding('missing'), null);
});

test('OBJECT REFCOUNT: small integers are shared', async () => {
  const cases = [
    ['notshared', 1],
    ['0', 2147483647],
    ['100', 2147483647],
    ['9999', 2147483647],
    ['10000', 1],
    ['-1', 1],
    ['0100', 1],
  ];
  for (const [value, rc] of cases) {
    assert.equal(await call('SET', 'rc', value), ok);
    assert.equal(await call('OBJECT', 'REFCOUNT', 'rc'), `:${rc}\r\n`, value);
  }
  assert.equal(await call('OBJECT', 'REFCOUNT', 'missing'), '$-1\r\n');
  assert.equal(await call3('OBJECT', 'REFCOUNT', 'missing'), '_\r\n');
  assert.equal(await n3.objectRefCount('rc'), 1);
});

test('OBJECT FREQ needs an LFU policy; OBJECT IDLETIME and missing keys', async () => {
  await setKeys(c, 'k');
  assert.equal(
    await call('OBJECT', 'FREQ', 'k'),
    err('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.'),
  );
  assert.equal(await call('OBJECT', 'FREQ', 'missing'), '$-1\r\n', 'the key is looked up first');
  assert.equal(await call3('OBJECT', 'FREQ', 'missing'), '_\r\n');
  const idle = int(await call('OBJECT', 'IDLETIME', 'k'));
  assert.ok(idle >= 0 && idle <= 2);
  assert.equal(await call('OBJECT', 'IDLETIME', 'missing'), '$-1\r\n');
  assert.equal(await call3('OBJECT', 'IDLETIME', 'missing'), '_\r\n');
});

test('OBJECT HELP and subcommand errors', async () => {
  for (const conn of [c, c3]) {
    const raw = await conn.call('OBJECT', 'HELP');
    const lines = raw.split('\r\n');
    assert.equal(lines[0], '*11');
    assert.equal(lines[1], '+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    for (const sub of ['ENCODING', 'FREQ', 'IDLETIME', 'REFCOUNT']) assert.ok(lines.includes(`+${sub} <key>`), sub);
    assert.equal(lines[lines.length - 3], '+HELP');
    assert.equal(lines[lines.length - 2], '+    Print this help.');
    for (const l of lines.slice(1, -1)) assert.match(l, /^\+/);
  }
  assert.match(await call('object', 'help'), /^\*11\r\n\+OBJECT <subcommand>/);
  assert.equal(await call('OBJECT', 'NOSUCH', 'k'), err("ERR unknown subcommand 'NOSUCH'. Try OBJECT HELP."));
  assert.equal(await call('OBJECT', 'ENCODING'), err("ERR wrong number of arguments for 'object|encoding' command"));
  assert.equal(await call('OBJECT', 'ENCODING', 'a', 'b'), err("ERR wrong number of arguments for 'object|encoding' command"));
  assert.equal(await call('OBJECT', 'HELP', 'extra'), err("ERR wrong number of arguments for 'object|help' command"));
  assert.equal(await call('OBJECT'), err("ERR wrong number of arguments for 'object' command"));
  const help = await n3.sendCommand(['OBJECT', 'HELP']);
  assert.equal(help.length, 11);
});

test('access times: reads touch keys, TOUCH always does, OBJECT/TYPE/EXISTS/TTL and NO-TOUCH clients do not', async () => {
  await setKeys(c, 'idle', 'touched', 'peeked', 'nt-persist', 'nt-touch', 'renamed', 'copied');
  await sleep(2100);
  const idle = async (k) => int(await call('OBJECT', 'IDLETIME', k));
  assert.ok((await idle('idle')) >= 2, 'OBJECT IDLETIME itself does not touch');
  assert.ok((await idle('idle')) >= 2);
  assert.equal(await call('TOUCH', 'touched'), ':1\r\n');
  assert.equal(await idle('touched'), 0);
  await call('TYPE', 'peeked');
  await call('EXISTS', 'peeked');
  await call('TTL', 'peeked');
  await call('PEXPIRETIME', 'peeked');
  await call('OBJECT', 'ENCODING', 'peeked');
  assert.ok((await idle('peeked')) >= 2, 'TYPE, EXISTS, TTL and OBJECT do not touch');
  assert.equal(await call('EXPIRE', 'peeked', '100'), ':1\r\n');
  assert.equal(await idle('peeked'), 0, 'EXPIRE looks the key up for writing');
  assert.equal(await call('RENAME', 'renamed', 'renamed2'), ok);
  assert.equal(await idle('renamed2'), 0);
  assert.equal(await call('COPY', 'copied', 'copied2'), ':1\r\n');
  assert.equal(await idle('copied2'), 0);

  const nt = await RawConn.connect(srv.port);
  try {
    assert.equal(await nt.call('CLIENT', 'NO-TOUCH', 'ON'), ok);
    assert.equal(await nt.call('EXPIRE', 'nt-persist', '100'), ':1\r\n');
    assert.equal(await nt.call('PERSIST', 'nt-persist'), ':1\r\n');
    assert.ok((await idle('nt-persist')) >= 2, 'a NO-TOUCH client does not touch');
    assert.equal(await nt.call('TOUCH', 'nt-touch'), ':1\r\n');
    assert.equal(await idle('nt-touch'), 0, 'TOUCH touches even for a NO-TOUCH client');
  } finally {
    nt.close();
  }
});

// ------------------------------------------------------------------ in-process: dirty counter, databases

test('writes count changed keys in server.dirty; `databases` bounds DB indexes', async () => {
  const running = await startServer({ port: 0, databases: 4 });
  const conn = await RawConn.connect(running.port);
  const s = running.server;
  const dirtyAfter = async (...cmd) => {
    const d0 = s.dirty;
    const reply = await conn.call(...cmd);
    return [s.dirty - d0, reply];
  };
  try {
    for (const k of ['a', 'b', 'c', 'd']) await conn.call('SET', k, '1');
    assert.deepEqual(await dirtyAfter('DEL', 'a', 'b', 'missing'), [2, ':2\r\n']);
    assert.deepEqual(await dirtyAfter('UNLINK', 'missing'), [0, ':0\r\n']);
    assert.deepEqual(await dirtyAfter('EXISTS', 'c'), [0, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('TOUCH', 'c'), [0, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('EXPIRE', 'c', '100'), [1, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('EXPIRE', 'c', '100', 'NX'), [0, ':0\r\n']);
    assert.deepEqual(await dirtyAfter('PERSIST', 'c'), [1, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('PERSIST', 'c'), [0, ':0\r\n']);
    assert.deepEqual(await dirtyAfter('RENAME', 'c', 'c2'), [1, ok]);
    assert.deepEqual(await dirtyAfter('RENAME', 'c2', 'c2'), [0, ok]);
    assert.deepEqual(await dirtyAfter('COPY', 'c2', 'c3'), [1, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('COPY', 'c2', 'c3'), [0, ':0\r\n']);
    assert.deepEqual(await dirtyAfter('MOVE', 'c3', '3'), [1, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('MOVE', 'c2', '4'), [0, err('ERR DB index is out of range')]);
    assert.deepEqual(await dirtyAfter('COPY', 'c2', 'x', 'DB', '4'), [0, err('ERR DB index is out of range')]);
    assert.deepEqual(await dirtyAfter('SWAPDB', '0', '4'), [0, err('ERR DB index is out of range')]);
    assert.deepEqual(await dirtyAfter('SWAPDB', '0', '3'), [1, ok]);
    assert.deepEqual(await dirtyAfter('EXPIRE', 'c3', '0'), [1, ':1\r\n']);
    assert.deepEqual(await dirtyAfter('FLUSHDB'), [0, ok]);
    for (const k of ['p', 'q']) await conn.call('SET', k, '1');
    assert.deepEqual(await dirtyAfter('FLUSHDB'), [2, ok]);
    for (const k of ['p', 'q', 'r']) await conn.call('SET', k, '1');
    assert.deepEqual(await dirtyAfter('FLUSHALL'), [5, ok], 'three keys here and c2, d in db 3');
    assert.equal(s.dbs.length, 4);

    // Keyspace hits and misses: read lookups count, write lookups and DEL do not.
    await conn.call('SET', 'h', '1');
    const keyspaceStats = s.keyspace.stats;
    const statsAfter = async (...cmd) => {
      const h0 = keyspaceStats.hits;
      const m0 = keyspaceStats.misses;
      await conn.call(...cmd);
      return [keyspaceStats.hits - h0, keyspaceStats.misses - m0];
    };
    assert.deepEqual(await statsAfter('EXISTS', 'h', 'nope', 'h'), [2, 1]);
    assert.deepEqual(await statsAfter('TYPE', 'nope'), [0, 1]);
    assert.deepEqual(await statsAfter('TTL', 'h'), [1, 0]);
    assert.deepEqual(await statsAfter('OBJECT', 'ENCODING', 'h'), [1, 0]);
    assert.deepEqual(await statsAfter('TOUCH', 'h', 'nope'), [1, 1]);
    assert.deepEqual(await statsAfter('COPY', 'h', 'h2'), [1, 0]);
    assert.deepEqual(await statsAfter('EXPIRE', 'h', '100'), [0, 0]);
    assert.deepEqual(await statsAfter('RENAME', 'h', 'h3'), [0, 0]);
    assert.deepEqual(await statsAfter('DEL', 'h3', 'nope'), [0, 0]);
    assert.deepEqual(await statsAfter('KEYS', '*'), [0, 0]);
  } finally {
    conn.close();
    await running.close();
  }
});
