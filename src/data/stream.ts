// Streams: entries indexed by ID (ms-seq, two unsigned 64-bit parts), consumer
// groups, their pending entries lists (PEL) and consumers. Pure data, no I/O.
//
// ID parts are JS numbers while they are safe integers (< 2^53) and BigInts
// only beyond; a part is a bigint exactly when it exceeds Number.MAX_SAFE_INTEGER,
// so `===` is equality and `<`/`>` compare mixed number/bigint correctly.
//
// Entries live in an EntryMap: a list of nodes, each holding its IDs in two
// arrays and its entries packed back to back in one Buffer, already in reply
// form (so XRANGE/XREAD copy runs of bytes, and no per-entry object lives on
// the JS heap); found by binary search over the nodes' last IDs and then
// inside a node: lookups, seeks and range starts are O(log N), appends O(1)
// amortised. The stream appends to its last node until that node received
// STREAM_NODE_MAX_ENTRIES entries (deleted ones included), like Valkey's
// listpack nodes, so approximate trimming (~) removes whole nodes the way
// Valkey does. Consumer-group PELs use IdMap, the same chunked layout with
// arbitrary values.
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

/** A position in an IdMap: chunk index and index inside the chunk. */
export interface Pos {
  c: number;
  i: number;
}

const SPLIT_AT = 256;

/** A sorted map from stream IDs to values, in chunks. */
/**
 * Positions over ID-sorted chunks (each with parallel ms/seq arrays): the
 * cursor half shared by IdMap (PELs) and EntryMap (stream entries).
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

  private removeAt(c: number, i: number): void {
    const k = this.chunks[c];
    if (i === k.ms.length - 1) {
      k.ms.pop();
      k.seq.pop();
      k.vals.pop();
    } else {
      k.ms.splice(i, 1);
      k.seq.splice(i, 1);
      k.vals.splice(i, 1);
    }
    this.size--;
    if (k.ms.length === 0) this.chunks.splice(c, 1);
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

// ------------------------------------------------------------------ EntryMap

/**
 * Where stream entries' bytes go: a reply writer (its buffer and fill level
 * are written directly; rawBuf grows it when a run does not fit).
 */
export interface ByteSink {
  out: Buffer;
  len: number;
  rawBuf(b: Buffer): void;
}

/**
 * One node of stream entries (Valkey's listpack node): IDs as two parallel
 * arrays and the entries packed back to back in one Buffer, each already in
 * its reply form, `*2 $<id> *<2n> $<field> $<value> ...` (the same bytes in
 * RESP2 and RESP3), so XRANGE/XREAD copy whole runs of entries into the reply
 * and nothing per entry lives on the JS heap. Entry i spans st[i] up to
 * st[i + 1] (or `used` for the last one); XDEL and trimming close the gap.
 */
