// Whole RDB files: header, AUX fields, databases (SELECTDB, RESIZEDB, expire
// times, idle/freq), function libraries and module aux data (skipped with a
// warning), EOF and CRC-64 trailer. Also the DUMP/RESTORE payload form
// (value + 2-byte RDB version + CRC-64).
import type { Value } from '../../keyspace/types.js';
import { Crc64, crc64 } from './crc64.js';
import type { ParallelCrc } from './crc-parallel.js';
import { performance } from 'node:perf_hooks';
import { RdbEncoder, needsValkeyFormat, rdbTypeOf, writeValueBody } from './encoder.js';
import { RdbReader, readValue, type LoadLimits } from './decoder.js';
import { Op, RDB_MAX_READ_VERSION, RDB_VERSION, RDB_VERSION_VALKEY, RdbError, T } from './format.js';
import type { HashObject } from '../../data/hash.js';

/** Writes a key with its expire time (unix ms, -1: none) as rdbSaveKeyValuePair does. */
export function writeKeyValue(e: RdbEncoder, key: string, v: Value, expire: number | bigint, idle = -1, freq = -1): void {
  if (expire !== -1 && expire !== -1n) {
    e.byte(Op.EXPIRETIME_MS);
    e.millis(expire);
  }
  if (idle >= 0) {
    e.byte(Op.IDLE);
    e.len(idle);
  } else if (freq >= 0) {
    e.byte(Op.FREQ);
    e.byte(freq & 0xff);
  }
  e.byte(rdbTypeOf(v));
  e.str(key);
  writeValueBody(e, v);
}

export function writeAux(e: RdbEncoder, name: string, value: string | number): void {
  e.byte(Op.AUX);
  e.str(name);
  if (typeof value === 'number') e.intString(value);
  else e.str(value);
}

/** "REDIS0010", or Valkey 9's "VALKEY080" when the data needs it (hash field expire times). */
export function writeHeader(e: RdbEncoder, valkey = false): void {
  e.raw(Buffer.from(valkey ? `VALKEY${String(RDB_VERSION_VALKEY).padStart(3, '0')}` : `REDIS${String(RDB_VERSION).padStart(4, '0')}`, 'latin1'));
}

// ------------------------------------------------------------------ DUMP

/** A DUMP payload: type, value, RDB version (2 bytes LE), CRC-64 (8 bytes LE). */
export function serializeValue(v: Value, compress = true): Buffer {
  const e = new RdbEncoder(compress, 256);
  e.byte(rdbTypeOf(v));
  writeValueBody(e, v);
  const ver = needsValkeyFormat(v) ? RDB_VERSION_VALKEY : RDB_VERSION;
  e.byte(ver & 0xff);
  e.byte(ver >> 8);
  e.raw(crc64(e.buf, 0, e.pos).digestLE());
  return e.take();
}

/** Checks a DUMP payload's footer (Valkey's verifyDumpPayload); null when fine, else the reason. */
export function verifyPayload(p: Buffer, skipChecksum = false): string | null {
  if (p.length < 10) return 'too short';
  const ver = p.readUInt16LE(p.length - 10);
  if (ver > RDB_MAX_READ_VERSION && ver !== RDB_VERSION_VALKEY) return 'version';
  if (skipChecksum) return null;
  const c = crc64(p, 0, p.length - 8).digestLE();
  if (!c.equals(p.subarray(p.length - 8))) return 'checksum';
  return null;
}

/** Decodes a verified DUMP payload into a value; throws RdbError when malformed. */
export function deserializeValue(p: Buffer, lim: LoadLimits): Value {
  const r = new RdbReader(p, 0, p.length - 10);
  const type = r.byte();
  // Malformed blobs can make Buffer reads or BigInt parsing throw: all of it is bad data.
  const v = readValue(r, type, lim, p.readUInt16LE(p.length - 10) === RDB_VERSION_VALKEY);
  if (r.pos !== r.end) throw new RdbError('Bad data format');
  return v;
}

// ------------------------------------------------------------------ load

export interface LoadTarget {
  /** Number of databases; keys for a higher db are an error, as in Valkey. */
  dbCount: number;
  /**
   * Stores a loaded key. expire is unix ms or -1; idle is the IDLE opcode's
   * seconds or -1; freq the FREQ opcode's LFU counter or -1.
   */
  add(db: number, key: string, v: Value, expire: number | bigint, idle: number, freq: number): void;
  /** RESIZEDB hint. */
  resize?(db: number, size: number, expires: number): void;
  /** AUX field seen (offset: where its opcode was). */
  aux?(name: string, value: string, offset: number): void;
  /** SELECTDB seen. */
  select?(db: number, offset: number): void;
  warn?(msg: string): void;
  /**
   * A function library (FUNCTION2 record) to load; throws to stop the load.
   * Without it the libraries are skipped with a warning.
   */
  library?(code: string, offset: number): void;
  /** Called every so often with the read offset (progress / loading info). */
  progress?(offset: number): void;
}

