// CLUSTER subcommands, ASKING, READONLY, READWRITE, MIGRATE and RESTORE-ASKING.
// The cluster state itself lives in src/cluster/cluster.ts.
import net from 'node:net';
import type { Client } from '../server/client.js';
import type { HandlerMap } from './table.js';
import { E_NOT_INT, E_SYNTAX } from './errors.js';
import { parseInt64 } from '../util/numbers.js';
import { CLUSTER_SLOTS, keyHashSlot } from '../cluster/slots.js';
import { CF_ASKING, CF_READONLY, type Cluster, type ClusterNode } from '../cluster/cluster.js';
import { NF } from '../cluster/bus.js';
import { serializeValue } from '../persistence/rdb/file.js';
import { replyHelp } from './connection.js';

const E_DISABLED = 'ERR This instance has cluster support disabled';
const E_BAD_SLOT = 'ERR Invalid or out of range slot';

function clusterOf(c: Client): Cluster | null {
  const cl = c.server.cluster;
  if (cl === null) c.addError(E_DISABLED);
  return cl;
}

/** A slot argument (Valkey's getSlotOrReply): -1 after replying the error. */
function slotArg(c: Client, s: string): number {
  const v = parseInt64(s);
  if (v === null || typeof v === 'bigint' || v < 0 || v >= CLUSTER_SLOTS) {
    c.addError(E_BAD_SLOT);
    return -1;
  }
  return v;
}

/** Valkey 8's CLUSTER HELP: the generic subcommands, then those of the cluster bus implementation. */
const HELP = [
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot>.',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot.',
  'INFO',
  '    Return information about the cluster.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'MYID',
  '    Return the node id.',
  'MYSHARDID',
  "    Return the node's shard id.",
  'NODES',
  '    Return cluster configuration seen by node. Output format:',
  '    <id> <ip:port@bus-port[,hostname]> <flags> <primary> <pings> <pongs> <epoch> <link> <slot> ...',
  'REPLICAS <node-id>',
  '    Return <node-id> replicas.',
  'SLOTS',
  '    Return information about slots range mappings. Each range is made of:',
  '    start, end, primary and replicas IP addresses, ports and ids',
  'SLOT-STATS',
  '    Return an array of slot usage statistics for slots assigned to the current node.',
  'SHARDS',
  '    Return information about slot range mappings and the nodes associated with them.',
  'ADDSLOTS <slot> [<slot> ...]',
  '    Assign slots to current node.',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Assign slots which are between <start-slot> and <end-slot> to current node.',
  'BUMPEPOCH',
  '    Advance the cluster config epoch.',
  'COUNT-FAILURE-REPORTS <node-id>',
  '    Return number of failure reports for <node-id>.',
  'DELSLOTS <slot> [<slot> ...]',
  '    Delete slots information from current node.',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Delete slots information which are between <start-slot> and <end-slot> from current node.',
  'FAILOVER [FORCE|TAKEOVER]',
  '    Promote current replica node to being a master.',
  'FORGET <node-id>',
  '    Remove a node from the cluster.',
  'FLUSHSLOTS',
  '    Delete current node own slots information.',
  'MEET <ip> <port> [<bus-port>]',
  '    Connect nodes into a working cluster.',
  'REPLICATE <node-id>',
  '    Configure current node as replica to <node-id>.',
  'RESET [HARD|SOFT]',
  '    Reset current node (default: soft).',
  'SET-CONFIG-EPOCH <epoch>',
  '    Set config epoch of current node.',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
  '    Set slot state.',
  'SAVECONFIG',
  '    Force saving cluster configuration on disk.',
  'LINKS',
  '    Return information about all network links between this node and its peers.',
  '    Output format is an array where each array element is a map containing attributes of a link',
];

function help(c: Client, argv: string[]): void {
  if (clusterOf(c) === null) return;
  replyHelp(c, argv[0], HELP);
}

function info(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  c.addVerbatim(cl.info());
}

function myid(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  c.addBulk(cl.myself.name);
}

function myshardid(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  c.addBulk(cl.myself.shardId);
}

function nodes(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  c.addVerbatim(cl.nodesDescription(false));
}

function replicas(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const n = cl.lookup(argv[2]);
  if (n === undefined) return c.addError(`ERR Unknown node ${argv[2]}`);
  if (!n.isMaster) return c.addError('ERR The specified node is not a master');
  c.addArrayLen(n.replicas.length);
  for (const r of n.replicas) c.addBulk(cl.describeNode(r, false));
}

