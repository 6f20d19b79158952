// HashObject (src/data/hash.ts) against a naive model (a Map of field -> value
// and a Map of field -> expire time), with random operation sequences that
// cross the listpack -> hashtable thresholds, expire fields and clone.
import { entry, strEnt, rawListpack, FOREIGN_HASH_ENTRIES, FOREIGN_HASH_ITEMS } from '../helpers/listpack-bytes.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HashObject, packValue } from '../../dist/src/data/hash.js';
import { lpFromItems, lpValidate, lpItems } from '../../dist/src/data/listpack.js';

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
    // The listpack string is exactly what Valkey's listpack would hold for these pairs.
    const lp = h.listpack();
    assert.equal(lpValidate(lp), 2 * m.size);
    assert.equal(lp, lpFromItems([...m].flat()));
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

/** A listpack string of raw entries (for foreign, non-canonical encodings). */
const rawLp = (entries) => rawListpack(entries).toString('latin1');

test('a foreign listpack with non-canonical entries reads, updates and converts like the canonical one', () => {
  const lp = rawLp(FOREIGN_HASH_ENTRIES);
  assert.equal(lpValidate(lp), 6);
  const want = FOREIGN_HASH_ITEMS;
  const h = HashObject.fromListpack(lp, 512);
  assert.equal(h.listpack(), lp, 'kept byte for byte');
  assert.deepEqual(h.pairs(), want);
  assert.equal(h.get('name'), '12');
  assert.equal(h.getRaw('name'), 12);
  assert.equal(h.get('7'), '-5');
  assert.equal(h.getRaw('big'), 100);
  assert.equal(h.has('12'), false);
  assert.equal(h.size, 3);
  for (let i = 0; i < 3; i++) assert.equal(h.fieldAt(i), want[2 * i]);
  // An update rewrites only that value; the other entries keep their bytes.
  assert.equal(h.set('7', 'x', 512, 64), false);
  assert.deepEqual(h.pairs(), ['name', '12', '7', 'x', 'big', '100']);
  assert.equal(lpValidate(h.listpack()), 6);
  assert.ok(h.listpack().includes('\xe0\x04name'));
  // Setting an equal value (another encoding of it) keeps the string.
  const before = h.listpack();
  h.set('name', '12', 512, 64);
  assert.equal(h.listpack(), before);
  assert.equal(h.delete('name'), true);
  assert.deepEqual(h.pairs(), ['7', 'x', 'big', '100']);
  // Conversion reads every encoding.
  const g = HashObject.fromListpack(lp, 2);
  assert.equal(g.encoding(), 'hashtable');
  assert.deepEqual(g.pairs(), want);
  assert.equal(g.rawValueAt(0), 12);
});

test('fromListpack refuses a field twice (also across encodings) and keeps long values', () => {
  assert.equal(HashObject.fromListpack(lpFromItems(['a', '1', 'b', '2', 'a', '3']), 512), null);
  assert.equal(HashObject.fromListpack(rawLp([strEnt('5'), strEnt('x'), entry([5]), strEnt('y')]), 512), null);
  const many = [];
  for (let i = 0; i < 40; i++) many.push(`f${i % 39}`, 'v');
  assert.equal(HashObject.fromListpack(lpFromItems(many), 512), null);
  many[78] = 'f39';
  assert.equal(HashObject.fromListpack(lpFromItems(many), 512).size, 40);
  // Valkey converts a loaded listpack on its count only.
  const long = HashObject.fromListpack(lpFromItems(['f', 'v'.repeat(100)]), 512);
  assert.equal(long.encoding(), 'listpack');
  assert.equal(long.get('f'), 'v'.repeat(100));
});

test('a listpack copy shares the string; changing one leaves the other', () => {
  const h = new HashObject();
  for (let i = 0; i < 5; i++) h.set(`f${i}`, String(i * 1000), 512, 64);
  const c = h.clone();
  assert.equal(c.listpack(), h.listpack());
  c.set('f1', 'changed', 512, 64);
  c.delete('f2');
  assert.equal(h.get('f1'), '1000');
  assert.equal(h.get('f2'), '2000');
  assert.deepEqual(lpItems(h.listpack()).length, 10);
  assert.equal(c.size, 4);
});

test('lookups interleaved across hashes with equal listpacks stay right (the last-lookup cache)', () => {
  const r = fc.sample(fc.array(fc.tuple(fc.nat({ max: 2 }), fc.constantFrom('get', 'set', 'del', 'has'), fc.constantFrom('a', 'b', 'c', 'd'), fc.constantFrom('1', 'x', '22')), { minLength: 200, maxLength: 200 }), 20);
  for (const ops of r) {
    const hs = [new HashObject(), new HashObject(), new HashObject()];
    const ms = [new Map(), new Map(), new Map()];
    for (const h of hs) for (const f of ['a', 'b']) h.set(f, '1', 512, 64);
    for (const m of ms) for (const f of ['a', 'b']) m.set(f, '1');
    for (const [i, op, f, v] of ops) {
      const h = hs[i];
      const m = ms[i];
      if (op === 'get') assert.equal(h.get(f), m.get(f));
      else if (op === 'has') assert.equal(h.has(f), m.has(f));
      else if (op === 'set') assert.equal(h.set(f, v, 512, 64), !m.has(f)), m.set(f, v);
      else assert.equal(h.delete(f), m.delete(f));
      for (let k = 0; k < 3; k++) assert.deepEqual(hs[k].pairs(), [...ms[k]].flat());
    }
  }
});

test('setMany builds what set per pair builds (new fields in one go, repeats, existing fields, thresholds)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(field, value), { maxLength: 6 }),
      fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 0, max: 12 }),
      (pre, kv, maxEntries) => {
        const a = new HashObject();
        const b = new HashObject();
        for (const [f, v] of pre) {
          a.set(f, v, 512, 64);
          b.set(f, v, 512, 64);
        }
        let created = 0;
        for (const [f, v] of kv) if (a.set(f, v, maxEntries, 64)) created++;
        const args = ['HSET', 'k', ...kv.flat()];
        assert.equal(b.setMany(args, 2, args.length, maxEntries, 64), created);
        assert.equal(b.encoding(), a.encoding());
        assert.deepEqual(b.pairs(), a.pairs());
        if (b.isListpack()) assert.equal(b.listpack(), a.listpack());
      },
    ),
    { numRuns: 500 },
  );
});
