// MemberIndex: the "hashtable" encoding of sets and hashes. A dense array of
// members (`keys`, plus a parallel `vals` array for hashes) and an
// open-addressing index from member to position. Compared with a JS Map it
// costs less per member (a 4-byte slot per member at load <= 0.625, against a
// Map's ~28 bytes per entry), hashes members with the same cheap function as
// the keyspace (src/data/keytable.ts), and never rehashes more than a slice of
// a big collection at once.
//
// Layout:
// - `keys`/`vals` stay dense: removing position i moves the last member into
//   the hole, so a uniformly random member is one random index (SPOP,
//   SRANDMEMBER, HRANDFIELD are O(1) per member).
// - The index is one table, split into SHARDS tables picked by the hash's top
//   byte once the collection passes SHARD_AT members: a table grows by
//   rebuilding itself, and a shard holds 1/256 of the members, so no insert
//   stalls the server for long whatever the size (Valkey rehashes
//   incrementally; a JS Map copies everything at once).
// - A slot is an int32: 0 empty, -1 deleted (tombstone), else
//   (fingerprint << 24) | (position + 1), the fingerprint being 8 more bits of
//   the member's hash, so a probe rarely reads a member that does not match.
//   Past 2^24 - 2 members the slots switch (once, in place) to a plain 31-bit
//   position without fingerprint. Linear probing; a table is rebuilt (members
//   hashed again) when live + deleted slots pass 5/8 of it, or shrunk when
//   live ones fall under 1/8.
// Iteration (SSCAN, HSCAN, AOF rewrite) walks positions downwards from the end
// with live iterators: members appended after the iterator started are not
// visited, and a removal that would move an unvisited member into the visited
// part moves it through each iterator's boundary instead. So, as with a Map's
// iterator, a member present from the start to the end of an iteration is
// visited exactly once.
import { hashKey } from './keytable.js';

const EMPTY = 0;
const TOMB = -1;
const MIN_CAP = 8;
const SHARDS = 256;
const NARROW_PM = 0xffffff;
const WIDE_PM = 0x7fffffff;
const NARROW_FPM = 0xff000000 | 0;

/** Members at which the index splits into shards. */
let shardAt = 1 << 16;
/** Highest position + 1 kept with a fingerprint (0xffffff would read as a tombstone with fingerprint 0xff). */
let narrowMax = NARROW_PM - 1;

/** Test hooks: a small split threshold and position range exercise the shard and wide forms on small sets. */
export function setMemberIndexTuning(o: { shardAt?: number; narrowMax?: number }): void {
  if (o.shardAt !== undefined) shardAt = Math.max(1, o.shardAt);
  if (o.narrowMax !== undefined) narrowMax = Math.max(1, Math.min(NARROW_PM - 1, o.narrowMax));
}

/** Smallest table size that holds n members at load <= 1/2. */
function capFor(n: number): number {
  let cap = MIN_CAP;
  while (cap < n * 2) cap *= 2;
  return cap;
}

class Tab {
  ix: Int32Array;
  mask: number;
  live = 0;
  tombs = 0;
  constructor(cap: number) {
    this.ix = new Int32Array(cap);
    this.mask = cap - 1;
  }
}

export class MemberIterator implements Iterator<string> {
  /** Positions below pos are still to be visited. */
  pos: number;
  done = false;
  constructor(private readonly idx: MemberIndex<unknown>) {
    this.pos = idx.keys.length;
  }

  next(): IteratorResult<string> {
    const keys = this.idx.keys;
    if (this.pos > keys.length) this.pos = keys.length;
    if (this.pos === 0) {
      this.done = true;
      return { value: undefined, done: true };
    }
    return { value: keys[--this.pos], done: false };
  }
}

/** Source of MemberIndex.uid. */
let nextUid = 1;

export class MemberIndex<V> {
  /** Members, dense (owned by the index: mutate only through it, or restore before the next call). */
  readonly keys: string[];
  /**
   * Names this index in the member cursor (see find) without holding a
   * reference to it. Wraps after 2^30 indexes (a small integer stays unboxed):
   * two indexes sharing one only makes a guess fail the member check.
   */
  private readonly uid = (nextUid = nextUid === 0x3fffffff ? 1 : nextUid + 1);
  /** Values parallel to keys (hashes), or null (sets). */
  readonly vals: V[] | null;
  private tabs: Tab[] = [];
  /** 0 while one table, SHARDS - 1 once split. */
  private smask = 0;
  private pm = NARROW_PM;
  private fpm = NARROW_FPM;
  private n = 0;
  private iters: WeakRef<MemberIterator>[] | null = null;
  /** Where the last missed find() would insert (valid until the next change). */
  private mTab: Tab;
  private mSlot = 0;
  private mH = 0;

