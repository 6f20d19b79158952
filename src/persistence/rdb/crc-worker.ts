// Worker thread of crc-parallel.ts: the CRC-64 of a range of a shared buffer,
// written to out[1..2] (lo, hi) with out[0] = 1 (2: failed), then notified.
import { workerData } from 'node:worker_threads';
import { Crc64 } from './crc64.js';

const { sab, start, end, out } = workerData as { sab: SharedArrayBuffer; start: number; end: number; out: SharedArrayBuffer };
const res = new Int32Array(out);
try {
  const c = new Crc64().update(new Uint8Array(sab), start, end);
  res[1] = c.lo | 0;
  res[2] = c.hi | 0;
  Atomics.store(res, 0, 1);
} catch {
  Atomics.store(res, 0, 2);
}
Atomics.notify(res, 0);
