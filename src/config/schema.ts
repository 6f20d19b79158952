// Every config directive Vireo implements: name, type, default, bounds, whether
// CONFIG SET may change it, and what changing it does. The file parser, CLI
// flags, CONFIG GET/SET/REWRITE and INFO all read this one table.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { DEFAULT_OBUF, parseObufLimits } from '../server/pubsub.js';
import { rdbPreambleAvailable } from '../persistence/aof/preamble.js';
import { parseNotifyConfig, showNotifyConfig } from '../server/notify.js';
import type { Server } from '../server/server.js';
import { applyMaxclients, parseMaxmemoryClients } from '../server/limits.js';

/** An absolute directory as getcwd() would name it (symbolic links resolved), or as given when it is gone. */
function realDir(v: string): string {
  try {
    return realpathSync(v);
  } catch {
    return v;
  }
}

export type DirectiveType = 'bool' | 'int' | 'memory' | 'string' | 'enum' | 'save' | 'list';

export interface Directive {
  name: string;
  aliases?: string[];
  type: DirectiveType;
  /** Default in its canonical string form (what CONFIG GET shows). */
  default: string;
  /** Bounds, as Valkey declares them (int64/uint64 limits do not fit a JS number: bigint). */
  min?: number | bigint;
  max?: number | bigint;
  values?: string[];
  mutable: boolean;
  /** Extra validation of a parsed value; returns an error message or null. */
  check?: (v: string) => string | null;
  /** Hidden from CONFIG GET * (still settable). */
  hidden?: boolean;
  /** Adjusts a valid value before it is stored (e.g. hz is clamped to 1..500 like Valkey). */
  fix?: (v: string) => string;
  /** What CONFIG GET and CONFIG REWRITE show, when it is not the stored value (dir: the working directory). */
  show?: (stored: string) => string;
  /** CONFIG REWRITE writes this directive even when it has its default value (Valkey does for dir). */
  alwaysRewrite?: boolean;
  /** CONFIG SET may change it only as enable-protected-configs allows (Valkey's protected configs). */
  protected?: boolean;
  /**
   * Custom parser for directives whose new value is merged into the current one
   * (client-output-buffer-limit sets only the classes it names).
   */
  parse?: (value: string, current: string | undefined) => { value: string } | { error: string };
  /**
   * Run by CONFIG SET after the new values are stored (all of them); returns
   * the reason of a failure (then every value goes back), e.g. TLS files that
   * do not load.
   */
  apply?: (server: Server) => string | null;
}

const notYet = (what: string) => (v: string) =>
  v === '' || v === 'no' || v === 'noeviction' ? null : `${what} is not implemented by Vireo yet`;

/** CONFIG SET of a tls-* directive rebuilds the TLS context when TLS is in use. */
const applyTls = (server: Server): string | null => server.listeners.configureTls();

/** unixsocketperm: octal permission bits 0..0777 ("700" or "0700"), shown in octal. */
function parseOctalPerm(v: string): { value: string } | { error: string } {
  if (!/^[0-7]+$/.test(v)) return { error: "argument couldn't be parsed into an integer" };
  const n = Number.parseInt(v, 8);
  if (n > 0o777) return { error: 'argument must be between 0 and 777 inclusive' };
  return { value: n.toString(8) };
}

/** latency-tracking-info-percentiles: numbers between 0 and 100, shown as %f trimmed like Valkey ("50 99 99.9"). */
function parsePercentiles(value: string): { value: string } | { error: string } {
  const out: string[] = [];
  for (const t of value.split(/\s+/).filter((x) => x !== '')) {
    const n = Number(t);
    if (!/^[0-9.eE+-]+$/.test(t) || !Number.isFinite(n)) return { error: 'Invalid latency-tracking-info-percentiles parameters' };
    if (n < 0 || n > 100) return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
    let f = n.toFixed(6);
    f = f.replace(/0+$/, '').replace(/\.$/, '');
    out.push(f);
  }
  return { value: out.join(' ') };
}

/** replicaof: "<host> <port>" (or empty). */
function parseReplicaof(v: string): { value: string } | { error: string } {
  const parts = v.split(/\s+/).filter((x) => x !== '');
  if (parts.length === 0) return { value: '' };
  if (parts.length !== 2) return { error: 'wrong number of arguments' };
  if (!/^\d+$/.test(parts[1]) || Number(parts[1]) > 65535) return { error: 'Invalid master port' };
  return { value: `${parts[0]} ${Number(parts[1])}` };
}

