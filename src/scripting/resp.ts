// Conversions between the replies commands write (RESP bytes in a client's
// output buffer) and the engine's ReplyValue, both ways.
//
// RESP -> Lua (what redis.call returns), as Valkey: integers -> numbers,
// bulk -> strings, null bulk / null array -> false (RESP2), status -> {ok=},
// error -> {err=}, arrays -> tables; after redis.setresp(3) also maps, sets,
// doubles, booleans, null (nil), big numbers and verbatim strings.
// Lua -> RESP (what the script returns) is done by the engine into a
// ReplyValue; writeReply() below writes it in the caller's protocol.
import type { ReplyValue } from './engine.js';
import type { ReplyWriter } from '../protocol/reply.js';

/** A read position in a RESP buffer. */
interface Cursor {
  p: number;
}

const pos: Cursor = { p: 0 };

function readLine(buf: Buffer, end: number): string {
  const start = pos.p;
  let i = start;
  while (i < end && buf[i] !== 13) i++;
  pos.p = i + 2;
  return buf.latin1Slice(start, i);
}

/** The signed length line at cur.p ("-1\r\n", "12\r\n"); moves cur past it. */
function readLenLine(buf: Buffer, cur: Cursor): number {
  let i = cur.p;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  let n = 0;
  while (buf[i] !== 13) n = n * 10 + (buf[i++] - 48);
  cur.p = i + 2;
  return neg ? -n : n;
}

function parseOne(buf: Buffer, end: number): ReplyValue {
  const t = buf[pos.p++];
  switch (t) {
    case 43: // +
      return { ok: Buffer.from(readLine(buf, end), 'latin1') };
    case 45: // -
      return { err: Buffer.from(readLine(buf, end), 'latin1') };
    case 58: {
      // :
      const s = readLine(buf, end);
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : BigInt(s);
    }
    case 36: {
      // $
      const n = readLenLine(buf, pos);
      if (n < 0) return false;
      const b = Buffer.from(buf.subarray(pos.p, pos.p + n));
      pos.p += n + 2;
      return b;
    }
    case 42: // *
    case 62: {
      // > (push: as an array)
      const n = readLenLine(buf, pos);
      if (n < 0) return false;
      const a: ReplyValue[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = parseOne(buf, end);
      return a;
    }
    case 37: {
      // %
      const n = readLenLine(buf, pos);
      const m: [ReplyValue, ReplyValue][] = new Array(n);
      for (let i = 0; i < n; i++) {
        const k = parseOne(buf, end);
        m[i] = [k, parseOne(buf, end)];
      }
      return { map: m };
    }
    case 126: {
      // ~
      const n = readLenLine(buf, pos);
      const a: ReplyValue[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = parseOne(buf, end);
      return { set: a };
    }
    case 95: // _
      pos.p += 2;
      return null;
    case 35: {
      // #
      const v = buf[pos.p] === 116;
      pos.p += 3;
      return v;
    }
    case 44: {
      // ,
      const s = readLine(buf, end);
      return { double: s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s) };
    }
    case 40: // (
      return { big_number: Buffer.from(readLine(buf, end), 'latin1') };
    case 61: {
      // =
      const n = readLenLine(buf, pos);
      const format = Buffer.from(buf.subarray(pos.p, pos.p + 3));
      const string = Buffer.from(buf.subarray(pos.p + 4, pos.p + n));
      pos.p += n + 2;
      return { verbatim_string: { format, string } };
    }
    case 124: {
      // | attribute: skipped, the reply follows
      const n = readLenLine(buf, pos);
      for (let i = 0; i < 2 * n; i++) parseOne(buf, end);
      return parseOne(buf, end);
    }
    default:
      throw new Error(`unexpected reply type byte ${t}`);
  }
}

/**
 * The worker's form of the same marking (see NULL_MARK): parseReply() gives
 * null for a RESP3 null; this returns the value the redis.call wrapper expects.
 */
export function markNulls(v: ReplyValue): ReplyValue {
  if (v === null) return { ok: Buffer.from(NULL_MARK) };
  let n = 0;
  const walk = (x: ReplyValue): ReplyValue => {
    if (x === null) {
      n++;
      return { ok: Buffer.from(NULL_MARK) };
    }
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x === 'object' && !Buffer.isBuffer(x)) {
      const o = x as Record<string, unknown>;
      if ('map' in o) return { map: (o.map as [ReplyValue, ReplyValue][]).map(([k, val]) => [walk(k), walk(val)] as [ReplyValue, ReplyValue]) };
      if ('set' in o) return { set: (o.set as ReplyValue[]).map(walk) };
    }
    return x;
  };
  const out = walk(v);
  return n === 0 ? v : [{ ok: Buffer.from(NESTED_MARK) }, out];
}

