// RDB persistence for a running server: SAVE, fork-less BGSAVE (an RdbSnapshot
// serialized in time slices between commands), save points driven by the cron,
// loading at start-up, INFO persistence fields and the MISCONF write stop.
import { close, closeSync, fsync, fsyncSync, openSync, readFileSync, rename, renameSync, unlinkSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import type { Command } from '../commands/table.js';
import type { Value } from '../keyspace/types.js';
import { clock, type KeyspaceState } from '../keyspace/db.js';
import { KeyTable } from '../data/keytable.js';
import { lfuDecrAndReturn } from '../keyspace/evict.js';
import { forEachWrittenKey } from '../server/watch.js';
import { RdbSnapshot, type RdbSink } from './rdb/snapshot.js';
import { loadRdb, RdbLoader, type LoadResult, type LoadTarget } from './rdb/file.js';
import { RdbError } from './rdb/format.js';
import { collectAfterLoad } from './fullgc.js';
import { crcInWorker, readFileShared } from './rdb/crc-parallel.js';
import type { LoadLimits } from './rdb/decoder.js';
import { REDIS_COMPAT_VERSION } from '../server/server.js';
import { rdbPreamble } from './aof/aof.js';
import { preambleHooks } from './aof/preamble.js';
import { AUTOSYNC_BYTES, FdSink, autoSyncMode } from './fdsink.js';
import { serverPath } from './paths.js';
import { libraryCodes, loadLibraryCode } from '../scripting/index.js';
import { HashObject } from '../data/hash.js';
import { trackVolatileHash } from '../commands/hash.js';

/** Seconds before a failed BGSAVE may be retried by the save points (Valkey's CONFIG_BGSAVE_RETRY_DELAY). */
const BGSAVE_RETRY_DELAY = 5;
/**
 * Time slice of a background save, in ms: clients wait at most about this
 * long for a slice to end (GET p99 during BGSAVE).
 */
const SLICE_MS = 0.5;
/** A background save pauses while more than this many bytes wait for the disk. */
const MAX_BACKLOG = 8 * 1024 * 1024;

export const LOADING_ERR = 'LOADING Valkey is loading the dataset in memory';

export const MISCONF_RDB =
  "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error.";

/**
 * The clock of a loaded or restored key (Valkey's objectSetLRUOrLFU): under an
 * LFU maxmemory-policy the FREQ counter (else the initial one), otherwise the
 * LRU clock moved back by the IDLE seconds (else now).
 */
export function keyClockFor(ks: KeyspaceState, idle: number, freq: number): number {
  if (ks.lfu !== null) return freq >= 0 ? (((clock.ms / 60000) & 0xffff) << 8) | (freq & 0xff) : clock.lfuInit;
  return idle >= 0 ? (clock.lru - Math.min(idle, 0xffffff)) & 0xffffff : clock.lru;
}

/** What a file save records of each key's clock under a maxmemory-policy (Valkey: IDLE for LRU, FREQ for LFU). */
export function keyClockSaving(policy: string, ks: KeyspaceState): { op: 'idle' | 'freq'; of: (clk: number) => number } | null {
  if (policy.endsWith('-lru')) return { op: 'idle', of: (clk) => (clock.lru - clk) & 0xffffff };
  if (policy.endsWith('-lfu')) return { op: 'freq', of: (clk) => lfuDecrAndReturn(clk, ks) };
  return null;
}

/** Encoding thresholds for loaded values, from the config. */
export function loadLimits(server: Server): LoadLimits {
  const cfg = server.config;
  return {
    listFill: cfg.num('list-max-listpack-size'),
    hashEntries: cfg.num('hash-max-listpack-entries'),
    hashValue: cfg.num('hash-max-listpack-value'),
    zsetEntries: cfg.num('zset-max-listpack-entries'),
    zsetValue: cfg.num('zset-max-listpack-value'),
    set: {
      intsetEntries: cfg.num('set-max-intset-entries'),
      listpackEntries: cfg.num('set-max-listpack-entries'),
      listpackValue: cfg.num('set-max-listpack-value'),
    },
  };
}

/** AUX fields Vireo writes, like Valkey's rdbSaveInfoAuxFields. */
export function auxFields(server: Server, aofBase = false): [string, string | number][] {
  return [
    ['redis-ver', REDIS_COMPAT_VERSION],
    ['redis-bits', 64],
    ['ctime', Math.floor(Date.now() / 1000)],
    ['used-mem', server.usedMemory],
    ['aof-base', aofBase ? 1 : 0],
  ];
}

/** Registers a snapshot so write commands copy keys it has not written yet (see RdbSnapshot). */
export function addSnapshot(server: Server, s: RdbSnapshot): void {
  server.snapshots.push(s);
}

export function removeSnapshot(server: Server, s: RdbSnapshot): void {
  const i = server.snapshots.indexOf(s);
  if (i >= 0) server.snapshots.splice(i, 1);
}

/** Server.call hook, only while a snapshot runs: copy the keys a write command may touch. */
export function snapshotBeforeWrite(server: Server, c: Client, cmd: Command, argv: string[]): void {
  const snaps = server.snapshots;
  forEachWrittenKey(c, cmd, argv, (db, key) => {
    for (let i = 0; i < snaps.length; i++) snaps[i].beforeWrite(db, key);
  });
}

/** fsync of a directory (makes a rename durable); ignored where unsupported. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported here */
  }
}

