// Replication between Vireo servers: full sync (diskless and disk-based) of a
// populated primary under a write load with a chained replica, partial resync
// after a dropped link, promotion with REPLICAOF NO ONE where a sibling
// continues by PSYNC2, WAIT, min-replicas-to-write, read-only replicas, and
// replicas that never expire keys on their own.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import Redis from 'ioredis';
import { client, populate, fullDump } from '../interop/rdb-helpers.mjs';
import { infoRepl, infoStats, waitFor, caughtUp, writeLoad, replicationServers } from '../helpers/repl.mjs';

const { vireo, servers, clients, dirs } = replicationServers({ prefix: 'vireo-repl-', vireoArgs: ['--save', '', '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0'] });

async function kill(x) {
  x.c.disconnect();
  await x.s.stop('SIGKILL');
}

async function sameData(a, b) {
  assert.deepEqual(await fullDump(b.c), await fullDump(a.c));
  assert.equal(await b.c.call('DEBUG', 'DIGEST'), await a.c.call('DEBUG', 'DIGEST'));
}

test('full sync under a write load, with a chained replica', async () => {
  const p = await vireo();
  await populate(p.c);
  const stop = { stop: false };
  const load = writeLoad(p.c, 4000, 7, { stop });
  const r1 = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  const r2 = await vireo(['--replicaof', '127.0.0.1', String(r1.port)]);
  await load;
  await writeLoad(p.c, 500, 8);
  await caughtUp(p.c, r1.c);
  await caughtUp(r1.c, r2.c);
  await sameData(p, r1);
  await sameData(p, r2);
  const pi = await infoRepl(p.c);
  assert.equal(pi.role, 'master');
  assert.equal(pi.connected_slaves, '1');
  assert.match(pi.slave0, new RegExp(`^ip=127\\.0\\.0\\.1,port=${r1.port},state=online,offset=\\d+,lag=\\d+$`));
  const ri = await infoRepl(r2.c);
  assert.equal(ri.role, 'slave');
  assert.equal(ri.master_port, String(r1.port));
  assert.equal(ri.master_replid, pi.master_replid, 'a chained replica shares the primary history');
  // ROLE on both sides.
  const role = await p.c.call('ROLE');
  assert.equal(role[0], 'master');
  assert.deepEqual(role[2][0].slice(0, 2), ['127.0.0.1', String(r1.port)]);
  const rrole = await r1.c.call('ROLE');
  assert.deepEqual(rrole.slice(0, 4), ['slave', '127.0.0.1', p.port, 'connected']);
  // HELLO names the role too.
  const helloRole = async (c) => {
    const h = await c.call('HELLO', '2');
    return h[h.indexOf('role') + 1];
  };
  assert.equal(await helloRole(p.c), 'master');
  assert.equal(await helloRole(r1.c), 'replica');
  // Read-only replica.
  await assert.rejects(r1.c.set('x', '1'), /^ReplyError: READONLY You can't write against a read only replica\.$/);
  assert.equal((await infoStats(p.c)).sync_full, '1');
});

test('a dropped link continues by partial resync (+CONTINUE)', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await populate(p.c, { big: 100 });
  await caughtUp(p.c, r.c);
  const stop = { stop: false };
  const load = writeLoad(p.c, 6000, 3, { stop });
  for (let i = 0; i < 3; i++) {
    await sleep(60);
    assert.equal(await p.c.client('KILL', 'TYPE', 'replica'), 1);
    await waitFor(async () => (await infoStats(p.c)).sync_partial_ok === String(i + 1), 10000, 'partial resync');
  }
  // From the replica's side: its master client is listed (flag M) and CLIENT KILL TYPE master drops the link.
  assert.match(await r.c.client('LIST', 'TYPE', 'master'), new RegExp(`addr=127\\.0\\.0\\.1:${p.port} .*flags=M `));
  assert.match(await p.c.client('LIST', 'TYPE', 'replica'), /flags=S /);
  assert.equal(await r.c.client('KILL', 'TYPE', 'master'), 1);
  await waitFor(async () => (await infoStats(p.c)).sync_partial_ok === '4', 10000, 'partial resync after CLIENT KILL TYPE master');
  await load;
  await caughtUp(p.c, r.c);
  await sameData(p, r);
  const st = await infoStats(p.c);
  assert.equal(st.sync_full, '1');
  assert.equal(st.sync_partial_ok, '4');
  assert.equal(st.sync_partial_err, '0');
});