/** Parses the first reply in buf[0, end). */
export function parseReply(buf: Buffer, end: number): ReplyValue {
  pos.p = 0;
  return parseOne(buf, end);
}

/** An error reply value's full text ("CODE message"). */
export function errorText(v: { err: Buffer; code?: Buffer }): string {
  const m = v.err.latin1Slice();
  return v.code !== undefined && v.code.length > 0 ? `${v.code.latin1Slice()} ${m}` : m;
}

/** Writes what a script returned in the caller's protocol. */
export function writeReply(c: ReplyWriter, v: ReplyValue): void {
  if (v === null) return c.addNull();
  switch (typeof v) {
    case 'number':
      return c.addInt(v);
    case 'bigint':
      return c.addBigInt(v);
    case 'boolean':
      return c.addBool(v);
  }
  if (Buffer.isBuffer(v)) return c.addBulkBuf(v);
  if (Array.isArray(v)) {
    c.addArrayLen(v.length);
    for (let i = 0; i < v.length; i++) writeReply(c, v[i]);
    return;
  }
  const o = v as Record<string, unknown>;
  if ('ok' in o) return c.addSimple((o.ok as Buffer).latin1Slice().replace(/[\r\n]/g, ' '));
  if ('err' in o) return c.addError(errorText(o as { err: Buffer; code?: Buffer }));
  if ('double' in o) {
    const d = o.double as number | null;
    return c.addDouble(d === null ? NaN : d);
  }
  if ('map' in o) {
    const m = o.map as [ReplyValue, ReplyValue][];
    c.addMapLen(m.length);
    for (const [k, val] of m) {
      writeReply(c, k);
      writeReply(c, val);
    }
    return;
  }
  if ('set' in o) {
    const s = o.set as ReplyValue[];
    c.addSetLen(s.length);
    for (const x of s) writeReply(c, x);
    return;
  }
  if ('big_number' in o) return c.addBigNumber((o.big_number as Buffer).latin1Slice());
  if ('verbatim_string' in o) {
    const vs = o.verbatim_string as { format: Buffer; string: Buffer };
    return c.addVerbatim(vs.string.latin1Slice(), vs.format.latin1Slice());
  }
  c.addNull();
}

// ------------------------------------------------------------------ the engine's wire format
//
// lua-redis-wasm passes replies between JavaScript and the VM as tagged
// values: u8 type, u32le count-or-length, payload. The package's own codec
// builds them with Buffer.concat per value; the code below writes them into
// one reused buffer straight from the RESP a command wrote (redis.call), and
// reads a script's result straight out of the VM's memory. Same mapping as
// parseReply() + the package's encodeReplyValue(): a null bulk or null array
// becomes false (a boolean). A RESP3 null (only written after
// redis.setresp(3)) must reach the script as nil, which the engine cannot
// produce (it turns every null into false): it is sent as the status
// NULL_MARK, and a reply that holds nulls deeper down is sent as the pair
// {status NESTED_MARK, reply}; the redis.call wrapper of RESP3 scripts
// (engine.ts) turns them into nil.

const W_NULL = 0x00;
const W_INT = 0x01;
const W_BULK = 0x02;
const W_ARRAY = 0x03;
const W_STATUS = 0x04;
const W_ERROR = 0x05;
export const W_SCRIPT_ERROR = 0x06;
const W_BOOL = 0x07;
const W_DOUBLE = 0x08;
const W_MAP = 0x09;
const W_SET = 0x0a;
const W_BIG_NUMBER = 0x0b;
const W_VERBATIM = 0x0c;

const NULL_MARK = Buffer.from('\u0001N', 'latin1');
const NESTED_MARK = Buffer.from('\u0001W', 'latin1');

