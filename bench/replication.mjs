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
//
// Usage: node bench/replication.mjs [-n 200000] [--pipelines 1,16] [--clients 50]
//        [--replicas 0,1,2] [--sync-keys 1000000] [--rounds 1] [--servers vireo,redis]
//        [--no-throughput] [--no-sync]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const N = Number(opt('-n', '200000'));
const PIPES = opt('--pipelines', '1,16').split(',').map(Number);
const CLIENTS = Number(opt('--clients', '50'));
const REPLICAS = opt('--replicas', '0,1,2').split(',').map(Number);
const SYNC_KEYS = Number(opt('--sync-keys', '1000000'));
const ROUNDS = Number(opt('--rounds', '1'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');

const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function freePort() {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        res(true);
      });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

async function start(kind, cpu, extra = []) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-repl-'));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0', ...extra];
  const proc =
    kind === 'redis'
      ? spawn('taskset', ['-c', String(cpu), 'redis-server', ...common], { stdio: 'ignore' })
      : spawn('taskset', ['-c', String(cpu), join(ROOT, 'bin', 'vireo-server'), ...common, '--loglevel', 'warning'], { stdio: 'ignore' });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  await waitPort(port);
  return { port, proc, dir };
}

async function stop(s) {
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGKILL'); // by PID: a server this script started
  await done;
  rmSync(s.dir, { recursive: true, force: true });
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

function runSet(port, pipeline) {
  const out = execFileSync('taskset', ['-c', '1', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-n', String(N), '-P', String(pipeline), '-c', String(CLIENTS), '-r', '100000', '--csv', '-t', 'set'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('"SET"'));
  return Number(line.split(',')[1].replace(/"/g, ''));
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
if (!args.includes('--no-throughput')) {
  for (const p of PIPES) {
    for (const nrep of REPLICAS) {
      const rate = { vireo: 0, redis: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
        for (const kind of order) {
          const primary = await start(kind, 0);
          const reps = [];
          for (let i = 0; i < nrep; i++) reps.push(await start(kind, 1, ['--replicaof', '127.0.0.1', String(primary.port)]));
          for (const r of reps) await online(primary, r);
          rate[kind] += runSet(primary.port, p) / ROUNDS;
          for (const r of reps) await stop(r);
          await stop(primary);
        }
      }
      rows.push({ test: `SET -P ${p}, ${nrep} replica${nrep === 1 ? '' : 's'} (req/s)`, ...rate });
    }
  }
}
if (!args.includes('--no-sync')) {
  const secs = { vireo: 0, redis: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const kind of order) {
      const primary = await start(kind, 0);
      fill(primary.port, SYNC_KEYS);
      // Timed from REPLICAOF (the replica process is already up) to the link up with every key.
      const r = await start(kind, 1);
      const t0 = performance.now();
      cli(r.port, 'REPLICAOF', '127.0.0.1', String(primary.port));
      await until(() => info(r.port, 'master_link_status') === 'up' && cli(r.port, 'DBSIZE') === String(SYNC_KEYS));
      secs[kind] += (performance.now() - t0) / 1000 / ROUNDS;
      await stop(r);
      await stop(primary);
    }
  }
  rows.push({ test: `full sync of ${SYNC_KEYS} keys (seconds, lower is better)`, ...secs, lowerBetter: true });
}

console.log(`| test | Vireo | Redis | Vireo/Redis |`);
console.log(`|---|---|---|---|`);
for (const r of rows) {
  const ratio = r.redis > 0 ? (r.lowerBetter ? r.redis / r.vireo : r.vireo / r.redis).toFixed(2) : '-';
  const f = (v) => (r.lowerBetter ? v.toFixed(2) : String(Math.round(v)));
  console.log(`| ${r.test} | ${f(r.vireo)} | ${f(r.redis)} | ${ratio}${r.lowerBetter ? ' (speed)' : ''} |`);
}
