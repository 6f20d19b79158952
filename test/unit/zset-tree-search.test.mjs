// The counted B+tree of sorted sets (ZTree in src/data/zset.ts) at its default
// node sizes, where leaf and inner searches scan blocks of 8 keys: random
// inserts, deletes and score moves (in place and across leaves) on a tree of
// thousands of keys with many equal scores, checked against a model after every
// batch (order, ranks, counts, invariants). Also the member hashes the request
// parser records for the collection member prefetch (RequestParser.keyHashes).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ZTree, setNodeSizes } from '../../dist/src/data/zset.js';
import { RequestParser } from '../../dist/src/protocol/parser.js';
import { hashKey } from '../../dist/src/data/keytable.js';

after(() => setNodeSizes());

/** Deterministic PRNG (xorshift32). */
function rng(seed) {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const keyCmp = (a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.m < b.m ? -1 : a.m > b.m ? 1 : 0);

function verify(t, model) {
  assert.equal(t.check(), null);
  const want = [...model.entries()].map(([m, s]) => ({ m, s })).sort(keyCmp);
  assert.equal(t.size, want.length);
  const got = [];
  t.walk(0, t.size, false, (m, s) => got.push({ m, s }));
  assert.deepEqual(got, want);
  // Ranks and score counts of a sample of keys (the searches the moves use, and the counting ones).
  for (let i = 0; i < want.length; i += 97) {
    const e = want[i];
    assert.equal(t.rank(e.m, e.s), i);
    assert.equal(t.countScore(e.s, false), want.findIndex((x) => x.s === e.s));
  }
}

for (const [label, scoreRange, seed] of [
  ['many equal scores', 40, 7],
  ['few equal scores', 1e6, 11],
  ['-0, 0 and infinities among the scores', 0, 13],
]) {
  test(`ZTree at default node sizes: inserts, deletes and moves keep order, ranks and invariants (${label})`, () => {
    setNodeSizes();
    const r = rng(seed);
    const special = [-0, 0, Infinity, -Infinity, 0.5, -0.5];
    const score = () => (scoreRange === 0 ? special[r(special.length)] : r(scoreRange) - (scoreRange >> 1));
    const t = new ZTree();
    const model = new Map();
    const name = (i) => `m${(i * 2654435761) % 100003}:${i}`;
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 1500; k++) {
        const m = name(r(6000));
        const op = r(10);
        const cur = model.get(m);
        if (cur === undefined) {
          if (op < 8) {
            const s = score();
            t.insert(m, s);
            model.set(m, s);
          } else assert.equal(t.delete(m, score()), false);
        } else if (op < 7) {
          // A fresh copy of the member, as a command argument is.
          const ns = score();
          if (!Object.is(ns, cur) && ns !== cur) {
            t.move(Buffer.from(m, 'latin1').latin1Slice(), cur, ns);
            model.set(m, ns);
          }
        } else {
          assert.equal(t.delete(m, cur), true);
          model.delete(m);
        }
      }
      verify(t, model);
    }
    // Drain: merges and height changes on the way down.
    for (const [m, s] of [...model]) {
      assert.equal(t.delete(m, s), true);
      model.delete(m);
      if (model.size % 1000 === 0) verify(t, model);
    }
    assert.equal(t.size, 0);
  });
}

const frame = (...args) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((a) => Buffer.concat([Buffer.from(`$${Buffer.byteLength(a, 'latin1')}\r\n`), Buffer.from(a, 'latin1'), Buffer.from('\r\n')]))]);

test('keyHashes records the member of SADD/SREM/HSET/HGET/HDEL/ZREM/ZSCORE (argument 2) and ZADD/ZINCRBY (argument 3), in any case, and nothing for other commands', () => {
  const cmds = [
    [['ZADD', 'z', '1', 'a'], 'a'],
    [['zadd', 'z', '1', 'b', '2', 'c'], 'b'],
    [['ZINCRBY', 'z', '5', 'inc'], 'inc'],
    [['zIncrBy', 'z', '5', 'inc2'], 'inc2'],
    [['ZSCORE', 'z', 'sc'], 'sc'],
    [['zscore', 'z', 'sc2'], 'sc2'],
    [['ZREM', 'z', 'r1', 'r2'], 'r1'],
    [['SADD', 's', 'x'], 'x'],
    [['srem', 's', 'y'], 'y'],
    [['HSET', 'h', 'f', 'v'], 'f'],
    [['HGET', 'h', 'g'], 'g'],
    [['HDEL', 'h', 'd'], 'd'],
    [['GET', 'k'], null],
    [['SET', 'k', 'v'], null],
    [['ZCARD', 'z'], null],
    [['ZSCAN', 'z', '0'], null],
    [['ZADDX', 'z', '1', 'a'], null],
    [['ZRANGE', 'z', '0', '-1'], null],
    [['ZINCRBX', 'z', '1', 'a'], null],
    [['ZSCORF', 'z', 'a'], null],
    [['ZREMRANGEBYRANK', 'z', '0', '1'], null],
    [['ZMSCORE', 'z', 'a', 'b'], null],
    [['ZADD', 'z', '1'], null], // no member argument: nothing recorded
  ];
  const p = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  p.feed(Buffer.concat(cmds.map(([a]) => frame(...a))));
  const out = new Int32Array(64);
  const members = new Int32Array(64);
  const n = p.keyHashes(out, 64, members);
  assert.equal(n, cmds.length);
  assert.equal(p.scanned, cmds.length);
  let count = 0;
  for (let j = 0; j < n; j++) {
    const [args, m] = cmds[j];
    assert.equal(out[j], hashKey(args[1]), `key of ${args[0]}`);
    assert.equal(members[j], m === null ? 0 : hashKey(m), `member of ${args.join(' ')}`);
    if (m !== null) count++;
  }
  assert.equal(p.memberHashCount, count);
  // The look-ahead does not move the parser: the commands parse as sent (4-argument ones too).
  const seen = [];
  while (p.next() === 1) seen.push(p.argv.join(' '));
  assert.deepEqual(
    seen,
    cmds.map(([a]) => a.join(' ')),
  );
});
