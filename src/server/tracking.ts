// Client-side caching: CLIENT TRACKING and the invalidation messages it implies.
//
// Default mode: after a READONLY command of a tracking client, the keys it
// named (from the key specs, as COMMAND GETKEYS finds them) are remembered in
// one server-wide table, key name -> ids of the clients that may cache it
// (databases are not told apart, as in Valkey). When a key changes, every
// client still tracking it gets one invalidation and the entry is dropped.
// BCAST mode: no table; every modified key matching one of the client's
// prefixes is collected per prefix and sent once per event-loop iteration.
//
// Where the signals come from (the same centralisation as WATCH, watch.ts):
//  - Server.call(), only while some client tracks (one integer check):
//    before a WRITE command, the keys it may write and whether they exist
//    (forEachWrittenKey); after it, if server.dirty moved, those that existed
//    or exist now are invalidated; after a READONLY command, its keys are
//    remembered; FLUSHDB/FLUSHALL send the "everything" invalidation (null).
//  - Db expiry (lazy and active) calls expired() through db.tracking.
// Messages to the client whose command caused them are queued and sent after
// that command's reply (after EXEC's whole reply inside a transaction).
import type { Client } from './client.js';
import type { Server } from './server.js';
import type { Db } from '../keyspace/db.js';
import { CMD, getCommandKeys, type Command, type HandlerMap } from '../commands/table.js';
import { forEachWrittenKey } from './watch.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_SYNTAX } from '../commands/errors.js';

/** Tracking state of one client (null on the client while tracking is off). */
export interface ClientTracking {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING YES (optin) / NO (optout) applies to the next command. */
  caching: boolean;
  brokenRedir: boolean;
  /** BCAST prefixes of this client. */
  prefixes: Set<string> | null;
}

/** One BCAST prefix: its clients and the keys modified since the last broadcast (key -> last writer). */
interface BcastState {
  clients: Set<Client>;
  keys: Map<string, Client | null>;
}

/** What call() noted before a write: keys it may modify and whether each existed. */
export interface TrackProbe {
  dbs: Db[];
  keys: string[];
  existed: boolean[];
}

const NO_REMEMBER = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

const bulkProto = (k: string): string => '$' + k.length + '\r\n' + k + '\r\n';

export class TrackingManager {
  readonly server: Server;
  /** Clients with tracking on (INFO tracking_clients). */
  clients = 0;
  /** Key -> ids of clients that may cache it. */
  readonly table = new Map<string, Set<number>>();
  /** Sum of the id sets' sizes (INFO tracking_total_items). */
  items = 0;
  readonly prefixes = new Map<string, BcastState>();
  /** Client whose outermost command is running, and the nesting depth of call(). */
  current: Client | null = null;
  depth = 0;
  /** Invalidations for `current`, sent after its reply (null = flush). */
  private pending: (string | null)[] = [];
  /**
   * The fake client scripts run their redis.call on, and the client running
   * the script (set by src/scripting while some client tracks): the keys a
   * script reads are remembered for its caller, as Valkey's call() does with
   * server.script_caller.
   */
  scriptFake: Client | null = null;
  scriptCaller: Client | null = null;
  private bcastScheduled = false;
  private limitRounds = 0;
  private armed = false;

  constructor(server: Server) {
    this.server = server;
  }

  // ------------------------------------------------------------ on / off

