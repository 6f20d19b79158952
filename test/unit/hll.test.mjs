// HyperLogLog data structure (src/data/hll.ts): hashing, register packing,
// sparse editing against a naive register-array model, counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as hll from '../../dist/src/data/hll.js';

const R = hll.HLL_REGISTERS;

/** Registers of a dense or sparse HLL as a plain array (via the dense form). */
function registers(buf, len) {
  const d = buf[4] === hll.HLL_DENSE ? buf : hll.sparseToDense(buf, len);
  assert.ok(d, 'valid HLL');
  const out = new Uint8Array(R);
  for (let i = 0; i < R; i++) out[i] = hll.denseGet(d, hll.HLL_HDR_SIZE, i);
  return out;
}

function newWork(cap = 4096) {
  const w = { buf: new Uint8Array(cap), len: 18 };
  w.buf.set(hll.createSparse());
  return w;
}

test('element hashing matches Valkey (known sparse encoding of {a, b, c})', () => {
  const w = newWork();
  assert.equal(hll.addElements(w, ['a', 'b', 'c'], 0, 3000), 3);
  // Bytes Valkey/Redis store for PFADD k a b c (after the 16-byte header).
  assert.equal(Buffer.from(w.buf.subarray(16, w.len)).toString('hex'), '60f38050b1844bfb80425a');
  assert.equal(hll.decodeSparse(w.buf, w.len), 'Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603');
  assert.equal(hll.count(w.buf, w.len), 3);
  // Strings and bytes hash the same.
  const a = hll.patLen('hello world!');
  const ia = hll.patIndex;
  const b = hll.patLen(Buffer.from('hello world!'));
  assert.deepEqual([a, ia], [b, hll.patIndex]);
});

test('patLen: index and value ranges', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const c = hll.patLen(bytes);
      assert.ok(c >= 1 && c <= 51);
      assert.ok(hll.patIndex >= 0 && hll.patIndex < R);
    }),
  );
});

test('dense registers: set/get round trip without disturbing neighbours', () => {
  const b = Buffer.alloc(hll.HLL_DENSE_SIZE);
  const model = new Uint8Array(R);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < R; i++) {
      const v = (i * 7 + round * 13) % 64;
      model[i] = v;
      hll.denseSetReg(b, hll.HLL_HDR_SIZE, i, v);
    }
    for (let i = 0; i < R; i++) assert.equal(hll.denseGet(b, hll.HLL_HDR_SIZE, i), model[i]);
  }
});

test('sparse edits agree with a register-array model, then promote to dense', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: R - 1 }), fc.integer({ min: 1, max: 40 })), { maxLength: 400 }),
      fc.integer({ min: 0, max: 3000 }),
      (sets, maxBytes) => {
        const w = newWork(Math.max(maxBytes, 64) + 16);
        const model = new Uint8Array(R);
        for (const [idx, v] of sets) {
          const changed = hll.setRegister(w, idx, v, maxBytes);
          assert.equal(changed, v > model[idx] ? 1 : 0);
          if (v > model[idx]) model[idx] = v;
          if (w.buf[4] === hll.HLL_SPARSE) assert.ok(w.len <= Math.max(maxBytes, 18));
        }
        assert.deepEqual(registers(w.buf, w.len), model);
        // Counting from sparse and from the same registers dense agrees.
        const dense = w.buf[4] === hll.HLL_DENSE ? w.buf : hll.sparseToDense(w.buf, w.len);
        assert.equal(hll.count(w.buf, w.len), hll.count(dense, dense.length));
        assert.equal(hll.countRaw(model), hll.count(dense, dense.length));
      },
    ),
    { numRuns: 60 },
  );
});

test('mergeInto takes register-wise maxima; corrupt sparse data is rejected', () => {
  const a = newWork();
  const b = newWork();
  hll.addElements(a, ['x1', 'x2', 'x3'], 0, 3000);
  hll.addElements(b, ['x3', 'x4'], 0, 3000);
  const max = new Uint8Array(R);
  assert.ok(hll.mergeInto(max, a.buf, a.len));
  assert.ok(hll.mergeInto(max, b.buf, b.len));
  assert.equal(hll.countRaw(max), 4);
  const bad = Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f', 'latin1');
  assert.equal(hll.mergeInto(new Uint8Array(R), bad, bad.length), false);
  assert.equal(hll.count(bad, bad.length), -1);
  assert.equal(hll.sparseToDense(bad, bad.length), null);
  assert.equal(hll.sparseSet({ buf: Buffer.concat([bad, Buffer.alloc(8)]), len: bad.length }, 16383, 1, 3000), -1);
});

test('estimates stay within a few standard errors', () => {
  const w = newWork();
  const els = [];
  for (let i = 0; i < 50000; i++) els.push(`e${i}`);
  hll.addElements(w, els, 0, 3000);
  assert.equal(w.buf[4], hll.HLL_DENSE);
  const est = hll.count(w.buf, w.len);
  assert.ok(Math.abs(est - 50000) / 50000 < 6 * (1.04 / Math.sqrt(R)), `estimate ${est}`);
  assert.equal(hll.count(hll.createSparse(), 18), 0);
});

test('header helpers: validity, cache flag, cached value', () => {
  const s = hll.createSparse();
  assert.ok(hll.isHllHeader(s, s.length));
  assert.equal(hll.isHllHeader(s, 15), false);
  assert.equal(hll.cacheValid(s), true);
  hll.invalidateCache(s);
  assert.equal(hll.cacheValid(s), false);
  hll.writeCache(s, 123456789012);
  assert.equal(hll.cacheValid(s), true);
  assert.equal(hll.readCache(s), 123456789012);
  const d = Buffer.alloc(hll.HLL_DENSE_SIZE);
  d.write('HYLL', 'latin1');
  assert.ok(hll.isHllHeader(d, d.length));
  assert.equal(hll.isHllHeader(d, d.length - 1), false);
  d[4] = 2;
  assert.equal(hll.isHllHeader(d, d.length), false);
});
