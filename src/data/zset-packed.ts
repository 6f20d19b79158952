// The listpack encoding of a sorted set, on a listpack string (./listpack.ts).
//
// Entries alternate member, score, member, score... in zset order (score, then
// member bytes), exactly as Valkey's t_zset.c keeps them (zzlInsertAt): a
// score that is an integer within +-2^62 (double2ll) is an integer entry, any
// other score is the text d2string gives (formatDouble), which the listpack
// itself turns into an integer entry when that text is a canonical int64 (as
// lpInsertString does). So the string is the RDB ZSET_LISTPACK blob as Valkey
// would write it, and a blob loaded from a file is used as it is.
//
// These functions take the listpack and return a new one for every change
// (strings are immutable); ZSet (./zset.ts) calls them while it is packed.
// Offsets p are those of a member entry; its score entry follows it.
import { LP_EMPTY, LP_EOF, LP_HDR, lpb, lpCount, lpEq, lpGet, lpInt, lpPrev, lpSkip, lpStrBounds, lpValidate, strLen, strStart } from './listpack.js';
import { formatDouble, strtod } from '../util/numbers.js';

/** 2^62 (LLONG_MAX / 2 as a double): double2ll's bound for an integer score entry. */
const TWO_62 = 4611686018427387904;

/** A score's text as read by zzlStrtod (see zpLoadable for what may be stored). */
function scoreText(s: string): number {
  const v = +s;
  if (v === v) return v;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  const w = strtod(s);
  return w === null ? 0 : w;
}

/** Exact powers of ten (as doubles: up to 1e22) for the in-place decimal fast path. */
const POW10: number[] = [];
for (let k = 0, v = 1; k <= 22; k++, v *= 10) POW10.push(v);

/**
 * The score text lp[a, a+n) read in place when it is [-]digits[.digits][e[+-]digits]
 * with at most 15 digits and a power of ten within 1e+-22: the digits form an
 * integer below 2^53 and the power is exact, so one multiplication or division
 * gives the correctly rounded double, as strtod does (Clinger's fast path).
 * Any other text (more digits, larger exponents, inf) goes through scoreText.
 */
function scoreInPlace(lp: string, a: number, n: number): number {
  let i = a;
  const end = a + n;
  let neg = false;
  if (lp.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  let v = 0;
  let digits = 0;
  let frac = -1;
  for (; i < end; i++) {
    const d = lp.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      v = v * 10 + d;
      digits++;
      if (frac >= 0) frac++;
    } else if (d === -2 && frac < 0) frac = 0;
    else break;
  }
  if (digits === 0 || digits > 15) return scoreText(lp.slice(a, end));
  let e = frac > 0 ? -frac : 0;
  if (i < end) {
    // An exponent: e or E, an optional sign, digits.
    if ((lp.charCodeAt(i++) | 32) !== 101 || i === end) return scoreText(lp.slice(a, end));
    let c = lp.charCodeAt(i);
    const eneg = c === 45;
    if (c === 45 || c === 43) i++;
    if (i === end || end - i > 3) return scoreText(lp.slice(a, end));
    let x = 0;
    for (; i < end; i++) {
      c = lp.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return scoreText(lp.slice(a, end));
      x = x * 10 + c;
    }
    e += eneg ? -x : x;
  }
  if (e < -22 || e > 22) return scoreText(lp.slice(a, end));
  if (e < 0) v /= POW10[-e];
  else if (e > 0) v *= POW10[e];
  return neg ? -v : v;
}

/** The score entry at p. */
export function zpScoreAt(lp: string, p: number): number {
  const c = lp.charCodeAt(p);
  if (c < 0x80) return c;
  if (c < 0xc0) return scoreInPlace(lp, p + 1, c & 0x3f);
  if (c < 0xe0) {
    const v = ((c & 0x1f) << 8) | lp.charCodeAt(p + 1);
    return v >= 4096 ? v - 8192 : v;
  }
  if (lpStrBounds(lp, p)) return scoreText(lp.slice(strStart, strStart + strLen));
  const v = lpInt(lp, p);
  return typeof v === 'number' ? v : Number(v);
}

