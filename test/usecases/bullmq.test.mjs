// Use case: a job queue with BullMQ (its queue, worker and scheduler are Lua
// scripts using cmsgpack / cjson) against a real vireo-server: 1,000 jobs with
// priorities, queued before the worker starts (higher priority runs first,
// FIFO within a priority), retries with backoff, delayed jobs, permanent
// failures and a repeatable job; the counts add up. Then the same load shared
// by two workers: each job attempt processed exactly once, counts add up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { startVireo } from '../helpers/servers.mjs';
import { assertNoErrorReplies } from '../helpers/usecase.mjs';

let srv;
before(async () => {
  srv = await startVireo();
});
after(async () => {
  await srv?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('BullMQ: 1,000 jobs with priorities, retries, delays, failures and a repeatable job', { timeout: 120000 }, async () => {
  const connection = { host: '127.0.0.1', port: srv.port };
  const queue = new Queue('jobs', { connection });
  const events = new QueueEvents('jobs', { connection });
  await events.waitUntilReady();
  const N = 1000;
  const attemptsSeen = new Map();
  let repeats = 0;
  const delayedRanAt = new Map();
  // Processing order of first attempts of jobs that were waiting when the
  // worker started (not delayed): [priority, i].
  const startOrder = [];
  const firstFailAt = new Map();
  const retriedAt = new Map();
  const worker = new Worker(
    'jobs',
    async (job) => {
      if (job.name === 'rep') {
        repeats++;
        return 'rep';
      }
      const i = job.data.i;
      attemptsSeen.set(i, (attemptsSeen.get(i) ?? 0) + 1);
      if (job.attemptsMade === 0 && !job.data.delayed) startOrder.push([job.opts.priority, i]);
      if (job.data.delayed) delayedRanAt.set(i, Date.now());
      if (job.attemptsMade === 1) retriedAt.set(i, Date.now());
      if ((i % 20 === 0 || i % 50 === 0) && job.attemptsMade === 0) firstFailAt.set(i, Date.now());
      if (i % 50 === 0) throw new Error(`permanent ${i}`);
      if (i % 20 === 0 && job.attemptsMade === 0) throw new Error(`transient ${i}`);
      return i * 2;
    },
    // Started once every job is queued, so the priorities decide the order.
    // Concurrency 1: with more, the order in which the worker's fetches
    // settle on the client (not the server's order) decides who starts first.
    { connection, concurrency: 1, autorun: false },
  );
  const failedEvents = [];
  const errors = [];
  worker.on('error', (e) => errors.push(e.message));
  worker.on('failed', (job, err) => failedEvents.push([job?.data?.i, err.message]));
  let running;
  try {
    const addedAt = Date.now();
    const jobs = [];
    for (let i = 1; i <= N; i++) {
      const delayed = i % 25 === 0 && i % 50 !== 0;
      jobs.push({
        name: 'work',
        data: { i, delayed },
        // priority: 1 is the highest; spread over 1..10, not in insertion order.
        opts: { priority: 1 + ((i * 7) % 10), attempts: 2, backoff: { type: 'fixed', delay: 50 }, removeOnComplete: false, removeOnFail: false, ...(delayed ? { delay: 300 } : {}) },
      });
    }
    for (let k = 0; k < N; k += 100) await queue.addBulk(jobs.slice(k, k + 100));
    // A repeatable job (BullMQ 6: a job scheduler), three iterations 400 ms apart.
    await queue.upsertJobScheduler('every-400', { every: 400, limit: 3 }, { name: 'rep', data: {}, opts: { removeOnComplete: false } });
    // Delayed jobs (i = 25 mod 50, all of priority 6) are not prioritized yet.
    const prioritized = await queue.getCountsPerPriority([1, 5, 6, 10]);
    assert.deepEqual(prioritized, { 1: 100, 5: 100, 6: 80, 10: 100 }, 'per-priority counts before the worker starts');
    running = worker.run();

    const permanent = N / 50;
    const deadline = Date.now() + 90000;
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
      if (counts.completed >= N - permanent + 3 && counts.failed >= permanent) break;
      if (Date.now() > deadline) assert.fail(`timed out: ${JSON.stringify(counts)} repeats=${repeats}`);
      await sleep(100);
    }
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'paused');
    assert.deepEqual(counts, { completed: N - permanent + 3, failed: permanent, waiting: 0, active: 0, delayed: 0, paused: 0 });
    assert.equal(repeats, 3, 'the repeatable job ran its 3 times');
    assert.deepEqual(errors, []);
    // Every job ran; transient failures ran twice, permanent ones twice (attempts: 2), others once.
    assert.equal(attemptsSeen.size, N);
    for (const [i, n] of attemptsSeen) {
      const expected = i % 50 === 0 || i % 20 === 0 ? 2 : 1;
      assert.equal(n, expected, `job ${i} ran ${n} times`);
    }
    // Delayed jobs did not run before their delay.
    // Retries wait for their fixed 50 ms backoff (a lower bound: a loaded machine only adds to it).
    assert.equal(retriedAt.size, N / 20 + N / 50 - N / 100);
    for (const [i, t] of retriedAt) assert.ok(t - firstFailAt.get(i) >= 45, `job ${i} retried ${t - firstFailAt.get(i)} ms after failing`);
    assert.equal(delayedRanAt.size, N / 25 - N / 50);
    for (const t of delayedRanAt.values()) assert.ok(t - addedAt >= 250, `delayed job ran after ${t - addedAt} ms`);
    // Higher priority first, FIFO within a priority.
    assert.equal(startOrder.length, N - (N / 25 - N / 50));
    for (let k = 1; k < startOrder.length; k++) {
      const [pa, ia] = startOrder[k - 1];
      const [pb, ib] = startOrder[k];
      assert.ok(pa < pb || (pa === pb && ia < ib), `job ${ib} (priority ${pb}) ran after job ${ia} (priority ${pa})`);
    }
    // Return values and failure reasons are stored.
    const done = await queue.getCompleted(0, 2000);
    const byI = new Map(done.filter((j) => j.name === 'work').map((j) => [j.data.i, j.returnvalue]));
    assert.equal(byI.get(7), 14);
    assert.equal(byI.get(40), 80, 'a retried job completed with its value');
    const failed = await queue.getFailed(0, 100);
    assert.equal(failed.length, permanent);
    assert.ok(failed.every((j) => j.failedReason.startsWith('permanent') && j.attemptsMade === 2));
    assert.equal(failedEvents.length, 2 * permanent + (N / 20 - N / 100), 'failed events: permanent twice, transient once');
  } finally {
    await worker.close();
    await running?.catch(() => {});
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await events.close();
  }
});

