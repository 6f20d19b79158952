// SLOWLOG, COMMANDLOG (Valkey 8.1) and LATENCY: what the dispatcher recorded
// into server.insight (src/server/commandlog.ts, src/server/latency.ts).
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

export function latencyDoctor(server: Server): string {
  const lat = server.insight.latency;
  if (lat.events.size === 0 && lat.threshold === 0) {
    return 'Latency monitoring is off (latency-monitor-threshold is 0), so there is nothing to report. Turn it on with "CONFIG SET latency-monitor-threshold <milliseconds>".\n';
  }
  if (lat.events.size === 0) return 'No latency spike has been recorded since this server started.\n';
  const now = Math.floor(Date.now() / 1000);
  let out = 'Latency spikes were recorded on this server.\n\n';
  const advice = new Set<string>();
  const slow = server.insight.logs[CMDLOG_SLOW];
  let i = 0;
  for (const [name, ts] of lat.events) {
    const a = analyze(ts, now);
    i++;
    out += `${i}. ${name}: ${a.n} latency spikes (average ${a.avg}ms, mean deviation ${a.mad}ms, period ${(a.period / a.n).toFixed(2)} sec). Worst all time event ${ts.max}ms.\n`;
    if (name === 'command') {
      if (!slow.on) advice.add(`- The slow log is off: enable it ("CONFIG SET slowlog-log-slower-than ${lat.threshold * 1000}") to see which commands are slow.`);
      else if (slow.threshold / 1000 > lat.threshold) advice.add(`- The slow log only keeps commands slower than the latency threshold; "CONFIG SET slowlog-log-slower-than ${lat.threshold * 1000}" makes them match.`);
      advice.add('- SLOWLOG GET shows the slow commands; O(N) commands on large values (KEYS, SMEMBERS, LRANGE 0 -1, DEL of big keys) are the usual cause.');
    }
    if (name === 'fast-command') advice.add('- O(1) and O(log N) commands were slow: the process may lack CPU (other processes, a busy host, garbage collection pauses of the JavaScript runtime).');
    if (name === 'expire-cycle') advice.add('- The active expire cycle was slow: many keys expiring at the same time, or large keys being freed; spread the expire times.');
    if (name === 'eviction-cycle') advice.add('- Eviction had to free a lot at once: the write load runs into maxmemory; raise maxmemory or lower the write rate.');
  }
  if (advice.size === 0) return out + '\nThese events have no specific advice.\n';
  out += '\nAdvice:\n\n' + [...advice].join('\n') + '\n';
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
