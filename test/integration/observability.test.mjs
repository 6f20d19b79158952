// SLOWLOG, COMMANDLOG (Valkey 8.1) and LATENCY: entry shapes (ids, argument
// trimming at 32 arguments and 128 bytes, redaction, client address and name),
// thresholds and lengths from their directives, the latency monitor events and
// histograms. When Debian's redis-server is installed, SLOWLOG entries of the
// same commands are compared with its entries (all but id, time, duration, port).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo, startRedis, haveRedis } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
before(async () => {
  srv = await startVireo(['--enable-debug-command', 'yes']);
});
after(async () => {
  await srv.stop();
});

/** Minimal RESP reader over a raw reply: returns JS values (arrays, numbers, strings, Error). */
function parse(text) {
  let i = 0;
  function line() {
    const e = text.indexOf('\r\n', i);
    const l = text.slice(i, e);
    i = e + 2;
    return l;
  }
  function value() {
    const l = line();
    const t = l[0];
    const rest = l.slice(1);
    if (t === '+') return rest;
    if (t === '-') return new Error(rest);
    if (t === ':') return Number(rest);
    if (t === '$') {
      const n = Number(rest);
      if (n < 0) return null;
      const s = text.slice(i, i + n);
      i += n + 2;
      return s;
    }
    if (t === '=') {
      const n = Number(rest);
      const s = text.slice(i + 4, i + n);
      i += n + 2;
      return s;
    }
    if (t === '*' || t === '%') {
      const n = Number(rest) * (t === '%' ? 2 : 1);
      const a = [];
      for (let k = 0; k < n; k++) a.push(value());
      return a;
    }
    throw new Error(`unexpected ${l}`);
  }
  return value();
}

async function call(c, ...args) {
  return parse(await c.call(...args));
}

const LONG = 'x'.repeat(200);
const MANY = Array.from({ length: 40 }, (_, i) => `a${i}`);

