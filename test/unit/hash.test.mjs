// HashObject (src/data/hash.ts) against a naive model (a Map of field -> value
// and a Map of field -> expire time), with random operation sequences that
// cross the listpack -> hashtable thresholds, expire fields and clone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HashObject, packValue } from '../../dist/src/data/hash.js';

const field = fc.integer({ min: 0, max: 40 }).map((n) => (n === 40 ? 'x'.repeat(70) : `f${n}`));
// Values: small canonical integers (stored as numbers), near misses that must
// stay strings byte for byte, long strings and binary latin1 strings.
const value = fc.oneof(
  fc.integer({ min: 0, max: 99 }).map(String),
  fc.integer({ min: -1e9, max: 2e9 }).map(String),
  fc.constantFrom('-0', '007', '+1', ' 1', '1 ', '1e3', '0x1', '-', '1.5', '999999999', '-999999999', '1000000000', '-1000000000', '2147483648', '00', '-01'),
  fc.constant('y'.repeat(70)),
  fc.constant(''),
  fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a).toString('latin1')),
);
const op = fc.oneof(
  fc.record({ t: fc.constant('set'), f: field, v: value, keep: fc.boolean() }),
  fc.record({ t: fc.constant('del'), f: field }),
  fc.record({ t: fc.constant('get'), f: field }),
  fc.record({ t: fc.constant('expire'), f: field, dt: fc.integer({ min: -5, max: 50 }) }),
  fc.record({ t: fc.constant('persist'), f: field }),
  fc.record({ t: fc.constant('tick'), dt: fc.integer({ min: 0, max: 20 }), max: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ t: fc.constant('clone') }),
  // Position reads: a random one (indexes a plain hashtable) or a partial walk
  // from 0 interleaved with a write (the cursor must notice the change).
  fc.record({ t: fc.constant('rand'), i: fc.nat() }),
  fc.record({ t: fc.constant('walk'), k: fc.nat({ max: 6 }), f: field, v: value }),
);

function check(h, m, ttl, maxEntries, maxValue, sawBig) {
  assert.equal(h.size, m.size);
  const got = new Map();
  for (let i = 0; i < h.size; i++) {
    got.set(h.fieldAt(i), h.valueAt(i));
    // A value is kept as a number exactly when it is a short canonical integer.
    const raw = h.rawValueAt(i);
    assert.equal(String(raw), h.valueAt(i));
    assert.equal(typeof raw === 'number', /^(0|-?[1-9][0-9]{0,8})$/.test(h.valueAt(i)));
  }
  assert.deepEqual(got, m);
  for (const [f, v] of m) {
    assert.equal(h.get(f), v);
    assert.equal(h.getExpire(f), ttl.has(f) ? ttl.get(f) : -1);
  }
  assert.equal(h.hasVolatile(), ttl.size > 0);
  // Listpack only while small enough and never given an expire time; never back.
  if (h.isListpack()) {
    assert.ok(m.size <= maxEntries);
    assert.ok(!sawBig.v);
    for (const [f, v] of m) assert.ok(f.length <= maxValue && v.length <= maxValue);
    assert.equal(h.encoding(), 'listpack');
  } else assert.equal(h.encoding(), 'hashtable');
}

