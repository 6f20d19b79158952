// Writing a client's replies straight to its socket's handle.
//
// net.Socket.write() runs Node's Writable machinery for every write: a new
// WriteWrap request object, the stream's state bookkeeping and an afterWrite
// callback on the next tick, all for a write the kernel takes at once in the
// common case. When nothing is queued in the socket (writableLength 0), the
// reply buffer is handed to the handle's writeBuffer() directly (what Node's
// writeGeneric does underneath), with one request object per client reused for
// every write the kernel takes at once: libuv only keeps the request when the
// kernel did not take everything; that one is then left to libuv (a new one
// serves the next write) and the client waits for its completion (oncomplete)
// before writing directly again; writes made meanwhile go through socket.write(),
// which libuv queues after the pending one, so the order is kept. socket.end()
// shuts the connection down only after pending writes (uv_shutdown waits).
// Uses process.binding('stream_wrap') (WriteWrap and the stream state array);
// when that is not available, or for TLS sockets (whose handle encrypts in
// JS-visible state), DirectWriter.for returns null and socket.write() is used.
import type { Socket } from 'node:net';

interface WriteReq {
  handle: unknown;
  oncomplete: (status: number) => void;
  buffer: Buffer | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, b: Buffer): number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

function loadBinding(): StreamWrapBinding | null {
  try {
    const b = (process as unknown as { binding(name: string): StreamWrapBinding }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array) || typeof b.kLastWriteWasAsync !== 'number') return null;
    return b;
  } catch {
    return null;
  }
}

const binding = loadBinding();

export const enum DirectResult {
  /** The kernel took everything: the buffer is free again. */
  Done = 0,
  /** Written in part: libuv holds the buffer until oncomplete. */
  Pending = 1,
  /** The write failed: the connection is to be dropped. */
  Failed = 2,
  /** Not possible now (the socket lost its handle): use socket.write(). */
  Unavailable = 3,
}

export class DirectWriter {
  /** The request for the next write (null after one was left to libuv). */
  private req: WriteReq | null = null;

  private constructor(
    private readonly sock: Socket,
    private readonly done: (status: number) => void,
  ) {}

  private newReq(): WriteReq {
    const req = new binding!.WriteWrap();
    req.buffer = null;
    const done = this.done;
    req.oncomplete = (status: number) => {
      req.buffer = null;
      done(status);
    };
    return req;
  }

  /** A writer for a plain TCP or Unix socket, or null (TLS, or the binding is not there). */
  static for(sock: Socket, done: (status: number) => void): DirectWriter | null {
    if (binding === null || (sock as { encrypted?: boolean }).encrypted === true) return null;
    const h = (sock as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
    if (h == null || typeof h.writeBuffer !== 'function') return null;
    return new DirectWriter(sock, done);
  }

  /** Writes `b` (the caller checked that nothing is queued in the socket and no direct write is in flight). */
  write(b: Buffer): DirectResult {
    const h = (this.sock as unknown as { _handle: StreamHandle | null })._handle;
    if (h === null || this.sock.destroyed) return DirectResult.Unavailable;
    let req = this.req;
    if (req === null) req = this.req = this.newReq();
    req.handle = h;
    const err = h.writeBuffer(req, b);
    if (err !== 0) {
      this.req = null;
      return DirectResult.Failed;
    }
    if (binding!.streamBaseState[binding!.kLastWriteWasAsync] !== 0) {
      req.buffer = b; // keeps the memory alive while libuv writes it
      this.req = null;
      return DirectResult.Pending;
    }
    return DirectResult.Done;
  }
}
