// HyperLogLog in the same byte format as Valkey/Redis, so a value moves between
// servers with GET/SET (or DUMP/RESTORE) unchanged.
//
// Layout: a 16-byte header, then the registers.
//   bytes 0..3   "HYLL"
//   byte  4      encoding: 0 dense, 1 sparse
//   bytes 5..7   unused (zero)
//   bytes 8..15  cached cardinality, little endian; the top bit of byte 15 set
//                means "stale, recompute"
// Dense: 16384 registers of 6 bits, register i at bit i*6, least significant
// bits first within each byte (12288 bytes).
// Sparse: a run-length code of the 16384 registers, three opcodes:
//   00llllll            ZERO  run of 1..64 zero registers
//   01llllll llllllll   XZERO run of 1..16384 zero registers
//   1vvvvvll            VAL   run of 1..4 registers holding 1..32
// An element hashes (MurmurHash64A, seed 0xadc83b19) to 64 bits: the low 14
// bits pick the register, and 1 + the number of trailing zero bits of the
// rest (capped at 51) is the value offered to it. A sparse value is promoted to
// dense when a register needs more than 32 or it would grow past
// hll-sparse-max-bytes. Cardinality uses Ertl's improved estimator over the
// histogram of register values (arXiv:1702.01284).

export const HLL_P = 14;
export const HLL_REGISTERS = 1 << HLL_P; // 16384
const HLL_P_MASK = HLL_REGISTERS - 1;
const HLL_Q = 64 - HLL_P; // 50
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * 6 + 7) >> 3); // 12304
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;

const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
const ALPHA_INF = 0.721347520444481703680; // 1 / (2 ln 2)

// ------------------------------------------------------------------ hashing

// 64-bit words as [hi, lo] unsigned 32-bit halves; results in module scratch.
let rh = 0;
let rl = 0;

/** (ah:al) * (bh:bl) mod 2^64 into rh:rl. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const mid = a1 * b0 + a0 * b1; // < 2^33
  const low = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  rl = low >>> 0;
  const carry = Math.floor(low / 4294967296);
  const high = a1 * b1 + Math.floor(mid / 65536) + carry;
  rh = (high + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const SEED = 0xadc83b19;

/** Byte source for hashing: a latin1 string (one char per byte) or bytes. */
type Bytes = string | Uint8Array;

function byteAt(d: Bytes, i: number): number {
  return typeof d === 'string' ? d.charCodeAt(i) : d[i];
}

/**
 * MurmurHash64A of d with the HLL seed; the 64-bit result is left in hashHi /
 * hashLo (unsigned 32-bit halves).
 */
