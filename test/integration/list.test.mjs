// List commands against a real vireo-server: exact RESP2/RESP3 bytes on raw
// connections, and what ioredis and node-redis (RESP2 and RESP3) return.
// Expected replies were checked against redis-server 7.0.15 and, where Valkey 8
// differs (encodings, LONG_MIN ranges, timeout range), Valkey 8's source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const NOT_INT = '-ERR value is not an integer or out of range\r\n';
const SYNTAX = '-ERR syntax error\r\n';
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n) => `:${n}\r\n`;
const arr = (...items) => `*${items.length}\r\n${items.map(bulk).join('')}`;

let srv, raw, raw3, r, nr2, nr3;

before(async () => {
  srv = await startVireo();
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
  await srv?.stop();
});

async function expectRaw(conn, pairs) {
  for (const [cmd, want] of pairs) assert.equal(await conn.call(...cmd), want, JSON.stringify(cmd));
}

test('push, pop and length: replies in RESP2 and RESP3', async () => {
  await expectRaw(raw, [
    [['LPUSH', 'l', 'a', 'b'], int(2)],
    [['RPUSH', 'l', 'c'], int(3)],
    [['LPUSHX', 'none', 'x'], int(0)],
    [['RPUSHX', 'l', 'd'], int(4)],
    [['LLEN', 'l'], int(4)],
    [['LLEN', 'none'], int(0)],
    [['LRANGE', 'l', '0', '-1'], arr('b', 'a', 'c', 'd')],
    [['LPOP', 'l'], bulk('b')],
    [['RPOP', 'l', '2'], arr('d', 'c')],
    [['LPOP', 'l', '0'], '*0\r\n'],
    [['LPOP', 'none'], '$-1\r\n'],
    [['LPOP', 'none', '2'], '*-1\r\n'],
    [['LPOP', 'l', '-1'], '-ERR value is out of range, must be positive\r\n'],
    [['LPOP', 'l', 'x'], '-ERR value is out of range, must be positive\r\n'],
    [['LPOP', 'l', '5'], arr('a')],
    [['EXISTS', 'l'], int(0)],
  ]);
  await expectRaw(raw3, [
    [['LPOP', 'none'], '_\r\n'],
    [['LPOP', 'none', '2'], '_\r\n'],
    [['RPUSH', 'l3', 'x', 'y'], int(2)],
    [['LPOP', 'l3', '0'], '*0\r\n'],
    [['RPOP', 'l3', '5'], arr('y', 'x')],
    [['LINDEX', 'l3', '0'], '_\r\n'],
  ]);
});

test('LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM', async () => {
  await raw.call('RPUSH', 'r', '0', '1', '2', '3', '4', '5');
  await expectRaw(raw, [
    [['LRANGE', 'r', '-2', '100'], arr('4', '5')],
    [['LRANGE', 'r', '4', '2'], '*0\r\n'],
    [['LRANGE', 'r', 'x', '2'], NOT_INT],
    [['LRANGE', 'none', '0', '1'], '*0\r\n'],
    [['LINDEX', 'r', '-1'], bulk('5')],
    [['LINDEX', 'r', '6'], '$-1\r\n'],
    [['LINDEX', 'r', 'x'], NOT_INT],
    [['LSET', 'r', '0', 'zero'], '+OK\r\n'],
    [['LSET', 'r', '6', 'x'], '-ERR index out of range\r\n'],
    [['LSET', 'none', '0', 'x'], '-ERR no such key\r\n'],
    [['LINSERT', 'r', 'BEFORE', '3', 'x'], int(7)],
    [['LINSERT', 'r', 'after', '5', 'y'], int(8)],
    [['LINSERT', 'r', 'after', 'nope', 'y'], int(-1)],
    [['LINSERT', 'none', 'after', 'a', 'y'], int(0)],
    [['LINSERT', 'r', 'middle', 'a', 'y'], SYNTAX],
    [['LRANGE', 'r', '0', '-1'], arr('zero', '1', '2', 'x', '3', '4', '5', 'y')],
    [['RPUSH', 'm', 'a', 'b', 'a', 'c', 'a'], int(5)],
    [['LREM', 'm', '-2', 'a'], int(2)],
    [['LRANGE', 'm', '0', '-1'], arr('a', 'b', 'c')],
    [['LREM', 'm', '0', 'zz'], int(0)],
    [['LREM', 'm', '-9223372036854775808', 'a'], '-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n'],
    [['LTRIM', 'r', '1', '-2'], '+OK\r\n'],
    [['LRANGE', 'r', '0', '-1'], arr('1', '2', 'x', '3', '4', '5')],
    [['LTRIM', 'r', '5', '1'], '+OK\r\n'],
    [['EXISTS', 'r'], int(0)],
    [['LTRIM', 'none', '0', '1'], '+OK\r\n'],
  ]);
});