  enable(c: Client, redirect: number, opts: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }, prefixes: string[]): void {
    let t = c.tracking;
    if (t === null) {
      t = c.tracking = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, caching: false, brokenRedir: false, prefixes: null };
      this.clients++;
    }
    if (!this.armed) {
      this.armed = true;
      for (const db of this.server.dbs) db.tracking = this;
    }
    t.redirect = redirect;
    t.brokenRedir = false;
    t.bcast = opts.bcast;
    t.optin = opts.optin;
    t.optout = opts.optout;
    t.noloop = opts.noloop;
    if (opts.bcast) {
      if (prefixes.length === 0) this.addPrefix(c, t, '');
      for (const p of prefixes) this.addPrefix(c, t, p);
    }
  }

  private addPrefix(c: Client, t: ClientTracking, p: string): void {
    let bs = this.prefixes.get(p);
    if (bs === undefined) {
      bs = { clients: new Set(), keys: new Map() };
      this.prefixes.set(p, bs);
    }
    if (!bs.clients.has(c)) {
      bs.clients.add(c);
      (t.prefixes ??= new Set()).add(p);
    }
  }

  /** Tracking off (CLIENT TRACKING OFF, RESET, disconnect). Table entries go lazily. */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null) return;
    if (t.prefixes !== null) {
      for (const p of t.prefixes) {
        const bs = this.prefixes.get(p);
        if (bs === undefined) continue;
        bs.clients.delete(c);
        if (bs.clients.size === 0) this.prefixes.delete(p);
      }
    }
    c.tracking = null;
    this.clients--;
  }

  // ------------------------------------------------------------ around a command (Server.call)

  /** Before the handler: the keys a write may modify (null for other commands). */
  before(c: Client, cmd: Command, argv: string[]): TrackProbe | null {
    if (this.depth++ === 0) {
      this.current = c;
      if (this.table.size > this.server.trackingMaxKeys && this.server.trackingMaxKeys !== 0) this.limit();
    }
    if ((cmd.flags & CMD.WRITE) === 0) return null;
    const p: TrackProbe = { dbs: [], keys: [], existed: [] };
    forEachWrittenKey(c, cmd, argv, (db, key) => {
      p.dbs.push(db);
      p.keys.push(key);
      p.existed.push(db.dict.find(key) >= 0);
    });
    return p;
  }

  /** After the handler. */
  after(c: Client, cmd: Command, argv: string[], p: TrackProbe | null, changed: boolean): void {
    if (p !== null && changed) {
      for (let i = 0; i < p.keys.length; i++) {
        const key = p.keys[i];
        if (p.existed[i] || p.dbs[i].dict.find(key) >= 0) this.invalidateKey(c, key, true);
      }
    }
    const name = cmd.fullname;
    if ((name === 'flushdb' || name === 'flushall') && c.errorsInCall === 0) this.flushed();
    const t = c.tracking;
    if (t === null && c === this.scriptFake) {
      const sc = this.scriptCaller;
      const st = sc === null || sc.closed ? null : sc.tracking;
      if (st !== null && (cmd.flags & CMD.READONLY) !== 0 && !st.bcast) this.remember(sc!, st, cmd, argv);
    }
    if (t !== null) {
      if ((cmd.flags & CMD.READONLY) !== 0 && !t.bcast && !NO_REMEMBER.has(name)) this.remember(c, t, cmd, argv);
      // CLIENT CACHING lasts for one command (any CLIENT subcommand and MULTI keep it).
      if (c.multi === null && !name.startsWith('client|') && this.depth === 1) t.caching = false;
    }
    if (--this.depth === 0) {
      if (this.pending.length !== 0) this.sendPending();
      this.current = null;
    }
  }

  private remember(c: Client, t: ClientTracking, cmd: Command, argv: string[]): void {
    if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
    if ((cmd.flags & CMD.PUBSUB) !== 0) return;
    const refs = getCommandKeys(cmd, argv);
    for (const r of refs) {
      const key = argv[r.pos];
      if (key === undefined) continue;
      let ids = this.table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.table.set(key, ids);
      }
      if (!ids.has(c.id)) {
        ids.add(c.id);
        this.items++;
      }
    }
  }

  private sendPending(): void {
    const list = this.pending;
    this.pending = [];
    const c = this.current;
    if (c === null || c.closed || c.tracking === null) return;
    for (const key of list) this.send(c, key === null ? (c.resp === 3 ? '_\r\n' : '$-1\r\n') : '*1\r\n' + bulkProto(key));
  }

  // ------------------------------------------------------------ invalidation

  /** A key of `db` expired (lazily or actively). */
  expired(_db: Db, key: string): void {
    this.invalidateKey(null, key, true);
  }

  /**
   * `key` was modified by `by` (null: expiry or eviction). Clients caching it
   * are told, and in BCAST mode it is queued for matching prefixes.
   */
  invalidateKey(by: Client | null, key: string, bcast: boolean): void {
    if (bcast && this.prefixes.size !== 0) this.rememberForBroadcast(by, key);
    const ids = this.table.get(key);
    if (ids === undefined) return;
    const clients = this.server.clients;
    const cur = this.current;
    for (const id of ids) {
      const target = clients.get(id);
      if (target === undefined || target.closed) continue;
      const t = target.tracking;
      if (t === null || t.bcast) continue;
      if (t.noloop && target === cur) continue;
      if (target === cur) this.pending.push(key);
      else this.send(target, '*1\r\n' + bulkProto(key));
    }
    this.items -= ids.size;
    this.table.delete(key);
  }

  /** FLUSHDB / FLUSHALL: every tracking client is told that everything is invalid. */
  flushed(): void {
    if (this.clients !== 0) {
      const cur = this.current;
      for (const c of this.server.clients.values()) {
        if (c.tracking === null || c.closed) continue;
        if (c === cur) this.pending.push(null);
        else this.send(c, c.resp === 3 ? '_\r\n' : '$-1\r\n');
      }
    }
    this.table.clear();
    this.items = 0;
  }

  /**
   * Writes one invalidation (`proto` is the RESP of its value: an array of
   * keys or a null) to the client or to its REDIRECT client.
   */
  private send(c: Client, proto: string): void {
    const t = c.tracking!;
    let target = c;
    if (t.redirect !== 0) {
      const r = this.server.clients.get(t.redirect);
      if (r === undefined || r.closed) {
        t.brokenRedir = true;
        if (c.resp === 3) {
          c.addPushLen(2);
          c.addBulk('tracking-redir-broken');
          c.addInt(t.redirect);
          c.wake();
        }
        return;
      }
      target = r;
    }
    if (target.resp === 3) target.raw('>2\r\n$10\r\ninvalidate\r\n');
    else if (target !== c && target.subscribed) target.raw('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n');
    else return;
    target.raw(proto);
    target.wake();
    this.server.pubsub.checkOutputLimits(target);
  }

  // ------------------------------------------------------------ BCAST

  private rememberForBroadcast(by: Client | null, key: string): void {
    for (const [p, bs] of this.prefixes) {
      if (p.length > key.length || (p.length !== 0 && !key.startsWith(p))) continue;
      bs.keys.delete(key); // keep the last writer
      bs.keys.set(key, by);
      if (!this.bcastScheduled) {
        this.bcastScheduled = true;
        setImmediate(() => this.broadcast());
      }
    }
  }

  /** Sends, per prefix, the keys modified since the last call (once per event-loop iteration). */
  broadcast(): void {
    this.bcastScheduled = false;
    const names = [...this.prefixes.keys()].sort();
    for (const p of names) {
      const bs = this.prefixes.get(p)!;
      if (bs.keys.size === 0) continue;
      const keys = [...bs.keys.keys()].sort();
      let common: string | null = null;
      for (const c of bs.clients) {
        if (c.closed || c.tracking === null) continue;
        if (c.tracking.noloop) {
          let n = 0;
          let body = '';
          for (const k of keys) {
            if (bs.keys.get(k) === c) continue;
            n++;
            body += bulkProto(k);
          }
          if (n !== 0) this.send(c, '*' + n + '\r\n' + body);
        } else {
          if (common === null) {
            common = '*' + keys.length + '\r\n';
            for (const k of keys) common += bulkProto(k);
          }
          this.send(c, common);
        }
      }
      bs.keys = new Map();
    }
    if (this.server.pendingClients.size !== 0) this.server.flushPending();
  }

  // ------------------------------------------------------------ tracking-table-max-keys

  /** Over tracking-table-max-keys: invalidates keys (oldest first) until under it, with bounded effort. */
  limit(): void {
    const max = this.server.trackingMaxKeys;
    if (max === 0 || this.table.size <= max) {
      this.limitRounds = 0;
      return;
    }
    let effort = 100 * (this.limitRounds + 1);
    for (const key of this.table.keys()) {
      if (effort-- <= 0) break;
      this.invalidateKey(null, key, false);
      if (this.table.size <= max) {
        this.limitRounds = 0;
        return;
      }
    }
    this.limitRounds++;
  }
}

