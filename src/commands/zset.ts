// Sorted set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZCOUNT, ZLEXCOUNT, ZSCORE,
// ZMSCORE, ZRANK, ZREVRANK, ZRANGE (+ BYSCORE/BYLEX/REV/LIMIT/WITHSCORES),
// ZRANGESTORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX,
// ZREVRANGE, ZREMRANGEBYRANK/BYSCORE/BYLEX, ZPOPMIN, ZPOPMAX, ZMPOP,
// ZRANDMEMBER, ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE,
// ZINTERCARD, ZSCAN, and the blocking BZPOPMIN, BZPOPMAX, BZMPOP.
//
// Replies follow Valkey 8: scores are RESP3 doubles (bulk strings in RESP2),
// WITHSCORES answers a flat array in RESP2 and [member, score] pairs in RESP3.
// Encodings: "listpack" (compact, no member index) while a set has at most
// zset-max-listpack-entries members of at most zset-max-listpack-value bytes,
// "skiplist" beyond; conversions happen where Valkey converts.
import type { HandlerMap } from './table.js';
import { ofType, removeMembers } from './collection-common.js';
import { LookaheadIterator, ScanKind, parseScanOptions } from './scan-common.js';
import type { Client } from '../server/client.js';
import { clock } from '../keyspace/db.js';
import { ObjType, objType, type Value } from '../keyspace/types.js';
import { ZSet, edgeM, edgeS, parseLexBound, type LexBound } from '../data/zset.js';
import { SetValue } from '../data/set.js';
import { formatDouble, parseInt64, strtod } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import { E_NOT_FLOAT, E_NOT_INT, E_NOT_POSITIVE, E_SYNTAX, E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_ZSET } from '../server/notify.js';
import { parseScanCursor } from './keyspace.js';
import { parseTimeout } from './list.js';

const E_MINMAX_FLOAT = 'ERR min or max is not a float';
const E_MINMAX_LEX = 'ERR min or max not valid string range item';
const E_NAN = 'ERR resulting score is not a number (NaN)';
const E_XX_NX = 'ERR XX and NX options at the same time are not compatible';
const E_GT_LT_NX = 'ERR GT, LT, and/or NX options at the same time are not compatible';
const E_INCR_PAIR = 'ERR INCR option supports a single increment-element pair';
const E_WEIGHT = 'ERR weight value is not a float';
const E_LIMIT_RANK = 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';
const E_WITHSCORES_LEX = 'ERR syntax error, WITHSCORES not supported in combination with BYLEX';
const E_NUMKEYS = 'ERR numkeys should be greater than 0';
const E_COUNT_GT0 = 'ERR count should be greater than 0';
const E_LIMIT_NEG = "ERR LIMIT can't be negative";
const E_INVALID_CURSOR = 'ERR invalid cursor';
const LONG_MAX = 9223372036854775807n;

// ------------------------------------------------------------------ helpers

/** The argument as C sees it: up to the first NUL byte. */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

/** Case-insensitive option match with strcasecmp semantics (stops at NUL). */
function tok(arg: string, lower: string): boolean {
  const n = lower.length;
  if (arg.length < n) return false;
  // Longer: only a NUL right after the option ends the C string there (a NUL
  // earlier fails the comparison below anyway).
  if (arg.length !== n && arg.charCodeAt(n) !== 0) return false;
  for (let i = 0; i < n; i++) {
    let ch = arg.charCodeAt(i);
    if (ch >= 65 && ch <= 90) ch |= 32;
    if (ch !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Valkey's string2d: the whole argument must be a strtod number, no leading
 * space, no NaN, no overflow to infinity and no underflow to zero.
 */
export function parseScore(s: string): number | null {
  const len = s.length;
  if (len === 0) return null;
  if (len <= 15) {
    // Fast path: an optional '-' and up to 15 decimal digits is that integer
    // exactly (and "-0" is -0, as strtod reads it).
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    if (i < len) {
      const neg = i === 1;
      let v = 0;
      for (; i < len; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === len) return neg ? -v : v;
    }
  }
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || (c0 >= 9 && c0 <= 13)) return null;
  const v = strtod(s);
  if (v === null || Number.isNaN(v)) return null;
  if (v === Infinity || v === -Infinity) {
    if (!/inf/i.test(s)) return null; // overflow (ERANGE)
  } else if (v === 0) {
    // Underflow to zero (ERANGE) when the mantissa has a non-zero digit.
    let t = s;
    if (t[0] === '+' || t[0] === '-') t = t.slice(1);
    if (t[0] === '0' && (t[1] === 'x' || t[1] === 'X')) {
      const p = t.search(/[pP]/);
      if (/[1-9a-fA-F]/.test(t.slice(2, p < 0 ? t.length : p))) return null;
    } else {
      const e = t.search(/[eE]/);
      if (/[1-9]/.test(e < 0 ? t : t.slice(0, e))) return null;
    }
  }
  return v;
}

/** A score range bound as Valkey's zslParseRange reads it (strtod up to the first NUL). */
function parseRangeItem(arg: string): [number, boolean] | null {
  let s = cstr(arg);
  let ex = false;
  if (s.charCodeAt(0) === 40 /* ( */) {
    ex = true;
    s = s.slice(1);
  }
  if (s.length === 0) return [0, ex]; // strtod of "" is 0 and stops at the end
  let i = 0;
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch === 32 || (ch >= 9 && ch <= 13)) i++;
    else break;
  }
  if (i === s.length) return null;
  const v = strtod(i === 0 ? s : s.slice(i));
  if (v === null || Number.isNaN(v)) return null;
  return [v, ex];
}

