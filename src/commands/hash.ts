// Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS,
// HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN, and Valkey 9's
// field expiration: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL,
// HEXPIRETIME, HPEXPIRETIME, HPERSIST, HGETEX, HSETEX, HGETDEL.
//
// Field expiry is lazy and active. Every hash command that finds a hash with
// volatile fields first deletes the fields whose time passed (so HLEN, HGETALL,
// HSCAN ... never see them), and deletes the key when that empties it. The
// server cron calls activeExpireHashFields(), which walks the keys known to
// hold volatile hashes within a time budget. Keys are registered here when a
// hash command leaves volatile fields in them; a volatile hash moved by
// RENAME/MOVE/SWAPDB/COPY is registered again the next time a hash command
// touches it (lazy expiry applies meanwhile).
import { performance } from 'node:perf_hooks';
import type { HandlerMap } from './table.js';
import { ofType, removeMembers } from './collection-common.js';
import { LookaheadIterator, ScanKind, parseScanOptions } from './scan-common.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { clock, type Db } from '../keyspace/db.js';
import { propagateExpiredFields, replicaHashView } from '../replication/hash-expiry.js';
import { HashObject } from '../data/hash.js';
import { lpFirst, lpGet, lpNext, lpSafeInt, lpSkip } from '../data/listpack.js';
import { globMatch } from '../util/glob.js';
import { parseInt64 } from '../util/numbers.js';
import { addLongDouble, formatLongDouble, longDoubleFromInt, parseLongDouble } from '../util/longdouble.js';
import { parseScanCursor } from './keyspace.js';
import { E_INVALID_EXPIRE, E_NOT_FLOAT, E_NOT_INT, E_OVERFLOW, E_SYNTAX } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_HASH } from '../server/notify.js';

const E_HASH_NOT_INT = 'ERR hash value is not an integer';
const E_HASH_NOT_FLOAT = 'ERR hash value is not a float';
const E_NAN_INF = 'ERR value is NaN or Infinity';
const E_INCR_NAN = 'ERR increment would produce NaN or Infinity';
const E_NUMFIELDS = 'ERR numfields should be greater than 0 and match the provided number of fields';
const E_INVALID_CURSOR = 'ERR invalid cursor';
const E_RANGE = 'ERR value is out of range';
const E_LONG_RANGE = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;
/** Negative HRANDFIELD counts beyond this would build replies no client can take. */
const MAX_RANDOM_REPLY = 1 << 27;

/** Counters for INFO-style reporting (fields removed because their time passed). */
export const hashFieldStats = { expiredFields: 0 };

// ------------------------------------------------------------------ helpers

/** The argument as C sees it (options are compared with strcasecmp: a NUL ends the string). */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

function isOpt(arg: string, lowerName: string): boolean {
  return arg.length >= lowerName.length && cstr(arg).toLowerCase() === lowerName;
}

function maxEntries(c: Client): number {
  return c.server.config.num('hash-max-listpack-entries');
}

function maxValue(c: Client): number {
  return c.server.config.num('hash-max-listpack-value');
}

/** Keys of each database that (may) hold hashes with volatile fields. */
const volatileKeys = new WeakMap<Db, Map<string, HashObject>>();
const volatileIters = new WeakMap<Db, Iterator<[string, HashObject]>>();

function track(db: Db, key: string, h: HashObject): void {
  let m = volatileKeys.get(db);
  if (m === undefined) {
    m = new Map();
    volatileKeys.set(db, m);
  }
  if (m.get(key) !== h) m.set(key, h);
}

/** SWAPDB, or the swap of a swapdb full sync: each database's registered volatile hashes go with its data. */
export function swapVolatileHashes(a: Db, b: Db): void {
  const ka = volatileKeys.get(a);
  const kb = volatileKeys.get(b);
  if (kb !== undefined) volatileKeys.set(a, kb);
  else volatileKeys.delete(a);
  if (ka !== undefined) volatileKeys.set(b, ka);
  else volatileKeys.delete(b);
  volatileIters.delete(a);
  volatileIters.delete(b);
}

/** Registers a hash stored without a hash command (RDB/AOF load, RESTORE) for active field expiry when it has volatile fields. */
export function trackVolatileHash(db: Db, key: string, h: HashObject): void {
  if (h.hasVolatile()) track(db, key, h);
}

/**
 * Deletes the due fields of a volatile hash; deletes the key when that empties
 * it. Returns true when the key is gone.
 */
function reclaim(server: Server, db: Db, key: string, h: HashObject, now: number): boolean {
  if (h.nextExpire() < now) {
    const gone: string[] = [];
    hashFieldStats.expiredFields += h.expireDue(now, Infinity, gone);
    propagateExpiredFields(server, db.id, key, gone);
    if (h.size === 0) {
      db.delete(key);
      return true;
    }
  }
  if (h.hasVolatile()) track(db, key, h);
  return false;
}

/**
 * Looks a hash up for reading (counted as a keyspace hit/miss). Returns the
 * hash, undefined when missing, or null after replying WRONGTYPE.
 */
function readHash(c: Client, key: string): HashObject | undefined | null {
  return liveFields(c, key, ofType(c, c.db.lookup(key), HashObject), true);
}

/** Looks a hash up for writing (not counted); same returns as readHash. */
function writeHash(c: Client, key: string): HashObject | undefined | null {
  return liveFields(c, key, ofType(c, c.db.lookupWrite(key), HashObject));
}

/** Drops the expired fields of a looked-up hash; undefined when that emptied it. */
function liveFields(c: Client, key: string, h: HashObject | undefined | null, read = false): HashObject | undefined | null {
  if (!h || !h.hasVolatile()) return h;
  // A replica waits for the primary's HDEL (src/replication/hash-expiry.ts).
  const view = replicaHashView(c.db.ks.replica, h, clock.ms, read);
  if (view !== null) return view;
  if (reclaim(c.server, c.db, key, h, clock.ms)) return undefined;
  return h;
}

