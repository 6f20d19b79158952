// Replication (Valkey's PSYNC2): both roles of a server.
//
// Primary side: the replication stream is the propagation stream
// (src/server/propagate.ts) encoded as RESP with SELECT when the db changes.
// It feeds a circular backlog (repl-backlog-size) and every replica. A replica
// asks with PSYNC <replid> <offset>: when the backlog holds its offset under
// our replid (or replid2 up to second_repl_offset, after a failover) it gets
// +CONTINUE and the missing bytes; otherwise +FULLRESYNC <replid> <offset>, an
// RDB produced by the fork-less point-in-time snapshot (diskless with the
// $EOF:<mark> framing, or through a temp file with $<len>), while the stream
// from that offset is buffered for it, then the live stream. Replicas send
// REPLCONF ACK <offset> every second (lag, WAIT, min-replicas-to-write).
// Each unit of the stream is encoded once into the turn's buffer
// (src/replication/stream-buf.ts); at the end of the event-loop turn those
// bytes go to the backlog and, with one write each, to every live replica.
// A lone command reaches feed() in the propagation stream's reused one-op unit:
// with replicas attached a write allocates nothing for the stream.
//
// Replica side: REPLICAOF host port connects, does the handshake (PING, AUTH,
// REPLCONF listening-port / ip-address / capa eof capa psync2, PSYNC), loads
// the RDB (repl-diskless-load disabled: received whole, then loaded into
// emptied databases; on-empty-db / swapdb: parsed as it streams in, see
// src/replication/sync-load.ts) and applies the stream through the normal
// dispatcher with a master client whose replies are dropped (REPLCONF GETACK
// answers ACK), in batches: a batch of complete commands is parsed first and
// their keys prefetched together (src/replication/stream-parse.ts); the live
// stream is read in place into reused memory (src/replication/link-read.ts). The raw bytes of the stream go on, unchanged, to its own
// backlog and sub-replicas (chained replication), so offsets match the
// primary's. A replica does not expire keys itself (src/keyspace/db.ts
// server.keyspace.replica): it hides logically expired keys and waits for the DEL.
//
// FAILOVER pauses writes, waits until the target replica ACKed everything,
// turns this server into its replica and sends PSYNC ... FAILOVER, which makes
// the target promote itself and answer +CONTINUE.
//
// When no replica was ever attached there is no backlog and no propagation
// target: nothing here runs per command.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { serverPath } from '../persistence/paths.js';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { CMD, type Command } from '../commands/table.js';
import { clock } from '../keyspace/db.js';
import { encodeCommand, type PropagatedOp, type PropagationTarget } from '../server/propagate.js';
import { StreamBuf, selectBytes } from './stream-buf.js';
import { RdbSnapshot, type RdbSink } from '../persistence/rdb/snapshot.js';
import { RdbLoader } from '../persistence/rdb/file.js';
import { AofWaits } from './waitaof.js';
import { libraryCodes, scriptingOf } from '../scripting/index.js';
import { addSnapshot, auxFields, loadLimits, removeSnapshot } from '../persistence/manager.js';
import { decodeObuf } from '../server/pubsub.js';
import type { AclUser } from '../acl/acl.js';
import { Backlog } from './backlog.js';
import { SyncLoad } from './sync-load.js';
import { parseMultibulk, parsed } from './stream-parse.js';
import { LinkReader } from './link-read.js';
import { LOADING_ERR } from '../persistence/manager.js';

/** How many commands of the stream a replica parses (and prefetches the keys of) before applying them. */
const APPLY_BATCH = 16;
const NO_ARGV: string[] = [];

const NULL_ID = '0000000000000000000000000000000000000000';
const EMPTY = Buffer.alloc(0);
/** Diskless transfer: stop serializing while a replica socket holds more than this. */
const SEND_HIGH_WATER = 8 * 1024 * 1024;

export type ReplicaState = 'wait_bgsave' | 'send_bulk' | 'online';

/** A replica attached to this server (primary side). */
export class ReplicaConn {
  state: ReplicaState = 'wait_bgsave';
  /** REPLCONF listening-port / ip-address. */
  port = 0;
  ip = '';
  capaEof = false;
  capaPsync2 = false;
  /** Came with SYNC (no +FULLRESYNC line, always $<len> framing). */
  oldSync = false;
  ackOffset = 0;
  /** REPLCONF ACK ... FACK <offset>: up to where the replica's AOF is fsynced (-1: never said). */
  aofAckOffset = -1;
  ackTime = Date.now();
  /** Stream bytes buffered while the RDB is produced or until the replica's first ACK; null when live. */
  pending: Buffer[] | null = null;
  pendingBytes = 0;
  /** Diskless transfer done: the stream starts on the first REPLCONF ACK. */
  waitAck = false;
  obufSoftSince = 0;
  /** Where this replica's part of the turn's stream bytes starts (it went live mid-turn with the earlier ones). */
  turnFrom = 0;
  constructor(readonly client: Client) {}
  get socket(): net.Socket {
    return this.client.socket!;
  }
}

interface SyncJob {
  replicas: ReplicaConn[];
  started: boolean;
  diskless: boolean;
  snap: RdbSnapshot | null;
  mark: string;
  file: string;
  fd: number;
  timer: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null;
}

interface Waiter {
  c: Client;
  offset: number;
  num: number;
  timer: NodeJS.Timeout | null;
}

type LinkState = 'none' | 'connect' | 'connecting' | 'handshake' | 'sync' | 'connected';

/** Writes snapshot chunks to every replica of a diskless transfer. */
class ReplicasSink implements RdbSink {
  constructor(private readonly job: SyncJob) {}
  write(chunk: Buffer): void {
    const copy = Buffer.from(chunk);
    for (const r of this.job.replicas) r.socket.write(copy);
  }
}

class FdSink implements RdbSink {
  constructor(private readonly fd: number) {}
  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
  }
}

export class Replication implements PropagationTarget {
  /** PROPAGATE_REPL (src/server/propagate.ts): ops a script sent only to the AOF (redis.set_repl) skip replicas. */
  readonly propagationKind = 2;
  replId2 = NULL_ID;
  secondOffset = -1;
  /** master_repl_offset: bytes of replication stream produced (primary) or received (replica). */
  offset = 0;
  /** Offset after the last write of the propagation stream (WAIT waits for it; PINGs and GETACKs come after). */
  private dataOffset = 0;
  backlog: Backlog | null = null;
  /** Database the stream last selected (-1: the next command selects). */
  private readonly sel = { db: -1 };
  readonly replicas = new Set<ReplicaConn>();
  private readonly byClient = new Map<Client, ReplicaConn>();
  /** REPLCONF options a client sent before PSYNC. */
  private readonly preconf = new WeakMap<Client, Record<string, unknown>>();
  private job: SyncJob | null = null;
  private waitingFull: ReplicaConn[] = [];
  private waiters: Waiter[] = [];
  private getackQueued = false;
  stats = { syncFull: 0, syncPartialOk: 0, syncPartialErr: 0, replInBytes: 0, replOutBytes: 0 };
  private timer: NodeJS.Timeout | null = null;
  private lastPing = 0;
  private noReplicasSince = Date.now();
  /** True while the dispatcher must ask check() (replica role, or min-replicas-to-write). */
  gated = false;
  /** True while the master's stream is applied (our own encoding of it is skipped). */
  private applying = false;

  // ---- replica role
  masterHost = '';
  masterPort = 0;
  linkState: LinkState = 'none';
  private sock: net.Socket | null = null;
  private inbuf: Buffer = EMPTY;
  private hsStep = 0;
  private lastIo = 0;
  private linkDownSince = 0;
  /** Bulk transfer: -1 until the $ line; then byte count or -2 for EOF-marked. */
  private bulkLen = -1;
  private eofMark = '';
  private bulkChunks: Buffer[] = [];
  private bulkGot = 0;
  private fullReplId = '';
  private fullOffset = 0;
  /** The master client: applies the stream; its replies are dropped. */
  masterClient: Client | null = null;
  private pauseRetry = false;
  /** Offset of the stream before the command being applied (REPLCONF ACK answers this). */
  private applyOffset = 0;
  /** repl-diskless-load on-empty-db / swapdb: the RDB being loaded as it streams in (src/replication/sync-load.ts). */
  private sload: SyncLoad | null = null;
  private sloadTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** $EOF: framing, the RDB parsed: the mark and the stream follow in inbuf. */
  private sloadMark = false;
  /** swapdb with the primary's history: clients keep reading the old data (INFO async_loading). */
  asyncLoading = false;

  constructor(private readonly server: Server) {}

  get isReplica(): boolean {
    return this.masterHost !== '';
  }

  /** Cluster failover (cluster-replica-validity-factor): ms since the primary last spoke, or since the link went down. */
  masterDataAge(now: number): number {
    return this.linkState === 'connected' ? now - this.lastIo : now - this.linkDownSince;
  }

  // ================================================================ lifecycle

