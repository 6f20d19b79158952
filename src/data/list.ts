// The list structure: a chain of chunks modelled on Valkey's quicklist.
//
// Every chunk ("node") is a Buffer of byte-packed elements plus the exact size
// in bytes that Valkey's listpack encoding would take for them (computed from
// the elements, whatever our own packing takes), so the node boundaries
// and the listpack <-> quicklist conversions follow Valkey 8 exactly and
// OBJECT ENCODING answers what Valkey answers:
//   - a small list is one node and reports "listpack"; it becomes a quicklist
//     when a push would take it over list-max-listpack-size (negative: a byte
//     budget of 4/8/16/32/64 KB; positive: an entry count, with an 8 KB cap);
//   - a quicklist adds a node at an end when the end node is full, splits and
//     merges nodes on LINSERT like Valkey does, drops emptied nodes, and turns
//     back into a listpack when it is down to a single node holding at most
//     half of the limit.
// Push/pop at both ends are O(1) amortized (a node holds at most a few KB);
// index access walks nodes from the nearer end, like Valkey, then entries
// within the node (from marks every 16 entries once a node is read at random).
// LRANGE reads the bytes in place (forRange), without making strings.
//
// Elements are latin1 strings. A ListValue has one field holding one of three forms:
//   - a listpack string (listpack.ts): the whole list as a real Valkey listpack,
//     the form of lists loaded from an RDB or RESTOREd (the blob itself), copied,
//     or saved (an RDB writer builds that string anyway and the list keeps it):
//     one JS string per list, read in place; the first change unpacks it;
//   - a tiny array: a listpack of at most 8 elements being changed keeps the
//     strings the commands handed in, so the short lists most keys hold (queues
//     near empty, small feeds) push, pop and index without packing and decoding;
//     packed when it grows past 8 (or converts to a quicklist), back to strings
//     once down to 4;
//   - a QList of byte-packed nodes (see "packed nodes" below): a bigger listpack
//     being changed (one node) or a quicklist.
// Only the representation changes: sizes, limits and conversions are Valkey's
// listpack ones throughout. Pure data: no I/O, no replies.
import { ObjType, type DataObject } from '../keyspace/types.js';
import { LP_HDR, lpEq, lpFind, lpFirst, lpFromItems, lpInt, lpLast, lpNext, lpPrev, lpSeek, lpSkip, lpStrBounds, lpValidate, strLen, strStart } from './listpack.js';

/** Byte budgets of negative list-max-listpack-size values -1 .. -5. */
const SIZE_LEVELS = [4096, 8192, 16384, 32768, 65536];
/** Size cap that also applies when the limit is an entry count. */
const SIZE_SAFETY_LIMIT = 8192;
/** What Valkey adds to an element's length when guessing its encoded size. */
const SIZE_ESTIMATE_OVERHEAD = 8;
/** Listpack header (total bytes + count) and end marker. */
const LP_EMPTY = 7;

/** Size and count limits of one node for a list-max-listpack-size value. */
function nodeLimits(fill: number): [number, number] {
  if (fill >= 0) return [Infinity, fill === 0 ? 1 : fill];
  let off = -fill - 1;
  if (off >= SIZE_LEVELS.length) off = SIZE_LEVELS.length - 1;
  return [SIZE_LEVELS[off], Infinity];
}

/** Valkey's quicklistNodeExceedsLimit (nodeLimits without the array: it runs on every push). */
export function exceedsLimit(fill: number, bytes: number, count: number): boolean {
  if (fill < 0) {
    let off = -fill - 1;
    if (off >= SIZE_LEVELS.length) off = SIZE_LEVELS.length - 1;
    return bytes > SIZE_LEVELS[off];
  }
  if (bytes > SIZE_SAFETY_LIMIT) return true;
  return count > (fill === 0 ? 1 : fill);
}

/** Bytes of the backlen field that follows an entry of `l` bytes. */
function backlenBytes(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** The integer a listpack would store the string as, or null (canonical int64 only). */
function packedInt(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return null;
  if (c === 48) return n === 1 ? 0 : null;
  let i = c === 45 ? 1 : 0;
  if (i === 1) {
    if (n === 1) return null;
    const d = s.charCodeAt(1);
    if (d < 49 || d > 57) return null;
  }
  for (; i < n; i++) {
    const d = s.charCodeAt(i);
    if (d < 48 || d > 57) return null;
  }
  if (n < 16) return Number(s);
  const b = BigInt(s);
  if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
  return b;
}

/** Bytes the element takes inside a listpack (encoding, data and backlen). */
export function entryBytes(s: string): number {
  const v = packedInt(s);
  let enc: number;
  if (v !== null) {
    if (typeof v === 'bigint') enc = 9;
    else if (v >= 0 && v <= 127) enc = 1;
    else if (v >= -4096 && v <= 4095) enc = 2;
    else if (v >= -32768 && v <= 32767) enc = 3;
    else if (v >= -8388608 && v <= 8388607) enc = 4;
    else if (v >= -2147483648 && v <= 2147483647) enc = 5;
    else enc = 9;
  } else {
    const l = s.length;
    enc = l < 64 ? 1 + l : l < 4096 ? 2 + l : 5 + l;
  }
  return enc + backlenBytes(enc);
}

// ---------------------------------------------------------------- packed nodes
//
// A node keeps its elements byte-packed in one Buffer, like a listpack: each
// entry is  <len> <bytes> <backlen>  where len and backlen are the same length
// written forwards and backwards, so a node can be walked from either end:
//   len < 128:    1 byte  (len)
//   len < 16384:  2 bytes (0x80 | len >> 8, len & 0xff), mirrored at the end
//   otherwise:    5 bytes (0xc0, uint32 LE), mirrored at the end
// so a short element costs its bytes plus 2. The entries sit in buf[s, e) with
// free room on both sides (a gap buffer): pushes at either end are O(1)
// amortized, the room grows by half when it runs out, and a node that stops
// being an end of the quicklist is trimmed to its exact size. Changes in the
// middle (LSET, LINSERT, LREM, LTRIM) rebuild the one node they touch, O(node)
// like a listpack memmove. `bytes` is the size Valkey's listpack would have
// for the same elements: it alone drives the node limits and conversions.

/** Scratch results of the entry readers (data offset and length of the entry just read). */
let rdOff = 0;
let rdLen = 0;

/** Bytes an element of `len` bytes takes in a node. */
function packedSize(len: number): number {
  return len < 128 ? len + 2 : len < 16384 ? len + 4 : len + 10;
}

/** Writes the entry for `s` at `off`; returns the offset after it. */
function writeEntry(buf: Buffer, off: number, s: string): number {
  const len = s.length;
  if (len < 128) {
    buf[off++] = len;
    if (len < 32) {
      for (let j = 0; j < len; j++) buf[off + j] = s.charCodeAt(j);
    } else buf.latin1Write(s, off, len);
    off += len;
    buf[off++] = len;
    return off;
  }
  if (len < 16384) {
    buf[off++] = 0x80 | (len >> 8);
    buf[off++] = len & 0xff;
    buf.latin1Write(s, off, len);
    off += len;
    buf[off++] = len & 0xff;
    buf[off++] = 0x80 | (len >> 8);
    return off;
  }
  buf[off] = 0xc0;
  buf.writeUInt32LE(len, off + 1);
  off += 5;
  buf.latin1Write(s, off, len);
  off += len;
  buf.writeUInt32LE(len, off);
  buf[off + 4] = 0xc0;
  return off + 5;
}

/** Reads the entry starting at `off` into rdOff/rdLen; returns the offset after it. */
function readFwd(buf: Buffer, off: number): number {
  const b = buf[off];
  if (b < 0x80) {
    rdOff = off + 1;
    rdLen = b;
    return off + 2 + b;
  }
  if (b < 0xc0) {
    const len = ((b & 0x3f) << 8) | buf[off + 1];
    rdOff = off + 2;
    rdLen = len;
    return off + 4 + len;
  }
  const len = buf.readUInt32LE(off + 1);
  rdOff = off + 5;
  rdLen = len;
  return off + 10 + len;
}

/** Reads the entry ending at `end` into rdOff/rdLen; returns its start offset. */
function readBack(buf: Buffer, end: number): number {
  const b = buf[end - 1];
  if (b < 0x80) {
    rdLen = b;
    rdOff = end - 1 - b;
    return rdOff - 1;
  }
  if (b < 0xc0) {
    const len = ((b & 0x3f) << 8) | buf[end - 2];
    rdLen = len;
    rdOff = end - 2 - len;
    return rdOff - 2;
  }
  const len = buf.readUInt32LE(end - 5);
  rdLen = len;
  rdOff = end - 5 - len;
  return rdOff - 5;
}

/** One-character strings by byte, so short reads do not allocate. */
const CHARS: string[] = [];
for (let i = 0; i < 256; i++) CHARS.push(String.fromCharCode(i));

/**
 * The element stored at buf[off, off+len) as a latin1 string. Short ones are
 * built with String.fromCharCode, about twice as fast as a native slice call.
 */
function readStr(b: Buffer, o: number, len: number): string {
  switch (len) {
    case 0:
      return '';
    case 1:
      return CHARS[b[o]];
    case 2:
      return String.fromCharCode(b[o], b[o + 1]);
    case 3:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2]);
    case 4:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
    case 5:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4]);
    case 6:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5]);
    case 7:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6]);
    case 8:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
    case 9:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7], b[o + 8]);
    case 10:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7], b[o + 8], b[o + 9]);
    case 11:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7], b[o + 8], b[o + 9], b[o + 10]);
    case 12:
      return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7], b[o + 8], b[o + 9], b[o + 10], b[o + 11]);
    default:
      return b.latin1Slice(o, o + len);
  }
}

