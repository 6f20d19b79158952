// A Valkey listpack held in a one-byte JavaScript string (char code = byte).
//
// Small hashes, sorted sets and lists keep their entries packed in one string
// with exactly the bytes Valkey's listpack.c would hold: a 6-byte header
// (total bytes u32 LE, entry count u16 LE, 65535 = "count by walking"),
// entries, and a 0xFF terminator. Each entry is an encoding byte (7-bit uint,
// 6/12/32-bit length string, 13/16/24/32/64-bit int), its data, and a backlen
// (the entry's size in 1-5 bytes of 7 bits, readable from its end, so the
// list can be walked backwards).
//
// Why a string: one heap object per collection instead of an array plus an
// object per element (a 3-field hash is one 64-byte string instead of about
// 300 bytes of arrays and strings), and the RDB listpack blob of a value is the
// string itself, so loading and saving a small collection is a copy.
//
// Strings are immutable: every change builds a new listpack with LpBuilder (a
// reused scratch Buffer, one latin1Slice at the end: the result is a flat
// string, never a cons-string tree). Readers walk by offset: lpFirst / lpNext /
// lpPrev / lpLast give entry offsets, lpGet reads one entry, lpEq compares one
// with a string without allocating.
//
// Element strings are latin1 (see ../util/latin1.ts); a string that is the
// canonical decimal form of an int64 is stored as an integer entry and read
// back as the same decimal string, as listpack.c does.
import { canonicalInt } from '../util/numbers.js';

/** Bytes of the header: total bytes (u32 LE) and count (u16 LE). */
export const LP_HDR = 6;
/** The terminator byte. */
export const LP_EOF = 0xff;
/** An empty listpack: header (7 bytes, 0 entries) and the terminator. */
export const LP_EMPTY = '\x07\x00\x00\x00\x00\x00\xff';

/** Bytes the backlen of an entry of `l` bytes takes. */
export function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Entry count (walks the listpack when the header says 65535). */
export function lpCount(lp: string): number {
  const n = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  if (n !== 65535) return n;
  let c = 0;
  for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) c++;
  return c;
}

/** Offset of the first entry, or -1 when empty. */
export function lpFirst(lp: string): number {
  return lp.charCodeAt(LP_HDR) === LP_EOF ? -1 : LP_HDR;
}

/** Size of the entry at p without its backlen (encoding byte + data). */
export function lpEncodedSize(lp: string, p: number): number {
  const c = lp.charCodeAt(p);
  if (c < 0x80) return 1;
  if (c < 0xc0) return 1 + (c & 0x3f);
  if (c < 0xe0) return 2;
  if (c < 0xf0) return 2 + (((c & 0x0f) << 8) | lp.charCodeAt(p + 1));
  switch (c) {
    case 0xf0:
      return 5 + (lp.charCodeAt(p + 1) | (lp.charCodeAt(p + 2) << 8) | (lp.charCodeAt(p + 3) << 16)) + lp.charCodeAt(p + 4) * 16777216;
    case 0xf1:
      return 3;
    case 0xf2:
      return 4;
    case 0xf3:
      return 5;
    case 0xf4:
      return 9;
    default:
      return -1;
  }
}

/** Offset just past the entry at p (its backlen included): the next entry or the terminator. */
export function lpSkip(lp: string, p: number): number {
  const e = lpEncodedSize(lp, p);
  return p + e + backlenSize(e);
}

/** Offset of the entry after p, or -1 at the end. */
export function lpNext(lp: string, p: number): number {
  const q = lpSkip(lp, p);
  return lp.charCodeAt(q) === LP_EOF ? -1 : q;
}

/** Offset of the entry before p (p may be the terminator's offset), or -1 at the start. */
export function lpPrev(lp: string, p: number): number {
  if (p <= LP_HDR) return -1;
  let q = p - 1;
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = lp.charCodeAt(q);
    v += (b & 127) * 2 ** shift;
    if ((b & 128) === 0) break;
    shift += 7;
    q--;
  }
  return q - v;
}

/** Offset of the last entry, or -1 when empty. */
export function lpLast(lp: string): number {
  return lpPrev(lp, lp.length - 1);
}