/** The hash at key for a write that creates it, or null after replying WRONGTYPE. */
function writeOrCreate(c: Client, key: string): HashObject | null {
  const h = writeHash(c, key);
  if (h === null) return null;
  if (h !== undefined) return h;
  const n = new HashObject();
  c.db.add(key, n);
  return n;
}

/**
 * Valkey's hashTypeTryConversion: converts a listpack up front when the command
 * brings more field/value pairs than the listpack may hold, or any argument
 * longer than hash-max-listpack-value.
 */
function tryConversion(c: Client, h: HashObject, argv: string[], start: number, end: number): void {
  if (!h.isListpack()) return;
  if ((end - start + 1) / 2 > maxEntries(c)) {
    h.convert();
    return;
  }
  const mv = maxValue(c);
  for (let i = start; i <= end; i++) {
    if (argv[i].length > mv) {
      h.convert();
      return;
    }
  }
}

// ------------------------------------------------------------------ basic commands

function hsetGeneric(c: Client, argv: string[], isHmset: boolean): void {
  const argc = argv.length;
  if (argc % 2 === 1) {
    c.addError(`ERR wrong number of arguments for '${isHmset ? 'hmset' : 'hset'}' command`);
    return;
  }
  const h = writeOrCreate(c, argv[1]);
  if (h === null) return;
  let me = 0;
  let mv = 0;
  // A hashtable never reads the thresholds: no config lookups on its hot path.
  if (h.isListpack()) {
    tryConversion(c, h, argv, 2, argc - 1);
    me = maxEntries(c);
    mv = maxValue(c);
  }
  let created = 0;
  if (h.isListpack()) created = h.setMany(argv, 2, argc, me, mv); // new fields in one rebuild
  else for (let i = 2; i < argc; i += 2) if (h.set(argv[i], argv[i + 1], me, mv)) created++;
  c.server.dirty += (argc - 2) / 2;
  notify(c.server, NOTIFY_HASH, 'hset', argv[1], c.db.id);
  if (isHmset) c.addOK();
  else c.addInt(created);
}

function hset(c: Client, argv: string[]): void {
  hsetGeneric(c, argv, false);
}

function hmset(c: Client, argv: string[]): void {
  hsetGeneric(c, argv, true);
}

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1];
  const found = writeHash(c, key);
  if (found === null) return;
  if (found !== undefined && found.has(argv[2])) {
    c.addInt(0);
    return;
  }
  const h = found ?? new HashObject();
  if (found === undefined) c.db.add(key, h);
  tryConversion(c, h, argv, 2, 3);
  h.set(argv[2], argv[3], maxEntries(c), maxValue(c));
  c.server.dirty++;
  notify(c.server, NOTIFY_HASH, 'hset', key, c.db.id);
  c.addInt(1);
}

function hget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const v = h?.getRaw(argv[2]);
  if (v === undefined) c.addNull();
  else c.addBulkValue(v);
}

function hmget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const argc = argv.length;
  c.addArrayLen(argc - 2);
  for (let i = 2; i < argc; i++) {
    const v = h?.getRaw(argv[i]);
    if (v === undefined) c.addNull();
    else c.addBulkValue(v);
  }
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  if (h === undefined) {
    c.addInt(0);
    return;
  }
  removeMembers(c, key, h, argv, 2, (x, m) => x.delete(m), NOTIFY_HASH, 'hdel');
}

function hlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.addInt(h === undefined ? 0 : h.size);
}

function hstrlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const v = h?.get(argv[2]);
  c.addInt(v === undefined ? 0 : v.length);
}

function hexists(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.addInt(h !== undefined && h.has(argv[2]) ? 1 : 0);
}

const WANT_FIELDS = 1;
const WANT_VALUES = 2;

function hgetallGeneric(c: Client, argv: string[], what: number): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const both = what === (WANT_FIELDS | WANT_VALUES);
  const n = h === undefined ? 0 : h.size;
  if (both) c.addMapLen(n);
  else c.addArrayLen(n);
  if (h === undefined) return;
  const lp = h.listpack();
  if (lp !== null) {
    // A listpack is walked once: field, value, field, value...
    for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) {
      if (what & WANT_FIELDS) c.addBulk(lpGet(lp, p));
      p = lpSkip(lp, p);
      if (what & WANT_VALUES) addLpEntry(c, lp, p);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    if (what & WANT_FIELDS) c.addBulk(h.fieldAt(i));
    if (what & WANT_VALUES) c.addBulkValue(h.rawValueAt(i));
  }
}

/** The listpack entry at p as a bulk string (an integer entry without making its string). */
function addLpEntry(c: Client, lp: string, p: number): void {
  const v = lpSafeInt(lp, p);
  if (v === v) c.addBulkInt(v);
  else c.addBulk(lpGet(lp, p));
}

function hkeys(c: Client, argv: string[]): void {
  hgetallGeneric(c, argv, WANT_FIELDS);
}

function hvals(c: Client, argv: string[]): void {
  hgetallGeneric(c, argv, WANT_VALUES);
}

function hgetall(c: Client, argv: string[]): void {
  hgetallGeneric(c, argv, WANT_FIELDS | WANT_VALUES);
}

