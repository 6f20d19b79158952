// One logical database: key -> value (in a KeyTable, which also keeps each
// key's LRU clock), plus the expire times of volatile keys.
// Expiry is lazy on access (lookup) and active (activeExpireStep, driven by the cron).
import type { Value } from './types.js';
import { KeyTable } from '../data/keytable.js';

/** Process-wide clock, refreshed once per batch of commands (like Valkey's cached mstime). */
export const clock = {
  ms: Date.now(),
  /** LRU clock: seconds, 24 bits, as Valkey's LRU_CLOCK. */
  lru: Math.floor(Date.now() / 1000) & 0xffffff,
  /** Clock of a new key under an LFU policy: minutes (16 bits) << 8 | LFU_INIT_VAL (5), as Valkey. */
  lfuInit: (((Date.now() / 60000) & 0xffff) << 8) | 5,
  update(): number {
    const ms = Date.now();
    this.ms = ms;
    this.lru = Math.floor(ms / 1000) & 0xffffff;
    this.lfuInit = (((ms / 60000) & 0xffff) << 8) | 5;
    return ms;
  },
};

/**
 * Keyspace state of one server, shared by its databases (several servers can
 * run in one process, so none of this is module-level).
 */
export class KeyspaceState {
  /**
   * What a key's clock holds: null while it is an LRU clock (seconds); under an
   * LFU maxmemory-policy, the function that counts one access (src/keyspace/evict.ts).
   */
  lfu: ((c: number) => number) | null = null;
  /** lfu-log-factor and lfu-decay-time (src/keyspace/evict.ts). */
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  /**
   * Expiry on a replica (src/replication/): 0 normal; 1 this server is a replica:
   * logically expired keys read as absent but are not deleted (the primary sends
   * DEL); 2 the primary's stream is being applied: keys count as present.
   */
  replica = 0;
  /** Keyspace counters shown by INFO stats. */
  readonly stats = {
    hits: 0,
    misses: 0,
    expiredKeys: 0,
    expiredStalePerc: 0,
    expiredTimeCapReached: 0,
    expireCycleCpuMs: 0,
  };
}

export interface KeyspaceHooks {
  /** Called when a key was removed because its TTL passed. */
  onExpired(db: Db, key: string): void;
  /** Keyspace notifications (src/server/notify.ts): a read found no key (null: off). */
  onKeyMiss?: ((db: Db, key: string) => void) | null;
  /** Keyspace notifications: a key was created (null: off). */
  onNew?: ((db: Db, key: string) => void) | null;
}

const noHooks: KeyspaceHooks = { onExpired() {}, onKeyMiss: null, onNew: null };

/** Client-side caching signals (src/server/tracking.ts); set once some client enabled tracking. */
export interface DbTrackingSignals {
  /** A key was removed because its TTL passed (lazily or actively). */
  expired(db: Db, key: string): void;
}

/** WATCH invalidation signals (src/server/watch.ts); set on a Db only while it has watched keys. */
export interface DbWatchSignals {
  /** A key was modified or deleted (here: expired). */
  touched(db: Db, key: string): void;
  /** The database is about to be emptied (replacedWith null) or swapped with another. */
  flushing(db: Db, replacedWith: Db | null): void;
}

/**
 * Exact values of expire times that a JS number rounds (beyond 2^53 ms, year
 * 287396 and later), keyed by the expires Map that holds the rounded value, so
 * SWAPDB carries them along and FLUSHDB drops them. An entry is trusted only
 * while the rounded value still matches; stale ones are swept when the table grows.
 */
const exactExpires = new WeakMap<Map<string, number>, Map<string, bigint>>();
const MAX_EXACT_EXPIRES = 4096;

function rememberExactExpire(expires: Map<string, number>, key: string, when: bigint): void {
  let m = exactExpires.get(expires);
  if (m === undefined) {
    m = new Map();
    exactExpires.set(expires, m);
  }
  if (m.size >= MAX_EXACT_EXPIRES) {
    for (const [k, v] of m) if (expires.get(k) !== Number(v)) m.delete(k);
    if (m.size >= MAX_EXACT_EXPIRES) m.delete(m.keys().next().value as string);
  }
  m.delete(key);
  m.set(key, when);
}

export class Db {
  /** Key -> value. Each key also has a clock (LRU seconds) kept by the table. */
  dict = new KeyTable<Value>();
  /** Absolute unix ms expire time of each volatile key. */
  expires = new Map<string, number>();
  avgTtl = 0;
  private expireIter: Iterator<[string, number]> | null = null;
  private randomIter: Iterator<string> | null = null;
  hooks: KeyspaceHooks = noHooks;
  /**
   * Called when a key is added or set, while clients are blocked on keys of
   * this database (the blocking manager arms and clears it).
   */
  readyHook: ((db: Db, key: string) => void) | null = null;
  /** Armed by the WATCH manager while clients watch keys of this database. */
  watch: DbWatchSignals | null = null;
  /** Armed by the tracking manager (CLIENT TRACKING) once a client enabled tracking. */
  tracking: DbTrackingSignals | null = null;

