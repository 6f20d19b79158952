// Number parsing and formatting with Valkey's exact rules (string2ll, string2ld, ...).

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;
const SAFE_DIGITS = 15; // any 15-digit integer is a safe JS integer

/**
 * Strict signed 64-bit integer parse (Valkey's string2ll): optional '-', no '+',
 * no leading zeros, no spaces, at most 20 chars. Returns a number when the value
 * is a safe integer, a bigint when it is in int64 range but not safe, or null.
 */
export function parseInt64(s: string): number | bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  let i = 0;
  let neg = false;
  let c = s.charCodeAt(0);
  if (c === 45 /* - */) {
    if (len === 1) return null;
    neg = true;
    i = 1;
    c = s.charCodeAt(1);
  }
  if (c === 48 /* 0 */) return len === 1 ? 0 : null;
  if (c < 49 || c > 57) return null;
  const digits = len - i;
  if (digits <= SAFE_DIGITS) {
    let n = 0;
    for (; i < len; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) return null;
      n = n * 10 + (c - 48);
    }
    return neg ? -n : n;
  }
  for (let j = i; j < len; j++) {
    c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const b = BigInt(s);
  if (b > INT64_MAX || b < INT64_MIN) return null;
  if (b <= 9007199254740991n && b >= -9007199254740991n) return Number(b);
  return b;
}

/** Like parseInt64 but returns null for values that are not safe JS integers too. */
export function parseSafeInt(s: string): number | null {
  const v = parseInt64(s);
  return typeof v === 'number' ? v : null;
}

/** True when the string is exactly the canonical form of an int64 (what Valkey int-encodes). */
export function isInt64String(s: string): boolean {
  return parseInt64(s) !== null;
}

/**
 * Number a string value can be stored as (Valkey's OBJ_ENCODING_INT): canonical
 * integer of at most 15 digits, so arithmetic on it stays exact in a double.
 * Returns undefined when the string must stay a string.
 */
export function compactInt(s: string): number | undefined {
  const len = s.length;
  if (len === 0 || len > 16) return undefined;
  const c = s.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45)) return undefined;
  const v = parseInt64(s);
  if (typeof v !== 'number') return undefined;
  if (v > 999999999999999 || v < -999999999999999) return undefined;
  return v;
}

/**
 * Valkey's strtold-style float parse for commands such as INCRBYFLOAT and the
 * score/timeout parsers: accepts what strtod accepts, rejects leading/trailing
 * spaces and NaN. Returns null on failure.
 */
export function parseDouble(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 5000) return null;
  const c0 = s.charCodeAt(0);
  const cl = s.charCodeAt(len - 1);
  if (isSpace(c0) || isSpace(cl)) return null;
  const v = strtod(s);
  if (v === null || Number.isNaN(v)) return null;
  return v;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/** Parses a whole string the way C's strtod would if it had to consume every char. */
export function strtod(s: string): number | null {
  if (!FLOAT_RE.test(s)) return null;
  let t = s;
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (lower.startsWith('0x')) return sign * parseHexFloat(lower.slice(2));
  return sign * Number(t);
}

function parseHexFloat(h: string): number {
  let exp = 0;
  const p = h.indexOf('p');
  if (p >= 0) {
    exp = parseInt(h.slice(p + 1), 10);
    h = h.slice(0, p);
  }
  const dot = h.indexOf('.');
  let intPart = h;
  let frac = '';
  if (dot >= 0) {
    intPart = h.slice(0, dot);
    frac = h.slice(dot + 1);
  }
  let v = 0;
  for (const ch of intPart) v = v * 16 + parseInt(ch, 16);
  let scale = 1 / 16;
  for (const ch of frac) {
    v += parseInt(ch, 16) * scale;
    scale /= 16;
  }
  return v * Math.pow(2, exp);
}

/** 2^62: LLONG_MAX / 2 as a double, the bound of Valkey's integer fast path (double2ll). */
const TWO_62 = 4611686018427387904;

/**
 * Formats a double the way Valkey 8 replies with doubles (d2string): `nan`,
 * `inf`, `-inf`, `0` / `-0`; an integral value within +-2^62 as its exact
 * integer; anything else as fpconv_dtoa prints it: the shortest digits that
 * read back as the same double, laid out by fpconv's rules (see fpconvLayout).
 */
export function formatDouble(d: number): string {
  if (Number.isInteger(d)) {
    if (d >= -TWO_62 && d <= TWO_62) {
      if (d === 0) return Object.is(d, -0) ? '-0' : '0';
      return d <= Number.MAX_SAFE_INTEGER && d >= -Number.MAX_SAFE_INTEGER ? String(d) : BigInt(d).toString();
    }
    return fpconvLayout(d);
  }
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  // Between 1e-3 and 1e4 both JS and fpconv write plain decimals of the same digits.
  const a = d < 0 ? -d : d;
  if (a >= 1e-3 && a < 1e4) return String(d);
  return fpconvLayout(d);
}

/**
 * fpconv_dtoa itself (what DEBUG DIGEST mixes in for zset scores): like
 * formatDouble but with no exact-integer path, so 1e17 is `1e+17`.
 */
export function fpconvDtoa(d: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  return fpconvLayout(d);
}

/**
 * fpconv_dtoa's layout of a finite non-zero double's shortest digits: with K
 * the power of ten of the last digit and E that of the first, a plain integer
 * when K >= 0 and |E| < digits + 7; a plain decimal when K < 0 and (K > -7 or
 * |E| < 4); otherwise d.ddde+X / d.ddde-X with no exponent padding. (fpconv
 * finds its digits with Grisu2, which in rare cases gives one digit more than
 * the shortest that JS finds; those rare doubles print differently.)
 */
function fpconvLayout(d: number): string {
  const s = (d < 0 ? -d : d).toExponential();
  const e = s.indexOf('e');
  const digits = e > 1 ? s[0] + s.slice(2, e) : s[0];
  const n = digits.length;
  const E = Number(s.slice(e + 1));
  const K = E - n + 1;
  const absE = E < 0 ? -E : E;
  const sign = d < 0 ? '-' : '';
  if (K >= 0 && absE < n + 7) return sign + digits + '0'.repeat(K);
  if (K < 0 && (K > -7 || absE < 4)) {
    const point = n + K;
    if (point <= 0) return sign + '0.' + '0'.repeat(-point) + digits;
    return sign + digits.slice(0, point) + '.' + digits.slice(point);
  }
  return sign + digits[0] + (n > 1 ? '.' + digits.slice(1) : '') + (E < 0 ? 'e-' : 'e+') + absE;
}

/** Decimal digits in a non-negative safe integer. */
export function digitCount(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  if (n < 100000) return 5;
  if (n < 1000000) return 6;
  if (n < 10000000) return 7;
  if (n < 100000000) return 8;
  if (n < 1000000000) return 9;
  return String(n).length;
}

/**
 * The int64 a string is the canonical decimal form of (Redis's string2ll +
 * ll2string round trip), or null. Numbers are returned when safe, else bigint.
 */
export function canonicalInt(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45) {
    if (n === 1) return null;
    i = 1;
    c = s.charCodeAt(1);
  }
  if (c === 48) return n === 1 ? 0 : null;
  if (c < 49 || c > 57) return null;
  for (let j = i + 1; j < n; j++) {
    const d = s.charCodeAt(j);
    if (d < 48 || d > 57) return null;
  }
  if (n - i <= 15) return Number(s);
  const b = BigInt(s);
  if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
  if (b <= 9007199254740991n && b >= -9007199254740991n) return Number(b);
  return b;
}
