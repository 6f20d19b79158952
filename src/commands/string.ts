// String commands: GET, SET (NX/XX/IFEQ/GET/EX/PX/EXAT/PXAT/KEEPTTL), SETNX,
// SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX, APPEND, STRLEN,
// INCR/DECR/INCRBY/DECRBY, INCRBYFLOAT, GETRANGE/SUBSTR, SETRANGE, LCS, DELIFEQ.
//
// Stored string values are a number (canonical integer of at most 15 digits,
// Valkey's "int" encoding), a latin1 string, or a Buffer. Buffers are used for
// big values grown by APPEND/SETRANGE: they are views over an ArrayBuffer with
// spare capacity so repeated appends do not copy the whole value each time.
import { delCommand } from '../persistence/aof/effective.js';
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import type { Db } from '../keyspace/db.js';
import { clock } from '../keyspace/db.js';
import { isStringValue, stringLength, stringOf, type StringValue } from '../keyspace/types.js';
import { INT64_MAX, INT64_MIN, compactInt, parseInt64 } from '../util/numbers.js';
import { addLongDouble, formatLongDouble, longDoubleFromInt, parseLongDouble, LD_ZERO, type LongDouble } from '../util/longdouble.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_STRING } from '../server/notify.js';
import { E_INVALID_EXPIRE, E_NOT_FLOAT, E_NOT_INT, E_OVERFLOW, E_STRING_TOO_LONG, E_SYNTAX, E_WRONGTYPE } from './errors.js';

const E_DECR_OVERFLOW = 'ERR decrement would overflow';
const E_NAN = 'ERR increment would produce NaN or Infinity';
const E_OFFSET = 'ERR offset is out of range';
const E_LCS_TYPES = 'ERR The specified keys must contain string values';
const E_LCS_LEN_IDX = 'ERR If you want both the length and indexes, please just use IDX.';
const E_LCS_TOO_LONG = 'ERR String too long for LCS';
const E_LCS_MEM_LIMIT = 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len';
const E_LCS_MEM_FAIL = 'ERR Insufficient memory, failed allocating transient memory for LCS';

/** Largest magnitude kept as a JS number (15 digits, always exact in a double). */
const MAX_COMPACT = 999999999999999;
/**
 * APPEND/SETRANGE results longer than this are kept in growable Buffers. Zero:
 * every edited value becomes a Buffer, which is also what makes OBJECT ENCODING
 * answer "raw" for it, as Valkey does for strings changed in place.
 */
const BIG_VALUE = 0;
/** LLONG_MAX / 1000: a seconds expire above this overflows when scaled to ms. */
const MAX_EXPIRE_SECONDS = 9223372036854775;

// ------------------------------------------------------------------ helpers

/** The stored form of a string argument: canonical small integers become numbers. */
function compact(s: string): StringValue {
  const n = compactInt(s);
  return n === undefined ? s : n;
}

/** Bulk reply of any stored string form. */
function replyValue(c: Client, v: StringValue): void {
  if (typeof v === 'string') c.addBulk(v);
  else if (typeof v === 'number') c.addBulkInt(v);
  else c.addBulkBuf(v);
}

/**
 * Replaces the value of an existing entry in place, keeping its TTL (Valkey's
 * dbReplaceValue and in-place int updates). One place to hook if keyspace
 * write tracking is added.
 */
function replaceValue(db: Db, key: string, v: StringValue): void {
  db.replace(key, v);
}

/** True when a stored string value equals the latin1 string s byte for byte. */
function valueEquals(v: StringValue, s: string): boolean {
  if (typeof v === 'string') return v === s;
  if (typeof v === 'number') return compactInt(s) === v;
  return v.length === s.length && v.latin1Slice(0, v.length) === s;
}

/** Case-insensitive match of an argument against a lower-case, letters-only token. */
function tok(s: string, t: string): boolean {
  const n = t.length;
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if ((s.charCodeAt(i) | 32) !== t.charCodeAt(i)) return false;
  return true;
}

