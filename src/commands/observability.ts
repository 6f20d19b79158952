// SLOWLOG, COMMANDLOG (Valkey 8.1) and LATENCY: what the dispatcher recorded
// into server.insight (src/server/commandlog.ts, src/server/latency.ts).
import { readFileSync } from 'node:fs';
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { replyHelp } from './connection.js';
import { parseInt64 } from '../util/numbers.js';
import { CMDLOG_SLOW, CMDLOG_TYPES, type CommandLog } from '../server/commandlog.js';
import { cdfPow2, histTotal, type LatencySeries } from '../server/latency.js';
import type { Command, MetaEntry } from './table.js';

const E_COUNT = 'ERR count should be greater than or equal to -1';
const E_TYPE = 'ERR type should be one of the following: slow, large-request, large-reply';

function replyEntries(c: Client, log: CommandLog, count: number): void {
  const e = log.entries;
  const n = Math.min(count, e.length);
  c.addArrayLen(n);
  for (let i = 0; i < n; i++) {
    const x = e[e.length - 1 - i]; // newest first
    c.addArrayLen(6);
    c.addInt(x.id);
    c.addInt(x.time);
    c.addInt(x.value);
    c.addArrayLen(x.argv.length);
    for (const a of x.argv) c.addBulk(a);
    c.addBulk(x.peer);
    c.addBulk(x.name);
  }
}

/** A count argument: -1 (all) .. LONG_MAX, with Valkey's message for anything else. */
function parseCount(c: Client, arg: string, log: CommandLog): number | null {
  const p = parseInt64(arg);
  const v = p === null ? null : BigInt(p);
  if (v === null || v < -1n) {
    c.addError(E_COUNT);
    return null;
  }
  return v === -1n ? log.entries.length : Number(v);
}

// ------------------------------------------------------------------ SLOWLOG

const SLOWLOG_HELP = [
  'GET [<count>]',
  '    Return the <count> newest entries of the slow log (default 10, -1 for all).',
  '    An entry is: id, unix time, duration in microseconds, the arguments,',
  '    client address and port, client name.',
  'LEN',
  '    Return the number of entries in the slow log.',
  'RESET',
  '    Empty the slow log.',
];

function slowlogGet(c: Client, argv: string[]): void {
  const log = c.server.insight.logs[CMDLOG_SLOW];
  if (argv.length > 3) {
    c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
    return;
  }
  let count = 10;
  if (argv.length === 3) {
    const n = parseCount(c, argv[2], log);
    if (n === null) return;
    count = n;
  }
  replyEntries(c, log, count);
}

// ------------------------------------------------------------------ COMMANDLOG

const COMMANDLOG_HELP = [
  'GET <count> <type>',
  '    Return the <count> newest entries of the <type> log (-1 for all).',
  '    An entry is: id, unix time, the value (microseconds for slow,',
  '    bytes for large-request and large-reply), the arguments,',
  '    client address and port, client name.',
  'LEN <type>',
  '    Return the number of entries in the <type> log.',
  'RESET <type>',
  '    Empty the <type> log.',
];

function logOfType(c: Client, arg: string): CommandLog | null {
  const i = CMDLOG_TYPES.indexOf(arg.toLowerCase());
  if (i < 0) {
    c.addError(E_TYPE);
    return null;
  }
  return c.server.insight.logs[i];
}

function commandlogGet(c: Client, argv: string[]): void {
  const log = logOfType(c, argv[3]);
  if (log === null) return;
  const n = parseCount(c, argv[2], log);
  if (n === null) return;
  replyEntries(c, log, n);
}

// ------------------------------------------------------------------ LATENCY

const LATENCY_HELP = [
  'DOCTOR',
  '    A report, for humans, on the latency events recorded.',
  'GRAPH <event>',
  '    An ASCII chart of the samples of <event>.',
  'HISTORY <event>',
  '    The samples of <event>: unix time and milliseconds.',
  'LATEST',
  '    For every event: time and latency of its newest sample, and its maximum.',
  'RESET [<event> ...]',
  '    Forget the samples of the named events (all events when none is named).',
  'HISTOGRAM [COMMAND ...]',
  '    Per command, the number of calls and the cumulative latency distribution',
  '    (microseconds, powers of two); every command that ran when none is named.',
];

function latencyLatest(c: Client): void {
  const ev = c.server.insight.latency.events;
  c.addArrayLen(ev.size);
  for (const [name, ts] of ev) {
    const [time, ms] = ts.last();
    c.addArrayLen(4);
    c.addBulk(name);
    c.addInt(time);
    c.addInt(ms);
    c.addInt(ts.max);
  }
}

