// Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
// BITFIELD_RO. Bits are numbered from the most significant bit of the first
// byte. Values written bit by bit are kept in growable Buffers (the helpers of
// string.ts), so repeated SETBIT past the end grows in amortized O(1).
//
// Valkey 8 has only the AND/OR/XOR/NOT operators for BITOP (the DIFF, DIFF1,
// ANDOR and ONE operators are Redis 8.2 additions Valkey does not have).
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { isStringValue, stringLength, type StringValue, type Value } from '../keyspace/types.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_STRING } from '../server/notify.js';
import { growInPlace, newGrowable } from './string.js';

const E_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
const E_BIT_VALUE = 'ERR bit is not an integer or out of range';
const E_BITPOS_BIT = 'ERR The bit argument must be 1 or 0.';
const E_BITFIELD_TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const E_OVERFLOW_TYPE = 'ERR Invalid OVERFLOW type specified';
const E_BITOP_NOT = 'ERR BITOP NOT must be called with a single source key.';
const E_BITFIELD_RO = 'ERR BITFIELD_RO only supports the GET subcommand';

/** Bits set in each byte value. */
const POP8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP8[i] = (i & 1) + POP8[i >> 1];

/** Case-insensitive match of an argument against a lower-case token. */
function tok(s: string, t: string): boolean {
  const n = t.length;
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if ((s.charCodeAt(i) | 32) !== t.charCodeAt(i)) return false;
  return true;
}

/** Byte i of a stored string value (0 past the end). */
function byteOf(v: StringValue, i: number): number {
  if (typeof v === 'number') v = String(v);
  if (i >= v.length) return 0;
  return typeof v === 'string' ? v.charCodeAt(i) : v[i];
}

/** Bytes [start, end] of a stored string value, without copying Buffers. */
function bytesOf(v: StringValue, start: number, end: number): Uint8Array {
  if (Buffer.isBuffer(v)) return v.subarray(start, end + 1);
  const s = typeof v === 'number' ? String(v) : v;
  return Buffer.from(start === 0 && end === s.length - 1 ? s : s.slice(start, end + 1), 'latin1');
}

/**
 * Parses a bit offset (Valkey's getBitOffsetFromArgument): an integer in
 * [0, proto-max-bulk-len * 8); with `bits` > 0, "#N" means N * bits.
 * Returns -1 after replying the error.
 */
function bitOffset(c: Client, arg: string, bits: number): number {
  const hash = bits > 0 && arg.charCodeAt(0) === 35; /* # */
  const v = parseInt64(hash ? arg.slice(1) : arg);
  if (v === null || typeof v !== 'number' || v < 0) {
    c.addError(E_BIT_OFFSET);
    return -1;
  }
  const off = hash ? v * bits : v;
  if (!Number.isSafeInteger(off) || Math.floor(off / 8) >= c.server.limits.maxBulk) {
    c.addError(E_BIT_OFFSET);
    return -1;
  }
  return off;
}

// Set by writableBits: the key was created or its value grew.
let grew = false;

/**
 * Valkey's lookupStringForBitCommand: the key's value as a Buffer at least
 * `len` bytes long (zero-padded, created if missing), edited in place after
 * this. Returns null after replying WRONGTYPE.
 */
function writableBits(c: Client, key: string, len: number): Buffer | null {
  const db = c.db;
  const e = db.lookupWrite(key);
  grew = false;
  if (e === undefined) {
    const b = newGrowable(null, len);
    db.add(key, b);
    grew = true;
    return b;
  }
  if (!isStringValue(e)) {
    c.addError(E_WRONGTYPE);
    return null;
  }
  if (Buffer.isBuffer(e)) {
    if (e.length >= len) return e;
    const b = growInPlace(e, len) ?? newGrowable(e, len);
    db.replace(key, b);
    grew = true;
    return b;
  }
  const olen = stringLength(e);
  const b = newGrowable(e, olen >= len ? olen : len);
  db.replace(key, b);
  grew = olen < len;
  return b;
}

// ------------------------------------------------------------------ SETBIT / GETBIT