interface ScoreRange {
  min: number;
  minEx: boolean;
  max: number;
  maxEx: boolean;
}

function parseScoreRange(a: string, b: string): ScoreRange | null {
  const lo = parseRangeItem(a);
  const hi = parseRangeItem(b);
  if (lo === null || hi === null) return null;
  return { min: lo[0], minEx: lo[1], max: hi[0], maxEx: hi[1] };
}

/** getLongFromObject: an int64 (bigints beyond 2^53 become approximate numbers, which only clamp). */
function parseLong(s: string): number | null {
  const v = parseInt64(s);
  if (v === null) return null;
  return typeof v === 'bigint' ? Number(v) : v;
}

// zset-max-listpack-entries / -value, parsed again only when the config strings change.
let maxEntriesStr = '';
let maxValueStr = '';
let limEntries = 0;
let limValue = 0;

/** Loads limEntries and limValue (no array: ZADD on a small set runs this per member). */
function loadLimits(c: Client): void {
  const cfg = c.server.config;
  const e = cfg.get('zset-max-listpack-entries');
  const v = cfg.get('zset-max-listpack-value');
  if (e !== maxEntriesStr) {
    limEntries = Number(e);
    maxEntriesStr = e;
  }
  if (v !== maxValueStr) {
    limValue = Number(v);
    maxValueStr = v;
  }
}

function limits(c: Client): [number, number] {
  loadLimits(c);
  return [limEntries, limValue];
}

/** zsetTypeCreate: compact when the hints fit the listpack limits. */
function createZSet(c: Client, sizeHint: number, lenHint: number): ZSet {
  const [maxEntries, maxValue] = limits(c);
  const z = new ZSet();
  if (!(sizeHint <= maxEntries && lenHint <= maxValue)) z.toFull();
  return z;
}

/** Looks up a zset for reading; replies WRONGTYPE and returns null for other types. */
export function readZSet(c: Client, key: string): ZSet | undefined | null {
  return ofType(c, c.db.lookup(key), ZSet);
}

function writeZSet(c: Client, key: string): ZSet | undefined | null {
  return ofType(c, c.db.lookupWrite(key), ZSet);
}

/** Stores the result of a *STORE command, or deletes the destination when empty. */
function storeResult(c: Client, dst: string, z: ZSet, event: string): void {
  if (z.size > 0) {
    c.db.set(dst, z);
    c.server.dirty++;
    notify(c.server, NOTIFY_ZSET, event, dst, c.db.id);
  } else if (c.db.delete(dst)) {
    c.server.dirty++;
    notify(c.server, NOTIFY_GENERIC, 'del', dst, c.db.id);
  }
  c.addInt(z.size);
}

/** Compact encoding check for a freshly built result (zsetConvertToListpackIfNeeded). */
function fitsCompact(c: Client, count: number, maxLen: number): boolean {
  const [maxEntries, maxValue] = limits(c);
  return count <= maxEntries && maxLen <= maxValue;
}

// ------------------------------------------------------------------ ZADD / ZINCRBY

const IN_INCR = 1;
const IN_NX = 2;
const IN_XX = 4;
const IN_GT = 8;
const IN_LT = 16;

const OUT_NOP = 1;
const OUT_NAN = 2;
const OUT_ADDED = 4;
const OUT_UPDATED = 8;

let addNewScore = 0;

/** zsetAdd: applies one score-member pair with the ZADD flags; returns OUT_* flags. */
function zsetAdd(c: Client, z: ZSet, score: number, m: string, flags: number): number {
  const cur = z.score(m);
  if (cur !== undefined) {
    if (flags & IN_NX) return OUT_NOP;
    if (flags & IN_INCR) {
      score += cur;
      if (Number.isNaN(score)) return OUT_NAN;
    }
    if ((flags & IN_LT && score >= cur) || (flags & IN_GT && score <= cur)) return OUT_NOP;
    addNewScore = score;
    if (score !== cur) {
      z.update(m, cur, score);
      return OUT_UPDATED;
    }
    return 0;
  }
  if (flags & IN_XX) return OUT_NOP;
  if (z.isCompact()) {
    loadLimits(c);
    if (z.size + 1 > limEntries || m.length > limValue) z.toFull();
  }
  z.insert(m, score);
  addNewScore = score;
  return OUT_ADDED;
}

const scoreBuf: number[] = [];