  /** After listening: `replicaof` from the config. */
  start(): void {
    const v = this.server.config.get('replicaof').trim();
    if (v !== '') {
      const [h, p] = v.split(/\s+/);
      this.setMaster(h, Number(p));
    }
    this.updateGate();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.failover?.timer) clearInterval(this.failover.timer);
    this.failover = null;
    this.closeLink();
    this.abortJob();
  }

  onConfig(name: string): void {
    if (name === 'repl-backlog-size' && this.backlog !== null) {
      this.settleBacklog();
      this.backlog.resize(this.backlogSize());
    }
    if (name.startsWith('min-replicas') || name.startsWith('replica-') || name.startsWith('slave-')) this.updateGate();
  }

  private backlogSize(): number {
    return Math.max(16 * 1024, this.server.config.num('repl-backlog-size'));
  }

  private ensureTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.cron(), 1000);
    this.timer.unref();
  }

  private updateGate(): void {
    this.gated = this.isReplica || this.server.config.num('min-replicas-to-write') > 0;
  }

  /** The dispatcher's check while `gated`: -NOREPLICAS, -READONLY, -MASTERDOWN. */
  check(c: Client, cmd: Command): string | null {
    if (c === this.masterClient) return null;
    let flags = cmd.flags;
    if (c.multi !== null && cmd.name === 'exec') flags |= c.multi.flags;
    const write = (flags & CMD.WRITE) !== 0;
    const cfg = this.server.config;
    if (!this.isReplica) {
      const min = cfg.num('min-replicas-to-write');
      if (write && min > 0 && this.goodReplicas() < min) return 'NOREPLICAS Not enough good replicas to write.';
      return null;
    }
    if (write && cfg.bool('replica-read-only')) return "READONLY You can't write against a read only replica.";
    if (this.asyncLoading && (cmd.flags & CMD.NO_ASYNC_LOADING) !== 0) return LOADING_ERR;
    if (this.linkState !== 'connected' && !cfg.bool('replica-serve-stale-data') && (cmd.flags & CMD.STALE) === 0) {
      return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    }
    return null;
  }

  /** Replicas whose last ACK is at most min-replicas-max-lag seconds old. */
  goodReplicas(): number {
    const maxLag = this.server.config.num('min-replicas-max-lag') * 1000;
    const now = Date.now();
    let n = 0;
    for (const r of this.replicas) if (r.state === 'online' && r.pending === null && now - r.ackTime <= maxLag) n++;
    return n;
  }

  private cron(): void {
    const cfg = this.server.config;
    const now = Date.now();
    const timeoutMs = cfg.num('repl-timeout') * 1000;
    // Replica role: connect, keep the link alive, time out a silent master.
    if (this.isReplica) {
      if (this.linkState === 'connect') this.connect();
      else if (this.linkState !== 'none' && now - this.lastIo > timeoutMs) {
        this.server.log.warning('MASTER timeout: no data nor PING received...');
        this.linkLost();
      } else if (this.linkState === 'connected') this.sendAck();
    }
    // Primary side: PING replicas, drop silent ones, free an unused backlog.
    if (this.replicas.size !== 0) {
      const period = cfg.num('repl-ping-replica-period') * 1000;
      if (!this.isReplica && now - this.lastPing >= period) {
        this.lastPing = now;
        this.feedRaw(encodeCommand(['PING']));
      }
      for (const r of [...this.replicas]) {
        if (r.state === 'online' && r.pending === null && now - r.ackTime > timeoutMs) {
          this.server.log.warning(`Disconnecting timedout replica: ${this.replicaAddr(r)}`);
          this.dropReplica(r);
        } else if (r.state === 'wait_bgsave' && r.pending === null) {
          // Waiting for the transfer to start: a newline keeps its read timeout from firing.
          r.socket.write('\n');
        }
        this.checkObuf(r);
      }
    } else if (this.backlog !== null && !this.isReplica) {
      const ttl = cfg.num('repl-backlog-ttl');
      if (ttl > 0 && now - this.noReplicasSince > ttl * 1000) {
        this.server.log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
        this.freeBacklog();
      }
    }
    if (!this.isReplica && this.replicas.size === 0 && this.backlog === null && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  // ================================================================ the stream

  private createBacklog(): void {
    if (this.backlog !== null) return;
    this.backlog = new Backlog(this.backlogSize(), this.offset);
    this.server.prop.addTarget(this);
    this.ensureTimer();
  }

  private freeBacklog(): void {
    if (this.backlog === null) return;
    this.backlog = null;
    this.turn.reset(true); // unsent bytes of the old history go nowhere
    this.server.prop.removeTarget(this);
  }

  /** This turn's outgoing stream bytes (src/replication/stream-buf.ts). */
  private readonly turn = new StreamBuf();

  /** PropagationTarget: a unit of the propagation stream (ignored while applying our master's stream). */
  feed(ops: PropagatedOp[]): void {
    if (this.applying || this.isReplica || this.backlog === null) return;
    // Encoded once, straight into the turn's buffer; SELECT when the db changes (not before a transaction's EXEC).
    const t = this.turn;
    const start = t.len;
    const sel = this.sel;
    const n = ops.length;
    for (let i = 0; i < n; i++) {
      const op = ops[i];
      if (op.db !== sel.db && !(n > 1 && i === n - 1)) {
        t.appendBytes(selectBytes(op.db));
        sel.db = op.db;
      }
      t.appendCommand(op.argv);
    }
    this.commit(start);
    this.dataOffset = this.offset;
  }

  /** Appends bytes to the stream: backlog, live replicas, buffers of syncing ones. */
  private feedRaw(b: Buffer): void {
    if (this.backlog === null) return;
    if (this.replicas.size === 0 && this.turn.len === 0) {
      // Nobody to write to (a replica applying its primary's stream, no sub-replica): straight into the backlog,
      // with no copy into the turn's buffer and no end-of-turn flush.
      this.backlog.append(b);
      this.offset += b.length;
      return;
    }
    const start = this.turn.len;
    this.turn.appendBytes(b);
    this.commit(start);
  }

  /**
   * The turn's bytes from `start` are stream bytes: counted now, copied to the
   * backlog and written to live replicas at the end of the turn (settleBacklog
   * first where the backlog is read), copied now for syncing replicas.
   */
  private commit(start: number): void {
    const t = this.turn;
    this.offset += t.len - start;
    if (this.syncing !== 0) {
      let copy: Buffer | null = null;
      for (const r of this.replicas) {
        if (r.pending === null) continue;
        // A syncing replica gets the stream after its RDB.
        if (copy === null) copy = Buffer.from(t.buf.subarray(start, t.len));
        r.pending.push(copy);
        r.pendingBytes += copy.length;
        this.checkObuf(r);
      }
    }
    if (!this.outQueued) {
      this.outQueued = true;
      setImmediate(this.flushOut);
    }
  }

  /** How many replicas have a pending list (their RDB is being produced or loaded): commit() copies for them. */
  private syncing = 0;

  /** Recounts `syncing` after a replica's pending list was set or cleared (not per command). */
  private countSyncing(): void {
    let n = 0;
    for (const r of this.replicas) if (r.pending !== null) n++;
    this.syncing = n;
  }

  /** Copies the turn's bytes not yet in the backlog into it. */
  private settleBacklog(): void {
    const t = this.turn;
    if (this.backlog !== null && t.backlogged < t.len) this.backlog.append(t.buf.subarray(t.backlogged, t.len));
    t.backlogged = t.len;
  }

  private outQueued = false;

  /** Writes the stream gathered this turn to every live replica: the same bytes, one write each (Valkey's beforeSleep). */
  private readonly flushOut = (): void => {
    this.outQueued = false;
    const t = this.turn;
    const len = t.len;
    if (len === 0) return;
    this.settleBacklog();
    const whole = t.buf.subarray(0, len);
    let held = false;
    let copy: Buffer | null = null;
    for (const r of this.replicas) {
      const from = r.turnFrom;
      r.turnFrom = 0;
      if (r.pending !== null || r.state !== 'online' || r.client.closed || from >= len) continue;
      const sock = r.socket;
      this.stats.replOutBytes += len - from;
      if (sock.writableLength !== 0) {
        // A lagging replica's socket queues the write: a compact copy (shared by such replicas),
        // since a view would keep the whole turn buffer alive for a few bytes.
        if (copy === null) copy = Buffer.from(whole);
        sock.write(from === 0 ? copy : copy.subarray(from));
        this.checkObuf(r);
        continue;
      }
      sock.write(from === 0 ? whole : whole.subarray(from));
      if (sock.writableLength !== 0) {
        held = true; // the socket keeps a view of the buffer
        this.checkObuf(r);
      }
    }
    t.reset(held);
  };

  /** The turn's bytes a replica has not had yet (a copy). */
  private unsent(r: ReplicaConn): Buffer | null {
    const t = this.turn;
    return !this.outQueued || r.turnFrom >= t.len ? null : Buffer.from(t.buf.subarray(r.turnFrom, t.len));
  }

  private obufText = '';
  private obufLimit: ReturnType<typeof decodeObuf>[1] | undefined = undefined;

  /** client-output-buffer-limit replica: a replica that cannot keep up is dropped (it resyncs later). */
  private checkObuf(r: ReplicaConn): void {
    if (r.client.closed) return;
    const v = this.server.config.get('client-output-buffer-limit');
    if (v !== this.obufText) {
      this.obufText = v;
      this.obufLimit = decodeObuf(v)[1];
    }
    const lim = this.obufLimit;
    if (lim === undefined) return;
    const used = r.socket.writableLength + r.pendingBytes;
    let over = lim.hard > 0 && used >= lim.hard;
    if (!over && lim.soft > 0 && used >= lim.soft) {
      const now = Date.now();
      if (r.obufSoftSince === 0) r.obufSoftSince = now;
      else if (now - r.obufSoftSince > lim.softSeconds * 1000) over = true;
    } else if (!over) r.obufSoftSince = 0;
    if (over) {
      this.server.log.warning(`Client ${r.client.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
      this.server.stats.clientOutputBufferLimitDisconnections++;
      this.dropReplica(r);
    }
  }

  // ================================================================ primary side

  replicaOf(c: Client): ReplicaConn | undefined {
    return this.byClient.get(c);
  }

  /** Attaches a client as a replica (PSYNC or SYNC). */
  private attach(c: Client): ReplicaConn {
    const r = new ReplicaConn(c);
    const pre = this.preconf.get(c);
    if (pre !== undefined) Object.assign(r, pre);
    this.preconf.delete(c);
    this.replicas.add(r);
    this.byClient.set(c, r);
    c.replyMode = 1; // replies to a replica are dropped (ReplyMode.Off)
    c.replRole = 'replica';
    c.socket!.once('close', () => this.dropReplica(r));
    this.ensureTimer();
    return r;
  }

  /** REPLCONF options before PSYNC are kept on the client until it becomes a replica. */
  replconf(c: Client, key: 'port' | 'ip' | 'capaEof' | 'capaPsync2', value: number | string | boolean): void {
    const r = this.byClient.get(c);
    if (r !== undefined) {
      (r as unknown as Record<string, unknown>)[key] = value;
      return;
    }
    let rec = this.preconf.get(c);
    if (rec === undefined) this.preconf.set(c, (rec = {}));
    rec[key] = value;
  }

  dropReplica(r: ReplicaConn, graceful = false): void {
    if (!this.replicas.delete(r)) return;
    this.byClient.delete(r.client);
    const live = r.pending === null && r.state === 'online' && !r.waitAck;
    r.pending = null;
    this.countSyncing();
    if (!r.client.closed) {
      // Graceful: what was written (the stream up to now) still reaches the replica.
      if (graceful && live) {
        const rest = this.unsent(r);
        if (rest !== null) r.socket.write(rest);
        r.client.closeGracefully();
      } else r.client.closeNow();
    }
    this.server.log.notice(`Connection with replica ${this.replicaAddr(r)} lost.`);
    if (this.replicas.size === 0) this.noReplicasSince = Date.now();
    const j = this.job;
    if (j !== null) {
      const i = j.replicas.indexOf(r);
      if (i >= 0) j.replicas.splice(i, 1);
      if (j.replicas.length === 0) this.abortJob();
    }
    this.waitingFull = this.waitingFull.filter((x) => x !== r);
    this.checkWaiters();
  }

  private replicaAddr(r: ReplicaConn): string {
    const ip = r.ip !== '' ? r.ip : (r.client.addr.replace(/:\d+$/, '') || '?');
    return `${ip}:${r.port}`;
  }

  /** PSYNC replid offset / SYNC. */
  psync(c: Client, replid: string | null, off: number): void {
    if (this.failover?.state === 'failover-in-progress') {
      c.addError("NOMASTERLINK Can't SYNC while failing over");
      return;
    }
    if (this.isReplica && this.linkState !== 'connected') {
      c.addError("NOMASTERLINK Can't SYNC while not connected with my master");
      return;
    }
    if (this.byClient.has(c)) return;
    const r = this.attach(c);
    if (replid === null) r.oldSync = true;
    else if (this.tryPartial(r, replid, off)) return;
    else if (replid !== '?') this.stats.syncPartialErr++;
    this.stats.syncFull++;
    // repl-disable-tcp-nodelay: a fully resyncing replica's link batches small writes (Nagle), as Valkey's syncCommand.
    if (this.server.config.bool('repl-disable-tcp-nodelay')) c.socket?.setNoDelay(false);
    if (this.backlog === null) {
      if (!this.isReplica) {
        // First replica of a primary without history: a fresh replication id.
        this.server.replId = randomBytes(20).toString('hex');
        this.replId2 = NULL_ID;
        this.secondOffset = -1;
      }
      this.createBacklog();
    }
    this.server.log.notice(`Replica ${this.replicaAddr(r)} asks for synchronization`);
    this.requestFullSync(r);
  }

  private tryPartial(r: ReplicaConn, replid: string, off: number): boolean {
    const server = this.server;
    this.settleBacklog();
    const bl = this.backlog;
    if (replid !== server.replId && (replid !== this.replId2 || off > this.secondOffset)) {
      if (replid !== '?') server.log.notice(`Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${server.replId}' and '${this.replId2}')`);
      return false;
    }
    if (bl === null || !bl.has(off)) {
      server.log.notice(`Unable to partial resync with replica ${this.replicaAddr(r)} for lack of backlog (Replica request was: ${off}).`);
      return false;
    }
    r.state = 'online';
    r.ackTime = Date.now();
    const sock = r.socket;
    sock.write(r.capaPsync2 ? `+CONTINUE ${server.replId}\r\n` : '+CONTINUE\r\n');
    const data = bl.from(off);
    if (data.length) sock.write(data);
    r.turnFrom = this.turn.len; // the backlog had this turn's bytes too
    this.stats.replOutBytes += data.length;
    this.stats.syncPartialOk++;
    server.log.notice(`Partial resynchronization request from ${this.replicaAddr(r)} accepted. Sending ${data.length} bytes of backlog starting from offset ${off}.`);
    return true;
  }

  private requestFullSync(r: ReplicaConn): void {
    r.state = 'wait_bgsave';
    const j = this.job;
    if (j !== null && !j.started) {
      j.replicas.push(r);
      const max = this.server.config.num('repl-diskless-sync-max-replicas');
      if (max > 0 && j.replicas.length >= max) this.startJob(j);
      return;
    }
    if (j !== null) {
      this.waitingFull.push(r);
      return;
    }
    this.newJob([r]);
  }

  private newJob(list: ReplicaConn[]): void {
    const cfg = this.server.config;
    const diskless = cfg.bool('repl-diskless-sync') && list.every((r) => r.capaEof);
    const j: SyncJob = { replicas: list, started: false, diskless, snap: null, mark: '', file: '', fd: -1, timer: null, immediate: null };
    this.job = j;
    const delay = diskless ? cfg.num('repl-diskless-sync-delay') : 0;
    const max = cfg.num('repl-diskless-sync-max-replicas');
    if (delay > 0 && !(max > 0 && list.length >= max)) j.timer = setTimeout(() => this.startJob(j), delay * 1000);
    else j.timer = setTimeout(() => this.startJob(j), 0);
  }

  private startJob(j: SyncJob): void {
    if (this.job !== j || j.started) return;
    if (j.timer) clearTimeout(j.timer);
    j.timer = null;
    const server = this.server;
    const cfg = server.config;
    j.started = true;
    j.diskless = cfg.bool('repl-diskless-sync') && j.replicas.every((r) => r.capaEof);
    const off = this.offset;
    this.sel.db = -1; // the stream after the RDB starts with a SELECT
    for (const r of j.replicas) {
      r.pending = [];
      r.pendingBytes = 0;
      this.countSyncing();
      if (!r.oldSync) r.socket.write(`+FULLRESYNC ${server.replId} ${off}\r\n`);
      r.state = j.diskless ? 'send_bulk' : 'wait_bgsave';
    }
    let sink: RdbSink;
    if (j.diskless) {
      j.mark = randomBytes(20).toString('hex');
      for (const r of j.replicas) r.socket.write(`$EOF:${j.mark}\r\n`);
      sink = new ReplicasSink(j);
    } else {
      j.file = serverPath(server, `temp-repl-${process.pid}-${Date.now()}.rdb`);
      try {
        j.fd = openSync(j.file, 'w');
      } catch (e) {
        server.log.warning(`Can't open the replication RDB file ${j.file}: ${(e as Error).message}`);
        for (const r of [...j.replicas]) this.dropReplica(r);
        this.job = null;
        return;
      }
      sink = new FdSink(j.fd);
    }
    const streamDb = this.isReplica ? (this.masterClient?.db.id ?? 0) : 0;
    const aux: [string, string | number][] = [...auxFields(server), ['repl-stream-db', streamDb], ['repl-id', server.replId], ['repl-offset', off]];
    j.snap = new RdbSnapshot(server.dbs, sink, {
      aux,
      compress: cfg.bool('rdbcompression'),
      checksum: cfg.bool('rdbchecksum'),
      keyClock: null,
      // Function libraries travel with the dataset, as in Valkey's full sync.
      functions: libraryCodes(server),
    });
    addSnapshot(server, j.snap);
    server.log.notice(`Starting BGSAVE for SYNC with target: ${j.diskless ? `replicas sockets` : 'disk'}`);
    this.sliceJob(j);
  }

  private sliceJob(j: SyncJob): void {
    j.timer = null;
    j.immediate = null;
    if (this.job !== j) return;
    if (j.replicas.length === 0) {
      this.abortJob();
      return;
    }
    if (j.diskless) {
      for (const r of j.replicas) {
        if (r.socket.writableLength > SEND_HIGH_WATER) {
          j.timer = setTimeout(() => this.sliceJob(j), 5);
          return;
        }
      }
    }
    let done: boolean;
    // rdb-key-save-delay (microseconds per key, a testing aid) slows the transfer as it slows BGSAVE.
    const delay = this.server.config.num('rdb-key-save-delay');
    try {
      done = delay > 0 ? j.snap!.step(1, Math.max(1, Math.floor(1000 / delay))) : j.snap!.step(5);
    } catch (e) {
      this.server.log.warning(`Replication RDB failed: ${(e as Error).message}`);
      for (const r of [...j.replicas]) this.dropReplica(r);
      this.abortJob();
      return;
    }
    if (!done) {
      if (delay > 0) j.timer = setTimeout(() => this.sliceJob(j), Math.max(1, Math.floor(delay / 1000)));
      else j.immediate = setImmediate(() => this.sliceJob(j));
      return;
    }
    removeSnapshot(this.server, j.snap!);
    this.job = null;
    if (j.diskless) {
      for (const r of j.replicas) {
        r.socket.write(j.mark);
        // The replica loads, then ACKs: the stream starts then (it must find the mark at the end of what it read).
        r.state = 'online';
        r.waitAck = true;
      }
    } else {
      let payload: Buffer;
      try {
        closeSync(j.fd);
        j.fd = -1;
        payload = readFileSync(j.file);
        unlinkSync(j.file);
      } catch (e) {
        this.server.log.warning(`Replication RDB file failed: ${(e as Error).message}`);
        for (const r of [...j.replicas]) this.dropReplica(r);
        return this.nextJob();
      }
      for (const r of j.replicas) {
        r.socket.write(`$${payload.length}\r\n`);
        r.socket.write(payload);
        this.goOnline(r);
      }
    }
    this.server.log.notice('Background RDB transfer terminated with success');
    this.nextJob();
  }

  private nextJob(): void {
    if (this.waitingFull.length === 0) return;
    const list = this.waitingFull;
    this.waitingFull = [];
    this.newJob(list);
  }

  private goOnline(r: ReplicaConn): void {
    r.state = 'online';
    r.waitAck = false;
    r.ackTime = Date.now();
    const p = r.pending;
    r.pending = null;
    r.pendingBytes = 0;
    this.countSyncing();
    if (p !== null && p.length !== 0) {
      const b = p.length === 1 ? p[0] : Buffer.concat(p);
      r.socket.write(b);
      this.stats.replOutBytes += b.length;
    }
    // Bytes fed while r was not live went to its pending list, this turn's included.
    r.turnFrom = this.turn.len;
    this.server.log.notice(`Synchronization with replica ${this.replicaAddr(r)} succeeded`);
  }

  private abortJob(): void {
    const j = this.job;
    if (j === null) return;
    this.job = null;
    if (j.timer) clearTimeout(j.timer);
    if (j.immediate) clearImmediate(j.immediate);
    if (j.snap !== null) {
      removeSnapshot(this.server, j.snap);
      j.snap.abort();
    }
    if (j.fd >= 0) {
      try {
        closeSync(j.fd);
        unlinkSync(j.file);
      } catch {
        /* gone */
      }
    }
    this.nextJob();
  }

  /** REPLCONF ACK <offset> [FACK <aofoffset>] from a replica. */
  ack(c: Client, off: number, aofOff = -1): void {
    const r = this.byClient.get(c);
    if (r === undefined) return;
    if (off > r.ackOffset) r.ackOffset = off;
    if (aofOff > r.aofAckOffset) r.aofAckOffset = aofOff;
    r.ackTime = Date.now();
    if (r.waitAck) this.goOnline(r);
    if (this.waiters.length !== 0) this.checkWaiters();
    if (this.aofW !== null) this.aofW.check();
  }

  // ================================================================ WAITAOF (src/replication/waitaof.ts)

  private aofW: AofWaits | null = null;

  get aofWaits(): AofWaits {
    if (this.aofW === null) this.aofW = new AofWaits(this.server);
    return this.aofW;
  }

  /** Offset after the last write of the propagation stream (what WAIT and WAITAOF wait for). */
  get writeOffset(): number {
    return this.dataOffset;
  }

  /** Asks the replicas for an ACK before the next event-loop turn ends. */
  askAcks(): void {
    this.requestAcks();
  }

  /**
   * The AOF fsynced more: blocked WAITAOF clients are checked on the next turn;
   * a replica tells its primary within 100 ms (not only at the next 1 s ACK),
   * so a WAITAOF there does not wait for the cron.
   */
  aofFsynced(): void {
    if (this.aofW !== null) this.aofW.checkSoon();
    if (this.isReplica && this.linkState === 'connected' && this.fackTimer === null) {
      this.fackTimer = setTimeout(() => {
        this.fackTimer = null;
        if (this.server.aof.fsyncedReploff > this.lastFack) this.sendAck();
      }, 100);
      this.fackTimer.unref();
    }
  }

  private fackTimer: NodeJS.Timeout | null = null;
  /** The FACK offset of our last ACK. */
  private lastFack = -1;

  /** REPLCONF ACK arguments: our offset, and FACK with the AOF's fsynced offset when the AOF is on. */
  private ackArgs(off: number): string[] {
    const f = this.server.aof.fsyncedReploff;
    this.lastFack = f;
    return f === -1 ? ['REPLCONF', 'ACK', String(off)] : ['REPLCONF', 'ACK', String(off), 'FACK', String(f)];
  }

  // ================================================================ WAIT

  /** Replicas that acknowledged at least `off`. */
  acked(off: number): number {
    let n = 0;
    for (const r of this.replicas) if (r.state === 'online' && r.ackOffset >= off) n++;
    return n;
  }

  wait(c: Client, num: number, timeoutMs: number): void {
    const off = this.dataOffset;
    const have = this.acked(off);
    if (have >= num || c.denyBlocking) {
      c.addInt(have);
      return;
    }
    const w: Waiter = { c, offset: off, num, timer: null };
    c.postponed = [];
    if (timeoutMs > 0) w.timer = setTimeout(() => this.finishWait(w), timeoutMs);
    this.waiters.push(w);
    this.requestAcks();
  }

  /** Sends REPLCONF GETACK * to the replicas once per event-loop turn. */
  requestAcks(): void {
    if (this.getackQueued) return;
    this.getackQueued = true;
    setImmediate(() => {
      this.getackQueued = false;
      if (this.isReplica) return;
      this.feedRaw(encodeCommand(['REPLCONF', 'GETACK', '*']));
    });
  }

  private checkWaiters(): void {
    for (const w of [...this.waiters]) {
      if (w.c.closed || this.acked(w.offset) >= w.num) this.finishWait(w);
    }
  }

  private finishWait(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    const c = w.c;
    c.postponed = null;
    if (c.closed) return;
    c.addInt(this.acked(w.offset));
    c.processInput();
    c.flush();
    this.server.flushPending();
  }

  // ================================================================ replica side

  /** REPLICAOF host port. Returns false when already following that primary. */
  setMaster(host: string, port: number): boolean {
    if (this.isReplica && this.masterHost === host && this.masterPort === port) return false;
    const server = this.server;
    const wasPrimary = !this.isReplica;
    this.closeLink();
    this.masterHost = host;
    this.masterPort = port;
    // CONFIG GET / REWRITE show the current primary.
    server.config.setRaw('replicaof', [host, String(port)]);
    this.server.keyspace.replica = 1;
    this.updateGate();
    if (wasPrimary) {
      // Our own history is what we continue from (Valkey's replicationCacheMasterUsingMyself);
      // our replicas reconnect and may continue by partial resync.
      this.abortWaiters();
      this.disconnectReplicas();
    }
    this.linkState = 'connect';
    this.linkDownSince = Date.now();
    server.log.notice(`Connecting to MASTER ${host}:${port}`);
    this.ensureTimer();
    this.connect();
    return true;
  }

  /** REPLICAOF NO ONE: becomes a primary; the old history stays valid as replid2 (PSYNC2). */
  promote(): void {
    if (!this.isReplica) return;
    const server = this.server;
    this.closeLink();
    this.masterHost = '';
    this.masterPort = 0;
    server.config.setRaw('replicaof', ['']);
    this.linkState = 'none';
    this.server.keyspace.replica = 0;
    this.updateGate();
    this.shiftReplId();
    this.noReplicasSince = Date.now(); // the backlog TTL counts from the promotion
    // Sub-replicas reconnect to learn the new replication id; they continue by partial resync.
    this.disconnectReplicas();
    this.sel.db = -1;
    this.masterClient = null;
  }

  private shiftReplId(): void {
    const server = this.server;
    this.replId2 = server.replId;
    this.secondOffset = this.offset + 1;
    server.replId = randomBytes(20).toString('hex');
    server.log.notice(`Setting secondary replication ID to ${this.replId2}, valid up to offset: ${this.secondOffset}. New replication ID is ${server.replId}`);
  }

  private abortWaiters(): void {
    for (const w of [...this.waiters]) this.finishWait(w);
    this.aofW?.abort();
  }

  private closeLink(): void {
    this.detachMasterClient();
    const s = this.sock;
    this.sock = null;
    if (s !== null) {
      s.removeAllListeners();
      s.on('error', () => {});
      s.destroy();
    }
    this.inbuf = EMPTY;
    this.bulkChunks = [];
    this.bulkLen = -1;
    this.abortStreamLoad();
    if (this.linkState !== 'none') this.linkState = 'connect';
  }

  /** The link broke: retry in a second, continuing from our offset. */
  private linkLost(): void {
    if (this.linkState === 'connected') {
      this.linkDownSince = Date.now();
      this.server.log.notice('Connection with primary lost.');
    }
    this.closeLink();
    this.linkState = 'connect';
  }

  private connect(): void {
    if (!this.isReplica || this.sock !== null || this.loadingRdb) return;
    // Reads land in reused memory: in place after the unapplied bytes once the stream is live (src/replication/link-read.ts).
    const reader = new LinkReader();
    let link: net.Socket | null = null;
    const sock = net.connect({
      host: this.masterHost,
      port: this.masterPort,
      onread: {
        buffer: () => {
          if (link === null || this.sock !== link || this.linkState !== 'connected') return reader.idle();
          const b = reader.live(this.inbuf);
          this.inbuf = reader.placed;
          return b;
        },
        // The view is the one buffer() handed out; true: keep reading (pause() / resume() still apply).
        callback: (n: number, view: Uint8Array): boolean => {
          if (this.sock === link) this.onRead(reader, n, view as Buffer);
          return true;
        },
      },
    });
    link = sock;
    this.sock = sock;
    this.linkState = 'connecting';
    this.lastIo = Date.now();
    sock.setNoDelay(true);
    sock.on('connect', () => {
      if (this.sock !== sock) return;
      this.server.log.notice('MASTER <-> REPLICA sync started');
      this.linkState = 'handshake';
      this.hsStep = 0;
      this.send(['PING']);
    });
    sock.on('error', (e) => {
      if (this.sock !== sock) return;
      this.server.log.warning(`Error condition on socket for SYNC: ${e.message}`);
      this.linkLost();
    });
    sock.on('close', () => {
      if (this.sock === sock) this.linkLost();
    });
  }

  private send(argv: string[]): void {
    this.sock?.write(encodeCommand(argv));
  }

  private sendAck(): void {
    if (this.sock === null || this.linkState !== 'connected') return;
    this.send(this.ackArgs(this.offset));
  }

  /** REPLCONF GETACK from our master: ACK with the offset before that command. */
  getack(c: Client): void {
    if (c !== this.masterClient || this.sock === null) return;
    this.send(this.ackArgs(this.applyOffset));
  }

  private takeLine(): string | null {
    const b = this.inbuf;
    const i = b.indexOf(10);
    if (i < 0) return null;
    const line = b.latin1Slice(0, i > 0 && b[i - 1] === 13 ? i - 1 : i);
    this.inbuf = b.subarray(i + 1);
    return line;
  }

  /** `n` bytes from the primary landed in `view` (reused memory: see src/replication/link-read.ts). */
  private onRead(reader: LinkReader, n: number, view: Buffer): void {
    const joined = this.linkState === 'connected' ? reader.joined(view, n, this.inbuf) : null;
    if (joined === null) {
      // Not in place (before the stream is live the bytes may be kept): a copy.
      this.onMasterData(Buffer.from(view.subarray(0, n)));
      return;
    }
    this.received(n);
    this.inbuf = joined;
    if (!this.loadingRdb) this.pump();
  }

  private received(n: number): void {
    this.lastIo = Date.now();
    if (this.masterClient !== null && this.masterClient.socket !== null) this.masterClient.lastInteractionMs = this.lastIo;
    this.stats.replInBytes += n;
  }

  private onMasterData(d: Buffer): void {
    this.received(d.length);
    if (this.linkState === 'sync' && this.bulkLen !== -1) {
      this.onBulk(d);
      return;
    }
    this.inbuf = this.inbuf.length === 0 ? d : Buffer.concat([this.inbuf, d]);
    if (!this.loadingRdb) this.pump();
  }

  private pump(): void {
    while (this.sock !== null) {
      if (this.linkState === 'connected') {
        this.applyStream();
        return;
      }
      const line = this.takeLine();
      if (line === null) return;
      if (line === '') continue; // the primary's keep-alive newlines
      if (this.linkState === 'handshake') this.onHandshakeReply(line);
      else if (this.linkState === 'sync') {
        if (!this.onBulkHeader(line)) return;
        const rest = this.inbuf;
        this.inbuf = EMPTY;
        if (rest.length) this.onBulk(rest);
        return;
      }
    }
  }

  private onHandshakeReply(line: string): void {
    const cfg = this.server.config;
    const log = this.server.log;
    const step = this.hsStep++;
    if (step === 0) {
      // PING: +PONG, or an auth error we answer with AUTH next.
      if (line[0] === '-' && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(line)) {
        log.warning(`Error reply to PING from master: '${line}'`);
        return this.linkLost();
      }
      const pass = cfg.get('masterauth');
      if (pass !== '') {
        const user = cfg.get('masteruser');
        this.send(user !== '' ? ['AUTH', user, pass] : ['AUTH', pass]);
        return;
      }
      this.hsStep++;
      line = '+OK';
    }
    if (this.hsStep === 2) {
      if (line[0] === '-') {
        log.warning(`Unable to AUTH to MASTER: ${line}`);
        return this.linkLost();
      }
      const announcePort = cfg.num('replica-announce-port');
      this.send(['REPLCONF', 'listening-port', String(announcePort > 0 ? announcePort : this.server.port)]);
      return;
    }
    if (this.hsStep === 3) {
      if (line[0] === '-') log.notice(`(Non critical) Master does not understand REPLCONF listening-port: ${line}`);
      const ip = cfg.get('replica-announce-ip');
      if (ip !== '') {
        this.send(['REPLCONF', 'ip-address', ip]);
        return;
      }
      this.hsStep++;
      line = '+OK';
    }
    if (this.hsStep === 4) {
      if (line[0] === '-') log.notice(`(Non critical) Master does not understand REPLCONF ip-address: ${line}`);
      this.send(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
      return;
    }
    if (this.hsStep === 5) {
      if (line[0] === '-') log.notice(`(Non critical) Master does not understand REPLCONF capa: ${line}`);
      const hasHistory = this.offset > 0 || this.backlog !== null;
      const id = hasHistory ? this.server.replId : '?';
      const off = hasHistory ? this.offset + 1 : -1;
      log.notice(hasHistory ? `Trying a partial resynchronization (request ${id}:${off}).` : 'Partial resynchronization not possible (no cached master)');
      // FAILOVER: our PSYNC asks the target to become the primary.
      this.send(this.failover?.state === 'failover-in-progress' ? ['PSYNC', id, String(off), 'FAILOVER'] : ['PSYNC', id, String(off)]);
      return;
    }
    // PSYNC reply.
    if (this.failover?.state === 'failover-in-progress') {
      if (line.startsWith('+CONTINUE') || line.startsWith('+FULLRESYNC')) this.failoverDone();
      else {
        log.warning(`Failover target rejected the PSYNC FAILOVER request: ${line}`);
        this.abortFailover('Failover target rejected psync request');
        return;
      }
    }
    if (line.startsWith('+FULLRESYNC')) {
      const [, id, off] = line.split(' ');
      this.fullReplId = id;
      this.fullOffset = Number(off);
      log.notice(`Full resync from master: ${id}:${off}`);
      this.linkState = 'sync';
      this.bulkLen = -1;
      return;
    }
    if (line.startsWith('+CONTINUE')) {
      const id = line.slice(10).trim();
      if (id !== '' && id !== this.server.replId) {
        // The primary changed its id (a failover): our history stays reachable as replid2.
        this.replId2 = this.server.replId;
        this.secondOffset = this.offset + 1;
        this.server.replId = id;
        this.disconnectReplicas();
      }
      log.notice('Successful partial resynchronization with master.');
      log.notice('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
      this.linkUp();
      return;
    }
    log.warning(`Unexpected reply to PSYNC from master: ${line}`);
    this.linkLost();
  }

  // ================================================================ FAILOVER

  failover: { state: 'waiting-for-sync' | 'failover-in-progress'; target: ReplicaConn | null; host: string; port: number; force: boolean; deadline: number; timer: NodeJS.Timeout | null } | null = null;

  /** FAILOVER [TO host port [FORCE]] [TIMEOUT ms]: null when started, else the error. */
  startFailover(host: string | null, port: number, force: boolean, timeoutMs: number): string | null {
    if (this.failover !== null) return 'ERR FAILOVER already in progress.';
    if (this.isReplica) return 'ERR FAILOVER is not valid when server is a replica.';
    if (this.replicas.size === 0) return 'ERR FAILOVER requires connected replicas.';
    if (force && (timeoutMs === 0 || host === null)) return 'ERR FAILOVER with force option requires both a timeout and target HOST and IP.';
    let target: ReplicaConn | null = null;
    if (host !== null) {
      for (const r of this.replicas) if (this.replicaIp(r) === host && r.port === port) target = r;
      if (target === null) return 'ERR FAILOVER target HOST and PORT is not a replica.';
      if (target.state !== 'online' || target.pending !== null) return 'ERR FAILOVER target replica is not online.';
    }
    this.failover = { state: 'waiting-for-sync', target, host: host ?? '', port, force, deadline: timeoutMs > 0 ? Date.now() + timeoutMs : 0, timer: null };
    this.server.log.notice(`FAILOVER requested to ${host !== null ? `${host}:${port}` : 'any replica'}.`);
    // Writes wait (CLIENT PAUSE WRITE) until the failover ends; replicas are not paused.
    this.server.pause('write', timeoutMs > 0 ? timeoutMs + 60000 : 365 * 24 * 3600 * 1000);
    this.failover.timer = setInterval(() => this.failoverStep(), 50);
    this.failover.timer.unref();
    this.failoverStep();
    return null;
  }

  private replicaIp(r: ReplicaConn): string {
    return r.ip !== '' ? r.ip : r.client.addr.replace(/:\d+$/, '');
  }

  private failoverStep(): void {
    const f = this.failover;
    if (f === null) return;
    const now = Date.now();
    if (f.state === 'waiting-for-sync') {
      let ready: ReplicaConn | null = null;
      if (f.target !== null) {
        if (!this.replicas.has(f.target)) return this.abortFailover('Target replica disconnected');
        if (f.target.ackOffset >= this.dataOffset) ready = f.target;
      } else {
        for (const r of this.replicas) if (r.state === 'online' && r.pending === null && r.ackOffset >= this.dataOffset) ready = r;
      }
      if (ready === null && f.deadline !== 0 && now >= f.deadline) {
        if (f.force && f.target !== null) ready = f.target;
        else return this.abortFailover('Replica never caught up before timeout');
      }
      if (ready === null) {
        this.requestAcks();
        return;
      }
      f.state = 'failover-in-progress';
      const host = this.replicaIp(ready);
      const port = ready.port;
      this.server.log.notice(`Failover target ${host}:${port} is synced, failover starting.`);
      this.setMaster(host, port);
      return;
    }
    if (f.deadline !== 0 && now >= f.deadline + 60000) this.abortFailover('Failover target never answered');
  }

  private failoverDone(): void {
    const f = this.failover!;
    if (f.timer) clearInterval(f.timer);
    this.failover = null;
    this.server.log.notice('Failover target accepted the PSYNC FAILOVER request, failover complete.');
    this.server.unpause();
  }

  abortFailover(reason: string): void {
    const f = this.failover;
    if (f === null) return;
    if (f.timer) clearInterval(f.timer);
    this.failover = null;
    this.server.log.notice(`FAILOVER aborted: ${reason}`);
    if (f.state === 'failover-in-progress') this.promote();
    this.server.unpause();
  }

  /** PSYNC ... FAILOVER from our primary: take over if we share its history. */
  psyncFailover(c: Client, replid: string): boolean {
    if (replid !== this.server.replId) {
      c.addError('ERR PSYNC FAILOVER replid must match my replid.');
      return false;
    }
    if (this.isReplica) {
      this.server.log.notice(`MASTER MODE enabled (failover request from '${c.describe()}')`);
      this.promote();
    }
    return true;
  }

  private onBulkHeader(line: string): boolean {
    if (line[0] === '-') {
      this.server.log.warning(`Master aborted replication with an error: ${line}`);
      this.linkLost();
      return false;
    }
    if (line[0] !== '$') {
      this.server.log.warning(`Bad protocol from MASTER, the first byte is not '$' (we received '${line.slice(0, 64)}'), are you sure the host and port are right?`);
      this.linkLost();
      return false;
    }
    if (line.startsWith('$EOF:')) {
      this.eofMark = line.slice(5);
      this.bulkLen = -2;
    } else {
      this.bulkLen = Number(line.slice(1));
    }
    this.bulkChunks = [];
    this.bulkGot = 0;
    const mode = this.server.config.get('repl-diskless-load');
    const streamed = mode === 'swapdb' || (mode === 'on-empty-db' && this.server.dbs.every((db) => db.dict.size === 0));
    const what = this.bulkLen === -2 ? 'streamed RDB from master with EOF' : `${this.bulkLen} bytes from master`;
    this.server.log.notice(`MASTER <-> REPLICA sync: receiving ${what} ${streamed ? 'to parser' : 'to disk'}`);
    if (streamed) this.beginStreamLoad(mode === 'swapdb');
    return true;
  }

  private onBulk(d: Buffer): void {
    if (this.sload !== null) {
      this.onStreamBulk(d);
      return;
    }
    if (this.bulkLen >= 0) {
      const need = this.bulkLen - this.bulkGot;
      if (d.length < need) {
        this.bulkChunks.push(d);
        this.bulkGot += d.length;
        return;
      }
      this.bulkChunks.push(d.subarray(0, need));
      this.bulkGot += need;
      this.fullSyncLoaded(Buffer.concat(this.bulkChunks), d.subarray(need));
      return;
    }
    // EOF-marked: look for the mark across the chunk boundary.
    const mark = this.eofMark;
    const prevTail = this.bulkGot > 0 ? tailBytes(this.bulkChunks, mark.length - 1) : EMPTY;
    const probe = prevTail.length ? Buffer.concat([prevTail, d]) : d;
    const at = probe.indexOf(mark, 0, 'latin1');
    if (at < 0) {
      this.bulkChunks.push(d);
      this.bulkGot += d.length;
      return;
    }
    // Bytes of the payload inside d: up to the mark's start.
    const inD = at - prevTail.length;
    let payload: Buffer;
    if (inD >= 0) {
      this.bulkChunks.push(d.subarray(0, inD));
      payload = Buffer.concat(this.bulkChunks);
    } else {
      payload = Buffer.concat(this.bulkChunks);
      payload = payload.subarray(0, payload.length + inD);
    }
    const restStart = at + mark.length - prevTail.length;
    this.fullSyncLoaded(payload, d.subarray(restStart));
  }

  /** Set while the received RDB is being loaded (in slices; clients get -LOADING). */
  private loadingRdb = false;

  /** The RDB arrived: load it into emptied databases in time slices, then go live. */
  private fullSyncLoaded(rdb: Buffer, rest: Buffer): void {
    const server = this.server;
    const log = server.log;
    const mgr = server.rdb;
    this.bulkLen = -1;
    this.bulkChunks = [];
    log.notice('MASTER <-> REPLICA sync: Flushing old data');
    for (const db of server.dbs) db.flush();
    // Valkey's emptyData clears the function libraries too; the primary's file brings them back.
    scriptingOf(server).flushFunctions();
    server.dirty++;
    log.notice('MASTER <-> REPLICA sync: Loading DB in memory');
    const t0 = performance.now();
    const sock = this.sock;
    // Stream bytes that arrive meanwhile wait in inbuf.
    this.inbuf = rest;
    this.loadingRdb = true;
    mgr.loading = true;
    mgr.loadStartTime = Math.floor(Date.now() / 1000);
    mgr.loadTotalBytes = rdb.length;
    mgr.loadLoadedBytes = 0;
    mgr.loadLoadedKeys = 0;
    const fail = (e: unknown): void => {
      this.loadingRdb = false;
      mgr.loading = false;
      log.warning(`Failed trying to load the MASTER synchronization DB from socket: ${(e as Error).message}`);
      for (const db of server.dbs) db.flush();
      this.linkLost();
    };
    let loader: RdbLoader;
    try {
      loader = new RdbLoader(rdb, mgr.loadTarget(), { limits: loadLimits(server), checksum: server.config.bool('rdbchecksum') });
    } catch (e) {
      fail(e);
      return;
    }
    const tick = (): void => {
      let done: boolean;
      try {
        done = loader.step(20);
      } catch (e) {
        fail(e);
        return;
      }
      mgr.loadLoadedBytes = loader.offset;
      this.lastIo = Date.now();
      if (!done) {
        setImmediate(tick);
        return;
      }
      this.loadingRdb = false;
      mgr.loading = false;
      const res = loader.result;
      let streamDb = 0;
      const sdb = Number(res.aux.get('repl-stream-db') ?? '0');
      if (Number.isInteger(sdb) && sdb >= 0 && sdb < server.dbs.length) streamDb = sdb;
      log.notice(`MASTER <-> REPLICA sync: Finished with success (${res.keys} keys, ${((performance.now() - t0) / 1000).toFixed(3)} s)`);
      this.fullSyncDone(streamDb, sock);
    };
    tick();
  }

  // ---------------------------------------------------------------- streamed load (repl-diskless-load)

  /** on-empty-db / swapdb: the RDB is parsed as it arrives (src/replication/sync-load.ts). */
  private beginStreamLoad(swap: boolean): void {
    const server = this.server;
    const mgr = server.rdb;
    const log = server.log;
    // Async loading only when the new set is a later point of our own history (as Valkey).
    const async = swap && this.fullReplId === server.replId;
    if (!swap) {
      log.notice('MASTER <-> REPLICA sync: Flushing old data');
      for (const db of server.dbs) db.flush();
      scriptingOf(server).flushFunctions();
      server.dirty++;
    }
    this.sload = new SyncLoad(server, swap, async, this.bulkLen === -2 ? this.eofMark : null);
    this.sloadMark = false;
    mgr.loadStartTime = Math.floor(Date.now() / 1000);
    mgr.loadTotalBytes = this.bulkLen >= 0 ? this.bulkLen : 0;
    mgr.loadLoadedBytes = 0;
    mgr.loadLoadedKeys = 0;
    if (async) this.asyncLoading = true;
    else mgr.loading = true;
    log.notice(`MASTER <-> REPLICA sync: Loading DB in memory${!swap ? '' : async ? ' (async loading: the old data is served meanwhile)' : ' (into a temporary data set)'}`);
  }

  /** Bytes of the transfer while a streamed load runs. */
  private onStreamBulk(d: Buffer): void {
    const p = this.sload!.parser;
    if (this.sloadMark || p.done) {
      this.inbuf = this.inbuf.length === 0 ? d : Buffer.concat([this.inbuf, d]);
    } else if (this.bulkLen >= 0) {
      const need = this.bulkLen - this.bulkGot;
      const part = d.length <= need ? d : d.subarray(0, need);
      p.push(part);
      this.bulkGot += part.length;
      if (d.length > need) this.inbuf = d.subarray(need);
    } else {
      p.push(d);
      this.bulkGot += d.length;
    }
    this.driveStreamLoad();
  }

  private readonly continueStreamLoad = (): void => {
    this.sloadTimer = null;
    this.driveStreamLoad();
  };

  /** Parses what arrived (in slices: the socket is paused while parsing is behind), then finishes. */
  private driveStreamLoad(): void {
    const sl = this.sload;
    if (sl === null || this.sloadTimer !== null) return;
    const p = sl.parser;
    if (!p.done) {
      // key-load-delay (microseconds per key, a testing aid) slows the load as it slows start-up loading.
      const delay = this.server.config.num('key-load-delay');
      const final = this.bulkLen >= 0 && this.bulkGot >= this.bulkLen;
      let res;
      try {
        res = p.step(final, 20, delay > 0 ? Math.max(1, Math.floor(1000 / delay)) : Infinity);
      } catch (e) {
        this.streamLoadFailed((e as Error).message);
        return;
      }
      this.lastIo = Date.now();
      if (res === 'budget') {
        this.sock?.pause();
        this.sloadTimer = delay > 0 ? setTimeout(this.continueStreamLoad, Math.max(1, Math.floor(delay / 1000))) : setImmediate(this.continueStreamLoad);
        return;
      }
      this.sock?.resume();
      if (res === 'more') return;
      if (this.bulkLen >= 0) {
        if (this.bulkGot !== this.bulkLen || p.rest().length !== 0) {
          this.streamLoadFailed('the RDB is shorter than the announced transfer');
          return;
        }
      } else {
        // $EOF: framing: the mark follows the RDB.
        const rest = p.rest();
        this.inbuf = this.inbuf.length === 0 ? rest : Buffer.concat([rest, this.inbuf]);
        this.sloadMark = true;
      }
    }
    if (this.sloadMark) {
      const n = this.eofMark.length;
      if (this.inbuf.length < n) return;
      if (this.inbuf.latin1Slice(0, n) !== this.eofMark) {
        this.streamLoadFailed('the EOF mark does not follow the RDB');
        return;
      }
      this.inbuf = this.inbuf.subarray(n);
    }
    this.streamLoadDone();
  }

  private streamLoadFailed(msg: string): void {
    this.server.log.warning(`Failed trying to load the MASTER synchronization DB from socket: ${msg}`);
    this.linkLost();
  }

  /** The link broke or the data was bad: swapdb keeps the old data, on-empty-db leaves empty databases. */
  private abortStreamLoad(): void {
    const sl = this.sload;
    if (sl === null) return;
    this.sload = null;
    this.sloadMark = false;
    if (this.sloadTimer !== null) {
      clearTimeout(this.sloadTimer as NodeJS.Timeout);
      clearImmediate(this.sloadTimer as NodeJS.Immediate);
      this.sloadTimer = null;
    }
    const server = this.server;
    if (sl.swap) server.log.notice('MASTER <-> REPLICA sync: Discarding the partially loaded data set, the old data is kept');
    else {
      for (const db of server.dbs) db.flush();
      scriptingOf(server).flushFunctions();
    }
    this.asyncLoading = false;
    if (!sl.async) server.rdb.loading = false;
  }

  private streamLoadDone(): void {
    const sl = this.sload!;
    this.sload = null;
    this.sloadMark = false;
    const server = this.server;
    const mgr = server.rdb;
    const res = sl.parser.result;
    this.bulkLen = -1;
    this.sock?.resume();
    this.asyncLoading = false;
    mgr.loading = false;
    if (sl.swap) {
      const err = sl.swapIn();
      if (err !== null) {
        this.streamLoadFailed(err);
        return;
      }
    }
    server.dirty++;
    mgr.lastLoadKeysLoaded = res.keys;
    mgr.lastLoadKeysExpired = 0;
    let streamDb = 0;
    const sdb = Number(res.aux.get('repl-stream-db') ?? '0');
    if (Number.isInteger(sdb) && sdb >= 0 && sdb < server.dbs.length) streamDb = sdb;
    server.log.notice(`MASTER <-> REPLICA sync: Finished with success (${res.keys} keys, ${((performance.now() - sl.t0) / 1000).toFixed(3)} s${sl.swap ? ', swapped in' : ''})`);
    this.fullSyncDone(streamDb, this.sock);
  }

  /** After the load: our history is the primary's; live stream if the link is still the same. */
  private fullSyncDone(streamDb: number, sock: net.Socket | null): void {
    const server = this.server;
    server.replId = this.fullReplId;
    this.replId2 = NULL_ID;
    this.secondOffset = -1;
    this.offset = this.fullOffset;
    this.disconnectReplicas();
    this.freeBacklog();
    this.createBacklog();
    this.masterClient = this.newMasterClient();
    this.masterClient.db = server.dbs[streamDb];
    if (server.aof.on) {
      // The AOF must describe the new dataset: rewrite it from the loaded keys.
      const err = server.aof.bgrewrite();
      if (err !== null) server.log.warning(`Failed to rewrite the AOF after a full sync: ${err}`);
    }
    if (this.sock !== sock || sock === null || !this.isReplica) {
      // The link dropped while loading: the next connection continues from this offset.
      return;
    }
    this.linkUp();
    this.sendAck();
    if (this.inbuf.length) this.pump();
  }

  private linkUp(): void {
    this.linkState = 'connected';
    this.lastIo = Date.now();
    if (this.backlog === null) this.createBacklog();
    if (this.masterClient === null) this.masterClient = this.newMasterClient();
    // The master client shows in CLIENT LIST (flag M) with the link's addresses;
    // CLIENT KILL TYPE MASTER closes the link (we reconnect and continue).
    const fc = this.masterClient;
    const sock = this.sock!;
    fc.socket = sock;
    fc.closed = false;
    fc.addr = hostPort(sock.remoteAddress, sock.remotePort);
    fc.laddr = hostPort(sock.localAddress, sock.localPort);
    fc.lastInteractionMs = Date.now();
    this.server.clients.set(fc.id, fc);
  }

  /** The master client leaves CLIENT LIST while the link is down. */
  private detachMasterClient(): void {
    const fc = this.masterClient;
    if (fc === null || fc.socket === null) return;
    fc.socket = null;
    this.server.clients.delete(fc.id);
  }

  private newMasterClient(): Client {
    const c = this.server.createFakeClient();
    const du = this.server.acl.defaultUser;
    const u: AclUser = { name: du.name, enabled: true, nopass: true, skipSanitize: du.skipSanitize, passwords: [], selectors: du.selectors, unrestricted: true };
    c.aclUser = u;
    c.setAuthenticated(true);
    c.replRole = 'master';
    return c;
  }

  /** Sub-replicas must resync after our history changed (a full sync from our primary). */
  private disconnectReplicas(): void {
    for (const r of [...this.replicas]) this.dropReplica(r, true);
  }

  /** Applies the complete commands of the stream, then passes their bytes on. */
  private applyStream(): void {
    const server = this.server;
    const fc = this.masterClient!;
    const buf = this.inbuf;
    const batch = this.batch;
    const starts = this.batchStarts;
    const ends = this.batchEnds;
    const hashes = this.batchHashes;
    let pos = 0;
    let bad = false;
    clock.update();
    // Each command's end starts the next one's timing, and FAST commands are timed together (as a client's
    // pipeline, Client.processInput; src/server/cmdtiming.ts).
    server.callClock = performance.now();
    const timing = server.timing;
    const outer = timing.batching;
    timing.batching = true;
    apply: while (pos < buf.length) {
      // Parse a batch of complete commands and prefetch their keys together (src/replication/stream-parse.ts).
      let n = 0;
      let nh = 0;
      let p = pos;
      while (n < APPLY_BATCH && p < buf.length) {
        if (buf[p] === 10 || buf[p] === 13) {
          p++; // the primary's keep-alive newlines
          continue;
        }
        const end = parseMultibulk(buf, p);
        if (end < 0) {
          bad = end === -2;
          break;
        }
        if (parsed.hasKey) hashes[nh++] = parsed.keyHash;
        batch[n] = parsed.argv;
        starts[n] = p;
        ends[n] = end;
        n++;
        p = end;
      }
      if (nh > 1) fc.db.dict.prefetch(hashes, nh);
      for (let i = 0; i < n; i++) {
        if (server.pauseType !== null && Date.now() < server.pauseEndMs) {
          // CLIENT PAUSE holds the primary's stream too; resume shortly.
          this.pauseLater();
          pos = starts[i];
          batch.fill(NO_ARGV, 0, n);
          bad = false;
          break apply;
        }
        const argv = batch[i];
        batch[i] = NO_ARGV;
        if (argv.length === 0) {
          pos = ends[i]; // *0: nothing to run (as Valkey)
          continue;
        }
        this.applyOffset = this.offset + starts[i];
        this.applying = true;
        this.server.keyspace.replica = 2;
        fc.inProcess = true;
        try {
          server.execute(fc, argv);
        } finally {
          fc.inProcess = false;
          this.server.keyspace.replica = this.isReplica ? 1 : 0;
          this.applying = false;
        }
        fc.len = 0;
        if (fc.postponed !== null) {
          // Not expected for the master client (no blocking in the stream): drop the wait.
          fc.postponed = null;
          server.postponedClients.delete(fc);
        }
        pos = ends[i];
        if (this.sock === null) {
          batch.fill(NO_ARGV, i + 1, n);
          this.endTiming(outer);
          return; // the command changed our role (REPLICAOF in the stream)
        }
      }
      if (bad) break;
      if (n < APPLY_BATCH) {
        pos = p; // up to the incomplete command (keep-alive newlines before it consumed)
        break;
      }
    }
    this.endTiming(outer);
    if (bad) {
      server.log.warning('Protocol error in the replication stream from the primary');
      this.linkLost();
      return;
    }
    fc.flush();
    if (pos > 0) {
      this.inbuf = buf.subarray(pos);
      // feedRaw counts the offset only when a backlog exists (always while connected).
      this.feedRaw(buf.subarray(0, pos)); // copied into the turn's buffer
    }
    server.flushPending();
  }

  /** The end of applyStream's batch: the FAST commands timed together get their share (Client.processInput). */
  private endTiming(outer: boolean): void {
    const server = this.server;
    server.timing.batching = outer;
    if (!outer && server.timing.n !== 0) server.callClock = performance.now();
  }

  /** Commands applyStream parsed ahead, with where each starts and ends in inbuf and their key hashes. */
  private readonly batch: string[][] = new Array<string[]>(APPLY_BATCH).fill(NO_ARGV);
  private readonly batchStarts: number[] = new Array<number>(APPLY_BATCH).fill(0);
  private readonly batchEnds: number[] = new Array<number>(APPLY_BATCH).fill(0);
  private readonly batchHashes = new Int32Array(APPLY_BATCH);

  /** The stream waits for CLIENT PAUSE to end: applying resumes shortly. */
  private pauseLater(): void {
    if (this.pauseRetry) return;
    this.pauseRetry = true;
    setTimeout(() => {
      this.pauseRetry = false;
      if (this.linkState === 'connected') this.pump();
    }, 20);
  }

  // ================================================================ introspection

  /** ROLE. */
  role(c: Client): void {
    if (!this.isReplica) {
      c.addArrayLen(3);
      c.addBulk('master');
      c.addInt(this.offset);
      const list = [...this.replicas].filter((r) => r.state === 'online');
      c.addArrayLen(list.length);
      for (const r of list) {
        c.addArrayLen(3);
        c.addBulk(r.ip !== '' ? r.ip : r.client.addr.replace(/:\d+$/, ''));
        c.addBulk(String(r.port));
        c.addBulk(String(r.ackOffset));
      }
      return;
    }
    c.addArrayLen(5);
    c.addBulk('slave');
    c.addBulk(this.masterHost);
    c.addInt(this.masterPort);
    const st = this.linkState;
    c.addBulk(st === 'connected' ? 'connected' : st === 'sync' ? 'sync' : st === 'handshake' ? 'handshake' : st === 'connecting' ? 'connecting' : 'connect');
    c.addInt(this.linkState === 'connected' ? this.offset : -1);
  }

  /** INFO replication. */
  infoFields(): [string, string | number][] {
    const server = this.server;
    const cfg = server.config;
    const now = Date.now();
    const out: [string, string | number][] = [];
    if (!this.isReplica) out.push(['role', 'master']);
    else {
      const up = this.linkState === 'connected';
      out.push(
        ['role', 'slave'],
        ['master_host', this.masterHost],
        ['master_port', this.masterPort],
        ['master_link_status', up ? 'up' : 'down'],
        ['master_last_io_seconds_ago', this.sock !== null && this.linkState !== 'connecting' ? Math.floor((now - this.lastIo) / 1000) : -1],
        ['master_sync_in_progress', this.linkState === 'sync' ? 1 : 0],
        ['slave_read_repl_offset', this.offset],
        ['slave_repl_offset', this.offset],
      );
      if (this.linkState === 'sync') {
        const total = this.bulkLen >= 0 ? this.bulkLen : -1;
        out.push(
          ['master_sync_total_bytes', total],
          ['master_sync_read_bytes', this.bulkGot],
          ['master_sync_left_bytes', total >= 0 ? total - this.bulkGot : -1],
          ['master_sync_perc', total > 0 ? ((this.bulkGot * 100) / total).toFixed(2) : '0.00'],
          ['master_sync_last_io_seconds_ago', Math.floor((now - this.lastIo) / 1000)],
        );
      }
      if (!up) out.push(['master_link_down_since_seconds', this.linkDownSince ? Math.floor((now - this.linkDownSince) / 1000) : -1]);
      out.push(['slave_priority', cfg.num('replica-priority')], ['slave_read_only', cfg.bool('replica-read-only') ? 1 : 0], ['replica_announced', 1]);
    }
    let i = 0;
    const lines: [string, string][] = [];
    for (const r of this.replicas) {
      const ip = r.ip !== '' ? r.ip : r.client.addr.replace(/:\d+$/, '');
      const state = r.state === 'online' && r.waitAck ? 'send_bulk' : r.state;
      lines.push([`slave${i++}`, `ip=${ip},port=${r.port},state=${state},offset=${r.ackOffset},lag=${Math.floor((now - r.ackTime) / 1000)}`]);
    }
    out.push(['connected_slaves', lines.length], ...lines);
    let waitingPsync = 0;
    for (const r of this.replicas) if (r.state === 'wait_bgsave' && r.pending === null) waitingPsync++;
    this.settleBacklog();
    const bl = this.backlog;
    out.push(
      ['replicas_waiting_psync', waitingPsync],
      ['master_failover_state', this.failover?.state ?? 'no-failover'],
      ['master_replid', server.replId],
      ['master_replid2', this.replId2],
      ['master_repl_offset', this.offset],
      ['second_repl_offset', this.secondOffset],
      ['repl_backlog_active', bl !== null ? 1 : 0],
      ['repl_backlog_size', bl !== null ? bl.size : this.backlogSize()],
      ['repl_backlog_first_byte_offset', bl !== null ? bl.firstByte : 0],
      ['repl_backlog_histlen', bl !== null ? bl.histlen : 0],
    );
    return out;
  }
}

/** "ip:port" ("[v6]:port"), as CLIENT LIST shows addresses. */
function hostPort(host: string | undefined, port: number | undefined): string {
  if (!host) return '';
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The last n bytes held in chunks. */
function tailBytes(chunks: Buffer[], n: number): Buffer {
  const parts: Buffer[] = [];
  let need = n;
  for (let i = chunks.length - 1; i >= 0 && need > 0; i--) {
    const c = chunks[i];
    if (c.length >= need) {
      parts.unshift(c.subarray(c.length - need));
      need = 0;
    } else {
      parts.unshift(c);
      need -= c.length;
    }
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

// Parsing the stream a replica applies: src/replication/stream-parse.ts.
export { parseMultibulk } from './stream-parse.js';
