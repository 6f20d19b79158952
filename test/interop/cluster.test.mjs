// Redis Cluster interop: `redis-cli --cluster create` of three Vireo primaries,
// `redis-cli --cluster check`, ioredis Cluster and node-redis createCluster
// writing and reading a key in every slot, `redis-cli --cluster reshard` under a
// write load (MIGRATE, ASK/ASKING, SETSLOT), and a Debian redis-server 7.0 node
// joining the Vireo cluster with CLUSTER MEET over the binary cluster bus, taking
// slots from Vireo and giving them back, hostnames exchanged in ping extensions,
// then, as a replica of a Vireo primary that is killed, winning the failover
// election with the Vireo primaries' votes; and a Vireo replica of a Vireo primary
// winning its election with the votes of a redis-server primary and a Vireo primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { createCluster } from 'redis';
import { haveRedis } from '../helpers/servers.mjs';
import { clusterNodes, cli, check, one, waitFor } from '../helpers/cluster.mjs';

const skip = !haveRedis() && 'redis-server is not installed';
const { clients, vireoNode, redisNode } = clusterNodes({ prefix: 'vireo-cluster-', nodeTimeout: 2000 });

async function waitConsistent(ports) {
  const end = Date.now() + 20000;
  for (;;) {
    const views = [];
    for (const p of ports) views.push(JSON.stringify(await one(p, ['CLUSTER', 'SLOTS']).then((s) => s.map((r) => [r[0], r[1], r[2][2]]))));
    if (views.every((v) => v === views[0])) return;
    if (Date.now() > end) throw new Error('cluster views did not converge');
    await sleep(100);
  }
}

/** One key per slot (found by trying key names), so every slot holds data. */
async function keyPerSlot(port) {
  const r = new Redis({ port });
  const keys = new Array(16384).fill(null);
  let found = 0;
  for (let i = 0; found < 16384; i += 2000) {
    const batch = [];
    for (let j = i; j < i + 2000; j++) batch.push(`k:${j}`);
    const p = r.pipeline();
    for (const k of batch) p.call('CLUSTER', 'KEYSLOT', k);
    const res = await p.exec();
    res.forEach(([, slot], j) => {
      if (keys[slot] === null) {
        keys[slot] = batch[j];
        found++;
      }
    });
  }
  r.disconnect();
  return keys;
}

