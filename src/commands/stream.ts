// Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD (BLOCK),
// XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
// XREADGROUP (BLOCK), XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO (STREAM,
// GROUPS, CONSUMERS, HELP) and XSETID, with Valkey 8's replies and errors.
// The structure itself lives in src/data/stream.ts.
//
// Blocking XREAD/XREADGROUP use src/server/blocking.ts: the command runs again
// when a key it waits on is signalled (XADD signals its key; deleting the key
// or destroying a group wakes XREADGROUP, which then answers NOGROUP). XREAD
// with `$` is rewritten to the concrete last ID before it blocks.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { clock } from '../keyspace/db.js';
import { ObjType, objType, type Value } from '../keyspace/types.js';
import {
  Stream,
  Group,
  Consumer,
  Nack,
  INVALID_ENTRIES_READ,
  MAX_ID,
  U64_MAX,
  ZERO_ID,
  cmpId,
  cmpIds,
  decrId,
  incrId,
  idStr,
  isZeroId,
  normU64,
  type StreamID,
  type U64,
} from '../data/stream.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_STREAM } from '../server/notify.js';
import { replyHelp } from './connection.js';

const E_INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';
const E_XADD_SMALLER = 'ERR The ID specified in XADD is equal or smaller than the target stream top item';
const E_XADD_ZERO = 'ERR The ID specified in XADD must be greater than 0-0';
const E_EXHAUSTED = 'ERR The stream has exhausted the last possible ID, unable to add more items';
const E_START_ID = 'ERR invalid start ID for the interval';
const E_END_ID = 'ERR invalid end ID for the interval';
const E_NO_KEY = 'ERR no such key';
const E_XGROUP_KEY =
  'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';
const LLONG_MAX_F = 9223372036854775807;

// ------------------------------------------------------------------ parsing helpers

/** The argument as C sees it: up to the first NUL byte. */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

