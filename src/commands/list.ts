// List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE,
// LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP and the
// blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (src/server/blocking.ts).
//
// Values are ListValue (src/data/list.ts). A list emptied by a command is
// deleted from the keyspace. Blocking commands that cannot be served block
// the client; when a key becomes ready the same command runs again.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import type { Db } from '../keyspace/db.js';
import { clock } from '../keyspace/db.js';
import { ObjType, objType, type Value } from '../keyspace/types.js';
import { ListValue } from '../data/list.js';
import { parseDouble, parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_NOT_POSITIVE, E_NO_SUCH_KEY, E_SYNTAX, E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_LIST } from '../server/notify.js';

const E_INDEX = 'ERR index out of range';
const E_TIMEOUT_FLOAT = 'ERR timeout is not a float or out of range';
const E_TIMEOUT_NEG = 'ERR timeout is negative';
const E_TIMEOUT_RANGE = 'ERR timeout is out of range';
const E_NUMKEYS = 'ERR numkeys should be greater than 0';
const E_COUNT_GT0 = 'ERR count should be greater than 0';
const E_RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const E_RANGE_NO_MIN = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';
const LLONG_MAX_F = 9223372036854775807;

// ------------------------------------------------------------------ helpers

/** list-max-listpack-size, parsed again only when the config string changes. */
let fillStr = '';
let fillNum = 0;
function fill(c: Client): number {
  const v = c.server.config.get('list-max-listpack-size');
  if (v !== fillStr) {
    fillNum = Number(v);
    fillStr = v;
  }
  return fillNum;
}

/**
 * The list at `key`: the ListValue, undefined when missing, or null after
 * replying WRONGTYPE.
 */
function getList(c: Client, db: Db, key: string, write: boolean): ListValue | undefined | null {
  const v: Value | undefined = write ? db.lookupWrite(key) : db.lookup(key);
  if (v === undefined) return undefined;
  if (objType(v) !== ObjType.List) {
    c.addError(E_WRONGTYPE);
    return null;
  }
  return v as ListValue;
}

/** A C long argument (strict int64) as a number, or null after replying. */
function getLong(c: Client, arg: string, msg: string = E_NOT_INT): number | null {
  const v = parseInt64(arg);
  if (v === null) {
    c.addError(msg);
    return null;
  }
  return Number(v);
}

/** Valkey's getRangeLongFromObjectOrReply with min -LONG_MAX (LREM count, LPOS RANK). */
function getLongNoMin(c: Client, arg: string): number | null {
  const v = parseInt64(arg);
  if (v === null) {
    c.addError(E_NOT_INT);
    return null;
  }
  if (v === -9223372036854775808n) {
    c.addError(E_RANGE_NO_MIN);
    return null;
  }
  return Number(v);
}

/** Valkey's getPositiveLongFromObjectOrReply: the message covers non-integers too. */
function getPositive(c: Client, arg: string, msg: string): number | null {
  const v = parseInt64(arg);
  if (v === null || v < 0) {
    c.addError(msg);
    return null;
  }
  return Number(v);
}

/** LEFT / RIGHT (case-insensitive): true for LEFT, false for RIGHT, null after a syntax error. */
function getWhere(c: Client, arg: string): boolean | null {
  const a = arg.toLowerCase();
  if (a === 'left') return true;
  if (a === 'right') return false;
  c.addError(E_SYNTAX);
  return null;
}

/**
 * A blocking timeout in seconds (fractions allowed) as an absolute deadline in
 * ms, 0 for "forever"; null after replying an error. Same rules as Valkey:
 * the value is rounded up to whole milliseconds, so tiny negatives mean 0.
 */
export function parseTimeout(c: Client, arg: string): number | null {
  const f = parseDouble(arg);
  if (f === null) {
    c.addError(E_TIMEOUT_FLOAT);
    return null;
  }
  const ms = f * 1000;
  if (ms > LLONG_MAX_F) {
    c.addError(E_TIMEOUT_RANGE);
    return null;
  }
  let t = Math.ceil(ms);
  if (Object.is(t, -0)) t = 0;
  if (t < 0) {
    c.addError(E_TIMEOUT_NEG);
    return null;
  }
  if (t > 0) {
    const now = clock.ms;
    if (t > LLONG_MAX_F - now) {
      c.addError(E_TIMEOUT_RANGE);
      return null;
    }
    t += now;
  }
  return t;
}

