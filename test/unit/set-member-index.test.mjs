// MemberIndex (src/data/member-index.ts), the hashtable encoding of sets and
// hashes: random operation sequences against a naive model, with small split
// and position thresholds so the sharded and wide forms are exercised too, and
// live iterators that must visit every member present throughout exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemberIndex, setMemberIndexTuning, prefetchMembers } from '../../dist/src/data/member-index.js';
import { hashKey } from '../../dist/src/data/keytable.js';

const DEFAULT_SHARD_AT = 1 << 16;
const DEFAULT_NARROW = 0xfffffe;

function check(idx, model) {
  assert.equal(idx.size, model.size);
  assert.equal(idx.keys.length, model.size);
  assert.equal(idx.vals.length, model.size);
  idx.keys.forEach((k, i) => {
    assert.equal(idx.find(k), i, `position of ${k}`);
    assert.equal(idx.vals[i], model.get(k));
  });
}

const op = fc.oneof(
  fc.record({ t: fc.constant('add'), k: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ t: fc.constant('add'), k: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ t: fc.constant('del'), k: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ t: fc.constant('delAt'), r: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  fc.record({ t: fc.constant('iter') }),
  fc.record({ t: fc.constant('step'), n: fc.integer({ min: 1, max: 20 }) }),
);

for (const [name, tuning] of [
  ['one table', { shardAt: DEFAULT_SHARD_AT, narrowMax: DEFAULT_NARROW }],
  ['sharded', { shardAt: 20, narrowMax: DEFAULT_NARROW }],
  ['sharded and wide positions', { shardAt: 30, narrowMax: 50 }],
]) {
  test(`MemberIndex against a model (${name})`, () => {
    setMemberIndexTuning(tuning);
    try {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
          const idx = new MemberIndex([], []);
          const model = new Map();
          // Live iterators: { it, start: Set of members at start, removed: Set, seen: Map count }
          const iters = [];
          const stepIter = (x, n) => {
            for (let i = 0; i < n && !x.finished; i++) {
              const r = x.it.next();
              if (r.done) x.finished = true;
              else x.seen.set(r.value, (x.seen.get(r.value) ?? 0) + 1);
            }
          };
          for (const o of ops) {
            if (o.t === 'add') {
              const k = `m${o.k}`;
              const v = `v${o.k}`;
              const p = idx.find(k);
              if (p >= 0) idx.vals[p] = v;
              else assert.equal(idx.insertAfterMiss(k, v), model.size);
              model.set(k, v);
            } else if (o.t === 'del') {
              const k = `m${o.k}`;
              const p = idx.remove(k);
              assert.equal(p >= 0, model.has(k));
              if (model.delete(k)) for (const x of iters) x.removed.add(k);
            } else if (o.t === 'delAt') {
              if (idx.keys.length === 0) continue;
              const p = Math.floor(o.r * idx.keys.length);
              const k = idx.keys[p];
              idx.removeAt(p);
              model.delete(k);
              for (const x of iters) x.removed.add(k);
            } else if (o.t === 'iter') {
              iters.push({ it: idx.iterator(), start: new Set(model.keys()), removed: new Set(), seen: new Map(), finished: false });
            } else {
              for (const x of iters) stepIter(x, o.n);
            }
          }
          check(idx, model);
          for (const x of iters) {
            stepIter(x, Infinity);
            for (const [k, n] of x.seen) assert.equal(n, 1, `visited ${k} ${n} times`);
            for (const k of x.start) if (!x.removed.has(k) && model.has(k)) assert.ok(x.seen.has(k), `missed ${k}`);
            for (const k of x.seen.keys()) assert.ok(x.start.has(k), `visited ${k}, added after the start`);
          }
          // A clone is a separate, equal index.
          const c = idx.clone(idx.keys.slice(), idx.vals.slice());
          check(c, model);
          c.add('extra', 'x');
          assert.equal(idx.find('extra'), -1);
        }),
        { numRuns: 150 },
      );
    } finally {
      setMemberIndexTuning({ shardAt: DEFAULT_SHARD_AT, narrowMax: DEFAULT_NARROW });
    }
  });
}

test('MemberIndex: duplicates in the adopted keys are indexed once (size tells)', () => {
  const idx = new MemberIndex(['a', 'b', 'a'], null);
  assert.equal(idx.size, 2);
  assert.equal(idx.find('a'), 0);
  assert.equal(idx.find('b'), 1);
});

