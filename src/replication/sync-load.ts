// Replica side of a full sync with repl-diskless-load on-empty-db / swapdb:
// the RDB is parsed while it streams in from the primary's socket (either
// framing: `$<len>` or `$EOF:<mark>`), instead of being buffered whole first.
//
// StreamingRdb is an incremental RDB parser. Bytes are pushed as they arrive;
// step() parses the complete records held. A record cut by the end of what
// arrived so far is rolled back and retried once at least twice as many bytes
// are held (so a huge value is not re-parsed on every chunk). Records are
// applied only once read whole, so nothing half-read reaches the target. The
// parse buffer is never rewritten in place (values may keep slices of it):
// compaction moves the unread tail to a fresh buffer. The CRC-64 trailer is
// checked as file.ts's RdbLoader does.
//
// SyncLoad drives it for the replication link:
//  - on-empty-db (all databases empty): keys go straight into the server's
//    databases; clients get -LOADING until the load ends; a failure leaves
//    the databases empty again.
//  - swapdb: keys go into fresh databases (and function libraries are kept
//    aside); the old data stays until the new set is complete, then the
//    databases are swapped. When the primary's replication id is ours (the
//    same history: the primary could not continue by partial resync) this is
//    Valkey's async loading: clients keep reading the old data (INFO
//    async_loading:1, commands flagged no-async-loading get -LOADING);
//    otherwise -LOADING. A broken transfer discards the new set: the old data
//    is intact.
import { performance } from 'node:perf_hooks';
import type { Server } from '../server/server.js';
import type { Value } from '../keyspace/types.js';
import { Db } from '../keyspace/db.js';
import { KeyTable } from '../data/keytable.js';
import { RdbReader, readValue } from '../persistence/rdb/decoder.js';
import { Crc64, type LoadResult, type LoadTarget } from '../persistence/rdb/file.js';
import { Op, RDB_MAX_READ_VERSION, RDB_VERSION_VALKEY, RdbError } from '../persistence/rdb/format.js';
import { keyClockFor, loadLimits } from '../persistence/manager.js';
import { loadLibraryCode, scriptingOf } from '../scripting/index.js';
import { HashObject } from '../data/hash.js';
import { swapVolatileHashes, trackVolatileHash } from '../commands/hash.js';

const MIN_BUF = 256 * 1024;

/** An RdbReader that notes when a read ran past the bytes held (a cut record, not bad data). */
class StreamReader extends RdbReader {
  short = false;
  /** Where the cut read would have ended. */
  wanted = 0;
  override need(n: number): void {
    if (this.pos + n > this.end) {
      this.short = true;
      this.wanted = this.pos + n;
    }
    super.need(n);
  }
}

export type StepResult = 'done' | 'more' | 'budget';

export class StreamingRdb {
  private buf: Buffer = Buffer.allocUnsafe(MIN_BUF);
  /** Bytes held in buf. */
  private len = 0;
  /** Parse position in buf. */
  private pos = 0;
  /** Stream offset of buf[0]. */
  private base = 0;
  /** CRC computed over buf[0, crcPos). */
  private crcPos = 0;
  private readonly crc = new Crc64();
  /** Do not retry the cut record until this many bytes from pos are held. */
  private waitBytes = 0;
  private headerRead = false;
  private valkey = false;
  private db = 0;
  private expire: number | bigint = -1;
  private idle = -1;
  private freq = -1;
  private skippedFunctions = 0;
  /** $EOF: framing: the transfer's end mark was seen in what arrived (the end is here: always retry). */
  private markSeen = false;
  done = false;
  readonly result: LoadResult = { version: 0, keys: 0, expired: 0, end: 0, aux: new Map(), functions: 0 };

  constructor(
    private readonly target: LoadTarget,
    private readonly limits: ReturnType<typeof loadLimits>,
    private readonly checksum: boolean,
    /** The $EOF: mark (null for $<len> framing). */
    private readonly endMark: Buffer | null = null,
  ) {}

  /** RDB bytes parsed so far. */
  get loaded(): number {
    return this.base + this.pos;
  }

  /** Bytes held after the RDB's end (valid once done). */
  rest(): Buffer {
    return Buffer.from(this.buf.subarray(this.pos, this.len));
  }

  push(d: Buffer): void {
    if (d.length === 0) return;
    if (this.len + d.length > this.buf.length) {
      // A fresh buffer with the unread tail (values may hold slices of the old one).
      this.sumTo(this.pos);
      const keep = this.len - this.pos;
      const nb = Buffer.allocUnsafe(Math.max(MIN_BUF, 2 * (keep + d.length)));
      this.buf.copy(nb, 0, this.pos, this.len);
      this.base += this.pos;
      this.buf = nb;
      this.len = keep;
      this.pos = 0;
      this.crcPos = 0;
    }
    d.copy(this.buf, this.len);
    const from = Math.max(this.pos, this.len - 64);
    this.len += d.length;
    if (this.endMark !== null && !this.markSeen && this.buf.subarray(from, this.len).indexOf(this.endMark) >= 0) this.markSeen = true;
  }

