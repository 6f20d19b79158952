// The sorted set structure (src/data/zset.ts) against a naive model: a sorted
// array of [member, score] pairs. Random operation sequences include encoding
// conversions (listpack <-> skiplist), clones and rebuilds; small node sizes make
// the counted B+tree split, merge and change height on small sets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ZSet, ZTree, ZDict, parseLexBound, setNodeSizes, setShardThreshold, edgeM, edgeS } from '../../dist/src/data/zset.js';
import { parseScore } from '../../dist/src/commands/zset.js';

after(() => {
  setNodeSizes();
  setShardThreshold(1 << 16);
});

const cmpKey = (a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

class Model {
  constructor() {
    this.items = [];
  }
  find(m) {
    return this.items.findIndex((e) => e[0] === m);
  }
  score(m) {
    const i = this.find(m);
    return i < 0 ? undefined : this.items[i][1];
  }
  set(m, s) {
    const i = this.find(m);
    if (i >= 0) this.items.splice(i, 1);
    this.items.push([m, s]);
    this.items.sort(cmpKey);
  }
  remove(m) {
    const i = this.find(m);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}

const member = fc.oneof(
  fc.integer({ min: 0, max: 60 }).map((n) => `m${n}`),
  fc.constantFrom('', 'a', 'b', '\x00', '\xff', 'a\x00', 'A'),
  // Canonical integers are integer entries in a listpack (ordered by their decimal text).
  fc.integer({ min: -300, max: 300 }).map(String),
  fc.constantFrom('007', '-0', '9223372036854775807', '-9223372036854775808', '9223372036854775808', 'x'.repeat(70)),
);
const score = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(Infinity, -Infinity, 0.5, -0.5, 1e300, -0, 0.1, 1 / 3, 5e-324, -1e20, 123456789.125),
  // Around double2ll's 2^62 bound (integer entries inside, text beyond) and 2^63.
  fc.constantFrom(2 ** 53 + 2, 2 ** 62, -(2 ** 62), 2 ** 62 + 1024, -(2 ** 62) - 1024, 2 ** 63, -(2 ** 63), 2 ** 64),
);

const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('add'), m: member, s: score }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rem'), m: member }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('rank'), m: member }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('count'), a: score, b: score, ea: fc.boolean(), eb: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('walk'), start: fc.integer({ min: -2, max: 70 }), n: fc.integer({ min: 0, max: 80 }), rev: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remrange'), start: fc.integer({ min: 0, max: 70 }), n: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('pop'), max: fc.boolean(), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('full') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('compact') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('at'), r: fc.integer({ min: 0, max: 70 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lex'), a: member, b: member, ea: fc.boolean(), eb: fc.boolean() }) },
);

function check(z, model) {
  assert.equal(z.size, model.items.length);
  assert.equal(z.check(), null);
  const all = [];
  z.walk(0, z.size, false, (m, s) => all.push([m, s]));
  assert.deepEqual(all, model.items);
  if (z.dict !== null) {
    assert.equal(z.dict.size, model.items.length);
    for (const [m, sc] of model.items) assert.ok(Object.is(z.dict.get(m), sc), m);
    const keys = [];
    const it = z.dict.keys();
    for (let r = it.next(); !r.done; r = it.next()) keys.push(r.value);
    assert.deepEqual(keys.sort(), model.items.map((e) => e[0]).sort());
  }
}

function runOps(ops) {
  let z = new ZSet();
  const model = new Model();
  for (const o of ops) {
    if (o.t === 'add') {
      const cur = z.score(o.m);
      assert.equal(cur, model.score(o.m));
      // Compact encoding stores -0 as 0 (a listpack integer).
      const s = z.isCompact() && o.s === 0 ? 0 : o.s;
      if (cur === undefined) z.insert(o.m, o.s);
      else z.update(o.m, cur, o.s);
      model.set(o.m, s);
    } else if (o.t === 'rem') {
      assert.equal(z.remove(o.m), model.remove(o.m));
    } else if (o.t === 'rank') {
      const i = model.items.findIndex((e) => e[0] === o.m);
      assert.equal(z.rank(o.m), i);
    } else if (o.t === 'count') {
      const inRange = (s) => (o.ea ? s > o.a : s >= o.a) && (o.eb ? s < o.b : s <= o.b);
      const idx = model.items.map((e, i) => (inRange(e[1]) ? i : -1)).filter((i) => i >= 0);
      const [lo, hi] = z.scoreRange(o.a, o.ea, o.b, o.eb);
      assert.equal(hi - lo, idx.length);
      if (idx.length) assert.equal(lo, idx[0]);
    } else if (o.t === 'walk') {
      const got = [];
      z.walk(o.start, o.n, o.rev, (m, s) => got.push([m, s]));
      const src = o.rev ? [...model.items].reverse() : model.items;
      const want = o.start < 0 || o.n <= 0 ? [] : src.slice(o.start, o.start + o.n);
      if (o.start >= 0) assert.deepEqual(got, want);
    } else if (o.t === 'remrange') {
      const removed = [];
      const n = z.removeRange(o.start, o.n, (m, s) => removed.push([m, s]));
      const want = o.start < model.items.length ? model.items.slice(o.start, o.start + o.n) : [];
      assert.equal(n, want.length);
      assert.deepEqual(removed, want);
      for (const [m] of want) model.remove(m);
    } else if (o.t === 'pop') {
      // popEdge: the lowest (max: highest) member each time, into edgeM/edgeS.
      const n = Math.min(o.n, model.items.length);
      for (let i = 0; i < n; i++) {
        z.popEdge(o.max);
        const want = o.max ? model.items.pop() : model.items.shift();
        assert.deepEqual([edgeM, edgeS], want);
      }
      assert.equal(z.check(), null);
    } else if (o.t === 'full') {
      z.toFull();
    } else if (o.t === 'compact') {
      z.toCompact();
      for (const e of model.items) if (e[1] === 0) e[1] = 0;
    } else if (o.t === 'clone') {
      const c = z.clone();
      assert.equal(c.encoding(), z.encoding());
      z = c;
    } else if (o.t === 'at') {
      if (o.r < model.items.length) assert.deepEqual(z.at(o.r), model.items[o.r]);
      assert.deepEqual([...z.entries()], model.items);
    } else if (o.t === 'lex') {
      // Lex ranges are defined when all scores are equal: compare on such a copy.
      const ms = model.items.map((e) => e[0]).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const lz = ZSet.fromSorted(ms, ms.map(() => 7), z.isCompact());
      const lo = parseLexBound((o.ea ? '(' : '[') + o.a);
      const hi = parseLexBound((o.eb ? '(' : '[') + o.b);
      const want = ms.filter((m) => (o.ea ? m > o.a : m >= o.a) && (o.eb ? m < o.b : m <= o.b));
      const [x, y] = lz.lexRange(lo, hi);
      const got = [];
      lz.walk(x, y - x, false, (m) => got.push(m));
      assert.deepEqual(got, want);
    }
  }
  check(z, model);
}

test('ZSet matches a sorted-array model (small nodes: splits, merges, height changes; sharded index)', () => {
  setNodeSizes(4, 4);
  setShardThreshold(8);
  fc.assert(fc.property(fc.array(op, { minLength: 60, maxLength: 400 }), runOps), { numRuns: 300 });
});

test('ZSet matches a sorted-array model (default node sizes)', () => {
  setNodeSizes();
  setShardThreshold(1 << 16);
  fc.assert(fc.property(fc.array(op, { minLength: 100, maxLength: 600 }), runOps), { numRuns: 60 });
});

test('lex ranges on equal scores agree with byte order', () => {
  setNodeSizes(4, 4);
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', '\x00', '\xff', 'z'), maxLength: 3 }), { maxLength: 60 }),
      fc.constantFrom('-', '+', '[a', '(a', '[b', '(b\xff', '[', '(', '[z', '(\x00'),
      fc.constantFrom('-', '+', '[a', '(a', '[b', '(b\xff', '[', '(', '[z', '(\x00'),
      (members, a, b) => {
        const z = new ZSet();
        for (const m of members) z.insert(m, 0);
        const sorted = [...members].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const lo = parseLexBound(a);
        const hi = parseLexBound(b);
        const geMin = (m) => (a === '-' ? true : a === '+' ? false : lo.ex ? m > lo.value : m >= lo.value);
        const leMax = (m) => (b === '+' ? true : b === '-' ? false : hi.ex ? m < hi.value : m <= hi.value);
        const want = sorted.filter((m) => geMin(m) && leMax(m));
        const [x, y] = z.lexRange(lo, hi);
        const got = [];
        z.walk(x, y - x, false, (m) => got.push(m));
        assert.deepEqual(got, want);
      },
    ),
    { numRuns: 300 },
  );
});

