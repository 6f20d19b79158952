#!/usr/bin/env node
// Replication benchmarks, Vireo vs Debian's redis-server:
//  1. the primary's SET throughput (redis-benchmark) with 0, 1 and 2 replicas
//     of the same kind attached and online;
//  2. full-sync time: a primary holding --sync-keys keys (16-byte values); a
//     running replica gets REPLICAOF and is timed until its link is up and it
//     holds every key.
// The primary is pinned to CPU 0; redis-benchmark and the replicas share CPU 1
// (2-core machines), so the replica columns also measure the replicas keeping
// up. Rounds alternate the server order. Compare ratios on one machine only.
// The CPU columns are the primary's CPU time per SET (utime + stime from
// /proc): the cost of feeding replicas, and the replicas' CPU time per
// applied command (their average): meaningful even on a loaded machine.
//
// Usage: node bench/replication.mjs [-n 200000] [--pipelines 1,16] [--clients 50]
//        [--replicas 0,1,2] [--sync-keys 1000000] [--rounds 1] [--servers vireo,redis]
//        [--no-throughput] [--no-sync] [--base path/to/other/bin/vireo-server] [--vireo path] [--no-warmup] [--cold-replicas]
// Each primary is warmed up (unmeasured SET -P 16 over the keyspace, bench/lib.mjs warmUp) before its
// replicas attach, and again once they are online, so that the replicas (fresh processes that got the
// keyspace by full sync) have applied as many SETs before the measurement; --no-warmup measures the cold
// start instead, --cold-replicas only skips the replicas' warm-up. (A cold Vireo replica spends about twice
// its warm CPU per applied SET over its first 200k SETs, JIT tiering and heap growth, as a cold primary
// does; a Redis replica costs the same cold or warm.)
// --servers vireo,base compares this build (or the vireo-server given with --vireo, e.g. a snapshot
// of it while the tree changes) with another one (--base); --diskless-load <mode>
// sets the replica's repl-diskless-load in the full-sync test.
import { execFileSync } from 'node:child_process';
import { opt, flag, startServer, stopServer, benchmarkTest, cpuTicks, TICK_US, warmUp } from './lib.mjs';

const N = Number(opt('-n', '200000'));
const PIPES = opt('--pipelines', '1,16').split(',').map(Number);
const CLIENTS = Number(opt('--clients', '50'));
const REPLICAS = opt('--replicas', '0,1,2').split(',').map(Number);
const SYNC_KEYS = Number(opt('--sync-keys', '1000000'));
const ROUNDS = Number(opt('--rounds', '1'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');
/** repl-diskless-load of the replica in the full-sync test (disabled, on-empty-db, swapdb; default: the server's). */
const DISKLESS_LOAD = opt('--diskless-load', null);

// Two server kinds side by side: vireo, redis, or base (the vireo-server given with --base, e.g. a copy of
// bin/ and dist/ from before a change).
const [A, B] = SERVERS;
const NAMES = { vireo: 'Vireo', redis: 'Redis', base: 'base' };

function start(kind, cpu, extra = []) {
  const bin = kind === 'base' ? opt('--base', null) : kind === 'vireo' ? opt('--vireo', undefined) : undefined;
  if (bin === null) throw new Error('server kind "base" needs --base path/to/bin/vireo-server');
  return startServer(kind, { cpu, bin, args: ['--repl-diskless-sync-delay', '0', ...extra], prefix: 'vireo-bench-repl-' });
}

function stop(s) {
  return stopServer(s, { signal: 'SIGKILL' });
}

function cli(port, ...cmd) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cmd], { encoding: 'utf8' }).trim();
}

function info(port, field) {
  const m = cli(port, 'INFO', 'replication').match(new RegExp(`^${field}:(.*)$`, 'm'));
  return m ? m[1].trim() : '';
}