function nodeEntry(c: Client, cl: Cluster, n: ClusterNode): void {
  c.addArrayLen(4);
  c.addBulk(cl.endpoint(n, c));
  c.addInt(n.port);
  c.addBulk(n.name);
  if (n.hostname !== '') {
    c.addMapLen(1);
    c.addBulk('hostname');
    c.addBulk(n.hostname);
  } else c.addMapLen(0);
}

function slots(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const ranges: [number, number, ClusterNode][] = [];
  let start = -1;
  for (let j = 0; j <= CLUSTER_SLOTS; j++) {
    const n = j < CLUSTER_SLOTS ? cl.slots[j] : null;
    if (start >= 0 && (j === CLUSTER_SLOTS || n !== cl.slots[start])) {
      ranges.push([start, j - 1, cl.slots[start]!]);
      start = -1;
    }
    if (n !== null && start < 0) start = j;
  }
  c.addArrayLen(ranges.length);
  for (const [a, b, n] of ranges) {
    const reps = n.replicas.filter((r) => (r.flags & NF.FAIL) === 0);
    c.addArrayLen(3 + reps.length);
    c.addInt(a);
    c.addInt(b);
    nodeEntry(c, cl, n);
    for (const r of reps) nodeEntry(c, cl, r);
  }
}

function shards(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const groups = new Map<string, ClusterNode[]>();
  for (const n of cl.nodes.values()) {
    if ((n.flags & (NF.HANDSHAKE | NF.NOADDR)) !== 0) continue;
    const primary = n.replicaOf ?? n;
    let g = groups.get(primary.shardId);
    if (g === undefined) groups.set(primary.shardId, (g = []));
    if (n === primary) g.unshift(n);
    else g.push(n);
  }
  c.addArrayLen(groups.size);
  for (const g of groups.values()) {
    const primary = g[0].replicaOf ?? g[0];
    c.addMapLen(2);
    c.addBulk('slots');
    const ranges: number[] = [];
    let start = -1;
    for (let j = 0; j <= CLUSTER_SLOTS; j++) {
      const has = j < CLUSTER_SLOTS && primary.hasSlot(j);
      if (has && start < 0) start = j;
      if (!has && start >= 0) {
        ranges.push(start, j - 1);
        start = -1;
      }
    }
    c.addArrayLen(ranges.length);
    for (const r of ranges) c.addInt(r);
    c.addBulk('nodes');
    c.addArrayLen(g.length);
    for (const n of g) {
      const host = n.hostname !== '';
      c.addMapLen(host ? 8 : 7);
      c.addBulk('id');
      c.addBulk(n.name);
      c.addBulk('port');
      c.addInt(n.port);
      c.addBulk('ip');
      c.addBulk(cl.endpoint(n, c));
      c.addBulk('endpoint');
      c.addBulk(cl.endpoint(n, c));
      if (host) {
        c.addBulk('hostname');
        c.addBulk(n.hostname);
      }
      c.addBulk('role');
      c.addBulk(n.isMaster ? 'master' : 'replica');
      c.addBulk('replication-offset');
      c.addInt(n === cl.myself ? c.server.repl.offset : n.replOffset);
      c.addBulk('health');
      c.addBulk((n.flags & NF.FAIL) !== 0 ? 'failed' : 'online');
    }
  }
}

function keyslot(c: Client, argv: string[]): void {
  if (clusterOf(c) === null) return;
  c.addInt(keyHashSlot(argv[2]));
}

function countkeysinslot(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const v = parseInt64(argv[2]);
  if (v === null) return c.addError(E_NOT_INT);
  if (typeof v === 'bigint' || v < 0 || v >= CLUSTER_SLOTS) return c.addError('ERR Invalid slot');
  c.addInt(cl.countKeysInSlot(v));
}

function getkeysinslot(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const s = parseInt64(argv[2]);
  const n = parseInt64(argv[3]);
  if (s === null || n === null) return c.addError(E_NOT_INT);
  if (typeof s === 'bigint' || typeof n === 'bigint' || s < 0 || s >= CLUSTER_SLOTS || n < 0) return c.addError('ERR Invalid slot or number of keys');
  c.addBulkArray(cl.keyTable().keysInSlot(s, n));
}

/** ADDSLOTS / DELSLOTS: every slot is checked before any is changed. */
function addDelSlots(c: Client, argv: string[], add: boolean): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const list: number[] = [];
  for (let i = 2; i < argv.length; i++) {
    const s = slotArg(c, argv[i]);
    if (s < 0) return;
    list.push(s);
  }
  applySlots(c, cl, list, add);
}

