#!/usr/bin/env node
// AOF write throughput, Vireo vs Debian's redis-server: redis-benchmark SET with
// appendonly yes and appendfsync always / everysec, each server pinned to CPU 0
// and redis-benchmark to CPU 1, in a fresh temp dir, rounds alternating the
// server order. Prints requests/s, the Vireo/Redis ratio and the AOF size.
//
// Usage: node bench/aof.mjs [-n 200000] [--pipelines 1,16] [--clients 50]
//        [--fsync always,everysec] [--rounds 1] [--servers vireo,redis]
// The disk decides the `always` numbers (one fdatasync per event-loop turn in
// Vireo, per beforeSleep in Redis): compare ratios on the same machine only.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, rmSync } from 'node:fs';
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
const FSYNCS = opt('--fsync', 'always,everysec').split(',');
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

async function start(kind, fsync) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-aof-'));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--dir', dir, '--auto-aof-rewrite-percentage', '0'];
  const proc =
    kind === 'redis'
      ? spawn('taskset', ['-c', '0', 'redis-server', ...common], { stdio: 'ignore' })
      : spawn('taskset', ['-c', '0', join(ROOT, 'bin', 'vireo-server'), ...common, '--loglevel', 'warning'], { stdio: 'ignore' });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  await waitPort(port);
  return { port, proc, dir };
}

async function stop(s) {
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM'); // by PID: the server this script started
  await done;
}

function aofBytes(dir) {
  let n = 0;
  const d = join(dir, 'appendonlydir');
  for (const f of readdirSync(d)) n += statSync(join(d, f)).size;
  return n;
}

function runSet(port, pipeline) {
  const out = execFileSync('taskset', ['-c', '1', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-n', String(N), '-P', String(pipeline), '-c', String(CLIENTS), '-r', '100000', '--csv', '-t', 'set'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('"SET"'));
  return Number(line.split(',')[1].replace(/"/g, ''));
}

const rows = [];
for (const fsync of FSYNCS) {
  for (const p of PIPES) {
    const rate = { vireo: 0, redis: 0 };
    const size = { vireo: 0, redis: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
      for (const kind of order) {
        const s = await start(kind, fsync);
        rate[kind] += runSet(s.port, p) / ROUNDS;
        await stop(s);
        size[kind] = aofBytes(s.dir);
        rmSync(s.dir, { recursive: true, force: true });
      }
    }
    rows.push({ test: `SET appendfsync ${fsync} -P ${p}`, ...rate, size });
  }
}

console.log(`| test | Vireo req/s | Redis req/s | Vireo/Redis | AOF bytes (Vireo / Redis) |`);
console.log(`|---|---|---|---|---|`);
for (const r of rows) {
  const ratio = r.redis > 0 ? (r.vireo / r.redis).toFixed(2) : '-';
  console.log(`| ${r.test} | ${Math.round(r.vireo)} | ${Math.round(r.redis)} | ${ratio} | ${r.size.vireo} / ${r.size.redis} |`);
}
