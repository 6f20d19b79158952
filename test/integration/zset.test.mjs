// Sorted set commands against a real vireo-server. Exact replies (errors, RESP2
// and RESP3 shapes) are checked on raw sockets; ioredis and node-redis (RESP2 and
// RESP3) check what client libraries see. Expected values follow Valkey 8 and
// were cross-checked against redis-server 7.0.15 where the two agree (see
// test/interop/corpus/zsets.txt for the differential corpus).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const NOT_INT = '-ERR value is not an integer or out of range\r\n';
const NOT_FLOAT = '-ERR value is not a valid float\r\n';
const SYNTAX = '-ERR syntax error\r\n';
const MINMAX = '-ERR min or max is not a float\r\n';
const MINMAX_LEX = '-ERR min or max not valid string range item\r\n';
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n) => `:${n}\r\n`;
const arr = (...items) => `*${items.length}\r\n${items.join('')}`;
const bulks = (...items) => arr(...items.map(bulk));
const dbl = (s) => `,${s}\r\n`;
/** A WITHSCORES reply in RESP2 (flat) and RESP3 (pairs), from [member, score] pairs. */
const ws2 = (...pairs) => arr(...pairs.flatMap(([m, s]) => [bulk(m), bulk(s)]));
const ws3 = (...pairs) => arr(...pairs.map(([m, s]) => arr(bulk(m), dbl(s))));

let srv;
let raw;
let raw3;
let r;
let nr2;
let nr3;

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
  await r.set('zstr', 'x');
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

/**
 * Runs rows of [cmd, resp2, resp3?] (resp3 defaults to resp2) on both protocols:
 * all rows in RESP2 after setup(), then all rows in RESP3 after setup() again.
 */
async function both(rows, setup = async () => {}) {
  for (const [conn, p] of [
    [raw, 2],
    [raw3, 3],
  ]) {
    await setup();
    for (const [cmd, w2, w3] of rows) {
      assert.equal(await conn.call(...cmd), p === 2 ? w2 : (w3 ?? w2), `RESP${p} ${JSON.stringify(cmd)}`);
    }
  }
}

// ------------------------------------------------------------------ ZADD / ZINCRBY

test('ZADD: flags, errors, replies', async () => {
  await r.del('za');
  await expectRaw(raw, [
    [['ZADD', 'za', '1', 'a', '2', 'b'], int(2)],
    [['ZADD', 'za', '3', 'a', '4', 'c'], int(1)],
    [['ZADD', 'za', 'CH', '5', 'a', '4', 'c', '6', 'd'], int(2)],
    [['ZADD', 'za', 'NX', '100', 'a', '7', 'e'], int(1)],
    [['ZSCORE', 'za', 'a'], bulk('5')],
    [['ZADD', 'za', 'XX', 'CH', '8', 'a', '9', 'nope'], int(1)],
    [['ZSCORE', 'za', 'nope'], '$-1\r\n'],
    [['ZADD', 'za', 'GT', 'CH', '1', 'a', '10', 'b'], int(1)],
    [['ZADD', 'za', 'LT', 'CH', '100', 'a', '1', 'b'], int(1)],
    [['ZADD', 'za', 'GT', '1', 'new'], int(1)],
    [['ZADD', 'za', 'NX', 'XX', '1', 'a'], '-ERR XX and NX options at the same time are not compatible\r\n'],
    [['ZADD', 'za', 'GT', 'LT', '1', 'a'], '-ERR GT, LT, and/or NX options at the same time are not compatible\r\n'],
    [['ZADD', 'za', 'NX', 'GT', '1', 'a'], '-ERR GT, LT, and/or NX options at the same time are not compatible\r\n'],
    [['ZADD', 'za', 'INCR', '1', 'a', '2', 'b'], '-ERR INCR option supports a single increment-element pair\r\n'],
    [['ZADD', 'za', '1', 'a', 'b'], SYNTAX],
    [['ZADD', 'za', 'NX', '1'], SYNTAX],
    [['ZADD', 'za', '1', 'a', '2'], SYNTAX],
    [['ZADD', 'za', 'x', 'a'], NOT_FLOAT],
    [['ZADD', 'za', 'nan', 'a'], NOT_FLOAT],
    [['ZADD', 'za', ' 1', 'a'], NOT_FLOAT],
    [['ZADD', 'za', '1e400', 'a'], NOT_FLOAT],
    [['ZADD', 'za', '1', 'a', 'x', 'b'], NOT_FLOAT],
    [['ZADD', 'zmissing', 'XX', '1', 'a'], int(0)],
    [['EXISTS', 'zmissing'], int(0)],
    [['ZADD', 'za'], "-ERR wrong number of arguments for 'zadd' command\r\n"],
    [['ZADD', 'zstr', '1', 'a'], WRONGTYPE],
  ]);
  await both([
    [['ZADD', 'za', 'INCR', '2.5', 'a'], bulk('7.5'), dbl('7.5')],
    [['ZADD', 'za', 'INCR', '-0', 'new'], bulk('-0'), dbl('-0')],
    [['ZSCORE', 'za', 'new'], bulk('0'), dbl('0')],
    [['ZADD', 'za', 'INCR', 'NX', '1', 'a'], '$-1\r\n', '_\r\n'],
    [['ZADD', 'za', 'INCR', 'XX', '1', 'none'], '$-1\r\n', '_\r\n'],
    [['ZADD', 'zmissing', 'XX', 'INCR', '1', 'a'], '$-1\r\n', '_\r\n'],
    [['ZADD', 'za', 'INCR', 'GT', '-1', 'a'], '$-1\r\n', '_\r\n'],
    [['ZADD', 'za', 'INCR', 'inf', 'a'], bulk('inf'), dbl('inf')],
    [['ZADD', 'za', 'INCR', '-inf', 'a'], '-ERR resulting score is not a number (NaN)\r\n'],
  ], async () => {
    await r.del('za');
    await r.zadd('za', 5, 'a');
  });
  // Clients.
  await r.del('za2');
  assert.equal(await r.zadd('za2', 1, 'a', 2, 'b'), 2);
  assert.equal(await r.zadd('za2', 'INCR', 3, 'a'), '4');
  assert.equal(await nr2.zAdd('za2', [{ score: 5, value: 'c' }]), 1);
  assert.equal(await nr3.zAdd('za2', [{ score: 6, value: 'c' }], { CH: true }), 1);
  assert.equal(await nr3.zScore('za2', 'c'), 6);
  assert.equal(await nr2.zScore('za2', 'c'), 6);
});

