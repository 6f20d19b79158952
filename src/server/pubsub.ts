// Pub/Sub state: channel, pattern and shard-channel subscriptions, message
// fan-out and client output buffer limits (client-output-buffer-limit).
//
// Fan-out encodes a message once into a Buffer per protocol version (RESP2
// "*3 message ch msg" / RESP3 ">3 ..."; the two differ only in the first byte)
// and appends that Buffer to every subscriber's reply buffer; each subscriber's
// flush is scheduled with wake(). After each append the subscriber's pending
// output (unflushed replies plus what the socket still holds) is checked against
// its class's hard and soft limits, so a subscriber that stops reading is
// dropped instead of growing the server's memory without bound.
import type { Client } from './client.js';
import type { Server } from './server.js';
import { globMatch } from '../util/glob.js';

/** One client's subscriptions (allocated at its first subscribe). */
export interface ClientSubs {
  channels: Set<string>;
  patterns: Set<string>;
  shard: Set<string>;
}

export const enum Kind {
  Channel = 0,
  Shard = 1,
}

/** Hard limit, soft limit (bytes; 0 = none) and soft seconds of one client class. */
export interface ObufLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** Classes in CONFIG GET order (Valkey prints the replica class as "slave"). */
export const OBUF_CLASSES = ['normal', 'slave', 'pubsub'] as const;
export type ObufClass = 0 | 1 | 2;

/** Up to this many subscribers of a channel, messages are written without a shared frame. */
const DIRECT_MAX = 4;

/** Commands a RESP2 client may run while subscribed. */
const ALLOWED_IN_CONTEXT = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);

const CRLF = '\r\n';

function bulkLen(s: string): number {
  return 1 + String(s.length).length + 2 + s.length + 2;
}

function writeBulk(b: Buffer, p: number, s: string): number {
  p += b.latin1Write('$' + s.length + CRLF, p);
  p += b.latin1Write(s, p);
  p += b.latin1Write(CRLF, p);
  return p;
}

/** Encodes "*n\r\n" followed by bulk strings (RESP2 form; RESP3 swaps the first byte for '>'). */
function encodeFrame(parts: string[]): Buffer {
  const head = '*' + parts.length + CRLF;
  let n = head.length;
  for (const s of parts) n += bulkLen(s);
  const b = Buffer.allocUnsafe(n);
  let p = b.latin1Write(head, 0);
  for (const s of parts) p = writeBulk(b, p, s);
  return b;
}

/**
 * The subscribers of one channel, with the start of that channel's message
 * frame ("*3 $message $<channel>", RESP2 form) encoded at the first direct
 * delivery: messages to few subscribers are then one copy of this prefix plus
 * the payload, written straight into each subscriber's reply buffer.
 */
export class Subscribers extends Set<Client> {
  prefix: Buffer | null = null;
}

/** Writes `$<len>\r\n<s>\r\n` at p of b (room checked by the caller); returns the new end. */
function putBulk(b: Buffer, p: number, s: string): number {
  const n = s.length;
  b[p++] = 36; // $
  if (n < 10) b[p++] = 48 + n;
  else if (n < 100) {
    const t = (n / 10) | 0;
    b[p++] = 48 + t;
    b[p++] = 48 + n - t * 10;
  } else p += b.latin1Write(String(n), p);
  b[p++] = 13;
  b[p++] = 10;
  if (n <= 32) for (let k = 0; k < n; k++) b[p++] = s.charCodeAt(k);
  else p += b.latin1Write(s, p, n);
  b[p++] = 13;
  b[p++] = 10;
  return p;
}

/** "*3\r\n$<kind>\r\n$<channel>\r\n": a message frame up to its payload. */
function encodePrefix(kind: string, channel: string): Buffer {
  const head = '*3' + CRLF;
  const b = Buffer.allocUnsafeSlow(head.length + bulkLen(kind) + bulkLen(channel));
  let p = b.latin1Write(head, 0);
  p = writeBulk(b, p, kind);
  writeBulk(b, p, channel);
  return b;
}

function toResp3(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[0] = 62; // '>'
  return c;
}

