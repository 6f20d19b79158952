// LZF compression (Marc Lehmann's liblzf format, as Redis/Valkey use for RDB
// strings when rdbcompression is on). The compressor follows liblzf's
// lzf_compress with the settings Redis builds it with (HLOG 16, VERY_FAST), so
// it finds the same matches; the decompressor accepts any valid LZF stream.

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

// Hash table of positions. Instead of clearing its 256 KB for every string,
// entries are stored as position + base, and base moves past the previous
// input on each call: an entry from an earlier call then reads as a position
// <= 0, which the match test rejects exactly like an empty slot.
const htab = new Int32Array(HSIZE);
let base = 0;

/**
 * Compresses input[inStart, inEnd) into out[0, outEnd) (no views needed: a
 * snapshot compresses hundreds of thousands of strings from one scratch
 * buffer). Returns the compressed length, or 0 when it does not fit (the
 * caller stores the data raw); out past outEnd may be scribbled on then.
 */
export function lzfCompress(input: Uint8Array, out: Uint8Array, inStart = 0, inEnd = input.length, outEnd = out.length): number {
  const inLen = inEnd - inStart;
  if (inLen <= 0) return 0;
  if (base + inLen + 1 >= 0x7fffffff) {
    htab.fill(0);
    base = 0;
  }
  // Positions are absolute in `input`; htab holds them as ip - inStart + base.
  const b0 = base - inStart;
  base += inLen + 1;
  let ip = inStart;
  let op = 0;
  let lit = 0;
  op++; // start run
  let hval = (input[inStart] << 8) | input[inStart + 1];
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    let slot = ((hval >>> 8) - hval) & (HSIZE - 1);
    const ref = htab[slot] - b0;
    htab[slot] = ip + b0;
    const off = ip - ref - 1;
    if (
      ref < ip &&
      off < MAX_OFF &&
      ref > inStart &&
      input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd) {
        if (op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return 0;
      }
      out[op - lit - 1] = lit - 1; // stop run
      if (lit === 0) op--; // undo run if length is zero
      do len++;
      while (len < maxlen && input[ref + len] === input[ip + len]);
      len -= 2; // len is now #octets - 1
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      // VERY_FAST: hash the two positions before the new ip
      ip -= 2;
      hval = (input[ip] << 8) | input[ip + 1];
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      slot = ((hval >>> 8) - hval) & (HSIZE - 1);
      htab[slot] = ip + b0;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      slot = ((hval >>> 8) - hval) & (HSIZE - 1);
      htab[slot] = ip + b0;
      ip++;
    } else {
      // one more literal byte we must copy
      if (op >= outEnd) return 0;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }
  if (op + 3 > outEnd) return 0; // at most 3 bytes can be missing here
  while (ip < inEnd) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1; // end run
  if (lit === 0) op--; // undo run if length is zero
  return op <= outEnd ? op : 0;
}

/** Decompresses an LZF stream into exactly `outLen` bytes; throws on a malformed stream. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  const inLen = input.length;
  let ip = 0;
  let op = 0;
  while (ip < inLen) {
    let ctrl = input[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen) throw new Error('LZF: output overflow');
      if (ip + ctrl > inLen) throw new Error('LZF: input overflow');
      for (let k = 0; k < ctrl; k++) out[op++] = input[ip++];
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= inLen) throw new Error('LZF: input overflow');
      if (len === 7) {
        len += input[ip++];
        if (ip >= inLen) throw new Error('LZF: input overflow');
      }
      ref -= input[ip++];
      len += 2;
      if (op + len > outLen) throw new Error('LZF: output overflow');
      if (ref < 0) throw new Error('LZF: back reference before the start');
      for (let k = 0; k < len; k++) out[op++] = out[ref++];
    }
  }
  if (op !== outLen) throw new Error('LZF: length mismatch');
  return out;
}