test('a replica restarted without data does a full sync', async () => {
  const p = await vireo();
  await populate(p.c, { big: 50 });
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  await kill(r);
  await writeLoad(p.c, 300, 5);
  const r2 = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r2.c);
  await sameData(p, r2);
  const st = await infoStats(p.c);
  assert.equal(st.sync_full, '2');
});

test('REPLICAOF NO ONE: the promoted replica lets its sibling continue by PSYNC2', async () => {
  const p = await vireo();
  const a = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  const b = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await writeLoad(p.c, 1000, 11);
  await caughtUp(p.c, a.c);
  await caughtUp(p.c, b.c);
  const before = await infoRepl(a.c);
  await kill(p);
  assert.equal(await a.c.call('REPLICAOF', 'NO', 'ONE'), 'OK');
  const ai = await infoRepl(a.c);
  assert.equal(ai.role, 'master');
  assert.equal(ai.master_replid2, before.master_replid);
  assert.equal(ai.second_repl_offset, String(Number(before.master_repl_offset) + 1));
  assert.notEqual(ai.master_replid, before.master_replid);
  assert.equal(await b.c.call('REPLICAOF', '127.0.0.1', String(a.port)), 'OK');
  assert.equal(await b.c.call('REPLICAOF', '127.0.0.1', String(a.port)), 'OK Already connected to specified master');
  await a.c.set('after-failover', 'yes');
  await caughtUp(a.c, b.c);
  assert.equal(await b.c.get('after-failover'), 'yes');
  const st = await infoStats(a.c);
  assert.equal(st.sync_partial_ok, '1');
  assert.equal(st.sync_full, '0');
  assert.equal((await infoRepl(b.c)).master_replid, ai.master_replid);
  await sameData(a, b);
  // A promoted server takes writes.
  await a.c.set('w', '1');
});

test('WAIT, min-replicas-to-write', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  await p.c.set('k', 'v');
  assert.equal(await p.c.call('WAIT', '1', '5000'), 1);
  assert.equal(await r.c.get('k'), 'v', 'a write acknowledged by WAIT is on the replica');
  const t0 = Date.now();
  assert.equal(await p.c.call('WAIT', '2', '300'), 1);
  assert.ok(Date.now() - t0 >= 250);
  assert.equal(await p.c.call('WAIT', '0', '0'), 1);
  await assert.rejects(p.c.call('WAIT', '1', '-1'), /timeout is negative/);
  await assert.rejects(r.c.call('WAIT', '1', '0'), /WAIT cannot be used with replica instances/);
  await p.c.config('SET', 'min-replicas-to-write', '2');
  await assert.rejects(p.c.set('k', 'v2'), /^ReplyError: NOREPLICAS Not enough good replicas to write\.$/);
  assert.equal(await p.c.get('k'), 'v');
  await p.c.config('SET', 'min-replicas-to-write', '1');
  assert.equal(await p.c.set('k', 'v3'), 'OK');
  await p.c.config('SET', 'min-replicas-to-write', '0');
  // REPLCONF argument checks.
  await assert.rejects(p.c.call('REPLCONF', 'listening-port'), /syntax error/);
  await assert.rejects(p.c.call('REPLCONF', 'nope', '1'), /Unrecognized REPLCONF option: nope/);
  assert.equal(await p.c.call('REPLCONF', 'listening-port', '1234', 'capa', 'eof'), 'OK');
  // Writes acknowledged by WAIT survive the primary's death on the replica.
  const acked = [];
  for (let i = 0; i < 20; i++) {
    await p.c.set(`acked:${i}`, String(i));
    if ((await p.c.call('WAIT', '1', '2000')) === 1) acked.push(i);
  }
  assert.equal(acked.length, 20);
  await kill(p);
  await waitFor(async () => (await infoRepl(r.c)).master_link_status === 'down', 10000, 'link down');
  for (const i of acked) assert.equal(await r.c.get(`acked:${i}`), String(i));
});

