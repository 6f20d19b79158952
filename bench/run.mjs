#!/usr/bin/env node
// Side-by-side benchmark: vireo-server vs Debian's redis-server.
// All servers run at once, each pinned to CPU 0, redis-benchmark on CPU 1.
// Every test runs on each server back to back, --rounds times (default 3) in
// alternating order (A B, B A, ...), so the samples compared share the load of
// the rest of the machine and both servers hold the same keys; columns are
// medians of the rounds, ratios medians of the per-round ratios (the old order,
// all tests on one server then all on the other, minutes apart, moved Redis's
// own MSET cost 1.5x between runs; see bench/README.md). Prints requests/s for
// both, the Vireo/Redis ratio, and server CPU microseconds per request (sum of
// the threads' /proc/<pid>/task/*/schedstat, exact; cpuUs in bench/lib.mjs),
// since at -P 1 the benchmark client itself is often the limit.
//
// Usage: node bench/run.mjs [--tests set,get] [--pipelines 1,16] [-n 1000000]
//        [--clients 50] [--rounds 2] [--memory] [--no-throughput] [--write bench/RESULTS.md]
//        [--issue3] [--issue4] [--collections] [--rdb] [--members 1000000] [--servers vireo,redis] [-r 100000]
//        [--base path/to/other/bin/vireo-server] [--no-warmup]
//   --no-warmup    measure cold (by default each server first gets an unmeasured
//                  SET -n 8*r -P 16 warm-up, see warmUp in bench/lib.mjs, and each
//                  test an unmeasured run before its first measured round: -n/5
//                  requests, or 5*r for sadd/hset/zadd, which fills their
//                  collection to 99.3% of the -r members, see warmRequests).
//   --base         A/B against another build: server kind "base" runs that
//                  vireo-server (e.g. a copy of bin/ and dist/ taken before a
//                  change); use --servers vireo,base (or base,vireo,redis: the
//                  table then adds base CPU us/req and Vireo/base columns).
//   --issue3       default test list: the collection commands of issue 3
//                  (LPUSH, RPUSH, LPOP, RPOP, SADD, HSET, SPOP, ZADD, ZPOPMIN,
//                  LRANGE_100, LRANGE_600, MSET); --tests still overrides it.
//   --collections  memory per member: one hash, set, zset and list of
//                  --members members (default 1M) per server, RSS growth.
//   --issue4       default test list: the issue 4 tests (streams, Pub/Sub,
//                  transactions), each also selectable by name with --tests:
//                    xadd         redis-benchmark XADD bench:stream * field value
//                    xrange_100   redis-benchmark XRANGE bench:stream - + COUNT 100
//                                 (stream pre-filled with 100 entries)
//                    xreadgroup   Node driver: XREADGROUP COUNT 10 + XACK of the ids;
//                                 N/10 read+ack cycles over a pre-filled group (req/s
//                                 and CPU per request count both commands)
//                    publish_1    redis-benchmark PUBLISH, 1 raw-socket subscriber;
//                                 rate = messages delivered/s, CPU per PUBLISH
//                    publish_100  the same with 100 subscribers and N/10 PUBLISHes
//                    multi_exec   Node driver: MULTI + 5 SET/INCR + EXEC, N/5
//                                 transactions; rate and CPU per transaction
//                  Drivers and subscribers run under taskset -c 1 (bench/driver.mjs);
//                  pre-fill happens before the CPU sample is taken.
//   --issue5       default test list: the issue 5 scripting tests:
//                    evalsha_2    redis-benchmark EVALSHA of a script doing GET + INCR
//                                 of KEYS[1] (-r keys, loaded with SCRIPT LOAD first)
//                    evalsha_10   EVALSHA of a script doing 10 redis.call (5 GET + 5 INCR)
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { Client, ReplyError, frame } from './resp.mjs';
import { track, startServer as startPinned, warmUp, cpuUs } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const flag = (name) => args.includes(name);
// --rdb: RDB persistence side by side (bench/rdb.mjs: SAVE and load time of -n mixed keys,
// GET p50/p99 and peak RSS during BGSAVE); it runs alone and exits.
if (flag('--rdb')) await import('./rdb.mjs');
const ISSUE3_TESTS = 'lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600,mset';
const ISSUE4_TESTS = 'xadd,xrange_100,xreadgroup,publish_1,publish_100,multi_exec';
const ISSUE5_TESTS = 'evalsha_2,evalsha_10';
const TESTS = opt('--tests', flag('--issue5') ? ISSUE5_TESTS : flag('--issue4') ? ISSUE4_TESTS : flag('--issue3') ? ISSUE3_TESTS : 'ping_inline,ping_mbulk,set,get,incr,mset').split(',');
const PIPES = opt('--pipelines', '1,16').split(',').map(Number);
const N_MEASURED = Number(opt('-n', '1000000'));
// Requests of the run in progress: N_MEASURED, or a fifth of it for the unmeasured warm-up run of each test (runTest).
let N = N_MEASURED;
const CLIENTS = Number(opt('--clients', '50'));
const ROUNDS = Number(opt('--rounds', '3'));
const KEYSPACE = Number(opt('-r', '100000'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');

// Servers and drivers are tracked and started pinned by bench/lib.mjs (killed by PID if the script dies).
async function startServer(kind) {
  const bin = kind === 'base' ? opt('--base', null) : undefined;
  if (bin === null) throw new Error('server kind "base" needs --base path/to/bin/vireo-server');
  return startPinned(kind, { cpu: 0, bin });
}


function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

function benchmarkArgs(port, pipeline, n, what) {
  return ['-c', '1', 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-n', String(n), '-P', String(pipeline), '-c', String(CLIENTS), '-r', String(KEYSPACE), '--csv', ...what];
}

function parseCsv(out, want) {
  // Pick the test's own line: LRANGE_* runs print an "LPUSH (needed to
  // benchmark LRANGE)" fill line first; names look like "MSET (10 keys)".
  // A custom command prints one line named by the command line.
  const rows = out.trim().split('\n').filter((l) => l.startsWith('"') && !l.startsWith('"test"'));
  if (!rows.length) throw new Error(`redis-benchmark printed no result:\n${out}`);
  const line = rows.find((l) => JSON.parse('[' + l + ']')[0].split(' ')[0] === want) ?? rows[rows.length - 1];
  return Number(JSON.parse('[' + line + ']')[1]);
}

function benchmark(port, test, pipeline) {
  const out = execFileSync('taskset', benchmarkArgs(port, pipeline, N, ['-t', test]), { encoding: 'utf8', maxBuffer: 1 << 24 });
  return parseCsv(out, test.toUpperCase());
}

/** redis-benchmark with an arbitrary command (e.g. XADD bench:stream * field value); async. */
function benchmarkCommand(port, pipeline, n, command) {
  return new Promise((resolve, reject) => {
    const p = track(spawn('taskset', benchmarkArgs(port, pipeline, n, command), { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`redis-benchmark ${command.join(' ')} exited ${code}: ${err}${out}`));
      // Server errors (e.g. an unknown command) end up in the output, not the exit code.
      if (/^(ERR|Error|WRONGTYPE)/m.test(out + err)) return reject(new Error(`redis-benchmark ${command.join(' ')}: ${(out + err).trim().slice(0, 500)}`));
      try {
        resolve(parseCsv(out, command[0]));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Starts bench/driver.mjs on the client CPU. With `ready`, resolves
 * {ready: Promise, result: Promise} so the caller can act once the driver has
 * printed "ready"; otherwise resolves the driver's JSON result.
 */
function driver(mode, params, { ready = false } = {}) {
  const p = track(spawn('taskset', ['-c', '1', process.execPath, join(ROOT, 'bench', 'driver.mjs'), mode, ...Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)])], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  let signalReady;
  const readyP = new Promise((r) => (signalReady = r));
  const result = new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) signalReady();
    });
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop();
      let r;
      try {
        r = JSON.parse(last);
      } catch {
        return reject(new Error(`driver ${mode} exited ${code} without a result: ${out}`));
      }
      if (r.error || code !== 0) return reject(new Error(`driver ${mode}: ${r.error ?? 'exit ' + code}`));
      resolve(r);
    });
  });
  result.catch(() => signalReady()); // a failed driver must not leave the caller waiting for "ready"
  return ready ? { ready: readyP, result, proc: p } : result;
}