/** Offset of the i-th entry (negative i counts from the end), or -1. */
export function lpSeek(lp: string, i: number): number {
  if (i >= 0) {
    let p = lpFirst(lp);
    while (p >= 0 && i-- > 0) p = lpNext(lp, p);
    return p;
  }
  let p = lpLast(lp);
  while (p >= 0 && ++i < 0) p = lpPrev(lp, p);
  return p;
}

/** True when the entry at p is an integer entry. */
export function lpIsInt(lp: string, p: number): boolean {
  const c = lp.charCodeAt(p);
  return c < 0x80 || (c >= 0xc0 && c < 0xe0) || (c >= 0xf1 && c <= 0xf4);
}

function u8(lp: string, p: number): number {
  return lp.charCodeAt(p);
}

/** The integer of an integer entry at p (a bigint only beyond 2^53). */
export function lpInt(lp: string, p: number): number | bigint {
  const c = lp.charCodeAt(p);
  if (c < 0x80) return c;
  if (c < 0xe0) {
    const v = ((c & 0x1f) << 8) | u8(lp, p + 1);
    return v >= 4096 ? v - 8192 : v;
  }
  switch (c) {
    case 0xf1:
      return ((u8(lp, p + 1) | (u8(lp, p + 2) << 8)) << 16) >> 16;
    case 0xf2:
      return ((u8(lp, p + 1) | (u8(lp, p + 2) << 8) | (u8(lp, p + 3) << 16)) << 8) >> 8;
    case 0xf3:
      return u8(lp, p + 1) | (u8(lp, p + 2) << 8) | (u8(lp, p + 3) << 16) | (u8(lp, p + 4) << 24);
    default: {
      const lo = (u8(lp, p + 1) | (u8(lp, p + 2) << 8) | (u8(lp, p + 3) << 16) | (u8(lp, p + 4) << 24)) >>> 0;
      const hi = u8(lp, p + 5) | (u8(lp, p + 6) << 8) | (u8(lp, p + 7) << 16) | (u8(lp, p + 8) << 24);
      if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
  }
}

/** Start and length of a string entry's bytes at p (strStart/strLen), for callers that compare or copy in place. */
export let strStart = 0;
export let strLen = 0;

/** Sets strStart/strLen for the string entry at p; returns false for an integer entry. */
export function lpStrBounds(lp: string, p: number): boolean {
  const c = lp.charCodeAt(p);
  if (c < 0x80 || (c >= 0xc0 && c < 0xe0)) return false;
  if (c < 0xc0) {
    strStart = p + 1;
    strLen = c & 0x3f;
    return true;
  }
  if (c < 0xf0) {
    strStart = p + 2;
    strLen = ((c & 0x0f) << 8) | u8(lp, p + 1);
    return true;
  }
  if (c === 0xf0) {
    strStart = p + 5;
    strLen = lpEncodedSize(lp, p) - 5;
    return true;
  }
  return false;
}

/** The entry at p as a string (integers in decimal). */
export function lpGet(lp: string, p: number): string {
  if (!lpStrBounds(lp, p)) return String(lpInt(lp, p));
  return lp.slice(strStart, strStart + strLen);
}

/** The entry at p as a number when it is an integer entry in the safe range, else NaN (use lpGet). */
export function lpSafeInt(lp: string, p: number): number {
  if (!lpIsInt(lp, p)) return NaN;
  const v = lpInt(lp, p);
  return typeof v === 'number' ? v : NaN;
}

/** True when the entry at p equals s (byte for byte; integer entries compare as their decimal form). */
export function lpEq(lp: string, p: number, s: string): boolean {
  if (lpStrBounds(lp, p)) {
    const n = strLen;
    if (n !== s.length) return false;
    const b = strStart;
    for (let i = 0; i < n; i++) if (lp.charCodeAt(b + i) !== s.charCodeAt(i)) return false;
    return true;
  }
  const n = s.length;
  if (n === 0 || n > 20) return false;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return false;
  return String(lpInt(lp, p)) === s;
}

/** Offset of the first entry equal to s, looking at every `step`-th entry from the first (2: fields of a hash, members of a zset), or -1. */
export function lpFind(lp: string, s: string, step = 1): number {
  let p = lpFirst(lp);
  while (p >= 0) {
    if (lpEq(lp, p, s)) return p;
    for (let k = 0; k < step && p >= 0; k++) p = lpNext(lp, p);
  }
  return -1;
}

/** Every entry as strings, in order. */
export function lpItems(lp: string, out: string[] = []): string[] {
  for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) out.push(lpGet(lp, p));
  return out;
}

