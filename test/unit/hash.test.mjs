// HashObject (src/data/hash.ts) against a naive model (a Map of field -> value
// and a Map of field -> expire time), with random operation sequences that
// cross the listpack -> hashtable thresholds, expire fields and clone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HashObject } from '../../dist/src/data/hash.js';

const field = fc.integer({ min: 0, max: 40 }).map((n) => (n === 40 ? 'x'.repeat(70) : `f${n}`));
const value = fc.oneof(fc.integer({ min: 0, max: 99 }).map(String), fc.constant('y'.repeat(70)), fc.constant(''));
const op = fc.oneof(
  fc.record({ t: fc.constant('set'), f: field, v: value, keep: fc.boolean() }),
  fc.record({ t: fc.constant('del'), f: field }),
  fc.record({ t: fc.constant('get'), f: field }),
  fc.record({ t: fc.constant('expire'), f: field, dt: fc.integer({ min: -5, max: 50 }) }),
  fc.record({ t: fc.constant('persist'), f: field }),
  fc.record({ t: fc.constant('tick'), dt: fc.integer({ min: 0, max: 20 }), max: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ t: fc.constant('clone') }),
);

function check(h, m, ttl, maxEntries, maxValue, sawBig) {
  assert.equal(h.size, m.size);
  const got = new Map();
  for (let i = 0; i < h.size; i++) got.set(h.fieldAt(i), h.valueAt(i));
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
