// Use case: rate limiting with rate-limiter-flexible's RateLimiterRedis (its
// consume is a Lua script: SET NX EX, INCRBY, PTTL; EVALSHA/EVAL through
// ioredis, EVAL through node-redis) against a real vireo-server: exactly N
// requests per window, the N+1th blocked with a msBeforeNext pointing at the
// window's end, the next window open again; concurrent requests from several
// connections; the rejection details, reset (delete), penalty / reward and
// blocking for a duration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { assertNoErrorReplies } from '../helpers/usecase.mjs';

let srv;
let redis;
before(async () => {
  srv = await startVireo();
  redis = new Redis(srv.port, '127.0.0.1', { enableOfflineQueue: false });
  await new Promise((r) => redis.once('ready', r));
});
after(async () => {
  redis?.disconnect();
  await srv?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('RateLimiterRedis: consume until blocked, then reset', async () => {
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rl', points: 5, duration: 10 });
  for (let i = 1; i <= 5; i++) {
    const res = await limiter.consume('user1');
    assert.equal(res.consumedPoints, i);
    assert.equal(res.remainingPoints, 5 - i);
    assert.ok(res.msBeforeNext > 0 && res.msBeforeNext <= 10000);
  }
  const rejected = await limiter.consume('user1').then(
    () => null,
    (e) => e,
  );
  assert.ok(rejected instanceof RateLimiterRes, 'rejected with a RateLimiterRes');
  assert.equal(rejected.remainingPoints, 0);
  assert.equal(rejected.consumedPoints, 6);
  // The counter lives in the server with the window's TTL.
  assert.equal(await redis.get('rl:user1'), '6');
  const pttl = await redis.pttl('rl:user1');
  assert.ok(pttl > 0 && pttl <= 10000, `pttl ${pttl}`);
  // Another key is independent.
  assert.equal((await limiter.consume('user2', 2)).remainingPoints, 3);
  // Reset.
  assert.equal(await limiter.delete('user1'), true);
  assert.equal((await limiter.consume('user1')).remainingPoints, 4);
  const got = await limiter.get('user1');
  assert.equal(got.consumedPoints, 1);
});

test('RateLimiterRedis: window expiry, penalty and reward, blockDuration', async () => {
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rl2', points: 2, duration: 1 });
  await limiter.consume('k');
  await limiter.consume('k');
  await assert.rejects(limiter.consume('k'));
  await sleep(1100);
  assert.equal((await limiter.consume('k')).remainingPoints, 1, 'a new window after expiry');
  await limiter.penalty('k', 1);
  await assert.rejects(limiter.consume('k'));
  await limiter.reward('k', 2);
  assert.equal((await limiter.consume('k')).remainingPoints, 0);

  const blocking = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rl3', points: 1, duration: 1, blockDuration: 3 });
  await blocking.consume('b');
  const e = await blocking.consume('b').catch((x) => x);
  assert.ok(e instanceof RateLimiterRes);
  assert.ok(e.msBeforeNext > 1500, `blocked for blockDuration, ${e.msBeforeNext}`);
  assert.ok((await redis.pttl('rl3:b')) > 1500);
});

/**
 * The window contract, as users of a limiter of N points per `duration`
 * seconds rely on it: exactly N requests pass, the N+1th is blocked with a
 * msBeforeNext that points at the end of the window, requests during the
 * window keep being blocked with a consistent msBeforeNext, and once the
 * window passes, requests go through again (a fresh window of N).
 */
async function checkWindow(limiter, key, N, duration) {
  const windowMs = duration * 1000;
  const t0 = Date.now();
  for (let i = 1; i <= N; i++) {
    const res = await limiter.consume(key);
    assert.equal(res.consumedPoints, i);
    assert.equal(res.remainingPoints, N - i);
  }
  const tSent = Date.now();
  const blocked = await limiter.consume(key).then(
    () => assert.fail(`request ${N + 1} went through`),
    (e) => e,
  );
  const tBlocked = Date.now();
  assert.ok(blocked instanceof RateLimiterRes, `rejected with a RateLimiterRes, got ${blocked}`);
  assert.equal(blocked.consumedPoints, N + 1);
  assert.equal(blocked.remainingPoints, 0);
  const ms = blocked.msBeforeNext;
  assert.ok(ms > 0 && ms <= windowMs, `msBeforeNext ${ms} within (0, ${windowMs}]`);
  // The window began with the first request, at or after t0: what remains of
  // it when the reply arrived is at least windowMs - (tBlocked - t0).
  assert.ok(ms >= windowMs - (tBlocked - t0) - 5, `msBeforeNext ${ms} ends before the window (${windowMs - (tBlocked - t0)} ms left)`);
  // The window ends between tSent + ms and tBlocked + ms (the reply's round
  // trip; 2 ms for rounding).
  const windowEnd = [tSent + ms - 2, tBlocked + ms + 2];
  // Later within the window: still blocked, the same window end.
  await sleep(Math.min(500, ms / 3));
  const tSent2 = Date.now();
  const again = await limiter.consume(key).catch((e) => e);
  const tRecv2 = Date.now();
  assert.ok(again instanceof RateLimiterRes && again.remainingPoints === 0, 'still blocked within the window');
  assert.equal(again.consumedPoints, N + 2);
  assert.ok(again.msBeforeNext < ms, 'msBeforeNext counts down');
  const windowEnd2 = [tSent2 + again.msBeforeNext - 2, tRecv2 + again.msBeforeNext + 2];
  assert.ok(windowEnd2[0] <= windowEnd[1] && windowEnd[0] <= windowEnd2[1], `the window's end moved: ${windowEnd} then ${windowEnd2}`);
  // After the window: a fresh window, N requests pass again.
  await sleep(Math.max(0, windowEnd[1] - Date.now()) + 30);
  const tFresh = Date.now();
  for (let i = 1; i <= N; i++) {
    const res = await limiter.consume(key);
    assert.equal(res.consumedPoints, i, 'a fresh window');
    const elapsed = Date.now() - tFresh;
    assert.ok(res.msBeforeNext >= windowMs - elapsed - 5 && res.msBeforeNext <= windowMs, `new window msBeforeNext ${res.msBeforeNext}`);
  }
  await assert.rejects(limiter.consume(key), RateLimiterRes, 'the fresh window is limited too');
}

test('RateLimiterRedis (ioredis): exactly N per window, N+1th blocked with msBeforeNext, next window passes', async () => {
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rlw', points: 7, duration: 2 });
  await checkWindow(limiter, 'client-a', 7, 2);
});

test('RateLimiterRedis (node-redis): the same window contract', async () => {
  const client = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  await client.connect();
  try {
    const limiter = new RateLimiterRedis({ storeClient: client, useRedisPackage: true, keyPrefix: 'rlw-nr', points: 4, duration: 1 });
    await checkWindow(limiter, 'client-b', 4, 1);
  } finally {
    await client.quit();
  }
});

test('RateLimiterRedis: concurrent requests, exactly N pass (the script is atomic)', async () => {
  const N = 25;
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rlc', points: N, duration: 5 });
  // Several connections hammer the same key at once.
  const conns = [redis, ...[1, 2, 3].map(() => new Redis(srv.port, '127.0.0.1'))];
  try {
    const limiters = conns.map((c) => new RateLimiterRedis({ storeClient: c, keyPrefix: 'rlc', points: N, duration: 5 }));
    const results = await Promise.allSettled(Array.from({ length: 4 * N }, (_, i) => limiters[i % limiters.length].consume('hot')));
    const passed = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.consumedPoints);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    assert.equal(passed.length, N, `exactly ${N} passed`);
    assert.deepEqual(passed.sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i + 1), 'each count handed out once');
    assert.equal(refused.length, 3 * N);
    for (const r of refused) {
      assert.ok(r instanceof RateLimiterRes);
      assert.ok(r.consumedPoints > N && r.msBeforeNext > 0 && r.msBeforeNext <= 5000);
    }
    assert.equal((await limiter.get('hot')).consumedPoints, 4 * N);
  } finally {
    for (const c of conns.slice(1)) c.disconnect();
  }
});

test('RateLimiterRedis: the server answered no command with an error', async () => {
  // node-redis 6 probes CLIENT MAINT_NOTIFICATIONS (a Redis 8 subcommand, absent
  // from Valkey 8 too) once per connection and ignores the error.
  assert.deepEqual(await assertNoErrorReplies(srv.port), { ERR: 1 });
});