export interface LoadResult {
  version: number;
  keys: number;
  expired: number;
  /** Offset just after the EOF opcode and checksum (an AOF preamble's end). */
  end: number;
  aux: Map<string, string>;
  functions: number;
}

export interface LoadOptions {
  limits: LoadLimits;
  /** Keys whose expire time passed are skipped (a master loading its own file). */
  now?: number;
  /** Verify the trailing CRC-64 (rdbchecksum). */
  checksum?: boolean;
  /** Where the RDB starts inside buf (0). */
  start?: number;
  /**
   * The CRC-64 of buf[start, end) computed meanwhile by a worker
   * (crc-parallel.ts): used when the checksum covers exactly that range, else
   * (or when the worker is not done) the loader computes it at the end.
   */
  parallelCrc?: ParallelCrc | null;
}

/**
 * Loads an RDB image from `buf` into `target`. Throws RdbError with the offset
 * on a malformed or truncated file, or a checksum mismatch.
 */
export function loadRdb(buf: Buffer, target: LoadTarget, opts: LoadOptions): LoadResult {
  const l = new RdbLoader(buf, target, opts);
  l.step(Infinity);
  return l.result;
}

/**
 * A resumable RDB load: step(budgetMs) reads keys for about that long and
 * returns true once the EOF and checksum have been read (start-up loading in
 * slices, with -LOADING answered in between). The CRC-64 is computed as it goes.
 */
export class RdbLoader {
  private readonly r: RdbReader;
  private readonly start: number;
  readonly result: LoadResult;
  private db = 0;
  private expire: number | bigint = -1;
  private idle = -1;
  private freq = -1;
  /** A "VALKEY080" file: type 22 is Valkey's HASH_2. */
  private valkey = false;
  private readonly crc = new Crc64();
  private crcPos: number;
  private skippedFunctions = 0;
  done = false;

  constructor(
    private readonly buf: Buffer,
    private readonly target: LoadTarget,
    private readonly opts: LoadOptions,
  ) {
    const start = (this.start = opts.start ?? 0);
    if (buf.length - start < 9) throw new RdbError('Wrong signature trying to load DB from file', start);
    const head = buf.latin1Slice(start, start + 9);
    let version: number;
    if (head.startsWith('REDIS')) {
      const verStr = head.slice(5);
      version = /^\d{4}$/.test(verStr) ? Number(verStr) : NaN;
      if (!(version >= 1 && version <= RDB_MAX_READ_VERSION)) throw new RdbError(`Can't handle RDB format version ${verStr}`, start + 5);
    } else if (head.startsWith('VALKEY')) {
      const verStr = head.slice(6);
      version = /^\d{3}$/.test(verStr) ? Number(verStr) : NaN;
      if (version !== RDB_VERSION_VALKEY) throw new RdbError(`Can't handle RDB format version ${verStr}`, start + 6);
      this.valkey = true;
    } else {
      throw new RdbError('Wrong signature trying to load DB from file', start);
    }
    this.r = new RdbReader(buf, start + 9);
    this.crcPos = start;
    this.result = { version, keys: 0, expired: 0, end: 0, aux: new Map(), functions: 0 };
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.r.pos;
  }

  private sumTo(pos: number): void {
    // With a worker's checksum the bytes are summed (if at all) at the end.
    if (this.opts.checksum === false || this.opts.parallelCrc != null || pos <= this.crcPos) return;
    this.crc.update(this.buf, this.crcPos, pos);
    this.crcPos = pos;
  }

