// maxmemory: what the process uses, and eviction of keys to stay under the
// limit, approximated as Valkey does (evict.c):
//
// - Each key's clock (an Int32Array cell of the KeyTable) holds, as Valkey's
//   24-bit lru field, either the LRU time in seconds or, under an LFU policy,
//   16 bits of minutes (last decrement time) << 8 | an 8-bit logarithmic counter.
// - Before every command, as Valkey, the dispatcher calls performEvictions()
//   (beforeCommand(); only denyoom commands are refused when it fails): while the
//   used memory is over maxmemory, sample `maxmemory-samples` keys per database
//   into a pool of the 16 best candidates (highest idle time, lowest frequency,
//   nearest expire time) and delete the best; the random policies pick a random
//   key. A time limit (maxmemory-eviction-tenacity) bounds one call; eviction
//   then goes on in the background while commands are still accepted.
// - An evicted key is a deletion in the propagation stream, an `evicted` keyspace
//   event, a WATCH touch and a tracking invalidation, and counts in INFO
//   evicted_keys. It propagates (AOF, replicas) as UNLINK, or DEL with
//   lazyfree-lazy-eviction no, as Valkey 8.
//
// Used memory: V8's used heap plus external memory (Buffers) is cheap to read
// (under a microsecond) but includes garbage until V8 collects it, and deleting
// keys frees nothing until the next mark-compact. So the meter keeps:
//   used = sample + bytes written since the sample - bytes evicted and not yet collected
// where the sample is refreshed every few ms (or after enough writes), the
// bytes written are the request sizes of the denyoom commands since, and the
// evicted bytes are an estimate of each evicted key's heap cost.
//
// Which evictions a major GC collected: evictions are grouped in epochs, each
// opened by a fresh sentinel object that only a FinalizationRegistry knows. V8
// marks incrementally, and allocates black while marking: a sentinel dies in a
// mark-compact only if it was allocated before that GC's marking started, and
// so were the evictions of every earlier epoch (their keys were unreachable
// when marking began, so they are collected). Keys evicted during marking may
// have been marked already and survive: their epoch stays counted until a later
// sentinel dies. (Resetting the count at each major GC instead forgot the keys
// evicted while marking, which stayed in the heap: the meter then read them as
// data and evicted as much again, and under CPU contention, where marking is
// slow and spans most of the time, that error compounded until ~90% of the
// keyspace was gone.) FinalizationRegistry, not WeakRef.deref(): a deref keeps
// its target alive until the end of the job, and a GC during a busy pipelined
// job would then never see the sentinel die. Scavenges treat the registry's
// targets as strong (V8 11, Node 20: re-check on a V8 upgrade), so a small
// sentinel dies only in a major GC.
//
// Garbage that is not an eviction (overwritten values, DEL, FLUSHALL, table
// rebuilds) reads as used until the next major GC: a FLUSHALL/FLUSHDB/SWAPDB
// (a database's table replaced) while over the limit collects at once, and
// while evicting, a full GC runs when the evictions not yet collected reach
// 1/4 of maxmemory, or at most every SLOW_GC_DUTY times the last one's
// duration once they reach 1/8, so every estimate error lasts one GC at most
// (and the garbage, which the RSS holds, stays within 1/4 of maxmemory).
import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { CMD, type Command } from '../commands/table.js';
import type { Db } from './db.js';
import { clock, type KeyspaceState } from './db.js';
import type { Value } from './types.js';
import { keyMemoryUsage } from '../commands/memory.js';
import { notifyKeyspaceEvent, NOTIFY_EVICTED } from '../server/notify.js';

// Policy flags, as Valkey's MAXMEMORY_FLAG_*.
const F_LRU = 1;
const F_LFU = 2;
const F_ALLKEYS = 4;
const F_TTL = 8;
const F_RANDOM = 16;
const F_NONE = 32;

const POLICY_FLAGS: Record<string, number> = {
  'volatile-lru': F_LRU,
  'volatile-lfu': F_LFU,
  'volatile-ttl': F_TTL,
  'volatile-random': F_RANDOM,
  'allkeys-lru': F_LRU | F_ALLKEYS,
  'allkeys-lfu': F_LFU | F_ALLKEYS,
  'allkeys-random': F_RANDOM | F_ALLKEYS,
  noeviction: F_NONE,
};