test('fromSorted builds a valid tree of any size', () => {
  setNodeSizes();
  for (const n of [0, 1, 127, 128, 129, 5000, 100000]) {
    const m = [];
    const s = [];
    for (let i = 0; i < n; i++) {
      m.push(`m${String(i).padStart(6, '0')}`);
      s.push(Math.floor(i / 3));
    }
    const t = ZTree.fromSorted(m, s);
    assert.equal(t.check(), null);
    assert.equal(t.size, n);
    if (n > 10) {
      assert.equal(t.rank(m[n - 5], s[n - 5]), n - 5);
      const [l, i] = t.locate(n >> 1);
      assert.equal(l.m[i], m[n >> 1]);
      assert.equal(t.countScore(s[n >> 1], false), s.findIndex((x) => x === s[n >> 1]));
    }
  }
});

test('a large tree keeps its invariants through bulk inserts and deletes', () => {
  setNodeSizes();
  const z = new ZSet();
  z.toFull();
  const N = 60000;
  for (let i = 0; i < N; i++) z.insert(`k${i}`, (i * 7919) % 1000);
  assert.equal(z.check(), null);
  for (let i = 0; i < N; i += 2) assert.ok(z.remove(`k${i}`));
  assert.equal(z.check(), null);
  assert.equal(z.size, N / 2);
  let prev = -Infinity;
  z.walk(0, z.size, false, (_m, s) => {
    assert.ok(s >= prev);
    prev = s;
  });
  z.removeRange(100, z.size - 200);
  assert.equal(z.check(), null);
  assert.equal(z.size, 200);
});

