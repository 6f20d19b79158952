// Point-in-time snapshots of the whole keyspace without fork.
//
// A snapshot captures, when it starts, each database's key table and expires
// map (the objects themselves: FLUSHDB/FLUSHALL put new ones in the Db and
// SWAPDB exchanges them, so captured tables stay what they were, wherever they
// end up) and walks each table with a live iterator, serializing keys in time
// slices. Before a write command touches a key (Server.call -> beforeWrite), a
// key of a captured table the walk has not reached yet is serialized first
// (copy-on-write per key), and a key absent at that moment is remembered so the
// walk skips it if the command creates it. Pre-copied keys of a database the
// walk has not reached yet wait in that database's pending buffer.
//
// The output goes to an RdbSink in chunks; the CRC-64 is computed as it goes.
import type { Value } from '../../keyspace/types.js';
import type { Db } from '../../keyspace/db.js';
import type { KeyTable, KeyTableIterator } from '../../data/keytable.js';
import { Crc64 } from './crc64.js';
import { RdbEncoder, needsValkeyFormat } from './encoder.js';
import { writeAux, writeHeader, writeKeyValue } from './file.js';
import { Op } from './format.js';

/** Where snapshot bytes go (synchronously, in order). */
export interface RdbSink {
  write(chunk: Buffer): void;
}

