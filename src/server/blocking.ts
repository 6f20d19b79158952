// Clients blocked on keys (BLPOP, BLMOVE, BLMPOP ... and later BZPOPMIN,
// BZMPOP, XREAD BLOCK), in the way Valkey 7.2+/8 does it:
//
//  - A command that finds nothing to serve calls block(): the client keeps its
//    command (argv) and stops processing further pipelined input (c.postponed),
//    and is queued, FIFO, on each key it waits for, per database.
//  - A write that creates a key (Db.add / Db.set) calls signalKeyReady() through
//    the database's readyHook, which is armed only while that database has
//    blocked keys. Ready keys are remembered once each and handled after the
//    command that produced them (the dispatcher calls handleReady()).
//  - handleReady() walks each ready key's queue in order; for every client whose
//    wanted type is what the key now holds, it unblocks the client and runs its
//    command again. The command either serves it (and its pipelined input then
//    resumes) or blocks it again (keeping its original deadline). Keys that
//    commands make ready meanwhile are handled in the same loop, so BLMOVE into
//    a key another client waits on chains.
//  - Deadlines: one timer per blocked client; on expiry the client gets the
//    command's timeout reply (a null array by default).
//
// Work per signal is O(clients blocked on that key); nothing scans all clients.
import { performance } from 'node:perf_hooks';
import type { Client } from './client.js';
import type { Server } from './server.js';
import type { Db } from '../keyspace/db.js';
import { clock } from '../keyspace/db.js';
import { objType, type ObjType } from '../keyspace/types.js';

/** How a blocking command waits; passed to BlockingManager.block(). */
export interface BlockOptions {
  /** Keys of c.db to wait on (duplicates are fine). */
  keys: string[];
  /** Absolute deadline in unix ms; 0 waits forever. */
  deadline: number;
  /** Type of value that can serve the command (a key of another type is ignored). */
  type: ObjType;
  /** Also wake when the key is deleted or changes type (XREADGROUP). */
  unblockOnNoKey?: boolean;
  /** Timeout reply; default: null array (RESP2 *-1, RESP3 _). */
  onTimeout?: (c: Client) => void;
}

/** The blocked state of one client. */
export class BlockedState {
  constructor(
    readonly client: Client,
    readonly db: Db,
    readonly argv: string[],
    readonly opts: BlockOptions,
  ) {}
  /** Distinct keys waited on. */
  keys: string[] = [];
  timer: NodeJS.Timeout | null = null;
}

/** Timer delays beyond this (about 24.8 days) are re-armed. */
const MAX_TIMER = 2147483647;

export class BlockingManager {
  /** Per database: key -> blocked clients in arrival order (Set keeps insertion order). */
  private readonly waiting = new Map<Db, Map<string, Set<BlockedState>>>();
  /** Keys made ready since the last handleReady(), in signal order, each once. */
  private ready: Array<[Db, string]> = [];
  private readonly readySet = new Map<Db, Set<string>>();
  private handling = false;
  /** Clients unblocked (served or timed out) whose pipelined input must resume. */
  private resumeQueue: Client[] = [];
  /** Set while a blocked command runs again: it keeps its deadline if it blocks again. */
  private reprocessing: BlockedState | null = null;
  /** Number of clients blocked on keys (INFO blocked_clients). */
  blockedCount = 0;
  /** Blocked clients that have a deadline (INFO clients_in_timeout_table). */
  withTimeout = 0;
  /** Number of (db, key) pairs with blocked clients (INFO total_blocking_keys). */
  blockingKeys = 0;
  /** Blocked clients waiting with unblockOnNoKey (INFO total_blocking_keys_on_nokey). */
  blockingKeysOnNoKey = 0;

  private readonly hook = (db: Db, key: string): void => this.signalKeyReady(db, key);

  constructor(private readonly server: Server) {}

  /** True when ready keys wait for handleReady(). */
  get pending(): boolean {
    return (this.ready.length !== 0 || this.resumeQueue.length !== 0) && !this.handling;
  }