function zaddGeneric(c: Client, argv: string[], flags: number): void {
  const key = argv[1];
  let ch = false;
  let idx = 2;
  const argc = argv.length;
  while (idx < argc) {
    const o = argv[idx];
    if (tok(o, 'nx')) flags |= IN_NX;
    else if (tok(o, 'xx')) flags |= IN_XX;
    else if (tok(o, 'ch')) ch = true;
    else if (tok(o, 'incr')) flags |= IN_INCR;
    else if (tok(o, 'gt')) flags |= IN_GT;
    else if (tok(o, 'lt')) flags |= IN_LT;
    else break;
    idx++;
  }
  let elements = argc - idx;
  if (elements % 2 !== 0 || elements === 0) {
    c.addError(E_SYNTAX);
    return;
  }
  elements /= 2;
  const nx = (flags & IN_NX) !== 0;
  const xx = (flags & IN_XX) !== 0;
  const gt = (flags & IN_GT) !== 0;
  const lt = (flags & IN_LT) !== 0;
  const incr = (flags & IN_INCR) !== 0;
  if (nx && xx) {
    c.addError(E_XX_NX);
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.addError(E_GT_LT_NX);
    return;
  }
  if (incr && elements > 1) {
    c.addError(E_INCR_PAIR);
    return;
  }
  // Small batches parse into a reused array (consumed before anything can re-enter ZADD).
  const scores = elements <= 64 ? scoreBuf : new Array<number>(elements);
  let maxLen = 0;
  for (let j = 0; j < elements; j++) {
    const s = parseScore(argv[idx + j * 2]);
    if (s === null) {
      c.addError(E_NOT_FLOAT);
      return;
    }
    scores[j] = s;
    const len = argv[idx + j * 2 + 1].length;
    if (len > maxLen) maxLen = len;
  }
  let z = writeZSet(c, key);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  if (z === undefined) {
    if (xx) {
      if (incr) c.addNull();
      else c.addInt(0);
      return;
    }
    z = createZSet(c, elements, maxLen);
    c.db.add(key, z);
  } else if (z.isCompact()) {
    // zsetTypeMaybeConvert: the number of pairs and the longest member decide.
    loadLimits(c);
    if (elements > limEntries || maxLen > limValue) z.toFull();
  }
  for (let j = 0; j < elements; j++) {
    const r = zsetAdd(c, z, scores[j], argv[idx + j * 2 + 1], flags);
    if (r & OUT_NAN) {
      c.server.dirty += added + updated;
      if (added + updated !== 0) notify(c.server, NOTIFY_ZSET, incr ? 'zincr' : 'zadd', key, c.db.id);
      c.addError(E_NAN);
      return;
    }
    if (r & OUT_ADDED) added++;
    if (r & OUT_UPDATED) updated++;
    if (!(r & OUT_NOP)) processed++;
    score = addNewScore;
  }
  c.server.dirty += added + updated;
  if (added + updated !== 0) notify(c.server, NOTIFY_ZSET, incr ? 'zincr' : 'zadd', key, c.db.id);
  if (incr) {
    if (processed) c.addDouble(score);
    else c.addNull();
  } else {
    c.addInt(ch ? added + updated : added);
  }
}

function zadd(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, 0);
}

function zincrby(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, IN_INCR);
}

// ------------------------------------------------------------------ ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK

function zrem(c: Client, argv: string[]): void {
  const key = argv[1];
  const z = writeZSet(c, key);
  if (z === null) return;
  if (z === undefined) {
    c.addInt(0);
    return;
  }
  removeMembers(c, key, z, argv, 2, (x, m) => x.remove(m), NOTIFY_ZSET, 'zrem');
}

function zcard(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  c.addInt(z === undefined ? 0 : z.size);
}

function zscore(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  const s = z === undefined ? undefined : z.score(argv[2]);
  if (s === undefined) c.addNull();
  else c.addDouble(s);
}

function zmscore(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const s = z === undefined ? undefined : z.score(argv[j]);
    if (s === undefined) c.addNull();
    else c.addDouble(s);
  }
}