/** Deletes the key when the list is empty, else lets a quicklist shrink back. */
function afterRemoval(c: Client, db: Db, key: string, l: ListValue): void {
  if (l.length === 0) {
    db.delete(key);
    notify(c.server, NOTIFY_GENERIC, 'del', key, db.id);
  } else l.shrinkCheck(fill(c));
}

function replyRange(c: Client, l: ListValue, start: number, end: number, reverse: boolean): void {
  c.addArrayLen(end - start + 1);
  l.forRange(start, end, reverse, addBulkBytes, c);
}

/**
 * Appends buf[off, off+len) as a bulk string, straight from the list's packed
 * node into the output buffer (the same bytes addBulk writes for a string).
 */
function addBulkBytes(buf: Buffer, off: number, len: number, c: Client): void {
  if (c.len + len + 16 > c.out.length) {
    c.addBulkBuf(buf.subarray(off, off + len)); // grows the output buffer
    return;
  }
  const out = c.out;
  let p = c.len;
  out[p++] = 36; // $
  if (len < 10) out[p++] = 48 + len;
  else if (len < 100) {
    const t = (len / 10) | 0;
    out[p++] = 48 + t;
    out[p++] = 48 + len - t * 10;
  } else p += out.latin1Write(String(len), p);
  out[p++] = 13;
  out[p++] = 10;
  if (len < 32) {
    for (let j = 0; j < len; j++) out[p + j] = buf[off + j];
  } else buf.copy(out, p, off, off + len);
  p += len;
  out[p++] = 13;
  out[p++] = 10;
  c.len = p;
}

/** Pushes onto `key`, creating the list; returns the new length. */
function pushTo(c: Client, db: Db, key: string, l: ListValue | undefined, s: string, head: boolean): ListValue {
  if (l === undefined) {
    l = new ListValue();
    l.growCheck(fill(c), s.length, 1);
    l.push(s, head);
    db.add(key, l);
    return l;
  }
  l.growCheck(fill(c), s.length, 1);
  l.push(s, head);
  return l;
}

// ------------------------------------------------------------------ push

function pushGeneric(c: Client, argv: string[], head: boolean, xx: boolean): void {
  const db = c.db;
  const key = argv[1];
  let l = getList(c, db, key, true);
  if (l === null) return;
  if (l === undefined) {
    if (xx) {
      c.addInt(0);
      return;
    }
    l = new ListValue();
    l.pushAll(argv, 2, head, fill(c));
    db.add(key, l);
  } else {
    l.pushAll(argv, 2, head, fill(c));
  }
  c.server.dirty += argv.length - 2;
  notify(c.server, NOTIFY_LIST, head ? 'lpush' : 'rpush', key, db.id);
  c.addInt(l.length);
}

const lpush = (c: Client, argv: string[]) => pushGeneric(c, argv, true, false);
const rpush = (c: Client, argv: string[]) => pushGeneric(c, argv, false, false);
const lpushx = (c: Client, argv: string[]) => pushGeneric(c, argv, true, true);
const rpushx = (c: Client, argv: string[]) => pushGeneric(c, argv, false, true);

// ------------------------------------------------------------------ pop

function popGeneric(c: Client, argv: string[], head: boolean): void {
  if (argv.length > 3) {
    c.addError(`ERR wrong number of arguments for '${head ? 'lpop' : 'rpop'}' command`);
    return;
  }
  const hasCount = argv.length === 3;
  let count = 0;
  if (hasCount) {
    const n = getPositive(c, argv[2], E_NOT_POSITIVE);
    if (n === null) return;
    count = n;
  }
  const db = c.db;
  const l = getList(c, db, argv[1], true);
  if (l === null) return;
  if (l === undefined) {
    if (hasCount) c.addNullArray();
    else c.addNull();
    return;
  }
  if (hasCount && count === 0) {
    c.addEmptyArray();
    return;
  }
  if (!hasCount) {
    const s = l.pop(head) as string;
    notify(c.server, NOTIFY_LIST, head ? 'lpop' : 'rpop', argv[1], db.id);
    afterRemoval(c, db, argv[1], l);
    c.server.dirty++;
    c.addBulk(s);
    return;
  }
  const items = l.popMany(count, head);
  notify(c.server, NOTIFY_LIST, head ? 'lpop' : 'rpop', argv[1], db.id);
  afterRemoval(c, db, argv[1], l);
  c.server.dirty += items.length;
  c.addArrayLen(items.length);
  for (const s of items) c.addBulk(s);
}

