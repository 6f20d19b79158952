// Growing and shrinking a Vireo cluster with Debian's redis-cli: `--cluster add-node`
// (a new primary, then a replica with --cluster-slave --cluster-master-id),
// `--cluster rebalance --cluster-use-empty-masters` giving the new primary its
// share of slots (keys moved with MIGRATE), rebalance with a zero weight draining
// it again, and `--cluster del-node` removing the replica and the drained primary.
// After each step: every key readable through an ioredis Cluster client,
// `--cluster check` clean, and CLUSTER NODES telling the same story on every node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { haveRedis } from '../helpers/servers.mjs';
import { clusterNodes, cli, one, waitFor } from '../helpers/cluster.mjs';

const skip = !haveRedis() && 'redis-cli is not installed';
const { clients, vireoNode } = clusterNodes({ prefix: 'vireo-clmanage-', nodeTimeout: 3000 });

/** What a node's CLUSTER NODES says about the cluster: id, role, primary, slots (without its own point of view). */
async function view(port) {
  const text = await one(port, ['CLUSTER', 'NODES']);
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(' ');
      const flags = f[2].split(',').filter((x) => x !== 'myself');
      const slots = f.slice(8).filter((x) => !x.startsWith('['));
      return `${f[0]} ${flags.join(',')} ${f[3]} ${f[7]} ${slots.join(' ')}`;
    })
    .sort()
    .join('\n');
}

/** Every node reports the same nodes, roles and slots, all connected, none failing, state ok. */
async function consistent(ports, expectIds) {
  await waitFor('CLUSTER NODES consistent', async () => {
    const views = [];
    for (const p of ports) {
      const ci = await one(p, ['CLUSTER', 'INFO']);
      if (!/cluster_state:ok/.test(ci)) return `state of ${p}: ${ci.split('\r\n')[0]}`;
      const v = await view(p);
      if (/fail|handshake|noaddr|disconnected/.test(v)) return `${p}: ${v}`;
      views.push(v);
    }
    if (!views.every((v) => v === views[0])) return views.join('\n---\n');
    const ids = views[0].split('\n').map((l) => l.split(' ')[0]);
    if (JSON.stringify(ids.sort()) !== JSON.stringify([...expectIds].sort())) return `ids ${ids} vs ${expectIds}`;
    return true;
  });
}

async function check(port) {
  const out = await cli('--cluster', 'check', `127.0.0.1:${port}`);
  assert.match(out, /\[OK\] All nodes agree about slots configuration\./, out);
  assert.match(out, /\[OK\] All 16384 slots covered\./, out);
  assert.doesNotMatch(out, /\[ERR\]|\[WARNING\]/, out);
  return out;
}