test('score parsing follows string2d', () => {
  const ok = { '1': 1, '-1.5': -1.5, inf: Infinity, '-inf': -Infinity, '+inf': Infinity, '0x10': 16, '1e3': 1000, '-0': -0, '.5': 0.5, '0e5': 0 };
  for (const [s, v] of Object.entries(ok)) assert.ok(Object.is(parseScore(s), v), s);
  for (const s of ['', ' 1', '1 ', 'nan', 'x', '1e400', '-1e400', '1e-400', '1\x00', '0x', '-', '--1', '1-']) assert.equal(parseScore(s), null, JSON.stringify(s));
  // Plain integers (the fast path up to 15 digits, strtod beyond) read as Number() does.
  fc.assert(
    fc.property(fc.boolean(), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 22 }), (neg, digits) => {
      const s = (neg ? '-' : '') + digits.join('');
      assert.ok(Object.is(parseScore(s), Number(s)), s);
    }),
    { numRuns: 500 },
  );
});

test('ZDict: live iteration visits every member present throughout, across shards', () => {
  setShardThreshold(1 << 16);
  const d = new ZDict();
  const N = 70000; // past the split threshold
  for (let i = 0; i < N; i++) d.set(`m${i}`, i);
  assert.equal(d.size, N);
  const it = d.keys();
  const seen = new Set();
  let step = 0;
  for (let r = it.next(); !r.done; r = it.next()) {
    seen.add(r.value);
    if (++step % 1000 === 0) {
      d.delete(`m${N - step}`);
      d.set(`new${step}`, 1);
    }
  }
  for (let i = 0; i < N - step; i++) if (d.has(`m${i}`)) assert.ok(seen.has(`m${i}`));
  const c = d.clone();
  assert.equal(c.size, d.size);
  assert.equal(c.get('m5'), 5);
});