export const EVICT_OK = 0;
export const EVICT_RUNNING = 1;
export const EVICT_FAIL = 2;

const POOL_SIZE = 16;
const LFU_INIT_VAL = 5;
const LRU_CLOCK_MAX = 0xffffff;
/** Heap cost of a key beyond its bytes: KeyTable slots, string headers, Map entry when volatile. */
const KEY_OVERHEAD = 64;
/** Re-read the heap after this many ms or this many denyoom writes. */
const SAMPLE_MS = 5;
const SAMPLE_WRITES = 256;
/** A forced GC while evicting may run once per this many times the last one's duration (~2% of the time). */
const SLOW_GC_DUTY = 50;
/**
 * Heap bytes per entry a KeyTable leaves as garbage when it compacts: the old
 * key/value array (2 slots, with growth slack), clock and position arrays and
 * the old index (at load <= 0.75).
 */
const TABLE_BYTES_PER_ENTRY = 40;
/** An eviction epoch closes after this many bytes (and 1/64 of maxmemory). */
const EPOCH_MIN = 256 * 1024;

// ------------------------------------------------------------------ LFU

function minutesNow(): number {
  return (clock.ms / 60000) & 0xffff;
}

/** Valkey's LFUDecrAndReturn: the counter after decaying it by the minutes elapsed. */
export function lfuDecrAndReturn(clk: number, ks: KeyspaceState): number {
  const ldt = (clk >>> 8) & 0xffff;
  const counter = clk & 0xff;
  const lfuDecayTime = ks.lfuDecayTime;
  if (lfuDecayTime === 0) return counter;
  const now = minutesNow();
  const elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
  const periods = Math.floor(elapsed / lfuDecayTime);
  if (periods === 0) return counter;
  return periods > counter ? 0 : counter - periods;
}

/** Valkey's updateLFU: decay, then a logarithmic increment. */
function lfuTouch(clk: number, ks: KeyspaceState): number {
  let counter = lfuDecrAndReturn(clk, ks);
  if (counter < 255) {
    const base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
    if (Math.random() < 1 / (base * ks.lfuLogFactor + 1)) counter++;
  }
  return (minutesNow() << 8) | counter;
}

/** Seconds since the LRU clock value (Valkey's estimateObjectIdleTime / 1000). */
function lruIdle(clk: number): number {
  const now = clock.lru;
  return now >= clk ? now - clk : now + (LRU_CLOCK_MAX - clk);
}

// ------------------------------------------------------------------ meter

/** Rough V8 heap cost of a key and its value (what deleting it gives back after GC). */
export function keyHeapCost(key: string, v: Value): number {
  const kb = 24 + key.length;
  if (typeof v === 'string') return KEY_OVERHEAD + kb + 24 + v.length;
  if (typeof v === 'number') return KEY_OVERHEAD + kb + 16;
  if (Buffer.isBuffer(v)) return KEY_OVERHEAD + kb + 100 + v.length;
  // Structures: Valkey-shaped estimate, doubled for JS object and array headers.
  return KEY_OVERHEAD + 2 * keyMemoryUsage(key, v, 5);
}

class PoolEntry {
  idle = 0;
  key: string | undefined = undefined;
  db = 0;
}

export class Evictor {
  /** Policy flags of maxmemory-policy. */
  flags = F_NONE;
  samples = 5;
  tenacity = 10;
  /** lazyfree-lazy-eviction: evictions propagate as UNLINK (else DEL). */
  lazyEviction = true;
  evictedKeys = 0;
  /** Total ms spent over maxmemory (INFO total_eviction_exceeded_time), and since when (0: under). */
  exceededTotalMs = 0;
  exceededSince = 0;
  /** Background eviction scheduled after a call ran out of time. */
  private timerArmed = false;
  private readonly pool: PoolEntry[] = [];
  /** Persistent iterators over each db's expires table (volatile sampling). */
  private readonly expIters = new WeakMap<Db, { map: Map<string, number>; it: Iterator<string> }>();
  private nextDb = 0;