  /**
   * Indexes `keys` (adopted, not copied). A member listed twice is indexed
   * once: size then falls short of keys.length (the RDB loader checks that).
   */
  constructor(keys: string[], vals: V[] | null, from: MemberIndex<unknown> | null = null) {
    this.keys = keys;
    this.vals = vals;
    if (from !== null) {
      // A copy of `from` over copies of its keys and vals.
      for (const t of from.tabs) {
        const u = new Tab(MIN_CAP);
        u.ix = t.ix.slice();
        u.mask = t.mask;
        u.live = t.live;
        u.tombs = t.tombs;
        this.tabs.push(u);
      }
      this.smask = from.smask;
      this.pm = from.pm;
      this.fpm = from.fpm;
      this.n = from.n;
      this.mTab = this.tabs[0];
      return;
    }
    const t = new Tab(capFor(Math.min(keys.length, shardAt)));
    this.tabs.push(t);
    this.mTab = t;
    if (keys.length + 1 > narrowMax) this.widen();
    for (let p = 0; p < keys.length; p++) {
      if (this.find(keys[p]) >= 0) continue;
      this.place(p);
    }
  }

  /** Distinct members indexed. */
  get size(): number {
    return this.n;
  }

  /** Position of a member, or -1 (then insertAfterMiss may follow). */
  find(m: string): number {
    // The member cursor (see prefetchMembers): the commands of a pipelined
    // batch look their members up in the order they were prefetched, so the
    // position guessed for the next one is tried first, which skips hashing and
    // probing. Only a hint: used when that position holds this very member
    // (members are unique, so it is the member's position), whatever changed
    // since; a member looked up the slow way moves the cursor on when its hash
    // is the expected one (an absent member, or one that moved).
    const c = mcCur;
    const mine = c < mcN && mcUid[c] === this.uid;
    if (mine) {
      const p = mcPos[c];
      if (p >= 0 && p < this.keys.length && this.keys[p] === m) {
        mcCur = c + 1;
        return p;
      }
    }
    const h = hashKey(m);
    if (mine && mcHash[c] === h) mcCur = c + 1;
    const t = this.tabs[(h >>> 24) & this.smask];
    const ix = t.ix;
    const mask = t.mask;
    const pm = this.pm;
    const fpm = this.fpm;
    const fp = (h << 8) & fpm;
    const keys = this.keys;
    let i = h & mask;
    let free = -1;
    for (;;) {
      const e = ix[i];
      if (e === EMPTY) break;
      if (e === TOMB) {
        if (free < 0) free = i;
      } else if ((e & fpm) === fp) {
        const p = (e & pm) - 1;
        if (keys[p] === m) return p;
      }
      i = (i + 1) & mask;
    }
    this.mTab = t;
    this.mSlot = free >= 0 ? free : i;
    this.mH = h;
    return -1;
  }

  has(m: string): boolean {
    return this.find(m) >= 0;
  }

  /** Appends `m` (with value v) right after find(m) returned -1; returns its position. */
  insertAfterMiss(m: string, v?: V): number {
    const p = this.keys.length;
    this.keys.push(m);
    if (this.vals !== null) this.vals.push(v as V);
    this.place(p);
    return p;
  }

  /** Adds a member if absent; true when added. */
  add(m: string, v?: V): boolean {
    if (this.find(m) >= 0) return false;
    this.insertAfterMiss(m, v);
    return true;
  }

  /** Fills the slot the last find() missed at with position p. */
  private place(p: number): void {
    if (p + 1 > narrowMax && this.fpm !== 0) this.widen();
    const t = this.mTab;
    const ix = t.ix;
    const s = this.mSlot;
    if (ix[s] === TOMB) t.tombs--;
    ix[s] = ((this.mH << 8) & this.fpm) | (p + 1);
    t.live++;
    this.n++;
    if ((t.live + t.tombs) * 8 > (t.mask + 1) * 5) this.rebuild(t, capFor(t.live));
    if (this.smask === 0 && this.n > shardAt) this.split();
  }

  /** Removes a member; returns the position it had, or -1. */
  remove(m: string): number {
    const p = this.find(m);
    if (p < 0) return -1;
    this.removeAt(p);
    return p;
  }

  /** Removes the member at position p (0 <= p < keys.length). */
  removeAt(p: number): void {
    const h = hashKey(this.keys[p]);
    const t = this.tabs[(h >>> 24) & this.smask];
    const ix = t.ix;
    const s = this.slotOf(t, h, p);
    ix[s] = TOMB;
    t.live--;
    t.tombs++;
    this.n--;
    let hole = p;
    if (this.iters !== null) hole = this.fixIters(hole);
    const keys = this.keys;
    const last = keys.length - 1;
    if (hole !== last) this.move(last, hole);
    keys.pop();
    if (this.vals !== null) this.vals.pop();
    if (t.live * 8 < t.mask + 1 && t.mask + 1 > MIN_CAP) this.rebuild(t, capFor(t.live));
  }