/** Offset just past the entry at p (lpSkip with the small encodings inline). */
function skip(lp: string, p: number): number {
  const c = lp.charCodeAt(p);
  if (c < 0x80) return p + 2;
  if (c < 0xc0) return p + (c & 0x3f) + 2;
  if (c < 0xe0) return p + 3;
  return lpSkip(lp, p);
}

/** Appends the score entry of s to the shared builder (zzlInsertAt's encoding). */
function putScore(s: number): void {
  if (Number.isInteger(s) && s >= -TWO_62 && s <= TWO_62) lpb.int(s === 0 ? 0 : s);
  else lpb.str(formatDouble(s));
}

/** Sign of (the member entry at p) - m, comparing bytes (integer entries as their decimal text). */
export function zpCmpMember(lp: string, p: number, m: string): number {
  const c = lp.charCodeAt(p);
  let a: number;
  let n: number;
  if (c >= 0x80 && c < 0xc0) {
    a = p + 1;
    n = c & 0x3f;
  } else if (lpStrBounds(lp, p)) {
    a = strStart;
    n = strLen;
  } else {
    const s = String(lpInt(lp, p));
    return s < m ? -1 : s > m ? 1 : 0;
  }
  const ml = m.length;
  const k = n < ml ? n : ml;
  for (let i = 0; i < k; i++) {
    const d = lp.charCodeAt(a + i) - m.charCodeAt(i);
    if (d !== 0) return d;
  }
  return n - ml;
}

/** Offset of the pair after the one at p (the terminator's offset at the end). */
function nextPair(lp: string, p: number): number {
  return skip(lp, skip(lp, p));
}

/** Number of pairs. */
export function zpSize(lp: string): number {
  const n = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  return (n !== 65535 ? n : lpCount(lp)) >> 1;
}

/** The rank of the member zpFind found last. */
let foundRank = 0;

/** Offset of the member m, or -1. */
export function zpFind(lp: string, m: string): number {
  const end = lp.length - 1;
  const ml = m.length;
  let p = LP_HDR;
  for (let r = 0; p < end; r++) {
    foundRank = r;
    const c = lp.charCodeAt(p);
    if (c >= 0x80 && c < 0xc0) {
      // A short string entry (most members): compare in place.
      const n = c & 0x3f;
      // Last byte first: members often share a prefix (m:000000012345).
      if (n === ml && (n === 0 || lp.charCodeAt(p + n) === m.charCodeAt(n - 1))) {
        let i = 0;
        while (i < n && lp.charCodeAt(p + 1 + i) === m.charCodeAt(i)) i++;
        if (i === n) return p;
      }
      p += n + 2;
    } else {
      if (lpEq(lp, p, m)) return p;
      p = skip(lp, p);
    }
    p = skip(lp, p);
  }
  return -1;
}

/** Offset of the pair at rank r (0 <= r < n, n = the pair count): walks from the nearer end. */
export function zpAt(lp: string, r: number, n: number): number {
  if (r <= n >> 1) {
    let p = LP_HDR;
    while (r-- > 0) p = nextPair(lp, p);
    return p;
  }
  let p = lp.length - 1;
  for (let k = n - r; k > 0; k--) p = lpPrev(lp, lpPrev(lp, p));
  return p;
}

/** lp with (m, s) inserted at its place; m must be absent. */
export function zpInsert(lp: string, m: string, s: number): string {
  const end = lp.length - 1;
  let p = LP_HDR;
  while (p < end) {
    const q = skip(lp, p);
    const cs = zpScoreAt(lp, q);
    if (cs > s || (cs === s && zpCmpMember(lp, p, m) > 0)) break;
    p = skip(lp, q);
  }
  const n = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  lpb.begin();
  lpb.copy(lp, LP_HDR, p, 0);
  lpb.str(m);
  putScore(s);
  lpb.copy(lp, p, end, 0);
  return lpb.finish((n !== 65535 ? n : lpCount(lp)) + 2);
}

