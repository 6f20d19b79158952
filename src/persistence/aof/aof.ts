// The append-only file: a consumer of the propagation stream that writes every
// effective write to the current incremental file of a Valkey 7+/8 multi-part
// AOF (base + incr files + manifest in appenddirname), loads it at start-up,
// and rewrites it without fork (BGREWRITEAOF, auto-aof-rewrite-*, turning
// appendonly on at run time).
//
// Write path, like Valkey's feedAppendOnlyFile + flushAppendOnlyFile:
//  - feed() encodes each unit of the stream into a pending buffer (SELECT when
//    the database changes, #TS annotations with aof-timestamp-enabled).
//  - flush() writes the buffer with one write(2) before any client reply
//    leaves (Client.flush calls it when bufLen is non-zero), and once per
//    event-loop turn otherwise. With appendfsync always it also fdatasyncs
//    before returning, so a reply is never sent before its write is durable;
//    clients that read in the same turn share one fsync (their replies wait
//    for the turn's flushPending, Valkey's beforeSleep).
//  - everysec: a timer fdatasyncs in the thread pool once a second.
//  - A failed write keeps the data, refuses writes with -MISCONF (server.rdb.setAofError, the persistence gate)
//    and is retried every second until it succeeds (appendfsync always exits,
//    as Valkey does).
//
// Rewrite without fork: a new incremental file takes the writes at once, and a
// point-in-time snapshot of the dataset (RdbSnapshot, or AofSnapshot for the
// AOF form) is written to a temp base file in ~3 ms slices between commands, a
// key being serialized before a write touches it (server.snapshots); the base
// is fsynced and renamed, then the manifest is swapped atomically (temp file,
// fsync, rename, dir fsync) and the old generation is deleted.
import fs from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Server } from '../../server/server.js';
import { encodeUnit, type PropagatedOp, type PropagationTarget } from '../../server/propagate.js';
import { errText } from '../../config/config.js';
import {
  emptyManifest,
  parseManifest,
  formatManifest,
  baseName,
  incrName,
  manifestName,
  tempManifestName,
  type Manifest,
  type AofFileInfo,
} from './manifest.js';
import { AofFatal, AofFileLoader, type RdbPartLoader } from './loader.js';
import { rewriteDataset, AofSnapshot, CommandSink } from './rewrite.js';
import { RdbSnapshot } from '../rdb/snapshot.js';
import { REDIS_COMPAT_VERSION } from '../../server/server.js';
import { libraryCodes } from '../../scripting/index.js';
import { FdSink, autoSyncMode } from '../fdsink.js';
import { serverPath } from '../paths.js';

/** Time slice of a background rewrite in RDB form, in ms (as BGSAVE's). */
const SLICE_MS = 3;

const enum Fsync {
  Always = 0,
  EverySec = 1,
  No = 2,
}

export { AofFatal };

/**
 * Loader for an RDB preamble (a base file in RDB form). Set by the RDB module
 * when it is available; null means such a base cannot be read.
 */
export const rdbPreamble: {
  /** Starts a sliced load of the RDB part of buf (an old-style file may go on with AOF commands after it). */
  load: RdbPartLoader | null;
  /** Serializes the dataset as an RDB file (for aof-use-rdb-preamble yes). */
  save: ((server: Server) => Buffer[]) | null;
} = { load: null, save: null };

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* some file systems refuse fsync on directories */
  }
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}