function setbit(c: Client, argv: string[]): void {
  const off = bitOffset(c, argv[2], 0);
  if (off < 0) return;
  const on = parseInt64(argv[3]);
  if (on !== 0 && on !== 1) {
    c.addError(E_BIT_VALUE);
    return;
  }
  const byte = Math.floor(off / 8);
  const b = writableBits(c, argv[1], byte + 1);
  if (b === null) return;
  const mask = 0x80 >>> (off & 7);
  const old = (b[byte] & mask) !== 0 ? 1 : 0;
  if (grew || old !== on) {
    if (on) b[byte] |= mask;
    else b[byte] &= ~mask;
    c.server.dirty++;
    notify(c.server, NOTIFY_STRING, 'setbit', argv[1], c.db.id);
  }
  c.addInt(old);
}

function getbit(c: Client, argv: string[]): void {
  const off = bitOffset(c, argv[2], 0);
  if (off < 0) return;
  const e = c.db.lookup(argv[1]);
  if (e === undefined) {
    c.addInt(0);
    return;
  }
  if (!isStringValue(e)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  c.addInt((byteOf(e, Math.floor(off / 8)) >> (7 - (off & 7))) & 1);
}

// ------------------------------------------------------------------ BITCOUNT / BITPOS

/** Set bits in b[start..end]. */
function popcount(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  let i = start;
  // Whole 32-bit words where aligned (4x fewer steps on big values).
  while (i <= end && ((b.byteOffset + i) & 3) !== 0) n += POP8[b[i++]];
  const words = (end - i + 1) >>> 2;
  if (words > 16) {
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      let x = w[k];
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      n += (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
    }
    i += words * 4;
  }
  while (i <= end) n += POP8[b[i++]];
  return n;
}

/** Parses BYTE|BIT; -1 after replying a syntax error. */
function unitArg(c: Client, s: string): number {
  if (tok(s, 'bit')) return 1;
  if (tok(s, 'byte')) return 0;
  c.addError(E_SYNTAX);
  return -1;
}

/** Start, end and unit of BITCOUNT/BITPOS ranges. */
interface BitRange {
  start: number | bigint;
  end: number | bigint;
  isBit: number;
}

/**
 * Parses `[start [end [BYTE|BIT]]]` beginning at argv[first], in Valkey's order
 * (start, then the unit, then end). Null after replying the error.
 */
function parseBitRange(c: Client, argv: string[], first: number): BitRange | null {
  const r: BitRange = { start: 0, end: 0, isBit: 0 };
  const argc = argv.length;
  if (argc > first) {
    const s = parseInt64(argv[first]);
    if (s === null) {
      c.addError(E_NOT_INT);
      return null;
    }
    r.start = s;
    if (argc === first + 3) {
      r.isBit = unitArg(c, argv[first + 2]);
      if (r.isBit < 0) return null;
    }
    if (argc > first + 1) {
      const e = parseInt64(argv[first + 1]);
      if (e === null) {
        c.addError(E_NOT_INT);
        return null;
      }
      r.end = e;
    }
  }
  return r;
}

function bitcount(c: Client, argv: string[]): void {
  const argc = argv.length;
  if (argc > 5) {
    c.addError(E_SYNTAX);
    return;
  }
  const range = parseBitRange(c, argv, 2);
  if (range === null) return;
  const { start, isBit } = range;
  let end = range.end;
  const v = c.db.lookup(argv[1]);
  if (v !== undefined && !isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  const strlen = v === undefined ? 0 : stringLength(v);
  let firstMask = 0;
  let lastMask = 0;
  let s: number;
  let e: number;
  if (argc === 2) {
    s = 0;
    e = strlen - 1;
  } else {
    let total = strlen;
    if (argc < 4) end = total - 1;
    if (start < 0 && end < 0 && start > end) {
      c.addInt(0);
      return;
    }
    if (isBit) total *= 8;
    // Beyond 2^53 an index is far outside any string: a double keeps sign and order.
    s = Number(start);
    e = Number(end);
    if (s < 0) s = total + s;
    if (e < 0) e = total + e;
    if (s < 0) s = 0;
    if (e < 0) e = 0;
    if (e >= total) e = total - 1;
    if (isBit && s <= e) {
      firstMask = ~((1 << (8 - (s & 7))) - 1) & 0xff;
      lastMask = (1 << (7 - (e & 7))) - 1;
      s = Math.floor(s / 8);
      e = Math.floor(e / 8);
    }
  }
  if (v === undefined || s > e) {
    c.addInt(0);
    return;
  }
  const b = bytesOf(v as StringValue, s, e);
  const last = e - s;
  let n = popcount(b, 0, last);
  if (firstMask !== 0) n -= POP8[b[0] & firstMask];
  if (lastMask !== 0) n -= POP8[b[last] & lastMask];
  c.addInt(n);
}

function bitpos(c: Client, argv: string[]): void {
  const argc = argv.length;
  const bit = parseInt64(argv[2]);
  if (bit === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (bit !== 0 && bit !== 1) {
    c.addError(E_BITPOS_BIT);
    return;
  }
  if (argc > 6) {
    c.addError(E_SYNTAX);
    return;
  }
  const endGiven = argc >= 5;
  const range = parseBitRange(c, argv, 3);
  if (range === null) return;
  const { start, isBit } = range;
  let end = range.end;
  const v = c.db.lookup(argv[1]);
  if (v !== undefined && !isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  if (v === undefined) {
    c.addInt(bit ? -1 : 0);
    return;
  }
  const strlen = stringLength(v);
  let firstMask = 0; // bits of the first byte before the range
  let lastMask = 0; // bits of the last byte after the range
  let s: number;
  let e: number;
  if (argc === 3) {
    s = 0;
    e = strlen - 1;
  } else {
    let total = strlen;
    if (argc < 5) end = total - 1;
    if (isBit) total *= 8;
    s = Number(start);
    e = Number(end);
    if (s < 0) s = total + s;
    if (e < 0) e = total + e;
    if (s < 0) s = 0;
    if (e < 0) e = 0;
    if (e >= total) e = total - 1;
    if (isBit && s <= e) {
      firstMask = ~((1 << (8 - (s & 7))) - 1) & 0xff;
      lastMask = (1 << (7 - (e & 7))) - 1;
      s = Math.floor(s / 8);
      e = Math.floor(e / 8);
    }
  }
  if (s > e) {
    c.addInt(-1);
    return;
  }
  const b = bytesOf(v, s, e);
  const last = e - s;
  // Bytes that hold no wanted bit: 0x00 when looking for a one, 0xff for a zero.
  const skip = bit ? 0 : 0xff;
  for (let i = 0; i <= last; i++) {
    let x = b[i];
    if (i === 0 && firstMask !== 0) x = bit ? x & ~firstMask : x | firstMask;
    if (i === last && lastMask !== 0) x = bit ? x & ~lastMask : x | lastMask;
    x &= 0xff;
    if (x !== skip) {
      const y = bit ? x : ~x & 0xff;
      c.addInt((s + i) * 8 + Math.clz32(y) - 24);
      return;
    }
  }
  // Nothing found. Past the end of the string every bit is zero, unless the
  // caller gave an explicit end.
  c.addInt(bit === 1 || endGiven ? -1 : (e + 1) * 8);
}

// ------------------------------------------------------------------ BITOP

function bitop(c: Client, argv: string[]): void {
  const opname = argv[1];
  let op: number;
  if (tok(opname, 'and')) op = 0;
  else if (tok(opname, 'or')) op = 1;
  else if (tok(opname, 'xor')) op = 2;
  else if (tok(opname, 'not')) op = 3;
  else {
    c.addError(E_SYNTAX);
    return;
  }
  const argc = argv.length;
  if (op === 3 && argc !== 4) {
    c.addError(E_BITOP_NOT);
    return;
  }
  const n = argc - 3;
  const srcs: Uint8Array[] = new Array(n);
  let maxlen = 0;
  const db = c.db;
  for (let j = 0; j < n; j++) {
    const v = db.lookup(argv[j + 3]);
    if (v === undefined) {
      srcs[j] = EMPTY;
      continue;
    }
    if (!isStringValue(v)) {
      c.addError(E_WRONGTYPE);
      return;
    }
    const len = stringLength(v);
    srcs[j] = len === 0 ? EMPTY : bytesOf(v, 0, len - 1);
    if (len > maxlen) maxlen = len;
  }
  const dest = argv[2];
  if (maxlen === 0) {
    if (db.delete(dest)) {
      c.server.dirty++;
      notify(c.server, NOTIFY_GENERIC, 'del', dest, db.id);
    }
    c.addInt(0);
    return;
  }
  const res = Buffer.alloc(maxlen);
  const first = srcs[0];
  res.set(first, 0);
  if (op === 3) {
    for (let i = 0; i < maxlen; i++) res[i] = ~res[i];
  } else {
    for (let j = 1; j < n; j++) {
      const src = srcs[j];
      const l = src.length;
      if (op === 0) {
        for (let i = 0; i < l; i++) res[i] &= src[i];
        if (l < maxlen) res.fill(0, l);
      } else if (op === 1) {
        for (let i = 0; i < l; i++) res[i] |= src[i];
      } else {
        for (let i = 0; i < l; i++) res[i] ^= src[i];
      }
    }
  }
  db.set(dest, res);
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'set', dest, db.id);
  c.addInt(maxlen);
}

const EMPTY = new Uint8Array(0);

// ------------------------------------------------------------------ BITFIELD

const OP_GET = 0;
const OP_SET = 1;
const OP_INCRBY = 2;
const OW_WRAP = 0;
const OW_SAT = 1;
const OW_FAIL = 2;

interface FieldOp {
  op: number;
  offset: number;
  bits: number;
  signed: boolean;
  owtype: number;
  arg: number | bigint;
}

/** Parses i1..i64 / u1..u63 into [signed, bits]; bits 0 after replying the error. */
let typeSigned = false;
function fieldType(c: Client, s: string): number {
  const ch = s.charCodeAt(0);
  if (ch !== 105 /* i */ && ch !== 117 /* u */) {
    c.addError(E_BITFIELD_TYPE);
    return 0;
  }
  typeSigned = ch === 105;
  // The C code stops at a NUL byte.
  let rest = s.slice(1);
  const nul = rest.indexOf('\0');
  if (nul >= 0) rest = rest.slice(0, nul);
  const bits = parseInt64(rest);
  if (bits === null || bits < 1 || (typeSigned && bits > 64) || (!typeSigned && bits > 63)) {
    c.addError(E_BITFIELD_TYPE);
    return 0;
  }
  return Number(bits);
}

/** Unsigned field of `bits` (<= 32) bits at bit `off` of b. */
function readSmall(b: Uint8Array, off: number, bits: number): number {
  let v = 0;
  for (let j = 0; j < bits; j++, off++) v = v * 2 + ((b[off >>> 3] >> (7 - (off & 7))) & 1);
  return v;
}

/** Unsigned field of any width as a bigint. */
function readBig(b: Uint8Array, off: number, bits: number): bigint {
  if (bits <= 32) return BigInt(readSmall(b, off, bits));
  const hiBits = bits - 32;
  return (BigInt(readSmall(b, off, hiBits)) << 32n) | BigInt(readSmall(b, off + hiBits, 32));
}

/** Writes the low `bits` (<= 32) bits of the unsigned v at bit `off` of b. */
function writeSmall(b: Uint8Array, off: number, bits: number, v: number): void {
  for (let j = bits - 1; j >= 0; j--, off++) {
    const bit = Math.floor(v / 2 ** j) & 1;
    const byte = off >>> 3;
    const mask = 0x80 >>> (off & 7);
    if (bit) b[byte] |= mask;
    else b[byte] &= ~mask;
  }
}

function writeBig(b: Uint8Array, off: number, bits: number, v: bigint): void {
  v = BigInt.asUintN(bits, v);
  if (bits <= 32) {
    writeSmall(b, off, bits, Number(v));
    return;
  }
  const hiBits = bits - 32;
  writeSmall(b, off, hiBits, Number(v >> 32n));
  writeSmall(b, off + hiBits, 32, Number(v & 0xffffffffn));
}

// Outputs of the overflow checks.
let ovf = 0; // 0 none, 1 overflow, -1 underflow
let limitN = 0;
let limitB = 0n;

/** Unsigned overflow check on exact small numbers (value may be a negative SET argument). */
function checkUnsignedSmall(value: number, incr: number, bits: number, owtype: number): void {
  const max = 2 ** bits - 1;
  ovf = 0;
  if (value < 0 || value > max || (incr > 0 && incr > max - value)) ovf = 1;
  else if (incr < 0 && incr < -value) ovf = -1;
  if (ovf === 0) return;
  if (owtype === OW_WRAP) {
    const m = 2 ** bits;
    limitN = (((value + incr) % m) + m) % m;
  } else if (owtype === OW_SAT) limitN = ovf > 0 ? max : 0;
}

function checkSignedSmall(value: number, incr: number, bits: number, owtype: number): void {
  const max = 2 ** (bits - 1) - 1;
  const min = -max - 1;
  ovf = 0;
  if (value > max || incr > max - value) ovf = 1;
  else if (value < min || incr < min - value) ovf = -1;
  if (ovf === 0) return;
  if (owtype === OW_WRAP) {
    const m = 2 ** bits;
    let r = (((value + incr) % m) + m) % m;
    if (r > max) r -= m;
    limitN = r;
  } else if (owtype === OW_SAT) limitN = ovf > 0 ? max : min;
}

/** Valkey's unsigned check with uint64/int64 wrap-around semantics. */
function checkUnsignedBig(value: bigint, incr: bigint, bits: number, owtype: number): void {
  const max = (1n << BigInt(bits)) - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, -value);
  ovf = 0;
  if (value > max || (incr > 0n && incr > maxincr)) ovf = 1;
  else if (incr < 0n && incr < minincr) ovf = -1;
  if (ovf === 0) return;
  if (owtype === OW_WRAP) limitB = BigInt.asUintN(bits, value + incr);
  else if (owtype === OW_SAT) limitB = ovf > 0 ? max : 0n;
}

function checkSignedBig(value: bigint, incr: bigint, bits: number, owtype: number): void {
  const max = bits === 64 ? 9223372036854775807n : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, min - value);
  ovf = 0;
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) ovf = 1;
  else if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) ovf = -1;
  if (ovf === 0) return;
  if (owtype === OW_WRAP) limitB = BigInt.asIntN(bits, BigInt.asUintN(64, value + incr));
  else if (owtype === OW_SAT) limitB = ovf > 0 ? max : min;
}

