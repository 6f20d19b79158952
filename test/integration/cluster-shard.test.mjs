// Cluster mode, within a shard: PUBLISH over the bus reaching every node once
// (replicas included, not also through the replication stream), SPUBLISH as
// PUBLISHSHARD to the primary and replicas of the shard only, SSUBSCRIBE served
// by a replica; CLUSTER SETSLOT replicated to the replicas before the primary
// applies it (Valkey 8), TIMEOUT and -NOREPLICAS, a failover during a migration
// keeping the migrating state; CLUSTER HELP; the nodes.conf lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { startVireo, freePort, VIREO_BIN, testResources } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { clusterNode, errorOf, pollValue } from '../helpers/cluster.mjs';

// A server left stopped (SIGSTOP) is killed all the same (SIGKILL).
const res = testResources();
const { servers, clients, conns } = res;

async function node(extra = [], timeout = 3000) {
  const n = await clusterNode(res, { prefix: 'vireo-clshard-', nodeTimeout: timeout, extra });
  return { ...n, id: await n.r.call('CLUSTER', 'MYID') };
}

const err = errorOf;
const waitFor = (what, fn, ms = 30000) => pollValue(what, fn, ms, true);

const info = async (r) => Object.fromEntries((await r.call('CLUSTER', 'INFO')).trim().split('\r\n').map((l) => l.split(':')));
const myLine = async (x) => (await x.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'));
const lineOf = async (x, id) => (await x.r.call('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(id));

/** Shard A (primary a, replica a1) with slots 0-8191, shard B (primary b) with 8192-16383. */
async function twoShards(timeout) {
  const a = await node([], timeout);
  const b = await node([], timeout);
  const a1 = await node([], timeout);
  await a.r.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  await b.r.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
  await a.r.call('CLUSTER', 'SET-CONFIG-EPOCH', '1');
  await b.r.call('CLUSTER', 'SET-CONFIG-EPOCH', '2');
  for (const x of [b, a1]) await a.r.call('CLUSTER', 'MEET', '127.0.0.1', String(x.s.port), String(x.bus));
  for (const x of [a, b, a1]) {
    await waitFor('3 nodes, state ok', async () => {
      const ci = await info(x.r);
      return ci.cluster_state === 'ok' && ci.cluster_known_nodes === '3' && !(await x.r.call('CLUSTER', 'NODES')).includes('handshake');
    });
  }
  assert.equal(await a1.r.call('CLUSTER', 'REPLICATE', a.id), 'OK');
  await waitFor('replica synced', async () => /master_link_status:up/.test(await a1.r.info('replication')));
  for (const x of [a, b, a1]) {
    await waitFor('replica seen by all', async () => new RegExp(` (myself,)?slave ${a.id} `).test(await lineOf(x, a1.id)));
    // The bus links to the replica are up (PUBLISH goes over them).
    await waitFor('links up', async () => (await x.r.call('CLUSTER', 'NODES')).split('\n').filter((l) => / connected/.test(l)).length === 3);
  }
  return { a, b, a1 };
}

/** A channel / key name hashing to a slot in [lo, hi]. */
async function nameIn(r, prefix, lo, hi) {
  for (let i = 0; ; i++) {
    const n = `${prefix}${i}`;
    const s = await r.call('CLUSTER', 'KEYSLOT', n);
    if (s >= lo && s <= hi) return n;
  }
}

async function subscriber(port, kind, channel) {
  const c = await RawConn.connect(port);
  conns.push(c);
  const reply = await c.call(kind, channel);
  return { c, reply };
}

/** Messages (their payloads) a subscriber receives until `last` arrives, then what else comes within a moment. */
async function payloads(c, last) {
  const got = [];
  const end = Date.now() + 20000;
  while (!got.includes(last)) {
    if (Date.now() > end) throw new Error(`no ${last}; got ${JSON.stringify(got)}`);
    const raw = await c.readReply(20000);
    got.push(raw.trimEnd().split('\r\n').pop());
  }
  // A duplicate would come right behind (through another path): look a little longer.
  for (;;) {
    let raw;
    try {
      raw = await c.readReply(400);
    } catch {
      break;
    }
    got.push(raw.trimEnd().split('\r\n').pop());
  }
  return got;
}

test('PUBLISH reaches every node once; SPUBLISH stays in its shard and reaches the replicas', { timeout: 120000 }, async () => {
  const { a, b, a1 } = await twoShards(3000);
  // PUBLISH from a primary, from a replica and from the other shard: every subscriber, once each.
  const subs = [];
  for (const x of [a, b, a1]) subs.push((await subscriber(x.s.port, 'SUBSCRIBE', 'news')).c);
  assert.equal(await a.r.publish('news', 'm1'), 1);
  assert.equal(await a1.r.publish('news', 'm2'), 1);
  assert.equal(await b.r.publish('news', 'm3'), 1);
  for (const c of subs) {
    const got = await payloads(c, 'm3');
    assert.deepEqual(got.sort(), ['m1', 'm2', 'm3'], JSON.stringify(got));
  }
  // Sharded: a channel of shard A. The replica serves SSUBSCRIBE (no READONLY needed); B redirects it.
  const ch = await nameIn(a.r, 'ch', 0, 8191);
  const slot = await a.r.call('CLUSTER', 'KEYSLOT', ch);
  const sa = await subscriber(a.s.port, 'SSUBSCRIBE', ch);
  const sa1 = await subscriber(a1.s.port, 'SSUBSCRIBE', ch);
  assert.match(sa1.reply, /ssubscribe/);
  const sb = await subscriber(b.s.port, 'SSUBSCRIBE', ch);
  assert.equal(sb.reply, `-MOVED ${slot} 127.0.0.1:${a.s.port}\r\n`);
  const before = Number((await info(b.r)).cluster_stats_messages_publishshard_received ?? 0);
  assert.equal(await a.r.call('SPUBLISH', ch, 's1'), 1);
  // SPUBLISH on the replica: served there too, and reaches the primary's subscribers.
  assert.equal(await a1.r.call('SPUBLISH', ch, 's2'), 1);
  assert.equal(await err(b.r.call('SPUBLISH', ch, 'x')), `MOVED ${slot} 127.0.0.1:${a.s.port}`);
  assert.deepEqual(await payloads(sa.c, 's2'), ['s1', 's2']);
  assert.deepEqual(await payloads(sa1.c, 's2'), ['s1', 's2']);
  const ia = await info(a.r);
  const ia1 = await info(a1.r);
  assert.ok(Number(ia.cluster_stats_messages_publishshard_sent) >= 1, JSON.stringify(ia));
  assert.ok(Number(ia.cluster_stats_messages_publishshard_received) >= 1, JSON.stringify(ia));
  assert.ok(Number(ia1.cluster_stats_messages_publishshard_received) >= 1, JSON.stringify(ia1));
  // Nothing went to the other shard.
  assert.equal(Number((await info(b.r)).cluster_stats_messages_publishshard_received ?? 0), before);
  // The slot moves to B: the shard's subscribers of its channels are unsubscribed (sunsubscribe pushed).
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', a.id), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', b.id), 'OK');
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', b.id), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', b.id), 'OK');
  for (const [c, x] of [
    [sa.c, a],
    [sa1.c, a1],
  ]) {
    const push = await c.readReply(20000).catch(async (e) => `${e.message} on ${x.s.port}: ${JSON.stringify(await x.r.call('PUBSUB', 'SHARDCHANNELS'))} ${await myLine(x)}`);
    assert.equal(push, `*3\r\n$12\r\nsunsubscribe\r\n$${ch.length}\r\n${ch}\r\n:0\r\n`);
  }
  assert.deepEqual(await a.r.call('PUBSUB', 'SHARDCHANNELS'), []);
  assert.deepEqual(await a1.r.call('PUBSUB', 'SHARDCHANNELS'), []);
  // Subscribing again goes to the new owner.
  assert.equal(await sa.c.call('SSUBSCRIBE', ch), `-MOVED ${slot} 127.0.0.1:${b.s.port}\r\n`);
});