test('ZINCRBY', async () => {
  await r.del('zi');
  await both([
    [['ZINCRBY', 'zi', '2.5', 'm'], bulk('2.5'), dbl('2.5')],
    [['ZINCRBY', 'zi', '-5', 'm'], bulk('-2.5'), dbl('-2.5')],
    [['ZINCRBY', 'zi', 'abc', 'm'], NOT_FLOAT],
    [['ZINCRBY', 'zi', 'nx', 'm'], SYNTAX],
    [['ZINCRBY', 'zstr', '1', 'm'], WRONGTYPE],
  ], () => r.del('zi'));
  assert.equal(await r.zincrby('zi', 1, 'm'), '-1.5');
  assert.equal(await nr2.zIncrBy('zi', 1, 'm'), -0.5);
  assert.equal(await nr3.zIncrBy('zi', 1, 'm'), 0.5);
});

// ------------------------------------------------------------------ simple reads

test('ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK', async () => {
  await r.del('zr');
  await r.zadd('zr', 10, 'a', 20, 'b', 30, 'c', 30, 'd');
  await both([
    [['ZCARD', 'zr'], int(4)],
    [['ZCARD', 'nokey'], int(0)],
    [['ZCARD', 'zstr'], WRONGTYPE],
    [['ZSCORE', 'zr', 'b'], bulk('20'), dbl('20')],
    [['ZSCORE', 'zr', 'x'], '$-1\r\n', '_\r\n'],
    [['ZSCORE', 'nokey', 'x'], '$-1\r\n', '_\r\n'],
    [['ZMSCORE', 'zr', 'a', 'x', 'd'], arr(bulk('10'), '$-1\r\n', bulk('30')), arr(dbl('10'), '_\r\n', dbl('30'))],
    [['ZMSCORE', 'nokey', 'a'], arr('$-1\r\n'), arr('_\r\n')],
    [['ZMSCORE', 'zstr', 'a'], WRONGTYPE],
    [['ZRANK', 'zr', 'a'], int(0)],
    [['ZRANK', 'zr', 'd'], int(3)],
    [['ZREVRANK', 'zr', 'a'], int(3)],
    [['ZREVRANK', 'zr', 'c'], int(1)],
    [['ZRANK', 'zr', 'x'], '$-1\r\n', '_\r\n'],
    [['ZRANK', 'zr', 'b', 'WITHSCORE'], arr(int(1), bulk('20')), arr(int(1), dbl('20'))],
    [['ZREVRANK', 'zr', 'b', 'withscore'], arr(int(2), bulk('20')), arr(int(2), dbl('20'))],
    [['ZRANK', 'zr', 'x', 'WITHSCORE'], '*-1\r\n', '_\r\n'],
    [['ZRANK', 'nokey', 'x', 'WITHSCORE'], '*-1\r\n', '_\r\n'],
    [['ZRANK', 'zr', 'a', 'bogus'], SYNTAX],
    [['ZRANK', 'zr', 'a', 'WITHSCORE', 'x'], "-ERR wrong number of arguments for 'zrank' command\r\n"],
    [['ZRANK', 'zstr', 'a'], WRONGTYPE],
    [['ZREM', 'zr', 'a', 'x'], int(1)],
    [['ZREM', 'nokey', 'a'], int(0)],
    [['ZREM', 'zstr', 'a'], WRONGTYPE],
  ], async () => {
    await r.del('zr');
    await r.zadd('zr', 10, 'a', 20, 'b', 30, 'c', 30, 'd');
  });
  assert.equal(await r.zrem('zr', 'b', 'c', 'd'), 3);
  assert.equal(await r.exists('zr'), 0);
  await r.zadd('zr', 1, 'a', 2, 'b');
  assert.equal(await r.zrank('zr', 'b'), 1);
  assert.equal(await r.zscore('zr', 'b'), '2');
  assert.deepEqual(await r.zmscore('zr', 'a', 'x'), ['1', null]);
  assert.equal(await nr2.zRank('zr', 'b'), 1);
  assert.equal(await nr3.zRevRank('zr', 'b'), 0);
  assert.deepEqual(await nr3.zmScore('zr', ['a', 'x']), [1, null]);
  assert.equal(await nr2.zCard('zr'), 2);
  assert.equal(await nr3.zRem('zr', ['a', 'b']), 2);
});

