// The hash type: field -> value, with optional per-field expire times (Valkey 9).
// Pure data structure, no I/O; thresholds come from the caller.
//
// Two encodings, as Valkey reports them:
// - "listpack": a flat array [f0, v0, f1, v1, ...] in insertion order (updates
//   keep their place, deletes close the gap). Lookups are linear, like a real
//   listpack, which is fine up to hash-max-listpack-entries (512) fields. Small
//   hashes cost one array instead of a Map.
// - "hashtable": a MemberIndex (src/data/member-index.ts): dense parallel
//   arrays of fields and values plus an open-addressing index field ->
//   position. Deleting moves the last field into the hole, so positions stay
//   dense and a random field is O(1) (HRANDFIELD). Its live iterator drives
//   HSCAN: it returns every field present for the whole scan exactly once.
// A listpack never holds volatile fields: setting a field's expire time
// converts the hash to a hashtable first (Valkey does the same), and a hash
// never goes back to listpack.
//
// Values that are canonical decimal integers of at most 9 digits ("0", "-12",
// "999999999", not "007" or "-0") are stored as numbers (V8 small integers: no
// heap object), the way a listpack stores integer entries; get/valueAt give
// back the exact same string. Fields are always strings.
//
// Expire times are absolute unix ms in a Map field -> time, plus a binary
// min-heap of (time, field) for finding due fields in O(log n) each. Heap
// entries are checked against the Map when popped (stale ones are dropped) and
// the heap is rebuilt when stale entries outnumber live ones.
import { ObjType, type DataObject } from '../keyspace/types.js';
import { MemberIndex } from './member-index.js';

/** A field is expired once the clock has passed its expire time (Valkey: now > when). */
export function fieldExpired(when: number, now: number): boolean {
  return now > when;
}

/** A value as stored: a small integer when `s` is its canonical decimal form, else `s`. */
export function packValue(s: string): string | number {
  const n = s.length;
  if (n === 0 || n > 10) return s;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45) {
    if (n === 1 || n > 10) return s;
    i = 1;
    c = s.charCodeAt(1);
    if (c === 48) return s; // "-0", "-01"
  } else if (n > 9) return s;
  if (c === 48) return n === 1 ? 0 : s;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return s;
    v = v * 10 + d;
  }
  return s.charCodeAt(0) === 45 ? -v : v;
}

/** The string form of a stored value. */
function unpack(v: string | number): string {
  return typeof v === 'number' ? String(v) : v;
}

export class HashObject implements DataObject {
  readonly objType = ObjType.Hash;
  /** Listpack encoding: [f0, v0, f1, v1, ...] (values packed); null once converted. */
  private lp: (string | number)[] | null = [];
  /** Hashtable: fields (keys) and packed values (vals) by position, indexed; null while a listpack. */
  private idx: MemberIndex<string | number> | null = null;
  /** Expire times of volatile fields (hashtable only); null when there are none. */
  private ttl: Map<string, number> | null = null;
  /** Min-heap of (time, field) over ttl; allocated with the first field TTL, null while ttl is null. */
  private heapT: number[] | null = null;
  private heapF: string[] | null = null;

  /**
   * A hash built from [f0, v0, f1, v1, ...] (RDB load, RESTORE), as `set` per
   * pair would build it, but a listpack gets its array at exact size. A
   * trailing unpaired element is ignored. Returns null when a field repeats.
   */
  static fromPairs(pairs: string[], maxEntries: number, maxValue: number): HashObject | null {
    const n = pairs.length >> 1;
    const h = new HashObject();
    let small = n <= maxEntries;
    for (let i = 0; small && i < 2 * n; i++) if (pairs[i].length > maxValue) small = false;
    if (small) {
      const lp = new Array<string | number>(2 * n);
      for (let i = 0; i < n; i++) {
        const f = pairs[2 * i];
        for (let j = 0; j < i; j++) if (lp[2 * j] === f) return null;
        lp[2 * i] = f;
        lp[2 * i + 1] = packValue(pairs[2 * i + 1]);
      }
      h.lp = n === 0 ? [] : lp;
      return h;
    }
    h.convert();
    for (let i = 0; i < n; i++) if (!h.set(pairs[2 * i], pairs[2 * i + 1], maxEntries, maxValue)) return null;
    return h;
  }

  get size(): number {
    if (this.lp !== null) return this.lp.length >> 1;
    return this.idx!.keys.length;
  }

  /** The hashtable's index (fields, values), or null while a listpack. */
  memberIndex(): MemberIndex<string | number> | null {
    return this.idx;
  }