/** Parses a client-output-buffer-limit value ("class hard soft seconds ..."); canonical full form or an error. */
export function parseObufLimits(value: string, current: string | undefined): { value: string } | { error: string } {
  const parts = value.split(/[ \t]+/).filter((x) => x !== '');
  // An empty value changes nothing (the class list is a set of updates).
  if (parts.length === 0) return { value: current ?? DEFAULT_OBUF };
  if (parts.length % 4 !== 0) return { error: 'Wrong number of arguments in buffer limit configuration.' };
  const limits = decodeObuf(current ?? DEFAULT_OBUF);
  const updates: [number, ObufLimit][] = [];
  for (let i = 0; i < parts.length; i += 4) {
    const name = parts[i].toLowerCase();
    const cls = name === 'normal' ? 0 : name === 'slave' || name === 'replica' ? 1 : name === 'pubsub' ? 2 : -1;
    if (cls < 0) return { error: 'Invalid client class specified in buffer limit configuration.' };
    const hard = parseMem(parts[i + 1]);
    const soft = parseMem(parts[i + 2]);
    const secs = /^-?\d+$/.test(parts[i + 3]) ? Number(parts[i + 3]) : NaN;
    if (hard === null || soft === null || !(secs >= 0) || secs > 2 ** 63) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    updates.push([cls, { hard, soft, softSeconds: secs }]);
  }
  for (const [cls, l] of updates) limits[cls] = l;
  return { value: encodeObuf(limits) };
}

/** Memory value like Valkey's memtoull ("1mb", "512kb", "100"); null when malformed. */
function parseMem(s: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const mul: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = Number(m[1]) * mul[(m[2] ?? '').toLowerCase()];
  return Number.isFinite(v) ? v : null;
}

export const DEFAULT_OBUF = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';

export function decodeObuf(v: string): ObufLimit[] {
  const p = v.split(' ');
  const out: ObufLimit[] = [];
  for (let i = 0; i + 3 < p.length; i += 4) out.push({ hard: Number(p[i + 1]), soft: Number(p[i + 2]), softSeconds: Number(p[i + 3]) });
  return out;
}

function encodeObuf(l: ObufLimit[]): string {
  return l.map((x, i) => `${OBUF_CLASSES[i]} ${x.hard} ${x.soft} ${x.softSeconds}`).join(' ');
}

export class PubSub {
  readonly server: Server;
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  readonly shardChannels = new Map<string, Set<Client>>();
  /** Clients in Pub/Sub mode (INFO pubsub_clients). */
  clientCount = 0;
  limits: ObufLimit[] = decodeObuf(DEFAULT_OBUF);
  /** Clients over an output buffer limit, closed once the current fan-out is done. */
  private toClose: Client[] = [];
  /** The channel last published to with subscribers, and its subscriber set (see publish). */
  private lastName = '';
  private lastSet: Set<Client> | undefined = undefined;
  private lastShard = false;

  constructor(server: Server) {
    this.server = server;
  }

  setLimits(v: string): void {
    this.limits = decodeObuf(v);
  }

  // ------------------------------------------------------------ per client

  static subs(c: Client): ClientSubs {
    let s = c.subs;
    if (s === null) s = c.subs = { channels: new Set(), patterns: new Set(), shard: new Set() };
    return s;
  }

  /** Channels + patterns (the count SUBSCRIBE/PSUBSCRIBE/(P)UNSUBSCRIBE report). */
  static count(c: Client): number {
    const s = c.subs;
    return s === null ? 0 : s.channels.size + s.patterns.size;
  }

  static total(c: Client): number {
    const s = c.subs;
    return s === null ? 0 : s.channels.size + s.patterns.size + s.shard.size;
  }

  mark(c: Client): void {
    if (!c.subscribed) {
      c.subscribed = true;
      this.clientCount++;
    }
  }

  unmarkIfIdle(c: Client): void {
    if (c.subscribed && PubSub.total(c) === 0) {
      c.subscribed = false;
      this.clientCount--;
    }
  }

