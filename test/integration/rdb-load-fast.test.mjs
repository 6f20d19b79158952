// The start-up loader's fast paths (issue 6): strings decoded straight from the
// file buffer (short ones without latin1Slice), blobs parsed in place, 64-bit
// lengths / expire times / listpack and intset integers without BigInt when they
// fit, listpack zsets taken in stored order (with the general path for files
// whose order or members are wrong), the word-wise CRC-64 on unaligned views,
// and RESIZEDB presizing the keyspace of a real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc64, ListpackWriter, deserializeValue, loadRdb, DEFAULT_LOAD_LIMITS, RdbError } from '../../dist/src/persistence/rdb/index.js';
import { latin1 } from '../../dist/src/persistence/rdb/decoder.js';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

/** Bit-by-bit CRC-64 Jones (reflected), the reference for the table-driven one. */
function crcRef(b) {
  const poly = 0x95ac9329ac4bc9b5n;
  let c = 0n;
  for (const x of b) {
    c ^= BigInt(x);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
  }
  return c;
}

test('CRC-64 over unaligned views and odd splits equals the bitwise reference', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(7), fc.nat(300), (raw, off, cut) => {
      const big = Buffer.alloc(raw.length + 8);
      big.set(raw, off);
      const view = big.subarray(off, off + raw.length);
      const want = crcRef(raw);
      assert.equal(crc64(view).value(), want);
      const c = Math.min(cut, raw.length);
      assert.equal(crc64(view, 0, c).update(view, c).value(), want);
    }),
    { numRuns: 300 },
  );
});

test('latin1() equals latin1Slice for every short length and byte value', () => {
  const b = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 151 + 7) & 255));
  for (let s = 0; s < 40; s++) for (let n = 0; n <= 40; n++) assert.equal(latin1(b, s, s + n), b.latin1Slice(s, s + n));
});

/** A DUMP payload (type, body, RDB version 10, zero CRC: not checked here). */
function payload(type, body) {
  return Buffer.concat([Buffer.from([type]), body, Buffer.from([10, 0]), Buffer.alloc(8)]);
}
/** An RDB string object holding `b` (6-bit or 14-bit length, or the 64-bit form when wide). */
function rdbStr(b, wide = false) {
  if (wide) {
    const h = Buffer.alloc(9);
    h[0] = 0x81;
    h.writeBigUInt64BE(BigInt(b.length), 1);
    return Buffer.concat([h, b]);
  }
  if (b.length < 64) return Buffer.concat([Buffer.from([b.length]), b]);
  return Buffer.concat([Buffer.from([0x40 | (b.length >> 8), b.length & 255]), b]);
}
function lp(items) {
  const w = new ListpackWriter();
  w.begin();
  for (const s of items) w.str(s);
  return Buffer.from(w.finishBuffer());
}
const zsetItems = (z) => {
  const out = [];
  z.walk(0, z.size, false, (m, s) => out.push(m, s));
  return out;
};

test('listpack zsets: stored order taken as is, disorder sorted, duplicates and NaN refused', () => {
  const ordered = deserializeValue(payload(17, rdbStr(lp(['a', '1', 'b', '1', 'c', '2.5', 'x', '9223372036854775807']))), DEFAULT_LOAD_LIMITS);
  assert.deepEqual(zsetItems(ordered), ['a', 1, 'b', 1, 'c', 2.5, 'x', 9223372036854775807]);
  assert.equal(ordered.encoding(), 'listpack');
  const shuffled = deserializeValue(payload(17, rdbStr(lp(['c', '2.5', 'b', '1', 'a', '1']))), DEFAULT_LOAD_LIMITS);
  assert.deepEqual(zsetItems(shuffled), ['a', 1, 'b', 1, 'c', 2.5]);
  // the same member twice, in increasing (score, member) order: still refused
  assert.throws(() => deserializeValue(payload(17, rdbStr(lp(['a', '1', 'b', '2', 'a', '3']))), DEFAULT_LOAD_LIMITS), /Duplicate zset/);
  const many = [];
  for (let i = 0; i < 40; i++) many.push(`m${String(i).padStart(2, '0')}`, String(i));
  many.push('m05', '99');
  assert.throws(() => deserializeValue(payload(17, rdbStr(lp(many))), DEFAULT_LOAD_LIMITS), /Duplicate zset/);
  assert.throws(() => deserializeValue(payload(17, rdbStr(lp(['a', 'nan']))), DEFAULT_LOAD_LIMITS), RdbError);
  // over the entry limit: a skiplist, still in order
  const big = [];
  for (let i = 0; i < 200; i++) big.push(`k${i}`, String(i));
  const z = deserializeValue(payload(17, rdbStr(lp(big))), DEFAULT_LOAD_LIMITS);
  assert.equal(z.encoding(), 'skiplist');
  assert.deepEqual(z.at(150), ['k150', 150]);
});

