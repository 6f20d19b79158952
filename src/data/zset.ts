// Sorted set: members (latin1 strings) ordered by (score, member bytes).
//
// Order is kept in a counted B+tree (ZTree): leaves hold parallel arrays of
// members and scores and are chained both ways; inner nodes hold, per child, its
// element count and a separator key (the smallest key of the next child, kept
// lazily: it stays a valid bound after deletions). That gives the bounds of
// Valkey's skiplist with spans -- insert, delete, rank, select-by-rank and
// "how many below a score / a member" in O(log N), ranges in O(log N + M) --
// with far fewer objects per member (two array cells instead of a node with
// level arrays), which is what keeps memory per member near Valkey's.
//
// The "listpack" encoding is a real Valkey listpack held in one latin1 string
// (./zset-packed.ts: member, score, ... in zset order, the bytes Valkey's
// zzlInsertAt writes), with no tree and no index: a small set is the ZSet
// object and one string, its RDB/DUMP blob is that string, and lookups walk
// it as Valkey's do. Converting to "skiplist" builds the tree and the ZDict.
import { ObjType, type DataObject } from '../keyspace/types.js';
import { MemberIndex, setMemberIndexTuning } from './member-index.js';
import { LP_EMPTY, LP_HDR, lpGet, lpPrev, lpSkip } from './listpack.js';
import * as zp from './zset-packed.js';

/**
 * Leaf capacity and inner fanout (variables only so tests can shrink them).
 * 64-member leaves: an insert or delete shifts half as many array cells as
 * with 128; with the splice-free shifts, a score update on a 100k set ran
 * about 13% fewer instructions and 25% fewer L1 misses (cachegrind), and the
 * 1M-member memory bench showed no growth per member.
 */
const DEF_LEAF_MAX = 64;
const DEF_INNER_MAX = 64;
let LEAF_MAX = DEF_LEAF_MAX;
let INNER_MAX = DEF_INNER_MAX;
let LEAF_MIN = LEAF_MAX >> 2;
let INNER_MIN = INNER_MAX >> 2;

/** Test hook: node sizes (small ones exercise splits and merges on small sets); no arguments: the defaults. */
export function setNodeSizes(leafMax: number = DEF_LEAF_MAX, innerMax: number = DEF_INNER_MAX): void {
  LEAF_MAX = Math.max(4, leafMax);
  INNER_MAX = Math.max(4, innerMax);
  LEAF_MIN = LEAF_MAX >> 2;
  INNER_MIN = Math.max(2, INNER_MAX >> 2);
}

export class ZLeaf {
  m: string[] = [];
  s: number[] = [];
  next: ZLeaf | null = null;
  prev: ZLeaf | null = null;
}

class ZInner {
  kids: ZNode[] = [];
  cnt: number[] = [];
  /** sepS[i], sepM[i]: a key k with max(kids[i]) < k <= min(kids[i+1]). */
  sepS: number[] = [];
  sepM: string[] = [];
}

type ZNode = ZLeaf | ZInner;

/** Inserts (m, s) at index p of a leaf (no splice: it allocates the array it returns). */
function leafInsert(l: ZLeaf, p: number, m: string, s: number): void {
  const am = l.m;
  const as = l.s;
  let k = am.length;
  am.push(m);
  as.push(s);
  for (; k > p; k--) {
    am[k] = am[k - 1];
    as[k] = as[k - 1];
  }
  am[p] = m;
  as[p] = s;
}

/** Removes the element at index p of a leaf. */
function leafRemove(l: ZLeaf, p: number): void {
  const am = l.m;
  const as = l.s;
  const last = am.length - 1;
  for (let k = p; k < last; k++) {
    am[k] = am[k + 1];
    as[k] = as[k + 1];
  }
  am.pop();
  as.pop();
}

