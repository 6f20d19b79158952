// One connected client: socket, query parser, reply buffer and session state.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Parse, RequestParser } from '../protocol/parser.js';
import { ReplyWriter } from '../protocol/reply.js';
import type { Db } from '../keyspace/db.js';
import { clock } from '../keyspace/db.js';
import type { Server } from './server.js';
import type { BlockedState } from './blocking.js';
import type { MultiState } from '../commands/tx.js';
import type { WatchedKey } from './watch.js';
import type { ClientSubs } from './pubsub.js';
import type { ClientTracking } from './tracking.js';
import { clientGrew, clientLimits } from './limits.js';
import { openTurn, turn } from './loopstats.js';
import { DirectResult, DirectWriter } from './directwrite.js';
import { prefetchCollectionMembers } from '../commands/collection-common.js';
import type { AclUser } from '../acl/acl.js';

const INITIAL_OUT = 16 * 1024;
/** Replies up to this size may be written straight to the socket's handle (at most this much is then outside socket.writableLength). */
const DIRECT_MAX_BYTES = 64 * 1024;
const SHRINK_OVER = 1024 * 1024;
/** Output added for a client outside its own processing is written at once past this size. */
const WAKE_FLUSH_BYTES = 64 * 1024;

export const enum ReplyMode {
  On = 0,
  Off = 1,
  SkipNext = 2,
  Skip = 3,
}

/** Client classes of CLIENT LIST/KILL TYPE (a MONITOR client counts as normal). */
export type ClientType = 'normal' | 'replica' | 'master' | 'pubsub';

export class Client extends ReplyWriter {
  readonly id: number;
  readonly server: Server;
  socket: Socket | null;
  readonly parser: RequestParser;
  db: Db;
  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
  user = 'default';
  /** The ACL user (src/acl/acl.ts); `user` above is its name. */
  aclUser: AclUser;
  readonly createdMs: number;
  lastInteractionMs: number;
  lastCmd = 'NULL';
  addr = '';
  laddr = '';
  fd = -1;
  totNetIn = 0;
  totNetOut = 0;
  totCmds = 0;
  replyMode = ReplyMode.On;
  noEvict = false;
  noTouch = false;
  monitor = false;
  /** Set when the connection must close once pending replies are written. */
  closeAfterReply = false;
  closed = false;
  /** Command waiting for CLIENT UNPAUSE (or another unblock) before it can run. */
  postponed: string[] | null = null;
  /** Set while blocked on keys (BLPOP & co.); postponed then holds the blocked command. */
  blocked: BlockedState | null = null;
  /** Blocking commands answer as if timed out at once (set inside MULTI/EXEC and scripts). */
  denyBlocking = false;
  /** Queued commands while inside MULTI (src/commands/tx.ts); null outside MULTI. */
  multi: MultiState | null = null;
  /** Keys this client WATCHes (src/server/watch.ts); null when none. */
  watched: WatchedKey[] | null = null;
  /** A watched key was touched: the next EXEC answers a null array. */
  dirtyCas = false;
  /** Cluster mode: ASKING / READONLY bits (src/cluster/cluster.ts CF_*). */
  clusterFlags = 0;
  /** Number of error replies sent during the current command (for failed_calls). */
  errorsInCall = 0;
  /** True while this client's input is being processed (its replies flush at the end). */
  inProcess = false;
  /** True when output was added outside processing and a flush is scheduled. */
  pendingFlush = false;
  /** Set by the dispatcher to the command currently running. */
  killed = false;
  /** Command log: totNetIn minus the bytes not yet parsed, when a request size was last measured (src/server/commandlog.ts). */
  reqMark = 0;
  /** Bytes of the arguments of the command running (argv-mem); set only while it describes itself. */
  argvMem = 0;
  /** In Pub/Sub mode (has at least one subscription); see server/pubsub.ts. */
  subscribed = false;
  /** Channels, patterns and shard channels subscribed to (null until the first subscribe). */
  subs: ClientSubs | null = null;
  /** When pending output first went over the soft output buffer limit (ms; 0 = under it). */
  obufSoftSince = 0;
  /** Over an output buffer limit: being closed, nothing more is written. */
  obufClosing = false;
  /** CLIENT TRACKING state (src/server/tracking.ts); null while tracking is off. */
  tracking: ClientTracking | null = null;
  /** A replica attached to us, or our primary's link (src/replication/); null otherwise. */
  replRole: 'replica' | 'master' | null = null;
  /** Writes to the socket's handle (undefined until the first flush; null: not possible, e.g. TLS). */
  private direct: DirectWriter | null | undefined = undefined;
  /** Bytes of a direct write the kernel has not taken yet (0: none in flight). */
  inflight = 0;
  /** The last view of the reply buffer written directly, and the buffer it views. */
  private view: Buffer | null = null;
  private viewOf: Buffer | null = null;

