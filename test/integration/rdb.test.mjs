// RDB persistence on a running server: SAVE, LASTSAVE, BGSAVE (SCHEDULE,
// CANCEL), point-in-time snapshots under writes, save points, restart and
// kill -9 recovery, MISCONF, DEBUG RELOAD/DIGEST/OBJECT, corrupt files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { startVireo, ROOT, VIREO_BIN } from '../helpers/servers.mjs';
import { client, populate, fullDump } from '../interop/rdb-helpers.mjs';

const CHECK = join(ROOT, 'bin', 'vireo-check-rdb');

const made = [];
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'vireo-rdb-'));
  made.push(d);
  return d;
}
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function info(c, field) {
  const m = (await c.info('persistence')).match(new RegExp(`^${field}:(.*)\\r$`, 'm'));
  return m ? m[1] : undefined;
}

async function waitFor(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withServer(args, fn) {
  const s = await startVireo(['--enable-debug-command', 'yes', ...args]);
  const c = client(s.port);
  try {
    return await fn(c, s);
  } finally {
    c.disconnect();
    await s.stop();
  }
}

test('SAVE writes dump.rdb, LASTSAVE and INFO follow, restart loads it', async () => {
  const dir = tmp();
  let digest;
  await withServer(['--dir', dir], async (c) => {
    await populate(c, { big: 200 });
    assert.ok(Number(await info(c, 'rdb_changes_since_last_save')) > 0);
    const before = await c.lastsave();
    digest = await c.call('DEBUG', 'DIGEST');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await c.call('SAVE'), 'OK');
    assert.ok((await c.lastsave()) > before);
    assert.equal(await info(c, 'rdb_changes_since_last_save'), '0');
    assert.equal(await info(c, 'rdb_last_bgsave_status'), 'ok');
    assert.equal(await info(c, 'rdb_saves'), '1');
    assert.ok(existsSync(join(dir, 'dump.rdb')));
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
    assert.equal(readFileSync(join(dir, 'dump.rdb')).subarray(0, 9).toString(), 'REDIS0010');
  });
  await withServer(['--dir', dir], async (c) => {
    assert.equal(await c.call('DEBUG', 'DIGEST'), digest);
    assert.ok(Number(await info(c, 'rdb_last_load_keys_loaded')) > 20);
    assert.equal(await c.type('stream:s'), 'stream');
    assert.ok((await c.pttl('list:small')) > 7000000);
  });
  const chk = spawnSync(process.execPath, [CHECK, join(dir, 'dump.rdb')], { encoding: 'utf8' });
  assert.equal(chk.status, 0, chk.stdout);
  assert.match(chk.stdout, /RDB looks OK/);
  assert.match(chk.stdout, /Checksum OK/);
});

test('DEBUG RELOAD keeps the dataset; DEBUG OBJECT and DIGEST-VALUE', async () => {
  const dir = tmp();
  await withServer(['--dir', dir], async (c) => {
    await populate(c, { big: 200 });
    const d = await c.call('DEBUG', 'DIGEST');
    const dump = await fullDump(c);
    assert.equal(await c.call('DEBUG', 'RELOAD'), 'OK');
    assert.equal(await c.call('DEBUG', 'DIGEST'), d);
    assert.deepEqual(await fullDump(c), dump);
    const obj = await c.call('DEBUG', 'OBJECT', 'list:big');
    assert.match(obj, /^Value at:0x[0-9a-f]+ refcount:1 encoding:quicklist serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+ ql_nodes:\d+/);
    assert.match(await c.call('DEBUG', 'OBJECT', 'str:int'), /encoding:int serializedlength:3 /);
    await assert.rejects(c.call('DEBUG', 'OBJECT', 'nokey'), /ERR no such key/);
    const [a, b] = await c.call('DEBUG', 'DIGEST-VALUE', 'str:short', 'nokey');
    assert.match(a, /^[0-9a-f]{40}$/);
    assert.equal(b, '0'.repeat(40));
    await c.flushall();
    assert.equal(await c.call('DEBUG', 'DIGEST'), '0'.repeat(40));
  });
});