/** A reusable encoder of the engine's reply format. */
export class WireWriter implements Cursor {
  buf: Buffer = Buffer.allocUnsafe(4096);
  len = 0;
  /** Read position in the RESP being encoded (see resp()). */
  p = 0;
  /** RESP3 nulls met while encoding the current reply. */
  private nulls = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  private head(type: number, n: number): void {
    this.room(5);
    const b = this.buf;
    const o = this.len;
    b[o] = type;
    b[o + 1] = n;
    b[o + 2] = n >>> 8;
    b[o + 3] = n >>> 16;
    b[o + 4] = n >>> 24;
    this.len = o + 5;
  }

  private bytes(src: Buffer, from: number, to: number): void {
    const n = to - from;
    this.room(n);
    const b = this.buf;
    const o = this.len;
    if (n <= 64) for (let i = 0; i < n; i++) b[o + i] = src[from + i];
    else src.copy(b, o, from, to);
    this.len = o + n;
  }

  private int(n: number | bigint): void {
    this.head(W_INT, 8);
    this.room(8);
    if (typeof n === 'number') {
      this.buf.writeBigInt64LE(BigInt(n), this.len);
    } else this.buf.writeBigInt64LE(BigInt.asIntN(64, n), this.len);
    this.len += 8;
  }

  /** Small integers without a BigInt. */
  private smallInt(n: number): void {
    this.head(W_INT, 8);
    this.room(8);
    const b = this.buf;
    const o = this.len;
    const hi = n < 0 ? 0xff : 0;
    b[o] = n;
    b[o + 1] = n >> 8;
    b[o + 2] = n >> 16;
    b[o + 3] = n >> 24;
    b[o + 4] = hi;
    b[o + 5] = hi;
    b[o + 6] = hi;
    b[o + 7] = hi;
    this.len = o + 8;
  }

  private bool(v: boolean): void {
    this.head(W_BOOL, 1);
    this.room(1);
    this.buf[this.len++] = v ? 1 : 0;
  }

  /** Encodes the first RESP reply in buf[0, end) (what a command wrote into a fake client). */
  resp(buf: Buffer, end: number): void {
    this.len = 0;
    this.p = 0;
    this.nulls = 0;
    this.one(buf, end);
    if (this.nulls !== 0 && buf[0] !== 95) {
      // Nulls inside an aggregate: {NESTED_MARK, reply}.
      const body = Buffer.from(this.buf.subarray(0, this.len));
      this.len = 0;
      this.head(W_ARRAY, 2);
      this.blob(W_STATUS, NESTED_MARK);
      this.bytes(body, 0, body.length);
    }
  }

  private line(buf: Buffer, end: number): number {
    let i = this.p;
    while (i < end && buf[i] !== 13) i++;
    return i;
  }

  private one(buf: Buffer, end: number): void {
    const t = buf[this.p++];
    switch (t) {
      case 43: // +
      case 45: {
        // -
        const s = this.p;
        const e = this.line(buf, end);
        this.head(t === 43 ? W_STATUS : W_ERROR, e - s);
        this.bytes(buf, s, e);
        this.p = e + 2;
        return;
      }
      case 58: {
        // :
        const s = this.p;
        const e = this.line(buf, end);
        this.p = e + 2;
        if (e - s <= 9) {
          let i = s;
          let neg = false;
          if (buf[i] === 45) {
            neg = true;
            i++;
          }
          let n = 0;
          while (i < e) n = n * 10 + (buf[i++] - 48);
          this.smallInt(neg ? -n : n);
          return;
        }
        const str = buf.latin1Slice(s, e);
        const n = Number(str);
        this.int(Number.isSafeInteger(n) ? n : BigInt(str));
        return;
      }
      case 36: {
        // $
        const n = readLenLine(buf, this);
        if (n < 0) return this.bool(false);
        this.head(W_BULK, n);
        this.bytes(buf, this.p, this.p + n);
        this.p += n + 2;
        return;
      }
      case 42: // *
      case 62: {
        // > (push: as an array)
        const n = readLenLine(buf, this);
        if (n < 0) return this.bool(false);
        this.head(W_ARRAY, n);
        for (let i = 0; i < n; i++) this.one(buf, end);
        return;
      }
      case 37: {
        // %
        const n = readLenLine(buf, this);
        this.head(W_MAP, n);
        for (let i = 0; i < 2 * n; i++) this.one(buf, end);
        return;
      }
      case 126: {
        // ~
        const n = readLenLine(buf, this);
        this.head(W_SET, n);
        for (let i = 0; i < n; i++) this.one(buf, end);
        return;
      }
      case 95: // _
        this.p += 2;
        this.nulls++;
        return this.blob(W_STATUS, NULL_MARK);
      case 35: {
        // #
        const v = buf[this.p] === 116;
        this.p += 3;
        return this.bool(v);
      }
      case 44: {
        // ,
        const s = this.p;
        const e = this.line(buf, end);
        this.p = e + 2;
        const str = buf.latin1Slice(s, e);
        this.head(W_DOUBLE, 8);
        this.room(8);
        this.buf.writeDoubleLE(str === 'inf' ? Infinity : str === '-inf' ? -Infinity : Number(str), this.len);
        this.len += 8;
        return;
      }
      case 40: {
        // (
        const s = this.p;
        const e = this.line(buf, end);
        this.p = e + 2;
        this.head(W_BIG_NUMBER, e - s);
        this.bytes(buf, s, e);
        return;
      }
      case 61: {
        // = (verbatim: 3 format bytes, ':', the string)
        const n = readLenLine(buf, this);
        const s = this.p;
        this.head(W_VERBATIM, 4 + 3 + Math.max(0, n - 4));
        this.room(4);
        this.buf.writeUInt32LE(3, this.len);
        this.len += 4;
        this.bytes(buf, s, s + 3);
        this.bytes(buf, s + 4, s + n);
        this.p += n + 2;
        return;
      }
      case 124: {
        // | attribute: skipped, the reply follows
        const n = readLenLine(buf, this);
        const len = this.len;
        for (let i = 0; i < 2 * n; i++) this.one(buf, end);
        this.len = len;
        return this.one(buf, end);
      }
      default:
        throw new Error(`unexpected reply type byte ${t}`);
    }
  }