function latencyHistory(c: Client, argv: string[]): void {
  const ts = c.server.insight.latency.events.get(argv[2]);
  const s = ts === undefined ? [] : ts.samples();
  c.addArrayLen(s.length);
  for (const [t, ms] of s) {
    c.addArrayLen(2);
    c.addInt(t);
    c.addInt(ms);
  }
}

function latencyReset(c: Client, argv: string[]): void {
  c.addInt(c.server.insight.latency.reset(argv.slice(2)));
}

function agoLabel(sec: number): string {
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h`;
  return `${Math.floor(sec / 86400)}d`;
}

const GRAPH_ROWS = 4;
const GRAPH_COLS = 80;

/**
 * The chart: a title with high/low/all-time high, a rule, then one column per
 * sample (newest right, at most 80), 4 rows high, scaled between the lowest
 * and highest sample, and under each column how long ago it was, written
 * vertically.
 */
export function latencyGraph(name: string, ts: LatencySeries, nowSec: number): string {
  const samples = ts.samples().slice(-GRAPH_COLS);
  let min = Infinity;
  let max = 0;
  for (const [, ms] of samples) {
    if (ms < min) min = ms;
    if (ms > max) max = ms;
  }
  let out = `${name} - high ${max} ms, low ${min} ms (all time high ${ts.max} ms)\n`;
  out += '-'.repeat(GRAPH_COLS) + '\n';
  const levels = samples.map(([, ms]) => (max === min ? GRAPH_ROWS : 1 + Math.round(((ms - min) * (GRAPH_ROWS - 1)) / (max - min))));
  for (let row = GRAPH_ROWS; row >= 1; row--) {
    let line = '';
    for (const lv of levels) line += lv > row ? '|' : lv === row ? '#' : ' ';
    out += line.replace(/ +$/, '') + '\n';
  }
  const labels = samples.map(([t]) => agoLabel(Math.max(0, nowSec - t)));
  const h = Math.max(0, ...labels.map((l) => l.length));
  for (let r = 0; r < h; r++) {
    let line = '';
    for (const l of labels) line += r < l.length ? l[r] : ' ';
    out += line.replace(/ +$/, '') + '\n';
  }
  return out;
}

function latencyGraphCmd(c: Client, argv: string[]): void {
  const ts = c.server.insight.latency.events.get(argv[2]);
  if (ts === undefined) {
    c.addError(`ERR No samples available for event '${argv[2]}'`);
    return;
  }
  c.addVerbatim(latencyGraph(argv[2], ts, Math.floor(Date.now() / 1000)));
}

/** Per event: spikes, average, mean absolute deviation, period (s), as Valkey's analysis does. */
function analyze(ts: LatencySeries, nowSec: number): { n: number; avg: number; mad: number; period: number } {
  const s = ts.samples();
  if (s.length === 0) return { n: 0, avg: 0, mad: 0, period: 0 };
  let sum = 0;
  let oldest = Infinity;
  for (const [t, ms] of s) {
    sum += ms;
    if (t < oldest) oldest = t;
  }
  const avg = Math.floor(sum / s.length);
  let dev = 0;
  for (const [, ms] of s) dev += Math.abs(avg - ms);
  return { n: s.length, avg, mad: Math.floor(dev / s.length), period: Math.max(1, nowSec - oldest) };
}

// LATENCY DOCTOR's report, worded as Valkey's (the same sentences, so that
// what users and tools expect from Valkey reads the same here). Advice keys
// per event follow Valkey's analysis; "fork" has none here (no fork).
const ADVICE: Record<string, string[]> = {
  'fast-command': ['scheduler'],
  'aof-write-pending-fsync': ['local-disk', 'disk-contention', 'ssd', 'writeback'],
  'aof-write-active-child': ['no-appendfsync', 'writeback', 'ssd'],
  'aof-write-alone': ['local-disk', 'writeback', 'ssd'],
  'aof-fsync-always': ['relax-fsync'],
  'aof-fstat': ['disk-contention', 'local-disk'],
  'rdb-unlink-temp-file': ['disk-contention', 'local-disk'],
  'aof-rewrite-diff-write': ['write-load', 'writeback', 'ssd', 'local-disk'],
  'aof-rename': ['write-load', 'writeback', 'ssd', 'local-disk'],
  'expire-cycle': ['hz', 'large-objects'],
  'eviction-del': ['large-objects'],
  'eviction-cycle': ['mass-eviction'],
};

/** Bytes of transparent huge pages the process uses (Linux; 0 elsewhere). */
function anonHugePages(): number {
  try {
    const m = /^AnonHugePages:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'latin1'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

export function latencyDoctor(server: Server): string {
  const lat = server.insight.latency;
  if (lat.events.size === 0 && lat.threshold === 0) {
    return 'I\'m sorry, Dave, I can\'t do that. Latency monitoring is disabled in this Valkey instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it.\n';
  }
  const now = Math.floor(Date.now() / 1000);
  const slow = server.insight.logs[CMDLOG_SLOW];
  const advise = new Set<string>();
  let out = '';
  let i = 0;
  for (const [name, ts] of lat.events) {
    const a = analyze(ts, now);
    if (++i === 1) out += 'Latency spikes are observed in this Valkey instance.\n\n';
    out += `${i}. ${name}: ${a.n} latency spikes (average ${a.avg}ms, mean deviation ${a.mad}ms, period ${(a.period / a.n).toFixed(2)} sec). Worst all time event ${ts.max}ms.\n`;
    if (name === 'command') {
      if (!slow.on) advise.add('slowlog-enable');
      else if (slow.threshold / 1000 > lat.threshold) advise.add('slowlog-tune');
      advise.add('slowlog-inspect').add('large-objects');
    }
    for (const k of ADVICE[name] ?? []) advise.add(k);
  }
  if (anonHugePages() > 0) advise.add('thp');
  if (i === 0 && advise.size === 0) return 'No latency spike was observed during the lifetime of this Valkey instance, not in the slightest bit.\n';
  if (advise.size === 0) return out + '\nThere are latency events logged that are not easy to fix. Please get some help from Valkey community, providing this report in your help request.\n';
  out += '\nHere is some advice for you:\n\n';
  const t = lat.threshold * 1000;
  const has = (k: string): boolean => advise.has(k);
  if (has('slowlog-enable')) out += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Valkey feature using the command 'CONFIG SET slowlog-log-slower-than ${t}'. If the Slow log is disabled Valkey is not able to log slow commands execution for you.\n`;
  if (has('slowlog-tune')) out += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${t}'.\n`;
  if (has('slowlog-inspect')) out += '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://valkey.io/commands/slowlog for more information.\n';
  if (has('scheduler')) {
    out += '- The system is slow to execute Valkey code paths not containing system calls. This usually means the system does not provide Valkey CPU time to run for long periods. You should try to:\n'
      + '  1) Lower the system load.\n'
      + '  2) Use a computer / VM just for Valkey if you are running other software in the same system.\n'
      + '  3) Check if you have a "noisy neighbour" problem.\n'
      + '  4) Check with \'valkey-cli --intrinsic-latency 100\' what is the intrinsic latency in your system.\n'
      + '  5) Check if the problem is allocator-related by recompiling Valkey with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n';
  }
  if (has('local-disk')) out += '- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n';
  if (has('ssd')) out += '- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Valkey should perform reasonably with high load using normal disks. Use this advice as a last resort.\n';
  if (has('writeback')) out += '- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Valkey restarts.\n';
  if (has('disk-contention')) out += '- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Valkey instances).\n';
  if (has('no-appendfsync')) out += '- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the \'no-appendfsync-on-rewrite\' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n';
  if (has('relax-fsync') && server.config.get('appendfsync') === 'always') out += '- Your fsync policy is set to \'always\'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to \'onesec\'.\n';
  if (has('write-load')) out += '- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n';
  if (has('hz') && server.config.num('hz') < 100) out += '- In order to make the Valkey keys expiring process more incremental, try to set the \'hz\' configuration parameter to 100 using \'CONFIG SET hz 100\'.\n';
  if (has('large-objects')) out += '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
  if (has('mass-eviction')) out += '- Sudden changes to the \'maxmemory\' setting via \'CONFIG SET\', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Valkey Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n';
  if (has('thp')) out += '- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Valkey is persisting on disk. To disable THP support use the command \'echo never > /sys/kernel/mm/transparent_hugepage/enabled\', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Valkey process to get rid of the huge pages already created.\n';
  return out;
}