interface BgSave {
  snap: RdbSnapshot;
  sink: FdSink;
  fd: number;
  tmp: string;
  startMs: number;
  dirtyAtStart: number;
  timer: NodeJS.Immediate | NodeJS.Timeout | null;
}

export class RdbManager {
  lastSave: number;
  private statusOk = true;
  /**
   * The persistence gate the dispatcher tests before running a write or PING
   * (Valkey's writeCommandsDeniedByDiskError): up after a failed RDB save or
   * while the AOF cannot write; diskError() then says whether and how to refuse.
   */
  diskGate = false;
  /** Set by the AOF while its writes or fsyncs fail: "MISCONF Errors writing to the AOF file: <reason>". */
  private aofError: string | null = null;
  lastBgsaveTry = 0;
  lastBgsaveTimeSec = -1;
  saves = 0;
  scheduled = false;
  lastCowSize = 0;
  current: BgSave | null = null;
  private isLoading = false;
  private loader: RdbLoader | null = null;
  private loadT0 = 0;
  private loadFileName = '';
  loadStartTime = 0;
  loadTotalBytes = 0;
  loadLoadedBytes = 0;
  loadLoadedKeys = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  private lastProgressLog = 0;
  /** Called when a background save ends (ok or not); AOF or tests may listen. */
  onBgsaveDone: ((ok: boolean) => void) | null = null;

  constructor(private readonly server: Server) {
    this.lastSave = Math.floor(Date.now() / 1000);
  }

  /** The file SAVE writes and start-up loads: dir + dbfilename (src/persistence/paths.ts). */
  path(): string {
    return serverPath(this.server, this.server.config.get('dbfilename'));
  }

  saveParams(): [number, number][] {
    const s = this.server.config.get('save').trim();
    if (s === '') return [];
    const parts = s.split(/\s+/).map(Number);
    const out: [number, number][] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
    return out;
  }

  get lastBgsaveStatusOk(): boolean {
    return this.statusOk;
  }

  set lastBgsaveStatusOk(v: boolean) {
    this.statusOk = v;
    this.diskGate = !v || this.aofError !== null;
  }

  /** True while the dataset loads at start-up: commands without the `loading` flag get -LOADING. */
  get loading(): boolean {
    return this.isLoading;
  }

  set loading(v: boolean) {
    this.isLoading = v;
  }

  /** The AOF's write state: its -MISCONF text while writes or fsyncs fail, null once they work again. */
  setAofError(msg: string | null): void {
    this.aofError = msg;
    this.diskGate = !this.statusOk || msg !== null;
  }

