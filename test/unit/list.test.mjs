// The list structure (src/data/list.ts) against a plain array, with random
// operation sequences that cross the listpack <-> quicklist conversions and
// node splits/merges, plus the exact encoding thresholds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListValue, entryBytes, exceedsLimit } from '../../dist/src/data/list.js';
import { lpFromItems, lpValidate } from '../../dist/src/data/listpack.js';

// Elements are latin1 strings (bytes 0-255). The lengths cover the three
// length-prefix forms of the packed nodes: < 128, < 16384 and longer.
const latin1 = (min, max) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));
const elem = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', '1', '-5', '127', '128', '4096', '70000', '9223372036854775807', '007', '', '\x00', '\xff\x80') },
  { weight: 4, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 3, arbitrary: latin1(0, 12) },
  { weight: 2, arbitrary: fc.string({ minLength: 60, maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom('p'.repeat(127), 'q'.repeat(128), 'r'.repeat(16383), 's'.repeat(16384), 't'.repeat(20000)) },
);

const op = fc.oneof(
  fc.record({ t: fc.constant('push'), head: fc.boolean(), vals: fc.array(elem, { minLength: 1, maxLength: 6 }) }),
  fc.record({ t: fc.constant('pop'), head: fc.boolean(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ t: fc.constant('insert'), after: fc.boolean(), pivot: elem, v: elem }),
  fc.record({ t: fc.constant('remove'), v: elem, n: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ t: fc.constant('set'), i: fc.integer({ min: -40, max: 40 }), v: elem }),
  fc.record({ t: fc.constant('trim'), a: fc.integer({ min: -20, max: 20 }), b: fc.integer({ min: -20, max: 20 }) }),
  fc.record({ t: fc.constant('range'), a: fc.integer({ min: -20, max: 20 }), b: fc.integer({ min: -20, max: 20 }) }),
  fc.record({ t: fc.constant('pos'), v: elem, rank: fc.integer({ min: -3, max: 3 }).filter((r) => r !== 0), count: fc.integer({ min: 0, max: 3 }), maxlen: fc.integer({ min: 0, max: 10 }) }),
  // A copy continues the sequence: a listpack copy is one listpack string (the RDB-loaded form).
  fc.record({ t: fc.constant('clone') }),
  fc.record({ t: fc.constant('get'), i: fc.integer({ min: -12, max: 12 }) }),
  // An RDB save: a listpack keeps the string the writer builds as its form.
  fc.record({ t: fc.constant('save') }),
);

function clamp(a, b, len) {
  if (a < 0) a += len;
  if (b < 0) b += len;
  if (a < 0) a = 0;
  if (a > b || a >= len) return null;
  if (b >= len) b = len - 1;
  return [a, b];
}

function modelPositions(arr, v, rank, count, maxlen) {
  const out = [];
  const fromTail = rank < 0;
  let r = Math.abs(rank);
  let matches = 0;
  for (let seen = 0; seen < arr.length; seen++) {
    if (maxlen && seen >= maxlen) break;
    const idx = fromTail ? arr.length - 1 - seen : seen;
    if (arr[idx] === v && ++matches >= r) {
      out.push(idx);
      if (count && out.length >= count) break;
    }
  }
  return out;
}

/** A list of `items` in one of the forms it can start from: built by pushes, fromItems, or a listpack blob (RDB load). */
function start(items, fill, from) {
  if (from === 'push') {
    const l = new ListValue();
    if (items.length) l.pushAll(items, 0, false, fill);
    return l;
  }
  if (from === 'items') return ListValue.fromItems(items, fill);
  return ListValue.fromListpack(lpFromItems(items), fill);
}

function run(fill, ops, items = [], from = 'push') {
  let l = start(items, fill, from);
  let m = items.slice();
  for (const o of ops) {
    switch (o.t) {
      case 'push': {
        l.pushAll(['x', 'k', ...o.vals], 2, o.head, fill);
        for (const v of o.vals) o.head ? m.unshift(v) : m.push(v);
        break;
      }
      case 'pop': {
        const got = l.popMany(o.n, o.head);
        const want = [];
        for (let i = 0; i < o.n && m.length; i++) want.push(o.head ? m.shift() : m.pop());
        assert.deepEqual(got, want);
        if (l.length) l.shrinkCheck(fill);
        break;
      }
      case 'insert': {
        const ok = l.insert(o.pivot, o.v, o.after, fill);
        const i = m.indexOf(o.pivot);
        assert.equal(ok, i >= 0);
        if (i >= 0) m.splice(o.after ? i + 1 : i, 0, o.v);
        break;
      }
      case 'remove': {
        const n = l.remove(o.v, o.n);
        let want = 0;
        const lim = Math.abs(o.n);
        if (o.n >= 0) {
          for (let i = 0; i < m.length && (lim === 0 || want < lim); i++) if (m[i] === o.v) (m.splice(i, 1), i--, want++);
        } else {
          for (let i = m.length - 1; i >= 0 && want < lim; i--) if (m[i] === o.v) (m.splice(i, 1), want++);
        }
        assert.equal(n, want);
        if (n && l.length) l.shrinkCheck(fill);
        break;
      }
      case 'set': {
        const ok = l.set(o.i, o.v, fill);
        const i = o.i < 0 ? o.i + m.length : o.i;
        assert.equal(ok, i >= 0 && i < m.length);
        if (ok) m[i] = o.v;
        break;
      }
      case 'trim': {
        const r = clamp(o.a, o.b, m.length);
        const left = r ? r[0] : m.length;
        const right = r ? m.length - r[1] - 1 : 0;
        l.trim(left, right);
        m = r ? m.slice(r[0], r[1] + 1) : [];
        if (l.length) l.shrinkCheck(fill);
        break;
      }
      case 'range': {
        const r = clamp(o.a, o.b, m.length);
        if (r) {
          assert.deepEqual(l.range(r[0], r[1]), m.slice(r[0], r[1] + 1));
          assert.deepEqual(l.range(r[0], r[1], true), m.slice(r[0], r[1] + 1).reverse());
          // forRange hands out the raw bytes (what LRANGE writes to the socket).
          for (const rev of [false, true]) {
            const got = [];
            l.forRange(r[0], r[1], rev, (buf, off, len, out) => out.push(buf.toString('latin1', off, off + len)), got);
            const want = m.slice(r[0], r[1] + 1);
            assert.deepEqual(got, rev ? want.reverse() : want);
          }
        }
        break;
      }
      case 'pos': {
        assert.deepEqual(l.positions(o.v, Math.abs(o.rank), o.rank < 0, o.count, o.maxlen), modelPositions(m, o.v, o.rank, o.count, o.maxlen));
        break;
      }
      case 'clone': {
        const enc = l.encoding();
        l = l.clone();
        assert.equal(l.encoding(), enc);
        break;
      }
      case 'save': {
        const enc = l.encoding();
        const lp = l.listpack(true);
        if (enc === 'quicklist') assert.equal(lp, null);
        else assert.equal(lp, lpFromItems(m));
        assert.equal(l.encoding(), enc);
        break;
      }
      case 'get': {
        assert.equal(l.get(o.i), m.length ? m.at(o.i) : undefined);
        break;
      }
    }
    l.check();
    assert.equal(l.length, m.length);
    assert.deepEqual(l.toArray(), m);
    for (const i of [0, -1, 1, -2, Math.floor(m.length / 2), Math.floor(m.length / 3)]) assert.equal(l.get(i), m.length ? m.at(i) : undefined);
    // A listpack never holds more than the limit allows after a growth, and a
    // quicklist node never is empty (checked by check()).
    if (!l.quick && l.length > 0 && fill > 0) assert.ok(l.length <= Math.max(fill, 1) || l.length <= m.length);
    // A listpack's size is the size of the real listpack of its elements, whatever the form.
    if (!l.quick) assert.equal(l.bytes(), lpFromItems(m).length);
    const c = l.clone();
    assert.deepEqual(c.toArray(), m);
    assert.equal(c.encoding(), l.encoding());
    c.check();
  }
}

for (const fill of [-2, -1, 1, 3, 5]) {
  test(`random operations match an array model (list-max-listpack-size ${fill})`, () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => run(fill, ops)), { numRuns: 150 });
  });
}

