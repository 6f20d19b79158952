// MEMORY USAGE, MEMORY HELP, MEMORY STATS, MEMORY DOCTOR, MEMORY MALLOC-STATS,
// MEMORY PURGE.
//
// MEMORY USAGE answers what the key would cost in Valkey (jemalloc, 64-bit),
// not the V8 heap bytes Vireo spends on it: V8 gives no per-object sizes, and
// a Valkey-shaped number is what tools that read MEMORY USAGE (big-key
// scanners, eviction planning) are calibrated for. The model, per key:
//
//   key       dict entry (24) + key sds (header + bytes + NUL, jemalloc class)
//   string    int-encoded: 16 (the object); up to 44 bytes: one embstr block
//             (16 + 3 + len + 1, class); longer: 16 + sds class
//   list      listpack: 16 + listpack bytes (class); quicklist: 16 + 40 +
//             per node 32 + listpack bytes (class), sampled
//   set       intset: 16 + class(8 + n * width); listpack: 16 + listpack;
//             hashtable: 16 + dict (56 + 8 per bucket) + per member
//             (entry 24 + member sds), sampled
//   zset      listpack: 16 + listpack (member and score entries); skiplist:
//             16 + zset/dict/skiplist headers + buckets + per member (entry 24
//             + member sds + skiplist node 80), sampled
//   hash      listpack: 16 + listpack; hashtable: 16 + dict + per field
//             (entry 24 + field sds + value sds), sampled
//   stream    16 + a flat per-entry estimate (see estimateOther)
//
// "Sampled" is Valkey's SAMPLES n: the average size of the first n elements
// (5 by default, 0 = all) times the element count. Listpack sizes are exact:
// src/data/list.ts computes every entry's encoded size.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { isStringValue, stringEncoding, stringLength, type Value } from '../keyspace/types.js';
import { ListValue, entryBytes } from '../data/list.js';
import { SetEnc, SetValue } from '../data/set.js';
import { ZSet } from '../data/zset.js';
import { HashObject } from '../data/hash.js';
import { formatDouble, parseInt64 } from '../util/numbers.js';
import { E_SYNTAX, E_NOT_INT } from './errors.js';
import { replyHelp } from './connection.js';

const ROBJ = 16;
const DICT_ENTRY = 24;
const DICT = 56;
const LP_EMPTY = 7;
const DEFAULT_SAMPLES = 5;
/** Skiplist node with its level array (about 1.33 levels on average) as Valkey reports it. */
const ZSL_NODE = 80;

/** jemalloc's size class for an allocation of n bytes. */
export function sizeClass(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~15;
  // Four classes per power of two above 128.
  const p = Math.pow(2, Math.floor(Math.log2(n - 1)));
  const spacing = p / 4;
  return Math.ceil(n / spacing) * spacing;
}

/** Allocated size of an sds string of len bytes (sds8/16/32 headers). */
export function sdsSize(len: number): number {
  const hdr = len < 256 ? 3 : len < 65536 ? 5 : 9;
  return sizeClass(hdr + len + 1);
}

