// Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY,
// RENAME(NX), COPY, MOVE, SWAPDB, FLUSHDB, FLUSHALL, DBSIZE, the EXPIRE family,
// TTL family, PERSIST, TOUCH and OBJECT. Replies follow Valkey 8 exactly.
//
// SCAN cursors name live Map iterators (src/keyspace/scan.ts), which visit every
// key present for the whole iteration exactly once. A cursor that the server
// does not know (never issued, already used, evicted from the bounded table or
// idle too long), or whose database was flushed or swapped since, restarts the
// iteration from the beginning: keys may then be returned again (SCAN allows
// duplicates) but no key present throughout is ever missed.
import { delCommand } from '../persistence/aof/effective.js';
import { lfuDecrAndReturn } from '../keyspace/evict.js';
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { clock, type Db } from '../keyspace/db.js';
import { LookaheadIterator, ScanKind, parseScanOptions } from './scan-common.js';
import { ObjType, objType, stringEncoding, typeName, type Value } from '../keyspace/types.js';
import { globMatch } from '../util/glob.js';
import { INT64_MAX, INT64_MIN, parseInt64 } from '../util/numbers.js';
import { E_DB_INDEX, E_INVALID_EXPIRE, E_NO_SUCH_KEY, E_NOT_INT, E_SYNTAX } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC } from '../server/notify.js';
import { swapVolatileHashes } from './hash.js';

const E_SAME_OBJECT = 'ERR source and destination objects are the same';
const E_INVALID_CURSOR = 'ERR invalid cursor';
const E_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';
const E_LFU_NOT_SELECTED =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const E_LFU_SELECTED =
  'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** Refcount Valkey reports for its shared objects (INT_MAX). */
const SHARED_REFCOUNT = 2147483647;
/** Valkey shares the integers 0..9999 (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;
/** Valkey's LRU clock: 24 bits of seconds. */
const LRU_CLOCK_MAX = 0xffffff;

// ------------------------------------------------------------------ helpers

/** The argument as C sees it (Valkey compares options with strcasecmp: a NUL ends the string). */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

/** Case-insensitive comparison of an argument with a lower-case option name, strcasecmp-style. */
function isOpt(arg: string, lowerName: string): boolean {
  return arg.length >= lowerName.length && cstr(arg).toLowerCase() === lowerName;
}

// Valkey's three kinds of lookups, each lazily expiring the key:
// - for writing: updates the access time, not counted in keyspace hits/misses;
// - for reading: updates the access time, counted;
// - for reading without touching (EXISTS, TYPE, TTL, OBJECT): counted only.
// A CLIENT NO-TOUCH client never updates access times (TOUCH excepted).

function lookupWrite(c: Client, db: Db, key: string): Value | undefined {
  const e = db.peek(key);
  if (e !== undefined && !c.noTouch) db.touchClock(key);
  return e;
}

function lookupRead(c: Client, db: Db, key: string): Value | undefined {
  return c.noTouch ? lookupNoTouch(db, key) : db.lookup(key);
}

function lookupNoTouch(db: Db, key: string): Value | undefined {
  const e = db.peek(key);
  if (e === undefined) {
    db.ks.stats.misses++;
    if (db.hooks.onKeyMiss) db.hooks.onKeyMiss(db, key);
  } else db.ks.stats.hits++;
  return e;
}

/**
 * Valkey's getIntFromObjectOrReply: an int64 in canonical form, then the int32
 * range. `msg` replaces both errors when given. Replies and returns null on error.
 */
function getInt32(c: Client, arg: string, msg: string | null = null): number | null {
  const v = parseInt64(arg);
  if (v === null) {
    c.addError(msg ?? E_NOT_INT);
    return null;
  }
  if (typeof v === 'bigint' || v < -2147483648 || v > 2147483647) {
    c.addError(msg ?? E_INT_RANGE);
    return null;
  }
  return v;
}

/** The database with this index, or undefined when out of range. */
function dbAt(c: Client, id: number): Db | undefined {
  return id >= 0 && id < c.server.dbs.length ? c.server.dbs[id] : undefined;
}

