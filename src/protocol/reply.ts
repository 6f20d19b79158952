// Reply writer: appends RESP2/RESP3 frames to one growable output buffer.
// Everything a command answers goes through here; the owner flushes the buffer
// with one socket write per batch of commands.
import { digitCount, formatDouble } from '../util/numbers.js';

const INITIAL = 16 * 1024;

export class ReplyWriter {
  out: Buffer;
  len = 0;
  /** Protocol version the peer speaks: 2 or 3. */
  resp: 2 | 3 = 2;

  constructor(initial = INITIAL) {
    this.out = Buffer.allocUnsafe(initial);
  }

  /** Called for every error reply (the server counts them for INFO errorstats). */
  protected onErrorReply(_msg: string): void {}

  protected grow(need: number): void {
    let size = this.out.length * 2;
    while (size < this.len + need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.out.copy(nb, 0, 0, this.len);
    this.out = nb;
  }

  /** Appends a latin1/ASCII string as-is. */
  raw(s: string): void {
    const n = s.length;
    if (this.len + n > this.out.length) this.grow(n);
    this.len += this.out.latin1Write(s, this.len, n);
  }

  rawBuf(b: Buffer): void {
    const n = b.length;
    if (this.len + n > this.out.length) this.grow(n);
    b.copy(this.out, this.len);
    this.len += n;
  }

  private crlf(): void {
    const out = this.out;
    const p = this.len;
    out[p] = 13;
    out[p + 1] = 10;
    this.len = p + 2;
  }

  /** Writes a signed integer's decimal digits (no prefix, no CRLF); needs 24 bytes of room. */
  private digits(n: number): void {
    const out = this.out;
    if (n < 0) {
      out[this.len++] = 45;
      n = -n;
    }
    if (n < 4294967296 && Number.isInteger(n)) {
      const d = digitCount(n);
      let p = this.len + d;
      this.len = p;
      do {
        const q = (n / 10) >>> 0;
        out[--p] = 48 + (n - q * 10);
        n = q;
      } while (n !== 0);
    } else {
      this.len += out.latin1Write(String(n), this.len);
    }
  }

  addOK(): void {
    if (this.len + 5 > this.out.length) this.grow(5);
    const out = this.out;
    const p = this.len;
    out[p] = 43; // +
    out[p + 1] = 79; // O
    out[p + 2] = 75; // K
    out[p + 3] = 13;
    out[p + 4] = 10;
    this.len = p + 5;
  }

  addSimple(s: string): void {
    const len = s.length;
    const n = len + 3;
    if (this.len + n > this.out.length) this.grow(n);
    const out = this.out;
    out[this.len++] = 43; // +
    if (len > 16) {
      this.len += out.latin1Write(s, this.len);
    } else {
      // Short ones (PONG, QUEUED, ...) byte by byte, as in addBulk.
      const p = this.len;
      for (let i = 0; i < len; i++) out[p + i] = s.charCodeAt(i);
      this.len = p + len;
    }
    this.crlf();
  }

  /** Error reply. `msg` starts with the code, e.g. "ERR syntax error". Newlines become spaces. */
  addError(msg: string): void {
    if (msg.indexOf('\r') >= 0 || msg.indexOf('\n') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    this.onErrorReply(msg);
    const n = msg.length + 3;
    if (this.len + n > this.out.length) this.grow(n);
    const out = this.out;
    out[this.len++] = 45; // -
    this.len += out.latin1Write(msg, this.len);
    this.crlf();
  }

  addInt(n: number): void {
    if (this.len + 32 > this.out.length) this.grow(32);
    this.out[this.len++] = 58; // :
    this.digits(n);
    this.crlf();
  }

  addBigInt(n: bigint): void {
    this.raw(':' + n.toString() + '\r\n');
  }

  private header(prefix: number, n: number): void {
    if (this.len + 32 > this.out.length) this.grow(32);
    this.out[this.len++] = prefix;
    this.digits(n);
    this.crlf();
  }

  /** Bulk string from a latin1 JS string. */
  addBulk(s: string): void {
    const n = s.length;
    if (this.len + n + 32 > this.out.length) this.grow(n + 32);
    const out = this.out;
    out[this.len++] = 36; // $
    this.digits(n);
    this.crlf();
    if (n > 16) {
      this.len += out.latin1Write(s, this.len, n);
    } else {
      // Short values byte by byte: cheaper than the call into C++ (same low-byte result).
      const p = this.len;
      for (let i = 0; i < n; i++) out[p + i] = s.charCodeAt(i);
      this.len = p + n;
    }
    this.crlf();
  }

  addBulkBuf(b: Buffer): void {
    const n = b.length;
    if (this.len + n + 32 > this.out.length) this.grow(n + 32);
    const out = this.out;
    out[this.len++] = 36;
    this.digits(n);
    this.crlf();
    b.copy(out, this.len);
    this.len += n;
    this.crlf();
  }

  /** Bulk string holding the decimal form of an integer. */
  addBulkInt(v: number): void {
    if (this.len + 64 > this.out.length) this.grow(64);
    const out = this.out;
    if (v >= 0 && v < 4294967296 && Number.isInteger(v)) {
      out[this.len++] = 36;
      this.digits(digitCount(v));
      this.crlf();
      this.digits(v);
      this.crlf();
      return;
    }
    this.addBulk(String(v));
  }

  /** Bulk string from any stored string form. */
  addBulkValue(v: string | number | Buffer): void {
    if (typeof v === 'string') this.addBulk(v);
    else if (typeof v === 'number') this.addBulkInt(v);
    else this.addBulkBuf(v);
  }

  /** Null bulk string ($-1 in RESP2, _ in RESP3). */
  addNull(): void {
    this.raw(this.resp === 2 ? '$-1\r\n' : '_\r\n');
  }

  /** Null array (*-1 in RESP2, _ in RESP3). */
  addNullArray(): void {
    this.raw(this.resp === 2 ? '*-1\r\n' : '_\r\n');
  }

  addArrayLen(n: number): void {
    this.header(42, n); // *
  }

  /** Map header: %n in RESP3, *2n in RESP2. */
  addMapLen(n: number): void {
    if (this.resp === 3) this.header(37, n);
    else this.header(42, n * 2);
  }

  /** Set header: ~n in RESP3, *n in RESP2. */
  addSetLen(n: number): void {
    this.header(this.resp === 3 ? 126 : 42, n);
  }

  /** Push header: >n in RESP3, *n in RESP2. */
  addPushLen(n: number): void {
    this.header(this.resp === 3 ? 62 : 42, n);
  }

  /** Attribute header (RESP3 only). */
  addAttributeLen(n: number): void {
    this.header(124, n);
  }

  addEmptyArray(): void {
    this.raw('*0\r\n');
  }

  /** Double: ,d in RESP3, bulk string in RESP2. */
  addDouble(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.raw(',' + s + '\r\n');
    else this.addBulk(s);
  }

  /** Boolean: #t/#f in RESP3, :1/:0 in RESP2. */
  addBool(b: boolean): void {
    if (this.resp === 3) this.raw(b ? '#t\r\n' : '#f\r\n');
    else this.raw(b ? ':1\r\n' : ':0\r\n');
  }

  /** Verbatim string: =len\r\ntxt:... in RESP3, bulk string in RESP2. */
  addVerbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) {
      this.header(61, s.length + 4);
      this.raw(format + ':');
      if (this.len + s.length + 2 > this.out.length) this.grow(s.length + 2);
      this.len += this.out.latin1Write(s, this.len);
      this.crlf();
    } else {
      this.addBulk(s);
    }
  }

  /** Big number: (n in RESP3, bulk string in RESP2. */
  addBigNumber(s: string): void {
    if (this.resp === 3) this.raw('(' + s + '\r\n');
    else this.addBulk(s);
  }

  /** Array of bulk strings. */
  addBulkArray(items: ArrayLike<string>): void {
    this.addArrayLen(items.length);
    for (let i = 0; i < items.length; i++) this.addBulk(items[i]);
  }
}