function hincrby(c: Client, argv: string[]): void {
  const inc = parseInt64(argv[3]);
  if (inc === null) {
    c.addError(E_NOT_INT);
    return;
  }
  const h = writeOrCreate(c, argv[1]);
  if (h === null) return;
  const field = argv[2];
  // As stored: a small integer comes as a number (no string to make and parse).
  const cur = h.getRaw(field);
  let p: number | bigint = 0;
  if (cur !== undefined) {
    const q = typeof cur === 'number' ? cur : parseInt64(cur);
    if (q === null) {
      c.addError(E_HASH_NOT_INT);
      dropIfEmpty(c, argv[1], h);
      return;
    }
    p = q;
  }
  if (typeof p === 'number' && typeof inc === 'number') {
    // Safe integers with a safe sum (exact, and inside int64): no BigInt.
    const n = p + inc;
    if (Number.isSafeInteger(n)) {
      h.set(field, String(n), maxEntries(c), maxValue(c), true);
      c.server.dirty++;
      notify(c.server, NOTIFY_HASH, 'hincrby', argv[1], c.db.id);
      c.addInt(n);
      return;
    }
  }
  const r = BigInt(p) + BigInt(inc);
  if (r > LLONG_MAX || r < LLONG_MIN) {
    c.addError(E_OVERFLOW);
    dropIfEmpty(c, argv[1], h);
    return;
  }
  const s = r.toString();
  h.set(field, s, maxEntries(c), maxValue(c), true);
  c.server.dirty++;
  notify(c.server, NOTIFY_HASH, 'hincrby', argv[1], c.db.id);
  if (r >= -9007199254740991n && r <= 9007199254740991n) c.addInt(Number(r));
  else c.addBigInt(r);
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const inc = parseLongDouble(argv[3]);
  if (inc === null) {
    c.addError(E_NOT_FLOAT);
    return;
  }
  if (inc.inf) {
    c.addError(E_NAN_INF);
    return;
  }
  const h = writeOrCreate(c, argv[1]);
  if (h === null) return;
  const field = argv[2];
  const cur = h.get(field);
  let value = longDoubleFromInt(0);
  if (cur !== undefined) {
    const p = parseLongDouble(cur);
    if (p === null) {
      c.addError(E_HASH_NOT_FLOAT);
      dropIfEmpty(c, argv[1], h);
      return;
    }
    value = p;
  }
  const r = addLongDouble(value, inc);
  if (r === null || r.inf) {
    c.addError(E_INCR_NAN);
    dropIfEmpty(c, argv[1], h);
    return;
  }
  const s = formatLongDouble(r);
  h.set(field, s, maxEntries(c), maxValue(c), true);
  c.server.dirty++;
  notify(c.server, NOTIFY_HASH, 'hincrbyfloat', argv[1], c.db.id);
  // Propagated as HSET key field result, like Valkey.
  if (c.server.prop.active) c.server.prop.replace(['HSET', argv[1], field, s]);
  c.addBulk(s);
}

/** A hash created by a command that then failed is removed again (never leave an empty key). */
function dropIfEmpty(c: Client, key: string, h: HashObject): void {
  if (h.size === 0) c.db.delete(key);
}

// ------------------------------------------------------------------ HRANDFIELD

function randInt(n: number): number {
  return Math.floor(Math.random() * n);
}

function hrandfield(c: Client, argv: string[]): void {
  const argc = argv.length;
  if (argc >= 3) {
    const l = parseInt64(argv[2]);
    if (l === null) {
      c.addError(E_NOT_INT);
      return;
    }
    if (l === LLONG_MIN) {
      c.addError(E_LONG_RANGE);
      return;
    }
    let withValues = false;
    if (argc > 4 || (argc === 4 && !isOpt(argv[3], 'withvalues'))) {
      c.addError(E_SYNTAX);
      return;
    }
    if (argc === 4) {
      withValues = true;
      if (l < -4611686018427387903n || l > 4611686018427387903n) {
        c.addError(E_RANGE);
        return;
      }
    }
    hrandfieldWithCount(c, argv[1], l, withValues);
    return;
  }
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) {
    c.addNull();
    return;
  }
  c.addBulk(h.fieldAt(randInt(h.size)));
}

function hrandfieldWithCount(c: Client, key: string, l: number | bigint, withValues: boolean): void {
  const h = readHash(c, key);
  if (h === null) return;
  if (h === undefined) {
    c.addEmptyArray();
    return;
  }
  const size = h.size;
  const uniq = l >= 0;
  const countBig = uniq ? BigInt(l) : -BigInt(l);
  if (countBig === 0n) {
    c.addEmptyArray();
    return;
  }
  const resp3 = c.resp === 3;
  // A listpack is read into pairs once (its fieldAt walks from the start).
  const all = h.isListpack() ? h.pairs() : null;
  const emit = (i: number) => {
    if (withValues && resp3) c.addArrayLen(2);
    c.addBulk(all !== null ? all[2 * i] : h.fieldAt(i));
    if (withValues) c.addBulk(all !== null ? all[2 * i + 1] : h.valueAt(i));
  };
  const header = (n: number) => c.addArrayLen(withValues && !resp3 ? n * 2 : n);

  // Negative count (or 1): N independent random picks, repeats allowed.
  if (!uniq || countBig === 1n) {
    if (countBig > BigInt(MAX_RANDOM_REPLY)) {
      c.addError(E_RANGE);
      return;
    }
    const count = Number(countBig);
    header(count);
    for (let k = 0; k < count; k++) emit(randInt(size));
    return;
  }
  // Count at least the size: the whole hash.
  if (countBig >= BigInt(size)) {
    header(size);
    for (let i = 0; i < size; i++) emit(i);
    return;
  }
  const count = Number(countBig);
  header(count);
  if (h.isListpack() || count * 3 > size) {
    // A random subset: partial Fisher-Yates over the positions; a listpack
    // answers in its own order, like Valkey's lpRandomPairsUnique.
    const pos = new Array<number>(size);
    for (let i = 0; i < size; i++) pos[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + randInt(size - i);
      const t = pos[i];
      pos[i] = pos[j];
      pos[j] = t;
    }
    const pick = pos.slice(0, count);
    if (h.isListpack()) pick.sort((a, b) => a - b);
    for (const i of pick) emit(i);
    return;
  }
  // Big hash, few fields wanted: random picks until enough distinct ones.
  const seen = new Set<number>();
  while (seen.size < count) {
    const i = randInt(size);
    if (seen.has(i)) continue;
    seen.add(i);
    emit(i);
  }
}