const window9 = new Uint8Array(9);

function replyNum(c: Client, v: number | bigint): void {
  if (typeof v === 'number') c.addInt(v);
  else if (v <= 9007199254740991n && v >= -9007199254740991n) c.addInt(Number(v));
  else c.addBigInt(v);
}

function bitfieldGeneric(c: Client, argv: string[], readonlyCmd: boolean): void {
  const argc = argv.length;
  const ops: FieldOp[] = [];
  let owtype = OW_WRAP;
  let readonly = true;
  let highest = 0;
  for (let j = 2; j < argc; j++) {
    const rem = argc - j - 1;
    const sub = argv[j];
    let op: number;
    if (tok(sub, 'get') && rem >= 2) op = OP_GET;
    else if (tok(sub, 'set') && rem >= 3) op = OP_SET;
    else if (tok(sub, 'incrby') && rem >= 3) op = OP_INCRBY;
    else if (tok(sub, 'overflow') && rem >= 1) {
      const t = argv[++j];
      if (tok(t, 'wrap')) owtype = OW_WRAP;
      else if (tok(t, 'sat')) owtype = OW_SAT;
      else if (tok(t, 'fail')) owtype = OW_FAIL;
      else {
        c.addError(E_OVERFLOW_TYPE);
        return;
      }
      continue;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
    const bits = fieldType(c, argv[j + 1]);
    if (bits === 0) return;
    const signed = typeSigned;
    const offset = bitOffset(c, argv[j + 2], bits);
    if (offset < 0) return;
    let arg: number | bigint = 0;
    if (op !== OP_GET) {
      readonly = false;
      if (offset + bits - 1 > highest) highest = offset + bits - 1;
      const v = parseInt64(argv[j + 3]);
      if (v === null) {
        c.addError(E_NOT_INT);
        return;
      }
      arg = v;
    }
    ops.push({ op, offset, bits, signed, owtype, arg });
    j += op === OP_GET ? 2 : 3;
  }

  let src: StringValue | undefined;
  let buf: Buffer | null = null;
  let created = false;
  if (readonly) {
    const e: Value | undefined = c.db.lookup(argv[1]);
    if (e !== undefined && !isStringValue(e)) {
      c.addError(E_WRONGTYPE);
      return;
    }
    src = e;
  } else {
    if (readonlyCmd) {
      c.addError(E_BITFIELD_RO);
      return;
    }
    buf = writableBits(c, argv[1], Math.floor(highest / 8) + 1);
    if (buf === null) return;
    created = grew;
    src = buf;
  }

  c.addArrayLen(ops.length);
  let changes = 0;
  for (const o of ops) {
    const { offset, bits, signed } = o;
    if (o.op === OP_GET) {
      // Copy up to 9 bytes (zero-padded) and read the field from there.
      const byte = Math.floor(offset / 8);
      for (let i = 0; i < 9; i++) window9[i] = src === undefined ? 0 : byteOf(src, byte + i);
      const rel = offset - byte * 8;
      if (bits <= 32) {
        const u = readSmall(window9, rel, bits);
        c.addInt(signed && u >= 2 ** (bits - 1) ? u - 2 ** bits : u);
      } else {
        const u = readBig(window9, rel, bits);
        replyNum(c, signed ? BigInt.asIntN(bits, u) : u);
      }
      continue;
    }
    const b = buf!;
    const arg = o.arg;
    if (bits <= 32 && typeof arg === 'number') {
      // Exact in doubles: fields of at most 32 bits, arguments within 2^53.
      const u = readSmall(b, offset, bits);
      const old = signed && u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
      let nv: number;
      let ret: number;
      if (o.op === OP_INCRBY) {
        if (signed) checkSignedSmall(old, arg, bits, o.owtype);
        else checkUnsignedSmall(old, arg, bits, o.owtype);
        nv = ovf !== 0 ? limitN : old + arg;
        ret = nv;
      } else {
        if (signed) checkSignedSmall(arg, 0, bits, o.owtype);
        else checkUnsignedSmall(arg, 0, bits, o.owtype);
        nv = ovf !== 0 ? limitN : arg;
        ret = old;
      }
      if (ovf !== 0 && o.owtype === OW_FAIL) {
        c.addNull();
        continue;
      }
      c.addInt(ret);
      writeSmall(b, offset, bits, nv < 0 ? nv + 2 ** bits : nv);
      if (created || old !== nv) changes++;
    } else {
      const u = readBig(b, offset, bits);
      const old = signed ? BigInt.asIntN(bits, u) : u;
      const a = BigInt(arg);
      let nv: bigint;
      let ret: bigint;
      if (o.op === OP_INCRBY) {
        if (signed) checkSignedBig(old, a, bits, o.owtype);
        else checkUnsignedBig(old, a, bits, o.owtype);
        nv = ovf !== 0 ? limitB : signed ? old + a : BigInt.asUintN(64, old + a);
        ret = nv;
      } else {
        const value = signed ? a : BigInt.asUintN(64, a);
        if (signed) checkSignedBig(value, 0n, bits, o.owtype);
        else checkUnsignedBig(value, 0n, bits, o.owtype);
        nv = ovf !== 0 ? limitB : value;
        ret = old;
      }
      if (ovf !== 0 && o.owtype === OW_FAIL) {
        c.addNull();
        continue;
      }
      replyNum(c, ret);
      writeBig(b, offset, bits, nv);
      if (created || old !== nv) changes++;
    }
  }
  c.server.dirty += changes;
  if (changes !== 0) notify(c.server, NOTIFY_STRING, 'setbit', argv[1], c.db.id);
}

function bitfield(c: Client, argv: string[]): void {
  bitfieldGeneric(c, argv, false);
}

function bitfieldRo(c: Client, argv: string[]): void {
  bitfieldGeneric(c, argv, true);
}

export const commands: HandlerMap = {
  setbit,
  getbit,
  bitcount,
  bitpos,
  bitop,
  bitfield,
  bitfield_ro: bitfieldRo,
};
