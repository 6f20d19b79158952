// The server: listeners, clients, dispatcher, cron. One event loop runs every command.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { randomBytes } from 'node:crypto';
import { Config } from '../config/config.js';
import { Db, KeyspaceState, clock } from '../keyspace/db.js';
import { CommandTable, CMD, type Command } from '../commands/table.js';
import { buildCommandTable } from '../commands/registry.js';
import { Client, ReplyMode } from './client.js';
import { Logger } from './log.js';
import { ScanCursors } from '../keyspace/scan.js';
import { activeExpireHashFields } from '../commands/hash.js';
import { BlockingManager } from './blocking.js';
import { PubSub } from './pubsub.js';
import { WatchManager } from './watch.js';
import { TrackingManager } from './tracking.js';
import { applyNotifyConfig } from './notify.js';
import { queueIfMulti, rejectInMulti } from '../commands/tx.js';
import { Propagation } from './propagate.js';
import { RdbManager, snapshotBeforeWrite, LOADING_ERR } from '../persistence/manager.js';
import type { RdbSnapshot } from '../persistence/rdb/snapshot.js';
import { Aof } from '../persistence/aof/aof.js';
import { Evictor } from '../keyspace/evict.js';
import { loopTick, resetLoopStats } from './loopstats.js';
import { Introspection } from './commandlog.js';
import { recordLatency } from './latency.js';
import { CommandTiming, DEFER_MIN_MS } from './cmdtiming.js';
import { Acl, describeUser } from '../acl/acl.js';
import { ConfigError } from '../config/config.js';
import { applyLimitsConfig, clientsCron, evictClients, fitMaxclientsToUlimit } from './limits.js';
import { Listeners, PROTECTED_MODE_DENIED, protectedModeDenies, type ConnKind } from './listeners.js';
import { Replication } from '../replication/replication.js';
import { Cluster } from '../cluster/cluster.js';
import { scriptCommandView, SCRIPT_COMMAND_FLAGS } from '../scripting/index.js';

export const VIREO_VERSION = '0.1.0';
/** Valkey release whose behaviour Vireo follows (reported as valkey_version / HELLO version). */
export const VALKEY_COMPAT_VERSION = '8.0.2';
/** redis_version that Valkey 8 reports for compatibility. */
export const REDIS_COMPAT_VERSION = '7.2.4';

export interface Stats {
  numConnections: number;
  rejectedConnections: number;
  numCommands: number;
  netInputBytes: number;
  netOutputBytes: number;
  totalErrorReplies: number;
  clientQbufLimitDisconnections: number;
  clientOutputBufferLimitDisconnections: number;
  unexpectedErrorReplies: number;
  clientsPaused: number;
  /** Clients closed by client eviction (maxmemory-clients). */
  evictedClients: number;
  /** Socket reads and writes, event-loop turns and their time (src/server/loopstats.ts). */
  readsProcessed: number;
  writesProcessed: number;
  eventloopCycles: number;
  eventloopUsec: number;
}

function newStats(): Stats {
  return {
    numConnections: 0,
    rejectedConnections: 0,
    numCommands: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    totalErrorReplies: 0,
    clientQbufLimitDisconnections: 0,
    clientOutputBufferLimitDisconnections: 0,
    unexpectedErrorReplies: 0,
    clientsPaused: 0,
    evictedClients: 0,
    readsProcessed: 0,
    writesProcessed: 0,
    eventloopCycles: 0,
    eventloopUsec: 0,
  };
}

/** Instantaneous metric samples (Valkey keeps 16 samples, one per 100 ms). */
class InstMetric {
  private samples = new Array<number>(16).fill(0);
  private idx = 0;
  private lastValue = 0;
  private lastTime = 0;
  track(now: number, value: number): void {
    if (this.lastTime !== 0) {
      const dt = now - this.lastTime;
      const ops = dt > 0 ? ((value - this.lastValue) * 1000) / dt : 0;
      this.samples[this.idx] = ops;
      this.idx = (this.idx + 1) % 16;
    }
    this.lastTime = now;
    this.lastValue = value;
  }
  reset(): void {
    this.samples.fill(0);
    this.idx = 0;
    this.lastTime = 0;
  }
  get(): number {
    let s = 0;
    for (const v of this.samples) s += v;
    return s / 16;
  }
}

export type PauseType = 'all' | 'write';

