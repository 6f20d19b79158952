// SetValue (src/data/set.ts) against a naive model (a JS Set): random sequences
// of adds, removes, random pops and samples, with small random thresholds so
// the intset -> listpack -> hashtable conversions happen often. After every
// step the members must equal the model's and the encoding's invariants hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SetValue, isIntMember, compareIntMembers } from '../../dist/src/data/set.js';

const ENC = { intset: 0, listpack: 1, hashtable: 2 };

// Members: small integers, int64 edges, non-canonical integers, short and long strings.
const member = fc.oneof(
  fc.integer({ min: -40, max: 40 }).map(String),
  fc.constantFrom('9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '+1', '1.5', ''),
  fc.constantFrom('a', 'b', 'c', 'xyz', 'a\x00b', '\xff'),
  fc.integer({ min: 0, max: 30 }).map((n) => 'L'.repeat(n)),
);

const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('add'), ms: fc.array(member, { minLength: 1, maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rem'), m: member }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pop') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('popmany'), n: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sample'), n: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone') }) },
);

const limitsArb = fc.record({
  intsetEntries: fc.integer({ min: 0, max: 20 }),
  listpackEntries: fc.integer({ min: 0, max: 20 }),
  listpackValue: fc.integer({ min: 0, max: 20 }),
});

function checkInvariants(s, model, lim) {
  assert.equal(s.size, model.size);
  assert.equal(new Set(s.items).size, s.items.length, 'no duplicate members');
  for (const m of s.items) assert.ok(model.has(m), `extra member ${JSON.stringify(m)}`);
  for (const m of model) assert.ok(s.has(m), `missing member ${JSON.stringify(m)}`);
  const enc = ENC[s.encoding()];
  assert.equal(enc, s.enc);
  if (s.enc === ENC.intset) {
    assert.ok(s.items.length <= lim.intsetEntries);
    for (const m of s.items) assert.ok(isIntMember(m));
    for (let i = 1; i < s.items.length; i++) assert.ok(compareIntMembers(s.items[i - 1], s.items[i]) < 0, 'intset sorted');
    assert.equal(s.index, null);
  } else if (s.enc === ENC.listpack) {
    assert.ok(s.items.length <= lim.listpackEntries);
    for (const m of s.items) assert.ok(m.length <= lim.listpackValue);
    assert.equal(s.index, null);
  } else {
    assert.equal(s.index.size, s.items.length);
    s.items.forEach((m, i) => assert.equal(s.index.find(m), i));
    assert.equal(s.index.keys, s.items, 'the index works over the items array');
  }
}

test('compareIntMembers orders canonical int64 strings numerically', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (a, b) => {
      const want = a < b ? -1 : a > b ? 1 : 0;
      assert.equal(Math.sign(compareIntMembers(String(a), String(b))), want);
      assert.ok(isIntMember(String(a)));
    }),
    { numRuns: 2000 },
  );
  for (const s of ['', '-', '-0', '01', '+1', ' 1', '1 ', '9223372036854775808', '-9223372036854775809', '1e3']) {
    assert.equal(isIntMember(s), false, s);
  }
});

test('SetValue behaves like a Set under random operations, through every conversion', () => {
  fc.assert(
    fc.property(limitsArb, fc.array(op, { maxLength: 300 }), (lim, ops) => {
      let s = null;
      const model = new Set();
      let rank = 0; // encodings only grow while the set lives
      for (const o of ops) {
        if (o.t === 'add') {
          if (s === null) {
            s = SetValue.create(o.ms[0], o.ms.length, lim);
            rank = s.enc;
          } else {
            s.maybeConvertForHint(o.ms.length, lim);
          }
          for (const m of o.ms) assert.equal(s.add(m, lim), !model.has(m) && (model.add(m), true));
        } else if (s === null) {
          continue;
        } else if (o.t === 'rem') {
          assert.equal(s.remove(o.m), model.delete(o.m));
        } else if (o.t === 'pop') {
          const m = s.popRandom();
          assert.ok(model.delete(m));
        } else if (o.t === 'popmany') {
          const n = Math.min(o.n, s.size - 1);
          if (n < 1) continue;
          const before = s.size;
          // SPOP picks one strategy or the other by how many remain.
          const popped = (before - n) * 5 > n ? s.popMany(n) : s.popAllBut(before - n, lim);
          assert.equal(popped.length, n);
          assert.equal(new Set(popped).size, n);
          for (const m of popped) assert.ok(model.delete(m));
          rank = s.enc; // popAllBut builds a new set
        } else if (o.t === 'sample') {
          const n = Math.min(o.n, s.size - 1);
          if (n < 1) continue;
          const before = s.items.slice();
          const got = s.sample(n);
          assert.equal(got.length, n);
          assert.equal(new Set(got).size, n);
          for (const m of got) assert.ok(model.has(m));
          assert.deepEqual(s.items, before, 'sampling leaves the set untouched');
        } else if (o.t === 'clone') {
          const c = s.clone();
          assert.equal(c.encoding(), s.encoding());
          assert.deepEqual(c.items, s.items);
          s = c;
        }
        if (s.size === 0) {
          // An emptied set is deleted by the commands; start over.
          s = null;
          assert.equal(model.size, 0);
          continue;
        }
        assert.ok(s.enc >= rank, 'encoding never shrinks on add/remove');
        rank = s.enc;
        checkInvariants(s, model, lim);
      }
    }),
    { numRuns: 400 },
  );
});