/**
 * GET's part of SET ... GET and GETSET: replies the value or null.
 * Returns false (after replying WRONGTYPE) when the key holds another type.
 */
function replyGet(c: Client, key: string): boolean {
  const e = c.db.lookup(key);
  if (e === undefined) {
    c.addNull();
    return true;
  }
  const v = e;
  if (typeof v === 'string') c.addBulk(v);
  else if (typeof v === 'number') c.addBulkInt(v);
  else if (Buffer.isBuffer(v)) c.addBulkBuf(v);
  else {
    c.addError(E_WRONGTYPE);
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ growable Buffers

/**
 * ArrayBuffers owned by string values, with the length of the newest view.
 * Bytes past that length are always zero (values never shrink in place), so a
 * view can grow over them; only the newest view may grow, so an older view that
 * something else still holds is never overwritten.
 */
const growable = new WeakMap<ArrayBuffer, number>();

function capacityFor(len: number): number {
  // Like sds: double while small, then grow by 1 MB.
  return len < 1024 * 1024 ? len * 2 : len + 1024 * 1024;
}

/** A growable Buffer of length len holding the bytes of v (zero-padded). */
export function newGrowable(v: StringValue | null, len: number): Buffer {
  const ab = new ArrayBuffer(capacityFor(len));
  const b = Buffer.from(ab, 0, len);
  if (v !== null) {
    if (Buffer.isBuffer(v)) v.copy(b, 0);
    else b.latin1Write(typeof v === 'string' ? v : String(v), 0);
  }
  growable.set(ab, len);
  return b;
}

/** The buffer itself grown to len (same memory) if it has room, else null. */
export function growInPlace(v: Buffer, len: number): Buffer | null {
  if (v.byteOffset !== 0) return null;
  const ab = v.buffer as ArrayBuffer;
  if (growable.get(ab) !== v.length || len > ab.byteLength) return null;
  if (len === v.length) return v;
  growable.set(ab, len);
  return Buffer.from(ab, 0, len);
}

// ------------------------------------------------------------------ SET family

const F_NX = 1 << 0;
const F_XX = 1 << 1;
const F_GET = 1 << 2;
const F_KEEPTTL = 1 << 3;
const F_EX = 1 << 4;
const F_PX = 1 << 5;
const F_EXAT = 1 << 6;
const F_PXAT = 1 << 7;
const F_PERSIST = 1 << 8;
const F_IFEQ = 1 << 9;
const F_EXPIRE = F_EX | F_PX | F_EXAT | F_PXAT;

// Outputs of parseExtended (module scratch: no allocation per call).
let optExpire: string | null = null;
let optCompare: string | null = null;
/** Set by expireAt when the time is beyond 2^53 ms and a number would round it. */
let exactWhen: bigint | null = null;

/**
 * Parses SET options (from argv[3]) or GETEX options (from argv[2]) with
 * Valkey's rules: a repeated option is accepted, conflicting ones are a syntax
 * error. Returns the flags, or -1 after replying the syntax error.
 */
function parseExtended(c: Client, argv: string[], isSet: boolean): number {
  let flags = 0;
  optExpire = null;
  optCompare = null;
  const argc = argv.length;
  for (let j = isSet ? 3 : 2; j < argc; j++) {
    const opt = argv[j];
    const hasNext = j < argc - 1;
    const len = opt.length;
    if (isSet && len === 2 && tok(opt, 'nx') && (flags & (F_XX | F_IFEQ)) === 0) {
      flags |= F_NX;
    } else if (isSet && len === 2 && tok(opt, 'xx') && (flags & (F_NX | F_IFEQ)) === 0) {
      flags |= F_XX;
    } else if (isSet && len === 4 && tok(opt, 'ifeq') && hasNext && (flags & (F_NX | F_XX | F_IFEQ)) === 0) {
      flags |= F_IFEQ;
      optCompare = argv[++j];
    } else if (isSet && len === 3 && tok(opt, 'get')) {
      flags |= F_GET;
    } else if (isSet && len === 7 && tok(opt, 'keepttl') && (flags & (F_PERSIST | F_EXPIRE)) === 0) {
      flags |= F_KEEPTTL;
    } else if (!isSet && len === 7 && tok(opt, 'persist') && (flags & (F_EXPIRE | F_KEEPTTL)) === 0) {
      flags |= F_PERSIST;
    } else if (len === 2 && tok(opt, 'ex') && hasNext && (flags & (F_KEEPTTL | F_PERSIST | F_EXAT | F_PX | F_PXAT)) === 0) {
      flags |= F_EX;
      optExpire = argv[++j];
    } else if (len === 2 && tok(opt, 'px') && hasNext && (flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PXAT)) === 0) {
      flags |= F_PX;
      optExpire = argv[++j];
    } else if (len === 4 && tok(opt, 'exat') && hasNext && (flags & (F_KEEPTTL | F_PERSIST | F_EX | F_PX | F_PXAT)) === 0) {
      flags |= F_EXAT;
      optExpire = argv[++j];
    } else if (len === 4 && tok(opt, 'pxat') && hasNext && (flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PX)) === 0) {
      flags |= F_PXAT;
      optExpire = argv[++j];
    } else {
      c.addError(E_SYNTAX);
      return -1;
    }
  }
  return flags;
}

