// The replication backlog: a circular buffer holding the last repl-backlog-size
// bytes of the replication stream, so a replica that lost its link (or a
// sibling after a failover) can continue with PSYNC from its offset.
//
// Offsets are Valkey's: the stream's bytes are numbered from 1; after N bytes
// master_repl_offset is N, and the backlog holds bytes [firstByte, N].

export class Backlog {
  private buf: Buffer;
  /** Where the next byte goes. */
  private idx = 0;
  /** Bytes held (<= size). */
  histlen = 0;

  constructor(
    public size: number,
    /** master_repl_offset when the backlog was created (its first byte will be offset + 1). */
    private end: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(1, size));
  }

  /** Offset of the first byte held (repl_backlog_first_byte_offset). */
  get firstByte(): number {
    return this.end - this.histlen + 1;
  }

  /** Offset of the last byte held (== master_repl_offset). */
  get lastByte(): number {
    return this.end;
  }

  append(b: Buffer): void {
    const size = this.buf.length;
    this.end += b.length;
    let src = b;
    if (src.length >= size) {
      src.copy(this.buf, 0, src.length - size);
      this.idx = 0;
      this.histlen = size;
      return;
    }
    const first = Math.min(src.length, size - this.idx);
    src.copy(this.buf, this.idx, 0, first);
    if (first < src.length) src.copy(this.buf, 0, first);
    this.idx = (this.idx + src.length) % size;
    this.histlen = Math.min(size, this.histlen + src.length);
  }

  /** True when bytes from `from` (inclusive) to the end are held (from == end + 1: nothing to send). */
  has(from: number): boolean {
    return from >= this.firstByte && from <= this.end + 1;
  }

  /** The bytes from offset `from` to the end (call has() first). */
  from(from: number): Buffer {
    const n = this.end - from + 1;
    if (n <= 0) return Buffer.alloc(0);
    const size = this.buf.length;
    const start = (this.idx - n + size * 2) % size;
    const out = Buffer.allocUnsafe(n);
    const first = Math.min(n, size - start);
    this.buf.copy(out, 0, start, start + first);
    if (first < n) this.buf.copy(out, first, 0, n - first);
    return out;
  }

  /** Changes the size, keeping the most recent bytes that fit. */
  resize(size: number): void {
    if (size === this.buf.length) return;
    const keep = Math.min(this.histlen, size);
    const tail = this.from(this.end - keep + 1);
    this.buf = Buffer.allocUnsafe(Math.max(1, size));
    this.size = size;
    tail.copy(this.buf, 0);
    this.idx = keep % this.buf.length;
    this.histlen = keep;
  }
}