for (const fill of [-2, 4, 12]) {
  test(`random operations on a list loaded as a listpack string or from items (list-max-listpack-size ${fill})`, () => {
    fc.assert(
      fc.property(fc.array(elem, { maxLength: 14 }), fc.constantFrom('items', 'lp'), fc.array(op, { maxLength: 30 }), (items, from, ops) => run(fill, ops, items, from)),
      { numRuns: 200 },
    );
  });
}

test('fromListpack keeps a valid listpack blob, converts what is over the limits, refuses a corrupt one', () => {
  const items = ['a', 'b', 'c17', '17', '-3', 'x'.repeat(70)];
  const lp = lpFromItems(items);
  const l = ListValue.fromListpack(lp, -2);
  assert.equal(l.d, lp, 'the blob itself is the list');
  assert.equal(l.listpack(), lp);
  assert.equal(l.bytes(), lp.length);
  assert.deepEqual(l.toArray(), items);
  assert.equal(l.clone().d, lp, 'a copy shares the string');
  // Over an entry-count limit: the same list pushAll would build (a quicklist).
  const q = ListValue.fromListpack(lp, 4);
  assert.equal(q.encoding(), 'quicklist');
  assert.deepEqual(q.toArray(), items);
  q.check();
  assert.equal(ListValue.fromListpack(lpFromItems([]), -2).length, 0);
  // A corrupt blob: a bad terminator, a truncated entry.
  assert.equal(ListValue.fromListpack(lp.slice(0, -1) + 'x', -2), null);
  assert.equal(ListValue.fromListpack(lp.slice(0, 8), -2), null);
  // A string entry holding digits (not what lpAppend writes, but valid) reads back as the same string.
  const odd = '\x0d\x00\x00\x00\x02\x00\x8212\x03\x01\x01\xff';
  assert.equal(lpValidate(odd), 2);
  const o = ListValue.fromListpack(odd, -2);
  assert.deepEqual(o.toArray(), ['12', '1']);
  assert.deepEqual(o.positions('12', 1, false, 0, 0), [0]);
  assert.equal(o.remove('12', 0), 1);
  assert.deepEqual(o.toArray(), ['1']);
});