/**
 * The absolute unix time in ms an expire argument stands for (EX/SETEX are
 * seconds, PX/PSETEX milliseconds, both relative; EXAT/PXAT absolute), or -1
 * after replying the error. Non-positive or overflowing values are invalid.
 */
function expireAt(c: Client, arg: string, flags: number, cmd: string): number {
  exactWhen = null;
  const v = parseInt64(arg);
  if (v === null) {
    c.addError(E_NOT_INT);
    return -1;
  }
  const seconds = (flags & (F_EX | F_EXAT)) !== 0;
  const relative = (flags & (F_EX | F_PX)) !== 0;
  if (v <= 0 || (seconds && v > MAX_EXPIRE_SECONDS)) {
    c.addError(E_INVALID_EXPIRE(cmd));
    return -1;
  }
  if (typeof v === 'number' && v < 9e12) {
    // Exact in a double: at most 9e15 + now.
    let ms = seconds ? v * 1000 : v;
    if (relative) ms += clock.ms;
    return ms;
  }
  let ms = BigInt(v);
  if (seconds) ms *= 1000n;
  if (relative) ms += BigInt(clock.ms);
  if (ms > INT64_MAX) {
    // Valkey's signed addition wraps to a negative time here.
    c.addError(E_INVALID_EXPIRE(cmd));
    return -1;
  }
  const n = Number(ms);
  if (!Number.isSafeInteger(n)) exactWhen = ms;
  return n;
}

/** Stores the expire time computed by the last expireAt. */
function storeExpire(c: Client, key: string, when: number): void {
  if (exactWhen !== null) c.db.setExpireExact(key, exactWhen);
  else c.db.setExpire(key, when);
}

/**
 * Valkey's setGenericCommand. `intReplies` selects SETNX's :1/:0 instead of
 * +OK/null. `expire` is the raw expire argument or null.
 */