function maxmemoryPolicy(c: Client): string {
  return c.server.config.get('maxmemory-policy');
}

function lfuPolicy(c: Client): boolean {
  return maxmemoryPolicy(c).endsWith('-lfu');
}

/** Valkey shares small integers unless maxmemory is set with an LRU/LFU policy. */
function canShareIntegers(c: Client): boolean {
  const p = maxmemoryPolicy(c);
  return c.server.maxmemory === 0 || !(p.endsWith('-lru') || p.endsWith('-lfu'));
}

/** Carries a key's TTL (exact int64) from one place to another. */
function copyExpire(src: Db, srcKey: string, dst: Db, dstKey: string): void {
  const when = src.getExpireExact(srcKey);
  if (when !== -1n) dst.setExpireExact(dstKey, when);
}

/** An independent copy of a value (COPY). */
function duplicate(c: Client, v: Value): Value | null {
  if (typeof v === 'string') return v;
  // Numbers are immutable: the copy shares them. (Valkey makes a private
  // int-encoded copy of a shared small integer, so its OBJECT REFCOUNT says 1
  // where ours says 2147483647; OBJECT ENCODING is "int" in both.)
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (typeof v.clone === 'function') return v.clone();
  c.addError('ERR unknown type object');
  return null;
}

// ------------------------------------------------------------------ DEL, UNLINK, EXISTS, TYPE, TOUCH

function delGeneric(c: Client, argv: string[]): void {
  const db = c.db;
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i];
    // A key that expires now was not deleted by this command.
    if (db.expireIfNeeded(key)) continue;
    if (db.delete(key)) {
      n++;
      notify(c.server, NOTIFY_GENERIC, 'del', key, db.id);
    }
  }
  c.server.dirty += n;
  c.addInt(n);
}

function exists(c: Client, argv: string[]): void {
  const db = c.db;
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookupNoTouch(db, argv[i]) !== undefined) n++;
  c.addInt(n);
}

function type(c: Client, argv: string[]): void {
  const e = lookupNoTouch(c.db, argv[1]);
  c.addSimple(e === undefined ? 'none' : typeName(e));
}

/** TOUCH updates the access time even for a CLIENT NO-TOUCH client. */
function touch(c: Client, argv: string[]): void {
  const db = c.db;
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (db.lookup(argv[i]) !== undefined) n++;
  c.addInt(n);
}

// ------------------------------------------------------------------ KEYS, SCAN, RANDOMKEY, DBSIZE

function keys(c: Client, argv: string[]): void {
  const db = c.db;
  const pattern = argv[1];
  const all = pattern === '*';
  const out: string[] = [];
  const checkTtl = db.expires.size !== 0;
  // Logically expired keys are skipped, not deleted (like Valkey's KEYS).
  for (const key of db.dict.keys()) {
    if ((all || globMatch(pattern, key)) && !(checkTtl && db.isExpired(key))) out.push(key);
  }
  c.addBulkArray(out);
}

/**
 * Valkey's string2ull on a C string: a canonical int64 that is not negative, or
 * else whatever strtoull accepts in full (leading spaces, a sign, leading zeros;
 * a '-' wraps around), with no overflow. Returns null when invalid.
 */
export function parseScanCursor(arg: string): bigint | null {
  const s = cstr(arg);
  const ll = parseInt64(s);
  if (ll !== null) return ll < 0 ? null : BigInt(ll);
  let i = 0;
  const n = s.length;
  while (i < n) {
    const ch = s.charCodeAt(i);
    if (ch === 32 || (ch >= 9 && ch <= 13)) i++;
    else break;
  }
  let neg = false;
  if (i < n && (s[i] === '+' || s[i] === '-')) {
    neg = s[i] === '-';
    i++;
  }
  const start = i;
  while (i < n) {
    const ch = s.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    i++;
  }
  if (i === start || i !== n) return null;
  const v = BigInt(s.slice(start, i));
  if (v > 18446744073709551615n) return null;
  return neg && v !== 0n ? 18446744073709551616n - v : v;
}