  constructor(server: Server, socket: Socket | null, id: number) {
    super(INITIAL_OUT);
    this.id = id;
    this.server = server;
    this.socket = socket;
    this.db = server.dbs[0];
    this.parser = new RequestParser(server.limits);
    const du = server.acl.defaultUser;
    this.aclUser = du;
    this.authenticated = du.nopass && du.enabled;
    this.parser.authenticated = this.authenticated;
    this.createdMs = Date.now();
    this.lastInteractionMs = this.createdMs;
    if (socket) {
      this.addr = fmtAddr(socket.remoteAddress, socket.remotePort);
      this.laddr = fmtAddr(socket.localAddress, socket.localPort);
      this.fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    }
  }

  protected override onErrorReply(msg: string): void {
    this.errorsInCall++;
    this.server.countError(msg);
  }

  /** Connected through the Unix socket (flag U; addr and laddr are the socket path with port 0, as Valkey). */
  unixSocket = false;

  setUnixAddr(path: string): void {
    this.unixSocket = true;
    this.addr = this.laddr = `${path}:0`;
  }

  setAuthenticated(v: boolean): void {
    this.authenticated = v;
    this.parser.authenticated = v;
  }

  /**
   * Bytes read from the socket. `chunk` may be a shared read buffer that is
   * reused after this returns: nothing may keep a reference to it.
   */
  onData(chunk: Buffer): void {
    if (this.closed) return;
    this.totNetIn += chunk.length;
    this.server.stats.netInputBytes += chunk.length;
    this.server.stats.readsProcessed++;
    if (!turn.open) openTurn(this.server);
    this.lastInteractionMs = clock.update();
    this.parser.feed(chunk);
    this.processInput();
    this.parser.detach(chunk);
    // appendfsync always: replies wait for the turn's AOF write+fsync (one for every client read this turn).
    if (this.server.aof.holdReplies && this.server.aof.bufLen !== 0) this.server.schedulePending(this);
    else this.flush();
    // Output this read produced for other clients (pub/sub messages, served
    // blocked clients, MONITOR lines) is written once per event-loop turn by the
    // scheduled flushPending (Valkey's beforeSleep), not after every read: with
    // many publishers that batches many messages into one write per subscriber.
  }

  /** Runs every complete command in the query buffer, until blocked or closing. */
  processInput(): void {
    const parser = this.parser;
    const server = this.server;
    this.inProcess = true;
    server.callClock = performance.now();
    // FAST commands of this batch are timed together (src/server/cmdtiming.ts).
    const timing = server.timing;
    const outer = timing.batching;
    timing.batching = true;
    try {
      this.runCommands(parser, server);
    } finally {
      timing.batching = outer;
      if (!outer && timing.n !== 0) server.callClock = performance.now();
    }
    this.inProcess = false;
  }

  private runCommands(parser: RequestParser, server: Server): void {
    // Commands left that the last key prefetch covered (see prefetchKeys).
    let ahead = 0;
    while (!this.closeAfterReply && this.postponed === null && !this.closed) {
      if (ahead === 0 && parser.buffered() >= PREFETCH_MIN_BYTES) {
        // A pipeline of keyless commands (PING, PUBLISH, ...) by the last command run: no scan for keys.
        const last = server.table.lastHit;
        ahead = last !== undefined && last.firstKey === 0 ? PREFETCH_FRAMES : prefetchKeys(parser, this.db);
      }
      const r = parser.next();
      if (r === Parse.Command) {
        server.execute(this, parser.argv);
        if (ahead !== 0) ahead--;
        continue;
      }
      if (r === Parse.Incomplete) {
        if (parser.pending() > server.queryBufferLimit) {
          server.log.warning(`Closing client that reached max query buffer length: ${this.describe()}`);
          server.stats.clientQbufLimitDisconnections++;
          this.closeNow();
        } else if (clientLimits.maxClientsMem !== 0 && parser.pending() > 32768) clientGrew(server);
        break;
      }
      // Protocol error: reply, log, then close once the reply is written.
      this.addError('ERR ' + parser.error);
      server.log.verbose(`Protocol error (${parser.error}) from client: ${this.describe()}`);
      parser.clear();
      this.closeAfterReply = true;
      break;
    }
  }