  /** Slot holding position p of a member hashing to h (it must be there). */
  private slotOf(t: Tab, h: number, p: number): number {
    const ix = t.ix;
    const mask = t.mask;
    const pm = this.pm;
    let i = h & mask;
    for (;;) {
      const e = ix[i];
      if (e === EMPTY) throw new Error('MemberIndex: position not indexed');
      if (e !== TOMB && (e & pm) === p + 1) return i;
      i = (i + 1) & mask;
    }
  }

  /** Moves the member at position a to position b (b's member is gone). */
  private move(a: number, b: number): void {
    const keys = this.keys;
    const k = keys[a];
    keys[b] = k;
    if (this.vals !== null) this.vals[b] = this.vals[a];
    const h = hashKey(k);
    const t = this.tabs[(h >>> 24) & this.smask];
    const s = this.slotOf(t, h, a);
    t.ix[s] = (t.ix[s] & this.fpm) | (b + 1);
  }

  /**
   * Live iterators: the hole at `hole` is below some iterators' boundaries
   * (an unvisited position). For each such boundary, lowest first, the member
   * just below it (unvisited) fills the hole and the boundary steps down over
   * the new hole; returns where the hole ends up (the caller fills it with the
   * last member, which is on the visited side of every boundary left).
   */
  private fixIters(hole: number): number {
    const its: MemberIterator[] = [];
    const refs = this.iters!;
    let w = 0;
    for (let r = 0; r < refs.length; r++) {
      const it = refs[r].deref();
      if (it === undefined || it.done) continue;
      refs[w++] = refs[r];
      if (it.pos > this.keys.length) it.pos = this.keys.length;
      if (it.pos > hole) its.push(it);
    }
    refs.length = w;
    if (w === 0) this.iters = null;
    if (its.length === 0) return hole;
    its.sort((a, b) => a.pos - b.pos);
    for (let k = 0; k < its.length; ) {
      const P = its[k].pos;
      const src = P - 1;
      if (src !== hole) this.move(src, hole);
      hole = src;
      while (k < its.length && its[k].pos === P) its[k++].pos = src;
    }
    return hole;
  }

  /** A live iterator over the members (see the header). */
  iterator(): MemberIterator {
    const it = new MemberIterator(this);
    if (this.iters === null) this.iters = [];
    const refs = this.iters;
    if (refs.length >= 16) {
      let w = 0;
      for (let r = 0; r < refs.length; r++) {
        const x = refs[r].deref();
        if (x !== undefined && !x.done) refs[w++] = refs[r];
      }
      refs.length = w;
    }
    refs.push(new WeakRef(it));
    return it;
  }

  /** Rebuilds a table at `cap` slots (members hashed again). */
  private rebuild(t: Tab, cap: number): void {
    const old = t.ix;
    const ix = new Int32Array(cap);
    const mask = cap - 1;
    const pm = this.pm;
    const fpm = this.fpm;
    const keys = this.keys;
    for (let s = 0; s < old.length; s++) {
      const e = old[s];
      if (e === EMPTY || e === TOMB) continue;
      const h = hashKey(keys[(e & pm) - 1]);
      let i = h & mask;
      while (ix[i] !== EMPTY) i = (i + 1) & mask;
      ix[i] = e;
    }
    t.ix = ix;
    t.mask = mask;
    t.tombs = 0;
  }

  /** Splits the single table into SHARDS tables by the hash's top byte. */
  private split(): void {
    const old = this.tabs[0].ix;
    const pm = this.pm;
    const keys = this.keys;
    const counts = new Int32Array(SHARDS);
    const hs = new Int32Array(old.length);
    for (let s = 0; s < old.length; s++) {
      const e = old[s];
      if (e === EMPTY || e === TOMB) continue;
      const h = hashKey(keys[(e & pm) - 1]);
      hs[s] = h;
      counts[h >>> 24]++;
    }
    const tabs: Tab[] = [];
    for (let k = 0; k < SHARDS; k++) {
      const t = new Tab(capFor(counts[k]));
      t.live = counts[k];
      tabs.push(t);
    }
    for (let s = 0; s < old.length; s++) {
      const e = old[s];
      if (e === EMPTY || e === TOMB) continue;
      const h = hs[s];
      const t = tabs[h >>> 24];
      const ix = t.ix;
      const mask = t.mask;
      let i = h & mask;
      while (ix[i] !== EMPTY) i = (i + 1) & mask;
      ix[i] = e;
    }
    this.tabs = tabs;
    this.smask = SHARDS - 1;
    this.mTab = tabs[0];
  }

