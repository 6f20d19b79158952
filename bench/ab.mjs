#!/usr/bin/env node
// Paired A/B of server CPU per request, for a machine that is not quiet.
// Both servers run at the same time (pinned to CPU 0, redis-benchmark to CPU 1)
// and every test runs on A and B back to back, in alternating order, so each
// pair of samples sees about the same load. Prints, per test, the median CPU
// us/request of each server and the median of the per-pair ratios B/A.
// Throughput is not compared: with other processes on the machine it measures
// the load, not the server.
//
// Usage: node bench/ab.mjs --a <vireo-server path | redis> --b <vireo-server path | redis>
//        [--tests ping_mbulk,set,get,incr,mset] [--pipelines 1,16] [-n 200000] [--pairs 5]
//   A server path is a bin/vireo-server (e.g. a copy of bin/ and dist/ taken
//   before a change: cp -r bin dist package.json /tmp/base/ and a node_modules link);
//   "redis" is Debian's redis-server. Before the tests each server gets
//   -r keys with SET, so GET/INCR/MSET work on a full keyspace, and before
//   each test's pairs an unmeasured run of the test (-n/5 requests, or 5 * r
//   for SADD/HSET/ZADD, which fills their collection to steady state).
//   CPU time is read from /proc/<pid>/task/*/schedstat (exact, see cpuUs in bench/lib.mjs).
import { opt, startServer, stopServer, cpuUs, benchmarkTest } from './lib.mjs';

const A = opt('--a', null);
const B = opt('--b', null);
if (A === null || B === null) {
  process.stderr.write('usage: node bench/ab.mjs --a <bin|redis> --b <bin|redis> [--tests ...] [--pipelines 1,16] [-n N] [--pairs K]\n');
  process.exit(2);
}
const TESTS = opt('--tests', 'ping_mbulk,set,get,incr,mset').split(',');
const PIPES = opt('--pipelines', '1,16').split(',').map(Number);
const N = Number(opt('-n', '200000'));
const PAIRS = Number(opt('--pairs', '5'));
const KEYSPACE = Number(opt('-r', '100000'));

const start = (x) => (x === 'redis' ? startServer('redis') : startServer('vireo', { bin: x }));
const servers = [await start(A), await start(B)];
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
function cpuPerReq(s, test, P) {
  const c0 = cpuUs(s.pid);
  benchmarkTest(s.port, test, { n: N, pipeline: P, keyspace: KEYSPACE });
  return (cpuUs(s.pid) - c0) / N;
}
// Tests that add random members (-r) to one collection: an unmeasured run of
// 5 * r requests first fills it to 99.3% of the -r members, so the first pair
// does not measure inserts into a growing collection and the later ones updates.
const FILL_TESTS = new Set(['sadd', 'hset', 'zadd']);

try {
  for (const s of servers) benchmarkTest(s.port, 'set', { n: KEYSPACE * 3, pipeline: 16, keyspace: KEYSPACE });
  console.log(`A = ${A}\nB = ${B}\n-n ${N} -c 50 -r ${KEYSPACE}, ${PAIRS} pairs per test, servers on CPU 0, redis-benchmark on CPU 1\n`);
  console.log('| test | A CPU us/req | B CPU us/req | B/A (median of pairs) |');
  console.log('|---|---:|---:|---:|');
  for (const P of PIPES) {
    for (const t of TESTS) {
      const a = [];
      const b = [];
      const r = [];
      for (const s of servers) {
        // Unmeasured: the test's code paths compiled (and its collection filled) on both servers.
        benchmarkTest(s.port, t, { n: FILL_TESTS.has(t) ? 5 * KEYSPACE : Math.max(1000, Math.round(N / 5)), pipeline: P, keyspace: KEYSPACE });
      }
      for (let i = 0; i < PAIRS; i++) {
        const order = i % 2 === 0 ? [0, 1] : [1, 0];
        const x = [0, 0];
        for (const k of order) x[k] = cpuPerReq(servers[k], t, P);
        a.push(x[0]);
        b.push(x[1]);
        r.push(x[1] / x[0]);
        process.stderr.write(`${t.toUpperCase()} -P ${P} pair ${i + 1}: A ${x[0].toFixed(2)} B ${x[1].toFixed(2)} us/req\n`);
      }
      console.log(`| ${t.toUpperCase()} -P ${P} | ${median(a).toFixed(2)} | ${median(b).toFixed(2)} | ${median(r).toFixed(2)} |`);
    }
  }
} finally {
  for (const s of servers) await stopServer(s);
}