  isListpack(): boolean {
    return this.lp !== null;
  }

  encoding(): string {
    return this.lp !== null ? 'listpack' : 'hashtable';
  }

  private lpFind(field: string): number {
    const lp = this.lp!;
    for (let i = 0; i < lp.length; i += 2) if (lp[i] === field) return i;
    return -1;
  }

  get(field: string): string | undefined {
    if (this.lp !== null) {
      const i = this.lpFind(field);
      return i < 0 ? undefined : unpack(this.lp[i + 1]);
    }
    const idx = this.idx!;
    const s = idx.find(field);
    return s < 0 ? undefined : unpack(idx.vals![s]);
  }

  /** A field's value as stored (a number for a small canonical integer), or undefined. */
  getRaw(field: string): string | number | undefined {
    if (this.lp !== null) {
      const i = this.lpFind(field);
      return i < 0 ? undefined : this.lp[i + 1];
    }
    const idx = this.idx!;
    const s = idx.find(field);
    return s < 0 ? undefined : idx.vals![s];
  }

  has(field: string): boolean {
    if (this.lp !== null) return this.lpFind(field) >= 0;
    return this.idx!.find(field) >= 0;
  }

  /** Field at position i (0 <= i < size), in the encoding's order. O(1). */
  fieldAt(i: number): string {
    if (this.lp !== null) return this.lp[2 * i] as string;
    return this.idx!.keys[i];
  }

  valueAt(i: number): string {
    return unpack(this.rawValueAt(i));
  }

  /** Value at position i as stored: a number for a small canonical integer, else the string. */
  rawValueAt(i: number): string | number {
    if (this.lp !== null) return this.lp[2 * i + 1];
    return this.idx!.vals![i];
  }

  /**
   * Converts a listpack into a hashtable, keeping the listpack order.
   * Does nothing on a hashtable.
   */
  convert(): void {
    const lp = this.lp;
    if (lp === null) return;
    const n = lp.length >> 1;
    const ks = new Array<string>(n);
    const vs = new Array<string | number>(n);
    for (let i = 0; i < n; i++) {
      ks[i] = lp[2 * i] as string;
      vs[i] = lp[2 * i + 1];
    }
    this.idx = new MemberIndex<string | number>(ks, vs);
    this.lp = null;
  }

  /**
   * Sets a field. A listpack converts first when the field or value is longer
   * than maxValue, and after inserting when it holds more than maxEntries
   * fields. The field's expire time is cleared unless keepTtl.
   * Returns true when the field was created, false when it was updated.
   */
  set(field: string, value: string, maxEntries: number, maxValue: number, keepTtl = false): boolean {
    let lp = this.lp;
    if (lp !== null && (field.length > maxValue || value.length > maxValue)) {
      this.convert();
      lp = null;
    }
    if (lp !== null) {
      const i = this.lpFind(field);
      if (i >= 0) {
        lp[i + 1] = packValue(value);
        return false;
      }
      const len = lp.length;
      if (len < 8) {
        // Up to 4 fields a listpack grows to exact size (a push would leave
        // room for 8 more fields that most small hashes never use; past 4 the
        // push's slack is cheaper than copying).
        const nl = new Array<string | number>(len + 2);
        for (let j = 0; j < len; j++) nl[j] = lp[j];
        nl[len] = field;
        nl[len + 1] = packValue(value);
        this.lp = nl;
      } else lp.push(field, packValue(value));
      if (len + 2 > 2 * maxEntries) this.convert();
      return true;
    }
    const idx = this.idx!;
    const s = idx.find(field);
    if (s >= 0) {
      // An equal value is kept as it is: storing the new (young) string would
      // only make the garbage collector copy it out of the young generation.
      const pv = packValue(value);
      const vals = idx.vals!;
      if (vals[s] !== pv) vals[s] = pv;
      if (!keepTtl && this.ttl !== null) this.dropTtl(field);
      return false;
    }
    idx.insertAfterMiss(field, packValue(value));
    return true;
  }

  /** Deletes a field; returns true if it existed. */
  delete(field: string): boolean {
    const lp = this.lp;
    if (lp !== null) {
      const i = this.lpFind(field);
      if (i < 0) return false;
      lp.splice(i, 2);
      return true;
    }
    if (this.idx!.remove(field) < 0) return false;
    if (this.ttl !== null) this.dropTtl(field);
    return true;
  }

