// Replacing a file so that a crash leaves either the old or the new content:
// write a temp file next to it, fsync it, rename it over the target, fsync the
// directory (so the rename itself is durable).
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Fsyncs a directory (after a rename in it). Errors are ignored: some filesystems refuse it. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Writes `data` to `file` atomically and durably; throws on I/O errors (the old file stays). */
export function writeFileAtomic(file: string, data: string | Uint8Array, encoding: BufferEncoding = 'latin1'): void {
  const dir = dirname(file);
  const tmp = join(dir, `${basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    if (typeof data === 'string') writeFileSync(tmp, data, encoding);
    else writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw e;
  }
  fsyncDir(dir);
}