  /** True when the client may block (not inside MULTI/EXEC, scripts, or a fake client). */
  canBlock(c: Client): boolean {
    return !c.denyBlocking && c.socket !== null;
  }

  /**
   * Blocks the client running `argv` on keys of its database. Call it from a
   * command handler instead of replying; the command runs again when a key is
   * ready, or the timeout reply is sent at the deadline.
   */
  block(c: Client, argv: string[], opts: BlockOptions): void {
    const db = c.db;
    const st = new BlockedState(c, db, argv, opts);
    const again = this.reprocessing;
    if (again !== null && again.client === c) {
      opts.deadline = again.opts.deadline;
      this.reprocessing = null;
    }
    let byKey = this.waiting.get(db);
    if (byKey === undefined) {
      byKey = new Map();
      this.waiting.set(db, byKey);
    }
    for (const key of opts.keys) {
      let q = byKey.get(key);
      if (q === undefined) {
        q = new Set();
        byKey.set(key, q);
        this.blockingKeys++;
      }
      if (q.has(st)) continue;
      q.add(st);
      st.keys.push(key);
    }
    db.readyHook = this.hook;
    c.blocked = st;
    c.postponed = argv;
    this.blockedCount++;
    if (opts.unblockOnNoKey) this.blockingKeysOnNoKey++;
    if (opts.deadline !== 0) {
      this.withTimeout++;
      this.armTimer(st);
    }
  }

  private armTimer(st: BlockedState): void {
    const left = Math.max(0, st.opts.deadline - Date.now());
    st.timer = setTimeout(() => this.onTimer(st), Math.min(left, MAX_TIMER));
  }

  private onTimer(st: BlockedState): void {
    st.timer = null;
    if (st.client.blocked !== st) return;
    if (Date.now() < st.opts.deadline) {
      this.armTimer(st);
      return;
    }
    this.timeoutClient(st.client);
    this.drain();
  }

  /** Removes the client from every queue and clears its blocked state (no reply). */
  private detach(st: BlockedState): void {
    const c = st.client;
    const byKey = this.waiting.get(st.db);
    if (byKey !== undefined) {
      for (const key of st.keys) {
        const q = byKey.get(key);
        if (q === undefined) continue;
        q.delete(st);
        if (q.size === 0) {
          byKey.delete(key);
          this.blockingKeys--;
        }
      }
      if (byKey.size === 0) {
        this.waiting.delete(st.db);
        st.db.readyHook = null;
      }
    }
    if (st.timer !== null) clearTimeout(st.timer);
    st.timer = null;
    if (st.opts.deadline !== 0) this.withTimeout--;
    if (st.opts.unblockOnNoKey) this.blockingKeysOnNoKey--;
    this.blockedCount--;
    c.blocked = null;
    c.postponed = null;
  }

  /** Forgets a client that disconnected while blocked. */
  removeClient(c: Client): void {
    if (c.blocked !== null) this.detach(c.blocked);
  }

  /** Unblocks with the command's timeout reply (deadline passed, or CLIENT UNBLOCK id TIMEOUT). */
  timeoutClient(c: Client): void {
    const st = c.blocked;
    if (st === null) return;
    this.detach(st);
    const mark = c.len;
    if (st.opts.onTimeout) st.opts.onTimeout(c);
    else c.addNullArray();
    this.applyReplyMode(c, mark);
    this.resumeQueue.push(c);
  }

  /** Unblocks with an error reply (CLIENT UNBLOCK id ERROR). */
  errorClient(c: Client, msg: string): void {
    const st = c.blocked;
    if (st === null) return;
    this.detach(st);
    const mark = c.len;
    c.addError(msg);
    this.applyReplyMode(c, mark);
    this.resumeQueue.push(c);
  }

  /** CLIENT REPLY OFF/SKIP for a reply produced after the command returned. */
  private applyReplyMode(c: Client, mark: number): void {
    const m = c.replyMode as number;
    if (m === 1 /* Off */ || m === 3 /* Skip */) c.len = mark;
    if (m === 3) c.replyMode = 0 as typeof c.replyMode;
    else if (m === 2 /* SkipNext */) c.replyMode = 3 as typeof c.replyMode;
  }