const lpop = (c: Client, argv: string[]) => popGeneric(c, argv, true);
const rpop = (c: Client, argv: string[]) => popGeneric(c, argv, false);

// ------------------------------------------------------------------ read

function llen(c: Client, argv: string[]): void {
  const l = getList(c, c.db, argv[1], false);
  if (l === null) return;
  c.addInt(l === undefined ? 0 : l.length);
}

function lindex(c: Client, argv: string[]): void {
  const l = getList(c, c.db, argv[1], false);
  if (l === null) return;
  if (l === undefined) {
    c.addNull();
    return;
  }
  const idx = getLong(c, argv[2]);
  if (idx === null) return;
  const s = l.get(idx);
  if (s === undefined) c.addNull();
  else c.addBulk(s);
}

/** Clamps LRANGE/LTRIM indexes: returns [start, end] or null for an empty range. */
function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

function lrange(c: Client, argv: string[]): void {
  const start = getLong(c, argv[2]);
  if (start === null) return;
  const end = getLong(c, argv[3]);
  if (end === null) return;
  const l = getList(c, c.db, argv[1], false);
  if (l === null) return;
  if (l === undefined) {
    c.addEmptyArray();
    return;
  }
  const r = clampRange(start, end, l.length);
  if (r === null) c.addEmptyArray();
  else replyRange(c, l, r[0], r[1], false);
}

