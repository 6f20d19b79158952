// Cluster mode (cluster-enabled yes): the node table, slot ownership, epochs,
// nodes.conf, key routing (-MOVED/-ASK/-TRYAGAIN/-CROSSSLOT/-CLUSTERDOWN) and the
// cluster bus (PING/PONG/MEET gossip, PFAIL/FAIL failure detection, UPDATE,
// cluster-wide PUBLISH, PUBLISHSHARD within a shard) speaking Valkey's binary
// format (src/cluster/bus.ts). nodes.conf is locked against a second server (./lock.ts).
//
// Follows Valkey's cluster_legacy.c in behaviour: the same state machine, in a
// smaller form. Primaries vote in replica elections (FAILOVER_AUTH_REQUEST ->
// ACK). Vireo nodes are replicas through src/replication/ (CLUSTER REPLICATE),
// run their own elections when their primary fails (rank delay by offset, votes
// by a majority of primaries, configEpoch bump, PONG broadcast) and manual
// failovers (CLUSTER FAILOVER [FORCE|TAKEOVER], MFSTART + offset wait), and
// migrate to orphaned primaries. A primary whose slots were taken follows the new owner.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { CMD, getCommandKeys, type Command } from '../commands/table.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ConfigError } from '../config/config.js';
import { discardTransaction, flagTransaction } from '../commands/tx.js';
import { CLUSTER_SLOTS, keyHashSlot } from './slots.js';
import { ensureSlotIndex, type SlotKeyTable } from './keyindex.js';
import { ConfigLock } from './lock.js';
import { Kind } from '../server/pubsub.js';
import {
  MSG,
  MSG_TYPE_NAMES,
  NF,
  decode,
  encodeEmpty,
  encodeFail,
  encodePing,
  encodePublish,
  encodeUpdate,
  type BusMessage,
  type GossipEntry,
  type HeaderFields,
} from './bus.js';

/** Client flag bits kept in Client.clusterFlags. */
export const CF_ASKING = 1;
export const CF_READONLY = 2;

const MAX_MSG = 64 * 1024 * 1024;
const BLACKLIST_TTL_MS = 60_000;
/** A primary that just started waits this long before declaring the cluster OK (Valkey's writable delay). */
const WRITABLE_DELAY_MS = 2000;
/** How long a manual failover may take (Valkey's CLUSTER_MF_TIMEOUT). */
const MF_TIMEOUT_MS = 5000;
/** How long a primary stays orphaned before a replica migrates to it (Valkey's CLUSTER_REPLICA_MIGRATION_DELAY). */
const REPLICA_MIGRATION_DELAY_MS = 5000;

export function randomName(): string {
  return randomBytes(20).toString('hex');
}

export class ClusterNode {
  flags: number;
  configEpoch = 0;
  readonly slots = new Uint8Array(CLUSTER_SLOTS / 8);
  numSlots = 0;
  replicaOf: ClusterNode | null = null;
  replicas: ClusterNode[] = [];
  pingSent = 0;
  pongReceived = 0;
  dataReceived = 0;
  failTime = 0;
  /** Since when this primary has had no working replica (replica migration; 0: it has one). */
  orphanedTime = 0;
  /** When this node (as a primary) last got our vote for one of its replicas. */
  votedTime = 0;
  ip = '';
  port = 0;
  pport = 0;
  cport = 0;
  hostname = '';
  humanNodename = '';
  link: Link | null = null;
  inboundLink: Link | null = null;
  /** Primaries that reported this node as PFAIL/FAIL, with the time of their last report. */
  readonly failReports = new Map<ClusterNode, number>();
  readonly ctime = Date.now();
  replOffset = 0;

  constructor(
    public name: string,
    flags: number,
    public shardId: string = randomName(),
  ) {
    this.flags = flags;
  }

  hasSlot(s: number): boolean {
    return (this.slots[s >> 3] & (1 << (s & 7))) !== 0;
  }
  get isMaster(): boolean {
    return (this.flags & NF.MASTER) !== 0;
  }
}

export class Link {
  node: ClusterNode | null = null;
  readonly ctime = Date.now();
  private chunks: Buffer[] = [];
  private have = 0;
  sentBytes = 0;
  closed = false;

