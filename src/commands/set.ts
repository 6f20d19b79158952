// Set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP,
// SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE,
// SDIFF, SDIFFSTORE, SSCAN. Replies, errors and encodings follow Valkey 8
// (t_set.c): the order of checks, which result set a command builds and how,
// and therefore which encoding a stored result ends up with.
//
// SSCAN on a hashtable-encoded set names a live Map iterator (like SCAN, see
// keyspace.ts); intset and listpack sets answer everything at once, cursor 0.
import { delCommand } from '../persistence/aof/effective.js';
import type { HandlerMap } from './table.js';
import { removeMembers } from './collection-common.js';
import { LookaheadIterator, ScanKind, parseScanOptions } from './scan-common.js';
import type { Client } from '../server/client.js';
import { clock } from '../keyspace/db.js';
import type { Value } from '../keyspace/types.js';
import { SetEnc, SetValue, isIntMember, type SetLimits } from '../data/set.js';
import { globMatch } from '../util/glob.js';
import { parseInt64 } from '../util/numbers.js';
import { parseScanCursor } from './keyspace.js';
import { E_NOT_INT, E_NOT_POSITIVE, E_SYNTAX, E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_SET } from '../server/notify.js';

const E_NUMKEYS = 'ERR numkeys should be greater than 0';
const E_NUMKEYS_ARGS = "ERR Number of keys can't be greater than number of args";
const E_LIMIT_NEGATIVE = "ERR LIMIT can't be negative";
const E_SRANDMEMBER_RANGE = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';
const E_INVALID_CURSOR = 'ERR invalid cursor';

/** SPOP keeps the survivors in a new set when they are this many times fewer than the popped. */
const SPOP_MOVE_STRATEGY_MUL = 5;

// ------------------------------------------------------------------ helpers

function limits(c: Client): SetLimits {
  const cfg = c.server.config;
  return {
    intsetEntries: cfg.num('set-max-intset-entries'),
    listpackEntries: cfg.num('set-max-listpack-entries'),
    listpackValue: cfg.num('set-max-listpack-value'),
  };
}

/** Lookup for reading: counted as a hit or miss; touches the LRU clock unless CLIENT NO-TOUCH. */
function lookupRead(c: Client, key: string): Value | undefined {
  if (!c.noTouch) return c.db.lookup(key);
  const v = c.db.peek(key);
  if (v === undefined) c.db.ks.stats.misses++;
  else c.db.ks.stats.hits++;
  return v;
}

/** Lookup for writing: not counted; touches the LRU clock unless CLIENT NO-TOUCH. */
function lookupWrite(c: Client, key: string): Value | undefined {
  return c.noTouch ? c.db.peek(key) : c.db.lookupWrite(key);
}

/** Replies WRONGTYPE and returns null when the value is not a set. */
function asSet(c: Client, v: Value): SetValue | null {
  if (v instanceof SetValue) return v;
  c.addError(E_WRONGTYPE);
  return null;
}

/** Case-insensitive option match, strcasecmp-style (a NUL ends the argument). */
function isOpt(arg: string, lowerName: string): boolean {
  if (arg.length < lowerName.length) return false;
  const z = arg.indexOf('\0');
  return (z < 0 ? arg : arg.slice(0, z)).toLowerCase() === lowerName;
}

function replyMembers(c: Client, items: ArrayLike<string>): void {
  c.addSetLen(items.length);
  for (let i = 0; i < items.length; i++) c.addBulk(items[i]);
}

/** Stores a *STORE result: the set when not empty (dropping any TTL), else deletes the destination. */
function storeResult(c: Client, dstKey: string, dst: SetValue, event: string): void {
  const db = c.db;
  if (dst.size > 0) {
    db.set(dstKey, dst);
    c.server.dirty++;
    notify(c.server, NOTIFY_SET, event, dstKey, db.id);
    c.addInt(dst.size);
  } else {
    if (db.delete(dstKey)) {
      c.server.dirty++;
      notify(c.server, NOTIFY_GENERIC, 'del', dstKey, db.id);
    }
    c.addInt(0);
  }
}

