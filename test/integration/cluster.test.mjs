// Cluster mode: config, nodes.conf (written, reloaded), CLUSTER subcommands and
// their errors, key routing (-MOVED, -ASK, ASKING, -TRYAGAIN, -CROSSSLOT,
// -CLUSTERDOWN), SELECT/MULTI/scripts in cluster mode, MIGRATE between Vireo
// nodes during a slot migration, and gossip over the cluster bus (MEET, PFAIL ->
// FAIL by majority) between real vireo-server processes; replicas (CLUSTER
// REPLICATE, READONLY, cluster-replica-no-failover, CLUSTER FAILOVER FORCE) and
// replica migration to an orphaned primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { startVireo, freePort, testResources } from '../helpers/servers.mjs';
import { clusterNode, errorOf, pollValue } from '../helpers/cluster.mjs';

const res = testResources();
const { servers, clients } = res;

const node = (extra = [], dir = null) => clusterNode(res, { prefix: 'vireo-cluster-', nodeTimeout: 1000, extra, dir });

const err = errorOf;
const waitFor = (what, fn, ms = 15000) => pollValue(what, fn, ms);

/** CRC16-XMODEM, bit by bit (an independent check of the server's table-driven one). */
function crc16(s) {
  let crc = 0;
  for (const ch of Buffer.from(s, 'latin1')) {
    crc ^= ch << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const info = async (r) => Object.fromEntries((await r.call('CLUSTER', 'INFO')).trim().split('\r\n').map((l) => l.split(':')));

test('cluster commands are refused when cluster mode is off', async () => {
  const s = await startVireo();
  servers.push(s);
  const r = new Redis({ port: s.port });
  clients.push(r);
  for (const cmd of [['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'], ['READONLY'], ['READWRITE'], ['ASKING']]) {
    assert.equal(await err(r.call(...cmd)), 'ERR This instance has cluster support disabled');
  }
  assert.match(await r.info('cluster'), /cluster_enabled:0/);
  assert.equal(await r.select(3), 'OK');
});

test('a single node: slots, routing errors, key index, SELECT, MULTI, scripts, nodes.conf', async () => {
  const { s, r, dir, bus } = await node();
  assert.match(await r.info('cluster'), /cluster_enabled:1/);
  let ci = await info(r);
  assert.equal(ci.cluster_state, 'fail');
  assert.equal(ci.cluster_known_nodes, '1');
  assert.equal(ci.cluster_size, '0');
  assert.equal(await r.call('CONFIG', 'GET', 'cluster-port').then((x) => x[1]), String(bus));
  // CRC16 with hash tags.
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', 'somekey'), 11058);
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', 'foo{hash_tag}'), 2515);
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', 'bar{hash_tag}'), 2515);
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', 'foo'), 12182);
  // An empty tag does not count: the whole key is hashed.
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', '{}foo'), crc16('{}foo') % 16384);
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', 'a{b'), crc16('a{b') % 16384);
  assert.equal(await r.call('CLUSTER', 'KEYSLOT', 'x{foo}{bar}'), 12182);
  assert.equal(await err(r.get('foo')), 'CLUSTERDOWN Hash slot not served');
  assert.equal(await r.ping(), 'PONG');
  // Slot assignment and its errors.
  assert.equal(await r.call('CLUSTER', 'ADDSLOTS', '0', '1', '2'), 'OK');
  assert.equal(await err(r.call('CLUSTER', 'ADDSLOTS', '2')), 'ERR Slot 2 is already busy');
  assert.equal(await err(r.call('CLUSTER', 'ADDSLOTS', '16384')), 'ERR Invalid or out of range slot');
  assert.equal(await err(r.call('CLUSTER', 'ADDSLOTS', '5', '5')), 'ERR Slot 5 specified multiple times');
  assert.equal(await err(r.call('CLUSTER', 'DELSLOTS', '7')), 'ERR Slot 7 is already unassigned');
  assert.equal(await err(r.call('CLUSTER', 'ADDSLOTSRANGE', '9', '3')), 'ERR start slot number 9 is greater than end slot number 3');
  assert.equal(await err(r.call('CLUSTER', 'ADDSLOTSRANGE', '9')), "ERR wrong number of arguments for 'cluster|addslotsrange' command");
  assert.equal(await r.call('CLUSTER', 'ADDSLOTSRANGE', '3', '16383'), 'OK');
  await waitFor('state ok', async () => (await info(r)).cluster_state === 'ok');
  ci = await info(r);
  assert.equal(ci.cluster_slots_assigned, '16384');
  assert.equal(ci.cluster_size, '1');
  const myid = await r.call('CLUSTER', 'MYID');
  assert.match(myid, /^[0-9a-f]{40}$/);
  assert.match(await r.call('CLUSTER', 'MYSHARDID'), /^[0-9a-f]{40}$/);
  const nodes = await r.call('CLUSTER', 'NODES');
  assert.match(nodes, new RegExp(`^${myid} :${s.port}@${bus} myself,master - 0 0 0 connected 0-16383\\n$`));
  assert.deepEqual(await r.call('CLUSTER', 'SLOTS'), [[0, 16383, ['', s.port, myid, []]]]);
  // Keys, cross-slot requests, the per-slot key index.
  assert.equal(await r.set('foo', 'bar'), 'OK');
  assert.equal(await r.get('foo'), 'bar');
  assert.equal(await err(r.mset('a', '1', 'b', '2')), "CROSSSLOT Keys in request don't hash to the same slot");
  assert.equal(await r.mset('{t}a', '1', '{t}b', '2', '{t}c', '3'), 'OK');
  const ts = await r.call('CLUSTER', 'KEYSLOT', '{t}');
  assert.equal(await r.call('CLUSTER', 'COUNTKEYSINSLOT', String(ts)), 3);
  assert.deepEqual((await r.call('CLUSTER', 'GETKEYSINSLOT', String(ts), '10')).sort(), ['{t}a', '{t}b', '{t}c']);
  assert.equal((await r.call('CLUSTER', 'GETKEYSINSLOT', String(ts), '2')).length, 2);
  await r.del('{t}b');
  assert.equal(await r.call('CLUSTER', 'COUNTKEYSINSLOT', String(ts)), 2);
  assert.equal(await err(r.call('CLUSTER', 'COUNTKEYSINSLOT', '16384')), 'ERR Invalid slot');
  assert.equal(await err(r.call('CLUSTER', 'GETKEYSINSLOT', '1', '-1')), 'ERR Invalid slot or number of keys');
  assert.equal(await r.rename('{t}a', '{t}z'), 'OK');
  assert.deepEqual((await r.call('CLUSTER', 'GETKEYSINSLOT', String(ts), '10')).sort(), ['{t}c', '{t}z']);
  // CLUSTER SLOT-STATS (Valkey 8): key counts of served slots.
  assert.deepEqual(await r.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', String(ts), String(ts)), [[ts, ['key-count', 2]]]);
  assert.deepEqual(await r.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', '0', '1'), [[0, ['key-count', 0]], [1, ['key-count', 0]]]);
  const top = await r.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'LIMIT', '2');
  assert.deepEqual(top[0], [ts, ['key-count', 2]]);
  assert.equal(top.length, 2);
  assert.deepEqual(await r.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'LIMIT', '1', 'ASC'), [[0, ['key-count', 0]]]);
  assert.equal(await err(r.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'cpu-usec')), 'ERR Unrecognized sort metric for ORDERBY.');
  assert.equal(await err(r.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'LIMIT', '0')), 'ERR Limit has to lie in between 1 and 16384 (maximum number of slots).');
  assert.equal(await err(r.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'ASC', 'DESC')), 'ERR Multiple filters of the same type are disallowed.');
  assert.equal(await err(r.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', '5', '1')), 'ERR Start slot number 5 is greater than end slot number 1');
  await r.flushall();
  assert.equal(await r.call('CLUSTER', 'COUNTKEYSINSLOT', String(ts)), 0);
  await r.set('{t}q', '1');
  assert.equal(await r.call('CLUSTER', 'COUNTKEYSINSLOT', String(ts)), 1);
  // One database only.
  assert.equal(await err(r.select(1)), 'ERR SELECT is not allowed in cluster mode');
  assert.equal(await r.select(0), 'OK');
  assert.equal(await err(r.call('SWAPDB', '0', '1')), 'ERR SWAPDB is not allowed in cluster mode');
  assert.equal(await err(r.call('MOVE', '{t}q', '1')), 'ERR MOVE is not allowed in cluster mode');
  assert.equal(await err(r.call('REPLICAOF', '127.0.0.1', '1')), 'ERR REPLICAOF not allowed in cluster mode.');
  // MULTI/EXEC: the queued commands together must be in one slot.
  const m = await r.multi().set('{a}1', 'x').set('{b}1', 'y').exec().catch((e) => e);
  assert.match(String(m.message ?? m), /CROSSSLOT/);
  assert.equal(await r.exists('{a}1'), 0);
  const ok = await r.multi().set('{a}1', 'x').set('{a}2', 'y').exec();
  assert.deepEqual(ok, [[null, 'OK'], [null, 'OK']]);
  // Scripts: declared keys are routed; undeclared ones must stay on the slot unless allowed.
  assert.equal(await err(r.eval("return 1", 2, 'a', 'b')), "CROSSSLOT Keys in request don't hash to the same slot");
  assert.equal(await r.eval("redis.call('set', KEYS[1], 1); return redis.call('set', 'other', 2)", 1, 'foo'), 'OK');
  assert.match(
    await err(r.eval("#!lua\nredis.call('set', KEYS[1], 1); return redis.call('set', 'other', 2)", 1, 'foo')),
    /Script attempted to access keys that do not hash to the same slot/,
  );
  assert.equal(await r.eval("#!lua flags=allow-cross-slot-keys\nredis.call('set', KEYS[1], 1); return redis.call('set', 'other', 2)", 1, 'foo'), 'OK');
  assert.equal(await err(r.eval("#!lua flags=no-cluster\nreturn 1", 0)), "ERR Can not run script on cluster, 'no-cluster' flag is set.");
  // A slot not served: only its keys fail while full coverage is not required.
  assert.equal(await r.call('CLUSTER', 'DELSLOTS', '12182'), 'OK');
  await waitFor('state fail', async () => (await info(r)).cluster_state === 'fail');
  assert.equal(await err(r.get('{t}q')), 'CLUSTERDOWN The cluster is down');
  await r.config('SET', 'cluster-allow-reads-when-down', 'yes');
  assert.equal(await r.get('{t}q'), '1');
  assert.equal(await err(r.set('{t}q', '2')), 'CLUSTERDOWN The cluster is down and only accepts read commands');
  // Sharded Pub/Sub keeps working while the cluster is down (cluster-allow-pubsubshard-when-down yes).
  assert.equal(await r.call('SPUBLISH', '{t}ch', 'm'), 0);
  await r.config('SET', 'cluster-allow-pubsubshard-when-down', 'no');
  assert.equal(await err(r.call('SPUBLISH', '{t}ch', 'm')), 'CLUSTERDOWN The cluster is down');
  await r.config('SET', 'cluster-allow-pubsubshard-when-down', 'yes');
  await r.config('SET', 'cluster-allow-reads-when-down', 'no');
  await r.config('SET', 'cluster-require-full-coverage', 'no');
  await waitFor('state ok', async () => (await info(r)).cluster_state === 'ok');
  assert.equal(await err(r.get('foo')), 'CLUSTERDOWN Hash slot not served');
  assert.equal(await r.get('{t}q'), '1');
  // SETSLOT, epochs and other errors.
  assert.equal(await err(r.call('CLUSTER', 'SETSLOT', '1', 'MIGRATING', 'f'.repeat(40))), `ERR I don't know about node ${'f'.repeat(40)}`);
  assert.equal(await err(r.call('CLUSTER', 'SETSLOT', '1', 'IMPORTING', myid)), "ERR I'm already the owner of hash slot 1");
  assert.equal(await err(r.call('CLUSTER', 'SETSLOT', '12182', 'MIGRATING', myid)), "ERR I'm not the owner of hash slot 12182");
  assert.equal(await err(r.call('CLUSTER', 'SETSLOT', '1', 'BOGUS')), 'ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
  assert.equal(await r.call('CLUSTER', 'SETSLOT', '12182', 'NODE', myid), 'OK');
  assert.equal(await r.call('CLUSTER', 'SET-CONFIG-EPOCH', '5'), 'OK');
  assert.equal(await err(r.call('CLUSTER', 'SET-CONFIG-EPOCH', '6')), 'ERR Node config epoch is already non-zero');
  assert.equal(await r.call('CLUSTER', 'BUMPEPOCH'), 'STILL 5');
  assert.equal((await info(r)).cluster_current_epoch, '5');
  assert.equal(await err(r.call('CLUSTER', 'FORGET', myid)), "ERR I tried hard but I can't forget myself...");
  assert.equal(await err(r.call('CLUSTER', 'FORGET', 'a'.repeat(40))), `ERR Unknown node ${'a'.repeat(40)}`);
  assert.equal(await err(r.call('CLUSTER', 'COUNT-FAILURE-REPORTS', 'a'.repeat(40))), `ERR Unknown node ${'a'.repeat(40)}`);
  assert.equal(await r.call('CLUSTER', 'COUNT-FAILURE-REPORTS', myid), 0);
  assert.deepEqual(await r.call('CLUSTER', 'LINKS'), []);
  assert.equal(await err(r.call('CLUSTER', 'MEET', 'nohost', '7000')), 'ERR Invalid node address specified: nohost:7000');
  assert.equal(await err(r.call('CLUSTER', 'MEET', '127.0.0.1', 'x')), 'ERR Invalid base port specified: x');
  assert.equal(await r.call('CLUSTER', 'SAVECONFIG'), 'OK');
  // nodes.conf: Valkey's format, reloaded at start.
  const conf = readFileSync(join(dir, 'nodes.conf'), 'latin1');
  assert.match(conf, new RegExp(`^${myid} :${s.port}@${bus},,shard-id=[0-9a-f]{40} myself,master - 0 0 5 connected 0-16383\\nvars currentEpoch 5 lastVoteEpoch 0\\n$`));
  await s.stop();
  const again = await node([], dir);
  assert.equal(await again.r.call('CLUSTER', 'MYID'), myid);
  assert.equal((await info(again.r)).cluster_my_epoch, '5');
  assert.equal((await info(again.r)).cluster_slots_assigned, '16384');
  await waitFor('state ok after restart', async () => (await info(again.r)).cluster_state === 'ok');
  // RESET refuses a primary with keys; HARD takes a new name and zero epochs.
  await again.r.set('{t}k', '1');
  assert.equal(await err(again.r.call('CLUSTER', 'RESET')), "ERR CLUSTER RESET can't be called with master nodes containing keys");
  await again.r.flushall();
  assert.equal(await again.r.call('CLUSTER', 'RESET', 'HARD'), 'OK');
  assert.notEqual(await again.r.call('CLUSTER', 'MYID'), myid);
  ci = await info(again.r);
  assert.equal(ci.cluster_slots_assigned, '0');
  assert.equal(ci.cluster_current_epoch, '0');
});

test('two nodes: MEET over the bus, MOVED, ASK, ASKING, TRYAGAIN, MIGRATE, SETSLOT NODE', async () => {
  const a = await node();
  const b = await node();
  await a.r.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  await b.r.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
  await a.r.call('CLUSTER', 'SET-CONFIG-EPOCH', '1');
  await b.r.call('CLUSTER', 'SET-CONFIG-EPOCH', '2');
  assert.equal(await a.r.call('CLUSTER', 'MEET', '127.0.0.1', String(b.s.port), String(b.bus)), 'OK');
  const ida = await a.r.call('CLUSTER', 'MYID');
  const idb = await b.r.call('CLUSTER', 'MYID');
  for (const x of [a, b]) {
    await waitFor('both nodes known', async () => {
      const ci = await info(x.r);
      const nodes = await x.r.call('CLUSTER', 'NODES');
      return ci.cluster_state === 'ok' && ci.cluster_known_nodes === '2' && !nodes.includes('handshake') && nodes.includes(ida) && nodes.includes(idb);
    });
  }
  const nb = (await a.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(idb));
  assert.match(nb, new RegExp(`^${idb} 127\\.0\\.0\\.1:${b.s.port}@${b.bus} master - 0 \\d+ 2 connected 8192-16383$`));
  const links = await a.r.call('CLUSTER', 'LINKS');
  assert.ok(links.length >= 1 && links.every((l) => l[3] === idb));
  assert.equal(await err(a.r.get('foo')), `MOVED 12182 127.0.0.1:${b.s.port}`);
  assert.equal(await err(a.r.get('somekey')), `MOVED 11058 127.0.0.1:${b.s.port}`);
  assert.equal(await b.r.get('somekey'), null);
  assert.equal(await err(b.r.get('foo{hash_tag}')), `MOVED 2515 127.0.0.1:${a.s.port}`);
  assert.deepEqual(
    (await a.r.call('CLUSTER', 'SLOTS')).map((x) => [x[0], x[1], x[2][1]]),
    [
      [0, 8191, a.s.port],
      [8192, 16383, b.s.port],
    ],
  );
  // A redirected command inside MULTI makes EXEC fail; a redirected EXEC drops the transaction.
  const tx = new Redis({ port: a.s.port });
  clients.push(tx);
  assert.equal(await tx.call('MULTI'), 'OK');
  assert.equal(await err(tx.call('GET', 'foo')), `MOVED 12182 127.0.0.1:${b.s.port}`);
  assert.equal(await err(tx.call('EXEC')), 'EXECABORT Transaction discarded because of previous errors.');
  assert.equal(await tx.call('MULTI'), 'OK');
  assert.equal(await tx.call('SET', 'a{hash_tag}', '0'), 'QUEUED');
  await a.r.call('CLUSTER', 'DELSLOTS', '2515');
  await a.r.call('CLUSTER', 'SETSLOT', '2515', 'NODE', idb);
  assert.equal(await err(tx.call('EXEC')), `MOVED 2515 127.0.0.1:${b.s.port}`);
  assert.equal(await err(tx.call('EXEC')), 'ERR EXEC without MULTI');
  await a.r.call('CLUSTER', 'SETSLOT', '2515', 'NODE', ida);
  // Migrate slot 2515 from A to B.
  await a.r.set('a{hash_tag}', 'va');
  await a.r.set('c{hash_tag}', 'vc');
  await a.r.set('x{hash_tag}', '1');
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', '2515', 'IMPORTING', ida), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', '2515', 'MIGRATING', idb), 'OK');
  assert.match(await a.r.call('CLUSTER', 'NODES'), new RegExp(`\\[2515->-${idb}\\]`));
  assert.match(await b.r.call('CLUSTER', 'NODES'), new RegExp(`\\[2515-<-${ida}\\]`));
  assert.equal(await a.r.get('a{hash_tag}'), 'va');
  assert.equal(await err(a.r.get('b{hash_tag}')), `ASK 2515 127.0.0.1:${b.s.port}`);
  assert.equal(await err(a.r.mget('a{hash_tag}', 'b{hash_tag}')), 'TRYAGAIN Multiple keys request during rehashing of slot');
  assert.equal(await err(b.r.get('b{hash_tag}')), `MOVED 2515 127.0.0.1:${a.s.port}`);
  assert.equal(await b.r.call('ASKING'), 'OK');
  assert.equal(await b.r.get('b{hash_tag}'), null);
  assert.equal(await err(b.r.get('b{hash_tag}')), `MOVED 2515 127.0.0.1:${a.s.port}`);
  assert.equal(await a.r.call('MIGRATE', '127.0.0.1', String(b.s.port), 'a{hash_tag}', '0', '5000'), 'OK');
  assert.equal(await a.r.call('MIGRATE', '127.0.0.1', String(b.s.port), '', '0', '5000', 'COPY', 'KEYS', 'c{hash_tag}', 'nokey{hash_tag}'), 'OK');
  assert.equal(await a.r.get('c{hash_tag}'), 'vc');
  assert.equal(await a.r.call('MIGRATE', '127.0.0.1', String(b.s.port), '', '0', '5000', 'REPLACE', 'KEYS', 'c{hash_tag}'), 'OK');
  assert.equal(await a.r.call('MIGRATE', '127.0.0.1', String(b.s.port), 'gone{hash_tag}', '0', '5000'), 'NOKEY');
  assert.equal(await a.r.call('CLUSTER', 'COUNTKEYSINSLOT', '2515'), 1);
  assert.equal(await err(a.r.get('a{hash_tag}')), `ASK 2515 127.0.0.1:${b.s.port}`);
  await b.r.call('ASKING');
  assert.equal(await b.r.get('a{hash_tag}'), 'va');
  // A target error is reported as such.
  assert.equal(await err(a.r.set('new{hash_tag}', '1')), `ASK 2515 127.0.0.1:${b.s.port}`);
  await b.r.call('ASKING');
  await b.r.set('x{hash_tag}', '2');
  assert.match(await err(a.r.call('MIGRATE', '127.0.0.1', String(b.s.port), 'x{hash_tag}', '0', '5000')), /^ERR Target instance replied with error: BUSYKEY/);
  assert.equal(await a.r.call('MIGRATE', '127.0.0.1', String(b.s.port), 'x{hash_tag}', '0', '5000', 'REPLACE'), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'COUNTKEYSINSLOT', '2515'), 0);
  // Hand the slot over: B first (it bumps its epoch), then A.
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', '2515', 'NODE', idb), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', '2515', 'NODE', idb), 'OK');
  assert.equal(await b.r.get('a{hash_tag}'), 'va');
  assert.equal(await err(a.r.get('a{hash_tag}')), `MOVED 2515 127.0.0.1:${b.s.port}`);
  // B already had the highest epoch: it keeps it (BUMPEPOCH would say STILL).
  assert.equal((await info(b.r)).cluster_my_epoch, '2');
  // Gossip converges on the new owner everywhere.
  await waitFor('same view of slots', async () => {
    const sa = JSON.stringify(await a.r.call('CLUSTER', 'SLOTS'));
    const sb = JSON.stringify(await b.r.call('CLUSTER', 'SLOTS'));
    return sa === sb;
  });
  // PUBLISH reaches subscribers on every node over the bus.
  const sub = new Redis({ port: b.s.port });
  clients.push(sub);
  const got = new Promise((resolve) => sub.on('message', (ch, msg) => resolve([ch, msg])));
  await sub.subscribe('news');
  assert.equal(await a.r.publish('news', 'hello'), 0);
  assert.deepEqual(await got, ['news', 'hello']);
  // MIGRATE to a port nobody listens on.
  const closed = await freePort();
  assert.equal(await a.r.call('MIGRATE', '127.0.0.1', String(closed), 'none{b}', '0', '1000'), 'NOKEY');
  await a.r.set('{b}k', '1');
  assert.equal(await err(a.r.call('MIGRATE', '127.0.0.1', String(closed), '{b}k', '0', '1000')), 'IOERR error or timeout connecting to the client');
  assert.equal(await a.r.get('{b}k'), '1');
  const shards = await a.r.call('CLUSTER', 'SHARDS');
  assert.equal(shards.length, 2);
  assert.equal(shards.reduce((n, sh) => n + sh[3].length, 0), 2);
});