function slotCount(view, id) {
  const line = view.split('\n').find((l) => l.startsWith(id));
  let n = 0;
  for (const r of line.split(' ').slice(4)) {
    if (r === '') continue;
    const [a, b] = r.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

test('redis-cli --cluster add-node (primary and replica), rebalance, del-node on Vireo nodes', { skip, timeout: 600000 }, async () => {
  const base = [await vireoNode(), await vireoNode(), await vireoNode()];
  const ports = base.map((n) => n.port);
  const created = await cli('--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes');
  assert.match(created, /\[OK\] All 16384 slots covered\./, created);
  await consistent(ports, base.map((n) => n.id));

  const ic = new Redis.Cluster([{ host: '127.0.0.1', port: ports[0] }], { scaleReads: 'master', redisOptions: { maxRetriesPerRequest: 20 } });
  clients.push(ic);
  const N = 5000;
  const keys = Array.from({ length: N }, (_, i) => `key:${i}`);
  for (let i = 0; i < N; i += 500) await Promise.all(keys.slice(i, i + 500).map((k) => ic.set(k, `v-${k}`)));
  const allReadable = async () => {
    await ic.refreshSlotsCache?.();
    for (let i = 0; i < N; i += 500) {
      const got = await Promise.all(keys.slice(i, i + 500).map((k) => ic.get(k)));
      got.forEach((v, j) => assert.equal(v, `v-${keys[i + j]}`, keys[i + j]));
    }
  };

  // add-node: a new empty primary.
  const d = await vireoNode();
  const addOut = await cli('--cluster', 'add-node', `127.0.0.1:${d.port}`, `127.0.0.1:${ports[0]}`);
  assert.match(addOut, /\[OK\] New node added correctly\./, addOut);
  await consistent([...ports, d.port], [...base.map((n) => n.id), d.id]);
  assert.match((await view(ports[1])).split('\n').find((l) => l.startsWith(d.id)), / master - /);

  // add-node --cluster-slave --cluster-master-id: a replica of the new primary.
  const e = await vireoNode();
  const addRep = await cli('--cluster', 'add-node', `127.0.0.1:${e.port}`, `127.0.0.1:${ports[0]}`, '--cluster-slave', '--cluster-master-id', d.id);
  assert.match(addRep, /\[OK\] New node added correctly\./, addRep);
  const all = [...ports, d.port, e.port];
  const allIds = [...base.map((n) => n.id), d.id, e.id];
  await consistent(all, allIds);
  assert.match((await view(ports[2])).split('\n').find((l) => l.startsWith(e.id)), new RegExp(` slave ${d.id} `));
  await waitFor('replica link up', async () => /master_link_status:up/.test(await one(e.port, ['INFO', 'replication'])));

  // rebalance with --cluster-use-empty-masters: the new primary takes its share of the slots (a
  // small weight keeps the test short: 16384 * 0.1 / 3.1 = 528 slots).
  const reb = await cli('--cluster', 'rebalance', `127.0.0.1:${ports[0]}`, '--cluster-use-empty-masters', '--cluster-weight', `${d.id}=0.1`, '--cluster-yes');
  assert.match(reb, /Moving \d+ slots from/, reb);
  await consistent(all, allIds);
  const v1 = await view(ports[0]);
  const dSlots = slotCount(v1, d.id);
  assert.ok(dSlots >= 500 && dSlots <= 560, `${dSlots}\n${v1}`);
  for (const n of base) assert.ok(slotCount(v1, n.id) >= 5200, v1);
  await check(d.port);
  await allReadable();
  let total = 0;
  for (const p of [...ports, d.port]) total += await one(p, ['DBSIZE']);
  assert.equal(total, N);
  assert.ok((await one(d.port, ['DBSIZE'])) > N / 100);
  // The replica has its primary's keys.
  await waitFor('replica has the moved keys', async () => (await one(e.port, ['DBSIZE'])) === (await one(d.port, ['DBSIZE'])));

  // del-node of the replica.
  const delRep = await cli('--cluster', 'del-node', `127.0.0.1:${ports[0]}`, e.id);
  assert.match(delRep, /SHUTDOWN the node\.|RESET SOFT/, delRep);
  const four = [...ports, d.port];
  const fourIds = [...base.map((n) => n.id), d.id];
  await consistent(four, fourIds);

  // Drain the new primary (weight 0), then del-node it.
  const drain = await cli('--cluster', 'rebalance', `127.0.0.1:${ports[0]}`, '--cluster-weight', `${d.id}=0`, '--cluster-yes');
  assert.match(drain, /Moving \d+ slots from/, drain);
  await waitFor('drained', async () => (await one(d.port, ['DBSIZE'])) === 0 && slotCount(await view(ports[0]), d.id) === 0);
  await allReadable();
  const delPrimary = await cli('--cluster', 'del-node', `127.0.0.1:${ports[0]}`, d.id);
  assert.match(delPrimary, /SHUTDOWN the node\.|RESET SOFT/, delPrimary);
  await consistent(ports, base.map((n) => n.id));
  await check(ports[0]);
  await allReadable();
  total = 0;
  for (const p of ports) total += await one(p, ['DBSIZE']);
  assert.equal(total, N);
});
