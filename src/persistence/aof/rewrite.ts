// The dataset as AOF commands (the base file of a rewrite in AOF form), like
// Valkey's rewriteAppendOnlyFileRio: SELECT per database, one command per
// value with at most 64 items per command, PEXPIREAT for TTLs, streams with
// XADD/XSETID/XGROUP CREATE/XCLAIM/XGROUP CREATECONSUMER.
import type { Server } from '../../server/server.js';
import { ObjType, type Value, type StringValue, stringOf } from '../../keyspace/types.js';
import type { ListValue } from '../../data/list.js';
import type { SetValue } from '../../data/set.js';
import type { ZSet } from '../../data/zset.js';
import type { HashObject } from '../../data/hash.js';
import { idStr, type Stream } from '../../data/stream.js';
import type { Db } from '../../keyspace/db.js';
import type { KeyTable, KeyTableIterator } from '../../data/keytable.js';
import { performance } from 'node:perf_hooks';

/** AOF_REWRITE_ITEMS_PER_CMD */
const ITEMS_PER_CMD = 64;
const CHUNK = 1024 * 1024;

/** Accumulates RESP commands into 1 MB chunks. */
export class CommandSink {
  chunks: Buffer[] = [];
  private cur = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  size = 0;

  private room(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    if (this.pos > 0) this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.pos = 0;
  }

  /** Appends bytes as they are (a sink's finished chunks). */
  rawBuf(b: Buffer): void {
    this.room(b.length);
    b.copy(this.cur, this.pos);
    this.pos += b.length;
    this.size += b.length;
  }

  /** Hands over what is complete so far and keeps accumulating (size keeps counting). */
  take(): Buffer[] {
    if (this.pos > 0) {
      this.chunks.push(this.cur.subarray(0, this.pos));
      this.cur = Buffer.allocUnsafe(CHUNK);
      this.pos = 0;
    }
    const c = this.chunks;
    this.chunks = [];
    return c;
  }

  raw(s: string): void {
    this.room(s.length);
    this.pos += this.cur.latin1Write(s, this.pos, s.length);
    this.size += s.length;
  }

  /** One command: `*<n>` then each argument as a bulk string. */
  cmd(args: string[]): void {
    let n = 16;
    for (const a of args) n += a.length + 16;
    this.room(n);
    const b = this.cur;
    let p = this.pos;
    p += b.latin1Write(`*${args.length}\r\n`, p);
    for (const a of args) {
      p += b.latin1Write(`$${a.length}\r\n`, p);
      p += b.latin1Write(a, p);
      b[p++] = 13;
      b[p++] = 10;
    }
    this.size += p - this.pos;
    this.pos = p;
  }

  finish(): Buffer[] {
    if (this.pos > 0) this.chunks.push(this.cur.subarray(0, this.pos));
    this.pos = 0;
    this.cur = Buffer.alloc(0);
    return this.chunks;
  }
}

function fmtScore(s: number): string {
  if (s === Infinity) return 'inf';
  if (s === -Infinity) return '-inf';
  return String(s);
}

function strVal(v: StringValue): string {
  return stringOf(v);
}

/** Emits a batched variadic command: head args, then items (each item may be several args). */
function batched(out: CommandSink, head: string[], items: Iterable<string[]>): void {
  let cur: string[] = head.slice();
  let n = 0;
  for (const it of items) {
    for (const a of it) cur.push(a);
    if (++n === ITEMS_PER_CMD) {
      out.cmd(cur);
      cur = head.slice();
      n = 0;
    }
  }
  if (n > 0) out.cmd(cur);
}

function* listItems(l: ListValue): Iterable<string[]> {
  for (const s of l.toArray()) yield [s];
}

function* setItems(s: SetValue): Iterable<string[]> {
  const it = s.keys();
  for (let r = it.next(); !r.done; r = it.next()) yield [r.value];
}

function zsetItems(z: ZSet): string[][] {
  const out: string[][] = [];
  z.walk(0, z.size, false, (m, s) => out.push([fmtScore(s), m]));
  return out;
}

function* hashItems(h: HashObject): Iterable<string[]> {
  if (h.isListpack()) {
    // One walk of the listpack (get() per field would walk it again each time).
    const kv = h.pairs();
    for (let i = 0; i < kv.length; i += 2) yield [kv[i], kv[i + 1]];
    return;
  }
  const it = h.fieldIterator();
  for (let r = it.next(); !r.done; r = it.next()) yield [r.value, h.get(r.value)!];
}