test('score updates that stay inside a leaf (moved in place) and edge pops keep order, counts and the index', () => {
  for (const [leaf, inner] of [[4, 4], [64, 64]]) {
    setNodeSizes(leaf, inner);
    const z = new ZSet();
    z.toFull();
    const model = new Map();
    let seed = 7;
    const rnd = (n) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 3000; i++) {
      z.insert(`m${i}`, i);
      model.set(`m${i}`, i);
    }
    for (let k = 0; k < 30000; k++) {
      const m = `m${rnd(3000)}`;
      const cur = z.score(m);
      if (cur === undefined) continue;
      // Mostly small steps (in place within a leaf), sometimes far jumps.
      const s = k % 10 === 0 ? rnd(4000) : cur + rnd(7) - 3 + (rnd(2) ? 0.5 : 0);
      if (s === cur) continue;
      z.update(m, cur, s);
      model.set(m, s);
      if (k % 1000 === 0) {
        const max = k % 2000 === 0;
        const sorted = [...model].sort(cmpKey);
        z.popEdge(max);
        assert.deepEqual([edgeM, edgeS], max ? sorted[sorted.length - 1] : sorted[0]);
        model.delete(edgeM);
      }
    }
    assert.equal(z.check(), null);
    const want = [...model].sort(cmpKey);
    const got = [];
    z.walk(0, z.size, false, (m, s) => got.push([m, s]));
    assert.deepEqual(got, want);
    for (const [m, s] of want) assert.equal(z.score(m), s);
    assert.equal(z.rank(want[want.length >> 1][0]), want.length >> 1);
  }
  setNodeSizes();
});

test('ZDict: an insert right after a missed get reuses the probe only for that member', () => {
  for (const shardAt of [8, 1 << 16]) {
    setShardThreshold(shardAt);
    const d = new ZDict();
    const model = new Map();
    let seed = 11;
    const rnd = (n) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let k = 0; k < 20000; k++) {
      const a = `m${rnd(500)}`;
      const b = `m${rnd(500)}`;
      const got = d.get(a);
      assert.equal(got, model.get(a));
      const op = rnd(5);
      if (op === 0) d.has(b); // another lookup in between
      if (op === 1) {
        d.delete(b);
        model.delete(b);
      }
      // Set a (the missed member, or after another lookup) or b.
      const m = op === 2 ? b : a;
      const v = rnd(1000) - 500;
      if (model.has(m)) d.replace(m, v);
      else d.set(m, v);
      model.set(m, v);
      assert.equal(d.size, model.size);
    }
    for (const [m, v] of model) assert.equal(d.get(m), v);
    let n = 0;
    for (let it = d.keys(), r = it.next(); !r.done; r = it.next()) {
      assert.ok(model.has(r.value));
      n++;
    }
    assert.equal(n, model.size);
  }
  setShardThreshold(1 << 16);
});

