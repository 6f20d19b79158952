// The command log (Valkey 8.1): three logs of the latest commands that were
// slow (execution time, us), had a large request (bytes) or a large reply
// (bytes). SLOWLOG is the "slow" log. Entries are shaped as Valkey's: id,
// unix time, value, the arguments (at most 32: the last one then says
// "... (N more arguments)"; strings longer than 128 bytes are cut with
// "... (N more bytes)"; credentials replaced by "(redacted)"), client address
// and client name.
//
// The dispatcher calls Introspection.observe() only when a threshold may be
// crossed: one comparison of the duration it already computed, one of the
// bytes the reply grew by, and one of the bytes the client ever sent (the
// request size is added up only for clients that sent that much).
import type { Client } from './client.js';
import type { Config } from '../config/config.js';
import { CMD, type Command } from '../commands/table.js';
import { LatencyMonitor } from './latency.js';

export const CMDLOG_SLOW = 0;
export const CMDLOG_LARGE_REQUEST = 1;
export const CMDLOG_LARGE_REPLY = 2;
export const CMDLOG_TYPES = ['slow', 'large-request', 'large-reply'];

const MAX_ARGC = 32;
const MAX_STRING = 128;

export interface CommandLogEntry {
  id: number;
  time: number;
  value: number;
  argv: string[];
  peer: string;
  name: string;
}

export class CommandLog {
  /** Newest last. */
  entries: CommandLogEntry[] = [];
  nextId = 0;
  /** Threshold (us or bytes); -1: off. */
  threshold = -1;
  maxLen = 128;

  get on(): boolean {
    return this.threshold >= 0 && this.maxLen > 0;
  }

  push(c: Client, argv: string[], value: number, redactFrom: number, redactTo: number): void {
    if (!this.on) return;
    if (value >= this.threshold) {
      this.entries.push({
        id: this.nextId++,
        time: Math.floor(Date.now() / 1000),
        value,
        argv: entryArgs(argv, redactFrom, redactTo),
        peer: c.addr,
        name: c.name,
      });
    }
    this.trim();
  }

  trim(): void {
    const over = this.entries.length - this.maxLen;
    if (over > 0) this.entries.splice(0, over);
  }

  reset(): void {
    this.entries = [];
  }
}

function entryArgs(argv: string[], redactFrom: number, redactTo: number): string[] {
  const argc = argv.length;
  const n = Math.min(argc, MAX_ARGC);
  const out: string[] = [];
  for (let j = 0; j < n; j++) {
    if (n !== argc && j === n - 1) {
      out.push(`... (${argc - n + 1} more arguments)`);
    } else if (j >= redactFrom && j <= redactTo) {
      out.push('(redacted)');
    } else {
      const a = argv[j];
      out.push(a.length > MAX_STRING ? `${a.slice(0, MAX_STRING)}... (${a.length - MAX_STRING} more bytes)` : a);
    }
  }
  return out;
}

/** Arguments that carry credentials: [from, to] (to < from: none). */
export function redactedRange(fullname: string, argv: string[]): [number, number] {
  if (fullname === 'auth') return [1, argv.length - 1];
  if (fullname === 'hello') {
    for (let i = 2; i + 2 < argv.length; i++) if (argv[i].toLowerCase() === 'auth') return [i + 1, i + 2];
  }
  if (fullname === 'migrate') {
    for (let i = 6; i < argv.length; i++) {
      const t = argv[i].toLowerCase();
      if (t === 'auth') return [i + 1, i + 1];
      if (t === 'auth2') return [i + 1, i + 2];
    }
  }
  return [argv.length, -1];
}

/** Bytes of the request in RESP multibulk form. */
export function requestBytes(argv: string[]): number {
  let n = 3 + String(argv.length).length;
  for (let i = 0; i < argv.length; i++) {
    const l = argv[i].length;
    n += l + 5 + (l < 10 ? 1 : l < 100 ? 2 : String(l).length);
  }
  return n;
}

/**
 * What the dispatcher feeds after each command: the command logs, the latency
 * monitor and the latency histograms, with their config read into plain
 * fields so that the per-command test is a comparison or two.
 */
export class Introspection {
  readonly logs: CommandLog[] = [new CommandLog(), new CommandLog(), new CommandLog()];
  readonly latency = new LatencyMonitor();
  /** latency-tracking (per-command histograms). */
  tracking = true;
  percentiles: number[] = [50, 99, 99.9];
  /** Durations (ms) at or above this need a look: min(slow log threshold, latency monitor threshold). */
  slowMs = Infinity;
  /** Reply sizes at or above this need a look (large-reply log). */
  replyBytes = Infinity;
  /** Request sizes at or above this need a look (large-request log). */
  requestBytes = Infinity;

  configure(cfg: Config): void {
    const [slow, req, reply] = this.logs;
    slow.threshold = cfg.num('commandlog-execution-slower-than');
    slow.maxLen = cfg.num('commandlog-slow-execution-max-len');
    req.threshold = cfg.num('commandlog-request-larger-than');
    req.maxLen = cfg.num('commandlog-large-request-max-len');
    reply.threshold = cfg.num('commandlog-reply-larger-than');
    reply.maxLen = cfg.num('commandlog-large-reply-max-len');
    for (const l of this.logs) l.trim();
    this.latency.threshold = cfg.num('latency-monitor-threshold');
    this.tracking = cfg.bool('latency-tracking');
    const p = cfg.get('latency-tracking-info-percentiles');
    this.percentiles = p === '' ? [] : p.split(' ').map(Number);
    const slowLogMs = slow.on ? slow.threshold / 1000 : Infinity;
    const latMs = this.latency.threshold !== 0 ? this.latency.threshold : Infinity;
    this.slowMs = Math.min(slowLogMs, latMs);
    this.replyBytes = reply.on ? Math.max(reply.threshold, 0) : Infinity;
    this.requestBytes = req.on ? Math.max(req.threshold, 0) : Infinity;
  }

  /**
   * After a command that may cross a threshold. `dtMs` is the duration the
   * dispatcher measured, `replyBytes` what the command added to the reply buffer.
   */
  observe(c: Client, cmd: Command, argv: string[], dtMs: number, replyBytes: number): void {
    const lat = this.latency;
    if (lat.threshold !== 0 && dtMs >= lat.threshold) lat.add((cmd.flags & CMD.FAST) !== 0 ? 'fast-command' : 'command', dtMs);
    if ((cmd.flags & CMD.SKIP_SLOWLOG) !== 0) return;
    const [slow, req, reply] = this.logs;
    const [rf, rt] = redactedRange(cmd.fullname, argv);
    const us = Math.floor(dtMs * 1000);
    if (slow.on && us >= slow.threshold) slow.push(c, argv, us, rf, rt);
    // Bytes received since the end of the last measured request bound this
    // request's size: measure only when that could reach the threshold.
    if (req.on && c.totNetIn - c.reqMark >= req.threshold) {
      c.reqMark = c.totNetIn - c.parser.pending();
      const n = requestBytes(argv);
      if (n >= req.threshold) req.push(c, argv, n, rf, rt);
    }
    if (reply.on && replyBytes >= reply.threshold) reply.push(c, argv, replyBytes, rf, rt);
  }
}