const LLONG_MAX = 9223372036854775807n;
const ULLONG_MAX = 18446744073709551615n;

export const DIRECTIVES: Directive[] = [
  { name: 'port', type: 'int', default: '6379', min: 0, max: 65535, mutable: true },
  { name: 'bind', type: 'list', default: '127.0.0.1 -::1', mutable: true },
  { name: 'tcp-backlog', type: 'int', default: '511', min: 0, max: 2147483647, mutable: false },
  { name: 'tcp-keepalive', type: 'int', default: '300', min: 0, max: 2147483647, mutable: true },
  { name: 'timeout', type: 'int', default: '0', min: 0, max: 2147483647, mutable: true },
  { name: 'maxclients', type: 'int', default: '10000', min: 1, max: 4294967295, mutable: true, apply: (server) => applyMaxclients(server) },
  // Protected mode, the Unix socket and TLS (src/server/listeners.ts, src/server/tls.ts).
  { name: 'protected-mode', type: 'bool', default: 'yes', mutable: true },
  { name: 'unixsocket', type: 'string', default: '', mutable: false },
  { name: 'unixsocketperm', type: 'string', default: '0', mutable: false, parse: parseOctalPerm },
  { name: 'tls-port', type: 'int', default: '0', min: 0, max: 65535, mutable: true, apply: applyTls },
  { name: 'tls-cert-file', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-key-file', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-key-file-pass', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-ca-cert-file', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-ca-cert-dir', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-dh-params-file', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-auth-clients', type: 'enum', default: 'yes', values: ['no', 'yes', 'optional'], mutable: true, apply: applyTls },
  { name: 'tls-protocols', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-ciphers', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-ciphersuites', type: 'string', default: '', mutable: true, apply: applyTls },
  { name: 'tls-prefer-server-ciphers', type: 'bool', default: 'no', mutable: true, apply: applyTls },
  { name: 'tls-session-caching', type: 'bool', default: 'yes', mutable: true, apply: applyTls },
  { name: 'tls-session-cache-size', type: 'int', default: '20480', min: 0, max: 2147483647, mutable: true, apply: applyTls },
  { name: 'tls-session-cache-timeout', type: 'int', default: '300', min: 0, max: 2147483647, mutable: true, apply: applyTls },
  // Client eviction (src/server/limits.ts): bytes, or a percentage of maxmemory ("10%"); 0: off.
  { name: 'maxmemory-clients', type: 'string', default: '0', mutable: true, parse: parseMaxmemoryClients },
  { name: 'requirepass', type: 'string', default: '', mutable: true },
  // ACL (src/acl/acl.ts): the users file, the ACL LOG length, and what new users get for channels.
  { name: 'aclfile', type: 'string', default: '', mutable: false },
  { name: 'acllog-max-len', type: 'int', default: '128', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'acl-pubsub-default', type: 'enum', default: 'resetchannels', values: ['allchannels', 'resetchannels'], mutable: true },
  { name: 'databases', type: 'int', default: '16', min: 1, max: 2147483647, mutable: false },
  { name: 'hz', type: 'int', default: '10', min: 0, max: 2147483647, mutable: true, fix: (v) => String(Math.min(500, Math.max(1, Number(v)))) },
  { name: 'dynamic-hz', type: 'bool', default: 'yes', mutable: true },
  { name: 'active-expire-effort', type: 'int', default: '1', min: 1, max: 10, mutable: true },
  { name: 'loglevel', type: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'], mutable: true },
  { name: 'logfile', type: 'string', default: '', mutable: false },
  { name: 'pidfile', type: 'string', default: '', mutable: false },
  { name: 'daemonize', type: 'bool', default: 'no', mutable: false, check: notYet('daemonize yes') },
  { name: 'always-show-logo', type: 'bool', default: 'no', mutable: false },
  {
    name: 'dir',
    type: 'string',
    default: '',
    mutable: true,
    check: (v) => {
      if (v === '') return null;
      try {
        if (!statSync(v).isDirectory()) return 'Not a directory';
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
      }
      return null;
    },
    // The working directory (the command line chdirs into dir); an embedded server keeps its own absolute dir (src/index.ts).
    show: (v) => (isAbsolute(v) ? realDir(v) : process.cwd()),
    alwaysRewrite: true,
    protected: true,
  },
  // RDB persistence (src/persistence/manager.ts). Valkey's default save points (the embedding API defaults to "").
  { name: 'save', type: 'save', default: '3600 1 300 100 60 10000', mutable: true },
  { name: 'dbfilename', type: 'string', default: 'dump.rdb', mutable: true, protected: true, check: (v) => (v === '' || /[/\\]/.test(v) ? "dbfilename can't be a path, just a filename" : null) },
  { name: 'rdbcompression', type: 'bool', default: 'yes', mutable: true },
  { name: 'rdbchecksum', type: 'bool', default: 'yes', mutable: false },
  { name: 'stop-writes-on-bgsave-error', type: 'bool', default: 'yes', mutable: true },
  // fsync every 4 MB while a save / an AOF rewrite writes its file (src/persistence/fdsink.ts).
  { name: 'rdb-save-incremental-fsync', type: 'bool', default: 'yes', mutable: true },
  { name: 'aof-rewrite-incremental-fsync', type: 'bool', default: 'yes', mutable: true },
  // Testing aid as in Valkey: microseconds to wait per key in a background save.
  { name: 'rdb-key-save-delay', type: 'int', default: '0', min: 0, max: 2147483647, mutable: true, hidden: true },
  // Testing aid as in Valkey: microseconds to wait per key while loading an RDB file at start-up.
  { name: 'key-load-delay', type: 'int', default: '0', min: 0, max: 2147483647, mutable: true, hidden: true },
  // Append-only file (src/persistence/aof/). aof-use-rdb-preamble: the base file in RDB form (src/persistence/rdb/).
  { name: 'appendonly', type: 'bool', default: 'no', mutable: true, apply: (server) => server.aof.takeTurnOnError() },
  { name: 'appendfilename', type: 'string', default: 'appendonly.aof', mutable: false, check: (v) => (v === '' || /[/\\]/.test(v) || v === '.' || v === '..' ? 'appendfilename can\'t be a path, just a filename' : null) },
  { name: 'appenddirname', type: 'string', default: 'appendonlydir', mutable: false, check: (v) => (v === '' || /[/\\]/.test(v) || v === '.' || v === '..' ? 'appenddirname can\'t be a path, just a dirname' : null) },
  { name: 'appendfsync', type: 'enum', default: 'everysec', values: ['always', 'everysec', 'no'], mutable: true },
  { name: 'no-appendfsync-on-rewrite', type: 'bool', default: 'no', mutable: true },
  { name: 'auto-aof-rewrite-percentage', type: 'int', default: '100', min: 0, max: 2147483647, mutable: true },
  { name: 'auto-aof-rewrite-min-size', type: 'memory', default: '67108864', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'aof-load-truncated', type: 'bool', default: 'yes', mutable: true },
  { name: 'aof-use-rdb-preamble', type: 'bool', default: 'yes', mutable: true, check: (v) => (v === 'yes' && !rdbPreambleAvailable() ? 'aof-use-rdb-preamble yes (an RDB base file) needs the RDB module' : null) },
  { name: 'aof-timestamp-enabled', type: 'bool', default: 'no', mutable: true },
  // Valkey 8 frees lazily by default; here these choose the propagated form of expired keys (UNLINK or DEL).
  { name: 'lazyfree-lazy-expire', type: 'bool', default: 'yes', mutable: true },
  { name: 'lazyfree-lazy-server-del', type: 'bool', default: 'yes', mutable: true },
  // Evicted keys enter the propagation stream as UNLINK (yes, Valkey 8's default) or DEL (src/keyspace/evict.ts).
  { name: 'lazyfree-lazy-eviction', type: 'bool', default: 'yes', mutable: true },
  { name: 'maxmemory', type: 'memory', default: '0', min: 0, max: ULLONG_MAX, mutable: true },
  {
    name: 'maxmemory-policy',
    type: 'enum',
    default: 'noeviction',
    values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'],
    mutable: true,
  },
  // Eviction (src/keyspace/evict.ts): keys sampled per database, time budget per call, LFU counter tuning.
  { name: 'maxmemory-samples', type: 'int', default: '5', min: 1, max: 64, mutable: true },
  { name: 'maxmemory-eviction-tenacity', type: 'int', default: '10', min: 0, max: 100, mutable: true },
  { name: 'lfu-log-factor', type: 'int', default: '10', min: 0, max: 2147483647, mutable: true },
  { name: 'lfu-decay-time', type: 'int', default: '1', min: 0, max: 2147483647, mutable: true },
  // Command log (Valkey 8.1; SLOWLOG is its "slow" log) and latency monitor (src/server/commandlog.ts, latency.ts).
  { name: 'commandlog-execution-slower-than', aliases: ['slowlog-log-slower-than'], type: 'int', default: '10000', min: -1, max: LLONG_MAX, mutable: true },
  { name: 'commandlog-slow-execution-max-len', aliases: ['slowlog-max-len'], type: 'int', default: '128', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'commandlog-request-larger-than', type: 'int', default: '1048576', min: -1, max: LLONG_MAX, mutable: true },
  { name: 'commandlog-large-request-max-len', type: 'int', default: '128', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'commandlog-reply-larger-than', type: 'int', default: '1048576', min: -1, max: LLONG_MAX, mutable: true },
  { name: 'commandlog-large-reply-max-len', type: 'int', default: '128', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'latency-monitor-threshold', type: 'int', default: '0', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'latency-tracking', type: 'bool', default: 'yes', mutable: true },
  { name: 'latency-tracking-info-percentiles', type: 'list', default: '50 99 99.9', mutable: true, parse: parsePercentiles },
  { name: 'proto-max-bulk-len', type: 'memory', default: '536870912', min: 1024 * 1024, max: LLONG_MAX, mutable: true },
  { name: 'client-query-buffer-limit', type: 'memory', default: '1073741824', min: 1024 * 1024, max: LLONG_MAX, mutable: true },
  { name: 'enable-debug-command', type: 'enum', default: 'no', values: ['no', 'yes', 'local'], mutable: false },
  { name: 'enable-protected-configs', type: 'enum', default: 'no', values: ['no', 'yes', 'local'], mutable: false },
  // Lists: node size of listpack/quicklist (negative: 4/8/16/32/64 KB, positive: entries).
  { name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'], type: 'int', default: '-2', min: -2147483648, max: 2147483647, mutable: true },
  // Only 0 (no compression) until quicklist node compression is implemented.
  { name: 'list-compress-depth', type: 'int', default: '0', min: 0, max: 2147483647, mutable: true, check: (v) => (v === '0' ? null : 'list compression (list-compress-depth other than 0) is not implemented by Vireo yet') },
  // Valkey 8: "yes" makes the server present itself as Redis where it matters (INFO redis_mode).
  { name: 'extended-redis-compatibility', type: 'bool', default: 'no', mutable: true },
  // HyperLogLog: a sparse value longer than this is converted to dense (src/data/hll.ts).
  { name: 'hll-sparse-max-bytes', type: 'memory', default: '3000', min: 0, max: LLONG_MAX, mutable: true },
  // Set encodings (src/data/set.ts): intset / listpack thresholds.
  { name: 'set-max-intset-entries', type: 'int', default: '512', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'set-max-listpack-entries', type: 'int', default: '128', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'set-max-listpack-value', type: 'int', default: '64', min: 0, max: LLONG_MAX, mutable: true },
  // Hash encodings (src/data/hash.ts): listpack while at most this many fields, each field/value at most this long.
  { name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'], type: 'int', default: '512', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'], type: 'memory', default: '64', min: 0, max: LLONG_MAX, mutable: true },
  // Streams (src/data/stream.ts): XADD starts a new node once the node's listpack-sized bytes plus the new
  // entry's field and value lengths reach max-bytes (0: 1 GB), or once it took max-entries entries (0: no limit).
  { name: 'stream-node-max-bytes', type: 'memory', default: '4096', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'stream-node-max-entries', type: 'int', default: '100', min: 0, max: LLONG_MAX, mutable: true },
  // Sorted set encodings (src/data/zset.ts): listpack while at most this many members, each at most this long.
  { name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'], type: 'int', default: '128', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'], type: 'memory', default: '64', min: 0, max: LLONG_MAX, mutable: true },
  // "<class> <hard> <soft> <soft seconds>" groups; classes normal, replica (shown as slave), pubsub (src/server/pubsub.ts).
  // Client-side caching: keys remembered in the tracking table before random ones are invalidated (0: no limit).
  { name: 'tracking-table-max-keys', type: 'int', default: '1000000', min: 0, max: LLONG_MAX, mutable: true },
  // Scripts (src/scripting/): after this many ms other clients get -BUSY and SCRIPT/FUNCTION KILL may stop them.
  { name: 'busy-reply-threshold', aliases: ['lua-time-limit'], type: 'int', default: '5000', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'client-output-buffer-limit', type: 'list', default: DEFAULT_OBUF, mutable: true, parse: parseObufLimits },
  // Replication (src/replication/replication.ts). `replicaof <host> <port>` is read at start-up (REPLICAOF changes the role at run time).
  { name: 'replicaof', aliases: ['slaveof'], type: 'string', default: '', mutable: false, parse: parseReplicaof },
  { name: 'masterauth', type: 'string', default: '', mutable: true },
  { name: 'masteruser', type: 'string', default: '', mutable: true },
  { name: 'repl-backlog-size', type: 'memory', default: '1048576', min: 1, max: LLONG_MAX, mutable: true },
  { name: 'repl-backlog-ttl', type: 'int', default: '3600', min: 0, max: 2147483647, mutable: true },
  { name: 'repl-timeout', type: 'int', default: '60', min: 1, max: 2147483647, mutable: true },
  { name: 'repl-ping-replica-period', aliases: ['repl-ping-slave-period'], type: 'int', default: '10', min: 1, max: 2147483647, mutable: true },
  { name: 'repl-diskless-sync', type: 'bool', default: 'yes', mutable: true },
  { name: 'repl-diskless-sync-delay', type: 'int', default: '5', min: 0, max: 2147483647, mutable: true },
  { name: 'repl-diskless-sync-max-replicas', type: 'int', default: '0', min: 0, max: 2147483647, mutable: true },
  // yes: a replica's link leaves TCP_NODELAY off from its full sync on (fewer packets, up to ~40 ms more lag), as Valkey.
  { name: 'repl-disable-tcp-nodelay', type: 'bool', default: 'no', mutable: true },
  // Replica side (src/replication/sync-load.ts): load the RDB while it streams in (swapdb keeps the old data until the swap).
  { name: 'repl-diskless-load', type: 'enum', default: 'disabled', values: ['disabled', 'on-empty-db', 'swapdb'], mutable: true },
  { name: 'replica-read-only', aliases: ['slave-read-only'], type: 'bool', default: 'yes', mutable: true },
  { name: 'replica-serve-stale-data', aliases: ['slave-serve-stale-data'], type: 'bool', default: 'yes', mutable: true },
  { name: 'replica-priority', aliases: ['slave-priority'], type: 'int', default: '100', min: 0, max: 2147483647, mutable: true },
  { name: 'replica-announce-ip', aliases: ['slave-announce-ip'], type: 'string', default: '', mutable: true },
  { name: 'replica-announce-port', aliases: ['slave-announce-port'], type: 'int', default: '0', min: 0, max: 65535, mutable: true },
  { name: 'min-replicas-to-write', aliases: ['min-slaves-to-write'], type: 'int', default: '0', min: 0, max: 2147483647, mutable: true },
  { name: 'min-replicas-max-lag', aliases: ['min-slaves-max-lag'], type: 'int', default: '10', min: 0, max: 2147483647, mutable: true },
  // Keyspace notification classes (src/server/notify.ts); shown in canonical order ("KEA" -> "AKE").
  { name: 'notify-keyspace-events', type: 'string', default: '', mutable: true, parse: parseNotifyConfig, show: showNotifyConfig },
  // Cluster mode (src/cluster/cluster.ts).
  { name: 'cluster-enabled', type: 'bool', default: 'no', mutable: false },
  { name: 'cluster-config-file', type: 'string', default: 'nodes.conf', mutable: false },
  { name: 'cluster-node-timeout', type: 'int', default: '15000', min: 0, max: LLONG_MAX, mutable: true },
  { name: 'cluster-port', type: 'int', default: '0', min: 0, max: 65535, mutable: false },
  { name: 'cluster-announce-ip', type: 'string', default: '', mutable: true },
  { name: 'cluster-announce-port', type: 'int', default: '0', min: 0, max: 65535, mutable: true },
  { name: 'cluster-announce-bus-port', type: 'int', default: '0', min: 0, max: 65535, mutable: true },
  { name: 'cluster-announce-hostname', type: 'string', default: '', mutable: true, check: clusterAuxString },
  { name: 'cluster-announce-human-nodename', type: 'string', default: '', mutable: true, check: clusterAuxString },
  { name: 'cluster-require-full-coverage', type: 'bool', default: 'yes', mutable: true },
  { name: 'cluster-allow-reads-when-down', type: 'bool', default: 'no', mutable: true },
  { name: 'cluster-allow-pubsubshard-when-down', type: 'bool', default: 'yes', mutable: true },
  { name: 'cluster-replica-validity-factor', aliases: ['cluster-slave-validity-factor'], type: 'int', default: '10', min: 0, max: 2147483647, mutable: true },
  { name: 'cluster-replica-no-failover', aliases: ['cluster-slave-no-failover'], type: 'bool', default: 'no', mutable: true },
  { name: 'cluster-migration-barrier', type: 'int', default: '1', min: 0, max: 2147483647, mutable: true },
  { name: 'cluster-allow-replica-migration', type: 'bool', default: 'yes', mutable: true },
];