  // Meter state.
  private sample = 0;
  private sampleAt = 0;
  private writes = 0;
  /** Bytes written by denyoom commands since the sample. */
  written = 0;
  /** Estimated heap bytes of evicted keys that no major GC is known to have collected. */
  private freed = 0;
  /** Bytes evicted in each open epoch, oldest first; epoch ids epochBase, epochBase + 1, ... */
  private readonly epochs: number[] = [0];
  private epochBase = 0;
  /** Highest epoch id whose sentinel died (set by the registry's callback), and the last one processed. */
  private deadEpoch = -1;
  private seenDead = -1;
  private readonly registry = new FinalizationRegistry<number>((id) => {
    if (id > this.deadEpoch) this.deadEpoch = id;
  });
  /** Major GCs seen through the sentinels, and those eviction asked for. */
  majorGcs = 0;
  forcedGcs = 0;
  /** Duration of the last forced GC (ms), and when it (or a major GC seen) ended. */
  lastGcMs = 0;
  private lastGcAt = 0;
  private lastCollectMs = 0;
  /** When perform() last found the used memory over maxmemory. */
  private lastOverAt = 0;
  private keysAtCollect = 0;
  /** Keys evicted (never reset, unlike evictedKeys), and at the last collection. */
  private evictions = 0;
  private evictionsAtCollect = 0;
  private afterCollect = 0;
  /** The dbs' tables seen so far (weakly): a new one means FLUSHALL/FLUSHDB left the old one as garbage. */
  private readonly seenTables = new WeakSet<object>();
  private tablesSeen = false;
  private tablesAt = 0;

  /**
   * External memory already there when the server was created: compiled
   * WebAssembly (the Lua VM) and runtime buffers, tens of MB that are not data
   * and that Valkey would not count either (its Lua heap is outside used_memory).
   */
  private readonly externalBase: number;

  constructor(private readonly server: Server) {
    for (let i = 0; i < POOL_SIZE; i++) this.pool.push(new PoolEntry());
    this.externalBase = v8.getHeapStatistics().external_memory;
    this.registry.register(newSentinel(), 0);
  }

  /** Reads maxmemory-policy, maxmemory-samples, tenacity and the LFU settings. */
  configure(): void {
    const cfg = this.server.config;
    const flags = POLICY_FLAGS[cfg.get('maxmemory-policy')] ?? F_NONE;
    if ((flags ^ this.flags) & (F_LFU | F_LRU | F_TTL)) for (const e of this.pool) e.key = undefined;
    this.flags = flags;
    this.samples = cfg.num('maxmemory-samples');
    this.tenacity = cfg.num('maxmemory-eviction-tenacity');
    const ks = this.server.keyspace;
    ks.lfuLogFactor = cfg.num('lfu-log-factor');
    ks.lfuDecayTime = cfg.num('lfu-decay-time');
    this.lazyEviction = cfg.bool('lazyfree-lazy-eviction');
    ks.lfu = (flags & F_LFU) !== 0 ? (clk: number) => lfuTouch(clk, ks) : null;
  }

  /** Id of the current (newest) epoch. */
  private get epochId(): number {
    return this.epochBase + this.epochs.length - 1;
  }

  /** Opens a new epoch with its own sentinel. */
  private newEpoch(): void {
    this.epochs.push(0);
    this.registry.register(newSentinel(), this.epochId);
  }

  /** A full GC just ran: every eviction so far is collected. */
  private collected(ms: number): void {
    this.freed = 0;
    this.epochBase = this.epochId;
    this.epochs.length = 1;
    this.epochs[0] = 0;
    this.newEpoch();
    this.lastGcMs = ms;
    this.lastGcAt = clock.ms;
    this.sampleAt = -SAMPLE_MS;
  }

  /** MEMORY PURGE: a full GC if the runtime lets us run one; the meter then knows every eviction is collected. */
  purge(): boolean {
    if (fullGc === null) return false;
    this.forceGc();
    return true;
  }

  /** A full GC now (forced), timed. */
  private forceGc(): void {
    const t0 = performance.now();
    fullGc!();
    this.forcedGcs++;
    this.collected(performance.now() - t0);
  }

  /** Estimated heap bytes of evicted keys that no major GC is known to have collected. */
  get freedSinceGc(): number {
    if (this.deadEpoch !== this.seenDead) this.settle();
    return this.freed;
  }