  /** Writes everything in the reply buffer with one socket write. */
  flush(): void {
    // The AOF is written (and fsynced with appendfsync always) before any reply leaves.
    if (this.server.aof.bufLen !== 0) this.server.aof.flush();
    const sock = this.socket;
    if (this.len > 0 && sock !== null && !this.closed) {
      const n = this.len;
      const queued = this.write(sock, n);
      this.totNetOut += n;
      this.server.stats.netOutputBytes += n;
      this.server.stats.writesProcessed++;
      // If the kernel took everything, the buffer is free again; otherwise the
      // stream still references it and we need a fresh one.
      if (queued !== 0 || this.out.length > SHRINK_OVER) {
        this.out = Buffer.allocUnsafe(INITIAL_OUT);
        this.view = null;
      }
      this.len = 0;
      // Output the peer does not read piles up in the socket: apply client-output-buffer-limit.
      if (queued !== 0) {
        this.server.pubsub.checkOutputLimits(this);
        if (clientLimits.maxClientsMem !== 0) clientGrew(this.server);
      }
    } else if (this.closed) {
      this.len = 0;
    }
    this.pendingFlush = false;
    if (this.closeAfterReply && !this.closed) this.closeGracefully();
  }

  /**
   * Hands out[0, n) to the socket; returns the bytes it still holds. While
   * nothing is queued in the socket, a plain TCP/Unix client's reply goes
   * straight to the socket's handle (src/server/directwrite.ts), without
   * net.Socket's stream machinery; otherwise, or if that is not possible,
   * through socket.write().
   */
  private write(sock: Socket, n: number): number {
    if (this.inflight === 0 && n <= DIRECT_MAX_BYTES && this.replRole === null && sock.writableLength === 0) {
      let w = this.direct;
      if (w === undefined) w = this.direct = DirectWriter.for(sock, (status) => this.directDone(status));
      if (w !== null) {
        // Pipelines of one command often answer the same number of bytes: reuse the view of the reply buffer.
        let view = this.view;
        if (view === null || this.viewOf !== this.out || view.length !== n) {
          view = this.view = this.out.subarray(0, n);
          this.viewOf = this.out;
        }
        const r = w.write(view);
        if (r === DirectResult.Done) return 0;
        if (r === DirectResult.Pending) return (this.inflight = n);
        if (r === DirectResult.Failed) {
          this.closeNow();
          return 0;
        }
      }
    }
    sock.write(this.out.subarray(0, n));
    return sock.writableLength;
  }

  /** A direct write the kernel did not take at once has completed (status < 0: failed). */
  private directDone(status: number): void {
    this.inflight = 0;
    if (status < 0) this.closeNow();
  }

  /** Output the socket still holds: its queue plus a direct write in flight (client-output-buffer-limit counts it). */
  queuedOut(): number {
    return (this.socket !== null ? this.socket.writableLength : 0) + this.inflight;
  }

  /** Schedules a flush of replies added outside this client's own processing. */
  wake(): void {
    if (this.inProcess) return;
    // Small output waits for the once-per-turn flush (many messages, one write);
    // a large backlog is written at once so it never piles up in our buffer.
    if (this.len >= WAKE_FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (this.pendingFlush) return;
    this.pendingFlush = true;
    this.server.schedulePending(this);
  }

  /** Ends the connection after what was written so far. */
  closeGracefully(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.unlinkClient(this);
    this.socket?.end();
  }

  /** Drops the connection at once. */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.unlinkClient(this);
    this.socket?.destroy();
  }