/** strcasecmp(arg, lower) == 0. */
function tok(arg: string, lower: string): boolean {
  const s = arg.length === lower.length ? arg : cstr(arg);
  if (s.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let ch = s.charCodeAt(i);
    if (ch >= 65 && ch <= 90) ch |= 32;
    if (ch !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** A long long argument (getLongLongFromObject); beyond 2^53 approximated. */
function parseLL(s: string): number | null {
  const v = parseInt64(s);
  if (v === null) return null;
  return typeof v === 'bigint' ? Number(v) : v;
}

function getLL(c: Client, s: string, msg?: string): number | null {
  const v = parseLL(s);
  if (v === null) c.addError(msg === undefined ? E_NOT_INT : 'ERR ' + msg);
  return v;
}

const CANON_SAFE = /^(0|[1-9][0-9]{0,15})$/;

/** Valkey's string2ull: string2ll for non-negatives, else strtoull rules. */
function parseU64(s: string): U64 | null {
  const len = s.length;
  if (len !== 0 && len <= 15 && (len === 1 || s.charCodeAt(0) !== 48)) {
    // Canonical, at most 15 digits: always a safe integer.
    let v = 0;
    let j = 0;
    for (; j < len; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (j === len) return v;
  }
  if (CANON_SAFE.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) return n;
  }
  const v = parseInt64(s);
  if (v !== null) {
    if (v < 0) return null;
    return typeof v === 'bigint' ? normU64(v) : v;
  }
  // strtoull: leading spaces, optional sign, decimal digits to the end.
  let i = 0;
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch === 32 || (ch >= 9 && ch <= 13)) i++;
    else break;
  }
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  if (i >= s.length) return null;
  const digits = s.slice(i);
  if (!/^[0-9]+$/.test(digits)) return null;
  let b = BigInt(digits);
  if (b > U64_MAX) return null;
  if (neg && b !== 0n) b = U64_MAX + 1n - b;
  return normU64(b);
}

interface ParsedId {
  id: StreamID;
  /** False for `<ms>-*`. */
  seqGiven: boolean;
}

/** streamGenericParseIDOrReply without the reply; null when invalid. */
function parseIdRaw(arg: string, missingSeq: U64, strict: boolean, allowSeqStar: boolean): ParsedId | null {
  if (arg.length > 127) return null;
  const s = cstr(arg);
  if (strict && (s === '-' || s === '+')) return null;
  if (s === '-') return { id: ZERO_ID, seqGiven: true };
  if (s === '+') return { id: MAX_ID, seqGiven: true };
  const dot = s.indexOf('-');
  if (dot < 0) {
    const ms = parseU64(s);
    if (ms === null) return null;
    return { id: { ms, seq: missingSeq }, seqGiven: true };
  }
  const ms = parseU64(s.slice(0, dot));
  if (ms === null) return null;
  const rest = s.slice(dot + 1);
  if (allowSeqStar && rest === '*') return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}

function parseStrictId(c: Client, arg: string): StreamID | null {
  const p = parseIdRaw(arg, 0, true, false);
  if (p === null) c.addError(E_INVALID_ID);
  return p === null ? null : p.id;
}

function parseId(c: Client, arg: string, missingSeq: U64): StreamID | null {
  const p = parseIdRaw(arg, missingSeq, false, false);
  if (p === null) c.addError(E_INVALID_ID);
  return p === null ? null : p.id;
}

/** A range bound; `(` makes it exclusive (strict parse after it). */
function parseIntervalId(c: Client, arg: string, missingSeq: U64): { id: StreamID; ex: boolean } | null {
  if (arg.length > 1 && arg[0] === '(') {
    const p = parseIdRaw(arg.slice(1), missingSeq, true, false);
    if (p === null) {
      c.addError(E_INVALID_ID);
      return null;
    }
    return { id: p.id, ex: true };
  }
  const id = parseId(c, arg, missingSeq);
  return id === null ? null : { id, ex: false };
}

/** Parses the start and end of a range; null after replying an error. */
function parseRange(c: Client, startArg: string, endArg: string): [StreamID, StreamID] | null {
  const s = parseIntervalId(c, startArg, 0);
  if (s === null) return null;
  let start = s.id;
  if (s.ex) {
    const n = incrId(start);
    if (n === null) {
      c.addError(E_START_ID);
      return null;
    }
    start = n;
  }
  const e = parseIntervalId(c, endArg, U64_MAX);
  if (e === null) return null;
  let end = e.id;
  if (e.ex) {
    const n = decrId(end);
    if (n === null) {
      c.addError(E_END_ID);
      return null;
    }
    end = n;
  }
  return [start, end];
}

/** Looks the key up; false after a WRONGTYPE reply. */
function asStream(c: Client, v: Value | undefined): Stream | null | false {
  if (v === undefined) return null;
  if (v instanceof Stream) return v;
  c.addError(E_WRONGTYPE);
  return false;
}

function subSyntaxError(c: Client, argv: string[]): void {
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
}

// ------------------------------------------------------------------ replies

function addId(c: Client, id: StreamID): void {
  c.addBulk(idStr(id.ms, id.seq));
}

/** Writes the entry at an ID (which must exist) in its reply form. */
function addEntryAt(c: Client, s: Stream, id: StreamID): void {
  s.entries.writeEntry(s.entries.find(id.ms, id.seq)!, c);
}

/**
 * Entries in [start, end] (rev: from end down), at most count (0: all),
 * written as an array: the entries are counted first, then rendered from
 * their packed nodes straight into the reply (or copied from the nodes'
 * render cache; see EntryMap in src/data/stream.ts).
 */
function replyRange(c: Client, s: Stream, start: StreamID, end: StreamID, count: number, rev: boolean): void {
  const e = s.entries;
  if (cmpIds(start, end) > 0) {
    c.addArrayLen(0);
    return;
  }
  const p = rev ? e.seekLE(end.ms, end.seq) : e.seekGE(start.ms, start.seq);
  if (p === null) {
    c.addArrayLen(0);
    return;
  }
  const q = { c: p.c, i: p.i };
  let n = 0;
  if (!rev) {
    n = e.countUpTo(p, end.ms, end.seq, count === 0 ? Infinity : count);
    c.addArrayLen(n);
    if (n !== 0) e.writeRun(p, n, c);
  } else {
    const sms = start.ms;
    const sseq = start.seq;
    do {
      if (cmpId(e.msAt(q), e.seqAt(q), sms, sseq) < 0) break;
      n++;
    } while ((count === 0 || n < count) && e.prev(q));
    c.addArrayLen(n);
    if (n !== 0) e.writeRunRev(p, n, c);
  }
}

// ------------------------------------------------------------------ XADD / XTRIM arguments

interface AddTrimArgs {
  maxlen: number | null;
  minid: StreamID | null;
  approx: boolean;
  limit: number;
  noMkstream: boolean;
  id: StreamID | null;
  seqGiven: boolean;
  /** Index of the ID argument (XADD). */
  idPos: number;
  /** Index of the MAXLEN/MINID value and of the LIMIT token (-1 if absent), for the propagated exact form. */
  trimPos: number;
  limitPos: number;
}

function parseAddTrim(c: Client, argv: string[], xadd: boolean): AddTrimArgs | null {
  const a: AddTrimArgs = { maxlen: null, minid: null, approx: false, limit: -1, noMkstream: false, id: null, seqGiven: true, idPos: argv.length, trimPos: -1, limitPos: -1 };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i];
    if (xadd && cstr(opt) === '*') break;
    const isMaxlen = tok(opt, 'maxlen');
    if ((isMaxlen || tok(opt, 'minid')) && more) {
      // MAXLEN and MINID share: the conflict check and the optional ~ or = modifier.
      if ((isMaxlen ? a.minid : a.maxlen) !== null) {
        c.addError('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
        return null;
      }
      const next = cstr(argv[i + 1]);
      if (more >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      a.trimPos = i + 1;
      if (isMaxlen) {
        const v = getLL(c, argv[i + 1]);
        if (v === null) return null;
        if (v < 0) {
          c.addError('ERR The MAXLEN argument must be >= 0.');
          return null;
        }
        a.maxlen = v;
      } else {
        const id = parseStrictId(c, argv[i + 1]);
        if (id === null) return null;
        a.minid = id;
      }
      i++;
    } else if (tok(opt, 'limit') && more) {
      a.limitPos = i;
      const v = getLL(c, argv[i + 1]);
      if (v === null) return null;
      if (v < 0) {
        c.addError('ERR The LIMIT argument must be >= 0.');
        return null;
      }
      a.limit = v;
      limitGiven = true;
      i++;
    } else if (xadd && tok(opt, 'nomkstream')) {
      a.noMkstream = true;
    } else if (xadd) {
      const p = parseIdRaw(opt, 0, true, true);
      if (p === null) {
        c.addError(E_INVALID_ID);
        return null;
      }
      a.id = p.id;
      a.seqGiven = p.seqGiven;
      break;
    } else {
      c.addError(E_SYNTAX);
      return null;
    }
  }
  const trimming = a.maxlen !== null || a.minid !== null;
  if (limitGiven && a.limit && !trimming) {
    c.addError('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    return null;
  }
  if (!xadd && !trimming) {
    c.addError('ERR syntax error, XTRIM must be called with a trimming strategy');
    return null;
  }
  if (limitGiven && a.limit && !a.approx) {
    c.addError('ERR syntax error, LIMIT cannot be used without the special ~ option');
    return null;
  }
  if (a.approx) {
    if (!limitGiven || a.limit <= 0) a.limit = limitGiven && a.limit === 0 ? 0 : 100 * 100;
  } else {
    a.limit = 0;
  }
  a.idPos = i;
  return a;
}

function doTrim(s: Stream, a: AddTrimArgs): number {
  if (a.maxlen === null && a.minid === null) return 0;
  return s.trim(a.maxlen, a.minid, a.approx, a.limit);
}

/**
 * After an approximate (~) trim that removed entries: the propagated form
 * trims exactly to what is left (MAXLEN = <length> or MINID = <first id>, like
 * Valkey's streamRewriteTrimArgument), so AOF and replicas end up the same.
 * LIMIT goes too (it needs ~).
 */
function exactTrimArgv(argv: string[], s: Stream, a: AddTrimArgs): string[] {
  const out = argv.slice();
  if (a.maxlen !== null) out[a.trimPos] = String(s.length);
  else {
    const f = s.firstValidId();
    out[a.trimPos] = f === null ? idStr(s.lastId.ms, s.lastId.seq) : idStr(f.ms, f.seq);
  }
  out[a.trimPos - 1] = '=';
  if (a.limitPos >= 0) out.splice(a.limitPos, 2);
  return out;
}

// ------------------------------------------------------------------ XADD

/** XADD key * field value ...: what parseAddTrim gives for an auto ID without options (never mutated). */
const PLAIN_ADD: Readonly<AddTrimArgs> = { maxlen: null, minid: null, approx: false, limit: 0, noMkstream: false, id: null, seqGiven: true, idPos: 2, trimPos: -1, limitPos: -1 };

function xadd(c: Client, argv: string[]): void {
  const a = argv[2] === '*' ? PLAIN_ADD : parseAddTrim(c, argv, true);
  if (a === null) return;
  const fieldPos = a.idPos + 1;
  const nf = argv.length - fieldPos;
  if (nf < 2 || nf % 2 === 1) {
    c.addError("ERR wrong number of arguments for 'xadd' command");
    return;
  }
  if (a.id !== null && a.seqGiven && isZeroId(a.id)) {
    c.addError(E_XADD_ZERO);
    return;
  }
  const db = c.db;
  const key = argv[1];
  let s = asStream(c, db.lookupWrite(key));
  if (s === false) return;
  let created = false;
  if (s === null) {
    if (a.noMkstream) {
      c.addNull();
      return;
    }
    s = new Stream();
    created = true;
  }
  const lms = s.lastMs;
  const lseq = s.lastSeq;
  if (lms === U64_MAX && lseq === U64_MAX) {
    c.addError(E_EXHAUSTED);
    return;
  }
  let ms: U64;
  let seq: U64;
  if (a.id !== null) {
    ms = a.id.ms;
    if (a.seqGiven) seq = a.id.seq;
    else if (ms === lms) {
      if (lseq === U64_MAX) {
        c.addError(E_XADD_SMALLER);
        return;
      }
      seq = incrId({ ms: lms, seq: lseq })!.seq;
    } else seq = 0;
    if (cmpId(ms, seq, lms, lseq) <= 0) {
      c.addError(E_XADD_SMALLER);
      return;
    }
  } else {
    // The command's time snapshot, as Valkey's streamNextID (commandTimeSnapshot()):
    // the clock read when the client's input was read (a MULTI or a script
    // adds in the same ms), never a clock read per entry.
    const now = clock.ms;
    if (now > lms) {
      ms = now;
      seq = 0;
    } else if (typeof lseq === 'number' && lseq < Number.MAX_SAFE_INTEGER) {
      ms = lms;
      seq = lseq + 1;
    } else {
      const n = incrId({ ms: lms, seq: lseq })!;
      ms = n.ms;
      seq = n.seq;
    }
  }
  s.appendAt(ms, seq, argv, fieldPos, c.server.streamNodeMaxEntries, c.server.streamNodeMaxBytes);
  if (created) db.add(key, s);
  s.entries.writeLastId(c);
  c.server.dirty++;
  notify(c.server, NOTIFY_STREAM, 'xadd', key, db.id);
  const trimmed = doTrim(s, a);
  if (trimmed !== 0) notify(c.server, NOTIFY_STREAM, 'xtrim', key, db.id);
  if (c.server.prop.active && (a.id === null || !a.seqGiven || (a.approx && trimmed !== 0))) {
    // Propagated with the ID it got (not * or ms-*) and an exact trim.
    let pv = argv.slice();
    pv[a.idPos] = idStr(ms, seq);
    if (a.approx && trimmed !== 0) pv = exactTrimArgv(pv, s, a);
    c.server.prop.replace(pv);
  }
  c.server.blocking.signalKeyReady(db, key);
}

// ------------------------------------------------------------------ XRANGE / XREVRANGE / XLEN

function xrangeGeneric(c: Client, argv: string[], rev: boolean): void {
  const r = parseRange(c, rev ? argv[3] : argv[2], rev ? argv[2] : argv[3]);
  if (r === null) return;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    const more = argv.length - j - 1;
    if (tok(argv[j], 'count') && more >= 1) {
      const v = getLL(c, argv[j + 1]);
      if (v === null) return;
      count = v < 0 ? 0 : v;
      j++;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const s = asStream(c, c.db.lookup(argv[1]));
  if (s === false) return;
  if (s === null) {
    c.addArrayLen(0);
    return;
  }
  if (count === 0) {
    c.addNullArray();
    return;
  }
  replyRange(c, s, r[0], r[1], count === -1 ? 0 : count, rev);
}

const xrange = (c: Client, argv: string[]) => xrangeGeneric(c, argv, false);
const xrevrange = (c: Client, argv: string[]) => xrangeGeneric(c, argv, true);

function xlen(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookup(argv[1]));
  if (s === false) return;
  c.addInt(s === null ? 0 : s.length);
}

// ------------------------------------------------------------------ XDEL / XTRIM

function xdel(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupWrite(argv[1]));
  if (s === false) return;
  if (s === null) {
    c.addInt(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = parseStrictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  let firstEntry = false;
  for (const id of ids) {
    if (s.deleteEntry(id)) {
      if (cmpIds(id, s.firstId) === 0) firstEntry = true;
      if (cmpIds(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
      deleted++;
    }
  }
  if (deleted) {
    if (s.length === 0) s.firstId = ZERO_ID;
    else if (firstEntry) s.updateFirstId();
    c.server.dirty += deleted;
    notify(c.server, NOTIFY_STREAM, 'xdel', argv[1], c.db.id);
  }
  c.addInt(deleted);
}

function xtrim(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupWrite(argv[1]));
  if (s === false) return;
  if (s === null) {
    c.addInt(0);
    return;
  }
  const a = parseAddTrim(c, argv, false);
  if (a === null) return;
  const n = doTrim(s, a);
  c.server.dirty += n;
  if (n !== 0) notify(c.server, NOTIFY_STREAM, 'xtrim', argv[1], c.db.id);
  if (n !== 0 && a.approx && c.server.prop.active) c.server.prop.replace(exactTrimArgv(argv, s, a));
  c.addInt(n);
}

// ------------------------------------------------------------------ XREAD / XREADGROUP

/** BLOCK <ms>: absolute deadline, 0 forever; null after an error. */
function parseBlockMs(c: Client, arg: string): number | null {
  const v = parseLL(arg);
  if (v === null) {
    c.addError('ERR timeout is not an integer or out of range');
    return null;
  }
  if (v < 0) {
    c.addError('ERR timeout is negative');
    return null;
  }
  if (v > 0) {
    const now = clock.ms;
    if (v > LLONG_MAX_F - now) {
      c.addError('ERR timeout is out of range');
      return null;
    }
    return v + now;
  }
  return 0;
}

/** Marks "deliver new entries" (`>`). */
const NEW_ONLY: StreamID = MAX_ID;

function xreadGeneric(c: Client, argv: string[], xreadgroup: boolean): void {
  let deadline = -1;
  let count = 0;
  let streamsArg = 0;
  let nstreams = 0;
  let groupName: string | null = null;
  let consumerName = '';
  let noack = false;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i];
    if (tok(o, 'block') && more) {
      i++;
      const d = parseBlockMs(c, argv[i]);
      if (d === null) return;
      deadline = d;
    } else if (tok(o, 'count') && more) {
      const v = getLL(c, argv[i + 1]);
      if (v === null) return;
      count = v < 0 ? 0 : v;
      i++;
    } else if (tok(o, 'streams') && more) {
      streamsArg = i + 1;
      const n = argv.length - streamsArg;
      if (n % 2 !== 0) {
        c.addError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return;
      }
      nstreams = n / 2;
      break;
    } else if (tok(o, 'group') && more >= 2) {
      if (!xreadgroup) {
        c.addError('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
        return;
      }
      groupName = argv[i + 1];
      consumerName = argv[i + 2];
      i += 2;
    } else if (tok(o, 'noack')) {
      if (!xreadgroup) {
        c.addError('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
        return;
      }
      noack = true;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  if (streamsArg === 0) {
    c.addError(E_SYNTAX);
    return;
  }
  if (xreadgroup && groupName === null) {
    c.addError('ERR Missing GROUP option for XREADGROUP');
    return;
  }
  const db = c.db;
  const ids: StreamID[] = [];
  const groups: Array<Group | null> = [];
  /** Streams read with `+`: only their last entry. */
  const lastOnly: boolean[] = [];
  let rewrite: string[] | null = null;
  for (let k = 0; k < nstreams; k++) {
    const key = argv[streamsArg + k];
    const idArg = argv[streamsArg + nstreams + k];
    const s = asStream(c, db.lookup(key));
    if (s === false) return;
    let g: Group | null = null;
    if (xreadgroup) {
      g = s === null ? null : (s.group(groupName!) ?? null);
      if (g === null) {
        c.addError(`NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`);
        return;
      }
    }
    groups.push(g);
    lastOnly.push(false);
    const a = cstr(idArg);
    if (a === '$') {
      if (xreadgroup) {
        c.addError(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
        return;
      }
      const id = s === null ? ZERO_ID : s.lastId;
      ids.push(id);
      if (rewrite === null) rewrite = argv.slice();
      rewrite[streamsArg + nstreams + k] = idStr(id.ms, id.seq);
      continue;
    }
    if (a === '+' && !xreadgroup) {
      if (s !== null && s.length > 0) {
        const last = s.lastValidId();
        ids.push(decrId(last) ?? ZERO_ID);
        lastOnly[k] = true;
      } else {
        const id = s === null ? ZERO_ID : s.lastId;
        ids.push(id);
        if (rewrite === null) rewrite = argv.slice();
        rewrite[streamsArg + nstreams + k] = idStr(id.ms, id.seq);
      }
      continue;
    }
    if (a === '>') {
      if (!xreadgroup) {
        c.addError('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
        return;
      }
      ids.push(NEW_ONLY);
      continue;
    }
    const id = parseStrictId(c, idArg);
    if (id === null) return;
    ids.push(id);
  }

  // Serve what can be served now.
  const now = clock.ms;
  let served = 0;
  const mark = c.len;
  const parts: Array<() => void> = [];
  for (let k = 0; k < nstreams; k++) {
    const key = argv[streamsArg + k];
    const s = db.peek(key) as Stream | undefined;
    if (s === undefined || objType(s) !== ObjType.Stream) continue;
    const g = groups[k];
    let gt = ids[k];
    let sync = false;
    let history = false;
    if (g !== null) {
      if (gt !== NEW_ONLY) {
        sync = true;
        history = true;
      } else if (s.length) {
        const maxid = s.lastValidId();
        if (cmpIds(maxid, g.lastId) > 0) {
          sync = true;
          gt = g.lastId;
        }
      }
    } else if (s.length) {
      if (cmpIds(s.lastValidId(), gt) > 0) sync = true;
    }
    if (!sync) continue;
    served++;
    const start = incrId(gt) ?? MAX_ID;
    const cnt = lastOnly[k] ? 1 : count;
    parts.push(() => {
      if (c.resp === 2) c.addArrayLen(2);
      c.addBulk(key);
      if (g === null) {
        replyRange(c, s, start, MAX_ID, cnt, false);
        return;
      }
      let cons = g.consumers.get(consumerName);
      if (cons === undefined) {
        cons = g.createConsumer(consumerName, now)!;
        notify(c.server, NOTIFY_STREAM, 'xgroup-createconsumer', key, c.db.id);
        // With NOACK no XCLAIM will carry the consumer: Valkey propagates its creation.
        if (noack && c.server.prop.active) c.server.prop.also(c.db.id, ['XGROUP', 'CREATECONSUMER', key, g.name, consumerName]);
      }
      cons.seenTime = now;
      // XREADGROUP propagates its effects only (XCLAIM per delivered entry, XGROUP SETID with NOACK).
      if (c.server.prop.active) c.server.prop.prevent();
      if (history) replyFromConsumerPel(c, s, start, cons, cnt, now);
      else deliverNew(c, key, s, g, cons, start, cnt, noack, now);
      c.server.dirty++;
    });
  }
  void mark;
  if (served) {
    if (c.resp === 3) c.addMapLen(served);
    else c.addArrayLen(served);
    for (const p of parts) p();
    return;
  }
  if (deadline !== -1) {
    const b = c.server.blocking;
    if (!b.canBlock(c)) {
      c.addNullArray();
      return;
    }
    const keys = argv.slice(streamsArg, streamsArg + nstreams);
    b.block(c, rewrite ?? argv, { keys, deadline, type: ObjType.Stream, unblockOnNoKey: xreadgroup });
    return;
  }
  c.addNullArray();
}

/** XREADGROUP `>`: entries after start, added to the PELs unless NOACK. */
/** The effective form of a claim or delivery: XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id (Valkey's streamPropagateXCLAIM). */
function propagateXclaim(c: Client, key: string, g: Group, consumer: string, ms: U64, seq: U64, n: Nack | null): void {
  c.server.prop.also(c.db.id, [
    'XCLAIM', key, g.name, consumer, '0', idStr(ms, seq),
    'TIME', String(n === null ? clock.ms : n.deliveryTime), 'RETRYCOUNT', String(n === null ? 0 : n.deliveryCount),
    'FORCE', 'JUSTID', 'LASTID', idStr(g.lastId.ms, g.lastId.seq),
  ]);
}

/** XGROUP SETID key group last-id ENTRIESREAD n (Valkey's streamPropagateGroupID). */
function propagateGroupId(c: Client, key: string, g: Group): void {
  c.server.prop.also(c.db.id, ['XGROUP', 'SETID', key, g.name, idStr(g.lastId.ms, g.lastId.seq), 'ENTRIESREAD', String(g.entriesRead)]);
}

function deliverNew(c: Client, key: string, s: Stream, g: Group, cons: Consumer, start: StreamID, count: number, noack: boolean, now: number): void {
  const e = s.entries;
  const p = e.seekGE(start.ms, start.seq);
  let n = 0;
  if (p !== null) {
    const q = { c: p.c, i: p.i };
    do n++;
    while ((count === 0 || n < count) && e.next(q));
  }
  c.addArrayLen(n);
  let advanced = false;
  for (let j = 0; j < n; j++) {
    const ms = e.msAt(p!);
    const seq = e.seqAt(p!);
    const id = { ms, seq };
    if (cmpIds(id, g.lastId) > 0) {
      s.advanceGroup(g, id);
      advanced = true;
    }
    e.writeEntry(p!, c);
    e.next(p!);
    if (!noack) {
      const old = g.pel.get(ms, seq);
      if (old === undefined) {
        const n = new Nack(cons, now, 1);
        g.pel.set(ms, seq, n);
        cons.pel.set(ms, seq, n);
      } else {
        if (old.consumer !== null) old.consumer.pel.delete(ms, seq);
        old.consumer = cons;
        old.deliveryTime = now;
        old.deliveryCount = 1;
        cons.pel.set(ms, seq, old);
      }
      cons.activeTime = now;
      if (c.server.prop.active) propagateXclaim(c, key, g, cons.name, ms, seq, g.pel.get(ms, seq)!);
    }
  }
  // Valkey (since Redis 7.2) propagates the group's last ID and entries_read after every delivery, NOACK or not.
  if (advanced && c.server.prop.active) propagateGroupId(c, key, g);
}

/** XREADGROUP with an ID: the consumer's pending entries from start. */
function replyFromConsumerPel(c: Client, s: Stream, start: StreamID, cons: Consumer, count: number, now: number): void {
  const ids = cons.pel.idsFrom(start.ms, start.seq, count === 0 ? Infinity : count);
  c.addArrayLen(ids.length);
  for (const id of ids) {
    const p = s.entries.find(id.ms, id.seq);
    if (p === null) {
      c.addArrayLen(2);
      addId(c, id);
      c.addNullArray();
    } else {
      s.entries.writeEntry(p, c);
      const n = cons.pel.get(id.ms, id.seq)!;
      n.deliveryTime = now;
      n.deliveryCount++;
    }
  }
}

const xread = (c: Client, argv: string[]) => xreadGeneric(c, argv, false);
const xreadgroup = (c: Client, argv: string[]) => xreadGeneric(c, argv, true);

// ------------------------------------------------------------------ XGROUP

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
];

interface XGroupCtx {
  s: Stream | null;
  g: Group | undefined;
  mkstream: boolean;
  entriesRead: number;
}

/** The shared front part of XGROUP subcommands; null after replying. */
function xgroupPrepare(c: Client, argv: string[]): XGroupCtx | null {
  const sub = argv[1];
  const create = tok(sub, 'create');
  const setid = tok(sub, 'setid');
  let mkstream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  if (create || setid) {
    for (let i = 5; i < argv.length; i++) {
      if (create && tok(argv[i], 'mkstream')) mkstream = true;
      else if (tok(argv[i], 'entriesread') && i + 1 < argv.length) {
        const v = getLL(c, argv[i + 1]);
        if (v === null) return null;
        if (v < 0 && v !== INVALID_ENTRIES_READ) {
          c.addError('ERR value for ENTRIESREAD must be positive or -1');
          return null;
        }
        entriesRead = v;
        i++;
      } else {
        subSyntaxError(c, argv);
        return null;
      }
    }
  }
  const s = asStream(c, c.db.lookupWrite(argv[2]));
  if (s === false) return null;
  const grp = argv[3];
  let g: Group | undefined;
  if (!mkstream) {
    if (s === null) {
      c.addError(E_XGROUP_KEY);
      return null;
    }
    g = s.group(grp);
    if (g === undefined && (setid || tok(sub, 'createconsumer') || tok(sub, 'delconsumer'))) {
      c.addError(`NOGROUP No such consumer group '${grp}' for key name '${argv[2]}'`);
      return null;
    }
  } else if (s !== null) g = s.group(grp);
  return { s, g, mkstream, entriesRead };
}

function xgroupCreate(c: Client, argv: string[]): void {
  const x = xgroupPrepare(c, argv);
  if (x === null) return;
  if (argv.length > 8) {
    subSyntaxError(c, argv);
    return;
  }
  let id: StreamID;
  if (cstr(argv[4]) === '$') id = x.s === null ? ZERO_ID : x.s.lastId;
  else {
    const p = parseStrictId(c, argv[4]);
    if (p === null) return;
    id = p;
  }
  let s = x.s;
  if (s === null) {
    s = new Stream();
    c.db.add(argv[2], s);
  }
  if (s.createGroup(argv[3], id, x.entriesRead) === null) {
    c.addError('BUSYGROUP Consumer Group name already exists');
    return;
  }
  c.server.dirty++;
  notify(c.server, NOTIFY_STREAM, 'xgroup-create', argv[2], c.db.id);
  c.addOK();
}

function xgroupSetid(c: Client, argv: string[]): void {
  const x = xgroupPrepare(c, argv);
  if (x === null) return;
  if (argv.length !== 5 && argv.length !== 7) {
    subSyntaxError(c, argv);
    return;
  }
  let id: StreamID;
  if (cstr(argv[4]) === '$') id = x.s!.lastId;
  else {
    const p = parseId(c, argv[4], 0);
    if (p === null) return;
    id = p;
  }
  x.g!.lastId = id;
  x.g!.entriesRead = x.entriesRead;
  c.server.dirty++;
  notify(c.server, NOTIFY_STREAM, 'xgroup-setid', argv[2], c.db.id);
  c.addOK();
}

function xgroupDestroy(c: Client, argv: string[]): void {
  const x = xgroupPrepare(c, argv);
  if (x === null) return;
  if (x.g === undefined) {
    c.addInt(0);
    return;
  }
  x.s!.groups!.delete(argv[3]);
  c.server.dirty++;
  notify(c.server, NOTIFY_STREAM, 'xgroup-destroy', argv[2], c.db.id);
  c.addInt(1);
  // Blocked XREADGROUP clients on this group answer NOGROUP when they run again.
  c.server.blocking.signalKeyReady(c.db, argv[2]);
}

function xgroupCreateconsumer(c: Client, argv: string[]): void {
  const x = xgroupPrepare(c, argv);
  if (x === null) return;
  const created = x.g!.createConsumer(argv[4], clock.ms);
  if (created !== null) c.server.dirty++;
  if (created !== null) notify(c.server, NOTIFY_STREAM, 'xgroup-createconsumer', argv[2], c.db.id);
  c.addInt(created !== null ? 1 : 0);
}

function xgroupDelconsumer(c: Client, argv: string[]): void {
  const x = xgroupPrepare(c, argv);
  if (x === null) return;
  const cons = x.g!.consumers.get(argv[4]);
  let pending = 0;
  if (cons !== undefined) {
    pending = x.g!.deleteConsumer(cons);
    c.server.dirty++;
    notify(c.server, NOTIFY_STREAM, 'xgroup-delconsumer', argv[2], c.db.id);
  }
  c.addInt(pending);
}

function xgroupHelp(c: Client, argv: string[]): void {
  replyHelp(c, argv[0], XGROUP_HELP);
}

// ------------------------------------------------------------------ XACK

function xack(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookup(argv[1]));
  if (s === false) return;
  const g = s === null ? undefined : s.group(argv[2]);
  if (g === undefined) {
    c.addInt(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = parseStrictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) {
    const n = g.pel.take(id.ms, id.seq);
    if (n === undefined) continue;
    n.consumer?.pel.delete(id.ms, id.seq);
    acked++;
    c.server.dirty++;
  }
  c.addInt(acked);
}

// ------------------------------------------------------------------ XPENDING

function xpending(c: Client, argv: string[]): void {
  const argc = argv.length;
  const justinfo = argc === 3;
  if (argc !== 3 && (argc < 6 || argc > 9)) {
    c.addError(E_SYNTAX);
    return;
  }
  let minidle = 0;
  let count = 0;
  let start = ZERO_ID;
  let end = MAX_ID;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let si = 3;
    if (tok(argv[3], 'idle')) {
      const v = getLL(c, argv[4]);
      if (v === null) return;
      minidle = v;
      if (argc < 8) {
        c.addError(E_SYNTAX);
        return;
      }
      si += 2;
    }
    const cv = getLL(c, argv[si + 2]);
    if (cv === null) return;
    count = cv < 0 ? 0 : cv;
    const r = parseRange(c, argv[si], argv[si + 1]);
    if (r === null) return;
    [start, end] = r;
    if (si + 3 < argc) consumerName = argv[si + 3];
  }
  const s = asStream(c, c.db.lookup(argv[1]));
  if (s === false) return;
  const g = s === null ? undefined : s.group(argv[2]);
  if (g === undefined) {
    c.addError(`NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
    return;
  }
  if (justinfo) {
    c.addArrayLen(4);
    c.addInt(g.pel.size);
    if (g.pel.size === 0) {
      c.addNull();
      c.addNull();
      c.addNullArray();
      return;
    }
    addId(c, g.pel.idAt(g.pel.first()!));
    addId(c, g.pel.idAt(g.pel.last()!));
    const cons = g.sortedConsumers().filter((x) => x.pel.size !== 0);
    c.addArrayLen(cons.length);
    for (const x of cons) {
      c.addArrayLen(2);
      c.addBulk(x.name);
      c.addBulk(String(x.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const cons = g.consumers.get(consumerName);
    if (cons === undefined) {
      c.addArrayLen(0);
      return;
    }
    pel = cons.pel;
  }
  const now = clock.ms;
  const out: Array<[StreamID, Nack]> = [];
  const p = count ? pel.seekGE(start.ms, start.seq) : null;
  if (p !== null) {
    do {
      const id = pel.idAt(p);
      if (cmpIds(id, end) > 0) break;
      const n = pel.valAt(p);
      if (minidle && now - n.deliveryTime < minidle) continue;
      out.push([id, n]);
    } while (out.length < count && pel.next(p));
  }
  c.addArrayLen(out.length);
  for (const [id, n] of out) {
    c.addArrayLen(4);
    addId(c, id);
    c.addBulk(n.consumer === null ? '' : n.consumer.name);
    const el = now - n.deliveryTime;
    c.addInt(el < 0 ? 0 : el);
    c.addInt(n.deliveryCount);
  }
}

// ------------------------------------------------------------------ XCLAIM / XAUTOCLAIM

function claimLookup(c: Client, argv: string[]): [Stream, Group] | null {
  const s = asStream(c, c.db.lookup(argv[1]));
  if (s === false) return null;
  const g = s === null ? undefined : s.group(argv[2]);
  if (g === undefined) {
    c.addError(`NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
    return null;
  }
  return [s!, g];
}

function moveNack(g: Group, n: Nack, cons: Consumer, id: StreamID): void {
  if (n.consumer !== cons) {
    n.consumer?.pel.delete(id.ms, id.seq);
    cons.pel.set(id.ms, id.seq, n);
    n.consumer = cons;
  }
  void g;
}

function getConsumer(c: Client, key: string, g: Group, name: string, now: number): Consumer {
  let cons = g.consumers.get(name);
  if (cons === undefined) {
    cons = g.createConsumer(name, now)!;
    notify(c.server, NOTIFY_STREAM, 'xgroup-createconsumer', key, c.db.id);
  }
  cons.seenTime = now;
  return cons;
}

function xclaim(c: Client, argv: string[]): void {
  const sg = claimLookup(c, argv);
  if (sg === null) return;
  const [s, g] = sg;
  let minidle = getLL(c, argv[4], 'Invalid min-idle-time argument for XCLAIM');
  if (minidle === null) return;
  if (minidle < 0) minidle = 0;
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseIdRaw(argv[j], 0, true, false);
    if (p === null) break;
    ids.push(p.id);
  }
  const now = clock.ms;
  let deliveryTime = -1;
  let retry = -1;
  let force = false;
  let justid = false;
  let lastId = ZERO_ID;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = argv[j];
    if (tok(o, 'force')) force = true;
    else if (tok(o, 'justid')) justid = true;
    else if (tok(o, 'idle') && more) {
      j++;
      const v = getLL(c, argv[j], 'Invalid IDLE option argument for XCLAIM');
      if (v === null) return;
      deliveryTime = now - v;
    } else if (tok(o, 'time') && more) {
      j++;
      const v = getLL(c, argv[j], 'Invalid TIME option argument for XCLAIM');
      if (v === null) return;
      deliveryTime = v;
    } else if (tok(o, 'retrycount') && more) {
      j++;
      const v = getLL(c, argv[j], 'Invalid RETRYCOUNT option argument for XCLAIM');
      if (v === null) return;
      retry = v;
    } else if (tok(o, 'lastid') && more) {
      j++;
      const v = parseStrictId(c, argv[j]);
      if (v === null) return;
      lastId = v;
    } else {
      c.addError(`ERR Unrecognized XCLAIM option '${cstr(o)}'`);
      return;
    }
  }
  const prop = c.server.prop;
  if (prop.active) prop.prevent();
  let lastIdMoved = false;
  if (cmpIds(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    c.server.dirty++;
    lastIdMoved = true;
  }
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  } else deliveryTime = now;
  let cons: Consumer | null = null;
  const out: Array<StreamID> = [];
  for (const id of ids) {
    let n = g.pel.get(id.ms, id.seq);
    if (!s.entries.has(id.ms, id.seq)) {
      if (n !== undefined) {
        g.pel.delete(id.ms, id.seq);
        n.consumer?.pel.delete(id.ms, id.seq);
        c.server.dirty++;
        if (prop.active) propagateXclaim(c, argv[1], g, argv[3], id.ms, id.seq, null);
      }
      continue;
    }
    if (force && n === undefined) {
      n = new Nack(null, now, 1);
      g.pel.set(id.ms, id.seq, n);
    }
    if (n === undefined) continue;
    if (n.consumer !== null && minidle && now - n.deliveryTime < minidle) continue;
    if (cons === null) cons = getConsumer(c, argv[1], g, argv[3], now);
    n.deliveryTime = deliveryTime;
    if (retry >= 0) n.deliveryCount = retry;
    else if (!justid) n.deliveryCount++;
    moveNack(g, n, cons, id);
    cons.activeTime = now;
    out.push(id);
    c.server.dirty++;
    if (prop.active) propagateXclaim(c, argv[1], g, argv[3], id.ms, id.seq, n);
  }
  if (lastIdMoved && out.length === 0 && prop.active) propagateGroupId(c, argv[1], g);
  c.addArrayLen(out.length);
  for (const id of out) {
    if (justid) addId(c, id);
    else addEntryAt(c, s, id);
  }
}

function xautoclaim(c: Client, argv: string[]): void {
  const sg = claimLookup(c, argv);
  if (sg === null) return;
  const [s, g] = sg;
  let minidle = getLL(c, argv[4], 'Invalid min-idle-time argument for XAUTOCLAIM');
  if (minidle === null) return;
  if (minidle < 0) minidle = 0;
  const si = parseIntervalId(c, argv[5], 0);
  if (si === null) return;
  let start = si.id;
  if (si.ex) {
    const n = incrId(start);
    if (n === null) {
      c.addError(E_START_ID);
      return;
    }
    start = n;
  }
  let count = 100;
  let justid = false;
  const maxCount = Math.floor(LLONG_MAX_F / 16);
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (tok(argv[j], 'count') && more) {
      const v = parseLL(argv[j + 1]);
      if (v === null || v < 1 || v > maxCount) {
        c.addError('ERR COUNT must be > 0');
        return;
      }
      count = v;
      j++;
    } else if (tok(argv[j], 'justid')) justid = true;
    else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  let attempts = count * 10;
  const now = clock.ms;
  const prop = c.server.prop;
  if (prop.active) prop.prevent();
  const candidates = g.pel.idsFrom(start.ms, start.seq, Math.min(attempts + 1, 0x7fffffff));
  const claimed: StreamID[] = [];
  const deleted: StreamID[] = [];
  let cons: Consumer | null = null;
  let k = 0;
  while (attempts-- > 0 && count > 0 && k < candidates.length) {
    const id = candidates[k++];
    const n = g.pel.get(id.ms, id.seq)!;
    if (!s.entries.has(id.ms, id.seq)) {
      g.pel.delete(id.ms, id.seq);
      n.consumer?.pel.delete(id.ms, id.seq);
      deleted.push(id);
      count--;
      c.server.dirty++;
      if (prop.active) propagateXclaim(c, argv[1], g, argv[3], id.ms, id.seq, null);
      continue;
    }
    if (minidle && now - n.deliveryTime < minidle) continue;
    if (cons === null) cons = getConsumer(c, argv[1], g, argv[3], now);
    n.deliveryTime = now;
    if (!justid) n.deliveryCount++;
    moveNack(g, n, cons, id);
    claimed.push(id);
    count--;
    cons.activeTime = now;
    c.server.dirty++;
    if (prop.active) propagateXclaim(c, argv[1], g, argv[3], id.ms, id.seq, n);
  }
  let cursor = ZERO_ID;
  if (k < candidates.length) cursor = candidates[k];
  else if (candidates.length !== 0) {
    const p = g.pel.seekGE(candidates[candidates.length - 1].ms, candidates[candidates.length - 1].seq);
    if (p !== null) {
      const id = g.pel.idAt(p);
      if (cmpIds(id, candidates[candidates.length - 1]) > 0) cursor = id;
      else if (g.pel.next(p)) cursor = g.pel.idAt(p);
    }
  }
  c.addArrayLen(3);
  addId(c, cursor);
  c.addArrayLen(claimed.length);
  for (const id of claimed) {
    if (justid) addId(c, id);
    else addEntryAt(c, s, id);
  }
  c.addArrayLen(deleted.length);
  for (const id of deleted) addId(c, id);
}

// ------------------------------------------------------------------ XINFO

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
];

function xinfoLookup(c: Client, key: string): Stream | null {
  const s = asStream(c, c.db.lookup(key));
  if (s === false) return null;
  if (s === null) {
    c.addError(E_NO_KEY);
    return null;
  }
  return s;
}

function addU64(c: Client, v: U64): void {
  if (typeof v === 'number') c.addInt(v);
  else c.addBigInt(v);
}

function radixNodes(s: Stream): number {
  const n = s.nodeCount;
  return n === 0 ? 1 : 2 * n;
}

function xinfoStream(c: Client, argv: string[]): void {
  const s = xinfoLookup(c, argv[2]);
  if (s === null) return;
  const rest = argv.length - 2;
  let full = true;
  let count = 10;
  if (rest === 1) full = false;
  else if (rest === 2 || rest === 4) {
    if (!tok(argv[3], 'full')) {
      subSyntaxError(c, argv);
      return;
    }
    if (rest === 4) {
      if (!tok(argv[4], 'count')) {
        subSyntaxError(c, argv);
        return;
      }
      const v = getLL(c, argv[5]);
      if (v === null) return;
      count = v < 0 ? 10 : v;
    }
  } else {
    subSyntaxError(c, argv);
    return;
  }
  c.addMapLen(full ? 9 : 10);
  c.addBulk('length');
  c.addInt(s.length);
  c.addBulk('radix-tree-keys');
  c.addInt(s.nodeCount);
  c.addBulk('radix-tree-nodes');
  c.addInt(radixNodes(s));
  c.addBulk('last-generated-id');
  addId(c, s.lastId);
  c.addBulk('max-deleted-entry-id');
  addId(c, s.maxDeletedId);
  c.addBulk('entries-added');
  addU64(c, s.entriesAdded);
  c.addBulk('recorded-first-entry-id');
  addId(c, s.firstId);
  if (!full) {
    c.addBulk('groups');
    c.addInt(s.groups === null ? 0 : s.groups.size);
    const e = s.entries;
    c.addBulk('first-entry');
    const f = e.first();
    if (f === null) c.addNull();
    else e.writeEntry(f, c);
    c.addBulk('last-entry');
    const l = e.last();
    if (l === null) c.addNull();
    else e.writeEntry(l, c);
    return;
  }
  c.addBulk('entries');
  replyRange(c, s, ZERO_ID, MAX_ID, count, false);
  c.addBulk('groups');
  const groups = s.sortedGroups();
  c.addArrayLen(groups.length);
  for (const g of groups) {
    c.addMapLen(7);
    c.addBulk('name');
    c.addBulk(g.name);
    c.addBulk('last-delivered-id');
    addId(c, g.lastId);
    c.addBulk('entries-read');
    if (g.entriesRead !== INVALID_ENTRIES_READ) c.addInt(g.entriesRead);
    else c.addNull();
    c.addBulk('lag');
    addLag(c, s, g);
    c.addBulk('pel-count');
    c.addInt(g.pel.size);
    c.addBulk('pending');
    const pids = g.pel.idsFrom(0, 0, count === 0 ? Infinity : count);
    c.addArrayLen(pids.length);
    for (const id of pids) {
      const n = g.pel.get(id.ms, id.seq)!;
      c.addArrayLen(4);
      addId(c, id);
      c.addBulk(n.consumer === null ? '' : n.consumer.name);
      c.addInt(n.deliveryTime);
      c.addInt(n.deliveryCount);
    }
    c.addBulk('consumers');
    const cons = g.sortedConsumers();
    c.addArrayLen(cons.length);
    for (const x of cons) {
      c.addMapLen(5);
      c.addBulk('name');
      c.addBulk(x.name);
      c.addBulk('seen-time');
      c.addInt(x.seenTime);
      c.addBulk('active-time');
      c.addInt(x.activeTime);
      c.addBulk('pel-count');
      c.addInt(x.pel.size);
      c.addBulk('pending');
      const cids = x.pel.idsFrom(0, 0, count === 0 ? Infinity : count);
      c.addArrayLen(cids.length);
      for (const id of cids) {
        const n = x.pel.get(id.ms, id.seq)!;
        c.addArrayLen(3);
        addId(c, id);
        c.addInt(n.deliveryTime);
        c.addInt(n.deliveryCount);
      }
    }
  }
}

function addLag(c: Client, s: Stream, g: Group): void {
  const lag = s.lag(g);
  if (lag === null) c.addNull();
  else c.addInt(lag);
}

function xinfoGroups(c: Client, argv: string[]): void {
  const s = xinfoLookup(c, argv[2]);
  if (s === null) return;
  const groups = s.sortedGroups();
  c.addArrayLen(groups.length);
  for (const g of groups) {
    c.addMapLen(6);
    c.addBulk('name');
    c.addBulk(g.name);
    c.addBulk('consumers');
    c.addInt(g.consumers.size);
    c.addBulk('pending');
    c.addInt(g.pel.size);
    c.addBulk('last-delivered-id');
    addId(c, g.lastId);
    c.addBulk('entries-read');
    if (g.entriesRead !== INVALID_ENTRIES_READ) c.addInt(g.entriesRead);
    else c.addNull();
    c.addBulk('lag');
    addLag(c, s, g);
  }
}

function xinfoConsumers(c: Client, argv: string[]): void {
  const s = xinfoLookup(c, argv[2]);
  if (s === null) return;
  const g = s.group(argv[3]);
  if (g === undefined) {
    c.addError(`NOGROUP No such consumer group '${argv[3]}' for key name '${argv[2]}'`);
    return;
  }
  const now = clock.ms;
  const cons = g.sortedConsumers();
  c.addArrayLen(cons.length);
  for (const x of cons) {
    const inactive = x.activeTime !== -1 ? now - x.activeTime : -1;
    const idle = Math.max(0, now - x.seenTime);
    c.addMapLen(4);
    c.addBulk('name');
    c.addBulk(x.name);
    c.addBulk('pending');
    c.addInt(x.pel.size);
    c.addBulk('idle');
    c.addInt(idle);
    c.addBulk('inactive');
    c.addInt(inactive);
  }
}

function xinfoHelp(c: Client, argv: string[]): void {
  replyHelp(c, argv[0], XINFO_HELP);
}

// ------------------------------------------------------------------ XSETID

function xsetid(c: Client, argv: string[]): void {
  const id = parseStrictId(c, argv[2]);
  if (id === null) return;
  let entriesAdded = -1;
  let maxDel = ZERO_ID;
  let i = 3;
  while (i < argv.length) {
    const more = argv.length - 1 - i;
    if (tok(argv[i], 'entriesadded') && more) {
      const v = getLL(c, argv[i + 1]);
      if (v === null) return;
      if (v < 0) {
        c.addError('ERR entries_added must be positive');
        return;
      }
      entriesAdded = v;
      i += 2;
    } else if (tok(argv[i], 'maxdeletedid') && more) {
      const v = parseStrictId(c, argv[i + 1]);
      if (v === null) return;
      if (cmpIds(id, v) < 0) {
        c.addError('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
        return;
      }
      maxDel = v;
      i += 2;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const s = asStream(c, c.db.lookupWrite(argv[1]));
  if (s === false) return;
  if (s === null) {
    c.addError(E_NO_KEY);
    return;
  }
  if (cmpIds(id, s.maxDeletedId) < 0) {
    c.addError('ERR The ID specified in XSETID is smaller than current max_deleted_entry_id');
    return;
  }
  if (s.length > 0) {
    if (cmpIds(id, s.lastValidId()) < 0) {
      c.addError('ERR The ID specified in XSETID is smaller than the target stream top item');
      return;
    }
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      c.addError('ERR The entries_added specified in XSETID is smaller than the target stream length');
      return;
    }
  }
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (!isZeroId(maxDel)) s.maxDeletedId = maxDel;
  c.server.dirty++;
  notify(c.server, NOTIFY_STREAM, 'xsetid', argv[1], c.db.id);
  c.addOK();
}

export const commands: HandlerMap = {
  xadd,
  xrange,
  xrevrange,
  xlen,
  xdel,
  xtrim,
  xread,
  xreadgroup,
  xack,
  xpending,
  xclaim,
  xautoclaim,
  xsetid,
  'xgroup|create': xgroupCreate,
  'xgroup|setid': xgroupSetid,
  'xgroup|destroy': xgroupDestroy,
  'xgroup|createconsumer': xgroupCreateconsumer,
  'xgroup|delconsumer': xgroupDelconsumer,
  'xgroup|help': xgroupHelp,
  'xinfo|stream': xinfoStream,
  'xinfo|groups': xinfoGroups,
  'xinfo|consumers': xinfoConsumers,
  'xinfo|help': xinfoHelp,
};
