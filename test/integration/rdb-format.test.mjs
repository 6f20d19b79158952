// The RDB layer in-process: CRC-64 (Jones), LZF, listpack and intset blobs,
// value serialization round trips for every type and encoding, stream IDs
// beyond 2^53, and malformed input refused with RdbError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  crc64,
  lzfCompress,
  lzfDecompress,
  serializeValue,
  deserializeValue,
  verifyPayload,
  ListpackWriter,
  listpackItems,
  DEFAULT_LOAD_LIMITS,
  RdbError,
  RdbSnapshot,
  BufferSink,
  loadRdb,
} from '../../dist/src/persistence/rdb/index.js';
import { datasetDigest } from '../../dist/src/persistence/digest.js';
import { Db } from '../../dist/src/keyspace/db.js';
import { ListValue } from '../../dist/src/data/list.js';
import { HashObject } from '../../dist/src/data/hash.js';
import { SetValue } from '../../dist/src/data/set.js';
import { ZSet } from '../../dist/src/data/zset.js';
import { Stream, Group, Consumer, Nack } from '../../dist/src/data/stream.js';

test('CRC-64 Jones check value and incremental updates', () => {
  assert.equal(crc64(Buffer.from('123456789')).value(), 0xe9c6d914c4b8d9can);
  const b = Buffer.from(Array.from({ length: 1001 }, (_, i) => (i * 37) & 255));
  const whole = crc64(b).value();
  for (const cut of [0, 1, 7, 8, 9, 500, 1000]) assert.equal(crc64(b.subarray(0, cut)).update(b, cut).value(), whole);
});

test('LZF round trips and refuses malformed streams', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 8 }), (raw, rep) => {
      const input = Buffer.concat(Array.from({ length: rep }, () => Buffer.from(raw)));
      const out = Buffer.alloc(input.length + 64);
      const n = lzfCompress(input, out);
      if (input.length > 0) assert.ok(n > 0);
      if (n > 0) assert.deepEqual(lzfDecompress(out.subarray(0, n), input.length), input);
    }),
    { numRuns: 200 },
  );
  const big = Buffer.alloc(50000, 'abc');
  const small = Buffer.alloc(big.length - 4);
  const n = lzfCompress(big, small);
  assert.ok(n > 0 && n < 1000);
  assert.throws(() => lzfDecompress(Buffer.from([0xe0, 0x05, 0x00]), 20), /LZF/);
  assert.throws(() => lzfDecompress(small.subarray(0, n), big.length - 1), /LZF/);
});