test('ZCOUNT and ZLEXCOUNT with every kind of bound', async () => {
  await r.del('zc', 'zl');
  await r.zadd('zc', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', '-inf', 'ninf', '+inf', 'pinf');
  await r.zadd('zl', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
  await both([
    [['ZCOUNT', 'zc', '-inf', '+inf'], int(7)],
    [['ZCOUNT', 'zc', '(-inf', '(inf'], int(5)],
    [['ZCOUNT', 'zc', '2', '4'], int(3)],
    [['ZCOUNT', 'zc', '(2', '(4'], int(1)],
    [['ZCOUNT', 'zc', '4', '2'], int(0)],
    [['ZCOUNT', 'zc', '(3', '3'], int(0)],
    [['ZCOUNT', 'zc', '', '1'], int(1)],
    [['ZCOUNT', 'zc', ' 2', '3'], int(2)],
    [['ZCOUNT', 'zc', '2 ', '3'], MINMAX],
    [['ZCOUNT', 'zc', 'nan', '3'], MINMAX],
    [['ZCOUNT', 'zc', 'x', '3'], MINMAX],
    [['ZCOUNT', 'nokey', '0', '1'], int(0)],
    [['ZCOUNT', 'zstr', '0', '1'], WRONGTYPE],
    [['ZLEXCOUNT', 'zl', '-', '+'], int(4)],
    [['ZLEXCOUNT', 'zl', '[b', '[c'], int(2)],
    [['ZLEXCOUNT', 'zl', '(b', '[c'], int(1)],
    [['ZLEXCOUNT', 'zl', '+', '-'], int(0)],
    [['ZLEXCOUNT', 'zl', 'b', 'c'], MINMAX_LEX],
    [['ZLEXCOUNT', 'zl', '', '+'], MINMAX_LEX],
    [['ZLEXCOUNT', 'zl', '-x', '+'], MINMAX_LEX],
    [['ZLEXCOUNT', 'nokey', '-', '+'], int(0)],
    [['ZLEXCOUNT', 'zstr', '-', '+'], WRONGTYPE],
  ]);
  assert.equal(await r.zcount('zc', 2, '(5'), 3);
  assert.equal(await nr2.zCount('zc', 2, 5), 4);
  assert.equal(await nr3.zLexCount('zl', '[a', '(c'), 2);
});

// ------------------------------------------------------------------ ZRANGE family

test('ZRANGE by rank, score and lex; REV, LIMIT, WITHSCORES; legacy forms', async () => {
  await r.del('zg', 'zgl');
  await r.zadd('zg', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5.5, 'e');
  await r.zadd('zgl', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e');
  await both([
    [['ZRANGE', 'zg', '0', '-1'], bulks('a', 'b', 'c', 'd', 'e')],
    [['ZRANGE', 'zg', '1', '2', 'WITHSCORES'], ws2(['b', '2'], ['c', '3']), ws3(['b', '2'], ['c', '3'])],
    [['ZRANGE', 'zg', '-2', '100'], bulks('d', 'e')],
    [['ZRANGE', 'zg', '3', '1'], '*0\r\n'],
    [['ZRANGE', 'zg', '0', '1', 'REV', 'WITHSCORES'], ws2(['e', '5.5'], ['d', '4']), ws3(['e', '5.5'], ['d', '4'])],
    [['ZRANGE', 'zg', '(1', '4', 'BYSCORE'], bulks('b', 'c', 'd')],
    [['ZRANGE', 'zg', '4', '(1', 'BYSCORE', 'REV'], bulks('d', 'c', 'b')],
    [['ZRANGE', 'zg', '-inf', '+inf', 'BYSCORE', 'LIMIT', '1', '2'], bulks('b', 'c')],
    [['ZRANGE', 'zg', '-inf', '+inf', 'BYSCORE', 'LIMIT', '3', '-1'], bulks('d', 'e')],
    [['ZRANGE', 'zg', '-inf', '+inf', 'BYSCORE', 'LIMIT', '-1', '2'], '*0\r\n'],
    [['ZRANGE', 'zg', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '1', '1', 'WITHSCORES'], ws2(['d', '4']), ws3(['d', '4'])],
    [['ZRANGE', 'zgl', '[b', '(d', 'BYLEX'], bulks('b', 'c')],
    [['ZRANGE', 'zgl', '+', '-', 'BYLEX', 'REV', 'LIMIT', '1', '2'], bulks('d', 'c')],
    [['ZRANGE', 'zg', '0', '-1', 'LIMIT', '0', '1'], '-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n'],
    [['ZRANGE', 'zgl', '-', '+', 'BYLEX', 'WITHSCORES'], '-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n'],
    [['ZRANGE', 'zg', 'a', '1'], NOT_INT],
    [['ZRANGE', 'zg', 'x', '1', 'BYSCORE'], MINMAX],
    [['ZRANGE', 'zgl', 'a', '+', 'BYLEX'], MINMAX_LEX],
    [['ZRANGE', 'zg', '0', '1', 'BYSCORE', 'BYLEX'], SYNTAX],
    [['ZRANGE', 'zg', '0', '1', 'bogus'], SYNTAX],
    [['ZRANGE', 'nokey', '0', '-1'], '*0\r\n'],
    [['ZRANGE', 'zstr', '0', '-1'], WRONGTYPE],
    [['ZREVRANGE', 'zg', '0', '1'], bulks('e', 'd')],
    [['ZREVRANGE', 'zg', '0', '0', 'WITHSCORES'], ws2(['e', '5.5']), ws3(['e', '5.5'])],
    [['ZREVRANGE', 'zg', '0', '1', 'REV'], SYNTAX],
    [['ZRANGEBYSCORE', 'zg', '2', '4', 'WITHSCORES', 'LIMIT', '1', '5'], ws2(['c', '3'], ['d', '4']), ws3(['c', '3'], ['d', '4'])],
    [['ZRANGEBYSCORE', 'zg', '2', '4', 'BYSCORE'], SYNTAX],
    [['ZREVRANGEBYSCORE', 'zg', '4', '2'], bulks('d', 'c', 'b')],
    [['ZREVRANGEBYSCORE', 'zg', '2', '4'], '*0\r\n'],
    [['ZRANGEBYLEX', 'zgl', '[c', '+'], bulks('c', 'd', 'e')],
    [['ZRANGEBYLEX', 'zgl', '-', '+', 'LIMIT', '1', '1'], bulks('b')],
    [['ZRANGEBYLEX', 'zgl', '-', '+', 'WITHSCORES'], '-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n'],
    [['ZRANGEBYLEX', 'zgl', '-', '+', 'BYLEX'], SYNTAX],
    [['ZREVRANGEBYLEX', 'zgl', '(c', '-'], bulks('b', 'a')],
  ]);
  assert.deepEqual(await r.zrange('zg', 0, 1, 'WITHSCORES'), ['a', '1', 'b', '2']);
  assert.deepEqual(await r.zrangebyscore('zg', '(1', 3), ['b', 'c']);
  assert.deepEqual(await r.zrevrangebyscore('zg', '+inf', 5), ['e']);
  assert.deepEqual(await r.zrangebylex('zgl', '-', '(b'), ['a']);
  assert.deepEqual(await r.zrevrangebylex('zgl', '+', '(d'), ['e']);
  assert.deepEqual(await r.zrevrange('zg', 0, 0), ['e']);
  for (const nr of [nr2, nr3]) {
    assert.deepEqual(await nr.zRangeWithScores('zg', 0, 1), [
      { value: 'a', score: 1 },
      { value: 'b', score: 2 },
    ]);
    assert.deepEqual(await nr.zRange('zg', 5.5, 4, { BY: 'SCORE', REV: true }), ['e', 'd']);
    assert.deepEqual(await nr.zRange('zgl', '[b', '[c', { BY: 'LEX' }), ['b', 'c']);
    assert.deepEqual(await nr.zRangeByScore('zg', 2, 3), ['b', 'c']);
  }
});

test('ZRANGESTORE', async () => {
  await r.del('zs', 'zsd');
  await r.zadd('zs', 1, 'a', 2, 'b', 3, 'c');
  await both([
    [['ZRANGESTORE', 'zsd', 'zs', '0', '1'], int(2)],
    [['ZRANGE', 'zsd', '0', '-1', 'WITHSCORES'], ws2(['a', '1'], ['b', '2']), ws3(['a', '1'], ['b', '2'])],
    [['ZRANGESTORE', 'zsd', 'zs', '+inf', '(1', 'BYSCORE', 'REV', 'LIMIT', '0', '1'], int(1)],
    [['ZRANGE', 'zsd', '0', '-1'], bulks('c')],
    [['ZRANGESTORE', 'zsd', 'zs', '5', '10'], int(0)],
    [['EXISTS', 'zsd'], int(0)],
    [['ZRANGESTORE', 'zsd', 'zs', '0', '-1', 'WITHSCORES'], SYNTAX],
    [['ZRANGESTORE', 'zsd', 'zstr', '0', '-1'], WRONGTYPE],
    [['SET', 'zsd', 'x'], '+OK\r\n'],
    [['ZRANGESTORE', 'zsd', 'nokey', '0', '-1'], int(0)],
    [['EXISTS', 'zsd'], int(0)],
  ]);
  assert.equal(await r.zrangestore('zsd', 'zs', 0, -1), 3);
  assert.equal(await nr2.zRangeStore('zsd', 'zs', 0, 0), 1);
  assert.equal(await nr3.zRangeStore('zsd', 'zs', 2, 3, { BY: 'SCORE' }), 2);
  assert.deepEqual(await r.zrange('zsd', 0, -1), ['b', 'c']);
});

test('ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX', async () => {
  await r.del('zx', 'zxl');
  await r.zadd('zx', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f');
  await r.zadd('zxl', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
  await both([
    [['ZREMRANGEBYRANK', 'zx', '0', '0'], int(1)],
    [['ZREMRANGEBYRANK', 'zx', '-1', '-1'], int(1)],
    [['ZREMRANGEBYRANK', 'zx', '10', '20'], int(0)],
    [['ZREMRANGEBYRANK', 'zx', 'x', '1'], NOT_INT],
    [['ZREMRANGEBYSCORE', 'zx', '(2', '4'], int(2)],
    [['ZREMRANGEBYSCORE', 'zx', 'x', '4'], MINMAX],
    [['ZRANGE', 'zx', '0', '-1'], bulks('b', 'e')],
    [['ZREMRANGEBYLEX', 'zxl', '[b', '(d'], int(2)],
    [['ZREMRANGEBYLEX', 'zxl', 'b', 'd'], MINMAX_LEX],
    [['ZREMRANGEBYRANK', 'nokey', '0', '1'], int(0)],
    [['ZREMRANGEBYSCORE', 'zstr', '0', '1'], WRONGTYPE],
  ], async () => {
    await r.del('zx', 'zxl');
    await r.zadd('zx', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f');
    await r.zadd('zxl', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
  });
  assert.equal(await r.zremrangebyscore('zx', '-inf', '+inf'), 2);
  assert.equal(await r.exists('zx'), 0);
  assert.equal(await nr2.zRemRangeByLex('zxl', '-', '+'), 2);
  assert.equal(await r.exists('zxl'), 0);
  await r.zadd('zx', 1, 'a', 2, 'b');
  assert.equal(await nr3.zRemRangeByRank('zx', 0, -1), 2);
  assert.equal(await r.exists('zx'), 0);
});

// ------------------------------------------------------------------ pops

test('ZPOPMIN, ZPOPMAX: flat in RESP2, pairs with COUNT in RESP3', async () => {
  await r.del('zp');
  await r.zadd('zp', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f');
  await both([
    [['ZPOPMIN', 'zp'], bulks('a', '1'), arr(bulk('a'), dbl('1'))],
    [['ZPOPMAX', 'zp', '1'], bulks('f', '6'), arr(arr(bulk('f'), dbl('6')))],
    [['ZPOPMIN', 'zp', '0'], '*0\r\n'],
    [['ZPOPMIN', 'zp', '-1'], '-ERR value is out of range, must be positive\r\n'],
    [['ZPOPMIN', 'zp', '1', '2'], SYNTAX],
    [['ZPOPMIN', 'nokey'], '*0\r\n'],
    [['ZPOPMIN', 'zstr'], WRONGTYPE],
  ], async () => {
    await r.del('zp');
    await r.zadd('zp', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f');
  });
  assert.equal(await raw.call('ZPOPMAX', 'zp', '10'), ws2(['e', '5'], ['d', '4'], ['c', '3'], ['b', '2']));
  assert.equal(await r.exists('zp'), 0);
  await r.zadd('zp', 1, 'a', 2, 'b', 3, 'c');
  assert.deepEqual(await r.zpopmin('zp'), ['a', '1']);
  assert.deepEqual(await nr2.zPopMax('zp'), { value: 'c', score: 3 });
  assert.deepEqual(await nr3.zPopMinCount('zp', 5), [{ value: 'b', score: 2 }]);
  assert.equal(await r.exists('zp'), 0);
});

test('ZMPOP', async () => {
  await r.del('zm1', 'zm2');
  await r.zadd('zm1', 1, 'a', 2, 'b', 3, 'c');
  // Exact shapes, one protocol at a time.
  await r.del('zm1');
  await r.zadd('zm1', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
  await expectRaw(raw, [
    [['ZMPOP', '2', 'zm0', 'zm1', 'MIN'], arr(bulk('zm1'), arr(arr(bulk('a'), bulk('1'))))],
    [['ZMPOP', '1', 'zm1', 'MAX', 'COUNT', '2'], arr(bulk('zm1'), arr(arr(bulk('d'), bulk('4')), arr(bulk('c'), bulk('3'))))],
    [['ZMPOP', '1', 'zm0', 'MIN'], '*-1\r\n'],
    [['ZMPOP', '0', 'zm1', 'MIN'], '-ERR numkeys should be greater than 0\r\n'],
    [['ZMPOP', 'x', 'zm1', 'MIN'], '-ERR numkeys should be greater than 0\r\n'],
    [['ZMPOP', '1', 'zm1', 'MIN', 'COUNT', '0'], '-ERR count should be greater than 0\r\n'],
    [['ZMPOP', '1', 'zm1', 'MED'], SYNTAX],
    [['ZMPOP', '3', 'zm1', 'MIN'], SYNTAX],
    [['ZMPOP', '1', 'zm1', 'MIN', 'COUNT', '1', 'COUNT', '1'], SYNTAX],
    [['ZMPOP', '1', 'zstr', 'MIN'], WRONGTYPE],
  ]);
  await expectRaw(raw3, [
    [['ZMPOP', '1', 'zm1', 'MIN', 'COUNT', '5'], arr(bulk('zm1'), arr(arr(bulk('b'), dbl('2'))))],
    [['ZMPOP', '1', 'zm1', 'MIN'], '_\r\n'],
  ]);
  assert.equal(await r.exists('zm1'), 0);
  await r.zadd('zm2', 1, 'x');
  assert.deepEqual(await nr2.zmPop(['zm1', 'zm2'], 'MIN'), { key: 'zm2', members: [{ value: 'x', score: 1 }] });
  assert.equal(await nr3.zmPop('zm2', 'MAX'), null);
});

test('BZPOPMIN, BZPOPMAX, BZMPOP: immediate, woken by a write, timeout', async () => {
  await r.del('bz1', 'bz2');
  await r.zadd('bz2', 1, 'a', 2, 'b');
  await expectRaw(raw, [
    [['BZPOPMIN', 'bz1', 'bz2', '0'], bulks('bz2', 'a', '1')],
    [['BZPOPMAX', 'bz2', '0'], bulks('bz2', 'b', '2')],
    [['BZPOPMIN', 'bz1', '0.01'], '*-1\r\n'],
    [['BZPOPMIN', 'bz1', 'x'], '-ERR timeout is not a float or out of range\r\n'],
    [['BZPOPMIN', 'bz1', '-1'], '-ERR timeout is negative\r\n'],
    [['BZPOPMIN', 'zstr', '0'], WRONGTYPE],
    [['BZMPOP', '0.01', '1', 'bz1', 'MIN'], '*-1\r\n'],
    [['BZMPOP', '0', '1', 'bz1', 'BAD'], SYNTAX],
  ]);
  await expectRaw(raw3, [[['BZPOPMIN', 'bz1', '0.01'], '_\r\n']]);
  // A blocked client is served by a ZADD from another connection.
  const blocker = await RawConn.connect(srv.port);
  blocker.send('BZPOPMAX', 'bz1', '5');
  await new Promise((res) => setTimeout(res, 50));
  await r.zadd('bz1', 7, 'x', 8, 'y');
  assert.equal(await blocker.readReply(), bulks('bz1', 'y', '8'));
  blocker.send('BZMPOP', '5', '3', 'bz0', 'bz3', 'bz4', 'MIN', 'COUNT', '2');
  await new Promise((res) => setTimeout(res, 50));
  await r.rpush('bz4', 'a list does not serve');
  await r.zadd('bz3', 1, 'p', 2, 'q', 3, 's');
  assert.equal(await blocker.readReply(), arr(bulk('bz3'), arr(arr(bulk('p'), bulk('1')), arr(bulk('q'), bulk('2')))));
  blocker.close();
  // Clients.
  await r.zadd('bz1', 1, 'm');
  assert.deepEqual(await r.bzpopmin('bz1', 0), ['bz1', 'm', '1']);
  assert.deepEqual(await nr2.bzPopMax('bz1', 0), { key: 'bz1', value: 'x', score: 7 });
  assert.equal(await nr3.bzPopMin('bz1', 0.01), null);
});

// ------------------------------------------------------------------ ZRANDMEMBER

test('ZRANDMEMBER', async () => {
  await r.del('zrm');
  await r.zadd('zrm', 1, 'a', 2, 'b', 3, 'c');
  const members = new Set(['a', 'b', 'c']);
  assert.ok(members.has(await r.zrandmember('zrm')));
  await both([
    [['ZRANDMEMBER', 'nokey'], '$-1\r\n', '_\r\n'],
    [['ZRANDMEMBER', 'nokey', '3'], '*0\r\n'],
    [['ZRANDMEMBER', 'zrm', '0'], '*0\r\n'],
    [['ZRANDMEMBER', 'zrm', '5'], bulks('c', 'b', 'a')],
    [['ZRANDMEMBER', 'zrm', '3', 'WITHSCORES'], ws2(['c', '3'], ['b', '2'], ['a', '1']), ws3(['c', '3'], ['b', '2'], ['a', '1'])],
    [['ZRANDMEMBER', 'zrm', 'x'], NOT_INT],
    [['ZRANDMEMBER', 'zrm', '1', 'bad'], SYNTAX],
    [['ZRANDMEMBER', 'zrm', '-9223372036854775808'], '-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n'],
    [['ZRANDMEMBER', 'zrm', '9223372036854775807', 'WITHSCORES'], '-ERR value is out of range\r\n'],
    [['ZRANDMEMBER', 'zstr'], WRONGTYPE],
    [['ZRANDMEMBER', 'zstr', '1'], WRONGTYPE],
  ]);
  const rep = await r.zrandmember('zrm', -20);
  assert.equal(rep.length, 20);
  for (const m of rep) assert.ok(members.has(m));
  const two = await r.zrandmember('zrm', 2);
  assert.equal(new Set(two).size, 2);
  const pairs = await nr3.sendCommand(['ZRANDMEMBER', 'zrm', '-4', 'WITHSCORES']);
  assert.equal(pairs.length, 4);
  for (const [m, s] of pairs) assert.equal(Number(s), { a: 1, b: 2, c: 3 }[m]);
  assert.equal((await nr2.zRandMemberCount('zrm', 2)).length, 2);
  // Distinct sampling from a big set: both algorithms (dense and sparse).
  await r.del('zrmbig');
  const args = [];
  for (let i = 0; i < 1000; i++) args.push(i, `m${i}`);
  await r.zadd('zrmbig', ...args);
  for (const n of [10, 500, 999]) {
    const got = await r.zrandmember('zrmbig', n);
    assert.equal(got.length, n);
    assert.equal(new Set(got).size, n);
  }
});

// ------------------------------------------------------------------ set operations

test('ZUNION, ZINTER, ZDIFF and their STORE forms; WEIGHTS, AGGREGATE, sets as inputs', async () => {
  await r.del('ua', 'ub', 'us', 'uo');
  await r.zadd('ua', 1, 'x', 2, 'y', 3, 'z');
  await r.zadd('ub', 10, 'y', 20, 'z', 30, 'w');
  await r.sadd('us', 'y', 'w', 'q');
  await both([
    [['ZUNION', '2', 'ua', 'ub'], bulks('x', 'y', 'z', 'w')],
    [['ZUNION', '2', 'ua', 'ub', 'WITHSCORES'], ws2(['x', '1'], ['y', '12'], ['z', '23'], ['w', '30']), ws3(['x', '1'], ['y', '12'], ['z', '23'], ['w', '30'])],
    [['ZUNION', '2', 'ua', 'ub', 'WEIGHTS', '2', '0.5', 'AGGREGATE', 'MAX', 'WITHSCORES'], ws2(['x', '2'], ['y', '5'], ['z', '10'], ['w', '15']), ws3(['x', '2'], ['y', '5'], ['z', '10'], ['w', '15'])],
    [['ZUNION', '3', 'ua', 'us', 'nokey', 'AGGREGATE', 'MIN', 'WITHSCORES'], ws2(['q', '1'], ['w', '1'], ['x', '1'], ['y', '1'], ['z', '3']), ws3(['q', '1'], ['w', '1'], ['x', '1'], ['y', '1'], ['z', '3'])],
    [['ZINTER', '2', 'ua', 'ub', 'WITHSCORES'], ws2(['y', '12'], ['z', '23']), ws3(['y', '12'], ['z', '23'])],
    [['ZINTER', '3', 'ua', 'ub', 'us'], bulks('y')],
    [['ZINTER', '2', 'ua', 'nokey'], '*0\r\n'],
    [['ZDIFF', '2', 'ua', 'ub', 'WITHSCORES'], ws2(['x', '1']), ws3(['x', '1'])],
    [['ZDIFF', '2', 'ub', 'us'], bulks('z')],
    [['ZDIFF', '2', 'ua', 'ua'], '*0\r\n'],
    [['ZDIFF', '2', 'ua', 'ub', 'WEIGHTS', '1', '1'], SYNTAX],
    [['ZUNION', '0', 'ua'], "-ERR at least 1 input key is needed for 'zunion' command\r\n"],
    [['ZUNION', 'x', 'ua'], NOT_INT],
    [['ZUNION', '3', 'ua', 'ub'], SYNTAX],
    [['ZUNION', '2', 'ua', 'ub', 'WEIGHTS', '1', 'x'], '-ERR weight value is not a float\r\n'],
    [['ZUNION', '2', 'ua', 'ub', 'AGGREGATE', 'avg'], SYNTAX],
    [['ZUNION', '2', 'ua', 'zstr'], WRONGTYPE],
    [['ZUNIONSTORE', 'uo', '2', 'ua', 'ub'], int(4)],
    [['ZRANGE', 'uo', '0', '-1', 'WITHSCORES'], ws2(['x', '1'], ['y', '12'], ['z', '23'], ['w', '30']), ws3(['x', '1'], ['y', '12'], ['z', '23'], ['w', '30'])],
    [['ZINTERSTORE', 'uo', '2', 'ua', 'ub', 'WEIGHTS', '1', '2', 'AGGREGATE', 'min'], int(2)],
    [['ZRANGE', 'uo', '0', '-1', 'WITHSCORES'], ws2(['y', '2'], ['z', '3']), ws3(['y', '2'], ['z', '3'])],
    [['ZDIFFSTORE', 'uo', '2', 'ua', 'ub'], int(1)],
    [['ZINTERSTORE', 'uo', '2', 'ua', 'nokey'], int(0)],
    [['EXISTS', 'uo'], int(0)],
    [['ZUNIONSTORE', 'uo', '2', 'ua', 'ub', 'WITHSCORES'], SYNTAX],
    [['ZUNIONSTORE', 'uo', '0', 'ua'], "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"],
    [['ZDIFFSTORE', 'uo', '2', 'ua', 'zstr'], WRONGTYPE],
  ]);
  // inf + -inf is 0 in SUM; 0 * inf weight is 0.
  await r.del('i1', 'i2');
  await r.zadd('i1', 'inf', 'x');
  await r.zadd('i2', '-inf', 'x');
  assert.deepEqual(await r.zunion(2, 'i1', 'i2', 'WITHSCORES'), ['x', '0']);
  assert.deepEqual(await r.zunion(1, 'i1', 'WEIGHTS', 0, 'WITHSCORES'), ['x', '0']);
  assert.equal(await r.zunionstore('uo', 2, 'ua', 'ub'), 4);
  assert.equal(await r.zinterstore('uo', 2, 'ua', 'ub'), 2);
  assert.deepEqual(await r.zdiff(2, 'ua', 'ub'), ['x']);
  assert.deepEqual(await r.zinter(2, 'ua', 'ub'), ['y', 'z']);
  for (const nr of [nr2, nr3]) {
    assert.deepEqual(await nr.zUnion(['ua', 'ub']), ['x', 'y', 'z', 'w']);
    assert.deepEqual(await nr.zInterWithScores(['ua', 'ub']), [
      { value: 'y', score: 12 },
      { value: 'z', score: 23 },
    ]);
    assert.deepEqual(await nr.zDiffWithScores(['ua', 'ub']), [{ value: 'x', score: 1 }]);
    assert.equal(await nr.zUnionStore('uo', ['ua', 'ub']), 4);
    assert.equal(await nr.zDiffStore('uo', ['ua', 'ub']), 1);
    assert.equal(await nr.zInterStore('uo', ['ua', 'ub']), 2);
  }
});

test('ZINTERCARD', async () => {
  await r.del('ca', 'cb');
  await r.zadd('ca', 1, 'x', 2, 'y', 3, 'z');
  await r.zadd('cb', 1, 'y', 2, 'z', 3, 'w');
  await both([
    [['ZINTERCARD', '2', 'ca', 'cb'], int(2)],
    [['ZINTERCARD', '2', 'ca', 'cb', 'LIMIT', '1'], int(1)],
    [['ZINTERCARD', '2', 'ca', 'cb', 'LIMIT', '0'], int(2)],
    [['ZINTERCARD', '2', 'ca', 'cb', 'LIMIT', '-1'], "-ERR LIMIT can't be negative\r\n"],
    [['ZINTERCARD', '2', 'ca', 'nokey'], int(0)],
    [['ZINTERCARD', '0', 'ca'], "-ERR at least 1 input key is needed for 'zintercard' command\r\n"],
    [['ZINTERCARD', '2', 'ca', 'cb', 'WITHSCORES'], SYNTAX],
    [['ZINTERCARD', '2', 'ca', 'zstr'], WRONGTYPE],
  ]);
  assert.equal(await r.zintercard(2, 'ca', 'cb'), 2);
  assert.equal(await nr2.zInterCard(['ca', 'cb']), 2);
  assert.equal(await nr3.zInterCard(['ca', 'cb'], { LIMIT: 1 }), 1);
});

// ------------------------------------------------------------------ ZSCAN

test('ZSCAN: listpack in one call, skiplist by cursor, MATCH, COUNT, NOSCORES', async () => {
  await r.del('zsc');
  await r.zadd('zsc', 1, 'a', 2, 'b', 1.5, 'ab');
  await both([
    [['ZSCAN', 'zsc', '0'], arr(bulk('0'), bulks('a', '1', 'ab', '1.5', 'b', '2'))],
    [['ZSCAN', 'zsc', '0', 'MATCH', 'a*', 'COUNT', '1'], arr(bulk('0'), bulks('a', '1', 'ab', '1.5'))],
    [['ZSCAN', 'zsc', '0', 'NOSCORES'], arr(bulk('0'), bulks('a', 'ab', 'b'))],
    [['ZSCAN', 'zsc', '0', 'NOVALUES'], '-ERR NOVALUES option can only be used in HSCAN\r\n'],
    [['ZSCAN', 'zsc', '0', 'COUNT', '0'], SYNTAX],
    [['ZSCAN', 'zsc', '0', 'TYPE', 'zset'], SYNTAX],
    [['ZSCAN', 'zsc', 'x'], '-ERR invalid cursor\r\n'],
    [['ZSCAN', 'nokey', '0'], arr(bulk('0'), '*0\r\n')],
    [['ZSCAN', 'zstr', '0'], WRONGTYPE],
  ]);
  await r.del('zbig');
  const args = [];
  for (let i = 0; i < 500; i++) args.push(i, `m${i}`);
  await r.zadd('zbig', ...args);
  assert.equal(await r.object('ENCODING', 'zbig'), 'skiplist');
  // Full iteration while members are added and removed: every member present
  // throughout is returned at least once.
  const seen = new Map();
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, items] = await r.zscan('zbig', cursor, 'COUNT', 20);
    for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
    cursor = next;
    if (rounds++ === 3) {
      await r.zrem('zbig', 'm499');
      await r.zadd('zbig', 1000, 'extra');
    }
  } while (cursor !== '0');
  for (let i = 0; i < 499; i++) assert.equal(seen.get(`m${i}`), String(i));
  const res = await nr3.zScan('zbig', '0', { MATCH: 'm1?', COUNT: 1000 });
  assert.equal(res.cursor, '0');
  assert.equal(res.members.length, 10);
  const res2 = await nr2.zScan('zsc', '0');
  assert.deepEqual(res2.members, [
    { value: 'a', score: 1 },
    { value: 'ab', score: 1.5 },
    { value: 'b', score: 2 },
  ]);
});

// ------------------------------------------------------------------ encodings

test('encodings follow zset-max-listpack-entries / -value', async () => {
  assert.deepEqual(await r.config('GET', 'zset-max-listpack-entries'), ['zset-max-listpack-entries', '128']);
  assert.deepEqual(await r.config('GET', 'zset-max-ziplist-value'), ['zset-max-ziplist-value', '64']);
  await r.del('ze', 'ze2');
  await r.zadd('ze', 1, 'a');
  assert.equal(await r.object('ENCODING', 'ze'), 'listpack');
  await r.zadd('ze', 2, 'x'.repeat(65));
  assert.equal(await r.object('ENCODING', 'ze'), 'skiplist');
  await r.zrem('ze', 'x'.repeat(65));
  assert.equal(await r.object('ENCODING', 'ze'), 'skiplist');
  await r.zunionstore('ze2', 1, 'ze');
  assert.equal(await r.object('ENCODING', 'ze2'), 'listpack');
  await r.config('SET', 'zset-max-listpack-entries', '3');
  try {
    await r.del('ze');
    await r.zadd('ze', 1, 'a', 2, 'b', 3, 'c');
    assert.equal(await r.object('ENCODING', 'ze'), 'listpack');
    await r.zadd('ze', 4, 'd');
    assert.equal(await r.object('ENCODING', 'ze'), 'skiplist');
    // More pairs than the limit converts up front, even if they name one member.
    await r.del('ze');
    await r.zadd('ze', 1, 'a');
    await r.zadd('ze', 1, 'a', 2, 'a', 3, 'a', 4, 'a');
    assert.equal(await r.object('ENCODING', 'ze'), 'skiplist');
    await r.zrangestore('ze2', 'ze', 0, -1);
    assert.equal(await r.object('ENCODING', 'ze2'), 'listpack');
    await r.config('SET', 'zset-max-listpack-entries', '0');
    await r.del('ze');
    await r.zadd('ze', 1, 'a');
    assert.equal(await r.object('ENCODING', 'ze'), 'skiplist');
    // -0 is kept by the skiplist encoding, not by a listpack.
    await r.zadd('ze', '-0', 'nz');
    assert.equal(await r.zscore('ze', 'nz'), '-0');
  } finally {
    await r.config('SET', 'zset-max-listpack-entries', '128');
  }
  await r.del('ze3');
  await r.zadd('ze3', '-0', 'nz');
  assert.equal(await r.zscore('ze3', 'nz'), '0');
  assert.equal(await r.type('ze3'), 'zset');
  await r.copy('ze3', 'ze4');
  assert.equal(await r.zscore('ze4', 'nz'), '0');
});

test('a big set: ranks, ranges and removals stay consistent', async () => {
  await r.del('zhuge');
  const N = 100000;
  const pipe = r.pipeline();
  for (let i = 0; i < N; i += 1000) {
    const args = [];
    for (let j = i; j < i + 1000; j++) args.push(j * 2, `m${j}`);
    pipe.zadd('zhuge', ...args);
  }
  await pipe.exec();
  assert.equal(await r.zcard('zhuge'), N);
  assert.equal(await r.zrank('zhuge', 'm77777'), 77777);
  assert.equal(await r.zrevrank('zhuge', 'm77777'), N - 1 - 77777);
  assert.deepEqual(await r.zrange('zhuge', 50000, 50002), ['m50000', 'm50001', 'm50002']);
  assert.deepEqual(await r.zrangebyscore('zhuge', '(100', 106), ['m51', 'm52', 'm53']);
  assert.equal(await r.zcount('zhuge', 1000, 2000), 501);
  assert.equal(await r.zremrangebyrank('zhuge', 0, 49999), 50000);
  assert.equal(await r.zrank('zhuge', 'm77777'), 27777);
  assert.equal(await r.zremrangebyscore('zhuge', 150000, '+inf'), 25000);
  assert.equal(await r.zcard('zhuge'), 25000);
  assert.deepEqual(await r.zpopmax('zhuge'), ['m74999', '149998']);
  assert.equal(await r.del('zhuge'), 1);
});