export let hashHi = 0;
export let hashLo = 0;
export function murmur64a(d: Bytes): void {
  const len = d.length;
  mul64(0, len >>> 0, M_HI, M_LO); // len * m (len < 2^32)
  let hh = rh;
  let hl = (rl ^ SEED) >>> 0;
  const blocks = len - (len & 7);
  const str = typeof d === 'string';
  for (let i = 0; i < blocks; i += 8) {
    let kl: number;
    let kh: number;
    if (str) {
      kl = (d.charCodeAt(i) | (d.charCodeAt(i + 1) << 8) | (d.charCodeAt(i + 2) << 16) | (d.charCodeAt(i + 3) << 24)) >>> 0;
      kh = (d.charCodeAt(i + 4) | (d.charCodeAt(i + 5) << 8) | (d.charCodeAt(i + 6) << 16) | (d.charCodeAt(i + 7) << 24)) >>> 0;
    } else {
      kl = (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0;
      kh = (d[i + 4] | (d[i + 5] << 8) | (d[i + 6] << 16) | (d[i + 7] << 24)) >>> 0;
    }
    mul64(kh, kl, M_HI, M_LO);
    kh = rh;
    kl = (rl ^ (rh >>> 15)) >>> 0; // k ^= k >> 47
    mul64(kh, kl, M_HI, M_LO);
    hh = (hh ^ rh) >>> 0;
    hl = (hl ^ rl) >>> 0;
    mul64(hh, hl, M_HI, M_LO);
    hh = rh;
    hl = rl;
  }
  const rem = len & 7;
  if (rem !== 0) {
    // Tail bytes: byte j goes to bit 8*j of the 64-bit word.
    for (let j = rem - 1; j >= 0; j--) {
      const b = byteAt(d, blocks + j);
      if (j >= 4) hh = (hh ^ (b << (8 * (j - 4)))) >>> 0;
      else hl = (hl ^ (b << (8 * j))) >>> 0;
    }
    mul64(hh, hl, M_HI, M_LO);
    hh = rh;
    hl = rl;
  }
  hl = (hl ^ (hh >>> 15)) >>> 0; // h ^= h >> 47
  mul64(hh, hl, M_HI, M_LO);
  hh = rh;
  hl = (rl ^ (rh >>> 15)) >>> 0;
  hashHi = hh;
  hashLo = hl;
}

/** Register index of the last patLen() call. */
export let patIndex = 0;

/** Hashes an element: sets patIndex and returns the value (1..51) it offers. */
export function patLen(d: Bytes): number {
  murmur64a(d);
  patIndex = hashLo & HLL_P_MASK;
  // The 50 bits above the index, with bit 50 forced to one as a stop.
  const lo = ((hashLo >>> HLL_P) | (hashHi << (32 - HLL_P))) >>> 0;
  if (lo !== 0) return 32 - Math.clz32(lo & -lo);
  const hi = (hashHi >>> HLL_P) | (1 << (HLL_Q - 32));
  return 32 + 32 - Math.clz32(hi & -hi);
}

// ------------------------------------------------------------------ header

/** True when b (length len) passes Valkey's HLL header checks. */
export function isHllHeader(b: Uint8Array, len: number): boolean {
  if (len < HLL_HDR_SIZE) return false;
  if (b[0] !== 72 || b[1] !== 89 || b[2] !== 76 || b[3] !== 76) return false; // HYLL
  const enc = b[4];
  if (enc > HLL_SPARSE) return false;
  if (enc === HLL_DENSE && len !== HLL_DENSE_SIZE) return false;
  return true;
}

export function invalidateCache(b: Uint8Array): void {
  b[15] |= 0x80;
}

export function cacheValid(b: Uint8Array): boolean {
  return (b[15] & 0x80) === 0;
}

/** The cached cardinality (valid cache assumed): a number, or a bigint beyond 2^53. */
export function readCache(b: Uint8Array): number | bigint {
  const lo = (b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24)) >>> 0;
  const hi = (b[12] | (b[13] << 8) | (b[14] << 16) | (b[15] << 24)) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeCache(b: Uint8Array, card: number): void {
  let lo = card % 4294967296;
  let hi = Math.floor(card / 4294967296);
  for (let i = 8; i < 12; i++) {
    b[i] = lo & 0xff;
    lo = Math.floor(lo / 256);
  }
  for (let i = 12; i < 16; i++) {
    b[i] = hi & 0xff;
    hi = Math.floor(hi / 256);
  }
}

/** A new, empty sparse HLL (one XZERO opcode covering every register). */
export function createSparse(): Buffer {
  const b = Buffer.alloc(HLL_HDR_SIZE + 2);
  b[0] = 72;
  b[1] = 89;
  b[2] = 76;
  b[3] = 76;
  b[4] = HLL_SPARSE;
  b[16] = 0x40 | ((XZERO_MAX_LEN - 1) >> 8);
  b[17] = (XZERO_MAX_LEN - 1) & 0xff;
  return b;
}

// ------------------------------------------------------------------ dense

/** Register i of dense registers starting at byte `base` of b. */
export function denseGet(b: Uint8Array, base: number, i: number): number {
  const bit = i * 6;
  const byte = base + (bit >>> 3);
  const fb = bit & 7;
  const b0 = b[byte];
  const b1 = fb > 2 ? b[byte + 1] : 0;
  return ((b0 >>> fb) | (b1 << (8 - fb))) & 63;
}

export function denseSetReg(b: Uint8Array, base: number, i: number, v: number): void {
  const bit = i * 6;
  const byte = base + (bit >>> 3);
  const fb = bit & 7;
  b[byte] = (b[byte] & ~(63 << fb)) | ((v << fb) & 0xff);
  if (fb > 2) b[byte + 1] = (b[byte + 1] & ~(63 >>> (8 - fb))) | (v >>> (8 - fb));
}

/** Sets dense register i to count if that is larger; true when it changed. */
export function denseSet(b: Uint8Array, i: number, count: number): boolean {
  if (count > denseGet(b, HLL_HDR_SIZE, i)) {
    denseSetReg(b, HLL_HDR_SIZE, i, count);
    return true;
  }
  return false;
}

// ------------------------------------------------------------------ sparse working copy

/**
 * The HLL being edited: `buf` with `len` meaningful bytes (sparse values are
 * edited in a roomy scratch copy; dense values in place).
 */
export interface HllWork {
  buf: Uint8Array;
  len: number;
}

/** XZERO length at p (a truncated opcode reads a zero second byte, as the C string's terminator). */
function xzeroLen(b: Uint8Array, p: number, end: number): number {
  return (((b[p] & 0x3f) << 8) | (p + 1 < end ? b[p + 1] : 0)) + 1;
}

/**
 * Converts a sparse HLL to dense. Returns the dense Buffer (header copied,
 * encoding changed), or null if the sparse data is corrupt.
 */
export function sparseToDense(b: Uint8Array, len: number): Buffer | null {
  const d = Buffer.alloc(HLL_DENSE_SIZE);
  for (let i = 0; i < HLL_HDR_SIZE; i++) d[i] = b[i];
  d[4] = HLL_DENSE;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p];
    if ((op & 0xc0) === 0) {
      const run = (op & 0x3f) + 1;
      if (run + idx > HLL_REGISTERS) return null;
      idx += run;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = xzeroLen(b, p, len);
      if (run + idx > HLL_REGISTERS) return null;
      idx += run;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const v = ((op >>> 2) & 0x1f) + 1;
      if (run + idx > HLL_REGISTERS) return null;
      while (run-- > 0) denseSetReg(d, HLL_HDR_SIZE, idx++, v);
      p++;
    }
  }
  return idx === HLL_REGISTERS ? d : null;
}

