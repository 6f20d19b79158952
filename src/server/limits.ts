// Limits that keep the server standing when clients misbehave: idle `timeout`,
// client eviction (`maxmemory-clients`, CLIENT NO-EVICT) and the memory a
// client holds. (maxclients and protected mode are checked on accept in
// server.ts/listeners.ts; client-output-buffer-limit in pubsub.ts's
// checkOutputLimits, client-query-buffer-limit in Client.processInput,
// proto-max-bulk-len in the request parser.)
import { readFileSync } from 'node:fs';
import type { Server } from './server.js';
import type { Client } from './client.js';

/** File descriptors Valkey keeps for itself besides one per client (CONFIG_MIN_RESERVED_FDS). */
const RESERVED_FDS = 32;

/** The soft limit on open files (ulimit -n) from /proc/self/limits; null where unknown. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (!m || m[1] === 'unlimited') return null;
    return Number(m[1]);
  } catch {
    return null;
  }
}

/**
 * Start-up: Node cannot raise the open files limit, so when `ulimit -n` is
 * too low for maxclients, maxclients is lowered to fit, as Valkey does when
 * it cannot raise the limit itself.
 */
export function fitMaxclientsToUlimit(server: Server): void {
  const limit = openFilesLimit();
  const want = server.config.num('maxclients');
  if (limit === null || want + RESERVED_FDS <= limit) return;
  const fit = Math.max(1, limit - RESERVED_FDS);
  server.log.warning(`You requested maxclients of ${want} requiring at least ${want + RESERVED_FDS} max file descriptors.`);
  server.log.warning(
    `Current maximum open files is ${limit}. maxclients has been reduced to ${fit} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`,
  );
  server.config.setRaw('maxclients', [String(fit)]);
}

/** CONFIG SET maxclients: refused when the open files limit cannot hold that many clients (Valkey's message). */
export function applyMaxclients(server: Server): string | null {
  const limit = openFilesLimit();
  const want = server.config.num('maxclients');
  if (limit === null || want + RESERVED_FDS <= limit) return null;
  return `The operating system is not able to handle the specified number of clients, try with ${Math.max(1, limit - RESERVED_FDS)}`;
}

/** Values read on the paths that check them (refreshed on every config change). */
export const clientLimits = {
  /** maxmemory-clients resolved to bytes (0: no client eviction). */
  maxClientsMem: 0,
  /** `timeout` in ms (0: idle clients stay). */
  idleMs: 0,
};

const MEM_UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };
const LONG_MAX = 9223372036854775807n;

/** maxmemory-clients: a memory value ("1gb") or a percentage of maxmemory ("10%"). */
export function parseMaxmemoryClients(v: string): { value: string } | { error: string } {
  const pct = /^(\d+)%$/.exec(v);
  if (pct) {
    const n = BigInt(pct[1]);
    if (n > 100n) return { error: 'percentage argument must be less or equal to 100' };
    return { value: `${n}%` };
  }
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(v);
  if (!m) return { error: 'argument must be a memory or percent value' };
  const n = BigInt(m[1]) * MEM_UNITS[(m[2] ?? '').toLowerCase()];
  if (n > LONG_MAX) return { error: 'argument must be between 0 and 9223372036854775807 inclusive' };
  return { value: n.toString() };
}

/** Refreshes clientLimits from the configuration. */
export function applyLimitsConfig(server: Server): void {
  const cfg = server.config;
  const v = cfg.get('maxmemory-clients');
  clientLimits.maxClientsMem = v.endsWith('%') ? Math.floor((Number(v.slice(0, -1)) * cfg.num('maxmemory')) / 100) : Number(v);
  clientLimits.idleMs = cfg.num('timeout') * 1000;
}

/**
 * Memory a client holds: reply buffer, output queued in the socket, query
 * buffer, the arguments of the running command and a MULTI queue (CLIENT LIST
 * tot-mem adds up the same parts).
 */
export function clientMemory(c: Client): number {
  const ms = c.multi;
  return (
    c.out.length +
    c.parser.pending() +
    c.queuedOut() +
    c.argvMem +
    (ms === null ? 0 : ms.argvBytes + 16 * ms.cmds.length)
  );
}

/** Whether client eviction may pick this client (Valkey: normal and pub/sub clients without NO-EVICT). */
function evictable(c: Client): boolean {
  return !c.noEvict && c.socket !== null && !c.closed && (c.clientType() === 'normal' || c.clientType() === 'pubsub');
}

/**
 * Client eviction: while the memory of all evictable clients together is at
 * or over maxmemory-clients, closes the one using the most. Returns how many
 * were evicted.
 */
export function evictClients(server: Server): number {
  const limit = clientLimits.maxClientsMem;
  if (limit === 0) return 0;
  let total = 0;
  const mem: [Client, number][] = [];
  for (const c of server.clients.values()) {
    if (!evictable(c)) continue;
    const m = clientMemory(c);
    total += m;
    mem.push([c, m]);
  }
  if (total < limit) return 0;
  mem.sort((a, b) => b[1] - a[1]);
  let n = 0;
  for (const [c, m] of mem) {
    if (total < limit) break;
    server.log.verbose(`Evicting client: ${c.describe()}`);
    server.stats.evictedClients++;
    c.closeNow();
    total -= m;
    n++;
  }
  return n;
}

let evictionScheduled = false;

/**
 * Called where a client's memory may have grown a lot (a large query buffer,
 * output the peer does not read): when client eviction is on, checks it once
 * at the end of this event-loop turn, never in the middle of a command (the
 * client running it may be the one to go).
 */
export function clientGrew(server: Server): void {
  if (clientLimits.maxClientsMem === 0 || evictionScheduled) return;
  evictionScheduled = true;
  setImmediate(() => {
    evictionScheduled = false;
    evictClients(server);
  });
}

/**
 * Once a second from the cron: closes clients idle longer than `timeout`
 * (not replicas, the primary's link, MONITOR, blocked or paused clients, nor
 * pub/sub clients, as Valkey), and evicts clients over maxmemory-clients.
 */
export function clientsCron(server: Server, now: number): void {
  const idle = clientLimits.idleMs;
  if (idle > 0) {
    for (const c of server.clients.values()) {
      if (c.monitor || c.replRole !== null || c.blocked !== null || c.postponed !== null || c.subscribed || c.socket === null) continue;
      if (now - c.lastInteractionMs > idle) {
        server.log.verbose('Closing idle client');
        c.closeNow();
      }
    }
  }
}