test('long elements read from a listpack string are strings of their own', () => {
  const long = 'L'.repeat(40);
  const l = ListValue.fromItems([long, 'short', long + 'x'], -2);
  assert.equal(typeof l.d, 'string');
  assert.equal(l.get(0), long);
  assert.deepEqual(l.range(0, 2, true), [long + 'x', 'short', long]);
  assert.equal(l.pop(false), long + 'x');
  assert.ok(Array.isArray(l.d), 'a change turns the string into an array');
  assert.deepEqual(l.toArray(), [long, 'short']);
});

test('listpack entry sizes follow the listpack encodings', () => {
  assert.equal(entryBytes('1'), 2); // 7-bit uint + backlen
  assert.equal(entryBytes('127'), 2);
  assert.equal(entryBytes('128'), 3); // 13-bit int
  assert.equal(entryBytes('-4096'), 3);
  assert.equal(entryBytes('4096'), 4); // 16-bit
  assert.equal(entryBytes('40000'), 5); // 24-bit
  assert.equal(entryBytes('8000000'), 5);
  assert.equal(entryBytes('9000000'), 6); // 32-bit
  assert.equal(entryBytes('10000000'), 6); // 32-bit
  assert.equal(entryBytes('9223372036854775807'), 10); // 64-bit
  assert.equal(entryBytes('9223372036854775808'), 21); // not an int64: string
  assert.equal(entryBytes('007'), 5); // not canonical: string
  assert.equal(entryBytes('abc'), 5);
  assert.equal(entryBytes('x'.repeat(63)), 65);
  assert.equal(entryBytes('x'.repeat(64)), 67);
  assert.equal(entryBytes('x'.repeat(200)), 204);
  assert.equal(entryBytes('x'.repeat(4096)), 4096 + 5 + 2);
  assert.ok(exceedsLimit(-2, 8193, 1));
  assert.ok(!exceedsLimit(-2, 8192, 1));
  assert.ok(exceedsLimit(3, 100, 4));
  assert.ok(exceedsLimit(100, 8193, 4)); // the size cap also applies to entry counts
});