/** cluster-announce-hostname / human-nodename: characters that fit nodes.conf and the bus. */
function clusterAuxString(v: string): string | null {
  return /^[A-Za-z0-9._-]*$/.test(v) ? null : "Hostnames must be less than 256 characters and only contain alphanumeric characters, '-', '_' and '.'";
}

export const DIRECTIVE_BY_NAME = new Map<string, Directive>();
for (const d of DIRECTIVES) {
  DIRECTIVE_BY_NAME.set(d.name, d);
  for (const a of d.aliases ?? []) DIRECTIVE_BY_NAME.set(a, d);
}

/**
 * Parses "100", "100b", "1k", "1kb", "2mb", "1gb" (case-insensitive) like
 * Valkey's memtoull; null when malformed or beyond 64 bits.
 */
export function parseMemory(s: string): bigint | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const mul: Record<string, bigint> = { '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };
  const v = BigInt(m[1]) * mul[unit];
  return v > ULLONG_MAX ? null : v;
}

function outOfRange(d: Directive, n: bigint): boolean {
  return (d.min !== undefined && n < BigInt(d.min)) || (d.max !== undefined && n > BigInt(d.max));
}

/**
 * Normalizes and validates one directive's arguments. Returns the canonical string
 * value or an error message (Valkey's wording) as { error }.
 */