  /** Drops the epochs a major GC is known to have collected (see the header). */
  private settle(): void {
    const dead = this.deadEpoch;
    this.seenDead = dead;
    this.majorGcs++;
    this.lastGcAt = clock.ms;
    // Epochs before the dead sentinel's were over before that GC's marking began.
    const n = Math.min(dead - this.epochBase, this.epochs.length - 1);
    if (n > 0) {
      this.epochs.splice(0, n);
      this.epochBase += n;
      let f = 0;
      for (let i = 0; i < this.epochs.length; i++) f += this.epochs[i];
      this.freed = f;
    }
    // The current epoch's sentinel died: evictions from now on go to a new one.
    if (dead >= this.epochId) this.newEpoch();
    this.sampleAt = -SAMPLE_MS;
  }

  /** Settles the epochs; collects when too much evicted is still waiting for a GC. */
  private checkGc(): void {
    if (this.deadEpoch !== this.seenDead) this.settle();
    const freed = this.freed;
    if (freed < 4 * 1024 * 1024 || fullGc === null) return;
    const max = this.server.maxmemory;
    // Too much evicted and not collected: the estimate would drift, and the
    // heap holds that much garbage (and more that is not evictions). Collect.
    if (freed > max / 4 || (freed > max / 8 && clock.ms - this.lastGcAt >= Math.max(100, SLOW_GC_DUTY * this.lastGcMs))) this.forceGc();
  }

  /**
   * Heap used + external memory now (V8's counters; includes garbage). The
   * young generation is left out: it is mostly short-lived garbage (request
   * buffers, replies) that comes and goes by megabytes between scavenges, and
   * counting it would make eviction swing; it is bounded by the semi-space size.
   */
  sampleNow(): number {
    const spaces = v8.getHeapSpaceStatistics();
    let heap = 0;
    for (let i = 0; i < spaces.length; i++) {
      const sp = spaces[i];
      if (sp.space_name !== 'new_space' && sp.space_name !== 'new_large_object_space') heap += sp.space_used_size;
    }
    this.sample = heap + Math.max(0, v8.getHeapStatistics().external_memory - this.externalBase);
    this.sampleAt = clock.ms;
    this.writes = 0;
    this.written = 0;
    return this.sample;
  }

  /** Used memory as the eviction sees it (see the header); cheap between samples. */
  used(): number {
    this.checkGc();
    if (clock.ms - this.sampleAt >= SAMPLE_MS || this.writes >= SAMPLE_WRITES || clock.ms < this.sampleAt) this.sampleNow();
    const u = this.sample + this.written - this.freed;
    return u > 0 ? u : 0;
  }

  /**
   * Valkey's maxmemory step of processCommand, run by the dispatcher before
   * every command while maxmemory is set (never for the primary's stream):
   * performEvictions, then true when the command must be refused with -OOM
   * because nothing more could be freed and it is denyoom (EXEC: its queue has
   * a denyoom command) or would be queued in MULTI (anything but EXEC,
   * DISCARD, QUIT and RESET: queuing takes memory too). A denyoom command's
   * request size counts into the meter. No eviction on a replica (Valkey's
   * replica-ignore-maxmemory yes: the primary sends the deletions), while the
   * dataset loads, a script runs or clients are paused (isSafeToPerformEvictions).
   */
  beforeCommand(c: Client, cmd: Command, argv: string[]): boolean {
    let denyoom = (cmd.flags & CMD.DENYOOM) !== 0;
    if (c.multi !== null) {
      const name = cmd.name;
      if (name === 'exec') denyoom = denyoom || (c.multi.flags & CMD.DENYOOM) !== 0;
      else if (name !== 'discard' && name !== 'quit' && name !== 'reset') denyoom = true;
    }
    if (denyoom) this.noteWrite(argv);
    const server = this.server;
    if (server.busyScript !== null || server.pauseType !== null || server.rdb.loading || server.repl.isReplica) return false;
    return this.perform() === EVICT_FAIL && denyoom;
  }

  /** Notes a denyoom command's request size. */
  noteWrite(argv: string[]): void {
    let n = 0;
    for (let i = 1; i < argv.length; i++) n += argv[i].length;
    this.written += n + 16 * argv.length;
    this.writes++;
  }