  /** A live iterator over the fields (hashtable: see MemberIndex; listpack: a snapshot). */
  fieldIterator(): Iterator<string> {
    if (this.idx !== null) return this.idx.iterator();
    const out: string[] = [];
    for (let i = 0; i < this.lp!.length; i += 2) out.push(this.lp![i] as string);
    return out[Symbol.iterator]();
  }

  // ---------------------------------------------------------------- field expiry

  /** True when some field has an expire time. */
  hasVolatile(): boolean {
    return this.ttl !== null;
  }

  /** Number of fields with an expire time. */
  volatileCount(): number {
    return this.ttl === null ? 0 : this.ttl.size;
  }

  /** Expire time of a field in unix ms, or -1 when it has none (or does not exist). */
  getExpire(field: string): number {
    if (this.ttl === null) return -1;
    const t = this.ttl.get(field);
    return t === undefined ? -1 : t;
  }

  /** Sets the expire time of an existing field (converts a listpack). */
  setExpire(field: string, when: number): void {
    this.convert();
    if (this.ttl === null) {
      this.ttl = new Map();
      this.heapT = [];
      this.heapF = [];
    }
    this.ttl.set(field, when);
    this.heapPush(when, field);
  }

  /** Removes a field's expire time; returns true if it had one. */
  persist(field: string): boolean {
    if (this.ttl === null || !this.ttl.has(field)) return false;
    this.dropTtl(field);
    return true;
  }

  private dropTtl(field: string): void {
    const ttl = this.ttl!;
    if (!ttl.delete(field)) return;
    if (ttl.size === 0) {
      this.ttl = null;
      this.heapT = null;
      this.heapF = null;
    } else if (this.heapT!.length > 2 * ttl.size + 64) {
      this.rebuildHeap();
    }
  }

  /** Earliest expire time among volatile fields (Infinity when none). */
  nextExpire(): number {
    const ttl = this.ttl;
    if (ttl === null) return Infinity;
    // Drop stale heap tops (fields deleted, persisted or given a new time).
    const T = this.heapT!;
    while (T.length > 0) {
      const t = T[0];
      if (ttl.get(this.heapF![0]) === t) return t;
      this.heapPop();
    }
    return Infinity;
  }

  /**
   * Deletes up to `max` fields whose expire time has passed, earliest first.
   * Expired field names are appended to `out` when given. Returns how many were deleted.
   */
  expireDue(now: number, max: number, out?: string[]): number {
    let n = 0;
    while (n < max && this.ttl !== null) {
      const t = this.nextExpire();
      if (t === Infinity || !fieldExpired(t, now)) break;
      const f = this.heapF![0];
      this.heapPop();
      this.delete(f);
      if (out) out.push(f);
      n++;
    }
    return n;
  }

  private heapPush(t: number, f: string): void {
    const T = this.heapT!;
    const F = this.heapF!;
    let i = T.length;
    T.push(t);
    F.push(f);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (T[p] <= t) break;
      T[i] = T[p];
      F[i] = F[p];
      i = p;
    }
    T[i] = t;
    F[i] = f;
  }

  private heapPop(): void {
    const T = this.heapT!;
    const F = this.heapF!;
    const lastT = T.pop()!;
    const lastF = F.pop()!;
    const n = T.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && T[c + 1] < T[c]) c++;
      if (T[c] >= lastT) break;
      T[i] = T[c];
      F[i] = F[c];
      i = c;
    }
    T[i] = lastT;
    F[i] = lastF;
  }

  private rebuildHeap(): void {
    if (this.ttl === null) {
      this.heapT = null;
      this.heapF = null;
      return;
    }
    this.heapT = [];
    this.heapF = [];
    for (const [f, t] of this.ttl) this.heapPush(t, f);
  }

  // ---------------------------------------------------------------- misc

  clone(): HashObject {
    const h = new HashObject();
    if (this.lp !== null) {
      h.lp = this.lp.slice();
      return h;
    }
    h.lp = null;
    const idx = this.idx!;
    h.idx = idx.clone(idx.keys.slice(), idx.vals!.slice());
    if (this.ttl !== null) {
      h.ttl = new Map(this.ttl);
      h.rebuildHeap();
    }
    return h;
  }

  /** Rough bytes used (for MEMORY USAGE style estimates). */
  memoryUsage(): number {
    let bytes = 64;
    const n = this.size;
    for (let i = 0; i < n; i++) bytes += 32 + this.fieldAt(i).length + this.valueAt(i).length;
    if (this.idx !== null) bytes += n * 16 + this.idx.indexBytes();
    if (this.ttl !== null) bytes += this.ttl.size * 48;
    return bytes;
  }
}