test('LPOS with RANK, COUNT and MAXLEN, and its errors', async () => {
  await raw.call('RPUSH', 'p', 'a', 'b', 'c', '1', '2', '3', 'c', 'c');
  await expectRaw(raw, [
    [['LPOS', 'p', 'c'], int(2)],
    [['LPOS', 'p', 'c', 'RANK', '-1'], int(7)],
    [['LPOS', 'p', 'c', 'COUNT', '0'], '*3\r\n:2\r\n:6\r\n:7\r\n'],
    [['LPOS', 'p', 'c', 'COUNT', '2', 'RANK', '-1'], '*2\r\n:7\r\n:6\r\n'],
    [['LPOS', 'p', 'c', 'MAXLEN', '3', 'COUNT', '0', 'RANK', '2'], '*0\r\n'],
    [['LPOS', 'p', 'zz'], '$-1\r\n'],
    [['LPOS', 'none', 'zz', 'COUNT', '1'], '*0\r\n'],
    [['LPOS', 'p', 'c', 'RANK', '0'], "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"],
    [['LPOS', 'p', 'c', 'RANK', '-9223372036854775808'], '-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n'],
    [['LPOS', 'p', 'c', 'COUNT', '-1'], "-ERR COUNT can't be negative\r\n"],
    [['LPOS', 'p', 'c', 'MAXLEN', 'x'], "-ERR MAXLEN can't be negative\r\n"],
    [['LPOS', 'p', 'c', 'RANK'], SYNTAX],
  ]);
  await expectRaw(raw3, [[['LPOS', 'p', 'zz'], '_\r\n']]);
});

test('LMOVE, RPOPLPUSH and LMPOP', async () => {
  await raw.call('RPUSH', 's', '1', '2', '3');
  await expectRaw(raw, [
    [['LMOVE', 's', 'd', 'LEFT', 'RIGHT'], bulk('1')],
    [['RPOPLPUSH', 's', 'd'], bulk('3')],
    [['LMOVE', 's', 's', 'left', 'left'], bulk('2')],
    [['LMOVE', 's', 'd', 'UP', 'LEFT'], SYNTAX],
    [['LMOVE', 'none', 'd', 'LEFT', 'LEFT'], '$-1\r\n'],
    [['LRANGE', 'd', '0', '-1'], arr('3', '1')],
    [['LMPOP', '2', 'none', 'd', 'RIGHT', 'COUNT', '5'], '*2\r\n$1\r\nd\r\n*2\r\n$1\r\n1\r\n$1\r\n3\r\n'],
    [['LMPOP', '1', 'none', 'LEFT'], '*-1\r\n'],
    [['LMPOP', '0', 'a', 'LEFT'], '-ERR numkeys should be greater than 0\r\n'],
    [['LMPOP', '3', 'a', 'LEFT'], SYNTAX],
    [['LMPOP', '1', 'a', 'LEFT', 'COUNT', '0'], '-ERR count should be greater than 0\r\n'],
  ]);
  await expectRaw(raw3, [[['LMPOP', '1', 'none', 'LEFT'], '_\r\n']]);
});