/** Pipelines many pre-encoded commands over one connection, in batches; returns the replies' error count. */
async function fill(port, gen) {
  const c = await Client.open(port);
  let errors = 0;
  let batch = '';
  let n = 0;
  const flush = async () => {
    if (!n) return;
    for (const r of await c.pipeline(batch, n)) if (r instanceof ReplyError) errors++;
    batch = '';
    n = 0;
  };
  for (const args of gen) {
    batch += frame(args);
    if (++n === 10000) await flush();
  }
  await flush();
  c.close();
  if (errors) throw new Error(`pre-fill: ${errors} error replies`);
}

const PAYLOAD = 'x'.repeat(16); // PUBLISH payload (16 bytes)

/**
 * The issue 4 tests. Each measure(s, P) pre-fills, samples the server's CPU
 * itself (after the fill) and returns {rate, ops, us, info}; `ops` is the
 * divisor for CPU per operation, `rate` what goes in the req/s column.
 */
const CUSTOM = {
  evalsha_2: {
    label: 'EVALSHA (GET+INCR)',
    measure: (s, P) => evalsha(s, P, "redis.call('GET', KEYS[1]) return redis.call('INCR', KEYS[1])"),
  },
  evalsha_10: {
    label: 'EVALSHA (10 calls)',
    measure: (s, P) => evalsha(s, P, "local n = 0 for i = 1, 5 do redis.call('GET', KEYS[1]) n = redis.call('INCR', KEYS[1]) end return n"),
  },
  xadd: {
    label: 'XADD',
    async measure(s, P) {
      const c0 = cpuUs(s.pid);
      const rate = await benchmarkCommand(s.port, P, N, ['XADD', 'bench:stream', '*', 'field', 'value']);
      return { rate, ops: N, us: cpuUs(s.pid) - c0 };
    },
  },
  xrange_100: {
    label: 'XRANGE_100',
    async measure(s, P) {
      await fill(s.port, (function* () {
        yield ['DEL', 'bench:stream'];
        for (let i = 0; i < 100; i++) yield ['XADD', 'bench:stream', '*', 'field', 'value'];
      })());
      const c0 = cpuUs(s.pid);
      const rate = await benchmarkCommand(s.port, P, N, ['XRANGE', 'bench:stream', '-', '+', 'COUNT', '100']);
      return { rate, ops: N, us: cpuUs(s.pid) - c0 };
    },
  },
  xreadgroup: {
    label: 'XREADGROUP+XACK (COUNT 10)',
    note: 'XREADGROUP+XACK: a Node driver (50 consumers of one group) reads COUNT 10 and XACKs the 10 ids; req/s and CPU us/req count both commands; -P K = K reads (and their K XACKs) in flight per connection; N/10 cycles over a pre-filled stream.',
    async measure(s, P) {
      const cycles = Math.max(CLIENTS, Math.round(N / 10));
      const entries = cycles * 10;
      await fill(s.port, (function* () {
        yield ['DEL', 'bench:group'];
        yield ['XGROUP', 'CREATE', 'bench:group', 'g', '0', 'MKSTREAM'];
        for (let i = 0; i < entries; i++) yield ['XADD', 'bench:group', '*', 'field', 'value'];
      })());
      const c0 = cpuUs(s.pid);
      const r = await driver('xgroup', { port: s.port, clients: CLIENTS, pipeline: P, n: cycles, key: 'bench:group', group: 'g' });
      const us = cpuUs(s.pid) - c0;
      if (r.entries !== entries || r.acked !== entries) throw new Error(`xreadgroup: read ${r.entries}, acked ${r.acked} of ${entries} entries`);
      return { rate: r.ops / r.seconds, ops: r.ops, us, info: `${r.entries} entries read+acked` };
    },
  },
  publish_1: {
    label: 'PUBLISH, 1 subscriber (msg/s)',
    note: 'PUBLISH: redis-benchmark publishes a 16-byte payload; subscribers are raw sockets in a Node process on CPU 1 that count delivered bytes; the rate column is messages delivered/s (first to last message), the CPU columns are us per PUBLISH. The pubsub output-buffer limit is set to 0 0 0 on both servers so a subscriber that shares CPU 1 with the publisher is not dropped.',
    measure: (s, P) => publish(s, P, 1, N),
  },
  publish_100: {
    label: 'PUBLISH, 100 subscribers (msg/s)',
    note: 'PUBLISH to 100 subscribers sends N/10 PUBLISHes (10N messages).',
    measure: (s, P) => publish(s, P, 100, Math.max(1, Math.round(N / 10))),
  },
  multi_exec: {
    label: 'MULTI/EXEC of 5 (tx/s)',
    note: 'MULTI/EXEC: a Node driver on CPU 1, 50 connections, each transaction MULTI + SET/INCR/SET/INCR/SET on random keys (-r) + EXEC; -P K = K whole transactions per write; N/5 transactions; rate is transactions/s and CPU is us per transaction (7 commands).',
    async measure(s, P) {
      const tx = Math.max(CLIENTS, Math.round(N / 5));
      const c0 = cpuUs(s.pid);
      const r = await driver('multi', { port: s.port, clients: CLIENTS, pipeline: P, n: tx, keyspace: KEYSPACE });
      const us = cpuUs(s.pid) - c0;
      if (r.ops !== tx) throw new Error(`multi_exec: ${r.ops} of ${tx} transactions`);
      return { rate: r.ops / r.seconds, ops: r.ops, us };
    },
  },
};