async function until(fn, ms = 600000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function online(primary, replica) {
  await until(() => info(replica.port, 'master_link_status') === 'up' && info(primary.port, 'master_repl_offset') === info(replica.port, 'slave_repl_offset'));
}

/**
 * SET throughput, the primary's CPU microseconds per request and the replicas' (average) CPU microseconds per
 * applied command, measured until they caught up (what it costs, however loaded the machine is).
 */
async function runSet(primary, pipeline, reps) {
  const c0 = cpuTicks(primary.pid);
  const r0 = reps.map((r) => cpuTicks(r.pid));
  const rate = benchmarkTest(primary.port, 'set', { n: N, pipeline, clients: CLIENTS });
  const cpu = ((cpuTicks(primary.pid) - c0) * TICK_US) / N;
  for (const r of reps) await online(primary, r);
  let rt = 0;
  reps.forEach((r, i) => (rt += cpuTicks(r.pid) - r0[i]));
  return { rate, cpu, rcpu: reps.length ? (rt * TICK_US) / reps.length / N : 0 };
}

/** Fills a server with `n` keys of 16-byte values through redis-cli --pipe. */
function fill(port, n) {
  const parts = [];
  for (let i = 0; i < n; i++) {
    const k = `key:${String(i).padStart(10, '0')}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$16\r\nvalue-${String(i).padStart(10, '0')}\r\n`);
  }
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--pipe'], { input: parts.join(''), stdio: ['pipe', 'ignore', 'inherit'], maxBuffer: 1 << 30 });
}

const rows = [];
if (!flag('--no-throughput')) {
  for (const p of PIPES) {
    for (const nrep of REPLICAS) {
      const rate = { [A]: 0, [B]: 0 };
      const cpu = { [A]: 0, [B]: 0 };
      const rcpu = { [A]: 0, [B]: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
        for (const kind of order) {
          const primary = await start(kind, 0);
          // Warm (JIT, heap, keyspace of 100k keys) before the replicas attach and the measurement, as every
          // bench/run.mjs preset: a cold fresh server made SET -P 16 0.65x here against 0.97x there (bench/lib.mjs warmUp).
          warmUp(primary.port);
          const reps = [];
          for (let i = 0; i < nrep; i++) reps.push(await start(kind, 1, ['--replicaof', '127.0.0.1', String(primary.port)]));
          for (const r of reps) await online(primary, r);
          if (nrep > 0 && !flag('--cold-replicas')) {
            warmUp(primary.port); // the replicas apply it: warm too
            for (const r of reps) await online(primary, r);
          }
          const r = await runSet(primary, p, reps);
          rate[kind] += r.rate / ROUNDS;
          cpu[kind] += r.cpu / ROUNDS;
          rcpu[kind] += r.rcpu / ROUNDS;
          for (const r of reps) await stop(r);
          await stop(primary);
        }
      }
      rows.push({ test: `SET -P ${p}, ${nrep} replica${nrep === 1 ? '' : 's'} (req/s)`, v: rate, cpu, rcpu: nrep > 0 ? rcpu : null });
    }
  }
}
if (!flag('--no-sync')) {
  const secs = { [A]: 0, [B]: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const kind of order) {
      const primary = await start(kind, 0);
      fill(primary.port, SYNC_KEYS);
      // Timed from REPLICAOF (the replica process is already up) to the link up with every key.
      const r = await start(kind, 1, DISKLESS_LOAD !== null ? ['--repl-diskless-load', DISKLESS_LOAD] : []);
      const t0 = performance.now();
      cli(r.port, 'REPLICAOF', '127.0.0.1', String(primary.port));
      await until(() => info(r.port, 'master_link_status') === 'up' && cli(r.port, 'DBSIZE') === String(SYNC_KEYS));
      secs[kind] += (performance.now() - t0) / 1000 / ROUNDS;
      await stop(r);
      await stop(primary);
    }
  }
  rows.push({ test: `full sync of ${SYNC_KEYS} keys (seconds, lower is better)`, v: secs, lowerBetter: true });
}

const na = NAMES[A] ?? A;
const nb = NAMES[B] ?? B ?? '-';
console.log(`| test | ${na} | ${nb} | ${na}/${nb} | primary CPU us/req (${na} / ${nb}) | replica CPU us/applied cmd (${na} / ${nb}) |`);
console.log(`|---|---|---|---|---|---|`);
for (const r of rows) {
  const a = r.v[A];
  const b = B !== undefined ? r.v[B] : undefined;
  const ratio = b > 0 ? (r.lowerBetter ? b / a : a / b).toFixed(2) : '-';
  const f = (v) => (v === undefined ? '-' : r.lowerBetter ? v.toFixed(2) : String(Math.round(v)));
  const pair = (c) => (c ? `${c[A].toFixed(2)} / ${B !== undefined ? c[B].toFixed(2) : '-'}` : '-');
  console.log(`| ${r.test} | ${f(a)} | ${f(b)} | ${ratio}${r.lowerBetter ? ' (speed)' : ''} | ${pair(r.cpu)} | ${pair(r.rcpu)} |`);
}