// ------------------------------------------------------------------ SADD, SREM, SMOVE

/** Limits for a hashtable-encoded set, which never reads them (no config lookups on the hot path). */
const UNUSED_LIMITS: SetLimits = { intsetEntries: 0, listpackEntries: 0, listpackValue: 0 };

function sadd(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = lookupWrite(c, key);
  let set: SetValue;
  let lim: SetLimits;
  if (v === undefined) {
    lim = limits(c);
    set = SetValue.create(argv[2], argv.length - 2, lim);
    c.db.add(key, set);
  } else {
    const s = asSet(c, v);
    if (s === null) return;
    set = s;
    if (set.enc === SetEnc.Hashtable) lim = UNUSED_LIMITS;
    else {
      lim = limits(c);
      set.maybeConvertForHint(argv.length - 2, lim);
    }
  }
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (set.add(argv[i], lim)) added++;
  c.server.dirty += added;
  if (added !== 0) notify(c.server, NOTIFY_SET, 'sadd', key, c.db.id);
  c.addInt(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = lookupWrite(c, key);
  if (v === undefined) {
    c.addInt(0);
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  removeMembers(c, key, set, argv, 2, (x, m) => x.remove(m), NOTIFY_SET, 'srem');
}

function smove(c: Client, argv: string[]): void {
  const srcKey = argv[1];
  const dstKey = argv[2];
  const member = argv[3];
  const sv = lookupWrite(c, srcKey);
  const dv = lookupWrite(c, dstKey);
  if (sv === undefined) {
    c.addInt(0);
    return;
  }
  const src = asSet(c, sv);
  if (src === null) return;
  let dst: SetValue | null = null;
  if (dv !== undefined) {
    dst = asSet(c, dv);
    if (dst === null) return;
  }
  if (src === dst) {
    c.addInt(src.has(member) ? 1 : 0);
    return;
  }
  if (!src.remove(member)) {
    c.addInt(0);
    return;
  }
  notify(c.server, NOTIFY_SET, 'srem', srcKey, c.db.id);
  if (src.size === 0) c.db.delete(srcKey);
  if (src.size === 0) notify(c.server, NOTIFY_GENERIC, 'del', srcKey, c.db.id);
  const lim = limits(c);
  if (dst === null) {
    dst = SetValue.create(member, 1, lim);
    c.db.add(dstKey, dst);
  }
  c.server.dirty++;
  if (dst.add(member, lim)) {
    c.server.dirty++;
    notify(c.server, NOTIFY_SET, 'sadd', dstKey, c.db.id);
  }
  c.addInt(1);
}

// ------------------------------------------------------------------ SISMEMBER, SMISMEMBER, SCARD

function sismember(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.addInt(0);
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  c.addInt(set.has(argv[2]) ? 1 : 0);
}

function smismember(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  let set: SetValue | null = null;
  if (v !== undefined) {
    set = asSet(c, v);
    if (set === null) return;
  }
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.addInt(set !== null && set.has(argv[i]) ? 1 : 0);
}

function scard(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.addInt(0);
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  c.addInt(set.size);
}

// ------------------------------------------------------------------ SPOP, SRANDMEMBER

function spop(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    spopWithCount(c, argv);
    return;
  }
  if (argv.length > 3) {
    c.addError(E_SYNTAX);
    return;
  }
  const key = argv[1];
  const v = lookupWrite(c, key);
  if (v === undefined) {
    c.addNull();
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  const m = set.popRandom();
  c.addBulk(m);
  // Propagated as SREM key member, like Valkey.
  if (c.server.prop.active) c.server.prop.replace(['SREM', key, m]);
  notify(c.server, NOTIFY_SET, 'spop', key, c.db.id);
  if (set.size === 0) c.db.delete(key);
  if (set.size === 0) notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  c.server.dirty++;
}

function spopWithCount(c: Client, argv: string[]): void {
  const n = parseInt64(argv[2]);
  if (n === null || n < 0) {
    c.addError(E_NOT_POSITIVE); // also for a count that is not an integer
    return;
  }
  const count = Number(n);
  const key = argv[1];
  const v = lookupWrite(c, key);
  if (v === undefined) {
    c.addSetLen(0);
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  if (count === 0) {
    c.addSetLen(0);
    return;
  }
  const size = set.size;
  const lim = limits(c);
  if (count >= size) {
    // The whole set, in the order a union of it would give.
    c.server.dirty += size;
    const all = unionOf([set], lim);
    replyMembers(c, all.items);
    notify(c.server, NOTIFY_SET, 'spop', key, c.db.id);
    c.db.delete(key);
    notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
    if (c.server.prop.active) c.server.prop.replace([delCommand(c.server, 'lazyfree-lazy-server-del'), key]);
    return;
  }
  c.server.dirty += count;
  const remaining = size - count;
  const popped = remaining * SPOP_MOVE_STRATEGY_MUL > count ? set.popMany(count) : set.popAllBut(remaining, lim);
  replyMembers(c, popped);
  notify(c.server, NOTIFY_SET, 'spop', key, c.db.id);
  const prop = c.server.prop;
  if (prop.active) {
    // Propagated as SREMs of the popped members, at most 1024 per command (Valkey's batches).
    prop.prevent();
    for (let i = 0; i < popped.length; i += 1024) prop.also(c.db.id, ['SREM', key, ...popped.slice(i, i + 1024)]);
  }
}

function srandmember(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    srandmemberWithCount(c, argv);
    return;
  }
  if (argv.length > 3) {
    c.addError(E_SYNTAX);
    return;
  }
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.addNull();
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  c.addBulk(set.random());
}

function srandmemberWithCount(c: Client, argv: string[]): void {
  const n = parseInt64(argv[2]);
  if (n === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (n === -9223372036854775808n) {
    c.addError(E_SRANDMEMBER_RANGE);
    return;
  }
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.addEmptyArray();
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  if (n === 0) {
    c.addEmptyArray();
    return;
  }
  const uniq = n > 0;
  const count = Number(uniq ? n : -n);
  const size = set.size;
  if (!uniq || count === 1) {
    // Members may repeat.
    c.addArrayLen(count);
    const items = set.items;
    for (let i = 0; i < count; i++) c.addBulk(items[Math.floor(Math.random() * size)]);
    return;
  }
  if (count >= size) {
    c.addBulkArray(set.items);
    return;
  }
  c.addBulkArray(set.sample(count));
}

// ------------------------------------------------------------------ SINTER, SINTERCARD, SINTERSTORE, SMEMBERS

/**
 * Intersection of the sets at `keys`. Answers the members (a set reply), only
 * their number (SINTERCARD, stopping at `limit` when not 0), or stores them.
 */
function interGeneric(c: Client, keys: string[], dstKey: string | null, cardOnly: boolean, limit: number): void {
  const sets: SetValue[] = [];
  let empty = false;
  for (let i = 0; i < keys.length; i++) {
    const v = lookupRead(c, keys[i]);
    if (v === undefined) {
      empty = true;
      continue;
    }
    const s = asSet(c, v);
    if (s === null) return;
    sets.push(s);
  }
  if (empty) {
    if (dstKey !== null) {
      if (c.db.delete(dstKey)) {
        c.server.dirty++;
        notify(c.server, NOTIFY_GENERIC, 'del', dstKey, c.db.id);
      }
      c.addInt(0);
    } else if (cardOnly) {
      c.addInt(0);
    } else {
      c.addSetLen(0);
    }
    return;
  }
  // Smallest set first: its members are the candidates.
  if (sets.length > 1) sets.sort((a, b) => a.size - b.size);
  const first = sets[0];
  const items = first.items;
  const n = sets.length;
  if (cardOnly) {
    let card = 0;
    for (let i = 0; i < items.length; i++) {
      if (inAll(items[i], sets, first, n)) {
        card++;
        if (limit !== 0 && card >= limit) break;
      }
    }
    c.addInt(card);
    return;
  }
  if (dstKey === null) {
    const out: string[] = [];
    for (let i = 0; i < items.length; i++) if (inAll(items[i], sets, first, n)) out.push(items[i]);
    replyMembers(c, out);
    return;
  }
  // The result starts as an intset when the smallest set is one, else as a
  // listpack; it grows as members are added, and ends as an intset if all its
  // members are integers and it fits one.
  const lim = limits(c);
  const dst = new SetValue(first.enc === SetEnc.Intset ? SetEnc.Intset : SetEnc.Listpack);
  let onlyIntegers = true;
  for (let i = 0; i < items.length; i++) {
    const m = items[i];
    if (!inAll(m, sets, first, n)) continue;
    if (onlyIntegers && first.enc !== SetEnc.Intset && !isIntMember(m)) onlyIntegers = false;
    dst.add(m, lim);
  }
  if (onlyIntegers && dst.size > 0) dst.convertToIntsetIfFits(lim);
  storeResult(c, dstKey, dst, 'sinterstore');
}

function inAll(m: string, sets: SetValue[], first: SetValue, n: number): boolean {
  for (let j = 1; j < n; j++) {
    const s = sets[j];
    if (s !== first && !s.has(m)) return false;
  }
  return true;
}

function sinter(c: Client, argv: string[]): void {
  interGeneric(c, argv.slice(1), null, false, 0);
}

function smembers(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.addSetLen(0);
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  replyMembers(c, set.items);
}

function sinterstore(c: Client, argv: string[]): void {
  interGeneric(c, argv.slice(2), argv[1], false, 0);
}

function sintercard(c: Client, argv: string[]): void {
  const nk = parseInt64(argv[1]);
  if (nk === null || nk < 1) {
    c.addError(E_NUMKEYS);
    return;
  }
  if (nk > argv.length - 2) {
    c.addError(E_NUMKEYS_ARGS);
    return;
  }
  const numkeys = Number(nk);
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (more > 0 && isOpt(argv[j], 'limit')) {
      j++;
      const l = parseInt64(argv[j]);
      if (l === null || l < 0) {
        c.addError(E_LIMIT_NEGATIVE);
        return;
      }
      limit = Number(l);
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  interGeneric(c, argv.slice(2, 2 + numkeys), null, true, limit);
}

// ------------------------------------------------------------------ SUNION, SDIFF and their STORE forms

/** The union of some sets, built as Valkey builds it: from an empty intset, member by member. */
function unionOf(sets: (SetValue | null)[], lim: SetLimits): SetValue {
  const dst = new SetValue(SetEnc.Intset);
  for (const s of sets) {
    if (s === null) continue;
    const items = s.items;
    for (let i = 0; i < items.length; i++) dst.add(items[i], lim);
  }
  return dst;
}

function diffOf(sets: (SetValue | null)[], sameSet: boolean, lim: SetLimits): SetValue {
  const dst = new SetValue(SetEnc.Intset);
  const first = sets[0];
  if (first === null || sameSet) return dst;
  // Algorithm 1 checks each member of the first set against the others
  // (size(first) * number of sets); algorithm 2 adds the first set and removes
  // the others (sum of sizes). Valkey favours the first by halving its cost.
  let one = 0;
  let two = 0;
  for (const s of sets) {
    if (s === null) continue;
    one += first.size;
    two += s.size;
  }
  one = Math.floor(one / 2);
  const items = first.items;
  if (one <= two) {
    outer: for (let i = 0; i < items.length; i++) {
      const m = items[i];
      for (let j = 1; j < sets.length; j++) {
        const s = sets[j];
        if (s === null) continue;
        if (s === first || s.has(m)) continue outer;
      }
      dst.add(m, lim);
    }
    return dst;
  }
  for (let i = 0; i < items.length; i++) dst.add(items[i], lim);
  for (let j = 1; j < sets.length && dst.size > 0; j++) {
    const s = sets[j];
    if (s === null) continue;
    const its = s.items;
    for (let i = 0; i < its.length; i++) dst.remove(its[i]);
  }
  return dst;
}

function unionDiffGeneric(c: Client, keys: string[], dstKey: string | null, diff: boolean): void {
  const sets: (SetValue | null)[] = [];
  let sameSet = false;
  for (let i = 0; i < keys.length; i++) {
    const v = lookupRead(c, keys[i]);
    if (v === undefined) {
      sets.push(null);
      continue;
    }
    const s = asSet(c, v);
    if (s === null) return;
    if (i > 0 && s === sets[0]) sameSet = true;
    sets.push(s);
  }
  const lim = limits(c);
  const dst = diff ? diffOf(sets, sameSet, lim) : unionOf(sets, lim);
  if (dstKey === null) replyMembers(c, dst.items);
  else storeResult(c, dstKey, dst, diff ? 'sdiffstore' : 'sunionstore');
}

function sunion(c: Client, argv: string[]): void {
  unionDiffGeneric(c, argv.slice(1), null, false);
}

function sunionstore(c: Client, argv: string[]): void {
  unionDiffGeneric(c, argv.slice(2), argv[1], false);
}

function sdiff(c: Client, argv: string[]): void {
  unionDiffGeneric(c, argv.slice(1), null, true);
}

function sdiffstore(c: Client, argv: string[]): void {
  unionDiffGeneric(c, argv.slice(2), argv[1], true);
}

// ------------------------------------------------------------------ SSCAN


function sscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.addError(E_INVALID_CURSOR);
    return;
  }
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.raw('*2\r\n$1\r\n0\r\n*0\r\n');
    return;
  }
  const set = asSet(c, v);
  if (set === null) return;
  const opts = parseScanOptions(c, argv, 3, ScanKind.Set);
  if (opts === null) return;
  const count = opts.count;
  const pattern = opts.pattern;

  const out: string[] = [];
  if (set.enc !== SetEnc.Hashtable) {
    // Compact encodings answer everything in one call.
    const items = set.items;
    for (let i = 0; i < items.length; i++) if (pattern === null || globMatch(pattern, items[i])) out.push(items[i]);
    c.addArrayLen(2);
    c.addBulk('0');
    c.addBulkArray(out);
    return;
  }
  const index = set.index!;
  const cursors = c.server.scanCursors;
  let it = cursor === 0n ? null : cursors.take(cursor, index);
  if (it === null) it = index.iterator();
  let done = false;
  for (let walked = 0; walked < count; walked++) {
    const r = it.next();
    if (r.done) {
      done = true;
      break;
    }
    const m = r.value;
    if (index.find(m) < 0) continue; // taken ahead and removed since
    if (pattern !== null && !globMatch(pattern, m)) continue;
    out.push(m);
  }
  if (!done) {
    // Look one member ahead so an iteration that ends exactly here answers cursor 0.
    const r = it.next();
    if (r.done) done = true;
    else if (it instanceof LookaheadIterator) it.first = r.value;
    else it = new LookaheadIterator(r.value, it);
  }
  c.addArrayLen(2);
  if (done) c.addBulk('0');
  else c.addBulk(cursors.put(it, index, clock.ms).toString());
  c.addBulkArray(out);
}

// ------------------------------------------------------------------ table

export const commands: HandlerMap = {
  sadd,
  srem,
  smove,
  sismember,
  smismember,
  scard,
  spop,
  srandmember,
  sinter,
  sintercard,
  sinterstore,
  smembers,
  sunion,
  sunionstore,
  sdiff,
  sdiffstore,
  sscan,
};