/** A Buffer sink: collects everything in memory. */
export class BufferSink implements RdbSink {
  chunks: Buffer[] = [];
  size = 0;
  write(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.size += chunk.length;
  }
  result(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

interface Part {
  index: number;
  dict: KeyTable<Value>;
  expires: Map<string, number>;
  db: Db;
  size: number;
  volatile: number;
  it: KeyTableIterator<Value, string>;
  /** Keys already written (pre-copied) or absent when first written to: the walk skips them. */
  seen: Set<string>;
  /** Pre-copied key/value records waiting for this database's turn. */
  pending: Buffer[];
  done: boolean;
}

export interface SnapshotOptions {
  /** AUX fields written after the header (name, value) in order. */
  aux: [string, string | number][];
  compress: boolean;
  checksum: boolean;
  /**
   * Under an LRU or LFU maxmemory-policy Valkey saves each key's idle time
   * (IDLE) or LFU counter (FREQ): `op` says which, `of` turns a key's clock
   * into that number.
   */
  keyClock?: { op: 'idle' | 'freq'; of: (clk: number) => number } | null;
  /**
   * The code of each function library (taken when the snapshot starts), written
   * as FUNCTION2 records after the AUX fields, as Valkey's rdbSaveFunctions.
   */
  functions?: string[];
}

/**
 * Bytes gathered before they go to the sink (with their CRC-64): small enough
 * that one flush adds little to a background save's time slice.
 */
const FLUSH_AT = 64 * 1024;
const NO_CLOCK: [number, number] = [-1, -1];

export class RdbSnapshot {
  private readonly parts: Part[] = [];
  private readonly byTable = new Map<KeyTable<Value>, Part>();
  private cur = 0;
  private headerDone = false;
  private finished = false;
  private readonly enc: RdbEncoder;
  private readonly side: RdbEncoder;
  private readonly crc = new Crc64();
  /** Keys serialized so far (INFO current_save_keys_processed). */
  keysProcessed = 0;
  readonly keysTotal: number;
  /** Bytes handed to the sink so far. */
  bytesWritten = 0;
  /** Bytes of pre-copied records (what a fork's copy-on-write would have cost). */
  cowBytes = 0;

  constructor(
    dbs: Db[],
    private readonly sink: RdbSink,
    private readonly opts: SnapshotOptions,
  ) {
    this.enc = new RdbEncoder(opts.compress, 2 * FLUSH_AT);
    this.side = new RdbEncoder(opts.compress, 4096);
    let total = 0;
    for (const db of dbs) {
      const p: Part = {
        index: db.id,
        dict: db.dict,
        expires: db.expires,
        db,
        size: db.dict.size,
        volatile: db.expires.size,
        it: db.dict.keys(),
        seen: new Set(),
        pending: [],
        done: db.dict.size === 0,
      };
      total += p.size;
      this.parts.push(p);
      if (!p.done) this.byTable.set(p.dict, p);
    }
    this.keysTotal = total;
    this.valkey = RdbSnapshot.needsValkeyFormat(dbs);
  }

  /** The file is Valkey 9's "VALKEY080" (some hash has field expire times), else RDB 10. */
  readonly valkey: boolean;

  private static needsValkeyFormat(dbs: Db[]): boolean {
    for (const db of dbs) {
      const d = db.dict;
      const n = d.span;
      for (let p = 0; p < n; p++) {
        const v = d.valueAtPos(p);
        if (typeof v === 'object' && v !== undefined && needsValkeyFormat(v)) return true;
      }
    }
    return false;
  }

  get done(): boolean {
    return this.finished;
  }

  /**
   * Before a write to `key` of `db`: serialize the key first if this snapshot
   * still has to write it. Cheap when the key's table is not captured.
   */
  beforeWrite(db: Db, key: string): void {
    const p = this.byTable.get(db.dict);
    if (p === undefined || p.done) return;
    if (p.seen.has(key)) return;
    const e = p.dict.find(key);
    if (e >= 0 && e < p.it.pos) return; // the walk has written it already
    p.seen.add(key);
    if (e < 0) return; // absent at snapshot time (or deleted and recorded before)
    const v = p.dict.valueAt(e);
    const exp = this.expireOf(p, key);
    const [idle, freq] = this.clockOf(p.dict.clockAt(e));
    if (this.parts[this.cur] === p && this.headerDone) {
      writeKeyValue(this.enc, key, v, exp, idle, freq);
    } else {
      const s = this.side;
      s.reset();
      writeKeyValue(s, key, v, exp, idle, freq);
      const rec = s.take();
      this.cowBytes += rec.length;
      p.pending.push(rec);
    }
    this.keysProcessed++;
  }

  private clockOf(clk: number): [number, number] {
    const kc = this.opts.keyClock;
    if (kc == null) return NO_CLOCK;
    const n = kc.of(clk);
    return kc.op === 'idle' ? [n, -1] : [-1, n];
  }

  private expireOf(p: Part, key: string): number | bigint {
    if (p.expires.size === 0) return -1;
    const t = p.expires.get(key);
    if (t === undefined) return -1;
    if (Number.isSafeInteger(t)) return t;
    // Owned by whichever Db holds these maps now; exact values live beside them.
    return p.db.expires === p.expires ? p.db.getExpireExact(key) : BigInt(t);
  }

  private flush(force: boolean): void {
    const e = this.enc;
    if (e.pos === 0 || (!force && e.pos < FLUSH_AT)) return;
    const chunk = e.view();
    if (this.opts.checksum) this.crc.update(chunk);
    this.sink.write(chunk);
    this.bytesWritten += chunk.length;
    e.reset();
  }

  /**
   * Serializes for about `budgetMs` milliseconds (Infinity: to the end), or
   * at most `maxKeys` keys.
   * Returns true once the whole file has been handed to the sink.
   */
  step(budgetMs: number, maxKeys = Infinity): boolean {
    if (this.finished) return true;
    const t0 = performance.now();
    const e = this.enc;
    if (!this.headerDone) {
      writeHeader(e, this.valkey);
      for (const [k, v] of this.opts.aux) writeAux(e, k, v);
      for (const code of this.opts.functions ?? []) {
        e.byte(Op.FUNCTION2);
        e.str(code);
      }
      this.headerDone = true;
      this.startPart();
    }
    let n = 0;
    while (this.cur < this.parts.length) {
      const p = this.parts[this.cur];
      if (!p.done) {
        const it = p.it;
        const dict = p.dict;
        // The walk reads positions itself (no IteratorResult per key); the
        // iterator only keeps `pos` right when the table compacts meanwhile.
        for (;;) {
          const pos = it.pos;
          if (pos >= dict.span) {
            it.done = true;
            p.done = true;
            break;
          }
          it.pos = pos + 1;
          const key = dict.keyAtPos(pos);
          if (key === undefined) continue;
          if (p.seen.size !== 0 && p.seen.has(key)) continue;
          if (this.opts.keyClock == null) writeKeyValue(e, key, dict.valueAtPos(pos), this.expireOf(p, key));
          else {
            const [idle, freq] = this.clockOf(dict.clockAt(pos));
            writeKeyValue(e, key, dict.valueAtPos(pos), this.expireOf(p, key), idle, freq);
          }
          this.keysProcessed++;
          if (e.pos >= FLUSH_AT) this.flush(false);
          if (++n >= maxKeys) return false;
          if ((n & 63) === 0 && performance.now() - t0 >= budgetMs) return false;
        }
        p.seen.clear();
        this.byTable.delete(p.dict);
      }
      this.cur++;
      if (this.cur < this.parts.length) this.startPart();
    }
    e.byte(Op.EOF);
    if (this.opts.checksum) {
      this.crc.update(e.view());
      e.raw(this.crc.digestLE());
      const chunk = e.view();
      this.sink.write(chunk);
      this.bytesWritten += chunk.length;
      e.reset();
    } else {
      e.raw(Buffer.alloc(8));
      this.flush(true);
    }
    this.finished = true;
    this.byTable.clear();
    return true;
  }

  /** Starts the current database's section: SELECTDB, RESIZEDB and pre-copied keys. */
  private startPart(): void {
    while (this.cur < this.parts.length) {
      const p = this.parts[this.cur];
      if (p.size === 0 && p.pending.length === 0) {
        this.cur++;
        continue;
      }
      const e = this.enc;
      e.byte(Op.SELECTDB);
      e.len(p.index);
      e.byte(Op.RESIZEDB);
      e.len(p.size);
      e.len(p.volatile);
      for (const rec of p.pending) e.raw(rec);
      p.pending = [];
      return;
    }
  }

  /** Stops tracking writes (an aborted snapshot). */
  abort(): void {
    this.finished = true;
    this.byTable.clear();
    for (const p of this.parts) {
      p.seen.clear();
      p.pending = [];
    }
  }
}