  constructor(
    readonly cluster: Cluster,
    readonly socket: net.Socket,
    readonly inbound: boolean,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  send(b: Buffer): void {
    if (this.closed) return;
    this.sentBytes += b.length;
    this.socket.write(b);
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.have += d.length;
    while (this.have >= 8 && !this.closed) {
      let head = this.chunks[0];
      if (head.length < 8) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      if (head.latin1Slice(0, 4) !== 'RCmb') {
        this.cluster.server.log.verbose('Bad message signature on the cluster bus: dropping the link');
        this.close();
        return;
      }
      const total = head.readUInt32BE(4);
      if (total < 16 || total > MAX_MSG) {
        this.close();
        return;
      }
      if (this.have < total) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      const msg = all.subarray(0, total);
      const rest = all.subarray(total);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.have = rest.length;
      const m = decode(msg);
      if (m === null) {
        // Light headers and messages we cannot validate are skipped; a broken frame drops the link.
        if ((msg.readUInt16BE(12) & 0x8000) !== 0) continue;
        this.cluster.server.log.verbose('Malformed cluster bus message: dropping the link');
        this.close();
        return;
      }
      this.cluster.process(this, m);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    const n = this.node;
    if (n !== null) {
      if (n.link === this) n.link = null;
      if (n.inboundLink === this) n.inboundLink = null;
    }
    this.cluster.links.delete(this);
  }
}

export type ClusterState = 'ok' | 'fail';

export class Cluster {
  readonly nodes = new Map<string, ClusterNode>();
  myself: ClusterNode;
  readonly slots: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  readonly migratingTo: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  readonly importingFrom: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  currentEpoch = 0;
  lastVoteEpoch = 0;
  state: ClusterState = 'fail';
  /** Primaries serving at least one slot. */
  size = 0;
  readonly links = new Set<Link>();
  readonly blacklist = new Map<string, number>();
  readonly sent = new Array<number>(MSG_TYPE_NAMES.length).fill(0);
  readonly received = new Array<number>(MSG_TYPE_NAMES.length).fill(0);
  readonly file: string;
  private busServers: net.Server[] = [];
  private timer: NodeJS.Timeout | null = null;
  private iteration = 0;
  private saveScheduled = false;
  private readonly startedAt = Date.now();
  nodeTimeout: number;
  // Replica side: the election in progress (Valkey's failover_auth_*).
  private failoverAuthTime = 0;
  private failoverAuthCount = 0;
  private failoverAuthSent = false;
  private failoverAuthRank = 0;
  private failoverAuthEpoch = 0;
  // Manual failover (Valkey's mf_*): deadline (0: none), on the replica whether the
  // election may start and the offset the paused primary reported; on the primary the replica.
  mfEnd = 0;
  private mfCanStart = false;
  private mfPrimaryOffset = -1;
  private mfReplica: ClusterNode | null = null;
  requireFullCoverage: boolean;
  validityFactor: number;
  noFailover: boolean;
  allowReadsWhenDown: boolean;
  allowPubsubShardWhenDown: boolean;
  private readonly lock: ConfigLock;

  constructor(readonly server: Server) {
    const cfg = server.config;
    this.file = cfg.get('cluster-config-file');
    // Every node uses its own nodes.conf (Valkey's clusterLockConfig), locked before it is read.
    this.lock = new ConfigLock(this.file);
    let locked: boolean;
    try {
      locked = this.lock.acquire();
    } catch (e) {
      throw new ConfigError(`Can't open ${this.file} in order to acquire a lock: ${(e as Error).message}`);
    }
    if (!locked) {
      throw new ConfigError(
        `Sorry, the cluster configuration file ${this.file} is already used by a different Cluster node. Please make sure that different nodes use different cluster configuration files.`,
      );
    }
    this.nodeTimeout = cfg.num('cluster-node-timeout');
    this.requireFullCoverage = cfg.bool('cluster-require-full-coverage');
    this.validityFactor = cfg.num('cluster-replica-validity-factor');
    this.noFailover = cfg.bool('cluster-replica-no-failover');
    this.allowReadsWhenDown = cfg.bool('cluster-allow-reads-when-down');
    this.allowPubsubShardWhenDown = cfg.bool('cluster-allow-pubsubshard-when-down');
    this.myself = new ClusterNode(randomName(), NF.MYSELF | NF.MASTER);
    if (existsSync(this.file) && this.load(readFileSync(this.file, 'latin1'))) {
      server.log.notice(`Node configuration loaded, I'm ${this.myself.name}`);
    } else {
      this.nodes.clear();
      this.myself = new ClusterNode(randomName(), NF.MYSELF | NF.MASTER);
      this.nodes.set(this.myself.name, this.myself);
      server.log.notice(`No cluster configuration found, I'm ${this.myself.name}`);
    }
    this.applyAnnounce();
  }

  /** cluster-announce-*, cluster-port and port: what this node tells others. */
  applyAnnounce(): void {
    const cfg = this.server.config;
    const me = this.myself;
    const aip = cfg.get('cluster-announce-ip');
    if (aip !== '') me.ip = aip;
    me.hostname = cfg.get('cluster-announce-hostname');
    me.humanNodename = cfg.get('cluster-announce-human-nodename');
    // cluster-replica-no-failover travels as the nofailover flag.
    if (cfg.bool('cluster-replica-no-failover')) me.flags |= NF.NOFAILOVER;
    else me.flags &= ~NF.NOFAILOVER;
  }

  get clientPort(): number {
    return this.server.config.num('cluster-announce-port') || this.server.port;
  }

  get busPort(): number {
    const cfg = this.server.config;
    return cfg.num('cluster-port') || (this.server.config.num('port') || this.server.port) + 10000;
  }

  get announcedBusPort(): number {
    return this.server.config.num('cluster-announce-bus-port') || this.busPort;
  }

  onConfig(name: string): void {
    const cfg = this.server.config;
    if (name === 'cluster-node-timeout') this.nodeTimeout = cfg.num(name);
    else if (name === 'cluster-require-full-coverage') this.requireFullCoverage = cfg.bool(name);
    else if (name === 'cluster-replica-validity-factor') this.validityFactor = cfg.num(name);
    else if (name === 'cluster-replica-no-failover') {
      this.noFailover = cfg.bool(name);
      this.applyAnnounce();
      this.scheduleSave();
    } else if (name === 'cluster-allow-reads-when-down') this.allowReadsWhenDown = cfg.bool(name);
    else if (name === 'cluster-allow-pubsubshard-when-down') this.allowPubsubShardWhenDown = cfg.bool(name);
    else if (name.startsWith('cluster-announce')) {
      this.applyAnnounce();
      this.myself.port = this.clientPort;
      this.myself.cport = this.announcedBusPort;
      this.scheduleSave();
    } else return;
    this.updateState();
  }

  // ------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const me = this.myself;
    me.port = this.clientPort;
    me.cport = this.announcedBusPort;
    const port = this.busPort;
    if (port > 65535) throw new Error(`Cluster bus port ${port} is out of range (set cluster-port)`);
    // The bus listens on every `bind` address, like the client port ("-addr": skipped when unavailable).
    const binds = this.server.config
      .get('bind')
      .split(/\s+/)
      .filter((b) => b !== '');
    const all = binds.length === 0 || binds.some((b) => b === '*' || b === '-*' || b === '0.0.0.0' || b === '::');
    const targets: [string | undefined, boolean][] = all ? [[undefined, false]] : binds.map((b) => (b.startsWith('-') ? [b.slice(1), true] : [b, false]));
    for (const [host, optional] of targets) {
      const srv = net.createServer((sock) => this.accept(sock));
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(port, host, () => {
            srv.off('error', reject);
            resolve();
          });
        });
        this.busServers.push(srv);
      } catch (e) {
        if (!optional) {
          for (const s of this.busServers) s.close();
          this.busServers = [];
          throw e;
        }
      }
    }
    ensureSlotIndex(this.server.dbs[0]);
    this.saveNow();
    this.updateState();
    this.timer = setInterval(() => this.cron(), 100);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const srv of this.busServers) srv.close();
    this.busServers = [];
    for (const l of [...this.links]) l.close();
    if (this.saveScheduled) this.saveNow();
    this.lock.release();
  }

  private accept(s: net.Socket): void {
    if (this.server.shuttingDown) {
      s.destroy();
      return;
    }
    const link = new Link(this, s, true);
    this.links.add(link);
  }

  // ------------------------------------------------------------ nodes and slots

  lookup(name: string): ClusterNode | undefined {
    return this.nodes.get(name);
  }

  addSlot(n: ClusterNode, slot: number): boolean {
    if (this.slots[slot] !== null) return false;
    n.slots[slot >> 3] |= 1 << (slot & 7);
    n.numSlots++;
    this.slots[slot] = n;
    return true;
  }

  delSlot(slot: number): boolean {
    const n = this.slots[slot];
    if (n === null) return false;
    // The slot's sharded channels go with it: their subscribers get a sunsubscribe (Valkey's removeChannelsInSlot).
    if (this.server.pubsub.shardChannels.size !== 0) this.removeChannelsInSlot(slot);
    n.slots[slot >> 3] &= ~(1 << (slot & 7));
    n.numSlots--;
    this.slots[slot] = null;
    return true;
  }

  private removeChannelsInSlot(slot: number): void {
    const ps = this.server.pubsub;
    for (const [channel, subs] of [...ps.shardChannels]) {
      if (keyHashSlot(channel) !== slot) continue;
      for (const c of [...subs]) {
        ps.unsubscribe(c, channel, Kind.Shard, true);
        ps.unmarkIfIdle(c);
        c.wake();
      }
    }
  }

  /** Removes the slots of a node; returns how many. */
  delNodeSlots(n: ClusterNode): number {
    let deleted = 0;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (n.hasSlot(j)) {
        this.delSlot(j);
        deleted++;
      }
    }
    return deleted;
  }

  delNode(n: ClusterNode): void {
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (this.importingFrom[j] === n) this.importingFrom[j] = null;
      if (this.migratingTo[j] === n) this.migratingTo[j] = null;
      if (this.slots[j] === n) this.delSlot(j);
    }
    for (const other of this.nodes.values()) other.failReports.delete(n);
    if (n.replicaOf !== null) n.replicaOf.replicas = n.replicaOf.replicas.filter((r) => r !== n);
    for (const r of n.replicas) r.replicaOf = null;
    n.link?.close();
    n.inboundLink?.close();
    this.nodes.delete(n.name);
  }

  renameNode(n: ClusterNode, name: string): void {
    this.nodes.delete(n.name);
    n.name = name;
    this.nodes.set(name, n);
  }

  keyTable(): SlotKeyTable {
    return ensureSlotIndex(this.server.dbs[0]);
  }

  countKeysInSlot(slot: number): number {
    return this.keyTable().countInSlot(slot);
  }

  /** Deletes the keys of a slot (a slot lost to a node with a newer config). */
  delKeysInSlot(slot: number): number {
    const db = this.server.dbs[0];
    const keys = this.keyTable().keysInSlot(slot, Number.MAX_SAFE_INTEGER);
    for (const k of keys) {
      db.delete(k);
      if (this.server.prop.active) this.server.prop.also(0, ['DEL', k]);
    }
    if (keys.length > 0) this.server.dirty += keys.length;
    return keys.length;
  }

  /** The highest config epoch known (Valkey's clusterGetMaxEpoch). */
  maxEpoch(): number {
    let max = 0;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return Math.max(max, this.currentEpoch);
  }

  bumpEpochWithoutConsensus(): boolean {
    const max = this.maxEpoch();
    if (this.myself.configEpoch === 0 || this.myself.configEpoch !== max) {
      this.currentEpoch++;
      this.myself.configEpoch = this.currentEpoch;
      this.scheduleSave();
      return true;
    }
    return false;
  }

  /** CLUSTER MEET / gossip: a node known only by address, to be met. False if the address is invalid. */
  startHandshake(ip: string, port: number, cport: number): boolean {
    if (net.isIP(ip) === 0 || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return false;
    if (ip.startsWith('::ffff:')) ip = ip.slice(7);
    for (const n of this.nodes.values()) {
      if ((n.flags & NF.HANDSHAKE) !== 0 && n.ip === ip && n.port === port && n.cport === cport) return true;
    }
    const n = new ClusterNode(randomName(), NF.HANDSHAKE | NF.MEET);
    n.ip = ip;
    n.port = port;
    n.cport = cport;
    this.nodes.set(n.name, n);
    return true;
  }

  /** CLUSTER RESET: forget slots and other nodes; HARD also takes a new name and zeroes the epochs. */
  reset(hard: boolean): void {
    // A replica becomes an empty primary first (Valkey's clusterReset).
    if ((this.myself.flags & NF.SLAVE) !== 0) {
      this.setNodeAsPrimary(this.myself);
      this.server.repl.promote();
      for (const db of this.server.dbs) {
        this.server.dirty += db.flush();
        this.server.blocking.onFlush(db);
      }
    }
    this.resetManualFailover();
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      this.importingFrom[j] = null;
      this.migratingTo[j] = null;
      this.delSlot(j);
    }
    for (const n of [...this.nodes.values()]) if (n !== this.myself) this.delNode(n);
    if (hard) {
      this.currentEpoch = 0;
      this.lastVoteEpoch = 0;
      this.myself.configEpoch = 0;
      this.renameNode(this.myself, randomName());
      this.myself.shardId = randomName();
      this.server.log.notice(`Node hard reset, now I'm ${this.myself.name}`);
    }
    this.updateState();
    this.saveNow();
  }

  // ------------------------------------------------------------ state

  updateState(): void {
    const now = Date.now();
    let next: ClusterState = 'ok';
    if (this.myself.isMaster && this.state === 'fail' && now - this.startedAt < WRITABLE_DELAY_MS) return;
    if (this.requireFullCoverage) {
      for (let j = 0; j < CLUSTER_SLOTS; j++) {
        const n = this.slots[j];
        if (n === null || (n.flags & NF.FAIL) !== 0) {
          next = 'fail';
          break;
        }
      }
    }
    let size = 0;
    let reachable = 0;
    for (const n of this.nodes.values()) {
      if (n.isMaster && n.numSlots > 0) {
        size++;
        if ((n.flags & (NF.FAIL | NF.PFAIL)) === 0) reachable++;
      }
    }
    this.size = size;
    if (reachable < Math.floor(size / 2) + 1) next = 'fail';
    if (next !== this.state) {
      this.server.log.notice(`Cluster state changed: ${next}`);
      this.state = next;
    }
  }

  // ------------------------------------------------------------ nodes.conf

  nodeAddr(n: ClusterNode): string {
    let s = `${n.ip}:${n.port}@${n.cport}`;
    if (n.hostname !== '') s += `,${n.hostname}`;
    return s;
  }

  flagsString(n: ClusterNode): string {
    const f: string[] = [];
    if (n.flags & NF.MYSELF) f.push('myself');
    if (n.flags & NF.MASTER) f.push('master');
    if (n.flags & NF.SLAVE) f.push('slave');
    if (n.flags & NF.PFAIL) f.push('fail?');
    if (n.flags & NF.FAIL) f.push('fail');
    if (n.flags & NF.HANDSHAKE) f.push('handshake');
    if (n.flags & NF.NOADDR) f.push('noaddr');
    if (n.flags & NF.NOFAILOVER) f.push('nofailover');
    return f.length === 0 ? 'noflags' : f.join(',');
  }

  /** One CLUSTER NODES line (forFile: nodes.conf's form with aux fields). */
  describeNode(n: ClusterNode, forFile: boolean): string {
    let addr = `${n.ip}:${n.port}@${n.cport}`;
    if (forFile) addr += `,${n.hostname},shard-id=${n.shardId}`;
    else if (n.hostname !== '') addr += `,${n.hostname}`;
    const me = (n.flags & NF.MYSELF) !== 0;
    const master = n.replicaOf !== null ? n.replicaOf.name : '-';
    const link = me || n.link !== null ? 'connected' : 'disconnected';
    const epoch = n.replicaOf !== null ? n.replicaOf.configEpoch : n.configEpoch;
    let s = `${n.name} ${addr} ${this.flagsString(n)} ${master} ${me ? 0 : n.pingSent} ${me ? 0 : n.pongReceived} ${epoch} ${link}`;
    if (n.numSlots > 0) {
      let start = -1;
      for (let j = 0; j <= CLUSTER_SLOTS; j++) {
        const has = j < CLUSTER_SLOTS && n.hasSlot(j);
        if (has && start < 0) start = j;
        if (!has && start >= 0) {
          s += start === j - 1 ? ` ${start}` : ` ${start}-${j - 1}`;
          start = -1;
        }
      }
    }
    if (me) {
      for (let j = 0; j < CLUSTER_SLOTS; j++) {
        const to = this.migratingTo[j];
        if (to !== null) s += ` [${j}->-${to.name}]`;
        const from = this.importingFrom[j];
        if (from !== null) s += ` [${j}-<-${from.name}]`;
      }
    }
    return s;
  }

  nodesDescription(forFile: boolean, filter?: (n: ClusterNode) => boolean): string {
    let out = '';
    for (const n of this.nodes.values()) {
      if (!forFile && (n.flags & NF.NOADDR) !== 0 && n.numSlots === 0) continue;
      if (filter !== undefined && !filter(n)) continue;
      out += this.describeNode(n, forFile) + '\n';
    }
    return out;
  }

  configText(): string {
    return this.nodesDescription(true) + `vars currentEpoch ${this.currentEpoch} lastVoteEpoch ${this.lastVoteEpoch}\n`;
  }

  /**
   * Writes nodes.conf atomically (temp file + rename) and, unless `fsync` is false,
   * fsynced: Valkey fsyncs on epoch and role changes, not on every slot state change
   * (CLUSTER SETSLOT, which redis-cli sends to every node for every slot it moves).
   * Returns an error message or null.
   */
  saveNow(fsync = true): string | null {
    this.saveScheduled = false;
    try {
      if (fsync) writeFileAtomic(this.file, this.configText());
      else {
        const tmp = `${this.file}.tmp-${process.pid}`;
        writeFileSync(tmp, this.configText(), 'latin1');
        renameSync(tmp, this.file);
      }
      return null;
    } catch (e) {
      this.server.log.warning(`Could not save the cluster config file ${this.file}: ${(e as Error).message}`);
      return (e as Error).message;
    }
  }

  /** Saves nodes.conf once after the current event-loop turn. */
  scheduleSave(): void {
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setImmediate(() => {
      if (this.saveScheduled) this.saveNow();
    });
  }

  /** Parses nodes.conf; false when the file is empty. Throws on a corrupt file. */
  private load(text: string): boolean {
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length === 0) return false;
    const pendingMaster: [ClusterNode, string][] = [];
    let me: ClusterNode | null = null;
    const bad = (l: string) => new ConfigError(`Unrecoverable error: corrupted cluster config file "${l}".`);
    for (const line of lines) {
      const f = line.split(' ');
      if (f[0] === 'vars') {
        for (let i = 1; i + 1 < f.length; i += 2) {
          if (f[i] === 'currentEpoch') this.currentEpoch = Number(f[i + 1]);
          else if (f[i] === 'lastVoteEpoch') this.lastVoteEpoch = Number(f[i + 1]);
        }
        continue;
      }
      if (f.length < 8) throw bad(line);
      const name = f[0];
      let n = this.nodes.get(name);
      if (n === undefined) {
        n = new ClusterNode(name, 0);
        this.nodes.set(name, n);
      }
      const parts = f[1].split(',');
      const m = /^(.*):(\d+)@(\d+)$/.exec(parts[0]);
      if (m === null) throw bad(line);
      n.ip = m[1];
      n.port = Number(m[2]);
      n.cport = Number(m[3]);
      for (let i = 1; i < parts.length; i++) {
        const eq = parts[i].indexOf('=');
        if (eq < 0) {
          if (i === 1) n.hostname = parts[i];
          continue;
        }
        const k = parts[i].slice(0, eq);
        const v = parts[i].slice(eq + 1);
        if (k === 'shard-id') n.shardId = v;
        else if (k === 'hostname') n.hostname = v;
        else if (k === 'nodename') n.humanNodename = v;
      }
      let flags = 0;
      for (const fl of f[2].split(',')) {
        if (fl === 'myself') flags |= NF.MYSELF;
        else if (fl === 'master') flags |= NF.MASTER;
        else if (fl === 'slave') flags |= NF.SLAVE;
        else if (fl === 'fail?') flags |= NF.PFAIL;
        else if (fl === 'fail') flags |= NF.FAIL;
        else if (fl === 'handshake') flags |= NF.HANDSHAKE;
        else if (fl === 'noaddr') flags |= NF.NOADDR;
        else if (fl === 'nofailover') flags |= NF.NOFAILOVER;
      }
      n.flags = flags;
      if ((flags & NF.MYSELF) !== 0) me = n;
      if (f[3] !== '-') pendingMaster.push([n, f[3]]);
      if (Number(f[4]) > 0) n.pingSent = Date.now();
      if (Number(f[5]) > 0) n.pongReceived = Number(f[5]);
      n.configEpoch = Number(f[6]);
      for (let i = 8; i < f.length; i++) {
        const tok = f[i];
        if (tok.startsWith('[')) {
          const mm = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(tok);
          if (mm === null) throw bad(line);
          const slot = Number(mm[1]);
          let other = this.nodes.get(mm[3]);
          if (other === undefined) {
            other = new ClusterNode(mm[3], 0);
            this.nodes.set(mm[3], other);
          }
          if (mm[2] === '>') this.migratingTo[slot] = other;
          else this.importingFrom[slot] = other;
          continue;
        }
        const dash = tok.indexOf('-');
        const a = Number(dash < 0 ? tok : tok.slice(0, dash));
        const b = dash < 0 ? a : Number(tok.slice(dash + 1));
        if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b >= CLUSTER_SLOTS || a > b) throw bad(line);
        for (let s = a; s <= b; s++) {
          if (this.slots[s] !== null) this.delSlot(s);
          this.addSlot(n, s);
        }
      }
    }
    if (me === null) throw new ConfigError('Unrecoverable error: corrupted cluster config file (no myself node).');
    for (const [n, masterName] of pendingMaster) {
      let master = this.nodes.get(masterName);
      if (master === undefined) {
        master = new ClusterNode(masterName, 0);
        this.nodes.set(masterName, master);
      }
      n.replicaOf = master;
      master.replicas.push(n);
      master.flags |= NF.MIGRATE_TO;
    }
    this.myself = me;
    // Nodes named only in a slot migration or as primary and never described are kept without address.
    for (const n of this.nodes.values()) if (n.flags === 0) n.flags = NF.NOADDR | NF.MASTER;
    return true;
  }

  // ------------------------------------------------------------ routing

  /** The dispatcher's hook: answers the redirection or error and returns true when this node does not serve the command. */
  redirected(c: Client, cmd: Command, argv: string[]): boolean {
    // The primary's link is obeyed whatever the slots say (Valkey exempts the master client).
    if (c.replRole === 'master') return false;
    if (this.inFlight.size !== 0 && this.touchesInFlight(c, cmd, argv)) {
      // A MIGRATE is moving this key: wait for it, as Valkey's blocking MIGRATE would make us.
      c.postponed = argv;
      c.socket?.pause();
      this.waitingForMigrate.push(c);
      return true;
    }
    const err = this.route(c, cmd, argv);
    if (err === null) return false;
    // A redirected EXEC drops the transaction; a redirected command inside MULTI makes EXEC fail.
    if (cmd.name === 'exec' && cmd.parent === null) discardTransaction(c);
    else flagTransaction(c);
    c.addError(err);
    cmd.rejectedCalls++;
    return true;
  }

  /**
   * Valkey's getNodeByQuery: null when this node serves the command, else the
   * error to answer (MOVED, ASK, TRYAGAIN, CROSSSLOT, CLUSTERDOWN).
   */
  route(c: Client, cmd: Command, argv: string[]): string | null {
    this.lastSlot = -1;
    const asking = (c.clusterFlags & CF_ASKING) !== 0;
    if (asking && c.multi === null && cmd.name !== 'asking') c.clusterFlags &= ~CF_ASKING;
    if (c.replRole === 'master') return null;
    const isExec = cmd.name === 'exec' && cmd.parent === null;
    if (!isExec && cmd.keySpecs.length === 0 && (cmd.flags & CMD.MOVABLE_KEYS) === 0) return null;
    if (c.db !== this.server.dbs[0]) return null;
    const q = this.q;
    q.n = null;
    q.slot = -1;
    q.firstKey = null;
    q.multipleKeys = false;
    q.migrating = false;
    q.importing = false;
    q.missing = 0;
    q.existing = 0;
    q.pubsubShard = false;
    let write = false;
    let readonly = true;
    if (isExec) {
      if (c.multi === null) return null;
      const cmds = c.multi.cmds;
      const argvs = c.multi.argvs;
      for (let i = 0; i < cmds.length; i++) {
        const f = cmds[i].flags;
        if ((f & CMD.WRITE) !== 0) write = true;
        if ((f & CMD.READONLY) === 0) readonly = false;
        const e = this.scanKeys(cmds[i], argvs[i]);
        if (e !== null) return e;
      }
    } else {
      write = (cmd.flags & CMD.WRITE) !== 0;
      readonly = (cmd.flags & CMD.READONLY) !== 0;
      const e = this.scanKeys(cmd, argv);
      if (e !== null) return e;
    }
    const n = q.n as ClusterNode | null;
    if (n === null) return null;
    const slot = q.slot;
    this.lastSlot = slot;
    if (this.state !== 'ok') {
      if (q.pubsubShard) {
        if (!this.allowPubsubShardWhenDown) return 'CLUSTERDOWN The cluster is down';
      } else if (!this.allowReadsWhenDown) return 'CLUSTERDOWN The cluster is down';
      if (write) return 'CLUSTERDOWN The cluster is down and only accepts read commands';
    }
    if ((q.migrating || q.importing) && cmd.name === 'migrate') return null;
    if (q.migrating && q.missing > 0) {
      if (q.existing > 0) return 'TRYAGAIN Multiple keys request during rehashing of slot';
      const to = this.migratingTo[slot]!;
      return `ASK ${slot} ${to.ip}:${to.port}`;
    }
    if (q.importing && (asking || (cmd.flags & CMD.ASKING) !== 0)) {
      if (q.multipleKeys && q.missing > 0) return 'TRYAGAIN Multiple keys request during rehashing of slot';
      return null;
    }
    // A replica serves reads of its primary's slots to READONLY clients, and sharded pub/sub to anyone.
    if ((((c.clusterFlags & CF_READONLY) !== 0 && readonly) || (q.pubsubShard && !write)) && (this.myself.flags & NF.SLAVE) !== 0 && this.myself.replicaOf === n) return null;
    if (n !== this.myself) return `MOVED ${slot} ${n.ip}:${n.port}`;
    return null;
  }

  /** State of the query route() is looking at (reused: no allocation per command). */
  private readonly q = {
    n: null as ClusterNode | null,
    slot: -1,
    firstKey: null as string | null,
    multipleKeys: false,
    migrating: false,
    importing: false,
    missing: 0,
    existing: 0,
    pubsubShard: false,
  };

  /** Adds one command's keys to the query state; an error (unbound slot, cross-slot) or null. */
  private scanKeys(cmd: Command, argv: string[]): string | null {
    const q = this.q;
    if ((cmd.flags & CMD.PUBSUB) !== 0 && cmd.keySpecs.length !== 0) q.pubsubShard = true;
    const keys = keysForRouting(cmd, argv);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      const s = keyHashSlot(key);
      if (q.firstKey === null) {
        q.firstKey = key;
        q.slot = s;
        const n = this.slots[s];
        if (n === null) return 'CLUSTERDOWN Hash slot not served';
        q.n = n;
        if (n === this.myself && this.migratingTo[s] !== null) q.migrating = true;
        else if (this.importingFrom[s] !== null) q.importing = true;
      } else {
        if (s !== q.slot) return "CROSSSLOT Keys in request don't hash to the same slot";
        if (!q.multipleKeys && key !== q.firstKey) q.multipleKeys = true;
      }
      // Sharded Pub/Sub channels stay with the source node until the slot moves: no key to look for.
      if ((q.migrating || q.importing) && (cmd.flags & CMD.PUBSUB) === 0) {
        // As Valkey's lookup without touching, stats or expiring: a logically expired key is missing.
        const db = this.server.dbs[0];
        if (!db.dict.has(key) || db.isExpired(key)) q.missing++;
        else q.existing++;
      }
    }
    return null;
  }

  /** Keys a running MIGRATE has serialized and will delete (db 0), with how many migrations hold each. */
  readonly inFlight = new Map<string, number>();
  private waitingForMigrate: Client[] = [];

  private touchesInFlight(c: Client, cmd: Command, argv: string[]): boolean {
    if (c.db !== this.server.dbs[0]) return false;
    const isExec = cmd.name === 'exec' && c.multi !== null;
    const cmds = isExec ? c.multi!.cmds : [cmd];
    const argvs = isExec ? c.multi!.argvs : [argv];
    for (let i = 0; i < cmds.length; i++) {
      if (cmds[i].keySpecs.length === 0 && (cmds[i].flags & CMD.MOVABLE_KEYS) === 0) continue;
      for (const k of keysForRouting(cmds[i], argvs[i])) if (this.inFlight.has(k)) return true;
    }
    return false;
  }

  beginMigrate(keys: string[]): void {
    for (const k of keys) this.inFlight.set(k, (this.inFlight.get(k) ?? 0) + 1);
  }

  /** The MIGRATE finished (keys deleted or kept): run the commands that waited for it, in arrival order. */
  endMigrate(keys: string[]): void {
    for (const k of keys) {
      const n = this.inFlight.get(k)! - 1;
      if (n <= 0) this.inFlight.delete(k);
      else this.inFlight.set(k, n);
    }
    const waiting = this.waitingForMigrate;
    this.waitingForMigrate = [];
    for (const c of waiting) {
      const argv = c.postponed;
      c.postponed = null;
      if (c.closed || argv === null) continue;
      c.socket?.resume();
      c.inProcess = true;
      this.server.callClock = performance.now();
      this.server.execute(c, argv);
      c.inProcess = false;
      if (c.postponed === null) c.processInput();
      c.flush();
    }
    this.server.flushPending();
  }

  /** Slot of the last keys route() looked at (-1: none). */
  lastSlot = -1;
  /** The slot each running script is bound to (its declared keys', else its first call's). */
  private readonly scriptSlots = new WeakMap<object, number>();

  /**
   * A command called by a script (Valkey's scriptVerifyClusterState): keys must
   * be served here, and be in one slot unless the script may cross slots.
   */
  scriptCall(run: object, caller: Client, fake: Client, scriptArgv: string[], crossSlot: boolean, cmd: Command, argv: string[]): string | null {
    if (caller.replRole === 'master') return null;
    const e = this.route(fake, cmd, argv);
    if (e !== null) {
      if (e.startsWith('CROSSSLOT')) return 'ERR Script attempted to access keys that do not hash to the same slot';
      if (e.startsWith('CLUSTERDOWN The cluster is down and')) return 'ERR Script attempted to execute a write command while the cluster is down and readonly';
      if (e === 'CLUSTERDOWN The cluster is down') return 'ERR Script attempted to execute a command while the cluster is down';
      return 'ERR Script attempted to access a non local key in a cluster node script';
    }
    const slot = this.lastSlot;
    if (slot < 0 || crossSlot) return null;
    let bound = this.scriptSlots.get(run);
    if (bound === undefined) {
      bound = slot;
      const top = this.server.table.lookup(scriptArgv[0]);
      if (top !== undefined) {
        const declared = keysForRouting(top, scriptArgv);
        if (declared.length > 0) bound = keyHashSlot(declared[0]);
      }
      this.scriptSlots.set(run, bound);
    }
    if (bound !== slot) return 'ERR Script attempted to access keys that do not hash to the same slot';
    return null;
  }

  // ------------------------------------------------------------ bus: sending

  private header(type: number): HeaderFields {
    const me = this.myself;
    const master = me.replicaOf !== null ? me.replicaOf : me;
    return {
      type,
      port: me.port,
      currentEpoch: BigInt(this.currentEpoch),
      configEpoch: BigInt(master.configEpoch),
      offset: BigInt(this.server.repl.offset),
      sender: me.name,
      slots: master.slots,
      replicaOf: me.replicaOf?.name ?? null,
      myip: this.server.config.get('cluster-announce-ip'),
      pport: 0,
      cport: me.cport,
      flags: me.flags,
      state: this.state === 'ok' ? 0 : 1,
      // CLUSTERMSG_FLAG0_PAUSED: a primary paused for a manual failover.
      mflags0: me.isMaster && this.mfEnd !== 0 ? 1 : 0,
    };
  }

  private gossipOf(n: ClusterNode): GossipEntry {
    return { name: n.name, pingSent: n.pingSent, pongReceived: n.pongReceived, ip: n.ip, port: n.port, cport: n.cport, flags: n.flags, pport: n.pport };
  }

  sendPing(link: Link, type: number): void {
    const me = this.myself;
    const candidates: ClusterNode[] = [];
    const pfail: ClusterNode[] = [];
    for (const n of this.nodes.values()) {
      if (n === me) continue;
      if ((n.flags & NF.PFAIL) !== 0) pfail.push(n);
      if ((n.flags & (NF.HANDSHAKE | NF.NOADDR)) !== 0 || (n.link === null && n.numSlots === 0)) continue;
      if (n === link.node) continue;
      candidates.push(n);
    }
    let wanted = Math.max(3, Math.floor(this.nodes.size / 10));
    wanted = Math.min(wanted, candidates.length);
    const chosen = new Set<ClusterNode>();
    while (chosen.size < wanted) chosen.add(candidates[Math.floor(Math.random() * candidates.length)]);
    for (const n of pfail) chosen.add(n);
    const gossip: GossipEntry[] = [];
    for (const n of chosen) gossip.push(this.gossipOf(n));
    if (link.node !== null && type === MSG.PING) link.node.pingSent = link.node.pingSent || Date.now();
    // Nodes forgotten with CLUSTER FORGET travel as extensions, so the others forget them too.
    const forgotten: { name: string; ttl: number }[] = [];
    if (this.blacklist.size !== 0) {
      const now = Date.now();
      for (const [name, until] of this.blacklist) {
        if (until <= now) this.blacklist.delete(name);
        else forgotten.push({ name, ttl: Math.ceil((until - now) / 1000) });
      }
    }
    link.send(encodePing(this.header(type), gossip, me.hostname, me.humanNodename, me.shardId, forgotten));
    this.sent[type]++;
  }

  private broadcast(buf: Buffer, type: number): void {
    for (const n of this.nodes.values()) {
      if (n === this.myself || n.link === null || (n.flags & (NF.HANDSHAKE | NF.NOADDR)) !== 0) continue;
      n.link.send(buf);
      this.sent[type]++;
    }
  }

  sendFail(n: ClusterNode): void {
    this.broadcast(encodeFail(this.header(MSG.FAIL), n.name), MSG.FAIL);
  }

  /**
   * Cluster-wide PUBLISH (to every node) and SPUBLISH (PUBLISHSHARD to the other
   * nodes of this shard: the primary and its replicas), as Valkey's clusterPropagatePublish.
   */
  publish(channel: string, message: string, shard: boolean): void {
    const type = shard ? MSG.PUBLISHSHARD : MSG.PUBLISH;
    const buf = encodePublish(this.header(type), Buffer.from(channel, 'latin1'), Buffer.from(message, 'latin1'));
    if (!shard) return this.broadcast(buf, type);
    const me = this.myself;
    const primary = me.replicaOf ?? me;
    for (const n of [primary, ...primary.replicas]) {
      if (n === me || n.link === null || (n.flags & (NF.HANDSHAKE | NF.NOADDR)) !== 0) continue;
      n.link.send(buf);
      this.sent[type]++;
    }
  }

  private sendUpdate(link: Link, n: ClusterNode): void {
    link.send(encodeUpdate(this.header(MSG.UPDATE), n.name, BigInt(n.configEpoch), n.slots));
    this.sent[MSG.UPDATE]++;
  }

  /** Pings all nodes at once (after a configuration change that others should learn quickly). */
  broadcastPong(): void {
    for (const n of this.nodes.values()) {
      if (n === this.myself || n.link === null || (n.flags & NF.HANDSHAKE) !== 0) continue;
      this.sendPing(n.link, MSG.PONG);
    }
  }

  // ------------------------------------------------------------ bus: receiving

  process(link: Link, m: BusMessage): void {
    const now = Date.now();
    const type = m.type;
    if (type < this.received.length) this.received[type]++;
    let sender = this.nodes.get(m.sender);
    if (sender !== undefined && (sender.flags & NF.HANDSHAKE) !== 0) sender = undefined;
    if (sender !== undefined) {
      sender.dataReceived = now;
      if (link.inbound && link.node === null) {
        if (sender.inboundLink !== null && sender.inboundLink !== link) sender.inboundLink.close();
        sender.inboundLink = link;
        link.node = sender;
      }
      const senderEpoch = Number(m.currentEpoch);
      const senderConfigEpoch = Number(m.configEpoch);
      if (senderEpoch > this.currentEpoch) {
        this.currentEpoch = senderEpoch;
        this.scheduleSave();
      }
      if (m.replicaOf === null && senderConfigEpoch > sender.configEpoch) {
        sender.configEpoch = senderConfigEpoch;
        this.scheduleSave();
      }
      sender.replOffset = Number(m.offset);
      sender.flags = (sender.flags & ~NF.NOFAILOVER) | (m.flags & NF.NOFAILOVER);
    }
    if (type === MSG.PING || type === MSG.PONG || type === MSG.MEET) this.processPing(link, m, sender, now);
    else if (type === MSG.FAIL) {
      if (sender === undefined) return;
      const failing = this.nodes.get(m.about!);
      if (failing !== undefined && (failing.flags & (NF.FAIL | NF.MYSELF)) === 0) {
        this.server.log.notice(`FAIL message received from ${sender.name} about ${failing.name}`);
        failing.flags |= NF.FAIL;
        failing.flags &= ~NF.PFAIL;
        failing.failTime = now;
        this.updateState();
        this.scheduleSave();
      }
    } else if (type === MSG.UPDATE) {
      if (sender === undefined) return;
      const n = this.nodes.get(m.about!);
      if (n === undefined) return;
      const epoch = Number(m.updateEpoch);
      if (n.configEpoch >= epoch) return;
      if ((n.flags & NF.SLAVE) !== 0) this.setNodeAsPrimary(n);
      n.configEpoch = epoch;
      this.updateSlotsConfigWith(n, epoch, m.updateSlots!);
    } else if (type === MSG.AUTH_REQ) {
      if (sender === undefined) return;
      this.maybeVote(sender, m, now);
    } else if (type === MSG.AUTH_ACK) {
      if (sender === undefined) return;
      // Votes count from primaries serving slots, for the epoch of our request or later.
      if (sender.isMaster && sender.numSlots > 0 && Number(m.currentEpoch) >= this.failoverAuthEpoch) {
        this.failoverAuthCount++;
        this.handleReplicaFailover(now);
      }
    } else if (type === MSG.MFSTART) {
      if (sender === undefined || sender.replicaOf !== this.myself) return;
      this.startPrimaryManualFailover(sender, now);
    } else if (type === MSG.PUBLISH || type === MSG.PUBLISHSHARD) {
      if (sender === undefined) return;
      this.server.pubsub.publish(m.channel!.latin1Slice(), m.message!.latin1Slice(), type === MSG.PUBLISHSHARD);
    }
  }

  private processPing(link: Link, m: BusMessage, sender: ClusterNode | undefined, now: number): void {
    const type = m.type;
    const me = this.myself;
    if (type === MSG.PING || type === MSG.MEET) {
      // Learn our own address from the socket the first time someone meets us.
      if ((type === MSG.MEET || me.ip === '') && this.server.config.get('cluster-announce-ip') === '') {
        const local = stripV6Prefix(link.socket.localAddress ?? '');
        if (local !== '' && local !== me.ip) {
          me.ip = local;
          this.scheduleSave();
        }
      }
      if (sender === undefined && type === MSG.MEET) {
        const n = new ClusterNode(randomName(), NF.HANDSHAKE);
        n.ip = m.myip !== '' ? m.myip : stripV6Prefix(link.socket.remoteAddress ?? '');
        n.port = m.port;
        n.pport = m.pport;
        n.cport = m.cport;
        this.nodes.set(n.name, n);
        this.scheduleSave();
        this.processGossip(m, undefined, now);
      }
      this.sendPing(link, MSG.PONG);
    }
    const ln = link.node;
    if (!link.inbound && ln !== null) {
      if ((ln.flags & NF.HANDSHAKE) !== 0) {
        if (sender !== undefined) {
          // Already known under its real name: the handshake node was a duplicate.
          this.updateAddress(sender, link, m);
          this.delNode(ln);
          return;
        }
        this.renameNode(ln, m.sender);
        ln.flags &= ~NF.HANDSHAKE;
        ln.flags |= m.replicaOf === null ? NF.MASTER : NF.SLAVE;
        if (m.shardId !== null) ln.shardId = m.shardId;
        this.server.log.verbose(`Handshake with node ${ln.name} completed.`);
        this.scheduleSave();
        sender = ln;
        sender.dataReceived = now;
      } else if (ln.name !== m.sender) {
        this.server.log.verbose(`PONG contains mismatching sender ID. About node ${ln.name} added ${now - ln.ctime} ms ago, having flags ${ln.flags}`);
        ln.flags |= NF.NOADDR;
        ln.ip = '';
        ln.port = 0;
        ln.cport = 0;
        link.close();
        this.scheduleSave();
        return;
      }
    }
    if (sender !== undefined && type === MSG.PING && link.inbound) this.updateAddress(sender, link, m);
    if (!link.inbound && ln !== null && type === MSG.PONG) {
      ln.pongReceived = now;
      ln.pingSent = 0;
      if ((ln.flags & NF.PFAIL) !== 0) {
        ln.flags &= ~NF.PFAIL;
        this.updateState();
      } else if ((ln.flags & NF.FAIL) !== 0) this.clearFailureIfNeeded(ln, now);
    }
    if (sender === undefined) return;
    // Our primary paused for our manual failover: its offset is what we must reach.
    if (sender === me.replicaOf && (m.mflags0 & 1) !== 0 && this.mfEnd !== 0 && this.mfPrimaryOffset < 0) {
      this.mfPrimaryOffset = Number(m.offset);
      this.server.log.notice(`Received replication offset for paused primary manual failover: ${this.mfPrimaryOffset}`);
    }
    if (m.hostname !== null) sender.hostname = m.hostname;
    else if ((m.mflags0 & 4) !== 0) sender.hostname = '';
    if (m.humanNodename !== null) sender.humanNodename = m.humanNodename;
    if (m.shardId !== null && m.replicaOf === null) sender.shardId = m.shardId;
    for (const f of m.forgotten) {
      const n = this.nodes.get(f.name);
      if (n !== undefined && n !== me && n !== sender && me.replicaOf !== n) {
        this.blacklist.set(f.name, now + f.ttl * 1000);
        this.delNode(n);
        this.scheduleSave();
      }
    }
    // Role: a primary, or a replica of a known primary.
    if (m.replicaOf === null) {
      if ((sender.flags & NF.SLAVE) !== 0) {
        sender.flags = (sender.flags & ~NF.SLAVE) | NF.MASTER;
        if (sender.replicaOf !== null) sender.replicaOf.replicas = sender.replicaOf.replicas.filter((r) => r !== sender);
        sender.replicaOf = null;
        this.scheduleSave();
      }
    } else {
      const master = this.nodes.get(m.replicaOf);
      if ((sender.flags & NF.MASTER) !== 0) {
        this.delNodeSlots(sender);
        sender.flags = (sender.flags & ~(NF.MASTER | NF.MIGRATE_TO)) | NF.SLAVE;
        this.scheduleSave();
      }
      if (master !== undefined && sender.replicaOf !== master) {
        if (sender.replicaOf !== null) sender.replicaOf.replicas = sender.replicaOf.replicas.filter((r) => r !== sender);
        master.replicas.push(sender);
        master.flags |= NF.MIGRATE_TO;
        sender.replicaOf = master;
        sender.shardId = master.shardId;
        this.scheduleSave();
      }
    }
    // Slots: a primary claiming slots differently from what we know.
    if (m.replicaOf === null) {
      const senderConfigEpoch = Number(m.configEpoch);
      let differs = false;
      for (let i = 0; i < 2048; i++) {
        if (sender.slots[i] !== m.slots[i]) {
          differs = true;
          break;
        }
      }
      if (differs) this.updateSlotsConfigWith(sender, senderConfigEpoch, m.slots);
      // Stale claims: tell the sender who owns a slot under a newer config.
      if (differs) {
        for (let j = 0; j < CLUSTER_SLOTS; j++) {
          if ((m.slots[j >> 3] & (1 << (j & 7))) === 0) continue;
          const owner = this.slots[j];
          if (owner === null || owner === sender) continue;
          if (owner.configEpoch > senderConfigEpoch) {
            this.sendUpdate(link, owner);
            break;
          }
        }
      }
      // Config epoch collision between two primaries: the one with the smaller name bumps.
      if (me.isMaster && sender.configEpoch === me.configEpoch && sender.name > me.name && senderConfigEpoch === me.configEpoch) {
        this.currentEpoch++;
        me.configEpoch = this.currentEpoch;
        this.scheduleSave();
        this.server.log.verbose(`WARNING: configEpoch collision with node ${sender.name}. configEpoch set to ${me.configEpoch}`);
      }
    }
    this.processGossip(m, sender, now);
  }

  /**
   * A replica asks for our vote to replace its failed primary (Valkey's
   * clusterSendFailoverAuthIfNeeded): primaries serving slots vote once per
   * epoch, at most once per 2 x node timeout for the same primary, and only if
   * the slots it claims are not served under a newer config.
   */
  private maybeVote(node: ClusterNode, m: BusMessage, now: number): void {
    const me = this.myself;
    if (!me.isMaster || me.numSlots === 0) return;
    const reqEpoch = Number(m.currentEpoch);
    const reqConfigEpoch = Number(m.configEpoch);
    const forceAck = (m.mflags0 & 2) !== 0;
    const primary = node.replicaOf;
    const refuse = (why: string) => this.server.log.notice(`Failover auth denied to ${node.name}: ${why}`);
    if (reqEpoch < this.currentEpoch) return refuse(`reqEpoch (${reqEpoch}) < curEpoch(${this.currentEpoch})`);
    if (this.lastVoteEpoch === this.currentEpoch) return refuse(`already voted for epoch ${this.currentEpoch}`);
    if (node.isMaster || primary === null || ((primary.flags & NF.FAIL) === 0 && !forceAck)) {
      return refuse(node.isMaster ? 'it is a primary node' : primary === null ? 'I don\'t know its primary' : 'its primary is up');
    }
    if (now - primary.votedTime < this.nodeTimeout * 2) return refuse(`can't vote about this primary before ${this.nodeTimeout * 2 - (now - primary.votedTime)} milliseconds`);
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if ((m.slots[j >> 3] & (1 << (j & 7))) === 0) continue;
      const owner = this.slots[j];
      if (owner === null || owner.configEpoch <= reqConfigEpoch) continue;
      return refuse(`slot ${j} epoch (${owner.configEpoch}) > reqEpoch (${reqConfigEpoch})`);
    }
    this.lastVoteEpoch = this.currentEpoch;
    primary.votedTime = now;
    this.saveNow();
    const link = node.link ?? node.inboundLink;
    if (link === null) return;
    link.send(encodeEmpty(this.header(MSG.AUTH_ACK)));
    this.sent[MSG.AUTH_ACK]++;
    this.server.log.notice(`Failover auth granted to ${node.name} for epoch ${reqEpoch}`);
  }

  private updateAddress(n: ClusterNode, link: Link, m: BusMessage): void {
    if (n === this.myself) return;
    const ip = m.myip !== '' ? m.myip : stripV6Prefix(link.socket.remoteAddress ?? '');
    if (n.ip === ip && n.port === m.port && n.cport === m.cport) return;
    n.ip = ip;
    n.port = m.port;
    n.pport = m.pport;
    n.cport = m.cport;
    n.flags &= ~NF.NOADDR;
    n.link?.close();
    this.scheduleSave();
  }

  private processGossip(m: BusMessage, sender: ClusterNode | undefined, now: number): void {
    for (const g of m.gossip) {
      const n = this.nodes.get(g.name);
      if (n !== undefined) {
        if (sender !== undefined && sender.isMaster && n !== this.myself) {
          if ((g.flags & (NF.FAIL | NF.PFAIL)) !== 0) {
            n.failReports.set(sender, now);
            this.markFailingIfNeeded(n, now);
          } else n.failReports.delete(sender);
        }
        if ((g.flags & (NF.FAIL | NF.PFAIL)) === 0 && n.pingSent === 0 && n.failReports.size === 0) {
          const pong = g.pongReceived;
          if (pong <= now + 500 && pong > n.pongReceived) n.pongReceived = pong;
        }
        if ((n.flags & (NF.FAIL | NF.PFAIL)) !== 0 && (g.flags & NF.NOADDR) === 0 && n.link === null && (n.ip !== g.ip || n.port !== g.port || n.cport !== g.cport)) {
          n.ip = g.ip;
          n.port = g.port;
          n.cport = g.cport;
          n.flags &= ~NF.NOADDR;
        }
      } else if (sender !== undefined && (g.flags & NF.NOADDR) === 0 && !this.blacklisted(g.name, now) && g.ip !== '') {
        // Only the flags Vireo knows (Valkey adds capability bits such as light-header support).
        const nn = new ClusterNode(g.name, g.flags & (NF.MASTER | NF.SLAVE | NF.NOFAILOVER));
        nn.ip = g.ip;
        nn.port = g.port;
        nn.pport = g.pport;
        nn.cport = g.cport;
        if ((nn.flags & (NF.MASTER | NF.SLAVE)) === 0) nn.flags |= NF.MASTER;
        this.nodes.set(g.name, nn);
        this.scheduleSave();
      }
    }
  }

  blacklisted(name: string, now: number): boolean {
    const until = this.blacklist.get(name);
    if (until === undefined) return false;
    if (until <= now) {
      this.blacklist.delete(name);
      return false;
    }
    return true;
  }

  private markFailingIfNeeded(n: ClusterNode, now: number): void {
    if ((n.flags & NF.PFAIL) === 0 || (n.flags & NF.FAIL) !== 0) return;
    const quorum = Math.floor(this.size / 2) + 1;
    let failures = 0;
    for (const [reporter, t] of n.failReports) {
      if (now - t > this.nodeTimeout * 2 || !this.nodes.has(reporter.name)) n.failReports.delete(reporter);
      else failures++;
    }
    if (this.myself.isMaster) failures++;
    if (failures < quorum) return;
    this.server.log.notice(`Marking node ${n.name} as failing (quorum reached).`);
    n.flags = (n.flags & ~NF.PFAIL) | NF.FAIL;
    n.failTime = now;
    if (this.myself.isMaster) this.sendFail(n);
    this.updateState();
    this.scheduleSave();
  }

  private clearFailureIfNeeded(n: ClusterNode, now: number): void {
    if ((n.flags & NF.SLAVE) !== 0 || n.numSlots === 0 || now - n.failTime > this.nodeTimeout * 2) {
      this.server.log.notice(`Clear FAIL state for node ${n.name}: it is reachable again.`);
      n.flags &= ~NF.FAIL;
      this.updateState();
      this.scheduleSave();
    }
  }

  /** A primary claims slots with a config epoch: it wins every slot that is free or owned under an older epoch. */
  updateSlotsConfigWith(sender: ClusterNode, senderConfigEpoch: number, slots: Uint8Array): void {
    if (sender === this.myself) return;
    const me = this.myself;
    const curPrimary = me.isMaster ? me : me.replicaOf;
    const dirty: number[] = [];
    let changed = false;
    let newPrimary: ClusterNode | null = null;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if ((slots[j >> 3] & (1 << (j & 7))) === 0) continue;
      const owner = this.slots[j];
      if (owner === sender) continue;
      if (this.importingFrom[j] !== null) continue;
      if (owner === null || owner.configEpoch < senderConfigEpoch) {
        if (owner === me && this.countKeysInSlot(j) > 0) dirty.push(j);
        if (owner === me && this.migratingTo[j] !== null) this.migratingTo[j] = null;
        if (owner !== null && owner === curPrimary) newPrimary = sender;
        this.delSlot(j);
        this.addSlot(sender, j);
        changed = true;
      }
    }
    if (newPrimary !== null && curPrimary !== null && curPrimary.numSlots === 0) {
      // Our shard's last slot went to the sender (a failover happened without us, or we were
      // a primary that came back): follow it. The full sync replaces our data.
      this.server.log.notice(`Configuration change detected. Reconfiguring myself as a replica of ${sender.name}`);
      this.setMyPrimary(sender);
    } else for (const j of dirty) this.delKeysInSlot(j);
    if (changed) {
      this.updateState();
      this.scheduleSave();
    }
  }

  // ------------------------------------------------------------ cron

  private connect(n: ClusterNode): void {
    const sock = net.connect({ host: n.ip, port: n.cport });
    const link = new Link(this, sock, false);
    link.node = n;
    n.link = link;
    this.links.add(link);
    // An unreachable node counts as a ping without answer, so it can be flagged PFAIL.
    sock.once('error', () => {
      if (n.pingSent === 0) n.pingSent = Date.now();
    });
    sock.once('connect', () => {
      if (link.closed) return;
      const old = n.pingSent;
      this.sendPing(link, (n.flags & NF.MEET) !== 0 ? MSG.MEET : MSG.PING);
      if (old !== 0) n.pingSent = old;
      n.flags &= ~NF.MEET;
    });
  }

  cron(): void {
    const now = Date.now();
    const me = this.myself;
    const timeout = this.nodeTimeout;
    const handshakeTimeout = Math.max(timeout, 1000);
    this.iteration++;
    let stateChanged = false;
    for (const n of [...this.nodes.values()]) {
      if (n === me || (n.flags & NF.NOADDR) !== 0) continue;
      if ((n.flags & NF.HANDSHAKE) !== 0 && now - n.ctime > handshakeTimeout) {
        this.delNode(n);
        continue;
      }
      if (n.link === null && n.ip !== '' && n.cport > 0) this.connect(n);
    }
    // Once a second: ping the node, among five random ones, whose pong is the oldest.
    if (this.iteration % 10 === 0) {
      const all = [...this.nodes.values()];
      let min: ClusterNode | null = null;
      for (let i = 0; i < 5 && all.length > 0; i++) {
        const n = all[Math.floor(Math.random() * all.length)];
        if (n === me || n.link === null || n.pingSent !== 0 || (n.flags & NF.HANDSHAKE) !== 0) continue;
        if (min === null || n.pongReceived < min.pongReceived) min = n;
      }
      if (min !== null) this.sendPing(min.link!, MSG.PING);
    }
    for (const n of this.nodes.values()) {
      if (n === me || (n.flags & (NF.NOADDR | NF.HANDSHAKE)) !== 0) continue;
      const link = n.link;
      // A link that waits too long for a pong is dropped and made again.
      if (link !== null && now - link.ctime > timeout && n.pingSent !== 0 && now - n.pingSent > timeout / 2 && now - n.dataReceived > timeout / 2) {
        link.close();
      }
      if (n.link !== null && n.pingSent === 0 && now - n.pongReceived > timeout / 2) {
        this.sendPing(n.link, MSG.PING);
        continue;
      }
      if (n.pingSent === 0) continue;
      const delay = Math.min(now - n.pingSent, now - n.dataReceived);
      if (delay > timeout && (n.flags & (NF.PFAIL | NF.FAIL)) === 0) {
        this.server.log.verbose(`*** NODE ${n.name} possibly failing`);
        n.flags |= NF.PFAIL;
        stateChanged = true;
      }
    }
    for (const n of this.nodes.values()) if ((n.flags & NF.PFAIL) !== 0) this.markFailingIfNeeded(n, now);
    // A replica (after a restart, say) that is not replicating yet connects to its primary.
    const primary = me.replicaOf;
    if ((me.flags & NF.SLAVE) !== 0 && primary !== null && !this.server.repl.isReplica && primary.ip !== '' && primary.port > 0) {
      this.server.repl.setMaster(primary.ip, primary.port);
    }
    this.manualFailoverCron(now);
    if ((me.flags & NF.SLAVE) !== 0) {
      this.handleReplicaFailover(now);
      this.replicaMigrationCron(now);
    }
    if (stateChanged || this.state === 'fail' || this.iteration % 10 === 0) this.updateState();
  }

  // ------------------------------------------------------------ replicas and failover

  /** Turns a node we knew as a replica into a primary (it won an election). */
  setNodeAsPrimary(n: ClusterNode): void {
    if (n.isMaster) return;
    if (n.replicaOf !== null) n.replicaOf.replicas = n.replicaOf.replicas.filter((r) => r !== n);
    n.replicaOf = null;
    n.flags = (n.flags & ~NF.SLAVE) | NF.MASTER;
    // Its shard had a replica: a primary that may receive a migrating replica.
    if (n !== this.myself) n.flags |= NF.MIGRATE_TO;
    this.scheduleSave();
  }

  /** Valkey's clusterSetPrimary: this node becomes a replica of n (through src/replication/). */
  setMyPrimary(n: ClusterNode): void {
    const me = this.myself;
    if (me.isMaster) {
      me.flags = (me.flags & ~(NF.MASTER | NF.MIGRATE_TO)) | NF.SLAVE;
      for (let j = 0; j < CLUSTER_SLOTS; j++) {
        this.migratingTo[j] = null;
        this.importingFrom[j] = null;
      }
      this.delNodeSlots(me);
    }
    if (me.replicaOf !== null) me.replicaOf.replicas = me.replicaOf.replicas.filter((r) => r !== me);
    me.replicaOf = n;
    if (!n.replicas.includes(me)) n.replicas.push(me);
    n.flags |= NF.MIGRATE_TO;
    me.shardId = n.shardId;
    this.resetManualFailover();
    this.failoverAuthTime = 0;
    this.server.repl.setMaster(n.ip, n.port);
    this.updateState();
    this.saveNow();
    this.broadcastPong();
  }

  /** Replicas of a primary not flagged FAIL (Valkey's clusterCountNonFailingReplicas). */
  private okReplicas(n: ClusterNode): number {
    let ok = 0;
    for (const r of n.replicas) if ((r.flags & NF.FAIL) === 0) ok++;
    return ok;
  }

  /**
   * Replica migration (Valkey's clusterHandleReplicaMigration): when a primary
   * that had replicas is left without a working one for 5 s, the replica with the
   * smallest name among those of the best-served primary moves to it, provided
   * its own primary keeps more than cluster-migration-barrier working replicas.
   */
  private replicaMigrationCron(now: number): void {
    const me = this.myself;
    const mine = me.replicaOf;
    let orphaned = 0;
    let maxReplicas = 0;
    let thisReplicas = 0;
    for (const n of this.nodes.values()) {
      if (!n.isMaster || (n.flags & NF.FAIL) !== 0) continue;
      const ok = this.okReplicas(n);
      if (ok === 0 && n.numSlots > 0 && (n.flags & NF.MIGRATE_TO) !== 0) {
        orphaned++;
        if (n.orphanedTime === 0) n.orphanedTime = now;
      } else n.orphanedTime = 0;
      if (ok > maxReplicas) maxReplicas = ok;
      if (mine === n) thisReplicas = ok;
    }
    if (orphaned === 0 || maxReplicas < 2 || thisReplicas !== maxReplicas) return;
    if (!this.server.config.bool('cluster-allow-replica-migration') || this.state !== 'ok' || mine === null) return;
    if (this.okReplicas(mine) <= this.server.config.num('cluster-migration-barrier')) return;
    let candidate = me;
    let target: ClusterNode | null = null;
    for (const n of this.nodes.values()) {
      if (!n.isMaster || (n.flags & NF.FAIL) !== 0 || (n.flags & NF.MIGRATE_TO) === 0) continue;
      const ok = this.okReplicas(n);
      if (ok === 0 && target === null && n.numSlots > 0) target = n;
      if (ok === maxReplicas) {
        for (const r of n.replicas) if ((r.flags & NF.FAIL) === 0 && r.name < candidate.name) candidate = r;
      }
    }
    if (target !== null && candidate === me && now - target.orphanedTime > REPLICA_MIGRATION_DELAY_MS) {
      this.server.log.notice(`Migrating to orphaned primary ${target.name}`);
      this.setMyPrimary(target);
    }
  }

  /** Our rank among the replicas of our primary: how many have a larger replication offset. */
  private replicaRank(): number {
    const me = this.myself;
    const primary = me.replicaOf;
    if (primary === null) return 0;
    const mine = this.server.repl.offset;
    let rank = 0;
    for (const r of primary.replicas) {
      if (r !== me && (r.flags & NF.NOFAILOVER) === 0 && r.replOffset > mine) rank++;
    }
    return rank;
  }

  /**
   * Valkey's clusterHandleReplicaFailover: when our primary is FAIL (or a manual
   * failover may start), wait 500-1000 ms plus 1 s per better-placed replica, ask
   * the primaries for their vote in a new epoch, and take over on a majority.
   */
  private handleReplicaFailover(now: number): void {
    const me = this.myself;
    const primary = me.replicaOf;
    const manual = this.mfEnd !== 0 && this.mfCanStart;
    if ((me.flags & NF.SLAVE) === 0 || primary === null || primary.numSlots === 0) return;
    if (!manual && ((primary.flags & NF.FAIL) === 0 || this.noFailover)) return;
    // cluster-replica-validity-factor: a replica cut from its primary for too long does not try.
    let dataAge = this.server.repl.masterDataAge(now);
    if (dataAge > this.nodeTimeout) dataAge -= this.nodeTimeout;
    const factor = this.validityFactor;
    if (!manual && factor > 0 && dataAge > this.server.config.num('repl-ping-replica-period') * 1000 + this.nodeTimeout * factor) {
      if (this.iteration % 100 === 0) this.server.log.notice('Currently unable to failover: Disconnected from primary for longer than allowed. Please check the \'cluster-replica-validity-factor\' configuration option.');
      return;
    }
    const authTimeout = Math.max(this.nodeTimeout * 2, 2000);
    const authRetryTime = authTimeout * 2;
    if (now - this.failoverAuthTime > authRetryTime) {
      this.failoverAuthRank = this.replicaRank();
      this.failoverAuthTime = now + 500 + Math.floor(Math.random() * 500) + this.failoverAuthRank * 1000;
      this.failoverAuthCount = 0;
      this.failoverAuthSent = false;
      if (manual) {
        this.failoverAuthTime = now;
        this.failoverAuthRank = 0;
      }
      this.server.log.notice(`Start of election delayed for ${this.failoverAuthTime - now} milliseconds (rank #${this.failoverAuthRank}, offset ${this.server.repl.offset}).`);
      // The other replicas of our primary learn our offset for their own rank.
      for (const r of primary.replicas) if (r !== me && r.link !== null) this.sendPing(r.link, MSG.PONG);
      return;
    }
    if (!this.failoverAuthSent && !manual) {
      const rank = this.replicaRank();
      if (rank > this.failoverAuthRank) {
        const added = (rank - this.failoverAuthRank) * 1000;
        this.failoverAuthTime += added;
        this.failoverAuthRank = rank;
        this.server.log.notice(`Replica rank updated to #${rank}, added ${added} milliseconds of delay.`);
      }
    }
    if (now < this.failoverAuthTime) return;
    if (now - this.failoverAuthTime > authTimeout) return; // this attempt expired; a new one starts after the retry time
    if (!this.failoverAuthSent) {
      this.currentEpoch++;
      this.failoverAuthEpoch = this.currentEpoch;
      this.server.log.notice(`Starting a failover election for epoch ${this.currentEpoch}.`);
      const h = this.header(MSG.AUTH_REQ);
      if (manual) h.mflags0 |= 2; // CLUSTERMSG_FLAG0_FORCEACK: vote although the primary is up
      this.broadcast(encodeEmpty(h), MSG.AUTH_REQ);
      this.failoverAuthSent = true;
      this.saveNow();
      return;
    }
    const quorum = Math.floor(this.size / 2) + 1;
    if (this.failoverAuthCount < quorum) return;
    this.server.log.notice('Failover election won: I\'m the new primary.');
    if (this.myself.configEpoch < this.failoverAuthEpoch) {
      this.myself.configEpoch = this.failoverAuthEpoch;
      this.server.log.notice(`configEpoch set to ${this.myself.configEpoch} after successful failover`);
    }
    this.replaceMyPrimary();
  }

  /** Valkey's clusterFailoverReplaceYourPrimary: take the primary's slots and tell everyone. */
  private replaceMyPrimary(): void {
    const me = this.myself;
    const old = me.replicaOf;
    if (old === null || me.isMaster) return;
    this.setNodeAsPrimary(me);
    this.server.repl.promote();
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (this.slots[j] !== old) continue;
      this.delSlot(j);
      this.addSlot(me, j);
    }
    this.resetManualFailover();
    this.failoverAuthTime = 0;
    this.updateState();
    this.saveNow();
    this.broadcastPong();
  }

  /** CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica: an error message or null. */
  manualFailover(mode: 'default' | 'force' | 'takeover'): string | null {
    const me = this.myself;
    const primary = me.replicaOf;
    const now = Date.now();
    if (me.isMaster) return 'ERR You should send CLUSTER FAILOVER to a replica';
    if (primary === null) return "ERR I'm a replica but my master is unknown to me";
    if (mode === 'default' && ((primary.flags & NF.FAIL) !== 0 || primary.link === null)) {
      return 'ERR Master is down or failed, please use CLUSTER FAILOVER FORCE';
    }
    this.resetManualFailover();
    this.mfEnd = now + MF_TIMEOUT_MS;
    if (mode === 'takeover') {
      // No election: a new config epoch of our own, then the slots.
      this.server.log.notice('Taking over the primary (user request).');
      this.bumpEpochWithoutConsensus();
      this.replaceMyPrimary();
    } else if (mode === 'force') {
      this.server.log.notice('Forced failover user request accepted.');
      this.mfCanStart = true;
      this.failoverAuthTime = 0;
    } else {
      this.server.log.notice('Manual failover user request accepted.');
      primary.link!.send(encodeEmpty(this.header(MSG.MFSTART)));
      this.sent[MSG.MFSTART]++;
    }
    return null;
  }

  /** The primary side of a manual failover: pause writes and ping the replica with our offset. */
  private startPrimaryManualFailover(replica: ClusterNode, now: number): void {
    if (this.mfEnd !== 0) return;
    this.mfEnd = now + MF_TIMEOUT_MS;
    this.mfReplica = replica;
    this.server.log.notice(`Manual failover requested by replica ${replica.name}.`);
    this.server.pause('write', MF_TIMEOUT_MS * 2);
    const link = replica.link ?? replica.inboundLink;
    if (link !== null) this.sendPing(link, MSG.PING);
  }

  private resetManualFailover(): void {
    if (this.mfEnd !== 0 && this.mfReplica !== null && this.server.pauseType !== null) this.server.unpause();
    this.mfEnd = 0;
    this.mfCanStart = false;
    this.mfPrimaryOffset = -1;
    this.mfReplica = null;
  }

  private manualFailoverCron(now: number): void {
    if (this.mfEnd === 0) return;
    if (now > this.mfEnd) {
      this.server.log.warning('Manual failover timed out.');
      this.resetManualFailover();
      return;
    }
    const me = this.myself;
    if (me.isMaster) {
      // Keep telling the replica our offset while paused.
      const r = this.mfReplica;
      const link = r?.link ?? r?.inboundLink ?? null;
      if (link !== null && this.iteration % 2 === 0) this.sendPing(link, MSG.PING);
      return;
    }
    if (this.mfCanStart || this.mfPrimaryOffset < 0) return;
    if (this.server.repl.offset >= this.mfPrimaryOffset) {
      this.mfCanStart = true;
      this.failoverAuthTime = 0;
      this.server.log.notice('All primary replication stream processed, manual failover can start.');
    }
  }

  // ------------------------------------------------------------ reporting

  statsLines(): string[] {
    const out: string[] = [];
    let tot = 0;
    for (let t = 0; t < this.sent.length; t++) {
      if (this.sent[t] === 0) continue;
      tot += this.sent[t];
      out.push(`cluster_stats_messages_${MSG_TYPE_NAMES[t]}_sent:${this.sent[t]}`);
    }
    out.push(`cluster_stats_messages_sent:${tot}`);
    tot = 0;
    for (let t = 0; t < this.received.length; t++) {
      if (this.received[t] === 0) continue;
      tot += this.received[t];
      out.push(`cluster_stats_messages_${MSG_TYPE_NAMES[t]}_received:${this.received[t]}`);
    }
    out.push(`cluster_stats_messages_received:${tot}`);
    out.push('total_cluster_links_buffer_limit_exceeded:0');
    return out;
  }

  info(): string {
    let assigned = 0;
    let ok = 0;
    let pfail = 0;
    let fail = 0;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      const n = this.slots[j];
      if (n === null) continue;
      assigned++;
      if ((n.flags & NF.FAIL) !== 0) fail++;
      else if ((n.flags & NF.PFAIL) !== 0) pfail++;
      else ok++;
    }
    const me = this.myself;
    const myEpoch = me.replicaOf !== null ? me.replicaOf.configEpoch : me.configEpoch;
    const lines = [
      `cluster_state:${this.state}`,
      `cluster_slots_assigned:${assigned}`,
      `cluster_slots_ok:${ok}`,
      `cluster_slots_pfail:${pfail}`,
      `cluster_slots_fail:${fail}`,
      `cluster_known_nodes:${this.nodes.size}`,
      `cluster_size:${this.size}`,
      `cluster_current_epoch:${this.currentEpoch}`,
      `cluster_my_epoch:${myEpoch}`,
      ...this.statsLines(),
    ];
    return lines.join('\r\n') + '\r\n';
  }

  /** Endpoint clients should use for a node: its IP (empty while this node has not learned its own, as in Valkey). */
  endpoint(n: ClusterNode, _c: Client): string {
    return n.ip;
  }
}

/** Keys of a command line that decide its slot (sharded Pub/Sub channels count as keys). */
function keysForRouting(cmd: Command, argv: string[]): string[] {
  if ((cmd.flags & CMD.PUBSUB) !== 0) {
    const n = cmd.name;
    if (n === 'spublish') return [argv[1]];
    if (n === 'ssubscribe' || n === 'sunsubscribe') return argv.slice(1);
    return [];
  }
  // Fixed key positions (most commands): the legacy (first, last, step) range says it all.
  if ((cmd.flags & CMD.MOVABLE_KEYS) === 0 && cmd.firstKey > 0) {
    const argc = argv.length;
    const last = cmd.lastKey < 0 ? argc + cmd.lastKey : Math.min(cmd.lastKey, argc - 1);
    const out: string[] = [];
    for (let i = cmd.firstKey; i <= last; i += cmd.keyStep) out.push(argv[i]);
    return out;
  }
  const refs = getCommandKeys(cmd, argv);
  const out = new Array<string>(refs.length);
  for (let i = 0; i < refs.length; i++) out[i] = argv[refs[i].pos];
  return out;
}

function stripV6Prefix(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