function applySlots(c: Client, cl: Cluster, list: number[], add: boolean): void {
  const seen = new Uint8Array(CLUSTER_SLOTS);
  for (const s of list) {
    if (add && cl.slots[s] !== null) return c.addError(`ERR Slot ${s} is already busy`);
    if (!add && cl.slots[s] === null) return c.addError(`ERR Slot ${s} is already unassigned`);
    if (seen[s]++ === 1) return c.addError(`ERR Slot ${s} specified multiple times`);
  }
  for (const s of list) {
    if (add) {
      // Taking a slot we were importing: the import is over.
      if (cl.importingFrom[s] !== null) cl.importingFrom[s] = null;
      cl.addSlot(cl.myself, s);
    } else cl.delSlot(s);
  }
  cl.updateState();
  const err = cl.saveNow();
  if (err !== null) return c.addError(`ERR error saving the cluster node config: ${err}`);
  c.addOK();
}

function addDelSlotsRange(c: Client, argv: string[], add: boolean): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  if (argv.length % 2 === 1) return c.addError(`ERR wrong number of arguments for 'cluster|${add ? 'addslotsrange' : 'delslotsrange'}' command`);
  const list: number[] = [];
  for (let i = 2; i < argv.length; i += 2) {
    const a = slotArg(c, argv[i]);
    if (a < 0) return;
    const b = slotArg(c, argv[i + 1]);
    if (b < 0) return;
    if (a > b) return c.addError(`ERR start slot number ${a} is greater than end slot number ${b}`);
    for (let s = a; s <= b; s++) list.push(s);
  }
  applySlots(c, cl, list, add);
}

function flushslots(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  if (c.server.dbs[0].size !== 0) return c.addError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
  cl.delNodeSlots(cl.myself);
  cl.updateState();
  cl.saveNow();
  c.addOK();
}

/** CLUSTER SETSLOT's default wait for the replicas (Valkey's CLUSTER_OPERATION_TIMEOUT), ms. */
const SETSLOT_TIMEOUT_MS = 2000;

interface SetslotArgs {
  slot: number;
  action: 'migrating' | 'importing' | 'stable' | 'node';
  node: ClusterNode | null;
  /** How long the primary waits for its replicas (0: forever). */
  timeout: number;
}

/**
 * Valkey 8's clusterParseSetSlotCommand: CLUSTER SETSLOT <slot> (IMPORTING <node>|
 * MIGRATING <node>|STABLE|NODE <node>) [TIMEOUT <ms>]. Replicas accept it from their primary only.
 */
