// Exact emulation of the x87 80-bit extended precision "long double" that
// Valkey uses for INCRBYFLOAT (and HINCRBYFLOAT): a 64-bit significand with an
// explicit integer bit and a 15-bit exponent. Valkey parses with strtold, adds
// in long double and prints with "%.17Lf", so its answers differ from what
// JavaScript doubles give (10.5 + 0.1 is "10.6" there, "10.6" needs 64 bits of
// mantissa to round that way). Everything here is exact BigInt arithmetic with
// IEEE round-half-to-even, which is what glibc's strtold, the x87 FADD (in its
// default extended precision mode) and glibc's printf do.
//
// A finite value is sign * m * 2^e with 0 <= m < 2^64. Normal numbers have
// 2^63 <= m and -16445 <= e <= 16320; subnormals have e = -16445 and m < 2^63.

/** A long double value. `inf` set means +-infinity (m and e are then unused). */
export interface LongDouble {
  neg: boolean;
  m: bigint;
  e: number;
  inf: boolean;
}

const MANT_BITS = 64;
/** Exponent of the last significand bit of the smallest subnormal (2^-16445). */
const E_MIN = -16445;
/** Largest exponent: the largest finite value is (2^64 - 1) * 2^16320. */
const E_MAX = 16320;
const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;

/** Longest string Valkey's string2ld accepts (MAX_LONG_DOUBLE_CHARS - 1). */
export const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

export const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };

function bitLength(x: bigint): number {
  // x > 0. toString(16) is fast and exact for BigInts of any size.
  const h = x.toString(16);
  const top = parseInt(h[0], 16);
  return (h.length - 1) * 4 + (32 - Math.clz32(top));
}

/**
 * Rounds the positive rational num/den * 2^e0 to the nearest long double
 * (ties to even). Returns an infinity on overflow and a zero when the value is
 * below half the smallest subnormal.
 */
function roundRational(neg: boolean, num: bigint, den: bigint, e0: number): LongDouble {
  if (num === 0n) return { neg, m: 0n, e: 0, inf: false };
  const a = bitLength(num);
  const b = bitLength(den);
  // num/den lies in (2^(a-b-1), 2^(a-b+1)): pick e so the quotient has 64 or 65 bits.
  let e = e0 + a - b - MANT_BITS;
  if (e < E_MIN) e = E_MIN;
  let q: bigint;
  let r: bigint;
  let d: bigint;
  for (;;) {
    const k = e0 - e; // value / 2^e = num * 2^k / den
    let n = num;
    d = den;
    if (k >= 0) n = num << BigInt(k);
    else d = den << BigInt(-k);
    q = n / d;
    r = n - q * d;
    if (q >= TWO_64) {
      e++;
      continue;
    }
    break;
  }
  // Round half to even on the discarded remainder r/d.
  const twice = r << 1n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === TWO_64) {
    q = TWO_63;
    e++;
  }
  if (q === 0n) return { neg, m: 0n, e: 0, inf: false };
  if (e > E_MAX) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m: q, e, inf: false };
}

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)(?:inf|infinity)$/i;

/** Parses an exponent string, clamping absurd magnitudes (the result is then 0 or inf anyway). */
function parseExp(s: string | undefined): number {
  if (s === undefined) return 0;
  let i = 0;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    i = 1;
  }
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  const digits = s.slice(i);
  const v = digits.length > 9 ? 1e9 : Number(digits);
  return neg ? -v : v;
}

/**
 * Valkey's string2ld: the whole string must be what strtold accepts, without
 * leading space, not NaN, and neither overflowing to infinity nor underflowing
 * to zero ("inf" itself is accepted). Returns null when it is not a valid float.
 */