test('three nodes: a primary killed is marked PFAIL then FAIL by the majority', async () => {
  const ns = [await node(), await node(), await node()];
  const ranges = [
    ['0', '5460'],
    ['5461', '10922'],
    ['10923', '16383'],
  ];
  for (let i = 0; i < 3; i++) {
    await ns[i].r.call('CLUSTER', 'ADDSLOTSRANGE', ...ranges[i]);
    await ns[i].r.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
  }
  await ns[0].r.call('CLUSTER', 'MEET', '127.0.0.1', String(ns[1].s.port), String(ns[1].bus));
  await ns[0].r.call('CLUSTER', 'MEET', '127.0.0.1', String(ns[2].s.port), String(ns[2].bus));
  for (const x of ns) await waitFor('3 nodes ok', async () => (await info(x.r)).cluster_state === 'ok' && (await info(x.r)).cluster_known_nodes === '3');
  const dead = await ns[2].r.call('CLUSTER', 'MYID');
  await ns[2].s.stop('SIGKILL');
  for (const x of ns.slice(0, 2)) {
    await waitFor('FAIL flag', async () => {
      const line = (await x.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(dead));
      return / master,fail /.test(line);
    });
    await waitFor('cluster down', async () => (await info(x.r)).cluster_state === 'fail');
  }
  assert.equal(await err(ns[0].r.get('foo')), 'CLUSTERDOWN The cluster is down');
  // Restarted from its nodes.conf (on another port), it rejoins: the others learn its new address and clear FAIL.
  const back = await node([], ns[2].dir);
  assert.equal(await back.r.call('CLUSTER', 'MYID'), dead);
  for (const x of [ns[0], ns[1], back]) {
    await waitFor('rejoined', async () => {
      const line = (await x.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(dead));
      return (await info(x.r)).cluster_state === 'ok' && line.includes(`127.0.0.1:${back.s.port}@${back.bus}`) && !/fail/.test(line);
    });
  }
  assert.equal(await err(ns[0].r.get('foo')), `MOVED 12182 127.0.0.1:${back.s.port}`);
});