/** Offset after the entry starting at `off` (readFwd without the scratch results). */
function skipFwd(buf: Buffer, off: number): number {
  const b = buf[off];
  if (b < 0x80) return off + 2 + b;
  if (b < 0xc0) return off + 4 + (((b & 0x3f) << 8) | buf[off + 1]);
  return off + 10 + buf.readUInt32LE(off + 1);
}

/** Start of the entry ending at `end` (readBack without the scratch results). */
function skipBack(buf: Buffer, end: number): number {
  const b = buf[end - 1];
  if (b < 0x80) return end - 2 - b;
  if (b < 0xc0) return end - 4 - (((b & 0x3f) << 8) | buf[end - 2]);
  return end - 10 - buf.readUInt32LE(end - 5);
}

/** True when buf[off, off+len) holds exactly the bytes of `needle`. */
function sameBytes(buf: Buffer, off: number, len: number, needle: Buffer): boolean {
  if (len !== needle.length) return false;
  if (len < 32) {
    for (let j = 0; j < len; j++) if (buf[off + j] !== needle[j]) return false;
    return true;
  }
  return needle.compare(buf, off, off + len) === 0;
}

function allocBuf(n: number): Buffer {
  // Small buffers come from Node's shared pool; node-sized ones get their own memory.
  return n < 512 ? Buffer.allocUnsafe(n) : Buffer.allocUnsafeSlow(n);
}


const EMPTY_BUF = Buffer.alloc(0);

class QNode {
  buf: Buffer;
  /** The entries occupy buf[s, e). */
  s: number;
  e: number;
  count: number;
  /** Size of the same elements as a Valkey listpack (header and end included). */
  bytes: number;
  /**
   * Offsets (from s) of entries 0, 16, 32, ...: built when a node is read at
   * random positions twice without a change in between, dropped on any change.
   */
  marks: Uint32Array | null = null;
  reads = 0;
  constructor(buf: Buffer, s: number, e: number, count: number, bytes: number) {
    this.buf = buf;
    this.s = s;
    this.e = e;
    this.count = count;
    this.bytes = bytes;
  }

  static empty(): QNode {
    return new QNode(EMPTY_BUF, 0, 0, 0, LP_EMPTY);
  }

  /** An empty node with room for `cap` bytes, all of it at the head or all at the tail. */
  static withRoom(cap: number, head: boolean): QNode {
    const at = head ? cap : 0;
    return new QNode(allocBuf(cap), at, at, 0, LP_EMPTY);
  }

  /** A node holding `items`, exactly sized, or with `room` free bytes at the head or the tail. */
  static of(items: string[], room = 0, head = false): QNode {
    let size = 0;
    let b = LP_EMPTY;
    for (let i = 0; i < items.length; i++) {
      size += packedSize(items[i].length);
      b += entryBytes(items[i]);
    }
    const total = size + room;
    const buf = total === 0 ? EMPTY_BUF : allocBuf(total);
    let off = head ? room : 0;
    const s = off;
    for (let i = 0; i < items.length; i++) off = writeEntry(buf, off, items[i]);
    return new QNode(buf, s, off, items.length, b);
  }

  /** Node a followed by node b, exactly sized. */
  static concat(a: QNode, b: QNode): QNode {
    const la = a.e - a.s;
    const buf = allocBuf(la + b.e - b.s);
    a.buf.copy(buf, 0, a.s, a.e);
    b.buf.copy(buf, la, b.s, b.e);
    return new QNode(buf, 0, buf.length, a.count + b.count, a.bytes + b.bytes - LP_EMPTY);
  }

  copy(): QNode {
    const used = this.e - this.s;
    const buf = used === 0 ? EMPTY_BUF : allocBuf(used);
    this.buf.copy(buf, 0, this.s, this.e);
    return new QNode(buf, 0, used, this.count, this.bytes);
  }