// ---------------------------------------------------------------- commands

const E_CACHING_MODE = 'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled';

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
function clientTracking(c: Client, argv: string[]): void {
  const mgr = c.server.tracking;
  let redir = 0;
  const opts = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === 'redirect' && more > 0) {
      j++;
      if (redir !== 0) {
        c.addError('ERR A client can only redirect to a single other client');
        return;
      }
      const v = parseInt64(argv[j]);
      if (v === null) {
        c.addError(E_NOT_INT);
        return;
      }
      const target = typeof v === 'number' ? c.server.clients.get(v) : undefined;
      if (target === undefined || target.closed) {
        c.addError('ERR The client ID you want redirect to does not exist');
        return;
      }
      redir = Number(v);
    } else if (opt === 'bcast') opts.bcast = true;
    else if (opt === 'optin') opts.optin = true;
    else if (opt === 'optout') opts.optout = true;
    else if (opt === 'noloop') opts.noloop = true;
    else if (opt === 'prefix' && more > 0) prefixes.push(argv[++j]);
    else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const mode = argv[2].toLowerCase();
  if (mode === 'on') {
    const t = c.tracking;
    if (!opts.bcast && prefixes.length !== 0) {
      c.addError('ERR PREFIX option requires BCAST mode to be enabled');
      return;
    }
    if (t !== null && t.bcast !== opts.bcast) {
      c.addError(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
      return;
    }
    if (opts.bcast && (opts.optin || opts.optout)) {
      c.addError('ERR OPTIN and OPTOUT are not compatible with BCAST');
      return;
    }
    if (opts.optin && opts.optout) {
      c.addError("ERR You can't specify both OPTIN mode and OPTOUT mode");
      return;
    }
    if (t !== null && ((opts.optin && t.optout) || (opts.optout && t.optin))) {
      c.addError(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
      return;
    }
    if (opts.bcast && !prefixesOk(c, prefixes)) return;
    mgr.enable(c, redir, opts, prefixes);
  } else if (mode === 'off') {
    mgr.disable(c);
  } else {
    c.addError(E_SYNTAX);
    return;
  }
  c.addOK();
}

/** C's %s stops at a NUL byte. */
const cstr = (s: string): string => {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
};

/** One string is a prefix of the other (or they are equal). */
const overlap = (a: string, b: string): boolean => (a.length <= b.length ? b.startsWith(a) : a.startsWith(b));

/**
 * Prefix collisions. Like Valkey, a collision between two new prefixes found
 * after the first one is reported and tracking is still enabled (the client
 * then also gets +OK): Valkey's check returns the index as its verdict.
 */
function prefixesOk(c: Client, prefixes: string[]): boolean {
  const mine = c.tracking?.prefixes ?? null;
  for (let i = 0; i < prefixes.length; i++) {
    if (mine !== null) {
      for (const old of [...mine].sort()) {
        if (overlap(old, prefixes[i])) {
          c.addError(`ERR Prefix '${cstr(prefixes[i])}' overlaps with an existing prefix '${cstr(old)}'. Prefixes for a single client must not overlap.`);
          return false;
        }
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlap(prefixes[i], prefixes[j])) {
        c.addError(
          `ERR Prefix '${cstr(prefixes[i])}' overlaps with another provided prefix '${cstr(prefixes[j])}'. Prefixes for a single client must not overlap.`,
        );
        return i !== 0;
      }
    }
  }
  return true;
}

function clientCaching(c: Client, argv: string[]): void {
  const t = c.tracking;
  if (t === null) {
    c.addError(E_CACHING_MODE);
    return;
  }
  const v = argv[2].toLowerCase();
  if (v === 'yes') {
    if (!t.optin) {
      c.addError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
      return;
    }
  } else if (v === 'no') {
    if (!t.optout) {
      c.addError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
      return;
    }
  } else {
    c.addError(E_SYNTAX);
    return;
  }
  t.caching = true;
  c.addOK();
}

function clientGetRedir(c: Client): void {
  c.addInt(c.tracking === null ? -1 : c.tracking.redirect);
}

function clientTrackingInfo(c: Client): void {
  const t = c.tracking;
  const flags: string[] = [];
  if (t === null) flags.push('off');
  else {
    flags.push('on');
    if (t.bcast) flags.push('bcast');
    if (t.optin) {
      flags.push('optin');
      if (t.caching) flags.push('caching-yes');
    }
    if (t.optout) {
      flags.push('optout');
      if (t.caching) flags.push('caching-no');
    }
    if (t.noloop) flags.push('noloop');
    if (t.brokenRedir) flags.push('broken_redirect');
  }
  c.addMapLen(3);
  c.addBulk('flags');
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulk(f);
  c.addBulk('redirect');
  c.addInt(t === null ? -1 : t.redirect);
  c.addBulk('prefixes');
  const ps = t?.prefixes ? [...t.prefixes].sort() : [];
  c.addBulkArray(ps);
}

export const trackingCommands: HandlerMap = {
  'client|tracking': clientTracking,
  'client|caching': clientCaching,
  'client|getredir': clientGetRedir,
  'client|trackinginfo': clientTrackingInfo,
};