test('two primaries with the same config epoch: the one with the smaller node id takes a new epoch', async () => {
  const a = await node();
  const b = await node();
  await a.r.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  await b.r.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
  await a.r.call('CLUSTER', 'MEET', '127.0.0.1', String(b.s.port), String(b.bus));
  const ida = await a.r.call('CLUSTER', 'MYID');
  const idb = await b.r.call('CLUSTER', 'MYID');
  const smaller = ida < idb ? a : b;
  const larger = ida < idb ? b : a;
  await waitFor('epoch collision resolved', async () => {
    const s = await info(smaller.r);
    const l = await info(larger.r);
    return s.cluster_my_epoch === '1' && l.cluster_my_epoch === '0' && s.cluster_current_epoch === '1' && l.cluster_current_epoch === '1';
  });
  for (const x of [a, b]) await waitFor('state ok', async () => (await info(x.r)).cluster_state === 'ok');
});

test('CLUSTER FORGET on one node spreads to the others (forgotten-node ping extension)', async () => {
  const ns = [await node(), await node(), await node()];
  await ns[0].r.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await ns[0].r.call('CLUSTER', 'MEET', '127.0.0.1', String(ns[1].s.port), String(ns[1].bus));
  await ns[0].r.call('CLUSTER', 'MEET', '127.0.0.1', String(ns[2].s.port), String(ns[2].bus));
  for (const x of ns) await waitFor('3 nodes known', async () => (await info(x.r)).cluster_known_nodes === '3');
  const gone = await ns[2].r.call('CLUSTER', 'MYID');
  await ns[2].s.stop('SIGKILL');
  assert.equal(await ns[0].r.call('CLUSTER', 'FORGET', gone), 'OK');
  assert.doesNotMatch(await ns[0].r.call('CLUSTER', 'NODES'), new RegExp(gone));
  await waitFor('forgotten by the other node', async () => !(await ns[1].r.call('CLUSTER', 'NODES')).includes(gone));
  assert.equal((await info(ns[1].r)).cluster_known_nodes, '2');
});

