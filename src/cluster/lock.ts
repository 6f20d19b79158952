// The nodes.conf lock: like Valkey's clusterLockConfig (an flock on the file),
// two servers must never share one cluster configuration file. Node has no
// flock without native code, so the lock is a companion file `<nodes.conf>.lock`
// created exclusively (O_EXCL) holding "<pid> <process start time>". A lock whose
// process is gone (or whose pid was reused by another process, told apart by the
// start time from /proc) is stale and taken over. Within one process (embedded
// servers) the set of held paths is checked first. The lock is released when the
// cluster closes and, failing that, when the process exits.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

const held = new Set<string>();

/** The start time of a process (field 22 of /proc/<pid>/stat), '' when unknown (not Linux, or gone). */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock file's owner is still running (same pid, same start time when known). */
function ownerRunning(text: string): boolean {
  const [pidText, start = ''] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // This process: a server of ours holds it only if the path is in `held` (checked first).
  if (pid === process.pid) return false;
  if (!alive(pid)) return false;
  const now = startTime(pid);
  return start === '' || now === '' || now === start;
}

export class ConfigLock {
  private readonly path: string;
  private readonly lockFile: string;
  private locked = false;
  private readonly onExit = () => this.release();

  constructor(file: string) {
    this.path = resolve(file);
    this.lockFile = `${this.path}.lock`;
  }

  /** Takes the lock; false when another running server (or this process) holds it. */
  acquire(): boolean {
    if (held.has(this.path)) return false;
    const me = `${process.pid} ${startTime(process.pid)}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.lockFile, 'wx', 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let text = '';
        try {
          text = readFileSync(this.lockFile, 'latin1');
        } catch {
          continue; // removed meanwhile: try again
        }
        // An empty lock is one being written (its owner is between open and write),
        // unless it has been empty for a while (the owner died right there).
        const stale = text === '' ? Date.now() - mtime(this.lockFile) > 5000 : !ownerRunning(text);
        if (!stale) return false;
        try {
          unlinkSync(this.lockFile);
        } catch {
          /* someone else removed it */
        }
        continue;
      }
      try {
        writeSync(fd, me);
      } finally {
        closeSync(fd);
      }
      held.add(this.path);
      this.locked = true;
      process.once('exit', this.onExit);
      return true;
    }
    return false;
  }

  release(): void {
    if (!this.locked) return;
    this.locked = false;
    held.delete(this.path);
    process.removeListener('exit', this.onExit);
    try {
      const text = readFileSync(this.lockFile, 'latin1');
      if (Number(text.split(' ')[0]) === process.pid) unlinkSync(this.lockFile);
    } catch {
      /* already gone */
    }
  }
}
