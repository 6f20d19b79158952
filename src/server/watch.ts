// WATCH: optimistic locking for MULTI/EXEC.
//
// Each database that has watched keys keeps, here, a map key -> the watches on
// it; each client keeps the list of its own watches. A watch is invalidated
// ("dirty CAS": the client's next EXEC answers a null array) when its key is
// modified by anyone, expires (lazily or actively), is flushed or swapped away.
//
// Where the signals come from, so that no command family has to know:
//  - Server.call(): around a WRITE-flagged command, while some client watches,
//    probe() finds which of the command's keys (from its key specs, the same
//    extraction COMMAND GETKEYS uses, keys not flagged RO) are watched and
//    whether they exist; settle() then touches them if the command changed
//    something (server.dirty moved) and the key existed before or exists now.
//  - Db expiry (lazy and active) calls touched() through db.watch.
//  - Db.flush() / Db.swapWith() call flushing() before the data goes.
// db.watch is armed only while the database has watched keys, and the
// dispatcher looks at `clients` only: no cost when nobody watches.
import type { Client } from './client.js';
import type { Db, DbWatchSignals } from '../keyspace/db.js';
import { CMD, getCommandKeys, type Command } from '../commands/table.js';

/** One key watched by one client. */
export class WatchedKey {
  constructor(
    readonly client: Client,
    readonly db: Db,
    readonly key: string,
    /** The key was already logically expired (still stored) when WATCH ran. */
    public expired: boolean,
  ) {}
}

/** What probe() saw before a write: the watched (db, key) pairs it may touch and whether each existed. */
export interface WatchProbe {
  dbs: Db[];
  keys: string[];
  existed: boolean[];
}

export class WatchManager implements DbWatchSignals {
  /** Per database: key -> watches on it. */
  private readonly byDb = new Map<Db, Map<string, Set<WatchedKey>>>();
  /** Clients watching at least one key (INFO watching_clients). */
  clients = 0;
  /** Distinct (db, key) pairs watched (INFO total_watched_keys). */
  keys = 0;

  /** WATCH key: adds the watch unless this client already watches it in that db. */
  watch(c: Client, db: Db, key: string): void {
    let list = c.watched;
    if (list !== null) {
      for (const wk of list) if (wk.db === db && wk.key === key) return;
    } else {
      list = c.watched = [];
    }
    let byKey = this.byDb.get(db);
    if (byKey === undefined) {
      byKey = new Map();
      this.byDb.set(db, byKey);
      db.watch = this;
    }
    let set = byKey.get(key);
    if (set === undefined) {
      set = new Set();
      byKey.set(key, set);
      this.keys++;
    }
    const wk = new WatchedKey(c, db, key, db.dict.find(key) >= 0 && db.isExpired(key));
    set.add(wk);
    if (list.length === 0) this.clients++;
    list.push(wk);
  }

  /** Drops every watch of the client (UNWATCH, EXEC, DISCARD, disconnect, once dirty). */
  unwatchAll(c: Client): void {
    const list = c.watched;
    if (list === null) return;
    c.watched = null;
    if (list.length === 0) return;
    this.clients--;
    for (const wk of list) {
      const byKey = this.byDb.get(wk.db);
      if (byKey === undefined) continue;
      const set = byKey.get(wk.key);
      if (set === undefined) continue;
      set.delete(wk);
      if (set.size !== 0) continue;
      byKey.delete(wk.key);
      this.keys--;
      if (byKey.size === 0) {
        this.byDb.delete(wk.db);
        wk.db.watch = null;
      }
    }
  }

  private markDirty(c: Client): void {
    c.dirtyCas = true;
    // Once dirty, later touches change nothing: free the watches now.
    this.unwatchAll(c);
  }

  /** A key of `db` was modified or deleted (Valkey's touchWatchedKey). */
  touched(db: Db, key: string): void {
    const set = this.byDb.get(db)?.get(key);
    if (set === undefined) return;
    for (const wk of [...set]) {
      if (wk.expired) {
        // Watched while already expired: its deletion is no logical change.
        if (db.dict.find(key) < 0) {
          wk.expired = false;
          continue;
        }
      }
      this.markDirty(wk.client);
    }
  }

