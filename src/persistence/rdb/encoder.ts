// RDB serialization of values: the low-level writer (lengths, strings with
// integer and LZF encodings, doubles, listpacks, intsets) and the encoding of
// each Vireo value as the RDB type Redis 7.0 (RDB 10) knows for it.
import type { Value } from '../../keyspace/types.js';
import { ObjType } from '../../keyspace/types.js';
import type { ListValue } from '../../data/list.js';
import type { HashObject } from '../../data/hash.js';
import { SetEnc, type SetValue } from '../../data/set.js';
import type { ZSet } from '../../data/zset.js';
import type { Stream, U64 } from '../../data/stream.js';
import { LpBuilder } from '../../data/listpack.js';
import { lzfCompress } from './lzf.js';
import { canonicalInt, QUICKLIST_NODE_PACKED, STREAM_ITEM_FLAG_SAMEFIELDS, T } from './format.js';

/** A growable byte buffer with the RDB primitive encoders. */
export class RdbEncoder {
  buf: Buffer;
  pos = 0;

  constructor(
    /** rdbcompression: LZF-compress strings longer than 20 bytes when it pays. */
    public compress = true,
    initial = 16 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = Buffer.allocUnsafe(cap);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far; the encoder is emptied. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  reset(): void {
    this.pos = 0;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** RDB length encoding (6, 14, 32 or 64 bits). */
  len(n: number | bigint): void {
    this.ensure(9);
    const buf = this.buf;
    if (typeof n === 'bigint') {
      if (n < 0x100000000n) return this.len(Number(n));
      buf[this.pos++] = 0x81;
      buf.writeBigUInt64BE(n, this.pos);
      this.pos += 8;
      return;
    }
    if (n < 64) buf[this.pos++] = n;
    else if (n < 16384) {
      buf[this.pos++] = 0x40 | (n >> 8);
      buf[this.pos++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      buf[this.pos++] = 0x80;
      buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    } else {
      buf[this.pos++] = 0x81;
      buf.writeBigUInt64BE(BigInt(n), this.pos);
      this.pos += 8;
    }
  }

  /** 8-byte little-endian unsigned (millisecond times). */
  millis(n: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(typeof n === 'bigint' ? n : BigInt(Math.trunc(n)), this.pos);
    this.pos += 8;
  }

  /** Binary double, little-endian (ZSET_2 scores). */
  binaryDouble(d: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(d, this.pos);
    this.pos += 8;
  }

  /** Integer encoded as a string object: int8/16/32 special encodings, else decimal digits. */
  intString(v: number | bigint): void {
    if (typeof v === 'number' && this.encodeInt(v)) return;
    const s = String(v);
    this.len(s.length);
    this.ensure(s.length);
    this.pos += this.buf.latin1Write(s, this.pos);
  }

  private encodeInt(v: number): boolean {
    this.ensure(5);
    const buf = this.buf;
    if (v >= -128 && v <= 127) {
      buf[this.pos++] = 0xc0;
      buf.writeInt8(v, this.pos);
      this.pos += 1;
    } else if (v >= -32768 && v <= 32767) {
      buf[this.pos++] = 0xc1;
      buf.writeInt16LE(v, this.pos);
      this.pos += 2;
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[this.pos++] = 0xc2;
      buf.writeInt32LE(v, this.pos);
      this.pos += 4;
    } else return false;
    return true;
  }

  /** A latin1 string (rdbSaveRawString: integer encoding when short, LZF when long). */
  str(s: string): void {
    const n = s.length;
    if (n <= 11 && n > 0) {
      const c = s.charCodeAt(0);
      if (c === 45 || (c >= 48 && c <= 57)) {
        const v = canonicalInt(s);
        if (typeof v === 'number' && this.encodeInt(v)) return;
      }
    }
    if (this.compress && n > 20) {
      const tmp = scratch(n);
      tmp.latin1Write(s, 0);
      if (this.lzf(tmp, 0, n)) return;
    }
    this.len(n);
    this.ensure(n);
    this.pos += this.buf.latin1Write(s, this.pos);
  }

  /** A binary string (rdbSaveRawString). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (n <= 11 && n > 0 && (b[0] === 45 || (b[0] >= 48 && b[0] <= 57))) {
      const v = canonicalInt(Buffer.from(b.buffer, b.byteOffset, n).latin1Slice(0, n));
      if (typeof v === 'number' && this.encodeInt(v)) return;
    }
    if (this.compress && n > 20 && this.lzf(b, 0, n)) return;
    this.len(n);
    this.raw(b);
  }

  /** Writes b[start, end) LZF-compressed if that saves at least 4 bytes; false when it does not. */
  private lzf(b: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    const out = lzfOut(n - 4);
    const clen = lzfCompress(b, out, start, end, n - 4);
    if (clen === 0) return false;
    this.byte(0xc3);
    this.len(clen);
    this.len(n);
    this.ensure(clen);
    out.copy(this.buf, this.pos, 0, clen);
    this.pos += clen;
    return true;
  }

  /** A stored string value (latin1 string, integer or Buffer). */
  stringValue(v: string | number | Buffer): void {
    if (typeof v === 'string') {
      if (v.length >= 12 && v.length <= 20 && canonicalInt(v) !== null) {
        // Valkey keeps such a value int-encoded and saves its digits raw.
        this.len(v.length);
        this.ensure(v.length);
        this.pos += this.buf.latin1Write(v, this.pos);
      } else this.str(v);
    } else if (typeof v === 'number') this.intString(v);
    else this.bytes(v);
  }
}

let scratchBuf = Buffer.allocUnsafe(64 * 1024);
function scratch(n: number): Buffer {
  if (scratchBuf.length < n) scratchBuf = Buffer.allocUnsafe(Math.max(n, scratchBuf.length * 2));
  return scratchBuf;
}
let lzfBuf = Buffer.allocUnsafe(64 * 1024);
/** The LZF output scratch buffer, at least n bytes (the compressor is told where to stop). */
function lzfOut(n: number): Buffer {
  if (lzfBuf.length < n) lzfBuf = Buffer.allocUnsafe(Math.max(n, lzfBuf.length * 2));
  return lzfBuf;
}

// ------------------------------------------------------------------ listpack

/** Listpack blobs are built by the same builder that makes in-memory listpacks (src/data/listpack.ts); finishBuffer() gives the bytes. */
export { LpBuilder as ListpackWriter };

const lpw = new LpBuilder();

/** An intset blob of sorted canonical integer strings. */
function intsetBlob(items: string[]): Buffer {
  let width = 2;
  const vals: (number | bigint)[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = canonicalInt(items[i]) ?? 0;
    vals[i] = v;
    if (typeof v === 'bigint' || v < -2147483648 || v > 2147483647) width = 8;
    else if (width < 4 && (v < -32768 || v > 32767)) width = 4;
  }
  const b = Buffer.allocUnsafe(8 + width * items.length);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(items.length, 4);
  let p = 8;
  for (const v of vals) {
    if (width === 2) b.writeInt16LE(v as number, p);
    else if (width === 4) b.writeInt32LE(v as number, p);
    else b.writeBigInt64LE(BigInt(v), p);
    p += width;
  }
  return b;
}

/** 16-byte big-endian stream ID (rax key form). */
export function streamIdBytes(ms: U64, seq: U64): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(BigInt(ms), 0);
  b.writeBigUInt64BE(BigInt(seq), 8);
  return b;
}

function u64sub(a: U64, b: U64): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const d = BigInt(a) - BigInt(b);
  // A listpack integer is an int64: wrap like C's unsigned subtraction cast to int64.
  return BigInt.asIntN(64, d);
}

// ------------------------------------------------------------------ values

/** True for a value only Valkey 9's format (RDB 80) can hold: a hash with field expire times. */
export function needsValkeyFormat(v: Value): boolean {
  return typeof v === 'object' && !Buffer.isBuffer(v) && v.objType === ObjType.Hash && (v as HashObject).hasVolatile();
}

/** The RDB type byte Vireo writes for a value (RDB 10 encodings). */
export function rdbTypeOf(v: Value): number {
  if (typeof v !== 'object' || Buffer.isBuffer(v)) return T.STRING;
  switch (v.objType) {
    case ObjType.List:
      return T.LIST_QUICKLIST_2;
    case ObjType.Set:
      return (v as SetValue).enc === SetEnc.Intset ? T.SET_INTSET : T.SET;
    case ObjType.ZSet:
      return (v as ZSet).isCompact() ? T.ZSET_LISTPACK : T.ZSET_2;
    case ObjType.Hash: {
      const h = v as HashObject;
      return h.isListpack() ? T.HASH_LISTPACK : h.hasVolatile() ? T.HASH_2 : T.HASH;
    }
    case ObjType.Stream:
      return T.STREAM_LISTPACKS_2;
  }
  throw new Error('unknown value type');
}

/** Writes the value's body (without the type byte), rdbSaveObject. */
export function writeValueBody(e: RdbEncoder, v: Value): void {
  if (typeof v !== 'object' || Buffer.isBuffer(v)) {
    e.stringValue(v);
    return;
  }
  switch (v.objType) {
    case ObjType.List: {
      const l = v as ListValue;
      const lp = l.listpack(true);
      if (lp !== null) {
        // A listpack: one node, the list's listpack string written as is (and kept as the list's form).
        if (l.length === 0) e.len(0);
        else {
          e.len(1);
          e.len(QUICKLIST_NODE_PACKED);
          e.str(lp);
        }
        return;
      }
      const nodes = l.nodes.filter((n) => n.count > 0);
      e.len(nodes.length);
      for (const n of nodes) {
        e.len(QUICKLIST_NODE_PACKED);
        lpw.begin();
        for (const s of n.items) lpw.str(s);
        e.bytes(lpw.finishBuffer());
      }
      return;
    }
    case ObjType.Set: {
      const s = v as SetValue;
      if (s.enc === SetEnc.Intset) {
        e.bytes(intsetBlob(s.items));
        return;
      }
      e.len(s.items.length);
      for (const m of s.items) e.str(m);
      return;
    }
    case ObjType.ZSet: {
      const z = v as ZSet;
      if (z.lp !== null) {
        // The listpack string is the blob Valkey writes.
        e.str(z.lp);
        return;
      }
      e.len(z.size);
      // Greatest to smallest, as Valkey saves a skiplist.
      z.walk(0, z.size, true, (m, sc) => {
        e.str(m);
        e.binaryDouble(sc);
      });
      return;
    }
    case ObjType.Hash: {
      const h = v as HashObject;
      const lp = h.listpack();
      if (lp !== null) {
        // The listpack string is the blob, byte for byte.
        e.str(lp);
        return;
      }
      const n = h.size;
      const volatile = h.hasVolatile();
      e.len(n);
      for (let i = 0; i < n; i++) {
        const f = h.fieldAt(i);
        e.str(f);
        e.str(h.valueAt(i));
        if (volatile) e.millis(h.getExpire(f));
      }
      return;
    }
    case ObjType.Stream:
      writeStream(e, v as Stream);
      return;
  }
  throw new Error('unknown value type');
}

/** Entries per listpack node written for a stream (stream-node-max-entries default). */
const STREAM_NODE_ENTRIES = 100;

function writeStream(e: RdbEncoder, s: Stream): void {
  // Collect nodes: runs of up to 100 entries, each a listpack with a master entry.
  const ents = s.entries;
  const nodes: [Buffer, Buffer][] = [];
  let p = ents.first();
  while (p !== null) {
    const masterMs = ents.msAt(p);
    const masterSeq = ents.seqAt(p);
    const masterFields = ents.valAt(p);
    const nf = masterFields.length >> 1;
    lpw.begin();
    let count = 0;
    // Placeholder for count/deleted: written after, so build entries in a second writer.
    const body: { ms: U64; seq: U64; f: string[] }[] = [];
    do {
      body.push({ ms: ents.msAt(p), seq: ents.seqAt(p), f: ents.valAt(p) });
      count++;
      if (!ents.next(p)) {
        p = null;
        break;
      }
    } while (count < STREAM_NODE_ENTRIES);
    lpw.int(count);
    lpw.int(0);
    lpw.int(nf);
    for (let i = 0; i < nf; i++) lpw.str(masterFields[2 * i]);
    lpw.int(0);
    for (const it of body) {
      const f = it.f;
      let same = f.length >> 1 === nf;
      if (same) for (let i = 0; i < nf; i++) if (f[2 * i] !== masterFields[2 * i]) same = false;
      lpw.int(same ? STREAM_ITEM_FLAG_SAMEFIELDS : 0);
      lpw.int(u64sub(it.ms, masterMs));
      lpw.int(u64sub(it.seq, masterSeq));
      const n = f.length >> 1;
      if (same) {
        for (let i = 0; i < n; i++) lpw.str(f[2 * i + 1]);
        lpw.int(n + 3);
      } else {
        lpw.int(n);
        for (let i = 0; i < f.length; i++) lpw.str(f[i]);
        lpw.int(2 * n + 4);
      }
    }
    nodes.push([streamIdBytes(masterMs, masterSeq), Buffer.from(lpw.finishBuffer())]);
  }
  e.len(nodes.length);
  for (const [k, lp] of nodes) {
    e.bytes(k);
    e.bytes(lp);
  }
  e.len(s.length);
  e.len(s.lastId.ms);
  e.len(s.lastId.seq);
  // STREAM_LISTPACKS_2: first id, max deleted id, entries added.
  const first = s.length > 0 ? s.firstId : { ms: 0, seq: 0 };
  e.len(first.ms);
  e.len(first.seq);
  e.len(s.maxDeletedId.ms);
  e.len(s.maxDeletedId.seq);
  e.len(s.entriesAdded);
  const groups = s.groups === null ? [] : s.sortedGroups();
  e.len(groups.length);
  for (const g of groups) {
    e.str(g.name);
    e.len(g.lastId.ms);
    e.len(g.lastId.seq);
    e.len(g.entriesRead < 0 ? BigInt.asUintN(64, BigInt(g.entriesRead)) : g.entriesRead);
    e.len(g.pel.size);
    for (let q = g.pel.first(); q !== null; ) {
      const n = g.pel.valAt(q);
      e.raw(streamIdBytes(g.pel.msAt(q), g.pel.seqAt(q)));
      e.millis(n.deliveryTime);
      e.len(n.deliveryCount);
      if (!g.pel.next(q)) break;
    }
    const cons = g.sortedConsumers();
    e.len(cons.length);
    for (const c of cons) {
      e.str(c.name);
      e.millis(c.seenTime);
      e.len(c.pel.size);
      for (let q = c.pel.first(); q !== null; ) {
        e.raw(streamIdBytes(c.pel.msAt(q), c.pel.seqAt(q)));
        if (!c.pel.next(q)) break;
      }
    }
  }
}