  /**
   * The -MISCONF error refusing writes (and PING), or null: a failed RDB save
   * first (when stop-writes-on-bgsave-error is on and save points are set),
   * then an AOF write error, in Valkey's order.
   */
  diskError(): string | null {
    if (!this.statusOk) {
      const cfg = this.server.config;
      if (cfg.bool('stop-writes-on-bgsave-error') && cfg.get('save').trim() !== '') return MISCONF_RDB;
    }
    return this.aofError;
  }

  private newSnapshot(sink: RdbSink): RdbSnapshot {
    const cfg = this.server.config;
    return new RdbSnapshot(this.server.dbs, sink, {
      aux: auxFields(this.server),
      compress: cfg.bool('rdbcompression'),
      checksum: cfg.bool('rdbchecksum'),
      keyClock: keyClockSaving(cfg.get('maxmemory-policy'), this.server.keyspace),
      functions: libraryCodes(this.server),
    });
  }

  /** Writes the dataset to `file` synchronously (temp file, fsync, rename, fsync dir). Throws on error. */
  writeFileSync(file: string): void {
    const tmp = resolve(dirname(file), `temp-${process.pid}.rdb`);
    const fd = openSync(tmp, 'w');
    try {
      const snap = this.newSnapshot(new FdSink(fd, autoSyncMode(this.server.config.bool('rdb-save-incremental-fsync'), false)));
      snap.step(Infinity);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        /* gone */
      }
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, file);
    fsyncDir(dirname(file));
  }

  /** SAVE (and SHUTDOWN's save, DEBUG RELOAD, FLUSHALL with save points): true on success. */
  save(): boolean {
    try {
      this.writeFileSync(this.path());
    } catch (e) {
      this.server.log.warning(`Failed saving the DB: ${(e as Error).message}`);
      this.lastBgsaveStatusOk = false;
      return false;
    }
    this.server.log.notice('DB saved on disk');
    this.server.dirty = 0;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveStatusOk = true;
    this.saves++;
    return true;
  }

  /** Starts a background save; false (and logs) when the temp file cannot be created. */
  bgsave(): boolean {
    if (this.current !== null) return false;
    let tmp = `temp-${process.pid}-bg.rdb`;
    let fd: number;
    this.lastBgsaveTry = Math.floor(Date.now() / 1000);
    try {
      tmp = resolve(dirname(this.path()), tmp);
      fd = openSync(tmp, 'w');
    } catch (e) {
      this.server.log.warning(`Failed opening the temp RDB file ${tmp} for saving: ${(e as Error).message}`);
      this.lastBgsaveStatusOk = false;
      return false;
    }
    // File writes go to the libuv pool: the event loop never waits for the disk.
    const sink = new FdSink(fd, autoSyncMode(this.server.config.bool('rdb-save-incremental-fsync'), true), AUTOSYNC_BYTES, 'pool');
    const snap = this.newSnapshot(sink);
    this.current = { snap, sink, fd, tmp, startMs: Date.now(), dirtyAtStart: this.server.dirty, timer: null };
    addSnapshot(this.server, snap);
    this.server.log.notice('Background saving started');
    this.scheduleSlice();
    return true;
  }

  private scheduleSlice(): void {
    const cur = this.current!;
    const delay = this.server.config.num('rdb-key-save-delay');
    if (delay > 0) cur.timer = setTimeout(() => this.slice(), Math.max(1, Math.floor(delay / 1000)));
    else cur.timer = setImmediate(() => this.slice());
  }

  private slice(): void {
    const cur = this.current;
    if (cur === null) return;
    cur.timer = null;
    if (cur.sink.error !== null) {
      this.finishBgsave(false, cur.sink.error.message);
      return;
    }
    if (cur.sink.backlog > MAX_BACKLOG) {
      // The disk is slower than the snapshot: go on once it caught up.
      cur.sink.whenIdle(() => {
        if (this.current === cur) this.scheduleSlice();
      });
      return;
    }
    let done: boolean;
    try {
      // rdb-key-save-delay (microseconds per key, a testing aid): a slice every
      // 1 ms (or more for a longer delay) writes at most the keys that delay allows.
      const delay = this.server.config.num('rdb-key-save-delay');
      done = delay > 0 ? cur.snap.step(SLICE_MS, Math.max(1, Math.floor(1000 / delay))) : cur.snap.step(SLICE_MS);
    } catch (e) {
      this.finishBgsave(false, (e as Error).message);
      return;
    }
    if (!done) {
      this.scheduleSlice();
      return;
    }
    // Everything is written: writes need no copying any more. fsync, close and
    // rename run on the libuv pool so the event loop keeps serving clients.
    removeSnapshot(this.server, cur.snap);
    const fd = cur.fd;
    cur.sink.whenIdle(() => {
      if (this.current !== cur) return; // cancelled meanwhile
      if (cur.sink.error !== null) return this.finishBgsave(false, cur.sink.error.message);
      fsync(fd, (err) => {
        if (this.current !== cur) return; // cancelled meanwhile
        if (err) return this.finishBgsave(false, err.message);
        close(fd, (err2) => {
          if (this.current !== cur) return;
          cur.fd = -1;
          if (err2) return this.finishBgsave(false, err2.message);
          let target: string;
          try {
            target = this.path();
          } catch (e) {
            return this.finishBgsave(false, (e as Error).message);
          }
          rename(cur.tmp, target, (err3) => {
            if (this.current !== cur) return;
            if (err3) {
              try {
                unlinkSync(cur.tmp);
              } catch {
                /* gone */
              }
              return this.finishBgsave(false, err3.message);
            }
            fsyncDir(dirname(target));
            this.finishBgsave(true, '');
          });
        });
      });
    });
  }

  private finishBgsave(ok: boolean, err: string): void {
    const cur = this.current!;
    removeSnapshot(this.server, cur.snap);
    cur.snap.abort();
    if (cur.timer !== null) {
      clearTimeout(cur.timer as NodeJS.Timeout);
      clearImmediate(cur.timer as NodeJS.Immediate);
    }
    cur.sink.abort();
    if (cur.fd >= 0) {
      const fd = cur.fd;
      cur.fd = -1;
      // Not while an incremental fdatasync still uses the descriptor.
      try {
        unlinkSync(cur.tmp);
      } catch {
        /* gone */
      }
      cur.sink.whenIdle(() => {
        try {
          closeSync(fd);
        } catch {
          /* closed */
        }
      });
    }
    this.current = null;
    this.lastBgsaveTimeSec = Math.floor((Date.now() - cur.startMs) / 1000);
    this.lastCowSize = cur.snap.cowBytes;
    if (ok) {
      this.server.log.notice('Background saving terminated with success');
      this.server.dirty -= cur.dirtyAtStart;
      if (this.server.dirty < 0) this.server.dirty = 0;
      this.lastSave = Math.floor(cur.startMs / 1000);
      this.lastBgsaveStatusOk = true;
      this.saves++;
    } else if (err !== '') {
      this.server.log.warning(`Background saving error: ${err}`);
      this.lastBgsaveStatusOk = false;
    } else {
      this.server.log.warning('Background saving terminated by signal');
    }
    this.onBgsaveDone?.(ok);
  }

  /** BGSAVE CANCEL / FLUSHALL: stops the running background save (no status change). */
  cancel(): void {
    if (this.current !== null) this.finishBgsave(false, '');
  }

  /** Set once SHUTDOWN decided about saving, so closing does not save again. */
  private shutdownDone = false;

  /**
   * SHUTDOWN's save: with SAVE, or with save points configured unless NOSAVE.
   * A running background save is stopped first. False when the save failed.
   */
  shutdownSave(save: boolean, nosave: boolean): boolean {
    this.cancel();
    // While loading, the dataset is partial: never saved (Valkey turns SAVE into NOSAVE).
    if (nosave || this.isLoading || (!save && this.saveParams().length === 0)) {
      this.shutdownDone = true;
      return true;
    }
    this.server.log.notice('Saving the final RDB snapshot before exiting.');
    if (!this.save()) return false;
    this.shutdownDone = true;
    return true;
  }

  /** Server.close(): the final save on SIGTERM/SIGINT (when SHUTDOWN did not already decide). */
  onClose(): void {
    if (this.shutdownDone) return;
    this.shutdownSave(false, false);
  }

  /**
   * FLUSHALL, as Valkey's flushAllDataAndResetRDB: a running background save is
   * stopped and, with save points set, the (empty) dataset is saved at once;
   * the FLUSHALL itself still counts as a change.
   */
  afterFlushAll(): void {
    this.cancel();
    if (this.saveParams().length === 0) return;
    this.save();
    this.server.dirty++;
  }

  /** Called from the server cron: scheduled BGSAVE and save points. */
  cron(): void {
    if (this.current !== null || this.loading) return;
    if (this.scheduled) {
      this.scheduled = false;
      this.bgsave();
      return;
    }
    const dirty = this.server.dirty;
    if (dirty === 0) return;
    const now = Math.floor(Date.now() / 1000);
    for (const [sec, changes] of this.saveParams()) {
      if (dirty >= changes && now - this.lastSave > sec && (now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY || this.lastBgsaveStatusOk)) {
        this.server.log.notice(`${changes} changes in ${sec} seconds. Saving...`);
        this.bgsave();
        return;
      }
    }
  }

  /**
   * Start-up load, part 1 (before listening): reads the file and loads for up
   * to 100 ms. A bigger file goes on in finishStartupLoad() while clients get
   * -LOADING. Throws (the server exits) when the file is bad.
   */
  beginStartupLoad(): void {
    let file: string;
    try {
      file = this.path();
    } catch {
      return;
    }
    if (!existsSync(file)) return;
    const server = this.server;
    // In a SharedArrayBuffer: a worker checks a big file's CRC-64 while the keys load.
    const buf = readFileShared(file);
    this.loadT0 = performance.now();
    this.loadFileName = file;
    this.beginLoading(buf.length);
    const checksum = server.config.bool('rdbchecksum');
    const parallelCrc = checksum ? crcInWorker(buf, 0, buf.length - 8) : null;
    this.loader = this.wrapLoad(() => new RdbLoader(buf, this.loadTarget(), { limits: loadLimits(server), now: Date.now(), checksum, parallelCrc }));
    this.stepLoad(100, this.loadKeysPerSlice());
  }

  /** key-load-delay (microseconds per key, a testing aid): keys per 1 ms slice, or no limit. */
  private loadKeysPerSlice(): number {
    const delay = this.server.config.num('key-load-delay');
    return delay > 0 ? Math.max(1, Math.floor(1000 / delay)) : Infinity;
  }

  /** A start-up load (this RDB or the AOF) begins: -LOADING replies and INFO loading_* fields until endLoading(). */
  beginLoading(totalBytes: number): void {
    this.loadStartTime = Math.floor(Date.now() / 1000);
    this.loadTotalBytes = totalBytes;
    this.loadLoadedBytes = 0;
    this.loadLoadedKeys = 0;
    this.lastProgressLog = Date.now();
    this.loading = true;
  }

  endLoading(): void {
    this.loading = false;
  }

  /** Start-up load, part 2: loads the rest in slices between events; resolves when done. */
  finishStartupLoad(): Promise<void> {
    if (this.loader === null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        try {
          // With key-load-delay, a slice every 1 ms (or longer, for a longer delay).
          const delay = this.server.config.num('key-load-delay');
          if (this.stepLoad(10, this.loadKeysPerSlice())) {
            // The loader (and its file buffer) is unreferenced now: free it before the next client event.
            collectAfterLoad(this.loadTotalBytes);
            resolve();
          }
          else if (delay > 0) setTimeout(tick, Math.max(1, Math.floor(delay / 1000)));
          else setImmediate(tick);
        } catch (e) {
          reject(e);
        }
      };
      setImmediate(tick);
    });
  }

  private wrapLoad<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.loading = false;
      this.loader = null;
      if (!(e instanceof RdbError)) throw e;
      this.server.log.warning(`Internal error in RDB reading offset ${e.offset} -> ${e.message}`);
      throw new Error(`Fatal error loading the DB (${this.loadFileName}): ${e.message}. Exiting.`);
    }
  }

  /** One slice of the start-up load; true when finished. */
  private stepLoad(budgetMs: number, maxKeys: number): boolean {
    const l = this.loader;
    if (l === null) return true;
    if (!this.wrapLoad(() => l.step(budgetMs, maxKeys))) return false;
    this.loader = null;
    this.loading = false;
    this.loadDone(l.result, this.loadT0);
    return true;
  }

  private loadDone(res: LoadResult, t0: number): void {
    const server = this.server;
    this.lastLoadKeysLoaded = res.keys;
    this.lastLoadKeysExpired = res.expired;
    const ver = res.aux.get('valkey-ver') ?? res.aux.get('redis-ver');
    if (ver !== undefined) server.log.notice(`Loading RDB produced by version ${ver}`);
    const ctime = res.aux.get('ctime');
    if (ctime !== undefined) server.log.notice(`RDB age ${Math.floor(Date.now() / 1000) - Number(ctime)} seconds`);
    server.log.notice(`Done loading RDB, keys loaded: ${res.keys}, keys expired: ${res.expired}.`);
    server.log.notice(`DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
  }

  /** Loads the RDB file (dir + dbfilename) through `target` (DEBUG RELOAD). */
  loadFileInto(target: LoadTarget): LoadResult {
    let buf: Buffer | null = readFileSync(this.path());
    const size = buf.length;
    const res = loadRdb(buf, target, { limits: loadLimits(this.server), now: Date.now(), checksum: this.server.config.bool('rdbchecksum') });
    buf = null;
    collectAfterLoad(size);
    this.lastLoadKeysLoaded = res.keys;
    this.lastLoadKeysExpired = res.expired;
    return res;
  }

  /** A LoadTarget that stores keys in the server's databases. */
  loadTarget(): LoadTarget & { add: LoadTarget['add'] } {
    const server = this.server;
    const mgr = this;
    const fresh = server.dbs.map((d) => d.dict.size === 0);
    return {
      dbCount: server.dbs.length,
      add(db: number, key: string, v: Value, expire: number | bigint, idle: number, freq: number): void {
        const d = server.dbs[db];
        if (fresh[db]) {
          // A database empty when the load began: one probe; a key seen twice leaves the size unchanged (the load fails).
          const size = d.dict.size;
          d.dict.set(key, v, keyClockFor(server.keyspace, idle, freq));
          if (d.dict.size === size) throw new RdbError(`Duplicate key '${key}' in RDB file`);
        } else {
          if (d.dict.find(key) >= 0) throw new RdbError(`Duplicate key '${key}' in RDB file`);
          d.dict.set(key, v, keyClockFor(server.keyspace, idle, freq));
        }
        if (expire !== -1 && expire !== -1n) {
          if (typeof expire === 'bigint') d.setExpireExact(key, expire);
          else d.setExpire(key, expire);
        }
        // Hash fields with TTLs join active field expiry, as after HEXPIRE (src/commands/hash.ts).
        if (v instanceof HashObject) trackVolatileHash(d, key, v);
        mgr.loadLoadedKeys++;
      },
      resize(db: number, size: number): void {
        // RESIZEDB: an empty database gets its table sized once (no rehash while loading).
        const d = server.dbs[db];
        if (d.dict.size === 0 && size > 1024) {
          const n = Math.min(size, 1 << 22);
          d.dict = new KeyTable<Value>(n);
          d.dict.reserve(n);
        }
      },
      warn(msg: string): void {
        server.log.warning(msg);
      },
      library(code: string, offset: number): void {
        const err = loadLibraryCode(server, code);
        if (err !== null) throw new RdbError(`Failed loading library, ${err}`, offset);
      },
      progress(off: number): void {
        mgr.loadLoadedBytes = off;
        const now = Date.now();
        if (now - mgr.lastProgressLog >= 2000 && mgr.loadTotalBytes > 0) {
          mgr.lastProgressLog = now;
          server.log.notice(`Loading RDB: ${((off * 100) / mgr.loadTotalBytes).toFixed(0)}% (${mgr.loadLoadedKeys} keys)`);
        }
      },
    };
  }

  /** INFO loading_* fields, shown while loading, at the end of the section as Valkey does. */
  loadingFields(): [string, string | number][] {
    if (!this.isLoading) return [];
    const elapsed = Math.max(1, Math.floor(Date.now() / 1000) - this.loadStartTime);
    const perc = this.loadTotalBytes > 0 ? (this.loadLoadedBytes * 100) / this.loadTotalBytes : 0;
    const eta = this.loadLoadedBytes > 0 ? Math.round(((this.loadTotalBytes - this.loadLoadedBytes) * elapsed) / this.loadLoadedBytes) : 1;
    return [
      ['loading_start_time', this.loadStartTime],
      ['loading_total_bytes', this.loadTotalBytes],
      ['loading_rdb_used_mem', 0],
      ['loading_loaded_bytes', this.loadLoadedBytes],
      ['loading_loaded_perc', perc.toFixed(2)],
      ['loading_eta_seconds', eta],
    ];
  }

  /** INFO persistence fields for RDB (Valkey's names and meaning). */
  infoFields(): [string, string | number][] {
    const cur = this.current;
    const now = Date.now();
    return [
      ['loading', this.loading ? 1 : 0],
      ['async_loading', this.server.repl.asyncLoading ? 1 : 0],
      ['current_cow_peak', 0],
      ['current_cow_size', cur !== null ? cur.snap.cowBytes : 0],
      ['current_cow_size_age', 0],
      ['current_fork_perc', cur !== null && cur.snap.keysTotal > 0 ? ((cur.snap.keysProcessed * 100) / cur.snap.keysTotal).toFixed(2) : '0.00'],
      ['current_save_keys_processed', cur !== null ? cur.snap.keysProcessed : 0],
      ['current_save_keys_total', cur !== null ? cur.snap.keysTotal : 0],
      ['rdb_changes_since_last_save', this.server.dirty],
      ['rdb_bgsave_in_progress', cur !== null ? 1 : 0],
      ['rdb_last_save_time', this.lastSave],
      ['rdb_last_bgsave_status', this.lastBgsaveStatusOk ? 'ok' : 'err'],
      ['rdb_last_bgsave_time_sec', this.lastBgsaveTimeSec],
      ['rdb_current_bgsave_time_sec', cur !== null ? Math.floor((now - cur.startMs) / 1000) : -1],
      ['rdb_saves', this.saves],
      ['rdb_last_cow_size', this.lastCowSize],
      ['rdb_last_load_keys_expired', this.lastLoadKeysExpired],
      ['rdb_last_load_keys_loaded', this.lastLoadKeysLoaded],
    ];
  }
}

// ------------------------------------------------------------------ AOF base file in RDB form

/** The whole dataset as an RDB image, in one synchronous pass (AOF base file). */
export function rdbImage(server: Server, aofBase = true): Buffer[] {
  const chunks: Buffer[] = [];
  const snap = new RdbSnapshot(server.dbs, { write: (b) => chunks.push(Buffer.from(b)) }, {
    aux: auxFields(server, aofBase),
    compress: server.config.bool('rdbcompression'),
    checksum: server.config.bool('rdbchecksum'),
    functions: libraryCodes(server),
  });
  snap.step(Infinity);
  return chunks;
}

/**
 * A sliced load of an RDB image (an AOF base or preamble) into the databases:
 * step(ms) loads for about that long, `end` is where the RDB part ends.
 */
export function rdbImageLoader(server: Server, buf: Buffer, file: string, progress: (offset: number) => void): { step(budgetMs: number): boolean; readonly end: number } {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof RdbError) throw new Error(`Bad RDB data in ${file} at offset ${e.offset}: ${e.message}`);
      throw e;
    }
  };
  const target = server.rdb.loadTarget();
  target.progress = progress;
  const l = wrap(() => new RdbLoader(buf, target, { limits: loadLimits(server), now: Date.now(), checksum: server.config.bool('rdbchecksum') }));
  return {
    step: (ms: number) => wrap(() => l.step(ms)),
    get end() {
      return l.result.end;
    },
  };
}

rdbPreamble.load = rdbImageLoader;
rdbPreamble.save = (server: Server) => rdbImage(server, true);
preambleHooks.available = true;