test('BullMQ: two workers share 1,000 jobs, each attempt processed exactly once', { timeout: 120000 }, async () => {
  const connection = { host: '127.0.0.1', port: srv.port };
  const queue = new Queue('shared', { connection });
  const N = 1000;
  // Every processor call, keyed by job id and attempt: who ran it.
  const runs = new Map();
  const duplicates = [];
  const completedBy = [0, 0];
  const failedBy = [0, 0];
  const errors = [];
  let repeats = 0;
  const makeWorker = (w) => {
    const worker = new Worker(
      'shared',
      async (job) => {
        if (job.name === 'rep') {
          repeats++;
          return 'rep';
        }
        const key = `${job.id}/${job.attemptsMade}`;
        if (runs.has(key)) duplicates.push(`${key} by ${runs.get(key)} and ${w}`);
        runs.set(key, w);
        // A little asynchronous work, so both workers get a share.
        await sleep(1 + (job.data.i % 3));
        const i = job.data.i;
        if (i % 100 === 0) throw new Error(`permanent ${i}`);
        if (i % 40 === 0 && job.attemptsMade === 0) throw new Error(`transient ${i}`);
        return { i, w };
      },
      { connection, concurrency: 10 },
    );
    worker.on('error', (e) => errors.push(e.message));
    worker.on('completed', () => completedBy[w]++);
    worker.on('failed', (job) => {
      if (job.attemptsMade >= job.opts.attempts) failedBy[w]++;
    });
    return worker;
  };
  const workers = [makeWorker(0), makeWorker(1)];
  try {
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    const jobs = [];
    for (let i = 1; i <= N; i++) {
      jobs.push({
        name: 'work',
        data: { i },
        opts: {
          attempts: 2,
          backoff: { type: 'exponential', delay: 40 },
          priority: i % 7 === 0 ? 1 : undefined,
          ...(i % 30 === 0 ? { delay: 200 } : {}),
        },
      });
    }
    for (let k = 0; k < N; k += 100) await queue.addBulk(jobs.slice(k, k + 100));
    await queue.upsertJobScheduler('every-300', { every: 300, limit: 2 }, { name: 'rep', data: {} });
    const permanent = N / 100;
    const deadline = Date.now() + 60000;
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed');
      if (counts.completed >= N - permanent + 2 && counts.failed >= permanent) break;
      if (Date.now() > deadline) assert.fail(`timed out: ${JSON.stringify(await queue.getJobCounts())}`);
      await sleep(100);
    }
    await sleep(100); // let the last 'completed' events arrive
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized', 'paused');
    assert.deepEqual(counts, { completed: N - permanent + 2, failed: permanent, waiting: 0, active: 0, delayed: 0, prioritized: 0, paused: 0 });
    assert.deepEqual(duplicates, [], 'no attempt ran twice');
    assert.deepEqual(errors, []);
    assert.equal(repeats, 2, 'the repeatable job ran its 2 times, on one worker or the other');
    // Every job ran; jobs failing once or permanently ran two attempts.
    const transient = N / 40 - N / 200; // multiples of 40 that are not multiples of 100
    assert.equal(runs.size, N + transient + permanent);
    for (let i = 1; i <= N; i++) {
      const twice = i % 100 === 0 || i % 40 === 0;
      // job ids are assigned in order by addBulk: 1..N (the scheduler's ids differ)
      assert.ok(runs.has(`${i}/0`), `job ${i} ran`);
      assert.equal(runs.has(`${i}/1`), twice, `job ${i} second attempt`);
    }
    // The work was shared and the per-worker counts add up to the queue's.
    const share = [0, 0];
    for (const w of runs.values()) share[w]++;
    assert.ok(share[0] > 100 && share[1] > 100, `both workers worked: ${share}`);
    assert.equal(completedBy[0] + completedBy[1], counts.completed);
    assert.equal(failedBy[0] + failedBy[1], counts.failed);
    // Return values name the worker that completed each job.
    const done = (await queue.getCompleted(0, 2000)).filter((j) => j.name === 'work');
    assert.equal(done.length, N - permanent);
    assert.equal(new Set(done.map((j) => j.data.i)).size, N - permanent);
    for (const j of done) assert.equal(j.returnvalue.w, runs.get(`${j.id}/${j.attemptsMade - 1}`), `job ${j.id} result from the worker that ran it`);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
});

test('BullMQ: the server answered no command with an error', async () => {
  assert.deepEqual(await assertNoErrorReplies(srv.port), {});
});