test('listpack writer and reader agree on every integer width and string length', () => {
  const items = ['0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '-8388608', '8388607', '2147483647', '-2147483648', '2147483648', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(4095), 'w'.repeat(4096), '1.5'];
  const w = new ListpackWriter();
  w.begin();
  for (const s of items) w.str(s);
  assert.deepEqual(listpackItems(Buffer.from(w.finishBuffer())), items);
});

function values() {
  const l = new ListValue();
  l.pushAll(Array.from({ length: 2000 }, (_, i) => `e${i}`), 0, false, -2);
  const small = new ListValue();
  small.pushAll(['a', '1', '-5', ''], 0, false, -2);
  const h = new HashObject();
  h.set('f', 'v', 512, 64);
  h.set('n', '12', 512, 64);
  const hb = new HashObject();
  for (let i = 0; i < 600; i++) hb.set(`f${i}`, `v${i}`, 512, 64);
  const s1 = new SetValue(0, ['-3', '1', '70000']);
  const s2 = new SetValue(1, ['a', 'b', '3']);
  const s3 = new SetValue(2, Array.from({ length: 300 }, (_, i) => `m${i}`));
  const z1 = ZSet.fromMap(new Map([['a', 1], ['b', -2.5], ['c', Infinity]]), true);
  const z2 = ZSet.fromMap(new Map(Array.from({ length: 300 }, (_, i) => [`m${i}`, i / 3])), false);
  const st = new Stream();
  const big = 2n ** 60n;
  st.append({ ms: 1, seq: 0 }, ['f', 'v']);
  st.append({ ms: 1, seq: 1 }, ['f', 'w', 'g', 'x']);
  st.append({ ms: big, seq: 5n + 2n ** 55n }, ['f', 'y']);
  st.maxDeletedId = { ms: 1, seq: 0 };
  st.groups = new Map();
  const g = new Group('grp', { ms: 1, seq: 1 }, 2);
  const c = new Consumer('alice', 1000);
  g.consumers.set('alice', c);
  const n = new Nack(c, 1234, 3);
  g.pel.set(1, 1, n);
  c.pel.set(1, 1, n);
  st.groups.set('grp', g);
  return { str: 'hello', int: 42, bigint: '12345678901234567', buf: Buffer.from([0, 255, 1]), long: 'q'.repeat(1000), l, small, h, hb, s1, s2, s3, z1, z2, st };
}

test('serializeValue / deserializeValue round trip for every type and encoding', () => {
  for (const [name, v] of Object.entries(values())) {
    const p = serializeValue(v);
    assert.equal(verifyPayload(p), null, name);
    assert.equal(p.readUInt16LE(p.length - 10), 10, name);
    const back = deserializeValue(p, DEFAULT_LOAD_LIMITS);
    assert.deepEqual(serializeValue(back), p, `${name}: serialization is stable`);
    if (typeof v === 'object' && !Buffer.isBuffer(v)) assert.equal(back.encoding(), v.encoding(), name);
  }
  const st = deserializeValue(serializeValue(values().st), DEFAULT_LOAD_LIMITS);
  assert.equal(st.lastId.ms, 2n ** 60n);
  assert.equal(st.groups.get('grp').consumers.get('alice').pel.size, 1);
  assert.equal(st.groups.get('grp').pel.get(1, 1).deliveryCount, 3);
  const bad = serializeValue('hello');
  bad[2] ^= 1;
  assert.equal(verifyPayload(bad), 'checksum');
});

test('a snapshot file loads back into equal databases (same digest); truncations are refused', () => {
  const dbs = Array.from({ length: 4 }, (_, i) => new Db(i));
  let i = 0;
  for (const [name, v] of Object.entries(values())) {
    dbs[i % 3].dict.set(name, v, 0);
    if (i % 4 === 0) dbs[i % 3].setExpire(name, Date.now() + 100000 + i);
    i++;
  }
  const sink = new BufferSink();
  new RdbSnapshot(dbs, sink, { aux: [['redis-ver', '7.2.4']], compress: true, checksum: true }).step(Infinity);
  const file = sink.result();
  const back = Array.from({ length: 4 }, (_, j) => new Db(j));
  const res = loadRdb(file, { dbCount: 4, add: (db, k, v, e) => { back[db].dict.set(k, v, 0); if (e !== -1) back[db].setExpire(k, Number(e)); } }, { limits: DEFAULT_LOAD_LIMITS });
  assert.equal(res.end, file.length);
  assert.equal(res.aux.get('redis-ver'), '7.2.4');
  assert.equal(datasetDigest(back).toString('hex'), datasetDigest(dbs).toString('hex'));
  for (const cut of [5, 9, 20, 100, file.length - 9, file.length - 1]) {
    assert.throws(() => loadRdb(file.subarray(0, cut), { dbCount: 4, add() {} }, { limits: DEFAULT_LOAD_LIMITS }), RdbError, `cut at ${cut}`);
  }
});

test('hashes with field expire times use Valkey 9 format: type 22 (HASH_2), RDB 80, "VALKEY080" files', () => {
  const h = new HashObject();
  for (let i = 0; i < 5; i++) h.set(`f${i}`, `v${i}`, 512, 64);
  const when = Date.now() + 100000;
  h.setExpire('f1', when);
  h.setExpire('f3', when + 5);
  const p = serializeValue(h);
  assert.equal(p[0], 22);
  assert.equal(p.readUInt16LE(p.length - 10), 80);
  assert.equal(verifyPayload(p), null);
  const back = deserializeValue(p, DEFAULT_LOAD_LIMITS);
  assert.equal(back.getExpire('f1'), when);
  assert.equal(back.getExpire('f3'), when + 5);
  assert.equal(back.getExpire('f0'), -1);
  assert.equal(back.get('f4'), 'v4');
  const dbs = [new Db(0)];
  dbs[0].dict.set('h', h, 0);
  dbs[0].dict.set('s', 'plain', 0);
  const sink = new BufferSink();
  new RdbSnapshot(dbs, sink, { aux: [], compress: true, checksum: true }).step(Infinity);
  const file = sink.result();
  assert.equal(file.subarray(0, 9).toString(), 'VALKEY080');
  const got = new Map();
  loadRdb(file, { dbCount: 1, add: (db, k, v) => got.set(k, v) }, { limits: DEFAULT_LOAD_LIMITS });
  assert.equal(got.get('h').getExpire('f3'), when + 5);
  // Without volatile hashes the file stays RDB 10.
  dbs[0].dict.delete('h');
  const sink2 = new BufferSink();
  new RdbSnapshot(dbs, sink2, { aux: [], compress: true, checksum: true }).step(Infinity);
  assert.equal(sink2.result().subarray(0, 9).toString(), 'REDIS0010');
  // Type 22 in a Redis-lineage payload is Redis 7.4 RC's hash metadata (another layout): Valkey's bytes do not parse as it.
  const redis22 = Buffer.from(p);
  redis22.writeUInt16LE(12, redis22.length - 10);
  assert.throws(() => deserializeValue(redis22, DEFAULT_LOAD_LIMITS), RdbError);
});

test('fuzzed files never crash the loader with anything but RdbError', () => {
  const dbs = [new Db(0)];
  let i = 0;
  for (const [name, v] of Object.entries(values())) dbs[0].dict.set(`${name}:${i++}`, v, 0);
  const sink = new BufferSink();
  new RdbSnapshot(dbs, sink, { aux: [], compress: false, checksum: false }).step(Infinity);
  const good = sink.result();
  let rnd = 12345;
  const next = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0);
  for (let n = 0; n < 1000; n++) {
    const b = Buffer.from(good);
    for (let k = 0; k < 3; k++) b[9 + (next() % (b.length - 9))] = next() & 255;
    try {
      loadRdb(b, { dbCount: 16, add() {} }, { limits: DEFAULT_LOAD_LIMITS, checksum: false });
    } catch (e) {
      assert.ok(e instanceof RdbError, `run ${n}: ${e.constructor.name}: ${e.message}`);
    }
  }
});
