// RDB deserialization: the low-level reader and the decoding of every RDB value
// type Redis/Valkey write (RDB 1 to 12): strings, lists (linked list, ziplist,
// quicklist, quicklist 2), sets (plain, intset, listpack), sorted sets (plain,
// binary scores, ziplist, listpack), hashes (plain, zipmap, ziplist, listpack;
// with field expire times: Redis 7.4's metadata and listpack-ex, Valkey 9's HASH_2)
// and streams (listpacks v1, v2, v3). Values are built with Vireo's encodings,
// converted by the same thresholds Valkey applies when loading.
import { latin1, shortLatin1 } from '../../util/latin1.js';
import type { Value } from '../../keyspace/types.js';
import { ListValue } from '../../data/list.js';
import { HashObject } from '../../data/hash.js';
import { lpValidate as lpCheckHash } from '../../data/listpack.js';
import { SetEnc, SetValue, isIntMember, type SetLimits } from '../../data/set.js';
import { ZSet } from '../../data/zset.js';
import { zpLoadable } from '../../data/zset-packed.js';
import { lpValidate as lpCheckZset, lpItems as lpZsetItems } from '../../data/listpack.js';
import { Consumer, Group, Nack, Stream, STREAM_NODE_MAX_ENTRIES, normU64, type U64 } from '../../data/stream.js';
import { compactInt, strtod } from '../../util/numbers.js';
import { lzfDecompress } from './lzf.js';
import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  HFE_MAX_EXPIRE,
  QUICKLIST_NODE_PLAIN,
  RdbError,
  STREAM_ITEM_FLAG_DELETED,
  STREAM_ITEM_FLAG_SAMEFIELDS,
  T,
} from './format.js';

/** Encoding thresholds that decide the in-memory encoding of loaded values. */
export interface LoadLimits {
  listFill: number;
  hashEntries: number;
  hashValue: number;
  zsetEntries: number;
  zsetValue: number;
  set: SetLimits;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = {
  listFill: -2,
  hashEntries: 512,
  hashValue: 64,
  zsetEntries: 128,
  zsetValue: 64,
  set: { intsetEntries: 512, listpackEntries: 128, listpackValue: 64 },
};

const EMPTY_BUF = Buffer.alloc(0);

/** Short strings are built in JS (src/util/latin1.ts): cheaper than a latin1Slice call. */
export { latin1 };

/** Reads RDB primitives from a Buffer. */
export class RdbReader {
  pos: number;
  constructor(
    public buf: Buffer,
    pos = 0,
    public end = buf.length,
  ) {
    this.pos = pos;
  }