test('a compact set is the listpack Valkey writes (zzlInsertAt: integer scores within 2^62, else d2string text) and loads back as that string', async () => {
  const ZSET_LISTPACK = 17; // RDB type (format.ts's T is a const enum)
  const { ListpackWriter, RdbEncoder, RdbReader, readValue, DEFAULT_LOAD_LIMITS } = await import('../../dist/src/persistence/rdb/index.js');
  const { formatDouble } = await import('../../dist/src/util/numbers.js');
  const writerHex = (ms, ss) => {
    const w = new ListpackWriter();
    w.begin();
    for (let i = 0; i < ms.length; i++) {
      w.str(ms[i]);
      w.str(formatDouble(ss[i]));
    }
    return Buffer.from(w.finishBuffer()).toString('hex');
  };
  const load = (lp, lim = DEFAULT_LOAD_LIMITS) => {
    const e = new RdbEncoder(false);
    e.str(lp);
    return readValue(new RdbReader(e.take()), ZSET_LISTPACK, lim);
  };
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(member, score), { selector: (e) => e[0], maxLength: 40 }), (pairs) => {
      const z = new ZSet();
      for (const [m, s] of pairs) z.insert(m, s);
      const model = pairs.map(([m, s]) => [m, s === 0 ? 0 : s]).sort(cmpKey);
      assert.equal(z.check(), null);
      assert.equal(Buffer.from(z.lp, 'latin1').toString('hex'), writerHex(model.map((e) => e[0]), model.map((e) => e[1])));
      if (pairs.length === 0) {
        // An empty zset listpack is refused (Valkey: RESTORE refuses it, a file load skips the key).
        assert.throws(() => load(z.lp), /Empty zset/);
        return;
      }
      const back = load(z.lp);
      assert.equal(back.lp, z.lp);
      assert.deepEqual([...back.entries()], model);
    }),
    { numRuns: 300 },
  );
  // Score text other writers use (Redis 7.0's %.17g) is kept and read as strtod reads it.
  const w = new ListpackWriter();
  w.begin();
  for (const x of ['a', '0.10000000000000001', 'b', '2.5', 'c', 'inf']) w.str(x);
  const foreign = Buffer.from(w.finishBuffer()).toString('latin1');
  const z = load(foreign);
  assert.equal(z.lp, foreign);
  assert.deepEqual([...z.entries()], [['a', 0.1], ['b', 2.5], ['c', Infinity]]);
  assert.equal(z.score('b'), 2.5);
  // Past zset-max-listpack-entries: a skiplist.
  assert.equal(load(foreign, { ...DEFAULT_LOAD_LIMITS, zsetEntries: 2 }).encoding(), 'skiplist');
  // Odd entry counts, broken listpacks and NaN scores are corrupt; unusual score text is rebuilt.
  const lpOf = (...xs) => {
    const v = new ListpackWriter();
    v.begin();
    for (const x of xs) v.str(x);
    return Buffer.from(v.finishBuffer()).toString('latin1');
  };
  assert.throws(() => load(lpOf('a', '1', 'b')), /integrity/);
  assert.throws(() => load(foreign.slice(0, -2) + '\xff'), /integrity/);
  assert.throws(() => load(lpOf('a', 'nan')), /NAN/i);
  const hex = load(lpOf('a', '0x10', 'b', '1e1'));
  assert.deepEqual([...hex.entries()], [['b', 10], ['a', 16]]);
  assert.equal(hex.check(), null);
});

test('packed scores read back exactly (in-place decimal reader and strtod fallback)', () => {
  // Short decimals, plain and in exponent form (d2string writes 4.2e-11, 1.5e+20): the in-place reader's cases.
  const decimals = fc.tuple(fc.integer({ min: -999999999, max: 999999999 }), fc.integer({ min: -30, max: 30 })).map(([v, k]) => (k < 0 ? v * 10 ** -k : v / 10 ** k));
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.double({ noNaN: true }), decimals), { minLength: 1, maxLength: 30 }), (scores) => {
      const z = new ZSet();
      scores.forEach((s, i) => z.insert(`m${i}`, s));
      scores.forEach((s, i) => assert.ok(Object.is(z.score(`m${i}`), s === 0 ? 0 : s), `${s}`));
      assert.equal(z.check(), null);
    }),
    { numRuns: 300 },
  );
});
