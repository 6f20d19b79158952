// The hash type: field -> value, with optional per-field expire times (Valkey 9).
// Pure data structure, no I/O; thresholds come from the caller.
//
// Two encodings, as Valkey reports them:
// - "listpack": a real Valkey listpack [f0, v0, f1, v1, ...] held in one latin1
//   string (./listpack.ts), in insertion order (updates keep their place,
//   deletes close the gap). Lookups walk it, like Valkey's, which is fine up to
//   hash-max-listpack-entries (512) fields; every change builds a new string.
//   A small hash is one object and one string (no array, no string per
//   field), the RDB/DUMP blob is that string, and a copy (BGSAVE's
//   copy-before-write, COPY) shares it.
// - "hashtable": a MemberIndex (src/data/member-index.ts): dense parallel
//   arrays of fields and values plus an open-addressing index field ->
//   position. Deleting moves the last field into the hole, so positions stay
//   dense and a random field is O(1) (HRANDFIELD). Its live iterator drives
//   HSCAN: it returns every field present for the whole scan exactly once.
// A listpack never holds volatile fields: setting a field's expire time
// converts the hash to a hashtable first (Valkey does the same), and a hash
// never goes back to listpack.
//
// In a hashtable, values that are canonical decimal integers of at most 9
// digits ("0", "-12", "999999999", not "007" or "-0") are stored as numbers
// (V8 small integers: no heap object); getRaw/rawValueAt give such a number
// for either encoding, get/valueAt give back the exact same string. Fields are
// always strings.
//
// Expire times (hashtable only) live in a side object allocated with the first
// one: a Map field -> absolute unix ms, plus a binary min-heap of (time, field)
// for finding due fields in O(log n) each. Heap entries are checked against
// the Map when popped (stale ones are dropped) and the heap is rebuilt when
// stale entries outnumber live ones.
import { ObjType, type DataObject } from '../keyspace/types.js';
import { MemberIndex } from './member-index.js';
import { LP_EMPTY, LP_HDR, lpb, lpCount, lpEq, lpFind, lpFirst, lpFromItems, lpGet, lpInt, lpIsInt, lpItems, lpNext, lpSeek, lpSkip } from './listpack.js';

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

/** Expire times of a hashtable's volatile fields (allocated with the first field TTL). */
class FieldTtl {
  /** field -> expire time (unix ms). */
  readonly ttl = new Map<string, number>();
  /** Min-heap of (time, field) over ttl, with stale entries checked when popped. */
  heapT: number[] = [];
  heapF: string[] = [];
}

/** A listpack value entry at p as stored in a hashtable: a number for a short canonical integer, else the string. */
function lpRaw(lp: string, p: number): string | number {
  const c = lp.charCodeAt(p);
  if (c < 0x80) return c;
  if (lpIsInt(lp, p)) {
    const v = lpInt(lp, p);
    return typeof v === 'number' && v >= -999999999 && v <= 999999999 ? v : String(v);
  }
  const s = lpGet(lp, p);
  return s.length <= 10 ? packValue(s) : s;
}

/** Entries of a listpack (the header's count, or a walk when it says 65535). */
function lpEntries(lp: string): number {
  const n = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  return n !== 65535 ? n : lpCount(lp);
}

/** lp with its entries [from, to) replaced by the string s. */
function lpReplace(lp: string, from: number, to: number, s: string): string {
  const n = lpEntries(lp);
  lpb.begin();
  lpb.copy(lp, LP_HDR, from, 0);
  lpb.str(s);
  lpb.copy(lp, to, lp.length - 1, 0);
  return lpb.finish(n);
}

/** lp with the pair (f, v) appended. */
function lpAppendPair(lp: string, f: string, v: string): string {
  const n = lpEntries(lp);
  lpb.begin();
  lpb.copy(lp, LP_HDR, lp.length - 1, 0);
  lpb.str(f);
  lpb.str(v);
  return lpb.finish(n + 2);
}

/** lp without its `removed` entries [from, to). */
function lpRemove(lp: string, from: number, to: number, removed: number): string {
  const n = lpEntries(lp) - removed;
  if (n <= 0) return LP_EMPTY;
  lpb.begin();
  lpb.copy(lp, LP_HDR, from, 0);
  lpb.copy(lp, to, lp.length - 1, 0);
  return lpb.finish(n);
}

// The last field looked up in a listpack: HINCRBY, HSETNX... read a field
// and then write it, and the write finds it here instead of walking again.
// Offsets depend only on the listpack's bytes (checked too: the hash may have
// changed since); the owner is compared first, so a lookup in another hash
// costs one pointer comparison.
let lastOwner: object | null = null;
let lastLp = '';
let lastField = '';
let lastPos = -1;