/** SCAN TYPE names (matched case-insensitively). */
const TYPE_BY_NAME = new Map<string, ObjType>([
  ['string', ObjType.String],
  ['list', ObjType.List],
  ['set', ObjType.Set],
  ['zset', ObjType.ZSet],
  ['hash', ObjType.Hash],
  ['stream', ObjType.Stream],
]);

function scan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[1]);
  if (cursor === null) {
    c.addError(E_INVALID_CURSOR);
    return;
  }
  const opts = parseScanOptions(c, argv, 2, ScanKind.Keys, (raw) => {
    const name = cstr(raw);
    return TYPE_BY_NAME.has(name.toLowerCase()) ? null : `ERR unknown type name '${name}'`;
  });
  if (opts === null) return;
  const count = opts.count;
  const pattern = opts.pattern;
  const typeFilter = opts.typeName === null ? -1 : TYPE_BY_NAME.get(cstr(opts.typeName).toLowerCase())!;

  const db = c.db;
  const dict = db.dict;
  const cursors = c.server.scanCursors;
  let it = cursor === 0n ? null : cursors.take(cursor, dict);
  if (it === null) it = dict.keys();
  const out: string[] = [];
  let done = false;
  // Walk COUNT keys; filter by TYPE, then MATCH, then drop (and delete) expired
  // keys, in Valkey's order (a key filtered out is not lazily expired).
  for (let walked = 0; walked < count; walked++) {
    const r = it.next();
    if (r.done) {
      done = true;
      break;
    }
    const key = r.value;
    const e = dict.get(key);
    if (e === undefined) continue; // taken ahead and deleted since
    if (typeFilter >= 0 && objType(e) !== typeFilter) continue;
    if (pattern !== null && !globMatch(pattern, key)) continue;
    if (db.expires.size !== 0 && db.expireIfNeeded(key)) continue;
    out.push(key);
  }
  if (!done) {
    // Look one key ahead so an iteration that ends exactly here answers cursor 0.
    const r = it.next();
    if (r.done) done = true;
    else if (it instanceof LookaheadIterator) it.first = r.value;
    else it = new LookaheadIterator(r.value, it);
  }
  c.addArrayLen(2);
  if (done) c.addBulk('0');
  else c.addBulk(cursors.put(it, dict, clock.ms).toString());
  c.addBulkArray(out);
}

function randomkey(c: Client): void {
  const key = c.db.randomKey();
  if (key === undefined) c.addNull();
  else c.addBulk(key);
}

function dbsize(c: Client): void {
  c.addInt(c.db.size);
}

// ------------------------------------------------------------------ RENAME, RENAMENX, MOVE, COPY

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const db = c.db;
  const src = argv[1];
  const dst = argv[2];
  const e = lookupWrite(c, db, src);
  if (e === undefined) {
    c.addError(E_NO_SUCH_KEY);
    return;
  }
  if (src === dst) {
    if (nx) c.addInt(0);
    else c.addOK();
    return;
  }
  const when = db.getExpireExact(src);
  if (lookupWrite(c, db, dst) !== undefined) {
    if (nx) {
      c.addInt(0);
      return;
    }
    db.delete(dst);
  }
  const clk = db.clockOf(src);
  db.delete(src);
  db.dict.set(dst, e, clk);
  if (db.hooks.onNew) db.hooks.onNew(db, dst);
  c.server.blocking.signalKeyReady(db, dst);
  if (when !== -1n) db.setExpireExact(dst, when);
  c.server.dirty++;
  notify(c.server, NOTIFY_GENERIC, 'rename_from', src, db.id);
  notify(c.server, NOTIFY_GENERIC, 'rename_to', dst, db.id);
  if (nx) c.addInt(1);
  else c.addOK();
}

function rename(c: Client, argv: string[]): void {
  renameGeneric(c, argv, false);
}

