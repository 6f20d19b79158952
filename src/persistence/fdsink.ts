// A file sink for snapshots (RDB saves, AOF rewrites) with Valkey's
// incremental fsync (rdb-save-incremental-fsync, aof-rewrite-incremental-fsync):
// every AUTOSYNC_BYTES written, the file is flushed to disk so dirty pages do
// not pile up and the final fsync has little left to do (rioSetAutoSync with
// REDIS_AUTOSYNC_BYTES). A synchronous save (SAVE) flushes in place; a sliced
// background one asks the libuv pool and goes on writing meanwhile (at most
// one flush in flight), and waits for it (whenIdle) before the final fsync
// or close.
import { fdatasync, fdatasyncSync, writeSync } from 'node:fs';

/** Valkey's REDIS_AUTOSYNC_BYTES: 4 MB. */
export const AUTOSYNC_BYTES = 4 * 1024 * 1024;

export type AutoSync = 'off' | 'sync' | 'async';

export class FdSink {
  /** Bytes written since the last flush started. */
  private unsynced = 0;
  private inFlight = false;
  private waiters: (() => void)[] = [];
  /** Incremental flushes done or started (tests, stats). */
  syncs = 0;

  constructor(
    private readonly fd: number,
    private readonly autosync: AutoSync = 'off',
    private readonly every = AUTOSYNC_BYTES,
  ) {}

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    if (this.autosync === 'off') return;
    this.unsynced += chunk.length;
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
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  /** Runs fn once no incremental flush is in flight (before the final fsync or closing the fd). */
  whenIdle(fn: () => void): void {
    if (this.inFlight) this.waiters.push(fn);
    else fn();
  }
}

/** The auto-sync mode for a save: off when the directive is no, else sync or async as the save runs. */
export function autoSyncMode(enabled: boolean, background: boolean): AutoSync {
  return !enabled ? 'off' : background ? 'async' : 'sync';
}