test('intsets with 64-bit members beyond 2^53 and blobs with 64-bit lengths', () => {
  const members = [-(2n ** 63n), -(2n ** 53n) - 1n, -5n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n];
  const is = Buffer.alloc(8 + 8 * members.length);
  is.writeUInt32LE(8, 0);
  is.writeUInt32LE(members.length, 4);
  members.forEach((m, i) => is.writeBigInt64LE(m, 8 + 8 * i));
  for (const wide of [false, true]) {
    const s = deserializeValue(payload(11, rdbStr(is, wide)), DEFAULT_LOAD_LIMITS);
    const got = [];
    for (let it = s.keys(), r = it.next(); !r.done; r = it.next()) got.push(r.value);
    assert.deepEqual(got.sort(), members.map(String).sort());
    const l = deserializeValue(payload(18, Buffer.concat([Buffer.from([1, 2]), rdbStr(lp(['p', '-9007199254740993', 'q']), wide)])), DEFAULT_LOAD_LIMITS);
    assert.deepEqual(l.range(0, l.length - 1), ['p', '-9007199254740993', 'q']);
  }
  // a listpack whose last string entry claims bytes past the blob is refused, not read from the file beyond
  const bad = lp(['abc']);
  bad[7] = 0x80 | 20;
  assert.throws(() => deserializeValue(payload(17, Buffer.concat([rdbStr(bad), Buffer.alloc(40, 0x41)])), DEFAULT_LOAD_LIMITS), RdbError);
});

/** An RDB file: header, the given records, EOF, zero checksum (not verified). */
function rdbFile(...records) {
  return Buffer.concat([Buffer.from('REDIS0010'), ...records, Buffer.from([0xff]), Buffer.alloc(8)]);
}
const ms = (v) => {
  const b = Buffer.alloc(9);
  b[0] = 0xfc;
  b.writeBigInt64LE(BigInt(v), 1);
  return b;
};
const kv = (k, v) => Buffer.concat([Buffer.from([0]), rdbStr(Buffer.from(k)), v]);

test('expire times: numbers when exact, BigInt beyond 2^53, negative ones kept; integer strings as numbers', () => {
  const got = [];
  const res = loadRdb(
    rdbFile(
      ms(1700000000123), kv('a', rdbStr(Buffer.from('x'))),
      ms(-1000), kv('b', Buffer.from([0xc0, 0xfb])),
      ms(2n ** 53n + 1n), kv('c', Buffer.from([0xc1, 0x39, 0x30])),
      ms(-(2n ** 62n)), kv('d', Buffer.from([0xc2, 0xff, 0xff, 0xff, 0x7f])),
      ms(2n ** 53n - 1n), kv('e', rdbStr(Buffer.from('12345678901234567'))),
      kv('f', rdbStr(Buffer.from('0123'))),
    ),
    { dbCount: 16, add: (db, k, v, exp) => got.push([k, v, exp]) },
    { limits: DEFAULT_LOAD_LIMITS, checksum: true },
  );
  assert.equal(res.keys, 6);
  assert.deepEqual(got, [
    ['a', 'x', 1700000000123],
    ['b', -5, -1000],
    ['c', 12345, 2n ** 53n + 1n],
    ['d', 2147483647, -(2n ** 62n)],
    ['e', '12345678901234567', 2 ** 53 - 1],
    ['f', '0123', -1],
  ]);
});

test('a server loads a dump with RESIZEDB presizing, refuses duplicate keys in it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rdb-fast-'));
  const recs = [Buffer.from([0xfe, 0, 0xfb, 0x40 | (3000 >> 8), 3000 & 255, 1])];
  for (let i = 0; i < 3000; i++) recs.push(kv(`k${i}`, rdbStr(Buffer.from(`v${i}`))));
  recs.push(ms(Date.now() + 3600_000), kv('ttl', rdbStr(Buffer.from('t'))));
  writeFileSync(join(dir, 'dump.rdb'), rdbFile(...recs));
  const s = await startVireo(['--dir', dir]);
  try {
    const c = await RawConn.connect(s.port);
    assert.equal(await c.call('DBSIZE'), ':3001\r\n');
    assert.equal(await c.call('GET', 'k2999'), '$5\r\nv2999\r\n');
    assert.ok(Number((await c.call('PTTL', 'ttl')).slice(1)) > 3500_000);
    assert.equal(await c.call('SET', 'new', '1'), '+OK\r\n');
    assert.equal(await c.call('DBSIZE'), ':3002\r\n');
    c.close();
  } finally {
    await s.stop();
  }
  const dup = mkdtempSync(join(tmpdir(), 'rdb-fast-'));
  writeFileSync(join(dup, 'dump.rdb'), rdbFile(kv('k', rdbStr(Buffer.from('1'))), kv('k', rdbStr(Buffer.from('2')))));
  await assert.rejects(startVireo(['--dir', dup]));
});