test('HashObject behaves like a Map with expire times under random operations', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 0, max: 12 }), (ops, maxEntries) => {
      const maxValue = 64;
      let h = new HashObject();
      const m = new Map();
      const ttl = new Map();
      const sawBig = { v: false };
      let now = 1000;
      for (const o of ops) {
        if (o.t === 'set') {
          const created = h.set(o.f, o.v, maxEntries, maxValue, o.keep);
          assert.equal(created, !m.has(o.f));
          m.set(o.f, o.v);
          if (!o.keep) ttl.delete(o.f);
          if (m.size > maxEntries || o.f.length > maxValue || o.v.length > maxValue) sawBig.v = true;
        } else if (o.t === 'del') {
          assert.equal(h.delete(o.f), m.delete(o.f));
          ttl.delete(o.f);
        } else if (o.t === 'get') {
          assert.equal(h.get(o.f), m.get(o.f));
          assert.equal(h.has(o.f), m.has(o.f));
        } else if (o.t === 'expire') {
          if (!m.has(o.f)) continue;
          h.setExpire(o.f, now + o.dt);
          ttl.set(o.f, now + o.dt);
          sawBig.v = true;
        } else if (o.t === 'persist') {
          assert.equal(h.persist(o.f), ttl.delete(o.f));
        } else if (o.t === 'tick') {
          now += o.dt;
          const out = [];
          const n = h.expireDue(now, o.max, out);
          assert.equal(n, out.length);
          // Earliest first, each one due, and no more than max.
          const due = [...ttl].filter(([, t]) => now > t).sort((a, b) => a[1] - b[1]);
          assert.ok(n <= o.max);
          assert.equal(n, Math.min(o.max, due.length));
          for (const f of out) {
            assert.ok(now > ttl.get(f));
            m.delete(f);
            ttl.delete(f);
          }
          const left = [...ttl.values()].filter((t) => now > t).length;
          assert.equal(left, due.length - n);
          const next = ttl.size ? Math.min(...ttl.values()) : Infinity;
          assert.equal(h.nextExpire(), next);
        } else if (o.t === 'rand') {
          if (m.size === 0) continue;
          const i = o.i % m.size;
          const f = h.fieldAt(i);
          assert.ok(m.has(f));
          assert.equal(h.valueAt(i), m.get(f));
          assert.equal(h.fieldAt(i), f);
        } else if (o.t === 'walk') {
          const k = Math.min(o.k, m.size);
          for (let i = 0; i < k; i++) assert.equal(h.valueAt(i), m.get(h.fieldAt(i)));
          h.set(o.f, o.v, maxEntries, maxValue, true);
          m.set(o.f, o.v);
          if (m.size > maxEntries || o.f.length > maxValue || o.v.length > maxValue) sawBig.v = true;
          if (k < m.size) assert.equal(h.valueAt(k), m.get(h.fieldAt(k)));
        } else if (o.t === 'clone') {
          const c2 = h.clone();
          assert.equal(c2.encoding(), h.encoding());
          h = c2;
        }
        check(h, m, ttl, maxEntries, maxValue, sawBig);
      }
    }),
    { numRuns: 300 },
  );
});

test('listpack keeps insertion order, updates in place, deletes close the gap', () => {
  const h = new HashObject();
  for (const f of ['a', 'b', 'c', 'd']) h.set(f, f.toUpperCase(), 512, 64);
  h.set('b', 'bb', 512, 64);
  h.delete('a');
  const fields = [];
  for (let i = 0; i < h.size; i++) fields.push([h.fieldAt(i), h.valueAt(i)]);
  assert.deepEqual(fields, [['b', 'bb'], ['c', 'C'], ['d', 'D']]);
  assert.equal(h.encoding(), 'listpack');
});

test('conversion thresholds: entries and value length', () => {
  const h = new HashObject();
  h.set('a', '1', 2, 4);
  h.set('b', '1234', 2, 4);
  assert.equal(h.encoding(), 'listpack');
  h.set('c', '1', 2, 4);
  assert.equal(h.encoding(), 'hashtable');
  const g = new HashObject();
  g.set('a', '12345', 2, 4);
  assert.equal(g.encoding(), 'hashtable');
  const k = new HashObject();
  k.set('a', '1', 0, 64);
  assert.equal(k.encoding(), 'hashtable');
});

test('field iterator is live: fields present throughout are seen exactly once', () => {
  const h = new HashObject();
  for (let i = 0; i < 1000; i++) h.set(`f${i}`, 'v', 0, 64);
  const it = h.fieldIterator();
  const seen = new Map();
  let step = 0;
  for (let r = it.next(); !r.done; r = it.next()) {
    seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
    if (step % 3 === 0) h.delete(`f${999 - step}`); // delete ahead and behind
    if (step % 5 === 0) h.set(`n${step}`, 'v', 0, 64); // add during the walk
    step++;
  }
  for (let i = 0; i < 1000; i++) {
    const f = `f${i}`;
    if (h.has(f)) assert.equal(seen.get(f), 1, f);
  }
  for (const n of seen.values()) assert.equal(n, 1);
});

