// Redis Cluster with Vireo replicas: `redis-cli --cluster create` of six Vireo
// nodes with `--cluster-replicas 1` (CLUSTER REPLICATE through the replication
// module), `--cluster check` clean, ioredis Cluster and node-redis createCluster
// writing and reading 100k keys over all slots, READONLY reads
// on a replica, then kill -9 of a primary under an ioredis write load: its replica
// wins the election within 2 x cluster-node-timeout, the client recovers, and the
// old primary, restarted on its port with its nodes.conf, rejoins as a replica of
// the new primary. Also CLUSTER FAILOVER (default, FORCE, TAKEOVER) on a healthy shard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { createCluster } from 'redis';
import { haveRedis, VIREO_BIN } from '../helpers/servers.mjs';
import { clusterNodes, cli, check, one, waitFor } from '../helpers/cluster.mjs';

const skip = !haveRedis() && 'redis-cli is not installed';
const TIMEOUT = 2000;
const { clients, procs, vireoNode } = clusterNodes({ prefix: 'vireo-clfo-', nodeTimeout: TIMEOUT });

/** Each node's view (CLUSTER NODES lines, without ping/pong times). */
function roles(text) {
  const out = {};
  for (const l of text.trim().split('\n')) {
    const f = l.split(' ');
    out[f[0]] = { flags: f[2], master: f[3], slots: f.slice(8).join(' ') };
  }
  return out;
}

async function keyPerSlot(port) {
  const r = new Redis({ port });
  const keys = new Array(16384).fill(null);
  let found = 0;
  for (let i = 0; found < 16384; i += 2000) {
    const p = r.pipeline();
    for (let j = i; j < i + 2000; j++) p.call('CLUSTER', 'KEYSLOT', `k:${j}`);
    const res = await p.exec();
    res.forEach(([, slot], j) => {
      if (keys[slot] === null) {
        keys[slot] = `k:${i + j}`;
        found++;
      }
    });
  }
  r.disconnect();
  return keys;
}

/** Restarts a killed node on its own port, directory and nodes.conf. */
async function restart(s) {
  const p = spawn(process.execPath, [VIREO_BIN, '--port', String(s.port), '--bind', '127.0.0.1', '--loglevel', 'warning', '--save', '', '--cluster-enabled', 'yes', '--cluster-port', String(s.bus), '--cluster-node-timeout', String(TIMEOUT), '--dir', s.dir], { cwd: s.dir, stdio: 'ignore' });
  procs.push(p);
  await waitFor('the restarted node to listen', async () => (await one(s.port, ['PING'])) === 'PONG', 10000);
  return p;
}