  private sumTo(p: number): void {
    if (!this.checksum || p <= this.crcPos) return;
    this.crc.update(this.buf, this.crcPos, p);
    this.crcPos = p;
  }

  /**
   * Parses the complete records held, for about budgetMs or maxKeys keys.
   * `final`: no more bytes will come (a cut record is then an error).
   * 'done': the RDB (EOF opcode and checksum) was read; 'more': needs more
   * bytes; 'budget': stopped with parseable bytes left.
   */
  step(final: boolean, budgetMs: number, maxKeys = Infinity): StepResult {
    if (this.done) return 'done';
    if (!final && !this.markSeen && this.len - this.pos < this.waitBytes) return 'more';
    this.waitBytes = 0;
    const r = new StreamReader(this.buf, this.pos, this.len);
    const t0 = performance.now();
    let n = 0;
    let at = r.pos;
    try {
      if (!this.headerRead) {
        this.readHeader(r);
        at = r.pos;
        this.pos = at;
      }
      for (;;) {
        at = r.pos;
        const fin = this.record(r, at);
        this.pos = r.pos;
        if (fin === 2) {
          this.finish(r);
          return 'done';
        }
        if (fin === 1 && ((++n & 255) === 0 || n >= maxKeys)) {
          this.target.progress?.(this.loaded);
          if (n >= maxKeys || performance.now() - t0 >= budgetMs) return 'budget';
        }
      }
    } catch (e) {
      const cut = r.short || (e instanceof RangeError && r.pos >= r.end);
      if (!cut || final) {
        if (e instanceof RdbError || !(e instanceof Error)) throw e;
        throw new RdbError(`Bad data format (${e.message})`, this.base + r.pos);
      }
      // A cut record: retry from its start once twice as many bytes are held, or at least
      // what the cut read needs (the end mark of the transfer makes it retry at once).
      this.pos = at;
      this.waitBytes = Math.max(64, 2 * (this.len - at), r.wanted - at);
      this.target.progress?.(this.loaded);
      return 'more';
    }
  }

  private readHeader(r: StreamReader): void {
    const head = r.bytes(9).latin1Slice(0, 9);
    let version: number;
    if (head.startsWith('REDIS')) {
      const v = head.slice(5);
      version = /^\d{4}$/.test(v) ? Number(v) : NaN;
      if (!(version >= 1 && version <= RDB_MAX_READ_VERSION)) throw new RdbError(`Can't handle RDB format version ${v}`, 5);
    } else if (head.startsWith('VALKEY')) {
      const v = head.slice(6);
      version = /^\d{3}$/.test(v) ? Number(v) : NaN;
      if (version !== RDB_VERSION_VALKEY) throw new RdbError(`Can't handle RDB format version ${v}`, 6);
      this.valkey = true;
    } else throw new RdbError('Wrong signature trying to load DB from file', 0);
    this.result.version = version;
    this.headerRead = true;
  }

  /** One opcode or key; 1 after a key, 2 at the EOF opcode, 0 otherwise. */
  private record(r: StreamReader, at: number): number {
    const target = this.target;
    const res = this.result;
    const type = r.byte();
    switch (type) {
      case Op.EXPIRETIME:
        this.expire = r.int32le() * 1000;
        return 0;
      case Op.EXPIRETIME_MS:
        this.expire = r.millis();
        return 0;
      case Op.FREQ:
        this.freq = r.byte();
        return 0;
      case Op.IDLE: {
        const v = r.u64();
        this.idle = typeof v === 'bigint' ? Number.MAX_SAFE_INTEGER : v;
        return 0;
      }
      case Op.EOF:
        return 2;
      case Op.SELECTDB: {
        const db = r.len();
        if (db >= target.dbCount) r.fail(`FATAL: Data file was created with a server configured to handle more than ${target.dbCount} databases. Exiting`);
        this.db = db;
        target.select?.(db, this.base + at);
        return 0;
      }
      case Op.RESIZEDB: {
        const size = r.len();
        const exp = r.len();
        target.resize?.(this.db, size, exp);
        return 0;
      }
      case Op.SLOT_INFO:
        r.len();
        r.len();
        r.len();
        return 0;
      case Op.AUX: {
        const k = r.str();
        const v = r.str();
        res.aux.set(k, v);
        target.aux?.(k, v, this.base + at);
        return 0;
      }
      case Op.MODULE_AUX:
        r.fail('Module auxiliary data is not supported in a streamed full sync');
        break;
      case Op.FUNCTION_PRE_GA:
        r.fail('Pre-release function format not supported');
        break;
      case Op.FUNCTION2: {
        if (target.library === undefined) {
          r.skipStr();
          this.skippedFunctions++;
        } else target.library(r.str(), this.base + at);
        res.functions++;
        return 0;
      }
    }
    const key = r.str();
    let value: Value;
    try {
      value = readValue(r, type, this.limits, this.valkey);
    } catch (e) {
      if (r.short) throw e;
      const err = e instanceof RdbError || !(e instanceof Error) ? e : new RdbError(`Bad data format (${e.message})`, this.base + r.pos);
      if (err instanceof RdbError) err.message += ` (reading key '${key.slice(0, 128)}', type ${type})`;
      throw err;
    }
    target.add(this.db, key, value, this.expire, this.idle, this.freq);
    res.keys++;
    this.expire = -1;
    this.idle = -1;
    this.freq = -1;
    return 1;
  }