test('listpack -> quicklist -> listpack at the thresholds', () => {
  const l = new ListValue();
  const fill = 4;
  l.pushAll(['', '', '1', '2', '3', '4'], 2, false, fill);
  assert.equal(l.encoding(), 'listpack');
  l.pushAll(['', '', '5'], 2, false, fill);
  assert.equal(l.encoding(), 'quicklist');
  assert.equal(l.nodeCount(), 2);
  l.popMany(2, false);
  l.shrinkCheck(fill);
  assert.equal(l.encoding(), 'quicklist', 'three left: more than half of 4');
  l.pop(false);
  l.shrinkCheck(fill);
  assert.equal(l.encoding(), 'listpack');
  // Byte budget: 8 KB by default, checked with the raw lengths of the new elements.
  const b = new ListValue();
  const big = 'v'.repeat(1000);
  for (let i = 0; i < 8; i++) b.pushAll(['', '', big], 2, false, -2);
  assert.equal(b.encoding(), 'listpack'); // 7 + 8*1004 = 8039 bytes
  b.pushAll(['', '', 'v'.repeat(200)], 2, false, -2); // 8039 + 200 > 8192
  assert.equal(b.encoding(), 'quicklist');
});

test('big lists: O(1) ends and index access stay consistent', () => {
  const l = new ListValue();
  const n = 200000;
  for (let i = 0; i < n; i++) l.pushAll(['', '', String(i)], 2, i % 2 === 0, -2);
  assert.equal(l.length, n);
  assert.equal(l.encoding(), 'quicklist');
  const arr = l.toArray();
  for (const i of [0, 1, 777, n / 2, n - 2, n - 1]) assert.equal(l.get(i), arr[i]);
  assert.deepEqual(l.range(1000, 1010), arr.slice(1000, 1011));
  l.check();
});

test('packed nodes: about 2 bytes of overhead per short element, for pushes at either end', () => {
  for (const head of [false, true]) {
    const l = new ListValue();
    const n = 100000;
    for (let i = 0; i < n; i++) l.pushAll(['', '', 'm:' + String(i).padStart(7, '0')], 2, head, -2);
    l.check();
    // 9 bytes of data + 2 of length prefixes; only the two end nodes keep spare room.
    assert.ok(l.allocatedBytes() / n < 11.5, `allocated ${l.allocatedBytes() / n} bytes per element`);
    assert.equal(l.get(head ? -1 : 0), 'm:0000000');
    assert.equal(l.get(head ? 0 : -1), 'm:0099999');
    // Popping everything gives the elements back in order and drops the nodes.
    const got = l.popMany(n, !head);
    assert.equal(got.length, n);
    for (let i = 0; i < n; i += 997) assert.equal(got[i], 'm:' + String(i).padStart(7, '0'));
    assert.equal(l.length, 0);
    assert.equal(l.nodeCount(), 0);
  }
});

test('packed nodes: alternating pushes at both ends and pops keep a valid layout', () => {
  const l = new ListValue();
  const m = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 30000; i++) {
    const r = rnd();
    const v = r < 0.02 ? 'L'.repeat(200 + (i % 300)) : String(i);
    if (r < 0.35) {
      l.pushAll(['', '', v], 2, true, -2);
      m.unshift(v);
    } else if (r < 0.7) {
      l.pushAll(['', '', v], 2, false, -2);
      m.push(v);
    } else if (r < 0.85) {
      assert.equal(l.pop(true), m.shift());
    } else {
      assert.equal(l.pop(false), m.pop());
    }
    if (l.length) l.shrinkCheck(-2);
  }
  l.check();
  assert.deepEqual(l.toArray(), m);
});