  /** Drops the fingerprints so positions can use 31 bits (slots stay where they are). */
  private widen(): void {
    for (const t of this.tabs) {
      const ix = t.ix;
      for (let s = 0; s < ix.length; s++) {
        const e = ix[s];
        if (e !== EMPTY && e !== TOMB) ix[s] = e & NARROW_PM;
      }
    }
    this.pm = WIDE_PM;
    this.fpm = 0;
  }

  /** A copy over the given copies of keys and vals (no iterators). */
  clone<W>(keys: string[], vals: W[] | null): MemberIndex<W> {
    return new MemberIndex<W>(keys, vals, this);
  }

  /**
   * Position whose slot matches hash h and its fingerprint, or -1: what find()
   * would compare first (the member itself is not compared). For prefetching.
   */
  guess(h: number): number {
    const t = this.tabs[(h >>> 24) & this.smask];
    const ix = t.ix;
    const mask = t.mask;
    const fpm = this.fpm;
    const fp = (h << 8) & fpm;
    let i = h & mask;
    for (;;) {
      const e = ix[i];
      if (e === EMPTY) return -1;
      if (e !== TOMB && (e & fpm) === fp) return (e & this.pm) - 1;
      i = (i + 1) & mask;
    }
  }

  /** This index's name in the member cursor. */
  uidOf(): number {
    return this.uid;
  }

  /** Bytes of the index itself (slots), for memory estimates. */
  indexBytes(): number {
    let b = 0;
    for (const t of this.tabs) b += t.ix.length * 4 + 32;
    return b;
  }
}

/** Scratch of prefetchMembers (grown on demand). */
let pfPos = new Int32Array(64);
/**
 * The member cursor (see MemberIndex.find): for the members the last
 * prefetchMembers() looked up, in order, the uid of their index, the guessed
 * position and the hash; mcCur is the next one expected. Uids, not the indexes:
 * a collection deleted meanwhile is not kept alive.
 */
let mcUid = new Int32Array(64);
let mcPos = new Int32Array(64);
let mcHash = new Int32Array(64);
let mcN = 0;
let mcCur = 0;
let pfKey: (string | undefined)[] = [];
let pfVal: unknown[] = [];
let pfSink = 0;

/**
 * Brings into the cache what looking up member hs[j] (hashKey of the member)
 * in idxs[j] will touch, for j < n (null entries skipped): the index slot, the
 * position's key and value cells, the member and value strings. The lookups of
 * a pipelined batch (SADD/HSET ... to one big collection) otherwise each wait
 * for their cache misses in turn; here the loads of all members are
 * independent, so the CPU overlaps them (the same idea as KeyTable.prefetch).
 * Changes no collection; it sets the member cursor (see MemberIndex.find), so
 * the lookups that follow skip hashing and probing again.
 */
export function prefetchMembers(idxs: (MemberIndex<unknown> | null)[], hs: Int32Array, n: number): void {
  if (pfPos.length < n) {
    pfPos = new Int32Array(n);
    mcUid = new Int32Array(n);
    mcPos = new Int32Array(n);
    mcHash = new Int32Array(n);
  }
  // Round 1: index slots (and the member cursor).
  let k = 0;
  for (let j = 0; j < n; j++) {
    const idx = idxs[j];
    if (idx === null) {
      pfPos[j] = -1;
      continue;
    }
    const p = idx.guess(hs[j]);
    pfPos[j] = p;
    mcUid[k] = idx.uidOf();
    mcPos[k] = p;
    mcHash[k] = hs[j];
    k++;
  }
  mcN = k;
  mcCur = 0;
  // Round 2: key and value cells.
  for (let j = 0; j < n; j++) {
    const p = pfPos[j];
    if (p < 0) {
      pfKey[j] = undefined;
      continue;
    }
    const idx = idxs[j]!;
    pfKey[j] = idx.keys[p];
    pfVal[j] = idx.vals !== null ? idx.vals[p] : undefined;
  }
  // Round 3: the strings.
  let acc = 0;
  for (let j = 0; j < n; j++) {
    const k = pfKey[j];
    if (k === undefined) continue;
    acc += k.length;
    const v = pfVal[j];
    if (typeof v === 'string') acc += v.length;
    pfKey[j] = undefined;
    pfVal[j] = undefined;
  }
  pfSink = acc;
}

/** Keeps prefetchMembers()'s loads from being optimised away. */
export function prefetchSink(): number {
  return pfSink;
}
