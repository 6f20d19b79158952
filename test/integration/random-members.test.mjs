// HRANDFIELD, SRANDMEMBER, ZRANDMEMBER and SPOP pick fairly, in every
// encoding: each member equally often (negative counts, with repetition), and
// with a positive count every pair of distinct members equally often (which a
// "random start, then consecutive members" shortcut would fail). Chi-square
// tests with a very loose bound (about p = 1e-6), so a fair server passes
// under any load while a biased pick still fails by far.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startVireo } from '../helpers/servers.mjs';

let srv, r;

before(async () => {
  srv = await startVireo();
  r = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
  await r.connect();
});

after(async () => {
  r?.disconnect();
  await srv?.stop();
});

/** Chi-square bound for df degrees of freedom, far in the tail (about p = 1e-6). */
const bound = (df) => df + 5.5 * Math.sqrt(2 * df) + 10;

function chi2(counts, cells, total) {
  const e = total / cells;
  let x = 0;
  for (const c of counts.values()) x += (c - e) ** 2 / e;
  x += (cells - counts.size) * e; // cells never seen
  return x;
}

/** Runs `calls` commands in pipelines of 500 and returns their replies. */
async function many(calls, argv) {
  const out = [];
  for (let done = 0; done < calls; done += 500) {
    const p = r.pipeline();
    for (let i = done; i < Math.min(calls, done + 500); i++) p.call(...argv(i));
    for (const [err, v] of await p.exec()) {
      assert.equal(err, null);
      out.push(v);
    }
  }
  return out;
}

const KINDS = [
  { name: 'HRANDFIELD', key: 'h', fill: (m) => r.hset('h', ...m.flatMap((x) => [x, '1'])), pick: (n) => ['HRANDFIELD', 'h', String(n)] },
  { name: 'SRANDMEMBER', key: 's', fill: (m) => r.sadd('s', ...m), pick: (n) => ['SRANDMEMBER', 's', String(n)] },
  { name: 'SRANDMEMBER (intset)', key: 'si', ints: true, fill: (m) => r.sadd('si', ...m), pick: (n) => ['SRANDMEMBER', 'si', String(n)] },
  { name: 'ZRANDMEMBER', key: 'z', fill: (m) => r.zadd('z', ...m.flatMap((x, i) => [String(i), x])), pick: (n) => ['ZRANDMEMBER', 'z', String(n)] },
];

for (const [label, size, want] of [
  ['compact', 12, { h: 'listpack', s: 'listpack', si: 'intset', z: 'listpack' }],
  ['big', 600, { h: 'hashtable', s: 'hashtable', si: 'hashtable', z: 'skiplist' }],
]) {
  test(`random members are fair: ${label} encodings (${size} members)`, async () => {
    await r.flushall();
    for (const k of KINDS) {
      const members = Array.from({ length: size }, (_, i) => (k.ints ? String(i * 3 - 50) : `m${i}`));
      await k.fill(members);
      assert.equal(await r.object('ENCODING', k.key), want[k.key], k.name);

      // Negative count: independent picks, each member equally likely.
      const per = 40;
      const reps = Math.ceil((per * size) / 10);
      const counts = new Map();
      for (const reply of await many(reps, () => k.pick(-10))) {
        assert.equal(reply.length, 10);
        for (const m of reply) counts.set(m, (counts.get(m) ?? 0) + 1);
      }
      for (const m of counts.keys()) assert.ok(members.includes(m), `${k.name} returned ${m}`);
      const x = chi2(counts, size, reps * 10);
      assert.ok(x < bound(size - 1), `${k.name} -10: chi2 ${x.toFixed(1)} over ${bound(size - 1).toFixed(1)}`);

      // Positive count 2: two distinct members, every pair equally likely
      // (on the compact encodings, where all pairs can be counted).
      if (size <= 12) {
        const pairs = (size * (size - 1)) / 2;
        const n = pairs * 40;
        const pc = new Map();
        for (const reply of await many(n, () => k.pick(2))) {
          assert.equal(reply.length, 2);
          assert.notEqual(reply[0], reply[1], `${k.name} 2 repeated a member`);
          const key = reply.slice().sort().join(',');
          pc.set(key, (pc.get(key) ?? 0) + 1);
        }
        const y = chi2(pc, pairs, n);
        assert.ok(y < bound(pairs - 1), `${k.name} 2: pair chi2 ${y.toFixed(1)} over ${bound(pairs - 1).toFixed(1)}`);
      }
      // A count at or above the size gives every member once.
      const all = await r.call(...k.pick(size + 5));
      assert.deepEqual(all.slice().sort(), members.slice().sort());
    }
  });
}

test('SPOP with a count removes a fair sample', async () => {
  for (const [key, members] of [
    ['sp', Array.from({ length: 8 }, (_, i) => `m${i}`)],
    ['spi', Array.from({ length: 8 }, (_, i) => String(i))],
  ]) {
    const pairs = 28;
    const n = pairs * 40;
    const pc = new Map();
    for (let done = 0; done < n; done += 250) {
      const p = r.pipeline();
      for (let i = done; i < Math.min(n, done + 250); i++) {
        p.del(key);
        p.sadd(key, ...members);
        p.spop(key, 2);
      }
      const res = await p.exec();
      for (let i = 2; i < res.length; i += 3) {
        const got = res[i][1];
        assert.equal(got.length, 2);
        assert.notEqual(got[0], got[1]);
        const k = got.slice().sort().join(',');
        pc.set(k, (pc.get(k) ?? 0) + 1);
      }
    }
    const y = chi2(pc, pairs, n);
    assert.ok(y < bound(pairs - 1), `SPOP ${key}: pair chi2 ${y.toFixed(1)}`);
    assert.equal(await r.scard(key), 6);
  }
});