/** (s1, m1) < (s2, m2) in zset order. */
function keyLess(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

// Predicates of "below a bound": mode and bound live in module state to keep
// the descent free of closures.
const enum Mode {
  /** score < t (or <= t when orEq) */
  Score = 0,
  /** member < t (or <= t when orEq); meaningful when all scores are equal */
  Lex = 1,
  /** key < (t, tm) */
  Key = 2,
}

let qMode: Mode = Mode.Key;
let qS = 0;
let qM = '';
let qEq = false;

function below(s: number, m: string): boolean {
  switch (qMode) {
    case Mode.Score:
      return s < qS || (qEq && s === qS);
    case Mode.Lex:
      return m < qM || (qEq && m === qM);
    default:
      return s < qS || (s === qS && m < qM);
  }
}

/** Number of leading elements of a leaf that are below the bound (binary search). */
function leafBelow(l: ZLeaf): number {
  let lo = 0;
  let hi = l.m.length;
  const m = l.m;
  const s = l.s;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(s[mid], m[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of separators of an inner node that are below the bound. */
function innerBelow(n: ZInner): number {
  let lo = 0;
  let hi = n.sepS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(n.sepS[mid], n.sepM[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Index of the child of `n` that holds (or would hold) the key (s, m): the
 * number of separators <= the key. Inner and leaf searches (leafPos) scan
 * blocks of 8 scores, then one by one, and read a member only on a score tie:
 * sequential loads and predictable branches. On a 100k-member set a score
 * update (delete + insert) ran 10-15% faster than with binary searches, whose
 * dependent loads and mispredicted branches wait for each cache miss in turn.
 */
function childFor(n: ZInner, s: number, m: string): number {
  return scanPos(n.sepS, n.sepM, s, m, true);
}

/**
 * Position of the key (s, m) in sorted parallel arrays of scores and members:
 * the number of entries below it, plus the equal one when `incl`.
 */
function scanPos(ss: number[], sm: string[], s: number, m: string, incl: boolean): number {
  const len = ss.length;
  let i = 0;
  while (i + 8 <= len && ss[i + 7] < s) i += 8;
  while (i < len && ss[i] < s) i++;
  if (i < len && ss[i] === s) {
    if (incl) while (i < len && ss[i] === s && !(m < sm[i])) i++;
    else while (i < len && ss[i] === s && sm[i] < m) i++;
  }
  return i;
}

/** Number of elements of a leaf below the key (s, m) (the member is read only on a score tie). */
function leafPos(l: ZLeaf, s: number, m: string): number {
  return scanPos(l.s, l.m, s, m, false);
}

/** The path of the last descent (ZTree.descend, insert): inner nodes and child indexes from the root. */
const pathN: (ZInner | null)[] = [];
const pathI: number[] = [];
let pathD = 0;

function clearPath(): void {
  for (let k = 0; k < pathD; k++) pathN[k] = null;
}

function nodeSize(n: ZNode): number {
  if (n instanceof ZLeaf) return n.m.length;
  let t = 0;
  const c = n.cnt;
  for (let i = 0; i < c.length; i++) t += c[i];
  return t;
}

function firstLeaf(n: ZNode): ZLeaf {
  while (!(n instanceof ZLeaf)) n = n.kids[0];
  return n;
}

function lastLeaf(n: ZNode): ZLeaf {
  while (!(n instanceof ZLeaf)) n = n.kids[n.kids.length - 1];
  return n;
}

/**
 * Moves the element at index p of a leaf to its place for the new score ns
 * (which must stay within the leaf's range), shifting only the cells between.
 */
function leafMove(l: ZLeaf, p: number, m: string, ns: number): void {
  const am = l.m;
  const as = l.s;
  const len = am.length;
  // Keep the stored string (the index's key): the caller's copy is a fresh
  // argument that would otherwise stay alive next to it.
  const stored = am[p];
  let q = p;
  if (keyLess(ns, m, as[p], m)) {
    while (q > 0 && keyLess(ns, m, as[q - 1], am[q - 1])) {
      am[q] = am[q - 1];
      as[q] = as[q - 1];
      q--;
    }
  } else {
    while (q < len - 1 && keyLess(as[q + 1], am[q + 1], ns, m)) {
      am[q] = am[q + 1];
      as[q] = as[q + 1];
      q++;
    }
  }
  am[q] = stored;
  as[q] = ns;
}

/** The element an edge deletion removed. */
export let edgeM = '';
export let edgeS = 0;

/** Counted B+tree of (score, member) keys. Keys must be unique. */
export class ZTree {
  root: ZNode = new ZLeaf();
  size = 0;

  /** Inserts a key known to be absent. */
  insert(m: string, s: number): void {
    const n = this.descend(s, m);
    const d = pathD;
    for (let k = 0; k < d; k++) pathN[k]!.cnt[pathI[k]]++;
    leafInsert(n, leafPos(n, s, m), m, s);
    this.size++;
    if (n.m.length > LEAF_MAX) this.splitUp(n, d);
    for (let k = 0; k < d; k++) pathN[k] = null;
  }

  /** Splits an overfull leaf, and then each overfull node on the path above it (pathN/pathI, depth d). */
  private splitUp(leaf: ZLeaf, d: number): void {
    const half = leaf.m.length >> 1;
    const r = new ZLeaf();
    r.m = leaf.m.splice(half);
    r.s = leaf.s.splice(half);
    r.next = leaf.next;
    if (r.next !== null) r.next.prev = r;
    r.prev = leaf;
    leaf.next = r;
    let sn: ZNode = r;
    let sS = r.s[0];
    let sM = r.m[0];
    for (let k = d - 1; k >= 0; k--) {
      const n = pathN[k]!;
      const i = pathI[k];
      const moved = nodeSize(sn);
      n.cnt[i] -= moved;
      n.kids.splice(i + 1, 0, sn);
      n.cnt.splice(i + 1, 0, moved);
      n.sepS.splice(i, 0, sS);
      n.sepM.splice(i, 0, sM);
      if (n.kids.length <= INNER_MAX) return;
      const h = n.kids.length >> 1;
      const rn = new ZInner();
      rn.kids = n.kids.splice(h);
      rn.cnt = n.cnt.splice(h);
      // Separators: n keeps h-1, one moves up, rn gets the rest.
      rn.sepS = n.sepS.splice(h);
      rn.sepM = n.sepM.splice(h);
      sS = n.sepS.pop()!;
      sM = n.sepM.pop()!;
      sn = rn;
    }
    const root = new ZInner();
    root.kids.push(this.root, sn);
    root.cnt.push(nodeSize(this.root), nodeSize(sn));
    root.sepS.push(sS);
    root.sepM.push(sM);
    this.root = root;
  }

  /** The leaf that holds (or would hold) (s, m), with the path to it in pathN/pathI (depth in pathD). */
  private descend(s: number, m: string): ZLeaf {
    let n = this.root;
    let d = 0;
    while (!(n instanceof ZLeaf)) {
      const i = childFor(n, s, m);
      pathN[d] = n;
      pathI[d++] = i;
      n = n.kids[i];
    }
    pathD = d;
    return n;
  }

  /** After removing one element from the leaf at the end of the path: counts, merges, size, root. */
  private removed(): void {
    for (let k = pathD - 1; k >= 0; k--) {
      const n = pathN[k]!;
      pathN[k] = null;
      const i = pathI[k];
      n.cnt[i]--;
      const kid = n.kids[i];
      const min = kid instanceof ZLeaf ? LEAF_MIN : INNER_MIN;
      const len = kid instanceof ZLeaf ? kid.m.length : kid.kids.length;
      if (len < min && n.kids.length > 1) this.rebalance(n, i);
    }
    this.size--;
    const r = this.root;
    if (r instanceof ZInner && r.kids.length === 1) this.root = r.kids[0];
  }

  /** Deletes the key (s, m); returns false if absent. */
  delete(m: string, s: number): boolean {
    const l = this.descend(s, m);
    const p = leafPos(l, s, m);
    if (p >= l.m.length || l.s[p] !== s || l.m[p] !== m) {
      clearPath();
      return false;
    }
    leafRemove(l, p);
    this.removed();
    return true;
  }

  /**
   * Changes the score of the key (m, s) to ns: in place within its leaf when
   * the new key stays inside the leaf's range, else delete and insert. The
   * key must be present.
   */
  move(m: string, s: number, ns: number): void {
    const l = this.descend(s, m);
    const p = leafPos(l, s, m);
    const am = l.m;
    const len = am.length;
    if (p >= len || l.s[p] !== s || am[p] !== m) {
      clearPath();
      this.insert(m, ns);
      return;
    }
    // Keep the stored string (the index's key): the caller's copy is a fresh
    // argument that would otherwise stay alive next to it.
    const stored = am[p];
    if (len >= 3) {
      // A score change that keeps the member strictly inside this leaf's
      // range (its other elements) moves it within the leaf: counts and
      // separators above stay valid.
      const lo = p === 0 ? 1 : 0;
      const hi = p === len - 1 ? len - 2 : len - 1;
      const as = l.s;
      if (keyLess(as[lo], am[lo], ns, m) && keyLess(ns, m, as[hi], am[hi])) {
        leafMove(l, p, m, ns);
        clearPath();
        return;
      }
    }
    leafRemove(l, p);
    this.removed();
    this.insert(stored, ns);
  }

  /** Removes the first (or, max, the last) element into edgeM/edgeS; the tree must not be empty. */
  deleteEdge(max: boolean): void {
    this.deleteEdgeAt(this.root, max);
    this.size--;
    const r = this.root;
    if (r instanceof ZInner && r.kids.length === 1) this.root = r.kids[0];
  }

  private deleteEdgeAt(n: ZNode, max: boolean): void {
    if (n instanceof ZLeaf) {
      if (max) {
        edgeM = n.m.pop()!;
        edgeS = n.s.pop()!;
      } else {
        edgeM = n.m[0];
        edgeS = n.s[0];
        leafRemove(n, 0);
      }
      return;
    }
    const cnt = n.cnt;
    // Skip emptied children (a leaf can empty out when no merge fits).
    let i: number;
    if (max) {
      i = cnt.length - 1;
      while (cnt[i] === 0) i--;
    } else {
      i = 0;
      while (cnt[i] === 0) i++;
    }
    const kid = n.kids[i];
    this.deleteEdgeAt(kid, max);
    cnt[i]--;
    const min = kid instanceof ZLeaf ? LEAF_MIN : INNER_MIN;
    const len = kid instanceof ZLeaf ? kid.m.length : kid.kids.length;
    if (len < min && n.kids.length > 1) this.rebalance(n, i);
  }

  /** Merges a small child with a neighbour when they fit in one node. */
  private rebalance(n: ZInner, i: number): void {
    const j = i + 1 < n.kids.length ? i : i - 1; // merge kids[j] and kids[j+1]
    const a = n.kids[j];
    const b = n.kids[j + 1];
    if (a instanceof ZLeaf) {
      const bl = b as ZLeaf;
      if (a.m.length + bl.m.length > LEAF_MAX) return;
      for (let k = 0; k < bl.m.length; k++) {
        a.m.push(bl.m[k]);
        a.s.push(bl.s[k]);
      }
      a.next = bl.next;
      if (a.next !== null) a.next.prev = a;
    } else {
      const bi = b as ZInner;
      if (a.kids.length + bi.kids.length > INNER_MAX) return;
      a.sepS.push(n.sepS[j]);
      a.sepM.push(n.sepM[j]);
      for (let k = 0; k < bi.kids.length; k++) {
        a.kids.push(bi.kids[k]);
        a.cnt.push(bi.cnt[k]);
        if (k < bi.sepS.length) {
          a.sepS.push(bi.sepS[k]);
          a.sepM.push(bi.sepM[k]);
        }
      }
    }
    n.cnt[j] += n.cnt[j + 1];
    n.kids.splice(j + 1, 1);
    n.cnt.splice(j + 1, 1);
    n.sepS.splice(j, 1);
    n.sepM.splice(j, 1);
  }

  /** Number of elements below the current bound (module query state). */
  private countBelow(): number {
    let n = this.root;
    let acc = 0;
    while (n instanceof ZInner) {
      const i = innerBelow(n);
      for (let k = 0; k < i; k++) acc += n.cnt[k];
      n = n.kids[i];
    }
    return acc + leafBelow(n);
  }

  /** Number of elements with score < t (orEq: <= t). */
  countScore(t: number, orEq: boolean): number {
    qMode = Mode.Score;
    qS = t;
    qEq = orEq;
    return this.countBelow();
  }

  /** Number of elements with member < t (orEq: <= t), in a set of equal scores. */
  countLex(t: string, orEq: boolean): number {
    qMode = Mode.Lex;
    qM = t;
    qEq = orEq;
    return this.countBelow();
  }

  /** 0-based rank of the key (s, m), which must be present. */
  rank(m: string, s: number): number {
    qMode = Mode.Key;
    qS = s;
    qM = m;
    return this.countBelow();
  }

  /** Leaf and index of the element at a rank (0 <= rank < size). */
  locate(rank: number): [ZLeaf, number] {
    let n = this.root;
    while (n instanceof ZInner) {
      let i = 0;
      const cnt = n.cnt;
      while (rank >= cnt[i]) {
        rank -= cnt[i];
        i++;
      }
      n = n.kids[i];
    }
    return [n, rank];
  }

  first(): ZLeaf {
    return firstLeaf(this.root);
  }

  last(): ZLeaf {
    return lastLeaf(this.root);
  }

  /** Calls fn for `count` elements from `start` (ascending) or from rank size-1-start downwards (rev). */
  walk(start: number, count: number, rev: boolean, fn: (m: string, s: number) => void): void {
    if (count <= 0 || start < 0 || start >= this.size) return;
    let [leaf, i] = this.locate(rev ? this.size - 1 - start : start);
    let l: ZLeaf | null = leaf;
    while (count > 0 && l !== null) {
      if (i < 0 || i >= l.m.length) {
        l = rev ? l.prev : l.next;
        if (l === null) break;
        i = rev ? l.m.length - 1 : 0;
        continue;
      }
      fn(l.m[i], l.s[i]);
      count--;
      i += rev ? -1 : 1;
    }
  }

  clear(): void {
    this.root = new ZLeaf();
    this.size = 0;
  }

  /** Builds a tree from keys already sorted and unique. */
  static fromSorted(m: string[], s: number[]): ZTree {
    const t = new ZTree();
    const n = m.length;
    t.size = n;
    if (n <= LEAF_MAX) {
      const l = t.root as ZLeaf;
      l.m = m.slice();
      l.s = s.slice();
      return t;
    }
    // Leaves about 3/4 full, then inner levels.
    const per = (LEAF_MAX * 3) >> 2;
    let level: ZNode[] = [];
    let prev: ZLeaf | null = null;
    for (let i = 0; i < n; i += per) {
      const l = new ZLeaf();
      l.m = m.slice(i, i + per);
      l.s = s.slice(i, i + per);
      l.prev = prev;
      if (prev !== null) prev.next = l;
      prev = l;
      level.push(l);
    }
    const fan = (INNER_MAX * 3) >> 2;
    while (level.length > 1) {
      const up: ZNode[] = [];
      for (let i = 0; i < level.length; i += fan) {
        const nd = new ZInner();
        const end = Math.min(level.length, i + fan);
        for (let k = i; k < end; k++) {
          const kid = level[k];
          nd.kids.push(kid);
          nd.cnt.push(nodeSize(kid));
          if (k > i) {
            const fl = firstLeaf(kid);
            nd.sepS.push(fl.s[0]);
            nd.sepM.push(fl.m[0]);
          }
        }
        up.push(nd);
      }
      level = up;
    }
    t.root = level[0];
    return t;
  }

  /** Checks the invariants (tests). Returns an error message or null. */
  check(): string | null {
    let count = 0;
    let ps = -Infinity;
    let pm: string | null = null;
    for (let l: ZLeaf | null = this.first(); l !== null; l = l.next) {
      if (l.next !== null && l.next.prev !== l) return 'broken prev link';
      for (let i = 0; i < l.m.length; i++) {
        if (pm !== null && !keyLess(ps, pm, l.s[i], l.m[i])) return `order broken at ${count}`;
        ps = l.s[i];
        pm = l.m[i];
        count++;
      }
    }
    if (count !== this.size) return `size ${this.size} but ${count} elements`;
    const rec = (n: ZNode, lo: [number, string] | null, hi: [number, string] | null): string | null => {
      if (n instanceof ZLeaf) {
        for (let i = 0; i < n.m.length; i++) {
          if (lo !== null && keyLess(n.s[i], n.m[i], lo[0], lo[1])) return 'element below separator';
          if (hi !== null && !keyLess(n.s[i], n.m[i], hi[0], hi[1])) return 'element not below separator';
        }
        return null;
      }
      if (n.sepS.length !== n.kids.length - 1) return 'separator count';
      for (let i = 0; i < n.kids.length; i++) {
        if (n.cnt[i] !== nodeSize(n.kids[i])) return 'bad count';
        const e = rec(n.kids[i], i === 0 ? lo : [n.sepS[i - 1], n.sepM[i - 1]], i === n.kids.length - 1 ? hi : [n.sepS[i], n.sepM[i]]);
        if (e) return e;
      }
      return null;
    };
    return rec(this.root, null, null);
  }
}

/** Test hook: the size at which a member index splits into shards (shared with sets and hashes). */
export function setShardThreshold(n: number): void {
  setMemberIndexTuning({ shardAt: n });
}

/**
 * member -> score for the skiplist encoding: a MemberIndex (dense members, an
 * open-addressing index split into shards past 65,536 members, so no insert
 * rehashes more than a shard; see src/data/member-index.ts) with the scores
 * in the parallel `vals` array. Its hash is the keyspace's cheap one, where a
 * JS Map makes V8 hash every fresh argument string, and it costs fewer bytes
 * per member than a Map entry.
 */
export class ZDict {
  private readonly idx: MemberIndex<number>;
  /** The member get() found last and its position (valid until the next insert or delete). */
  private lastK: string | null = null;
  private lastP = -1;
  /**
   * The member the index's last find() missed (get() then set(): ZADD of a new
   * member inserts where the lookup stopped, without hashing it again); null
   * after any other lookup or change.
   */
  private missK: string | null = null;

  constructor(idx: MemberIndex<number> | null = null) {
    this.idx = idx !== null ? idx : new MemberIndex<number>([], []);
  }

  /** The index itself, read-only (member prefetch of pipelined ZADD/ZSCORE/ZINCRBY/ZREM). */
  get index(): MemberIndex<number> {
    return this.idx;
  }

  get size(): number {
    return this.idx.size;
  }

  get(m: string): number | undefined {
    const p = this.idx.find(m);
    if (p < 0) {
      this.missK = m;
      return undefined;
    }
    this.missK = null;
    // Remember the position: ZADD looks a member up, then replaces its score.
    this.lastK = m;
    this.lastP = p;
    return this.idx.vals![p];
  }

  has(m: string): boolean {
    this.missK = null;
    return this.idx.find(m) >= 0;
  }

  set(m: string, v: number): void {
    const idx = this.idx;
    if (m === this.missK) {
      this.missK = null;
      this.lastK = null;
      idx.insertAfterMiss(m, v);
      return;
    }
    this.missK = null;
    const p = idx.find(m);
    if (p >= 0) idx.vals![p] = v;
    else {
      this.lastK = null;
      idx.insertAfterMiss(m, v);
    }
  }

  /** Sets the value of a member known to be present. */
  replace(m: string, v: number): void {
    if (m === this.lastK) this.idx.vals![this.lastP] = v;
    else this.set(m, v);
  }

  delete(m: string): boolean {
    this.lastK = null;
    this.missK = null;
    return this.idx.remove(m) >= 0;
  }

  /** The object live iterators depend on. */
  get source(): object {
    return this.idx;
  }

  /** A live iterator over the members (see MemberIndex: a member present throughout is visited once). */
  keys(): Iterator<string> {
    return this.idx.iterator();
  }

  clone(): ZDict {
    return new ZDict(this.idx.clone<number>(this.idx.keys.slice(), this.idx.vals!.slice()));
  }
}

/**
 * A sorted set value. The listpack encoding is a Valkey listpack string
 * (./zset-packed.ts) and nothing else; the skiplist encoding is the ordered
 * tree plus member -> score.
 */
export class ZSet implements DataObject {
  // On the prototype (set below the class): one field less per sorted set.
  declare readonly objType: ObjType.ZSet;
  /** The listpack (member, score, ... in order) while compact; null in the skiplist encoding. */
  lp: string | null = LP_EMPTY;
  /** The ordered tree; null while compact. */
  tree: ZTree | null = null;
  /** member -> score; null while compact. */
  dict: ZDict | null = null;

  get size(): number {
    const lp = this.lp;
    if (lp !== null) return zp.zpSize(lp);
    return this.tree!.size;
  }

  encoding(): string {
    return this.lp !== null ? 'listpack' : 'skiplist';
  }

  isCompact(): boolean {
    return this.lp !== null;
  }

  /** A compact set holding this listpack (pairs in zset order; validated by the caller). */
  static fromListpack(lp: string): ZSet {
    const z = new ZSet();
    z.lp = lp;
    return z;
  }

  /** Checks the invariants (tests). Returns an error message or null. */
  check(): string | null {
    if (this.lp !== null) return zp.zpCheck(this.lp);
    return this.tree!.check();
  }

  clone(): ZSet {
    const z = new ZSet();
    // A listpack is an immutable string: the copy shares it.
    z.lp = this.lp;
    if (this.lp !== null) return z;
    const m: string[] = [];
    const s: number[] = [];
    this.tree!.walk(0, this.size, false, (mm, ss) => {
      m.push(mm);
      s.push(ss);
    });
    z.tree = ZTree.fromSorted(m, s);
    if (this.dict !== null) z.dict = this.dict.clone();
    return z;
  }

  /** Switches to the skiplist encoding (member -> score map). */
  toFull(): void {
    const lp = this.lp;
    if (lp === null) return;
    const ms: string[] = [];
    const ss: number[] = [];
    zp.zpArrays(lp, ms, ss);
    this.tree = ZTree.fromSorted(ms, ss);
    this.dict = new ZDict(new MemberIndex<number>(ms, ss));
    this.lp = null;
  }

  /** Switches to the compact encoding. */
  toCompact(): void {
    if (this.lp !== null) return;
    const ms: string[] = [];
    const ss: number[] = [];
    for (let l: ZLeaf | null = this.tree!.first(); l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) {
        ms.push(l.m[i]);
        ss.push(l.s[i]);
      }
    }
    this.lp = zp.zpFromSorted(ms, ss);
    this.tree = null;
    this.dict = null;
  }

  score(m: string): number | undefined {
    const lp = this.lp;
    if (lp === null) return this.dict!.get(m);
    const p = zp.zpFind(lp, m);
    if (p < 0) return undefined;
    // ZADD looks a member up, then updates it: remember where it was.
    lastLp = lp;
    lastM = m;
    lastP = p;
    return zp.zpScoreAt(lp, lpSkip(lp, p));
  }

  has(m: string): boolean {
    return this.score(m) !== undefined;
  }

  /** Adds a member known to be absent. */
  insert(m: string, s: number): void {
    const lp = this.lp;
    if (lp !== null) {
      // A listpack stores an integral score as an integer: -0 comes back as 0.
      this.lp = zp.zpInsert(lp, m, s);
      return;
    }
    this.tree!.insert(m, s);
    this.dict!.set(m, s);
  }

  /** Changes the score of a present member. */
  update(m: string, oldScore: number, s: number): void {
    const lp = this.lp;
    if (lp !== null) {
      const p = lp === lastLp && m === lastM ? lastP : zp.zpFind(lp, m);
      lastLp = null;
      this.lp = zp.zpUpdate(lp, p, s);
      return;
    }
    this.tree!.move(m, oldScore, s);
    this.dict!.replace(m, s);
  }

  /** Removes the lowest (max: the highest) member into edgeM/edgeS; the set must not be empty. */
  popEdge(max: boolean): void {
    const lp = this.lp;
    if (lp !== null) {
      const p = max ? lpPrev(lp, lpPrev(lp, lp.length - 1)) : LP_HDR;
      edgeM = lpGet(lp, p);
      edgeS = zp.zpScoreAt(lp, lpSkip(lp, p));
      this.lp = zp.zpRemoveAt(lp, p);
      return;
    }
    this.tree!.deleteEdge(max);
    this.dict!.delete(edgeM);
  }

  /** Removes a member; returns false if absent. */
  remove(m: string): boolean {
    const lp = this.lp;
    if (lp !== null) {
      const p = zp.zpFind(lp, m);
      if (p < 0) return false;
      this.lp = zp.zpRemoveAt(lp, p);
      return true;
    }
    const s = this.score(m);
    if (s === undefined) return false;
    this.tree!.delete(m, s);
    this.dict!.delete(m);
    return true;
  }

  /** 0-based ascending rank of a member, or -1. */
  rank(m: string): number {
    if (this.lp !== null) return zp.zpRank(this.lp, m);
    const s = this.score(m);
    if (s === undefined) return -1;
    return this.tree!.rank(m, s);
  }

  /** 0-based ascending rank of a member known to be present with score s. */
  rankOf(m: string, s: number): number {
    if (this.lp !== null) return zp.zpRank(this.lp, m);
    return this.tree!.rank(m, s);
  }

  /** Rank range [lo, hi) of elements with score within the range. */
  scoreRange(min: number, minEx: boolean, max: number, maxEx: boolean): [number, number] {
    const lp = this.lp;
    const lo = lp !== null ? zp.zpCountScore(lp, min, minEx) : this.tree!.countScore(min, minEx);
    const hi = lp !== null ? zp.zpCountScore(lp, max, !maxEx) : this.tree!.countScore(max, !maxEx);
    return [lo, hi < lo ? lo : hi];
  }

  /** Rank range [lo, hi) of elements within a lex range (see LexBound). */
  lexRange(min: LexBound, max: LexBound): [number, number] {
    let lo: number;
    const lp = this.lp;
    if (min.kind === LexKind.Min) lo = 0;
    else if (min.kind === LexKind.Max) lo = this.size;
    else lo = lp !== null ? zp.zpCountLex(lp, min.value, min.ex) : this.tree!.countLex(min.value, min.ex);
    let hi: number;
    if (max.kind === LexKind.Max) hi = this.size;
    else if (max.kind === LexKind.Min) hi = 0;
    else hi = lp !== null ? zp.zpCountLex(lp, max.value, !max.ex) : this.tree!.countLex(max.value, !max.ex);
    return [lo, hi < lo ? lo : hi];
  }

  /** Calls fn for count elements starting at rank start (rev: counted from the top). */
  walk(start: number, count: number, rev: boolean, fn: (m: string, s: number) => void): void {
    if (this.lp !== null) zp.zpWalk(this.lp, start, count, rev, fn);
    else this.tree!.walk(start, count, rev, fn);
  }

  /** Removes `count` elements from ascending rank `start`; calls fn for each. */
  removeRange(start: number, count: number, fn?: (m: string, s: number) => void): number {
    if (count <= 0) return 0;
    const ms: string[] = [];
    const ss: number[] = [];
    const lp = this.lp;
    if (lp !== null) {
      const n = zp.zpSize(lp);
      if (start < 0 || start >= n) return 0;
      if (count > n - start) count = n - start;
      const from = zp.zpAt(lp, start, n);
      let to = from;
      for (let k = 0; k < count; k++) {
        const q = lpSkip(lp, to);
        ms.push(lpGet(lp, to));
        ss.push(zp.zpScoreAt(lp, q));
        to = lpSkip(lp, q);
      }
      this.lp = zp.zpRemove(lp, from, to, count);
    } else {
      const tree = this.tree!;
      tree.walk(start, count, false, (m, s) => {
        ms.push(m);
        ss.push(s);
      });
      if (ms.length === this.size) {
        tree.clear();
        this.dict = new ZDict();
      } else {
        for (let i = 0; i < ms.length; i++) {
          tree.delete(ms[i], ss[i]);
          this.dict!.delete(ms[i]);
        }
      }
    }
    if (fn) for (let i = 0; i < ms.length; i++) fn(ms[i], ss[i]);
    return ms.length;
  }

  /** Member at a rank and its score. */
  at(rank: number): [string, number] {
    const lp = this.lp;
    if (lp !== null) {
      // Random picks (ZRANDMEMBER with a count) call this many times on one
      // listpack: from the second call on the same one, decode it once and
      // index the arrays while it is unchanged.
      if (lp !== atLp) {
        if (lp !== atFirst) {
          atFirst = lp;
          const p = zp.zpAt(lp, rank, zp.zpSize(lp));
          return [lpGet(lp, p), zp.zpScoreAt(lp, lpSkip(lp, p))];
        }
        atMs.length = 0;
        atSs.length = 0;
        zp.zpArrays(lp, atMs, atSs);
        atLp = lp;
      }
      return [atMs[rank], atSs[rank]];
    }
    const [l, i] = this.tree!.locate(rank);
    return [l.m[i], l.s[i]];
  }

  /** Every member in order (ascending). */
  *entries(): IterableIterator<[string, number]> {
    const lp = this.lp;
    if (lp !== null) {
      const end = lp.length - 1;
      for (let p = LP_HDR; p < end; ) {
        const q = lpSkip(lp, p);
        yield [lpGet(lp, p), zp.zpScoreAt(lp, q)];
        p = lpSkip(lp, q);
      }
      return;
    }
    for (let l: ZLeaf | null = this.tree!.first(); l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) yield [l.m[i], l.s[i]];
    }
  }

  /** Builds a set from members and scores sorted in zset order. */
  static fromSorted(m: string[], s: number[], compact: boolean): ZSet {
    const z = new ZSet();
    if (compact) {
      z.lp = zp.zpFromSorted(m, s);
      return z;
    }
    z.lp = null;
    z.tree = ZTree.fromSorted(m, s);
    z.dict = new ZDict(new MemberIndex<number>(m.slice(), s.slice()));
    return z;
  }

  /** Builds a set from unsorted unique (member, score) pairs given as a Map. */
  static fromMap(d: Map<string, number>, compact: boolean): ZSet {
    const pairs: [string, number][] = Array.from(d);
    pairs.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const m = new Array<string>(pairs.length);
    const s = new Array<number>(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      m[i] = pairs[i][0];
      s[i] = pairs[i][1];
    }
    const z = new ZSet();
    if (compact) {
      z.lp = zp.zpFromSorted(m, s);
      return z;
    }
    z.lp = null;
    z.tree = ZTree.fromSorted(m, s);
    z.dict = new ZDict(new MemberIndex<number>(m, s));
    return z;
  }
}
(ZSet.prototype as { objType: ObjType }).objType = ObjType.ZSet;

/** The listpack ZSet.at decoded last, and its members and scores. */
let atLp: string | null = null;
/** The listpack ZSet.at was last asked about (decoded on the second call). */
let atFirst: string | null = null;
const atMs: string[] = [];
const atSs: number[] = [];

/** The member ZSet.score found last in a listpack, and where (ZADD's lookup then update). */
let lastLp: string | null = null;
let lastM = '';
let lastP = 0;

export const enum LexKind {
  Min = 0,
  Max = 1,
  Value = 2,
}

export interface LexBound {
  kind: LexKind;
  value: string;
  ex: boolean;
}

/** Parses a lex range item: "-", "+", "[value" or "(value"; null when invalid. */
export function parseLexBound(a: string): LexBound | null {
  if (a.length === 0) return null;
  const c = a.charCodeAt(0);
  if (c === 43 /* + */) return a.length === 1 ? { kind: LexKind.Max, value: '', ex: true } : null;
  if (c === 45 /* - */) return a.length === 1 ? { kind: LexKind.Min, value: '', ex: true } : null;
  if (c === 40 /* ( */) return { kind: LexKind.Value, value: a.slice(1), ex: true };
  if (c === 91 /* [ */) return { kind: LexKind.Value, value: a.slice(1), ex: false };
  return null;
}
