// A mixed cluster led by a Debian redis-server 7.0 primary: `redis-cli --cluster
// create` of one redis-server and two Vireo primaries, then a Vireo replica of the
// redis-server primary (CLUSTER REPLICATE, PSYNC from Redis 7.0). Sharded pub/sub
// crosses implementations inside the shard (PUBLISHSHARD both ways over the bus).
// When the redis-server primary is killed, the Vireo primaries agree it failed,
// vote, and the Vireo replica is promoted with its slots and data; the redis-server
// restarted with its nodes.conf rejoins as a replica of the promoted Vireo node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { haveRedis } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { clusterNodes, cli, one, waitFor } from '../helpers/cluster.mjs';

const skip = !haveRedis() && 'redis-server is not installed';
const TIMEOUT = 2000;
const { clients, conns, procs, vireoNode, redisNode } = clusterNodes({ prefix: 'vireo-clmixed-', nodeTimeout: TIMEOUT });

const lineOf = async (port, id) => (await one(port, ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(id)) ?? '';

/** The last bulk of the next pushed message. */
async function nextPayload(c) {
  const raw = await c.readReply(20000);
  return raw.trimEnd().split('\r\n').pop();
}

test('a Vireo replica of a redis-server primary: sharded pub/sub in the shard, promoted when the primary dies', { skip, timeout: 300000 }, async () => {
  const r = await redisNode();
  const v1 = await vireoNode();
  const v2 = await vireoNode();
  const primaries = [r, v1, v2];
  const created = await cli('--cluster', 'create', ...primaries.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes');
  assert.match(created, /\[OK\] All 16384 slots covered\./, created);
  for (const n of primaries) {
    await waitFor('cluster ok', async () => (await one(n.port, ['CLUSTER', 'INFO'])).startsWith('cluster_state:ok') || 'not ok');
  }
  const owned = (await one(v1.port, ['CLUSTER', 'SLOTS'])).filter((x) => x[2][2] === r.id).map((x) => [x[0], x[1]]);
  assert.ok(owned.length > 0);

  const ic = new Redis.Cluster([{ host: '127.0.0.1', port: v1.port }], { redisOptions: { maxRetriesPerRequest: 20 } });
  clients.push(ic);
  const N = 3000;
  for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => ic.set(`k:${i + j}`, `v${i + j}`)));

  // The Vireo replica joins and replicates the redis-server primary.
  const vr = await vireoNode();
  assert.equal(await one(v1.port, ['CLUSTER', 'MEET', '127.0.0.1', String(vr.port), String(vr.bus)]), 'OK');
  await waitFor('the replica-to-be known everywhere', async () => {
    for (const n of primaries) if (!(await lineOf(n.port, vr.id)).includes(' master ')) return `${n.port}: ${await lineOf(n.port, vr.id)}`;
    return (await lineOf(vr.port, r.id)) !== '' || 'r unknown to vr';
  });
  assert.equal(await one(vr.port, ['CLUSTER', 'REPLICATE', r.id]), 'OK');
  const rsize = await one(r.port, ['DBSIZE']);
  assert.ok(rsize > N / 5);
  await waitFor('the Vireo replica synced and seen as a replica', async () => {
    if (!/master_link_status:up/.test(await one(vr.port, ['INFO', 'replication']))) return 'link down';
    if ((await one(vr.port, ['DBSIZE'])) !== rsize) return 'dbsize';
    for (const n of primaries) if (!new RegExp(` slave ${r.id} `).test(await lineOf(n.port, vr.id))) return `${n.port}: ${await lineOf(n.port, vr.id)}`;
    return true;
  });
  assert.match(await one(r.port, ['INFO', 'replication']), /connected_slaves:1/);

  // Sharded pub/sub between the redis-server primary and its Vireo replica (PUBLISHSHARD both ways).
  let ch;
  for (let i = 0; ; i++) {
    ch = `ch${i}`;
    const s = await one(r.port, ['CLUSTER', 'KEYSLOT', ch]);
    if (owned.some(([a, b]) => a <= s && s <= b)) break;
  }
  const subR = await RawConn.connect(r.port);
  const subV = await RawConn.connect(vr.port);
  conns.push(subR, subV);
  assert.match(await subR.call('SSUBSCRIBE', ch), /ssubscribe/);
  assert.match(await subV.call('SSUBSCRIBE', ch), /ssubscribe/);
  assert.equal(await one(r.port, ['SPUBLISH', ch, 'from-redis']), 1);
  assert.equal(await nextPayload(subV), 'from-redis');
  assert.equal(await nextPayload(subR), 'from-redis');
  assert.equal(await one(vr.port, ['SPUBLISH', ch, 'from-vireo']), 1);
  assert.equal(await nextPayload(subR), 'from-vireo');
  assert.equal(await nextPayload(subV), 'from-vireo');
  subR.close();

  // kill -9 of the redis-server primary: FAIL by the Vireo primaries, their votes, the replica promoted.
  await r.stop('SIGKILL');
  await waitFor('the Vireo replica promoted', async () => {
    for (const p of [v1.port, v2.port, vr.port]) {
      const line = await lineOf(p, vr.id);
      if (!/ (myself,)?master - /.test(line)) return `${p}: ${line}`;
      if (!(await one(p, ['CLUSTER', 'INFO'])).startsWith('cluster_state:ok')) return `${p} not ok`;
      if (!/ master,fail /.test(await lineOf(p, r.id))) return `${p}: ${await lineOf(p, r.id)}`;
    }
    return true;
  }, 60000);
  assert.deepEqual((await one(v2.port, ['CLUSTER', 'SLOTS'])).filter((x) => x[2][2] === vr.id).map((x) => [x[0], x[1]]), owned);
  assert.equal((await one(vr.port, ['ROLE']))[0], 'master');
  // Every key is still there; the promoted node takes writes.
  const ic2 = new Redis.Cluster([{ host: '127.0.0.1', port: v2.port }], { redisOptions: { maxRetriesPerRequest: 20 } });
  clients.push(ic2);
  for (let i = 0; i < N; i += 500) {
    const got = await Promise.all(Array.from({ length: 500 }, (_, j) => ic2.get(`k:${i + j}`)));
    got.forEach((v, j) => assert.equal(v, `v${i + j}`));
  }
  for (let i = 0; i < 200; i++) await ic2.set(`after:${i}`, String(i));
  for (let i = 0; i < 200; i++) assert.equal(await ic2.get(`after:${i}`), String(i));
  const check = await cli('--cluster', 'check', `127.0.0.1:${v1.port}`);
  assert.match(check, /\[OK\] All 16384 slots covered\./, check);

  // The old redis-server primary comes back with its nodes.conf: the newer epoch of the
  // Vireo node wins, and it rejoins as a replica of it, replicating from Vireo.
  const back = spawn('redis-server', ['--port', String(r.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', r.dir, '--cluster-enabled', 'yes', '--cluster-port', String(r.bus), '--cluster-node-timeout', String(TIMEOUT), '--cluster-config-file', join(r.dir, 'nodes.conf')], { stdio: 'ignore' });
  procs.push(back);
  await waitFor('the old primary back as a replica of the Vireo node', async () => {
    if (!new RegExp(` slave ${vr.id} `).test(await lineOf(vr.port, r.id))) return `vr: ${await lineOf(vr.port, r.id)}`;
    const info = await one(r.port, ['INFO', 'replication']);
    if (!new RegExp(`master_port:${vr.port}\\r\\n`).test(info) || !/master_link_status:up/.test(info)) return info;
    return (await one(r.port, ['DBSIZE'])) === (await one(vr.port, ['DBSIZE'])) || 'dbsize';
  }, 60000);
  const slot7 = await one(vr.port, ['CLUSTER', 'KEYSLOT', 'after:7']);
  assert.equal(await one(r.port, ['GET', 'after:7']).catch((e) => e.message), `MOVED ${slot7} 127.0.0.1:${await clusterOwner(vr.port, 'after:7')}`);
});

/** host:port... the port of the primary serving a key, from CLUSTER SLOTS. */
async function clusterOwner(port, key) {
  const slot = await one(port, ['CLUSTER', 'KEYSLOT', key]);
  return (await one(port, ['CLUSTER', 'SLOTS'])).find((x) => x[0] <= slot && slot <= x[1])[2][1];
}