/** redis-benchmark EVALSHA <sha> 1 key:__rand_int__ of a script loaded first. */
async function evalsha(s, P, script) {
  const c = await Client.open(s.port);
  const sha = await c.call('SCRIPT', 'LOAD', script);
  c.close();
  if (typeof sha !== 'string' || sha.length !== 40) throw new Error(`SCRIPT LOAD failed: ${sha?.message ?? sha}`);
  const c0 = cpuUs(s.pid);
  const rate = await benchmarkCommand(s.port, P, N, ['EVALSHA', sha, '1', 'bench:key:__rand_int__']);
  return { rate, ops: N, us: cpuUs(s.pid) - c0 };
}

async function publish(s, P, subs, publishes) {
  const c = await Client.open(s.port);
  const set = await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 0 0 0');
  c.close();
  if (set !== 'OK') process.stderr.write(`warning: CONFIG SET client-output-buffer-limit failed: ${set?.message ?? set}\n`);
  const sub = driver('subscribe', { port: s.port, subs, channel: 'bench:chan', 'payload-len': PAYLOAD.length }, { ready: true });
  await sub.ready;
  const c0 = cpuUs(s.pid);
  let pubRate;
  try {
    pubRate = await benchmarkCommand(s.port, P, publishes, ['PUBLISH', 'bench:chan', PAYLOAD]);
  } catch (e) {
    sub.proc.kill('SIGTERM'); // by PID: the subscriber process this call started
    sub.result.catch(() => {});
    throw e;
  }
  // redis-benchmark may send a few more than -n at -P > 1: end the stream with a
  // sentinel and count what was actually delivered.
  const c2 = await Client.open(s.port);
  const receivers = await c2.call('PUBLISH', 'bench:chan', 'E'.repeat(PAYLOAD.length));
  c2.close();
  if (receivers !== subs) throw new Error(`publish: sentinel reached ${receivers} of ${subs} subscribers`);
  const r = await sub.result;
  const us = cpuUs(s.pid) - c0;
  if (r.publishes < publishes) throw new Error(`publish: ${r.publishes} of ${publishes} messages per subscriber delivered`);
  return { rate: r.messages / r.seconds, ops: r.publishes, us, info: `${Math.round(pubRate)} PUBLISH/s, ${r.messages} messages` };
}