test('random index reads (node marks) stay right across changes', () => {
  const l = new ListValue();
  const m = [];
  let seed = 11;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 5000; i++) {
    const v = i % 7 === 0 ? 'w'.repeat(150) : `e${i}`;
    l.pushAll(['', '', v], 2, i % 3 === 0, -2);
    i % 3 === 0 ? m.unshift(v) : m.push(v);
  }
  for (let round = 0; round < 400; round++) {
    // Several reads in a row (the second one builds the marks of its node).
    for (let k = 0; k < 5; k++) {
      const i = rnd(m.length);
      assert.equal(l.get(i), m[i]);
      assert.equal(l.get(i - m.length), m[i]);
    }
    const a = rnd(m.length);
    const b = Math.min(m.length - 1, a + rnd(40));
    assert.deepEqual(l.range(a, b), m.slice(a, b + 1));
    switch (rnd(6)) {
      case 0: l.pushAll(['', '', `h${round}`], 2, true, -2); m.unshift(`h${round}`); break;
      case 1: l.pushAll(['', '', `t${round}`], 2, false, -2); m.push(`t${round}`); break;
      case 2: assert.equal(l.pop(true), m.shift()); break;
      case 3: assert.equal(l.pop(false), m.pop()); break;
      case 4: { const i = rnd(m.length); l.set(i, `s${round}`, -2); m[i] = `s${round}`; break; }
      default: { const i = rnd(m.length); assert.ok(l.insert(m[i], `i${round}`, true, -2)); m.splice(m.indexOf(m[i]) + 1, 0, `i${round}`); }
    }
  }
  l.check();
  assert.deepEqual(l.toArray(), m);
});

test('small lists: single pushes (LMOVE) across the string form and back, at both ends', () => {
  for (const fill of [-2, 3, 12]) {
    for (const head of [false, true]) {
      const l = new ListValue();
      const m = [];
      for (let i = 0; i < 40; i++) {
        const v = i % 5 === 0 ? 'x'.repeat(130 + i) : String(i * 7 - 3);
        l.growCheck(fill, v.length, 1);
        l.push(v, head);
        head ? m.unshift(v) : m.push(v);
        l.check();
        assert.deepEqual(l.toArray(), m);
        assert.equal(l.get(-1), m[m.length - 1]);
      }
      // Back down: a listpack again (under the 8 KB default), then strings at four elements.
      while (m.length) {
        assert.equal(l.pop(!head), head ? m.pop() : m.shift());
        if (l.length) l.shrinkCheck(fill);
        l.check();
        assert.deepEqual(l.range(0, Math.max(0, m.length - 1)), m.length ? m : []);
        if (fill === -2 && m.length && m.length <= 4) assert.equal(l.encoding(), 'listpack');
      }
    }
  }
});

test('fromItems builds what pushAll builds on an empty list', () => {
  fc.assert(
    fc.property(fc.array(elem, { maxLength: 12 }), fc.constantFrom(-2, -1, 1, 2, 4, 8, 128), (items, fill) => {
      const ref = new ListValue();
      if (items.length > 0) ref.pushAll(items, 0, false, fill);
      const l = ListValue.fromItems(items, fill);
      assert.equal(l.encoding(), ref.encoding());
      assert.equal(l.length, ref.length);
      assert.equal(l.bytes(), ref.bytes());
      assert.deepEqual(l.toArray(), items);
      l.check();
      // Still a working list: push at both ends and pop.
      l.push('h', true);
      l.push('t', false);
      assert.deepEqual(l.toArray(), ['h', ...items, 't']);
      assert.equal(l.pop(true), 'h');
      assert.equal(l.pop(false), 't');
    }),
    { numRuns: 300 },
  );
});
