// INFO: the server's sections in Valkey 8's layout and field names. Values are
// the server's own where it has them; for features Vireo does not have yet
// (persistence, replicas, Lua, defrag, I/O threads ...) the fields show what
// Valkey shows with those features idle or disabled.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Server } from '../server/server.js';
import { VIREO_VERSION, VALKEY_COMPAT_VERSION, REDIS_COMPAT_VERSION } from '../server/server.js';
import { clock } from '../keyspace/db.js';
import { scriptingInfo } from '../scripting/index.js';
import type { Command } from './table.js';
import { histTotal, trimDouble, valueAtPercentile } from '../server/latency.js';
import { cyclesPerSec, usecPerCycle } from '../server/loopstats.js';

/** Sections in output order; `inDefault` marks the ones plain INFO shows. */
const SECTIONS: { name: string; inDefault: boolean }[] = [
  { name: 'server', inDefault: true },
  { name: 'clients', inDefault: true },
  { name: 'memory', inDefault: true },
  { name: 'persistence', inDefault: true },
  { name: 'stats', inDefault: true },
  { name: 'replication', inDefault: true },
  { name: 'cpu', inDefault: true },
  { name: 'modules', inDefault: true },
  { name: 'commandstats', inDefault: false },
  { name: 'errorstats', inDefault: true },
  { name: 'latencystats', inDefault: false },
  { name: 'cluster', inDefault: true },
  { name: 'keyspace', inDefault: true },
];

/** Valkey's bytesToHuman: 1023B, 1.00K, 12.50M, 1.00G ... */
export function bytesToHuman(n: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (n < 1024) return `${n}B`;
  let d = n / 1024;
  for (let i = 0; i < units.length; i++) {
    if (d < 1024 || i === units.length - 1) return `${d.toFixed(2)}${units[i]}`;
    d /= 1024;
  }
  return `${n}B`;
}

/** Replaces characters INFO lines cannot carry in names (getSafeInfoString). */
function safeInfoName(s: string): string {
  return s.replace(/[:\r\n ]/g, '_');
}

let buildId = '';
/** A stable id of this build (INFO redis_build_id); computed on first use, as the version constant is not set yet when this module loads. */
function getBuildId(): string {
  if (buildId === '') buildId = createHash('sha1').update(`vireo-${VIREO_VERSION}-${process.versions.node}`).digest('hex').slice(0, 16);
  return buildId;
}

function fmt2(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : '0.00';
}

/**
 * Which sections a list of INFO arguments asks for: names (case-insensitive),
 * `default`, `all` (every section), `everything` (all plus module sections).
 * No argument means `default`.
 */
export function selectSections(args: string[]): Set<string> {
  const out = new Set<string>();
  if (args.length === 0) args = ['default'];
  for (const raw of args) {
    const a = raw.toLowerCase();
    if (a === 'all' || a === 'everything') for (const s of SECTIONS) out.add(s.name);
    else if (a === 'default') {
      for (const s of SECTIONS) if (s.inDefault) out.add(s.name);
    } else if (a === 'module_list') out.add('modules');
    else out.add(a);
  }
  return out;
}

/** The INFO text for the chosen sections: "# Name" headers, CRLF lines, sections separated by a blank line. */
export function genInfo(server: Server, sections: Set<string>): string {
  const parts: string[] = [];
  for (const s of SECTIONS) {
    if (!sections.has(s.name)) continue;
    parts.push(GEN[s.name](server));
  }
  return parts.join('\r\n');
}

type Lines = (string | [string, string | number])[];

function section(title: string, lines: Lines): string {
  let out = `# ${title}\r\n`;
  for (const l of lines) out += typeof l === 'string' ? `${l}\r\n` : `${l[0]}:${l[1]}\r\n`;
  return out;
}

function listenerLines(server: Server): Lines {
  return server.listeners.infoLines();
}

function executablePath(): string {
  const script = process.argv[1];
  return script ? resolve(script) : process.execPath;
}