// ------------------------------------------------------------------ HSCAN


function hscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.addError(E_INVALID_CURSOR);
    return;
  }
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) {
    c.addArrayLen(2);
    c.addBulk('0');
    c.addEmptyArray();
    return;
  }
  const opts = parseScanOptions(c, argv, 3, ScanKind.Hash);
  if (opts === null) return;
  const count = opts.count;
  const pattern = opts.pattern;
  const noValues = opts.noValues;
  const out: string[] = [];
  const lp = h.listpack();
  if (lp !== null) {
    // A listpack answers everything at once, COUNT notwithstanding.
    for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) {
      const f = lpGet(lp, p);
      p = lpSkip(lp, p);
      if (pattern !== null && !globMatch(pattern, f)) continue;
      out.push(f);
      if (!noValues) out.push(lpGet(lp, p));
    }
    c.addArrayLen(2);
    c.addBulk('0');
    c.addBulkArray(out);
    return;
  }
  const cursors = c.server.scanCursors;
  let it = cursor === 0n ? null : cursors.take(cursor, h);
  if (it === null) it = h.fieldIterator();
  let done = false;
  for (let walked = 0; walked < count; walked++) {
    const r = it.next();
    if (r.done) {
      done = true;
      break;
    }
    const f = r.value;
    const v = h.get(f);
    if (v === undefined) continue;
    if (pattern !== null && !globMatch(pattern, f)) continue;
    out.push(f);
    if (!noValues) out.push(v);
  }
  if (!done) {
    const r = it.next();
    if (r.done) done = true;
    else if (it instanceof LookaheadIterator) it.first = r.value;
    else it = new LookaheadIterator(r.value, it);
  }
  c.addArrayLen(2);
  if (done) c.addBulk('0');
  else c.addBulk(cursors.put(it, h, clock.ms).toString());
  c.addBulkArray(out);
}

// ------------------------------------------------------------------ field expiration

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Index of the FIELDS token searched from `from` up to the next-to-last argument, or -1. */
function findFields(argv: string[], from: number): number {
  for (let i = from; i < argv.length - 1; i++) if (isOpt(argv[i], 'fields')) return i;
  return -1;
}

/**
 * Valkey's convertExpireArgumentToUnixTime: a non-negative int64, times 1000 for
 * seconds, plus the base time, without overflow. Replies and returns null on error.
 */
function expireArgToUnixMs(c: Client, arg: string, baseMs: number, seconds: boolean, name: string): number | null {
  const v = parseInt64(arg);
  if (v === null) {
    c.addError(E_NOT_INT);
    return null;
  }
  let when = BigInt(v);
  if (when < 0n) {
    c.addError(E_INVALID_EXPIRE(name));
    return null;
  }
  if (seconds) {
    if (when > LLONG_MAX / 1000n) {
      c.addError(E_INVALID_EXPIRE(name));
      return null;
    }
    when *= 1000n;
  }
  const base = BigInt(baseMs);
  if (when > LLONG_MAX - base) {
    c.addError(E_INVALID_EXPIRE(name));
    return null;
  }
  return Number(when + base);
}

const EXPIRE_NOT_EXIST = -2;
const EXPIRE_FAILED_CONDITION = 0;
const EXPIRE_SET = 1;
const EXPIRE_DELETED = 2;

/** hashTypeSetExpire: per-field HEXPIRE result code. */
function setFieldExpire(h: HashObject | undefined, field: string, when: number, flag: number, now: number): number {
  if (h === undefined) return EXPIRE_NOT_EXIST;
  const past = when <= now;
  if (h.isListpack()) {
    if (!h.has(field)) return EXPIRE_NOT_EXIST;
    // Listpack fields have no expire time: XX and GT cannot hold.
    if (flag & (EXPIRE_XX | EXPIRE_GT)) return EXPIRE_FAILED_CONDITION;
    if (past) {
      h.delete(field);
      return EXPIRE_DELETED;
    }
    h.convert();
  }
  if (!h.has(field)) return EXPIRE_NOT_EXIST;
  const cur = h.getExpire(field);
  if (flag & EXPIRE_NX && cur !== -1) return EXPIRE_FAILED_CONDITION;
  if (flag & EXPIRE_XX && cur === -1) return EXPIRE_FAILED_CONDITION;
  if (flag & EXPIRE_GT && (cur === -1 || when <= cur)) return EXPIRE_FAILED_CONDITION;
  if (flag & EXPIRE_LT && cur !== -1 && when >= cur) return EXPIRE_FAILED_CONDITION;
  if (past) {
    h.delete(field);
    return EXPIRE_DELETED;
  }
  h.setExpire(field, when);
  return EXPIRE_SET;
}

function hexpireGeneric(c: Client, argv: string[], relative: boolean, seconds: boolean, name: string): void {
  const argc = argv.length;
  const fi = findFields(argv, 3);
  let numFields: number | bigint = 0;
  let start = argc;
  if (fi >= 0) {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    let flag = 0;
    for (let j = 3; j < fi; j++) {
      const o = argv[j];
      if (isOpt(o, 'nx') && cstr(o).length === 2) nx = true;
      else if (isOpt(o, 'xx') && cstr(o).length === 2) xx = true;
      else if (isOpt(o, 'gt') && cstr(o).length === 2) gt = true;
      else if (isOpt(o, 'lt') && cstr(o).length === 2) lt = true;
      else {
        c.addError(`ERR Unsupported option ${cstr(o)}`);
        return;
      }
    }
    if (nx && (xx || gt || lt)) {
      c.addError('ERR NX and XX, GT or LT options at the same time are not compatible');
      return;
    }
    if (gt && lt) {
      c.addError('ERR GT and LT options at the same time are not compatible');
      return;
    }
    flag = (nx ? EXPIRE_NX : 0) | (xx ? EXPIRE_XX : 0) | (gt ? EXPIRE_GT : 0) | (lt ? EXPIRE_LT : 0);
    const n = parseInt64(argv[fi + 1]);
    if (n === null) {
      c.addError(E_NOT_INT);
      return;
    }
    numFields = n;
    start = fi + 2;
    hexpireRun(c, argv, relative, seconds, name, flag, numFields, start);
    return;
  }
  if (numFields === 0 || numFields !== argc - start) c.addError(E_NUMFIELDS);
}