test('replicas hide expired keys and wait for the DEL from the primary', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  await p.c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await p.c.set('e', 'v', 'PX', 100);
  await p.c.set('keep', 'v');
  await caughtUp(p.c, r.c);
  await sleep(300);
  assert.equal(await r.c.get('e'), null, 'logically expired on the replica');
  assert.equal(await r.c.dbsize(), 2, 'but not deleted by the replica');
  assert.equal(await p.c.get('e'), null); // lazy expiry on the primary propagates DEL
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.dbsize(), 1);
});

test('disk-based full sync ($<len> framing) and a late second replica', async () => {
  const p = await vireo(['--repl-diskless-sync', 'no']);
  await populate(p.c);
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  const load = writeLoad(p.c, 1500, 21);
  const r2 = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await load;
  await caughtUp(p.c, r.c);
  await caughtUp(p.c, r2.c);
  await sameData(p, r);
  await sameData(p, r2);
});

test('killing a replica during full syncs leaves the primary serving', async () => {
  // 20000 keys at 100 us each: a full sync takes about 2 s, the replica dies in the middle.
  const p = await vireo(['--rdb-key-save-delay', '100']);
  for (let i = 0; i < 20000; i += 1000) await p.c.mset(...Array.from({ length: 1000 }, (_, k) => [`key:${i + k}`, `value:${i + k}`]).flat());
  const mem0 = Number((await p.c.info('memory')).match(/used_memory:(\d+)/)[1]);
  for (let i = 0; i < 10; i++) {
    const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
    await waitFor(async () => /state=send_bulk/.test((await infoRepl(p.c)).slave0 ?? ''), 10000, 'transfer started');
    await sleep(50);
    await kill(r);
    await waitFor(async () => (await infoRepl(p.c)).connected_slaves === '0', 10000, 'replica gone');
    // The primary keeps serving while the snapshot runs and after it stopped.
    assert.equal(await p.c.set(`during:${i}`, 'x'), 'OK');
  }
  const mem1 = Number((await p.c.info('memory')).match(/used_memory:(\d+)/)[1]);
  assert.ok(mem1 < mem0 * 2 + 20e6, `memory stays bounded (${mem0} -> ${mem1})`);
  await p.c.config('SET', 'rdb-key-save-delay', '0');
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  await sameData(p, r);
});

test('the wire protocol: SYNC, PSYNC ? -1, PSYNC continuing from the backlog, PING and GETACK', async () => {
  const p = await vireo(['--repl-diskless-sync', 'no', '--repl-ping-replica-period', '1']);
  await p.c.set('a', '1');
  // Old-style SYNC: no +FULLRESYNC line, an RDB with $<len>, then the stream.
  const s = await RawConn.connect(p.port);
  s.send('SYNC');
  await waitFor(() => /^\$\d+\r\n/.test(s.buf.toString('latin1')), 5000, 'bulk header');
  const head = s.buf.toString('latin1');
  const len = Number(head.slice(1, head.indexOf('\r')));
  const hl = head.indexOf('\n') + 1;
  await waitFor(() => s.buf.length >= hl + len, 5000, 'payload');
  assert.match(s.buf.subarray(hl, hl + 9).toString(), /^REDIS00\d\d$/);
  s.buf = s.buf.subarray(hl + len);
  await p.c.set('b', '2');
  await waitFor(() => s.buf.includes('$1\r\nb\r\n'), 5000, 'stream');
  assert.equal(s.buf.toString('latin1'), '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n2\r\n');
  s.buf = s.buf.subarray(s.buf.length);
  // PING every repl-ping-replica-period.
  await waitFor(() => s.buf.includes('*1\r\n$4\r\nPING\r\n'), 5000, 'PING to replicas');
  s.close();
  // PSYNC with capa psync2: +FULLRESYNC <replid> <offset>, then +CONTINUE <replid> from that offset.
  const q = await RawConn.connect(p.port);
  assert.equal(await q.call('REPLCONF', 'capa', 'eof', 'capa', 'psync2'), '+OK\r\n');
  q.send('PSYNC', '?', '-1');
  await waitFor(() => /^\+FULLRESYNC [0-9a-f]{40} \d+\r\n/.test(q.buf.toString('latin1')), 5000, 'FULLRESYNC');
  const [, replid, off] = q.buf.toString('latin1').match(/^\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n/);
  assert.equal(replid, (await infoRepl(p.c)).master_replid);
  q.close();
  await p.c.set('c', '3');
  const t = await RawConn.connect(p.port);
  assert.equal(await t.call('REPLCONF', 'capa', 'psync2'), '+OK\r\n');
  t.send('PSYNC', replid, String(Number(off) + 1));
  await waitFor(() => t.buf.includes('$1\r\nc\r\n'), 5000, 'backlog sent');
  assert.match(t.buf.toString('latin1'), new RegExp(`^\\+CONTINUE ${replid}\\r\\n`));
  // GETACK reaches the replica through the stream when a client WAITs.
  t.buf = t.buf.subarray(t.buf.length);
  const w = p.c.call('WAIT', '1', '300');
  await waitFor(() => t.buf.includes('GETACK'), 5000, 'GETACK');
  assert.equal(await w, 0);
  t.close();
});