/** lp with the pair at p given the score s (moved to its new place). */
export function zpUpdate(lp: string, p: number, s: number): string {
  const end = lp.length - 1;
  const me = skip(lp, p);
  const q = skip(lp, me);
  // Where the pair goes among the others: after it for a higher score (the
  // pairs before it stay below), else before it or in its place.
  const up = s > zpScoreAt(lp, me);
  let r = up ? q : LP_HDR;
  const stop = up ? end : p;
  while (r < stop) {
    const sq = skip(lp, r);
    const cs = zpScoreAt(lp, sq);
    if (cs > s) break;
    if (cs === s) {
      const c = zpCmpPairs(lp, r, p);
      if (c > 0) break;
    }
    r = skip(lp, sq);
  }
  const n = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  lpb.begin();
  if (r <= p) {
    lpb.copy(lp, LP_HDR, r, 0);
    lpb.copy(lp, p, me, 0);
    putScore(s);
    lpb.copy(lp, r, p, 0);
    lpb.copy(lp, q, end, 0);
  } else {
    lpb.copy(lp, LP_HDR, p, 0);
    lpb.copy(lp, q, r, 0);
    lpb.copy(lp, p, me, 0);
    putScore(s);
    lpb.copy(lp, r, end, 0);
  }
  return lpb.finish(n !== 65535 ? n : lpCount(lp));
}

/** Sign of (member at a) - (member at b), both entries of lp. */
function zpCmpPairs(lp: string, a: number, b: number): number {
  if (lpStrBounds(lp, b)) {
    const bs = strStart;
    const bn = strLen;
    return zpCmpMember(lp, a, lp.slice(bs, bs + bn));
  }
  return zpCmpMember(lp, a, String(lpInt(lp, b)));
}

/** lp without the pairs in [from, to) (offsets of pairs; `pairs` of them). */
export function zpRemove(lp: string, from: number, to: number, pairs: number): string {
  const n = lp.charCodeAt(4) | (lp.charCodeAt(5) << 8);
  const left = (n !== 65535 ? n : lpCount(lp)) - 2 * pairs;
  if (left <= 0) return LP_EMPTY;
  lpb.begin();
  lpb.copy(lp, LP_HDR, from, 0);
  lpb.copy(lp, to, lp.length - 1, 0);
  return lpb.finish(left);
}

/** lp without the pair at p. */
export function zpRemoveAt(lp: string, p: number): string {
  return zpRemove(lp, p, nextPair(lp, p), 1);
}

/** Ascending rank of the member m, or -1. */
export function zpRank(lp: string, m: string): number {
  return zpFind(lp, m) < 0 ? -1 : foundRank;
}

/** Number of leading pairs with score < t (orEq: <= t). */
export function zpCountScore(lp: string, t: number, orEq: boolean): number {
  const end = lp.length - 1;
  let r = 0;
  for (let p = LP_HDR; p < end; r++) {
    const q = skip(lp, p);
    const s = zpScoreAt(lp, q);
    if (!(s < t || (orEq && s === t))) break;
    p = skip(lp, q);
  }
  return r;
}

/** Number of leading pairs with member < t (orEq: <= t), as Valkey walks a listpack for a lex range. */
export function zpCountLex(lp: string, t: string, orEq: boolean): number {
  const end = lp.length - 1;
  let r = 0;
  for (let p = LP_HDR; p < end; p = nextPair(lp, p), r++) {
    const c = zpCmpMember(lp, p, t);
    if (!(c < 0 || (orEq && c === 0))) break;
  }
  return r;
}

/** Calls fn for count pairs from rank start (rev: from rank n-1-start downwards). */
export function zpWalk(lp: string, start: number, count: number, rev: boolean, fn: (m: string, s: number) => void): void {
  const n = zpSize(lp);
  if (count <= 0 || start < 0 || start >= n) return;
  if (count > n - start) count = n - start;
  if (!rev) {
    let p = zpAt(lp, start, n);
    for (; count > 0; count--) {
      const q = skip(lp, p);
      fn(lpGet(lp, p), zpScoreAt(lp, q));
      p = skip(lp, q);
    }
    return;
  }
  let p = zpAt(lp, n - 1 - start, n);
  for (;;) {
    fn(lpGet(lp, p), zpScoreAt(lp, skip(lp, p)));
    if (--count === 0) return;
    p = lpPrev(lp, lpPrev(lp, p));
  }
}