function lpos(c: Client, argv: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = argv.length - 1 - j;
    if (opt === 'rank' && more > 0) {
      const r = getLongNoMin(c, argv[++j]);
      if (r === null) return;
      if (r === 0) {
        c.addError(E_RANK_ZERO);
        return;
      }
      rank = r;
    } else if (opt === 'count' && more > 0) {
      const n = getPositive(c, argv[++j], "ERR COUNT can't be negative");
      if (n === null) return;
      count = n;
    } else if (opt === 'maxlen' && more > 0) {
      const n = getPositive(c, argv[++j], "ERR MAXLEN can't be negative");
      if (n === null) return;
      maxlen = n;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const l = getList(c, c.db, argv[1], false);
  if (l === null) return;
  if (l === undefined) {
    if (count !== -1) c.addEmptyArray();
    else c.addNull();
    return;
  }
  const found = l.positions(argv[2], rank, fromTail, count === -1 ? 1 : count, maxlen);
  if (count !== -1) {
    c.addArrayLen(found.length);
    for (const i of found) c.addInt(i);
  } else if (found.length === 0) c.addNull();
  else c.addInt(found[0]);
}

// ------------------------------------------------------------------ write

function lset(c: Client, argv: string[]): void {
  const db = c.db;
  const l = getList(c, db, argv[1], true);
  if (l === null) return;
  if (l === undefined) {
    c.addError(E_NO_SUCH_KEY);
    return;
  }
  const idx = getLong(c, argv[2]);
  if (idx === null) return;
  if (!l.set(idx, argv[3], fill(c))) {
    c.addError(E_INDEX);
    return;
  }
  c.server.dirty++;
  notify(c.server, NOTIFY_LIST, 'lset', argv[1], db.id);
  c.addOK();
}

function linsert(c: Client, argv: string[]): void {
  const where = argv[2].toLowerCase();
  let after: boolean;
  if (where === 'after') after = true;
  else if (where === 'before') after = false;
  else {
    c.addError(E_SYNTAX);
    return;
  }
  const l = getList(c, c.db, argv[1], true);
  if (l === null) return;
  if (l === undefined) {
    c.addInt(0);
    return;
  }
  if (!l.insert(argv[3], argv[4], after, fill(c))) {
    c.addInt(-1);
    return;
  }
  c.server.dirty++;
  notify(c.server, NOTIFY_LIST, 'linsert', argv[1], c.db.id);
  c.addInt(l.length);
}

function lrem(c: Client, argv: string[]): void {
  const count = getLongNoMin(c, argv[2]);
  if (count === null) return;
  const db = c.db;
  const l = getList(c, db, argv[1], true);
  if (l === null) return;
  if (l === undefined) {
    c.addInt(0);
    return;
  }
  const removed = l.remove(argv[3], count);
  if (removed > 0) {
    notify(c.server, NOTIFY_LIST, 'lrem', argv[1], db.id);
    afterRemoval(c, db, argv[1], l);
    c.server.dirty += removed;
  }
  c.addInt(removed);
}

function ltrim(c: Client, argv: string[]): void {
  const start = getLong(c, argv[2]);
  if (start === null) return;
  const end = getLong(c, argv[3]);
  if (end === null) return;
  const db = c.db;
  const l = getList(c, db, argv[1], true);
  if (l === null) return;
  if (l === undefined) {
    c.addOK();
    return;
  }
  const len = l.length;
  const r = clampRange(start, end, len);
  const left = r === null ? len : r[0];
  const right = r === null ? 0 : len - r[1] - 1;
  l.trim(left, right);
  notify(c.server, NOTIFY_LIST, 'ltrim', argv[1], db.id);
  afterRemoval(c, db, argv[1], l);
  c.server.dirty += left + right;
  c.addOK();
}

// ------------------------------------------------------------------ move

/** LMOVE's work once the source is known to hold elements (replies WRONGTYPE for a bad destination). */
function moveGeneric(c: Client, src: ListValue, argv: string[], fromHead: boolean, toHead: boolean): void {
  const db = c.db;
  const dstKey = argv[2];
  const dst = getList(c, db, dstKey, true);
  if (dst === null) return;
  const s = src.pop(fromHead) as string;
  pushTo(c, db, dstKey, dst, s, toHead);
  notify(c.server, NOTIFY_LIST, toHead ? 'lpush' : 'rpush', dstKey, db.id);
  notify(c.server, NOTIFY_LIST, fromHead ? 'lpop' : 'rpop', argv[1], db.id);
  // The source may be the destination: it only goes away when it really is empty.
  afterRemoval(c, db, argv[1], src);
  c.server.dirty++;
  c.addBulk(s);
}

function lmoveCommon(c: Client, argv: string[], fromHead: boolean, toHead: boolean): void {
  const src = getList(c, c.db, argv[1], true);
  if (src === null) return;
  if (src === undefined || src.length === 0) {
    c.addNull();
    return;
  }
  moveGeneric(c, src, argv, fromHead, toHead);
}

function lmove(c: Client, argv: string[]): void {
  const from = getWhere(c, argv[3]);
  if (from === null) return;
  const to = getWhere(c, argv[4]);
  if (to === null) return;
  lmoveCommon(c, argv, from, to);
}

function rpoplpush(c: Client, argv: string[]): void {
  lmoveCommon(c, argv, false, true);
}

// ------------------------------------------------------------------ multi-key pop

/** Pops up to count from the first non-empty list of keys; false when none had elements. */
function mpopFrom(c: Client, keys: string[], head: boolean, count: number, single: boolean): boolean | null {
  const db = c.db;
  for (const key of keys) {
    const l = getList(c, db, key, true);
    if (l === null) return null;
    if (l === undefined || l.length === 0) continue;
    if (single) {
      const s = l.pop(head) as string;
      notify(c.server, NOTIFY_LIST, head ? 'lpop' : 'rpop', key, db.id);
      afterRemoval(c, db, key, l);
      c.server.dirty++;
      c.addArrayLen(2);
      c.addBulk(key);
      c.addBulk(s);
      // BLPOP/BRPOP are propagated as LPOP/RPOP key.
      if (c.server.prop.active) c.server.prop.replace([head ? 'LPOP' : 'RPOP', key]);
      return true;
    }
    const items = l.popMany(count, head);
    notify(c.server, NOTIFY_LIST, head ? 'lpop' : 'rpop', key, db.id);
    afterRemoval(c, db, key, l);
    c.server.dirty += items.length;
    c.addArrayLen(2);
    c.addBulk(key);
    c.addArrayLen(items.length);
    for (const s of items) c.addBulk(s);
    // LMPOP/BLMPOP are propagated as LPOP/RPOP key count.
    if (c.server.prop.active) c.server.prop.replace([head ? 'LPOP' : 'RPOP', key, String(count)]);
    return true;
  }
  return false;
}

/** Parses LMPOP/BLMPOP after numkeys: returns [keys, head, count] or null after replying. */
function parseMpop(c: Client, argv: string[], numkeysIdx: number): [string[], boolean, number] | null {
  const nk = parseInt64(argv[numkeysIdx]);
  if (nk === null || nk < 1) {
    c.addError(E_NUMKEYS);
    return null;
  }
  const numkeys = Number(nk);
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.addError(E_SYNTAX);
    return null;
  }
  const head = getWhere(c, argv[whereIdx]);
  if (head === null) return null;
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && more > 0 && argv[j].toLowerCase() === 'count') {
      const n = parseInt64(argv[++j]);
      if (n === null || n < 1) {
        c.addError(E_COUNT_GT0);
        return null;
      }
      count = Number(n);
    } else {
      c.addError(E_SYNTAX);
      return null;
    }
  }
  if (count === -1) count = 1;
  return [argv.slice(numkeysIdx + 1, whereIdx), head, count];
}