function hexpireRun(
  c: Client,
  argv: string[],
  relative: boolean,
  seconds: boolean,
  name: string,
  flag: number,
  numFields: number | bigint,
  start: number,
): void {
  const argc = argv.length;
  if (numFields === 0 || numFields !== argc - start) {
    c.addError(E_NUMFIELDS);
    return;
  }
  const now = clock.ms;
  const when = expireArgToUnixMs(c, argv[2], relative ? now : 0, seconds, name);
  if (when === null) return;
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  // Propagated with an absolute time: HPEXPIREAT key <unix ms> [condition] FIELDS n field...
  if (c.server.prop.active && (relative || seconds)) c.server.prop.replace(['HPEXPIREAT', key, String(when), ...argv.slice(3)]);
  c.addArrayLen(argc - start);
  let changed = 0;
  for (let i = start; i < argc; i++) {
    const r = setFieldExpire(h, argv[i], when, flag, now);
    if (r === EXPIRE_SET || r === EXPIRE_DELETED) changed++;
    if (r === EXPIRE_DELETED) hashFieldStats.expiredFields++;
    c.addInt(r);
  }
  if (h !== undefined && changed > 0) {
    c.server.dirty += changed;
    notify(c.server, NOTIFY_HASH, when <= now ? 'hexpired' : 'hexpire', key, c.db.id);
    if (h.size === 0) notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
    if (h.size === 0) c.db.delete(key);
    else if (h.hasVolatile()) track(c.db, key, h);
  }
}

function hexpire(c: Client, argv: string[]): void {
  hexpireGeneric(c, argv, true, true, 'hexpire');
}
function hpexpire(c: Client, argv: string[]): void {
  hexpireGeneric(c, argv, true, false, 'hpexpire');
}
function hexpireat(c: Client, argv: string[]): void {
  hexpireGeneric(c, argv, false, true, 'hexpireat');
}
function hpexpireat(c: Client, argv: string[]): void {
  hexpireGeneric(c, argv, false, false, 'hpexpireat');
}

