// Use case: distributed locks with redlock (v5, ioredis clients) against real
// vireo-servers. Redlock's acquire / extend / release are Lua scripts (EVALSHA
// with EVAL fallback). First against one server: acquire, extend, release, and
// contention between two clients. Then the Redlock algorithm proper, across
// THREE vireo-servers (quorum 2): two contenders whose critical sections never
// overlap, extension and release on every server, automatic extension in
// using(), a dead holder (a killed process) whose lock expires after its TTL,
// and locking with one of the three servers down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import Redlock, { ExecutionError, Lock } from 'redlock';
import { startVireo, ROOT } from '../helpers/servers.mjs';
import { assertNoErrorReplies } from '../helpers/usecase.mjs';

// servers[0] doubles as the single server of the first tests.
const servers = [];
let srv;
const clients = [];
before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startVireo());
  srv = servers[0];
});
after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await s.stop();
});

function client(port = srv.port, opts = {}) {
  const c = new Redis(port, '127.0.0.1', opts);
  clients.push(c);
  return c;
}

/** One ioredis client per server: what each Redlock contender holds. */
function clientsForAll(opts) {
  return servers.map((s) => client(s.port, opts));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once every server has answered the lock's last operation (redlock settles at quorum). */
async function allVotes(lock) {
  return Promise.all(lock.attempts);
}
test('redlock: acquire, extend, release', async () => {
  const raw = client();
  const redlock = new Redlock([client()], { retryCount: 0 });
  const lock = await redlock.acquire(['lock:a'], 2000);
  assert.equal(await raw.get('lock:a'), lock.value, 'the lock key holds the lock value');
  const pttl = await raw.pttl('lock:a');
  assert.ok(pttl > 1000 && pttl <= 2000, `pttl ${pttl}`);
  const extended = await lock.extend(10000);
  assert.ok((await raw.pttl('lock:a')) > 5000, 'extend pushed the expiry');
  assert.equal(await raw.get('lock:a'), extended.value);
  await extended.release();
  assert.equal(await raw.exists('lock:a'), 0, 'release deleted the key');
  // Releasing again fails: the script sees a different (absent) value.
  await assert.rejects(extended.release(), ExecutionError);
});

test('redlock: a held lock is refused, and a lock with another value is not released', async () => {
  const raw = client();
  const r1 = new Redlock([client()], { retryCount: 0 });
  const r2 = new Redlock([client()], { retryCount: 0 });
  const lock = await r1.acquire(['lock:b'], 5000);
  await assert.rejects(r2.acquire(['lock:b'], 5000), ExecutionError);
  // Someone overwrote the key: release must not delete it.
  await raw.set('lock:b', 'someone-else', 'PX', 5000);
  await assert.rejects(lock.release(), ExecutionError);
  assert.equal(await raw.get('lock:b'), 'someone-else');
  await raw.del('lock:b');
});

test('redlock: contention between two clients, multi-resource locks', async () => {
  const r1 = new Redlock([client()], { retryCount: 0 });
  const r2 = new Redlock([client()], { retryCount: 50, retryDelay: 20, retryJitter: 5 });
  const lock = await r1.acquire(['lock:c', 'lock:d'], 5000);
  const order = [];
  const waiter = r2.acquire(['lock:d'], 5000).then((l) => {
    order.push('r2');
    return l;
  });
  await sleep(150);
  order.push('r1-release');
  await lock.release();
  const l2 = await waiter;
  assert.deepEqual(order, ['r1-release', 'r2']);
  await l2.release();
  // using(): the routine runs under the lock and it is released afterwards.
  const raw = client();
  let inside = null;
  await r1.using(['lock:e'], 1000, async () => {
    inside = await raw.exists('lock:e');
  });
  assert.equal(inside, 1);
  assert.equal(await raw.exists('lock:e'), 0);
});

// ---- Three servers -------------------------------------------------------

test('redlock x3: two contenders, critical sections never overlap', async () => {
  const raws = clientsForAll();
  const settings = { retryCount: 400, retryDelay: 10, retryJitter: 10 };
  const contenders = [new Redlock(clientsForAll(), settings), new Redlock(clientsForAll(), settings)];
  const sections = [];
  const ROUNDS = 12;
  // The shared counter is updated read-modify-write with a pause in between:
  // without mutual exclusion, increments are lost.
  await raws[0].set('mutex:counter', 0);
  async function run(who, redlock) {
    for (let r = 0; r < ROUNDS; r++) {
      const lock = await redlock.acquire(['lock:mutex'], 2000);
      const start = performance.now();
      // While held, at least a quorum of servers stores this lock's value.
      const values = await Promise.all(raws.map((c) => c.get('lock:mutex')));
      assert.ok(values.filter((v) => v === lock.value).length >= 2, `quorum holds the value: ${values}`);
      const n = Number(await raws[0].get('mutex:counter'));
      await sleep(5 + Math.floor(Math.random() * 10));
      await raws[0].set('mutex:counter', n + 1);
      const end = performance.now();
      sections.push({ who, start, end });
      await lock.release();
      await sleep(Math.floor(Math.random() * 4));
    }
  }
  await Promise.all(contenders.map((rl, i) => run(i, rl)));
  assert.equal(sections.length, 2 * ROUNDS);
  assert.equal(Number(await raws[0].get('mutex:counter')), 2 * ROUNDS, 'no lost update');
  sections.sort((a, b) => a.start - b.start);
  for (let i = 1; i < sections.length; i++) {
    assert.ok(sections[i].start >= sections[i - 1].end, `section ${i} (contender ${sections[i].who}) starts ${sections[i].start} before the previous ends ${sections[i - 1].end}`);
  }
  // Both contenders got the lock, and the holder changed hands.
  const switches = sections.filter((s, i) => i > 0 && s.who !== sections[i - 1].who).length;
  assert.ok(switches >= 1, 'the lock changed hands');
  // Released everywhere at the end.
  await sleep(50);
  assert.deepEqual(await Promise.all(raws.map((c) => c.exists('lock:mutex'))), [0, 0, 0]);
});

test('redlock x3: extension and release reach every server', async () => {
  const raws = clientsForAll();
  const a = new Redlock(clientsForAll(), { retryCount: 0 });
  const b = new Redlock(clientsForAll(), { retryCount: 0 });
  let lock = await a.acquire(['lock:ext'], 600);
  await allVotes(lock);
  for (const c of raws) {
    assert.equal(await c.get('lock:ext'), lock.value);
    const pttl = await c.pttl('lock:ext');
    assert.ok(pttl > 0 && pttl <= 600, `pttl ${pttl}`);
  }
  await assert.rejects(b.acquire(['lock:ext'], 600), ExecutionError, 'held: the other contender is refused');
  lock = await lock.extend(3000);
  await allVotes(lock);
  for (const c of raws) assert.ok((await c.pttl('lock:ext')) > 2000, 'extended on every server');
  // Past the original TTL the lock is still held thanks to the extension.
  await sleep(800);
  assert.ok(lock.expiration > Date.now());
  await assert.rejects(b.acquire(['lock:ext'], 600), ExecutionError, 'still held after the first TTL');
  for (const c of raws) assert.equal(await c.get('lock:ext'), lock.value);
  // The other contender cannot extend or release a lock it does not hold.
  const forged = new Lock(b, ['lock:ext'], 'not-the-value', [], Date.now() + 1000);
  await assert.rejects(forged.extend(1000), ExecutionError);
  await assert.rejects(forged.release(), ExecutionError);
  for (const c of raws) assert.equal(await c.get('lock:ext'), lock.value, 'a foreign release deletes nothing');
  // Release deletes the key on every server; the other contender acquires at once.
  const released = await lock.release();
  await Promise.all(released.attempts);
  assert.deepEqual(await Promise.all(raws.map((c) => c.exists('lock:ext'))), [0, 0, 0]);
  const lb = await b.acquire(['lock:ext'], 600);
  await lb.release();
  // An extension of a released (expired) lock is refused.
  await assert.rejects(lock.extend(1000), ExecutionError);
});

test('redlock x3: using() extends the lock automatically while the routine runs', async () => {
  const raws = clientsForAll();
  const a = new Redlock(clientsForAll(), { retryCount: 0, automaticExtensionThreshold: 200 });
  const b = new Redlock(clientsForAll(), { retryCount: 0 });
  const refusedDuring = [];
  const t0 = Date.now();
  const result = await a.using(['lock:auto'], 500, async (signal) => {
    // Run for three times the lock's duration; try to take it meanwhile.
    for (let i = 0; i < 6; i++) {
      await sleep(250);
      refusedDuring.push(await b.acquire(['lock:auto'], 500).then(() => false, (e) => e instanceof ExecutionError));
      assert.equal(signal.aborted, false, `extension failed: ${signal.error?.message}`);
    }
    return 'done';
  });
  assert.equal(result, 'done');
  assert.ok(Date.now() - t0 >= 1500);
  assert.deepEqual(refusedDuring, [true, true, true, true, true, true], 'held throughout, beyond its 500 ms duration');
  await sleep(50);
  assert.deepEqual(await Promise.all(raws.map((c) => c.exists('lock:auto'))), [0, 0, 0], 'released after the routine');
});

test('redlock x3: a dead holder\'s lock expires after its TTL', async () => {
  // Long enough that a loaded machine (spawning, connecting) stays inside it.
  const TTL = 4000;
  // The holder is a separate process that takes the lock and is then killed
  // (SIGKILL: no release, no clean disconnect).
  const ports = servers.map((s) => s.port);
  const holderSrc = `
    import Redis from 'ioredis';
    import Redlock from 'redlock';
    const rl = new Redlock(${JSON.stringify(ports)}.map((p) => new Redis(p, '127.0.0.1')), { retryCount: 0 });
    const lock = await rl.acquire(['lock:dead'], ${TTL});
    await Promise.all(lock.attempts);
    process.stdout.write('locked ' + lock.value + '\\n');
    setInterval(() => {}, 1000);
  `;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', holderSrc], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  holder.stderr.on('data', (d) => (err += d));
  const value = await new Promise((resolve, reject) => {
    holder.stdout.on('data', (d) => {
      out += d;
      const m = /locked (\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    holder.once('exit', (code) => reject(new Error(`holder exited ${code}: ${err}`)));
  });
  const lockedAt = Date.now();
  const exited = new Promise((r) => holder.once('exit', r));
  holder.kill('SIGKILL');
  await exited;
  const raws = clientsForAll();
  for (const c of raws) assert.equal(await c.get('lock:dead'), value, 'the dead holder\'s lock is still in place');
  // When does a quorum (2 of 3) of the keys expire? Each server's PTTL, read
  // after readAt, is a lower bound of its expiry time.
  const readAt = Date.now();
  const pttls = (await Promise.all(raws.map((c) => c.pttl('lock:dead')))).sort((x, y) => x - y);
  assert.ok(pttls.every((p) => p > 0 && p <= TTL), `pttls ${pttls}`);
  const quorumFreeAt = readAt + pttls[1];
  const other = new Redlock(clientsForAll(), { retryCount: 0 });
  await assert.rejects(other.acquire(['lock:dead'], 1000), ExecutionError, 'refused while the TTL runs');
  // Retrying, the other contender gets the lock once the TTL has passed, not before.
  const patient = new Redlock(clientsForAll(), { retryCount: 400, retryDelay: 20, retryJitter: 0 });
  const lock = await patient.acquire(['lock:dead'], 1000);
  const acquiredAt = Date.now();
  assert.ok(acquiredAt >= quorumFreeAt - 5, `acquired ${quorumFreeAt - acquiredAt} ms before the dead holder's lock expired`);
  assert.ok(acquiredAt - lockedAt < TTL + 3000, `acquired only ${acquiredAt - lockedAt} ms after the holder locked`);
  await allVotes(lock);
  for (const c of raws) assert.equal(await c.get('lock:dead'), lock.value);
  await lock.release();
});

test('redlock x3: with one server down a quorum of two still locks, exclusively', async () => {
  // Clients that fail fast instead of queueing while their server is away.
  const opts = { enableOfflineQueue: false, retryStrategy: () => null, maxRetriesPerRequest: 0 };
  const a = new Redlock(clientsForAll(opts), { retryCount: 0 });
  const b = new Redlock(clientsForAll(opts), { retryCount: 0 });
  a.on('error', () => {});
  b.on('error', () => {});
  await sleep(100); // let the clients connect
  await servers[2].stop();
  const lock = await a.acquire(['lock:quorum'], 3000);
  const stats = await allVotes(lock);
  assert.equal(stats[0].votesFor.size, 2);
  assert.equal(stats[0].votesAgainst.size, 1, 'the stopped server voted against');
  await assert.rejects(b.acquire(['lock:quorum'], 3000), ExecutionError, 'two of three up: still exclusive');
  await lock.release();
  const lb = await b.acquire(['lock:quorum'], 3000);
  await lb.release();
});

test('redlock: the servers answered no command with an error', async () => {
  // servers[2] was stopped by the quorum test.
  for (const s of servers.slice(0, 2)) assert.deepEqual(await assertNoErrorReplies(s.port), {});
});
