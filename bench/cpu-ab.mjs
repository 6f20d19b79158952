#!/usr/bin/env node
// Server CPU per request of two builds (or Vireo and Redis), A/B alternating
// (server on CPU 0, redis-benchmark on CPU 1, as in bench/lib.mjs):
// for each test, a fresh server of each kind runs the same redis-benchmark load
// and the server's utime+stime (/proc/<pid>/stat) before/after gives CPU
// microseconds per request. CPU time, unlike req/s, holds up on a shared
// machine: waiting for a core costs no CPU.
//
// Usage: node bench/cpu-ab.mjs --a /path/to/tree-or-"redis" --b /path/to/tree
//        [--tests lpush,lpop,rpush,rpop,lrange_100] [--custom 'LPUSH q:__rand_int__ x;LINDEX q:__rand_int__ 3']
//        [-n 200000] [-P 16] [-r 10000] [--rounds 3] [--prefill 'RPUSH q:__rand_int__ a b c d e']
// A tree is a checkout with bin/vireo-server and a built dist/. Custom tests are
// redis-benchmark command lines separated by ';' (keys with __rand_int__ use -r).
// --prefill runs a command line (with -n = -r * 4) before each custom test's CPU sample.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { opt, startServer, stopServer, cpuTicks, TICK_US } from './lib.mjs';

const A = opt('--a', null);
const B = opt('--b', null);
if (!A || !B) throw new Error('--a and --b are required');
const TESTS = opt('--tests', 'lpush,lpop,rpush,rpop,lrange_100').split(',').filter(Boolean);
const CUSTOM = (opt('--custom', '') || '').split(';').map((s) => s.trim()).filter(Boolean);
const N = Number(opt('-n', '200000'));
const P = Number(opt('-P', '16'));
const R = Number(opt('-r', '10000'));
const ROUNDS = Number(opt('--rounds', '3'));
const PREFILL = opt('--prefill', null);

/** A fresh server of `tree` (a checkout with bin/ and a built dist/, or "redis") on CPU 0. */
const start = (tree) => (tree === 'redis' ? startServer('redis', { prefix: 'vireo-ab-' }) : startServer('vireo', { bin: join(tree, 'bin', 'vireo-server'), prefix: 'vireo-ab-' }));
const stop = (s) => stopServer(s, { signal: 'SIGKILL' });
const ticks = cpuTicks;

function bench(port, extra, n) {
  // A server that dies mid-run would leave redis-benchmark retrying forever.
  execFileSync('taskset', ['-c', '1', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-n', String(n), '-P', String(P), '-c', '50', '-r', String(R), '-q', ...extra], { stdio: 'ignore', timeout: 300000 });
}

async function once(tree, test) {
  const s = await start(tree);
  try {
    const custom = test.startsWith('custom:');
    if (custom && PREFILL) bench(s.port, PREFILL.split(' '), R * 4);
    // lpop/rpop need a list to pop from: redis-benchmark's lpush fills mylist first.
    if (test === 'lpop' || test === 'rpop') bench(s.port, ['-t', 'lpush'], N);
    const t0 = ticks(s.proc.pid);
    if (custom) bench(s.port, test.slice(7).split(' '), N);
    else bench(s.port, ['-t', test], N);
    return ((ticks(s.proc.pid) - t0) * TICK_US) / N;
  } finally {
    await stop(s);
  }
}

/** once(), retried once if the server died or the run timed out (a shared machine). */
async function measure(tree, test) {
  try {
    return await once(tree, test);
  } catch (e) {
    process.stderr.write(`${tree} ${test}: ${e.message}; retrying\n`);
    return once(tree, test);
  }
}

const tests = [...TESTS, ...CUSTOM.map((c) => 'custom:' + c)];
console.log(`CPU us/request, -n ${N} -P ${P} -c 50 -r ${R}, ${ROUNDS} rounds (median); A=${A} B=${B}`);
console.log('| test | A us/req | B us/req | B/A |');
console.log('|---|---:|---:|---:|');
for (const t of tests) {
  const a = [];
  const b = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      a.push(await measure(A, t));
      b.push(await measure(B, t));
    } else {
      b.push(await measure(B, t));
      a.push(await measure(A, t));
    }
  }
  const med = (x) => x.slice().sort((p, q) => p - q)[x.length >> 1];
  console.log(`| ${t.replace('custom:', '')} | ${med(a).toFixed(2)} | ${med(b).toFixed(2)} | ${(med(b) / med(a)).toFixed(2)} |`);
}