export class EntryNode {
  ms: U64[] = [];
  seq: U64[] = [];
  /** Start offset of each entry in buf. */
  st: number[] = [];
  buf: Buffer;
  used = 0;
  /** Entries ever appended (deleted ones still count). */
  added = 0;
  /**
   * The size this node would have as Valkey's listpack (lpBytes), kept as
   * entries are appended, for stream-node-max-bytes; with the master entry's
   * ID and field names it is measured against (see lpEntryBytes).
   */
  lpBytes = 0;
  masterMs: U64 = 0;
  masterSeq: U64 = 0;
  masterFields: string[] | null = null;
  constructor(cap: number) {
    // allocUnsafe: small nodes (small streams) share Node's slab pool instead of one ArrayBuffer each.
    this.buf = Buffer.allocUnsafe(cap);
  }
  end(i: number): number {
    return i + 1 < this.st.length ? this.st[i + 1] : this.used;
  }
  /** Makes room for n more bytes. */
  reserve(n: number): void {
    const need = this.used + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.used);
    this.buf = nb;
  }
  /** Drops the spare capacity (a node that takes no more appends). */
  shrink(): void {
    if (this.buf.length - this.used > this.used >>> 3) {
      const nb = Buffer.allocUnsafe(Math.max(this.used, 1));
      this.buf.copy(nb, 0, 0, this.used);
      this.buf = nb;
    }
  }
  /** Removes entries [i, j). */
  removeRange(i: number, j: number): void {
    const a = this.st[i];
    const b = this.end(j - 1);
    const d = b - a;
    if (b < this.used) this.buf.copy(this.buf, a, b, this.used);
    this.used -= d;
    for (let k = j; k < this.st.length; k++) this.st[k] -= d;
    const n = j - i;
    if (i === this.st.length - n) {
      this.ms.length = i;
      this.seq.length = i;
      this.st.length = i;
    } else {
      this.ms.splice(i, n);
      this.seq.splice(i, n);
      this.st.splice(i, n);
    }
  }
  clone(): EntryNode {
    const n = new EntryNode(Math.max(this.used, 1));
    this.buf.copy(n.buf, 0, 0, this.used);
    n.used = this.used;
    n.ms = this.ms.slice();
    n.seq = this.seq.slice();
    n.st = this.st.slice();
    n.added = this.added;
    n.lpBytes = this.lpBytes;
    n.masterMs = this.masterMs;
    n.masterSeq = this.masterSeq;
    n.masterFields = this.masterFields;
    return n;
  }
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

// The decimal digits of the last ms part written (consecutive XADDs mostly share it).
let lastMs: U64 = -1;
let lastMsLen = 0;
const lastMsDigits = Buffer.alloc(24);