test('masterauth / masteruser, replica-announce-ip/port, replica-serve-stale-data no', async () => {
  const p = await vireo(['--requirepass', 'secret']);
  p.c.disconnect();
  const pc = new Redis({ port: p.port, host: '127.0.0.1', password: 'secret' });
  clients.push(pc);
  const r = await vireo(['--masterauth', 'secret', '--masteruser', 'default', '--replicaof', '127.0.0.1', String(p.port), '--replica-announce-ip', '10.1.2.3', '--replica-announce-port', '4567', '--replica-serve-stale-data', 'no']);
  await pc.set('k', 'v');
  await caughtUp(pc, r.c);
  assert.equal(await r.c.get('k'), 'v');
  assert.match((await infoRepl(pc)).slave0, /^ip=10\.1\.2\.3,port=4567,state=online,/);
  // A replica with a wrong password never gets the data; with stale data off it answers -MASTERDOWN.
  const bad = await vireo(['--masterauth', 'wrong', '--replicaof', '127.0.0.1', String(p.port), '--replica-serve-stale-data', 'no']);
  await sleep(300);
  assert.equal((await infoRepl(bad.c)).master_link_status, 'down');
  await assert.rejects(bad.c.get('k'), /^ReplyError: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'\.$/);
  await assert.rejects(bad.c.ping(), /MASTERDOWN/);
  assert.match(await bad.c.info('replication'), /master_link_status:down/, 'commands flagged stale still run');
  await bad.c.config('SET', 'replica-serve-stale-data', 'yes');
  assert.equal(await bad.c.get('k'), null);
});

test('a backlog too small for the gap means a full resync', async () => {
  const p = await vireo(['--repl-backlog-size', '16kb']);
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  // Stop the replica's link by pausing the replica process, write more than the backlog, resume.
  r.s.proc.kill('SIGSTOP');
  await p.c.client('KILL', 'TYPE', 'replica');
  await writeLoad(p.c, 2000, 61);
  r.s.proc.kill('SIGCONT');
  await caughtUp(p.c, r.c);
  await sameData(p, r);
  const st = await infoStats(p.c);
  assert.equal(st.sync_full, '2');
  assert.equal(st.sync_partial_err, '1');
  const pi = await infoRepl(p.c);
  assert.equal(pi.repl_backlog_size, '16384');
  assert.equal(pi.repl_backlog_histlen, '16384');
  assert.equal(Number(pi.repl_backlog_first_byte_offset), Number(pi.master_repl_offset) - 16384 + 1);
});

test('repl-timeout: a replica drops a silent primary and resumes with a partial resync', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port), '--repl-timeout', '1']);
  await p.c.set('x', '1');
  await caughtUp(p.c, r.c);
  p.s.proc.kill('SIGSTOP');
  await waitFor(async () => (await infoRepl(r.c)).master_link_status === 'down', 10000, 'link down');
  p.s.proc.kill('SIGCONT');
  await p.c.set('y', '2');
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.get('y'), '2');
  assert.equal((await infoStats(p.c)).sync_partial_ok, '1');
});

