// Replication against Debian's redis-server 7.0: a Redis replica of a Vireo
// primary and a Vireo replica of a Redis primary, each under a write load,
// diskless and disk-based, with partial resyncs after dropped links and a
// Redis -> Vireo -> Redis chain. Data is compared key by key and by DEBUG DIGEST.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { haveRedis } from '../helpers/servers.mjs';
import { client, populate } from './rdb-helpers.mjs';
import { infoRepl, infoStats, waitFor, caughtUp, writeLoad, replicationServers, sameData } from '../helpers/repl.mjs';

const skip = !haveRedis() && 'redis-server is not installed';
const { vireo, redis, servers } = replicationServers({ prefix: 'vireo-repl-', vireoArgs: ['--save', '', '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0'] });

for (const diskless of ['yes', 'no']) {
  test(`redis-server replicates from a Vireo primary under a write load (diskless ${diskless})`, { skip }, async () => {
    const p = await vireo(['--repl-diskless-sync', diskless]);
    await populate(p.c);
    const load = writeLoad(p.c, 4000, 31);
    const r = await redis(['--replicaof', '127.0.0.1', String(p.port)]);
    await load;
    await caughtUp(p.c, r.c);
    await sameData(p, r);
    // Drop the link: Redis continues with PSYNC from its offset.
    const load2 = writeLoad(p.c, 3000, 32);
    await sleep(50);
    assert.equal(await p.c.client('KILL', 'TYPE', 'replica'), 1);
    await load2;
    await waitFor(async () => (await infoStats(p.c)).sync_partial_ok === '1', 10000, 'partial resync');
    await caughtUp(p.c, r.c);
    await sameData(p, r);
    const st = await infoStats(p.c);
    assert.equal(st.sync_full, '1');
    assert.equal(st.sync_partial_ok, '1');
    assert.equal((await infoRepl(r.c)).master_replid, (await infoRepl(p.c)).master_replid);
  });

  test(`a Vireo replica follows a redis-server primary under a write load (diskless ${diskless})`, { skip }, async () => {
    const p = await redis(['--repl-diskless-sync', diskless]);
    await populate(p.c);
    const load = writeLoad(p.c, 4000, 41);
    const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
    await load;
    await caughtUp(p.c, r.c);
    await sameData(p, r);
    const load2 = writeLoad(p.c, 3000, 42);
    await sleep(50);
    assert.equal(await p.c.client('KILL', 'TYPE', 'replica'), 1);
    await load2;
    await waitFor(async () => (await infoStats(p.c)).sync_partial_ok === '1', 10000, 'partial resync');
    await caughtUp(p.c, r.c);
    await sameData(p, r);
    const st = await infoStats(p.c);
    assert.equal(st.sync_full, '1');
    assert.equal(st.sync_partial_ok, '1');
    // WAIT on the Redis primary counts the Vireo replica's ACKs.
    await p.c.set('waited', '1');
    assert.equal(await p.c.call('WAIT', '1', '5000'), 1);
    assert.equal(await r.c.get('waited'), '1');
  });
}

test('redis-server -> Vireo -> redis-server chain', { skip }, async () => {
  const p = await redis();
  await populate(p.c);
  const mid = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  const load = writeLoad(p.c, 3000, 51);
  const leaf = await redis(['--replicaof', '127.0.0.1', String(mid.port)]);
  await load;
  await caughtUp(p.c, mid.c);
  await caughtUp(mid.c, leaf.c);
  await sameData(p, leaf);
  assert.equal((await infoRepl(leaf.c)).master_replid, (await infoRepl(p.c)).master_replid);
  // Promote the Vireo in the middle: the Redis leaf continues by partial resync.
  assert.equal(await mid.c.call('REPLICAOF', 'NO', 'ONE'), 'OK');
  await mid.c.set('promoted', 'yes');
  await caughtUp(mid.c, leaf.c);
  assert.equal(await leaf.c.get('promoted'), 'yes');
  await waitFor(async () => (await infoRepl(leaf.c)).master_replid === (await infoRepl(mid.c)).master_replid, 10000, 'leaf adopts the new replid');
  const st = await infoStats(mid.c);
  assert.equal(st.sync_full, '1');
  assert.equal(st.sync_partial_ok, '1', 'the leaf continued by PSYNC2 after the promotion');
  await sameData(mid, leaf);
});

test('FAILOVER between Vireo and redis-server, both ways', { skip }, async () => {
  const v = await vireo();
  const r = await redis(['--replicaof', '127.0.0.1', String(v.port)]);
  await writeLoad(v.c, 500, 81);
  await caughtUp(v.c, r.c);
  // Vireo hands the primary role to Redis.
  assert.equal(await v.c.call('FAILOVER', 'TO', '127.0.0.1', String(r.port), 'TIMEOUT', '5000'), 'OK');
  await waitFor(async () => (await infoRepl(r.c)).role === 'master' && (await infoRepl(v.c)).master_link_status === 'up', 10000, 'Redis is the primary');
  assert.equal((await infoStats(r.c)).sync_partial_ok, '1');
  await writeLoad(r.c, 500, 82);
  await caughtUp(r.c, v.c);
  await sameData(r, v);
  // Redis hands it back to Vireo.
  assert.equal(await r.c.call('FAILOVER', 'TO', '127.0.0.1', String(v.port), 'TIMEOUT', '5000'), 'OK');
  await waitFor(async () => (await infoRepl(v.c)).role === 'master' && (await infoRepl(r.c)).master_link_status === 'up', 10000, 'Vireo is the primary again');
  assert.equal((await infoStats(v.c)).sync_partial_ok, '1');
  await writeLoad(v.c, 500, 83);
  await caughtUp(v.c, r.c);
  await sameData(v, r);
});
