// maxmemory and eviction: each of the eight maxmemory-policy values under a
// short write burst at `maxmemory 50mb` (bounded abuse test): the server keeps
// answering PING, used_memory stays near the limit, and the right keys go
// (volatile-* only keys with a TTL, volatile-ttl the nearest expire times,
// LRU the least recently used, LFU the least frequently used, noeviction
// answers -OOM). Also: evicted keyspace events, tracking invalidation of
// evicted keys, OBJECT FREQ under LFU, INFO evicted_keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const LIMIT = 50 * 1024 * 1024;
let srv;
before(async () => {
  srv = await startVireo(['--maxmemory', '50mb']);
});
after(async () => {
  await srv.stop();
});

/** Sends `n` commands built by make(i) in pipelined batches; returns the one-line replies, counted by kind. */
async function burst(port, n, make) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const counts = { ok: 0, oom: 0, other: [] };
  let pending = '';
  let got = 0;
  let waiter = null;
  sock.on('data', (d) => {
    pending += d.toString('latin1');
    let nl;
    while ((nl = pending.indexOf('\r\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 2);
      got++;
      if (line === '+OK') counts.ok++;
      else if (line === "-OOM command not allowed when used memory > 'maxmemory'.") counts.oom++;
      else counts.other.push(line);
    }
    if (waiter && got >= waiter.n) waiter.r();
  });
  const BATCH = 500;
  for (let i = 0; i < n; i += BATCH) {
    let out = '';
    const m = Math.min(BATCH, n - i);
    for (let j = 0; j < m; j++) {
      const argv = make(i + j);
      out += `*${argv.length}\r\n`;
      for (const a of argv) out += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
    }
    sock.write(out, 'latin1');
    await new Promise((r) => {
      waiter = { n: i + m, r };
      if (got >= i + m) r();
    });
  }
  sock.destroy();
  return counts;
}

function infoField(text, name) {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(text.replace(/\r/g, ''));
  return m ? m[1] : undefined;
}

async function info(c, section) {
  const r = await c.call('INFO', section);
  return r.slice(r.indexOf('\r\n') + 2);
}

async function countKeys(c, pattern) {
  let cursor = '0';
  let n = 0;
  do {
    const r = await c.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', '10000');
    const lines = r.split('\r\n');
    cursor = lines[2];
    n += Number(lines[3].slice(1));
  } while (cursor !== '0');
  return n;
}

const VAL = 'v'.repeat(200);

async function fresh(policy) {
  const c = await RawConn.connect(srv.port);
  assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '50mb'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory-policy', policy), '+OK\r\n');
  return c;
}

/**
 * The server's memory and eviction state, for failure messages: a failed bound
 * then says whether the meter read too much (used_memory near the limit with
 * few keys), eviction ran away (evicted_keys), or memory really grew (rss).
 */
async function memState(c) {
  const mem = await info(c, 'memory');
  const stats = await info(c, 'stats');
  const dbsize = Number((await c.call('DBSIZE')).slice(1));
  const s = {
    dbsize,
    used_memory: Number(infoField(mem, 'used_memory')),
    maxmemory: Number(infoField(mem, 'maxmemory')),
    used_memory_rss: Number(infoField(mem, 'used_memory_rss')),
    used_memory_peak: Number(infoField(mem, 'used_memory_peak')),
    evicted_keys: Number(infoField(stats, 'evicted_keys')),
    total_eviction_exceeded_time: Number(infoField(stats, 'total_eviction_exceeded_time')),
    current_eviction_exceeded_time: Number(infoField(stats, 'current_eviction_exceeded_time')),
  };
  return JSON.stringify(s);
}

/** After a burst: the server answers, used memory is near the limit, eviction happened. */
async function checkBounded(c, policy) {
  assert.equal(await c.call('PING'), '+PONG\r\n');
  const mem = await info(c, 'memory');
  const used = Number(infoField(mem, 'used_memory'));
  const rss = Number(infoField(mem, 'used_memory_rss'));
  assert.equal(infoField(mem, 'maxmemory_policy'), policy);
  assert.ok(used <= LIMIT * 1.25, `${policy}: used_memory ${used} too far over ${LIMIT}; ${await memState(c)}`);
  assert.ok(rss < 600 * 1024 * 1024, `${policy}: rss ${rss}; ${await memState(c)}`);
  const evicted = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  assert.ok(evicted > 0, `${policy}: evicted_keys ${evicted}; ${await memState(c)}`);
  return evicted;
}

test('CONFIG SET maxmemory-policy accepts the eight policies; tuning directives exist', async () => {
  const c = await RawConn.connect(srv.port);
  for (const p of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']) {
    assert.equal(await c.call('CONFIG', 'SET', 'maxmemory-policy', p), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'maxmemory-policy'), `*2\r\n$16\r\nmaxmemory-policy\r\n$${p.length}\r\n${p}\r\n`);
  }
  assert.match(await c.call('CONFIG', 'SET', 'maxmemory-policy', 'lru'), /^-ERR CONFIG SET failed/);
  assert.equal(await c.call('CONFIG', 'GET', 'maxmemory-samples'), '*2\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'lfu-log-factor'), '*2\r\n$14\r\nlfu-log-factor\r\n$2\r\n10\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'lfu-decay-time'), '*2\r\n$14\r\nlfu-decay-time\r\n$1\r\n1\r\n');
  assert.match(await c.call('CONFIG', 'SET', 'maxmemory-samples', '0'), /^-ERR CONFIG SET failed/);
  c.close();
});