test('FAILOVER TO host port: coordinated switchover with partial resyncs', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await writeLoad(p.c, 500, 71);
  await caughtUp(p.c, r.c);
  await assert.rejects(p.c.call('FAILOVER', 'ABORT'), /No failover in progress/);
  await assert.rejects(p.c.call('FAILOVER', 'TO', '127.0.0.1', '1'), /FAILOVER target HOST and PORT is not a replica/);
  await assert.rejects(p.c.call('FAILOVER', 'FORCE'), /requires both a timeout and target/);
  await assert.rejects(r.c.call('FAILOVER'), /FAILOVER is not valid when server is a replica/);
  assert.equal(await p.c.call('FAILOVER', 'TO', '127.0.0.1', String(r.port), 'TIMEOUT', '5000'), 'OK');
  await waitFor(async () => (await infoRepl(r.c)).role === 'master' && (await infoRepl(p.c)).master_link_status === 'up', 10000, 'roles swapped');
  const pi = await infoRepl(p.c);
  assert.equal(pi.role, 'slave');
  assert.equal(pi.master_port, String(r.port));
  assert.equal(pi.master_failover_state, 'no-failover');
  await r.c.set('after', 'failover');
  await caughtUp(r.c, p.c);
  assert.equal(await p.c.get('after'), 'failover');
  await assert.rejects(p.c.set('x', '1'), /READONLY/);
  assert.equal((await infoStats(r.c)).sync_partial_ok, '1', 'the old primary continued by partial resync');
  await sameData(r, p);
});

test('client-output-buffer-limit replica: a stalled replica is dropped, then resyncs', async () => {
  const p = await vireo(['--client-output-buffer-limit', 'replica 1mb 0 0']);
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  r.s.proc.kill('SIGSTOP');
  const big = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 400; i++) await p.c.set(`big:${i % 50}`, big + i);
  await waitFor(async () => (await infoRepl(p.c)).connected_slaves === '0', 10000, 'replica dropped');
  assert.ok(Number((await infoStats(p.c)).client_output_buffer_limit_disconnections) >= 1);
  r.s.proc.kill('SIGCONT');
  await caughtUp(p.c, r.c);
  await sameData(p, r);
  assert.equal((await infoStats(p.c)).sync_full, '2', 'the gap was larger than the backlog: full resync');
});

test('FAILOVER: writes wait during it; a timeout without FORCE aborts; ABORT', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  r.s.proc.kill('SIGSTOP'); // the replica cannot acknowledge
  await p.c.set('before', '1');
  assert.equal(await p.c.call('FAILOVER', 'TO', '127.0.0.1', String(r.port), 'TIMEOUT', '400'), 'OK');
  assert.equal((await infoRepl(p.c)).master_failover_state, 'waiting-for-sync');
  await assert.rejects(p.c.call('FAILOVER'), /FAILOVER already in progress/);
  await assert.rejects(p.c.call('REPLICAOF', 'NO', 'ONE'), /REPLICAOF not allowed while failing over/);
  const t0 = Date.now();
  assert.equal(await p.c.set('paused', '1'), 'OK'); // held by the write pause until the abort
  assert.ok(Date.now() - t0 >= 250, 'the write waited for the failover to end');
  const pi = await infoRepl(p.c);
  assert.equal(pi.role, 'master');
  assert.equal(pi.master_failover_state, 'no-failover');
  // ABORT ends a failover at once.
  assert.equal(await p.c.call('FAILOVER', 'TO', '127.0.0.1', String(r.port)), 'OK');
  assert.equal(await p.c.call('FAILOVER', 'ABORT'), 'OK');
  assert.equal((await infoRepl(p.c)).master_failover_state, 'no-failover');
  assert.equal(await p.c.set('after-abort', '1'), 'OK');
  r.s.proc.kill('SIGCONT');
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.get('after-abort'), '1');
});

test('PUBLISH on the primary reaches subscribers of its replicas', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  const sub = client(r.port);
  clients.push(sub);
  const got = [];
  sub.on('message', (ch, msg) => got.push([ch, msg]));
  await sub.subscribe('news');
  await p.c.publish('news', 'hello');
  await waitFor(() => got.length === 1, 5000, 'message on the replica');
  assert.deepEqual(got, [['news', 'hello']]);
});