  /**
   * Notes that a key may now serve clients blocked on it. Cheap when nobody
   * waits on it; Db calls this (through readyHook) when a key is added or set.
   */
  signalKeyReady(db: Db, key: string): void {
    const byKey = this.waiting.get(db);
    if (byKey === undefined || !byKey.has(key)) return;
    let s = this.readySet.get(db);
    if (s === undefined) {
      s = new Set();
      this.readySet.set(db, s);
    }
    if (s.has(key)) return;
    s.add(key);
    this.ready.push([db, key]);
  }

  /** After SWAPDB: every blocked key of both databases that now exists may be ready. */
  onSwapDb(a: Db, b: Db): void {
    for (const db of [a, b]) {
      const byKey = this.waiting.get(db);
      if (byKey === undefined) continue;
      for (const key of byKey.keys()) if (db.peek(key) !== undefined) this.signalKeyReady(db, key);
    }
  }

  /**
   * After FLUSHDB/FLUSHALL: keys that clients wait on with unblockOnNoKey
   * (XREADGROUP) are gone, so those clients are served their error.
   */
  onFlush(db: Db): void {
    const byKey = this.waiting.get(db);
    if (byKey === undefined) return;
    for (const [key, q] of byKey) {
      for (const st of q) {
        if (st.opts.unblockOnNoKey) {
          this.signalKeyReady(db, key);
          break;
        }
      }
    }
  }

  /** Serves clients blocked on ready keys, then resumes their input. Re-entrant calls return at once. */
  handleReady(): void {
    if (this.handling) return;
    this.drain();
  }

  private drain(): void {
    if (this.handling) return;
    this.handling = true;
    try {
      for (;;) {
        while (this.ready.length !== 0) {
          const batch = this.ready;
          this.ready = [];
          this.readySet.clear();
          for (const [db, key] of batch) this.serveKey(db, key);
        }
        if (this.resumeQueue.length === 0) break;
        const resume = this.resumeQueue;
        this.resumeQueue = [];
        for (const c of resume) this.resume(c);
      }
    } finally {
      this.handling = false;
    }
  }

  private serveKey(db: Db, key: string): void {
    const q = this.waiting.get(db)?.get(key);
    if (q === undefined) return;
    // Only the clients queued now: one that blocks again goes to the back.
    const snapshot = [...q];
    for (const st of snapshot) {
      if (st.client.blocked !== st) continue;
      const v = db.peek(key);
      if (v === undefined ? !st.opts.unblockOnNoKey : objType(v) !== st.opts.type && !st.opts.unblockOnNoKey) continue;
      if (st.opts.unblockOnNoKey && (v === undefined || objType(v) !== st.opts.type)) {
        // Valkey unblocks XREADGROUP with an error when its key is deleted or changes type.
        this.errorClient(st.client, 'UNBLOCKED the stream key no longer exists');
        continue;
      }
      this.rerun(st);
    }
  }

  /** Unblocks the client and runs its command again (Valkey's reprocessing). */
  private rerun(st: BlockedState): void {
    const c = st.client;
    this.detach(st);
    if (c.closed) return;
    this.reprocessing = st;
    const server = this.server;
    clock.update();
    const wasIn = c.inProcess;
    c.inProcess = true;
    server.callClock = performance.now();
    server.execute(c, st.argv);
    c.inProcess = wasIn;
    if (this.reprocessing === st) this.reprocessing = null;
    if (c.blocked === null) this.resumeQueue.push(c);
  }

  /** Continues a served client's pipelined commands and writes its replies. */
  private resume(c: Client): void {
    if (c.closed) return;
    if (c.blocked === null && c.postponed === null) {
      c.socket?.resume();
      c.processInput();
    }
    if (c.inProcess) c.wake();
    else c.flush();
  }
}