function zrankGeneric(c: Client, argv: string[], rev: boolean): void {
  if (argv.length > 4) {
    c.addError(`ERR wrong number of arguments for '${rev ? 'zrevrank' : 'zrank'}' command`);
    return;
  }
  let withScore = false;
  if (argv.length === 4) {
    if (tok(argv[3], 'withscore')) withScore = true;
    else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  const s = z === undefined ? undefined : z.score(argv[2]);
  if (z === undefined || s === undefined) {
    if (withScore) c.addNullArray();
    else c.addNull();
    return;
  }
  let r = z.rankOf(argv[2], s);
  if (rev) r = z.size - 1 - r;
  if (withScore) {
    c.addArrayLen(2);
    c.addInt(r);
    c.addDouble(s);
  } else {
    c.addInt(r);
  }
}

function zrank(c: Client, argv: string[]): void {
  zrankGeneric(c, argv, false);
}

function zrevrank(c: Client, argv: string[]): void {
  zrankGeneric(c, argv, true);
}

// ------------------------------------------------------------------ ZCOUNT, ZLEXCOUNT

function zcount(c: Client, argv: string[]): void {
  const r = parseScoreRange(argv[2], argv[3]);
  if (r === null) {
    c.addError(E_MINMAX_FLOAT);
    return;
  }
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  if (z === undefined) {
    c.addInt(0);
    return;
  }
  const [lo, hi] = z.scoreRange(r.min, r.minEx, r.max, r.maxEx);
  c.addInt(hi - lo);
}

function parseLexRange(a: string, b: string): [LexBound, LexBound] | null {
  const lo = parseLexBound(a);
  const hi = parseLexBound(b);
  if (lo === null || hi === null) return null;
  return [lo, hi];
}

function zlexcount(c: Client, argv: string[]): void {
  const r = parseLexRange(argv[2], argv[3]);
  if (r === null) {
    c.addError(E_MINMAX_LEX);
    return;
  }
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  if (z === undefined) {
    c.addInt(0);
    return;
  }
  const [lo, hi] = z.lexRange(r[0], r[1]);
  c.addInt(hi - lo);
}

// ------------------------------------------------------------------ ZRANGE family

const enum RangeType {
  Auto = 0,
  Rank = 1,
  Score = 2,
  Lex = 3,
}

const enum Dir {
  Auto = 0,
  Forward = 1,
  Reverse = 2,
}

/** Emits `count` elements from ascending rank `start` (rev: descending from top index `start`). */
function emitRange(c: Client, z: ZSet, start: number, count: number, rev: boolean, withScores: boolean): void {
  if (count <= 0) {
    c.addEmptyArray();
    return;
  }
  const pairs = withScores && c.resp === 3;
  c.addArrayLen(withScores && c.resp === 2 ? count * 2 : count);
  z.walk(start, count, rev, (m, s) => {
    if (pairs) c.addArrayLen(2);
    c.addBulk(m);
    if (withScores) c.addDouble(s);
  });
}

/**
 * Works out which ranks a ZRANGE-style request selects: [start, count, rev]
 * where start is an ascending rank, or the top index when rev.
 */
function rankWindow(size: number, start: number, end: number): [number, number] {
  if (start < 0) start = size + start;
  if (end < 0) end = size + end;
  if (start < 0) start = 0;
  if (start > end || start >= size) return [0, 0];
  if (end >= size) end = size - 1;
  return [start, end - start + 1];
}

/** Applies LIMIT offset/count to a rank range [lo, hi); returns [first index in walk order, count]. */
function limitWindow(size: number, lo: number, hi: number, rev: boolean, offset: number, limit: number): [number, number] {
  let n = hi - lo;
  if (offset < 0 || (offset > 0 && offset >= size)) return [0, 0];
  if (offset >= n) return [0, 0];
  n -= offset;
  if (limit >= 0 && limit < n) n = limit;
  // Ascending: start at rank lo+offset. Descending: the top index of rank hi-1-offset.
  return rev ? [size - hi + offset, n] : [lo + offset, n];
}

function zrangeGeneric(c: Client, argv: string[], argStart: number, store: boolean, rtype: RangeType, dir: Dir): void {
  const key = argv[argStart];
  let minIdx = argStart + 1;
  let maxIdx = argStart + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  const argc = argv.length;
  for (let j = argStart + 3; j < argc; j++) {
    const left = argc - j - 1;
    const a = argv[j];
    if (!store && tok(a, 'withscores')) withScores = true;
    else if (tok(a, 'limit') && left >= 2) {
      const o = parseLong(argv[j + 1]);
      const l = o === null ? null : parseLong(argv[j + 2]);
      if (o === null || l === null) {
        c.addError(E_NOT_INT);
        return;
      }
      offset = o;
      limit = l;
      j += 2;
    } else if (dir === Dir.Auto && tok(a, 'rev')) dir = Dir.Reverse;
    else if (rtype === RangeType.Auto && tok(a, 'bylex')) rtype = RangeType.Lex;
    else if (rtype === RangeType.Auto && tok(a, 'byscore')) rtype = RangeType.Score;
    else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  if (dir === Dir.Auto) dir = Dir.Forward;
  if (rtype === RangeType.Auto) rtype = RangeType.Rank;
  if (limit !== -1 && rtype === RangeType.Rank) {
    c.addError(E_LIMIT_RANK);
    return;
  }
  if (withScores && rtype === RangeType.Lex) {
    c.addError(E_WITHSCORES_LEX);
    return;
  }
  const rev = dir === Dir.Reverse;
  if (rev && rtype !== RangeType.Rank) {
    const t = minIdx;
    minIdx = maxIdx;
    maxIdx = t;
  }
  let rStart = 0;
  let rEnd = 0;
  let sr: ScoreRange | null = null;
  let lr: [LexBound, LexBound] | null = null;
  if (rtype === RangeType.Rank) {
    const a = parseLong(argv[minIdx]);
    const b = a === null ? null : parseLong(argv[maxIdx]);
    if (a === null || b === null) {
      c.addError(E_NOT_INT);
      return;
    }
    rStart = a;
    rEnd = b;
  } else if (rtype === RangeType.Score) {
    sr = parseScoreRange(argv[minIdx], argv[maxIdx]);
    if (sr === null) {
      c.addError(E_MINMAX_FLOAT);
      return;
    }
  } else {
    lr = parseLexRange(argv[minIdx], argv[maxIdx]);
    if (lr === null) {
      c.addError(E_MINMAX_LEX);
      return;
    }
  }
  const z = readZSet(c, key);
  if (z === null) return;
  if (z === undefined) {
    if (store) storeResult(c, argv[1], new ZSet(), 'zrangestore');
    else c.addEmptyArray();
    return;
  }
  let first: number;
  let count: number;
  if (rtype === RangeType.Rank) {
    [first, count] = rankWindow(z.size, rStart, rEnd);
  } else {
    const [lo, hi] = sr !== null ? z.scoreRange(sr.min, sr.minEx, sr.max, sr.maxEx) : z.lexRange(lr![0], lr![1]);
    [first, count] = limitWindow(z.size, lo, hi, rev, offset, limit);
  }
  if (!store) {
    emitRange(c, z, first, count, rev, withScores);
    return;
  }
  const ms: string[] = [];
  const ss: number[] = [];
  let maxLen = 0;
  z.walk(first, count, rev, (m, s) => {
    ms.push(m);
    ss.push(s);
    if (m.length > maxLen) maxLen = m.length;
  });
  if (rev) {
    ms.reverse();
    ss.reverse();
  }
  storeResult(c, argv[1], ZSet.fromSorted(ms, ss, fitsCompact(c, ms.length, maxLen)), 'zrangestore');
}

function zrange(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RangeType.Auto, Dir.Auto);
}
function zrangestore(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 2, true, RangeType.Auto, Dir.Auto);
}
function zrevrange(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RangeType.Rank, Dir.Reverse);
}
function zrangebyscore(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RangeType.Score, Dir.Forward);
}
function zrevrangebyscore(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RangeType.Score, Dir.Reverse);
}
function zrangebylex(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RangeType.Lex, Dir.Forward);
}
function zrevrangebylex(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RangeType.Lex, Dir.Reverse);
}

