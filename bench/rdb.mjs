#!/usr/bin/env node
// RDB persistence, Vireo vs Debian's redis-server, side by side (issue 6):
//   - SAVE time for N mixed keys (70% strings, 10% each small hashes, lists, zsets; some TTLs)
//   - load time at start-up (the "DB loaded from disk" log line of each server)
//   - GET latency (p50/p99, redis-benchmark) while a BGSAVE runs, and peak RSS
//     during it (Vireo: the process; Redis: parent + forked child, whose RSS
//     counts the pages it shares with the parent), with used_memory and RSS
//     after the load for reference (Vireo's used_memory is V8's heap + external).
// Servers pinned to CPU 0, redis-benchmark to CPU 1. Needs a quiet machine.
// With --rounds R, Vireo and Redis are measured alternately R times each and
// every row shows the medians (one busy moment then moves no ratio alone).
//
// Usage: node bench/rdb.mjs [-n 1000000] [--rounds 1]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, createWriteStream, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const N = Number(args[args.indexOf('-n') + 1] || 1000000) || 1000000;
const ROUNDS = args.includes('--rounds') ? Math.max(1, Number(args[args.indexOf('--rounds') + 1]) || 1) : 1;
const children = new Set();
process.on('exit', () => {
  for (const p of children) p.kill('SIGKILL');
});

const freePort = () =>
  new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

async function waitPong(port) {
  for (;;) {
    try {
      const r = execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (r === 'PONG') return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(kind, dir, port) {
  const argv =
    kind === 'redis'
      ? ['-c', '0', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
      : ['-c', '0', join(ROOT, 'bin', 'vireo-server'), '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  const proc = spawn('taskset', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  await waitPong(port);
  return { proc, port, log: () => log };
}

async function stop(s) {
  const done = new Promise((r) => s.proc.once('exit', r));
  try {
    execFileSync('redis-cli', ['-p', String(s.port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  } catch {
    /* the connection closes as the server exits */
  }
  await done;
  children.delete(s.proc);
}

const cli = (port, ...a) => execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8' }).trim();

function dataset(file) {
  return new Promise((resolve) => {
    const out = createWriteStream(file);
    const cmd = (...a) => {
      let s = `*${a.length}\r\n`;
      for (const x of a) {
        const b = String(x);
        s += `$${Buffer.byteLength(b)}\r\n${b}\r\n`;
      }
      return s;
    };
    let buf = '';
    for (let i = 0; i < N; i++) {
      const t = i % 10;
      if (t < 7) buf += cmd('SET', `key:${i}`, `value-${i}-abcdefgh`);
      else if (t === 7) buf += cmd('HSET', `hash:${i}`, 'name', `n${i}`, 'age', i % 100, 'city', 'somewhere');
      else if (t === 8) buf += cmd('RPUSH', `list:${i}`, 'a', 'b', `c${i}`, i);
      else buf += cmd('ZADD', `zset:${i}`, 1, 'one', 2.5, 'two', i, `m${i}`);
      if (i % 997 === 0) buf += cmd('PEXPIRE', `key:${i - (i % 10)}`, 86400000);
      if (buf.length > 1 << 20) {
        out.write(buf);
        buf = '';
      }
    }
    out.end(buf, resolve);
  });
}

function rssKb(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  } catch {
    return 0;
  }
}

function childPids(pid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function measure(kind, resp) {
  const dir = mkdtempSync(join(tmpdir(), `rdb-bench-${kind}-`));
  const port = await freePort();
  let s = await start(kind, dir, port);
  execFileSync('sh', ['-c', `redis-cli -p ${port} --pipe < ${resp} > /dev/null`]);
  const t0 = performance.now();
  cli(port, 'save');
  const saveS = (performance.now() - t0) / 1000;
  await stop(s);
  s = await start(kind, dir, port);
  for (let i = 0; i < 600 && !/DB loaded from disk/.test(s.log()); i++) await new Promise((r) => setTimeout(r, 100));
  const m = s.log().match(/DB loaded from disk: ([\d.]+) seconds/);
  const loadS = m ? Number(m[1]) : NaN;
  const usedMem = Number(/^used_memory:(\d+)/m.exec(cli(port, 'info', 'memory'))?.[1]);
  // GET latency while a BGSAVE runs; peak RSS sampled every 20 ms.
  const rss0 = rssKb(s.proc.pid);
  let peak = rss0;
  const bench = spawn('taskset', ['-c', '1', 'redis-benchmark', '-p', String(port), '-t', 'get', '-n', '300000', '-c', '10', '-r', String(N)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  bench.stdout.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 300));
  cli(port, 'bgsave');
  const tb = performance.now();
  let bgS = NaN;
  const timer = setInterval(() => {
    let r = rssKb(s.proc.pid);
    for (const c of childPids(s.proc.pid)) r += rssKb(c);
    if (r > peak) peak = r;
    if (Number.isNaN(bgS) && cli(port, 'info', 'persistence').includes('rdb_bgsave_in_progress:0')) bgS = (performance.now() - tb) / 1000;
  }, 20);
  await new Promise((r) => bench.once('exit', r));
  clearInterval(timer);
  const lat = out.split('latency summary')[1]?.split('\n')[2]?.trim().split(/\s+/) ?? [];
  await stop(s);
  return { saveS, loadS, bgS, p50: Number(lat[2]), p99: Number(lat[4]), rss0, peak, usedMem };
}

const resp = join(mkdtempSync(join(tmpdir(), 'rdb-bench-')), 'data.resp');
await dataset(resp);
const runs = { vireo: [], redis: [] };
for (let i = 0; i < ROUNDS; i++) {
  runs.vireo.push(await measure('vireo', resp));
  runs.redis.push(await measure('redis', resp));
}
/** Per metric, the median over the rounds. */
function medians(list) {
  const out = {};
  for (const k of Object.keys(list[0])) {
    const xs = list.map((m) => m[k]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    out[k] = xs.length === 0 ? NaN : xs.length % 2 ? xs[xs.length >> 1] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
  }
  return out;
}
const v = medians(runs.vireo);
const r = medians(runs.redis);
const row = (name, a, b, unit, digits = 3) => console.log(`${name.padEnd(34)} ${a.toFixed(digits).padStart(10)} ${b.toFixed(digits).padStart(10)} ${unit.padEnd(4)} ${(a / b).toFixed(2)}x`);
console.log(`RDB persistence, ${N} mixed keys${ROUNDS > 1 ? ` (medians of ${ROUNDS} rounds)` : ''}                 vireo      redis      vireo/redis`);
row('SAVE', v.saveS, r.saveS, 's');
row('load at start-up', v.loadS, r.loadS, 's');
row('BGSAVE duration (approx.)', v.bgS, r.bgS, 's');
row('GET p50 during BGSAVE', v.p50, r.p50, 'ms');
row('GET p99 during BGSAVE', v.p99, r.p99, 'ms');
row('used_memory after load', v.usedMem / 1048576, r.usedMem / 1048576, 'MB', 0);
row('RSS after load', v.rss0 / 1024, r.rss0 / 1024, 'MB', 0);
row('peak RSS during BGSAVE (+child)', v.peak / 1024, r.peak / 1024, 'MB', 0);
row('RSS growth during BGSAVE', (v.peak - v.rss0) / 1024, Math.max(1, (r.peak - r.rss0) / 1024), 'MB', 0);
process.exit(0);