/** HTTL / HPTTL / HEXPIRETIME / HPEXPIRETIME. */
function httlGeneric(c: Client, argv: string[], relative: boolean, ms: boolean): void {
  const argc = argv.length;
  const n = parseInt64(argv[3]);
  if (n === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (n === 0 || n !== argc - 4) {
    c.addError(E_SYNTAX);
    return;
  }
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const base = relative ? clock.ms : 0;
  c.addArrayLen(argc - 4);
  for (let i = 4; i < argc; i++) {
    const f = argv[i];
    if (h === undefined || !h.has(f)) {
      c.addInt(-2);
      continue;
    }
    const t = h.getExpire(f);
    if (t === -1) {
      c.addInt(-1);
      continue;
    }
    let r = t - base;
    if (r < 0) r = 0;
    c.addInt(ms ? r : Math.floor((r + 500) / 1000));
  }
}

function httl(c: Client, argv: string[]): void {
  httlGeneric(c, argv, true, false);
}
function hpttl(c: Client, argv: string[]): void {
  httlGeneric(c, argv, true, true);
}
function hexpiretime(c: Client, argv: string[]): void {
  httlGeneric(c, argv, false, false);
}
function hpexpiretime(c: Client, argv: string[]): void {
  httlGeneric(c, argv, false, true);
}

/** Parses numfields at argv[3] for HPERSIST / HGETDEL; replies and returns false on error. */
function checkNumFieldsAt3(c: Client, argv: string[]): boolean {
  const n = parseInt64(argv[3]);
  if (n === null) {
    c.addError(E_NOT_INT);
    return false;
  }
  if (n === 0 || n !== argv.length - 4) {
    c.addError(E_NUMFIELDS);
    return false;
  }
  return true;
}

function hpersist(c: Client, argv: string[]): void {
  if (!checkNumFieldsAt3(c, argv)) return;
  const h = writeHash(c, argv[1]);
  if (h === null) return;
  const argc = argv.length;
  c.addArrayLen(argc - 4);
  let changes = 0;
  for (let i = 4; i < argc; i++) {
    const f = argv[i];
    if (h === undefined || !h.has(f)) c.addInt(-2);
    else if (h.persist(f)) {
      changes++;
      c.addInt(1);
    } else c.addInt(-1);
  }
  c.server.dirty += changes;
  if (changes !== 0) notify(c.server, NOTIFY_HASH, 'hpersist', argv[1], c.db.id);
}

function hgetdel(c: Client, argv: string[]): void {
  if (!checkNumFieldsAt3(c, argv)) return;
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  const argc = argv.length;
  c.addArrayLen(argc - 4);
  let deleted = 0;
  for (let i = 4; i < argc; i++) {
    const v = h?.get(argv[i]);
    if (v === undefined) {
      c.addNull();
      continue;
    }
    c.addBulk(v);
    h!.delete(argv[i]);
    deleted++;
  }
  if (deleted > 0) {
    c.server.dirty += deleted;
    notify(c.server, NOTIFY_HASH, 'hdel', key, c.db.id);
    if (h!.size === 0) c.db.delete(key);
    if (h!.size === 0) notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  }
}

const ARG_NX = 1;
const ARG_XX = 2;
const ARG_FNX = 4;
const ARG_FXX = 8;
const ARG_KEEPTTL = 16;
const ARG_PERSIST = 32;
const ARG_EX = 64;
const ARG_PX = 128;
const ARG_EXAT = 256;
const ARG_PXAT = 512;
const ARG_ANY_EXPIRE = ARG_EX | ARG_PX | ARG_EXAT | ARG_PXAT;

interface ExtArgs {
  flags: number;
  expire: string | null;
}

/**
 * The options of HSETEX (NX XX FNX FXX KEEPTTL EX PX EXAT PXAT) or HGETEX
 * (EX PX EXAT PXAT PERSIST) between argv[from] and argv[to - 1], with the
 * SET-style rules: conflicting options are a syntax error.
 */
function parseExtArgs(c: Client, argv: string[], from: number, to: number, setMode: boolean): ExtArgs | null {
  let flags = 0;
  let expire: string | null = null;
  for (let j = from; j < to; j++) {
    const o = cstr(argv[j]).toLowerCase();
    const hasNext = j + 1 < to;
    if (setMode && o === 'nx' && !(flags & ARG_XX)) flags |= ARG_NX;
    else if (setMode && o === 'xx' && !(flags & ARG_NX)) flags |= ARG_XX;
    else if (setMode && o === 'fnx' && !(flags & ARG_FXX)) flags |= ARG_FNX;
    else if (setMode && o === 'fxx' && !(flags & ARG_FNX)) flags |= ARG_FXX;
    else if (setMode && o === 'keepttl' && !(flags & (ARG_PERSIST | ARG_ANY_EXPIRE))) flags |= ARG_KEEPTTL;
    else if (!setMode && o === 'persist' && !(flags & (ARG_KEEPTTL | ARG_ANY_EXPIRE))) flags |= ARG_PERSIST;
    else if (hasNext && (o === 'ex' || o === 'px' || o === 'exat' || o === 'pxat')) {
      const bit = o === 'ex' ? ARG_EX : o === 'px' ? ARG_PX : o === 'exat' ? ARG_EXAT : ARG_PXAT;
      if (flags & (ARG_KEEPTTL | ARG_PERSIST | (ARG_ANY_EXPIRE & ~bit))) {
        c.addError(E_SYNTAX);
        return null;
      }
      flags |= bit;
      expire = argv[++j];
    } else {
      c.addError(E_SYNTAX);
      return null;
    }
  }
  return { flags, expire };
}

/** HGETEX/HSETEX with EX/PX/EXAT are propagated with PXAT <unix ms> instead (options lie before FIELDS at fi). */
function propagateAbsoluteExpire(c: Client, argv: string[], fi: number, when: number): void {
  for (let j = 2; j < fi - 1; j++) {
    const o = argv[j].toLowerCase();
    if (o === 'ex' || o === 'px' || o === 'exat' || o === 'pxat') {
      if (o === 'pxat') return;
      const out = argv.slice();
      out[j] = 'PXAT';
      out[j + 1] = String(when);
      c.server.prop.replace(out);
      return;
    }
  }
}

function hgetex(c: Client, argv: string[]): void {
  const argc = argv.length;
  const fi = findFields(argv, 1);
  let numFields: number | bigint = -1;
  let start = argc;
  let ext: ExtArgs = { flags: 0, expire: null };
  if (fi >= 0) {
    const e = parseExtArgs(c, argv, 2, fi, false);
    if (e === null) return;
    ext = e;
    const n = parseInt64(argv[fi + 1]);
    if (n === null) {
      c.addError(E_NOT_INT);
      return;
    }
    numFields = n;
    start = fi + 2;
  }
  if (numFields === 0 || numFields !== argc - start) {
    c.addError(E_NUMFIELDS);
    return;
  }
  const key = argv[1];
  const h = readHash(c, key);
  if (h === null) return;
  const now = clock.ms;
  let when = -1;
  let setExpired = false;
  const persist = (ext.flags & ARG_PERSIST) !== 0;
  if (!persist && ext.expire !== null) {
    const abs = (ext.flags & (ARG_EXAT | ARG_PXAT)) !== 0;
    const secs = (ext.flags & (ARG_EX | ARG_EXAT)) !== 0;
    const w = expireArgToUnixMs(c, ext.expire, abs ? 0 : now, secs, 'hgetex');
    if (w === null) return;
    if (c.server.prop.active) propagateAbsoluteExpire(c, argv, fi, w);
    if (w <= now) setExpired = true;
    else when = w;
  }
  c.addArrayLen(argc - start);
  let changes = 0;
  for (let i = start; i < argc; i++) {
    const f = argv[i];
    const v = h?.get(f);
    if (v === undefined) c.addNull();
    else c.addBulk(v);
    if (h === undefined) continue;
    if (setExpired) {
      if (h.delete(f)) {
        changes++;
        hashFieldStats.expiredFields++;
      }
    } else if (when !== -1) {
      if (setFieldExpire(h, f, when, 0, now) === EXPIRE_SET) changes++;
    } else if (persist) {
      if (h.has(f) && h.persist(f)) changes++;
    }
  }
  if (changes > 0 && h !== undefined) {
    c.server.dirty += changes;
    notify(c.server, NOTIFY_HASH, setExpired ? 'hexpired' : when !== -1 ? 'hexpire' : 'hpersist', key, c.db.id);
    if (h.size === 0) {
      c.db.delete(key);
      notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
    } else if (h.hasVolatile()) track(c.db, key, h);
  }
}

function hsetex(c: Client, argv: string[]): void {
  const argc = argv.length;
  const fi = findFields(argv, 1);
  let numFields: number | bigint = 0;
  let start = argc;
  let ext: ExtArgs = { flags: 0, expire: null };
  if (fi >= 0) {
    const e = parseExtArgs(c, argv, 2, fi, true);
    if (e === null) return;
    ext = e;
    const n = parseInt64(argv[fi + 1]);
    if (n === null) {
      c.addError(E_NOT_INT);
      return;
    }
    numFields = n;
    start = fi + 2;
  }
  const nf = BigInt(numFields);
  if (nf === 0n || nf > LLONG_MAX / 2n || nf * 2n !== BigInt(argc - start)) {
    c.addError(E_NUMFIELDS);
    return;
  }
  const key = argv[1];
  const found = writeHash(c, key);
  if (found === null) return;
  const flags = ext.flags;
  if ((flags & ARG_NX && found !== undefined) || (flags & ARG_XX && found === undefined)) {
    c.addInt(0);
    return;
  }
  const now = clock.ms;
  const keepTtl = (flags & ARG_KEEPTTL) !== 0;
  let when = -1;
  let setExpired = false;
  if (!keepTtl && ext.expire !== null) {
    const abs = (flags & (ARG_EXAT | ARG_PXAT)) !== 0;
    const secs = (flags & (ARG_EX | ARG_EXAT)) !== 0;
    const w = expireArgToUnixMs(c, ext.expire, abs ? 0 : now, secs, 'hsetex');
    if (w === null) return;
    if (c.server.prop.active) propagateAbsoluteExpire(c, argv, fi, w);
    if (w <= now) setExpired = true;
    else when = w;
  }
  if (flags & (ARG_FNX | ARG_FXX)) {
    if (found !== undefined) {
      for (let i = start; i < argc; i += 2) {
        const has = found.has(argv[i]);
        if ((flags & ARG_FNX && has) || (flags & ARG_FXX && !has)) {
          c.addInt(0);
          return;
        }
      }
    } else if (flags & ARG_FXX) {
      c.addInt(0);
      return;
    }
  }
  const h = found ?? new HashObject();
  if (found === undefined) c.db.add(key, h);
  const me = maxEntries(c);
  const mv = maxValue(c);
  let changes = 0;
  for (let i = start; i < argc; i += 2) {
    const f = argv[i];
    if (setExpired) {
      if (h.delete(f)) {
        changes++;
        hashFieldStats.expiredFields++;
      }
      continue;
    }
    h.set(f, argv[i + 1], me, mv, keepTtl);
    if (when !== -1) h.setExpire(f, when);
    changes++;
  }
  if (changes > 0) {
    c.server.dirty += changes;
    // Valkey 9's events: hexpired for a time already past, else hset (and hexpire with a TTL given).
    if (setExpired) notify(c.server, NOTIFY_HASH, 'hexpired', key, c.db.id);
    else {
      notify(c.server, NOTIFY_HASH, 'hset', key, c.db.id);
      if (ext.expire !== null && !keepTtl) notify(c.server, NOTIFY_HASH, 'hexpire', key, c.db.id);
    }
    if (h.size === 0) {
      c.db.delete(key);
      notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
    } else if (h.hasVolatile()) track(c.db, key, h);
  } else if (h.size === 0) c.db.delete(key); // a time already past on a new key: nothing to keep
  c.addInt(BigInt(changes) === nf ? 1 : 0);
}

// ------------------------------------------------------------------ active expiry

/**
 * One bounded pass of active field expiry (called from the server cron): per
 * database, walk the keys registered as holding volatile hashes, from where the
 * last pass stopped, deleting up to 80 due fields per key, within `budgetMs`.
 * Returns the number of fields deleted.
 */
export function activeExpireHashFields(server: Server, now: number, budgetMs: number): number {
  if (server.keyspace.replica !== 0) return 0; // replicas wait for the primary's HDEL
  const t0 = performance.now();
  let total = 0;
  for (const db of server.dbs) {
    const keys = volatileKeys.get(db);
    if (keys === undefined || keys.size === 0) continue;
    let it = volatileIters.get(db) ?? keys.entries();
    let visited = 0;
    const limit = keys.size;
    while (visited < limit) {
      let r = it.next();
      if (r.done) {
        it = keys.entries();
        r = it.next();
        if (r.done) break;
      }
      visited++;
      const [key, h] = r.value;
      if (db.dict.get(key) !== h || !h.hasVolatile()) {
        keys.delete(key);
        continue;
      }
      if (db.isExpired(key, now)) continue; // the key itself is due: key expiry handles it
      const gone: string[] = [];
      const n = h.expireDue(now, 80, gone);
      propagateExpiredFields(server, db.id, key, gone);
      if (n > 0) {
        total += n;
        hashFieldStats.expiredFields += n;
        notify(server, NOTIFY_HASH, 'hexpired', key, db.id);
        if (h.size === 0) notify(server, NOTIFY_GENERIC, 'del', key, db.id);
        if (h.size === 0) {
          db.delete(key);
          keys.delete(key);
        } else if (!h.hasVolatile()) keys.delete(key);
      }
      if ((visited & 7) === 0 && performance.now() - t0 > budgetMs) break;
    }
    volatileIters.set(db, it);
    if (performance.now() - t0 > budgetMs) break;
  }
  return total;
}

export const commands: HandlerMap = {
  hset,
  hmset,
  hsetnx,
  hget,
  hmget,
  hdel,
  hlen,
  hstrlen,
  hexists,
  hkeys,
  hvals,
  hgetall,
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
  hexpire,
  hpexpire,
  hexpireat,
  hpexpireat,
  httl,
  hpttl,
  hexpiretime,
  hpexpiretime,
  hpersist,
  hgetex,
  hsetex,
  hgetdel,
};

// ------------------------------------------------------------------ metadata

type MetaEntryT = import('./table.js').MetaEntry;
type ArgMetaT = import('./table.js').ArgMeta;

const KEY_RW_UPDATE = [{ flags: ['RW', 'UPDATE'], bs: { type: 'index' as const, pos: 1 }, fk: { type: 'range' as const, lastkey: 0, step: 1, limit: 0 } }];
const KEY_RO_ACCESS = [{ flags: ['RO', 'ACCESS'], bs: { type: 'index' as const, pos: 1 }, fk: { type: 'range' as const, lastkey: 0, step: 1, limit: 0 } }];
const FIELDS_BLOCK: ArgMetaT = {
  name: 'fields',
  type: 'block',
  token: 'FIELDS',
  arguments: [
    { name: 'numfields', type: 'integer' },
    { name: 'field', type: 'string', multiple: true },
  ],
};
const KEY_ARG: ArgMetaT = { name: 'key', type: 'key', key_spec_index: 0 };
const EXPIRE_CONDITION: ArgMetaT = {
  name: 'condition',
  type: 'oneof',
  optional: true,
  arguments: [
    { name: 'nx', type: 'pure-token', token: 'NX' },
    { name: 'xx', type: 'pure-token', token: 'XX' },
    { name: 'gt', type: 'pure-token', token: 'GT' },
    { name: 'lt', type: 'pure-token', token: 'LT' },
  ],
};

function expireMeta(name: string, argName: string, argType: string): MetaEntryT {
  return {
    name,
    arity: -6,
    group: 'hash',
    since: '9.0.0',
    complexity: 'O(N) where N is the number of specified fields.',
    flags: ['write', 'fast'],
    acl: ['hash'],
    tips: [],
    keySpecs: KEY_RW_UPDATE,
    args: [KEY_ARG, { name: argName, type: argType }, EXPIRE_CONDITION, FIELDS_BLOCK],
  };
}

function ttlMeta(name: string): MetaEntryT {
  return {
    name,
    arity: -5,
    group: 'hash',
    since: '9.0.0',
    complexity: 'O(N) where N is the number of specified fields.',
    flags: ['readonly', 'fast'],
    acl: ['hash'],
    tips: [],
    keySpecs: KEY_RO_ACCESS,
    args: [KEY_ARG, FIELDS_BLOCK],
  };
}

const EXPIRATION_ARGS: ArgMetaT[] = [
  { name: 'seconds', type: 'integer', token: 'EX' },
  { name: 'milliseconds', type: 'integer', token: 'PX' },
  { name: 'unix-time-seconds', type: 'unix-time', token: 'EXAT' },
  { name: 'unix-time-milliseconds', type: 'unix-time', token: 'PXAT' },
];

/** Metadata of Valkey 9's hash field expiration commands (absent from meta.json). */
export const HASH_META: Record<string, MetaEntryT> = {
  hexpire: expireMeta('hexpire', 'seconds', 'integer'),
  hpexpire: expireMeta('hpexpire', 'milliseconds', 'integer'),
  hexpireat: expireMeta('hexpireat', 'unix-time-seconds', 'unix-time'),
  hpexpireat: expireMeta('hpexpireat', 'unix-time-milliseconds', 'unix-time'),
  httl: ttlMeta('httl'),
  hpttl: ttlMeta('hpttl'),
  hexpiretime: ttlMeta('hexpiretime'),
  hpexpiretime: ttlMeta('hpexpiretime'),
  hpersist: { ...ttlMeta('hpersist'), flags: ['write', 'fast'], keySpecs: KEY_RW_UPDATE },
  hgetex: {
    name: 'hgetex',
    arity: -5,
    group: 'hash',
    since: '9.0.0',
    complexity: 'O(N) where N is the number of specified fields.',
    flags: ['write', 'fast'],
    acl: ['hash'],
    tips: [],
    keySpecs: [{ flags: ['RW', 'ACCESS'], bs: { type: 'index', pos: 1 }, fk: { type: 'range', lastkey: 0, step: 1, limit: 0 } }],
    args: [
      KEY_ARG,
      { name: 'expiration', type: 'oneof', optional: true, arguments: [...EXPIRATION_ARGS, { name: 'persist', type: 'pure-token', token: 'PERSIST' }] },
      FIELDS_BLOCK,
    ],
  },
  hsetex: {
    name: 'hsetex',
    arity: -6,
    group: 'hash',
    since: '9.0.0',
    complexity: 'O(N) where N is the number of specified fields.',
    flags: ['write', 'denyoom', 'fast'],
    acl: ['hash'],
    tips: [],
    keySpecs: [{ flags: ['RW', 'INSERT'], bs: { type: 'index', pos: 1 }, fk: { type: 'range', lastkey: 0, step: 1, limit: 0 } }],
    args: [
      KEY_ARG,
      {
        name: 'key-condition',
        type: 'oneof',
        optional: true,
        arguments: [
          { name: 'nx', type: 'pure-token', token: 'NX' },
          { name: 'xx', type: 'pure-token', token: 'XX' },
        ],
      },
      {
        name: 'fields-condition',
        type: 'oneof',
        optional: true,
        arguments: [
          { name: 'fnx', type: 'pure-token', token: 'FNX' },
          { name: 'fxx', type: 'pure-token', token: 'FXX' },
        ],
      },
      { name: 'expiration', type: 'oneof', optional: true, arguments: [...EXPIRATION_ARGS, { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL' }] },
      {
        name: 'fields',
        type: 'block',
        token: 'FIELDS',
        arguments: [
          { name: 'numfields', type: 'integer' },
          {
            name: 'data',
            type: 'block',
            multiple: true,
            arguments: [
              { name: 'field', type: 'string' },
              { name: 'value', type: 'string' },
            ],
          },
        ],
      },
    ],
  },
  hgetdel: {
    name: 'hgetdel',
    arity: -5,
    group: 'hash',
    since: '9.1.0',
    complexity: 'O(N) where N is the number of fields to be retrieved and deleted.',
    flags: ['write', 'fast'],
    acl: ['hash'],
    tips: [],
    keySpecs: [{ flags: ['RW', 'ACCESS', 'DELETE'], bs: { type: 'index', pos: 1 }, fk: { type: 'range', lastkey: 0, step: 1, limit: 0 } }],
    args: [KEY_ARG, FIELDS_BLOCK],
  },
};
