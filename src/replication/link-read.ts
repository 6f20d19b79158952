// Reading a replica's link to its primary into reused memory (net.Socket's
// `onread` option: the socket reads into a buffer we hand it, no Buffer per
// read).
//
// While the stream is live (Replication.linkState 'connected'), reads land in
// one reused buffer, `acc`, right after the bytes not applied yet (an
// incomplete command at the end of the previous read, or commands held by
// CLIENT PAUSE): those bytes and the new ones are then one contiguous view,
// parsed in place, with no copy and no concatenation. Only the unapplied tail
// moves, to the front of acc, when there is not room enough after it for a
// full read (acc grows for a command larger than itself).
//
// The handshake and the RDB transfer keep views of what they receive (lines,
// RDB chunks), so before the stream is live reads land in a scratch buffer
// whose bytes the caller copies out (joined() says null). Anything that holds
// a view of acc must drop it before the next read: the replica keeps only
// `inbuf`, the unapplied bytes, and passes that back to live().

/** Room for one read (Node's own read size). */
const READ_SIZE = 64 * 1024;
/** acc's size; a larger one (a big command) shrinks back once its tail is small again. */
const ACC_SIZE = 256 * 1024;

export class LinkReader {
  private acc: Buffer | null = null;
  private scratch: Buffer | null = null;
  /** The view of acc the next read lands in; null when it lands in scratch. */
  private target: Buffer | null = null;

  /** The buffer for the next read before the stream is live: its bytes are copied out. */
  idle(): Buffer {
    this.target = null;
    return (this.scratch ??= Buffer.allocUnsafe(READ_SIZE));
  }

  /**
   * The buffer for the next read of the live stream, right after `pending`
   * (the unapplied bytes) in acc; `pending` is moved there first unless it
   * already is with room after it. `placed` is then its view in acc: the
   * caller's pending bytes from now on.
   */
  live(pending: Buffer): Buffer {
    let acc = this.acc;
    const len = pending.length;
    let start = acc !== null && pending.buffer === acc.buffer ? pending.byteOffset - acc.byteOffset : -1;
    if (acc === null || start < 0 || start + len + READ_SIZE > acc.length || (acc.length > ACC_SIZE && len + READ_SIZE <= ACC_SIZE)) {
      if (acc === null || len + READ_SIZE > acc.length || (acc.length > ACC_SIZE && len + READ_SIZE <= ACC_SIZE)) {
        // A fresh acc: the first live read, a command larger than acc, or a large acc no longer needed.
        const next = Buffer.allocUnsafe(len + READ_SIZE <= ACC_SIZE ? ACC_SIZE : 2 * (len + READ_SIZE));
        pending.copy(next, 0);
        this.acc = acc = next;
      } else if (start >= 0) acc.copyWithin(0, start, start + len);
      else pending.copy(acc, 0);
      start = 0;
    }
    this.placed = start === 0 && len === 0 ? EMPTY : acc.subarray(start, start + len);
    return (this.target = acc.subarray(start + len));
  }

  /** After live(): the pending bytes' view in acc. */
  placed: Buffer = EMPTY;

  /**
   * A read of `n` bytes landed in `view`. When it is live()'s target and
   * `pending` is still the view right before it, returns pending and the new
   * bytes as one view of acc; otherwise null: the caller copies view[0, n).
   */
  joined(view: Buffer, n: number, pending: Buffer): Buffer | null {
    const t = this.target;
    this.target = null;
    if (view !== t || t === null) return null;
    if (pending.length === 0) return t.subarray(0, n);
    if (pending.buffer !== t.buffer || pending.byteOffset + pending.length !== t.byteOffset) return null;
    return Buffer.from(t.buffer, pending.byteOffset, pending.length + n);
  }
}

const EMPTY = Buffer.alloc(0);