export class Server {
  readonly config: Config;
  readonly log = new Logger();
  dbs: Db[] = [];
  readonly table: CommandTable;
  readonly clients = new Map<number, Client>();
  readonly monitors = new Set<Client>();
  readonly pendingClients = new Set<Client>();
  readonly scanCursors = new ScanCursors();
  /** Clients blocked on keys (BLPOP & co.) and the ready-keys machinery. */
  readonly blocking: BlockingManager = new BlockingManager(this);
  /** WATCHed keys of every client (MULTI/EXEC optimistic locking). */
  readonly watch = new WatchManager();
  /** True while EXEC runs its queue (a propagation stream will wrap it as one unit). */
  inExec = false;
  /** Set while a script runs past busy-reply-threshold (src/scripting/): answers -BUSY; true if it replied. */
  busyScript: ((c: Client, cmd: Command, argv: string[]) => boolean) | null = null;
  /** The stream of effective writes that AOF and replicas consume (src/server/propagate.ts). */
  readonly prop = new Propagation();
  /** Running point-in-time snapshots (BGSAVE, AOF rewrite): write commands copy keys first. */
  readonly snapshots: RdbSnapshot[] = [];
  /** RDB persistence: SAVE/BGSAVE, save points, start-up load (src/persistence/manager.ts). */
  readonly rdb: RdbManager = new RdbManager(this);
  /** The append-only file (src/persistence/aof/aof.ts); a target of `prop` while appendonly is on. */
  readonly aof: Aof = new Aof(this);
  /** Replication, both roles (src/replication/replication.ts). */
  readonly repl: Replication = new Replication(this);
  /** Cluster mode (src/cluster/cluster.ts); null unless cluster-enabled. */
  cluster: Cluster | null = null;
  /** Pub/Sub subscriptions, fan-out and output buffer limits. */
  readonly pubsub: PubSub = new PubSub(this);
  /** Client-side caching (CLIENT TRACKING) and invalidation messages. */
  readonly tracking: TrackingManager = new TrackingManager(this);
  /** maxmemory: used-memory meter and key eviction (src/keyspace/evict.ts). */
  readonly evictor: Evictor = new Evictor(this);
  /** Command logs (SLOWLOG, COMMANDLOG), latency monitor and histograms. */
  readonly insight = new Introspection();
  /** tracking-table-max-keys (0: no limit). */
  trackingMaxKeys = 1000000;
  /** LFU clock settings, replica expiry mode and keyspace counters of this server's databases. */
  readonly keyspace = new KeyspaceState();
  /** stream-node-max-bytes / stream-node-max-entries: when XADD starts a new stream node (src/data/stream.ts). */
  streamNodeMaxBytes = 4096;
  streamNodeMaxEntries = 100;
  private nextClientId = 1;
  /** TCP, TLS and Unix socket listeners (src/server/listeners.ts). */
  readonly listeners: Listeners = new Listeners(this);
  private cronTimer: NodeJS.Timeout | null = null;
  private pendingScheduled = false;
  stats: Stats = newStats();
  readonly errorStats = new Map<string, number>();
  /** Random id of this server run (INFO run_id). */
  readonly runId = randomBytes(20).toString('hex');
  /** Replication id (INFO master_replid); the replication layer may replace it. */
  replId = randomBytes(20).toString('hex');
  readonly startTimeMs = Date.now();
  readonly startHr = performance.now();
  dirty = 0;
  /** Keyspace notification classes in effect (0: off); see src/server/notify.ts. */
  notifyFlags = 0;
  /**
   * When the command being run started (performance.now()). Set once before a
   * batch and then to each command's end, so timing a pipeline of N commands
   * costs N+1 clock reads instead of 2N. Setting it settles the durations of
   * FAST commands deferred since the last read (src/server/cmdtiming.ts).
   */
  get callClock(): number {
    return this.clockMs;
  }
  set callClock(t: number) {
    if (this.timing.n !== 0) this.timing.settle(this, this.clockMs, t);
    this.clockMs = t;
  }
  private clockMs = 0;
  /** FAST commands of a pipelined batch timed per batch (src/server/cmdtiming.ts). */
  readonly timing = new CommandTiming();
  /** Port actually listened on (0 if TCP is off). */
  port = 0;
  cronLoops = 0;
  activeExpireEnabled = true;
  usedMemory = 0;
  peakMemory = 0;
  /** Memory in use when the server started (INFO used_memory_startup). */
  startupMemory = 0;
  shuttingDown = false;
  /** Called by SHUTDOWN after the server closed (the CLI exits the process). */
  onShutdown: (() => void) | null = null;
  /** Where the command line or embedding said to listen; port 0 in embedding picks a free port. */
  ephemeralPort = false;
  // Cached config values used on the hot path.
  requirePass = '';
  /** Users, permissions and the ACL log (src/acl/acl.ts). */
  readonly acl: Acl;
  maxmemory = 0;
  queryBufferLimit = 1024 * 1024 * 1024;
  readonly limits = { maxBulk: 512 * 1024 * 1024 };
  // CLIENT PAUSE
  pauseType: PauseType | null = null;
  pauseEndMs = 0;
  private pauseTimer: NodeJS.Timeout | null = null;
  readonly postponedClients = new Set<Client>();
  readonly opsMetric = new InstMetric();
  readonly inMetric = new InstMetric();
  readonly outMetric = new InstMetric();
  lastCpu = process.cpuUsage();