/**
 * Checks a listpack blob (an RDB value, a RESTORE payload) entry by entry:
 * header total, encodings in bounds, backlens consistent, the terminator at the
 * end. Returns the entry count, or -1 when it is corrupt.
 */
export function lpValidate(lp: string): number {
  const size = lp.length;
  if (size < 7) return -1;
  const total = (lp.charCodeAt(0) | (lp.charCodeAt(1) << 8) | (lp.charCodeAt(2) << 16)) + lp.charCodeAt(3) * 16777216;
  if (total !== size || lp.charCodeAt(size - 1) !== LP_EOF) return -1;
  const hdrCount = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  let p = LP_HDR;
  let n = 0;
  const last = size - 1;
  while (p < last) {
    const e = lpEncodedSize(lp, p);
    if (e < 0) return -1;
    const bl = backlenSize(e);
    if (p + e + bl > last) return -1;
    // The backlen, read backwards from the entry's end, must give its size.
    if (lpPrev(lp, p + e + bl) !== p) return -1;
    p += e + bl;
    n++;
  }
  if (p !== last) return -1;
  if (hdrCount !== 65535 && hdrCount !== n) return -1;
  return n;
}


/**
 * Builds listpacks: begin(), then entries (str, int, copy of a run of an
 * existing listpack's entries) in order, then finish() gives the new listpack.
 * One builder (a module-level scratch Buffer) serves every caller: use it
 * start to finish without interleaving.
 */
export class LpBuilder {
  private buf = Buffer.allocUnsafeSlow(4096);
  private pos = LP_HDR;
  private count = 0;

  begin(): this {
    this.pos = LP_HDR;
    this.count = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = Buffer.allocUnsafeSlow(cap);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  private backlen(l: number): void {
    const b = this.buf;
    if (l <= 127) b[this.pos++] = l;
    else if (l < 16383) {
      b[this.pos++] = l >> 7;
      b[this.pos++] = (l & 127) | 128;
    } else if (l < 2097151) {
      b[this.pos++] = l >> 14;
      b[this.pos++] = ((l >> 7) & 127) | 128;
      b[this.pos++] = (l & 127) | 128;
    } else if (l < 268435455) {
      b[this.pos++] = l >> 21;
      b[this.pos++] = ((l >> 14) & 127) | 128;
      b[this.pos++] = ((l >> 7) & 127) | 128;
      b[this.pos++] = (l & 127) | 128;
    } else {
      b[this.pos++] = Math.floor(l / 268435456);
      b[this.pos++] = ((l >> 21) & 127) | 128;
      b[this.pos++] = ((l >> 14) & 127) | 128;
      b[this.pos++] = ((l >> 7) & 127) | 128;
      b[this.pos++] = (l & 127) | 128;
    }
  }

  /** Appends an integer entry (the smallest encoding that holds v). */
  int(v: number | bigint): this {
    this.ensure(16);
    const b = this.buf;
    const start = this.pos;
    if (typeof v === 'number' && v >= 0 && v <= 127) b[this.pos++] = v;
    else if (typeof v === 'number' && v >= -4096 && v <= 4095) {
      const u = v < 0 ? 8192 + v : v;
      b[this.pos++] = 0xc0 | (u >> 8);
      b[this.pos++] = u & 0xff;
    } else if (typeof v === 'number' && v >= -32768 && v <= 32767) {
      b[this.pos++] = 0xf1;
      b.writeInt16LE(v, this.pos);
      this.pos += 2;
    } else if (typeof v === 'number' && v >= -8388608 && v <= 8388607) {
      b[this.pos++] = 0xf2;
      b.writeIntLE(v, this.pos, 3);
      this.pos += 3;
    } else if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) {
      b[this.pos++] = 0xf3;
      b.writeInt32LE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xf4;
      b.writeBigInt64LE(BigInt(v), this.pos);
      this.pos += 8;
    }
    this.backlen(this.pos - start);
    this.count++;
    return this;
  }