  /** Makes room for `need` more bytes at the head or the tail. */
  private room(need: number, head: boolean): void {
    const used = this.e - this.s;
    const cap = this.buf.length;
    let size = cap;
    let buf = this.buf;
    // Grow by half (at least the need) unless a quarter of the buffer is free on the wrong side.
    if (cap - used - need < cap >> 2) {
      size = used + need + Math.max(need, used >> 1, 48);
      buf = allocBuf(size);
    }
    const extra = size - used - need;
    const ns = head ? need + extra - (extra >> 2) : extra >> 2;
    if (buf === this.buf) buf.copyWithin(ns, this.s, this.e);
    else this.buf.copy(buf, ns, this.s, this.e);
    this.buf = buf;
    this.s = ns;
    this.e = ns + used;
  }

  /** Makes sure `need` bytes are free at the head or the tail, growing to exactly that. */
  reserve(need: number, head: boolean): void {
    if (head ? this.s >= need : this.buf.length - this.e >= need) return;
    const used = this.e - this.s;
    const buf = allocBuf(used + need);
    const ns = head ? need : 0;
    this.buf.copy(buf, ns, this.s, this.e);
    this.buf = buf;
    this.s = ns;
    this.e = ns + used;
  }

  /** Trims the buffer to the entries (for nodes no longer at an end) unless it wastes under 1/16. */
  fit(): void {
    const used = this.e - this.s;
    if (this.buf.length - used <= Math.max(16, this.buf.length >> 4)) return;
    const buf = used === 0 ? EMPTY_BUF : allocBuf(used);
    this.buf.copy(buf, 0, this.s, this.e);
    this.buf = buf;
    this.s = 0;
    this.e = used;
  }

  /** Gives back memory after pops once three quarters of the buffer are unused. */
  private shrink(): void {
    const cap = this.buf.length;
    if (cap > 256 && this.e - this.s < cap >> 2) this.fit();
  }

  pushHead(v: string, eb: number): void {
    this.marks = null;
    this.reads = 0;
    const need = packedSize(v.length);
    if (this.s < need) this.room(need, true);
    this.s -= need;
    writeEntry(this.buf, this.s, v);
    this.count++;
    this.bytes += eb;
  }

  pushTail(v: string, eb: number): void {
    this.marks = null;
    this.reads = 0;
    const need = packedSize(v.length);
    if (this.e + need > this.buf.length) this.room(need, false);
    this.e = writeEntry(this.buf, this.e, v);
    this.count++;
    this.bytes += eb;
  }

  popHead(): string {
    this.marks = null;
    this.reads = 0;
    this.s = readFwd(this.buf, this.s);
    const v = readStr(this.buf, rdOff, rdLen);
    this.count--;
    this.bytes -= entryBytes(v);
    this.shrink();
    return v;
  }

  popTail(): string {
    this.marks = null;
    this.reads = 0;
    this.e = readBack(this.buf, this.e);
    const v = readStr(this.buf, rdOff, rdLen);
    this.count--;
    this.bytes -= entryBytes(v);
    this.shrink();
    return v;
  }

  /**
   * Byte offset where entry i starts (i === count: the end), walking from the
   * nearer end, or from the nearest mark when the node has them.
   */
  offsetAt(i: number): number {
    const buf = this.buf;
    if (i > 8 && this.count - i > 8) {
      if (this.marks === null && ++this.reads >= 2) this.mark();
      const marks = this.marks;
      if (marks !== null) {
        let p = this.s + marks[i >> 4];
        for (let k = i & 15; k > 0; k--) p = skipFwd(buf, p);
        return p;
      }
    }
    if (i <= this.count >> 1) {
      let p = this.s;
      for (let k = 0; k < i; k++) p = skipFwd(buf, p);
      return p;
    }
    let p = this.e;
    for (let k = this.count; k > i; k--) p = skipBack(buf, p);
    return p;
  }

  /** Builds the marks (every 16th entry's offset). */
  private mark(): void {
    const buf = this.buf;
    const marks = new Uint32Array((this.count >> 4) + 1);
    let k = 0;
    for (let p = this.s; p < this.e; k++) {
      if ((k & 15) === 0) marks[k >> 4] = p - this.s;
      p = skipFwd(buf, p);
    }
    this.marks = marks;
  }

  at(i: number): string {
    readFwd(this.buf, this.offsetAt(i));
    return readStr(this.buf, rdOff, rdLen);
  }

  /** The node's elements, decoded into a new array (for readers such as RDB save). */
  get items(): string[] {
    return this.toArray();
  }

  toArray(out: string[] = []): string[] {
    const buf = this.buf;
    for (let p = this.s; p < this.e; ) {
      p = readFwd(buf, p);
      out.push(readStr(buf, rdOff, rdLen));
    }
    return out;
  }

  /**
   * Replaces `del` entries from entry i with `ins` (exactly sized result).
   * Returns the entries removed.
   */
  splice(i: number, del: number, ins: string[]): void {
    const buf = this.buf;
    const a = this.offsetAt(i);
    let b = a;
    let bytes = this.bytes;
    for (let k = 0; k < del; k++) {
      b = readFwd(buf, b);
      bytes -= entryBytes(readStr(buf, rdOff, rdLen));
    }
    let insSize = 0;
    for (let k = 0; k < ins.length; k++) {
      insSize += packedSize(ins[k].length);
      bytes += entryBytes(ins[k]);
    }
    const size = this.e - this.s - (b - a) + insSize;
    const nb = size === 0 ? EMPTY_BUF : allocBuf(size);
    buf.copy(nb, 0, this.s, a);
    let off = a - this.s;
    for (let k = 0; k < ins.length; k++) off = writeEntry(nb, off, ins[k]);
    buf.copy(nb, off, b, this.e);
    this.buf = nb;
    this.s = 0;
    this.e = size;
    this.count += ins.length - del;
    this.bytes = bytes;
    this.marks = null;
    this.reads = 0;
  }

  /** Removes the entries starting at the given byte offsets (ascending; each entry is `eb` Valkey bytes). */
  dropAt(offs: number[], eb: number): void {
    const buf = this.buf;
    let drop = 0;
    const ends: number[] = [];
    for (let k = 0; k < offs.length; k++) {
      const end = readFwd(buf, offs[k]);
      ends.push(end);
      drop += end - offs[k];
    }
    const size = this.e - this.s - drop;
    const nb = size === 0 ? EMPTY_BUF : allocBuf(size);
    let off = 0;
    let from = this.s;
    for (let k = 0; k < offs.length; k++) {
      buf.copy(nb, off, from, offs[k]);
      off += offs[k] - from;
      from = ends[k];
    }
    buf.copy(nb, off, from, this.e);
    this.buf = nb;
    this.s = 0;
    this.e = size;
    this.count -= offs.length;
    this.bytes -= offs.length * eb;
    this.marks = null;
    this.reads = 0;
  }
}