  /** Encodes a ReplyValue (as the package's encodeReplyValue). */
  value(v: ReplyValue): void {
    this.len = 0;
    this.val(v);
  }

  private val(v: ReplyValue | undefined): void {
    if (v === null || v === undefined) return this.head(W_NULL, 0);
    switch (typeof v) {
      case 'boolean':
        return this.bool(v);
      case 'number':
      case 'bigint':
        return this.int(v);
    }
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.head(W_BULK, b.length);
      return this.bytes(b, 0, b.length);
    }
    if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      this.head(W_BULK, b.length);
      return this.bytes(b, 0, b.length);
    }
    if (Array.isArray(v)) {
      this.head(W_ARRAY, v.length);
      for (let i = 0; i < v.length; i++) this.val(v[i]);
      return;
    }
    const o = v as Record<string, unknown>;
    const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
    if (has('double')) {
      this.head(W_DOUBLE, 8);
      this.room(8);
      this.buf.writeDoubleLE(o.double as number, this.len);
      this.len += 8;
      return;
    }
    if (has('big_number')) return this.blob(W_BIG_NUMBER, toBuf(o.big_number));
    if (has('verbatim_string')) {
      const vs = o.verbatim_string as { format: unknown; string: unknown };
      const f = toBuf(vs.format);
      const s = toBuf(vs.string);
      this.head(W_VERBATIM, 4 + f.length + s.length);
      this.room(4);
      this.buf.writeUInt32LE(f.length, this.len);
      this.len += 4;
      this.bytes(f, 0, f.length);
      return this.bytes(s, 0, s.length);
    }
    if (has('map')) {
      const m = o.map as [ReplyValue, ReplyValue][];
      this.head(W_MAP, m.length);
      for (const [k, x] of m) {
        this.val(k);
        this.val(x);
      }
      return;
    }
    if (has('set')) {
      const s = o.set as ReplyValue[];
      this.head(W_SET, s.length);
      for (const x of s) this.val(x);
      return;
    }
    if (has('ok')) return this.blob(W_STATUS, toBuf(o.ok));
    if (has('err')) {
      const m = toBuf(o.err);
      const code = o.code === undefined || o.code === null ? null : toBuf(o.code);
      if (code === null || code.length === 0) return this.blob(W_ERROR, m);
      this.head(W_ERROR, code.length + 1 + m.length);
      this.bytes(code, 0, code.length);
      this.room(1);
      this.buf[this.len++] = 32;
      return this.bytes(m, 0, m.length);
    }
    throw new TypeError('bulk reply must be a Buffer, Uint8Array, or string');
  }

  private blob(type: number, b: Buffer): void {
    this.head(type, b.length);
    this.bytes(b, 0, b.length);
  }
}