// ------------------------------------------------------------------ ZREMRANGEBY*

function zremrangeGeneric(c: Client, argv: string[], rtype: RangeType): void {
  const key = argv[1];
  let rs = 0;
  let re = 0;
  let sr: ScoreRange | null = null;
  let lr: [LexBound, LexBound] | null = null;
  if (rtype === RangeType.Rank) {
    const a = parseLong(argv[2]);
    const b = a === null ? null : parseLong(argv[3]);
    if (a === null || b === null) {
      c.addError(E_NOT_INT);
      return;
    }
    rs = a;
    re = b;
  } else if (rtype === RangeType.Score) {
    sr = parseScoreRange(argv[2], argv[3]);
    if (sr === null) {
      c.addError(E_MINMAX_FLOAT);
      return;
    }
  } else {
    lr = parseLexRange(argv[2], argv[3]);
    if (lr === null) {
      c.addError(E_MINMAX_LEX);
      return;
    }
  }
  const z = writeZSet(c, key);
  if (z === null) return;
  if (z === undefined) {
    c.addInt(0);
    return;
  }
  let start: number;
  let count: number;
  if (rtype === RangeType.Rank) [start, count] = rankWindow(z.size, rs, re);
  else {
    const [lo, hi] = sr !== null ? z.scoreRange(sr.min, sr.minEx, sr.max, sr.maxEx) : z.lexRange(lr![0], lr![1]);
    start = lo;
    count = hi - lo;
  }
  const n = z.removeRange(start, count);
  if (n !== 0) notify(c.server, NOTIFY_ZSET, rtype === RangeType.Rank ? 'zremrangebyrank' : rtype === RangeType.Score ? 'zremrangebyscore' : 'zremrangebylex', key, c.db.id);
  if (n !== 0 && z.size === 0) notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  if (z.size === 0) c.db.delete(key);
  c.server.dirty += n;
  c.addInt(n);
}

function zremrangebyrank(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, RangeType.Rank);
}
function zremrangebyscore(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, RangeType.Score);
}
function zremrangebylex(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, RangeType.Lex);
}

// ------------------------------------------------------------------ ZPOPMIN, ZPOPMAX, ZMPOP

/**
 * Pops n elements (the highest first when max) and replies each one
 * (member and score, as a pair when nested), then counts the change, notifies
 * and deletes the emptied key.
 */
function popAndReply(c: Client, key: string, z: ZSet, n: number, max: boolean, nested: boolean): boolean {
  for (let i = 0; i < n; i++) {
    z.popEdge(max);
    if (nested) c.addArrayLen(2);
    c.addBulk(edgeM);
    c.addDouble(edgeS);
  }
  c.server.dirty += n;
  notify(c.server, NOTIFY_ZSET, max ? 'zpopmax' : 'zpopmin', key, c.db.id);
  if (z.size === 0) {
    c.db.delete(key);
    notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  }
  return true;
}

/** The real pop: genericZpop with collection of the elements. */
function zpop(
  c: Client,
  keys: string[],
  max: boolean,
  emitKey: boolean,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
  blocking: boolean,
): boolean {
  let key = '';
  let z: ZSet | undefined;
  for (let i = 0; i < keys.length; i++) {
    const v = c.db.lookupWrite(keys[i]);
    if (v === undefined) continue;
    if (!(v instanceof ZSet)) {
      c.addError(E_WRONGTYPE);
      return true;
    }
    key = keys[i];
    z = v;
    break;
  }
  if (z === undefined) {
    if (blocking) return false;
    if (nilWhenEmpty) c.addNullArray();
    else c.addEmptyArray();
    return true;
  }
  return zpopFrom(c, key, z, max, emitKey, count, nested);
}