test('MemberIndex: a large index splits and grows and keeps every position', () => {
  const idx = new MemberIndex([], null);
  const n = 200000;
  for (let i = 0; i < n; i++) assert.equal(idx.add(`element:${String(i).padStart(12, '0')}`), true);
  assert.equal(idx.size, n);
  for (let i = 0; i < n; i += 7) assert.equal(idx.find(`element:${String(i).padStart(12, '0')}`), i);
  assert.equal(idx.add('element:000000000003'), false);
  assert.ok(idx.indexBytes() < n * 16, `slots take a few bytes per member (${idx.indexBytes() / n})`);
  for (let i = 0; i < n; i += 2) assert.ok(idx.remove(`element:${String(i).padStart(12, '0')}`) >= 0);
  assert.equal(idx.size, n / 2);
  idx.keys.forEach((k, i) => {
    if (i % 997 === 0) assert.equal(idx.find(k), i);
  });
});

test('the member cursor is only a hint: finds, adds and removes after prefetchMembers() of any member list (in order, shifted, stale, other indexes) answer as a Map', () => {
  const pop = fc.oneof(
    fc.record({ t: fc.constant('add'), k: fc.integer({ min: 0, max: 120 }), x: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ t: fc.constant('del'), k: fc.integer({ min: 0, max: 120 }), x: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ t: fc.constant('find'), k: fc.integer({ min: 0, max: 120 }), x: fc.integer({ min: 0, max: 2 }) }),
    fc.record({
      t: fc.constant('pf'),
      ahead: fc.boolean(),
      shift: fc.integer({ min: -2, max: 2 }),
      n: fc.integer({ min: 2, max: 24 }),
      ks: fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 24, maxLength: 24 }),
      xs: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 24, maxLength: 24 }),
    }),
  );
  for (const tuning of [{ shardAt: DEFAULT_SHARD_AT, narrowMax: DEFAULT_NARROW }, { shardAt: 20, narrowMax: 50 }]) {
    setMemberIndexTuning(tuning);
    try {
      fc.assert(
        fc.property(fc.array(pop, { minLength: 200, maxLength: 800 }), (ops) => {
          // Three indexes (x = 3 in a prefetch list stands for a collection that is not indexed).
          const idxs = [new MemberIndex([], []), new MemberIndex([], []), new MemberIndex([], [])];
          const models = [new Map(), new Map(), new Map()];
          const hs = new Int32Array(64);
          const list = [];
          for (let i = 0; i < ops.length; i++) {
            const o = ops[i];
            if (o.t === 'pf') {
              // The members (and collections) of the next ops, as a pipeline's prefetch sees them, shifted, or random ones.
              list.length = 0;
              for (let j = 0; j < o.n; j++) {
                const nx = ops[i + 1 + j + o.shift];
                const [k, x] = o.ahead && nx !== undefined && nx.t !== 'pf' ? [nx.k, nx.x] : [o.ks[j], o.xs[j]];
                hs[j] = hashKey(`m${k}`);
                list.push(x === 3 ? null : idxs[x]);
              }
              prefetchMembers(list, hs, o.n);
              continue;
            }
            const idx = idxs[o.x];
            const m = models[o.x];
            const k = `m${o.k}`;
            if (o.t === 'add') {
              const p = idx.find(k);
              if (p >= 0) {
                assert.ok(m.has(k));
                assert.equal(idx.keys[p], k);
                idx.vals[p] = i;
              } else {
                assert.ok(!m.has(k));
                assert.equal(idx.insertAfterMiss(k, i), idx.keys.length - 1);
              }
              m.set(k, i);
            } else if (o.t === 'del') {
              assert.equal(idx.remove(k) >= 0, m.delete(k));
            } else {
              const p = idx.find(k);
              assert.equal(p >= 0, m.has(k));
              if (p >= 0) assert.equal(idx.vals[p], m.get(k));
            }
          }
          for (let x = 0; x < 3; x++) check(idxs[x], models[x]);
        }),
        { numRuns: 60 },
      );
    } finally {
      setMemberIndexTuning({ shardAt: DEFAULT_SHARD_AT, narrowMax: DEFAULT_NARROW });
    }
  }
});