test('CLUSTER SETSLOT is replicated to the replicas before the primary applies it; a failover mid-migration keeps it', { timeout: 120000 }, async () => {
  const { a, b, a1 } = await twoShards(3000);
  const key = await nameIn(a.r, 'k', 0, 8191);
  const slot = await a.r.call('CLUSTER', 'KEYSLOT', key);
  await a.r.set(key, 'v');
  await waitFor('key on the replica', async () => (await a1.r.call('DBSIZE')) === 1);
  // Argument errors (Valkey 8's parser), and replicas refuse SETSLOT from anyone but their primary.
  assert.equal(await err(a.r.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE', 'TIMEOUT')), 'ERR Missing timeout value');
  assert.equal(await err(a.r.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE', 'TIMEOUT', '-1')), 'ERR timeout is negative');
  assert.equal(await err(a.r.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE', 'TIMEOUT', 'x')), 'ERR timeout is not an integer or out of range');
  assert.equal(await err(a.r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', a1.id)), 'ERR Target node is not a master');
  assert.equal(await err(a1.r.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE')), 'ERR Please use SETSLOT only with masters.');
  // A full move of an empty slot: when the primary answers, its replica has applied each step.
  const empty = slot === 1 ? 2 : 1;
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', String(empty), 'IMPORTING', a.id), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(empty), 'MIGRATING', b.id), 'OK');
  assert.ok((await myLine(a1)).includes(`[${empty}->-${b.id}]`), await myLine(a1));
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', String(empty), 'NODE', b.id), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(empty), 'NODE', b.id, 'TIMEOUT', '0'), 'OK');
  let l1 = await myLine(a1);
  assert.ok(!l1.includes(`[${empty}->-`), l1);
  const ownerOnReplica = (await a1.r.call('CLUSTER', 'SLOTS')).find((r) => r[0] <= empty && empty <= r[1]);
  assert.equal(ownerOnReplica[2][2], b.id);
  // The replica's nodes.conf has it as well.
  assert.ok(!readFileSync(join(a1.dir, 'nodes.conf'), 'latin1').includes(`[${empty}->-`));
  // A replication link that is not a cluster replica (a SYNC tool) is not waited for.
  const tool = await RawConn.connect(a.s.port);
  conns.push(tool);
  tool.send('SYNC');
  await waitFor('the SYNC link online', async () => ((await a.r.info('replication')).match(/state=online/g) ?? []).length === 2);
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(empty), 'STABLE', 'TIMEOUT', '5000'), 'OK');
  tool.close();
  await waitFor('the SYNC link gone', async () => /connected_slaves:1\r\n/.test(await a.r.info('replication')));
  // No acknowledgement within TIMEOUT (the replica is stopped): -NOREPLICAS, and the primary did not apply it.
  a1.s.proc.kill('SIGSTOP');
  a1.s.stopped = true;
  try {
    assert.equal(await err(a.r.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', b.id, 'TIMEOUT', '300')), 'NOREPLICAS Not enough good replicas to write.');
    assert.ok(!(await myLine(a)).includes(`[${slot}->-`));
  } finally {
    a1.s.proc.kill('SIGCONT');
    a1.s.stopped = false;
  }
  // The replica applies what it received late (as Valkey's would); STABLE clears both.
  await waitFor('late SETSLOT applied on the replica', async () => (await myLine(a1)).includes(`[${slot}->-${b.id}]`));
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(slot), 'STABLE'), 'OK');
  assert.ok(!(await myLine(a1)).includes(`[${slot}->-`));
  // A migration under way when the primary dies: the promoted replica still migrates the slot.
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', a.id), 'OK');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', b.id), 'OK');
  await a.s.stop('SIGKILL');
  assert.equal(await a1.r.call('CLUSTER', 'FAILOVER', 'TAKEOVER'), 'OK');
  await waitFor('replica promoted', async () => / myself,master - /.test(await myLine(a1)));
  l1 = await myLine(a1);
  assert.ok(l1.includes(`[${slot}->-${b.id}]`), l1);
  // It answers as the migrating node: ASK for a key it does not have, the key it has is served.
  const missing = `${key}-missing{${key}}`;
  assert.equal(await a1.r.call('CLUSTER', 'KEYSLOT', missing), slot);
  assert.equal(await err(a1.r.get(missing)), `ASK ${slot} 127.0.0.1:${b.s.port}`);
  assert.equal(await a1.r.get(key), 'v');
  // And finishes the migration with B.
  assert.equal(await a1.r.call('MIGRATE', '127.0.0.1', String(b.s.port), key, '0', '5000'), 'OK');
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', b.id), 'OK');
  assert.equal(await a1.r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', b.id), 'OK');
  assert.ok(!(await myLine(a1)).includes('->-'));
  assert.equal(await b.r.get(key), 'v');
  await waitFor('B owns the slot everywhere', async () => (await a1.r.call('CLUSTER', 'SLOTS')).find((r) => r[0] <= slot && slot <= r[1])?.[2][2] === b.id);
});

test('a primary whose last slot is moved away follows the new owner (cluster-allow-replica-migration)', { timeout: 120000 }, async () => {
  const a = await node();
  const b = await node();
  await a.r.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16382');
  await b.r.call('CLUSTER', 'ADDSLOTS', '16383');
  await a.r.call('CLUSTER', 'MEET', '127.0.0.1', String(b.s.port), String(b.bus));
  for (const x of [a, b]) await waitFor('2 nodes ok', async () => (await info(x.r)).cluster_state === 'ok' && (await info(x.r)).cluster_known_nodes === '2');
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', '16383', 'IMPORTING', b.id), 'OK');
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', '16383', 'MIGRATING', a.id), 'OK');
  // The source first (the target's new epoch would otherwise reach it by gossip first).
  assert.equal(await b.r.call('CLUSTER', 'SETSLOT', '16383', 'NODE', a.id), 'OK');
  assert.match(await myLine(b), new RegExp(` myself,slave ${a.id} `));
  assert.equal(await a.r.call('CLUSTER', 'SETSLOT', '16383', 'NODE', a.id), 'OK');
  await waitFor('b replicates a', async () => /master_link_status:up/.test(await b.r.info('replication')));
  // With cluster-allow-replica-migration no, it stays an empty primary.
  const c = await node(['--cluster-allow-replica-migration', 'no']);
  await a.r.call('CLUSTER', 'DELSLOTS', '0');
  assert.equal(await c.r.call('CLUSTER', 'ADDSLOTS', '0'), 'OK');
  await c.r.call('CLUSTER', 'MEET', '127.0.0.1', String(a.s.port), String(a.bus));
  await waitFor('3 nodes ok', async () => (await info(c.r)).cluster_state === 'ok' && (await info(c.r)).cluster_known_nodes === '3');
  assert.equal(await c.r.call('CLUSTER', 'SETSLOT', '0', 'NODE', a.id), 'OK');
  assert.match(await myLine(c), / myself,master - .* connected$/);
});

test('CLUSTER HELP is Valkey 8\'s', async () => {
  const x = await node();
  const h = await x.r.call('CLUSTER', 'HELP');
  assert.equal(h[0], 'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
  assert.equal(h.length, 60);
  assert.deepEqual(h.slice(1, 3), ['COUNTKEYSINSLOT <slot>', '    Return the number of keys in <slot>.']);
  assert.ok(h.includes('SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)'));
  assert.deepEqual(h.slice(-2), ['HELP', '    Print this help text.']);
  assert.equal(await err(x.r.call('CLUSTER', 'HELP', 'x')), "ERR wrong number of arguments for 'cluster|help' command");
});

/** Runs vireo-server until it exits (expected to fail); its exit code and output. */
function runFailing(args, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [VIREO_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`still running: ${out}`));
    }, 30000);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

test('nodes.conf is locked: a second server on the same file refuses to start; a stale lock is taken over', { timeout: 120000 }, async () => {
  const first = await node();
  const port = await freePort();
  const bus = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--cluster-enabled', 'yes', '--cluster-port', String(bus), '--dir', first.dir];
  const { code, out } = await runFailing(args, first.dir);
  assert.equal(code, 1);
  assert.match(out, /Sorry, the cluster configuration file nodes\.conf is already used by a different Cluster node\. Please make sure that different nodes use different cluster configuration files\./);
  // The first node is untouched.
  assert.equal(await first.r.call('CLUSTER', 'MYID'), first.id);
  // A graceful shutdown removes the lock; a kill -9 leaves a stale one that the next start takes over.
  await first.s.stop('SIGTERM');
  assert.ok(!existsSync(join(first.dir, 'nodes.conf.lock')));
  const again = await startVireo(['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--dir', first.dir], { cwd: first.dir });
  servers.push(again);
  assert.ok(existsSync(join(first.dir, 'nodes.conf.lock')));
  assert.match(readFileSync(join(first.dir, 'nodes.conf.lock'), 'latin1'), new RegExp(`^${again.proc.pid} `));
  await again.stop('SIGKILL');
  assert.ok(existsSync(join(first.dir, 'nodes.conf.lock')));
  const third = await startVireo(['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--dir', first.dir], { cwd: first.dir });
  servers.push(third);
  const r = new Redis({ port: third.port });
  clients.push(r);
  // Same node: nodes.conf was reloaded.
  assert.equal(await r.call('CLUSTER', 'MYID'), first.id);
});