test('heap stays bounded when expire times keep changing', () => {
  const h = new HashObject();
  h.set('a', '1', 0, 64);
  h.set('b', '1', 0, 64);
  for (let i = 0; i < 10000; i++) {
    h.setExpire('a', 1e6 + i);
    h.persist('a');
  }
  h.setExpire('b', 500);
  assert.equal(h.nextExpire(), 500);
  assert.equal(h.expireDue(501, 10), 1);
  assert.equal(h.hasVolatile(), false);
  assert.deepEqual([h.fieldAt(0)], ['a']);
});

test('packValue: numbers only for canonical integers of up to 9 digits', () => {
  for (const [s, want] of [
    ['0', 0], ['7', 7], ['-7', -7], ['999999999', 999999999], ['-999999999', -999999999], ['120', 120],
  ]) assert.equal(packValue(s), want);
  for (const s of ['', '-', '-0', '00', '007', '+1', ' 1', '1 ', '1e3', '1.0', '1000000000', '-1000000000', '2147483648', 'abc', '1a', '\u00b9'])
    assert.equal(packValue(s), s);
  fc.assert(
    fc.property(fc.oneof(fc.integer().map(String), fc.string({ maxLength: 11 })), (s) => {
      const p = packValue(s);
      assert.equal(String(p), s);
    }),
    { numRuns: 2000 },
  );
});

test('hashtable positions: O(1) fieldAt/valueAt, dense after deletes, clone is independent', () => {
  const h = new HashObject();
  const n = 2000;
  for (let i = 0; i < n; i++) h.set(`f${i}`, String(i), 128, 64);
  assert.equal(h.encoding(), 'hashtable');
  for (let i = 0; i < n; i++) {
    assert.equal(h.fieldAt(i), `f${i}`, 'insertion order while nothing was deleted');
    assert.equal(h.valueAt(i), String(i));
  }
  h.delete('f5');
  assert.equal(h.fieldAt(5), `f${n - 1}`, 'the last field fills the hole');
  h.set('f5', 'again', 128, 64);
  assert.equal(h.size, n);
  assert.equal(h.fieldAt(n - 1), 'f5');
  assert.equal(h.valueAt(n - 1), 'again');
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    const f = h.fieldAt(i);
    seen.add(f);
    assert.equal(h.get(f), h.valueAt(i));
  }
  assert.equal(seen.size, n);
  const c = h.clone();
  for (let i = 0; i < n; i++) assert.equal(c.get(h.fieldAt(i)), h.valueAt(i));
  c.delete('f0');
  c.set('new', '1', 128, 64);
  assert.equal(h.get('f0'), '0');
  assert.equal(h.get('new'), undefined);
  assert.equal(c.get('f0'), undefined);
});

test('fromPairs builds what set per pair builds, refuses repeated fields, allocates the TTL heap only with a TTL', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(field, value), { maxLength: 12 }), fc.integer({ min: 1, max: 8 }), (kv, maxEntries) => {
      const pairs = kv.flat();
      const ref = new HashObject();
      let dup = false;
      if (kv.length > maxEntries) ref.convert();
      for (const [f, v] of kv) if (!ref.set(f, v, maxEntries, 64)) dup = true;
      const h = HashObject.fromPairs(pairs, maxEntries, 64);
      if (dup) return assert.equal(h, null);
      assert.equal(h.encoding(), ref.encoding());
      assert.equal(h.size, ref.size);
      for (let i = 0; i < h.size; i++) {
        assert.equal(h.fieldAt(i), ref.fieldAt(i));
        assert.equal(h.rawValueAt(i), ref.rawValueAt(i));
      }
      if (h.size === 0) return;
      const f = h.fieldAt(0);
      h.setExpire(f, 1000);
      assert.equal(h.nextExpire(), 1000);
      h.persist(f);
      assert.equal(h.hasVolatile(), false);
      assert.equal(h.nextExpire(), Infinity);
      h.setExpire(f, 5);
      assert.equal(h.expireDue(10, 10), 1);
      assert.equal(h.has(f), false);
    }),
    { numRuns: 300 },
  );
  assert.equal(HashObject.fromPairs(['a', '1', 'b'], 8, 64).size, 1);
});