/** zpop once the source is found: pops up to count (-1: one, unnested) elements of z and replies. */
function zpopFrom(c: Client, key: string, z: ZSet, max: boolean, emitKey: boolean, count: number, nested: boolean): boolean {
  if (count === 0) {
    c.addEmptyArray();
    return true;
  }
  if (emitKey && c.server.prop.active) {
    // BZPOPMIN/BZPOPMAX/ZMPOP/BZMPOP are propagated as ZPOPMIN/ZPOPMAX key [count].
    c.server.prop.replace(count === -1 ? [max ? 'ZPOPMAX' : 'ZPOPMIN', key] : [max ? 'ZPOPMAX' : 'ZPOPMIN', key, String(count)]);
  }
  if (count === -1) count = 1;
  const n = Math.min(count, z.size);
  if (!nested && !emitKey) c.addArrayLen(n * 2);
  else if (nested && !emitKey) c.addArrayLen(n);
  else if (!nested && emitKey) {
    c.addArrayLen(n * 2 + 1);
    c.addBulk(key);
  } else {
    c.addArrayLen(2);
    c.addBulk(key);
    c.addArrayLen(n);
  }
  return popAndReply(c, key, z, n, max, nested);
}

function zpopMinMax(c: Client, argv: string[], max: boolean): void {
  if (argv.length > 3) {
    c.addError(E_SYNTAX);
    return;
  }
  let count = -1;
  if (argv.length === 3) {
    const v = parseInt64(argv[2]);
    if (v === null || v < 0) {
      c.addError(E_NOT_POSITIVE);
      return;
    }
    count = Number(v);
  }
  // One key: no keys array (ZPOPMIN on a missing key is common: a drained queue).
  const key = argv[1];
  const v = c.db.lookupWrite(key);
  if (v === undefined) c.addEmptyArray();
  else if (!(v instanceof ZSet)) c.addError(E_WRONGTYPE);
  else zpopFrom(c, key, v, max, false, count, c.resp > 2 && count !== -1);
}

function zpopmin(c: Client, argv: string[]): void {
  zpopMinMax(c, argv, false);
}
function zpopmax(c: Client, argv: string[]): void {
  zpopMinMax(c, argv, true);
}

interface MpopArgs {
  keys: string[];
  max: boolean;
  count: number;
}

/** Parses numkeys key... MIN|MAX [COUNT n] starting at argv[idx]; replies the error and returns null. */
function parseMpop(c: Client, argv: string[], idx: number): MpopArgs | null {
  const nk = parseInt64(argv[idx]);
  if (nk === null || nk < 1) {
    c.addError(E_NUMKEYS);
    return null;
  }
  const numkeys = Number(nk);
  const whereIdx = idx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.addError(E_SYNTAX);
    return null;
  }
  let max: boolean;
  if (tok(argv[whereIdx], 'min')) max = false;
  else if (tok(argv[whereIdx], 'max')) max = true;
  else {
    c.addError(E_SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && tok(argv[j], 'count') && more > 0) {
      j++;
      const v = parseInt64(argv[j]);
      if (v === null || v < 1) {
        c.addError(E_COUNT_GT0);
        return null;
      }
      count = Number(v);
    } else {
      c.addError(E_SYNTAX);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(idx + 1, idx + 1 + numkeys), max, count };
}

function zmpop(c: Client, argv: string[]): void {
  const a = parseMpop(c, argv, 1);
  if (a === null) return;
  zpop(c, a.keys, a.max, true, a.count, true, true, false);
}

// ------------------------------------------------------------------ BZPOPMIN, BZPOPMAX, BZMPOP

function blockOn(c: Client, argv: string[], keys: string[], deadline: number): void {
  const b = c.server.blocking;
  if (!b.canBlock(c)) {
    c.addNullArray();
    return;
  }
  b.block(c, argv, { keys, deadline, type: ObjType.ZSet });
}

function bzpopGeneric(c: Client, argv: string[], max: boolean): void {
  const deadline = parseTimeout(c, argv[argv.length - 1]);
  if (deadline === null) return;
  const keys = argv.slice(1, argv.length - 1);
  if (zpop(c, keys, max, true, -1, false, false, true)) return;
  blockOn(c, argv, keys, deadline);
}

function bzpopmin(c: Client, argv: string[]): void {
  bzpopGeneric(c, argv, false);
}
function bzpopmax(c: Client, argv: string[]): void {
  bzpopGeneric(c, argv, true);
}

function bzmpop(c: Client, argv: string[]): void {
  const deadline = parseTimeout(c, argv[1]);
  if (deadline === null) return;
  const a = parseMpop(c, argv, 2);
  if (a === null) return;
  if (zpop(c, a.keys, a.max, true, a.count, true, true, true)) return;
  blockOn(c, argv, a.keys, deadline);
}

// ------------------------------------------------------------------ ZRANDMEMBER

function randInt(n: number): number {
  return Math.floor(Math.random() * n);
}

function zrandmember(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const v = parseInt64(argv[2]);
    if (v === null) {
      c.addError(E_NOT_INT);
      return;
    }
    if (v < -LONG_MAX) {
      c.addError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
      return;
    }
    let withScores = false;
    if (argv.length > 4 || (argv.length === 4 && !tok(argv[3], 'withscores'))) {
      c.addError(E_SYNTAX);
      return;
    }
    if (argv.length === 4) {
      withScores = true;
      if (v < -(LONG_MAX / 2n) || v > LONG_MAX / 2n) {
        c.addError('ERR value is out of range');
        return;
      }
    }
    zrandmemberCount(c, argv[1], Number(v), withScores);
    return;
  }
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  if (z === undefined) {
    c.addNull();
    return;
  }
  c.addBulk(z.at(randInt(z.size))[0]);
}

