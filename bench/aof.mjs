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
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { opt, startServer, stopServer, benchmarkTest } from './lib.mjs';

const N = Number(opt('-n', '200000'));
const PIPES = opt('--pipelines', '1,16').split(',').map(Number);
const CLIENTS = Number(opt('--clients', '50'));
const FSYNCS = opt('--fsync', 'always,everysec').split(',');
const ROUNDS = Number(opt('--rounds', '1'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');

function start(kind, fsync) {
  return startServer(kind, { args: ['--appendonly', 'yes', '--appendfsync', fsync, '--auto-aof-rewrite-percentage', '0'], prefix: 'vireo-bench-aof-' });
}

function aofBytes(dir) {
  let n = 0;
  const d = join(dir, 'appendonlydir');
  for (const f of readdirSync(d)) n += statSync(join(d, f)).size;
  return n;
}

function runSet(port, pipeline) {
  return benchmarkTest(port, 'set', { n: N, pipeline, clients: CLIENTS });
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
        await stopServer(s, { removeDir: false }); // SIGTERM: the AOF is complete
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