function genericSet(
  c: Client,
  flags: number,
  key: string,
  val: string,
  expire: string | null,
  cmd: string,
  intReplies: boolean,
  compare: string | null,
): void {
  let when = 0;
  if (expire !== null) {
    when = expireAt(c, expire, flags, cmd);
    if (when < 0) return;
  }
  const withGet = (flags & F_GET) !== 0;
  if (withGet && !replyGet(c, key)) return;
  const e = c.db.lookupWrite(key);
  const found = e !== undefined;
  if ((flags & F_IFEQ) !== 0) {
    if (!found) {
      if (!withGet) c.addNull();
      return;
    }
    const v = e;
    if (!isStringValue(v)) {
      // With GET the type error was already replied.
      if (!withGet) c.addError(E_WRONGTYPE);
      return;
    }
    if (!valueEquals(v, compare!)) {
      if (!withGet) c.addNull();
      return;
    }
  }
  if (((flags & F_NX) !== 0 && found) || ((flags & F_XX) !== 0 && !found)) {
    if (!withGet) {
      if (intReplies) c.addInt(0);
      else c.addNull();
    }
    return;
  }
  if (expire !== null && when <= clock.ms) {
    // Already expired (EXAT/PXAT in the past): the key is deleted, not stored.
    if (found) {
      c.db.delete(key);
      c.server.dirty++;
      notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
      if (c.server.prop.active) c.server.prop.replace([delCommand(c.server, 'lazyfree-lazy-expire'), key]);
    }
    if (!withGet) c.addOK();
    return;
  }
  c.db.set(key, compact(val), expire !== null || (flags & F_KEEPTTL) !== 0);
  if (expire !== null) {
    storeExpire(c, key, when);
    // Propagated with an absolute time: SET key value PXAT <unix ms> (like Valkey).
    if (c.server.prop.active && (flags & F_PXAT) === 0) c.server.prop.replace(['SET', key, val, 'PXAT', exactWhen !== null ? exactWhen.toString() : String(when)]);
  }
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'set', key, c.db.id);
  if (expire !== null) notify(c.server, NOTIFY_GENERIC, 'expire', key, c.db.id);
  if (!withGet) {
    if (intReplies) c.addInt(1);
    else c.addOK();
  }
}

function get(c: Client, argv: string[]): void {
  const e = c.db.lookup(argv[1]);
  if (e === undefined) {
    c.addNull();
    return;
  }
  const v = e;
  if (typeof v === 'string') c.addBulk(v);
  else if (typeof v === 'number') c.addBulkInt(v);
  else if (Buffer.isBuffer(v)) c.addBulkBuf(v);
  else c.addError(E_WRONGTYPE);
}

function set(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    c.db.set(argv[1], compact(argv[2]));
    c.server.dirty++;
    notify(c.server, NOTIFY_STRING, 'set', argv[1], c.db.id);
    c.addOK();
    return;
  }
  const flags = parseExtended(c, argv, true);
  if (flags < 0) return;
  genericSet(c, flags, argv[1], argv[2], optExpire, 'set', false, optCompare);
}

function setnx(c: Client, argv: string[]): void {
  genericSet(c, F_NX, argv[1], argv[2], null, 'setnx', true, null);
}

function setex(c: Client, argv: string[]): void {
  genericSet(c, F_EX, argv[1], argv[3], argv[2], 'setex', false, null);
}

function psetex(c: Client, argv: string[]): void {
  genericSet(c, F_PX, argv[1], argv[3], argv[2], 'psetex', false, null);
}

function getset(c: Client, argv: string[]): void {
  if (!replyGet(c, argv[1])) return;
  c.db.set(argv[1], compact(argv[2]));
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'set', argv[1], c.db.id);
}

function getdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const e = c.db.lookup(key);
  if (e === undefined) {
    c.addNull();
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  replyValue(c, v);
  c.db.delete(key);
  c.server.dirty++;
  notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  if (c.server.prop.active) c.server.prop.replace(['DEL', key]);
}