function renamenx(c: Client, argv: string[]): void {
  renameGeneric(c, argv, true);
}

function move(c: Client, argv: string[]): void {
  if (c.server.cluster !== null) return c.addError('ERR MOVE is not allowed in cluster mode');
  const src = c.db;
  const id = getInt32(c, argv[2]);
  if (id === null) return;
  const dst = dbAt(c, id);
  if (dst === undefined) {
    c.addError(E_DB_INDEX);
    return;
  }
  if (dst === src) {
    c.addError(E_SAME_OBJECT);
    return;
  }
  const key = argv[1];
  const e = lookupWrite(c, src, key);
  if (e === undefined || lookupWrite(c, dst, key) !== undefined) {
    c.addInt(0);
    return;
  }
  dst.dict.set(key, e, src.clockOf(key));
  if (dst.hooks.onNew) dst.hooks.onNew(dst, key);
  c.server.blocking.signalKeyReady(dst, key);
  copyExpire(src, key, dst, key);
  src.delete(key);
  c.server.dirty++;
  notify(c.server, NOTIFY_GENERIC, 'move_from', key, src.id);
  notify(c.server, NOTIFY_GENERIC, 'move_to', key, dst.id);
  c.addInt(1);
}

function copy(c: Client, argv: string[]): void {
  const src = c.db;
  let dst = src;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    if (isOpt(opt, 'replace')) {
      replace = true;
    } else if (isOpt(opt, 'db') && j + 1 < argv.length) {
      const id = getInt32(c, argv[j + 1]);
      if (id === null) return;
      const d = dbAt(c, id);
      if (d === undefined) {
        c.addError(E_DB_INDEX);
        return;
      }
      dst = d;
      j++;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  if (c.server.cluster !== null && dst !== src) return c.addError('ERR Copying to another database is not allowed in cluster mode');
  const key = argv[1];
  const newkey = argv[2];
  if (src === dst && key === newkey) {
    c.addError(E_SAME_OBJECT);
    return;
  }
  const e = lookupRead(c, src, key);
  if (e === undefined) {
    c.addInt(0);
    return;
  }
  const exists = lookupWrite(c, dst, newkey) !== undefined;
  if (exists && !replace) {
    c.addInt(0);
    return;
  }
  const v = duplicate(c, e);
  if (v === null) return;
  if (exists) dst.delete(newkey);
  dst.add(newkey, v);
  copyExpire(src, key, dst, newkey);
  c.server.dirty++;
  notify(c.server, NOTIFY_GENERIC, 'copy_to', newkey, dst.id);
  c.addInt(1);
}

// ------------------------------------------------------------------ SWAPDB, FLUSHDB, FLUSHALL

function swapdb(c: Client, argv: string[]): void {
  if (c.server.cluster !== null) return c.addError('ERR SWAPDB is not allowed in cluster mode');
  const id1 = getInt32(c, argv[1], 'ERR invalid first DB index');
  if (id1 === null) return;
  const id2 = getInt32(c, argv[2], 'ERR invalid second DB index');
  if (id2 === null) return;
  const a = dbAt(c, id1);
  const b = dbAt(c, id2);
  if (a === undefined || b === undefined) {
    c.addError(E_DB_INDEX);
    return;
  }
  if (a !== b) {
    a.swapWith(b);
    swapVolatileHashes(a, b);
    c.server.blocking.onSwapDb(a, b);
  }
  c.server.dirty++;
  c.addOK();
}

/** FLUSHDB / FLUSHALL take nothing, SYNC or ASYNC (both flush at once here). */
function flushArgsOk(c: Client, argv: string[]): boolean {
  if (argv.length === 1) return true;
  if (argv.length === 2 && (isOpt(argv[1], 'sync') || isOpt(argv[1], 'async'))) return true;
  c.addError(E_SYNTAX);
  return false;
}

function flushdb(c: Client, argv: string[]): void {
  if (!flushArgsOk(c, argv)) return;
  c.server.dirty += c.db.flush();
  c.server.blocking.onFlush(c.db);
  c.addOK();
}

function flushall(c: Client, argv: string[]): void {
  if (!flushArgsOk(c, argv)) return;
  let n = 0;
  for (const db of c.server.dbs) {
    n += db.flush();
    c.server.blocking.onFlush(db);
  }
  c.server.dirty += n;
  c.server.rdb.afterFlushAll();
  c.addOK();
}

// ------------------------------------------------------------------ EXPIRE family, TTL family, PERSIST

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/**
 * EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT. `relative` adds the command time;
 * `seconds` scales by 1000. Overflow checks as Valkey does them, on int64.
 */
function expireGeneric(c: Client, argv: string[], name: string, relative: boolean, seconds: boolean): void {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = cstr(argv[j]);
    const o = opt.toLowerCase();
    if (o === 'nx') flags |= EXPIRE_NX;
    else if (o === 'xx') flags |= EXPIRE_XX;
    else if (o === 'gt') flags |= EXPIRE_GT;
    else if (o === 'lt') flags |= EXPIRE_LT;
    else {
      c.addError(`ERR Unsupported option ${opt}`);
      return;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.addError('ERR NX and XX, GT or LT options at the same time are not compatible');
    return;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    c.addError('ERR GT and LT options at the same time are not compatible');
    return;
  }
  const v = parseInt64(argv[2]);
  if (v === null) {
    c.addError(E_NOT_INT);
    return;
  }
  let when = BigInt(v);
  if (seconds) {
    // C division truncates toward zero, as BigInt division does.
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      c.addError(E_INVALID_EXPIRE(name));
      return;
    }
    when *= 1000n;
  }
  const base = relative ? BigInt(clock.ms) : 0n;
  if (when > INT64_MAX - base) {
    c.addError(E_INVALID_EXPIRE(name));
    return;
  }
  when += base;

  const db = c.db;
  const key = argv[1];
  if (lookupWrite(c, db, key) === undefined) {
    c.addInt(0);
    return;
  }
  if (flags !== 0) {
    const cur = db.getExpireExact(key);
    if (flags & EXPIRE_NX && cur !== -1n) return c.addInt(0);
    if (flags & EXPIRE_XX && cur === -1n) return c.addInt(0);
    // A key without a TTL counts as an infinite TTL.
    if (flags & EXPIRE_GT && (cur === -1n || when <= cur)) return c.addInt(0);
    if (flags & EXPIRE_LT && cur !== -1n && when >= cur) return c.addInt(0);
  }
  if (when <= BigInt(clock.ms)) {
    // A time in the past deletes the key at once.
    db.delete(key);
    notify(c.server, NOTIFY_GENERIC, 'del', key, db.id);
    if (c.server.prop.active) c.server.prop.replace([delCommand(c.server, 'lazyfree-lazy-expire'), key]);
  } else {
    db.setExpireExact(key, when);
    notify(c.server, NOTIFY_GENERIC, 'expire', key, db.id);
    // Propagated as PEXPIREAT key <unix ms> [flags], like Valkey.
    if (c.server.prop.active && (relative || seconds)) c.server.prop.replace(['PEXPIREAT', key, when.toString(), ...argv.slice(3)]);
  }
  c.server.dirty++;
  c.addInt(1);
}