test('replicas: CLUSTER REPLICATE, READONLY, cluster-replica-no-failover, CLUSTER FAILOVER FORCE after the primary died', async () => {
  const ns = [await node(), await node(), await node()];
  const ranges = [
    ['0', '5460'],
    ['5461', '10922'],
    ['10923', '16383'],
  ];
  for (let i = 0; i < 3; i++) await ns[i].r.call('CLUSTER', 'ADDSLOTSRANGE', ...ranges[i]);
  const rep = await node(['--cluster-replica-no-failover', 'yes']);
  for (const x of [ns[1], ns[2], rep]) await ns[0].r.call('CLUSTER', 'MEET', '127.0.0.1', String(x.s.port), String(x.bus));
  for (const x of [...ns, rep]) await waitFor('4 nodes ok', async () => (await info(x.r)).cluster_state === 'ok' && (await info(x.r)).cluster_known_nodes === '4');
  const ids = await Promise.all(ns.map((x) => x.r.call('CLUSTER', 'MYID')));
  const rid = await rep.r.call('CLUSTER', 'MYID');
  assert.equal(await err(rep.r.call('CLUSTER', 'REPLICATE', rid)), "ERR Can't replicate myself");
  assert.equal(await err(rep.r.call('CLUSTER', 'REPLICATE', 'a'.repeat(40))), `ERR Unknown node ${'a'.repeat(40)}`);
  assert.equal(await err(ns[1].r.call('CLUSTER', 'REPLICATE', ids[0])), 'ERR To set a master the node must be empty and without assigned slots.');
  assert.equal(await err(rep.r.call('CLUSTER', 'FAILOVER')), 'ERR You should send CLUSTER FAILOVER to a replica');
  assert.equal(await err(rep.r.call('CLUSTER', 'FAILOVER', 'SOON')), 'ERR syntax error');
  await ns[2].r.set('a{x}', '1'); // slot 16287
  await ns[0].r.set('b{b}', 'yv'); // slot 3300, ns[0]'s
  assert.equal(await rep.r.call('CLUSTER', 'REPLICATE', ids[0]), 'OK');
  assert.equal(await err(ns[1].r.call('CLUSTER', 'REPLICATE', rid)), 'ERR I can only replicate a master, not a replica.');
  await waitFor('replica synced', async () => /master_link_status:up/.test(await rep.r.info('replication')) && (await rep.r.dbsize()) === 1);
  for (const x of [...ns, rep]) {
    await waitFor('replica known', async () => {
      const line = (await x.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(rid));
      return new RegExp(` (myself,)?slave,nofailover ${ids[0]} `).test(line);
    });
  }
  const reps = await ns[1].r.call('CLUSTER', 'REPLICAS', ids[0]);
  assert.equal(reps.length, 1);
  assert.ok(reps[0].startsWith(`${rid} 127.0.0.1:${rep.s.port}@${rep.bus} slave,nofailover ${ids[0]} `), reps[0]);
  assert.equal(await err(ns[1].r.call('CLUSTER', 'REPLICAS', rid)), 'ERR The specified node is not a master');
  const slot0 = (await ns[1].r.call('CLUSTER', 'SLOTS')).find((s) => s[0] === 0);
  assert.deepEqual(slot0.slice(3).map((e) => e.slice(0, 3)), [['127.0.0.1', rep.s.port, rid]]);
  // Reads on the replica: MOVED unless READONLY; writes are always redirected to the primary.
  assert.equal(await err(rep.r.get('b{b}')), `MOVED 3300 127.0.0.1:${ns[0].s.port}`);
  assert.equal(await rep.r.call('READONLY'), 'OK');
  assert.equal(await rep.r.get('b{b}'), 'yv');
  assert.equal(await err(rep.r.get('a{x}')), `MOVED 16287 127.0.0.1:${ns[2].s.port}`);
  assert.equal(await err(rep.r.set('b{b}', 'z')), `MOVED 3300 127.0.0.1:${ns[0].s.port}`);
  assert.equal(await rep.r.call('CONFIG', 'GET', 'cluster-replica-validity-factor').then((v) => v[1]), '10');
  // The primary dies: FAIL, but the replica with cluster-replica-no-failover does not start an election.
  await ns[0].s.stop('SIGKILL');
  await waitFor('FAIL', async () => / master,fail /.test((await ns[1].r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(ids[0]))));
  await sleep(2500);
  assert.match((await rep.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(rid)), / myself,slave,nofailover /);
  assert.equal((await info(ns[1].r)).cluster_state, 'fail');
  assert.equal(await err(rep.r.call('CLUSTER', 'FAILOVER')), 'ERR Master is down or failed, please use CLUSTER FAILOVER FORCE');
  // A forced manual failover: the replica asks the primaries for their votes and takes the slots.
  const epochBefore = Number((await info(ns[1].r)).cluster_current_epoch);
  assert.equal(await rep.r.call('CLUSTER', 'FAILOVER', 'FORCE'), 'OK');
  for (const x of [ns[1], ns[2], rep]) {
    await waitFor('promoted', async () => {
      const line = (await x.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(rid));
      return / (myself,)?master,nofailover - .* 0-5460$/.test(line) && (await info(x.r)).cluster_state === 'ok';
    });
  }
  assert.ok(Number((await info(rep.r)).cluster_my_epoch) > epochBefore);
  assert.equal((await rep.r.call('ROLE'))[0], 'master');
  assert.equal(await rep.r.set('b{b}', 'new'), 'OK');
  assert.equal(await err(ns[1].r.get('b{b}')), `MOVED 3300 127.0.0.1:${rep.s.port}`);
  // The dead node's link shows "connected" while a reconnect attempt is in flight (as in Valkey): wait for the refusal.
  await waitFor('dead node disconnected', async () =>
    / master,fail - \d+ \d+ \d+ disconnected$/.test((await ns[1].r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(ids[0]))),
  );
});