  /**
   * `db` is about to be emptied (FLUSHDB/FLUSHALL, `replacedWith` null) or to
   * take the contents of `replacedWith` (SWAPDB). Watches on keys that exist
   * on either side are invalidated, except logically unchanged expired keys.
   */
  flushing(db: Db, replacedWith: Db | null): void {
    const byKey = this.byDb.get(db);
    if (byKey === undefined) return;
    for (const [key, set] of [...byKey]) {
      const inEmptied = db.dict.find(key) >= 0;
      const inReplacement = replacedWith !== null && replacedWith.dict.find(key) >= 0;
      if (!inEmptied && !inReplacement) continue;
      for (const wk of [...set]) {
        if (wk.expired) {
          if (!inReplacement) {
            wk.expired = false; // expired key now gone: no change
            continue;
          }
          if (replacedWith!.isExpired(key)) continue; // expired stays expired
        } else if (!inEmptied && replacedWith!.isExpired(key)) {
          wk.expired = true; // missing key replaced by an expired one: no change
          continue;
        }
        this.markDirty(wk.client);
      }
    }
  }

  /** True if a watched key (not already expired at WATCH) has a passed TTL now (checked by EXEC). */
  anyExpired(c: Client): boolean {
    const list = c.watched;
    if (list === null) return false;
    for (const wk of list) {
      if (wk.expired) continue;
      if (wk.db.dict.find(wk.key) >= 0 && wk.db.isExpired(wk.key)) return true;
    }
    return false;
  }

  /**
   * Before a WRITE command runs while someone watches: the watched keys it may
   * write, with their existence. Null (no allocation) when none is watched.
   */
  probe(c: Client, cmd: Command, argv: string[]): WatchProbe | null {
    if ((cmd.flags & CMD.WRITE) === 0) return null;
    let out: WatchProbe | null = null;
    forEachWrittenKey(c, cmd, argv, (db, key) => {
      out = this.add(out, db, key);
    });
    return out;
  }

  private add(out: WatchProbe | null, db: Db, key: string | undefined): WatchProbe | null {
    if (key === undefined) return out;
    const byKey = this.byDb.get(db);
    if (byKey === undefined || !byKey.has(key)) return out;
    if (out === null) out = { dbs: [], keys: [], existed: [] };
    out.dbs.push(db);
    out.keys.push(key);
    out.existed.push(db.dict.find(key) >= 0);
    return out;
  }

  /** After the write: touch the probed keys if the command changed anything. */
  settle(p: WatchProbe, changed: boolean): void {
    if (!changed) return;
    for (let i = 0; i < p.keys.length; i++) {
      const db = p.dbs[i];
      const key = p.keys[i];
      if (p.existed[i] || db.dict.find(key) >= 0) this.touched(db, key);
    }
  }
}

/**
 * The (database, key) pairs a WRITE command may modify: its key-spec keys not
 * flagged RO, COPY's destination in its DB, MOVE's key in the target database.
 * Shared by WATCH and client tracking (src/server/tracking.ts).
 */
export function forEachWrittenKey(c: Client, cmd: Command, argv: string[], fn: (db: Db, key: string) => void): void {
  const refs = getCommandKeys(cmd, argv);
  const name = cmd.fullname;
  for (const r of refs) {
    if (r.flags.includes('RO')) continue;
    let db = c.db;
    // COPY ... DB n writes its destination in another database.
    if (name === 'copy' && r.pos === 2) db = copyTargetDb(c, argv) ?? db;
    const key = argv[r.pos];
    if (key !== undefined) fn(db, key);
  }
  // MOVE key db also creates the key in the target database.
  if (name === 'move' && argv.length === 3) {
    const id = Number(argv[2]);
    const dst = Number.isInteger(id) ? c.server.dbs[id] : undefined;
    if (dst !== undefined) fn(dst, argv[1]);
  }
}

function copyTargetDb(c: Client, argv: string[]): Db | undefined {
  for (let j = 3; j + 1 < argv.length; j++) {
    if (argv[j].toLowerCase() === 'db') {
      const id = Number(argv[j + 1]);
      return Number.isInteger(id) ? c.server.dbs[id] : undefined;
    }
  }
  return undefined;
}