  constructor(
    public readonly id: number,
    /** The server's keyspace state (a fresh one for a database on its own). */
    public readonly ks: KeyspaceState = new KeyspaceState(),
  ) {}

  get size(): number {
    return this.dict.size;
  }

  /** True if the key has a TTL that has passed. Does not delete. */
  isExpired(key: string, now = clock.ms): boolean {
    if (this.expires.size === 0) return false;
    const t = this.expires.get(key);
    return t !== undefined && t <= now;
  }

  /** Deletes the key if its TTL passed. Returns true if it was expired. */
  expireIfNeeded(key: string): boolean {
    if (this.expires.size === 0) return false;
    const t = this.expires.get(key);
    if (t === undefined || t > clock.ms) return false;
    if (this.ks.replica !== 0) return this.ks.replica === 1;
    this.dict.delete(key);
    this.expires.delete(key);
    this.ks.stats.expiredKeys++;
    this.hooks.onExpired(this, key);
    if (this.watch !== null) this.watch.touched(this, key);
    if (this.tracking !== null) this.tracking.expired(this, key);
    return true;
  }

  /**
   * Looks a key up for reading: lazily expires, touches the LRU clock and counts
   * a keyspace hit or miss (INFO keyspace_hits/misses), as Valkey's lookupKeyRead.
   */
  lookup(key: string): Value | undefined {
    const d = this.dict;
    const e = d.find(key);
    if (e < 0 || (this.expires.size !== 0 && this.expireIfNeeded(key))) {
      this.ks.stats.misses++;
      if (this.hooks.onKeyMiss) this.hooks.onKeyMiss(this, key);
      return undefined;
    }
    this.ks.stats.hits++;
    d.setClockAt(e, this.ks.lfu === null ? clock.lru : this.ks.lfu(d.clockAt(e)));
    return d.valueAt(e);
  }

  /** Looks a key up for writing: like lookup() but not counted as a hit or miss. */
  lookupWrite(key: string): Value | undefined {
    const d = this.dict;
    const e = d.find(key);
    if (e < 0) return undefined;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    d.setClockAt(e, this.ks.lfu === null ? clock.lru : this.ks.lfu(d.clockAt(e)));
    return d.valueAt(e);
  }

  /** Looks a key up without touching its LRU clock (OBJECT, TYPE with NO-TOUCH ...). */
  peek(key: string): Value | undefined {
    const d = this.dict;
    const e = d.find(key);
    if (e < 0) return undefined;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    return d.valueAt(e);
  }

  /** The key's LRU clock (seconds, 24 bits), or -1 when the key does not exist. */
  clockOf(key: string): number {
    const e = this.dict.find(key);
    return e < 0 ? -1 : this.dict.clockAt(e);
  }

  /** Counts an access to an existing key (LRU time or LFU counter). */
  touchClock(key: string): void {
    const d = this.dict;
    const e = d.find(key);
    if (e >= 0) d.setClockAt(e, this.ks.lfu === null ? clock.lru : this.ks.lfu(d.clockAt(e)));
  }

  /** Sets the LRU clock of an existing key (RENAME/MOVE keep the source's). */
  setClock(key: string, c: number): void {
    const e = this.dict.find(key);
    if (e >= 0) this.dict.setClockAt(e, c);
  }

  /** Replaces the value of a key, keeping its TTL (for in-place updates). */
  replace(key: string, v: Value): void {
    this.dict.set(key, v, clock.lru);
  }

  /** Sets a key to a value, clearing its TTL unless keepTtl. */
  set(key: string, v: Value, keepTtl = false): void {
    const d = this.dict;
    const n = d.size;
    const e = d.set(key, v, this.ks.lfu === null ? clock.lru : clock.lfuInit);
    if (this.ks.lfu === null) d.setClockAt(e, clock.lru);
    else if (d.size === n) d.setClockAt(e, this.ks.lfu(d.clockAt(e)));
    if (d.size !== n && this.hooks.onNew) this.hooks.onNew(this, key);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    if (this.readyHook !== null) this.readyHook(this, key);
  }

  /** Adds a key known to be absent (after lookup). */
  add(key: string, v: Value): void {
    this.dict.set(key, v, this.ks.lfu === null ? clock.lru : clock.lfuInit);
    if (this.hooks.onNew) this.hooks.onNew(this, key);
    if (this.readyHook !== null) this.readyHook(this, key);
  }