export function normalize(d: Directive, args: string[], current?: string): { value: string } | { error: string } {
  if (d.parse) return d.parse(args.join(' '), current);
  switch (d.type) {
    case 'bool': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const v = args[0].toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: "argument must be 'yes' or 'no'" };
      return finish(d, v);
    }
    case 'int': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      // Strict integer syntax, as Valkey's string2ll: no sign '+', no leading zeros, no units.
      const s = args[0];
      if (!/^(0|-?[1-9]\d*)$/.test(s)) return { error: "argument couldn't be parsed into an integer" };
      const n = BigInt(s);
      if (n > LLONG_MAX || n < -LLONG_MAX - 1n) return { error: "argument couldn't be parsed into an integer" };
      if (outOfRange(d, n)) return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      return finish(d, n.toString());
    }
    case 'memory': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const n = parseMemory(args[0]);
      if (n === null) return { error: 'argument must be a memory value' };
      if (outOfRange(d, n)) return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      return finish(d, n.toString());
    }
    case 'enum': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const v = args[0].toLowerCase();
      if (!d.values!.includes(v)) return { error: `argument(s) must be one of the following: ${d.values!.join(', ')}` };
      return finish(d, v);
    }
    case 'string':
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      return finish(d, args[0]);
    case 'list': {
      const parts = args.flatMap((a) => a.split(/[ \t]+/)).filter((x) => x !== '');
      if (parts.length < 1) return { error: 'wrong number of arguments' };
      return finish(d, parts.join(' '));
    }
    case 'save': {
      const parts = args.length === 1 ? args[0].split(/\s+/).filter((x) => x !== '') : args;
      if (parts.length % 2 !== 0) return { error: 'Invalid save parameters' };
      // Pairs of <seconds> <changes>: seconds at least 1, changes at least 0.
      for (let i = 0; i < parts.length; i++) {
        if (!/^\d+$/.test(parts[i]) || (i % 2 === 0 && Number(parts[i]) < 1)) return { error: 'Invalid save parameters' };
      }
      return finish(d, parts.join(' '));
    }
  }
}

function finish(d: Directive, v: string): { value: string } | { error: string } {
  if (d.check) {
    const e = d.check(v);
    if (e) return { error: e };
  }
  return { value: d.fix ? d.fix(v) : v };
}

/** Memory value the way CONFIG REWRITE writes it: 1gb, 100mb, 64kb or plain bytes. */
export function formatMemory(value: string | number | bigint): string {
  const n = BigInt(value);
  const units: [bigint, string][] = [
    [1024n ** 3n, 'gb'],
    [1024n ** 2n, 'mb'],
    [1024n, 'kb'],
  ];
  if (n !== 0n) for (const [u, name] of units) if (n % u === 0n) return `${n / u}${name}`;
  return n.toString();
}