function lmpop(c: Client, argv: string[]): void {
  const p = parseMpop(c, argv, 1);
  if (p === null) return;
  const r = mpopFrom(c, p[0], p[1], p[2], false);
  if (r === false) c.addNullArray();
}

// ------------------------------------------------------------------ blocking

/** Blocks on keys, or answers like a timeout when blocking is not allowed (MULTI, scripts). */
function blockOrNull(c: Client, argv: string[], keys: string[], deadline: number, nullBulk: boolean): void {
  const b = c.server.blocking;
  if (!b.canBlock(c)) {
    if (nullBulk) c.addNull();
    else c.addNullArray();
    return;
  }
  b.block(c, argv, { keys, deadline, type: ObjType.List });
}

function blockingPop(c: Client, argv: string[], head: boolean): void {
  const deadline = parseTimeout(c, argv[argv.length - 1]);
  if (deadline === null) return;
  const keys = argv.slice(1, argv.length - 1);
  const r = mpopFrom(c, keys, head, 1, true);
  if (r !== false) return;
  blockOrNull(c, argv, keys, deadline, false);
}

const blpop = (c: Client, argv: string[]) => blockingPop(c, argv, true);
const brpop = (c: Client, argv: string[]) => blockingPop(c, argv, false);

function blmpop(c: Client, argv: string[]): void {
  const p = parseMpop(c, argv, 2);
  if (p === null) return;
  const deadline = parseTimeout(c, argv[1]);
  if (deadline === null) return;
  const r = mpopFrom(c, p[0], p[1], p[2], false);
  if (r !== false) return;
  blockOrNull(c, argv, p[0], deadline, false);
}

function blmoveCommon(c: Client, argv: string[], fromHead: boolean, toHead: boolean, deadline: number): void {
  const src = getList(c, c.db, argv[1], true);
  if (src === null) return;
  if (src === undefined) {
    blockOrNull(c, argv, [argv[1]], deadline, true);
    return;
  }
  moveGeneric(c, src, argv, fromHead, toHead);
  // Served: propagated as LMOVE (BLMOVE) or RPOPLPUSH (BRPOPLPUSH).
  if (c.server.prop.active) c.server.prop.replace(argv.length === 6 ? ['LMOVE', argv[1], argv[2], argv[3], argv[4]] : ['RPOPLPUSH', argv[1], argv[2]]);
}

function blmove(c: Client, argv: string[]): void {
  const from = getWhere(c, argv[3]);
  if (from === null) return;
  const to = getWhere(c, argv[4]);
  if (to === null) return;
  const deadline = parseTimeout(c, argv[5]);
  if (deadline === null) return;
  blmoveCommon(c, argv, from, to, deadline);
}

function brpoplpush(c: Client, argv: string[]): void {
  const deadline = parseTimeout(c, argv[3]);
  if (deadline === null) return;
  blmoveCommon(c, argv, false, true, deadline);
}

export const commands: HandlerMap = {
  lpush,
  rpush,
  lpushx,
  rpushx,
  lpop,
  rpop,
  llen,
  lindex,
  lrange,
  lpos,
  lset,
  linsert,
  lrem,
  ltrim,
  lmove,
  rpoplpush,
  lmpop,
  blpop,
  brpop,
  blmpop,
  blmove,
  brpoplpush,
};
