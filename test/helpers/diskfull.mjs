// A directory on a small file system of its own (a 256 KB tmpfs, root only),
// for tests of a full disk: the AOF or RDB cannot be written once it is filled.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this process may mount a tmpfs (root, and mount works here). */
export function canMountTmpfs() {
  if (process.getuid?.() !== 0) return false;
  const d = mkdtempSync(join(tmpdir(), 'vireo-mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d], { stdio: 'ignore' });
    execFileSync('umount', [d], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** The skip option of a test that needs canMountTmpfs(). */
export const needsTmpfs = () => !canMountTmpfs() && 'needs root to mount a small tmpfs';

/**
 * Mounts a 256 KB tmpfs on a fresh temp dir. Returns { dir, fill(), release() }:
 * fill() writes a file that takes the rest of the space and returns its path
 * (remove it to make room again); release() unmounts and removes the dir.
 */
export function smallDisk(prefix = 'vireo-full-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
  return {
    dir,
    fill() {
      const filler = join(dir, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(1024 * 1024));
      } catch {
        /* ENOSPC: the file system is full now */
      }
      return filler;
    },
    release() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