function zrandmemberCount(c: Client, key: string, l: number, withScores: boolean): void {
  const v = c.db.lookup(key);
  if (v === undefined) {
    c.addEmptyArray();
    return;
  }
  if (!(v instanceof ZSet)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  const z = v;
  const size = z.size;
  const uniq = l >= 0;
  const count = Math.abs(l);
  if (count === 0) {
    c.addEmptyArray();
    return;
  }
  const pairs = withScores && c.resp === 3;
  const emit = (m: string, s: number) => {
    if (pairs) c.addArrayLen(2);
    c.addBulk(m);
    if (withScores) c.addDouble(s);
  };
  if (!uniq || count === 1) {
    c.addArrayLen(withScores && c.resp === 2 ? count * 2 : count);
    for (let i = 0; i < count; i++) {
      const [m, s] = z.at(randInt(size));
      emit(m, s);
    }
    return;
  }
  const n = Math.min(count, size);
  c.addArrayLen(withScores && c.resp === 2 ? n * 2 : n);
  if (count >= size) {
    // The whole set, walked from the top down as Valkey's set-operation iterator does.
    z.walk(0, size, true, emit);
    return;
  }
  if (count * 3 > size) {
    // Partial Fisher-Yates over all ranks.
    const ranks = new Array<number>(size);
    for (let i = 0; i < size; i++) ranks[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + randInt(size - i);
      const t = ranks[i];
      ranks[i] = ranks[j];
      ranks[j] = t;
    }
    for (let i = 0; i < count; i++) {
      const [m, s] = z.at(ranks[i]);
      emit(m, s);
    }
    return;
  }
  const seen = new Set<number>();
  while (seen.size < count) {
    const r = randInt(size);
    if (seen.has(r)) continue;
    seen.add(r);
    const [m, s] = z.at(r);
    emit(m, s);
  }
}

// ------------------------------------------------------------------ ZUNION, ZINTER, ZDIFF (+STORE), ZINTERCARD

/** One input of a set operation: a zset, a plain set (scores 1), or missing. */
interface Src {
  z: ZSet | null;
  set: SetValue | null;
  weight: number;
  size: number;
}

function srcScore(src: Src, m: string): number | undefined {
  if (src.z !== null) return src.z.score(m);
  if (src.set !== null) return src.set.has(m) ? 1 : undefined;
  return undefined;
}

function srcEach(src: Src, fn: (m: string, s: number) => void): void {
  if (src.z !== null) {
    src.z.walk(0, src.z.size, false, fn);
  } else if (src.set !== null) {
    const it = src.set.keys();
    for (let r = it.next(); !r.done; r = it.next()) fn(r.value, 1);
  }
}

const enum Op {
  Union = 0,
  Inter = 1,
  Diff = 2,
}

const enum Agg {
  Sum = 0,
  Min = 1,
  Max = 2,
}

function aggregate(target: number, val: number, agg: Agg): number {
  if (agg === Agg.Sum) {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (agg === Agg.Min) return val < target ? val : target;
  return val > target ? val : target;
}

function setOpGeneric(c: Client, argv: string[], dst: string | null, numkeysIdx: number, op: Op, cardOnly: boolean): void {
  const nk = parseInt64(argv[numkeysIdx]);
  if (nk === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (nk < 1) {
    c.addError(`ERR at least 1 input key is needed for '${argv[0].toLowerCase()}' command`);
    return;
  }
  if (nk > argv.length - (numkeysIdx + 1)) {
    c.addError(E_SYNTAX);
    return;
  }
  const setnum = Number(nk);
  const srcs: Src[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v: Value | undefined = c.db.lookup(argv[j]);
    const src: Src = { z: null, set: null, weight: 1, size: 0 };
    if (v !== undefined) {
      if (v instanceof ZSet) {
        src.z = v;
        src.size = v.size;
      } else if (objType(v) === ObjType.Set && v instanceof SetValue) {
        src.set = v;
        src.size = v.size;
      } else {
        c.addError(E_WRONGTYPE);
        return;
      }
    }
    srcs.push(src);
  }
  let agg = Agg.Sum;
  let withScores = false;
  let limit = 0;
  const argc = argv.length;
  while (j < argc) {
    const remaining = argc - j;
    const a = argv[j];
    if (op !== Op.Diff && !cardOnly && remaining >= setnum + 1 && tok(a, 'weights')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = parseScore(argv[j]);
        if (w === null) {
          c.addError(E_WEIGHT);
          return;
        }
        srcs[i].weight = w;
      }
    } else if (op !== Op.Diff && !cardOnly && remaining >= 2 && tok(a, 'aggregate')) {
      const b = argv[j + 1];
      if (tok(b, 'sum')) agg = Agg.Sum;
      else if (tok(b, 'min')) agg = Agg.Min;
      else if (tok(b, 'max')) agg = Agg.Max;
      else {
        c.addError(E_SYNTAX);
        return;
      }
      j += 2;
    } else if (dst === null && !cardOnly && tok(a, 'withscores')) {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && tok(a, 'limit')) {
      const l = parseInt64(argv[j + 1]);
      if (l === null || l < 0) {
        c.addError(E_LIMIT_NEG);
        return;
      }
      limit = Number(l);
      j += 2;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  // Smallest inputs first (a stable sort, like glibc's qsort in practice).
  if (op !== Op.Diff) srcs.sort((x, y) => x.size - y.size);

  const acc = new Map<string, number>();
  let card = 0;
  if (op === Op.Inter) {
    if (srcs[0].size > 0) {
      const s0 = srcs[0];
      const stop = {};
      try {
        srcEach(s0, (m, s) => {
          let score = s0.weight * s;
          if (Number.isNaN(score)) score = 0;
          let k = 1;
          for (; k < setnum; k++) {
            const o = srcs[k];
            let val: number | undefined;
            if ((o.z !== null && o.z === s0.z) || (o.set !== null && o.set === s0.set)) val = s;
            else val = srcScore(o, m);
            if (val === undefined) break;
            val *= o.weight;
            score = aggregate(score, val, agg);
          }
          if (k !== setnum) return;
          if (cardOnly) {
            card++;
            if (limit && card >= limit) throw stop;
          } else acc.set(m, score);
        });
      } catch (e) {
        if (e !== stop) throw e;
      }
    }
  } else if (op === Op.Union) {
    for (const src of srcs) {
      if (src.size === 0) continue;
      srcEach(src, (m, s) => {
        let score = src.weight * s;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(m);
        acc.set(m, cur === undefined ? score : aggregate(cur, score, agg));
      });
    }
  } else {
    const s0 = srcs[0];
    if (s0.size > 0) {
      let same = false;
      for (let k = 1; k < setnum; k++) {
        const o = srcs[k];
        if ((o.z !== null && o.z === s0.z) || (o.set !== null && o.set === s0.set)) same = true;
      }
      if (!same) {
        srcEach(s0, (m, s) => {
          for (let k = 1; k < setnum; k++) if (srcScore(srcs[k], m) !== undefined) return;
          acc.set(m, s);
        });
      }
    }
  }
  if (cardOnly) {
    c.addInt(card);
    return;
  }
  let maxLen = 0;
  for (const m of acc.keys()) if (m.length > maxLen) maxLen = m.length;
  const compact = dst !== null && fitsCompact(c, acc.size, maxLen);
  const z = ZSet.fromMap(acc, compact);
  if (dst !== null) {
    storeResult(c, dst, z, op === Op.Union ? 'zunionstore' : op === Op.Inter ? 'zinterstore' : 'zdiffstore');
    return;
  }
  emitRange(c, z, 0, z.size, false, withScores);
}

function zunionstore(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, argv[1], 2, Op.Union, false);
}
function zinterstore(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, argv[1], 2, Op.Inter, false);
}
function zdiffstore(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, argv[1], 2, Op.Diff, false);
}
function zunion(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, null, 1, Op.Union, false);
}
function zinter(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, null, 1, Op.Inter, false);
}
function zdiff(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, null, 1, Op.Diff, false);
}
function zintercard(c: Client, argv: string[]): void {
  setOpGeneric(c, argv, null, 1, Op.Inter, true);
}