function getex(c: Client, argv: string[]): void {
  const flags = parseExtended(c, argv, false);
  if (flags < 0) return;
  const expire = optExpire;
  const key = argv[1];
  const e = c.db.lookup(key);
  if (e === undefined) {
    c.addNull();
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  // Valkey 8 (like Redis 7) validates the expire after the key lookup, so a
  // missing key answers null even with an invalid expire.
  let when = 0;
  if (expire !== null) {
    when = expireAt(c, expire, flags, 'getex');
    if (when < 0) return;
  }
  replyValue(c, v);
  const prop = c.server.prop;
  if ((flags & (F_EXAT | F_PXAT)) !== 0 && when <= clock.ms) {
    c.db.delete(key);
    c.server.dirty++;
    notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
    if (prop.active) prop.replace([delCommand(c.server, 'lazyfree-lazy-expire'), key]);
  } else if (expire !== null) {
    storeExpire(c, key, when);
    c.server.dirty++;
    notify(c.server, NOTIFY_GENERIC, 'expire', key, c.db.id);
    if (prop.active) prop.replace(['PEXPIREAT', key, exactWhen !== null ? exactWhen.toString() : String(when)]);
  } else if ((flags & F_PERSIST) !== 0) {
    if (c.db.removeExpire(key)) {
      c.server.dirty++;
      notify(c.server, NOTIFY_GENERIC, 'persist', key, c.db.id);
      if (prop.active) prop.replace(['PERSIST', key]);
    }
  }
}

function delifeq(c: Client, argv: string[]): void {
  const key = argv[1];
  const e = c.db.lookupWrite(key);
  if (e === undefined) {
    c.addInt(0);
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  if (!valueEquals(v, argv[2])) {
    c.addInt(0);
    return;
  }
  c.db.delete(key);
  c.server.dirty++;
  notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  c.addInt(1);
}

// ------------------------------------------------------------------ multi-key

function mget(c: Client, argv: string[]): void {
  const n = argv.length;
  c.addArrayLen(n - 1);
  const db = c.db;
  for (let j = 1; j < n; j++) {
    const e = db.lookup(argv[j]);
    if (e === undefined) {
      c.addNull();
      continue;
    }
    const v = e;
    if (typeof v === 'string') c.addBulk(v);
    else if (typeof v === 'number') c.addBulkInt(v);
    else if (Buffer.isBuffer(v)) c.addBulkBuf(v);
    else c.addNull();
  }
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  const argc = argv.length;
  if (argc % 2 === 0) {
    c.addError(`ERR wrong number of arguments for '${nx ? 'msetnx' : 'mset'}' command`);
    return;
  }
  const db = c.db;
  if (nx) {
    for (let j = 1; j < argc; j += 2) {
      if (db.lookupWrite(argv[j]) !== undefined) {
        c.addInt(0);
        return;
      }
    }
  }
  for (let j = 1; j < argc; j += 2) {
    db.set(argv[j], compact(argv[j + 1]));
    notify(c.server, NOTIFY_STRING, 'set', argv[j], db.id);
  }
  c.server.dirty += (argc - 1) / 2;
  if (nx) c.addInt(1);
  else c.addOK();
}

function mset(c: Client, argv: string[]): void {
  msetGeneric(c, argv, false);
}

function msetnx(c: Client, argv: string[]): void {
  msetGeneric(c, argv, true);
}

// ------------------------------------------------------------------ APPEND, STRLEN, ranges

function append(c: Client, argv: string[]): void {
  const key = argv[1];
  const add = argv[2];
  const e = c.db.lookupWrite(key);
  if (e === undefined) {
    c.db.add(key, compact(add));
    c.server.dirty++;
    notify(c.server, NOTIFY_STRING, 'append', key, c.db.id);
    c.addInt(add.length);
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  const olen = stringLength(v);
  const total = olen + add.length;
  if (total > c.server.limits.maxBulk) {
    c.addError(E_STRING_TOO_LONG);
    return;
  }
  if (add.length > 0) {
    let nv: StringValue | null = null;
    if (Buffer.isBuffer(v)) {
      nv = growInPlace(v, total);
      if (nv !== null) nv.latin1Write(add, olen);
    }
    if (nv === null) {
      if (total <= BIG_VALUE) {
        nv = stringOf(v) + add;
      } else {
        const b = newGrowable(v, total);
        b.latin1Write(add, olen);
        nv = b;
      }
    }
    replaceValue(c.db, key, nv);
  }
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'append', key, c.db.id);
  c.addInt(total);
}

function strlen(c: Client, argv: string[]): void {
  const e = c.db.lookup(argv[1]);
  if (e === undefined) {
    c.addInt(0);
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  c.addInt(stringLength(v));
}

function setrange(c: Client, argv: string[]): void {
  const key = argv[1];
  const value = argv[3];
  const off = parseInt64(argv[2]);
  if (off === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (off < 0) {
    c.addError(E_OFFSET);
    return;
  }
  const vlen = value.length;
  const maxBulk = c.server.limits.maxBulk;
  const e = c.db.lookupWrite(key);
  if (e === undefined) {
    if (vlen === 0) {
      c.addInt(0);
      return;
    }
    if (typeof off !== 'number' || off + vlen > maxBulk) {
      c.addError(E_STRING_TOO_LONG);
      return;
    }
    const total = off + vlen;
    let nv: StringValue;
    if (total <= BIG_VALUE) {
      nv = off === 0 ? value : '\0'.repeat(off) + value;
    } else {
      const b = newGrowable(null, total);
      b.latin1Write(value, off);
      nv = b;
    }
    c.db.add(key, nv);
    c.server.dirty++;
    notify(c.server, NOTIFY_STRING, 'setrange', key, c.db.id);
    c.addInt(total);
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  const olen = stringLength(v);
  if (vlen === 0) {
    c.addInt(olen);
    return;
  }
  if (typeof off !== 'number' || off + vlen > maxBulk) {
    c.addError(E_STRING_TOO_LONG);
    return;
  }
  const end = off + vlen;
  const total = end > olen ? end : olen;
  let nv: StringValue | null = null;
  if (Buffer.isBuffer(v)) {
    nv = growInPlace(v, total);
    if (nv !== null) nv.latin1Write(value, off);
  }
  if (nv === null) {
    if (total <= BIG_VALUE) {
      const s = stringOf(v);
      if (off >= olen) nv = (off > olen ? s + '\0'.repeat(off - olen) : s) + value;
      else nv = s.slice(0, off) + value + (end < olen ? s.slice(end) : '');
    } else {
      const b = newGrowable(v, total);
      b.latin1Write(value, off);
      nv = b;
    }
  }
  replaceValue(c.db, key, nv);
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'setrange', key, c.db.id);
  c.addInt(total);
}

/** GETRANGE and SUBSTR, with Valkey's index rules. */
function getrange(c: Client, argv: string[]): void {
  const s0 = parseInt64(argv[2]);
  if (s0 === null) {
    c.addError(E_NOT_INT);
    return;
  }
  const e0 = parseInt64(argv[3]);
  if (e0 === null) {
    c.addError(E_NOT_INT);
    return;
  }
  const e = c.db.lookup(argv[1]);
  if (e === undefined) {
    c.addBulk('');
    return;
  }
  const v = e;
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  // Both negative and reversed: empty (compared exactly, they may be bigints).
  if (s0 < 0 && e0 < 0 && s0 > e0) {
    c.addBulk('');
    return;
  }
  const str = typeof v === 'number' ? String(v) : v;
  const len = str.length;
  // Beyond 2^53 an index is far outside any string: a double keeps its sign and order.
  let start = Number(s0);
  let end = Number(e0);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) {
    c.addBulk('');
    return;
  }
  if (typeof str === 'string') c.addBulk(str.slice(start, end + 1));
  else c.addBulkBuf(str.subarray(start, end + 1));
}

// ------------------------------------------------------------------ counters

function incrDecr(c: Client, key: string, by: number | bigint): void {
  const e = c.db.lookupWrite(key);
  let cur: number | bigint = 0;
  if (e !== undefined) {
    const v = e;
    if (typeof v === 'number') {
      cur = v;
    } else {
      if (!isStringValue(v)) {
        c.addError(E_WRONGTYPE);
        return;
      }
      const p = parseInt64(typeof v === 'string' ? v : stringOf(v));
      if (p === null) {
        c.addError(E_NOT_INT);
        return;
      }
      cur = p;
    }
  }
  if (typeof cur === 'number' && typeof by === 'number') {
    // Hot path: stays a small number, no allocation.
    const r = cur + by;
    if (r <= MAX_COMPACT && r >= -MAX_COMPACT) {
      if (e !== undefined) replaceValue(c.db, key, r);
      else c.db.add(key, r);
      c.server.dirty++;
      notify(c.server, NOTIFY_STRING, 'incrby', key, c.db.id);
      c.addInt(r);
      return;
    }
  }
  const big = BigInt(cur) + BigInt(by);
  if (big > INT64_MAX || big < INT64_MIN) {
    c.addError(E_OVERFLOW);
    return;
  }
  const small = big <= BigInt(MAX_COMPACT) && big >= -BigInt(MAX_COMPACT);
  const nv: StringValue = small ? Number(big) : big.toString();
  if (e !== undefined) replaceValue(c.db, key, nv);
  else c.db.add(key, nv);
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'incrby', key, c.db.id);
  if (big <= 9007199254740991n && big >= -9007199254740991n) c.addInt(Number(big));
  else c.addBigInt(big);
}

function incr(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], 1);
}

