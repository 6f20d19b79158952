// CRC-64 as Redis/Valkey compute it for RDB files and DUMP payloads (crc64.c:
// "Jones" polynomial 0xad93d23594c935a9, reflected in and out, init 0, no final
// xor; check value for "123456789" is 0xe9c6d914c4b8d9ca).
// The 64-bit state is kept as two 32-bit halves; slicing-by-8 tables make it
// process eight bytes per step.

const POLY_LO = 0x4bc9b5 | (0xac << 24); // reflected polynomial 0x95ac9329ac4bc9b5
const POLY_HI = 0x95ac9329 | 0;

/** T[k][i] tables (slicing-by-8), lo and hi halves. */
const TLO: Uint32Array[] = [];
const THI: Uint32Array[] = [];

function buildTables(): void {
  const lo0 = new Uint32Array(256);
  const hi0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    lo0[i] = lo;
    hi0[i] = hi;
  }
  TLO.push(lo0);
  THI.push(hi0);
  for (let t = 1; t < 8; t++) {
    const pl = TLO[t - 1];
    const ph = THI[t - 1];
    const nl = new Uint32Array(256);
    const nh = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      // crc of one more zero byte after the previous table's value
      const lo = pl[i];
      const hi = ph[i];
      const idx = lo & 0xff;
      nl[i] = (lo0[idx] ^ ((lo >>> 8) | (hi << 24))) >>> 0;
      nh[i] = (hi0[idx] ^ (hi >>> 8)) >>> 0;
    }
    TLO.push(nl);
    THI.push(nh);
  }
}
buildTables();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A running CRC-64 (state as two uint32 halves). */
export class Crc64 {
  lo = 0;
  hi = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const [l0, l1, l2, l3, l4, l5, l6, l7] = TLO;
    const [h0, h1, h2, h3, h4, h5, h6, h7] = THI;
    // Bytes up to a 4-byte boundary one at a time, then 8 bytes per step read as two little-endian words.
    const base = buf.byteOffset;
    while (i < end && ((base + i) & 3) !== 0) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = l0[idx] ^ ((lo >>> 8) | (hi << 24));
      hi = h0[idx] ^ (hi >>> 8);
      i++;
    }
    if (end - i >= 8) {
      const words = (end - i) >> 3;
      const w = LITTLE_ENDIAN ? new Int32Array(buf.buffer, base + i, words * 2) : null;
      for (let k = 0; k < words; k++) {
        let x: number;
        let y: number;
        if (w !== null) {
          x = w[2 * k];
          y = w[2 * k + 1];
        } else {
          const j = i + 8 * k;
          x = buf[j] | (buf[j + 1] << 8) | (buf[j + 2] << 16) | (buf[j + 3] << 24);
          y = buf[j + 4] | (buf[j + 5] << 8) | (buf[j + 6] << 16) | (buf[j + 7] << 24);
        }
        const a = lo ^ x;
        const b = hi ^ y;
        lo =
          l7[a & 0xff] ^ l6[(a >>> 8) & 0xff] ^ l5[(a >>> 16) & 0xff] ^ l4[a >>> 24] ^
          l3[b & 0xff] ^ l2[(b >>> 8) & 0xff] ^ l1[(b >>> 16) & 0xff] ^ l0[b >>> 24];
        hi =
          h7[a & 0xff] ^ h6[(a >>> 8) & 0xff] ^ h5[(a >>> 16) & 0xff] ^ h4[a >>> 24] ^
          h3[b & 0xff] ^ h2[(b >>> 8) & 0xff] ^ h1[(b >>> 16) & 0xff] ^ h0[b >>> 24];
      }
      i += words * 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = l0[idx] ^ ((lo >>> 8) | (hi << 24));
      hi = h0[idx] ^ (hi >>> 8);
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The checksum as 8 little-endian bytes (how RDB files and DUMP payloads store it). */
  digestLE(): Buffer {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32LE(this.lo >>> 0, 0);
    b.writeUInt32LE(this.hi >>> 0, 4);
    return b;
  }

  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}

export function crc64(buf: Uint8Array, start = 0, end = buf.length): Crc64 {
  return new Crc64().update(buf, start, end);
}