  constructor(config: Config) {
    this.config = config;
    this.table = buildCommandTable();
    this.applyConfig();
    // ACL: the default user (requirepass is its password), then `user` directives or the aclfile.
    this.acl = new Acl(this);
    if (this.requirePass !== '') this.acl.setRequirePass(this.requirePass);
    const aclErr = this.acl.loadAtStartup(config.users);
    if (aclErr !== null) throw new ConfigError(aclErr);
    config.userLines = () => this.acl.sortedUsers().map((u) => `user ${u.name} ${describeUser(u)}`);
    const n = config.num('databases');
    for (let i = 0; i < n; i++) this.dbs.push(new Db(i, this.keyspace));
    applyNotifyConfig(this);
    if (config.bool('cluster-enabled')) this.cluster = new Cluster(this);
    config.onChange = (name) => this.onConfigChange(name);
  }

  private applyConfig(): void {
    const cfg = this.config;
    this.requirePass = cfg.get('requirepass');
    this.maxmemory = cfg.num('maxmemory');
    this.evictor.configure();
    this.insight.configure(cfg);
    this.queryBufferLimit = cfg.num('client-query-buffer-limit');
    this.pubsub.setLimits(cfg.get('client-output-buffer-limit'));
    this.limits.maxBulk = cfg.num('proto-max-bulk-len');
    this.trackingMaxKeys = cfg.num('tracking-table-max-keys');
    this.streamNodeMaxBytes = cfg.num('stream-node-max-bytes');
    this.streamNodeMaxEntries = cfg.num('stream-node-max-entries');
    applyLimitsConfig(this);
    this.log.setLevel(cfg.get('loglevel'));
    this.log.file = cfg.get('logfile');
  }

  private onConfigChange(name: string): void {
    this.applyConfig();
    if (name === 'requirepass') this.acl.setRequirePass(this.requirePass);
    if (name === 'notify-keyspace-events') applyNotifyConfig(this);
    if (name.startsWith('append') || name.startsWith('aof-') || name === 'no-appendfsync-on-rewrite') this.aof.onConfig(name);
    if (name === 'maxmemory' || name === 'maxmemory-policy') this.evictor.perform();
    this.repl.onConfig(name);
    if (this.cluster !== null && name.startsWith('cluster-')) this.cluster.onConfig(name);
    if (name === 'hz' || name === 'dynamic-hz') this.startCron();
    if (name === 'tcp-keepalive') {
      const ka = this.config.num('tcp-keepalive');
      for (const c of this.clients.values()) c.socket?.setKeepAlive(ka > 0, ka * 1000);
    }
  }

  // ---------------------------------------------------------------- listeners

  /** Binds TCP (`bind` x `port`), TLS (`tls-port`) and the Unix socket; see src/server/listeners.ts. */
  listen(): Promise<void> {
    return this.listeners.listen();
  }

  /**
   * Binds the TCP and TLS listeners again after CONFIG SET port/bind/tls-port
   * (connected clients stay). Returns an error message when an address could
   * not be bound, after closing what it had opened. Port 0 means: no listener.
   */
  rebindListeners(): Promise<string | null> {
    return this.listeners.rebind();
  }

  /** Clears the counters that CONFIG RESETSTAT resets (server, errors, commands, keyspace). */
  resetStats(): void {
    this.stats = newStats();
    this.errorStats.clear();
    for (const cmd of this.table.allWithSubs()) {
      cmd.calls = 0;
      cmd.usec = 0;
      cmd.latencyHist = null;
      cmd.rejectedCalls = 0;
      cmd.failedCalls = 0;
    }
    this.keyspace.stats.hits = 0;
    this.keyspace.stats.misses = 0;
    this.keyspace.stats.expiredKeys = 0;
    this.keyspace.stats.expiredStalePerc = 0;
    this.keyspace.stats.expiredTimeCapReached = 0;
    this.keyspace.stats.expireCycleCpuMs = 0;
    this.evictor.evictedKeys = 0;
    this.evictor.exceededTotalMs = 0;
    this.opsMetric.reset();
    resetLoopStats();
    this.inMetric.reset();
    this.outMetric.reset();
  }