test('a replica with appendonly yes keeps an AOF of the synced data and the stream', async () => {
  const p = await vireo();
  await populate(p.c, { big: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'vireo-repl-aof-'));
  dirs.push(dir);
  const args = ['--save', '', '--enable-debug-command', 'yes', '--appendonly', 'yes', '--dir', dir];
  const s = await startVireo([...args, '--replicaof', '127.0.0.1', String(p.port)], { cwd: dir });
  servers.push(s);
  const r = { s, c: client(s.port), port: s.port };
  clients.push(r.c);
  await caughtUp(p.c, r.c);
  await writeLoad(p.c, 500, 91);
  await caughtUp(p.c, r.c);
  await waitFor(async () => /aof_rewrite_in_progress:0/.test(await r.c.info('persistence')), 10000, 'AOF rewrite done');
  const want = await fullDump(p.c);
  await kill(r);
  // Restarted alone (not a replica), it loads the AOF: the same data.
  const s2 = await startVireo(args, { cwd: dir });
  servers.push(s2);
  const c2 = client(s2.port);
  clients.push(c2);
  await waitFor(async () => /loading:0/.test(await c2.info('persistence')), 10000, 'loaded');
  assert.deepEqual(await fullDump(c2), want);
});

test('function libraries travel with the full sync and with the stream', async () => {
  const p = await vireo();
  const lib1 = "#!lua name=replib1\nredis.register_function{function_name='rf1', callback=function(keys, args) return 'one' end, flags={'no-writes'}}";
  const lib2 = "#!lua name=replib2\nredis.register_function{function_name='rf2', callback=function(keys, args) return 'two' end, flags={'no-writes'}}";
  assert.equal(await p.c.call('FUNCTION', 'LOAD', lib1), 'replib1');
  // A stale library on the future replica is dropped by the full sync.
  const r = await vireo();
  assert.equal(await r.c.call('FUNCTION', 'LOAD', lib2.replaceAll('replib2', 'stale').replaceAll('rf2', 'stalefn')), 'stale');
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.call('FCALL_RO', 'rf1', '0'), 'one');
  await assert.rejects(r.c.call('FCALL_RO', 'stalefn', '0'), /Function not found/);
  // Loaded later: reaches the replica through the stream.
  assert.equal(await p.c.call('FUNCTION', 'LOAD', lib2), 'replib2');
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.call('FCALL_RO', 'rf2', '0'), 'two');
});

test('CLIENT PAUSE on a replica holds the stream; it is then applied in order across dbs (batched apply)', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.call('CLIENT', 'PAUSE', '600000', 'WRITE'), 'OK');
  const in0 = Number((await infoStats(r.c)).total_net_repl_input_bytes);
  // One pipeline: writes to the same keys in two dbs, SELECTs between them, a transaction, and deletes,
  // so the replica's batches (parsed ahead, keys prefetched) hold commands whose order matters.
  const pipe = p.c.pipeline();
  for (let i = 0; i < 300; i++) {
    pipe.select(i % 3 === 0 ? 1 : 0);
    pipe.set(`k${i % 40}`, `v${i}`);
    pipe.append(`k${(i + 7) % 40}`, `+${i}`);
    if (i % 11 === 0) pipe.del(`k${(i + 3) % 40}`);
    if (i % 17 === 0) pipe.multi().incr('counter').rpush('list', String(i)).exec();
  }
  pipe.select(0);
  await pipe.exec();
  const sent = await p.c.call('INFO', 'replication');
  const target = Number(/master_repl_offset:(\d+)/.exec(sent)[1]);
  // The bytes arrive while paused, and nothing of them is applied.
  await waitFor(async () => Number((await infoStats(r.c)).total_net_repl_input_bytes) - in0 >= 3000, 20000, 'the stream reaches the paused replica');
  assert.ok(Number((await infoRepl(r.c)).master_repl_offset) < target, 'a paused replica applies nothing');
  for (const db of [0, 1]) {
    await r.c.select(db);
    assert.equal(await r.c.dbsize(), 0);
  }
  await r.c.select(0);
  assert.equal(await r.c.call('CLIENT', 'UNPAUSE'), 'OK');
  await caughtUp(p.c, r.c);
  assert.deepEqual(await fullDump(r.c, [0, 1]), await fullDump(p.c, [0, 1]));
  assert.equal(await r.c.call('DEBUG', 'DIGEST'), await p.c.call('DEBUG', 'DIGEST'));
});