/** Offset of field in h's pair listpack lp, or -1. */
function findField(h: object, lp: string, field: string): number {
  if (h === lastOwner && lp === lastLp && field === lastField) return lastPos;
  const p = lpFind(lp, field, 2);
  lastOwner = h;
  lastLp = lp;
  lastField = field;
  lastPos = p;
  return p;
}

/** True when a field of the pair listpack lp appears twice. */
function lpDupFields(lp: string): boolean {
  const fields: string[] = [];
  for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, lpSkip(lp, p))) {
    fields.push(lpGet(lp, p));
    if (lpSkip(lp, p) >= lp.length - 1) break;
  }
  const n = fields.length;
  if (n <= 8) {
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (fields[i] === fields[j]) return true;
    return false;
  }
  return new Set(fields).size !== n;
}

export class HashObject implements DataObject {
  // On the prototype (set below the class): one field less per hash.
  declare readonly objType: ObjType.Hash;
  /**
   * The fields: a listpack string [f0, v0, f1, v1, ...] (see ./listpack.ts),
   * or, once converted, the hashtable's MemberIndex (fields in keys, packed
   * values in vals).
   */
  private d: string | MemberIndex<string | number>;
  /** Field expire times (hashtable only), null while no field has one. */
  private x: FieldTtl | null = null;

  constructor(lp: string = LP_EMPTY) {
    this.d = lp;
  }