  /** A RESP2 subscribed client may run only a few commands; returns the error or null. */
  static contextError(c: Client, fullname: string): string | null {
    if (ALLOWED_IN_CONTEXT.has(fullname)) return null;
    return `ERR Can't execute '${fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
  }

  private reply3(c: Client, kind: string, name: string | null, count: number): void {
    c.addPushLen(3);
    c.addBulk(kind);
    if (name === null) c.addNull();
    else c.addBulk(name);
    c.addInt(count);
  }

  subscribe(c: Client, name: string, kind: Kind): void {
    const s = PubSub.subs(c);
    const mine = kind === Kind.Shard ? s.shard : s.channels;
    if (!mine.has(name)) {
      mine.add(name);
      const table = kind === Kind.Shard ? this.shardChannels : this.channels;
      let set = table.get(name);
      if (set === undefined) table.set(name, (set = new Subscribers()));
      set.add(c);
    }
    if (kind === Kind.Shard) this.reply3(c, 'ssubscribe', name, s.shard.size);
    else this.reply3(c, 'subscribe', name, s.channels.size + s.patterns.size);
  }

  unsubscribe(c: Client, name: string, kind: Kind, notify: boolean): boolean {
    const s = PubSub.subs(c);
    const mine = kind === Kind.Shard ? s.shard : s.channels;
    let removed = false;
    if (mine.delete(name)) {
      removed = true;
      const table = kind === Kind.Shard ? this.shardChannels : this.channels;
      const set = table.get(name);
      if (set !== undefined) {
        set.delete(c);
        if (set.size === 0) {
          table.delete(name);
          if (set === this.lastSet) this.lastSet = undefined;
        }
      }
    }
    if (notify) {
      if (kind === Kind.Shard) this.reply3(c, 'sunsubscribe', name, s.shard.size);
      else this.reply3(c, 'unsubscribe', name, s.channels.size + s.patterns.size);
    }
    return removed;
  }

  unsubscribeAll(c: Client, kind: Kind, notify: boolean): void {
    const s = PubSub.subs(c);
    const mine = kind === Kind.Shard ? s.shard : s.channels;
    let n = 0;
    for (const name of [...mine]) if (this.unsubscribe(c, name, kind, notify)) n++;
    if (notify && n === 0) this.reply3(c, kind === Kind.Shard ? 'sunsubscribe' : 'unsubscribe', null, kind === Kind.Shard ? s.shard.size : PubSub.count(c));
  }

  psubscribe(c: Client, pat: string): void {
    const s = PubSub.subs(c);
    if (!s.patterns.has(pat)) {
      s.patterns.add(pat);
      let set = this.patterns.get(pat);
      if (set === undefined) this.patterns.set(pat, (set = new Set()));
      set.add(c);
    }
    this.reply3(c, 'psubscribe', pat, s.channels.size + s.patterns.size);
  }

  punsubscribe(c: Client, pat: string, notify: boolean): boolean {
    const s = PubSub.subs(c);
    let removed = false;
    if (s.patterns.delete(pat)) {
      removed = true;
      const set = this.patterns.get(pat);
      if (set !== undefined) {
        set.delete(c);
        if (set.size === 0) this.patterns.delete(pat);
      }
    }
    if (notify) this.reply3(c, 'punsubscribe', pat, s.channels.size + s.patterns.size);
    return removed;
  }

  punsubscribeAll(c: Client, notify: boolean): void {
    const s = PubSub.subs(c);
    let n = 0;
    for (const p of [...s.patterns]) if (this.punsubscribe(c, p, notify)) n++;
    if (notify && n === 0) this.reply3(c, 'punsubscribe', null, PubSub.count(c));
  }

  /** Drops every subscription silently (connection closed, RESET). */
  removeClient(c: Client): void {
    if (c.subs !== null) {
      this.unsubscribeAll(c, Kind.Channel, false);
      this.unsubscribeAll(c, Kind.Shard, false);
      this.punsubscribeAll(c, false);
    }
    this.unmarkIfIdle(c);
  }

  // ------------------------------------------------------------ fan-out

  /** Delivers a message; returns the number of receivers (pattern matches count once per pattern). */
  publish(channel: string, message: string, shard: boolean): number {
    let receivers = 0;
    // A stream of messages to one channel: compare the name with the last one instead of hashing it
    // (a subscriber set leaves its table when it empties, so a non-empty cached set is still the table's).
    let set = this.lastSet;
    if (set === undefined || channel !== this.lastName || shard !== this.lastShard || set.size === 0) {
      set = (shard ? this.shardChannels : this.channels).get(channel);
      if (set !== undefined) {
        this.lastName = channel;
        this.lastSet = set;
        this.lastShard = shard;
      }
    }
    if (set !== undefined) {
      if (set.size <= DIRECT_MAX) receivers += this.deliverDirect(set, shard ? 'smessage' : 'message', channel, message);
      else receivers += this.deliver(set, encodeFrame([shard ? 'smessage' : 'message', channel, message]));
    }
    if (!shard && this.patterns.size !== 0) {
      for (const [pat, clients] of this.patterns) {
        if (!globMatch(pat, channel)) continue;
        receivers += this.deliver(clients, encodeFrame(['pmessage', pat, channel, message]));
      }
    }
    if (this.toClose.length !== 0) this.closeOverLimit();
    return receivers;
  }

  /**
   * Few subscribers: write the message straight into each reply buffer (the
   * channel's cached frame prefix, then the payload), which costs less than
   * encoding a shared frame first and copying it.
   */
  private deliverDirect(clients: Set<Client>, kind: string, channel: string, message: string): number {
    let pre = (clients as Subscribers).prefix;
    if (pre === undefined || pre === null) {
      pre = encodePrefix(kind, channel);
      if (clients instanceof Subscribers) clients.prefix = pre;
    }
    const plen = pre.length;
    const need = plen + message.length + 24;
    let n = 0;
    for (const c of clients) {
      n++;
      if (c.closed || c.obufClosing) continue;
      const start = c.len;
      if (start + need <= c.out.length) {
        const o = c.out;
        let p = start;
        for (let j = 0; j < plen; j++) o[p++] = pre[j];
        c.len = putBulk(o, p, message);
      } else {
        c.rawBuf(pre);
        c.addBulk(message);
      }
      if (c.resp === 3) c.out[start] = 62; // '>'
      c.wake();
      this.checkOutputLimits(c);
    }
    return n;
  }

  private deliver(clients: Set<Client>, frame2: Buffer): number {
    let frame3: Buffer | null = null;
    let n = 0;
    for (const c of clients) {
      n++;
      if (c.closed || c.obufClosing) continue;
      if (c.resp === 2) c.rawBuf(frame2);
      else c.rawBuf(frame3 ?? (frame3 = toResp3(frame2)));
      c.wake();
      this.checkOutputLimits(c);
    }
    return n;
  }

  // ------------------------------------------------------------ output buffer limits

  /**
   * Checks a client's pending output against its class's limits; a client over
   * the hard limit, or over the soft limit for longer than the soft seconds, is
   * queued for closing. Returns true when it was queued.
   */
  checkOutputLimits(c: Client): boolean {
    // Class of the client (Valkey's getClientTypeByName order: normal 0, replica 1, pubsub 2); a master is never limited.
    const type = c.clientType();
    if (type === 'master') return false;
    const l = this.limits[type === 'replica' ? 1 : type === 'pubsub' ? 2 : 0];
    if (l.hard === 0 && l.soft === 0) return false;
    if (c.closed || c.obufClosing) return c.obufClosing;
    const used = c.len + c.queuedOut();
    const hard = l.hard !== 0 && used >= l.hard;
    let soft = l.soft !== 0 && used >= l.soft;
    if (soft) {
      const now = Date.now();
      if (c.obufSoftSince === 0) {
        c.obufSoftSince = now;
        soft = false;
      } else if (now - c.obufSoftSince <= l.softSeconds * 1000) {
        soft = false;
      }
    } else {
      c.obufSoftSince = 0;
    }
    if (!hard && !soft) return false;
    c.obufClosing = true;
    this.server.log.warning(`Client ${c.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    this.server.stats.clientOutputBufferLimitDisconnections++;
    // The buffered output is dropped, not written.
    c.len = 0;
    this.toClose.push(c);
    if (this.toClose.length === 1) setImmediate(() => this.closeOverLimit());
    return true;
  }

  closeOverLimit(): void {
    const list = this.toClose;
    if (list.length === 0) return;
    this.toClose = [];
    for (const c of list) c.closeNow();
  }

  // ------------------------------------------------------------ introspection

  static listChannels(c: Client, table: Map<string, Set<Client>>, pat: string | null): void {
    const out: string[] = [];
    for (const name of table.keys()) if (pat === null || globMatch(pat, name)) out.push(name);
    c.addBulkArray(out);
  }
}