// ------------------------------------------------------------------ ZSCAN


function zscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.addError(E_INVALID_CURSOR);
    return;
  }
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  if (z === undefined) {
    c.addArrayLen(2);
    c.addBulk('0');
    c.addEmptyArray();
    return;
  }
  const opts = parseScanOptions(c, argv, 3, ScanKind.ZSet);
  if (opts === null) return;
  const count = opts.count;
  const pattern = opts.pattern;
  const noScores = opts.noScores;
  const out: string[] = [];
  const add = (m: string, s: number) => {
    if (pattern !== null && !globMatch(pattern, m)) return;
    out.push(m);
    if (!noScores) out.push(formatDouble(s));
  };
  let next = '0';
  const dict = z.dict;
  if (dict === null) {
    z.walk(0, z.size, false, add);
  } else {
    const cursors = c.server.scanCursors;
    const source = dict.source;
    let it = cursor === 0n ? null : cursors.take(cursor, source);
    if (it === null) it = dict.keys();
    let done = false;
    for (let walked = 0; walked < count; walked++) {
      const r = it.next();
      if (r.done) {
        done = true;
        break;
      }
      const s = dict.get(r.value);
      if (s === undefined) continue;
      add(r.value, s);
    }
    if (!done) {
      const r = it.next();
      if (r.done) done = true;
      else if (it instanceof LookaheadIterator) it.first = r.value;
      else it = new LookaheadIterator(r.value, it);
    }
    if (!done) next = cursors.put(it, source, clock.ms).toString();
  }
  c.addArrayLen(2);
  c.addBulk(next);
  c.addBulkArray(out);
}

export const commands: HandlerMap = {
  zadd,
  zincrby,
  zrem,
  zcard,
  zscore,
  zmscore,
  zrank,
  zrevrank,
  zcount,
  zlexcount,
  zrange,
  zrangestore,
  zrevrange,
  zrangebyscore,
  zrevrangebyscore,
  zrangebylex,
  zrevrangebylex,
  zremrangebyrank,
  zremrangebyscore,
  zremrangebylex,
  zpopmin,
  zpopmax,
  zmpop,
  bzpopmin,
  bzpopmax,
  bzmpop,
  zrandmember,
  zunion,
  zinter,
  zdiff,
  zunionstore,
  zinterstore,
  zdiffstore,
  zintercard,
  zscan,
};