  /**
   * A hash built from [f0, v0, f1, v1, ...] (RDB load of the older
   * encodings, RESTORE), as `set` per pair would build it. A trailing
   * unpaired element is ignored. Returns null when a field repeats.
   */
  static fromPairs(pairs: string[], maxEntries: number, maxValue: number): HashObject | null {
    const n = pairs.length >> 1;
    let small = n <= maxEntries;
    for (let i = 0; small && i < 2 * n; i++) if (pairs[i].length > maxValue) small = false;
    if (small) {
      if (n <= 8) {
        for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (pairs[2 * j] === pairs[2 * i]) return null;
      } else {
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) seen.add(pairs[2 * i]);
        if (seen.size !== n) return null;
      }
      return new HashObject(lpFromItems(pairs, 0, 2 * n));
    }
    const h = new HashObject();
    h.convert();
    for (let i = 0; i < n; i++) if (!h.set(pairs[2 * i], pairs[2 * i + 1], maxEntries, maxValue)) return null;
    return h;
  }

  /**
   * A hash over a checked listpack blob (lpValidate passed, an even, non-zero
   * number of entries): kept as it is, converted to a hashtable when it has
   * more than maxEntries fields (Valkey checks only the count here). Returns
   * null when a field repeats.
   */
  static fromListpack(lp: string, maxEntries: number): HashObject | null {
    if (lpDupFields(lp)) return null;
    const h = new HashObject(lp);
    if (lpEntries(lp) >> 1 > maxEntries) h.convert();
    return h;
  }

  get size(): number {
    const d = this.d;
    if (typeof d === 'string') return lpEntries(d) >> 1;
    return d.keys.length;
  }

  /** The hashtable's index (fields, values), or null while a listpack. */
  memberIndex(): MemberIndex<string | number> | null {
    const d = this.d;
    return typeof d === 'string' ? null : d;
  }

  /** The listpack string (read with ./listpack.ts: fields at even entries), or null for a hashtable. */
  listpack(): string | null {
    const d = this.d;
    return typeof d === 'string' ? d : null;
  }

  isListpack(): boolean {
    return typeof this.d === 'string';
  }

  encoding(): string {
    return typeof this.d === 'string' ? 'listpack' : 'hashtable';
  }

  /** [f0, v0, f1, v1, ...] as strings, in the encoding's order (a copy). */
  pairs(): string[] {
    const d = this.d;
    if (typeof d === 'string') return lpItems(d);
    const n = d.keys.length;
    const out = new Array<string>(2 * n);
    const ks = d.keys;
    const vs = d.vals!;
    for (let i = 0; i < n; i++) {
      out[2 * i] = ks[i];
      out[2 * i + 1] = unpack(vs[i]);
    }
    return out;
  }

  get(field: string): string | undefined {
    const d = this.d;
    if (typeof d === 'string') {
      const p = findField(this, d, field);
      return p < 0 ? undefined : lpGet(d, lpSkip(d, p));
    }
    const s = d.find(field);
    return s < 0 ? undefined : unpack(d.vals![s]);
  }

  /** A field's value as stored (a number for a small canonical integer), or undefined. */
  getRaw(field: string): string | number | undefined {
    const d = this.d;
    if (typeof d === 'string') {
      const p = findField(this, d, field);
      return p < 0 ? undefined : lpRaw(d, lpSkip(d, p));
    }
    const s = d.find(field);
    return s < 0 ? undefined : d.vals![s];
  }

  has(field: string): boolean {
    const d = this.d;
    if (typeof d === 'string') return findField(this, d, field) >= 0;
    return d.find(field) >= 0;
  }

  /** Field at position i (0 <= i < size), in the encoding's order. O(1) for a hashtable, O(i) for a listpack (walk listpack() instead). */
  fieldAt(i: number): string {
    const d = this.d;
    if (typeof d === 'string') return lpGet(d, lpSeek(d, 2 * i));
    return d.keys[i];
  }

  valueAt(i: number): string {
    return unpack(this.rawValueAt(i));
  }

  /** Value at position i as stored: a number for a small canonical integer, else the string. */
  rawValueAt(i: number): string | number {
    const d = this.d;
    if (typeof d === 'string') return lpRaw(d, lpSeek(d, 2 * i + 1));
    return d.vals![i];
  }

  /**
   * Converts a listpack into a hashtable, keeping the listpack order.
   * Does nothing on a hashtable.
   */
  convert(): void {
    const lp = this.d;
    if (typeof lp !== 'string') return;
    if (lastOwner === this) lastOwner = null; // keep no hashtable alive from the lookup cache
    const n = lpEntries(lp) >> 1;
    const ks = new Array<string>(n);
    const vs = new Array<string | number>(n);
    let p = lpFirst(lp);
    for (let i = 0; i < n; i++) {
      ks[i] = lpGet(lp, p);
      p = lpSkip(lp, p);
      vs[i] = lpRaw(lp, p);
      p = lpSkip(lp, p);
    }
    this.d = new MemberIndex<string | number>(ks, vs);
  }

  /**
   * Sets a field. A listpack converts first when the field or value is longer
   * than maxValue, and after inserting when it holds more than maxEntries
   * fields. The field's expire time is cleared unless keepTtl.
   * Returns true when the field was created, false when it was updated.
   */
  set(field: string, value: string, maxEntries: number, maxValue: number, keepTtl = false): boolean {
    let d = this.d;
    if (typeof d === 'string') {
      if (field.length <= maxValue && value.length <= maxValue) {
        const p = findField(this, d, field);
        if (p >= 0) {
          // Updated in place; an equal value leaves the listpack as it is.
          const vp = lpSkip(d, p);
          if (!lpEq(d, vp, value)) this.d = lpReplace(d, vp, lpSkip(d, vp), value);
          return false;
        }
        const lp = lpAppendPair(d, field, value);
        this.d = lp;
        if (lpEntries(lp) >> 1 > maxEntries) this.convert();
        return true;
      }
      this.convert();
      d = this.d;
    }
    const idx = d as MemberIndex<string | number>;
    const s = idx.find(field);
    if (s >= 0) {
      // An equal value is kept as it is: storing the new (young) string would
      // only make the garbage collector copy it out of the young generation.
      const pv = packValue(value);
      const vals = idx.vals!;
      if (vals[s] !== pv) vals[s] = pv;
      if (!keepTtl && this.x !== null) this.dropTtl(field);
      return false;
    }
    idx.insertAfterMiss(field, packValue(value));
    return true;
  }

  /**
   * HSET's pairs args[from], args[from + 1], ... args[to - 1], as set() per
   * pair; returns how many fields were created. A listpack given a few fields
   * it does not hold yet, none twice (a new hash: the usual case), gets them
   * all in one rebuild instead of one per field.
   */
  setMany(args: string[], from: number, to: number, maxEntries: number, maxValue: number): number {
    const d = this.d;
    const np = (to - from) >> 1;
    if (typeof d === 'string' && np > 1 && np <= 16) {
      let fresh = true;
      for (let i = from; fresh && i < to; i += 2) {
        const f = args[i];
        if (f.length > maxValue || args[i + 1].length > maxValue || findField(this, d, f) >= 0) fresh = false;
        else for (let j = from; j < i; j += 2) if (args[j] === f) fresh = false;
      }
      if (fresh) {
        const n = lpEntries(d);
        lpb.begin();
        lpb.copy(d, LP_HDR, d.length - 1, 0);
        for (let i = from; i < to; i++) lpb.str(args[i]);
        this.d = lpb.finish(n + 2 * np);
        if ((n >> 1) + np > maxEntries) this.convert();
        return np;
      }
    }
    let created = 0;
    for (let i = from; i < to; i += 2) if (this.set(args[i], args[i + 1], maxEntries, maxValue)) created++;
    return created;
  }

  /** Deletes a field; returns true if it existed. */
  delete(field: string): boolean {
    const d = this.d;
    if (typeof d === 'string') {
      const p = findField(this, d, field);
      if (p < 0) return false;
      this.d = lpRemove(d, p, lpSkip(d, lpSkip(d, p)), 2);
      return true;
    }
    if (d.remove(field) < 0) return false;
    if (this.x !== null) this.dropTtl(field);
    return true;
  }

  /** A live iterator over the fields (hashtable: see MemberIndex; listpack: a snapshot). */
  fieldIterator(): Iterator<string> {
    const d = this.d;
    if (typeof d !== 'string') return d.iterator();
    const out: string[] = [];
    for (let p = lpFirst(d); p >= 0; p = lpNext(d, lpSkip(d, p))) {
      out.push(lpGet(d, p));
      if (lpSkip(d, p) >= d.length - 1) break;
    }
    return out[Symbol.iterator]();
  }

  // ---------------------------------------------------------------- field expiry

  /** True when some field has an expire time. */
  hasVolatile(): boolean {
    return this.x !== null;
  }

  /** Number of fields with an expire time. */
  volatileCount(): number {
    return this.x === null ? 0 : this.x.ttl.size;
  }

  /** Expire time of a field in unix ms, or -1 when it has none (or does not exist). */
  getExpire(field: string): number {
    if (this.x === null) return -1;
    const t = this.x.ttl.get(field);
    return t === undefined ? -1 : t;
  }

  /** Sets the expire time of an existing field (converts a listpack). */
  setExpire(field: string, when: number): void {
    this.convert();
    if (this.x === null) this.x = new FieldTtl();
    this.x.ttl.set(field, when);
    this.heapPush(when, field);
  }

  /** Removes a field's expire time; returns true if it had one. */
  persist(field: string): boolean {
    if (this.x === null || !this.x.ttl.has(field)) return false;
    this.dropTtl(field);
    return true;
  }

  private dropTtl(field: string): void {
    const x = this.x!;
    const ttl = x.ttl;
    if (!ttl.delete(field)) return;
    if (ttl.size === 0) this.x = null;
    else if (x.heapT.length > 2 * ttl.size + 64) this.rebuildHeap();
  }

  /** Earliest expire time among volatile fields (Infinity when none). */
  nextExpire(): number {
    const x = this.x;
    if (x === null) return Infinity;
    // Drop stale heap tops (fields deleted, persisted or given a new time).
    const T = x.heapT;
    while (T.length > 0) {
      const t = T[0];
      if (x.ttl.get(x.heapF[0]) === t) return t;
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
    while (n < max && this.x !== null) {
      const t = this.nextExpire();
      if (t === Infinity || !fieldExpired(t, now)) break;
      const f = this.x.heapF[0];
      this.heapPop();
      this.delete(f);
      if (out) out.push(f);
      n++;
    }
    return n;
  }

  private heapPush(t: number, f: string): void {
    const T = this.x!.heapT;
    const F = this.x!.heapF;
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
    const T = this.x!.heapT;
    const F = this.x!.heapF;
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
    const x = this.x;
    if (x === null) return;
    x.heapT = [];
    x.heapF = [];
    for (const [f, t] of x.ttl) this.heapPush(t, f);
  }

  // ---------------------------------------------------------------- misc

  clone(): HashObject {
    const d = this.d;
    // A listpack string is immutable: the copy shares it.
    if (typeof d === 'string') return new HashObject(d);
    const h = new HashObject();
    h.d = d.clone(d.keys.slice(), d.vals!.slice());
    if (this.x !== null) {
      const x = new FieldTtl();
      for (const [f, t] of this.x.ttl) x.ttl.set(f, t);
      h.x = x;
      h.rebuildHeap();
    }
    return h;
  }

  /** Rough bytes used (for MEMORY USAGE style estimates). */
  memoryUsage(): number {
    const d = this.d;
    if (typeof d === 'string') return 40 + 16 + d.length;
    let bytes = 64;
    const n = d.keys.length;
    for (let i = 0; i < n; i++) bytes += 32 + d.keys[i].length + unpack(d.vals![i]).length;
    bytes += n * 16 + d.indexBytes();
    if (this.x !== null) bytes += this.x.ttl.size * 48;
    return bytes;
  }
}

(HashObject.prototype as { objType: ObjType }).objType = ObjType.Hash;
