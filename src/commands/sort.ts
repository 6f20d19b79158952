// SORT and SORT_RO: sort the elements of a list, set or sorted set
// numerically (default) or lexicographically (ALPHA), optionally by weights
// read from other keys (BY pattern, with `*` replaced by the element and
// `key->field` reading a hash field; a pattern without `*` skips sorting),
// then LIMIT, GET patterns (`#` is the element itself) and STORE into a list.
//
// Semantics follow Valkey 8's sort: options are parsed first (syntax errors
// win over WRONGTYPE), a missing key sorts as an empty list, numeric weights
// are read with strtod (leading spaces and hex accepted, trailing garbage,
// NaN and overflow rejected: the error is reported after the whole vector is
// scored), equal numeric weights fall back to comparing the elements, and
// "nosort" keeps the native order of lists and sorted sets (DESC and LIMIT
// apply to it), while a set is forced into ALPHA order when storing.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { clock } from '../keyspace/db.js';
import { isStringValue, stringOf, type Value } from '../keyspace/types.js';
import { ListValue } from '../data/list.js';
import { SetValue } from '../data/set.js';
import { ZSet } from '../data/zset.js';
import { HashObject, fieldExpired } from '../data/hash.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_LIST } from '../server/notify.js';

const E_SCORES = "ERR One or more scores can't be converted into double";

/** The argument as C sees it: up to the first NUL byte. */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

function tok(arg: string, lower: string): boolean {
  const s = cstr(arg);
  return s.length === lower.length && s.toLowerCase() === lower;
}

