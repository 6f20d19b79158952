// The hash type: field -> value, with optional per-field expire times (Valkey 9).
// Pure data structure, no I/O; thresholds come from the caller.
//
// Two encodings, as Valkey reports them:
// - "listpack": a flat array [f0, v0, f1, v1, ...] in insertion order (updates
//   keep their place, deletes close the gap). Lookups are linear, like a real
//   listpack, which is fine up to hash-max-listpack-entries (512) fields. Small
//   hashes cost one array instead of a Map.
// - "hashtable": a Map field -> slot plus two parallel arrays (fields, values).
//   Deleting moves the last slot into the hole, so the slots stay dense and a
//   random field is O(1) (HRANDFIELD). The Map's own iteration order drives
//   HSCAN: a live Map iterator returns every field present for the whole scan
//   exactly once.
// A listpack never holds volatile fields: setting a field's expire time
// converts the hash to a hashtable first (Valkey does the same), and a hash
// never goes back to listpack.
//
// Expire times are absolute unix ms in a Map field -> time, plus a binary
// min-heap of (time, field) for finding due fields in O(log n) each. Heap
// entries are checked against the Map when popped (stale ones are dropped) and
// the heap is rebuilt when stale entries outnumber live ones.
import { ObjType, type DataObject } from '../keyspace/types.js';

/** A field is expired once the clock has passed its expire time (Valkey: now > when). */
export function fieldExpired(when: number, now: number): boolean {
  return now > when;
}

export class HashObject implements DataObject {
  readonly objType = ObjType.Hash;
  /** Listpack encoding: [f0, v0, f1, v1, ...]; null once converted. */
  private lp: string[] | null = [];
  /** Hashtable encoding: field -> slot in ks/vs. */
  private idx: Map<string, number> | null = null;
  private ks: string[] = [];
  private vs: string[] = [];
  /** Expire times of volatile fields (hashtable only); null when there are none. */
  private ttl: Map<string, number> | null = null;
  private heapT: number[] = [];
  private heapF: string[] = [];

  get size(): number {
    return this.lp !== null ? this.lp.length >> 1 : this.ks.length;
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
      return i < 0 ? undefined : this.lp[i + 1];
    }
    const s = this.idx!.get(field);
    return s === undefined ? undefined : this.vs[s];
  }

  has(field: string): boolean {
    return this.lp !== null ? this.lpFind(field) >= 0 : this.idx!.has(field);
  }

  /** Field at position i (0 <= i < size), in the encoding's order. */
  fieldAt(i: number): string {
    return this.lp !== null ? this.lp[2 * i] : this.ks[i];
  }

  valueAt(i: number): string {
    return this.lp !== null ? this.lp[2 * i + 1] : this.vs[i];
  }

  /**
   * Converts a listpack into a hashtable (keeps the listpack order as slot
   * order). Does nothing on a hashtable.
   */
  convert(): void {
    const lp = this.lp;
    if (lp === null) return;
    const n = lp.length >> 1;
    const idx = new Map<string, number>();
    const ks = new Array<string>(n);
    const vs = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      ks[i] = lp[2 * i];
      vs[i] = lp[2 * i + 1];
      idx.set(ks[i], i);
    }
    this.idx = idx;
    this.ks = ks;
    this.vs = vs;
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
        lp[i + 1] = value;
        return false;
      }
      lp.push(field, value);
      if (lp.length >> 1 > maxEntries) this.convert();
      return true;
    }
    const idx = this.idx!;
    const s = idx.get(field);
    if (s !== undefined) {
      this.vs[s] = value;
      if (!keepTtl && this.ttl !== null) this.dropTtl(field);
      return false;
    }
    idx.set(field, this.ks.length);
    this.ks.push(field);
    this.vs.push(value);
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
    const idx = this.idx!;
    const s = idx.get(field);
    if (s === undefined) return false;
    idx.delete(field);
    const last = this.ks.length - 1;
    if (s !== last) {
      const mf = this.ks[last];
      this.ks[s] = mf;
      this.vs[s] = this.vs[last];
      idx.set(mf, s);
    }
    this.ks.pop();
    this.vs.pop();
    if (this.ttl !== null) this.dropTtl(field);
    return true;
  }

  /** A live iterator over the fields (hashtable: Map order; listpack: a snapshot). */
  fieldIterator(): Iterator<string> {
    if (this.idx !== null) return this.idx.keys();
    const out: string[] = [];
    for (let i = 0; i < this.lp!.length; i += 2) out.push(this.lp![i]);
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
    if (this.ttl === null) this.ttl = new Map();
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
      this.heapT = [];
      this.heapF = [];
    } else if (this.heapT.length > 2 * ttl.size + 64) {
      this.rebuildHeap();
    }
  }

  /** Earliest expire time among volatile fields (Infinity when none). */
  nextExpire(): number {
    const ttl = this.ttl;
    if (ttl === null) return Infinity;
    // Drop stale heap tops (fields deleted, persisted or given a new time).
    while (this.heapT.length > 0) {
      const t = this.heapT[0];
      if (ttl.get(this.heapF[0]) === t) return t;
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
      const f = this.heapF[0];
      this.heapPop();
      this.delete(f);
      if (out) out.push(f);
      n++;
    }
    return n;
  }

  private heapPush(t: number, f: string): void {
    const T = this.heapT;
    const F = this.heapF;
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
    const T = this.heapT;
    const F = this.heapF;
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
    this.heapT = [];
    this.heapF = [];
    if (this.ttl !== null) for (const [f, t] of this.ttl) this.heapPush(t, f);
  }

  // ---------------------------------------------------------------- misc

  clone(): HashObject {
    const h = new HashObject();
    if (this.lp !== null) {
      h.lp = this.lp.slice();
    } else {
      h.lp = null;
      h.idx = new Map(this.idx!);
      h.ks = this.ks.slice();
      h.vs = this.vs.slice();
      if (this.ttl !== null) {
        h.ttl = new Map(this.ttl);
        h.rebuildHeap();
      }
    }
    return h;
  }

  /** Rough bytes used (for MEMORY USAGE style estimates). */
  memoryUsage(): number {
    let bytes = 64;
    const n = this.size;
    for (let i = 0; i < n; i++) bytes += 32 + this.fieldAt(i).length + this.valueAt(i).length;
    if (this.lp === null) bytes += n * 40;
    if (this.ttl !== null) bytes += this.ttl.size * 48;
    return bytes;
  }
}