/** Valkey's _quicklistNodeAllowInsert for an element of `len` bytes. */
function allowInsert(node: QNode | undefined, fill: number, len: number): boolean {
  if (node === undefined) return false;
  return !exceedsLimit(fill, node.bytes + len + SIZE_ESTIMATE_OVERHEAD, node.count + 1);
}

function allowMerge(a: QNode | undefined, b: QNode | undefined, fill: number): boolean {
  if (a === undefined || b === undefined) return false;
  return !exceedsLimit(fill, a.bytes + b.bytes - LP_EMPTY, a.count + b.count);
}

/** The elements of a new, empty list (never changed: the first push makes an array). */
const NO_ITEMS: string[] = [];
/**
 * Tiny lists: up to TINY_MAX elements being changed stay plain strings; a
 * packed listpack that shrinks to TINY_LOW goes back (the gap avoids flapping
 * at one size).
 */
const TINY_MAX = 8;
const TINY_LOW = 4;
/**
 * A tiny list's array: the first `n` of `items` in an array with room for
 * TINY_MAX, so pushes and pops happen in place (a grown JS array would get
 * room for 16 more, 128 bytes a tiny list never uses; an exact one would be
 * copied on every push). Built from an 8-element literal and cut to length,
 * which keeps its 8 slots and its packed element kind.
 */
function tinyArray(items: string[], n: number): string[] {
  const f = items[0];
  const a = [f, f, f, f, f, f, f, f];
  for (let i = 1; i < n; i++) a[i] = items[i];
  a.length = n;
  return a;
}

/** tinyArray([a, b], 2) without the temporary array (a list's second push). */
function tinyPair(a: string, b: string): string[] {
  const t = [a, b, b, b, b, b, b, b];
  t.length = 2;
  return t;
}

/** Size of a tiny list as a Valkey listpack. */
function tinyBytes(t: string[]): number {
  let b = LP_EMPTY;
  for (let i = 0; i < t.length; i++) b += entryBytes(t[i]);
  return b;
}

/**
 * An upper bound of tinyBytes without parsing integers (an entry takes at
 * most its length + 10 bytes), so pushes skip the exact size far from the limits.
 */
function tinyBound(t: string[]): number {
  let b = LP_EMPTY;
  for (let i = 0; i < t.length; i++) b += t[i].length + 10;
  return b;
}

/** Entry count of a list's listpack string (exact in the header: a list's listpack has far fewer than 65535 entries). */
function lpLen(lp: string): number {
  return lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
}

/** Scratch for copies of long listpack entries. */
let strScratch = Buffer.allocUnsafeSlow(256);

/**
 * The entry at offset p of lp as a flat string of its own (integers in
 * decimal). lpGet's slice of a long entry would be a V8 sliced string that
 * keeps the whole listpack alive for as long as the element lives (in another
 * list, a reply buffer...); substrings under 13 characters are copies anyway.
 */
function lpStr(lp: string, p: number): string {
  if (!lpStrBounds(lp, p)) return String(lpInt(lp, p));
  const o = strStart;
  const n = strLen;
  if (n < 13) return lp.slice(o, o + n);
  if (n > strScratch.length) strScratch = Buffer.allocUnsafeSlow(n);
  strScratch.latin1Write(lp.slice(o, o + n), 0, n);
  return strScratch.latin1Slice(0, n);
}

/** Every element of a listpack string, as flat strings. */
function lpStrings(lp: string, out: string[]): string[] {
  for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) out.push(lpStr(lp, p));
  return out;
}

/** Scratch space forRange encodes a tiny list's elements into. */
let scratch = Buffer.allocUnsafeSlow(256);
/** Scratch space forRange copies a listpack string into, and one for its integers' digits. */
let lpScratch = Buffer.allocUnsafeSlow(256);
const intScratch = Buffer.allocUnsafeSlow(24);

/** Visitor of forRange: the element is buf[off, off+len). */
export type EntryVisitor<T> = (buf: Buffer, off: number, len: number, ctx: T) => void;

function collect(buf: Buffer, off: number, len: number, out: string[]): void {
  out.push(readStr(buf, off, len));
}

/**
 * A list in packed nodes: a listpack being changed that has more than
 * TINY_MAX elements (one node), or a quicklist (any number of nodes).
 */
class QList {
  /** Packed chunks from head to tail; a listpack has exactly one. */
  qn: QNode[];
  /** True once the list is a quicklist. */
  quick: boolean;
  /** Node limit the quicklist was created with (Valkey keeps it per list). */
  qfill: number;
  length: number;

  constructor(qn: QNode[], quick: boolean, qfill: number, length: number) {
    this.qn = qn;
    this.quick = quick;
    this.qfill = qfill;
    this.length = length;
  }

  copy(): QList {
    return new QList(
      this.qn.map((n) => n.copy()),
      this.quick,
      this.qfill,
      this.length,
    );
  }

  /** Node index and offset of element `i` (0 <= i < length), seeking from the nearer end. */
  locate(i: number): [number, number] {
    const nodes = this.qn;
    if (i <= (this.length - 1) / 2) {
      let acc = 0;
      for (let k = 0; k < nodes.length; k++) {
        const c = nodes[k].count;
        if (acc + c > i) return [k, i - acc];
        acc += c;
      }
    } else {
      let acc = this.length;
      for (let k = nodes.length - 1; k >= 0; k--) {
        const c = nodes[k].count;
        acc -= c;
        if (acc <= i) return [k, i - acc];
      }
    }
    throw new Error('list index out of bounds');
  }

  /** Valkey's _quicklistInsert next to the element at (node k, offset off). */
  insertAt(k: number, off: number, s: string, after: boolean): void {
    const nodes = this.qn;
    const node = nodes[k];
    const eb = entryBytes(s);
    this.length++;
    if (!this.quick) {
      node.splice(after ? off + 1 : off, 0, [s]);
      return;
    }
    const fill = this.qfill;
    const full = !allowInsert(node, fill, s.length);
    const atTail = after && off === node.count - 1;
    const atHead = !after && off === 0;
    const availNext = atTail && allowInsert(nodes[k + 1], fill, s.length);
    const availPrev = atHead && allowInsert(nodes[k - 1], fill, s.length);
    if (!full) {
      node.splice(after ? off + 1 : off, 0, [s]);
    } else if (atTail && availNext) {
      nodes[k + 1].pushHead(s, eb);
    } else if (atHead && availPrev) {
      nodes[k - 1].pushTail(s, eb);
    } else if (atTail || atHead) {
      nodes.splice(after ? k + 1 : k, 0, QNode.of([s]));
    } else {
      // Split the full node at the pivot and put the element at the edge of the new part.
      const items = node.toArray();
      let moved: string[];
      if (after) {
        moved = items.splice(off + 1);
        moved.unshift(s);
      } else {
        moved = items.splice(0, off);
        moved.push(s);
      }
      nodes[k] = QNode.of(items);
      nodes.splice(after ? k + 1 : k, 0, QNode.of(moved));
      this.mergeAround(after ? k : k + 1);
    }
  }

