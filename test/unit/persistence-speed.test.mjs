// The pieces that make loading and background saves cheaper (issue 6):
// KeyTable.reserve (RESIZEDB at load), LZF on a range of a scratch buffer (no
// views), and FdSink's background writes (the libuv pool writes chunks in
// order; errors, backlog, abort).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openSync, closeSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { KeyTable } from '../../dist/src/data/keytable.js';
import { lzfCompress, lzfDecompress } from '../../dist/src/persistence/rdb/lzf.js';
import { FdSink } from '../../dist/src/persistence/fdsink.js';
import { RdbSnapshot, BufferSink } from '../../dist/src/persistence/rdb/snapshot.js';
import { Db } from '../../dist/src/keyspace/db.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-pspeed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a reserved KeyTable behaves like a Map (fewer or more keys than reserved, deletes, iteration order)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 17, max: 400 }),
      fc.array(fc.record({ del: fc.boolean(), k: fc.integer({ min: 0, max: 500 }), v: fc.integer() }), { maxLength: 1500 }),
      (reserve, ops) => {
        const t = new KeyTable(reserve);
        t.reserve(reserve);
        const m = new Map();
        for (const o of ops) {
          const k = `k${o.k}`;
          if (o.del) assert.equal(t.delete(k), m.delete(k));
          else {
            t.set(k, o.v);
            m.set(k, o.v);
          }
        }
        assert.equal(t.size, m.size);
        for (const [k, v] of m) assert.equal(t.get(k), v);
        assert.deepEqual([...t.keys()], [...m.keys()]);
      },
    ),
    { numRuns: 200 },
  );
  // reserve() on a table that has entries changes nothing.
  const t = new KeyTable();
  t.set('a', 1);
  t.reserve(1000);
  t.set('b', 2);
  assert.deepEqual([...t.entries()], [['a', 1], ['b', 2]]);
});

test('LZF on a range of a buffer equals LZF on a copy of that range, and decompresses back', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.array(fc.oneof(fc.constantFrom('abc', 'xxxxxxxx', 'hello world '), fc.string({ maxLength: 12 })), { maxLength: 40 }),
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      (pre, parts, post) => {
        const body = Buffer.from(parts.join(''), 'latin1');
        const whole = Buffer.concat([pre, body, post]);
        const n = body.length;
        const outA = Buffer.alloc(Math.max(0, n - 4) + 64, 0xee);
        const outB = Buffer.alloc(Math.max(0, n - 4));
        const a = lzfCompress(whole, outA, pre.length, pre.length + n, Math.max(0, n - 4));
        const b = lzfCompress(Buffer.from(body), outB);
        assert.equal(a, b);
        if (a > 0) {
          assert.ok(a <= n - 4);
          assert.deepEqual(outA.subarray(0, a), outB.subarray(0, b));
          assert.deepEqual(lzfDecompress(outA.subarray(0, a), n), body);
        }
      },
    ),
    { numRuns: 500 },
  );
});

const waitIdle = (s) => new Promise((r) => s.whenIdle(r));

test('FdSink background writes: every chunk in order, backlog back to 0, incremental flushes', async () => {
  const p = join(dir, 'pool.bin');
  const fd = openSync(p, 'w');
  const s = new FdSink(fd, 'async', 256 * 1024, 'pool');
  const chunks = [];
  let seed = 7;
  for (let i = 0; i < 300; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const len = i % 50 === 0 ? 300 * 1024 : seed % 9000; // some chunks bigger than a pooled buffer, some empty
    const c = Buffer.alloc(len, i & 255);
    chunks.push(Buffer.from(c));
    s.write(c);
    c.fill(0); // the sink copied it: the caller may reuse its buffer at once
  }
  assert.ok(s.backlog > 0);
  await waitIdle(s);
  assert.equal(s.backlog, 0);
  assert.equal(s.error, null);
  assert.ok(s.syncs >= 1);
  closeSync(fd);
  assert.deepEqual(readFileSync(p), Buffer.concat(chunks));
});

test('FdSink background writes: a failing write is kept in `error`, later chunks are dropped, whenIdle still runs', async () => {
  const p = join(dir, 'ro.bin');
  writeFileSync(p, '');
  const fd = openSync(p, 'r'); // writes fail with EBADF
  const s = new FdSink(fd, 'off', undefined, 'pool');
  for (let i = 0; i < 10; i++) s.write(Buffer.alloc(1000, 1));
  await waitIdle(s);
  assert.ok(s.error instanceof Error);
  assert.equal(s.backlog, 0);
  s.write(Buffer.alloc(10));
  assert.equal(s.backlog, 0);
  await waitIdle(s);
  closeSync(fd);
});