export function parseLongDouble(s: string): LongDouble | null {
  const len = s.length;
  if (len === 0 || len >= MAX_LONG_DOUBLE_CHARS) return null;
  let mt = DEC_RE.exec(s);
  if (mt !== null) {
    const ip = mt[2];
    const fp = mt[3] ?? '';
    if (ip.length === 0 && fp.length === 0) return null;
    const neg = mt[1] === '-';
    let digits = ip + fp;
    let exp = parseExp(mt[4]) - fp.length;
    let z = 0;
    while (z < digits.length && digits.charCodeAt(z) === 48) z++;
    if (z === digits.length) return { neg, m: 0n, e: 0, inf: false };
    digits = digits.slice(z);
    // Trailing zeros only scale: move them into the exponent.
    let t = digits.length;
    while (digits.charCodeAt(t - 1) === 48) t--;
    exp += digits.length - t;
    digits = digits.slice(0, t);
    const mag = exp + digits.length; // value in [10^(mag-1), 10^mag)
    if (mag - 1 > 4933) return null; // > LDBL_MAX (~1.19e4932): ERANGE, HUGE_VAL
    if (mag < -4952) return null; // below half the smallest subnormal (~3.6e-4951): ERANGE, 0
    const n = BigInt(digits);
    const r = exp >= 0 ? roundRational(neg, n * 10n ** BigInt(exp), 1n, 0) : roundRational(neg, n, 10n ** BigInt(-exp), 0);
    return r.inf || r.m === 0n ? null : r;
  }
  mt = HEX_RE.exec(s);
  if (mt !== null) {
    const ip = mt[2];
    const fp = mt[3] ?? '';
    if (ip.length === 0 && fp.length === 0) return null;
    const neg = mt[1] === '-';
    const h = BigInt('0x' + (ip + fp));
    if (h === 0n) return { neg, m: 0n, e: 0, inf: false };
    const e0 = parseExp(mt[4]) - 4 * fp.length;
    const top = bitLength(h) + e0; // value in [2^(top-1), 2^top)
    if (top > 16384 + 1) return null;
    if (top < E_MIN - 2) return null;
    const r = roundRational(neg, h, 1n, e0);
    return r.inf || r.m === 0n ? null : r;
  }
  mt = INF_RE.exec(s);
  if (mt !== null) return { neg: mt[1] === '-', m: 0n, e: 0, inf: true };
  return null;
}

/** The exact long double of an int64 (every int64 fits in 64 bits of significand). */
export function longDoubleFromInt(v: number | bigint): LongDouble {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  if (b === 0n) return { neg: false, m: 0n, e: 0, inf: false };
  return b < 0n ? { neg: true, m: -b, e: 0, inf: false } : { neg: false, m: b, e: 0, inf: false };
}

/** a + b rounded to long double (ties to even). NaN (inf + -inf) is returned as null. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return null;
    return a.inf ? a : b;
  }
  if (a.m === 0n) {
    if (b.m === 0n) return { neg: a.neg && b.neg, m: 0n, e: 0, inf: false };
    return b;
  }
  if (b.m === 0n) return a;
  const emin = Math.min(a.e, b.e);
  const sa = a.m << BigInt(a.e - emin);
  const sb = b.m << BigInt(b.e - emin);
  const s = (a.neg ? -sa : sa) + (b.neg ? -sb : sb);
  if (s === 0n) return { neg: false, m: 0n, e: 0, inf: false };
  return s < 0n ? roundRational(true, -s, 1n, emin) : roundRational(false, s, 1n, emin);
}

const TEN_17 = 10n ** 17n;

/**
 * Valkey's human long double format: printf("%.17Lf") (exact decimal
 * expansion, rounded half to even at 17 decimals), then trailing zeros and a
 * trailing dot removed, and "-0" written "0". `x` must be finite.
 */
export function formatLongDouble(x: LongDouble): string {
  let body: string;
  if (x.e >= 0) {
    body = (x.m << BigInt(x.e)).toString();
  } else {
    const sh = BigInt(-x.e);
    const t = x.m * TEN_17;
    let q = t >> sh;
    const r = t - (q << sh);
    const half = 1n << (sh - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
    const ip = q / TEN_17;
    const fp = q - ip * TEN_17;
    if (fp === 0n) {
      body = ip.toString();
    } else {
      let f = fp.toString().padStart(17, '0');
      let end = f.length;
      while (f.charCodeAt(end - 1) === 48) end--;
      f = f.slice(0, end);
      body = ip.toString() + '.' + f;
    }
  }
  if (x.neg && body !== '0') return '-' + body;
  return body;
}