  /** Merges node ai + 1 into node ai (adjacent). */
  private merge(ai: number): void {
    this.qn.splice(ai, 2, QNode.concat(this.qn[ai], this.qn[ai + 1]));
  }

  /** Valkey's _quicklistMergeNodes around the node at index c. */
  private mergeAround(c: number): void {
    const nodes = this.qn;
    const fill = this.qfill;
    // prev_prev + prev
    if (c >= 2 && allowMerge(nodes[c - 1], nodes[c - 2], fill)) {
      this.merge(c - 2);
      c--;
    }
    // next + next_next
    if (allowMerge(nodes[c + 1], nodes[c + 2], fill)) this.merge(c + 1);
    // center + prev
    let target = c;
    if (c >= 1 && allowMerge(nodes[c], nodes[c - 1], fill)) {
      this.merge(c - 1);
      target = c - 1;
    }
    // target + next
    if (allowMerge(nodes[target], nodes[target + 1], fill)) this.merge(target);
  }
}

export class ListValue implements DataObject {
  declare readonly objType: ObjType.List;
  /**
   * The elements, in one of three forms (the only field: a list loaded from
   * an RDB costs this object and one string):
   *  - a string: the whole list as a Valkey listpack (listpack.ts), the form
   *    lists take when loaded from an RDB, RESTOREd or copied (the RDB blob
   *    itself, written back as is). Read in place; the first change turns it
   *    into one of the two others. Never empty.
   *  - an array of at most TINY_MAX strings: a small listpack being changed,
   *    the strings the commands handed in, so short lists (queues that stay
   *    near empty, small feeds) push, pop and index without packing and
   *    decoding;
   *  - a QList: packed nodes (a bigger listpack, or a quicklist).
   * Only the representation changes: sizes, limits and conversions are
   * Valkey's listpack ones throughout.
   */
  d: string | string[] | QList = NO_ITEMS;

  /**
   * A list of `items` head to tail, as pushAll(items, 0, false, fill) on an
   * empty list builds it (RDB load, RESTORE), held as one listpack string
   * when it has the listpack encoding.
   */
  static fromItems(items: string[], fill: number): ListValue {
    const l = new ListValue();
    const n = items.length;
    if (n === 0) return l;
    let add = 0;
    for (let i = 0; i < n; i++) add += items[i].length;
    if (!exceedsLimit(fill, LP_EMPTY + add, n)) {
      l.d = lpFromItems(items);
      return l;
    }
    l.pushAll(items, 0, false, fill);
    return l;
  }

