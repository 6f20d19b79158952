// KeyTable: a compact hash table from latin1 string keys to values, used for the
// keyspace. Compared with a JS Map holding a wrapper object per key it keeps the
// per-key footprint small (no wrapper; an 8-byte index slot, two array cells and
// a 4-byte clock per key) and needs fewer cache misses per lookup, which is what
// bounds SET/GET speed on a large keyspace.
//
// Layout:
// - entries live in insertion order in `kv` (key at 2i, value at 2i+1) with a
//   parallel Int32Array `clk` (a per-key clock: LRU seconds or LFU data);
//   a deleted entry leaves a hole (key undefined) until the next compaction;
// - `index` is an open-addressing table (linear probing) of [hash, entry+1]
//   pairs; entry 0 means empty, -1 a deleted slot (tombstone).
// Iterators are live, like a Map's: an entry present from the start to the end
// of an iteration is visited exactly once, whatever is added or deleted meanwhile
// (entries added later are visited, deleted ones are skipped). Compaction remaps
// the positions of live iterators, which is what SCAN relies on.
// No limit on the number of keys but memory (a JS Map stops at 2^24 entries).

const EMPTY = 0;
const TOMBSTONE = -1;
const MIN_CAP = 16;

/** Per-process random seed, so colliding keys cannot be precomputed. */
const SEED = (Math.random() * 0x7fffffff) | 0;