  private finish(r: StreamReader): void {
    const res = this.result;
    if (res.version >= 5) {
      const trailerAt = r.pos;
      const trailer = r.bytes(8);
      this.sumTo(trailerAt);
      if (this.checksum && !trailer.equals(Buffer.alloc(8)) && !this.crc.digestLE().equals(trailer)) {
        throw new RdbError('Wrong RDB checksum. Aborting now.', this.base + trailerAt);
      }
    }
    this.pos = r.pos;
    res.end = this.loaded;
    this.done = true;
    const skipped = this.skippedFunctions;
    if (skipped > 0) this.target.warn?.(`${skipped} function librar${skipped === 1 ? 'y was' : 'ies were'} skipped (not loaded by this reader)`);
  }
}

/** One streamed full sync on the replica side (see the header). */
export class SyncLoad {
  readonly parser: StreamingRdb;
  /** swapdb: the databases being filled (null: loading straight into the server's). */
  readonly temp: Db[] | null;
  /** swapdb: function libraries of the new set, loaded at the swap. */
  private readonly libs: string[] = [];
  readonly t0 = performance.now();

  constructor(
    private readonly server: Server,
    readonly swap: boolean,
    /** Async loading: clients keep reading the old data meanwhile. */
    readonly async: boolean,
    /** The $EOF: mark, or null with $<len> framing. */
    endMark: string | null,
  ) {
    const mark = endMark !== null ? Buffer.from(endMark, 'latin1') : null;
    const mgr = server.rdb;
    const checksum = server.config.bool('rdbchecksum');
    if (swap) {
      this.temp = server.dbs.map((d) => new Db(d.id, server.keyspace));
      this.parser = new StreamingRdb(this.tempTarget(this.temp), loadLimits(server), checksum, mark);
    } else {
      this.temp = null;
      this.parser = new StreamingRdb(mgr.loadTarget(), loadLimits(server), checksum, mark);
    }
  }

  /** Loads keys into the fresh databases of a swapdb load. */
  private tempTarget(dbs: Db[]): LoadTarget {
    const server = this.server;
    const mgr = server.rdb;
    const libs = this.libs;
    return {
      dbCount: dbs.length,
      add(db: number, key: string, v: Value, expire: number | bigint, idle: number, freq: number): void {
        const d = dbs[db];
        const size = d.dict.size;
        d.dict.set(key, v, keyClockFor(server.keyspace, idle, freq));
        if (d.dict.size === size) throw new RdbError(`Duplicate key '${key}' in RDB file`);
        if (expire !== -1 && expire !== -1n) {
          if (typeof expire === 'bigint') d.setExpireExact(key, expire);
          else d.setExpire(key, expire);
        }
        if (v instanceof HashObject) trackVolatileHash(d, key, v); // active field expiry, moved over at the swap
        mgr.loadLoadedKeys++;
      },
      resize(db: number, size: number): void {
        const d = dbs[db];
        if (d.dict.size === 0 && size > 1024) d.dict = new KeyTable<Value>(Math.min(size, 1 << 22));
      },
      warn(msg: string): void {
        server.log.warning(msg);
      },
      library(code: string): void {
        libs.push(code);
      },
      progress(off: number): void {
        mgr.loadLoadedBytes = off;
      },
    };
  }

  /** swapdb, after a complete load: the new set replaces the old one. Null, or the error. */
  swapIn(): string | null {
    const server = this.server;
    const temp = this.temp!;
    for (let i = 0; i < server.dbs.length; i++) {
      const db = server.dbs[i];
      db.swapWith(temp[i]);
      swapVolatileHashes(db, temp[i]);
      server.blocking.onSwapDb(db, db);
    }
    const scripting = scriptingOf(server);
    scripting.flushFunctions();
    for (const code of this.libs) {
      const err = loadLibraryCode(server, code);
      if (err !== null) return `Failed loading library, ${err}`;
    }
    return null;
  }
}