  /**
   * Valkey's performEvictions: evicts until used memory is under maxmemory.
   * EVICT_OK when under the limit, EVICT_RUNNING when the time limit ran out
   * but keys were freed (eviction continues in the background), EVICT_FAIL
   * when nothing more can be evicted (the caller rejects with -OOM).
   */
  perform(): number {
    const server = this.server;
    const max = server.maxmemory;
    if (max === 0) return EVICT_OK;
    let used = this.used();
    if (used <= max) {
      if (this.exceededSince !== 0) {
        this.exceededTotalMs += clock.ms - this.exceededSince;
        this.exceededSince = 0;
      }
      return EVICT_OK;
    }
    // Over for the first time in a second (not the steady state of an endless
    // write load, which dips under the limit after each eviction and goes over
    // at the next write).
    const fresh = clock.ms - this.lastOverAt >= 1000;
    this.lastOverAt = clock.ms;
    if (this.exceededSince === 0) {
      this.exceededSince = clock.ms;
      // Just went over: what is over may be garbage (FLUSHALL, DEL, overwrites,
      // earlier evictions). Once a second at most, or when keys went away
      // since the last collection, collect before evicting.
      const since = clock.ms - this.lastCollectMs;
      if (((fresh && since >= 1000) || (since >= 100 && this.keysRemoved())) && this.collectAndRecheck(false)) return EVICT_OK;
    }
    // A table replaced (FLUSHALL, FLUSHDB) since the last look: its keys are
    // garbage that would read as data, collect them before evicting anything.
    if (clock.ms !== this.tablesAt && this.tablesReplaced() && this.collectAndRecheck(true)) return EVICT_OK;
    if ((this.flags & F_NONE) !== 0) return this.collectAndRecheck(false) ? EVICT_OK : EVICT_FAIL;
    const t0 = performance.now();
    const limitMs = this.timeLimitMs();
    let freed = 0;
    let evicted = 0;
    const toFree = used - max;
    while (freed < toFree) {
      const got = (this.flags & F_RANDOM) !== 0 ? this.pickRandom() : this.pickFromPool();
      if (got === null) break;
      freed += this.evictKey(got[0], got[1]);
      evicted++;
      if ((evicted & 15) === 0) {
        if (performance.now() - t0 > limitMs) {
          this.armBackground();
          return EVICT_RUNNING;
        }
      }
    }
    const dt = performance.now() - t0;
    if (evicted !== 0) server.insight.latency.addIfNeeded('eviction-cycle', dt);
    if (freed >= toFree) return EVICT_OK;
    used = this.used();
    if (used <= max) return EVICT_OK;
    return this.collectAndRecheck(false) ? EVICT_OK : EVICT_FAIL;
  }

  /** True when a db's table was replaced since the last call (looked at once per ms). */
  private tablesReplaced(): boolean {
    this.tablesAt = clock.ms;
    const seen = this.seenTables;
    const dbs = this.server.dbs;
    let replaced = false;
    for (let i = 0; i < dbs.length; i++) {
      const d = dbs[i].dict;
      if (!seen.has(d)) {
        seen.add(d);
        replaced = true;
      }
    }
    if (!this.tablesSeen) {
      this.tablesSeen = true;
      return false;
    }
    return replaced;
  }

  private keyCount(): number {
    let n = 0;
    for (const db of this.server.dbs) n += db.dict.size;
    return n;
  }

  /** Keys went away other than by eviction (DEL, expiry, FLUSHALL) since the last collection. */
  private keysRemoved(): boolean {
    return this.keyCount() + (this.evictions - this.evictionsAtCollect) < this.keysAtCollect;
  }

  /**
   * Before refusing a write: the heap may hold only garbage (after FLUSHALL,
   * DEL of big keys, evictions): collect it (at most once a second, a full GC
   * costs milliseconds per 10 MB of heap) and measure again. True when that
   * brought the used memory under maxmemory.
   */
  private collectAndRecheck(force: boolean): boolean {
    // Again only after a second, once the heap grew by 1/16 of maxmemory, or
    // when keys were removed (FLUSHALL, DEL, expiry) since the last one.
    if (fullGc === null) return false;
    const keys = this.keyCount();
    if (!force && clock.ms - this.lastCollectMs < 1000 && this.sample - this.afterCollect < this.server.maxmemory / 16 && !this.keysRemoved()) return false;
    this.lastCollectMs = clock.ms;
    this.keysAtCollect = keys;
    this.evictionsAtCollect = this.evictions;
    this.forceGc();
    this.afterCollect = this.sampleNow();
    return this.used() <= this.server.maxmemory;
  }

  /** maxmemory-eviction-tenacity: 10 -> 500 us, each step above +15%, 100: no limit (ms). */
  private timeLimitMs(): number {
    const t = this.tenacity;
    if (t <= 10) return (50 * t) / 1000;
    if (t < 100) return (500 * Math.pow(1.15, t - 10)) / 1000;
    return Infinity;
  }