test('WRONGTYPE, TYPE, OBJECT ENCODING, COPY', async () => {
  await raw.call('SET', 'str', 'v');
  for (const cmd of [['LPUSH', 'str', 'a'], ['LPOP', 'str'], ['LLEN', 'str'], ['LRANGE', 'str', '0', '1'], ['LINDEX', 'str', '0'], ['LSET', 'str', '0', 'a'], ['LPOS', 'str', 'a'], ['LMOVE', 'str', 'x', 'LEFT', 'LEFT'], ['BLPOP', 'str', '0']]) {
    assert.equal(await raw.call(...cmd), WRONGTYPE, JSON.stringify(cmd));
  }
  await raw.call('RPUSH', 'c1', 'a', 'b');
  await expectRaw(raw, [
    [['TYPE', 'c1'], '+list\r\n'],
    [['OBJECT', 'ENCODING', 'c1'], bulk('listpack')],
    [['COPY', 'c1', 'c2'], int(1)],
    [['RPUSH', 'c2', 'c'], int(3)],
    [['LLEN', 'c1'], int(2)],
  ]);
  // Encoding follows list-max-listpack-size, and converts back when small again.
  await raw.call('CONFIG', 'SET', 'list-max-listpack-size', '4');
  try {
    await raw.call('RPUSH', 'e', '1', '2', '3', '4');
    assert.equal(await raw.call('OBJECT', 'ENCODING', 'e'), bulk('listpack'));
    await raw.call('RPUSH', 'e', '5');
    assert.equal(await raw.call('OBJECT', 'ENCODING', 'e'), bulk('quicklist'));
    await raw.call('COPY', 'e', 'e2');
    assert.equal(await raw.call('OBJECT', 'ENCODING', 'e2'), bulk('quicklist'));
    await raw.call('RPOP', 'e', '3');
    assert.equal(await raw.call('OBJECT', 'ENCODING', 'e'), bulk('listpack'));
  } finally {
    await raw.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
  }
  // Default: 8 KB
  await raw.call('RPUSH', 'big', 'x'.repeat(8000));
  assert.equal(await raw.call('OBJECT', 'ENCODING', 'big'), bulk('listpack'));
  await raw.call('RPUSH', 'big', 'x'.repeat(200));
  assert.equal(await raw.call('OBJECT', 'ENCODING', 'big'), bulk('quicklist'));
});