test('BGSAVE, BGSAVE SCHEDULE inside MULTI, BGSAVE CANCEL', async () => {
  const dir = tmp();
  await withServer(['--dir', dir], async (c) => {
    await populate(c, { big: 100 });
    await c.config('SET', 'rdb-key-save-delay', '100000');
    assert.equal(await c.bgsave(), 'Background saving started');
    assert.equal(await info(c, 'rdb_bgsave_in_progress'), '1');
    await assert.rejects(c.bgsave(), /Background save already in progress/);
    await assert.rejects(c.call('SAVE'), /Background save already in progress/);
    assert.ok(Number(await info(c, 'current_save_keys_total')) >= 20);
    assert.equal(await c.call('BGSAVE', 'CANCEL'), 'Background saving cancelled');
    assert.equal(await info(c, 'rdb_bgsave_in_progress'), '0');
    assert.equal(existsSync(join(dir, 'dump.rdb')), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
    await assert.rejects(c.call('BGSAVE', 'CANCEL'), /Background saving is currently not in progress or scheduled/);
    await assert.rejects(c.call('BGSAVE', 'FOO'), /syntax error/);
    // Inside MULTI the save is scheduled and starts from the cron.
    await c.config('SET', 'rdb-key-save-delay', '0');
    const res = await c.multi().bgsave().exec();
    assert.equal(res[0][1], 'Background saving scheduled');
    await waitFor(async () => (await info(c, 'rdb_saves')) === '1');
    assert.equal(await info(c, 'rdb_last_bgsave_status'), 'ok');
    assert.ok(existsSync(join(dir, 'dump.rdb')));
    assert.equal(await c.bgsave(), 'Background saving started');
    await waitFor(async () => (await info(c, 'rdb_bgsave_in_progress')) === '0');
    assert.equal(await info(c, 'rdb_saves'), '2');
  });
});

test('BGSAVE under a write load writes the point-in-time dataset', async () => {
  const dir = tmp();
  await withServer(['--dir', dir], async (c) => {
    await populate(c, { big: 200 });
    const p = c.pipeline();
    for (let i = 0; i < 1500; i++) p.set(`k:${i}`, `v${i}`);
    p.select(1);
    for (let i = 0; i < 300; i++) p.rpush(`l:${i}`, 'a', 'b');
    p.select(3);
    p.set('db3', 'x');
    p.select(0);
    await p.exec();
    const expected = await fullDump(c);
    const digest = await c.call('DEBUG', 'DIGEST');
    // Slow the save down (about 1 ms per key) so the writes below land during it.
    await c.config('SET', 'rdb-key-save-delay', '1000');
    assert.equal(await c.bgsave(), 'Background saving started');
    const w = c.pipeline();
    for (let i = 0; i < 1500; i += 3) w.set(`k:${i}`, 'changed');
    for (let i = 1; i < 1500; i += 7) w.del(`k:${i}`);
    for (let i = 0; i < 200; i++) w.set(`new:${i}`, 'n');
    w.rpush('list:big', 'more');
    w.hset('hash:big', 'field1', 'changed', 'newfield', 'x');
    w.zadd('zset:big', 1000, 'm0');
    w.xadd('stream:s', '*', 'f', 'later');
    w.rename('str:short', 'str:renamed');
    w.select(1);
    w.flushdb();
    w.set('after-flush', '1');
    w.select(0);
    w.swapdb(2, 3);
    w.move('str:int', 3);
    await w.exec();
    await c.config('SET', 'rdb-key-save-delay', '0');
    await waitFor(async () => (await info(c, 'rdb_bgsave_in_progress')) === '0', 30000);
    assert.equal(await info(c, 'rdb_last_bgsave_status'), 'ok');
    const afterDigest = await c.call('DEBUG', 'DIGEST');
    assert.notEqual(afterDigest, digest);
    // Load the file: the dataset as it was when BGSAVE started.
    assert.equal(await c.call('DEBUG', 'RELOAD', 'NOSAVE'), 'OK');
    assert.equal(await c.call('DEBUG', 'DIGEST'), digest);
    assert.deepEqual(await fullDump(c), expected);
  });
});

test('kill -9 after a completed BGSAVE restores the snapshot', async () => {
  const dir = tmp();
  let digest;
  const s = await startVireo(['--dir', dir, '--enable-debug-command', 'yes']);
  const c = client(s.port);
  try {
    await populate(c, { big: 100 });
    digest = await c.call('DEBUG', 'DIGEST');
    await c.bgsave();
    await waitFor(async () => (await info(c, 'rdb_saves')) === '1');
    await c.set('after-save', 'lost');
  } finally {
    c.disconnect();
    await s.stop('SIGKILL');
  }
  await withServer(['--dir', dir], async (c2) => {
    assert.equal(await c2.call('DEBUG', 'DIGEST'), digest);
    assert.equal(await c2.get('after-save'), null);
  });
});

test('save points start a BGSAVE; a failing save turns on MISCONF until a save succeeds', async () => {
  const dir = tmp();
  await withServer(['--dir', dir, '--save', '1 1', '--enable-protected-configs', 'yes'], async (c) => {
    assert.equal((await c.config('GET', 'save'))[1], '1 1');
    await c.set('a', '1');
    await waitFor(async () => (await info(c, 'rdb_saves')) === '1', 5000);
    assert.ok(existsSync(join(dir, 'dump.rdb')));
    // Make saving fail: the file name is taken by a directory, so the rename fails.
    mkdirSync(join(dir, 'blocked'));
    await c.config('SET', 'dbfilename', 'blocked');
    await assert.rejects(c.call('SAVE'), /^ReplyError: ERR$/);
    assert.equal(await info(c, 'rdb_last_bgsave_status'), 'err');
    await assert.rejects(c.set('b', '2'), /^ReplyError: MISCONF .*stop-writes-on-bgsave-error/);
    await assert.rejects(c.ping(), /MISCONF/);
    assert.equal(await c.get('a'), '1');
    await c.config('SET', 'stop-writes-on-bgsave-error', 'no');
    assert.equal(await c.set('b', '2'), 'OK');
    await c.config('SET', 'stop-writes-on-bgsave-error', 'yes');
    await assert.rejects(c.set('b', '3'), /MISCONF/);
    await assert.rejects(c.call('SHUTDOWN', 'SAVE'), /ERR Errors trying to SHUTDOWN. Check logs./);
    await c.config('SET', 'dbfilename', 'dump.rdb');
    assert.equal(await c.call('SAVE'), 'OK');
    assert.equal(await c.set('b', '3'), 'OK');
  });
});

test('SHUTDOWN saves when save points are set, NOSAVE does not; SIGTERM saves', async () => {
  const dir = tmp();
  const s = await startVireo(['--dir', dir, '--save', '3600 1']);
  const c = client(s.port);
  await c.set('k', 'v');
  await c.call('SHUTDOWN').catch(() => {});
  c.disconnect();
  if (s.proc.exitCode === null && s.proc.signalCode === null) await new Promise((r) => s.proc.once('exit', r));
  assert.ok(existsSync(join(dir, 'dump.rdb')));
  await withServer(['--dir', dir, '--save', '3600 1'], async (c2, s2) => {
    assert.equal(await c2.get('k'), 'v');
    await c2.set('k', 'v2');
    await s2.stop('SIGTERM');
  });
  await withServer(['--dir', dir], async (c3) => {
    assert.equal(await c3.get('k'), 'v2');
    await c3.set('k', 'v3');
    await c3.call('SHUTDOWN', 'NOSAVE').catch(() => {});
  });
  await withServer(['--dir', dir], async (c4) => {
    assert.equal(await c4.get('k'), 'v2');
  });
});

test('corrupt and truncated files are refused with a clear message and exit code 1', async () => {
  const dir = tmp();
  await withServer(['--dir', dir], async (c) => {
    await populate(c, { big: 50 });
    await c.call('SAVE');
  });
  const good = readFileSync(join(dir, 'dump.rdb'));
  const cases = {
    truncated: good.subarray(0, Math.floor(good.length / 2)),
    badsum: Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1] ^ 1])]),
    flipped: (() => {
      const b = Buffer.from(good);
      b[200] ^= 0xff;
      return b;
    })(),
    notrdb: Buffer.from('hello world, not an rdb file'),
  };
  for (const [name, data] of Object.entries(cases)) {
    const d = tmp();
    writeFileSync(join(d, 'dump.rdb'), data);
    const r = spawnSync(process.execPath, [VIREO_BIN, '--port', '0', '--dir', d], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /Fatal error loading the DB/, name);
    const chk = spawnSync(process.execPath, [CHECK, join(d, 'dump.rdb')], { encoding: 'utf8' });
    assert.equal(chk.status, 1, `${name}: ${chk.stdout}`);
    assert.match(chk.stdout, /RDB ERROR DETECTED/, name);
  }
});