  /** Loads for about budgetMs, or maxKeys keys, whichever comes first; true when the file is done. */
  step(budgetMs: number, maxKeys = Infinity): boolean {
    if (this.done) return true;
    const r = this.r;
    const res = this.result;
    const target = this.target;
    const opts = this.opts;
    const t0 = budgetMs === Infinity ? 0 : performance.now();
    let n = 0;
    for (;;) {
      const at = r.pos;
      const type = r.byte();
      // Value types are below 244, opcodes from 244 up: one test for the common case.
      if (type >= Op.SLOT_INFO) {
        if (type === Op.EXPIRETIME) {
          this.expire = r.int32le() * 1000;
          continue;
        }
        if (type === Op.EXPIRETIME_MS) {
          this.expire = r.millis();
          continue;
        }
        if (type === Op.FREQ) {
          this.freq = r.byte();
          continue;
        }
        if (type === Op.IDLE) {
          const v = r.u64();
          this.idle = typeof v === 'bigint' ? Number.MAX_SAFE_INTEGER : v;
          continue;
        }
        if (type === Op.EOF) break;
        if (type === Op.SELECTDB) {
          this.db = r.len();
          if (this.db >= target.dbCount) r.fail(`FATAL: Data file was created with a server configured to handle more than ${target.dbCount} databases. Exiting`);
          target.select?.(this.db, at);
          continue;
        }
        if (type === Op.RESIZEDB) {
          const size = r.len();
          const exp = r.len();
          target.resize?.(this.db, size, exp);
          continue;
        }
        if (type === Op.SLOT_INFO) {
          r.len();
          r.len();
          r.len();
          continue;
        }
        if (type === Op.AUX) {
          const k = r.str();
          const v = r.str();
          res.aux.set(k, v);
          target.aux?.(k, v, at);
          continue;
        }
        if (type === Op.MODULE_AUX) {
          const moduleId = r.u64();
          skipModuleValue(r);
          target.warn?.(`The RDB file contains AUX module data (module id ${moduleId}) that was skipped: no module loaded`);
          continue;
        }
        if (type === Op.FUNCTION_PRE_GA) r.fail('Pre-release function format not supported');
        if (type === Op.FUNCTION2) {
          if (target.library === undefined) {
            r.skipStr();
            this.skippedFunctions++;
          } else {
            target.library(r.str(), at);
          }
          res.functions++;
          continue;
        }
      }
      // A key-value pair.
      const key = r.str();
      let value: Value;
      try {
        value = readValue(r, type, opts.limits, this.valkey);
      } catch (e) {
        // A blob whose inner lengths point outside it makes Buffer reads throw RangeError.
        const err = e instanceof RdbError || !(e instanceof Error) ? e : new RdbError(`Bad data format (${e.message})`, r.pos);
        if (err instanceof RdbError) err.message += ` (reading key '${key.slice(0, 128)}', type ${type})`;
        throw err;
      }
      const expire = this.expire;
      if (opts.now !== undefined && expire !== -1 && expire < opts.now) {
        res.expired++;
      } else if (opts.now !== undefined && type >= T.HASH_2 && type <= T.HASH_LISTPACK_EX && dropExpiredFields(value as HashObject, opts.now)) {
        // Every field of a hash with field expire times had expired: the key is not loaded.
        res.expired++;
      } else {
        target.add(this.db, key, value, expire, this.idle, this.freq);
        res.keys++;
      }
      this.expire = -1;
      this.idle = -1;
      this.freq = -1;
      if ((++n & 1023) === 0 || n >= maxKeys) {
        if (n >= maxKeys) {
          target.progress?.(r.pos);
          this.sumTo(r.pos);
          return false;
        }
        target.progress?.(r.pos);
        if (budgetMs !== Infinity && performance.now() - t0 >= budgetMs) {
          this.sumTo(r.pos);
          return false;
        }
      }
    }
    if (res.version >= 5) {
      const trailer = r.bytes(8);
      const par = opts.parallelCrc;
      let sum: Crc64 | null = null;
      if (par != null) {
        sum = par.start === this.crcPos && par.end === r.pos - 8 ? par.take() : (par.take(), null);
        if (sum === null && opts.checksum !== false) this.crc.update(this.buf, this.crcPos, r.pos - 8);
      } else this.sumTo(r.pos - 8);
      if (opts.checksum !== false && !trailer.equals(Buffer.alloc(8))) {
        if (!(sum ?? this.crc).digestLE().equals(trailer)) throw new RdbError('Wrong RDB checksum. Aborting now.', r.pos - 8);
      }
    }
    res.end = r.pos;
    this.done = true;
    const skipped = this.skippedFunctions;
    if (skipped > 0) target.warn?.(`${skipped} function librar${skipped === 1 ? 'y was' : 'ies were'} skipped (not loaded by this reader)`);
    return true;
  }
}

/** Deletes the fields of a loaded hash whose expire time passed; true when none is left. */
function dropExpiredFields(h: HashObject, now: number): boolean {
  if (h.hasVolatile()) h.expireDue(now, Infinity);
  return h.size === 0;
}

/** Skips a module value serialized in the opcode form (MODULE_2 / module aux). */
function skipModuleValue(r: RdbReader): void {
  // module aux: "when" opcode and value, then the module's own opcodes until EOF (0).
  const whenOp = r.len();
  if (whenOp !== 2) r.fail('bad module aux when opcode');
  r.len();
  for (;;) {
    const op = r.len();
    if (op === 0) return;
    if (op === 1 || op === 2) r.u64();
    else if (op === 3) r.bytes(4);
    else if (op === 4) r.bytes(8);
    else if (op === 5) r.skipStr();
    else r.fail(`Unknown module opcode ${op}`);
  }
}

export { Crc64 };