function addCdf(c: Client, cmd: Command): void {
  const h = cmd.latencyHist!;
  c.addBulk(cmd.fullname);
  c.addMapLen(2);
  c.addBulk('calls');
  c.addInt(histTotal(h));
  c.addBulk('histogram_usec');
  const cdf = cdfPow2(h);
  c.addMapLen(cdf.length);
  for (const [us, n] of cdf) {
    c.addInt(us);
    c.addInt(n);
  }
}

function latencyHistogram(c: Client, argv: string[]): void {
  const table = c.server.table;
  const picked: Command[] = [];
  const take = (cmd: Command) => {
    if (cmd.latencyHist !== null && histTotal(cmd.latencyHist) > 0) picked.push(cmd);
    if (cmd.subcommands !== null) for (const s of cmd.subcommands.values()) if (s.latencyHist !== null && histTotal(s.latencyHist) > 0) picked.push(s);
  };
  if (argv.length === 2) for (const cmd of table.all) take(cmd);
  else {
    for (let j = 2; j < argv.length; j++) {
      const cmd = table.lookupFull(argv[j]);
      if (cmd !== undefined) take(cmd);
    }
  }
  c.addMapLen(picked.length);
  for (const cmd of picked) addCdf(c, cmd);
}

export const commands: HandlerMap = {
  'slowlog|get': slowlogGet,
  'slowlog|len': (c) => c.addInt(c.server.insight.logs[CMDLOG_SLOW].entries.length),
  'slowlog|reset': (c) => {
    c.server.insight.logs[CMDLOG_SLOW].reset();
    c.addOK();
  },
  'slowlog|help': (c, argv) => replyHelp(c, argv[0], SLOWLOG_HELP),
  'commandlog|get': commandlogGet,
  'commandlog|len': (c, argv) => {
    const log = logOfType(c, argv[2]);
    if (log !== null) c.addInt(log.entries.length);
  },
  'commandlog|reset': (c, argv) => {
    const log = logOfType(c, argv[2]);
    if (log === null) return;
    log.reset();
    c.addOK();
  },
  'commandlog|help': (c, argv) => replyHelp(c, argv[0], COMMANDLOG_HELP),
  'latency|latest': latencyLatest,
  'latency|history': latencyHistory,
  'latency|reset': latencyReset,
  'latency|graph': latencyGraphCmd,
  'latency|doctor': (c) => c.addVerbatim(latencyDoctor(c.server)),
  'latency|histogram': latencyHistogram,
  'latency|help': (c, argv) => replyHelp(c, argv[0], LATENCY_HELP),
};