/** Runs the same commands on a server and returns its two newest SLOWLOG entries. */
async function slowEntries(port) {
  const c = await RawConn.connect(port);
  await call(c, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0');
  await call(c, 'SLOWLOG', 'RESET');
  await call(c, 'CLIENT', 'SETNAME', 'probe');
  await call(c, 'RPUSH', 'l', ...MANY);
  await call(c, 'SET', 'k', LONG);
  const all = await call(c, 'SLOWLOG', 'GET', '3');
  c.close();
  return all;
}

test('SLOWLOG entries: shape, trimming, client name (compared with redis-server when present)', async () => {
  const mine = await slowEntries(srv.port);
  assert.equal(mine.length, 3);
  const [set, rpush, setname] = mine;
  assert.equal(set.length, 6);
  assert.ok(set[0] > rpush[0] && rpush[0] > setname[0], 'ids grow, newest first');
  assert.ok(Math.abs(set[1] - Date.now() / 1000) < 5);
  assert.ok(Number.isInteger(set[2]) && set[2] >= 0);
  assert.deepEqual(set[3], ['SET', 'k', `${'x'.repeat(128)}... (72 more bytes)`]);
  assert.equal(rpush[3].length, 32);
  assert.equal(rpush[3][31], '... (11 more arguments)');
  assert.deepEqual(rpush[3].slice(0, 31), ['RPUSH', 'l', ...MANY.slice(0, 29)]);
  assert.match(set[4], /^127\.0\.0\.1:\d+$/);
  assert.equal(set[5], 'probe');
  if (haveRedis()) {
    const r = await startRedis();
    try {
      const theirs = await slowEntries(r.port);
      const strip = (e) => [e[3], e[5]];
      assert.deepEqual(mine.map(strip), theirs.map(strip));
    } finally {
      await r.stop();
    }
  }
});

test('SLOWLOG LEN/RESET/GET count, thresholds, max length, errors, redaction', async () => {
  const c = await RawConn.connect(srv.port);
  assert.equal(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0'), '+OK\r\n');
  assert.equal(await c.call('SLOWLOG', 'RESET'), '+OK\r\n');
  // RESET itself is logged after the reset, like Valkey.
  assert.equal(await c.call('SLOWLOG', 'LEN'), ':1\r\n');
  for (let i = 0; i < 20; i++) await c.call('PING');
  assert.equal((await call(c, 'SLOWLOG', 'GET')).length, 10);
  assert.equal((await call(c, 'SLOWLOG', 'GET', '-1')).length, 23);
  assert.equal((await call(c, 'SLOWLOG', 'GET', '0')).length, 0);
  assert.equal(await c.call('SLOWLOG', 'GET', '-2'), '-ERR count should be greater than or equal to -1\r\n');
  assert.equal(await c.call('SLOWLOG', 'GET', 'abc'), '-ERR count should be greater than or equal to -1\r\n');
  // slowlog-max-len trims at once and keeps the newest.
  assert.equal(await c.call('CONFIG', 'SET', 'slowlog-max-len', '5'), '+OK\r\n');
  assert.equal(await c.call('SLOWLOG', 'LEN'), ':5\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'slowlog-max-len'), '*2\r\n$15\r\nslowlog-max-len\r\n$1\r\n5\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'commandlog-slow-execution-max-len'), '*2\r\n$33\r\ncommandlog-slow-execution-max-len\r\n$1\r\n5\r\n');
  // Credentials never reach the log.
  await c.call('AUTH', 'someone', 'secret');
  const [auth] = await call(c, 'SLOWLOG', 'GET', '1');
  assert.deepEqual(auth[3], ['AUTH', '(redacted)', '(redacted)']);
  // -1 turns logging off; a high threshold logs nothing fast.
  assert.equal(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1'), '+OK\r\n');
  await c.call('SLOWLOG', 'RESET');
  await c.call('PING');
  assert.equal(await c.call('SLOWLOG', 'LEN'), ':0\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000'), '+OK\r\n');
  await c.call('PING');
  assert.equal(await c.call('SLOWLOG', 'LEN'), ':0\r\n');
  await c.call('DEBUG', 'SLEEP', '0.02');
  const [slow] = await call(c, 'SLOWLOG', 'GET', '1');
  assert.deepEqual(slow[3], ['DEBUG', 'SLEEP', '0.02']);
  assert.ok(slow[2] >= 15000, `duration ${slow[2]}`);
  const help = await call(c, 'SLOWLOG', 'HELP');
  assert.equal(help[0], 'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
  assert.match(await c.call('SLOWLOG', 'NOPE'), /^-ERR unknown subcommand 'NOPE'/);
  await c.call('CONFIG', 'SET', 'slowlog-max-len', '128');
  c.close();
});

test('COMMANDLOG: slow, large-request and large-reply logs', async () => {
  const c = await RawConn.connect(srv.port);
  for (const t of ['slow', 'large-request', 'large-reply']) assert.equal(await c.call('COMMANDLOG', 'RESET', t), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'commandlog-request-larger-than', '100'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'commandlog-reply-larger-than', '100'), '+OK\r\n');
  await c.call('SET', 'big', LONG);
  await c.call('GET', 'big');
  await c.call('GET', 'nothing');
  const [req] = await call(c, 'COMMANDLOG', 'GET', '1', 'large-request');
  // *3 $3 SET $3 big $200 <200>: 4 + 9 + 9 + 208 bytes.
  assert.equal(req[2], 230);
  assert.deepEqual(req[3], ['SET', 'big', `${'x'.repeat(128)}... (72 more bytes)`]);
  // Large replies: GET big ($200\r\n + 200 + \r\n), and the COMMANDLOG GET above (its entry holds 128+ bytes).
  const replies = await call(c, 'COMMANDLOG', 'GET', '-1', 'large-reply');
  assert.deepEqual(replies.map((e) => [e[2], e[3][0]]).reverse().slice(0, 2), [[208, 'GET'], [replies.at(-2)[2], 'COMMANDLOG']]);
  assert.deepEqual(replies.at(-1)[3], ['GET', 'big']);
  assert.ok(replies.at(-2)[2] > 200);
  assert.equal(await c.call('COMMANDLOG', 'LEN', 'large-reply'), `:${replies.length + 1}\r\n`);
  // A large request behind a small one in the same read is measured too.
  await c.call('COMMANDLOG', 'RESET', 'large-request');
  c.write(`*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$2\r\nb2\r\n$200\r\n${LONG}\r\n*1\r\n$4\r\nPING\r\n`);
  assert.equal(await c.readReply(), '+PONG\r\n');
  assert.equal(await c.readReply(), '+OK\r\n');
  assert.equal(await c.readReply(), '+PONG\r\n');
  const reqs = await call(c, 'COMMANDLOG', 'GET', '-1', 'large-request');
  assert.deepEqual(reqs.map((e) => [e[2], e[3][0], e[3][1]]), [[229, 'SET', 'b2']]);
  assert.equal(await c.call('COMMANDLOG', 'LEN', 'bogus'), '-ERR type should be one of the following: slow, large-request, large-reply\r\n');
  assert.equal(await c.call('COMMANDLOG', 'GET', '-5', 'slow'), '-ERR count should be greater than or equal to -1\r\n');
  assert.match(await c.call('COMMANDLOG', 'GET', '1'), /^-ERR wrong number of arguments for 'commandlog\|get' command/);
  // The slow log is the one SLOWLOG shows.
  assert.equal(await c.call('COMMANDLOG', 'LEN', 'slow'), await c.call('SLOWLOG', 'LEN'));
  assert.equal(await c.call('CONFIG', 'SET', 'commandlog-large-reply-max-len', '0'), '+OK\r\n');
  assert.equal(await c.call('COMMANDLOG', 'LEN', 'large-reply'), ':0\r\n');
  await c.call('CONFIG', 'SET', 'commandlog-large-reply-max-len', '128');
  await c.call('CONFIG', 'SET', 'commandlog-request-larger-than', '1048576');
  await c.call('CONFIG', 'SET', 'commandlog-reply-larger-than', '1048576');
  const info = await call(c, 'COMMAND', 'INFO', 'commandlog');
  assert.equal(info[0][0], 'commandlog');
  c.close();
});

test('LATENCY: monitor threshold, LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM', async () => {
  const c = await RawConn.connect(srv.port);
  assert.equal(await c.call('LATENCY', 'RESET'), `:${(await call(c, 'LATENCY', 'LATEST')).length}\r\n`);
  // Valkey's wording (latency.c createLatencyReport), not Redis 7.0's.
  assert.equal(await call(c, 'LATENCY', 'DOCTOR'), 'I\'m sorry, Dave, I can\'t do that. Latency monitoring is disabled in this Valkey instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it.\n');
  assert.equal(await c.call('LATENCY', 'GRAPH', 'command'), "-ERR No samples available for event 'command'\r\n");
  await c.call('DEBUG', 'SLEEP', '0.01');
  assert.equal(await c.call('LATENCY', 'LATEST'), '*0\r\n'); // threshold 0: off
  assert.equal(await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '5'), '+OK\r\n');
  await c.call('PING');
  assert.equal(await c.call('LATENCY', 'LATEST'), '*0\r\n');
  const quiet = await call(c, 'LATENCY', 'DOCTOR');
  // Transparent huge pages in the server process add Valkey's THP advice even with no event.
  if (!quiet.includes('anonymous huge pages')) assert.equal(quiet, 'No latency spike was observed during the lifetime of this Valkey instance, not in the slightest bit.\n');
  await c.call('DEBUG', 'SLEEP', '0.02');
  const latest = await call(c, 'LATENCY', 'LATEST');
  assert.equal(latest.length, 1);
  assert.equal(latest[0][0], 'command');
  assert.ok(Math.abs(latest[0][1] - Date.now() / 1000) < 5);
  assert.ok(latest[0][2] >= 15 && latest[0][3] >= latest[0][2], JSON.stringify(latest));
  const hist = await call(c, 'LATENCY', 'HISTORY', 'command');
  assert.equal(hist.length, 1);
  assert.deepEqual(hist[0], [latest[0][1], latest[0][2]]);
  assert.equal(await c.call('LATENCY', 'HISTORY', 'nothing'), '*0\r\n');
  const graph = await call(c, 'LATENCY', 'GRAPH', 'command');
  assert.match(graph, /^command - high \d+ ms, low \d+ ms \(all time high \d+ ms\)\n-{80}\n/);
  const doctor = await call(c, 'LATENCY', 'DOCTOR');
  assert.match(doctor, /1\. command: 1 latency spikes \(average \d+ms, mean deviation 0ms, period \d+\.\d\d sec\)\. Worst all time event \d+ms\./);
  assert.ok(doctor.startsWith('Latency spikes are observed in this Valkey instance.\n\n1. command: '), doctor);
  assert.ok(doctor.includes('\n\nHere is some advice for you:\n\n'), doctor);
  // slowlog-log-slower-than 10000 us is above the 5 ms threshold: the tuning advice, with the threshold in us.
  assert.ok(doctor.includes("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than 5000'.\n"), doctor);
  assert.ok(doctor.includes('- Check your Slow Log to understand what are the commands you are running which are too slow to execute.'), doctor);
  assert.ok(doctor.includes('- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation.'), doctor);
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
  const off = await call(c, 'LATENCY', 'DOCTOR');
  assert.ok(off.includes("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Valkey feature using the command 'CONFIG SET slowlog-log-slower-than 5000'."), off);
  assert.ok(!off.includes('Your current Slow Log configuration'), off);
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  assert.equal(await c.call('LATENCY', 'RESET', 'command', 'nothing'), ':1\r\n');
  assert.equal(await c.call('LATENCY', 'LATEST'), '*0\r\n');
  await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  // HISTOGRAM: calls and a cumulative distribution by powers of two.
  await c.call('CONFIG', 'RESETSTAT');
  for (let i = 0; i < 5; i++) await c.call('SET', 'h', 'v');
  await c.call('CONFIG', 'GET', 'port');
  const h = await call(c, 'LATENCY', 'HISTOGRAM', 'set', 'config', 'nosuch');
  assert.deepEqual(h.filter((_, i) => i % 2 === 0), ['set', 'config|get', 'config|resetstat']);
  const setH = h[1];
  assert.equal(setH[0], 'calls');
  assert.equal(setH[1], 5);
  assert.equal(setH[2], 'histogram_usec');
  const buckets = setH[3];
  assert.equal(buckets[buckets.length - 1], 5, 'cumulative count ends at calls');
  for (let i = 2; i < buckets.length; i += 2) assert.ok(buckets[i] > buckets[i - 2] && buckets[i + 1] > buckets[i - 1]);
  const all = await call(c, 'LATENCY', 'HISTOGRAM');
  assert.ok(all.includes('set') && all.includes('latency|histogram'));
  c.close();
});