test('small lists (kept as strings up to 8 elements) against an array model, with the conversions', async () => {
  // Random commands on a few short lists, checked against a model after each
  // step; list-max-listpack-size values that make the quicklist conversion
  // happen inside, at and above the small-list size.
  let seed = 5;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const vals = ['a', 'b', '1', '-7', '', 'x'.repeat(40), '\xff\x00z', '99999999999'];
  for (const fill of ['-2', '3', '9', '1']) {
    await raw.call('CONFIG', 'SET', 'list-max-listpack-size', fill);
    try {
      const model = { s1: [], s2: [] };
      await raw.call('DEL', 's1', 's2');
      for (let step = 0; step < 250; step++) {
        const k = rnd(2) ? 's1' : 's2';
        const o = k === 's1' ? 's2' : 's1';
        const m = model[k];
        const v = vals[rnd(vals.length)];
        switch (rnd(10)) {
          case 0:
          case 1:
            assert.equal(await raw.call('LPUSH', k, v, v + '2'), int(m.unshift(v + '2', v) && m.length));
            break;
          case 2:
            assert.equal(await raw.call('RPUSH', k, v), int(m.push(v)));
            break;
          case 3:
            assert.equal(await raw.call('LPOP', k), m.length ? bulk(m.shift()) : '$-1\r\n');
            break;
          case 4: {
            const got = await raw.call('RPOP', k, '2');
            const want = m.length ? arr(...m.splice(-2).reverse()) : '*-1\r\n';
            assert.equal(got, want);
            break;
          }
          case 5: {
            const i = rnd(6) - 3;
            const j = i < 0 ? m.length + i : i;
            assert.equal(await raw.call('LINDEX', k, String(i)), j >= 0 && j < m.length ? bulk(m[j]) : '$-1\r\n');
            break;
          }
          case 6: {
            if (!m.length) break;
            const i = rnd(m.length);
            assert.equal(await raw.call('LSET', k, String(i), v), '+OK\r\n');
            m[i] = v;
            break;
          }
          case 7: {
            const p = m.indexOf(v);
            const got = await raw.call('LINSERT', k, 'AFTER', v, 'ins');
            if (!m.length) assert.equal(got, int(0));
            else if (p < 0) assert.equal(got, int(-1));
            else {
              m.splice(p + 1, 0, 'ins');
              assert.equal(got, int(m.length));
            }
            break;
          }
          case 8: {
            let n = 0;
            for (let i = m.length - 1; i >= 0 && n < 1; i--) if (m[i] === v) (m.splice(i, 1), n++);
            assert.equal(await raw.call('LREM', k, '-1', v), int(n));
            break;
          }
          default: {
            const got = await raw.call('LMOVE', k, o, 'RIGHT', 'LEFT');
            if (!m.length) assert.equal(got, '$-1\r\n');
            else {
              const e = m.pop();
              model[o].unshift(e);
              assert.equal(got, bulk(e));
            }
          }
        }
        for (const key of ['s1', 's2']) {
          const mm = model[key];
          assert.equal(await raw.call('LRANGE', key, '0', '-1'), arr(...mm), `${key} after step ${step} (fill ${fill})`);
          if (mm.length) {
            assert.equal(await raw.call('LPOS', key, mm[mm.length - 1], 'RANK', '-1'), int(mm.lastIndexOf(mm[mm.length - 1])));
            // The encoding is Valkey's: listpack while one node would hold the list.
            const enc = await raw.call('OBJECT', 'ENCODING', key);
            const n = Number(fill);
            if (n > 0 && mm.length > n) assert.equal(enc, bulk('quicklist'), `${key} of ${mm.length} with fill ${fill}`);
            if (n > 0 && mm.length <= Math.floor(n / 2)) assert.equal(enc, bulk('listpack'), `${key} of ${mm.length} with fill ${fill}`);
            if (n < 0) assert.equal(enc, bulk('listpack'));
          }
        }
      }
      // Persistence paths see the same elements: DUMP/RESTORE and a copy.
      for (const key of ['s1', 's2']) {
        if (!model[key].length) continue;
        const payload = await r.dumpBuffer(key);
        await r.del('restored');
        await r.restore('restored', 0, payload);
        assert.deepEqual(await r.lrange('restored', 0, -1), model[key]);
        await r.copy(key, 'copied', 'REPLACE');
        await r.rpush('copied', 'more');
        assert.deepEqual(await r.lrange(key, 0, -1), model[key], 'COPY shares nothing');
      }
    } finally {
      await raw.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
    }
  }
});

test('ioredis sees every list command', async () => {
  await r.del('io');
  assert.equal(await r.rpush('io', 'a', 'b', 'c'), 3);
  assert.equal(await r.lpush('io', 'z'), 4);
  assert.deepEqual(await r.lrange('io', 0, -1), ['z', 'a', 'b', 'c']);
  assert.equal(await r.lindex('io', 1), 'a');
  assert.equal(await r.lset('io', 1, 'A'), 'OK');
  assert.equal(await r.linsert('io', 'BEFORE', 'b', 'x'), 5);
  assert.equal(await r.lrem('io', 0, 'x'), 1);
  assert.equal(await r.lpos('io', 'b'), 2);
  assert.deepEqual(await r.lpos('io', 'b', 'COUNT', 0), [2]);
  assert.equal(await r.lmove('io', 'io2', 'LEFT', 'RIGHT'), 'z');
  assert.equal(await r.rpoplpush('io', 'io2'), 'c');
  assert.deepEqual(await r.lmpop(2, 'nope', 'io2', 'LEFT', 'COUNT', 2), ['io2', ['c', 'z']]);
  assert.equal(await r.ltrim('io', 0, 0), 'OK');
  assert.deepEqual(await r.lpop('io', 5), ['A']);
  assert.equal(await r.rpop('io'), null);
  assert.equal(await r.llen('io'), 0);
  await r.rpush('io', 'q');
  assert.deepEqual(await r.blpop('nope', 'io', 0), ['io', 'q']);
  await r.rpush('io', 'q1', 'q2');
  assert.deepEqual(await r.brpop('io', 0), ['io', 'q2']);
  assert.equal(await r.blmove('io', 'io3', 'LEFT', 'LEFT', 0), 'q1');
  assert.equal(await r.brpoplpush('io3', 'io', 0), 'q1');
  assert.deepEqual(await r.blmpop(0, 1, 'io', 'LEFT'), ['io', ['q1']]);
  assert.equal(await r.blpop('nope', 0.01), null);
  assert.equal(await r.lpushx('nope', 'a'), 0);
  assert.equal(await r.rpushx('nope', 'a'), 0);
});