  /** Appends a string entry; a canonical int64 string becomes an integer entry, as lpAppend does. */
  str(s: string): this {
    const n = s.length;
    if (n > 0 && n <= 20) {
      const c = s.charCodeAt(0);
      if (c === 45 || (c >= 48 && c <= 57)) {
        const v = canonicalInt(s);
        if (v !== null) return this.int(v);
      }
    }
    this.ensure(n + 10);
    const b = this.buf;
    const start = this.pos;
    if (n < 64) b[this.pos++] = 0x80 | n;
    else if (n < 4096) {
      b[this.pos++] = 0xe0 | (n >> 8);
      b[this.pos++] = n & 0xff;
    } else {
      b[this.pos++] = 0xf0;
      b.writeUInt32LE(n, this.pos);
      this.pos += 4;
    }
    if (n <= 32) for (let i = 0; i < n; i++) b[this.pos + i] = s.charCodeAt(i);
    else b.latin1Write(s, this.pos, n);
    this.pos += n;
    this.backlen(this.pos - start);
    this.count++;
    return this;
  }

  /** Appends the entries of lp between offsets from and to (entry boundaries; `entries` of them) unchanged. */
  copy(lp: string, from: number, to: number, entries: number): this {
    const n = to - from;
    if (n <= 0) return this;
    this.ensure(n);
    const b = this.buf;
    if (n <= 48) for (let i = 0; i < n; i++) b[this.pos + i] = lp.charCodeAt(from + i);
    else b.latin1Write(from === 0 && to === lp.length ? lp : lp.slice(from, to), this.pos, n);
    this.pos += n;
    this.count += entries;
    return this;
  }

  /** Entries appended so far. */
  get entries(): number {
    return this.count;
  }

  /**
   * Terminates and returns the listpack as a flat string. `count` overrides the
   * entry count the header gets (when copy() was given 0 for runs whose size the
   * caller knows only in total).
   */
  finish(count = this.count): string {
    return this.finishBuffer(count).latin1Slice();
  }

  /** Terminates the listpack; returns its bytes, a view of the scratch buffer valid until the next begin() (RDB blobs). */
  finishBuffer(count = this.count): Buffer {
    this.ensure(1);
    const b = this.buf;
    b[this.pos++] = LP_EOF;
    b.writeUInt32LE(this.pos, 0);
    b.writeUInt16LE(count < 65535 ? count : 65535, 4);
    return b.subarray(0, this.pos);
  }
}

/** The shared builder (single-threaded: finish before the next begin). */
export const lpb = new LpBuilder();

/** A listpack of these strings, in order. */
export function lpFromItems(items: readonly string[], from = 0, to = items.length): string {
  if (from >= to) return LP_EMPTY;
  lpb.begin();
  for (let i = from; i < to; i++) lpb.str(items[i]);
  return lpb.finish();
}

/**
 * lp with the entries in [from, to) (offsets at entry boundaries; `removed`
 * entries) replaced by the strings `items` (none: a delete). to may be the
 * terminator's offset (lp.length - 1).
 */
export function lpSplice(lp: string, from: number, to: number, removed: number, items: readonly string[]): string {
  const total = lpCount(lp);
  lpb.begin();
  lpb.copy(lp, LP_HDR, from, 0);
  for (let i = 0; i < items.length; i++) lpb.str(items[i]);
  lpb.copy(lp, to, lp.length - 1, 0);
  return lpb.finish(total - removed + items.length);
}

/** Appends strings at the end. */
export function lpAppend(lp: string, items: readonly string[]): string {
  return lpSplice(lp, lp.length - 1, lp.length - 1, 0, items);
}

/** Writes lp into b at off (for RDB and DUMP); returns the bytes written. */
export function lpWrite(lp: string, b: Buffer, off: number): number {
  return b.latin1Write(lp, off, lp.length);
}
