// A file sink for snapshots (RDB saves, AOF rewrites) with Valkey's
// incremental fsync (rdb-save-incremental-fsync, aof-rewrite-incremental-fsync):
// every AUTOSYNC_BYTES written, the file is flushed to disk so dirty pages do
// not pile up and the final fsync has little left to do (rioSetAutoSync with
// REDIS_AUTOSYNC_BYTES). A synchronous save (SAVE) flushes in place; a sliced
// background one asks the libuv pool and goes on writing meanwhile (at most
// one flush in flight), and waits for it (whenIdle) before the final fsync
// or close.
//
// Writes are synchronous by default. With `writes: 'pool'` (BGSAVE) each chunk
// is copied into a pooled buffer and written by the libuv pool, one write at a
// time and in order, so a slow disk never stalls the event loop; the owner
// checks `error` (the first failed write: later chunks are dropped), keeps
// `backlog` (bytes queued) bounded, and calls whenIdle() before the final
// fsync or close.
import { fdatasync, fdatasyncSync, write, writeSync } from 'node:fs';

/** Valkey's REDIS_AUTOSYNC_BYTES: 4 MB. */
export const AUTOSYNC_BYTES = 4 * 1024 * 1024;

export type AutoSync = 'off' | 'sync' | 'async';

/** Size of the pooled buffers of background writes (a snapshot hands over chunks up to about this). */
const POOL_CHUNK = 128 * 1024;
/** Pooled buffers kept for reuse. */
const POOL_KEEP = 8;

export class FdSink {
  /** Bytes written since the last flush started. */
  private unsynced = 0;
  private inFlight = false;
  private waiters: (() => void)[] = [];
  /** Incremental flushes done or started (tests, stats). */
  syncs = 0;
  /** Background writes: chunks queued (the first one is being written), their lengths, and how much of the first is done. */
  private queue: Buffer[] = [];
  private lens: number[] = [];
  private done = 0;
  private writing = false;
  private stopped = false;
  private free: Buffer[] = [];
  /** Bytes queued and not yet written (background writes). */
  backlog = 0;
  /** The first failed background write; later chunks are dropped. */
  error: Error | null = null;

  constructor(
    private readonly fd: number,
    private readonly autosync: AutoSync = 'off',
    private readonly every = AUTOSYNC_BYTES,
    private readonly writes: 'sync' | 'pool' = 'sync',
  ) {}

  write(chunk: Buffer): void {
    if (this.writes === 'pool') {
      this.enqueue(chunk);
      return;
    }
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    this.wrote(chunk.length);
  }

  /** After `n` bytes reached the file: the incremental flush, when one is due. */
  private wrote(n: number): void {
    if (this.autosync === 'off') return;
    this.unsynced += n;
    if (this.unsynced < this.every) return;
    if (this.autosync === 'sync') {
      fdatasyncSync(this.fd);
      this.unsynced = 0;
      this.syncs++;
      return;
    }
    if (this.inFlight) return;
    this.inFlight = true;
    this.unsynced = 0;
    this.syncs++;
    // An error here shows up again at the final fsync, which fails the save.
    fdatasync(this.fd, () => {
      this.inFlight = false;
      this.wake();
    });
  }

  private enqueue(chunk: Buffer): void {
    const n = chunk.length;
    if (this.error !== null || this.stopped || n === 0) return;
    let b = this.free.pop();
    if (b === undefined || b.length < n) b = Buffer.allocUnsafeSlow(Math.max(n, POOL_CHUNK));
    chunk.copy(b, 0, 0, n);
    this.queue.push(b);
    this.lens.push(n);
    this.backlog += n;
    if (!this.writing) this.pump();
  }

  private pump(): void {
    const b = this.queue[0];
    const n = this.lens[0];
    this.writing = true;
    write(this.fd, b, this.done, n - this.done, null, (err, w) => {
      this.writing = false;
      if (this.stopped) {
        this.dropQueue();
        this.wake();
        return;
      }
      if (err) {
        this.error = err;
        this.dropQueue();
        this.wake();
        return;
      }
      this.done += w;
      if (this.done < n) return this.pump();
      this.queue.shift();
      this.lens.shift();
      this.done = 0;
      this.backlog -= n;
      if (b.length === POOL_CHUNK && this.free.length < POOL_KEEP) this.free.push(b);
      this.wrote(n);
      if (this.queue.length > 0 && this.error === null) this.pump();
      else this.wake();
    });
  }

  private dropQueue(): void {
    // The chunk being written (if any) stays until its callback.
    const keep = this.writing ? 1 : 0;
    this.queue.length = keep;
    this.lens.length = keep;
    if (keep === 0) this.done = 0;
    this.backlog = keep === 1 ? this.lens[0] - this.done : 0;
  }

  /** Background writes: drops the chunks not written yet and ignores later ones (a cancelled save). */
  abort(): void {
    this.stopped = true;
    this.dropQueue();
  }

  private get idle(): boolean {
    return !this.inFlight && !this.writing && this.queue.length === 0;
  }

  private wake(): void {
    if (!this.idle) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Runs fn once no write or incremental flush is in flight and nothing is
   * queued (before the final fsync or closing the fd, or to let a backlog drain).
   */
  whenIdle(fn: () => void): void {
    if (this.idle) fn();
    else this.waiters.push(fn);
  }
}

/** The auto-sync mode for a save: off when the directive is no, else sync or async as the save runs. */
export function autoSyncMode(enabled: boolean, background: boolean): AutoSync {
  return !enabled ? 'off' : background ? 'async' : 'sync';
}