  fail(msg: string): never {
    throw new RdbError(msg, this.pos);
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new RdbError('Unexpected EOF reading RDB file', this.pos);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Set by lenRaw(): the length byte announced a special string encoding (the value is its type). */
  encoded = false;

  /** A length or string encoding (see `encoded`); 64-bit values beyond 2^53 come as bigint. No allocation. */
  lenRaw(): number | bigint {
    const buf = this.buf;
    const p = this.pos;
    if (p >= this.end) this.need(1);
    const b = buf[p];
    if (b < 0x40) {
      this.pos = p + 1;
      this.encoded = false;
      return b;
    }
    if (b < 0x80) {
      if (p + 2 > this.end) this.need(2);
      this.pos = p + 2;
      this.encoded = false;
      return ((b & 0x3f) << 8) | buf[p + 1];
    }
    if (b >= 0xc0) {
      this.pos = p + 1;
      this.encoded = true;
      return b & 0x3f;
    }
    this.pos = p + 1;
    this.encoded = false;
    if (b === 0x80) {
      this.need(4);
      const v = buf.readUInt32BE(p + 1);
      this.pos = p + 5;
      return v;
    }
    if (b === 0x81) {
      this.need(8);
      const hi = buf.readUInt32BE(p + 1);
      const lo = buf.readUInt32BE(p + 5);
      this.pos = p + 9;
      if (hi < 0x200000) return hi * 4294967296 + lo;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    this.fail(`Unknown length encoding ${b} in rdbLoadLen()`);
  }

  /** A length: returns [value, isEncoded]; 64-bit values beyond 2^53 come as bigint. */
  lenOrEnc(): [number | bigint, boolean] {
    const v = this.lenRaw();
    return [v, this.encoded];
  }

  /** A length that must fit a JS number (a count or a size). */
  len(): number {
    const v = this.lenRaw();
    if (this.encoded) this.fail('Unexpected encoded length');
    if (typeof v === 'bigint') this.fail('Length out of range');
    return v;
  }

  /** A 64-bit unsigned length (stream IDs and counters). */
  u64(): U64 {
    const v = this.lenRaw();
    if (this.encoded) this.fail('Unexpected encoded length');
    return v;
  }

  millis(): number | bigint {
    this.need(8);
    const p = this.pos;
    const lo = this.buf.readUInt32LE(p);
    const hi = this.buf.readInt32LE(p + 4);
    this.pos = p + 8;
    if (hi > -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  int32le(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  binaryDouble(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Old-style double: length byte then ASCII (253 nan, 254 +inf, 255 -inf). */
  asciiDouble(): number {
    const n = this.byte();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    this.need(n);
    const s = this.buf.latin1Slice(this.pos, this.pos + n);
    this.pos += n;
    const v = strtod(s);
    if (v === null) this.fail('Invalid double value');
    return v;
  }

  /** An integer-encoded string's value (the encoding type already read), or undefined for LZF/unknown. */
  private encInt(t: number | bigint): number | undefined {
    const buf = this.buf;
    const p = this.pos;
    if (t === ENC_INT8) {
      this.need(1);
      this.pos = p + 1;
      return (buf[p] << 24) >> 24;
    }
    if (t === ENC_INT16) {
      this.need(2);
      this.pos = p + 2;
      return ((buf[p] | (buf[p + 1] << 8)) << 16) >> 16;
    }
    if (t === ENC_INT32) {
      this.need(4);
      this.pos = p + 4;
      return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    }
    return undefined;
  }

  /** An LZF-compressed string (the encoding type already read) or fails on an unknown encoding. */
  private encOther(t: number | bigint): Buffer {
    if (t === ENC_LZF) {
      const clen = this.len();
      const len = this.len();
      const data = this.bytes(clen);
      try {
        return lzfDecompress(data, len);
      } catch (e) {
        this.fail(`Invalid LZF compressed string: ${(e as Error).message}`);
      }
    }
    this.fail(`Unknown RDB string encoding type ${t}`);
  }

  /** A string object as raw bytes (integer encodings give their decimal digits). */
  strBuf(): Buffer {
    const v = this.lenRaw();
    if (!this.encoded) {
      if (typeof v === 'bigint') this.fail('String length out of range');
      return this.bytes(v);
    }
    const n = this.encInt(v);
    if (n !== undefined) return Buffer.from(String(n), 'latin1');
    return this.encOther(v);
  }

  /** Where blob() found its bytes: blobBuf[blobStart, blobEnd). */
  blobBuf: Buffer = EMPTY_BUF;
  blobStart = 0;
  blobEnd = 0;

  /**
   * A string object used as a blob (listpack, intset, ziplist...): sets blobBuf,
   * blobStart and blobEnd, pointing into the file's buffer when the string is
   * stored plain (no copy, no Buffer object).
   */
  blob(): void {
    const v = this.lenRaw();
    if (!this.encoded) {
      if (typeof v === 'bigint') this.fail('String length out of range');
      this.need(v);
      this.blobBuf = this.buf;
      this.blobStart = this.pos;
      this.pos += v;
      this.blobEnd = this.pos;
      return;
    }
    const n = this.encInt(v);
    const b = n !== undefined ? Buffer.from(String(n), 'latin1') : this.encOther(v);
    this.blobBuf = b;
    this.blobStart = 0;
    this.blobEnd = b.length;
  }

  /** A string object as a latin1 JS string. */
  str(): string {
    const buf = this.buf;
    const p = this.pos;
    const end = this.end;
    if (p < end) {
      const b = buf[p];
      if (b < 0x40) {
        const e = p + 1 + b;
        if (e <= end) {
          this.pos = e;
          return latin1(buf, p + 1, e);
        }
      } else if (b < 0x80 && p + 2 <= end) {
        const e = p + 2 + (((b & 0x3f) << 8) | buf[p + 1]);
        if (e <= end) {
          this.pos = e;
          return latin1(buf, p + 2, e);
        }
      }
    }
    const v = this.lenRaw();
    if (!this.encoded) {
      if (typeof v === 'bigint') this.fail('String length out of range');
      this.need(v);
      this.pos += v;
      return buf.latin1Slice(this.pos - v, this.pos);
    }
    const n = this.encInt(v);
    if (n !== undefined) return String(n);
    const b = this.encOther(v);
    return b.latin1Slice(0, b.length);
  }

  /** A string value as stored in the keyspace: a number for a small canonical integer, else the string. */
  strValue(): Value {
    const buf = this.buf;
    const p = this.pos;
    if (p < this.end) {
      const b = buf[p];
      if (b >= 0xc0 && b <= 0xc0 + ENC_INT32) {
        this.pos = p + 1;
        return this.encInt(b & 0x3f)!;
      }
    }
    return stringValue(this.str());
  }

  /** Skips a string object. */
  skipStr(): void {
    const v = this.lenRaw();
    if (!this.encoded) {
      if (typeof v === 'bigint') this.fail('String length out of range');
      this.need(v);
      this.pos += v;
      return;
    }
    if (v === ENC_INT8) this.pos += 1;
    else if (v === ENC_INT16) this.pos += 2;
    else if (v === ENC_INT32) this.pos += 4;
    else if (v === ENC_LZF) {
      const clen = this.len();
      this.len();
      this.need(clen);
      this.pos += clen;
    } else this.fail(`Unknown RDB string encoding type ${v}`);
    if (this.pos > this.end) this.fail('Unexpected EOF reading RDB file');
  }
}

// ------------------------------------------------------------------ blobs

/** A little-endian int64 at p as a JS number when exact, else its decimal digits' BigInt. */
function int64At(b: Buffer, p: number): number | bigint {
  const lo = b.readUInt32LE(p);
  const hi = b.readInt32LE(p + 4);
  if (hi > -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
  return b.readBigInt64LE(p);
}

/** Elements of a listpack blob, as latin1 strings (integers in decimal). */
export function listpackItems(b: Buffer): string[] {
  return listpackInto(b, 0, b.length, []);
}

/** Strings up to this many bytes inside listpacks are looked up in SHARED first. */
const SHARED_MAX = 12;
const SHARED_SLOTS = 4096;
/**
 * Recently decoded short listpack strings, by a hash of their bytes: the same
 * field names, members and small values recur across the collections of a
 * file ("name", "city", "one"...), and a string found here is used again (JS
 * strings are immutable) instead of allocating one more copy that would live
 * as long as the value. Fewer live objects: less memory, less GC while loading.
 */
const SHARED: string[] = new Array<string>(SHARED_SLOTS).fill('');

/** b[p, p + n) (n <= SHARED_MAX) as a latin1 string, shared with an equal one decoded before when there is one. */
function sharedLatin1(b: Buffer, p: number, n: number): string {
  let h = n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[p + i], 0x01000193);
  const slot = (h ^ (h >>> 15)) & (SHARED_SLOTS - 1);
  const s = SHARED[slot];
  if (s.length === n) {
    let i = 0;
    while (i < n && s.charCodeAt(i) === b[p + i]) i++;
    if (i === n) return s;
  }
  const t = shortLatin1(b, p, n);
  SHARED[slot] = t;
  return t;
}

/** Appends the elements of the listpack at b[start, end) to `out` (no copy of the blob). */
export function listpackInto(b: Buffer, start: number, end: number, out: string[]): string[] {
  const size = end - start;
  if (size < 7) throw new RdbError('Listpack integrity check failed: too short');
  const total = b.readUInt32LE(start);
  if (total !== size) throw new RdbError('Listpack integrity check failed: bad total bytes');
  let p = start + 6;
  const last = end - 1;
  for (;;) {
    if (p >= end) throw new RdbError('Listpack integrity check failed: missing terminator');
    const c = b[p];
    if (c === 0xff) break;
    let elen: number;
    if ((c & 0x80) === 0) {
      out.push(String(c));
      elen = 1;
    } else if ((c & 0xc0) === 0x80) {
      const n = c & 0x3f;
      if (p + 1 + n > last) throw new RdbError('Listpack integrity check failed: entry overflows');
      out.push(n <= SHARED_MAX ? sharedLatin1(b, p + 1, n) : latin1(b, p + 1, p + 1 + n));
      elen = 1 + n;
    } else if ((c & 0xe0) === 0xc0) {
      let v = ((c & 0x1f) << 8) | b[p + 1];
      if (v >= 4096) v -= 8192;
      out.push(String(v));
      elen = 2;
    } else if ((c & 0xf0) === 0xe0) {
      const n = ((c & 0x0f) << 8) | b[p + 1];
      if (p + 2 + n > last) throw new RdbError('Listpack integrity check failed: entry overflows');
      out.push(latin1(b, p + 2, p + 2 + n));
      elen = 2 + n;
    } else if (c === 0xf0) {
      const n = b.readUInt32LE(p + 1);
      if (p + 5 + n > last) throw new RdbError('Listpack integrity check failed: entry overflows');
      out.push(b.latin1Slice(p + 5, p + 5 + n));
      elen = 5 + n;
    } else if (c === 0xf1) {
      out.push(String(b.readInt16LE(p + 1)));
      elen = 3;
    } else if (c === 0xf2) {
      out.push(String(b.readIntLE(p + 1, 3)));
      elen = 4;
    } else if (c === 0xf3) {
      out.push(String(b.readInt32LE(p + 1)));
      elen = 5;
    } else if (c === 0xf4) {
      out.push(String(int64At(b, p + 1)));
      elen = 9;
    } else throw new RdbError(`Listpack integrity check failed: bad encoding byte ${c}`);
    const bl = elen <= 127 ? 1 : elen < 16383 ? 2 : elen < 2097151 ? 3 : elen < 268435455 ? 4 : 5;
    p += elen + bl;
    if (p > last) throw new RdbError('Listpack integrity check failed: entry overflows');
  }
  return out;
}

/** Elements of a ziplist blob (RDB 7 and older), as latin1 strings. */
export function ziplistItems(b: Buffer): string[] {
  if (b.length < 11) throw new RdbError('Ziplist integrity check failed: too short');
  const out: string[] = [];
  let p = 10;
  for (;;) {
    if (p >= b.length) throw new RdbError('Ziplist integrity check failed: missing terminator');
    if (b[p] === 0xff) break;
    p += b[p] === 0xfe ? 5 : 1; // prevlen
    const c = b[p];
    const t = c >> 6;
    if (t === 0) {
      const n = c & 0x3f;
      out.push(b.latin1Slice(p + 1, p + 1 + n));
      p += 1 + n;
    } else if (t === 1) {
      const n = ((c & 0x3f) << 8) | b[p + 1];
      out.push(b.latin1Slice(p + 2, p + 2 + n));
      p += 2 + n;
    } else if (t === 2) {
      const n = b.readUInt32BE(p + 1);
      out.push(b.latin1Slice(p + 5, p + 5 + n));
      p += 5 + n;
    } else if (c === 0xc0) {
      out.push(String(b.readInt16LE(p + 1)));
      p += 3;
    } else if (c === 0xd0) {
      out.push(String(b.readInt32LE(p + 1)));
      p += 5;
    } else if (c === 0xe0) {
      out.push(String(b.readBigInt64LE(p + 1)));
      p += 9;
    } else if (c === 0xf0) {
      out.push(String(b.readIntLE(p + 1, 3)));
      p += 4;
    } else if (c === 0xfe) {
      out.push(String(b.readInt8(p + 1)));
      p += 2;
    } else if (c >= 0xf1 && c <= 0xfd) {
      out.push(String((c & 0x0f) - 1));
      p += 1;
    } else throw new RdbError(`Ziplist integrity check failed: bad encoding byte ${c}`);
    if (p > b.length) throw new RdbError('Ziplist integrity check failed: entry overflows');
  }
  return out;
}

/** Members of an intset blob, sorted. */
export function intsetItems(b: Buffer): string[] {
  return intsetAt(b, 0, b.length);
}

/** Members of the intset at b[start, end), sorted (no copy of the blob). */
function intsetAt(b: Buffer, start: number, end: number): string[] {
  if (end - start < 8) throw new RdbError('Intset integrity check failed: too short');
  const w = b.readUInt32LE(start);
  const n = b.readUInt32LE(start + 4);
  if ((w !== 2 && w !== 4 && w !== 8) || 8 + w * n !== end - start) throw new RdbError('Intset integrity check failed');
  const out = new Array<string>(n);
  const base = start + 8;
  if (w === 2) for (let i = 0; i < n; i++) out[i] = String(b.readInt16LE(base + 2 * i));
  else if (w === 4) for (let i = 0; i < n; i++) out[i] = String(b.readInt32LE(base + 4 * i));
  else for (let i = 0; i < n; i++) out[i] = String(int64At(b, base + 8 * i));
  return out;
}

/** Field/value pairs of a zipmap blob (RDB 1-3 hashes). */
export function zipmapItems(b: Buffer): string[] {
  const out: string[] = [];
  let p = 1;
  const readLen = (): number => {
    const c = b[p];
    if (c < 254) {
      p += 1;
      return c;
    }
    if (c === 254) {
      const v = b.readUInt32LE(p + 1);
      p += 5;
      return v;
    }
    return -1;
  };
  for (;;) {
    if (p >= b.length) throw new RdbError('Zipmap integrity check failed');
    if (b[p] === 0xff) break;
    const kl = readLen();
    const k = b.latin1Slice(p, p + kl);
    p += kl;
    const vl = readLen();
    const free = b[p++];
    const v = b.latin1Slice(p, p + vl);
    p += vl + free;
    out.push(k, v);
  }
  return out;
}

// ------------------------------------------------------------------ values

function stringValue(s: string): Value {
  const n = compactInt(s);
  return n !== undefined ? n : s;
}

function buildList(items: string[], lim: LoadLimits): ListValue {
  return ListValue.fromItems(items, lim.listFill);
}

function buildHash(pairs: string[], lim: LoadLimits): HashObject {
  const h = HashObject.fromPairs(pairs, lim.hashEntries, lim.hashValue);
  if (h === null) throw new RdbError('Duplicate hash fields detected');
  return h;
}

/**
 * A listpack hash keeps its blob as its listpack string (src/data/hash.ts),
 * after Valkey's checks: a sound listpack of field/value pairs, not empty, no
 * field twice (Valkey checks that only when sanitizing; Vireo always does),
 * converted to a hashtable past hash-max-listpack-entries (the count only, as
 * Valkey: a long value does not convert it here).
 */
function hashListpack(r: RdbReader, lim: LoadLimits): HashObject {
  r.blob();
  const lp = r.blobBuf.latin1Slice(r.blobStart, r.blobEnd);
  const n = lpCheckHash(lp);
  if (n < 0 || (n & 1) !== 0) r.fail('Hash listpack integrity check failed.');
  if (n === 0) r.fail('Empty hash listpack');
  const h = HashObject.fromListpack(lp, lim.hashEntries);
  if (h === null) r.fail('Duplicate hash fields detected');
  return h;
}

function buildSet(items: string[], enc: SetEnc, lim: LoadLimits): SetValue {
  const L = lim.set;
  const n = items.length;
  let target = enc;
  if (target === SetEnc.Intset && n > L.intsetEntries) target = SetEnc.Hashtable;
  if (target === SetEnc.Listpack && (n > L.listpackEntries || items.some((m) => m.length > L.listpackValue))) target = SetEnc.Hashtable;
  if (target === SetEnc.Hashtable && enc !== SetEnc.Hashtable) {
    // a compact encoding that does not fit: straight to hashtable
  }
  if (target === SetEnc.Intset) return new SetValue(SetEnc.Intset, items);
  if (target === SetEnc.Listpack) return new SetValue(SetEnc.Listpack, items);
  // A plain RDB set: Valkey picks intset / listpack / hashtable from its size and members.
  if (enc === SetEnc.Hashtable) {
    if (n <= L.intsetEntries && items.every(isIntMember)) {
      const sorted = items.slice().sort((a, b) => {
        const x = BigInt(a);
        const y = BigInt(b);
        return x < y ? -1 : x > y ? 1 : 0;
      });
      return new SetValue(SetEnc.Intset, sorted);
    }
    if (n <= L.listpackEntries && !items.some((m) => m.length > L.listpackValue)) return new SetValue(SetEnc.Listpack, items);
  }
  const s = new SetValue(SetEnc.Hashtable, items);
  if (s.index!.size !== n) throw new RdbError('Duplicate set members detected');
  return s;
}

function buildZSet(members: string[], scores: number[], lim: LoadLimits): ZSet {
  const d = new Map<string, number>();
  let maxLen = 0;
  for (let i = 0; i < members.length; i++) {
    if (Number.isNaN(scores[i])) throw new RdbError('Zset with NAN score detected');
    d.set(members[i], scores[i]);
    if (members[i].length > maxLen) maxLen = members[i].length;
  }
  if (d.size !== members.length) throw new RdbError('Duplicate zset fields detected');
  const compact = d.size <= lim.zsetEntries && maxLen <= lim.zsetValue;
  return ZSet.fromMap(d, compact);
}

function zsetFromPairs(items: string[], lim: LoadLimits): ZSet {
  const n = items.length >> 1;
  const m = new Array<string>(n);
  const s = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    m[i] = items[2 * i];
    const v = strtod(items[2 * i + 1]);
    if (v === null) throw new RdbError('Invalid zset score');
    s[i] = v;
  }
  // Fast path: a listpack zset is stored in order (score, then member bytes);
  // when it is, with distinct members and no NaN, it needs no sort and no Map.
  if (n <= lim.zsetEntries && sortedDistinct(m, s)) {
    let maxLen = 0;
    for (let i = 0; i < n; i++) if (m[i].length > maxLen) maxLen = m[i].length;
    return ZSet.fromSorted(m, s, maxLen <= lim.zsetValue);
  }
  return buildZSet(m, s, lim);
}

/**
 * A ZSET_LISTPACK blob (as a latin1 string). Kept as it is, as Valkey keeps
 * it: its listpack structure checked, converted to a skiplist past
 * zset-max-listpack-entries (Valkey checks only the count here, not member
 * lengths). Valkey without deep sanitization trusts the order and uniqueness
 * of the pairs (a duplicate crashes it on conversion); Vireo checks them in
 * place (cheap, no strings for small sets) and, like a blob whose scores are
 * not plain decimal text, parses and rebuilds one that fails: sorted,
 * duplicates and NaN refused.
 */
function zsetFromListpack(lp: string, lim: LoadLimits): ZSet {
  const n = lpCheckZset(lp);
  if (n < 0 || (n & 1) !== 0) throw new RdbError('Zset listpack integrity check failed.');
  // Valkey skips an empty one in a file and refuses it in RESTORE; never a key holding an empty zset.
  if (n === 0) throw new RdbError('Empty zset listpack');
  if (n >> 1 > lim.zsetEntries || !zpLoadable(lp)) return zsetFromPairs(lpZsetItems(lp), lim);
  return ZSet.fromListpack(lp);
}

/** True when (s[i], m[i]) strictly increase (equal scores: by member) and members are distinct. */
function sortedDistinct(m: string[], s: number[]): boolean {
  const n = m.length;
  for (let i = 0; i < n; i++) if (Number.isNaN(s[i])) return false;
  for (let i = 1; i < n; i++) {
    const a = s[i - 1];
    const b = s[i];
    if (a > b || (a === b && !(m[i - 1] < m[i]))) return false;
  }
  if (n <= 16) {
    for (let i = 1; i < n; i++) for (let k = 0; k < i; k++) if (m[k] === m[i]) return false;
    return true;
  }
  return new Set(m).size === n;
}

/** The elements of a listpack string object, parsed in place. */
function blobListpack(r: RdbReader): string[] {
  r.blob();
  return listpackInto(r.blobBuf, r.blobStart, r.blobEnd, []);
}

/**
 * Reads one value of RDB type `type` (the type byte already consumed).
 * `valkey`: the data is Valkey 9's format (RDB 80), where type 22 is HASH_2
 * (in Redis's format 22 is the 7.4 release candidates' HASH_METADATA_PRE_GA).
 */
export function readValue(r: RdbReader, type: number, lim: LoadLimits, valkey = false): Value {
  switch (type) {
    case T.HASH_2: {
      if (!valkey) return readHashTtl(r, type, lim);
      const n = r.len();
      const pairs = new Array<string>(2 * n);
      const when = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        pairs[2 * i] = r.str();
        pairs[2 * i + 1] = r.str();
        const t = r.millis();
        when[i] = typeof t === 'bigint' ? Number(t) : t;
      }
      const h = buildHash(pairs, lim);
      for (let i = 0; i < n; i++) if (when[i] !== -1) h.setExpire(pairs[2 * i], when[i]);
      return h;
    }
    case T.HASH_LISTPACK_EX_PRE_GA:
    case T.HASH_METADATA:
    case T.HASH_LISTPACK_EX:
      return readHashTtl(r, type, lim);
    case T.STRING:
      return r.strValue();
    case T.LIST: {
      const n = r.len();
      const items = new Array<string>(n);
      for (let i = 0; i < n; i++) items[i] = r.str();
      return buildList(items, lim);
    }
    case T.LIST_ZIPLIST:
      return buildList(ziplistItems(r.strBuf()), lim);
    case T.LIST_QUICKLIST:
    case T.LIST_QUICKLIST_2: {
      const nodes = r.len();
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        let container = 2;
        if (type === T.LIST_QUICKLIST_2) container = r.len();
        r.blob();
        const bb = r.blobBuf;
        if (container === QUICKLIST_NODE_PLAIN) items.push(bb.latin1Slice(r.blobStart, r.blobEnd));
        else if (type === T.LIST_QUICKLIST) for (const s of ziplistItems(bb.subarray(r.blobStart, r.blobEnd))) items.push(s);
        else if (nodes === 1) {
          // One listpack: the list keeps the blob itself when it stays a listpack.
          const l = ListValue.fromListpack(bb.latin1Slice(r.blobStart, r.blobEnd), lim.listFill);
          if (l === null) throw new RdbError('Listpack integrity check failed');
          return l;
        } else listpackInto(bb, r.blobStart, r.blobEnd, items);
      }
      return buildList(items, lim);
    }
    case T.SET: {
      const n = r.len();
      const items = new Array<string>(n);
      for (let i = 0; i < n; i++) items[i] = r.str();
      return buildSet(items, SetEnc.Hashtable, lim);
    }
    case T.SET_INTSET:
      r.blob();
      return buildSet(intsetAt(r.blobBuf, r.blobStart, r.blobEnd), SetEnc.Intset, lim);
    case T.SET_LISTPACK:
      return buildSet(blobListpack(r), SetEnc.Listpack, lim);
    case T.ZSET:
    case T.ZSET_2: {
      const n = r.len();
      const m = new Array<string>(n);
      const s = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        m[i] = r.str();
        s[i] = type === T.ZSET_2 ? r.binaryDouble() : r.asciiDouble();
      }
      return buildZSet(m, s, lim);
    }
    case T.ZSET_ZIPLIST:
      return zsetFromPairs(ziplistItems(r.strBuf()), lim);
    case T.ZSET_LISTPACK:
      r.blob();
      return zsetFromListpack(r.blobBuf.latin1Slice(r.blobStart, r.blobEnd), lim);
    case T.HASH: {
      const n = r.len();
      const pairs = new Array<string>(2 * n);
      for (let i = 0; i < 2 * n; i++) pairs[i] = r.str();
      return buildHash(pairs, lim);
    }
    case T.HASH_ZIPMAP:
      return buildHash(zipmapItems(r.strBuf()), lim);
    case T.HASH_ZIPLIST:
      return buildHash(ziplistItems(r.strBuf()), lim);
    case T.HASH_LISTPACK:
      return hashListpack(r, lim);
    case T.STREAM_LISTPACKS:
    case T.STREAM_LISTPACKS_2:
    case T.STREAM_LISTPACKS_3:
      return readStream(r, type);
    case T.MODULE_PRE_GA:
    case T.MODULE_2:
      r.fail('The RDB file contains module data I can\'t load: no matching module loaded');
  }
  r.fail(`Unknown RDB encoding type ${type}`);
}

/**
 * A Redis 7.4+ hash with field expire times (RDB 12). Two layouts:
 * - metadata (24; 22 in 7.4 release candidates): for 24 the smallest expire time
 *   first (8 bytes), then the field count and, per field, its TTL as a length
 *   (0: none; for 24 relative to that smallest time plus 1, for 22 absolute),
 *   the field and the value;
 * - listpack-ex (25; 23 in release candidates): for 25 the smallest expire time
 *   (unused), then a listpack of (field, value, absolute expire time or 0) triples.
 * Expire times above 2^48 - 1 ms are refused as Redis does.
 */
function readHashTtl(r: RdbReader, type: number, lim: LoadLimits): HashObject {
  let pairs: string[];
  let when: number[];
  if (type === T.HASH_METADATA || type === T.HASH_METADATA_PRE_GA) {
    let min = 0;
    if (type === T.HASH_METADATA) {
      const m = r.millis();
      if (typeof m === 'bigint' || m < 0 || m > HFE_MAX_EXPIRE + 1) r.fail('Hash read invalid minExpire value');
      min = m;
    }
    const n = r.len();
    pairs = new Array<string>(2 * n);
    when = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const ttl = r.u64();
      if (typeof ttl === 'bigint') r.fail(`invalid expireAt time: ${ttl}`);
      const at = ttl === 0 ? 0 : type === T.HASH_METADATA ? ttl + min - 1 : ttl;
      if (at > HFE_MAX_EXPIRE) r.fail(`invalid expireAt time: ${at}`);
      when[i] = at;
      pairs[2 * i] = r.str();
      pairs[2 * i + 1] = r.str();
    }
  } else {
    if (type === T.HASH_LISTPACK_EX) r.millis();
    const items = blobListpack(r);
    if (items.length % 3 !== 0) r.fail('Hash listpack integrity check failed.');
    const n = items.length / 3;
    pairs = new Array<string>(2 * n);
    when = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      pairs[2 * i] = items[3 * i];
      pairs[2 * i + 1] = items[3 * i + 1];
      const t = items[3 * i + 2];
      const at = /^(0|[1-9][0-9]{0,14})$/.test(t) ? Number(t) : -1;
      if (at < 0 || at > HFE_MAX_EXPIRE) r.fail('Hash listpack integrity check failed.');
      when[i] = at;
    }
  }
  const h = buildHash(pairs, lim);
  for (let i = 0; i < when.length; i++) if (when[i] !== 0) h.setExpire(pairs[2 * i], when[i]);
  return h;
}

function u64add(a: U64, d: string): U64 {
  if (typeof a === 'number' && d.length < 16) {
    const v = a + Number(d);
    if (Number.isSafeInteger(v)) return v;
  }
  return normU64(BigInt.asUintN(64, BigInt(a) + BigInt(d)));
}

function readStream(r: RdbReader, type: number): Stream {
  const s = new Stream();
  const nodes = r.len();
  let lastMs: U64 = -1;
  let lastSeq: U64 = -1;
  for (let i = 0; i < nodes; i++) {
    const key = r.strBuf();
    if (key.length !== 16) r.fail('Stream node key entry is not the size of a stream ID');
    const masterMs = normU64(key.readBigUInt64BE(0));
    const masterSeq = normU64(key.readBigUInt64BE(8));
    const lp = listpackItems(r.strBuf());
    if (lp.length === 0) r.fail('Empty listpack inside stream');
    let p = 0;
    const count = Number(lp[p++]);
    const deleted = Number(lp[p++]);
    const nf = Number(lp[p++]);
    const master = lp.slice(p, p + nf);
    p += nf;
    p++; // master entry terminator
    for (let e = 0; e < count + deleted; e++) {
      const flags = Number(lp[p++]);
      const ms = u64add(masterMs, lp[p++]);
      const seq = u64add(masterSeq, lp[p++]);
      let fields: string[];
      if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
        fields = new Array<string>(2 * nf);
        for (let k = 0; k < nf; k++) {
          fields[2 * k] = master[k];
          fields[2 * k + 1] = lp[p++];
        }
      } else {
        const n = Number(lp[p++]);
        fields = lp.slice(p, p + 2 * n);
        p += 2 * n;
      }
      p++; // lp-count
      if (p > lp.length) r.fail('Stream listpack entry overflows its node');
      if (flags & STREAM_ITEM_FLAG_DELETED) continue;
      if (lastMs !== -1 && (ms < lastMs || (ms === lastMs && seq <= lastSeq))) r.fail('Stream entries out of order');
      lastMs = ms;
      lastSeq = seq;
      s.entries.append(ms, seq, fields, STREAM_NODE_MAX_ENTRIES);
    }
  }
  const length = r.len();
  if (length !== s.entries.size) r.fail(`Stream length ${length} does not match its ${s.entries.size} entries`);
  s.lastId = { ms: r.u64(), seq: r.u64() };
  if (type >= T.STREAM_LISTPACKS_2) {
    s.firstId = { ms: r.u64(), seq: r.u64() };
    s.maxDeletedId = { ms: r.u64(), seq: r.u64() };
    s.entriesAdded = r.u64();
  } else {
    s.entriesAdded = length;
    const f = s.entries.first();
    if (f !== null) s.firstId = s.entries.idAt(f);
  }
  if (s.entries.size === 0) s.firstId = { ms: 0, seq: 0 };
  const ngroups = r.len();
  for (let g = 0; g < ngroups; g++) {
    const name = r.str();
    const lastId = { ms: r.u64(), seq: r.u64() };
    let entriesRead = -1;
    if (type >= T.STREAM_LISTPACKS_2) {
      const er = r.u64();
      entriesRead = typeof er === 'bigint' ? Number(BigInt.asIntN(64, er)) : er;
    }
    if (s.groups === null) s.groups = new Map();
    if (s.groups.has(name)) r.fail('Duplicated consumer group name');
    const grp = new Group(name, lastId, entriesRead);
    s.groups.set(name, grp);
    const pelSize = r.len();
    for (let k = 0; k < pelSize; k++) {
      const id = r.bytes(16);
      const ms = normU64(id.readBigUInt64BE(0));
      const seq = normU64(id.readBigUInt64BE(8));
      const dt = Number(r.millis());
      const dc = r.len();
      if (!grp.pel.set(ms, seq, new Nack(null, dt, dc))) r.fail('Duplicated global PEL entry loading stream consumer group');
    }
    const ncons = r.len();
    for (let k = 0; k < ncons; k++) {
      const cname = r.str();
      const seen = Number(r.millis());
      const cons = new Consumer(cname, seen);
      cons.activeTime = type >= T.STREAM_LISTPACKS_3 ? Number(r.millis()) : seen;
      grp.consumers.set(cname, cons);
      const n = r.len();
      for (let q = 0; q < n; q++) {
        const id = r.bytes(16);
        const ms = normU64(id.readBigUInt64BE(0));
        const seq = normU64(id.readBigUInt64BE(8));
        const nack = grp.pel.get(ms, seq);
        if (nack === undefined) r.fail('Consumer entry not found in group global PEL');
        nack.consumer = cons;
        cons.pel.set(ms, seq, nack);
      }
    }
    // Valkey drops PEL entries without a consumer on deep sanitization only; keep them.
  }
  return s;
}