function nextPow2(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

/** Bytes a listpack holding these strings takes. */
function listpackBytes(items: Iterable<string>): number {
  let b = LP_EMPTY;
  for (const s of items) b += entryBytes(s);
  return b;
}

/** How a sorted-set listpack stores a score: integral values as integers, others as %.17g-like text. */
function scoreText(s: number): string {
  if (Number.isInteger(s) && Math.abs(s) < 2 ** 63) return BigInt(s).toString();
  return formatDouble(s);
}

function samplesOf(n: number, samples: number): number {
  return Math.max(1, Math.min(n, samples));
}

function stringUsage(v: string | number | Buffer): number {
  const enc = stringEncoding(v);
  if (enc === 'int') return ROBJ;
  const len = stringLength(v);
  if (enc === 'embstr') return sizeClass(ROBJ + 3 + len + 1);
  return ROBJ + sdsSize(len);
}

function listUsage(l: ListValue, samples: number): number {
  if (!l.quick) return ROBJ + sizeClass(l.bytes());
  const nodes = l.nodes;
  if (nodes.length === 0) return ROBJ + 40;
  const k = samplesOf(nodes.length, samples);
  let ele = 0;
  for (let i = 0; i < k; i++) ele += 32 + sizeClass(nodes[i].bytes);
  return ROBJ + 40 + Math.floor((ele / k) * nodes.length);
}

function setUsage(s: SetValue, samples: number): number {
  const items = s.items;
  if (s.enc === SetEnc.Intset) {
    let width = 2;
    for (const m of items) {
      const v = Number(m);
      if (v < -2147483648 || v > 2147483647) width = 8;
      else if ((v < -32768 || v > 32767) && width < 4) width = 4;
    }
    return ROBJ + sizeClass(8 + items.length * width);
  }
  if (s.enc === SetEnc.Listpack) return ROBJ + sizeClass(listpackBytes(items));
  const n = items.length;
  let asize = ROBJ + DICT + 8 * nextPow2(n);
  if (n === 0) return asize;
  const k = samplesOf(n, samples);
  let ele = 0;
  for (let i = 0; i < k; i++) ele += DICT_ENTRY + sdsSize(items[i].length);
  asize += Math.floor((ele / k) * n);
  return asize;
}

function zsetUsage(z: ZSet, samples: number): number {
  if (z.isCompact()) {
    let b = LP_EMPTY;
    for (const [m, s] of z.entries()) b += entryBytes(m) + entryBytes(scoreText(s));
    return ROBJ + sizeClass(b);
  }
  const n = z.size;
  // zset + skiplist + dict headers, buckets, and the skiplist header node (32 levels).
  let asize = ROBJ + 16 + 32 + DICT + 8 * nextPow2(n) + sizeClass(24 + 32 * 16);
  if (n === 0) return asize;
  const k = samplesOf(n, samples);
  let ele = 0;
  let i = 0;
  for (const [m] of z.entries()) {
    if (i++ >= k) break;
    ele += DICT_ENTRY + sdsSize(m.length) + ZSL_NODE;
  }
  asize += Math.floor((ele / k) * n);
  return asize;
}

function hashUsage(h: HashObject, samples: number): number {
  const n = h.size;
  if (h.isListpack()) {
    let b = LP_EMPTY;
    for (let i = 0; i < n; i++) b += entryBytes(h.fieldAt(i)) + entryBytes(h.valueAt(i));
    return ROBJ + sizeClass(b);
  }
  let asize = ROBJ + DICT + 8 * nextPow2(n);
  if (n === 0) return asize;
  const k = samplesOf(n, samples);
  let ele = 0;
  for (let i = 0; i < k; i++) ele += DICT_ENTRY + sdsSize(h.fieldAt(i).length) + sdsSize(h.valueAt(i).length);
  asize += Math.floor((ele / k) * n);
  return asize + h.volatileCount() * 16;
}

/** Types owned elsewhere (streams): their own estimate if they offer one, else a flat guess. */
function estimateOther(v: object): number {
  const o = v as { memoryUsage?: () => number; length?: number; size?: number };
  if (typeof o.memoryUsage === 'function') return ROBJ + o.memoryUsage();
  const n = typeof o.length === 'number' ? o.length : typeof o.size === 'number' ? o.size : 0;
  return ROBJ + 64 + n * 64;
}

/** Estimated bytes for a key and its value (see the header). */
export function keyMemoryUsage(key: string, v: Value, samples: number): number {
  let usage: number;
  if (isStringValue(v)) usage = stringUsage(v);
  else if (v instanceof ListValue) usage = listUsage(v, samples);
  else if (v instanceof SetValue) usage = setUsage(v, samples);
  else if (v instanceof ZSet) usage = zsetUsage(v, samples);
  else if (v instanceof HashObject) usage = hashUsage(v, samples);
  else usage = estimateOther(v);
  return usage + sdsSize(key.length) + DICT_ENTRY;
}

function tok(arg: string, lower: string): boolean {
  return arg.length === lower.length && arg.toLowerCase() === lower;
}

function memoryUsage(c: Client, argv: string[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let j = 3; j < argv.length; j++) {
    if (tok(argv[j], 'samples') && j + 1 < argv.length) {
      const v = parseInt64(argv[j + 1]);
      if (v === null) {
        c.addError(E_NOT_INT);
        return;
      }
      if (v < 0) {
        c.addError(E_SYNTAX);
        return;
      }
      samples = v === 0 ? Number.MAX_SAFE_INTEGER : Number(v);
      j++;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const v = c.db.peek(argv[2]);
  if (v === undefined) {
    c.addNull();
    return;
  }
  c.addInt(keyMemoryUsage(argv[2], v, samples));
}

const MEMORY_HELP = [
  'DOCTOR',
  '    Report memory problems, if any.',
  'MALLOC-STATS',
  '    Show allocator statistics (Vireo runs on the V8 heap: a short summary).',
  'PURGE',
  '    Ask the allocator to release unused memory.',
  'STATS',
  '    Show a breakdown of the memory the server uses.',
  'USAGE <key> [SAMPLES <count>]',
  '    Estimate the bytes <key> and its value take. Large values are sampled:',
  '    <count> elements (default 5, 0 for all) stand for the rest.',
];

function memoryHelp(c: Client, argv: string[]): void {
  replyHelp(c, argv[0], MEMORY_HELP);
}

/** Bytes held by normal clients: reply buffers, unparsed input, socket backlog. */
function clientBuffers(c: Client): number {
  let n = 0;
  for (const cl of c.server.clients.values()) n += cl.out.length + cl.parser.pending() + (cl.socket ? cl.socket.writableLength : 0);
  return n;
}

function memoryStats(c: Client): void {
  const mu = process.memoryUsage();
  let keys = 0;
  const dbs: [number, number, number][] = [];
  c.server.dbs.forEach((db, i) => {
    const n = db.dict.size;
    if (n > 0) dbs.push([i, n * DICT_ENTRY + 8 * nextPow2(n), db.expires.size * DICT_ENTRY]);
    keys += n;
  });
  // The same measure as INFO used_memory (what maxmemory compares with).
  c.server.sampleMemory();
  const allocated = c.server.usedMemory;
  const peak = Math.max(c.server.peakMemory, allocated);
  const startup = c.server.startupMemory;
  const clients = clientBuffers(c);
  let overhead = startup + clients;
  for (const d of dbs) overhead += d[1] + d[2];
  const dataset = Math.max(0, allocated - overhead);
  const pairs: [string, number | string][] = [
    ['peak.allocated', peak],
    ['total.allocated', allocated],
    ['startup.allocated', startup],
    ['replication.backlog', 0],
    ['clients.slaves', 0],
    ['clients.normal', clients],
    ['cluster.links', 0],
    ['aof.buffer', 0],
    ['lua.caches', 0],
    ['functions.caches', 0],
    ['overhead.total', overhead],
    ['keys.count', keys],
    ['keys.bytes-per-key', keys ? Math.floor(allocated / keys) : 0],
    ['dataset.bytes', dataset],
    ['dataset.percentage', allocated ? (dataset * 100) / allocated : 0],
    ['peak.percentage', peak ? (allocated * 100) / peak : 100],
    ['allocator.allocated', allocated],
    ['allocator.active', mu.heapTotal + mu.external],
    ['allocator.resident', mu.rss],
    ['allocator-fragmentation.ratio', allocated ? (mu.heapTotal + mu.external) / allocated : 1],
    ['allocator-fragmentation.bytes', mu.heapTotal + mu.external - allocated],
    ['allocator.rss-ratio', mu.heapTotal + mu.external ? mu.rss / (mu.heapTotal + mu.external) : 1],
    ['allocator.rss-bytes', mu.rss - (mu.heapTotal + mu.external)],
    ['rss-overhead.ratio', 1],
    ['rss-overhead.bytes', 0],
    ['fragmentation', allocated ? mu.rss / allocated : 1],
    ['fragmentation.bytes', mu.rss - allocated],
  ];
  c.addMapLen(pairs.length + dbs.length);
  let i = 0;
  for (; i < 11; i++) addPair(c, pairs[i]);
  for (const [id, main, exp] of dbs) {
    c.addBulk(`db.${id}`);
    c.addMapLen(2);
    c.addBulk('overhead.hashtable.main');
    c.addInt(main);
    c.addBulk('overhead.hashtable.expires');
    c.addInt(exp);
  }
  for (; i < pairs.length; i++) addPair(c, pairs[i]);
}

function addPair(c: Client, [k, v]: [string, number | string]): void {
  c.addBulk(k);
  if (typeof v === 'string') c.addBulk(v);
  else if (Number.isInteger(v)) c.addInt(v);
  else c.addDouble(v);
}

function memoryCommand(c: Client, argv: string[]): void {
  const sub = argv[1].toLowerCase();
  if (sub === 'stats') memoryStats(c);
  else if (sub === 'doctor') {
    c.addVerbatim(memoryDoctor(c));
  } else if (sub === 'malloc-stats') {
    // The allocator is V8's garbage-collected heap: there are no malloc statistics to show.
    c.addBulk('Stats not supported for the current allocator');
  } else if (sub === 'purge') {
    // A full garbage collection gives back what deleted keys held.
    c.server.evictor.purge();
    c.addOK();
  }
}

/**
 * MEMORY DOCTOR: the checks Valkey's doctor makes, on Vireo's numbers (used
 * memory as INFO shows it, its peak, RSS, client buffers).
 */
function memoryDoctor(c: Client): string {
  const server = c.server;
  server.sampleMemory();
  const used = server.usedMemory;
  const peak = Math.max(server.peakMemory, used);
  const rss = process.memoryUsage.rss();
  if (used < 5 * 1024 * 1024) {
    return 'This server holds very little data (under 5 MB), too little for a meaningful memory analysis. Store some data and ask again.\n';
  }
  const issues: string[] = [];
  if (peak > used * 1.5) {
    issues.push(`- Peak memory: the server once used ${fmtMb(peak)}, ${((peak / used) * 100 - 100).toFixed(0)}% more than the ${fmtMb(used)} it uses now. RSS may stay near the peak until the runtime returns the pages (MEMORY PURGE runs a full garbage collection).`);
  }
  if (rss > used * 1.4 && rss - used > 10 * 1024 * 1024) {
    issues.push(`- RSS (${fmtMb(rss)}) is ${(rss / used).toFixed(2)} times the used memory (${fmtMb(used)}): garbage not collected yet, the young generation of the V8 heap, and the runtime itself (about 50 MB for Node.js and compiled code) are not data but count in RSS.`);
  }
  let n = 0;
  let bytes = 0;
  for (const cl of server.clients.values()) {
    n++;
    bytes += cl.out.length + cl.parser.pending() + (cl.socket ? cl.socket.writableLength : 0);
  }
  if (n > 0 && bytes / n > 200 * 1024) {
    issues.push(`- Client buffers: ${n} clients hold ${fmtMb(bytes)} in query and reply buffers (${fmtMb(bytes / n)} each on average). Check client-output-buffer-limit and clients that read slowly (CLIENT LIST omem, qbuf).`);
  }
  if (server.maxmemory !== 0 && used > server.maxmemory) {
    issues.push(`- Used memory (${fmtMb(used)}) is over maxmemory (${fmtMb(server.maxmemory)}); with maxmemory-policy ${server.config.get('maxmemory-policy')} writes ${server.config.get('maxmemory-policy') === 'noeviction' ? 'are refused with -OOM' : 'evict keys'}.`);
  }
  if (issues.length === 0) return `No memory problem found: ${fmtMb(used)} used, peak ${fmtMb(peak)}, RSS ${fmtMb(rss)}.\n`;
  return `Memory report (${fmtMb(used)} used, peak ${fmtMb(peak)}, RSS ${fmtMb(rss)}):\n\n${issues.join('\n\n')}\n`;
}

function fmtMb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

export const commands: HandlerMap = {
  'memory|usage': memoryUsage,
  'memory|help': memoryHelp,
  'memory|stats': (c) => memoryCommand(c, ['memory', 'stats']),
  'memory|doctor': (c) => memoryCommand(c, ['memory', 'doctor']),
  'memory|malloc-stats': (c) => memoryCommand(c, ['memory', 'malloc-stats']),
  'memory|purge': (c) => memoryCommand(c, ['memory', 'purge']),
};
