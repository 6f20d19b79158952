// Streams: entries indexed by ID (ms-seq, two unsigned 64-bit parts), consumer
// groups, their pending entries lists (PEL) and consumers. Pure data, no I/O.
//
// ID parts are JS numbers while they are safe integers (< 2^53) and BigInts
// only beyond; a part is a bigint exactly when it exceeds Number.MAX_SAFE_INTEGER,
// so `===` is equality and `<`/`>` compare mixed number/bigint correctly.
//
// Entries live in an EntryMap: a list of nodes, each one Buffer laid out the
// way Valkey's listpack node is (a master ID and field names per node; per
// entry its flags, its ms as a difference from the master's, its values alone
// when its fields are the master's; deleted entries flagged in place until
// the node empties), so an entry costs about what it costs in Valkey and no
// per-entry object lives on the JS heap. Nodes are found by binary search
// over their last IDs, entries inside a node by a linear scan (at most
// stream-node-max-entries, 100 by default): lookups, seeks and range starts
// are O(log N + node), appends O(1) amortised. Replies are rendered from the
// packed bytes straight into the client's output buffer; nodes read more than
// once keep their rendered form in a small bounded cache. The stream appends
// to its last node until that node took stream-node-max-entries entries
// (deleted ones included) or reached stream-node-max-bytes as a listpack,
// like Valkey, so approximate trimming (~) removes whole nodes the way Valkey
// does. Consumer-group PELs use IdMap, a chunked sorted map with arbitrary values.
import { ObjType, type DataObject } from '../keyspace/types.js';

export type U64 = number | bigint;

export interface StreamID {
  ms: U64;
  seq: U64;
}

export const U64_MAX = 18446744073709551615n;
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
/** Valkey's stream-node-max-entries default. */
export const STREAM_NODE_MAX_ENTRIES = 100;
/** Valkey's stream-node-max-bytes default, and the cap Valkey applies (0 means the cap). */
export const STREAM_NODE_MAX_BYTES = 4096;
const STREAM_LISTPACK_MAX_SIZE = 1 << 30;
/** Group entries_read when unknown (Valkey's SCG_INVALID_ENTRIES_READ). */
export const INVALID_ENTRIES_READ = -1;

export const ZERO_ID: StreamID = { ms: 0, seq: 0 };
export const MAX_ID: StreamID = { ms: U64_MAX, seq: U64_MAX };

/** A bigint in normal form: a number when it is a safe integer. */
export function normU64(b: bigint): U64 {
  return b <= SAFE_BIG ? Number(b) : b;
}

export function cmpU64(a: U64, b: U64): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function cmpId(ams: U64, aseq: U64, bms: U64, bseq: U64): number {
  if (ams !== bms) return ams < bms ? -1 : 1;
  if (aseq === bseq) return 0;
  return aseq < bseq ? -1 : 1;
}

export function cmpIds(a: StreamID, b: StreamID): number {
  return cmpId(a.ms, a.seq, b.ms, b.seq);
}

function incU64(v: U64): U64 {
  if (typeof v === 'number' && v < Number.MAX_SAFE_INTEGER) return v + 1;
  return BigInt(v) + 1n;
}

function decU64(v: U64): U64 {
  if (typeof v === 'number') return v - 1;
  return normU64(v - 1n);
}

/** The next ID, or null at the maximum. */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq === U64_MAX) {
    if (id.ms === U64_MAX) return null;
    return { ms: incU64(id.ms), seq: 0 };
  }
  return { ms: id.ms, seq: incU64(id.seq) };
}

/** The previous ID, or null at 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq === 0) {
    if (id.ms === 0) return null;
    return { ms: decU64(id.ms), seq: U64_MAX };
  }
  return { ms: id.ms, seq: decU64(id.seq) };
}

export function idStr(ms: U64, seq: U64): string {
  return `${ms}-${seq}`;
}

export function isZeroId(id: StreamID): boolean {
  return id.ms === 0 && id.seq === 0;
}

// ------------------------------------------------------------------ IdMap

class Chunk<V> {
  ms: U64[] = [];
  seq: U64[] = [];
  vals: V[] = [];
  /** Entries ever appended (stream nodes only: deleted ones still count). */
  added = 0;
}

/** A position: chunk (node) index, and the index inside the chunk (IdMap) or the entry's byte offset in its node (EntryMap). */
export interface Pos {
  c: number;
  i: number;
}

const SPLIT_AT = 256;

/**
 * Positions over ID-sorted chunks (each with parallel ms/seq arrays): the
 * cursor half of IdMap.
 */
abstract class IdChunks<K extends { ms: U64[]; seq: U64[] }> {
  chunks: K[] = [];

  first(): Pos | null {
    return this.chunks.length === 0 ? null : { c: 0, i: 0 };
  }

  last(): Pos | null {
    const n = this.chunks.length;
    return n === 0 ? null : { c: n - 1, i: this.chunks[n - 1].ms.length - 1 };
  }

  /** Advances p in place; false at the end. */
  next(p: Pos): boolean {
    const k = this.chunks[p.c];
    if (p.i + 1 < k.ms.length) {
      p.i++;
      return true;
    }
    if (p.c + 1 < this.chunks.length) {
      p.c++;
      p.i = 0;
      return true;
    }
    return false;
  }

  /** Moves p back in place; false at the start. */
  prev(p: Pos): boolean {
    if (p.i > 0) {
      p.i--;
      return true;
    }
    if (p.c > 0) {
      p.c--;
      p.i = this.chunks[p.c].ms.length - 1;
      return true;
    }
    return false;
  }

  msAt(p: Pos): U64 {
    return this.chunks[p.c].ms[p.i];
  }
  seqAt(p: Pos): U64 {
    return this.chunks[p.c].seq[p.i];
  }
  idAt(p: Pos): StreamID {
    const k = this.chunks[p.c];
    return { ms: k.ms[p.i], seq: k.seq[p.i] };
  }
}

export class IdMap<V> extends IdChunks<Chunk<V>> {
  size = 0;