test('a file loads in slices after listening: -LOADING and INFO loading_* meanwhile', async () => {
  const { Db } = await import('../../dist/src/keyspace/db.js');
  const { RdbSnapshot, BufferSink } = await import('../../dist/src/persistence/rdb/index.js');
  const dir = tmp();
  const dbs = Array.from({ length: 16 }, (_, i) => new Db(i));
  const N = 20000;
  for (let i = 0; i < N; i++) dbs[0].dict.set(`key:${i}`, `value:${i}`, 0);
  const sink = new BufferSink();
  new RdbSnapshot(dbs, sink, { aux: [], compress: true, checksum: true }).step(Infinity);
  writeFileSync(join(dir, 'dump.rdb'), sink.result());
  // key-load-delay (50 us a key: about 1 s for the file) keeps the load going
  // while the test looks, however fast or loaded the machine is.
  const s = await startVireo(['--dir', dir, '--key-load-delay', '50']);
  const { RawConn } = await import('../helpers/resp.mjs');
  const c = await RawConn.connect(s.port);
  try {
    c.send('PING');
    const first = await c.readBytes(1);
    const rest = await c.readBytes(first === '-' ? 49 : 6);
    assert.equal(first + rest, '-LOADING Valkey is loading the dataset in memory\r\n');
    c.send('INFO', 'persistence');
    const head = await c.readBytes(200);
    assert.match(head, /loading:1\r\n/);
    const cl = client(s.port);
    await waitFor(async () => (await cl.info('persistence').catch(() => '')).includes('loading:0'), 60000);
    assert.equal(await cl.dbsize(), N);
    assert.equal(await cl.get('key:123'), 'value:123');
    cl.disconnect();
  } finally {
    c.sock.destroy();
    await s.stop();
  }
});