function decr(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], -1);
}

function incrby(c: Client, argv: string[]): void {
  const by = parseInt64(argv[2]);
  if (by === null) {
    c.addError(E_NOT_INT);
    return;
  }
  incrDecr(c, argv[1], by);
}

function decrby(c: Client, argv: string[]): void {
  const by = parseInt64(argv[2]);
  if (by === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (by === INT64_MIN) {
    c.addError(E_DECR_OVERFLOW);
    return;
  }
  incrDecr(c, argv[1], -by);
}

function incrbyfloat(c: Client, argv: string[]): void {
  const key = argv[1];
  const e = c.db.lookupWrite(key);
  let cur: LongDouble = LD_ZERO;
  if (e !== undefined) {
    const v = e;
    if (!isStringValue(v)) {
      c.addError(E_WRONGTYPE);
      return;
    }
    const p = typeof v === 'number' ? longDoubleFromInt(v) : parseLongDouble(typeof v === 'string' ? v : stringOf(v));
    if (p === null) {
      c.addError(E_NOT_FLOAT);
      return;
    }
    cur = p;
  }
  const inc = parseLongDouble(argv[2]);
  if (inc === null) {
    c.addError(E_NOT_FLOAT);
    return;
  }
  const r = addLongDouble(cur, inc);
  if (r === null || r.inf) {
    c.addError(E_NAN);
    return;
  }
  const s = formatLongDouble(r);
  // Stored as a string even when it looks like an integer: Valkey does not
  // int-encode INCRBYFLOAT results (OBJECT ENCODING says embstr).
  const nv = s;
  if (e !== undefined) replaceValue(c.db, key, nv);
  else c.db.add(key, nv);
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'incrbyfloat', key, c.db.id);
  // Propagated as the result, so float formatting never differs between copies.
  if (c.server.prop.active) c.server.prop.replace(['SET', key, s, 'KEEPTTL']);
  c.addBulk(s);
}

