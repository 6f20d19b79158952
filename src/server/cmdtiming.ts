// Command durations for INFO commandstats (usec), INFO latencystats, the slow
// log and the latency monitor, without a clock read per pipelined command.
//
// Valkey reads the clock around every command. Here the dispatcher reads it
// (performance.now()) once when a client's batch of pipelined commands starts
// (Client.processInput) and then at the end of every command, so the end of one
// is the start of the next. Inside a batch, a command flagged FAST in the
// command table (O(1): PING, GET, SET, INCR, PUBLISH, ...) does not read the
// clock at all: it is counted at once (calls, failed_calls stay exact) and put
// on a short list; the next clock read (the end of the next command that is
// timed on its own, the end of the batch, or anyone restarting the clock, see
// Server.callClock) shares the time since the previous read evenly among the
// listed commands: their usec, their latency histogram entries and the slow log
// / latency monitor look at that share. So commandstats usec is measured per
// batch and apportioned for FAST commands; the total over a batch is the
// measured one.
//
// A command's share can only be under a threshold when the whole stretch it
// belongs to is, so nothing is missed while stretches stay under the
// thresholds; deferral is off altogether while the slow log or the latency
// monitor threshold is under DEFER_MIN_MS (e.g. slowlog-log-slower-than 0 logs
// every command with its own duration). A stretch that reaches a threshold (a
// GC pause, a very large value) logs each of its commands whose share does.
import type { Client } from './client.js';
import type { Server } from './server.js';
import type { Command } from '../commands/table.js';
import { recordLatency } from './latency.js';

/** Deferral needs the slow log and latency monitor thresholds (ms) at or above this. */
export const DEFER_MIN_MS = 1;
/** Commands deferred at most before the clock is read anyway. */
const MAX_DEFERRED = 256;

export class CommandTiming {
  /** True while a client's batch runs (Client.processInput): only then are FAST commands deferred. */
  batching = false;
  /** Commands counted but not yet timed. */
  n = 0;
  private readonly cmds: (Command | undefined)[] = new Array(MAX_DEFERRED).fill(undefined);
  private readonly clients: (Client | undefined)[] = new Array(MAX_DEFERRED).fill(undefined);
  private readonly argvs: (string[] | undefined)[] = new Array(MAX_DEFERRED).fill(undefined);

  /** Lists a command that ran without reading the clock; false when the list is full (time it now instead). */
  defer(c: Client, cmd: Command, argv: string[]): boolean {
    const i = this.n;
    if (i === MAX_DEFERRED) return false;
    this.cmds[i] = cmd;
    this.clients[i] = c;
    this.argvs[i] = argv;
    this.n = i + 1;
    return true;
  }

  /**
   * Shares the time from `fromMs` to `toMs` among the deferred commands and
   * empties the list. Returns each one's share (ms).
   */
  settle(server: Server, fromMs: number, toMs: number): number {
    const share = toMs > fromMs ? (toMs - fromMs) / this.n : 0;
    this.settleShare(server, share);
    return share;
  }

  /**
   * A stretch of `ms` covers the deferred commands and one more (the caller's):
   * settles the deferred ones with their share and returns the caller's.
   */
  shareWith(server: Server, ms: number): number {
    if (this.n === 0) return ms;
    const share = ms > 0 ? ms / (this.n + 1) : 0;
    this.settleShare(server, share);
    return share;
  }

  private settleShare(server: Server, share: number): void {
    const n = this.n;
    this.n = 0;
    const usec = share * 1000;
    const ins = server.insight;
    const tracking = ins.tracking;
    const look = share >= ins.slowMs;
    for (let i = 0; i < n; i++) {
      const cmd = this.cmds[i]!;
      cmd.usec += usec;
      if (tracking) recordLatency(cmd, share);
      if (look) ins.observe(this.clients[i]!, cmd, this.argvs[i]!, share, 0);
      this.clients[i] = undefined;
      this.argvs[i] = undefined;
    }
  }
}