export class Aof implements PropagationTarget {
  /** PROPAGATE_AOF (src/server/propagate.ts): ops a script sent only to replicas (redis.set_repl) skip the AOF. */
  readonly propagationKind = 1;
  /** appendonly is in effect (Valkey's aof_state != AOF_OFF). */
  on = false;
  /** Turned on at run time, waiting for the first rewrite (AOF_WAIT_REWRITE). */
  waitRewrite = false;
  private fd = -1;
  /** Encoded commands not yet written. */
  private pending: Buffer[] = [];
  bufLen = 0;
  /** With appendfsync always: replies wait for the turn's write+fsync. */
  holdReplies = false;
  private readonly sel = { db: -1 };
  private manifest: Manifest = emptyManifest();
  /** appenddirname; dirPath is it resolved against the server's dir (src/persistence/paths.ts). */
  private dirName = '';
  private get dirPath(): string {
    return serverPath(this.server, this.dirName);
  }
  private fname = 'appendonly.aof';
  /** Name of the incr file being appended to (temp name while waiting for the first rewrite). */
  private incrFile = '';
  /** Bytes in the current incr file. */
  private incrSize = 0;
  /** Bytes in the other files of the manifest (base and older incr files). */
  private otherSize = 0;
  /** Size right after the last rewrite (auto-aof-rewrite-percentage's base). */
  private rewriteBaseSize = 0;
  private baseSize = 0;
  private policy = Fsync.EverySec;
  private timestamps = false;
  private lastTs = 0;
  private noFsyncOnRewrite = false;
  private flushScheduled = false;
  private readonly flushCb = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  private timer: NodeJS.Timeout | null = null;
  private unsynced = false;
  private fsyncInFlight = false;
  private retired: number[] = [];
  // Status (INFO persistence).
  lastWriteOk = true;
  private lastWriteErr = '';
  private fsyncOk = true;
  rewriting = false;
  rewriteScheduled = false;
  private rewriteStartMs = 0;
  private lastRewriteSec = -1;
  private lastRewriteOk = true;
  private rewrites = 0;
  private consecutiveFailures = 0;
  private delayedFsync = 0;
  /** Bytes copied before writes during the last RDB-form rewrite (what a fork's copy-on-write would have cost). */
  private lastCowSize = 0;
  /** Bumped when a rewrite must be abandoned (appendonly no while it runs). */
  private generation = 0;
  private rewriteSeq = 0;
  // WAITAOF (Valkey's fsynced_reploff): what the last write covered, and what is known fsynced.
  /** Bytes fed to the AOF since start (monotonic; a local WAITAOF waits for the count at its call). */
  fedBytes = 0;
  private writtenBytes = 0;
  private writtenReploff = 0;
  private syncedBytes = 0;
  private syncedReploff = 0;

  constructor(private readonly server: Server) {}

  /** Everything written is fsynced and nothing waits to be written (never with appendfsync no). */
  private allSynced(): boolean {
    return this.policy !== Fsync.No && this.bufLen === 0 && !this.unsynced && !this.fsyncInFlight && this.lastWriteOk;
  }

  /** Replication offset up to which the AOF is fsynced (REPLCONF ACK ... FACK); -1 when the AOF is off. */
  get fsyncedReploff(): number {
    if (!this.on || this.waitRewrite) return -1;
    return this.allSynced() ? Math.max(this.syncedReploff, this.server.repl.offset) : this.syncedReploff;
  }

  /** True when the first `bytes` bytes fed to the AOF are fsynced (local WAITAOF). */
  fsyncedUpTo(bytes: number): boolean {
    if (!this.on || this.waitRewrite) return false;
    return this.allSynced() || this.syncedBytes >= bytes;
  }

  private markFsynced(bytes: number, reploff: number): void {
    if (bytes > this.syncedBytes) this.syncedBytes = bytes;
    if (reploff > this.syncedReploff) this.syncedReploff = reploff;
    this.server.repl.aofFsynced();
  }

  private readConfig(): void {
    const cfg = this.server.config;
    this.fname = cfg.get('appendfilename');
    this.dirName = cfg.get('appenddirname');
    const p = cfg.get('appendfsync');
    this.policy = p === 'always' ? Fsync.Always : p === 'no' ? Fsync.No : Fsync.EverySec;
    this.timestamps = cfg.bool('aof-timestamp-enabled');
    this.noFsyncOnRewrite = cfg.bool('no-appendfsync-on-rewrite');
    this.holdReplies = this.on && this.policy === Fsync.Always;
  }

  // ------------------------------------------------------------ stream target

  feed(ops: PropagatedOp[]): void {
    let unit = ops;
    for (let i = 0; i < ops.length; i++) {
      const a0 = ops[i].argv[0];
      if (a0.length === 7 || a0.length === 8) {
        const n = a0.toString().toLowerCase();
        if (n === 'publish' || n === 'spublish') {
          // PUBLISH reaches replicas only (Valkey propagates it with PROPAGATE_REPL).
          unit = ops.filter((o) => {
            const m = o.argv[0].toString().toLowerCase();
            return m !== 'publish' && m !== 'spublish';
          });
          if (unit.length === 0) return;
          break;
        }
      }
    }
    if (this.timestamps) {
      const s = Math.floor(Date.now() / 1000);
      if (s !== this.lastTs) {
        this.lastTs = s;
        this.push(Buffer.from(`#TS:${s}\r\n`, 'latin1'));
      }
    }
    this.push(encodeUnit(unit, this.sel));
  }