function rewriteStream(out: CommandSink, key: string, s: Stream): void {
  const e = s.entries;
  const last = idStr(s.lastId.ms, s.lastId.seq);
  if (s.length > 0) {
    const p = e.first();
    if (p !== null) {
      do {
        const id = e.idAt(p);
        out.cmd(['XADD', key, idStr(id.ms, id.seq), ...e.valAt(p)]);
      } while (e.next(p));
    }
  } else {
    // An empty stream is created by adding and trimming an entry at its last ID.
    out.cmd(['XADD', key, 'MAXLEN', '0', last, 'x', 'y']);
  }
  out.cmd(['XSETID', key, last, 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', idStr(s.maxDeletedId.ms, s.maxDeletedId.seq)]);
  if (s.groups === null) return;
  for (const [gname, g] of s.groups) {
    out.cmd(['XGROUP', 'CREATE', key, gname, idStr(g.lastId.ms, g.lastId.seq), 'ENTRIESREAD', String(g.entriesRead)]);
    const pel = g.pel;
    const p = pel.first();
    if (p !== null) {
      do {
        const n = pel.valAt(p);
        const id = pel.idAt(p);
        if (n.consumer === null) continue;
        out.cmd(['XCLAIM', key, gname, n.consumer.name, '0', idStr(id.ms, id.seq), 'TIME', String(n.deliveryTime), 'RETRYCOUNT', String(n.deliveryCount), 'JUSTID', 'FORCE']);
      } while (pel.next(p));
    }
    for (const c of g.sortedConsumers()) {
      if (c.pel.size === 0) out.cmd(['XGROUP', 'CREATECONSUMER', key, gname, c.name]);
    }
  }
}

export function rewriteValue(out: CommandSink, key: string, v: Value): void {
  if (typeof v !== 'object' || Buffer.isBuffer(v)) {
    out.cmd(['SET', key, strVal(v)]);
    return;
  }
  switch (v.objType) {
    case ObjType.List:
      batched(out, ['RPUSH', key], listItems(v as unknown as ListValue));
      break;
    case ObjType.Set:
      batched(out, ['SADD', key], setItems(v as unknown as SetValue));
      break;
    case ObjType.ZSet:
      batched(out, ['ZADD', key], zsetItems(v as unknown as ZSet));
      break;
    case ObjType.Hash: {
      const h = v as unknown as HashObject;
      batched(out, ['HMSET', key], hashItems(h));
      if (h.hasVolatile()) {
        const it = h.fieldIterator();
        for (let r = it.next(); !r.done; r = it.next()) {
          const t = h.getExpire(r.value);
          if (t !== -1) out.cmd(['HPEXPIREAT', key, String(t), 'FIELDS', '1', r.value]);
        }
      }
      break;
    }
    case ObjType.Stream:
      rewriteStream(out, key, v as unknown as Stream);
      break;
  }
}

/**
 * Serializes every database, as of now, into AOF commands. Runs in one go on
 * the event loop (a point-in-time snapshot without fork); the file writes
 * happen afterwards, off the loop.
 */
export function rewriteDataset(server: Server, timestamp: boolean, functions: string[] = []): CommandSink {
  const out = new CommandSink();
  if (timestamp) out.raw(`#TS:${Math.floor(Date.now() / 1000)}\r\n`);
  for (const code of functions) out.cmd(['FUNCTION', 'LOAD', code]);
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    out.cmd(['SELECT', String(db.id)]);
    const hasExpires = db.expires.size !== 0;
    for (const [key, v] of db.dict.entries()) {
      rewriteValue(out, key, v);
      if (hasExpires) {
        const t = db.getExpireExact(key);
        if (t !== -1n) out.cmd(['PEXPIREAT', key, t.toString()]);
      }
    }
  }
  return out;
}

interface AofPart {
  db: Db;
  dict: KeyTable<Value>;
  expires: Map<string, number>;
  it: KeyTableIterator<Value, string>;
  /** Keys written ahead of the walk (or absent when first written to): the walk skips them. */
  seen: Set<string>;
  /** Commands of keys copied before a write, waiting for this database's SELECT. */
  pending: CommandSink | null;
  done: boolean;
}

/**
 * The dataset as AOF commands, as of when it was created, serialized in time
 * slices: a write to a key the walk has not reached yet serializes that key
 * first (beforeWrite, called for every snapshot in server.snapshots), the same
 * copy-on-write per key as the RDB snapshot (src/persistence/rdb/snapshot.ts).
 */
export class AofSnapshot {
  private readonly parts: AofPart[] = [];
  private readonly byTable = new Map<KeyTable<Value>, AofPart>();
  private cur = -1;
  private finished = false;
  /** out.size when its chunks were last handed to the sink. */
  private taken = 0;
  /** Bytes of keys copied ahead of the walk (INFO aof_last_cow_size). */
  cowBytes = 0;

  constructor(
    dbs: Db[],
    private readonly out: CommandSink,
    private readonly sink: (chunks: Buffer[]) => void,
    timestamp: boolean,
    functions: string[] = [],
  ) {
    if (timestamp) out.raw(`#TS:${Math.floor(Date.now() / 1000)}\r\n`);
    // Function libraries first (Valkey's rewriteFunctions), as FUNCTION LOAD commands.
    for (const code of functions) out.cmd(['FUNCTION', 'LOAD', code]);
    for (const db of dbs) {
      const p: AofPart = { db, dict: db.dict, expires: db.expires, it: db.dict.keys(), seen: new Set(), pending: null, done: db.dict.size === 0 };
      this.parts.push(p);
      if (!p.done) this.byTable.set(p.dict, p);
    }
  }

  get done(): boolean {
    return this.finished;
  }

  private expireOf(p: AofPart, key: string): string | null {
    if (p.expires.size === 0) return null;
    const t = p.expires.get(key);
    if (t === undefined) return null;
    // Exact int64 times beyond 2^53 are kept by the Db beside the map it owns.
    if (!Number.isSafeInteger(t) && p.db.expires === p.expires) return p.db.getExpireExact(key).toString();
    return String(t);
  }

  private writeKey(out: CommandSink, p: AofPart, key: string, v: Value): void {
    rewriteValue(out, key, v);
    const t = this.expireOf(p, key);
    if (t !== null) out.cmd(['PEXPIREAT', key, t]);
  }

  beforeWrite(db: Db, key: string): void {
    const p = this.byTable.get(db.dict);
    if (p === undefined || p.done) return;
    if (p.seen.has(key)) return;
    const e = p.dict.find(key);
    if (e >= 0 && e < p.it.pos) return; // the walk wrote it already
    p.seen.add(key);
    if (e < 0) return; // absent from the snapshot
    const v = p.dict.valueAt(e);
    if (this.parts[this.cur] === p) {
      const before = this.out.size;
      this.writeKey(this.out, p, key, v);
      this.cowBytes += this.out.size - before;
    } else {
      if (p.pending === null) p.pending = new CommandSink();
      const before = p.pending.size;
      this.writeKey(p.pending, p, key, v);
      this.cowBytes += p.pending.size - before;
    }
  }

  private startPart(p: AofPart): void {
    if (p.done && p.pending === null) return;
    this.out.cmd(['SELECT', String(p.db.id)]);
    if (p.pending !== null) {
      for (const c of p.pending.finish()) this.out.rawBuf(c);
      p.pending = null;
    }
  }

  /** Serializes for about budgetMs; true once everything went to the sink. */
  step(budgetMs: number): boolean {
    if (this.finished) return true;
    const t0 = performance.now();
    let n = 0;
    if (this.cur < 0) {
      this.cur = 0;
      if (this.parts.length > 0) this.startPart(this.parts[0]);
    }
    while (this.cur < this.parts.length) {
      const p = this.parts[this.cur];
      if (!p.done) {
        const it = p.it;
        const dict = p.dict;
        for (;;) {
          const r = it.next();
          if (r.done) {
            p.done = true;
            break;
          }
          const key = r.value;
          if (p.seen.size !== 0 && p.seen.has(key)) continue;
          this.writeKey(this.out, p, key, dict.valueAtPos(it.pos - 1));
          if (this.out.size - this.taken >= 1 << 20) {
            this.taken = this.out.size;
            this.sink(this.out.take());
          }
          if ((++n & 63) === 0 && performance.now() - t0 >= budgetMs) return false;
        }
        p.seen.clear();
        this.byTable.delete(p.dict);
      }
      this.cur++;
      if (this.cur < this.parts.length) this.startPart(this.parts[this.cur]);
    }
    this.sink(this.out.finish());
    this.finished = true;
    this.byTable.clear();
    return true;
  }

  abort(): void {
    this.finished = true;
    this.byTable.clear();
  }
}