  /** Class of the connection for CLIENT LIST/KILL TYPE; replication and Pub/Sub refine this. */
  clientType(): ClientType {
    if (this.replRole !== null) return this.replRole;
    return this.subscribed ? 'pubsub' : 'normal';
  }

  /** The "id=... addr=..." line of CLIENT LIST / CLIENT INFO, fields in Valkey 8.0's order. */
  describe(): string {
    const now = Date.now();
    // Flag letters in Valkey's order (O S M P x b t R B d c u A U r e T).
    let flags = '';
    if (this.monitor) flags += 'O';
    if (this.replRole === 'replica') flags += 'S';
    else if (this.replRole === 'master') flags += 'M';
    if (this.subscribed) flags += 'P';
    if (this.multi !== null) flags += 'x';
    if (this.postponed !== null) flags += 'b';
    const tr = this.tracking;
    if (tr !== null) {
      flags += 't';
      if (tr.brokenRedir) flags += 'R';
      if (tr.bcast) flags += 'B';
    }
    if (this.dirtyCas) flags += 'd';
    if (this.closeAfterReply) flags += 'c';
    if (this.unixSocket) flags += 'U';
    if (this.noEvict) flags += 'e';
    if (this.noTouch) flags += 'T';
    if (flags === '') flags = 'N';
    // The client running this command still has its read in the query buffer (as in Valkey), others their unparsed bytes.
    const qbuf = this.inProcess ? this.parser.queryLen() : this.parser.pending();
    const omem = this.queuedOut();
    const events = this.socket === null ? '' : omem > 0 ? 'rw' : 'r';
    const ms = this.multi;
    const multiMem = ms === null ? 0 : ms.argvBytes + 16 * ms.cmds.length;
    return (
      `id=${this.id} addr=${this.addr} laddr=${this.laddr} fd=${this.fd} name=${this.name}` +
      ` age=${Math.floor((now - this.createdMs) / 1000)} idle=${Math.floor((now - this.lastInteractionMs) / 1000)}` +
      ` flags=${flags} db=${this.db.id} sub=${this.subs?.channels.size ?? 0} psub=${this.subs?.patterns.size ?? 0} ssub=${this.subs?.shard.size ?? 0} multi=${ms === null ? -1 : ms.cmds.length} watch=${this.watched === null ? 0 : this.watched.length} qbuf=${qbuf} qbuf-free=0` +
      ` argv-mem=${this.argvMem} multi-mem=${multiMem} rbs=${this.out.length} rbp=${this.len} obl=${this.len} oll=0 omem=${omem}` +
      ` tot-mem=${this.out.length + qbuf + omem + this.argvMem + multiMem} events=${events} cmd=${this.lastCmd} user=${this.user} redir=${tr === null ? -1 : tr.redirect}` +
      ` resp=${this.resp} lib-name=${this.libName} lib-ver=${this.libVer}` +
      ` tot-net-in=${this.totNetIn} tot-net-out=${this.totNetOut} tot-cmds=${this.totCmds}`
    );
  }
}

/** Below this many buffered bytes there is at most one small command: no prefetch. */
const PREFETCH_MIN_BYTES = 64;
/** Commands per prefetch window, and key hashes per window. */
const PREFETCH_FRAMES = 16;
const prefetchHashes = new Int32Array(64);
/** Hashes of the collection members of SADD/SREM/HSET/HGET/HDEL in the window (src/commands/collection-common.ts). */
const prefetchMemberHashes = new Int32Array(64);

/**
 * Pipelined commands: brings the keys of the next few buffered commands into
 * the cache at once (KeyTable.prefetch), so their lookups do not each wait for
 * their own cache misses. Returns how many commands it covered.
 */
function prefetchKeys(parser: RequestParser, db: Db): number {
  const n = parser.keyHashes(prefetchHashes, PREFETCH_FRAMES, prefetchMemberHashes);
  if (n > 1) {
    db.dict.prefetch(prefetchHashes, n);
    if (parser.memberHashCount > 1) prefetchCollectionMembers(db.dict, prefetchMemberHashes, n);
  }
  return parser.scanned;
}

/** "ip:port", with IPv6 addresses in brackets ("[::1]:6379") like Valkey. */
function fmtAddr(host: string | undefined, port: number | undefined): string {
  if (!host) return '';
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