/** getLongFromObject: int64 (clamped to a JS number, which only bounds LIMIT). */
function parseLong(s: string): number | null {
  const v = parseInt64(s);
  if (v === null) return null;
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * lookupKeyByPattern: the string (or hash field) a pattern names for an
 * element, or undefined. "#" is the element itself.
 */
function lookupByPattern(c: Client, pattern: string, subst: string): string | undefined {
  const spat = cstr(pattern);
  if (spat === '#') return subst;
  const p = spat.indexOf('*');
  if (p < 0) return undefined;
  const f = spat.indexOf('->', p + 1);
  let field: string | null = null;
  let fieldlen = 0;
  if (f >= 0 && f + 2 < spat.length) {
    fieldlen = pattern.length - f - 2;
    field = pattern.slice(f + 2);
  }
  const postfixlen = pattern.length - (p + 1) - (fieldlen ? fieldlen + 2 : 0);
  const key = pattern.slice(0, p) + subst + pattern.slice(p + 1, p + 1 + postfixlen);
  const o: Value | undefined = c.db.lookup(key);
  if (o === undefined) return undefined;
  if (field !== null) {
    if (!(o instanceof HashObject)) return undefined;
    const v = o.get(field);
    if (v === undefined) return undefined;
    if (o.hasVolatile()) {
      const t = o.getExpire(field);
      if (t >= 0 && fieldExpired(t, clock.ms)) return undefined;
    }
    return v;
  }
  if (!isStringValue(o)) return undefined;
  return stringOf(o);
}

const WS = /^[ \t\n\v\f\r]*/;

/**
 * C strtod over the whole string (up to a NUL): the number, or null when
 * trailing characters remain, the value overflows/underflows or is NaN.
 * The empty string reads as 0.
 */
function strtodWhole(s0: string): number | null {
  const s = cstr(s0).replace(WS, '');
  if (s.length === 0) return cstr(s0).length === 0 ? 0 : null;
  let m = /^[+-]?(inf(inity)?|nan)$/i.exec(s);
  if (m) {
    if (/nan/i.test(s)) return null;
    return s[0] === '-' ? -Infinity : Infinity;
  }
  m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/.exec(s);
  if (m && (m[2].length > 0 || (m[3] ?? '').length > 0)) {
    const ip = m[2];
    const fp = m[3] ?? '';
    let v = 0;
    for (const ch of ip) v = v * 16 + parseInt(ch, 16);
    let scale = 1 / 16;
    for (const ch of fp) {
      v += parseInt(ch, 16) * scale;
      scale /= 16;
    }
    const e = m[4] !== undefined ? Number(m[4]) : 0;
    v *= Math.pow(2, e);
    if (!Number.isFinite(v)) return null;
    return m[1] === '-' ? -v : v;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  const v = Number(s);
  if (!Number.isFinite(v)) return null; // ERANGE overflow
  if (v === 0) {
    const mant = s.replace(/[eE].*$/, '');
    if (/[1-9]/.test(mant)) return null; // ERANGE underflow
  }
  return v;
}

interface SortItem {
  obj: string;
  score: number;
  cmp: string | null;
}

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  const argc = argv.length;
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const gets: string[] = [];
  let j = 2;
  while (j < argc) {
    const leftargs = argc - j - 1;
    const a = argv[j];
    if (tok(a, 'asc')) desc = false;
    else if (tok(a, 'desc')) desc = true;
    else if (tok(a, 'alpha')) alpha = true;
    else if (tok(a, 'limit') && leftargs >= 2) {
      const s = parseLong(argv[j + 1]);
      const n = s === null ? null : parseLong(argv[j + 2]);
      if (s === null || n === null) {
        c.addError(E_NOT_INT);
        return;
      }
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && tok(a, 'store') && leftargs >= 1) {
      storekey = argv[j + 1];
      j++;
    } else if (tok(a, 'by') && leftargs >= 1) {
      sortby = argv[j + 1];
      if (cstr(sortby).indexOf('*') < 0) dontsort = true;
      j++;
    } else if (tok(a, 'get') && leftargs >= 1) {
      gets.push(argv[j + 1]);
      j++;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
    j++;
  }

  const sortval = c.db.lookup(argv[1]);
  if (sortval !== undefined && !(sortval instanceof ListValue || sortval instanceof SetValue || sortval instanceof ZSet)) {
    c.addError(E_WRONGTYPE);
    return;
  }
  const isSet = sortval instanceof SetValue;
  const isZSet = sortval instanceof ZSet;

  if (dontsort && isSet && storekey !== null) {
    // A set has no order of its own: storing forces a deterministic one.
    dontsort = false;
    alpha = true;
    sortby = null;
  }

  let vectorlen = sortval === undefined ? 0 : sortval instanceof ListValue ? sortval.length : sortval.size;
  let start = Math.min(Math.max(limitStart, 0), vectorlen);
  limitCount = Math.min(Math.max(limitCount, -1), vectorlen);
  let end = limitCount < 0 ? vectorlen : start + limitCount;
  if (end > vectorlen) end = vectorlen;

  const vector: SortItem[] = [];
  if (sortval === undefined) {
    // empty
  } else if (sortval instanceof ListValue && dontsort) {
    vectorlen = end - start;
    if (vectorlen > 0) {
      const len = sortval.length;
      const items = desc ? sortval.range(len - end, len - start - 1, true) : sortval.range(start, end - 1);
      for (const s of items) vector.push({ obj: s, score: 0, cmp: null });
    }
    end -= start;
    start = 0;
  } else if (sortval instanceof ListValue) {
    for (const s of sortval.toArray()) vector.push({ obj: s, score: 0, cmp: null });
  } else if (sortval instanceof SetValue) {
    const it = sortval.keys();
    for (let r = it.next(); !r.done; r = it.next()) vector.push({ obj: r.value, score: 0, cmp: null });
  } else if (isZSet && dontsort) {
    const z = sortval as ZSet;
    const n = end - start;
    if (n > 0) {
      z.walk(start, n, desc, (m) => {
        vector.push({ obj: m, score: 0, cmp: null });
      });
    }
    end -= start;
    start = 0;
  } else {
    for (const [m] of (sortval as ZSet).entries()) vector.push({ obj: m, score: 0, cmp: null });
  }

  let conversionError = false;
  if (!dontsort) {
    for (let k = 0; k < vector.length; k++) {
      const it = vector[k];
      let byval: string | undefined;
      if (sortby !== null) {
        byval = lookupByPattern(c, sortby, it.obj);
        if (byval === undefined) continue;
      } else {
        byval = it.obj;
      }
      if (alpha) {
        if (sortby !== null) it.cmp = byval;
      } else {
        const v = strtodWhole(byval);
        if (v === null) {
          conversionError = true;
          // strtod still leaves its partial value; the reply is an error anyway.
        } else {
          it.score = v;
        }
      }
    }
    const byPattern = sortby !== null;
    const store = storekey !== null;
    const cmp = (a: SortItem, b: SortItem): number => {
      let r: number;
      if (!alpha) {
        if (a.score > b.score) r = 1;
        else if (a.score < b.score) r = -1;
        else r = a.obj < b.obj ? -1 : a.obj > b.obj ? 1 : 0;
      } else if (byPattern) {
        if (a.cmp === null || b.cmp === null) r = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        else if (store) r = a.cmp < b.cmp ? -1 : a.cmp > b.cmp ? 1 : 0;
        else {
          const x = cstr(a.cmp);
          const y = cstr(b.cmp);
          r = x < y ? -1 : x > y ? 1 : 0;
        }
      } else if (store) {
        r = a.obj < b.obj ? -1 : a.obj > b.obj ? 1 : 0;
      } else {
        const x = cstr(a.obj);
        const y = cstr(b.obj);
        r = x < y ? -1 : x > y ? 1 : 0;
      }
      return desc ? -r : r;
    };
    vector.sort(cmp);
  }

  const getop = gets.length;
  const outputlen = getop ? getop * (end - start) : end - start;
  if (conversionError) {
    c.addError(E_SCORES);
    return;
  }
  if (storekey === null) {
    c.addArrayLen(outputlen);
    for (let k = start; k < end; k++) {
      const obj = vector[k].obj;
      if (!getop) c.addBulk(obj);
      for (let g = 0; g < getop; g++) {
        const v = lookupByPattern(c, gets[g], obj);
        if (v === undefined) c.addNull();
        else c.addBulk(v);
      }
    }
    return;
  }
  const out: string[] = [];
  for (let k = start; k < end; k++) {
    const obj = vector[k].obj;
    if (!getop) out.push(obj);
    else {
      for (let g = 0; g < getop; g++) out.push(lookupByPattern(c, gets[g], obj) ?? '');
    }
  }
  if (outputlen) {
    const l = new ListValue();
    l.pushAll(['', '', ...out], 2, false, c.server.config.num('list-max-listpack-size'));
    c.db.set(storekey, l);
    c.server.dirty += outputlen;
    notify(c.server, NOTIFY_LIST, 'sortstore', storekey, c.db.id);
  } else if (c.db.delete(storekey)) {
    c.server.dirty++;
    notify(c.server, NOTIFY_GENERIC, 'del', storekey, c.db.id);
  }
  c.addInt(outputlen);
}

function sort(c: Client, argv: string[]): void {
  sortGeneric(c, argv, false);
}

function sort_ro(c: Client, argv: string[]): void {
  sortGeneric(c, argv, true);
}

export const commands: HandlerMap = { sort, sort_ro };