  /** A new connection from a listener (TCP, TLS after its handshake, or the Unix socket). */
  accept(socket: net.Socket, kind: ConnKind = 'tcp'): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    if (this.clients.size >= this.config.num('maxclients')) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (protectedModeDenies(this.config.bool('protected-mode'), this.acl.defaultUser.nopass, kind, socket.remoteAddress)) {
      this.stats.rejectedConnections++;
      socket.end(PROTECTED_MODE_DENIED);
      return;
    }
    const ka = this.config.num('tcp-keepalive');
    if (ka > 0) socket.setKeepAlive(true, ka * 1000);
    const c = new Client(this, socket, this.nextClientId++);
    this.clients.set(c.id, c);
    this.stats.numConnections++;
    if (kind === 'unix') c.setUnixAddr(this.config.get('unixsocket'));
    // TLS sockets decrypt in JS: they go through 'data' events, not the shared read buffer.
    if (kind === 'tls' || !readIntoSharedBuffer(socket, c)) socket.on('data', (chunk: Buffer) => c.onData(chunk));
    socket.on('error', () => c.closeNow());
    socket.on('close', () => {
      if (!c.closed) {
        c.closed = true;
        this.unlinkClient(c);
      }
    });
  }

  /** Creates a client that is not attached to a socket (used by tests and scripts). */
  createFakeClient(): Client {
    return new Client(this, null, this.nextClientId++);
  }

  unlinkClient(c: Client): void {
    this.clients.delete(c.id);
    this.monitors.delete(c);
    this.postponedClients.delete(c);
    this.pendingClients.delete(c);
    if (c.blocked !== null) this.blocking.removeClient(c);
    if (c.subs !== null) this.pubsub.removeClient(c);
    if (c.watched !== null) this.watch.unwatchAll(c);
    if (c.tracking !== null) this.tracking.disable(c);
    c.multi = null;
  }

  // ---------------------------------------------------------------- output

  schedulePending(c: Client): void {
    this.pendingClients.add(c);
    if (!this.pendingScheduled) {
      this.pendingScheduled = true;
      setImmediate(() => {
        this.pendingScheduled = false;
        this.flushPending();
      });
    }
  }

  flushPending(): void {
    for (const c of this.pendingClients) {
      this.pendingClients.delete(c);
      c.flush();
    }
  }

  countError(msg: string): void {
    const sp = msg.indexOf(' ');
    const code = sp < 0 ? msg : msg.slice(0, sp);
    this.stats.totalErrorReplies++;
    if (this.errorStats.size < 128 || this.errorStats.has(code)) this.errorStats.set(code, (this.errorStats.get(code) ?? 0) + 1);
  }

  // ---------------------------------------------------------------- dispatch

  /**
   * Runs one command and applies CLIENT REPLY OFF/SKIP to whatever it (or its
   * rejection) answered, like Valkey does after every command.
   */
  execute(c: Client, argv: string[]): void {
    const before = c.replyMode;
    const mark = c.len;
    this.dispatch(c, argv);
    if (before === ReplyMode.On && c.replyMode === ReplyMode.On) return;
    if (c.postponed !== null) return; // runs later, the reply mode applies then
    const m = c.replyMode;
    if (m === ReplyMode.Off || m === ReplyMode.Skip) c.len = mark;
    if (m === ReplyMode.Skip) c.replyMode = ReplyMode.On;
    else if (m === ReplyMode.SkipNext) c.replyMode = ReplyMode.Skip;
  }

  /** Looks up, checks and runs one command (Valkey's processCommand + call). */
  private dispatch(c: Client, argv: string[]): void {
    const argc = argv.length;
    let cmd = this.table.lookup(argv[0]);
    if (cmd === undefined) {
      // Valkey formats these with C strings: each stops at a NUL byte.
      let args = '';
      for (let i = 1; i < argc && args.length < 128; i++) args += `'${cstr(argv[i]).slice(0, 128 - args.length)}' `;
      this.reject(c, undefined, `ERR unknown command '${cstr(argv[0]).slice(0, 128)}', with args beginning with: ${args}`);
      return;
    }
    c.lastCmd = cmd.fullname;
    if (cmd.subcommands !== null && argc >= 2) {
      const sub = cmd.subcommands.get(argv[1].toLowerCase());
      if (sub === undefined) {
        this.reject(c, cmd, `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
        return;
      }
      cmd = sub;
      c.lastCmd = cmd.fullname;
    }
    const arity = cmd.arity;
    if ((arity > 0 && argc !== arity) || argc < -arity || cmd.handler === null) {
      this.refuse(c, cmd, `ERR wrong number of arguments for '${cmd.fullname}' command`);
      return;
    }
    let flags = cmd.flags;
    // EVAL/EVALSHA/FCALL (+ _RO): the checks below see the flags the script declares, as Valkey's getCommandFlags.
    let chk = cmd;
    if ((flags & SCRIPT_COMMAND_FLAGS) === SCRIPT_COMMAND_FLAGS) flags = (chk = scriptCommandView(this, cmd, argv)).flags;
    if (!c.authenticated && (flags & CMD.NO_AUTH) === 0 && this.acl.authRequired) {
      this.refuse(c, cmd, 'NOAUTH Authentication required.');
      return;
    }
    // Inside MULTI a NO_MULTI command is refused before ACL and the other checks, as in Valkey (src/commands/tx.ts).
    if (c.multi !== null && (flags & CMD.NO_MULTI) !== 0 && queueIfMulti(c, cmd, argv)) return;
    if (!c.aclUser.unrestricted) {
      const denied = this.acl.checkDispatch(c, cmd, argv);
      if (denied !== null) {
        this.refuse(c, cmd, denied);
        return;
      }
    }
    // Cluster mode: -MOVED, -ASK, -TRYAGAIN, -CROSSSLOT, -CLUSTERDOWN (src/cluster/cluster.ts).
    if (this.cluster !== null && this.cluster.redirected(c, cmd, argv)) return;
    if (
      this.maxmemory !== 0 &&
      c.replRole !== 'master' && // the primary's stream is never refused (replica-ignore-maxmemory)
      this.evictor.beforeCommand(c, chk, argv) // evicts before every command, as Valkey (src/keyspace/evict.ts)
    ) {
      this.refuse(c, cmd, "OOM command not allowed when used memory > 'maxmemory'.");
      return;
    }
    if (
      this.rdb.diskGate &&
      c.replRole !== 'master' && // the primary's stream is applied anyway (Valkey would stop the replica)
      ((flags & CMD.WRITE) !== 0 || cmd.name === 'ping' || (cmd.name === 'exec' && c.multi !== null && (c.multi.flags & CMD.WRITE) !== 0))
    ) {
      // The persistence gate: -MISCONF after a failed RDB save, else for an AOF write error (src/persistence/manager.ts).
      const denied = this.rdb.diskError();
      if (denied !== null) {
        this.refuse(c, cmd, denied);
        return;
      }
    }
    if (this.repl.gated) {
      // -NOREPLICAS, -READONLY, -MASTERDOWN (src/replication/replication.ts).
      let denied = this.repl.check(c, chk);
      // Valkey checks the RESP2 pub/sub context after -NOREPLICAS / -READONLY, before -MASTERDOWN and loading.
      if (denied !== null && c.subscribed && c.resp === 2 && !denied.startsWith('NOREPLICAS') && !denied.startsWith('READONLY')) denied = PubSub.contextError(c, cmd.fullname) ?? denied;
      if (denied !== null) {
        this.refuse(c, cmd, denied);
        return;
      }
    }
    if (c.subscribed && c.resp === 2) {
      // RESP2 subscribed context: only (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET.
      const err = PubSub.contextError(c, cmd.fullname);
      if (err !== null) {
        this.refuse(c, cmd, err);
        return;
      }
    }
    if (this.rdb.loading && (flags & CMD.LOADING) === 0) {
      // Loading the dataset at start-up: src/persistence/manager.ts.
      this.refuse(c, cmd, LOADING_ERR);
      return;
    }
    if (this.busyScript !== null && this.busyScript(c, cmd, argv)) return;
    if (c.monitor && (flags & (CMD.WRITE | CMD.READONLY | CMD.MAY_REPLICATE)) !== 0) {
      // A MONITOR client is flagged as a replica in Valkey, and replicas may not
      // touch the keyspace (they are exempt from CLIENT PAUSE).
      this.refuse(c, cmd, "ERR Replica can't interact with the keyspace");
      return;
    }
    if (this.pauseType !== null && this.shouldPause(c, chk)) {
      c.postponed = argv;
      this.postponedClients.add(c);
      c.socket?.pause();
      return;
    }
    if (c.multi !== null && queueIfMulti(c, cmd, argv, flags)) return;
    this.call(c, cmd, argv);
    // Serve clients blocked on keys this command made ready (Valkey's handleClientsBlockedOnKeys).
    if (this.blocking.pending) this.blocking.handleReady();
  }

  /** A known command refused by a dispatcher check: rejected, and counted in its rejected_calls. */
  private refuse(c: Client, cmd: Command, msg: string): void {
    this.reject(c, cmd, msg);
    cmd.rejectedCalls++;
  }

  /** A rejection by the dispatcher; inside MULTI it also marks the transaction (Valkey's rejectCommand). */
  private reject(c: Client, cmd: Command | undefined, msg: string): void {
    if (c.multi !== null || (cmd !== undefined && cmd.name === 'exec')) rejectInMulti(c, cmd, msg);
    else c.addError(msg);
  }

  /** Runs a command's handler and keeps its statistics. */
  call(c: Client, cmd: Command, argv: string[]): void {
    c.errorsInCall = 0;
    const ins = this.insight;
    // Inside a client's batch a FAST command does not read the clock (src/server/cmdtiming.ts).
    const timing = this.timing;
    const deferred = timing.batching && (cmd.flags & CMD.FAST) !== 0 && ins.slowMs >= DEFER_MIN_MS;
    if (!deferred && timing.n !== 0) this.callClock = performance.now(); // settles the deferred ones first
    const t0 = this.clockMs;
    const dirty0 = this.dirty;
    const out0 = c.len;
    // While anyone WATCHes: note which watched keys this write may touch.
    const wp = this.watch.clients !== 0 ? this.watch.probe(c, cmd, argv) : null;
    // While any client tracks keys (CLIENT TRACKING): note the keys a write may modify.
    const tracking = this.tracking.clients !== 0;
    const tp = tracking ? this.tracking.before(c, cmd, argv) : null;
    if (this.snapshots.length !== 0 && (cmd.flags & CMD.WRITE) !== 0) snapshotBeforeWrite(this, c, cmd, argv);
    const prop = this.prop;
    if (prop.active) {
      this.callPropagating(c, cmd, argv, dirty0);
    } else {
      try {
        cmd.handler!(c, argv);
      } catch (e) {
        this.handlerFailed(c, cmd, e);
      }
    }
    if (wp !== null) this.watch.settle(wp, this.dirty !== dirty0);
    if (tracking) this.tracking.after(c, cmd, argv, tp, this.dirty !== dirty0);
    cmd.calls++;
    if (!deferred || c.len - out0 >= ins.replyBytes || c.totNetIn - c.reqMark >= ins.requestBytes || !timing.defer(c, cmd, argv)) {
      const t1 = performance.now();
      // A deferred one (its reply or request needs a look, or the list is full) had no start read:
      // it shares the stretch since the last read with the commands deferred before it.
      const dt = deferred ? timing.shareWith(this, t1 - this.clockMs) : t1 - t0;
      this.callClock = t1; // settles FAST commands run inside this one (EXEC, scripts)
      cmd.usec += dt * 1000;
      // INFO latencystats, SLOWLOG/COMMANDLOG, LATENCY (src/server/commandlog.ts).
      if (ins.tracking) recordLatency(cmd, dt);
      if (dt >= ins.slowMs || c.len - out0 >= ins.replyBytes || c.totNetIn - c.reqMark >= ins.requestBytes) ins.observe(c, cmd, argv, dt, c.len - out0);
    }
    if (c.errorsInCall !== 0) cmd.failedCalls++;
    c.lastCmd = cmd.fullname;
    c.totCmds++;
    this.stats.numCommands++;
    if (this.monitors.size !== 0 && (cmd.flags & (CMD.SKIP_MONITOR | CMD.ADMIN)) === 0) this.feedMonitors(c, cmd.fullname, argv);
  }

  private handlerFailed(c: Client, cmd: Command, e: unknown): void {
    this.log.warning(`Unexpected error in '${cmd.fullname}': ${(e as Error).stack ?? e}`);
    this.stats.unexpectedErrorReplies++;
    c.addError(`ERR internal error while running '${cmd.fullname}': ${(e as Error).message}`);
  }

  /** call()'s handler step while the propagation stream has consumers. */
  private callPropagating(c: Client, cmd: Command, argv: string[], dirty0: number): void {
    const prop = this.prop;
    const db = c.db.id;
    const { prevented, forced, replacement } = prop;
    prop.prevented = false;
    prop.forced = false;
    prop.replacement = null;
    prop.depth++;
    try {
      cmd.handler!(c, argv);
    } catch (e) {
      this.handlerFailed(c, cmd, e);
    }
    prop.depth--;
    prop.commandDone(db, argv, this.dirty !== dirty0);
    prop.prevented = prevented;
    prop.forced = forced;
    prop.replacement = replacement;
  }

  /**
   * Writes a command line to MONITOR clients. call() does it after a command ran; the
   * skip_monitor scripting commands (EVAL*, FCALL*) do it themselves before their script
   * runs, so a script's own commands follow them (as Valkey's evalCommand does).
   */
  feedMonitors(c: Client, name: string, argv: string[]): void {
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const sec = Math.floor(now / 1e6);
    const usec = String(now % 1e6).padStart(6, '0');
    let line = `+${sec}.${usec} [${c.db.id} ${c.socket ? c.addr : 'lua'}]`;
    // Credentials never reach monitors: AUTH's arguments, and HELLO's AUTH username and password.
    let redactFrom = argv.length;
    let redactTo = -1;
    if (name === 'auth') {
      redactFrom = 1;
      redactTo = argv.length - 1;
    } else if (name === 'hello') {
      for (let i = 2; i + 2 < argv.length; i++) {
        if (argv[i].toLowerCase() === 'auth') {
          redactFrom = i + 1;
          redactTo = i + 2;
          break;
        }
      }
    }
    for (let i = 0; i < argv.length; i++) {
      line += ' ' + (i >= redactFrom && i <= redactTo ? '"(redacted)"' : reprString(argv[i]));
    }
    line += '\r\n';
    for (const m of this.monitors) {
      if (m.closed) continue;
      m.raw(line);
      m.wake();
    }
  }

  overMaxmemory(): boolean {
    this.sampleMemory();
    return this.usedMemory > this.maxmemory;
  }

  sampleMemory(): void {
    // V8 heap + external (Buffers; process.memoryUsage().external already includes arrayBuffers),
    // less what eviction freed that V8 has not collected yet (src/keyspace/evict.ts).
    this.usedMemory = Math.max(0, this.evictor.sampleNow() - this.evictor.freedSinceGc);
    if (this.usedMemory > this.peakMemory) this.peakMemory = this.usedMemory;
  }

  // ---------------------------------------------------------------- pause

  private shouldPause(c: Client, cmd: Command): boolean {
    if (Date.now() >= this.pauseEndMs) {
      this.unpause();
      return false;
    }
    if (this.pauseType === 'all') return true;
    // WRITE pause: writes and commands that may replicate (EVAL, PUBLISH, ...);
    // EXEC counts as what it has queued.
    let f = cmd.flags;
    if (c.multi !== null && cmd.name === 'exec') f |= c.multi.flags;
    return (f & (CMD.WRITE | CMD.MAY_REPLICATE)) !== 0;
  }

  pause(type: PauseType, ms: number): void {
    const end = Date.now() + ms;
    // A later pause can only extend the time or make the type stricter.
    if (this.pauseType === null || type === 'all') this.pauseType = type;
    if (end > this.pauseEndMs || this.pauseType === null) this.pauseEndMs = end;
    this.stats.clientsPaused++;
    this.armPauseTimer();
  }

  /** Ends the pause at pauseEndMs; setTimeout caps delays at 2^31-1 ms, so long pauses re-arm. */
  private armPauseTimer(): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    const left = this.pauseEndMs - Date.now();
    this.pauseTimer = setTimeout(() => {
      if (Date.now() >= this.pauseEndMs) this.unpause();
      else this.armPauseTimer();
    }, Math.min(Math.max(0, left), 2147483647));
    this.pauseTimer.unref();
  }

  unpause(): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    this.pauseType = null;
    this.pauseEndMs = 0;
    const waiting = [...this.postponedClients];
    this.postponedClients.clear();
    for (const c of waiting) {
      const argv = c.postponed;
      c.postponed = null;
      if (c.closed || argv === null) continue;
      c.socket?.resume();
      clock.update();
      c.inProcess = true;
      this.callClock = performance.now();
      this.execute(c, argv);
      c.inProcess = false;
      if (c.postponed === null) c.processInput();
      c.flush();
    }
    this.flushPending();
  }

  // ---------------------------------------------------------------- cron

  startCron(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    const hz = this.effectiveHz();
    this.cronTimer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / hz)));
    this.cronTimer.unref();
  }

  effectiveHz(): number {
    let hz = this.config.num('hz');
    if (this.config.bool('dynamic-hz')) {
      // Like Valkey: raise the frequency as clients grow, 200 clients per tick.
      while (this.clients.size / hz > 200) {
        hz *= 2;
        if (hz > 500) {
          hz = 500;
          break;
        }
      }
    }
    return hz;
  }

  private lastHz = 10;
  private readonly expireOut: [number, number] = [0, 0];

  cron(): void {
    const now = clock.update();
    this.cronLoops++;
    loopTick(this, now);
    // Replicas expire nothing themselves: the primary sends the deletions (src/replication/).
    if (this.activeExpireEnabled && this.pauseType === null && this.busyScript === null && !this.repl.isReplica) {
      this.activeExpireCycle(now);
      // Hash fields with expire times (Valkey 9): a bounded pass, 25% of the tick at most.
      activeExpireHashFields(this, now, 250 / this.effectiveHz());
    }
    this.opsMetric.track(now, this.stats.numCommands);
    this.inMetric.track(now, this.stats.netInputBytes);
    this.outMetric.track(now, this.stats.netOutputBytes);
    if (this.cronLoops % 10 === 0) this.sampleMemory();
    // Idle `timeout` once a second; client eviction (maxmemory-clients) every tick.
    if (this.cronLoops % 10 === 0) clientsCron(this, now);
    evictClients(this);
    this.scanCursors.expire(now);
    this.rdb.cron();
    if (this.tracking.clients !== 0) this.tracking.limit();
    const hz = this.effectiveHz();
    if (hz !== this.lastHz) {
      this.lastHz = hz;
      this.startCron();
    }
  }

  /**
   * Valkey's slow active expire cycle: per database, sample volatile keys in
   * rounds of 20 (more with active-expire-effort) and go on while more than 10%
   * of a round had expired, within 25% of the cron period.
   */
  activeExpireCycle(now: number): void {
    const effort = this.config.num('active-expire-effort') - 1;
    const perLoop = 20 + 5 * effort;
    const acceptableStale = 10 - effort;
    const hz = this.effectiveHz();
    const budgetMs = ((25 + 2 * effort) * 1000) / hz / 100;
    const t0 = performance.now();
    const out = this.expireOut;
    let timedOut = false;
    let totalChecked = 0;
    let totalExpired = 0;
    for (const db of this.dbs) {
      if (db.expires.size === 0) continue;
      let iterations = 0;
      for (;;) {
        db.activeExpireStep(perLoop, now, out);
        totalChecked += out[0];
        totalExpired += out[1];
        iterations++;
        if (out[0] === 0) break;
        if ((iterations & 15) === 0 && performance.now() - t0 > budgetMs) {
          timedOut = true;
          break;
        }
        if (out[1] * 100 <= out[0] * acceptableStale) break;
      }
      if (timedOut) break;
    }
    const elapsed = performance.now() - t0;
    this.keyspace.stats.expireCycleCpuMs += elapsed;
    this.insight.latency.addIfNeeded('expire-cycle', elapsed);
    if (timedOut) this.keyspace.stats.expiredTimeCapReached++;
    if (totalChecked > 0) {
      const perc = totalExpired / totalChecked;
      this.keyspace.stats.expiredStalePerc = perc * 0.05 + this.keyspace.stats.expiredStalePerc * 0.95;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    this.sampleMemory();
    this.startupMemory = this.usedMemory;
    this.aof.startup();
    if (!this.config.bool('appendonly')) this.rdb.beginStartupLoad();
    fitMaxclientsToUlimit(this);
    await this.listen();
    await this.aof.finishStartup();
    await this.rdb.finishStartupLoad();
    this.startCron();
    this.repl.start();
    if (this.cluster !== null) await this.cluster.start();
  }

  /** Stops listening, closes every client after its pending replies, stops the cron. */
  async close(): Promise<void> {
    this.shuttingDown = true;
    this.repl.shutdown();
    this.cluster?.close();
    this.aof.shutdown();
    this.rdb.onClose();
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = null;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    // A listener's close callback waits for its connections to end, so the
    // clients are closed first; sockets whose peer does not finish closing
    // within a second are dropped.
    const closed = this.listeners.closeAll();
    const sockets: net.Socket[] = [];
    for (const c of [...this.clients.values()]) {
      c.flush();
      if (c.socket) sockets.push(c.socket);
      c.closeGracefully();
    }
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, 1000);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }
}

// Reading into one shared buffer. Node lets a socket read into a caller-owned
// buffer (the `onread` option of net.Socket) instead of allocating a Buffer and
// going through the stream machinery for every read; server-side sockets do not
// take that option, so we set the same internal fields on accepted sockets. When
// this Node version does not have them, we fall back to 'data' events.
const SHARED_READ = Buffer.allocUnsafe(64 * 1024);
let kBuffer: symbol | undefined;
let kBufferCb: symbol | undefined;
let probed = false;

function readIntoSharedBuffer(socket: net.Socket, c: Client): boolean {
  if (!probed) {
    probed = true;
    for (const sym of Object.getOwnPropertySymbols(socket)) {
      if (sym.description === 'kBuffer') kBuffer = sym;
      else if (sym.description === 'kBufferCb') kBufferCb = sym;
    }
  }
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Buffer) => void } })._handle;
  if (kBuffer === undefined || kBufferCb === undefined || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const rec = socket as unknown as Record<symbol, unknown>;
  if (rec[kBuffer] !== null || rec[kBufferCb] !== null) return false;
  handle.useUserBuffer(SHARED_READ);
  rec[kBuffer] = SHARED_READ;
  rec[kBufferCb] = (nread: number): void => {
    c.onData(SHARED_READ.subarray(0, nread));
  };
  return true;
}

/** The part of a string before its first NUL byte (what C's %s prints). */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

/** Quotes a string like Valkey's sdscatrepr. */
export function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 92:
        out += '\\\\';
        break;
      case 34:
        out += '\\"';
        break;
      case 10:
        out += '\\n';
        break;
      case 13:
        out += '\\r';
        break;
      case 9:
        out += '\\t';
        break;
      case 7:
        out += '\\a';
        break;
      case 8:
        out += '\\b';
        break;
      default:
        if (c >= 32 && c < 127) out += s[i];
        else out += '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out + '"';
}