test('replica migration: a primary left without working replica gets one from the primary with two', async () => {
  const ns = [await node(), await node(), await node()];
  const ranges = [
    ['0', '5460'],
    ['5461', '10922'],
    ['10923', '16383'],
  ];
  for (let i = 0; i < 3; i++) await ns[i].r.call('CLUSTER', 'ADDSLOTSRANGE', ...ranges[i]);
  const reps = [await node(), await node(), await node()];
  for (const x of [ns[1], ns[2], ...reps]) await ns[0].r.call('CLUSTER', 'MEET', '127.0.0.1', String(x.s.port), String(x.bus));
  for (const x of [...ns, ...reps]) await waitFor('6 nodes ok', async () => (await info(x.r)).cluster_state === 'ok' && (await info(x.r)).cluster_known_nodes === '6');
  const ids = await Promise.all(ns.map((x) => x.r.call('CLUSTER', 'MYID')));
  const rids = await Promise.all(reps.map((x) => x.r.call('CLUSTER', 'MYID')));
  assert.equal(await reps[0].r.call('CLUSTER', 'REPLICATE', ids[0]), 'OK');
  assert.equal(await reps[1].r.call('CLUSTER', 'REPLICATE', ids[0]), 'OK');
  assert.equal(await reps[2].r.call('CLUSTER', 'REPLICATE', ids[1]), 'OK');
  assert.equal((await reps[0].r.call('CONFIG', 'GET', 'cluster-migration-barrier'))[1], '1');
  for (const x of [...ns, ...reps]) {
    await waitFor('replicas known', async () => {
      const t = await x.r.call('CLUSTER', 'NODES');
      return (t.match(new RegExp(`[ ,]slave ${ids[0]} `, 'g')) ?? []).length === 2 && new RegExp(`[ ,]slave ${ids[1]} `).test(t);
    });
  }
  await reps[2].s.stop('SIGKILL');
  // The replica of ids[0] with the smaller name moves to the orphaned ids[1] (after 5 s orphaned).
  const mover = rids[0] < rids[1] ? 0 : 1;
  await waitFor('migration', async () => {
    const t = await ns[2].r.call('CLUSTER', 'NODES');
    return new RegExp(`^${rids[mover]} \\S+ slave ${ids[1]} `, 'm').test(t) && new RegExp(`^${rids[1 - mover]} \\S+ slave ${ids[0]} `, 'm').test(t);
  }, 20000);
  await waitFor('the moved replica to sync', async () => new RegExp(`master_port:${ns[1].s.port}\\r\\nmaster_link_status:up`).test(await reps[mover].r.info('replication')));
  await sleep(1000);
  // The other one stays: its primary would be left with fewer than cluster-migration-barrier + 1.
  assert.match(await reps[1 - mover].r.info('replication'), new RegExp(`master_port:${ns[0].s.port}\\r\\n`));
  // CLUSTER RESET on a replica: an empty primary without slots.
  await ns[0].r.set('b{b}', '1');
  await waitFor('the key replicated', async () => (await reps[1 - mover].r.dbsize()) === 1);
  assert.equal(await reps[1 - mover].r.call('CLUSTER', 'RESET'), 'OK');
  assert.equal((await reps[1 - mover].r.call('ROLE'))[0], 'master');
  assert.equal(await reps[1 - mover].r.dbsize(), 0);
  assert.match((await reps[1 - mover].r.call('CLUSTER', 'NODES')).trim(), new RegExp(`^${rids[1 - mover]} \\S+ myself,master - 0 0 \\d+ connected$`));
});
