// Shared by the cluster interop tests (test/interop/cluster*.test.mjs): cluster-mode
// nodes (Vireo, and Debian's redis-server) each in its own temp dir and torn down after
// the file's tests, redis-cli runs, one-shot commands, polling and `--cluster check`.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { startVireo, startRedis, freePort, testResources } from './servers.mjs';

const run = promisify(execFile);

/**
 * Node factories for one test file. Everything they start, and whatever the test adds to
 * `clients` (ioredis), `conns` (RawConn), `procs` (child processes) or `dirs`, is stopped
 * and removed after the file's tests. Each node gets `dir`, `bus` (its cluster bus port)
 * and `id` (CLUSTER MYID).
 */
export function clusterNodes({ prefix, nodeTimeout }) {
  const { servers, clients, conns, procs, dirs } = testResources();

  async function node(start, suffix, extra) {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}${suffix}`));
    dirs.push(dir);
    const bus = await freePort();
    const s = await start(['--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-node-timeout', String(nodeTimeout), ...extra(dir)], dir);
    servers.push(s);
    s.dir = dir;
    s.bus = bus;
    s.id = await one(s.port, ['CLUSTER', 'MYID']);
    return s;
  }
  const vireoNode = () => node((args, dir) => startVireo(args, { cwd: dir }), '', (dir) => ['--dir', dir]);
  const redisNode = () => node((args) => startRedis(args), 'r-', (dir) => ['--cluster-config-file', join(dir, 'nodes.conf')]);
  return { servers, clients, conns, procs, dirs, vireoNode, redisNode };
}

/**
 * One cluster-mode Vireo node for the integration tests, in `dir` (null: a fresh
 * temp dir named `prefix`...), with an ioredis client that does not retry (errors
 * are left to the commands). The server, client and a fresh dir go to `res` (a
 * testResources()). Returns { s, r, dir, bus }.
 */
export async function clusterNode(res, { prefix, nodeTimeout, extra = [], dir = null }) {
  if (dir === null) {
    dir = mkdtempSync(join(tmpdir(), prefix));
    res.dirs.push(dir);
  }
  const bus = await freePort();
  const s = await startVireo(['--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-node-timeout', String(nodeTimeout), '--dir', dir, ...extra], { cwd: dir });
  res.servers.push(s);
  const r = new Redis({ port: s.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  await r.connect();
  res.clients.push(r);
  return { s, r, dir, bus };
}

/** The message of the error `p` rejects with, or 'no error'. */
export async function errorOf(p) {
  try {
    await p;
  } catch (e) {
    return e.message;
  }
  return 'no error';
}

/**
 * Polls `fn` every 50 ms until it returns a truthy value, which it returns. A
 * thrown error fails at once, or means "not yet" with `retryErrors`.
 */
export async function pollValue(what, fn, ms, retryErrors = false) {
  const end = Date.now() + ms;
  for (;;) {
    const v = retryErrors ? await fn().catch(() => false) : await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs redis-cli with `args`; its stdout, or an error carrying its output. */
export async function cli(...args) {
  try {
    const { stdout } = await run('redis-cli', args, { timeout: 180000 });
    return stdout;
  } catch (e) {
    throw new Error(`redis-cli ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** `redis-cli --cluster check` through `port` finds nothing wrong. */
export async function check(port) {
  const out = await cli('--cluster', 'check', `127.0.0.1:${port}`);
  assert.match(out, /\[OK\] All nodes agree about slots configuration\./, out);
  assert.match(out, /\[OK\] All 16384 slots covered\./, out);
  assert.doesNotMatch(out, /\[ERR\]|\[WARNING\]/, out);
  return out;
}

/** One command on a fresh connection (no retries: a node that is down rejects at once). */
export async function one(port, cmd) {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  await r.connect();
  try {
    return await r.call(...cmd);
  } finally {
    r.disconnect();
  }
}

/**
 * Polls `fn` until it returns true. Anything else (false, or a string saying what is not
 * ready yet) and thrown errors mean "not yet"; the last of them is in the timeout error.
 */
export async function waitFor(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last === true) return;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${typeof last === 'string' ? last : JSON.stringify(last)}`);
    await sleep(100);
  }
}