test('the live stream read in place: commands larger than the read buffer, a paused backlog of MBs, a chained replica', async () => {
  // The replica reads its live stream into one reused buffer (src/replication/link-read.ts): commands cut
  // across reads, commands larger than that buffer, and MBs held by CLIENT PAUSE must all arrive intact.
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  const r2 = await vireo(['--replicaof', '127.0.0.1', String(r.port)]);
  await caughtUp(r.c, r2.c);
  const sizes = [1, 100, 70000, 300000, 1300000, 17, 65536, 262144, 5];
  const value = (i, n) => Buffer.alloc(n, `${i}:${n}|`);
  const burst = async (round) => {
    const pipe = p.c.pipeline();
    for (let i = 0; i < 400; i++) {
      if (i % 40 === 0) pipe.set(`big:${round}:${i / 40}`, value(i, sizes[(i / 40 + round) % sizes.length]));
      else pipe.set(`small:${i % 50}`, value(i, 1 + ((i * 7) % 90)));
      pipe.rpush(`list:${i % 5}`, `${round}:${i}`);
    }
    await pipe.exec();
  };
  await burst(0);
  await caughtUp(p.c, r.c);
  // Paused: several MBs wait unapplied, the reads keep landing after them.
  assert.equal(await r.c.call('CLIENT', 'PAUSE', '600000', 'WRITE'), 'OK');
  const in0 = Number((await infoStats(r.c)).total_net_repl_input_bytes);
  await burst(1);
  await burst(2);
  const target = Number((await infoRepl(p.c)).master_repl_offset);
  const behind = target - Number((await infoRepl(r.c)).master_repl_offset);
  await waitFor(async () => Number((await infoStats(r.c)).total_net_repl_input_bytes) - in0 >= behind, 30000, 'the stream reaches the paused replica');
  assert.equal(await r.c.call('CLIENT', 'UNPAUSE'), 'OK');
  await caughtUp(p.c, r.c);
  // Small writes after the large ones (the read buffer shrinks back).
  await writeLoad(p.c, 500, 5);
  await caughtUp(p.c, r.c);
  await caughtUp(r.c, r2.c);
  for (const x of [r, r2]) {
    assert.deepEqual(await fullDump(x.c), await fullDump(p.c));
    assert.equal(await x.c.call('DEBUG', 'DIGEST'), await p.c.call('DEBUG', 'DIGEST'));
  }
  for (const round of [1, 2]) for (let j = 0; j < 10; j++) assert.equal(await r2.c.strlen(`big:${round}:${j}`), sizes[(j + round) % sizes.length]);
});

test('repl-disable-tcp-nodelay: default no; yes on the primary still replicates (full sync, then the stream)', async () => {
  const p = await vireo();
  assert.deepEqual(await p.c.config('GET', 'repl-disable-tcp-nodelay'), ['repl-disable-tcp-nodelay', 'no']);
  assert.equal(await p.c.config('SET', 'repl-disable-tcp-nodelay', 'yes'), 'OK');
  assert.deepEqual(await p.c.config('GET', 'repl-disable-tcp-nodelay'), ['repl-disable-tcp-nodelay', 'yes']);
  await assert.rejects(p.c.config('SET', 'repl-disable-tcp-nodelay', 'maybe'), /ERR CONFIG SET failed/);
  await writeLoad(p.c, 300, 3);
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  await writeLoad(p.c, 500, 4);
  await caughtUp(p.c, r.c);
  await sameData(p, r);
  // A lone small write still arrives (Nagle delays, it does not hold back).
  await p.c.set('last', '1');
  await caughtUp(p.c, r.c);
  assert.equal(await r.c.get('last'), '1');
});