/**
 * Requests of the unmeasured run of test t before its measured rounds. Every
 * test is measured warm (its code paths compiled, its data structures grown),
 * whichever preset and order run it: a fresh server's first requests of a kind
 * pay for JIT tiering and heap growth (bench/lib.mjs warmUp; PUBLISH -P 16
 * measured cold cost 1.0-1.2 us/req against 0.65 warm). A fifth of -n, or,
 * for the tests that add random members (-r) to one collection, 5 * r: the
 * collection then holds 99.3% of the -r members, as it will in every measured
 * round. With N/5 (40k of -r 100000) the first measured HSET round grew
 * myhash from 33k to 90k members (inserts, table growth) and later rounds
 * only updated fields, so round 1 cost up to 1.5x more than round 2.
 */
const FILL_TESTS = new Set(['sadd', 'hset', 'zadd']);
function warmRequests(t) {
  const n = Math.max(1000, Math.round(N_MEASURED / 5));
  return FILL_TESTS.has(t) ? Math.max(n, 5 * KEYSPACE) : n;
}

async function runTest(s, t, P, { warm }) {
  if (warm) {
    N = warmRequests(t);
    try {
      await runTestOnce(s, t, P);
    } finally {
      N = N_MEASURED;
    }
  }
  return runTestOnce(s, t, P);
}

async function runTestOnce(s, t, P) {
  const custom = CUSTOM[t];
  if (!custom) {
    const c0 = cpuUs(s.pid);
    const rps = benchmark(s.port, t, P);
    const c1 = cpuUs(s.pid);
    return { key: `${t.toUpperCase()} -P ${P}`, rate: rps, cpu: (c1 - c0) / N };
  }
  const r = await custom.measure(s, P);
  return { key: `${custom.label} -P ${P}`, rate: r.rate, cpu: r.us / r.ops, info: r.info };
}