const seq = new Uint8Array(5);

/**
 * Valkey's sparse register update, step for step (the exact opcode sequence
 * matters: the stored bytes must match). Returns 1 if the register changed, 0
 * if not, -1 if the data is corrupt, 2 if the HLL must be promoted to dense
 * first (the caller promotes and retries on the dense form).
 * w.buf must have at least 3 spare bytes past w.len.
 */
export function sparseSet(w: HllWork, index: number, count: number, maxBytes: number): number {
  if (count > VAL_MAX_VALUE) return 2;
  const b = w.buf;
  let end = w.len;
  const sparse = HLL_HDR_SIZE;
  let p = sparse;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = b[p];
    let oplen = 1;
    if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
    else if ((op & 0x80) !== 0) span = (op & 3) + 1;
    else {
      span = xzeroLen(b, p, end);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = b[p];
  const isXzero = (op & 0xc0) === 0x40;
  const isZero = (op & 0xc0) === 0;
  const isVal = (op & 0x80) !== 0;
  let next = isXzero ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const runlen = isZero ? (op & 0x3f) + 1 : isXzero ? xzeroLen(b, p, end) : (op & 3) + 1;

  let updatedInPlace = false;
  if (isVal) {
    const old = ((op >>> 2) & 0x1f) + 1;
    if (old >= count) return 0;
    if (runlen === 1) {
      b[p] = 0x80 | ((count - 1) << 2);
      updatedInPlace = true;
    }
  }
  if (!updatedInPlace && isZero && runlen === 1) {
    b[p] = 0x80 | ((count - 1) << 2);
    updatedInPlace = true;
  }
  if (!updatedInPlace) {
    // Split the opcode into up to three.
    let n = 0;
    const last = first + span - 1;
    if (isZero || isXzero) {
      if (index !== first) {
        const l = index - first;
        if (l > ZERO_MAX_LEN) {
          seq[n++] = 0x40 | ((l - 1) >> 8);
          seq[n++] = (l - 1) & 0xff;
        } else seq[n++] = l - 1;
      }
      seq[n++] = 0x80 | ((count - 1) << 2);
      if (index !== last) {
        const l = last - index;
        if (l > ZERO_MAX_LEN) {
          seq[n++] = 0x40 | ((l - 1) >> 8);
          seq[n++] = (l - 1) & 0xff;
        } else seq[n++] = l - 1;
      }
    } else {
      const cur = (op >>> 2) & 0x1f; // value - 1
      if (index !== first) seq[n++] = 0x80 | (cur << 2) | (index - first - 1);
      seq[n++] = 0x80 | ((count - 1) << 2);
      if (index !== last) seq[n++] = 0x80 | (cur << 2) | (last - index - 1);
    }
    const oldlen = isXzero ? 2 : 1;
    const delta = n - oldlen;
    if (delta > 0 && end + delta > maxBytes) return 2;
    if (delta !== 0 && next >= 0) b.copyWithin(next + delta, next, end);
    for (let i = 0; i < n; i++) b[p + i] = seq[i];
    end += delta;
  }
  // Merge adjacent VAL opcodes with equal values, scanning up to 5 opcodes from prev.
  p = prev >= 0 ? prev : sparse;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const o = b[p];
    if ((o & 0xc0) === 0x40) {
      p += 2;
      continue;
    }
    if ((o & 0xc0) === 0) {
      p++;
      continue;
    }
    if (p + 1 < end && (b[p + 1] & 0x80) !== 0) {
      const o2 = b[p + 1];
      if (((o >>> 2) & 0x1f) === ((o2 >>> 2) & 0x1f)) {
        const l = (o & 3) + (o2 & 3) + 2;
        if (l <= VAL_MAX_LEN) {
          b[p + 1] = (o2 & 0xfc) | (l - 1);
          b.copyWithin(p, p + 1, end);
          end--;
          continue;
        }
      }
    }
    p++;
  }
  w.len = end;
  invalidateCache(b);
  return 1;
}

