// The primary's outgoing replication bytes of one event-loop turn.
//
// Each unit of the propagation stream is encoded once, straight into this
// buffer (no Buffer per command); the same bytes are appended to the backlog
// and, at the end of the turn, written with one socket write to every live
// replica (the same Buffer for all of them). The buffer is reused next turn
// when every socket took its bytes at once; otherwise a socket still holds a
// view of it and a fresh buffer is taken.

const INITIAL = 64 * 1024;
/** A turn that grew the buffer beyond this gives it back afterwards. */
const KEEP_MAX = 1024 * 1024;

const selects: Buffer[] = [];

/** SELECT <db> as RESP, cached per db. */
export function selectBytes(db: number): Buffer {
  let b = selects[db];
  if (b === undefined) {
    const s = String(db);
    b = selects[db] = Buffer.from(`*2\r\n$6\r\nSELECT\r\n$${s.length}\r\n${s}\r\n`, 'latin1');
  }
  return b;
}

/** Writes the decimal digits of a non-negative integer at o; returns the end. */
function writeUint(buf: Buffer, o: number, n: number): number {
  if (n < 10) {
    buf[o] = 48 + n;
    return o + 1;
  }
  if (n < 100) {
    // Two digits: most key and value lengths.
    const t = (n / 10) | 0;
    buf[o] = 48 + t;
    buf[o + 1] = 48 + n - t * 10;
    return o + 2;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let p = o + digits;
  for (let x = n; p > o; x = Math.floor(x / 10)) buf[--p] = 48 + (x % 10);
  return o + digits;
}

export class StreamBuf {
  buf: Buffer = Buffer.allocUnsafe(INITIAL);
  len = 0;
  /** Bytes [0, backlogged) are already in the backlog. */
  backlogged = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  appendBytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** Appends argv as a RESP multibulk (strings are latin1, one byte per char). */
  appendCommand(argv: (string | Buffer)[]): void {
    let size = 16;
    for (let i = 0; i < argv.length; i++) size += argv[i].length + 16;
    this.ensure(size);
    const buf = this.buf;
    let o = this.len;
    buf[o++] = 42; // *
    o = writeUint(buf, o, argv.length);
    buf[o++] = 13;
    buf[o++] = 10;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const n = a.length;
      buf[o++] = 36; // $
      o = writeUint(buf, o, n);
      buf[o++] = 13;
      buf[o++] = 10;
      // Up to 24 chars a JS loop beats the call into C++ (keys such as redis-benchmark's 16-char ones).
      if (typeof a === 'string') o += n <= 24 ? shortLatin1(buf, a, o) : buf.latin1Write(a, o);
      else o += a.copy(buf, o);
      buf[o++] = 13;
      buf[o++] = 10;
    }
    this.len = o;
  }

  /** After the turn's writes: reuse the buffer unless a socket still holds part of it. */
  reset(held: boolean): void {
    this.len = 0;
    this.backlogged = 0;
    if (held || this.buf.length > KEEP_MAX) this.buf = Buffer.allocUnsafe(INITIAL);
  }
}

function shortLatin1(buf: Buffer, s: string, o: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[o + i] = s.charCodeAt(i);
  return n;
}