function parseSetslot(c: Client, cl: Cluster, argv: string[], fromPrimary: boolean): SetslotArgs | null {
  const me = cl.myself;
  if (!fromPrimary && me.replicaOf !== null) {
    c.addError('ERR Please use SETSLOT only with masters.');
    return null;
  }
  const slot = slotArg(c, argv[2]);
  if (slot < 0) return null;
  const action = argv[3].toLowerCase();
  const argc = argv.length;
  let node: ClusterNode | null = null;
  let optPos: number;
  const target = (unknown: string): ClusterNode | null => {
    const n = cl.lookup(argv[4]);
    if (n === undefined) {
      c.addError(`ERR ${unknown} ${argv[4]}`);
      return null;
    }
    if (!n.isMaster) {
      c.addError('ERR Target node is not a master');
      return null;
    }
    return n;
  };
  if (action === 'migrating' && argc >= 5) {
    if (me.isMaster && cl.slots[slot] !== me) {
      c.addError(`ERR I'm not the owner of hash slot ${slot}`);
      return null;
    }
    if ((node = target("I don't know about node")) === null) return null;
    optPos = 5;
  } else if (action === 'importing' && argc >= 5) {
    if (cl.slots[slot] === me) {
      c.addError(`ERR I'm already the owner of hash slot ${slot}`);
      return null;
    }
    if ((node = target("I don't know about node")) === null) return null;
    optPos = 5;
  } else if (action === 'stable' && argc >= 4) {
    optPos = 4;
  } else if (action === 'node' && argc >= 5) {
    if ((node = target('Unknown node')) === null) return null;
    if (cl.slots[slot] === me && node !== me && cl.countKeysInSlot(slot) !== 0) {
      c.addError(`ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
      return null;
    }
    optPos = 5;
  } else {
    c.addError('ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
    return null;
  }
  let timeout = SETSLOT_TIMEOUT_MS;
  for (let i = optPos; i < argc; i++) {
    if (argv[i].toLowerCase() !== 'timeout') continue;
    if (i + 1 >= argc) {
      c.addError('ERR Missing timeout value');
      return null;
    }
    const t = parseInt64(argv[i + 1]);
    if (t === null || typeof t === 'bigint') {
      c.addError('ERR timeout is not an integer or out of range');
      return null;
    }
    if (t < 0) {
      c.addError('ERR timeout is negative');
      return null;
    }
    timeout = t;
  }
  return { slot, action, node, timeout };
}

/**
 * CLUSTER SETSLOT. As in Valkey 8, a primary with replicas first replicates the
 * command to them and waits (up to TIMEOUT, default 2 s) until every online replica
 * acknowledged it, and only then applies it: a failover during a slot migration
 * finds the migrating/importing state and the new owner on the promoted replica.
 * Replicas apply the SETSLOT their primary sends. No acknowledgement in time: -NOREPLICAS.
 */
function setslot(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const fromPrimary = c.replRole === 'master';
  const a = parseSetslot(c, cl, argv, fromPrimary);
  if (a === null) return;
  const repl = c.server.repl;
  if (!fromPrimary && cl.myself.isMaster && cl.myself.replicas.length !== 0 && repl.replicas.size !== 0) {
    const online = eligibleReplicas(c, cl);
    if (online !== 0) {
      // To the replicas only (not the AOF), like Valkey's forceCommandPropagation(PROPAGATE_REPL).
      repl.feed([{ db: c.db.id, argv }]);
      const target = repl.offset;
      if (c.denyBlocking || c.socket === null) {
        // Inside MULTI/EXEC or a script there is no waiting: replicated, then applied.
        applySetslot(c, cl, a);
        return;
      }
      waitSetslotAcks(c, cl, argv, a.timeout, target, online);
      return;
    }
  }
  applySetslot(c, cl, a);
}

/**
 * The replicas a SETSLOT waits for: online replication links that are cluster
 * replicas of this node (matched by address and port). Valkey counts its online
 * replicas of version 8+ (REPLCONF version); Vireo has no versions, and this
 * leaves out links that are not cluster replicas (redis-cli --replica, a SYNC tool).
 */
function eligibleReplicas(c: Client, cl: Cluster): number {
  let n = 0;
  for (const r of c.server.repl.replicas) {
    if (r.state !== 'online' || r.pending !== null) continue;
    const ip = r.ip !== '' ? r.ip : r.client.addr.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (cl.myself.replicas.some((node) => node.port === r.port && node.ip === ip)) n++;
  }
  return n;
}

/**
 * Blocks the client until `num` replicas acknowledged `offset`, then runs the SETSLOT
 * again, checks included, on the state of that moment (Valkey re-executes the
 * pending command); no acknowledgement within `timeout` ms: -NOREPLICAS.
 */
function waitSetslotAcks(c: Client, cl: Cluster, argv: string[], timeout: number, offset: number, num: number): void {
  const repl = c.server.repl;
  const started = Date.now();
  c.postponed = [];
  repl.requestAcks();
  let polls = 0;
  const timer = setInterval(() => {
    const done = repl.acked(offset) >= num;
    const expired = timeout > 0 && Date.now() - started >= timeout;
    if (!done && !expired && !c.closed) {
      // Ask again now and then, in case a GETACK crossed a reconnection.
      if (++polls % 100 === 0) repl.requestAcks();
      return;
    }
    clearInterval(timer);
    c.postponed = null;
    if (c.closed) return;
    if (done) {
      const again = parseSetslot(c, cl, argv, false);
      if (again !== null) applySetslot(c, cl, again);
    } else c.addError('NOREPLICAS Not enough good replicas to write.');
    c.processInput();
    c.flush();
    c.server.flushPending();
  }, 1);
}

/** Applies a parsed SETSLOT (Valkey's clusterCommandSetSlot after the replication step) and replies. */
function applySetslot(c: Client, cl: Cluster, a: SetslotArgs): void {
  const { slot, node: n } = a;
  const me = cl.myself;
  const log = c.server.log;
  // nodes.conf is fsynced only when the epoch or the role changed.
  let fsync = false;
  if (a.action === 'migrating') {
    log.notice(`Migrating slot ${slot} to node ${n!.name} (${n!.humanNodename})`);
    cl.migratingTo[slot] = n;
  } else if (a.action === 'importing') {
    log.notice(`Importing slot ${slot} from node ${n!.name} (${n!.humanNodename})`);
    cl.importingFrom[slot] = n;
  } else if (a.action === 'stable') {
    log.notice(`Marking slot ${slot} stable`);
    cl.importingFrom[slot] = null;
    cl.migratingTo[slot] = null;
  } else {
    const node = n!;
    log.notice(`Assigning slot ${slot} to node ${node.name} (${node.humanNodename}) in shard ${node.shardId}`);
    // The last key moved away: the migration is over.
    if (cl.countKeysInSlot(slot) === 0 && cl.migratingTo[slot] !== null) cl.migratingTo[slot] = null;
    const myPrimary = me.replicaOf ?? me;
    const wasMine = cl.slots[slot] === myPrimary;
    cl.delSlot(slot);
    cl.addSlot(node, slot);
    const shardEmpty = myPrimary.numSlots === 0;
    if (wasMine && shardEmpty && node !== myPrimary) {
      if (c.server.config.bool('cluster-allow-replica-migration')) {
        // Our shard lost its last slot: follow the new owner (a full sync, new history).
        log.notice(`Lost my last slot during slot migration. Reconfiguring myself as a replica of ${node.name} (${node.humanNodename}) in shard ${node.shardId}`);
        const follow = () => {
          const p = me.replicaOf ?? me;
          if (node.isMaster && node !== p && cl.nodes.get(node.name) === node && p.numSlots === 0) cl.setMyPrimary(node);
        };
        // On a replica this runs inside our primary's stream: switch primaries once that command is done.
        if (c.replRole === 'master') setImmediate(follow);
        else follow();
      } else if (me.isMaster) {
        log.notice(`My last slot was migrated to node ${node.name} (${node.humanNodename}) in shard ${node.shardId}. I am now an empty primary.`);
      }
    }
    // Importing into this shard is over once the slot is ours.
    if ((node === me || node === me.replicaOf) && cl.importingFrom[slot] !== null) {
      cl.importingFrom[slot] = null;
      if (node === me) {
        // Only the primary takes a new config epoch so the cluster accepts the new owner.
        if (cl.bumpEpochWithoutConsensus()) {
          log.notice(`ConfigEpoch updated after importing slot ${slot}`);
          fsync = true;
        }
        cl.broadcastPong();
      }
    }
  }
  cl.updateState();
  const err = cl.saveNow(fsync);
  if (err !== null) return c.addError(`ERR error saving the cluster node config: ${err}`);
  c.addOK();
}

function meet(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  if (argv.length !== 4 && argv.length !== 5) return c.addError("ERR wrong number of arguments for 'cluster|meet' command");
  const port = parseInt64(argv[3]);
  if (port === null || typeof port === 'bigint' || port < 0 || port > 65535) return c.addError(`ERR Invalid base port specified: ${argv[3]}`);
  let cport = port + 10000;
  if (argv.length === 5) {
    const p = parseInt64(argv[4]);
    if (p === null || typeof p === 'bigint' || p < 0 || p > 65535) return c.addError(`ERR Invalid bus port specified: ${argv[4]}`);
    cport = p;
  }
  if (!cl.startHandshake(argv[2], port, cport)) return c.addError(`ERR Invalid node address specified: ${argv[2]}:${argv[3]}`);
  c.addOK();
}

function forget(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const n = cl.lookup(argv[2]);
  if (n === undefined) {
    // Already forgotten (another node's FORGET came by gossip first): done, as Valkey answers.
    if (cl.blacklisted(argv[2], Date.now())) return c.addOK();
    return c.addError(`ERR Unknown node ${argv[2]}`);
  }
  if (n === cl.myself) return c.addError("ERR I tried hard but I can't forget myself...");
  if (cl.myself.replicaOf === n) return c.addError("ERR Can't forget my master!");
  cl.blacklist.set(n.name, Date.now() + 60_000);
  cl.delNode(n);
  cl.updateState();
  cl.saveNow();
  c.addOK();
}

function reset(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  let hard = false;
  if (argv.length === 3) {
    const m = argv[2].toLowerCase();
    if (m === 'hard') hard = true;
    else if (m !== 'soft') return c.addError(E_SYNTAX);
  } else if (argv.length > 3) return c.addError(E_SYNTAX);
  if (cl.myself.isMaster && c.server.dbs[0].size !== 0) return c.addError("ERR CLUSTER RESET can't be called with master nodes containing keys");
  cl.reset(hard);
  c.addOK();
}

function saveconfig(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const err = cl.saveNow();
  if (err !== null) return c.addError(`ERR error saving the cluster node config: ${err}`);
  c.addOK();
}

function setConfigEpoch(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const v = parseInt64(argv[2]);
  if (v === null) return c.addError(E_NOT_INT);
  if (v < 0) return c.addError(`ERR Invalid config epoch specified: ${v}`);
  if (cl.nodes.size > 1) return c.addError('ERR The user can assign a config epoch only when the node does not know any other node.');
  if (cl.myself.configEpoch !== 0) return c.addError('ERR Node config epoch is already non-zero');
  const e = Number(v);
  cl.myself.configEpoch = e;
  c.server.log.notice(`configEpoch set to ${e} via CLUSTER SET-CONFIG-EPOCH`);
  if (cl.currentEpoch < e) cl.currentEpoch = e;
  cl.updateState();
  cl.saveNow();
  c.addOK();
}

function bumpepoch(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const bumped = cl.bumpEpochWithoutConsensus();
  cl.saveNow();
  c.addSimple(`${bumped ? 'BUMPED' : 'STILL'} ${cl.myself.configEpoch}`);
}

function countFailureReports(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const n = cl.lookup(argv[2]);
  if (n === undefined) return c.addError(`ERR Unknown node ${argv[2]}`);
  const now = Date.now();
  let count = 0;
  for (const t of n.failReports.values()) if (now - t <= cl.nodeTimeout * 2) count++;
  c.addInt(count);
}

function links(c: Client): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const list = [...cl.links].filter((l) => l.node !== null && !l.closed);
  c.addArrayLen(list.length);
  for (const l of list) {
    c.addMapLen(6);
    c.addBulk('direction');
    c.addBulk(l.inbound ? 'from' : 'to');
    c.addBulk('node');
    c.addBulk(l.node!.name);
    c.addBulk('create-time');
    c.addInt(l.ctime);
    c.addBulk('events');
    c.addBulk(l.socket.writableLength > 0 ? 'rw' : 'r');
    c.addBulk('send-buffer-allocated');
    c.addInt(l.socket.writableLength);
    c.addBulk('send-buffer-used');
    c.addInt(l.socket.writableLength);
  }
}

function slotStatEntry(c: Client, cl: Cluster, slot: number): void {
  c.addArrayLen(2);
  c.addInt(slot);
  c.addMapLen(1);
  c.addBulk('key-count');
  c.addInt(cl.countKeysInSlot(slot));
}

/**
 * CLUSTER SLOT-STATS SLOTSRANGE start end | ORDERBY metric [LIMIT n] [ASC|DESC]
 * (Valkey 8): per-slot key counts of the slots this shard serves. The other
 * metrics exist only with cluster-slot-stats-enabled, which Vireo does not have.
 */
function slotStats(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const primary = cl.myself.replicaOf ?? cl.myself;
  const sub = argv.length > 2 ? argv[2].toLowerCase() : '';
  if (argv.length === 5 && sub === 'slotsrange') {
    const a = slotArg(c, argv[3]);
    if (a < 0) return;
    const b = slotArg(c, argv[4]);
    if (b < 0) return;
    if (a > b) return c.addError(`ERR Start slot number ${a} is greater than end slot number ${b}`);
    const slots: number[] = [];
    for (let s = a; s <= b; s++) if (primary.hasSlot(s)) slots.push(s);
    c.addArrayLen(slots.length);
    for (const s of slots) slotStatEntry(c, cl, s);
    return;
  }
  if (argv.length >= 4 && sub === 'orderby') {
    if (argv[3].toLowerCase() !== 'key-count') return c.addError('ERR Unrecognized sort metric for ORDERBY.');
    let desc = true;
    let limit = CLUSTER_SLOTS;
    let limits = 0;
    let orders = 0;
    for (let i = 4; i < argv.length; i++) {
      const o = argv[i].toLowerCase();
      if (o === 'limit' && i + 1 < argv.length) {
        const v = parseInt64(argv[++i]);
        if (v === null || typeof v === 'bigint' || v < 1 || v > CLUSTER_SLOTS) return c.addError('ERR Limit has to lie in between 1 and 16384 (maximum number of slots).');
        limit = v;
        limits++;
      } else if (o === 'asc') {
        desc = false;
        orders++;
      } else if (o === 'desc') {
        desc = true;
        orders++;
      } else return c.addError(E_SYNTAX);
      if (limits > 1 || orders > 1) return c.addError('ERR Multiple filters of the same type are disallowed.');
    }
    const stats: [number, number][] = [];
    for (let s = 0; s < CLUSTER_SLOTS; s++) if (primary.hasSlot(s)) stats.push([s, cl.countKeysInSlot(s)]);
    // By the metric, ties by slot number ascending.
    stats.sort((x, y) => (x[1] === y[1] ? x[0] - y[0] : desc ? y[1] - x[1] : x[1] - y[1]));
    const n = Math.min(limit, stats.length);
    c.addArrayLen(n);
    for (let i = 0; i < n; i++) slotStatEntry(c, cl, stats[i][0]);
    return;
  }
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try CLUSTER HELP.`);
}

function asking(c: Client): void {
  if (clusterOf(c) === null) return;
  c.clusterFlags |= CF_ASKING;
  c.addOK();
}

function readonly(c: Client): void {
  if (clusterOf(c) === null) return;
  c.clusterFlags |= CF_READONLY;
  c.addOK();
}

function readwrite(c: Client): void {
  if (clusterOf(c) === null) return;
  c.clusterFlags &= ~CF_READONLY;
  c.addOK();
}

/** RESTORE-ASKING: RESTORE that an importing slot accepts (the asking flag is in the command table). */
function restoreAsking(c: Client, argv: string[]): void {
  c.server.table.lookup('restore')!.handler!(c, argv);
}

// ------------------------------------------------------------------ MIGRATE

interface MigrateOpts {
  host: string;
  port: number;
  db: number;
  timeout: number;
  copy: boolean;
  replace: boolean;
  auth: string[] | null;
  keys: string[];
}

/** MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 username password] [KEYS key ...] */
function migrate(c: Client, argv: string[]): void {
  const o: MigrateOpts = { host: argv[1], port: 0, db: 0, timeout: 0, copy: false, replace: false, auth: null, keys: [] };
  let first = 3;
  let num = 1;
  for (let j = 6; j < argv.length; j++) {
    const a = argv[j].toLowerCase();
    const more = argv.length - j - 1;
    if (a === 'copy') o.copy = true;
    else if (a === 'replace') o.replace = true;
    else if (a === 'auth') {
      if (more === 0) return c.addError(E_SYNTAX);
      o.auth = [argv[++j]];
    } else if (a === 'auth2') {
      if (more < 2) return c.addError(E_SYNTAX);
      o.auth = [argv[j + 1], argv[j + 2]];
      j += 2;
    } else if (a === 'keys') {
      if (argv[3].length !== 0) {
        return c.addError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      }
      first = j + 1;
      num = argv.length - j - 1;
      break;
    } else return c.addError(E_SYNTAX);
  }
  const port = parseInt64(argv[2]);
  const db = parseInt64(argv[4]);
  const timeout = parseInt64(argv[5]);
  if (port === null || db === null || timeout === null || typeof port === 'bigint' || typeof db === 'bigint' || typeof timeout === 'bigint') {
    return c.addError(E_NOT_INT);
  }
  o.port = port;
  o.db = db;
  o.timeout = timeout <= 0 ? 1000 : timeout;
  // Keys that exist; none: NOKEY.
  const dbase = c.db;
  for (let i = 0; i < num; i++) {
    const k = argv[first + i];
    if (dbase.lookup(k) !== undefined) o.keys.push(k);
  }
  if (o.keys.length === 0) return c.addSimple('NOKEY');
  if (c.denyBlocking || c.multi !== null || c.socket === null) {
    return c.addError('ERR MIGRATE is not supported inside MULTI/EXEC or scripts by Vireo');
  }
  // Build the request now (the values as they are at this point), send it, and wait for the replies.
  let req = '';
  let expected = 0;
  const bulk = (s: string | Buffer) => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    return `$${b.length}\r\n${b.latin1Slice()}\r\n`;
  };
  const cmd = (parts: (string | Buffer)[]) => {
    req += `*${parts.length}\r\n`;
    for (const p of parts) req += bulk(p);
    expected++;
  };
  if (o.auth !== null) cmd(['AUTH', ...o.auth]);
  cmd(['SELECT', String(o.db)]);
  const compress = c.server.config.bool('rdbcompression');
  const cluster = c.server.cluster !== null;
  const now = Date.now();
  for (const k of o.keys) {
    const v = dbase.lookup(k)!;
    const exp = dbase.getExpire(k);
    let ttl = 0;
    if (exp !== -1) ttl = Math.max(1, exp - now);
    const parts: (string | Buffer)[] = [cluster ? 'RESTORE-ASKING' : 'RESTORE', k, String(ttl), serializeValue(v, compress)];
    if (o.replace) parts.push('REPLACE');
    cmd(parts);
  }
  c.postponed = [];
  // Until the target answers, commands on these keys wait (the values sent must stay the values deleted).
  c.server.cluster?.beginMigrate(o.keys);
  runMigrate(c, o, Buffer.from(req, 'latin1'), expected);
}

function runMigrate(c: Client, o: MigrateOpts, req: Buffer, expected: number): void {
  const sock = net.connect({ host: o.host, port: o.port });
  let done = false;
  let connected = false;
  let buf = '';
  const replies: string[] = [];
  const finish = (err: string | null) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.destroy();
    c.postponed = null;
    if (c.closed) {
      c.server.cluster?.endMigrate(o.keys);
      return;
    }
    if (err !== null) c.addError(err);
    else {
      // AUTH / SELECT replies first, then one per key.
      const skip = expected - o.keys.length;
      let firstErr: string | null = null;
      for (let i = 0; i < replies.length; i++) {
        const r = replies[i];
        if (r.startsWith('-')) {
          if (firstErr === null) firstErr = r.slice(1);
        } else if (i >= skip && !o.copy) {
          const k = o.keys[i - skip];
          const db = c.db;
          if (db.delete(k)) {
            c.server.dirty++;
            if (c.server.prop.active) c.server.prop.also(db.id, ['DEL', k]);
          }
        }
      }
      if (firstErr !== null) c.addError(`ERR Target instance replied with error: ${firstErr}`);
      else c.addOK();
    }
    c.server.cluster?.endMigrate(o.keys);
    c.processInput();
    c.flush();
    c.server.flushPending();
  };
  const timer = setTimeout(() => finish(connected ? 'IOERR error or timeout reading to target instance' : 'IOERR error or timeout connecting to the client'), o.timeout);
  sock.on('error', () => finish(connected ? 'IOERR error or timeout reading to target instance' : 'IOERR error or timeout connecting to the client'));
  sock.on('connect', () => {
    connected = true;
    sock.write(req);
  });
  sock.on('data', (d: Buffer) => {
    buf += d.latin1Slice();
    for (;;) {
      const nl = buf.indexOf('\r\n');
      if (nl < 0) break;
      replies.push(buf.slice(0, nl));
      buf = buf.slice(nl + 2);
    }
    if (replies.length >= expected) finish(null);
  });
  sock.on('close', () => finish('IOERR error or timeout reading to target instance'));
}