// ------------------------------------------------------------------ counting

const histo = new Float64Array(64);

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const t = 1 - x;
    z -= t * t * y;
  } while (zPrime !== z);
  return z / 3;
}

function estimate(): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[HLL_Q + 1]) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/** Cardinality of a validated HLL (b, len); -1 if sparse and corrupt. */
export function count(b: Uint8Array, len: number): number {
  histo.fill(0);
  if (b[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) histo[denseGet(b, HLL_HDR_SIZE, i)]++;
  } else {
    let idx = 0;
    let p = HLL_HDR_SIZE;
    let valid = true;
    while (p < len) {
      const op = b[p];
      let run: number;
      let v = 0;
      if ((op & 0xc0) === 0) {
        run = (op & 0x3f) + 1;
        p++;
      } else if ((op & 0xc0) === 0x40) {
        run = xzeroLen(b, p, len);
        p += 2;
      } else {
        run = (op & 3) + 1;
        v = ((op >>> 2) & 0x1f) + 1;
        p++;
      }
      if (run + idx > HLL_REGISTERS) {
        valid = false;
        break;
      }
      idx += run;
      histo[v] += run;
    }
    if (!valid || idx !== HLL_REGISTERS) return -1;
  }
  return estimate();
}

/** Cardinality of raw one-byte-per-register registers (multi-key PFCOUNT). */
export function countRaw(max: Uint8Array): number {
  histo.fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[max[i]]++;
  return estimate();
}

/** max[i] = MAX(max[i], register i); false if the (sparse) HLL is corrupt. */
export function mergeInto(max: Uint8Array, b: Uint8Array, len: number): boolean {
  if (b[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(b, HLL_HDR_SIZE, i);
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  let i = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p];
    if ((op & 0xc0) === 0) {
      const run = (op & 0x3f) + 1;
      if (run + i > HLL_REGISTERS) return false;
      i += run;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = xzeroLen(b, p, len);
      if (run + i > HLL_REGISTERS) return false;
      i += run;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const v = ((op >>> 2) & 0x1f) + 1;
      if (run + i > HLL_REGISTERS) return false;
      while (run-- > 0) {
        if (v > max[i]) max[i] = v;
        i++;
      }
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

/** PFDEBUG DECODE text of a sparse HLL. */
export function decodeSparse(b: Uint8Array, len: number): string {
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p];
    if ((op & 0xc0) === 0) {
      parts.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if ((op & 0xc0) === 0x40) {
      parts.push(`Z:${xzeroLen(b, p, len)}`);
      p += 2;
    } else {
      parts.push(`v:${((op >>> 2) & 0x1f) + 1},${(op & 3) + 1}`);
      p++;
    }
  }
  return parts.join(' ');
}

// ------------------------------------------------------------------ adding

/**
 * Adds elements to an HLL held in w (sparse edits happen in w.buf, which the
 * caller sized with room to spare; a promotion replaces w.buf with a dense
 * Buffer). Returns the number of register updates, or -1 - updates when the
 * sparse data turned out corrupt.
 */
export function addElements(w: HllWork, elements: ArrayLike<Bytes>, from: number, maxBytes: number): number {
  let updated = 0;
  for (let j = from; j < elements.length; j++) {
    const c = patLen(elements[j]);
    const idx = patIndex;
    const r = setRegister(w, idx, c, maxBytes);
    if (r < 0) return -1 - updated;
    updated += r;
  }
  return updated;
}

/** Raises register idx to at least c in whatever encoding w holds (promoting if needed). */
export function setRegister(w: HllWork, idx: number, c: number, maxBytes: number): number {
  if (w.buf[4] === HLL_DENSE) return denseSet(w.buf, idx, c) ? 1 : 0;
  const r = sparseSet(w, idx, c, maxBytes);
  if (r !== 2) return r;
  const d = sparseToDense(w.buf, w.len);
  if (d === null) return -1;
  w.buf = d;
  w.len = HLL_DENSE_SIZE;
  denseSet(d, idx, c);
  return 1;
}