test('noeviction: -OOM for denyoom commands once full; reads, DEL and PING still work', async () => {
  const c = await fresh('noeviction');
  const r = await burst(srv.port, 250000, (i) => ["SET", `k:${i}`, VAL]);
  assert.ok(r.ok > 1000 && r.oom > 0, JSON.stringify({ ok: r.ok, oom: r.oom }));
  assert.deepEqual(r.other, []);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('SET', 'another', 'x'), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  assert.equal(await c.call('GET', 'k:0'), `$200\r\n${VAL}\r\n`);
  assert.equal(await c.call('DEL', 'k:0'), ':1\r\n');
  // MULTI with a denyoom command: EXEC is refused as a whole.
  assert.equal(await c.call('MULTI'), '+OK\r\n');
  assert.equal(await c.call('SET', 'in-multi', 'x'), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  assert.equal(await c.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
  assert.equal(Number(infoField(await info(c, 'stats'), 'evicted_keys')), 0);
  const used = Number(infoField(await info(c, 'memory'), 'used_memory'));
  assert.ok(used <= LIMIT * 1.25, `used_memory ${used}`);
  assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
  c.close();
});

for (const policy of ['allkeys-random', 'allkeys-lru', 'allkeys-lfu']) {
  test(`${policy}: a write burst stays bounded and keeps every write accepted`, async () => {
    const c = await fresh(policy);
    const r = await burst(srv.port, 250000, (i) => ["SET", `k:${i}`, VAL]);
    assert.equal(r.oom, 0);
    assert.deepEqual(r.other, []);
    await checkBounded(c, policy);
    const keys = Number((await c.call('DBSIZE')).slice(1));
    assert.ok(keys > 20000 && keys < 250000, `keys ${keys}; ${await memState(c)}`);
    c.close();
  });
}

test('the keys a FLUSHALL dropped are garbage, not data: writes after it evict nothing', async () => {
  const c = await fresh('allkeys-random');
  await burst(srv.port, 150000, (i) => ['SET', `k:${i}`, VAL]);
  await checkBounded(c, 'allkeys-random');
  assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
  const before = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  // 20k keys (~8 MB): far under the limit once the flushed keys are collected.
  const r = await burst(srv.port, 20000, (i) => ['SET', `n:${i}`, VAL]);
  assert.equal(r.ok, 20000);
  const after = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  assert.equal(after, before, `evicted after FLUSHALL: ${after - before}; ${await memState(c)}`);
  assert.equal(await c.call('DBSIZE'), ':20000\r\n');
  c.close();
});

for (const policy of ['volatile-random', 'volatile-lru', 'volatile-lfu', 'volatile-ttl']) {
  test(`${policy}: only keys with a TTL are evicted`, async () => {
    const c = await fresh(policy);
    // 5000 persistent keys, then a burst of keys with a TTL.
    const p = await burst(srv.port, 5000, (i) => ['SET', `p:${i}`, VAL]);
    assert.equal(p.ok, 5000);
    const r = await burst(srv.port, 250000, (i) => ['SET', `t:${i}`, VAL, 'EX', String(100000 + i)]);
    assert.equal(r.oom, 0);
    assert.deepEqual(r.other, []);
    await checkBounded(c, policy);
    assert.equal(await countKeys(c, 'p:*'), 5000);
    const left = await countKeys(c, 't:*');
    assert.ok(left > 10000 && left < 250000, `ttl keys left ${left}; ${await memState(c)}`);
    if (policy === 'volatile-ttl') {
      // The nearest expire times went first: the later half of the burst (longer TTLs) is mostly there.
      let early = 0;
      let late = 0;
      for (let i = 0; i < 2000; i++) {
        const a = Math.floor(Math.random() * 125000);
        if ((await c.call('EXISTS', `t:${a}`)) === ':1\r\n') early++;
        if ((await c.call('EXISTS', `t:${a + 125000}`)) === ':1\r\n') late++;
      }
      assert.ok(late > early * 2, `volatile-ttl: early ${early} late ${late}`);
    }
    // With no volatile key left to evict, writes are refused.
    assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1mb'), '+OK\r\n');
    // Eviction goes on in the background (writes are accepted meanwhile, as in
    // Valkey): ~100k keys and a full GC every few MB take seconds on a loaded
    // machine, so wait for the OOM with a generous deadline.
    let reply = '';
    const deadline = Date.now() + 90000;
    while (reply !== "-OOM command not allowed when used memory > 'maxmemory'.\r\n" && Date.now() < deadline) {
      reply = await c.call('SET', 'p:new', 'x');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(reply, "-OOM command not allowed when used memory > 'maxmemory'.\r\n", await memState(c));
    await c.call('DEL', 'p:new');
    assert.equal(await countKeys(c, 't:*'), 0);
    assert.equal(await countKeys(c, 'p:*'), 5000);
    assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '50mb'), '+OK\r\n');
    c.close();
  });
}

test('allkeys-lru keeps recently used keys; allkeys-lfu keeps frequently used keys', async () => {
  for (const policy of ['allkeys-lru', 'allkeys-lfu']) {
    const c = await fresh(policy);
    await burst(srv.port, 4000, (i) => ['SET', `old:${i}`, VAL]);
    if (policy === 'allkeys-lru') await new Promise((r) => setTimeout(r, 2200)); // LRU clock: seconds
    // Touch half of them (LFU: many times).
    const touches = policy === 'allkeys-lfu' ? 30 : 1;
    for (let t = 0; t < touches; t++) {
      const g = await burst(srv.port, 2000, (i) => ['SET', `old:${i * 2}`, VAL, 'KEEPTTL']);
      assert.equal(g.ok, 2000);
    }
    if (policy === 'allkeys-lfu') {
      const f = Number((await c.call('OBJECT', 'FREQ', 'old:0')).slice(1));
      const f1 = Number((await c.call('OBJECT', 'FREQ', 'old:1')).slice(1));
      assert.ok(f > f1, `freq touched ${f} untouched ${f1}`);
      assert.equal(f1, 5); // LFU_INIT_VAL for a key written once
    }
    // Keep using the hot keys during the burst. The LRU clock ticks once a second, and a fast server writes the
    // burst in less than that: a hot key touched in the same tick as a new key is exactly as old to LRU. So (LRU)
    // the burst runs in 5 rounds more than a tick apart, touching every hot key in each round: they stay at least
    // as recent as the newest keys, and the keys of earlier rounds are older.
    const t0 = Date.now();
    for (let round = 0; round < 5; round++) {
      if (round > 0 && policy === 'allkeys-lru') await new Promise((r) => setTimeout(r, 1100));
      await burst(srv.port, 50000, (i) => (i % 10 === 0 ? ['SET', `old:${((i / 10) % 2000) * 2}`, VAL, 'KEEPTTL'] : ['SET', `new:${round}:${i}`, VAL]));
    }
    const burstMs = Date.now() - t0;
    await checkBounded(c, policy);
    let hot = 0;
    let cold = 0;
    for (let i = 0; i < 2000; i++) {
      if ((await c.call('EXISTS', `old:${i * 2}`)) === ':1\r\n') hot++;
      if ((await c.call('EXISTS', `old:${i * 2 + 1}`)) === ':1\r\n') cold++;
    }
    // LRU: the cold keys are the oldest, they go first (sampling, with a clock of
    // one second, lets a few hot keys go too). LFU: the hot keys have high counters
    // and stay; cold keys count as much as the new ones (LFU_INIT_VAL), so they go
    // at random like those.
    if (policy === 'allkeys-lru') {
      assert.ok(hot >= 1800 && cold < 200, `allkeys-lru: hot kept ${hot}, cold kept ${cold}, burst ${burstMs} ms; ${await memState(c)}`);
    } else {
      assert.ok(hot >= 1990 && hot > cold, `allkeys-lfu: hot kept ${hot}, cold kept ${cold}, burst ${burstMs} ms; ${await memState(c)}`);
    }
    c.close();
  }
});

test('eviction runs before every command, reads too; under OOM only denyoom and MULTI-queued commands are refused', async () => {
  const c = await fresh('allkeys-random');
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '0'), '+OK\r\n');
  // The previous tests' keys are garbage until a full GC: collect them, so the base is data only.
  assert.equal(await c.call('MEMORY', 'PURGE'), '+OK\r\n');
  const base = Number(infoField(await info(c, 'memory'), 'used_memory'));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', String(base + 8 * 1024 * 1024)), '+OK\r\n');
  // One allow-oom script writes 20 MB: nothing is evicted while a command runs, so the limit is left behind.
  const script = "#!lua flags=allow-oom\nfor i = 1, 40 do redis.call('SET', 'big:' .. i, string.rep('x', 512000)) end\nreturn 1";
  const before = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  assert.equal(await c.call('EVAL', script, '0'), ':1\r\n');
  // The next command, a read (not denyoom), evicts down to the limit before it runs.
  const keys = Number((await c.call('DBSIZE')).slice(1));
  const after = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  assert.ok(keys < 40 && after > before, `dbsize ${keys}, evicted_keys ${before} -> ${after}; ${await memState(c)}`);
  // noeviction over the limit: reads run, but in MULTI every queued command is refused (not EXEC/DISCARD).
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1mb'), '+OK\r\n');
  assert.equal(await c.call('GET', 'missing'), '$-1\r\n');
  assert.equal(await c.call('MULTI'), '+OK\r\n');
  assert.equal(await c.call('GET', 'missing'), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  assert.equal(await c.call('PING'), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  assert.equal(await c.call('DISCARD'), '+OK\r\n');
  assert.equal(await c.call('MULTI'), '+OK\r\n');
  assert.equal(await c.call('EXEC'), '*0\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '50mb'), '+OK\r\n');
  assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
  c.close();
});

test('OBJECT FREQ needs an LFU policy; OBJECT IDLETIME refuses under one', async () => {
  const c = await fresh('allkeys-lru');
  await c.call('SET', 'f', '1');
  assert.match(await c.call('OBJECT', 'FREQ', 'f'), /^-ERR An LFU maxmemory policy is not selected/);
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'), '+OK\r\n');
  await c.call('SET', 'g', '1');
  assert.equal(await c.call('OBJECT', 'FREQ', 'g'), ':5\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'lfu-log-factor', '0'), '+OK\r\n');
  for (let i = 0; i < 10; i++) await c.call('GET', 'g');
  assert.equal(await c.call('OBJECT', 'FREQ', 'g'), ':15\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'lfu-log-factor', '10'), '+OK\r\n');
  assert.match(await c.call('OBJECT', 'IDLETIME', 'g'), /^-ERR An LFU maxmemory policy is selected/);
  c.close();
});

test('evicted keys: keyspace event, tracking invalidation, evicted_keys', async () => {
  const c = await fresh('allkeys-random');
  await c.call('CONFIG', 'SET', 'maxmemory', '0');
  await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'Ee');
  const sub = await RawConn.connect(srv.port);
  assert.match(await sub.call('SUBSCRIBE', '__keyevent@0__:evicted'), /subscribe/);
  const tr = await RawConn.connect(srv.port);
  assert.match(await tr.call('HELLO', '3'), /^%/);
  assert.equal(await tr.call('CLIENT', 'TRACKING', 'on'), '+OK\r\n');
  await c.call('SET', 'watched', 'x');
  assert.equal(await tr.call('GET', 'watched'), '$1\r\nx\r\n');
  const before = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  // A limit below what the server needs evicts every key at the next write.
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1mb'), '+OK\r\n');
  await c.call('SET', 'trigger', 'x');
  assert.equal(await c.call('EXISTS', 'watched'), ':0\r\n');
  assert.equal(await sub.readReply(), '*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$7\r\nwatched\r\n');
  assert.equal(await tr.readReply(), '>2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nwatched\r\n');
  const afterN = Number(infoField(await info(c, 'stats'), 'evicted_keys'));
  assert.ok(afterN >= before + 1);
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '50mb'), '+OK\r\n');
  await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
  assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
  assert.equal(infoField(await info(c, 'stats'), 'evicted_keys'), '0');
  sub.close();
  tr.close();
  c.close();
});

test('a maxmemory beyond the V8 heap limit makes the CLI run the server with a larger heap', async () => {
  const { readFileSync } = await import('node:fs');
  const v8 = await import('node:v8');
  // maxmemory large enough that 2 x maxmemory + 256 MB exceeds this node's default heap limit.
  const limitMb = Math.ceil(v8.getHeapStatistics().heap_size_limit / 1048576);
  const maxmb = limitMb; // needs 2 * limit + 256 MB
  const big = await startVireo(['--maxmemory', `${maxmb}mb`]);
  try {
    const c = await RawConn.connect(big.port);
    const pid = Number(/process_id:(\d+)/.exec(await c.call('INFO', 'server'))[1]);
    assert.notEqual(pid, big.proc.pid, 'the server runs in a child process');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    assert.ok(cmdline.includes(`--max-old-space-size=${maxmb * 2 + 256}`), cmdline.join(' '));
    assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), `*2\r\n$9\r\nmaxmemory\r\n$${String(maxmb * 1048576).length}\r\n${maxmb * 1048576}\r\n`);
    c.close();
  } finally {
    await big.stop();
  }
  // SIGTERM reached the child through the parent: nothing is left listening.
  await assert.rejects(RawConn.connect(big.port));
});