  private push(b: Buffer): void {
    this.pending.push(b);
    this.bufLen += b.length;
    this.fedBytes += b.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushCb);
    }
  }

  /** Writes the pending buffer (and fsyncs with appendfsync always). Called before replies leave. */
  flush(): void {
    if (this.bufLen === 0 || this.fd < 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.bufLen);
    let written = 0;
    try {
      while (written < data.length) written += fs.writeSync(this.fd, data, written, data.length - written);
    } catch (e) {
      this.writeFailed(e, data, written);
      return;
    }
    this.pending = [];
    this.bufLen = 0;
    this.incrSize += written;
    this.unsynced = true;
    this.writtenBytes = this.fedBytes;
    this.writtenReploff = this.server.repl.offset;
    if (!this.lastWriteOk) {
      this.server.log.warning('AOF write error looks solved, Vireo can write again.');
      this.lastWriteOk = true;
      this.updateMisconf();
    }
    if (this.policy === Fsync.Always && !(this.noFsyncOnRewrite && this.rewriting)) {
      try {
        fs.fdatasyncSync(this.fd);
      } catch (e) {
        this.server.log.warning(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${errText(e)}. Exiting...`);
        process.exit(1);
      }
      this.unsynced = false;
      this.markFsynced(this.writtenBytes, this.writtenReploff);
    }
  }

  private writeFailed(e: unknown, data: Buffer, written: number): void {
    const log = this.server.log;
    if (written > 0) {
      // Cut the partial command off so the file stays loadable; if that fails, keep it and drop it from the buffer.
      try {
        fs.ftruncateSync(this.fd, this.incrSize);
        written = 0;
      } catch {
        this.incrSize += written;
      }
    }
    const rest = data.subarray(written);
    this.pending = [rest];
    this.bufLen = rest.length;
    const msg = errText(e);
    if (this.policy === Fsync.Always) {
      log.warning(`Error writing to the AOF file: ${msg}`);
      log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      process.exit(1);
    }
    if (this.lastWriteOk || this.lastWriteErr !== msg) log.warning(`Error writing to the AOF file: ${msg}`);
    this.lastWriteOk = false;
    this.lastWriteErr = msg;
    this.updateMisconf();
  }

  private updateMisconf(): void {
    const rdb = this.server.rdb;
    if (this.on && !this.lastWriteOk) rdb.setAofError(`MISCONF Errors writing to the AOF file: ${this.lastWriteErr}`);
    else if (this.on && !this.fsyncOk) rdb.setAofError(`MISCONF Errors writing to the AOF file: ${this.lastWriteErr || 'fsync error'}`);
    else rdb.setAofError(null);
  }

  /** Once a second: everysec fsync, retrying a failed write, automatic rewrites. */
  private tick(): void {
    if (!this.lastWriteOk) this.flush();
    if (this.fd >= 0 && this.unsynced && this.policy === Fsync.EverySec && !(this.noFsyncOnRewrite && this.rewriting)) {
      if (this.fsyncInFlight) {
        this.delayedFsync++;
      } else {
        this.fsyncInFlight = true;
        this.unsynced = false;
        const fd = this.fd;
        const wb = this.writtenBytes;
        const wr = this.writtenReploff;
        fs.fdatasync(fd, (err) => {
          this.fsyncInFlight = false;
          this.closeRetired();
          if (fd !== this.fd) return;
          if (err) {
            if (this.fsyncOk) this.server.log.warning(`Error trying to fsync the AOF file: ${errText(err)}`);
            this.fsyncOk = false;
            this.lastWriteErr = errText(err);
            this.unsynced = true;
          } else if (!this.fsyncOk) {
            this.server.log.notice('AOF fsync error looks solved, Vireo can write again.');
            this.fsyncOk = true;
          }
          if (!err) this.markFsynced(wb, wr);
          this.updateMisconf();
        });
      }
    }
    if (this.rewriteScheduled && !this.rewriting) {
      this.rewriteScheduled = false;
      this.startRewrite();
    } else if (this.on && !this.rewriting && !this.waitRewrite) {
      const cfg = this.server.config;
      const perc = cfg.num('auto-aof-rewrite-percentage');
      const size = this.otherSize + this.incrSize;
      if (perc > 0 && size > cfg.num('auto-aof-rewrite-min-size')) {
        const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
        const growth = Math.floor((size * 100) / base) - 100;
        if (growth >= perc) {
          this.server.log.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
          this.startRewrite();
        }
      }
    }
  }

  private closeRetired(): void {
    if (this.fsyncInFlight) return;
    for (const fd of this.retired) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.retired = [];
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  // ------------------------------------------------------------ files

  private path(name: string): string {
    return join(this.dirPath, name);
  }

  private persistManifest(m: Manifest): void {
    const tmp = this.path(tempManifestName(this.fname));
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, formatManifest(m));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.path(manifestName(this.fname)));
    fsyncDir(this.dirPath);
  }

  private openIncr(name: string): void {
    const fd = fs.openSync(this.path(name), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o644);
    if (this.fd >= 0) this.retireFd();
    this.fd = fd;
    this.incrFile = name;
    this.incrSize = fileSize(this.path(name));
    this.sel.db = -1;
    this.lastTs = 0;
  }

  /** Flushes, fsyncs and closes the current incr file (once no async fsync uses it). */
  private retireFd(): void {
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.fdatasyncSync(fd);
    } catch {
      /* reported by the write path */
    }
    this.retired.push(fd);
    this.closeRetired();
  }

  private deleteHistory(m: Manifest): void {
    if (m.history.length === 0) return;
    for (const h of m.history) {
      try {
        fs.unlinkSync(this.path(h.name));
        this.server.log.notice(`Removing the history file ${h.name} in the background`);
      } catch {
        /* already gone */
      }
    }
    m.history = [];
    try {
      this.persistManifest(m);
    } catch (e) {
      this.server.log.warning(`Error persisting the AOF manifest after removing history files: ${errText(e)}`);
    }
  }

  // ------------------------------------------------------------ start-up

  /** The start-up load in progress (files left to load, the current one first). */
  private loadJobs: { path: string; name: string; type: 'b' | 'i' | 'old'; last: boolean }[] = [];
  private loadCur: AofFileLoader | null = null;
  private loadDoneBytes = 0;
  private loadT0 = 0;
  private loadFileT0 = 0;
  private loadLastLog = 0;
  private loadMigrate = false;
  private loadManifest: Manifest | null = null;
  private loadPending = false;

  /**
   * Start-up, part 1 (before listening): reads the manifest and, with
   * appendonly yes, starts loading the AOF files for up to 100 ms. What is
   * left is loaded by finishStartup() in slices while clients get -LOADING.
   * Throws AofFatal.
   */
  startup(): void {
    const cfg = this.server.config;
    this.readConfig();
    if (!cfg.bool('appendonly')) return;
    const mpath = this.path(manifestName(this.fname));
    let m: Manifest | null = null;
    const jobs: typeof this.loadJobs = [];
    if (fs.existsSync(mpath)) {
      try {
        m = parseManifest(fs.readFileSync(mpath, 'latin1'));
      } catch (e) {
        throw new AofFatal(`${(e as Error).message} (manifest ${mpath})`);
      }
      const files: AofFileInfo[] = [];
      if (m.base !== null) files.push(m.base);
      files.push(...m.incr);
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        const p = this.path(f.name);
        if (!fs.existsSync(p)) throw new AofFatal(`The AOF file ${f.name} doesn't exist`);
        jobs.push({ path: p, name: f.name, type: f.type === 'b' ? 'b' : 'i', last: i === files.length - 1 });
      }
    } else if (fs.existsSync(serverPath(this.server, this.fname)) && fileSize(serverPath(this.server, this.fname)) > 0) {
      // An old-style single AOF file in `dir`: loaded, then moved into the AOF directory as the base.
      jobs.push({ path: serverPath(this.server, this.fname), name: this.fname, type: 'old', last: true });
      this.loadMigrate = true;
    }
    this.loadManifest = m;
    this.loadJobs = jobs;
    this.loadPending = true;
    if (jobs.length === 0) {
      this.endStartupLoad();
      return;
    }
    let total = 0;
    for (const j of jobs) total += fileSize(j.path);
    this.loadT0 = this.loadLastLog = performance.now();
    this.server.rdb.beginLoading(total);
    this.stepStartupLoad(100);
  }

  /** Start-up, part 2: loads the rest in slices between events, then opens the AOF for appending. */
  finishStartup(): Promise<void> {
    if (!this.loadPending) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        try {
          if (this.stepStartupLoad(10)) resolve();
          else setImmediate(tick);
        } catch (e) {
          reject(e);
        }
      };
      tick();
    });
  }

  /** One slice of the start-up load; true once done (and the AOF is open). */
  private stepStartupLoad(budgetMs: number): boolean {
    if (!this.loadPending) return true;
    const log = this.server.log;
    const rdbm = this.server.rdb;
    const t0 = performance.now();
    try {
      while (this.loadJobs.length > 0) {
        const job = this.loadJobs[0];
        if (this.loadCur === null) {
          this.loadFileT0 = performance.now();
          this.loadCur = new AofFileLoader(this.server, job.path, job.name, job.last, rdbPreamble.load);
        }
        const cur = this.loadCur;
        const left = budgetMs - (performance.now() - t0);
        const finished = left > 0 && cur.step(left);
        rdbm.loadLoadedBytes = this.loadDoneBytes + cur.loaded;
        const now = performance.now();
        if (now - this.loadLastLog >= 2000 && rdbm.loadTotalBytes > 0) {
          this.loadLastLog = now;
          log.notice(`Loading AOF: ${((rdbm.loadLoadedBytes * 100) / rdbm.loadTotalBytes).toFixed(0)}% (${this.server.dbs.reduce((n, d) => n + d.size, 0)} keys)`);
        }
        if (!finished) return false;
        this.loadDoneBytes += cur.size;
        this.loadCur = null;
        this.loadJobs.shift();
        const secs = ((performance.now() - this.loadFileT0) / 1000).toFixed(3);
        if (job.type !== 'old') log.notice(`DB loaded from ${job.type === 'b' ? 'base' : 'incr'} file ${job.name}: ${secs} seconds`);
        if (this.loadJobs.length === 0) log.notice(`DB loaded from append only file: ${((performance.now() - this.loadT0) / 1000).toFixed(3)} seconds`);
      }
      this.endStartupLoad();
    } catch (e) {
      this.loadCur?.close();
      this.loadCur = null;
      this.loadJobs = [];
      this.loadPending = false;
      rdbm.endLoading();
      throw e;
    }
    return true;
  }

  /** After loading: migrates an old-style file, creates the missing files and opens the last incr file. */
  private endStartupLoad(): void {
    const log = this.server.log;
    this.loadPending = false;
    let m = this.loadManifest;
    this.loadManifest = null;
    if (this.loadMigrate) {
      this.loadMigrate = false;
      fs.mkdirSync(this.dirPath, { recursive: true });
      fs.renameSync(serverPath(this.server, this.fname), this.path(this.fname));
      m = emptyManifest();
      m.base = { name: this.fname, seq: 1, type: 'b' };
      m.baseSeq = 1;
      this.persistManifest(m);
      log.notice(`Successfully migrated an old-style AOF into the AOF directory`);
    }
    this.manifest = m ?? emptyManifest();
    this.openOnStart();
    this.server.rdb.endLoading();
  }

  /** Creates the base and incr files when missing and opens the last incr file (Valkey's aofOpenIfNeededOnServerStart). */
  private openOnStart(): void {
    const log = this.server.log;
    const m = this.manifest;
    fs.mkdirSync(this.dirPath, { recursive: true });
    let changed = false;
    if (m.base === null && m.incr.length === 0) {
      const rdb = this.useRdbBase() && rdbPreamble.save !== null;
      const name = baseName(this.fname, 1, rdb);
      const chunks = rdb ? rdbPreamble.save!(this.server) : rewriteDataset(this.server, this.timestamps, libraryCodes(this.server)).finish();
      this.writeFileSync(this.path(name), chunks);
      m.base = { name, seq: 1, type: 'b' };
      m.baseSeq = 1;
      changed = true;
      log.notice(`Creating AOF base file ${name} on server start`);
    }
    if (m.incr.length === 0) {
      const seq = m.incrSeq + 1;
      const name = incrName(this.fname, seq);
      m.incr.push({ name, seq, type: 'i' });
      m.incrSeq = seq;
      changed = true;
      log.notice(`Creating AOF incr file ${name} on server start`);
    }
    const last = m.incr[m.incr.length - 1];
    this.openIncr(last.name);
    if (changed) this.persistManifest(m);
    fsyncDir(this.dirPath);
    this.baseSize = m.base !== null ? fileSize(this.path(m.base.name)) : 0;
    this.otherSize = this.baseSize;
    for (const f of m.incr) if (f !== last) this.otherSize += fileSize(this.path(f.name));
    this.rewriteBaseSize = this.otherSize + this.incrSize;
    // Left over by a crash: history files the manifest still lists, and the temp incr file
    // of an `appendonly yes` whose first rewrite did not finish.
    this.deleteHistory(m);
    fs.rmSync(this.path(`temp-${this.fname}.incr`), { force: true });
    this.attach();
  }

  private attach(): void {
    this.on = true;
    this.readConfig();
    this.server.prop.addTarget(this);
    this.startTimer();
  }

  private writeFileSync(path: string, chunks: Buffer[]): void {
    const fd = fs.openSync(path, 'w', 0o644);
    try {
      const sink = new FdSink(fd, autoSyncMode(this.server.config.bool('aof-rewrite-incremental-fsync'), false));
      for (const c of chunks) sink.write(c);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  // ------------------------------------------------------------ rewrite

  /** BGREWRITEAOF: null when started, else the error reply. */
  bgrewrite(): string | null {
    if (this.rewriting) return 'ERR Background append only file rewriting already in progress';
    return this.startRewrite() ? null : 'ERR Can\'t execute an AOF background rewriting. Please check the server logs for more information.';
  }

  /**
   * Snapshots the dataset now, switches appends to a new incr file and writes
   * the new base off the event loop. Returns false if it could not start.
   */
  private startRewrite(): boolean {
    const server = this.server;
    const log = server.log;
    this.readConfig();
    const t0 = Date.now();
    const gen = this.generation;
    const rdb = this.useRdbBase();
    let newIncr: AofFileInfo | null = null;
    try {
      fs.mkdirSync(this.dirPath, { recursive: true });
      if (this.fd < 0 && !this.waitRewrite && fs.existsSync(this.path(manifestName(this.fname)))) {
        // BGREWRITEAOF with appendonly off: continue the numbering of the existing manifest.
        try {
          this.manifest = parseManifest(fs.readFileSync(this.path(manifestName(this.fname)), 'latin1'));
        } catch {
          this.manifest = emptyManifest();
        }
      }
      // A snapshot taken now (below, right after the incr switch) is serialized in
      // time slices; a key is copied before a write touches it.
      if (this.on) {
        // Everything before the snapshot goes to the old incr file; what follows, to a new one.
        // What could not be written (a write error) is in the snapshot already: dropped.
        this.flush();
        this.pending = [];
        this.bufLen = 0;
        const seq = this.manifest.incrSeq + 1;
        if (this.waitRewrite) {
          this.openIncr(`temp-${this.fname}.incr`);
        } else {
          newIncr = { name: incrName(this.fname, seq), seq, type: 'i' };
          this.openIncr(newIncr.name);
          this.manifest.incr.push(newIncr);
          this.manifest.incrSeq = seq;
          this.persistManifest(this.manifest);
          this.otherSize = this.baseSize;
          for (const f of this.manifest.incr) if (f !== newIncr) this.otherSize += fileSize(this.path(f.name));
        }
      }
    } catch (e) {
      log.warning(`Can't rewrite append only file in background: ${errText(e)}`);
      this.rewriteFailed();
      return false;
    }
    this.rewriting = true;
    this.rewriteStartMs = t0;
    log.notice('Background append only file rewriting started');
    // One temp name per rewrite (an abandoned one may still be finishing).
    const tmp = `temp-rewriteaof-bg-${process.pid}-${++this.rewriteSeq}.aof`;
    const work = this.writeBaseSliced(tmp, gen, rdb);
    void work.then(
      () => {
        if (gen !== this.generation) {
          fs.rmSync(tmp, { force: true });
          return;
        }
        this.finishRewrite(tmp, rdb, newIncr, t0);
      },
      (e) => {
        fs.rmSync(tmp, { force: true });
        if (gen !== this.generation) return;
        this.rewriting = false;
        log.warning(`Background AOF rewrite terminated with error: ${errText(e)}`);
        this.rewriteFailed();
      },
    );
    return true;
  }

  private rewriteFailed(): void {
    this.lastRewriteOk = false;
    this.consecutiveFailures++;
    if (this.waitRewrite) this.rewriteScheduled = true;
  }

  /** aof-use-rdb-preamble yes: the base in RDB form (the RDB module picks RDB 10, or Valkey 9's format for hash field TTLs). */
  private useRdbBase(): boolean {
    return this.server.config.bool('aof-use-rdb-preamble') && rdbPreamble.load !== null;
  }

  /** The running snapshot of a rewrite. */
  private snap: RdbSnapshot | AofSnapshot | null = null;

  /** Serializes a point-in-time snapshot (RDB or AOF form) into tmp, a slice per event-loop turn, then fsyncs it. */
  private writeBaseSliced(tmp: string, gen: number, rdb: boolean): Promise<void> {
    const server = this.server;
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'w', 0o644);
    } catch (e) {
      return Promise.reject(e);
    }
    const sink = new FdSink(fd, autoSyncMode(server.config.bool('aof-rewrite-incremental-fsync'), true));
    const snap: RdbSnapshot | AofSnapshot = rdb
      ? new RdbSnapshot(server.dbs, sink, {
          aux: [
            ['redis-ver', REDIS_COMPAT_VERSION],
            ['redis-bits', 64],
            ['ctime', Math.floor(Date.now() / 1000)],
            ['used-mem', server.usedMemory],
            ['aof-base', 1],
          ],
          compress: server.config.bool('rdbcompression'),
          checksum: server.config.bool('rdbchecksum'),
          functions: libraryCodes(server),
        })
      : new AofSnapshot(server.dbs, new CommandSink(), (chunks) => {
          for (const c of chunks) sink.write(c);
        }, this.timestamps, libraryCodes(server));
    this.snap = snap;
    // server.snapshots holds anything with beforeWrite(db, key) (write commands call it).
    server.snapshots.push(snap as RdbSnapshot);
    const release = () => {
      const i = server.snapshots.indexOf(snap as RdbSnapshot);
      if (i >= 0) server.snapshots.splice(i, 1);
      if (this.snap === snap) this.snap = null;
    };
    return new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => {
        release();
        snap.abort();
        // Not while an incremental fdatasync still uses the descriptor.
        sink.whenIdle(() => {
          try {
            fs.closeSync(fd);
          } catch {
            /* already closed */
          }
        });
        reject(e);
      };
      const slice = () => {
        if (gen !== this.generation) return fail(new Error('rewrite cancelled'));
        let done: boolean;
        try {
          done = snap.step(SLICE_MS);
        } catch (e) {
          return fail(e);
        }
        if (!done) {
          setImmediate(slice);
          return;
        }
        release();
        this.lastCowSize = snap.cowBytes;
        sink.whenIdle(() =>
          fs.fsync(fd, (err) => {
            try {
              fs.closeSync(fd);
            } catch {
              /* reported below */
            }
            if (err) reject(err);
            else resolve();
          }),
        );
      };
      setImmediate(slice);
    });
  }

  private finishRewrite(tmp: string, rdb: boolean, newIncr: AofFileInfo | null, t0: number): void {
    const log = this.server.log;
    try {
      const old = this.manifest;
      const m = emptyManifest();
      m.baseSeq = old.baseSeq + 1;
      m.incrSeq = old.incrSeq;
      const bname = baseName(this.fname, m.baseSeq, rdb);
      m.base = { name: bname, seq: m.baseSeq, type: 'b' };
      fs.renameSync(tmp, this.path(bname));
      for (const h of old.history) m.history.push(h);
      if (old.base !== null) m.history.push({ ...old.base, type: 'h' });
      for (const f of old.incr) if (f !== newIncr) m.history.push({ ...f, type: 'h' });
      if (this.on && this.waitRewrite) {
        // The writes since the snapshot went to the temp incr file: it becomes the first incr file.
        const seq = old.incrSeq + 1;
        const name = incrName(this.fname, seq);
        fs.renameSync(this.path(this.incrFile), this.path(name));
        this.incrFile = name;
        m.incr.push({ name, seq, type: 'i' });
        m.incrSeq = seq;
        this.waitRewrite = false;
      } else if (newIncr !== null) {
        m.incr.push(newIncr);
      }
      this.persistManifest(m);
      this.manifest = m;
      this.baseSize = fileSize(this.path(bname));
      this.otherSize = this.baseSize;
      this.rewriteBaseSize = this.baseSize + this.incrSize;
      this.deleteHistory(m);
      if (!this.lastWriteOk) {
        // The data that failed to be written is in the new base: the error is over once the
        // new incr file takes writes.
        this.flush();
        if (this.bufLen === 0) {
          this.lastWriteOk = true;
          log.warning('AOF rewrite finished: the earlier AOF write error is cleared.');
          this.updateMisconf();
        }
      }
      this.lastRewriteOk = true;
      this.consecutiveFailures = 0;
      this.rewrites++;
      this.lastRewriteSec = Math.floor((Date.now() - t0) / 1000);
      log.notice('Background AOF rewrite terminated with success');
      log.notice('Background AOF rewrite finished successfully');
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      log.warning(`Background AOF rewrite terminated with error: ${errText(e)}`);
      this.rewriteFailed();
    }
    this.rewriting = false;
  }

  // ------------------------------------------------------------ config

  /** CONFIG SET of an AOF directive. */
  onConfig(name: string): void {
    if (name === 'appendonly') {
      const want = this.server.config.bool('appendonly');
      if (want && !this.on) this.turnOn();
      else if (!want && this.on) this.turnOff();
      return;
    }
    this.readConfig();
  }

  /** appendonly yes at run time: a rewrite creates the base; writes go to a temp incr file meanwhile. */
  private turnOn(): void {
    this.readConfig();
    const mpath = this.path(manifestName(this.fname));
    try {
      this.manifest = fs.existsSync(mpath) ? parseManifest(fs.readFileSync(mpath, 'latin1')) : emptyManifest();
    } catch {
      this.manifest = emptyManifest();
    }
    this.on = true;
    this.waitRewrite = true;
    this.generation++;
    this.rewriting = false;
    if (!this.startRewrite()) {
      this.server.log.warning("Vireo needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
      // Stays off; CONFIG SET answers the error (turnOnError) and restores appendonly no.
      if (this.fd >= 0) this.retireFd();
      this.on = false;
      this.waitRewrite = false;
      this.rewriteScheduled = false;
      this.turnOnError = 'Unable to turn on AOF. Check server logs.';
      return;
    }
    this.attach();
  }

  /** Why the last `appendonly yes` failed (read once by CONFIG SET through the directive's apply). */
  private turnOnError: string | null = null;

  takeTurnOnError(): string | null {
    const e = this.turnOnError;
    this.turnOnError = null;
    return e;
  }

  private turnOff(): void {
    this.flush();
    if (this.fd >= 0) this.retireFd();
    this.server.prop.removeTarget(this);
    this.on = false;
    this.waitRewrite = false;
    this.holdReplies = false;
    this.pending = [];
    this.bufLen = 0;
    if (this.rewriting) {
      // Valkey kills the rewrite child; here the base being written is dropped when it completes.
      this.generation++;
      this.rewriting = false;
    }
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.lastWriteOk = true;
    this.fsyncOk = true;
    this.updateMisconf();
  }

  /** SHUTDOWN / SIGTERM / close(): write and fsync what is pending, then close the file. */
  shutdown(): void {
    if (this.loadPending) {
      // SHUTDOWN or a signal while loading: the rest is not loaded and nothing is opened.
      this.loadCur?.close();
      this.loadCur = null;
      this.loadJobs = [];
      this.loadPending = false; // (still "loading": the partial dataset is never saved)
    }
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.rewriting) this.generation++; // an unfinished rewrite is dropped, as Valkey kills its child
    if (!this.on) return;
    this.flush();
    if (this.fd >= 0) {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        /* nothing more to do */
      }
      this.retired.push(this.fd);
      this.fd = -1;
      this.closeRetired();
    }
  }

  // ------------------------------------------------------------ INFO

  infoFields(): [string, string | number][] {
    return [
      ['aof_enabled', this.on ? 1 : 0],
      ['aof_rewrite_in_progress', this.rewriting ? 1 : 0],
      ['aof_rewrite_scheduled', this.rewriteScheduled ? 1 : 0],
      ['aof_last_rewrite_time_sec', this.lastRewriteSec],
      ['aof_current_rewrite_time_sec', this.rewriting ? Math.floor((Date.now() - this.rewriteStartMs) / 1000) : -1],
      ['aof_last_bgrewrite_status', this.lastRewriteOk ? 'ok' : 'err'],
      ['aof_rewrites', this.rewrites],
      ['aof_rewrites_consecutive_failures', this.consecutiveFailures],
      ['aof_last_write_status', this.lastWriteOk && this.fsyncOk ? 'ok' : 'err'],
      ['aof_last_cow_size', this.lastCowSize],
    ];
  }

  /** The fields Valkey adds when the AOF is on. */
  infoExtra(): [string, string | number][] {
    if (!this.on) return [];
    return [
      ['aof_current_size', this.otherSize + this.incrSize],
      ['aof_base_size', this.baseSize],
      ['aof_pending_rewrite', this.rewriteScheduled ? 1 : 0],
      ['aof_buffer_length', this.bufLen],
      ['aof_pending_bio_fsync', this.fsyncInFlight ? 1 : 0],
      ['aof_delayed_fsync', this.delayedFsync],
    ];
  }
}