test('redis-cli --cluster create, check, clients over all slots, reshard under load, a redis-server joining', { skip, timeout: 300000 }, async () => {
  const nodes = [await vireoNode(), await vireoNode(), await vireoNode()];
  const ports = nodes.map((n) => n.port);
  const created = await cli('--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes');
  assert.match(created, /\[OK\] All 16384 slots covered\./, created);
  await waitConsistent(ports);
  await check(ports[1]);
  for (const p of ports) {
    const end = Date.now() + 10000;
    while (!/cluster_state:ok\r\ncluster_slots_assigned:16384\r\n/.test(await one(p, ['CLUSTER', 'INFO']))) {
      if (Date.now() > end) throw new Error(`cluster state of ${p} not ok`);
      await sleep(100);
    }
  }

  // ioredis Cluster: a key in every slot, then read back.
  const keys = await keyPerSlot(ports[0]);
  const ic = new Redis.Cluster([{ host: '127.0.0.1', port: ports[0] }], { scaleReads: 'master' });
  clients.push(ic);
  for (let i = 0; i < keys.length; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => ic.set(k, `v-${k}`)));
  const got = [];
  for (let i = 0; i < keys.length; i += 1000) got.push(...(await Promise.all(keys.slice(i, i + 1000).map((k) => ic.get(k)))));
  assert.deepEqual(got, keys.map((k) => `v-${k}`));
  let total = 0;
  for (const p of ports) total += await one(p, ['DBSIZE']);
  assert.equal(total, 16384);
  for (const p of ports) assert.ok((await one(p, ['DBSIZE'])) > 5000);

  // node-redis createCluster reads them too and writes its own.
  const nr = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${ports[2]}` }] });
  nr.on('error', () => {});
  await nr.connect();
  for (let s = 0; s < 16384; s += 97) assert.equal(await nr.get(keys[s]), `v-${keys[s]}`);
  for (let s = 0; s < 16384; s += 97) await nr.set(`nr:${keys[s]}`, String(s));
  for (let s = 0; s < 16384; s += 97) assert.equal(await ic.get(`nr:${keys[s]}`), String(s));
  await nr.quit();

  // Reshard 4000 slots (the figure of issue 10), with their keys, from node 0 to node 1 while ioredis keeps writing.
  const ids = [];
  for (const p of ports) ids.push(await one(p, ['CLUSTER', 'MYID']));
  let stop = false;
  let writes = 0;
  const counters = new Map();
  const load = (async () => {
    while (!stop) {
      const batch = [];
      for (let i = 0; i < 50; i++) {
        const k = keys[(writes * 31 + i * 7919) % 2000];
        counters.set(k, (counters.get(k) ?? 0) + 1);
        batch.push(ic.incr(`c:{${k}}`));
      }
      await Promise.all(batch);
      writes++;
    }
  })();
  const out = await cli('--cluster', 'reshard', `127.0.0.1:${ports[0]}`, '--cluster-from', ids[0], '--cluster-to', ids[1], '--cluster-slots', '4000', '--cluster-yes');
  assert.match(out, /Moving slot 3999 from/, out);
  stop = true;
  await load;
  assert.ok(writes > 0);
  await waitConsistent(ports);
  await check(ports[0]);
  for (const [k, n] of counters) assert.equal(await ic.get(`c:{${k}}`), String(n), `counter c:{${k}}`);
  for (let s = 0; s < 16384; s += 7) assert.equal(await ic.get(keys[s]), `v-${keys[s]}`);
  const slots = await one(ports[1], ['CLUSTER', 'SLOTS']);
  assert.ok(slots.some((r) => r[0] === 0 && r[1] === 3999 && r[2][2] === ids[1]), JSON.stringify(slots));

  // A Debian redis-server node joins through CLUSTER MEET sent to a Vireo node.
  const rs = await redisNode();
  const rid = rs.id;
  assert.equal(await one(ports[0], ['CLUSTER', 'MEET', '127.0.0.1', String(rs.port), String(rs.bus)]), 'OK');
  const end = Date.now() + 20000;
  for (;;) {
    const rn = await one(rs.port, ['CLUSTER', 'NODES']);
    const vn = await Promise.all(ports.map((p) => one(p, ['CLUSTER', 'NODES'])));
    const rstate = await one(rs.port, ['CLUSTER', 'INFO']);
    if (ids.every((id) => rn.includes(id)) && vn.every((t) => t.includes(rid)) && !/handshake|fail/.test(rn + vn.join('')) && rstate.startsWith('cluster_state:ok')) break;
    if (Date.now() > end) throw new Error(`redis-server did not join:\n${rn}\n${vn.join('\n')}`);
    await sleep(100);
  }
  await waitConsistent([...ports, rs.port]);
  await check(rs.port);
  const rline = (await one(ports[2], ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(rid));
  assert.match(rline, new RegExp(`^${rid} 127\\.0\\.0\\.1:${rs.port}@${rs.bus} master - \\d+ \\d+ 0 connected$`));
  // Hostnames travel in the ping extension both ways.
  await one(ports[0], ['CONFIG', 'SET', 'cluster-announce-hostname', 'vireo-0.example']);
  await one(rs.port, ['CONFIG', 'SET', 'cluster-announce-hostname', 'redis-0.example']);
  const hend = Date.now() + 20000;
  for (;;) {
    const rn = (await one(rs.port, ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(ids[0]));
    const vn = (await one(ports[1], ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(rid));
    const v1 = (await one(ports[1], ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(ids[0]));
    if (rn.includes(`@`) && / 127\.0\.0\.1:\d+@\d+,vireo-0\.example /.test(rn) && /,redis-0\.example /.test(vn) && /,vireo-0\.example /.test(v1)) break;
    if (Date.now() > hend) throw new Error(`hostnames not exchanged:\n${rn}\n${vn}`);
    await sleep(100);
  }
  const meta = (await one(ports[1], ['CLUSTER', 'SLOTS'])).find((r) => r[2][2] === ids[0])[2][3];
  assert.deepEqual(meta, ['hostname', 'vireo-0.example']);
  // The redis-server node takes 300 slots with their keys from a Vireo node, serves them, and gives them back.
  await cli('--cluster', 'reshard', `127.0.0.1:${ports[0]}`, '--cluster-from', ids[2], '--cluster-to', rid, '--cluster-slots', '300', '--cluster-yes');
  await waitConsistent([...ports, rs.port]);
  await check(rs.port);
  const rslots = (await one(rs.port, ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === rid);
  assert.ok(rslots.length > 0);
  assert.ok((await one(rs.port, ['DBSIZE'])) > 200);
  for (let s = 0; s < 16384; s += 5) assert.equal(await ic.get(keys[s]), `v-${keys[s]}`);
  await cli('--cluster', 'reshard', `127.0.0.1:${ports[0]}`, '--cluster-from', rid, '--cluster-to', ids[2], '--cluster-slots', '300', '--cluster-yes');
  await waitConsistent([...ports, rs.port]);
  // (Redis 7.0 then turns the emptied primary into a replica of the node that took its last slot.)
  assert.ok((await one(ports[0], ['CLUSTER', 'SLOTS'])).every((r) => r[2][2] !== rid));
  for (let s = 0; s < 16384; s += 5) assert.equal(await ic.get(keys[s]), `v-${keys[s]}`);
  // Failover with a redis-server replica of a Vireo primary: the primary dies, Vireo and
  // redis-server nodes agree it failed, the Vireo primaries vote, the replica wins the election.
  const rr = new Redis({ port: rs.port });
  clients.push(rr);
  const repl = await rr.info('replication');
  if (!new RegExp(`master_port:${ports[2]}\\r\\n`).test(repl)) assert.equal(await rr.call('CLUSTER', 'REPLICATE', ids[2]), 'OK');
  const rend = Date.now() + 30000;
  while (!/master_link_status:up/.test(await rr.info('replication')) || (await rr.dbsize()) !== (await one(ports[2], ['DBSIZE']))) {
    if (Date.now() > rend) throw new Error(`redis replica did not sync:\n${await rr.info('replication')}`);
    await sleep(100);
  }
  ic.disconnect();
  clients.splice(clients.indexOf(ic), 1);
  const owned = (await one(ports[0], ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === ids[2]).map((r) => [r[0], r[1]]);
  assert.ok(owned.length > 0);
  await nodes[2].stop('SIGKILL');
  const fend = Date.now() + 30000;
  for (;;) {
    const views = await Promise.all([ports[0], ports[1], rs.port].map((p) => one(p, ['CLUSTER', 'NODES'])));
    const failed = views.every((v) => new RegExp(`^${ids[2]} \\S+ master,fail `, 'm').test(v));
    const promoted = views.every((v) => new RegExp(`^${rid} \\S+ (myself,)?master - `, 'm').test(v));
    const states = await Promise.all([ports[0], ports[1], rs.port].map((p) => one(p, ['CLUSTER', 'INFO'])));
    if (failed && promoted && states.every((t) => t.startsWith('cluster_state:ok'))) break;
    if (Date.now() > fend) throw new Error(`failover did not complete:\n${views.join('\n')}`);
    await sleep(200);
  }
  const after = (await one(ports[0], ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === rid).map((r) => [r[0], r[1]]);
  assert.deepEqual(after, owned);
  const ic2 = new Redis.Cluster([{ host: '127.0.0.1', port: ports[0] }]);
  clients.push(ic2);
  for (let s = 0; s < 16384; s += 5) assert.equal(await ic2.get(keys[s]), `v-${keys[s]}`);
  await ic2.set('after-failover', '1');
  assert.equal(await ic2.get('after-failover'), '1');

  // A Vireo replica of a Vireo primary in this mixed cluster: the primary dies, the
  // replica's FAILOVER_AUTH_REQUEST gets the votes of the redis-server primary and the
  // remaining Vireo primary (2 of 3 needed), and it takes the slots.
  const vr = await vireoNode();
  const vrid = await one(vr.port, ['CLUSTER', 'MYID']);
  assert.equal(await one(ports[0], ['CLUSTER', 'MEET', '127.0.0.1', String(vr.port), String(vr.bus)]), 'OK');
  await waitFor('the new node to be known', async () => (await one(rs.port, ['CLUSTER', 'NODES'])).includes(vrid) && (await one(vr.port, ['CLUSTER', 'NODES'])).includes(rid));
  assert.equal(await one(vr.port, ['CLUSTER', 'REPLICATE', ids[0]]), 'OK');
  await waitFor('the Vireo replica to sync and be seen', async () => {
    if (!/master_link_status:up/.test(await one(vr.port, ['INFO', 'replication']))) return false;
    const line = (await one(rs.port, ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(vrid));
    return new RegExp(` slave ${ids[0]} `).test(line);
  });
  const owned0 = (await one(ports[1], ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === ids[0]).map((r) => [r[0], r[1]]);
  await nodes[0].stop('SIGKILL');
  await waitFor('the Vireo replica to win the election', async () => {
    for (const p of [ports[1], rs.port, vr.port]) {
      const line = (await one(p, ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(vrid));
      if (!/ (myself,)?master - /.test(line) || !(await one(p, ['CLUSTER', 'INFO'])).startsWith('cluster_state:ok')) return false;
    }
    return true;
  }, 30000);
  assert.deepEqual((await one(rs.port, ['CLUSTER', 'SLOTS'])).filter((r) => r[2][2] === vrid).map((r) => [r[0], r[1]]), owned0);
  const ic3 = new Redis.Cluster([{ host: '127.0.0.1', port: ports[1] }]);
  clients.push(ic3);
  for (let s = 0; s < 16384; s += 5) assert.equal(await ic3.get(keys[s]), `v-${keys[s]}`);
});