for (const [name, get] of [['node-redis RESP2', () => nr2], ['node-redis RESP3', () => nr3]]) {
  test(`${name} sees every list command`, async () => {
    const c = get();
    const k = `nr:${name.slice(-1)}`;
    await c.del([k, `${k}:2`]);
    assert.equal(await c.rPush(k, ['a', 'b', 'c']), 3);
    assert.equal(await c.lPush(k, 'z'), 4);
    assert.equal(await c.lPushX(k, 'y'), 5);
    assert.equal(await c.rPushX(`${k}:none`, 'y'), 0);
    assert.deepEqual(await c.lRange(k, 0, -1), ['y', 'z', 'a', 'b', 'c']);
    assert.equal(await c.lLen(k), 5);
    assert.equal(await c.lIndex(k, -1), 'c');
    assert.equal(await c.lIndex(k, 99), null);
    assert.equal(await c.lSet(k, 0, 'Y'), 'OK');
    assert.equal(await c.lInsert(k, 'AFTER', 'a', 'aa'), 6);
    assert.equal(await c.lRem(k, 1, 'aa'), 1);
    assert.equal(await c.lPos(k, 'a'), 2);
    assert.equal(await c.lPos(k, 'nope'), null);
    assert.deepEqual(await c.lPosCount(k, 'a', 0), [2]);
    assert.equal(await c.lMove(k, `${k}:2`, 'LEFT', 'RIGHT'), 'Y');
    assert.equal(await c.rPopLPush(k, `${k}:2`), 'c');
    assert.deepEqual(await c.lmPop(['nope', `${k}:2`], 'RIGHT', { COUNT: 5 }), [`${k}:2`, ['Y', 'c']]);
    assert.equal(await c.lmPop('nope', 'LEFT'), null);
    assert.equal(await c.lTrim(k, 0, 1), 'OK');
    assert.deepEqual(await c.lPopCount(k, 1), ['z']);
    assert.equal(await c.rPop(k), 'a');
    assert.equal(await c.lPop(k), null);
    assert.equal(await c.lPopCount(k, 2), null);
    await c.rPush(k, ['v1', 'v2', 'v3', 'v4']);
    assert.deepEqual(await c.blPop([`${k}:x`, k], 0), { key: k, element: 'v1' });
    assert.deepEqual(await c.brPop(k, 0), { key: k, element: 'v4' });
    assert.equal(await c.blMove(k, `${k}:2`, 'LEFT', 'LEFT', 0), 'v2');
    assert.equal(await c.brPopLPush(`${k}:2`, k, 0), 'v2');
    assert.deepEqual(await c.blmPop(0, k, 'LEFT', { COUNT: 5 }), [k, ['v2', 'v3']]);
    assert.equal(await c.blPop(k, 0.01), null);
    assert.equal(await c.blMove(k, `${k}:2`, 'LEFT', 'LEFT', 0.01), null);
    assert.equal(await c.blmPop(0.01, k, 'LEFT'), null);
  });
}