test('evictions reach the AOF as UNLINK (DEL with lazyfree-lazy-eviction no)', async () => {
  const { mkdtempSync, readdirSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'vireo-evict-aof-'));
  const s = await startVireo(['--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'allkeys-random']);
  try {
    const c = await RawConn.connect(s.port);
    assert.equal(await c.call('SET', 'victim1', 'x'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1mb'), '+OK\r\n');
    await c.call('SET', 'trigger', 'x');
    assert.equal(await c.call('EXISTS', 'victim1'), ':0\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '0'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'lazyfree-lazy-eviction', 'no'), '+OK\r\n');
    assert.equal(await c.call('SET', 'victim2', 'x'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1mb'), '+OK\r\n');
    await c.call('SET', 'trigger2', 'x');
    assert.equal(await c.call('EXISTS', 'victim2'), ':0\r\n');
    c.close();
    const adir = join(dir, 'appendonlydir');
    const incr = readdirSync(adir).filter((f) => f.endsWith('.incr.aof'));
    const text = incr.map((f) => readFileSync(join(adir, f), 'latin1')).join('');
    assert.ok(text.includes('*2\r\n$6\r\nUNLINK\r\n$7\r\nvictim1\r\n'), text);
    assert.ok(text.includes('*2\r\n$3\r\nDEL\r\n$7\r\nvictim2\r\n'), text);
  } finally {
    await s.stop();
  }
});