  delete(key: string): boolean {
    if (!this.dict.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    // Blocked XREADGROUP clients (unblockOnNoKey) learn that the key is gone.
    if (this.readyHook !== null) this.readyHook(this, key);
    return true;
  }

  /** Expire time in unix ms, or -1 if the key has none. */
  getExpire(key: string): number {
    if (this.expires.size === 0) return -1;
    const t = this.expires.get(key);
    return t === undefined ? -1 : t;
  }

  setExpire(key: string, when: number): void {
    this.expires.set(key, when);
  }

  removeExpire(key: string): boolean {
    return this.expires.delete(key);
  }

  /**
   * Sets an expire time given as an exact int64 (unix ms). Times beyond 2^53 ms
   * do not fit a JS number exactly; the exact value is remembered beside the
   * rounded one so TTL/PEXPIRETIME answer what was set, as Valkey does.
   */
  setExpireExact(key: string, when: bigint): void {
    const n = Number(when);
    this.expires.set(key, n);
    if (Number.isSafeInteger(n)) return;
    rememberExactExpire(this.expires, key, when);
  }

  /** Expire time as an exact int64 (unix ms), or -1n if the key has none. */
  getExpireExact(key: string): bigint {
    const t = this.getExpire(key);
    if (t === -1) return -1n;
    if (!Number.isSafeInteger(t)) {
      const exact = exactExpires.get(this.expires)?.get(key);
      if (exact !== undefined && Number(exact) === t) return exact;
    }
    return BigInt(t);
  }

  /** Empties the database; returns the number of keys removed. */
  flush(): number {
    if (this.watch !== null) this.watch.flushing(this, null);
    const n = this.dict.size;
    this.dict = new KeyTable();
    this.expires = new Map();
    this.expireIter = null;
    this.randomIter = null;
    this.avgTtl = 0;
    return n;
  }

  /** Swaps the contents of two databases (SWAPDB). */
  swapWith(other: Db): void {
    if (this.watch !== null) this.watch.flushing(this, other);
    if (other.watch !== null) other.watch.flushing(other, this);
    const d = this.dict;
    const x = this.expires;
    const a = this.avgTtl;
    this.dict = other.dict;
    this.expires = other.expires;
    this.avgTtl = other.avgTtl;
    other.dict = d;
    other.expires = x;
    other.avgTtl = a;
    this.expireIter = other.expireIter = null;
    this.randomIter = other.randomIter = null;
  }

  /**
   * A random key, or undefined when empty. Walks a persistent iterator a random
   * number of steps (O(1) amortized); expired keys met on the way are deleted.
   */
  randomKey(): string | undefined {
    for (let tries = 0; tries < 100 && this.dict.size > 0; tries++) {
      const skip = Math.floor(Math.random() * Math.min(this.dict.size, 32));
      let key: string | undefined;
      for (let i = 0; i <= skip; i++) {
        if (this.randomIter === null) this.randomIter = this.dict.keys();
        let r = this.randomIter.next();
        if (r.done) {
          this.randomIter = this.dict.keys();
          r = this.randomIter.next();
          if (r.done) return undefined;
        }
        key = r.value;
      }
      if (key === undefined) return undefined;
      if (this.expires.size !== 0 && this.isExpired(key)) {
        // Valkey returns an expired key when every key is volatile and it keeps
        // finding expired ones; here we delete and try again a bounded number of times.
        this.expireIfNeeded(key);
        continue;
      }
      return key;
    }
    return this.dict.size > 0 ? this.dict.keys().next().value : undefined;
  }

  /**
   * One step of the active expire cycle for this database: looks at up to `budget`
   * volatile keys from where the last step stopped. Returns [checked, expired].
   */
  activeExpireStep(budget: number, now: number, out: [number, number]): void {
    let checked = 0;
    let expired = 0;
    if (this.expires.size === 0 || this.ks.replica !== 0) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
    let it = this.expireIter ?? this.expires.entries();
    let ttlSum = 0;
    let ttlSamples = 0;
    while (checked < budget) {
      const r = it.next();
      if (r.done) {
        it = this.expires.entries();
        this.expireIter = it;
        if (checked === 0 && this.expires.size === 0) break;
        // Finished a full pass over the expires table: end this step.
        break;
      }
      checked++;
      const [key, when] = r.value;
      if (when <= now) {
        this.dict.delete(key);
        this.expires.delete(key);
        this.ks.stats.expiredKeys++;
        this.hooks.onExpired(this, key);
        if (this.watch !== null) this.watch.touched(this, key);
        if (this.tracking !== null) this.tracking.expired(this, key);
        expired++;
      } else {
        ttlSum += when - now;
        ttlSamples++;
      }
    }
    this.expireIter = it;
    if (ttlSamples > 0) {
      const avg = ttlSum / ttlSamples;
      this.avgTtl = this.avgTtl === 0 ? avg : (this.avgTtl / 50) * 49 + avg / 50;
    }
    out[0] = checked;
    out[1] = expired;
  }
}