/** Members and scores, in order, appended to ms and ss. */
export function zpArrays(lp: string, ms: string[], ss: number[]): void {
  const end = lp.length - 1;
  for (let p = LP_HDR; p < end; ) {
    const q = skip(lp, p);
    ms.push(lpGet(lp, p));
    ss.push(zpScoreAt(lp, q));
    p = skip(lp, q);
  }
}

/** A listpack of pairs already in zset order. */
export function zpFromSorted(m: readonly string[], s: readonly number[]): string {
  const n = m.length;
  if (n === 0) return LP_EMPTY;
  lpb.begin();
  for (let i = 0; i < n; i++) {
    lpb.str(m[i]);
    putScore(s[i]);
  }
  return lpb.finish();
}

/** True when the score text s reads the same with Number() as with strtod, NaN excluded (see scoreText). */
function cleanScore(s: string): boolean {
  if (s === 'inf' || s === '-inf') return true;
  const n = s.length;
  if (n === 0) return false;
  // [-+]? digits [. digits] [e [-+] digits]: Number() and strtod agree on these.
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45 || c === 43) i++;
  let digits = 0;
  while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
    i++;
    digits++;
  }
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < n && (s.charCodeAt(i) | 32) === 101) {
    i++;
    if (i < n && ((c = s.charCodeAt(i)) === 45 || c === 43)) i++;
    let e = 0;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      i++;
      e++;
    }
    if (e === 0) return false;
  }
  return i === n;
}

/**
 * True when a (validated, even) listpack can be used as it is: every score an
 * integer entry or plain decimal text (what Valkey and Redis write, so the
 * fast reader reads exactly what strtod would), pairs in strict zset order and
 * members distinct. Checked in place, without building member strings for
 * small sets. Blobs that fail are parsed and rebuilt (sorted; duplicates and
 * NaN refused) by the caller.
 */
export function zpLoadable(lp: string): boolean {
  const end = lp.length - 1;
  let prevS = -Infinity;
  let prevP = -1;
  let n = 0;
  for (let p = LP_HDR; p < end; n++) {
    const q = skip(lp, p);
    if (lpStrBounds(lp, q) && !cleanScore(lp.slice(strStart, strStart + strLen))) return false;
    const s = zpScoreAt(lp, q);
    if (prevP >= 0 && !(prevS < s || (prevS === s && zpCmpPairs(lp, prevP, p) < 0))) return false;
    prevS = s;
    prevP = p;
    p = skip(lp, q);
  }
  if (n <= 1) return true;
  if (n <= 16) {
    // The same member with two scores is not adjacent: compare every pair.
    for (let a = LP_HDR; a < end; a = nextPair(lp, a)) {
      for (let b = nextPair(lp, a); b < end; b = nextPair(lp, b)) if (zpCmpPairs(lp, a, b) === 0) return false;
    }
    return true;
  }
  const seen = new Set<string>();
  for (let a = LP_HDR; a < end; a = nextPair(lp, a)) seen.add(lpGet(lp, a));
  return seen.size === n;
}

/** Checks a packed zset (tests): a valid listpack of pairs in strict zset order. Returns an error or null. */
export function zpCheck(lp: string): string | null {
  const n = lpValidate(lp);
  if (n < 0) return 'invalid listpack';
  if (n & 1) return 'odd entry count';
  if (lp.charCodeAt(lp.length - 1) !== LP_EOF) return 'no terminator';
  const ms: string[] = [];
  const ss: number[] = [];
  zpArrays(lp, ms, ss);
  for (let i = 1; i < ms.length; i++) {
    if (!(ss[i - 1] < ss[i] || (ss[i - 1] === ss[i] && ms[i - 1] < ms[i]))) return `order broken at ${i}`;
  }
  if (new Set(ms).size !== ms.length) return 'duplicate member';
  if (lp !== zpFromSorted(ms, ss)) return 'not the bytes Valkey would write';
  return null;
}