test('6 Vireo nodes with --cluster-replicas 1: replicas, READONLY, failover on kill -9, old primary rejoins', { skip, timeout: 300000 }, async () => {
  const nodes = [];
  for (let i = 0; i < 6; i++) nodes.push(await vireoNode());
  const ports = nodes.map((n) => n.port);
  const created = await cli('--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes');
  assert.match(created, /\[OK\] All 16384 slots covered\./, created);
  const ids = [];
  for (const p of ports) ids.push(await one(p, ['CLUSTER', 'MYID']));
  // Every node sees 3 primaries with slots and 3 replicas, each following a distinct primary.
  await waitFor('replicas known everywhere', async () => {
    for (const p of ports) {
      const v = roles(await one(p, ['CLUSTER', 'NODES']));
      const reps = Object.values(v).filter((n) => /slave/.test(n.flags));
      if (reps.length !== 3 || new Set(reps.map((r) => r.master)).size !== 3) return false;
      if (!(await one(p, ['CLUSTER', 'INFO'])).startsWith('cluster_state:ok')) return false;
    }
    return true;
  });
  const view = roles(await one(ports[0], ['CLUSTER', 'NODES']));
  const primaries = ids.filter((id) => /master/.test(view[id].flags));
  const replicaOf = new Map(ids.filter((id) => /slave/.test(view[id].flags)).map((id) => [view[id].master, id]));
  assert.equal(primaries.length, 3);
  const portOf = (id) => ports[ids.indexOf(id)];
  // The replicas replicate through the replication module.
  for (const [p, r] of replicaOf) {
    await waitFor(`replica ${r} in sync`, async () => /master_link_status:up/.test(await one(portOf(r), ['INFO', 'replication'])));
    const info = await one(portOf(r), ['INFO', 'replication']);
    assert.match(info, new RegExp(`role:slave\\r\\nmaster_host:127\\.0\\.0\\.1\\r\\nmaster_port:${portOf(p)}\\r\\n`));
    const reps = await one(ports[0], ['CLUSTER', 'REPLICAS', p]);
    assert.equal(reps.length, 1);
    assert.ok(reps[0].startsWith(`${r} 127.0.0.1:${portOf(r)}@`), reps[0]);
    assert.match(reps[0], / slave /);
  }
  for (const r of replicaOf.values()) assert.match((await one(portOf(r), ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(r)), /myself,slave/);
  // CLUSTER SLOTS lists the replica after its primary; SHARDS gives it the replica role.
  for (const range of await one(ports[1], ['CLUSTER', 'SLOTS'])) {
    assert.equal(range.length, 4);
    assert.equal(range[3][2], replicaOf.get(range[2][2]));
  }
  const shards = await one(ports[2], ['CLUSTER', 'SHARDS']);
  assert.equal(shards.length, 3);
  for (const sh of shards) {
    const ns = sh[3];
    assert.equal(ns.length, 2);
    assert.deepEqual(ns.map((n) => n[n.indexOf('role') + 1]).sort(), ['master', 'replica']);
  }
  await check(ports[3]);
  // CLUSTER REPLICATE errors.
  await assert.rejects(one(ports[0], ['CLUSTER', 'REPLICATE', 'f'.repeat(40)]), /ERR Unknown node f{40}/);
  await assert.rejects(one(portOf(primaries[0]), ['CLUSTER', 'REPLICATE', primaries[0]]), /ERR Can't replicate myself/);
  await assert.rejects(one(portOf(primaries[0]), ['CLUSTER', 'REPLICATE', primaries[1]]), /ERR To set a master the node must be empty and without assigned slots\./);
  await assert.rejects(one(portOf(primaries[0]), ['CLUSTER', 'REPLICATE', replicaOf.get(primaries[1])]), /ERR I can only replicate a master, not a replica\./);
  await assert.rejects(one(portOf(primaries[0]), ['CLUSTER', 'FAILOVER']), /ERR You should send CLUSTER FAILOVER to a replica/);

  // ioredis Cluster writes and reads a key in every slot.
  const keys = await keyPerSlot(ports[0]);
  const ic = new Redis.Cluster([{ host: '127.0.0.1', port: ports[0] }], { scaleReads: 'master', clusterRetryStrategy: () => 100, redisOptions: { connectTimeout: 1000 } });
  ic.on('error', () => {});
  clients.push(ic);
  for (let i = 0; i < keys.length; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => ic.set(k, `v-${k}`)));
  for (let i = 0; i < keys.length; i += 1000) {
    const got = await Promise.all(keys.slice(i, i + 1000).map((k) => ic.get(k)));
    assert.deepEqual(got, keys.slice(i, i + 1000).map((k) => `v-${k}`));
  }

  // 100k more keys through ioredis (auto-pipelined), read back by node-redis createCluster, which also writes.
  const ap = new Redis.Cluster([{ host: '127.0.0.1', port: ports[1] }], { enableAutoPipelining: true });
  clients.push(ap);
  for (let i = 0; i < 100000; i += 5000) {
    const batch = [];
    for (let j = i; j < i + 5000; j++) batch.push(ap.set(`bulk:${j}`, String(j)));
    await Promise.all(batch);
  }
  const nr = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${ports[2]}` }] });
  nr.on('error', () => {});
  await nr.connect();
  for (let i = 0; i < 100000; i += 5000) {
    const idx = [];
    for (let j = i; j < i + 5000; j++) idx.push(j);
    assert.deepEqual(await Promise.all(idx.map((j) => nr.get(`bulk:${j}`))), idx.map(String));
  }
  for (let s = 0; s < 16384; s += 61) await nr.set(`nr:{${keys[s]}}`, String(s));
  for (let s = 0; s < 16384; s += 61) assert.equal(await ap.get(`nr:{${keys[s]}}`), String(s));
  await nr.quit();
  let total = 0;
  for (const id of primaries) total += await one(portOf(id), ['DBSIZE']);
  assert.equal(total, 16384 + 100000 + Math.ceil(16384 / 61));
  ap.disconnect();

  // READONLY: a replica serves reads of its primary's slots; without it, MOVED; writes stay MOVED.
  const victim = primaries[0];
  const heir = replicaOf.get(victim);
  const slotsOfVictim = (await one(ports[0], ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === victim);
  const vslot = slotsOfVictim[0][0];
  await waitFor('replica caught up', async () => (await one(portOf(heir), ['DBSIZE'])) === (await one(portOf(victim), ['DBSIZE'])));
  const rc = new Redis({ port: portOf(heir) });
  clients.push(rc);
  await assert.rejects(rc.get(keys[vslot]), new RegExp(`MOVED ${vslot} 127\\.0\\.0\\.1:${portOf(victim)}`));
  assert.equal(await rc.readonly(), 'OK');
  assert.equal(await rc.get(keys[vslot]), `v-${keys[vslot]}`);
  await assert.rejects(rc.set(keys[vslot], 'x'), new RegExp(`MOVED ${vslot} `));
  assert.equal(await rc.readwrite(), 'OK');
  await assert.rejects(rc.get(keys[vslot]), /MOVED/);
  assert.equal(await rc.call('CLUSTER', 'COUNTKEYSINSLOT', String(vslot)), await one(portOf(victim), ['CLUSTER', 'COUNTKEYSINSLOT', String(vslot)]));
  rc.disconnect();

  // kill -9 the primary under a write load.
  let stop = false;
  let ok = 0;
  let errors = 0;
  let lastOk = 0;
  const written = new Map();
  const load = (async () => {
    let i = 0;
    while (!stop) {
      const batch = [];
      for (let j = 0; j < 20; j++, i++) {
        const k = `load:{${keys[(i * 7919) % 16384]}}`;
        const v = String(i);
        batch.push(
          ic.set(k, v).then(
            () => {
              ok++;
              lastOk = Date.now();
              written.set(k, v);
            },
            () => errors++,
          ),
        );
      }
      await Promise.all(batch);
      await sleep(5);
    }
  })();
  await sleep(500);
  const okBefore = ok;
  assert.ok(okBefore > 0);
  const killedAt = Date.now();
  await nodes[ids.indexOf(victim)].stop('SIGKILL');
  await waitFor('the replica to be promoted', async () => /myself,master/.test((await one(portOf(heir), ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(heir))), 20000);
  const promotedAfter = Date.now() - killedAt;
  assert.ok(promotedAfter <= 2 * TIMEOUT + 500, `promoted after ${promotedAfter} ms`);
  // The new primary took exactly the dead primary's slots, under a new config epoch, everywhere.
  const live = ports.filter((p) => p !== portOf(victim));
  await waitFor('all nodes to see the new primary', async () => {
    for (const p of live) {
      const v = roles(await one(p, ['CLUSTER', 'NODES']));
      if (!/master/.test(v[heir].flags) || !/fail/.test(v[victim].flags) || v[victim].slots !== '') return false;
      if (!(await one(p, ['CLUSTER', 'INFO'])).startsWith('cluster_state:ok')) return false;
    }
    return true;
  });
  const after = (await one(ports.find((p) => p !== portOf(victim)), ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === heir).map((r) => [r[0], r[1]]);
  assert.deepEqual(after, slotsOfVictim.map((r) => [r[0], r[1]]));
  assert.equal(await one(portOf(heir), ['ROLE']).then((r) => r[0]), 'master');
  // redis-cli --cluster check is clean again with the dead node still known (it skips failed nodes).
  await check(live[0]);
  // The client recovers: writes succeed again after the promotion.
  const okAtPromotion = ok;
  await waitFor('writes to resume', async () => ok > okAtPromotion + 200 && Date.now() - lastOk < 500, 20000);
  stop = true;
  await load;
  for (const [k, v] of written) assert.equal(await ic.get(k), v, k);
  const vals = await Promise.all(keys.map((k) => ic.get(k)));
  assert.deepEqual(vals, keys.map((k) => `v-${k}`));

  // The old primary comes back on its port with its nodes.conf and becomes a replica of the new primary.
  await restart(nodes[ids.indexOf(victim)]);
  await waitFor('the old primary to rejoin as a replica', async () => {
    const v = roles(await one(portOf(victim), ['CLUSTER', 'NODES']));
    if (v[victim].flags !== 'myself,slave' || v[victim].master !== heir) return false;
    if (!/master_link_status:up/.test(await one(portOf(victim), ['INFO', 'replication']))) return false;
    for (const p of live) {
      const w = roles(await one(p, ['CLUSTER', 'NODES']));
      if (w[victim].flags !== 'slave' || w[victim].master !== heir) return false;
    }
    return true;
  });
  assert.equal(await one(portOf(victim), ['DBSIZE']), await one(portOf(heir), ['DBSIZE']));
  await check(ports[1]);
  assert.deepEqual(await Promise.all(keys.slice(0, 2000).map((k) => ic.get(k))), keys.slice(0, 2000).map((k) => `v-${k}`));
  console.log(`promoted ${promotedAfter} ms after kill -9 (node timeout ${TIMEOUT}); load: ${ok} ok, ${errors} errors`);

  // Manual failovers on the healthy shards: default (MFSTART + offset wait), FORCE, TAKEOVER.
  for (const [mode, idx] of [[[], 1], [['FORCE'], 2], [['TAKEOVER'], 0]]) {
    const cur = roles(await one(ports[1], ['CLUSTER', 'NODES']));
    const prim = idx === 0 ? heir : primaries[idx];
    const rep = Object.keys(cur).find((id) => cur[id].master === prim && /slave/.test(cur[id].flags));
    assert.equal(await one(portOf(rep), ['CLUSTER', 'FAILOVER', ...mode]), 'OK');
    await waitFor(`CLUSTER FAILOVER ${mode.join(' ')}`, async () => {
      for (const p of ports) {
        const v = roles(await one(p, ['CLUSTER', 'NODES']));
        if (!/master/.test(v[rep].flags) || v[prim].master !== rep || !/slave/.test(v[prim].flags)) return false;
      }
      return true;
    }, 15000);
    await waitFor('the old primary to sync', async () => /master_link_status:up/.test(await one(portOf(prim), ['INFO', 'replication'])));
    await sleep(300);
    await check(ports[0]);
  }
  assert.deepEqual(await Promise.all(keys.map((k) => ic.get(k))), keys.map((k) => `v-${k}`));
});