test('MEMORY DOCTOR: Valkey\'s report on an empty instance, a healthy one and after a memory peak', async () => {
  const mem = await startVireo();
  const c = await RawConn.connect(mem.port);
  try {
    assert.equal(await call(c, 'MEMORY', 'DOCTOR'), "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n");
    const used = async () => Number(/used_memory:(\d+)/.exec(await call(c, 'INFO', 'memory'))[1]);
    // About 40 MB of strings, written in pipelined batches.
    const val = 'v'.repeat(400);
    for (let b = 0; b < 100; b++) {
      let frame = '';
      for (let i = 0; i < 1000; i++) frame += `*3\r\n$3\r\nSET\r\n$${String(b * 1000 + i).length + 1}\r\nk${b * 1000 + i}\r\n$400\r\n${val}\r\n`;
      c.write(frame);
      for (let i = 0; i < 1000; i++) assert.equal(await c.readReply(), '+OK\r\n');
    }
    const full = await call(c, 'MEMORY', 'DOCTOR');
    const header = 'Sam, I detected a few issues in this Valkey instance memory implants:\n\n';
    const footer = "I'm here to keep you safe, Sam. I want to help you.\n";
    assert.ok(full === "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n" || (full.startsWith(header) && full.endsWith(footer)), full);
    // Keep a fifth, collect the garbage: the peak is now far above what is used.
    const peak = await used();
    for (let b = 0; b < 80; b++) {
      const keys = [];
      for (let i = 0; i < 1000; i++) keys.push(`k${b * 1000 + i}`);
      assert.equal(await c.call('DEL', ...keys), ':1000\r\n');
    }
    assert.equal(await c.call('MEMORY', 'PURGE'), '+OK\r\n');
    const now = await used();
    assert.ok(now * 1.5 < peak, `used ${now} after the purge, peak ${peak}`);
    const after = await call(c, 'MEMORY', 'DOCTOR');
    assert.ok(after.startsWith(header + ' * Peak memory: In the past this instance used more than 150% the memory that is currently using.'), after);
    assert.ok(after.endsWith(footer), after);
  } finally {
    c.close();
    await mem.stop();
  }
});