// ------------------------------------------------------------------ LCS

function lcs(c: Client, argv: string[]): void {
  const ea = c.db.lookup(argv[1]);
  const eb = c.db.lookup(argv[2]);
  if ((ea !== undefined && !isStringValue(ea)) || (eb !== undefined && !isStringValue(eb))) {
    c.addError(E_LCS_TYPES);
    return;
  }
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  const argc = argv.length;
  for (let j = 3; j < argc; j++) {
    const opt = argv[j];
    if (tok(opt, 'idx')) getIdx = true;
    else if (tok(opt, 'len')) getLen = true;
    else if (tok(opt, 'withmatchlen')) withMatchLen = true;
    else if (tok(opt, 'minmatchlen') && j < argc - 1) {
      const m = parseInt64(argv[++j]);
      if (m === null) {
        c.addError(E_NOT_INT);
        return;
      }
      minMatchLen = m < 0 ? 0 : Number(m);
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  if (getLen && getIdx) {
    c.addError(E_LCS_LEN_IDX);
    return;
  }
  const a = ea === undefined ? '' : stringOf(ea as StringValue);
  const b = eb === undefined ? '' : stringOf(eb as StringValue);
  const alen = a.length;
  const blen = b.length;
  if (alen >= 0xfffffffe || blen >= 0xfffffffe) {
    c.addError(E_LCS_TOO_LONG);
    return;
  }
  const cols = blen + 1;
  const cells = (alen + 1) * cols;
  // Valkey's table has 4-byte cells; its limit is checked on that size.
  if (cells * 4 > c.server.limits.maxBulk) {
    c.addError(E_LCS_MEM_LIMIT);
    return;
  }
  // A cell never exceeds min(alen, blen): use the narrowest array that fits.
  const maxLcs = alen < blen ? alen : blen;
  let t: Uint8Array | Uint16Array | Uint32Array;
  try {
    t = maxLcs < 256 ? new Uint8Array(cells) : maxLcs < 65536 ? new Uint16Array(cells) : new Uint32Array(cells);
  } catch {
    c.addError(E_LCS_MEM_FAIL);
    return;
  }
  // t[i * cols + j] = LCS length of a[0..i) and b[0..j); row 0 and column 0 stay 0.
  for (let i = 1; i <= alen; i++) {
    const ca = a.charCodeAt(i - 1);
    const row = i * cols;
    const prev = row - cols;
    for (let j = 1; j <= blen; j++) {
      if (ca === b.charCodeAt(j - 1)) {
        t[row + j] = t[prev + j - 1] + 1;
      } else {
        const up = t[prev + j];
        const left = t[row + j - 1];
        t[row + j] = up > left ? up : left;
      }
    }
  }
  const total = t[alen * cols + blen];
  if (getLen) {
    c.addInt(total);
    return;
  }
  // Walk back from the end, collecting the LCS bytes and the matching ranges.
  const out = getIdx ? null : Buffer.allocUnsafe(total);
  const ranges: number[] = [];
  let idx = total;
  let aStart = alen; // alen: no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    const ch = a.charCodeAt(i - 1);
    if (ch === b.charCodeAt(j - 1)) {
      if (out !== null) out[idx - 1] = ch;
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (t[(i - 1) * cols + j] > t[i * cols + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) ranges.push(aStart, aEnd, bStart, bEnd, matchLen);
      aStart = alen;
    }
  }
  if (!getIdx) {
    c.addBulkBuf(out!);
    return;
  }
  c.addMapLen(2);
  c.addBulk('matches');
  const n = ranges.length / 5;
  c.addArrayLen(n);
  for (let k = 0; k < ranges.length; k += 5) {
    c.addArrayLen(withMatchLen ? 3 : 2);
    c.addArrayLen(2);
    c.addInt(ranges[k]);
    c.addInt(ranges[k + 1]);
    c.addArrayLen(2);
    c.addInt(ranges[k + 2]);
    c.addInt(ranges[k + 3]);
    if (withMatchLen) c.addInt(ranges[k + 4]);
  }
  c.addBulk('len');
  c.addInt(total);
}

export const commands: HandlerMap = {
  get,
  set,
  setnx,
  setex,
  psetex,
  getset,
  getdel,
  getex,
  delifeq,
  mget,
  mset,
  msetnx,
  append,
  strlen,
  setrange,
  getrange,
  substr: getrange,
  incr,
  decr,
  incrby,
  decrby,
  incrbyfloat,
  lcs,
};