const sub = (name: string, arity: number, complexity: string, flags: string[], tips: string[], args?: MetaEntry['args']): MetaEntry => ({
  name: `commandlog|${name}`,
  arity,
  group: 'server',
  since: '8.1.0',
  complexity,
  flags,
  acl: [],
  tips,
  keySpecs: [],
  ...(args ? { args } : {}),
});

/** COMMANDLOG is newer than the reference command table (Valkey 8.1); its metadata, from commandlog-*.json. */
export const COMMANDLOG_META: Record<string, MetaEntry> = {
  commandlog: {
    name: 'commandlog',
    arity: -2,
    group: 'server',
    since: '8.1.0',
    complexity: 'Depends on subcommand.',
    flags: [],
    acl: [],
    tips: [],
    keySpecs: [],
    subcommands: {
      get: sub('get', 4, 'O(N) where N is the number of entries returned', ['admin', 'loading', 'stale'], ['request_policy:all_nodes', 'nondeterministic_output'], [
        { name: 'count', type: 'integer' },
        {
          name: 'type',
          type: 'oneof',
          arguments: [
            { name: 'slow', type: 'pure-token', token: 'slow' },
            { name: 'large-request', type: 'pure-token', token: 'large-request' },
            { name: 'large-reply', type: 'pure-token', token: 'large-reply' },
          ],
        },
      ]),
      help: sub('help', 2, 'O(1)', ['loading', 'stale'], []),
      len: sub('len', 3, 'O(1)', ['admin', 'loading', 'stale'], ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'], [
        {
          name: 'type',
          type: 'oneof',
          arguments: [
            { name: 'slow', type: 'pure-token', token: 'slow' },
            { name: 'large-request', type: 'pure-token', token: 'large-request' },
            { name: 'large-reply', type: 'pure-token', token: 'large-reply' },
          ],
        },
      ]),
      reset: sub('reset', 3, 'O(N) where N is the number of entries in the commandlog', ['admin', 'loading', 'stale'], ['request_policy:all_nodes', 'response_policy:all_succeeded'], [
        {
          name: 'type',
          type: 'oneof',
          arguments: [
            { name: 'slow', type: 'pure-token', token: 'slow' },
            { name: 'large-request', type: 'pure-token', token: 'large-request' },
            { name: 'large-reply', type: 'pure-token', token: 'large-reply' },
          ],
        },
      ]),
    },
  },
};