  /** Index of the first chunk whose last ID >= id (chunks.length if none). */
  private chunkFor(ms: U64, seq: U64): number {
    const ch = this.chunks;
    let lo = 0;
    let hi = ch.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = ch[mid];
      const j = k.ms.length - 1;
      if (cmpId(k.ms[j], k.seq[j], ms, seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first element >= id inside a chunk. */
  private static lower<V>(k: Chunk<V>, ms: U64, seq: U64): number {
    let lo = 0;
    let hi = k.ms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpId(k.ms[mid], k.seq[mid], ms, seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position with ID >= id, or null. */
  seekGE(ms: U64, seq: U64): Pos | null {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return null;
    return { c, i: IdMap.lower(this.chunks[c], ms, seq) };
  }

  /** Last position with ID <= id, or null. */
  seekLE(ms: U64, seq: U64): Pos | null {
    const ch = this.chunks;
    let c = this.chunkFor(ms, seq);
    if (c >= ch.length) {
      if (ch.length === 0) return null;
      c = ch.length - 1;
      return { c, i: ch[c].ms.length - 1 };
    }
    const k = ch[c];
    const i = IdMap.lower(k, ms, seq);
    if (i < k.ms.length && k.ms[i] === ms && k.seq[i] === seq) return { c, i };
    if (i > 0) return { c, i: i - 1 };
    if (c === 0) return null;
    return { c: c - 1, i: ch[c - 1].ms.length - 1 };
  }

  valAt(p: Pos): V {
    return this.chunks[p.c].vals[p.i];
  }

  get(ms: U64, seq: U64): V | undefined {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return undefined;
    const k = this.chunks[c];
    const i = IdMap.lower(k, ms, seq);
    if (i < k.ms.length && k.ms[i] === ms && k.seq[i] === seq) return k.vals[i];
    return undefined;
  }

  has(ms: U64, seq: U64): boolean {
    return this.get(ms, seq) !== undefined;
  }

  /** Appends an ID greater than every ID present; starts a new chunk after nodeMax appends. */
  append(ms: U64, seq: U64, v: V, nodeMax: number): void {
    const ch = this.chunks;
    let k = ch.length === 0 ? undefined : ch[ch.length - 1];
    if (k === undefined || k.added >= nodeMax) {
      k = new Chunk<V>();
      ch.push(k);
    }
    k.ms.push(ms);
    k.seq.push(seq);
    k.vals.push(v);
    k.added++;
    this.size++;
  }

  /** Inserts or replaces; true when the ID was new. */
  set(ms: U64, seq: U64, v: V): boolean {
    const ch = this.chunks;
    if (ch.length === 0) {
      const k = new Chunk<V>();
      k.ms.push(ms);
      k.seq.push(seq);
      k.vals.push(v);
      ch.push(k);
      this.size++;
      return true;
    }
    let c = this.chunkFor(ms, seq);
    if (c >= ch.length) {
      // Beyond the last ID: append to the last chunk.
      c = ch.length - 1;
      const k = ch[c];
      k.ms.push(ms);
      k.seq.push(seq);
      k.vals.push(v);
      this.size++;
      if (k.ms.length > SPLIT_AT) this.split(c);
      return true;
    }
    const k = ch[c];
    const i = IdMap.lower(k, ms, seq);
    if (i < k.ms.length && k.ms[i] === ms && k.seq[i] === seq) {
      k.vals[i] = v;
      return false;
    }
    k.ms.splice(i, 0, ms);
    k.seq.splice(i, 0, seq);
    k.vals.splice(i, 0, v);
    this.size++;
    if (k.ms.length > SPLIT_AT) this.split(c);
    return true;
  }

  private split(c: number): void {
    const k = this.chunks[c];
    const half = k.ms.length >>> 1;
    const n = new Chunk<V>();
    n.ms = k.ms.splice(half);
    n.seq = k.seq.splice(half);
    n.vals = k.vals.splice(half);
    this.chunks.splice(c + 1, 0, n);
  }

  delete(ms: U64, seq: U64): boolean {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return false;
    const k = this.chunks[c];
    const i = IdMap.lower(k, ms, seq);
    if (i >= k.ms.length || k.ms[i] !== ms || k.seq[i] !== seq) return false;
    this.removeAt(c, i);
    return true;
  }

  /** Removes the value at an ID and returns it (undefined when absent). */
  take(ms: U64, seq: U64): V | undefined {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return undefined;
    const k = this.chunks[c];
    const i = IdMap.lower(k, ms, seq);
    if (i >= k.ms.length || k.ms[i] !== ms || k.seq[i] !== seq) return undefined;
    const v = k.vals[i];
    this.removeAt(c, i);
    return v;
  }

  /**
   * Removes element i of chunk c, moving the shorter side: PELs are mostly
   * acknowledged from their oldest entries, which shift() takes off in O(1).
   */
  private removeAt(c: number, i: number): void {
    const k = this.chunks[c];
    const { ms, seq, vals } = k;
    const n = ms.length;
    if (i < n >>> 1) {
      for (let j = i; j > 0; j--) {
        ms[j] = ms[j - 1];
        seq[j] = seq[j - 1];
        vals[j] = vals[j - 1];
      }
      ms.shift();
      seq.shift();
      vals.shift();
    } else {
      for (let j = i + 1; j < n; j++) {
        ms[j - 1] = ms[j];
        seq[j - 1] = seq[j];
        vals[j - 1] = vals[j];
      }
      ms.pop();
      seq.pop();
      vals.pop();
    }
    this.size--;
    if (n === 1) this.chunks.splice(c, 1);
  }

  /** Removes the first chunk whole; returns its entry count. */
  shiftChunk(): number {
    const k = this.chunks.shift();
    if (k === undefined) return 0;
    this.size -= k.ms.length;
    return k.ms.length;
  }

  /** Removes the first n entries of the first chunk. */
  shiftFromFirst(n: number): void {
    const k = this.chunks[0];
    if (n >= k.ms.length) {
      this.shiftChunk();
      return;
    }
    k.ms.splice(0, n);
    k.seq.splice(0, n);
    k.vals.splice(0, n);
    this.size -= n;
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }

  /** IDs from the first >= start, in order (a snapshot, safe to mutate the map meanwhile). */
  idsFrom(ms: U64, seq: U64, limit = Infinity): StreamID[] {
    const out: StreamID[] = [];
    const p = this.seekGE(ms, seq);
    if (p === null || limit <= 0) return out;
    do out.push(this.idAt(p));
    while (out.length < limit && this.next(p));
    return out;
  }

  /** Fixes a position past the end of its chunk (seekGE may return one); null at the end. */
  normalize(p: Pos | null): Pos | null {
    if (p === null) return null;
    const k = this.chunks[p.c];
    if (p.i < k.ms.length) return p;
    if (p.c + 1 < this.chunks.length) return { c: p.c + 1, i: 0 };
    return null;
  }

  clone(cv: (v: V) => V): IdMap<V> {
    const m = new IdMap<V>();
    m.size = this.size;
    for (const k of this.chunks) {
      const n = new Chunk<V>();
      n.ms = k.ms.slice();
      n.seq = k.seq.slice();
      n.vals = k.vals.map(cv);
      n.added = k.added;
      m.chunks.push(n);
    }
    return m;
  }
}

// ------------------------------------------------------------------ reply helpers

/**
 * Where stream entries' bytes go: a reply writer (its buffer and fill level
 * are written directly; rawBuf grows it when a run does not fit).
 */
export interface ByteSink {
  out: Buffer;
  len: number;
  rawBuf(b: Buffer): void;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** Decimal digits of a non-negative safe integer. */
function ndigits(v: number): number {
  let d = 1;
  while (d < 16 && v >= POW10[d]) d++;
  return d;
}

function u64digits(v: U64): number {
  return typeof v === 'number' ? ndigits(v) : v.toString().length;
}

/** Writes the d digits of a non-negative integer below 2^32 ending before q. */
function putSmall(b: Buffer, q: number, v: number, d: number): void {
  for (let k = 0; k < d; k++) {
    const x = (v / 10) >>> 0;
    b[--q] = 48 + (v - x * 10);
    v = x;
  }
}

/** Writes the digits of a non-negative integer at p; returns the new end. */
function putNum(b: Buffer, p: number, u: U64): number {
  if (typeof u !== 'number') return p + b.latin1Write(u.toString(), p);
  const d = ndigits(u);
  if (d <= 9) putSmall(b, p + d, u, d);
  else {
    // Safe integers: a high part below 2^32 and the low 8 digits.
    const hi = Math.floor(u / 1e8);
    putSmall(b, p + d, u - hi * 1e8, 8);
    putSmall(b, p + d - 8, hi, d - 8);
  }
  return p + d;
}

/** Writes `$<len>\r\n<s>\r\n` (s latin1) at p; returns the new end. */
function putBulk(b: Buffer, p: number, s: string): number {
  const n = s.length;
  b[p++] = 36;
  p = putNum(b, p, n);
  b[p++] = 13;
  b[p++] = 10;
  if (n <= 24) for (let k = 0; k < n; k++) b[p++] = s.charCodeAt(k);
  else p += b.latin1Write(s, p, n);
  b[p++] = 13;
  b[p++] = 10;
  return p;
}

/** Copies src[a, b) to the sink. */
function copyOut(sink: ByteSink, src: Buffer, a: number, b: number): void {
  const n = b - a;
  if (sink.len + n > sink.out.length) {
    sink.rawBuf(src.subarray(a, b));
    return;
  }
  if (n <= 48) {
    const o = sink.out;
    let q = sink.len;
    for (let j = a; j < b; j++) o[q++] = src[j];
  } else {
    src.copy(sink.out, sink.len, a, b);
  }
  sink.len += n;
}

// ------------------------------------------------------- listpack sizes
// Valkey keeps a stream node as a listpack: a master entry (count, deleted,
// the first entry's field names, a terminator), then per entry its flags, the
// ID as a difference from the master ID, the values alone when the fields are
// the master's (else their count, fields and values) and an element count.
// stream-node-max-bytes is measured against that size, so Vireo keeps the same
// figure per node to split its nodes where Valkey would.

/** Bytes of a listpack integer element (encoding and back-length). */
function lpIntBytes(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

/** Bytes of a listpack element for a string; canonical integers are stored as integers. */
function lpStrBytes(s: string): number {
  const n = s.length;
  if (n > 0 && n <= 19) {
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    let int = i < n && (s.charCodeAt(i) !== 48 || n === 1);
    for (; int && i < n; i++) {
      const ch = s.charCodeAt(i);
      if (ch < 48 || ch > 57) int = false;
    }
    if (int && s !== '-0') return lpIntBytes(Number(s));
  }
  const enc = n <= 63 ? 1 + n : n <= 4095 ? 2 + n : 5 + n;
  return enc + (enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5);
}

/** The difference of two ID parts as a number (only its size class matters). */
function idDiff(a: U64, b: U64): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : Number(BigInt(a) - BigInt(b));
}

interface LpNode {
  lpBytes: number;
  masterMs: U64;
  masterSeq: U64;
  masterFields: string[] | null;
}

/**
 * Adds an entry's listpack size to its node (and, for a node's first entry,
 * the master entry's); true when its fields are the master's.
 */
function lpAccount(k: LpNode, ms: U64, seq: U64, argv: string[], from: number): boolean {
  const nf = (argv.length - from) >>> 1;
  let mf = k.masterFields;
  if (mf === null) {
    mf = k.masterFields = new Array<string>(nf);
    k.masterMs = ms;
    k.masterSeq = seq;
    // Header and end byte, count, deleted, field count, the fields, the master terminator.
    let b = 7 + 2 + 2 + lpIntBytes(nf) + 2;
    for (let j = 0; j < nf; j++) b += lpStrBytes((mf[j] = argv[from + 2 * j]));
    k.lpBytes = b;
  }
  let same = mf.length === nf;
  for (let j = 0; same && j < nf; j++) if (mf[j] !== argv[from + 2 * j]) same = false;
  // Flags, ms and seq differences, the element count.
  let b = 2 + lpIntBytes(idDiff(ms, k.masterMs)) + lpIntBytes(idDiff(seq, k.masterSeq)) + 2;
  if (same) {
    for (let j = from + 1; j < argv.length; j += 2) b += lpStrBytes(argv[j]);
  } else {
    b += lpIntBytes(nf);
    for (let j = from; j < argv.length; j++) b += lpStrBytes(argv[j]);
  }
  k.lpBytes += b;
  return same;
}

// ------------------------------------------------------------------ EntryMap
// A node holds its entries the way Valkey's listpack node does: the master ID
// and field names once per node, then per entry its flags, its ID (ms as the
// difference from the master's, seq as is), its values alone when its fields
// are the master's (else the field count, fields and values), and deleted
// entries stay in place, flagged, until the node empties. Byte layout of an
// entry at offset o:
//   flags (1 byte: DELETED, SAMEFIELDS), L (varint), body (L bytes), backlen
// where body is ms-delta (varint), seq (varint), [field count (varint)],
// strings (varint length + latin1 bytes), and backlen is 1 + size(L) + L as a
// varint stored backwards (its low group last), so entries can be walked both
// ways. Varints are unsigned little-endian base-128.

const F_DELETED = 1;
const F_SAME = 2;

function vsize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function vsizeU(v: U64): number {
  if (typeof v === 'number') return vsize(v);
  let n = 1;
  while (v >= 128n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function putV(b: Buffer, p: number, v: number): number {
  while (v >= 128) {
    const q = Math.floor(v / 128);
    b[p++] = (v - q * 128) | 128;
    v = q;
  }
  b[p++] = v;
  return p;
}

function putVU(b: Buffer, p: number, v: U64): number {
  if (typeof v === 'number') return putV(b, p, v);
  while (v >= 128n) {
    b[p++] = Number(v & 127n) | 128;
    v >>= 7n;
  }
  b[p++] = Number(v);
  return p;
}

/** The value read by the last getV / getVU. */
let V = 0;
let VU: U64 = 0;

/** Reads a varint that fits a safe integer (lengths, counts) into V; returns the new position. */
function getV(b: Buffer, p: number): number {
  let x = b[p++];
  if (x < 128) {
    V = x;
    return p;
  }
  let v = x & 127;
  let mul = 128;
  do {
    x = b[p++];
    v += (x & 127) * mul;
    mul *= 128;
  } while (x >= 128);
  V = v;
  return p;
}

/** Reads a 64-bit varint into VU (a bigint only beyond the safe range). */
function getVU(b: Buffer, p: number): number {
  let x = b[p];
  if (x < 128) {
    VU = x;
    return p + 1;
  }
  const start = p++;
  let v = x & 127;
  let mul = 128;
  let n = 1;
  do {
    x = b[p++];
    if (++n > 7) return getVBig(b, start);
    v += (x & 127) * mul;
    mul *= 128;
  } while (x >= 128);
  VU = v;
  return p;
}

function getVBig(b: Buffer, p: number): number {
  let v = 0n;
  let sh = 0n;
  let x: number;
  do {
    x = b[p++];
    v |= BigInt(x & 127) << sh;
    sh += 7n;
  } while (x >= 128);
  VU = normU64(v);
  return p;
}

function addU64(a: U64, d: U64): U64 {
  if (typeof a === 'number' && typeof d === 'number') {
    const s = a + d;
    if (s <= Number.MAX_SAFE_INTEGER) return s;
  }
  return normU64(BigInt(a) + BigInt(d));
}

function subU64(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return normU64(BigInt(a) - BigInt(b));
}

/** The ID decoded by the last readId, and where that entry's body ends. */
let RMS: U64 = 0;
let RSEQ: U64 = 0;
let REND = 0;

/**
 * A buffer for a node still taking appends: small ones from Node's slab pool,
 * larger ones on their own, so the garbage its growth leaves behind is never
 * a pool slab pinned by a neighbour that lives on.
 */
function nodeBuf(cap: number): Buffer {
  return cap < 512 ? Buffer.allocUnsafe(cap) : Buffer.allocUnsafeSlow(cap);
}

/** A buffer of exactly n bytes for a node's final contents (small ones share the slab pool). */
function exactBuf(n: number): Buffer {
  return n < 1024 ? Buffer.allocUnsafe(n) : Buffer.allocUnsafeSlow(n);
}

/** A node of packed entries (see above). */
export class EntryNode {
  buf: Buffer;
  used = 0;
  /** Live entries. */
  count = 0;
  /** Entries flagged deleted. */
  deleted = 0;
  /** Offsets of the first and the last live entry. */
  head = 0;
  tail = 0;
  /** The last live entry's ID (the index searches on it). */
  lastMs: U64 = 0;
  lastSeq: U64 = 0;
  /** Valkey's listpack size of this node, for stream-node-max-bytes (see lpAccount). */
  lpBytes = 0;
  masterMs: U64 = 0;
  masterSeq: U64 = 0;
  masterFields: string[] | null = null;
  /** The master field names in reply form (`$<len>\r\n<name>\r\n` each) and where each starts; built on first read. */
  mresp: Buffer | null = null;
  moff: number[] | null = null;
  /** The reply form of this node's entries while it is in the render cache (see RenderCache). */
  rc: RenderCache | null = null;
  /** Runs read from this node (the render cache takes nodes read more than once). */
  reads = 0;
  /** buf: a buffer to take over (of at least cap bytes), else one is allocated. */
  constructor(cap: number, buf: Buffer | null = null) {
    this.buf = buf === null ? nodeBuf(cap) : buf;
  }

  /** Entries ever appended (deleted ones included), as Valkey's master entry counts them. */
  get added(): number {
    return this.count + this.deleted;
  }

  reserve(n: number): void {
    const need = this.used + n;
    if (need <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 16);
    while (size < need) size *= 2;
    const nb = nodeBuf(size);
    this.buf.copy(nb, 0, 0, this.used);
    this.buf = nb;
  }

  /**
   * Drops the spare capacity (a node that takes no more appends): its bytes
   * move to a buffer of their exact size. Returns the buffer they left (free
   * for reuse: nothing else refers to a node's buffer), or null if none.
   */
  shrink(): Buffer | null {
    const old = this.buf;
    if (old.length === this.used) return null;
    const nb = exactBuf(this.used);
    old.copy(nb, 0, 0, this.used);
    this.buf = nb;
    return old;
  }

  /** Decodes the ID of the entry at o into RMS/RSEQ (REND: its body's end); returns where its fields start. */
  readId(o: number): number {
    const b = this.buf;
    let p = o + 1;
    let x = b[p];
    if (x < 128) {
      p++;
      REND = p + x;
    } else {
      p = getV(b, p);
      REND = p + V;
    }
    x = b[p];
    if (x < 128) {
      p++;
      const m = this.masterMs;
      RMS = typeof m === 'number' && m + x <= Number.MAX_SAFE_INTEGER ? m + x : addU64(m, x);
    } else {
      p = getVU(b, p);
      RMS = addU64(this.masterMs, VU);
    }
    x = b[p];
    if (x < 128) {
      RSEQ = x;
      return p + 1;
    }
    p = getVU(b, p);
    RSEQ = VU;
    return p;
  }

  /** Start of the entry after the one at o (used when none). */
  after(o: number): number {
    const b = this.buf;
    let p = o + 1;
    let x = b[p];
    if (x < 128) p += 1 + x;
    else {
      p = getV(b, p);
      p += V;
    }
    // The backlen: 1 + size(L) + L = p - o.
    const bl = p - o;
    return p + (bl < 128 ? 1 : vsize(bl));
  }

  /** Start of the entry before the one at o (o > 0). */
  before(o: number): number {
    const b = this.buf;
    let p = o - 1;
    let x = b[p];
    let v = x & 127;
    let mul = 128;
    while (x >= 128) {
      x = b[--p];
      v += (x & 127) * mul;
      mul *= 128;
    }
    return p - v;
  }

  /** The next live entry after o, or -1. */
  nextLive(o: number): number {
    const b = this.buf;
    const u = this.used;
    do o = this.after(o);
    while (o < u && (b[o] & F_DELETED) !== 0);
    return o < u ? o : -1;
  }

  /** The live entry before o, or -1. */
  prevLive(o: number): number {
    const b = this.buf;
    while (o > 0) {
      o = this.before(o);
      if ((b[o] & F_DELETED) === 0) return o;
    }
    return -1;
  }

  /** Builds the master field names' reply form. */
  masterResp(): void {
    const mf = this.masterFields!;
    let n = 0;
    for (const f of mf) n += f.length + 5 + ndigits(f.length);
    const b = Buffer.allocUnsafe(n);
    const off = new Array<number>(mf.length + 1);
    let p = 0;
    for (let j = 0; j < mf.length; j++) {
      off[j] = p;
      p = putBulk(b, p, mf[j]);
    }
    off[mf.length] = p;
    this.mresp = b;
    this.moff = off;
  }

  clone(): EntryNode {
    const n = new EntryNode(0);
    n.buf = exactBuf(this.used);
    this.buf.copy(n.buf, 0, 0, this.used);
    n.used = this.used;
    n.count = this.count;
    n.deleted = this.deleted;
    n.head = this.head;
    n.tail = this.tail;
    n.lastMs = this.lastMs;
    n.lastSeq = this.lastSeq;
    n.lpBytes = this.lpBytes;
    n.masterMs = this.masterMs;
    n.masterSeq = this.masterSeq;
    n.masterFields = this.masterFields;
    n.mresp = this.mresp;
    n.moff = this.moff;
    return n;
  }
}

/** Where an entry is rendered when the sink has no room for it. */
let scratch = Buffer.allocUnsafe(4096);

function copyBytes(dst: Buffer, q: number, src: Buffer, a: number, n: number): number {
  if (n <= 32) for (let j = 0; j < n; j++) dst[q++] = src[a + j];
  else {
    src.copy(dst, q, a, a + n);
    q += n;
  }
  return q;
}

/** Writes `$<n>\r\n` followed by n bytes of src from a, and CRLF; returns the new end. */
function putBulkFrom(o: Buffer, q: number, src: Buffer, a: number, n: number): number {
  o[q++] = 36;
  if (n < 10) o[q++] = 48 + n;
  else if (n < 100) {
    const t = (n / 10) >>> 0;
    o[q++] = 48 + t;
    o[q++] = 48 + n - 10 * t;
  } else q = putNum(o, q, n);
  o[q++] = 13;
  o[q++] = 10;
  q = copyBytes(o, q, src, a, n);
  o[q++] = 13;
  o[q++] = 10;
  return q;
}

// The decimal digits of the last ms part rendered: entries read in order have
// equal or close ms parts, so the next one's digits are mostly a small
// decimal addition to these.
let rMs = -1;
let rLen = 0;
const rDig = Buffer.alloc(24);

/** Makes rDig/rLen the digits of ms (a safe integer). */
function msDigits(ms: number): void {
  let c = ms - rMs;
  if (c === 0) return;
  if (c > 0 && c < 0x40000000 && rMs >= 0) {
    let i = rLen - 1;
    while (i >= 0) {
      const s = rDig[i] - 48 + c;
      if (s < 10) {
        rDig[i] = 48 + s;
        rMs = ms;
        return;
      }
      c = (s / 10) >>> 0;
      rDig[i--] = 48 + s - c * 10;
    }
  }
  rLen = putNum(rDig, 0, ms);
  rMs = ms;
}

/** Writes `<ms>-<seq>` as a bulk string at q; returns the new end. */
function putIdBulk(o: Buffer, q: number, ms: U64, seq: U64): number {
  if (typeof ms !== 'number' || typeof seq !== 'number') {
    const idLen = u64digits(ms) + 1 + u64digits(seq);
    o[q++] = 36;
    q = putNum(o, q, idLen);
    o[q++] = 13;
    o[q++] = 10;
    q = putNum(o, q, ms);
    o[q++] = 45;
    q = putNum(o, q, seq);
    o[q++] = 13;
    o[q++] = 10;
    return q;
  }
  // Safe parts: the ms digits come from the last ones rendered (see msDigits),
  // a small seq part is written digit by digit.
  msDigits(ms);
  const n = rLen;
  const sd = seq < 10 ? 1 : seq < 100 ? 2 : seq < 1000 ? 3 : ndigits(seq);
  const idLen = n + 1 + sd;
  o[q++] = 36;
  if (idLen < 10) o[q++] = 48 + idLen;
  else {
    const t = (idLen / 10) >>> 0;
    o[q++] = 48 + t;
    o[q++] = 48 + idLen - 10 * t;
  }
  o[q++] = 13;
  o[q++] = 10;
  for (let j = 0; j < n; j++) o[q++] = rDig[j];
  o[q++] = 45;
  if (sd === 1) o[q++] = 48 + seq;
  else if (sd <= 9) {
    putSmall(o, q + sd, seq, sd);
    q += sd;
  } else q = putNum(o, q, seq);
  o[q++] = 13;
  o[q++] = 10;
  return q;
}

/** Renders the entry at o of node k as [id, [field, value, ...]] into the sink. */
function renderEntry(k: EntryNode, o: number, sink: ByteSink): void {
  const b = k.buf;
  let p = k.readId(o);
  const ms = RMS;
  const seq = RSEQ;
  const end = REND;
  const same = (b[o] & F_SAME) !== 0;
  let nf: number;
  if (same) {
    nf = k.masterFields!.length;
    if (k.mresp === null) k.masterResp();
  } else {
    p = getV(b, p);
    nf = V;
  }
  const bound = 96 + (end - p) + 32 * nf + (same ? k.mresp!.length : 0);
  let out = sink.out;
  let q = sink.len;
  let direct = true;
  if (q + bound > out.length) {
    direct = false;
    if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound * 2);
    out = scratch;
    q = 0;
  }
  out[q++] = 42; // *2\r\n
  out[q++] = 50;
  out[q++] = 13;
  out[q++] = 10;
  q = putIdBulk(out, q, ms, seq);
  out[q++] = 42;
  if (nf < 5) out[q++] = 48 + 2 * nf;
  else q = putNum(out, q, 2 * nf);
  out[q++] = 13;
  out[q++] = 10;
  if (same) {
    const mr = k.mresp!;
    const mo = k.moff!;
    for (let j = 0; j < nf; j++) {
      q = copyBytes(out, q, mr, mo[j], mo[j + 1] - mo[j]);
      let x = b[p];
      if (x < 128) p++;
      else {
        p = getV(b, p);
        x = V;
      }
      q = putBulkFrom(out, q, b, p, x);
      p += x;
    }
  } else {
    for (let j = 2 * nf; j > 0; j--) {
      p = getV(b, p);
      q = putBulkFrom(out, q, b, p, V);
      p += V;
    }
  }
  if (direct) sink.len = q;
  else sink.rawBuf(scratch.subarray(0, q));
}

// ------------------------------------------------------- render cache
// Rendering an entry writes its reply byte by byte; a node read again and
// again (XRANGE over the same entries, several consumers reading the same
// range) keeps its rendered reply form for a while, so later reads copy runs
// of bytes. Bounded: at most RC_MAX_NODES nodes and RC_MAX_BYTES bytes in the
// whole server, oldest dropped first; a node's cache covers its first n live
// entries (appends after it are rendered directly) and goes on any removal.

const RC_MAX_BYTES = 1 << 20;
const RC_MAX_NODES = 64;

export class RenderCache {
  constructor(
    /** The rendered entries, back to back. */
    readonly buf: Buffer,
    /** Offset in the node of each covered entry, ascending. */
    readonly eoff: Int32Array,
    /** Offset in buf of each covered entry, and the end. */
    readonly roff: Int32Array,
  ) {}
  /** Index of the entry at node offset o, or -1 when not covered. */
  index(o: number): number {
    const e = this.eoff;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (e[mid] < o) lo = mid + 1;
      else hi = mid;
    }
    return lo < e.length && e[lo] === o ? lo : -1;
  }
}

const rcNodes: EntryNode[] = [];
let rcBytes = 0;

function rcDrop(k: EntryNode): void {
  if (k.rc !== null) {
    rcBytes -= k.rc.buf.length;
    k.rc = null;
  }
}

/** A growable sink the cache renders into. */
const rcSink: ByteSink = {
  out: Buffer.allocUnsafe(8192),
  len: 0,
  rawBuf(b: Buffer): void {
    if (this.len + b.length > this.out.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.len + b.length));
      this.out.copy(nb, 0, 0, this.len);
      this.out = nb;
    }
    b.copy(this.out, this.len);
    this.len += b.length;
  },
};

/** Renders all live entries of k into its cache (when the node fits the budget). */
function rcBuild(k: EntryNode): void {
  rcDrop(k);
  if (k.used > RC_MAX_BYTES >>> 3) return;
  const n = k.count;
  const eoff = new Int32Array(n);
  const roff = new Int32Array(n + 1);
  rcSink.len = 0;
  let o = k.head;
  for (let i = 0; i < n; i++) {
    eoff[i] = o;
    roff[i] = rcSink.len;
    renderEntry(k, o, rcSink);
    if (i + 1 < n) o = k.nextLive(o);
  }
  roff[n] = rcSink.len;
  const buf = Buffer.allocUnsafeSlow(rcSink.len);
  rcSink.out.copy(buf, 0, 0, rcSink.len);
  if (rcSink.out.length > 1 << 20) rcSink.out = Buffer.allocUnsafe(8192);
  k.rc = new RenderCache(buf, eoff, roff);
  rcBytes += buf.length;
  rcNodes.push(k);
  while (rcBytes > RC_MAX_BYTES || rcNodes.length > RC_MAX_NODES) rcDrop(rcNodes.shift()!);
}

/**
 * The render cache of a node a run of n entries starts reading: a node read
 * before gets one (or a fresh one after 16 appends) when the run takes at
 * least 8 entries, so a reader following the stream's tail entry by entry
 * does not render whole nodes.
 */
function cacheFor(k: EntryNode, n: number): RenderCache | null {
  if (n >= 8 && (k.rc === null ? ++k.reads >= 2 && k.count >= 8 : k.rc.eoff.length + 16 <= k.count)) rcBuild(k);
  return k.rc;
}

/** The stream's entries in packed nodes ending where Valkey's listpack nodes would (stream-node-max-entries/-bytes). */
export class EntryMap {
  chunks: EntryNode[] = [];
  size = 0;

  first(): Pos | null {
    return this.chunks.length === 0 ? null : { c: 0, i: this.chunks[0].head };
  }

  last(): Pos | null {
    const n = this.chunks.length;
    return n === 0 ? null : { c: n - 1, i: this.chunks[n - 1].tail };
  }

  /** Advances p to the next entry in place; false (p unchanged) at the end. */
  next(p: Pos): boolean {
    const k = this.chunks[p.c];
    if (p.i !== k.tail) {
      p.i = k.nextLive(p.i);
      return true;
    }
    if (p.c + 1 < this.chunks.length) {
      p.c++;
      p.i = this.chunks[p.c].head;
      return true;
    }
    return false;
  }

  /** Moves p back in place; false (p unchanged) at the start. */
  prev(p: Pos): boolean {
    const k = this.chunks[p.c];
    if (p.i !== k.head) {
      p.i = k.prevLive(p.i);
      return true;
    }
    if (p.c > 0) {
      p.c--;
      p.i = this.chunks[p.c].tail;
      return true;
    }
    return false;
  }

  msAt(p: Pos): U64 {
    this.chunks[p.c].readId(p.i);
    return RMS;
  }
  seqAt(p: Pos): U64 {
    this.chunks[p.c].readId(p.i);
    return RSEQ;
  }
  idAt(p: Pos): StreamID {
    this.chunks[p.c].readId(p.i);
    return { ms: RMS, seq: RSEQ };
  }

  /** Index of the first node whose last ID >= id (chunks.length if none). */
  private chunkFor(ms: U64, seq: U64): number {
    const ch = this.chunks;
    let lo = 0;
    let hi = ch.length;
    // Appends and reads near the end are the common case.
    if (hi !== 0) {
      const k = ch[hi - 1];
      if (cmpId(k.lastMs, k.lastSeq, ms, seq) < 0) return hi;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = ch[mid];
      if (cmpId(k.lastMs, k.lastSeq, ms, seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position with ID >= id, or null. */
  seekGE(ms: U64, seq: U64): Pos | null {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return null;
    const k = this.chunks[c];
    let o = k.head;
    for (;;) {
      k.readId(o);
      if (o === k.tail || cmpId(RMS, RSEQ, ms, seq) >= 0) return { c, i: o };
      o = k.nextLive(o);
    }
  }

  /** Last position with ID <= id, or null. */
  seekLE(ms: U64, seq: U64): Pos | null {
    const ch = this.chunks;
    const c = this.chunkFor(ms, seq);
    if (c >= ch.length) return this.last();
    const k = ch[c];
    let best = -1;
    for (let o = k.head; ; o = k.nextLive(o)) {
      k.readId(o);
      if (cmpId(RMS, RSEQ, ms, seq) > 0) break;
      best = o;
      if (o === k.tail) break;
    }
    if (best >= 0) return { c, i: best };
    if (c === 0) return null;
    return { c: c - 1, i: ch[c - 1].tail };
  }

  /** The position of exactly this ID, or null. */
  find(ms: U64, seq: U64): Pos | null {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return null;
    const k = this.chunks[c];
    for (let o = k.head; ; o = k.nextLive(o)) {
      k.readId(o);
      const d = cmpId(RMS, RSEQ, ms, seq);
      if (d === 0) return { c, i: o };
      if (d > 0 || o === k.tail) return null;
    }
  }

  has(ms: U64, seq: U64): boolean {
    return this.find(ms, seq) !== null;
  }

  /** An entry's fields and values, alternating. */
  valAt(p: Pos): Fields {
    const k = this.chunks[p.c];
    const b = k.buf;
    const o = p.i;
    let q = k.readId(o);
    if ((b[o] & F_SAME) !== 0) {
      const mf = k.masterFields!;
      const out = new Array<string>(2 * mf.length);
      for (let j = 0; j < mf.length; j++) {
        out[2 * j] = mf[j];
        q = getV(b, q);
        out[2 * j + 1] = b.latin1Slice(q, q + V);
        q += V;
      }
      return out;
    }
    q = getV(b, q);
    const out = new Array<string>(2 * V);
    for (let j = 0; j < out.length; j++) {
      q = getV(b, q);
      out[j] = b.latin1Slice(q, q + V);
      q += V;
    }
    return out;
  }

  get(ms: U64, seq: U64): Fields | undefined {
    const p = this.find(ms, seq);
    return p === null ? undefined : this.valAt(p);
  }

  /** Number of field-value pairs of an entry. */
  pairsAt(p: Pos): number {
    const k = this.chunks[p.c];
    const q = k.readId(p.i);
    if ((k.buf[p.i] & F_SAME) !== 0) return k.masterFields!.length;
    getV(k.buf, q);
    return V;
  }

  /**
   * How many entries from p forward have an ID <= (ms, seq), at most max:
   * nodes wholly inside the range are counted without decoding their IDs.
   */
  countUpTo(p: Pos, ms: U64, seq: U64, max: number): number {
    const ch = this.chunks;
    let n = 0;
    let o = p.i;
    for (let c = p.c; c < ch.length && n < max; c++) {
      const k = ch[c];
      if (c !== p.c) o = k.head;
      const whole = cmpId(k.lastMs, k.lastSeq, ms, seq) <= 0;
      if (whole && o === k.head) {
        n += k.count;
        continue;
      }
      for (;;) {
        if (!whole) {
          k.readId(o);
          if (cmpId(RMS, RSEQ, ms, seq) > 0) return n;
        }
        if (++n >= max) return max;
        if (o === k.tail) break;
        o = k.nextLive(o);
      }
      if (!whole) return n;
    }
    return n < max ? n : max;
  }

  /** Writes the entry at p in its reply form ([id, [field, value, ...]]). */
  writeEntry(p: Pos, sink: ByteSink): void {
    const k = this.chunks[p.c];
    const rc = k.rc;
    if (rc !== null) {
      const i = rc.index(p.i);
      if (i >= 0) {
        copyOut(sink, rc.buf, rc.roff[i], rc.roff[i + 1]);
        return;
      }
    }
    renderEntry(k, p.i, sink);
  }

  /** Writes n entries from p forward (they must exist), advancing p past them; cached runs are copied whole. */
  writeRun(p: Pos, n: number, sink: ByteSink): void {
    const ch = this.chunks;
    let k = ch[p.c];
    let o = p.i;
    let rc = cacheFor(k, n);
    for (;;) {
      const i = rc === null ? -1 : rc.index(o);
      if (i >= 0) {
        const take = Math.min(n, rc!.eoff.length - i);
        copyOut(sink, rc!.buf, rc!.roff[i], rc!.roff[i + take]);
        n -= take;
        o = rc!.eoff[i + take - 1];
      } else {
        renderEntry(k, o, sink);
        n--;
      }
      // The cache covers a prefix of the node: the rest of it is rendered.
      rc = null;
      if (n === 0) break;
      if (o !== k.tail) o = k.nextLive(o);
      else {
        k = ch[++p.c];
        o = k.head;
        rc = cacheFor(k, n);
      }
    }
    p.i = o;
    this.next(p);
  }

  /** Writes n entries from p backward (they must exist), moving p before them; cached entries are copied. */
  writeRunRev(p: Pos, n: number, sink: ByteSink): void {
    const ch = this.chunks;
    let k = ch[p.c];
    let o = p.i;
    let rc = cacheFor(k, n);
    let i = rc === null ? -1 : rc.index(o);
    for (;;) {
      if (i >= 0) copyOut(sink, rc!.buf, rc!.roff[i], rc!.roff[i + 1]);
      else renderEntry(k, o, sink);
      if (--n === 0) break;
      if (o !== k.head) {
        o = k.prevLive(o);
        // The cache covers the node's first live entries, in order.
        if (i > 0) i--;
        else if (rc !== null) i = rc.index(o);
      } else {
        k = ch[--p.c];
        o = k.tail;
        rc = cacheFor(k, n);
        i = rc === null ? -1 : rc.index(o);
      }
    }
    p.i = o;
    this.prev(p);
  }

  /** Writes the ID of the last entry as a bulk string (the stream must not be empty). */
  writeLastId(sink: ByteSink): void {
    const k = this.chunks[this.chunks.length - 1];
    writeIdBulk(sink, k.lastMs, k.lastSeq);
  }

  /** Writes the ID of the entry at p as a bulk string. */
  writeId(p: Pos, sink: ByteSink): void {
    this.chunks[p.c].readId(p.i);
    writeIdBulk(sink, RMS, RSEQ);
  }

  /**
   * The node the next append goes to: a new one when the last took nodeMax
   * entries (0: no limit) or when its listpack size plus the entry's field
   * and value lengths (elelen) reach maxBytes, as Valkey's streamAppendItem decides.
   */
  private tailNode(bytes: number, nodeMax: number, maxBytes: number, elelen: number): EntryNode {
    const ch = this.chunks;
    let k = ch.length === 0 ? undefined : ch[ch.length - 1];
    if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
    if (k === undefined || k.lpBytes + elelen >= maxBytes || (nodeMax > 0 && k.added >= nodeMax)) {
      // A full node predicts the next one's size (entries of a stream tend to look alike).
      // The buffer the full node leaves when it shrinks becomes the new node's
      // (one allocation per node instead of two) when it is large enough.
      let cap = bytes;
      let spare: Buffer | null = null;
      if (k !== undefined) {
        if (k.deleted === 0) cap = Math.max(cap, k.used + (k.used >>> 4));
        spare = k.shrink();
        if (spare !== null && spare.length < cap) spare = null;
      }
      k = new EntryNode(cap, spare);
      ch.push(k);
    } else k.reserve(bytes);
    return k;
  }

  /**
   * Appends an ID greater than every ID present with fields argv[from..]; a
   * new node starts after nodeMax appends or at maxBytes (see tailNode()).
   */
  appendArgv(ms: U64, seq: U64, argv: string[], from: number, nodeMax: number, maxBytes = STREAM_NODE_MAX_BYTES): void {
    const n2 = argv.length - from;
    let elelen = 0;
    let strBytes = 0;
    for (let j = from; j < argv.length; j++) {
      const n = argv[j].length;
      elelen += n;
      strBytes += n + (n < 128 ? 1 : vsize(n));
    }
    // An upper bound: flags, L, body (ms, seq, count, strings), backlen.
    const k = this.tailNode(1 + 5 + 10 + 10 + 5 + strBytes + 5, nodeMax, maxBytes, elelen);
    const same = lpAccount(k, ms, seq, argv, from);
    const msd = subU64(ms, k.masterMs);
    let L = vsizeU(msd) + vsizeU(seq);
    let s0 = from;
    if (same) {
      // Values only: drop the field names' bytes.
      for (let j = from; j < argv.length; j += 2) {
        const n = argv[j].length;
        strBytes -= n + (n < 128 ? 1 : vsize(n));
      }
      s0 = from + 1;
    } else L += vsize(n2 >>> 1);
    L += strBytes;
    const B = 1 + vsize(L) + L;
    const bs = vsize(B);
    const b = k.buf;
    const o = k.used;
    b[o] = same ? F_SAME : 0;
    let p = putV(b, o + 1, L);
    p = putVU(b, p, msd);
    p = putVU(b, p, seq);
    const step = same ? 2 : 1;
    if (!same) p = putV(b, p, n2 >>> 1);
    for (let j = s0; j < argv.length; j += step) {
      const s = argv[j];
      const n = s.length;
      if (n < 128) b[p++] = n;
      else p = putV(b, p, n);
      if (n <= 24) for (let t = 0; t < n; t++) b[p++] = s.charCodeAt(t);
      else p += b.latin1Write(s, p, n);
    }
    // The backlen, low group last.
    let v = B;
    for (let t = bs - 1; t >= 0; t--) {
      const q = Math.floor(v / 128);
      b[p + t] = (v - q * 128) | (t === 0 ? 0 : 128);
      v = q;
    }
    p += bs;
    k.used = p;
    if (k.count === 0) k.head = o;
    k.tail = o;
    k.lastMs = ms;
    k.lastSeq = seq;
    k.count++;
    this.size++;
  }

  /** Appends an ID greater than every ID present. */
  append(ms: U64, seq: U64, fields: Fields, nodeMax: number, maxBytes = STREAM_NODE_MAX_BYTES): void {
    this.appendArgv(ms, seq, fields, 0, nodeMax, maxBytes);
  }

  /** Flags the live entry at o of node c deleted (the node goes when it empties). */
  private remove(c: number, o: number): void {
    const k = this.chunks[c];
    if (k.rc !== null) rcDrop(k);
    k.buf[o] |= F_DELETED;
    k.count--;
    k.deleted++;
    this.size--;
    if (k.count === 0) {
      this.chunks.splice(c, 1);
      return;
    }
    if (o === k.head) k.head = k.nextLive(o);
    if (o === k.tail) {
      k.tail = k.prevLive(o);
      k.readId(k.tail);
      k.lastMs = RMS;
      k.lastSeq = RSEQ;
    }
  }

  delete(ms: U64, seq: U64): boolean {
    const p = this.find(ms, seq);
    if (p === null) return false;
    this.remove(p.c, p.i);
    return true;
  }

  /** Removes the first node whole; returns its entry count. */
  shiftChunk(): number {
    const k = this.chunks.shift();
    if (k === undefined) return 0;
    this.size -= k.count;
    return k.count;
  }

  /** Removes the first n entries of the first node. */
  shiftFromFirst(n: number): void {
    const k = this.chunks[0];
    if (n >= k.count) {
      this.shiftChunk();
      return;
    }
    for (let j = 0; j < n; j++) this.remove(0, k.head);
  }

  /** Live entries of the first node with an ID below (ms, seq). */
  countFirstBelow(ms: U64, seq: U64): number {
    const k = this.chunks[0];
    let n = 0;
    for (let o = k.head; ; o = k.nextLive(o)) {
      k.readId(o);
      if (cmpId(RMS, RSEQ, ms, seq) >= 0) break;
      n++;
      if (o === k.tail) break;
    }
    return n;
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }

  clone(): EntryMap {
    const m = new EntryMap();
    m.size = this.size;
    for (const k of this.chunks) m.chunks.push(k.clone());
    return m;
  }
}

function writeIdBulk(sink: ByteSink, ms: U64, seq: U64): void {
  let out = sink.out;
  let q = sink.len;
  const direct = q + 64 <= out.length;
  if (!direct) {
    out = scratch;
    q = 0;
  }
  q = putIdBulk(out, q, ms, seq);
  if (direct) sink.len = q;
  else sink.rawBuf(scratch.subarray(0, q));
}

// ------------------------------------------------------------------ groups

export class Consumer {
  /** Last time the consumer attempted an interaction (seen-time). */
  seenTime: number;
  /** Last successful interaction (active-time), -1 if never. */
  activeTime = -1;
  /** IDs pending for this consumer (values: the group's NACKs). */
  pel = new IdMap<Nack>();
  constructor(
    readonly name: string,
    now: number,
  ) {
    this.seenTime = now;
  }
}

export class Nack {
  constructor(
    public consumer: Consumer | null,
    public deliveryTime: number,
    public deliveryCount: number,
  ) {}
}

export class Group {
  pel = new IdMap<Nack>();
  consumers = new Map<string, Consumer>();
  constructor(
    readonly name: string,
    public lastId: StreamID,
    public entriesRead: number,
  ) {}

  /** Consumers in name (byte) order, as Valkey's radix tree lists them. */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  createConsumer(name: string, now: number): Consumer | null {
    if (this.consumers.has(name)) return null;
    const c = new Consumer(name, now);
    this.consumers.set(name, c);
    return c;
  }

  /** Removes a consumer and its pending entries from the group PEL; returns how many it had. */
  deleteConsumer(cons: Consumer): number {
    const n = cons.pel.size;
    for (const id of cons.pel.idsFrom(0, 0)) this.pel.delete(id.ms, id.seq);
    this.consumers.delete(cons.name);
    return n;
  }
}

// ------------------------------------------------------------------ stream

/** An entry's fields and values, alternating (latin1 strings). */
export type Fields = string[];

export class Stream implements DataObject {
  readonly objType = ObjType.Stream;
  entries = new EntryMap();
  /** The last ID added (or set by XSETID), as two parts so that XADD allocates no ID object. */
  lastMs: U64 = 0;
  lastSeq: U64 = 0;
  firstId: StreamID = ZERO_ID;
  maxDeletedId: StreamID = ZERO_ID;
  entriesAdded: U64 = 0;
  groups: Map<string, Group> | null = null;

  get length(): number {
    return this.entries.size;
  }

  /** The last ID added (or set by XSETID). */
  get lastId(): StreamID {
    return { ms: this.lastMs, seq: this.lastSeq };
  }
  set lastId(id: StreamID) {
    this.lastMs = id.ms;
    this.lastSeq = id.seq;
  }

  encoding(): string {
    return 'stream';
  }

  /** Number of index nodes (XINFO radix-tree-keys). */
  get nodeCount(): number {
    return this.entries.chunks.length;
  }

  clone(): Stream {
    const s = new Stream();
    s.entries = this.entries.clone();
    s.lastMs = this.lastMs;
    s.lastSeq = this.lastSeq;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    if (this.groups !== null) {
      s.groups = new Map();
      for (const [name, g] of this.groups) {
        const ng = new Group(name, g.lastId, g.entriesRead);
        const cmap = new Map<Consumer, Consumer>();
        for (const [cn, c] of g.consumers) {
          const nc = new Consumer(cn, c.seenTime);
          nc.activeTime = c.activeTime;
          cmap.set(c, nc);
          ng.consumers.set(cn, nc);
        }
        ng.pel = g.pel.clone((n) => new Nack(n.consumer === null ? null : (cmap.get(n.consumer) ?? null), n.deliveryTime, n.deliveryCount));
        // Consumer PELs share the group's NACK objects.
        const p = ng.pel.first();
        if (p !== null) {
          do {
            const n = ng.pel.valAt(p);
            if (n.consumer !== null) n.consumer.pel.set(ng.pel.msAt(p), ng.pel.seqAt(p), n);
          } while (ng.pel.next(p));
        }
        s.groups.set(name, ng);
      }
    }
    return s;
  }

  /** Appends an entry; id must be greater than lastId. */
  append(id: StreamID, fields: Fields): void {
    this.appendArgv(id, fields, 0);
  }

  /**
   * Appends an entry whose fields and values are argv[from..]; id must be
   * greater than lastId. nodeMax / maxBytes: stream-node-max-entries / -bytes.
   */
  appendArgv(id: StreamID, argv: string[], from: number, nodeMax = STREAM_NODE_MAX_ENTRIES, maxBytes = STREAM_NODE_MAX_BYTES): void {
    this.appendAt(id.ms, id.seq, argv, from, nodeMax, maxBytes);
  }

  /** appendArgv() with the ID as its two parts. */
  appendAt(ms: U64, seq: U64, argv: string[], from: number, nodeMax: number, maxBytes: number): void {
    if (this.entries.size === 0) this.firstId = { ms, seq };
    this.entries.appendArgv(ms, seq, argv, from, nodeMax, maxBytes);
    this.lastMs = ms;
    this.lastSeq = seq;
    const a = this.entriesAdded;
    this.entriesAdded = typeof a === 'number' && a < Number.MAX_SAFE_INTEGER ? a + 1 : incU64(a);
  }

  /** The ID of the last entry present (0-0 when empty); Valkey's streamLastValidID. */
  lastValidId(): StreamID {
    const p = this.entries.last();
    return p === null ? ZERO_ID : this.entries.idAt(p);
  }

  firstValidId(): StreamID | null {
    const p = this.entries.first();
    return p === null ? null : this.entries.idAt(p);
  }

  /** Recomputes firstId after removals. */
  updateFirstId(): void {
    const f = this.firstValidId();
    this.firstId = f === null ? ZERO_ID : f;
  }

  /** XDEL of one ID; true if it existed. */
  deleteEntry(id: StreamID): boolean {
    return this.entries.delete(id.ms, id.seq);
  }

  /**
   * Trims by MAXLEN (maxlen !== null) or MINID; approx removes only whole
   * nodes; limit (0: none) caps the entries removed. Returns how many went.
   */
  trim(maxlen: number | null, minid: StreamID | null, approx: boolean, limit: number): number {
    const e = this.entries;
    let deleted = 0;
    while (e.chunks.length !== 0) {
      if (maxlen !== null && e.size <= maxlen) break;
      const k = e.chunks[0];
      const n = k.count;
      if (limit && deleted + n > limit) break;
      let whole: boolean;
      if (maxlen !== null) whole = e.size - n >= maxlen;
      else whole = cmpId(k.lastMs, k.lastSeq, minid!.ms, minid!.seq) < 0;
      if (whole) {
        e.shiftChunk();
        deleted += n;
        continue;
      }
      if (approx) break;
      let cut = 0;
      if (maxlen !== null) cut = e.size - maxlen;
      else cut = e.countFirstBelow(minid!.ms, minid!.seq);
      if (cut > 0) {
        e.shiftFromFirst(cut);
        deleted += cut;
      }
      break;
    }
    if (deleted) this.updateFirstId();
    return deleted;
  }

  group(name: string): Group | undefined {
    return this.groups === null ? undefined : this.groups.get(name);
  }

  /** Groups in name order. */
  sortedGroups(): Group[] {
    if (this.groups === null) return [];
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  createGroup(name: string, id: StreamID, entriesRead: number): Group | null {
    if (this.groups === null) this.groups = new Map();
    if (this.groups.has(name)) return null;
    const g = new Group(name, id, entriesRead);
    this.groups.set(name, g);
    return g;
  }

  // ---------------------------------------------------------------- lag bookkeeping

  /** Whether a deleted entry (tombstone) may lie in [start, end]. */
  rangeHasTombstones(start: StreamID | null, end: StreamID | null): boolean {
    if (this.entries.size === 0 || isZeroId(this.maxDeletedId)) return false;
    if (cmpIds(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? ZERO_ID;
    const e = end ?? MAX_ID;
    return cmpIds(s, this.maxDeletedId) <= 0 && cmpIds(this.maxDeletedId, e) <= 0;
  }

  /** The logical read counter of an ID, or INVALID_ENTRIES_READ when unknown. */
  estimateDistanceFromFirstEverEntry(id: StreamID): number {
    const added = Number(this.entriesAdded);
    if (added === 0) return 0;
    const cmpLast = cmpId(id.ms, id.seq, this.lastMs, this.lastSeq);
    if (this.entries.size === 0 && cmpLast < 1) return added;
    if (cmpLast === 0) return added;
    if (cmpLast > 0) return INVALID_ENTRIES_READ;
    const cmpFirst = cmpIds(id, this.firstId);
    if (isZeroId(this.maxDeletedId) || cmpIds(this.maxDeletedId, this.firstId) < 0) {
      if (cmpFirst < 0) return added - this.entries.size;
      if (cmpFirst === 0) return added - this.entries.size + 1;
    }
    return INVALID_ENTRIES_READ;
  }

  /** A group's lag, or null when it cannot be known. */
  lag(g: Group): number | null {
    const added = Number(this.entriesAdded);
    if (added === 0) return 0;
    if (g.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(g.lastId, null)) return added - g.entriesRead;
    const er = this.estimateDistanceFromFirstEverEntry(g.lastId);
    return er === INVALID_ENTRIES_READ ? null : added - er;
  }

  /** Group bookkeeping when an entry with this ID is delivered past lastId. */
  advanceGroup(g: Group, id: StreamID): void {
    if (g.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(id, null)) g.entriesRead++;
    else if (this.entriesAdded !== 0) g.entriesRead = this.estimateDistanceFromFirstEverEntry(id);
    g.lastId = id;
  }
}
