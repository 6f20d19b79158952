// Small hashes (listpack strings, src/data/hash.ts) against Debian's
// redis-server: the same seeded random sequence of hash commands on both, with
// low thresholds so keys keep crossing into hashtables, integer-like and
// non-canonical values, long fields and values, DUMP/RESTORE of each side's
// payload into the other. Every reply must be equal (HSCAN of a hashtable is
// compared as a whole scan: cursors are implementation details).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo, startRedis, haveRedis, testResources } from '../helpers/servers.mjs';
import { client } from './rdb-helpers.mjs';

const res = testResources();
const skip = haveRedis() ? false : 'redis-server is not installed';

test('random hash commands on small hashes reply as redis-server does', { skip }, async () => {
  const conf = ['--hash-max-listpack-entries', '6', '--hash-max-listpack-value', '12'];
  const v = await startVireo(conf);
  res.servers.push(v);
  const r = await startRedis(conf);
  res.servers.push(r);
  const cv = client(v.port);
  const cr = client(r.port);
  res.clients.push(cv, cr);
  let seed = 12345;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const fields = ['a', 'b', 'c', '1', '-2', '100', '007', 'x'.repeat(13), '', '9223372036854775807'];
  const vals = ['1', '0', '-5', 'v', '', '12345678901', 'y'.repeat(13), '3.5', '-0', '4095', '-4096', '70000'];
  const scan = async (c, key) => {
    const enc = await c.object('ENCODING', key);
    let cur = '0';
    let calls = 0;
    const out = [];
    do {
      const [next, items] = await c.hscan(key, cur, 'MATCH', '*a*');
      cur = next;
      calls++;
      for (let j = 0; j < items.length; j += 2) out.push(`${items[j]}=${items[j + 1]}`);
    } while (cur !== '0');
    // A listpack answers in one call, in its order; a hashtable's order and calls are its own.
    return enc === 'listpack' ? [calls, out] : [-1, out.sort()];
  };
  for (let i = 0; i < 6000; i++) {
    const key = `k${rnd(4)}`;
    const f = fields[rnd(fields.length)];
    const val = vals[rnd(vals.length)];
    const op = rnd(12);
    const run = async (c) => {
      switch (op) {
        case 0:
        case 1:
          return c.hset(key, f, val, fields[rnd(fields.length)], vals[rnd(vals.length)]);
        case 2:
          return c.hdel(key, f);
        case 3:
          return c.hincrby(key, f, rnd(5) - 2).catch((e) => e.message);
        case 4:
          return c.hgetall(key);
        case 5:
          return scan(c, key);
        case 6:
          return c.object('ENCODING', key);
        case 7:
          return [await c.hlen(key), await c.hstrlen(key, f), await c.hexists(key, f), await c.hget(key, f), await c.hmget(key, f, 'a', '1')];
        case 8:
          return c.hsetnx(key, f, val);
        case 9:
          return c.hincrbyfloat(key, f, '1.5').catch((e) => e.message);
        case 10:
          return c.hvals(key);
        default: {
          const d = await c.dumpBuffer(key);
          if (d === null) return null;
          await c.restore(`${key}r`, 0, d, 'REPLACE');
          return [await c.hgetall(`${key}r`), await c.object('ENCODING', `${key}r`)];
        }
      }
    };
    const s0 = seed;
    const a = await run(cv);
    seed = s0; // the same draws for the other server
    const b = await run(cr);
    assert.deepEqual(a, b, `step ${i}: op ${op} on ${key}, field ${JSON.stringify(f)}`);
  }
  // Each side's payloads restore on the other with the same content.
  for (const k of ['k0', 'k1', 'k2', 'k3']) {
    const d = await cv.dumpBuffer(k);
    if (d === null) continue;
    await cr.restore(`${k}x`, 0, d, 'REPLACE');
    assert.deepEqual(await cr.hgetall(`${k}x`), await cv.hgetall(k));
    await cv.restore(`${k}y`, 0, await cr.dumpBuffer(k), 'REPLACE');
    assert.deepEqual(await cv.hgetall(`${k}y`), await cr.hgetall(k));
  }
});
