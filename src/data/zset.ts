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
// The "listpack" encoding is the same tree without the member -> score index
// (ZDict): a small set is a single leaf (sorted arrays) and member lookups scan
// it, as a listpack does. Converting to "skiplist" builds the index.
import { ObjType, type DataObject } from '../keyspace/types.js';
import { MemberIndex, setMemberIndexTuning } from './member-index.js';

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

/** Index of the child of `n` that holds (or would hold) the key (s, m). */
function childFor(n: ZInner, s: number, m: string): number {
  // Number of separators <= key.
  let lo = 0;
  let hi = n.sepS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (!keyLess(s, m, n.sepS[mid], n.sepM[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

/** State of a move (ZTree.move): the new score, and whether deleteAt did the move in place. */
let mvOn = false;
let mvS = 0;
let mvDone = false;
/** The string a move found stored in the leaf (re-inserted instead of the caller's equal copy). */
let mvM = '';

/** The element an edge deletion removed. */
export let edgeM = '';
export let edgeS = 0;

/** Result of a split: the new right sibling and its separator. */
let splitNode: ZNode | null = null;
let splitS = 0;
let splitM = '';

/** Counted B+tree of (score, member) keys. Keys must be unique. */
export class ZTree {
  root: ZNode = new ZLeaf();
  size = 0;

  /** Inserts a key known to be absent. */
  insert(m: string, s: number): void {
    splitNode = null;
    this.insertAt(this.root, m, s);
    if (splitNode !== null) {
      const r = new ZInner();
      r.kids.push(this.root, splitNode);
      r.cnt.push(nodeSize(this.root), nodeSize(splitNode));
      r.sepS.push(splitS);
      r.sepM.push(splitM);
      this.root = r;
      splitNode = null;
    }
    this.size++;
  }

  private insertAt(n: ZNode, m: string, s: number): void {
    if (n instanceof ZLeaf) {
      qMode = Mode.Key;
      qS = s;
      qM = m;
      leafInsert(n, leafBelow(n), m, s);
      if (n.m.length > LEAF_MAX) {
        const half = n.m.length >> 1;
        const r = new ZLeaf();
        r.m = n.m.splice(half);
        r.s = n.s.splice(half);
        r.next = n.next;
        if (r.next !== null) r.next.prev = r;
        r.prev = n;
        n.next = r;
        splitNode = r;
        splitS = r.s[0];
        splitM = r.m[0];
      }
      return;
    }
    const i = childFor(n, s, m);
    this.insertAt(n.kids[i], m, s);
    n.cnt[i]++;
    if (splitNode !== null) {
      const sn = splitNode;
      const moved = nodeSize(sn);
      n.cnt[i] -= moved;
      n.kids.splice(i + 1, 0, sn);
      n.cnt.splice(i + 1, 0, moved);
      n.sepS.splice(i, 0, splitS);
      n.sepM.splice(i, 0, splitM);
      splitNode = null;
      if (n.kids.length > INNER_MAX) {
        const half = n.kids.length >> 1;
        const r = new ZInner();
        r.kids = n.kids.splice(half);
        r.cnt = n.cnt.splice(half);
        // Separators: n keeps half-1, one moves up, r gets the rest.
        r.sepS = n.sepS.splice(half);
        r.sepM = n.sepM.splice(half);
        splitS = n.sepS.pop()!;
        splitM = n.sepM.pop()!;
        splitNode = r;
      }
    }
  }

  /** Deletes the key (s, m); returns false if absent. */
  delete(m: string, s: number): boolean {
    if (!this.deleteAt(this.root, m, s)) return false;
    this.size--;
    const r = this.root;
    if (r instanceof ZInner && r.kids.length === 1) this.root = r.kids[0];
    return true;
  }

  /**
   * Changes the score of the key (m, s) to ns: in place within its leaf when
   * the new key stays inside the leaf's range, else delete and insert. The
   * key must be present.
   */
  move(m: string, s: number, ns: number): void {
    mvOn = true;
    mvS = ns;
    mvDone = false;
    let ok: boolean;
    try {
      ok = this.deleteAt(this.root, m, s);
    } finally {
      mvOn = false;
    }
    if (mvDone) {
      mvDone = false;
      mvM = '';
      return;
    }
    let keep = m;
    if (ok) {
      keep = mvM;
      mvM = '';
      this.size--;
      const r = this.root;
      if (r instanceof ZInner && r.kids.length === 1) this.root = r.kids[0];
    }
    this.insert(keep, ns);
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

  private deleteAt(n: ZNode, m: string, s: number): boolean {
    if (n instanceof ZLeaf) {
      qMode = Mode.Key;
      qS = s;
      qM = m;
      const p = leafBelow(n);
      const len = n.m.length;
      if (p >= len || n.m[p] !== m || n.s[p] !== s) return false;
      if (mvOn) mvM = n.m[p];
      if (mvOn && len >= 3) {
        // A score change that keeps the member strictly inside this leaf's
        // range (its other elements) moves it within the leaf: counts and
        // separators above stay valid.
        const lo = p === 0 ? 1 : 0;
        const hi = p === len - 1 ? len - 2 : len - 1;
        const ms = n.s;
        const mm = n.m;
        if (keyLess(ms[lo], mm[lo], mvS, m) && keyLess(mvS, m, ms[hi], mm[hi])) {
          leafMove(n, p, m, mvS);
          mvDone = true;
          return true;
        }
      }
      leafRemove(n, p);
      return true;
    }
    const i = childFor(n, s, m);
    const kid = n.kids[i];
    if (!this.deleteAt(kid, m, s)) return false;
    if (mvDone) return true;
    n.cnt[i]--;
    const min = kid instanceof ZLeaf ? LEAF_MIN : INNER_MIN;
    const len = kid instanceof ZLeaf ? kid.m.length : kid.kids.length;
    if (len < min && n.kids.length > 1) this.rebalance(n, i);
    return true;
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

/** A sorted set value: the ordered tree plus, in the skiplist encoding, member -> score. */
export class ZSet implements DataObject {
  readonly objType = ObjType.ZSet;
  tree = new ZTree();
  /** member -> score; null in the compact (listpack) encoding. */
  dict: ZDict | null = null;

  get size(): number {
    return this.tree.size;
  }

  encoding(): string {
    return this.dict === null ? 'listpack' : 'skiplist';
  }

  isCompact(): boolean {
    return this.dict === null;
  }

  clone(): ZSet {
    const z = new ZSet();
    const m: string[] = [];
    const s: number[] = [];
    this.tree.walk(0, this.size, false, (mm, ss) => {
      m.push(mm);
      s.push(ss);
    });
    z.tree = ZTree.fromSorted(m, s);
    if (this.dict !== null) z.dict = this.dict.clone();
    return z;
  }

  /** Switches to the skiplist encoding (member -> score map). */
  toFull(): void {
    if (this.dict !== null) return;
    const ms: string[] = [];
    const ss: number[] = [];
    for (let l: ZLeaf | null = this.tree.first(); l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) {
        ms.push(l.m[i]);
        ss.push(l.s[i]);
      }
    }
    this.dict = new ZDict(new MemberIndex<number>(ms, ss));
  }

  /** Switches to the compact encoding. */
  toCompact(): void {
    this.dict = null;
    for (let l: ZLeaf | null = this.tree.first(); l !== null; l = l.next) {
      for (let i = 0; i < l.s.length; i++) if (l.s[i] === 0) l.s[i] = 0;
    }
  }

  score(m: string): number | undefined {
    if (this.dict !== null) return this.dict.get(m);
    for (let l: ZLeaf | null = this.tree.first(); l !== null; l = l.next) {
      const i = l.m.indexOf(m);
      if (i >= 0) return l.s[i];
    }
    return undefined;
  }

  has(m: string): boolean {
    return this.score(m) !== undefined;
  }

  /** Adds a member known to be absent. */
  insert(m: string, s: number): void {
    // A listpack stores an integral score as an integer: -0 comes back as 0.
    if (s === 0 && this.dict === null) s = 0;
    this.tree.insert(m, s);
    if (this.dict !== null) this.dict.set(m, s);
  }

  /** Changes the score of a present member. */
  update(m: string, oldScore: number, s: number): void {
    if (s === 0 && this.dict === null) s = 0;
    this.tree.move(m, oldScore, s);
    if (this.dict !== null) this.dict.replace(m, s);
  }

  /** Removes the lowest (max: the highest) member into edgeM/edgeS; the set must not be empty. */
  popEdge(max: boolean): void {
    this.tree.deleteEdge(max);
    if (this.dict !== null) this.dict.delete(edgeM);
  }

  /** Removes a member; returns false if absent. */
  remove(m: string): boolean {
    const s = this.score(m);
    if (s === undefined) return false;
    this.tree.delete(m, s);
    if (this.dict !== null) this.dict.delete(m);
    return true;
  }

  /** 0-based ascending rank of a member, or -1. */
  rank(m: string): number {
    const s = this.score(m);
    if (s === undefined) return -1;
    return this.tree.rank(m, s);
  }

  /** Rank range [lo, hi) of elements with score within the range. */
  scoreRange(min: number, minEx: boolean, max: number, maxEx: boolean): [number, number] {
    const lo = this.tree.countScore(min, minEx);
    const hi = this.tree.countScore(max, !maxEx);
    return [lo, hi < lo ? lo : hi];
  }

  /** Rank range [lo, hi) of elements within a lex range (see LexBound). */
  lexRange(min: LexBound, max: LexBound): [number, number] {
    let lo: number;
    if (min.kind === LexKind.Min) lo = 0;
    else if (min.kind === LexKind.Max) lo = this.size;
    else lo = this.tree.countLex(min.value, min.ex);
    let hi: number;
    if (max.kind === LexKind.Max) hi = this.size;
    else if (max.kind === LexKind.Min) hi = 0;
    else hi = this.tree.countLex(max.value, !max.ex);
    return [lo, hi < lo ? lo : hi];
  }

  /** Calls fn for count elements starting at rank start (rev: counted from the top). */
  walk(start: number, count: number, rev: boolean, fn: (m: string, s: number) => void): void {
    this.tree.walk(start, count, rev, fn);
  }

  /** Removes `count` elements from ascending rank `start`; calls fn for each. */
  removeRange(start: number, count: number, fn?: (m: string, s: number) => void): number {
    if (count <= 0) return 0;
    const ms: string[] = [];
    const ss: number[] = [];
    this.tree.walk(start, count, false, (m, s) => {
      ms.push(m);
      ss.push(s);
    });
    if (ms.length === this.size) {
      this.tree.clear();
      if (this.dict !== null) this.dict = new ZDict();
    } else {
      for (let i = 0; i < ms.length; i++) {
        this.tree.delete(ms[i], ss[i]);
        if (this.dict !== null) this.dict.delete(ms[i]);
      }
    }
    if (fn) for (let i = 0; i < ms.length; i++) fn(ms[i], ss[i]);
    return ms.length;
  }

  /** Member at a rank and its score. */
  at(rank: number): [string, number] {
    const [l, i] = this.tree.locate(rank);
    return [l.m[i], l.s[i]];
  }

  /** Every member in order (ascending). */
  *entries(): IterableIterator<[string, number]> {
    for (let l: ZLeaf | null = this.tree.first(); l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) yield [l.m[i], l.s[i]];
    }
  }

  /** Builds a set from members and scores sorted in zset order. */
  static fromSorted(m: string[], s: number[], compact: boolean): ZSet {
    if (compact) for (let i = 0; i < s.length; i++) if (s[i] === 0) s[i] = 0;
    const z = new ZSet();
    z.tree = ZTree.fromSorted(m, s);
    if (!compact) {
      z.dict = new ZDict(new MemberIndex<number>(m.slice(), s.slice()));
    }
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
    if (compact) for (let i = 0; i < s.length; i++) if (s[i] === 0) s[i] = 0;
    const z = new ZSet();
    z.tree = ZTree.fromSorted(m, s);
    if (!compact) {
      z.dict = new ZDict(new MemberIndex<number>(m, s));
    }
    return z;
  }
}

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