  private armBackground(): void {
    if (this.timerArmed) return;
    this.timerArmed = true;
    setImmediate(() => {
      this.timerArmed = false;
      clock.update();
      if (this.perform() === EVICT_RUNNING) this.armBackground();
    });
  }

  /** Bytes that became garbage just now: counted out of the used memory until a GC collects them (see the header). */
  private noteGarbage(bytes: number): void {
    this.freed += bytes;
    const ep = this.epochs;
    const open = (ep[ep.length - 1] += bytes);
    if (open >= EPOCH_MIN && open >= this.server.maxmemory / 64) this.newEpoch();
  }

  /** Deletes one key as an eviction; returns the estimated bytes it frees. */
  private evictKey(db: Db, key: string): number {
    const server = this.server;
    const v = db.dict.get(key);
    if (v === undefined) return 0;
    const cost = keyHeapCost(key, v) + (db.expires.has(key) ? KEY_OVERHEAD : 0);
    // A running snapshot (BGSAVE, AOF rewrite) keeps the key's point-in-time value.
    for (const snap of server.snapshots) snap.beforeWrite(db, key);
    const d = db.dict;
    const span = d.span;
    db.delete(key);
    // The delete compacted the table (holes outnumbered keys): its old arrays
    // are garbage as well, megabytes that would otherwise read as data.
    this.noteGarbage(d.span * 2 < span ? cost + span * TABLE_BYTES_PER_ENTRY : cost);
    this.evictedKeys++;
    this.evictions++;
    if (db.watch !== null) db.watch.touched(db, key);
    if (db.tracking !== null) server.tracking.invalidateKey(null, key, true);
    notifyKeyspaceEvent(server, NOTIFY_EVICTED, 'evicted', key, db.id);
    if (server.prop.active) server.prop.also(db.id, [this.lazyEviction ? 'UNLINK' : 'DEL', key]);
    return cost;
  }

  // -------------------------------------------------------------- sampling

