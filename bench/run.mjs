#!/usr/bin/env node
// Side-by-side benchmark: vireo-server vs Debian's redis-server.
// Each server is pinned to CPU 0, redis-benchmark to CPU 1; runs alternate A/B.
// Prints requests/s for both, the Vireo/Redis ratio, and server CPU microseconds
// per request read from /proc/<pid>/stat (utime+stime), since at -P 1 the
// benchmark client itself is often the limit.
//
// Usage: node bench/run.mjs [--tests set,get] [--pipelines 1,16] [-n 1000000]
//        [--clients 50] [--rounds 2] [--memory] [--no-throughput] [--write bench/RESULTS.md]
//        [--issue3] [--collections] [--members 1000000]
//   --issue3       default test list: the collection commands of issue 3
//                  (LPUSH, RPUSH, LPOP, RPOP, SADD, HSET, SPOP, ZADD, ZPOPMIN,
//                  LRANGE_100, LRANGE_600, MSET); --tests still overrides it.
//   --collections  memory per member: one hash, set, zset and list of
//                  --members members (default 1M) per server, RSS growth.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const flag = (name) => args.includes(name);
const ISSUE3_TESTS = 'lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600,mset';
const TESTS = opt('--tests', flag('--issue3') ? ISSUE3_TESTS : 'ping_inline,ping_mbulk,set,get,incr,mset').split(',');
const PIPES = opt('--pipelines', '1,16').split(',').map(Number);
const N = Number(opt('-n', '1000000'));
const CLIENTS = Number(opt('--clients', '50'));
const ROUNDS = Number(opt('--rounds', '2'));
const KEYSPACE = Number(opt('-r', '100000'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

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

async function startServer(kind) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-'));
  let proc;
  if (kind === 'redis') {
    proc = spawn('taskset', ['-c', '0', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  } else {
    proc = spawn('taskset', ['-c', '0', join(ROOT, 'bin', 'vireo-server'), '--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'warning'], { stdio: 'ignore' });
  }
  await waitPort(port);
  // taskset execs the server, so the pid is the server's.
  return { port, pid: proc.pid, proc };
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

function benchmark(port, test, pipeline) {
  const out = execFileSync('taskset', ['-c', '1', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-t', test, '-n', String(N), '-P', String(pipeline), '-c', String(CLIENTS), '-r', String(KEYSPACE), '--csv'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  // Pick the test's own line: LRANGE_* runs print an "LPUSH (needed to
  // benchmark LRANGE)" fill line first; names look like "MSET (10 keys)".
  const rows = out.trim().split('\n').filter((l) => l.startsWith('"') && !l.startsWith('"test"'));
  const want = test.toUpperCase();
  const line = rows.find((l) => JSON.parse('[' + l + ']')[0].split(' ')[0] === want) ?? rows[rows.length - 1];
  return Number(JSON.parse('[' + line + ']')[1]);
}

async function stop(s) {
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  setTimeout(() => s.proc.kill('SIGKILL'), 5000).unref();
  await done;
}

async function throughput() {
  const results = {}; // key test|P -> {vireo:{rps:[],cpu:[]}, redis:...}
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const kind of order) {
      const s = await startServer(kind);
      for (const P of PIPES) {
        for (const t of TESTS) {
          const c0 = cpuTicks(s.pid);
          const rps = benchmark(s.port, t, P);
          const c1 = cpuTicks(s.pid);
          const key = `${t.toUpperCase()} -P ${P}`;
          results[key] ??= {};
          results[key][kind] ??= { rps: [], cpu: [] };
          results[key][kind].rps.push(rps);
          results[key][kind].cpu.push(((c1 - c0) * TICK_US) / N);
          process.stderr.write(`round ${round + 1} ${kind.padEnd(5)} ${key.padEnd(18)} ${Math.round(rps)} rps, ${(((c1 - c0) * TICK_US) / N).toFixed(2)} us/req\n`);
        }
      }
      await stop(s);
    }
  }
  const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const rows = [];
  for (const [key, r] of Object.entries(results)) {
    const v = r.vireo, d = r.redis;
    rows.push({
      test: key,
      vireoRps: v ? avg(v.rps) : NaN,
      redisRps: d ? avg(d.rps) : NaN,
      ratio: v && d ? avg(v.rps) / avg(d.rps) : NaN,
      vireoCpu: v ? avg(v.cpu) : NaN,
      redisCpu: d ? avg(d.cpu) : NaN,
      cpuRatio: v && d ? avg(v.cpu) / avg(d.cpu) : NaN,
    });
  }
  return rows;
}

/** Loads 1M keys "key:NNNNNN" -> 16-byte values and reports RSS growth per key. */
async function memory(kind, count = 1000000) {
  const s = await startServer(kind);
  await new Promise((r) => setTimeout(r, 300));
  const before = rssBytes(s.pid);
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let replies = 0;
  let pendingBytes = 0;
  const done = new Promise((resolve) => {
    sock.on('data', (d) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) replies++;
      if (replies >= count) resolve();
    });
  });
  const BATCH = 1000;
  for (let i = 0; i < count; i += BATCH) {
    let chunk = '';
    for (let j = i; j < i + BATCH && j < count; j++) {
      const k = 'key:' + String(j).padStart(6, '0');
      const v = 'v'.repeat(10) + String(j % 1000000).padStart(6, '0');
      chunk += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$16\r\n${v}\r\n`;
    }
    pendingBytes += chunk.length;
    if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
  }
  await done;
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssBytes(s.pid);
  sock.destroy();
  await stop(s);
  return { kind, before, after, perKey: (after - before) / count };
}

/**
 * Loads one collection of `count` members into a fresh server and reports RSS
 * growth per member. Members are "m:NNNNNNN" (9 bytes); hash values and zset
 * scores are small integers, as in a typical index.
 */
async function collectionMemory(kind, type, count) {
  const s = await startServer(kind);
  await new Promise((r) => setTimeout(r, 300));
  const before = rssBytes(s.pid);
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const PER_CMD = 100;
  const commands = Math.ceil(count / PER_CMD);
  let replies = 0;
  const done = new Promise((resolve) => {
    sock.on('data', (d) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) replies++;
      if (replies >= commands) resolve();
    });
  });
  const bulkOf = (x) => `$${x.length}\r\n${x}\r\n`;
  const name = { hash: 'HSET', set: 'SADD', zset: 'ZADD', list: 'RPUSH' }[type];
  const perMember = type === 'hash' || type === 'zset' ? 2 : 1;
  let chunk = '';
  for (let c = 0; c < commands; c++) {
    const from = c * PER_CMD;
    const to = Math.min(count, from + PER_CMD);
    let body = '';
    for (let i = from; i < to; i++) {
      const m = 'm:' + String(i).padStart(7, '0');
      const v = String(i % 1000);
      if (type === 'hash') body += bulkOf(m) + bulkOf(v);
      else if (type === 'zset') body += bulkOf(v) + bulkOf(m);
      else body += bulkOf(m);
    }
    chunk += `*${2 + (to - from) * perMember}\r\n${bulkOf(name)}${bulkOf('coll')}${body}`;
    if (chunk.length > 1 << 16 || c === commands - 1) {
      if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
      chunk = '';
    }
  }
  await done;
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssBytes(s.pid);
  sock.destroy();
  await stop(s);
  return { kind, type, before, after, perMember: (after - before) / count };
}

function fmt(n, d = 0) {
  return Number.isFinite(n) ? n.toFixed(d).replace(/\B(?=(\d{3})+(?!\d))/g, d ? '' : ',') : '-';
}

const lines = [];
const date = new Date().toISOString().slice(0, 10);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
lines.push(`Measured ${date} on ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}.`);
lines.push(`Servers pinned to CPU 0, redis-benchmark to CPU 1; -n ${N} -c ${CLIENTS} -r ${KEYSPACE}; ${ROUNDS} alternating rounds averaged.`);
lines.push('');
if (!flag('--no-throughput')) {
  const rows = await throughput();
  lines.push('| test | Vireo req/s | Redis req/s | Vireo/Redis | Vireo CPU us/req | Redis CPU us/req | CPU ratio |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) lines.push(`| ${r.test} | ${fmt(r.vireoRps)} | ${fmt(r.redisRps)} | ${fmt(r.ratio, 2)} | ${fmt(r.vireoCpu, 2)} | ${fmt(r.redisCpu, 2)} | ${fmt(r.cpuRatio, 2)} |`);
  lines.push('');
}
if (flag('--memory')) {
  lines.push('| memory, 1M keys (key:NNNNNN -> 16-byte value) | RSS before | RSS after | bytes/key |');
  lines.push('|---|---:|---:|---:|');
  for (const kind of SERVERS) {
    const m = await memory(kind);
    lines.push(`| ${kind} | ${fmt(m.before / 2 ** 20, 1)} MiB | ${fmt(m.after / 2 ** 20, 1)} MiB | ${fmt(m.perKey, 1)} |`);
  }
  lines.push('');
}
if (flag('--collections')) {
  const count = Number(opt('--members', '1000000'));
  lines.push(`| memory, one collection of ${fmt(count)} members | server | RSS before | RSS after | bytes/member |`);
  lines.push('|---|---|---:|---:|---:|');
  for (const type of ['hash', 'set', 'zset', 'list']) {
    for (const kind of SERVERS) {
      const m = await collectionMemory(kind, type, count);
      process.stderr.write(`${type} ${kind}: ${fmt(m.perMember, 1)} bytes/member\n`);
      lines.push(`| ${type} | ${kind} | ${fmt(m.before / 2 ** 20, 1)} MiB | ${fmt(m.after / 2 ** 20, 1)} MiB | ${fmt(m.perMember, 1)} |`);
    }
  }
  lines.push('');
}
const text = lines.join('\n');
console.log(text);
const w = opt('--write', null);
if (w) writeFileSync(w, `# Benchmark results\n\nProduced by \`node bench/run.mjs ${args.filter((a) => a !== '--write' && a !== w).join(' ')}\`.\n\n${text}\n`);