function cacheMs(ms: U64): void {
  lastMsLen = putNum(lastMsDigits, 0, ms);
  lastMs = ms;
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

/** The decimal at p, up to CR. */
function numAt(b: Buffer, p: number): number {
  let v = 0;
  for (let ch = b[p]; ch !== 13; ch = b[++p]) v = v * 10 + (ch - 48);
  return v;
}

function skipLine(b: Buffer, p: number): number {
  while (b[p] !== 13) p++;
  return p + 2;
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

/** Adds an entry's listpack size to its node (and, for a node's first entry, the master entry's). */
function lpAccount(k: EntryNode, ms: U64, seq: U64, argv: string[], from: number): void {
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
}

/** The stream's entries, in nodes ending where Valkey's listpack nodes would (stream-node-max-entries/-bytes). */
export class EntryMap extends IdChunks<EntryNode> {
  size = 0;
  /** Where the last appended entry's ID ends (its node and offset), for the XADD reply. */
  private lastIdNode: EntryNode | null = null;
  private lastIdStart = -1;
  private lastIdEnd = 0;

  /** Index of the first node whose last ID >= id (chunks.length if none). */
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

  private static lower(k: EntryNode, ms: U64, seq: U64): number {
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
    return { c, i: EntryMap.lower(this.chunks[c], ms, seq) };
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
    const i = EntryMap.lower(k, ms, seq);
    if (i < k.ms.length && k.ms[i] === ms && k.seq[i] === seq) return { c, i };
    if (i > 0) return { c, i: i - 1 };
    if (c === 0) return null;
    return { c: c - 1, i: ch[c - 1].ms.length - 1 };
  }

  /** The position of exactly this ID, or null. */
  find(ms: U64, seq: U64): Pos | null {
    const c = this.chunkFor(ms, seq);
    if (c >= this.chunks.length) return null;
    const k = this.chunks[c];
    const i = EntryMap.lower(k, ms, seq);
    if (i < k.ms.length && k.ms[i] === ms && k.seq[i] === seq) return { c, i };
    return null;
  }


  /** An entry's fields and values (decoded from the node). */
  valAt(p: Pos): Fields {
    const k = this.chunks[p.c];
    const b = k.buf;
    let q = skipLine(b, k.st[p.i] + 5); // "*2\r\n$<idlen>\r\n"
    q = skipLine(b, q); // the ID
    const n = numAt(b, q + 1);
    q = skipLine(b, q);
    const out = new Array<string>(n);
    for (let j = 0; j < n; j++) {
      const len = numAt(b, q + 1);
      q = skipLine(b, q);
      out[j] = b.latin1Slice(q, q + len);
      q += len + 2;
    }
    return out;
  }

  /** Number of field-value pairs of an entry. */
  pairsAt(p: Pos): number {
    const k = this.chunks[p.c];
    const b = k.buf;
    let q = skipLine(b, k.st[p.i] + 5);
    q = skipLine(b, q);
    return numAt(b, q + 1) >>> 1;
  }

  /** Writes the entry at p in its reply form ([id, [field, value, ...]]). */
  writeEntry(p: Pos, sink: ByteSink): void {
    const k = this.chunks[p.c];
    copyOut(sink, k.buf, k.st[p.i], k.end(p.i));
  }

  /** Writes n entries from p forward (they must exist), advancing p past them; whole runs per node. */
  writeRun(p: Pos, n: number, sink: ByteSink): void {
    while (n > 0) {
      const k = this.chunks[p.c];
      const take = Math.min(n, k.st.length - p.i);
      copyOut(sink, k.buf, k.st[p.i], k.end(p.i + take - 1));
      n -= take;
      p.i += take;
      if (p.i >= k.st.length) {
        p.c++;
        p.i = 0;
      }
    }
  }

  /** Writes the ID of the last entry as a bulk string (the stream must not be empty). */
  writeLastId(sink: ByteSink): void {
    const k = this.chunks[this.chunks.length - 1];
    const a = k.st[k.st.length - 1] + 4;
    // Right after appendArgv the end of the ID is known.
    // (Removals only move entries down, so an entry still starting where the last append's did is that entry.)
    const e = k === this.lastIdNode && a === this.lastIdStart ? this.lastIdEnd : skipLine(k.buf, skipLine(k.buf, a));
    copyOut(sink, k.buf, a, e);
  }

  /** Writes the ID of the entry at p as a bulk string. */
  writeId(p: Pos, sink: ByteSink): void {
    const k = this.chunks[p.c];
    const a = k.st[p.i] + 4;
    copyOut(sink, k.buf, a, skipLine(k.buf, skipLine(k.buf, a)));
  }

  has(ms: U64, seq: U64): boolean {
    return this.find(ms, seq) !== null;
  }

  get(ms: U64, seq: U64): Fields | undefined {
    const p = this.find(ms, seq);
    return p === null ? undefined : this.valAt(p);
  }

  /**
   * The node the next append goes to, with room for `bytes` more: a new one
   * when the last took nodeMax entries (0: no limit) or when its listpack size
   * plus the entry's field and value lengths (elelen) reach maxBytes, as
   * Valkey's streamAppendItem decides.
   */
  private tail(bytes: number, nodeMax: number, maxBytes: number, elelen: number): EntryNode {
    const ch = this.chunks;
    let k = ch.length === 0 ? undefined : ch[ch.length - 1];
    if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
    if (k === undefined || k.lpBytes + elelen >= maxBytes || (nodeMax > 0 && k.added >= nodeMax)) {
      // A full node predicts the next one's size (entries of a stream tend to look alike).
      let cap = bytes;
      if (k !== undefined) {
        if (k.ms.length === k.added) cap = Math.max(cap, k.used + (k.used >>> 4));
        k.shrink();
      }
      k = new EntryNode(cap);
      ch.push(k);
    } else k.reserve(bytes);
    return k;
  }

  /**
   * Appends an ID greater than every ID present with fields argv[from..]; a
   * new node starts after nodeMax appends or at maxBytes (see tail()).
   */
  appendArgv(ms: U64, seq: U64, argv: string[], from: number, nodeMax: number, maxBytes = STREAM_NODE_MAX_BYTES): void {
    const nf = argv.length - from;
    if (ms !== lastMs) cacheMs(ms);
    const idLen = lastMsLen + 1 + u64digits(seq);
    let bytes = 4 + 1 + ndigits(idLen) + 2 + idLen + 2 + 1 + ndigits(nf) + 2;
    let elelen = 0;
    for (let j = from; j < argv.length; j++) {
      const n = argv[j].length;
      elelen += n;
      bytes += n + 5 + (n < 10 ? 1 : ndigits(n));
    }
    const k = this.tail(bytes, nodeMax, maxBytes, elelen);
    lpAccount(k, ms, seq, argv, from);
    const b = k.buf;
    let p = k.used;
    k.st.push(p);
    this.lastIdStart = p + 4;
    b[p++] = 42; // *2\r\n$
    b[p++] = 50;
    b[p++] = 13;
    b[p++] = 10;
    b[p++] = 36;
    p = putNum(b, p, idLen);
    b[p++] = 13;
    b[p++] = 10;
    for (let j = 0; j < lastMsLen; j++) b[p++] = lastMsDigits[j];
    b[p++] = 45;
    p = putNum(b, p, seq);
    b[p++] = 13;
    b[p++] = 10;
    this.lastIdNode = k;
    this.lastIdEnd = p;
    b[p++] = 42;
    p = putNum(b, p, nf);
    b[p++] = 13;
    b[p++] = 10;
    for (let j = from; j < argv.length; j++) p = putBulk(b, p, argv[j]);
    k.used = p;
    k.ms.push(ms);
    k.seq.push(seq);
    k.added++;
    this.size++;
  }

  /** Appends an ID greater than every ID present. */
  append(ms: U64, seq: U64, fields: Fields, nodeMax: number, maxBytes = STREAM_NODE_MAX_BYTES): void {
    this.appendArgv(ms, seq, fields, 0, nodeMax, maxBytes);
  }

  delete(ms: U64, seq: U64): boolean {
    const p = this.find(ms, seq);
    if (p === null) return false;
    const k = this.chunks[p.c];
    k.removeRange(p.i, p.i + 1);
    this.size--;
    if (k.st.length === 0) this.chunks.splice(p.c, 1);
    return true;
  }

  /** Removes the first node whole; returns its entry count. */
  shiftChunk(): number {
    const k = this.chunks.shift();
    if (k === undefined) return 0;
    this.size -= k.ms.length;
    return k.ms.length;
  }

  /** Removes the first n entries of the first node. */
  shiftFromFirst(n: number): void {
    const k = this.chunks[0];
    if (n >= k.ms.length) {
      this.shiftChunk();
      return;
    }
    k.removeRange(0, n);
    this.size -= n;
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
  lastId: StreamID = ZERO_ID;
  firstId: StreamID = ZERO_ID;
  maxDeletedId: StreamID = ZERO_ID;
  entriesAdded: U64 = 0;
  groups: Map<string, Group> | null = null;

  get length(): number {
    return this.entries.size;
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
    s.lastId = this.lastId;
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
    if (this.entries.size === 0) this.firstId = id;
    this.entries.appendArgv(id.ms, id.seq, argv, from, nodeMax, maxBytes);
    this.lastId = id;
    this.entriesAdded = typeof this.entriesAdded === 'number' ? incU64(this.entriesAdded) : this.entriesAdded + 1n;
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
      const n = k.ms.length;
      if (limit && deleted + n > limit) break;
      let whole: boolean;
      if (maxlen !== null) whole = e.size - n >= maxlen;
      else whole = cmpId(k.ms[n - 1], k.seq[n - 1], minid!.ms, minid!.seq) < 0;
      if (whole) {
        e.shiftChunk();
        deleted += n;
        continue;
      }
      if (approx) break;
      let cut = 0;
      if (maxlen !== null) cut = e.size - maxlen;
      else while (cut < n && cmpId(k.ms[cut], k.seq[cut], minid!.ms, minid!.seq) < 0) cut++;
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
    if (this.entries.size === 0 && cmpIds(id, this.lastId) < 1) return added;
    const cmpLast = cmpIds(id, this.lastId);
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