test('DUMP / RESTORE options: REPLACE, ABSTTL, IDLETIME, FREQ, TTL and errors', async () => {
  await withServer([], async (c) => {
    await c.hset('h', 'f', 'v');
    const p = await c.dumpBuffer('h');
    assert.equal(await c.dumpBuffer('nokey'), null);
    await assert.rejects(c.call('RESTORE', 'h', 0, p), /BUSYKEY Target key name already exists./);
    assert.equal(await c.call('RESTORE', 'h', 0, p, 'REPLACE'), 'OK');
    assert.equal(await c.call('RESTORE', 'h2', 5000, p), 'OK');
    const ttl = await c.pttl('h2');
    assert.ok(ttl > 4000 && ttl <= 5000);
    const at = Date.now() + 100000;
    assert.equal(await c.call('RESTORE', 'h3', at, p, 'ABSTTL'), 'OK');
    assert.equal(Number(await c.call('PEXPIRETIME', 'h3')), at);
    // An absolute time in the past: nothing is created.
    assert.equal(await c.call('RESTORE', 'h4', 1000, p, 'ABSTTL'), 'OK');
    assert.equal(await c.exists('h4'), 0);
    assert.equal(await c.call('RESTORE', 'h5', 0, p, 'IDLETIME', 1000), 'OK');
    assert.ok((await c.object('IDLETIME', 'h5')) >= 1000);
    assert.equal(await c.call('RESTORE', 'h6', 0, p, 'FREQ', 100), 'OK');
    await assert.rejects(c.call('RESTORE', 'x', -1, p), /Invalid TTL value, must be >= 0/);
    await assert.rejects(c.call('RESTORE', 'x', 'abc', p), /value is not an integer or out of range/);
    await assert.rejects(c.call('RESTORE', 'x', 0, p, 'IDLETIME', -1), /Invalid IDLETIME value, must be >= 0/);
    await assert.rejects(c.call('RESTORE', 'x', 0, p, 'FREQ', 256), /Invalid FREQ value, must be >= 0 and <= 255/);
    await assert.rejects(c.call('RESTORE', 'x', 0, p, 'IDLETIME', 1, 'FREQ', 1), /syntax error/);
    await assert.rejects(c.call('RESTORE', 'x', 0, p, 'BOGUS'), /syntax error/);
    await assert.rejects(c.call('RESTORE', 'x', 0, Buffer.from('garbage')), /DUMP payload version or checksum are wrong/);
    assert.deepEqual(await c.hgetall('h6'), { f: 'v' });
  });
});