/** CLUSTER REPLICATE <node-id>: this node becomes a replica of a primary (Valkey's checks and errors). */
function replicate(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  const n = cl.lookup(argv[2]);
  if (n === undefined) return c.addError(`ERR Unknown node ${argv[2]}`);
  if (n === cl.myself) return c.addError("ERR Can't replicate myself");
  if (!n.isMaster) return c.addError('ERR I can only replicate a master, not a replica.');
  const me = cl.myself;
  if (me.isMaster && (me.numSlots !== 0 || c.server.dbs[0].size > 0)) {
    return c.addError('ERR To set a master the node must be empty and without assigned slots.');
  }
  cl.setMyPrimary(n);
  c.addOK();
}

/** CLUSTER FAILOVER [FORCE|TAKEOVER]. */
function failover(c: Client, argv: string[]): void {
  const cl = clusterOf(c);
  if (cl === null) return;
  let mode: 'default' | 'force' | 'takeover' = 'default';
  if (argv.length === 3) {
    const o = argv[2].toLowerCase();
    if (o === 'force') mode = 'force';
    else if (o === 'takeover') mode = 'takeover';
    else return c.addError(E_SYNTAX);
  } else if (argv.length > 3) return c.addError(E_SYNTAX);
  const err = cl.manualFailover(mode);
  if (err !== null) c.addError(err);
  else c.addOK();
}