function expire(c: Client, argv: string[]): void {
  expireGeneric(c, argv, 'expire', true, true);
}

function pexpire(c: Client, argv: string[]): void {
  expireGeneric(c, argv, 'pexpire', true, false);
}

function expireat(c: Client, argv: string[]): void {
  expireGeneric(c, argv, 'expireat', false, true);
}

function pexpireat(c: Client, argv: string[]): void {
  expireGeneric(c, argv, 'pexpireat', false, false);
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL; never touch the key. */
function ttlGeneric(c: Client, argv: string[], ms: boolean, absolute: boolean): void {
  const db = c.db;
  const key = argv[1];
  if (lookupNoTouch(db, key) === undefined) {
    c.addInt(-2);
    return;
  }
  const t = db.getExpire(key);
  if (t === -1) {
    c.addInt(-1);
    return;
  }
  if (Number.isSafeInteger(t)) {
    let v = absolute ? t : t - clock.ms;
    if (v < 0) v = 0;
    c.addInt(ms ? v : Math.floor((v + 500) / 1000));
    return;
  }
  let v = db.getExpireExact(key);
  if (!absolute) v -= BigInt(clock.ms);
  if (v < 0n) v = 0n;
  c.addBigInt(ms ? v : (v + 500n) / 1000n);
}

function ttl(c: Client, argv: string[]): void {
  ttlGeneric(c, argv, false, false);
}

function pttl(c: Client, argv: string[]): void {
  ttlGeneric(c, argv, true, false);
}

function expiretime(c: Client, argv: string[]): void {
  ttlGeneric(c, argv, false, true);
}

function pexpiretime(c: Client, argv: string[]): void {
  ttlGeneric(c, argv, true, true);
}

function persist(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  if (lookupWrite(c, db, key) !== undefined && db.removeExpire(key)) {
    c.server.dirty++;
    notify(c.server, NOTIFY_GENERIC, 'persist', key, db.id);
    c.addInt(1);
  } else {
    c.addInt(0);
  }
}

// ------------------------------------------------------------------ OBJECT

const OBJECT_HELP = [
  'ENCODING <key>',
  '    Name the internal representation used to store the value at <key>.',
  'FREQ <key>',
  '    Logarithmic access frequency counter of <key> (needs an LFU maxmemory-policy).',
  'IDLETIME <key>',
  '    Seconds since <key> was last read or written (approximate).',
  'REFCOUNT <key>',
  '    Number of references held to the value at <key>.',
];

function objectHelp(c: Client, argv: string[]): void {
  c.addArrayLen(OBJECT_HELP.length + 3);
  c.addSimple(`${argv[0].toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const line of OBJECT_HELP) c.addSimple(line);
  c.addSimple('HELP');
  c.addSimple('    Print this help.');
}

/** OBJECT looks keys up without touching them; a missing key answers null. */
function objectLookup(c: Client, key: string): Value | undefined {
  const e = lookupNoTouch(c.db, key);
  if (e === undefined) c.addNull();
  return e;
}

function objectEncoding(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  const v = e;
  if (typeof v === 'string' || typeof v === 'number' || Buffer.isBuffer(v)) c.addBulk(stringEncoding(v));
  else c.addBulk(v.encoding());
}

function objectRefcount(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  const v = e;
  const shared = typeof v === 'number' && v >= 0 && v < SHARED_INTEGERS && Number.isInteger(v) && canShareIntegers(c);
  c.addInt(shared ? SHARED_REFCOUNT : 1);
}

function objectIdletime(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  if (lfuPolicy(c)) {
    c.addError(E_LFU_SELECTED);
    return;
  }
  const now = clock.lru;
  const lru = c.db.clockOf(argv[2]);
  const idle = now >= lru ? now - lru : now + (LRU_CLOCK_MAX - lru);
  c.addInt(idle);
}

function objectFreq(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  if (!lfuPolicy(c)) {
    c.addError(E_LFU_NOT_SELECTED);
    return;
  }
  c.addInt(lfuDecrAndReturn(c.db.clockOf(argv[2]), c.db.ks));
}

// ------------------------------------------------------------------ table

export const commands: HandlerMap = {
  del: delGeneric,
  unlink: delGeneric,
  exists,
  type,
  touch,
  keys,
  scan,
  randomkey,
  dbsize,
  rename,
  renamenx,
  move,
  copy,
  swapdb,
  flushdb,
  flushall,
  expire,
  pexpire,
  expireat,
  pexpireat,
  ttl,
  pttl,
  expiretime,
  pexpiretime,
  persist,
  'object|help': objectHelp,
  'object|encoding': objectEncoding,
  'object|refcount': objectRefcount,
  'object|idletime': objectIdletime,
  'object|freq': objectFreq,
};