  /**
   * The list a listpack blob holds (a one-node RDB quicklist, a RESTORE
   * payload), keeping the blob itself when the list stays a listpack; null
   * when the blob is corrupt. Same encoding as fromItems of its elements.
   */
  static fromListpack(lp: string, fill: number): ListValue | null {
    const n = lpValidate(lp);
    if (n < 0) return null;
    if (n === 0) return new ListValue();
    let add = 0;
    for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) add += lpStrBounds(lp, p) ? strLen : String(lpInt(lp, p)).length;
    if (exceedsLimit(fill, LP_EMPTY + add, n) || lpLen(lp) !== n) return ListValue.fromItems(lpStrings(lp, []), fill);
    const l = new ListValue();
    l.d = lp;
    return l;
  }

  get length(): number {
    const d = this.d;
    if (typeof d === 'string') return lpLen(d);
    return d.length;
  }

  /** True when the list has the quicklist encoding. */
  get quick(): boolean {
    const d = this.d;
    return d instanceof QList && d.quick;
  }

  /** Node limit of a quicklist (Valkey keeps it per list; DEBUG OBJECT shows it). */
  get qfill(): number {
    const d = this.d;
    return d instanceof QList ? d.qfill : -2;
  }

  encoding(): string {
    return this.quick ? 'quicklist' : 'listpack';
  }

  /**
   * The chunks from head to tail, for readers outside this file (DEBUG,
   * MEMORY USAGE): a list in another form shows as one packed node made on the spot.
   */
  get nodes(): QNode[] {
    const d = this.d;
    if (d instanceof QList) return d.qn;
    return [QNode.of(typeof d === 'string' ? lpStrings(d, []) : d)];
  }

  /**
   * The whole list as one listpack string when it has the listpack encoding
   * (RDB, DUMP), else null. With `compact`, the list keeps that string as its
   * form (what an RDB writer builds anyway): a list last changed by commands
   * takes the small form after a save, and its next change unpacks it again.
   */
  listpack(compact = false): string | null {
    const d = this.d;
    if (typeof d === 'string') return d;
    let lp: string;
    if (Array.isArray(d)) {
      if (d.length === 0) return lpFromItems(d);
      lp = lpFromItems(d);
    } else {
      if (d.quick) return null;
      if (d.length === 0) return lpFromItems([]);
      lp = lpFromItems(d.qn[0].toArray());
    }
    if (compact) this.d = lp;
    return lp;
  }

  /** A copy: a listpack becomes (or stays) one listpack string, shared with this list when it is one. */
  clone(): ListValue {
    const l = new ListValue();
    const d = this.d;
    if (d instanceof QList && d.quick) l.d = d.copy();
    else if (this.length > 0) l.d = this.listpack() as string;
    return l;
  }

  /** The list in a form that can change: a listpack string becomes a tiny array or one packed node. */
  private mut(): string[] | QList {
    const d = this.d;
    if (typeof d !== 'string') return d;
    const n = lpLen(d);
    let m: string[] | QList;
    if (n <= TINY_MAX) {
      // tinyArray's shape, filled straight from the listpack (never empty).
      let p = lpFirst(d);
      const f = lpStr(d, p);
      const a = [f, f, f, f, f, f, f, f];
      for (let i = 1; i < n; i++) {
        p = lpNext(d, p);
        a[i] = lpStr(d, p);
      }
      a.length = n;
      m = a;
    } else m = new QList([QNode.of(lpStrings(d, []))], false, -2, n);
    this.d = m;
    return m;
  }

  /**
   * Packs a tiny list into one node (it is about to grow past TINY_MAX, change
   * shape, or convert), optionally with `room` free bytes at one end.
   */
  private untiny(room = 0, head = false): QList {
    const t = this.d as string[];
    const q = new QList([QNode.of(t, room, head)], false, -2, t.length);
    this.d = q;
    return q;
  }

  /** A packed listpack that is down to TINY_LOW elements goes back to strings. */
  private retiny(q: QList): void {
    if (q.quick || q.length > TINY_LOW) return;
    const items = q.qn[0].toArray();
    this.d = items.length === 0 ? NO_ITEMS : tinyArray(items, items.length);
  }

  /** Bytes of the listpack (or of every quicklist node together). */
  bytes(): number {
    const d = this.d;
    if (typeof d === 'string') return d.length;
    if (Array.isArray(d)) return tinyBytes(d);
    let b = 0;
    for (const n of d.qn) b += n.bytes;
    return b;
  }

  // ------------------------------------------------------------ conversions

  /**
   * Before adding elements whose lengths sum to `addBytes` (`addCount` of
   * them): a listpack that would go over the limit becomes a quicklist.
   * Puts a listpack string in a form that can change (a change follows).
   */
  growCheck(fill: number, addBytes: number, addCount: number): void {
    let d = this.d;
    if (typeof d === 'string') d = this.mut();
    let q: QList;
    if (Array.isArray(d)) {
      const n = d.length + addCount;
      if (!exceedsLimit(fill, tinyBound(d) + addBytes, n)) return;
      if (!exceedsLimit(fill, tinyBytes(d) + addBytes, n)) return;
      q = this.untiny();
    } else {
      q = d;
      if (q.quick) return;
      const node = q.qn[0];
      if (!exceedsLimit(fill, node.bytes + addBytes, node.count + addCount)) return;
    }
    q.quick = true;
    q.qfill = fill;
    if (q.length === 0) q.qn = [];
  }

  /** After removing elements: a quicklist down to one small node becomes a listpack. */
  shrinkCheck(fill: number): void {
    const d = this.d;
    if (!(d instanceof QList)) return;
    if (!d.quick) {
      if (d.length <= TINY_LOW) this.retiny(d);
      return;
    }
    if (d.qn.length !== 1) return;
    const [sz, cnt] = nodeLimits(fill);
    const n = d.qn[0];
    if (n.bytes > Math.floor(sz / 2) || d.length > Math.floor(cnt / 2)) return;
    d.quick = false;
    this.retiny(d);
  }

  // ------------------------------------------------------------ ends

  /** Pushes one element at the head or tail (call growCheck first). */
  push(s: string, head: boolean): void {
    let d = this.d;
    if (typeof d === 'string') d = this.mut();
    let q: QList;
    if (Array.isArray(d)) {
      const n = d.length;
      if (n < TINY_MAX) {
        // One element: an exact array (most single-element lists stay that
        // way); the second one moves them into an array with room for 8.
        if (n === 0) this.d = [s];
        else if (n === 1) this.d = head ? tinyPair(s, d[0]) : tinyPair(d[0], s);
        else if (head) d.unshift(s);
        else d.push(s);
        return;
      }
      // Outgrown: pack with room for this push and the next ones (as room() would give).
      const need = packedSize(s.length);
      q = this.untiny(need + Math.max(need, 48), head);
    } else q = d;
    const eb = entryBytes(s);
    q.length++;
    const nodes = q.qn;
    if (!q.quick) {
      if (head) nodes[0].pushHead(s, eb);
      else nodes[0].pushTail(s, eb);
      return;
    }
    const end = head ? nodes[0] : nodes[nodes.length - 1];
    if (allowInsert(end, q.qfill, s.length)) {
      if (head) end.pushHead(s, eb);
      else end.pushTail(s, eb);
      return;
    }
    // The end node is full: it stops being an end, so trim it to size. The new
    // end node will most likely fill up like it did: give it as much room at
    // once, so a long run of pushes leaves no trail of outgrown buffers.
    let n: QNode;
    if (end !== undefined) {
      const used = end.e - end.s;
      end.fit();
      n = QNode.withRoom(Math.max(64, used), head);
    } else n = QNode.empty();
    if (head) {
      n.pushHead(s, eb);
      nodes.unshift(n);
    } else {
      n.pushTail(s, eb);
      nodes.push(n);
    }
  }

  /** Pushes elements argv[from..] one by one, like LPUSH/RPUSH (conversion included). */
  pushAll(argv: string[], from: number, head: boolean, fill: number): void {
    let add = 0;
    for (let i = from; i < argv.length; i++) add += argv[i].length;
    this.growCheck(fill, add, argv.length - from);
    const d = this.d as string[] | QList;
    if (Array.isArray(d)) {
      if (d.length + argv.length - from > TINY_MAX) {
        // Too many for the tiny form: pack once, with room for all of them.
        let size = 0;
        for (let i = from; i < argv.length; i++) size += packedSize(argv[i].length);
        this.untiny(size, head);
      }
    } else if (!d.quick && argv.length - from > 1) {
      // A listpack getting a batch: one exact growth instead of several.
      let size = 0;
      for (let i = from; i < argv.length; i++) size += packedSize(argv[i].length);
      d.qn[0].reserve(size, head);
    }
    for (let i = from; i < argv.length; i++) this.push(argv[i], head);
  }

  /** Removes and returns the head or tail element (undefined when empty). Caller runs shrinkCheck. */
  pop(head: boolean): string | undefined {
    let d = this.d;
    if (typeof d === 'string') d = this.mut();
    if (Array.isArray(d)) {
      const n = d.length - 1;
      if (n < 0) return undefined;
      if (!head) return d.pop();
      // Not shift(): that trims a slot off the front of the array for good.
      const v = d[0];
      for (let i = 0; i < n; i++) d[i] = d[i + 1];
      d.pop();
      return v;
    }
    if (d.length === 0) return undefined;
    const nodes = d.qn;
    const n = head ? nodes[0] : nodes[nodes.length - 1];
    const s = head ? n.popHead() : n.popTail();
    d.length--;
    if (n.count === 0 && d.quick) {
      if (head) nodes.shift();
      else nodes.pop();
    }
    return s;
  }

  /** Pops up to `count` elements from one end, in popping order. */
  popMany(count: number, head: boolean): string[] {
    const out: string[] = [];
    while (count-- > 0 && this.length > 0) out.push(this.pop(head) as string);
    return out;
  }

  // ------------------------------------------------------------ positions

  /** Element at an index (negative counts from the tail), or undefined. */
  get(index: number): string | undefined {
    const d = this.d;
    const len = d.length;
    if (typeof d === 'string') {
      const n = lpLen(d);
      if (index < 0) index += n;
      if (index < 0 || index >= n) return undefined;
      return lpStr(d, lpSeek(d, index <= n >> 1 ? index : index - n));
    }
    if (index < 0) index += len;
    if (index < 0 || index >= len) return undefined;
    if (Array.isArray(d)) return d[index];
    const nodes = d.qn;
    if (index === 0 || nodes.length === 1) return nodes[0].at(index);
    const [k, off] = d.locate(index);
    return nodes[k].at(off);
  }

  /** Replaces the element at an index; false when out of range (LSET). */
  set(index: number, s: string, fill: number): boolean {
    this.growCheck(fill, s.length, 1);
    const d = this.d as string[] | QList;
    const len = d.length;
    if (index < 0) index += len;
    if (index < 0 || index >= len) return false;
    if (Array.isArray(d)) {
      d[index] = s;
      return true;
    }
    const [k, off] = d.locate(index);
    d.qn[k].splice(off, 1, [s]);
    this.shrinkCheck(fill);
    return true;
  }

  /**
   * Calls fn(buf, off, len, ctx) for the elements from index `start` to `end`
   * inclusive (already clamped, 0 <= start <= end < length), optionally tail
   * first. The element is the bytes buf[off, off+len), valid during the call.
   */
  forRange<T>(start: number, end: number, reverse: boolean, fn: EntryVisitor<T>, ctx: T): void {
    const d = this.d;
    if (typeof d === 'string') {
      // The bytes of the range at their listpack offsets in a Buffer; integers as digits in another.
      const size = d.length;
      if (size > lpScratch.length) lpScratch = Buffer.allocUnsafeSlow(size);
      const lb = lpScratch; // fn may not keep it: the next list overwrites it
      const half = lpLen(d) >> 1;
      const a = lpSeek(d, start <= half ? start : start - lpLen(d));
      const b = lpSeek(d, end <= half ? end : end - lpLen(d));
      const e = lpSkip(d, b);
      if (a === LP_HDR && e === size - 1) lb.latin1Write(d, 0, size);
      else lb.latin1Write(d.slice(a, e), a, e - a);
      let p = reverse ? b : a;
      for (let left = end - start + 1; left > 0; left--) {
        if (lpStrBounds(d, p)) fn(lb, strStart, strLen, ctx);
        else {
          const v = String(lpInt(d, p));
          const n = intScratch.latin1Write(v, 0);
          fn(intScratch, 0, n, ctx);
        }
        p = reverse ? lpPrev(d, p) : lpNext(d, p);
      }
      return;
    }
    if (Array.isArray(d)) {
      for (let i = reverse ? end : start; reverse ? i >= start : i <= end; reverse ? i-- : i++) {
        const v = d[i];
        const len = v.length;
        if (len > scratch.length) scratch = Buffer.allocUnsafeSlow(len);
        const buf = scratch; // fn may not keep it: the next element overwrites it
        if (len < 32) for (let j = 0; j < len; j++) buf[j] = v.charCodeAt(j);
        else buf.latin1Write(v, 0, len);
        fn(buf, 0, len, ctx);
      }
      return;
    }
    let left = end - start + 1;
    const nodes = d.qn;
    let [k, i] = d.locate(reverse ? end : start);
    let node = nodes[k];
    let buf = node.buf;
    if (!reverse) {
      let p = node.offsetAt(i);
      for (;;) {
        while (p < node.e) {
          p = readFwd(buf, p);
          fn(buf, rdOff, rdLen, ctx);
          if (--left === 0) return;
        }
        node = nodes[++k];
        buf = node.buf;
        p = node.s;
      }
    } else {
      let p = node.offsetAt(i + 1);
      for (;;) {
        while (p > node.s) {
          p = readBack(buf, p);
          fn(buf, rdOff, rdLen, ctx);
          if (--left === 0) return;
        }
        node = nodes[--k];
        buf = node.buf;
        p = node.e;
      }
    }
  }

  /**
   * Elements from index `start` to `end` inclusive (already clamped,
   * 0 <= start <= end < length), optionally tail first.
   */
  range(start: number, end: number, reverse = false): string[] {
    const d = this.d;
    if (typeof d === 'string') {
      const out: string[] = [];
      let p = lpSeek(d, reverse ? end : start);
      for (let left = end - start + 1; left > 0; left--) {
        out.push(lpStr(d, p));
        p = reverse ? lpPrev(d, p) : lpNext(d, p);
      }
      return out;
    }
    if (Array.isArray(d)) {
      const out = d.slice(start, end + 1);
      return reverse ? out.reverse() : out;
    }
    const out: string[] = [];
    this.forRange(start, end, reverse, collect, out);
    return out;
  }

  /** Every element, head to tail. */
  toArray(): string[] {
    const d = this.d;
    if (typeof d === 'string') return lpStrings(d, []);
    if (Array.isArray(d)) return d.slice();
    const out: string[] = [];
    for (const n of d.qn) n.toArray(out);
    return out;
  }

  // ------------------------------------------------------------ middle

  /** Deletes `count` elements from index `start` (non-negative, in range). */
  deleteRange(start: number, count: number): void {
    if (count <= 0) return;
    const d = this.mut();
    if (start + count > d.length) count = d.length - start;
    if (count <= 0) return;
    if (Array.isArray(d)) {
      d.splice(start, count);
      return;
    }
    let [k, off] = d.locate(start);
    const nodes = d.qn;
    while (count > 0) {
      const n = nodes[k];
      const del = Math.min(count, n.count - off);
      d.length -= del;
      count -= del;
      if (off === 0 && del === n.count) {
        if (d.quick) nodes.splice(k, 1);
        else nodes[0] = QNode.empty();
        continue;
      }
      n.splice(off, del, []);
      k++;
      off = 0;
    }
  }

  /** LTRIM's work: drops `left` elements from the head and `right` from the tail. */
  trim(left: number, right: number): void {
    this.deleteRange(0, left);
    if (right > 0) this.deleteRange(this.length - right, right);
  }

  /**
   * Removes elements equal to `s`: all when count is 0, the first `count`
   * from the head when positive, from the tail when negative. Returns how many.
   */
  remove(s: string, count: number): number {
    let removed = 0;
    const limit = Math.abs(count);
    let d = this.d;
    if (typeof d === 'string') {
      if (lpFind(d, s) < 0) return 0;
      d = this.mut();
    }
    if (Array.isArray(d)) {
      const t = d;
      if (count >= 0) {
        for (let i = 0; i < t.length && (limit === 0 || removed < limit); i++) {
          if (t[i] === s) {
            t.splice(i--, 1);
            removed++;
          }
        }
      } else {
        for (let i = t.length - 1; i >= 0 && removed < limit; i--) {
          if (t[i] === s) {
            t.splice(i, 1);
            removed++;
          }
        }
      }
      return removed;
    }
    const q = d;
    const nodes = q.qn;
    const eb = entryBytes(s);
    const needle = Buffer.from(s, 'latin1');
    const offs: number[] = [];
    if (count >= 0) {
      for (let k = 0; k < nodes.length && (limit === 0 || removed < limit); k++) {
        const n = nodes[k];
        const buf = n.buf;
        offs.length = 0;
        for (let p = n.s; p < n.e; ) {
          const nx = readFwd(buf, p);
          if (sameBytes(buf, rdOff, rdLen, needle)) {
            offs.push(p);
            if (++removed === limit) break;
          }
          p = nx;
        }
        if (offs.length === 0) continue;
        n.dropAt(offs, eb);
        q.length -= offs.length;
        if (n.count === 0 && q.quick) nodes.splice(k--, 1);
      }
    } else {
      for (let k = nodes.length - 1; k >= 0 && removed < limit; k--) {
        const n = nodes[k];
        const buf = n.buf;
        offs.length = 0;
        for (let p = n.e; p > n.s; ) {
          p = readBack(buf, p);
          if (sameBytes(buf, rdOff, rdLen, needle)) {
            offs.push(p);
            if (++removed === limit) break;
          }
        }
        if (offs.length === 0) continue;
        offs.reverse();
        n.dropAt(offs, eb);
        q.length -= offs.length;
        if (n.count === 0 && q.quick) nodes.splice(k, 1);
      }
    }
    return removed;
  }

  /**
   * LINSERT: puts `s` before or after the first element equal to `pivot`.
   * Returns false when the pivot is absent. The listpack conversion check is
   * done first, whatever the outcome, like Valkey.
   */
  insert(pivot: string, s: string, after: boolean, fill: number): boolean {
    this.growCheck(fill, s.length, 1);
    const d = this.d as string[] | QList;
    let q: QList;
    if (Array.isArray(d)) {
      const i = d.indexOf(pivot);
      if (i < 0) return false;
      if (d.length < TINY_MAX) {
        d.splice(after ? i + 1 : i, 0, s);
        return true;
      }
      q = this.untiny();
    } else q = d;
    const nodes = q.qn;
    const needle = Buffer.from(pivot, 'latin1');
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k];
      const buf = n.buf;
      let off = 0;
      for (let p = n.s; p < n.e; off++) {
        p = readFwd(buf, p);
        if (sameBytes(buf, rdOff, rdLen, needle)) {
          q.insertAt(k, off, s, after);
          return true;
        }
      }
    }
    return false;
  }

  /**
   * LPOS: indexes of matches of `s`, skipping the first rank-1 matches,
   * scanning from the tail when `fromTail`, at most `count` results (0: all),
   * looking at no more than `maxlen` elements (0: all).
   */
  positions(s: string, rank: number, fromTail: boolean, count: number, maxlen: number): number[] {
    const out: number[] = [];
    const d = this.d;
    if (typeof d === 'string') {
      let matches = 0;
      const len = lpLen(d);
      let p = fromTail ? lpLast(d) : lpFirst(d);
      for (let seen = 0; seen < len; seen++) {
        if (maxlen !== 0 && seen >= maxlen) break;
        if (lpEq(d, p, s) && ++matches >= rank) {
          out.push(fromTail ? len - 1 - seen : seen);
          if (count !== 0 && out.length >= count) break;
        }
        p = fromTail ? lpPrev(d, p) : lpNext(d, p);
      }
      return out;
    }
    if (Array.isArray(d)) {
      const t = d;
      let matches = 0;
      const len = t.length;
      for (let seen = 0; seen < len; seen++) {
        if (maxlen !== 0 && seen >= maxlen) break;
        const i = fromTail ? len - 1 - seen : seen;
        if (t[i] === s && ++matches >= rank) {
          out.push(i);
          if (count !== 0 && out.length >= count) break;
        }
      }
      return out;
    }
    const nodes = d.qn;
    const needle = Buffer.from(s, 'latin1');
    let seen = 0;
    let matches = 0;
    const len = d.length;
    if (!fromTail) {
      for (let k = 0; k < nodes.length; k++) {
        const n = nodes[k];
        const buf = n.buf;
        for (let p = n.s; p < n.e; seen++) {
          if (maxlen !== 0 && seen >= maxlen) return out;
          p = readFwd(buf, p);
          if (sameBytes(buf, rdOff, rdLen, needle) && ++matches >= rank) {
            out.push(seen);
            if (count !== 0 && out.length >= count) return out;
          }
        }
      }
    } else {
      for (let k = nodes.length - 1; k >= 0; k--) {
        const n = nodes[k];
        const buf = n.buf;
        for (let p = n.e; p > n.s; seen++) {
          if (maxlen !== 0 && seen >= maxlen) return out;
          p = readBack(buf, p);
          if (sameBytes(buf, rdOff, rdLen, needle) && ++matches >= rank) {
            out.push(len - seen - 1);
            if (count !== 0 && out.length >= count) return out;
          }
        }
      }
    }
    return out;
  }

  /** Internal consistency check for tests: lengths, bytes, packing and node shape. */
  check(): void {
    const d = this.d;
    if (NO_ITEMS.length !== 0) throw new Error('the shared empty array changed');
    if (typeof d === 'string') {
      const n = lpValidate(d);
      if (n <= 0 || n !== lpLen(d)) throw new Error(`listpack string: ${n} entries, header ${lpLen(d)}`);
      if (n > 65534) throw new Error('listpack string too long');
      return;
    }
    if (Array.isArray(d)) {
      if (d.length > TINY_MAX) throw new Error(`tiny list of ${d.length}`);
      return;
    }
    let total = 0;
    for (const n of d.qn) {
      if (n.s < 0 || n.s > n.e || n.e > n.buf.length) throw new Error(`node bounds ${n.s} ${n.e} ${n.buf.length}`);
      const fwd = n.toArray();
      const back: string[] = [];
      for (let p = n.e; p > n.s; ) {
        p = readBack(n.buf, p);
        back.push(readStr(n.buf, rdOff, rdLen));
      }
      back.reverse();
      if (fwd.length !== n.count) throw new Error(`node count ${n.count} != ${fwd.length}`);
      if (back.length !== fwd.length || back.some((v, i) => v !== fwd[i])) throw new Error('node walks differ');
      total += n.count;
      const b = QNode.of(fwd).bytes;
      if (b !== n.bytes) throw new Error(`node bytes ${n.bytes} != ${b}`);
      if (d.quick && n.count === 0) throw new Error('empty quicklist node');
    }
    if (total !== d.length) throw new Error(`length ${d.length} != ${total}`);
    if (!d.quick && d.qn.length !== 1) throw new Error('listpack with several nodes');
  }

  /** Number of nodes (quicklist) for tests and DEBUG-like introspection. */
  nodeCount(): number {
    const d = this.d;
    return d instanceof QList ? d.qn.length : 1;
  }

  /** Bytes of memory the list's elements take in their current form (for tests and estimates). */
  allocatedBytes(): number {
    const d = this.d;
    if (typeof d === 'string') return d.length;
    let b = 0;
    if (Array.isArray(d)) for (const v of d) b += packedSize(v.length);
    else for (const n of d.qn) b += n.buf.length;
    return b;
  }
}
(ListValue.prototype as { objType: ObjType }).objType = ObjType.List;