export const commands: HandlerMap = {
  'cluster|replicate': replicate,
  'cluster|failover': failover,
  'cluster|help': help,
  'cluster|info': info,
  'cluster|myid': myid,
  'cluster|myshardid': myshardid,
  'cluster|nodes': nodes,
  'cluster|replicas': replicas,
  'cluster|slaves': replicas,
  'cluster|shards': shards,
  'cluster|slots': slots,
  'cluster|keyslot': keyslot,
  'cluster|countkeysinslot': countkeysinslot,
  'cluster|getkeysinslot': getkeysinslot,
  'cluster|addslots': (c, argv) => addDelSlots(c, argv, true),
  'cluster|delslots': (c, argv) => addDelSlots(c, argv, false),
  'cluster|addslotsrange': (c, argv) => addDelSlotsRange(c, argv, true),
  'cluster|delslotsrange': (c, argv) => addDelSlotsRange(c, argv, false),
  'cluster|flushslots': flushslots,
  'cluster|setslot': setslot,
  'cluster|meet': meet,
  'cluster|forget': forget,
  'cluster|reset': reset,
  'cluster|saveconfig': saveconfig,
  'cluster|set-config-epoch': setConfigEpoch,
  'cluster|bumpepoch': bumpepoch,
  'cluster|count-failure-reports': countFailureReports,
  'cluster|links': links,
  'cluster|slot-stats': slotStats,
  asking,
  readonly,
  readwrite,
  migrate,
  'restore-asking': restoreAsking,
};