/** 32-bit hash of a latin1 string (FNV-1a style with a final avalanche). */
export function hashKey(s: string): number {
  let h = SEED ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** hashKey of the latin1 string of b[p, p+n) (same value), computed from the bytes. */
export function hashBytes(b: Uint8Array, p: number, n: number): number {
  let h = SEED ^ n;
  for (let i = p, end = p + n; i < end; i++) {
    h = Math.imul(h ^ b[i], 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** Entries found by prefetch(), per key (scratch, reused). */
let pfEntries = new Int32Array(64);
/** The hashes the last prefetch() was given (the caller's array; read by the prefetch cursor). */
let pfHashes: Int32Array = new Int32Array(0);

export class KeyTable<V> {
  /** [hash, entry+1] per slot. */
  private index: Int32Array;
  private mask: number;
  /** Interleaved keys and values of entries, in insertion order (holes: undefined key). */
  private kv: unknown[] = [];
  /** Per-entry clock (LRU/LFU), parallel to the entries. */
  private clk: Int32Array = new Int32Array(MIN_CAP);
  /** Entries used in `kv` (live + holes). */
  private used = 0;
  private live = 0;
  private tombstones = 0;
  private readonly iterators = new Set<WeakRef<KeyTableIterator<V, unknown>>>();

  constructor(capacity = MIN_CAP) {
    let cap = MIN_CAP;
    while (cap < capacity * 2) cap *= 2;
    this.index = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.live;
  }

  /**
   * Makes room for n entries in an empty table (RESIZEDB at load): the
   * entry arrays are allocated once instead of growing, and copying, about
   * thirty times on the way to n.
   */
  reserve(n: number): void {
    if (this.used !== 0 || n <= MIN_CAP) return;
    this.kv = new Array(2 * n); // holes until set() writes them (read as undefined: absent)
    if (this.clk.length < n) this.clk = new Int32Array(n);
  }

  /**
   * The key and entry of the last successful find(): a write that follows a
   * lookup of the same key (INCR, APPEND, ...) skips hashing and probing again.
   * Only a hint: set() uses it after checking that the entry still holds the key
   * (keys are unique, so that entry is the key's), whatever moved meanwhile.
   */
  private lastKey: string | undefined = undefined;
  private lastEntry = 0;

  /** Entry number of a key, or -1. Valid until the next insert or delete. */
  find(key: string): number {
    const c = this.pfNext;
    if (c < this.pfCount) {
      const e = this.nextPrefetched(key, c);
      if (e >= 0) {
        this.lastKey = key;
        this.lastEntry = e;
        return e;
      }
    }
    const h = hashKey(key);
    if (c < this.pfCount && pfHashes[c] === h) this.pfNext = c + 1;
    const index = this.index;
    const mask = this.mask;
    const kv = this.kv;
    let i = h & mask;
    for (;;) {
      const e = index[2 * i + 1];
      if (e === EMPTY) return -1;
      if (e > 0 && index[2 * i] === h && kv[(e - 1) * 2] === key) {
        this.lastKey = key;
        this.lastEntry = e - 1;
        return e - 1;
      }
      i = (i + 1) & mask;
    }
  }

  /** Keeps prefetch()'s loads from being optimised away. */
  private pfSink = 0;

  /**
   * Brings into the cache what looking up each of the keys whose hashes are in
   * `hashes[0..n)` will touch: the index slot, the entry's key and value cells,
   * the key and value objects and the clock. The lookups of a pipelined batch
   * otherwise run one after the other, each waiting for 3-4 cache misses in
   * turn; here the loads of all keys are independent of each other, so the CPU
   * overlaps their misses (Valkey 8 prefetches a batch of commands' keys the
   * same way). Changes no entry: a key that is absent, or a wrong guess, costs
   * nothing but the loads. Sets the prefetch cursor (see pfNext), so the
   * lookups that follow skip hashing and probing again.
   */
  prefetch(hashes: Int32Array, n: number): void {
    this.pfCount = 0;
    this.pfNext = 0;
    if (this.live === 0) return;
    pfHashes = hashes;
    const index = this.index;
    const mask = this.mask;
    if (pfEntries.length < n) pfEntries = new Int32Array(n);
    const ents = pfEntries;
    // Round 1: the index slots (and probe chains) of every key.
    for (let j = 0; j < n; j++) {
      const h = hashes[j];
      let i = h & mask;
      let e = 0;
      for (;;) {
        e = index[2 * i + 1];
        if (e === EMPTY || (e > 0 && index[2 * i] === h)) break;
        i = (i + 1) & mask;
      }
      ents[j] = e;
    }
    // Round 2: the key/value cells of the entries and their clocks.
    const kv = this.kv;
    const clk = this.clk;
    let acc = 0;
    for (let j = 0; j < n; j++) {
      const e = ents[j];
      if (e <= 0) continue;
      if (kv[2 * e - 2] === undefined) ents[j] = 0;
      acc += clk[e - 1];
    }
    // Round 3: the key and value objects.
    for (let j = 0; j < n; j++) {
      const e = ents[j];
      if (e <= 0) continue;
      const k = kv[2 * e - 2] as string;
      const v = kv[2 * e - 1];
      acc += k.length;
      if (typeof v === 'string') acc += v.length;
    }
    this.pfSink = acc;
    this.pfCount = n;
  }

  /** Hashes the last prefetch() on this table looked up (0 when it returned early). */
  private pfCount = 0;
  /**
   * The prefetch cursor: the commands of a pipelined batch look their keys up
   * in the order prefetch() got their hashes, so find() and set() first try
   * the entry prefetch() found for hash number pfNext, which skips hashing and
   * probing. Only a hint: the entry is used when it holds that very key (keys
   * are unique, so it is the key's entry), whatever happened since; a key
   * looked up the slow way moves the cursor on when its hash is the expected
   * one (an absent key, or one found by another path).
   */
  private pfNext = 0;

  /** The entry the prefetch cursor (at c) points to when it holds `key` (then moves the cursor on), else -1. */
  private nextPrefetched(key: string, c: number): number {
    const e = pfEntries[c];
    if (e > 0 && e <= this.used && this.kv[2 * e - 2] === key) {
      this.pfNext = c + 1;
      return e - 1;
    }
    return -1;
  }

  /**
   * Right after prefetch(): the value of the entry found for its j-th hash, or
   * undefined. A guess (another key may share the hash), for prefetching what
   * the commands will touch inside that value (collection members).
   */
  prefetchedValue(j: number): V | undefined {
    if (j >= this.pfCount) return undefined;
    const e = pfEntries[j];
    return e > 0 ? (this.kv[2 * e - 1] as V) : undefined;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  get(key: string): V | undefined {
    const e = this.find(key);
    return e < 0 ? undefined : (this.kv[2 * e + 1] as V);
  }

  /** Value of an entry found with find(). */
  valueAt(e: number): V {
    return this.kv[2 * e + 1] as V;
  }

  setValueAt(e: number, v: V): void {
    this.kv[2 * e + 1] = v;
  }

  clockAt(e: number): number {
    return this.clk[e];
  }

  setClockAt(e: number, c: number): void {
    this.clk[e] = c;
  }

  /** Sets a key's value (adding it with clock `clk` if new). Returns the entry number. */
  set(key: string, v: V, clk = 0): number {
    const last = this.lastEntry;
    if (key === this.lastKey && last < this.used && this.kv[2 * last] === key) {
      // An equal value (a string of the same bytes, or the same object) is
      // kept: storing the new, young one would only make the garbage
      // collector copy it out of the young generation and later collect the
      // old one (as HashObject.set does for hash values).
      if (this.kv[2 * last + 1] !== v) this.kv[2 * last + 1] = v;
      return last;
    }
    const c = this.pfNext;
    if (c < this.pfCount) {
      const e = this.nextPrefetched(key, c);
      if (e >= 0) {
        if (this.kv[2 * e + 1] !== v) this.kv[2 * e + 1] = v; // an equal value is kept (see above)
        return e;
      }
    }
    const h = hashKey(key);
    if (c < this.pfCount && pfHashes[c] === h) this.pfNext = c + 1;
    const index = this.index;
    const mask = this.mask;
    const kv = this.kv;
    let i = h & mask;
    let free = -1;
    for (;;) {
      const e = index[2 * i + 1];
      if (e === EMPTY) break;
      if (e === TOMBSTONE) {
        if (free < 0) free = i;
      } else if (index[2 * i] === h && kv[(e - 1) * 2] === key) {
        if (kv[(e - 1) * 2 + 1] !== v) kv[(e - 1) * 2 + 1] = v; // an equal value is kept (see above)
        return e - 1;
      }
      i = (i + 1) & mask;
    }
    if (free >= 0) {
      i = free;
      this.tombstones--;
    }
    const n = this.used++;
    if (2 * n < kv.length) {
      // Room reserved by reserve().
      kv[2 * n] = key;
      kv[2 * n + 1] = v;
    } else kv.push(key, v);
    if (n >= this.clk.length) {
      const c = new Int32Array(this.clk.length * 2);
      c.set(this.clk);
      this.clk = c;
    }
    this.clk[n] = clk;
    index[2 * i] = h;
    index[2 * i + 1] = n + 1;
    this.live++;
    if ((this.live + this.tombstones) * 4 > (mask + 1) * 3) {
      this.rebuild();
      return this.used - 1; // compaction moved the new entry (the newest) to the end
    }
    return n;
  }

  delete(key: string): boolean {
    const h = hashKey(key);
    if (this.pfNext < this.pfCount && pfHashes[this.pfNext] === h) this.pfNext++;
    const index = this.index;
    const mask = this.mask;
    const kv = this.kv;
    let i = h & mask;
    for (;;) {
      const e = index[2 * i + 1];
      if (e === EMPTY) return false;
      if (e > 0 && index[2 * i] === h && kv[(e - 1) * 2] === key) {
        index[2 * i + 1] = TOMBSTONE;
        this.tombstones++;
        kv[(e - 1) * 2] = undefined;
        kv[(e - 1) * 2 + 1] = undefined;
        this.live--;
        if (e === this.used) {
          // Deleting the newest entry: trim the tail instead of leaving a hole,
          // unless an iterator may be standing past it.
          this.trimTail();
        }
        const holes = this.used - this.live;
        if (holes > 64 && holes > this.live) this.rebuild();
        else if (this.live < (mask + 1) / 8 && mask + 1 > 1024) this.rebuild();
        return true;
      }
      i = (i + 1) & mask;
    }
  }

  private trimTail(): void {
    if (this.iterators.size !== 0) return;
    while (this.used > 0 && this.kv[(this.used - 1) * 2] === undefined) {
      this.used--;
      this.kv.length = this.used * 2;
    }
  }

  clear(): void {
    this.lastKey = undefined;
    this.index = new Int32Array(MIN_CAP * 2);
    this.mask = MIN_CAP - 1;
    this.kv = [];
    this.clk = new Int32Array(MIN_CAP);
    for (const ref of this.iterators) {
      const it = ref.deref();
      if (it) it.pos = 0;
    }
    this.used = this.live = this.tombstones = 0;
  }

  /**
   * Compacts the entries (dropping holes) and rebuilds the index at a size
   * fitting the live count; positions of live iterators are remapped.
   */
  private rebuild(): void {
    const live = this.live;
    let cap = MIN_CAP;
    while (cap * 3 < live * 4 * 2) cap *= 2; // load <= 0.375 after rebuild
    const oldKv = this.kv;
    const oldClk = this.clk;
    const oldUsed = this.used;
    // New position of each old entry (for iterator remapping): count of live before it.
    const its: KeyTableIterator<V, unknown>[] = [];
    for (const ref of this.iterators) {
      const it = ref.deref();
      if (it === undefined || it.done) this.iterators.delete(ref);
      else its.push(it);
    }
    its.sort((a, b) => a.pos - b.pos);
    const kv: unknown[] = [];
    const clk = new Int32Array(Math.max(MIN_CAP, live + (live >> 1)));
    const newPos = new Int32Array(oldUsed + 1);
    let n = 0;
    let itIdx = 0;
    for (let e = 0; e < oldUsed; e++) {
      while (itIdx < its.length && its[itIdx].pos <= e) its[itIdx++].pos = n;
      const k = oldKv[2 * e];
      if (k === undefined) continue;
      kv.push(k, oldKv[2 * e + 1]);
      clk[n] = oldClk[e];
      newPos[e] = n + 1;
      n++;
    }
    while (itIdx < its.length) its[itIdx++].pos = n;
    const oldIndex = this.index;
    const index = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let s = 0; s < oldIndex.length; s += 2) {
      const e = oldIndex[s + 1];
      if (e <= 0) continue;
      const h = oldIndex[s];
      let i = h & mask;
      while (index[2 * i + 1] !== EMPTY) i = (i + 1) & mask;
      index[2 * i] = h;
      index[2 * i + 1] = newPos[e - 1];
    }
    this.kv = kv;
    this.clk = clk;
    this.index = index;
    this.mask = mask;
    this.used = n;
    this.tombstones = 0;
  }

  /** Entry at dense position p, or -1 when p is a hole (used by iterators). */
  keyAtPos(p: number): string | undefined {
    return this.kv[2 * p] as string | undefined;
  }

  valueAtPos(p: number): V {
    return this.kv[2 * p + 1] as V;
  }

  /** Dense positions in use (live + holes). */
  get span(): number {
    return this.used;
  }

  private iter<T>(mode: 0 | 1 | 2): KeyTableIterator<V, T> {
    const it = new KeyTableIterator<V, T>(this, mode);
    this.iterators.add(new WeakRef(it));
    if (this.iterators.size > 64) {
      for (const ref of this.iterators) {
        const x = ref.deref();
        if (x === undefined || x.done) this.iterators.delete(ref);
      }
    }
    return it;
  }

  keys(): KeyTableIterator<V, string> {
    return this.iter<string>(0);
  }

  values(): KeyTableIterator<V, V> {
    return this.iter<V>(1);
  }

  entries(): KeyTableIterator<V, [string, V]> {
    return this.iter<[string, V]>(2);
  }

  [Symbol.iterator](): KeyTableIterator<V, [string, V]> {
    return this.entries();
  }
}

export class KeyTableIterator<V, T> implements IterableIterator<T> {
  pos = 0;
  done = false;

  constructor(
    private readonly table: KeyTable<V>,
    private readonly mode: 0 | 1 | 2,
  ) {}

  next(): IteratorResult<T> {
    const t = this.table;
    while (this.pos < t.span) {
      const p = this.pos++;
      const k = t.keyAtPos(p);
      if (k === undefined) continue;
      const value = this.mode === 0 ? k : this.mode === 1 ? t.valueAtPos(p) : [k, t.valueAtPos(p)];
      return { value: value as T, done: false };
    }
    this.done = true;
    return { value: undefined as T, done: true };
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }
}
