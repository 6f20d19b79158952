// Event-loop statistics for INFO stats: eventloop_cycles, eventloop_duration_sum,
// instantaneous_eventloop_cycles_per_sec and instantaneous_eventloop_duration_usec
// (total_reads_processed / total_writes_processed are counted by the client's
// read and write paths).
//
// Valkey counts the turns of its ae loop. Node does not expose libuv's
// iteration count, so a turn is counted when it does server work: the first
// socket read (or cron tick) of a turn opens it and schedules a setImmediate,
// which runs in the same turn's check phase, after the poll phase's I/O
// callbacks, and closes it. Its duration (first callback to check phase) is
// the time the turn spent working, as Valkey's cycle duration excludes the
// sleep in epoll_wait. Cost: one flag test per read, one setImmediate per turn.
import { performance } from 'node:perf_hooks';
import type { Server } from './server.js';

/** True while a counted turn is open. */
export const turn = { open: false };
let openServer: Server | null = null;
let openedAt = 0;

function closeTurn(): void {
  turn.open = false;
  const s = openServer;
  openServer = null;
  if (s !== null) s.stats.eventloopUsec += (performance.now() - openedAt) * 1000;
}

/** Counts the current event-loop turn (call only when turn.open is false). */
export function openTurn(s: Server): void {
  turn.open = true;
  openServer = s;
  openedAt = performance.now();
  s.stats.eventloopCycles++;
  setImmediate(closeTurn);
}

/** Instantaneous cycles per second and microseconds per cycle: 16 samples, as Valkey's instantaneous metrics. */
const SAMPLES = 16;
const cycleSamples = new Float64Array(SAMPLES);
const usecSamples = new Float64Array(SAMPLES);
let idx = 0;
let lastAt = 0;
let lastCycles = 0;
let lastUsec = 0;

/** Called by the cron each tick: counts the tick's turn and samples the rates. */
export function loopTick(s: Server, now: number): void {
  if (!turn.open) openTurn(s);
  const st = s.stats;
  if (lastAt !== 0 && now > lastAt) {
    const cycles = st.eventloopCycles - lastCycles;
    cycleSamples[idx] = (cycles * 1000) / (now - lastAt);
    usecSamples[idx] = cycles > 0 ? (st.eventloopUsec - lastUsec) / cycles : 0;
    idx = (idx + 1) % SAMPLES;
  }
  lastAt = now;
  lastCycles = st.eventloopCycles;
  lastUsec = st.eventloopUsec;
}

/** CONFIG RESETSTAT: forgets the samples. */
export function resetLoopStats(): void {
  cycleSamples.fill(0);
  usecSamples.fill(0);
  idx = 0;
  lastAt = 0;
}

export function cyclesPerSec(): number {
  let t = 0;
  for (let i = 0; i < SAMPLES; i++) t += cycleSamples[i];
  return Math.round(t / SAMPLES);
}

export function usecPerCycle(): number {
  let t = 0;
  for (let i = 0; i < SAMPLES; i++) t += usecSamples[i];
  return Math.round(t / SAMPLES);
}
