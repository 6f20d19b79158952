// Starting real servers for tests: vireo-server (this project) and, for interop
// tests, Debian's redis-server. Each binds 127.0.0.1 on a free port and is
// stopped by the returned handle.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { after } from 'node:test';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const VIREO_BIN = join(ROOT, 'bin', 'vireo-server');

/** A port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port, proc, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) return reject(new Error(`server exited with code ${proc.exitCode}`));
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`server did not listen on ${port}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

async function startProcess(cmd, argsFor, opts = {}) {
  let lastErr;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = argsFor(port);
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? ROOT });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    try {
      await waitForPort(port, proc);
      return {
        port,
        host: '127.0.0.1',
        proc,
        output: () => output,
        async stop(signal = 'SIGTERM') {
          if (proc.exitCode !== null || proc.signalCode !== null) return;
          const done = new Promise((r) => proc.once('exit', r));
          proc.kill(signal);
          const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
          await done;
          clearTimeout(t);
        },
      };
    } catch (e) {
      lastErr = new Error(`${e.message}\n${output}`);
      proc.kill('SIGKILL');
    }
  }
  throw lastErr;
}

/**
 * Starts bin/vireo-server with extra valkey-server style arguments. The server
 * runs in the repository root: unless the arguments or the config file set
 * `save`, `--save ""` is added (Valkey's default save points would write
 * dump.rdb there).
 */
export function startVireo(extraArgs = [], opts = {}) {
  const setsSave = extraArgs.some((a) => String(a).toLowerCase() === '--save') || (opts.configFile && /^\s*save(\s|$)/im.test(readFileSync(opts.configFile, 'latin1')));
  const noSave = setsSave ? [] : ['--save', ''];
  return startProcess(process.execPath, (port) => [VIREO_BIN, ...(opts.configFile ? [opts.configFile] : []), '--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'warning', ...noSave, ...extraArgs], opts);
}

/** True when Debian's redis-server is installed. */
export function haveRedis() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts Debian's redis-server in a temp dir, no persistence. */
export function startRedis(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-redis-'));
  return startProcess('redis-server', (port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], { cwd: dir });
}

/**
 * What one test file starts, to be stopped and removed after its tests: servers
 * (stop('SIGKILL')), clients (ioredis: disconnect()), conns (RawConn: close()),
 * procs (child processes: SIGKILL) and temp dirs. Call it at a file's top level
 * (it registers an `after` hook) and push onto the arrays.
 */
export function testResources() {
  const r = { servers: [], clients: [], conns: [], procs: [], dirs: [] };
  after(async () => {
    for (const p of r.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const c of r.clients) c.disconnect();
    for (const c of r.conns) c.close();
    for (const sv of r.servers) await sv.stop('SIGKILL');
    for (const d of r.dirs) rmSync(d, { recursive: true, force: true });
  });
  return r;
}