async function stop(s) {
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  setTimeout(() => s.proc.kill('SIGKILL'), 5000).unref();
  await done;
}

const median = (a) => {
  const x = [...a].sort((p, q) => p - q);
  return x.length % 2 ? x[(x.length - 1) / 2] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2;
};

/**
 * All servers run at once (each pinned to CPU 0, an idle one costs nothing),
 * get the same warm-up, and every test runs on each of them back to back, in
 * an order that alternates between rounds (A B, B A, A B, ...): the samples
 * compared were taken seconds apart, under the same load from the rest of the
 * machine, on servers holding the same keys (every server received exactly the
 * same requests before). Each column is the median of the rounds, and the
 * Vireo/Redis ratios are medians of the per-round ratios.
 */
async function throughput() {
  const results = {}; // key test|P -> {vireo:{rps:[],cpu:[]}, redis:...}
  const servers = [];
  try {
    for (const kind of SERVERS) servers.push(await startServer(kind));
    for (const s of servers) warmUp(s.port, KEYSPACE); // measured warm, with the keyspace filled (bench/lib.mjs)
    for (const P of PIPES) {
      for (const t of TESTS) {
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? servers : [...servers].reverse();
          for (const s of order) {
            const { key, rate, cpu, info } = await runTest(s, t, P, { warm: round === 0 && !flag('--no-warmup') });
            results[key] ??= {};
            results[key][s.kind] ??= { rps: [], cpu: [] };
            results[key][s.kind].rps[round] = rate;
            results[key][s.kind].cpu[round] = cpu;
            process.stderr.write(`round ${round + 1} ${s.kind.padEnd(5)} ${key.padEnd(18)} ${Math.round(rate)} rps, ${cpu.toFixed(2)} us/req${info ? ` (${info})` : ''}\n`);
          }
        }
      }
    }
  } finally {
    for (const s of servers) await stop(s);
  }
  const paired = (a, b, f) => median(a.map((x, i) => f(x, b[i])));
  const rows = [];
  for (const [key, r] of Object.entries(results)) {
    const v = r.vireo, d = r.redis, b = r.base;
    rows.push({
      test: key,
      vireoRps: v ? median(v.rps) : NaN,
      redisRps: d ? median(d.rps) : NaN,
      ratio: v && d ? paired(v.rps, d.rps, (x, y) => x / y) : NaN,
      vireoCpu: v ? median(v.cpu) : NaN,
      redisCpu: d ? median(d.cpu) : NaN,
      cpuRatio: v && d ? paired(v.cpu, d.cpu, (x, y) => x / y) : NaN,
      baseCpu: b ? median(b.cpu) : NaN,
      baseRatio: v && b ? paired(v.cpu, b.cpu, (x, y) => x / y) : NaN,
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
lines.push(`Servers pinned to CPU 0 (all running at once), redis-benchmark to CPU 1; -n ${N} -c ${CLIENTS} -r ${KEYSPACE}; each test runs on every server back to back, ${ROUNDS} rounds in alternating order; medians of the rounds, ratios are medians of the per-round ratios.`);
lines.push('');
if (!flag('--no-throughput')) {
  const rows = await throughput();
  const withBase = SERVERS.includes('base');
  lines.push(`| test | Vireo req/s | Redis req/s | Vireo/Redis | Vireo CPU us/req | Redis CPU us/req | CPU ratio |${withBase ? ' base CPU us/req | Vireo/base CPU |' : ''}`);
  lines.push(`|---|---:|---:|---:|---:|---:|---:|${withBase ? '---:|---:|' : ''}`);
  for (const r of rows) lines.push(`| ${r.test} | ${fmt(r.vireoRps)} | ${fmt(r.redisRps)} | ${fmt(r.ratio, 2)} | ${fmt(r.vireoCpu, 2)} | ${fmt(r.redisCpu, 2)} | ${fmt(r.cpuRatio, 2)} |${withBase ? ` ${fmt(r.baseCpu, 2)} | ${fmt(r.baseRatio, 2)} |` : ''}`);
  lines.push('');
  const notes = [...new Set(TESTS.map((t) => CUSTOM[t]?.note).filter(Boolean))];
  if (notes.length) {
    for (const n of notes) lines.push(`- ${n}`);
    lines.push('');
  }
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