test('Valkey conversion rules at the default thresholds', () => {
  const lim = { intsetEntries: 512, listpackEntries: 128, listpackValue: 64 };
  const ints = Array.from({ length: 512 }, (_, i) => String(i));
  let s = SetValue.create('1', ints.length, lim);
  for (const m of ints) s.add(m, lim);
  assert.equal(s.encoding(), 'intset');
  s.add('512', lim);
  assert.equal(s.encoding(), 'hashtable');
  // A string joining a small intset makes a listpack; a big one, a hashtable.
  s = SetValue.create('1', 1, lim);
  for (let i = 0; i < 127; i++) s.add(String(i), lim);
  s.add('x', lim);
  assert.equal(s.encoding(), 'listpack');
  assert.equal(s.size, 128);
  s.add('y', lim);
  assert.equal(s.encoding(), 'hashtable');
  s = SetValue.create('1', 1, lim);
  for (let i = 0; i < 128; i++) s.add(String(i), lim);
  s.add('x', lim);
  assert.equal(s.encoding(), 'hashtable');
  // Member length: 64 bytes fit a listpack, 65 do not.
  s = SetValue.create('a', 1, lim);
  s.add('a'.repeat(64), lim);
  assert.equal(s.encoding(), 'listpack');
  s.add('b'.repeat(65), lim);
  assert.equal(s.encoding(), 'hashtable');
  // The size hint decides the first encoding, and converts an existing compact set.
  assert.equal(SetValue.create('1', 512, lim).encoding(), 'intset');
  assert.equal(SetValue.create('1', 513, lim).encoding(), 'hashtable');
  assert.equal(SetValue.create('a', 128, lim).encoding(), 'listpack');
  assert.equal(SetValue.create('1', 100, { ...lim, intsetEntries: 10 }).encoding(), 'listpack');
  assert.equal(SetValue.create('a', 129, lim).encoding(), 'hashtable');
  s = SetValue.create('a', 1, lim);
  s.add('a', lim);
  s.maybeConvertForHint(129, lim);
  assert.equal(s.encoding(), 'hashtable');
  // Removing never converts back.
  s.remove('a');
  assert.equal(s.encoding(), 'hashtable');
  // Intsets iterate in numeric order.
  s = SetValue.create('5', 4, lim);
  for (const m of ['5', '-3', '10', '9223372036854775807', '-9223372036854775808']) s.add(m, lim);
  assert.deepEqual(s.items, ['-9223372036854775808', '-3', '5', '10', '9223372036854775807']);
  // popAllBut: a hashtable's survivors form a new listpack (or intset from an intset).
  s = new SetValue(2);
  for (let i = 0; i < 200; i++) s.add(String(i), lim);
  s.popAllBut(3, lim);
  assert.equal(s.encoding(), 'listpack');
  s = SetValue.create('1', 10, lim);
  for (let i = 0; i < 10; i++) s.add(String(i), lim);
  s.popAllBut(1, lim);
  assert.equal(s.encoding(), 'intset');
});

test('random selection is fair and O(1) on a large hashtable set', () => {
  const lim = { intsetEntries: 512, listpackEntries: 128, listpackValue: 64 };
  const n = 200_000;
  const s = new SetValue(2);
  for (let i = 0; i < n; i++) s.add(`m${i}`, lim);
  // 100k single draws over 10 buckets: each bucket near 10%.
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) buckets[Number(s.random().slice(1)) % 10]++;
  for (const b of buckets) assert.ok(b > 9000 && b < 11000, `bucket ${b}`);
  // Popping many from a large set only touches what it pops.
  const popped = s.popMany(1000);
  assert.equal(new Set(popped).size, 1000);
  assert.equal(s.size, n - 1000);
  for (const m of popped) assert.equal(s.has(m), false);
  const sample = s.sample(1000);
  assert.equal(new Set(sample).size, 1000);
});