test('MEMORY STATS: Valkey 8 fields in order, every redis-server 7.0 field, agreeing with INFO memory', async () => {
  const c = await RawConn.connect(srv.port);
  await c.call('SET', 'ms:a', '1');
  await c.call('SET', 'ms:b', '2', 'EX', '100');
  const flat = await call(c, 'MEMORY', 'STATS');
  const names = flat.filter((_, i) => i % 2 === 0);
  const stats = new Map(names.map((n, i) => [n, flat[2 * i + 1]]));
  const dbs = names.filter((n) => /^db\.\d+$/.test(n));
  assert.ok(dbs.includes('db.0'), JSON.stringify(names));
  assert.deepEqual(stats.get('db.0').filter((_, i) => i % 2 === 0), ['overhead.hashtable.main', 'overhead.hashtable.expires']);
  assert.deepEqual(names, [
    'peak.allocated', 'total.allocated', 'startup.allocated', 'replication.backlog', 'clients.slaves', 'clients.normal',
    'cluster.links', 'aof.buffer', 'lua.caches', 'functions.caches', ...dbs,
    'overhead.db.hashtable.lut', 'overhead.db.hashtable.rehashing', 'overhead.total', 'db.dict.rehashing.count',
    'keys.count', 'keys.bytes-per-key', 'dataset.bytes', 'dataset.percentage', 'peak.percentage',
    'allocator.allocated', 'allocator.active', 'allocator.resident', 'allocator.muzzy',
    'allocator-fragmentation.ratio', 'allocator-fragmentation.bytes', 'allocator-rss.ratio', 'allocator-rss.bytes',
    'rss-overhead.ratio', 'rss-overhead.bytes', 'fragmentation', 'fragmentation.bytes',
  ]);
  const infoText = await call(c, 'INFO', 'memory');
  const field = (n) => Number(new RegExp(`^${n}:(\\d+)`, 'm').exec(infoText)[1]);
  assert.equal(stats.get('startup.allocated'), field('used_memory_startup'));
  // Sampled a moment apart: the same measure, within a loose margin.
  const near = (a, b) => Math.abs(a - b) <= Math.max(a, b) * 0.5;
  assert.ok(near(stats.get('total.allocated'), field('used_memory')), `${stats.get('total.allocated')} vs ${field('used_memory')}`);
  assert.ok(near(stats.get('allocator.allocated'), field('allocator_allocated')), `${stats.get('allocator.allocated')} vs ${field('allocator_allocated')}`);
  assert.ok(near(stats.get('allocator.active'), field('allocator_active')));
  assert.ok(stats.get('keys.count') >= 2);
  assert.ok(stats.get('overhead.db.hashtable.lut') >= 16, 'bucket arrays of db 0 (main and expires)');
  if (haveRedis()) {
    const redis = await startRedis();
    const r = await RawConn.connect(redis.port);
    try {
      await r.call('SET', 'ms:a', '1');
      const rnames = (await call(r, 'MEMORY', 'STATS')).filter((_, i) => i % 2 === 0);
      for (const n of rnames) assert.ok(names.includes(n), `redis-server's MEMORY STATS field ${n} is missing`);
    } finally {
      r.close();
      await redis.stop();
    }
  }
  c.close();
});