  /** A random key of a random-ish db (rotating), from all keys or the volatile ones. */
  private pickRandom(): [Db, string] | null {
    const dbs = this.server.dbs;
    const allkeys = (this.flags & F_ALLKEYS) !== 0;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[this.nextDb++ % dbs.length];
      const key = allkeys ? randomDictKey(db) : this.sampleVolatile(db, 1 + Math.floor(Math.random() * 8), null);
      if (key !== undefined) return [db, key];
    }
    return null;
  }

  /** Fills the pool from every db and returns the best candidate still present. */
  private pickFromPool(): [Db, string] | null {
    const dbs = this.server.dbs;
    const pool = this.pool;
    for (;;) {
      let total = 0;
      for (const db of dbs) {
        const n = (this.flags & F_ALLKEYS) !== 0 ? db.dict.size : db.expires.size;
        if (n === 0) continue;
        total += n;
        this.populate(db);
      }
      if (total === 0) return null;
      // Best candidate: from the end of the pool (highest score).
      for (let k = POOL_SIZE - 1; k >= 0; k--) {
        const e = pool[k];
        if (e.key === undefined) continue;
        const key = e.key;
        const db = dbs[e.db];
        e.key = undefined;
        const present = (this.flags & F_ALLKEYS) !== 0 ? db.dict.has(key) : db.expires.has(key);
        if (present) return [db, key];
      }
      // Every pooled key was gone: sample again.
    }
  }

  /** Samples keys of one db and inserts the better ones into the pool (evictionPoolPopulate). */
  private populate(db: Db): void {
    const n = this.samples;
    if ((this.flags & F_ALLKEYS) !== 0) {
      const d = db.dict;
      const span = d.span;
      let got = 0;
      for (let tries = 0; got < n && tries < n * 4; tries++) {
        const p = Math.floor(Math.random() * span);
        const key = d.keyAtPos(p);
        if (key === undefined) continue;
        got++;
        this.poolInsert(db.id, key, this.score(d.clockAt(p), 0));
      }
    } else {
      this.sampleVolatile(db, n, (key, when, pos) => {
        const d = db.dict;
        const e = (this.flags & F_TTL) !== 0 ? -1 : pos >= 0 ? pos : d.find(key);
        if ((this.flags & F_TTL) === 0 && e < 0) return;
        this.poolInsert(db.id, key, this.score(e < 0 ? 0 : d.clockAt(e), when));
      });
    }
  }

  /** Higher means a better candidate for eviction. */
  private score(clk: number, when: number): number {
    const f = this.flags;
    if ((f & F_LRU) !== 0) return lruIdle(clk);
    if ((f & F_LFU) !== 0) return 255 - lfuDecrAndReturn(clk, this.server.keyspace);
    return Number.MAX_SAFE_INTEGER - when; // TTL: the nearest expire time first
  }

  /** Inserts into the pool kept sorted by ascending score (Valkey's evictionPoolPopulate). */
  private poolInsert(dbid: number, key: string, idle: number): void {
    const pool = this.pool;
    let k = 0;
    while (k < POOL_SIZE && pool[k].key !== undefined && pool[k].idle < idle) k++;
    for (let j = 0; j < POOL_SIZE; j++) if (pool[j].key === key && pool[j].db === dbid) return;
    if (k === 0 && pool[POOL_SIZE - 1].key !== undefined) return; // worse than every pooled key
    if (k < POOL_SIZE && pool[k].key === undefined) {
      // Free slot here.
    } else if (pool[POOL_SIZE - 1].key === undefined) {
      // Shift right to make room.
      const free = pool[POOL_SIZE - 1];
      for (let j = POOL_SIZE - 1; j > k; j--) pool[j] = pool[j - 1];
      pool[k] = free;
    } else {
      // Full: drop the worst (first) and shift left.
      k--;
      const first = pool[0];
      for (let j = 0; j < k; j++) pool[j] = pool[j + 1];
      pool[k] = first;
    }
    const e = pool[k];
    e.key = key;
    e.idle = idle;
    e.db = dbid;
  }

  /**
   * Samples `n` volatile keys of a db; calls `each` with every key (and its
   * KeyTable position, or -1), and returns the last one. When volatile keys
   * are at least 1/8 of the keys: random positions of the KeyTable, keeping
   * those with a TTL. Otherwise (few volatile keys) a persistent iterator over
   * the expires Map after a random skip: a Map has no random access, and its
   * iterators step over deleted entries one by one, which is cheap only while
   * the Map is small.
   */
  private sampleVolatile(db: Db, n: number, each: ((key: string, when: number, pos: number) => void) | null): string | undefined {
    const exp = db.expires;
    if (exp.size === 0) return undefined;
    const d = db.dict;
    if (exp.size * 8 >= d.size) {
      const span = d.span;
      let got = 0;
      let last: string | undefined;
      for (let tries = 0; got < n && tries < n * 16; tries++) {
        const p = Math.floor(Math.random() * span);
        const key = d.keyAtPos(p);
        if (key === undefined) continue;
        const when = exp.get(key);
        if (when === undefined) continue;
        got++;
        last = key;
        if (each !== null) each(key, when, p);
      }
      if (got !== 0) return last;
    }
    let st = this.expIters.get(db);
    if (st === undefined || st.map !== exp) {
      st = { map: exp, it: exp.keys() };
      this.expIters.set(db, st);
    }
    let skip = Math.floor(Math.random() * Math.min(exp.size, 16));
    let last: string | undefined;
    let got = 0;
    let wraps = 0;
    while (got < n) {
      const r = st.it.next();
      if (r.done) {
        st.it = exp.keys();
        if (++wraps > 2) break;
        continue;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      const key = r.value;
      last = key;
      got++;
      if (each !== null) each(key, exp.get(key)!, -1);
    }
    return last;
  }
}

/** A random key of the KeyTable (random dense positions; holes retried). */
function randomDictKey(db: Db): string | undefined {
  const d = db.dict;
  if (d.size === 0) return undefined;
  const span = d.span;
  for (let i = 0; i < 64; i++) {
    const key = d.keyAtPos(Math.floor(Math.random() * span));
    if (key !== undefined) return key;
  }
  return d.keys().next().value;
}

/** An object only the registry knows of (see the header). */
function newSentinel(): object {
  return {};
}

/**
 * V8's full GC, reached at run time through --expose-gc in a fresh context
 * (the flag is read when a context is created); null if that is not possible.
 */
const fullGc: (() => void) | null = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    const f = vm.runInNewContext('gc') as () => void;
    return typeof f === 'function' ? f : null;
  } catch {
    return null;
  }
})();
