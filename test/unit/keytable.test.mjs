// KeyTable (src/data/keytable.ts) against a naive model (a JS Map), with random
// operation sequences, and its live-iterator guarantee under mutation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyTable, hashKey } from '../../dist/src/data/keytable.js';

const op = fc.oneof(
  fc.record({ t: fc.constant('set'), k: fc.integer({ min: 0, max: 300 }), v: fc.integer() }),
  fc.record({ t: fc.constant('del'), k: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ t: fc.constant('get'), k: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ t: fc.constant('clear') }),
);

test('KeyTable behaves like a Map under random operations', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
      const t = new KeyTable();
      const m = new Map();
      for (const o of ops) {
        const k = `k${o.k}`;
        if (o.t === 'set') {
          t.set(k, o.v);
          m.set(k, o.v);
        } else if (o.t === 'del') {
          assert.equal(t.delete(k), m.delete(k));
        } else if (o.t === 'get') {
          assert.equal(t.get(k), m.get(k));
          assert.equal(t.has(k), m.has(k));
        } else if (o.t === 'clear' && Math.random() < 0.05) {
          t.clear();
          m.clear();
        }
        assert.equal(t.size, m.size);
      }
      // Same contents, in insertion order.
      assert.deepEqual([...t.entries()], [...m.entries()]);
    }),
    { numRuns: 200 },
  );
});

test('clocks travel with their keys through growth and compaction', () => {
  const t = new KeyTable();
  for (let i = 0; i < 5000; i++) t.set(`k${i}`, i, i % 1000);
  for (let i = 0; i < 5000; i += 2) t.delete(`k${i}`);
  for (let i = 1; i < 5000; i += 2) {
    const e = t.find(`k${i}`);
    assert.ok(e >= 0);
    assert.equal(t.valueAt(e), i);
    assert.equal(t.clockAt(e), i % 1000);
  }
});

test('a live iterator visits every key present throughout exactly once', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
      let x = seed || 1;
      const rnd = (n) => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>> 0) % n;
      };
      const t = new KeyTable();
      const stable = new Set();
      for (let i = 0; i < 2000; i++) {
        t.set(`s${i}`, i);
        stable.add(`s${i}`);
      }
      const seen = new Map();
      const it = t.keys();
      let churn = 0;
      for (;;) {
        const r = it.next();
        if (r.done) break;
        seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
        // Heavy churn: add and remove other keys, forcing growth and compaction
        // (bounded, since keys added during the iteration are visited too).
        for (let j = 0; j < 5 && churn < 8000; j++) {
          const k = `c${churn++}`;
          t.set(k, 0);
          if (rnd(2) === 0) t.delete(`c${rnd(churn)}`);
        }
      }
      for (const k of stable) assert.equal(seen.get(k), 1, `${k} visited once`);
    }),
    { numRuns: 20 },
  );
});

test('a write after a lookup of the same key lands on that key after deletes, re-adds and compaction', () => {
  const t = new KeyTable();
  for (let i = 0; i < 200; i++) t.set(`k${i}`, i);
  assert.equal(t.get('k5'), 5); // find() remembers k5's entry
  t.delete('k5');
  for (let i = 0; i < 150; i++) t.delete(`k${i + 10}`); // compaction moves entries
  t.set('k5', 'again'); // re-added at a new position: must not reuse the stale entry
  assert.equal(t.get('k5'), 'again');
  assert.equal(t.get('k160'), 160);
  t.set('k160', 'x'); // entry remembered by the find() just above
  assert.deepEqual([t.get('k160'), t.size], ['x', 50]);
  assert.equal(t.get('k199'), 199);
  t.delete('k199'); // the newest entry: the tail is trimmed
  t.set('k199', 'y');
  assert.equal(t.get('k199'), 'y');
  assert.deepEqual([...t.keys()].slice(-2), ['k5', 'k199']);
});

test('the prefetch cursor is only a hint: finds, sets and deletes after prefetch() of any hash list (in order, shifted, stale, another table\'s) answer as a Map', () => {
  // Ops: prefetch the hashes of a list of keys (the next keys the sequence will
  // touch, or random ones, on this table or the other one), then set/del/get,
  // with growth, deletes and compaction in between.
  const pop = fc.oneof(
    fc.record({ t: fc.constant('set'), k: fc.integer({ min: 0, max: 200 }), v: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ t: fc.constant('del'), k: fc.integer({ min: 0, max: 200 }) }),
    fc.record({ t: fc.constant('get'), k: fc.integer({ min: 0, max: 200 }) }),
    fc.record({ t: fc.constant('pf'), ahead: fc.boolean(), shift: fc.integer({ min: -2, max: 2 }), other: fc.boolean(), n: fc.integer({ min: 2, max: 40 }), ks: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 40, maxLength: 40 }) }),
  );
  fc.assert(
    fc.property(fc.array(pop, { minLength: 200, maxLength: 1000 }), (ops) => {
      const tabs = [new KeyTable(), new KeyTable()];
      const models = [new Map(), new Map()];
      const hashes = new Int32Array(64);
      let cur = 0;
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i];
        if (o.t === 'pf') {
          // Hash list: the keys of the next ops (what a pipeline does), shifted, or random keys.
          let n = 0;
          for (let j = 0; n < o.n && j < 80; j++) {
            const nx = ops[i + 1 + j + o.shift];
            const k = o.ahead && nx !== undefined && nx.t !== 'pf' ? nx.k : o.ks[n];
            hashes[n++] = hashKey(`k${k}`);
          }
          if (o.other) cur ^= 1;
          tabs[cur].prefetch(hashes, n);
          continue;
        }
        const t = tabs[i % 3 === 0 ? cur ^ 1 : cur];
        const m = models[i % 3 === 0 ? cur ^ 1 : cur];
        const k = `k${o.k}`;
        if (o.t === 'set') {
          // Values of equal content but distinct identity (strings built at run time).
          const v = `v${o.v}${'x'.repeat(o.v)}`;
          const e = t.set(k, v, 7);
          assert.equal(t.valueAt(e), v);
          m.set(k, v);
        } else if (o.t === 'del') {
          assert.equal(t.delete(k), m.delete(k));
        } else {
          const e = t.find(k);
          assert.equal(e >= 0, m.has(k));
          if (e >= 0) assert.equal(t.valueAt(e), m.get(k));
        }
      }
      for (let x = 0; x < 2; x++) assert.deepEqual([...tabs[x].entries()], [...models[x].entries()]);
    }),
    { numRuns: 100 },
  );
});