const GEN: Record<string, (server: Server) => string> = {
  server(server) {
    const now = Date.now();
    const uptime = Math.floor((now - server.startTimeMs) / 1000);
    const compat = server.config.bool('extended-redis-compatibility');
    return section('Server', [
      ['redis_version', REDIS_COMPAT_VERSION],
      ['server_name', 'vireo'],
      ['valkey_version', VALKEY_COMPAT_VERSION],
      ['vireo_version', VIREO_VERSION],
      ['redis_git_sha1', '00000000'],
      ['redis_git_dirty', 0],
      ['redis_build_id', getBuildId()],
      [compat ? 'redis_mode' : 'server_mode', 'standalone'],
      ['os', `${os.type()} ${os.release()} ${os.machine()}`],
      ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
      ['monotonic_clock', 'POSIX clock_gettime'],
      ['multiplexing_api', process.platform === 'linux' ? 'epoll' : process.platform === 'win32' ? 'iocp' : 'kqueue'],
      ['atomicvar_api', 'c11-builtin'],
      ['gcc_version', '0.0.0'],
      ['process_id', process.pid],
      ['process_supervised', 'no'],
      ['run_id', server.runId],
      ['tcp_port', server.port],
      ['server_time_usec', Math.floor((performance.timeOrigin + performance.now()) * 1000)],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['hz', server.effectiveHz()],
      ['configured_hz', server.config.num('hz')],
      ['lru_clock', clock.lru],
      ['executable', executablePath()],
      ['config_file', server.config.file ?? ''],
      ['io_threads_active', 0],
      ...listenerLines(server),
    ]);
  },

  clients(server) {
    let maxIn = 0;
    let maxOut = 0;
    for (const c of server.clients.values()) {
      const qb = c.parser.pending();
      if (qb > maxIn) maxIn = qb;
      const ob = c.len + c.queuedOut();
      if (ob > maxOut) maxOut = ob;
    }
    return section('Clients', [
      ['connected_clients', server.clients.size],
      ['cluster_connections', server.cluster !== null ? server.cluster.links.size : 0],
      ['maxclients', server.config.num('maxclients')],
      ['client_recent_max_input_buffer', maxIn],
      ['client_recent_max_output_buffer', maxOut],
      ['blocked_clients', server.blocking.blockedCount],
      ['tracking_clients', server.tracking.clients],
      ['pubsub_clients', server.pubsub.clientCount],
      ['watching_clients', server.watch.clients],
      ['clients_in_timeout_table', server.blocking.withTimeout],
      ['total_watched_keys', server.watch.keys],
      ['total_blocking_keys', server.blocking.blockingKeys],
      ['total_blocking_keys_on_nokey', server.blocking.blockingKeysOnNoKey],
    ]);
  },

  memory(server) {
    server.sampleMemory();
    const used = server.usedMemory;
    const peak = Math.max(server.peakMemory, used);
    const rss = process.memoryUsage.rss();
    const h = v8.getHeapStatistics();
    // Buffers (arrayBuffers), not `external`: that also counts the Lua engine's reserved WebAssembly memory.
    const ext = process.memoryUsage().arrayBuffers;
    const allocated = h.used_heap_size + ext;
    const active = h.total_heap_size + ext;
    const resident = h.total_physical_size + ext;
    const startup = server.startupMemory;
    let clientMem = 0;
    for (const c of server.clients.values()) clientMem += c.out.length + c.parser.pending() + c.queuedOut();
    const overhead = Math.min(used, startup + clientMem);
    const dataset = used - overhead;
    const net = used - startup;
    const maxmemory = server.config.num('maxmemory');
    const total = os.totalmem();
    const si = scriptingInfo(server);
    return section('Memory', [
      ['used_memory', used],
      ['used_memory_human', bytesToHuman(used)],
      ['used_memory_rss', rss],
      ['used_memory_rss_human', bytesToHuman(rss)],
      ['used_memory_peak', peak],
      ['used_memory_peak_human', bytesToHuman(peak)],
      ['used_memory_peak_perc', `${fmt2((used * 100) / peak)}%`],
      ['used_memory_overhead', overhead],
      ['used_memory_startup', startup],
      ['used_memory_dataset', dataset],
      ['used_memory_dataset_perc', `${fmt2(net > 0 ? (dataset * 100) / net : 0)}%`],
      ['allocator_allocated', allocated],
      ['allocator_active', active],
      ['allocator_resident', resident],
      ['allocator_muzzy', 0],
      ['total_system_memory', total],
      ['total_system_memory_human', bytesToHuman(total)],
      ['used_memory_lua', si.vmMemory],
      ['used_memory_vm_eval', si.vmMemory],
      ['used_memory_lua_human', bytesToHuman(si.vmMemory)],
      ['used_memory_scripts_eval', si.scriptsMemory],
      ['number_of_cached_scripts', si.scripts],
      ['number_of_functions', si.functions],
      ['number_of_libraries', si.libraries],
      ['used_memory_vm_functions', 0],
      ['used_memory_vm_total', si.vmMemory],
      ['used_memory_vm_total_human', bytesToHuman(si.vmMemory)],
      ['used_memory_functions', si.functionsMemory],
      ['used_memory_scripts', si.scriptsMemory + si.functionsMemory],
      ['used_memory_scripts_human', bytesToHuman(si.scriptsMemory + si.functionsMemory)],
      ['maxmemory', maxmemory],
      ['maxmemory_human', bytesToHuman(maxmemory)],
      ['maxmemory_policy', server.config.get('maxmemory-policy')],
      ['allocator_frag_ratio', fmt2(active / allocated)],
      ['allocator_frag_bytes', active - allocated],
      ['allocator_rss_ratio', fmt2(resident / active)],
      ['allocator_rss_bytes', resident - active],
      ['rss_overhead_ratio', fmt2(rss / resident)],
      ['rss_overhead_bytes', rss - resident],
      ['mem_fragmentation_ratio', fmt2(rss / used)],
      ['mem_fragmentation_bytes', rss - used],
      ['mem_not_counted_for_evict', 0],
      ['mem_replication_backlog', 0],
      ['mem_total_replication_buffers', 0],
      ['mem_clients_slaves', 0],
      ['mem_clients_normal', clientMem],
      ['mem_cluster_links', 0],
      ['mem_aof_buffer', server.aof.bufLen],
      ['mem_allocator', `v8-${process.versions.v8}`],
      ['mem_overhead_db_hashtable_rehashing', 0],
      ['active_defrag_running', 0],
      ['lazyfree_pending_objects', 0],
      ['lazyfreed_objects', 0],
    ]);
  },

  persistence(server) {
    // RDB fields come from src/persistence/manager.ts, AOF fields from src/persistence/aof/aof.ts.
    return section('Persistence', [
      ...server.rdb.infoFields(),
      ...server.aof.infoFields(),
      ['module_fork_in_progress', 0],
      ['module_fork_last_cow_size', 0],
      ...server.aof.infoExtra(),
      ...server.rdb.loadingFields(),
    ]);
  },

  stats(server) {
    const st = server.stats;
    let cmdUsec = 0;
    for (const cmd of server.table.allWithSubs()) cmdUsec += cmd.usec;
    return section('Stats', [
      ['total_connections_received', st.numConnections],
      ['total_commands_processed', st.numCommands],
      ['instantaneous_ops_per_sec', Math.round(server.opsMetric.get())],
      ['total_net_input_bytes', st.netInputBytes],
      ['total_net_output_bytes', st.netOutputBytes],
      ['total_net_repl_input_bytes', server.repl.stats.replInBytes],
      ['total_net_repl_output_bytes', server.repl.stats.replOutBytes],
      ['instantaneous_input_kbps', fmt2(server.inMetric.get() / 1024)],
      ['instantaneous_output_kbps', fmt2(server.outMetric.get() / 1024)],
      ['instantaneous_input_repl_kbps', '0.00'],
      ['instantaneous_output_repl_kbps', '0.00'],
      ['rejected_connections', st.rejectedConnections],
      ['sync_full', server.repl.stats.syncFull],
      ['sync_partial_ok', server.repl.stats.syncPartialOk],
      ['sync_partial_err', server.repl.stats.syncPartialErr],
      ['expired_keys', server.keyspace.stats.expiredKeys],
      ['expired_stale_perc', fmt2(server.keyspace.stats.expiredStalePerc * 100)],
      ['expired_time_cap_reached_count', server.keyspace.stats.expiredTimeCapReached],
      ['expire_cycle_cpu_milliseconds', Math.floor(server.keyspace.stats.expireCycleCpuMs)],
      ['evicted_keys', server.evictor.evictedKeys],
      ['evicted_clients', server.stats.evictedClients],
      ['evicted_scripts', scriptingInfo(server).evictedScripts],
      ['total_eviction_exceeded_time', server.evictor.exceededTotalMs + (server.evictor.exceededSince !== 0 ? clock.ms - server.evictor.exceededSince : 0)],
      ['current_eviction_exceeded_time', server.evictor.exceededSince !== 0 ? clock.ms - server.evictor.exceededSince : 0],
      ['keyspace_hits', server.keyspace.stats.hits],
      ['keyspace_misses', server.keyspace.stats.misses],
      ['pubsub_channels', server.pubsub.channels.size],
      ['pubsub_patterns', server.pubsub.patterns.size],
      ['pubsubshard_channels', server.pubsub.shardChannels.size],
      ['latest_fork_usec', 0],
      ['total_forks', 0],
      ['migrate_cached_sockets', 0],
      ['slave_expires_tracked_keys', 0],
      ['active_defrag_hits', 0],
      ['active_defrag_misses', 0],
      ['active_defrag_key_hits', 0],
      ['active_defrag_key_misses', 0],
      ['total_active_defrag_time', 0],
      ['current_active_defrag_time', 0],
      ['tracking_total_keys', server.tracking.table.size],
      ['tracking_total_items', server.tracking.items],
      ['tracking_total_prefixes', server.tracking.prefixes.size],
      ['unexpected_error_replies', st.unexpectedErrorReplies],
      ['total_error_replies', st.totalErrorReplies],
      ['dump_payload_sanitizations', 0],
      ['total_reads_processed', st.readsProcessed],
      ['total_writes_processed', st.writesProcessed],
      ['io_threaded_reads_processed', 0],
      ['io_threaded_writes_processed', 0],
      ['io_threaded_freed_objects', 0],
      ['io_threaded_poll_processed', 0],
      ['io_threaded_total_prefetch_batches', 0],
      ['io_threaded_total_prefetch_entries', 0],
      ['client_query_buffer_limit_disconnections', st.clientQbufLimitDisconnections],
      ['client_output_buffer_limit_disconnections', st.clientOutputBufferLimitDisconnections],
      ['reply_buffer_shrinks', 0],
      ['reply_buffer_expands', 0],
      // Event-loop turns that did server work, and their time (src/server/loopstats.ts).
      ['eventloop_cycles', st.eventloopCycles],
      ['eventloop_duration_sum', Math.floor(st.eventloopUsec)],
      ['eventloop_duration_cmd_sum', Math.floor(cmdUsec)],
      ['instantaneous_eventloop_cycles_per_sec', cyclesPerSec()],
      ['instantaneous_eventloop_duration_usec', usecPerCycle()],
      ['acl_access_denied_auth', server.acl.stats.authFailures],
      ['acl_access_denied_cmd', server.acl.stats.cmd],
      ['acl_access_denied_key', server.acl.stats.key],
      ['acl_access_denied_channel', server.acl.stats.channel],
    ]);
  },

  replication(server) {
    // Fields and their order: src/replication/replication.ts.
    return section('Replication', server.repl.infoFields());
  },

  cpu() {
    const u = process.cpuUsage();
    const sys = (u.system / 1e6).toFixed(6);
    const user = (u.user / 1e6).toFixed(6);
    return section('CPU', [
      ['used_cpu_sys', sys],
      ['used_cpu_user', user],
      ['used_cpu_sys_children', '0.000000'],
      ['used_cpu_user_children', '0.000000'],
      ['used_cpu_sys_main_thread', sys],
      ['used_cpu_user_main_thread', user],
    ]);
  },

  modules() {
    return section('Modules', []);
  },

  commandstats(server) {
    const lines: Lines = [];
    const add = (cmd: Command) => {
      if (cmd.calls === 0 && cmd.failedCalls === 0 && cmd.rejectedCalls === 0) return;
      const usec = Math.floor(cmd.usec);
      const per = cmd.calls === 0 ? 0 : usec / cmd.calls;
      lines.push([
        `cmdstat_${safeInfoName(cmd.fullname)}`,
        `calls=${cmd.calls},usec=${usec},usec_per_call=${fmt2(per)},rejected_calls=${cmd.rejectedCalls},failed_calls=${cmd.failedCalls}`,
      ]);
    };
    for (const cmd of server.table.allWithSubs()) add(cmd);
    return section('Commandstats', lines);
  },

  errorstats(server) {
    const names = [...server.errorStats.keys()].sort();
    return section(
      'Errorstats',
      names.map((n) => [`errorstat_${safeInfoName(n)}`, `count=${server.errorStats.get(n)}`]),
    );
  },

  latencystats(server) {
    // Per-command percentiles (latency-tracking-info-percentiles) of the
    // histograms the dispatcher keeps while latency-tracking is on.
    const lines: Lines = [];
    const pcts = server.insight.percentiles;
    for (const cmd of server.table.allWithSubs()) {
      const h = cmd.latencyHist;
      if (h === null || histTotal(h) === 0) continue;
      const parts = pcts.map((p) => `p${trimDouble(p)}=${(valueAtPercentile(h, p) / 1000).toFixed(3)}`);
      lines.push([`latency_percentiles_usec_${safeInfoName(cmd.fullname)}`, parts.join(',')]);
    }
    return section('Latencystats', lines);
  },

  cluster(server) {
    return section('Cluster', [['cluster_enabled', server.cluster !== null ? 1 : 0]]);
  },

  keyspace(server) {
    const lines: Lines = [];
    for (const db of server.dbs) {
      const keys = db.size;
      if (keys === 0) continue;
      lines.push([`db${db.id}`, `keys=${keys},expires=${db.expires.size},avg_ttl=${Math.round(db.avgTtl)}`]);
    }
    return section('Keyspace', lines);
  },
};