test('key idle time (LRU policy) and LFU counter (LFU policy) survive SAVE and restart', async () => {
  const dir = tmp();
  await withServer(['--dir', dir, '--maxmemory-policy', 'allkeys-lru'], async (c) => {
    await c.set('k', 'v');
    const p = await c.dumpBuffer('k');
    assert.equal(await c.call('RESTORE', 'old', 0, p, 'IDLETIME', 5000), 'OK');
    assert.equal(await c.call('SAVE'), 'OK');
  });
  await withServer(['--dir', dir, '--maxmemory-policy', 'allkeys-lru'], async (c) => {
    assert.ok((await c.object('IDLETIME', 'old')) >= 5000);
    assert.ok((await c.object('IDLETIME', 'k')) < 100);
  });
  await withServer(['--dir', dir, '--maxmemory-policy', 'allkeys-lfu'], async (c) => {
    const p = await c.dumpBuffer('k');
    assert.equal(await c.call('RESTORE', 'hot', 0, p, 'FREQ', 200), 'OK');
    assert.equal(await c.object('FREQ', 'hot'), 200);
    assert.equal(await c.call('SAVE'), 'OK');
  });
  await withServer(['--dir', dir, '--maxmemory-policy', 'allkeys-lfu'], async (c) => {
    assert.equal(await c.object('FREQ', 'hot'), 200);
  });
});

test('FLUSHALL stops a running BGSAVE and, with save points, saves the empty dataset', async () => {
  const dir = tmp();
  await withServer(['--dir', dir, '--save', '3600 1000'], async (c) => {
    await populate(c, { big: 50 });
    assert.equal(await c.call('SAVE'), 'OK');
    await c.config('SET', 'rdb-key-save-delay', '100000');
    assert.equal(await c.bgsave(), 'Background saving started');
    assert.equal(await c.flushall(), 'OK');
    assert.equal(await info(c, 'rdb_bgsave_in_progress'), '0');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
    assert.equal(await info(c, 'rdb_changes_since_last_save'), '1');
  });
  const chk = spawnSync(process.execPath, [CHECK, join(dir, 'dump.rdb')], { encoding: 'utf8' });
  assert.match(chk.stdout, /\[info\] 0 keys read/);
});

test('hash field expire times survive SAVE and restart (Valkey 9 format)', async () => {
  const dir = tmp();
  let ttl;
  await withServer(['--dir', dir], async (c) => {
    await c.hset('h', 'a', '1', 'b', '2', 'c', '3');
    assert.deepEqual(await c.call('HPEXPIRE', 'h', 500000, 'FIELDS', 1, 'b'), [1]);
    ttl = await c.call('HPEXPIRETIME', 'h', 'FIELDS', 2, 'a', 'b');
    assert.equal(await c.call('SAVE'), 'OK');
    assert.equal(readFileSync(join(dir, 'dump.rdb')).subarray(0, 9).toString(), 'VALKEY080');
  });
  await withServer(['--dir', dir], async (c) => {
    assert.deepEqual(await c.call('HPEXPIRETIME', 'h', 'FIELDS', 2, 'a', 'b'), ttl);
    assert.deepEqual(await c.hgetall('h'), { a: '1', b: '2', c: '3' });
  });
});