function toBuf(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw new TypeError('reply value must be a Buffer, Uint8Array, or string');
}

const wpos = { p: 0 };

/**
 * Decodes a script's result from the VM's memory (heap[ptr, ptr+len)), as the
 * package's decodeReply (errors split into code and message). Not for
 * REPLY_SCRIPT_ERROR at the top (the caller leaves those to the package).
 */
export function decodeWire(heap: Buffer, ptr: number, len: number): ReplyValue {
  wpos.p = ptr;
  return decodeOne(heap, ptr + len);
}

function decodeOne(h: Buffer, end: number): ReplyValue {
  const o = wpos.p;
  if (o + 5 > end) throw new Error('ERR reply decoding failed');
  const type = h[o];
  const n = h.readUInt32LE(o + 1);
  let c = o + 5;
  switch (type) {
    case W_NULL:
      wpos.p = c;
      return null;
    case W_INT: {
      if (c + 8 > end) throw new Error('ERR reply decoding failed');
      const lo = h.readUInt32LE(c);
      const hi = h.readInt32LE(c + 4);
      wpos.p = c + 8;
      // Within ±2^53 the two halves give the exact value; beyond, a bigint.
      if (hi > -0x200000 && hi < 0x200000) return hi * 0x100000000 + lo;
      const big = h.readBigInt64LE(c);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case W_BULK:
      wpos.p = c + n;
      return Buffer.from(h.subarray(c, c + n));
    case W_STATUS:
      wpos.p = c + n;
      return { ok: Buffer.from(h.subarray(c, c + n)) };
    case W_ERROR:
      wpos.p = c + n;
      return splitError(h, c, c + n);
    case W_ARRAY: {
      wpos.p = c;
      const a: ReplyValue[] = [];
      for (let i = 0; i < n; i++) a.push(decodeOne(h, end));
      return a;
    }
    case W_BOOL:
      if (c + 1 > end) throw new Error('ERR reply decoding failed');
      wpos.p = c + 1;
      return h[c] !== 0;
    case W_DOUBLE:
      if (c + 8 > end) throw new Error('ERR reply decoding failed');
      wpos.p = c + 8;
      return { double: h.readDoubleLE(c) };
    case W_BIG_NUMBER:
      if (c + n > end) throw new Error('ERR reply decoding failed');
      wpos.p = c + n;
      return { big_number: Buffer.from(h.subarray(c, c + n)) };
    case W_VERBATIM: {
      const e = c + n;
      if (c + 4 > end) throw new Error('ERR reply decoding failed');
      const fl = h.readUInt32LE(c);
      c += 4;
      if (c + fl > e || e > end) throw new Error('ERR reply decoding failed');
      const format = Buffer.from(h.subarray(c, c + fl));
      const string = Buffer.from(h.subarray(c + fl, e));
      wpos.p = e;
      return { verbatim_string: { format, string } };
    }
    case W_MAP: {
      wpos.p = c;
      const m: [ReplyValue, ReplyValue][] = [];
      for (let i = 0; i < n; i++) {
        const k = decodeOne(h, end);
        m.push([k, decodeOne(h, end)]);
      }
      return { map: m };
    }
    case W_SET: {
      wpos.p = c;
      const s: ReplyValue[] = [];
      for (let i = 0; i < n; i++) s.push(decodeOne(h, end));
      return { set: s };
    }
    default:
      throw new Error('ERR unknown reply type');
  }
}

/** "CODE message" -> {err, code} when the first word looks like [A-Z][A-Z0-9]*. */
function splitError(h: Buffer, s: number, e: number): ReplyValue {
  let sp = -1;
  for (let i = s; i < e; i++) {
    if (h[i] === 32) {
      sp = i;
      break;
    }
  }
  if (sp > s && h[s] >= 0x41 && h[s] <= 0x5a) {
    let ok = true;
    for (let i = s + 1; i < sp; i++) {
      const ch = h[i];
      if (!((ch >= 0x41 && ch <= 0x5a) || (ch >= 0x30 && ch <= 0x39))) {
        ok = false;
        break;
      }
    }
    if (ok) return { err: Buffer.from(h.subarray(sp + 1, e)), code: Buffer.from(h.subarray(s, sp)) };
  }
  return { err: Buffer.from(h.subarray(s, e)) };
}
