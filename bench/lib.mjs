// Shared by the side-by-side benchmarks (bench/run.mjs, bench/aof.mjs,
// bench/replication.mjs): command-line options, starting a vireo-server or
// Debian's redis-server pinned to a CPU in a fresh temp dir, stopping it by
// PID, killing every started process if the script dies, server CPU time from
// /proc, and redis-benchmark runs pinned to the client CPU.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VIREO_BIN = join(ROOT, 'bin', 'vireo-server');

const argv = process.argv.slice(2);
/** The value after `name` on the command line, or `def`. */
export const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
export const flag = (name) => argv.includes(name);

// Every server and driver a script starts; killed by PID if the script exits
// (an error mid-run must not leave a pinned server behind).
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
export function track(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

export function freePort() {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

export async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        res(true);
      });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

/**
 * Starts `kind` ('redis', or a Vireo: 'vireo' / any other name with `bin`)
 * under taskset -c `cpu`, listening on a free port, in a fresh temp dir, with
 * no RDB saves and the AOF off unless `args` say otherwise (later arguments win).
 * Returns {kind, port, pid, proc, dir}; taskset execs the server, so pid is the server's.
 */
export async function startServer(kind, { cpu = 0, args = [], bin = VIREO_BIN, prefix = 'vireo-bench-' } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const cmd = kind === 'redis' ? ['redis-server', ...common, ...args] : [bin, ...common, '--loglevel', 'warning', ...args];
  const proc = track(spawn('taskset', ['-c', String(cpu), ...cmd], { stdio: 'ignore' }));
  try {
    await waitPort(port);
  } catch {
    proc.kill('SIGKILL'); // by PID: the server this call started
    throw new Error(`${kind} server did not start on port ${port} (exit code ${proc.exitCode})`);
  }
  return { kind, port, pid: proc.pid, proc, dir };
}

/** Stops a server started by startServer, by PID (SIGKILL after 5 s), and waits for it. */
export async function stopServer(s, { signal = 'SIGTERM', removeDir = true } = {}) {
  if (s.proc.exitCode === null && s.proc.signalCode === null) {
    const done = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill(signal);
    const t = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
  if (removeDir) rmSync(s.dir, { recursive: true, force: true });
}

/** Microseconds per clock tick of /proc/<pid>/stat times. */
export const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU time (utime + stime, in ticks) a process has used so far. */
export function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * CPU time a process has used so far, in microseconds: the sum over its
 * threads of /proc/<pid>/task/<tid>/schedstat's run time (nanoseconds, exact),
 * or utime + stime from /proc/<pid>/stat (clock ticks, usually 10 ms) where
 * schedstat is missing. A run of 200k requests at 1 us each is 20 ticks, so
 * ticks alone put +-5% of rounding on every sample.
 */
export function cpuUs(pid) {
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that just exited
      }
    }
    if (ns > 0) return ns / 1000;
  } catch {
    // no /proc/<pid>/task: fall back to ticks
  }
  return cpuTicks(pid) * TICK_US;
}

/** redis-benchmark arguments (for taskset) pinned to `cpu`. */
export function benchmarkArgs(port, { n, pipeline = 1, clients = 50, keyspace = 100000, cpu = 1 }, what) {
  return ['-c', String(cpu), 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-n', String(n), '-P', String(pipeline), '-c', String(clients), '-r', String(keyspace), '--csv', ...what];
}

/** Runs redis-benchmark -t `test` and returns requests/s. */
export function benchmarkTest(port, test, o) {
  const out = execFileSync('taskset', benchmarkArgs(port, o, ['-t', test]), { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = out.split('\n').find((l) => l.startsWith(`"${test.toUpperCase()}`));
  if (line === undefined) throw new Error(`redis-benchmark printed no ${test} result:\n${out}`);
  return Number(JSON.parse('[' + line + ']')[1]);
}

/**
 * Unmeasured warm-up of a fresh server: SET -n 8*keyspace -P 16 over the
 * benchmark's keyspace. A fresh Vireo pays, in its first several hundred
 * thousand requests, for JIT tiering, V8's heap growing from its start size and
 * the keyspace filling from empty (new keys, table growth, every value
 * promoted): SET -P 16 in 200k-request steps on one fresh server measured 1.40,
 * 1.40, 1.20, 1.00, 0.95, 0.90, 1.00, 0.90 us/req (Redis: about 1.2 from the
 * first step). bench/replication.mjs measured the first 200k requests of a fresh
 * server (0.65x Redis) while bench/run.mjs's core preset reached SET -P 16 after
 * 6M requests (0.97x). Every preset now measures servers warmed this way and
 * holding the -r keyspace; --no-warmup measures the cold start instead.
 */
export function warmUp(port, keyspace = 100000) {
  if (flag('--no-warmup')) return;
  benchmarkTest(port, 'set', { n: keyspace * 8, pipeline: 16, keyspace });
}
