// Latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR) and per-command
// latency histograms (INFO latencystats, LATENCY HISTOGRAM), as Valkey's
// latency.c and its hdr_histogram use:
//
// - An event ("command", "fast-command", "expire-cycle", "eviction-cycle" ...)
//   gets a sample when it took at least latency-monitor-threshold ms (0: off).
//   Each event keeps the last 160 samples (one per second: a second's samples
//   merge, keeping the max) and its all-time max.
// - With latency-tracking yes, every command's duration (whole microseconds,
//   in ns, clamped to 1 ns .. 1 s) goes into an HDR-style histogram with two
//   significant digits: 128 sub-buckets per power of two (256 in the first),
//   so percentiles and the power-of-two CDF come out as Valkey's do.
import type { Command } from '../commands/table.js';

export const LATENCY_TS_LEN = 160;

export class LatencySeries {
  readonly time = new Int32Array(LATENCY_TS_LEN);
  readonly latency = new Uint32Array(LATENCY_TS_LEN);
  idx = 0;
  max = 0;

  add(now: number, ms: number): void {
    const prev = (this.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    if (this.time[prev] === now) {
      if (ms > this.latency[prev]) this.latency[prev] = ms;
      if (ms > this.max) this.max = ms;
      return;
    }
    this.time[this.idx] = now;
    this.latency[this.idx] = ms;
    if (ms > this.max) this.max = ms;
    this.idx = (this.idx + 1) % LATENCY_TS_LEN;
  }

  /** Samples in time order: [unix seconds, ms]. */
  samples(): [number, number][] {
    const out: [number, number][] = [];
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      const i = (this.idx + j) % LATENCY_TS_LEN;
      if (this.time[i] === 0) continue;
      out.push([this.time[i], this.latency[i]]);
    }
    return out;
  }

  /** The newest sample. */
  last(): [number, number] {
    const i = (this.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    return [this.time[i], this.latency[i]];
  }
}

export class LatencyMonitor {
  /** latency-monitor-threshold in ms (0: off). */
  threshold = 0;
  readonly events = new Map<string, LatencySeries>();

  /** Valkey's latencyAddSampleIfNeeded. */
  addIfNeeded(event: string, ms: number): void {
    if (this.threshold !== 0 && ms >= this.threshold) this.add(event, ms);
  }

  add(event: string, ms: number): void {
    let ts = this.events.get(event);
    if (ts === undefined) {
      ts = new LatencySeries();
      this.events.set(event, ts);
    }
    ts.add(Math.floor(Date.now() / 1000), Math.floor(ms));
  }

  /** Removes the named events (all when none named); returns how many existed. */
  reset(names: string[]): number {
    if (names.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const name of names) if (this.events.delete(name.toLowerCase())) n++;
    return n;
  }
}

// ------------------------------------------------------------------ histogram

const SUB_HALF = 128;
const SUB_COUNT = 256;
/** Highest value tracked: 1 s in ns (LATENCY_HISTOGRAM_MAX_VALUE). */
const MAX_NS = 1_000_000_000;
const BUCKETS = 23; // 256 << 22 > 1e9
const COUNTS = (BUCKETS + 1) * SUB_HALF;

function bucketOf(v: number): number {
  // floor(log2(v | 255)) - 7
  return 31 - Math.clz32(v | 255) - 7;
}

function countsIndex(v: number): number {
  const b = bucketOf(v);
  const sub = v >>> b;
  return (b + 1) * SUB_HALF + (sub - SUB_HALF);
}

function valueFromIndex(i: number): number {
  let b = (i >>> 7) - 1;
  let sub = (i & (SUB_HALF - 1)) + SUB_HALF;
  if (b < 0) {
    sub -= SUB_HALF;
    b = 0;
  }
  return sub * 2 ** b;
}

/** Highest value that lands in the same slot as v (hdr's highest_equivalent_value). */
function highestEquivalent(v: number): number {
  const b = bucketOf(v);
  const size = 2 ** b;
  return Math.floor(v / size) * size + size - 1;
}

/** Records a command duration given in ms (the dispatcher's clock). */
export function recordLatency(cmd: Command, ms: number): void {
  let h = cmd.latencyHist;
  if (h === null) h = cmd.latencyHist = new Float64Array(COUNTS + 1);
  // Valkey records whole microseconds, in ns.
  let ns = Math.floor(ms * 1000) * 1000;
  if (ns < 1) ns = 1;
  else if (ns > MAX_NS) ns = MAX_NS;
  h[countsIndex(ns)]++;
  h[COUNTS]++; // total
}

export function histTotal(h: Float64Array): number {
  return h[COUNTS];
}

/** hdr_value_at_percentile, in ns. */
export function valueAtPercentile(h: Float64Array, p: number): number {
  const total = h[COUNTS];
  const want = Math.max(1, Math.floor(((p < 100 ? p : 100) / 100) * total + 0.5));
  let seen = 0;
  let i = 0;
  for (; i < COUNTS; i++) {
    seen += h[i];
    if (seen >= want) break;
  }
  if (i === COUNTS) i = COUNTS - 1;
  const v = valueFromIndex(i);
  return p === 0 ? v : highestEquivalent(v);
}

/**
 * The cumulative distribution LATENCY HISTOGRAM shows: log2 steps from 1024 ns,
 * each as [highest equivalent value in us, cumulative count], only where the
 * count grew (hdr_iter_log with base 2, as Valkey's fillCommandCDF).
 */
export function cdfPow2(h: Float64Array): [number, number][] {
  const total = h[COUNTS];
  const out: [number, number][] = [];
  let step = 1024;
  let idx = 0;
  let cum = 0;
  let prev = 0;
  while (cum < total || prev < total) {
    const top = highestEquivalent(step);
    while (idx < COUNTS && valueFromIndex(idx) <= top) cum += h[idx++];
    if (cum > prev) out.push([Math.floor(top / 1000), cum]);
    prev = cum;
    if (cum >= total) break;
    step *= 2;
    if (step > MAX_NS * 4) break;
  }
  return out;
}

/** "%f" with trailing zeros (and a trailing dot) trimmed, as Valkey prints percentile names. */
export function trimDouble(n: number): string {
  let s = n.toFixed(6);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}
