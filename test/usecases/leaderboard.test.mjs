// Use case: a game leaderboard. 100,000 players through ioredis: ZADD in
// batches, ZINCRBY as games are played, then the top 10 with ZREVRANGE
// WITHSCORES and a player's rank and neighbourhood with ZREVRANK, all checked
// against a plain JavaScript model of the same leaderboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startServer } from '../../dist/src/index.js';
import { prng as rng } from '../helpers/prng.mjs';

let srv;
before(async () => {
  srv = await startServer({});
});
after(async () => {
  await srv?.close();
});

const N = 100_000;
const KEY = 'lb:season-1';

// Deterministic pseudo-random numbers (mulberry32), so failures reproduce.

const name = (i) => `player:${String(i).padStart(6, '0')}`;

/** The model's order: score descending, then member descending (ZREVRANGE's tie order). */
function ranked(model) {
  return [...model.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
}

test('leaderboard: 100k players, ZADD/ZINCRBY, top 10 and neighbourhood match a JS model', async () => {
  const r = new Redis(srv.port, '127.0.0.1');
  try {
    const rand = rng(42);
    const model = new Map();
    // Initial scores with many ties (0..4999), in ZADD batches of 1,000.
    for (let start = 0; start < N; start += 1000) {
      const args = [];
      for (let i = start; i < start + 1000; i++) {
        const s = Math.floor(rand() * 5000);
        model.set(name(i), s);
        args.push(s, name(i));
      }
      assert.equal(await r.zadd(KEY, ...args), 1000);
    }
    assert.equal(await r.zcard(KEY), N);
    // 20,000 games: ZINCRBY, pipelined like a busy game server; check every reply.
    const pipe = r.pipeline();
    const expected = [];
    for (let g = 0; g < 20_000; g++) {
      const p = name(Math.floor(rand() * N));
      const inc = Math.floor(rand() * 200) - 50;
      model.set(p, model.get(p) + inc);
      expected.push(String(model.get(p)));
      pipe.zincrby(KEY, inc, p);
    }
    const res = await pipe.exec();
    assert.deepEqual(
      res.map(([err, v]) => (err ? err.message : v)),
      expected,
    );
    // A handful of big winners so the top is not all ties.
    await r.zincrby(KEY, 10_000, name(77));
    model.set(name(77), model.get(name(77)) + 10_000);
    await r.zadd(KEY, 'GT', 9_000, name(78), 1, name(79));
    model.set(name(78), Math.max(9_000, model.get(name(78))));

    const order = ranked(model);
    // Top 10 with scores.
    const top = await r.zrevrange(KEY, 0, 9, 'WITHSCORES');
    const want = order.slice(0, 10).flatMap(([m, s]) => [m, String(s)]);
    assert.deepEqual(top, want);
    assert.equal(top[0], name(77));
    // ZREVRANGEBYSCORE agrees on the head of the board.
    assert.deepEqual(await r.zrevrangebyscore(KEY, '+inf', '-inf', 'LIMIT', 0, 10), order.slice(0, 10).map(([m]) => m));

    // Rank and neighbourhood (5 above, 5 below) for players across the board.
    const pos = new Map(order.map(([m], i) => [m, i]));
    for (const i of [0, 1, 77, 12_345, 50_000, 99_999, Math.floor(rand() * N)]) {
      const p = name(i);
      const rank = await r.zrevrank(KEY, p);
      assert.equal(rank, pos.get(p), `rank of ${p}`);
      const around = await r.zrevrange(KEY, Math.max(0, rank - 5), rank + 5, 'WITHSCORES');
      const wantAround = order.slice(Math.max(0, rank - 5), rank + 6).flatMap(([m, s]) => [m, String(s)]);
      assert.deepEqual(around, wantAround, `neighbourhood of ${p}`);
      assert.equal(await r.zscore(KEY, p), String(model.get(p)));
      // Ascending rank is the mirror image.
      assert.equal(await r.zrank(KEY, p), N - 1 - rank);
    }
    // ZREVRANK ... WITHSCORE (Valkey 7.2+): rank and score in one call.
    assert.deepEqual(await r.call('ZREVRANK', KEY, name(77), 'WITHSCORE'), [0, String(model.get(name(77)))]);
    assert.equal(await r.zrevrank(KEY, 'nobody'), null);
    // How many players at or above a score (for "top x%" badges).
    const cut = order[999][1];
    assert.equal(await r.zcount(KEY, cut, '+inf'), order.filter(([, s]) => s >= cut).length);
  } finally {
    r.disconnect();
  }
});