test('FdSink background writes: abort() drops what is queued and ignores later chunks', async () => {
  const p = join(dir, 'abort.bin');
  const fd = openSync(p, 'w');
  const s = new FdSink(fd, 'off', undefined, 'pool');
  for (let i = 0; i < 50; i++) s.write(Buffer.alloc(64 * 1024, 2));
  s.abort();
  s.write(Buffer.alloc(1000, 3));
  await waitIdle(s);
  assert.equal(s.backlog, 0);
  closeSync(fd);
  const size = readFileSync(p).length;
  assert.ok(size % (64 * 1024) === 0 && size < 50 * 64 * 1024, `${size} bytes written`);
});

test('a snapshot through background writes is byte-identical to one in memory', async () => {
  const dbs = [new Db(0), new Db(1)];
  for (let i = 0; i < 20000; i++) dbs[i % 2].dict.set(`key:${i}`, i % 3 === 0 ? i : `value-${i}-${'z'.repeat(i % 40)}`, 0);
  dbs[1].expires.set('key:1', Date.now() + 100000);
  const opts = { aux: [['redis-ver', '7.2.4']], compress: true, checksum: true, functions: [] };
  const mem = new BufferSink();
  new RdbSnapshot(dbs, mem, opts).step(Infinity);
  const p = join(dir, 'snap.rdb');
  const fd = openSync(p, 'w');
  const sink = new FdSink(fd, 'async', 64 * 1024, 'pool');
  const snap = new RdbSnapshot(dbs, sink, opts);
  while (!snap.step(0.2)) await new Promise((r) => setImmediate(r));
  await waitIdle(sink);
  closeSync(fd);
  assert.equal(sink.error, null);
  assert.deepEqual(readFileSync(p), mem.result());
});

test("a big file's CRC-64 from a worker: equal to the inline one, and a corrupt byte is still refused", async () => {
  const { readFileShared, crcInWorker, PARALLEL_CRC_MIN } = await import('../../dist/src/persistence/rdb/crc-parallel.js');
  const { crc64 } = await import('../../dist/src/persistence/rdb/crc64.js');
  const { RdbLoader } = await import('../../dist/src/persistence/rdb/file.js');
  const { DEFAULT_LOAD_LIMITS } = await import('../../dist/src/persistence/rdb/decoder.js');
  const db = new Db(0);
  for (let i = 0; i < 160000; i++) db.dict.set(`key:${i}`, `value-${i}-${'q'.repeat(40)}-${i % 977}`, 0);
  const mem = new BufferSink();
  new RdbSnapshot([db], mem, { aux: [], compress: false, checksum: true, functions: [] }).step(Infinity);
  const file = mem.result();
  assert.ok(file.length > PARALLEL_CRC_MIN, `${file.length} bytes`);
  const p = join(dir, 'big.rdb');
  writeFileSync(p, file);
  const load = async (buf, waitForWorker) => {
    const par = crcInWorker(buf, 0, buf.length - 8);
    assert.ok(par !== null, 'a worker started');
    if (waitForWorker) {
      // The loader then takes the worker's checksum.
      const deadline = Date.now() + 60000;
      while (!par.ready) {
        assert.ok(Date.now() < deadline, 'the worker answers');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    let keys = 0;
    const l = new RdbLoader(buf, { dbCount: 16, add: () => keys++ }, { limits: DEFAULT_LOAD_LIMITS, checksum: true, parallelCrc: par });
    while (!l.step(5)) await new Promise((r) => setTimeout(r, 1));
    return keys;
  };
  const shared = readFileShared(p);
  assert.ok(shared.buffer instanceof SharedArrayBuffer);
  const par = crcInWorker(shared, 0, shared.length - 8);
  while (!par.ready) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(par.take().digestLE(), crc64(file, 0, file.length - 8).digestLE());
  assert.equal(await load(readFileShared(p), true), 160000);
  assert.equal(await load(readFileShared(p), false), 160000);
  const bad = Buffer.from(file);
  bad[bad.indexOf('value-80000-') + 3] ^= 1;
  writeFileSync(p, bad);
  await assert.rejects(load(readFileShared(p), true), /checksum/);
  await assert.rejects(load(readFileShared(p), false), /checksum/);
});
