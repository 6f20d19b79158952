// The CRC-64 of a big RDB file, computed by a worker thread while the main
// thread loads the keys (a start-up load: the checksum costs the event loop
// nothing). The file is read into a SharedArrayBuffer, so the worker reads the
// very bytes the loader parses, without a copy.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Crc64 } from './crc64.js';

/** Below this many bytes the checksum is computed inline (a worker takes some ms to start). */
export const PARALLEL_CRC_MIN = 8 * 1024 * 1024;

/** A CRC-64 of buf[start, end) being computed by a worker. */
export interface ParallelCrc {
  readonly start: number;
  readonly end: number;
  /** True once the worker has the checksum. */
  readonly ready: boolean;
  /** The checksum when the worker has it, else null (the caller computes it inline); stops the worker. */
  take(): Crc64 | null;
}

/** A whole file in a Buffer over a SharedArrayBuffer (a worker can read it too). */
export function readFileShared(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.from(new SharedArrayBuffer(size));
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break; // the file shrank meanwhile
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts a worker computing the CRC-64 of buf[start, end); null when buf is
 * not over a SharedArrayBuffer, the range is small, or no worker can start.
 */
export function crcInWorker(buf: Buffer, start: number, end: number): ParallelCrc | null {
  if (!(buf.buffer instanceof SharedArrayBuffer) || end - start < PARALLEL_CRC_MIN) return null;
  const out = new SharedArrayBuffer(12);
  const res = new Int32Array(out);
  let w: Worker;
  try {
    w = new Worker(new URL('./crc-worker.js', import.meta.url), {
      workerData: { sab: buf.buffer, start: buf.byteOffset + start, end: buf.byteOffset + end, out },
    });
  } catch {
    return null;
  }
  w.unref();
  w.on('error', () => Atomics.store(res, 0, 2));
  return {
    start,
    end,
    get ready(): boolean {
      return Atomics.load(res, 0) === 1;
    },
    take(): Crc64 | null {
      const state = Atomics.load(res, 0);
      if (state !== 1) {
        // Not done (or failed): the loader computes it itself rather than wait.
        void w.terminate();
        return null;
      }
      const c = new Crc64();
      c.lo = res[1] >>> 0;
      c.hi = res[2] >>> 0;
      return c;
    },
  };
}
