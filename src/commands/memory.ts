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
//   stream    16 + stream struct 80 + radix tree of nodes (streamRaxUsage) + node
//             listpacks (allocated size: full nodes shrunk to fit, the open
//             one at least its 4096-byte preallocation), sampled + per group
//             40 + PEL tree + 24 per pending entry + per consumer 32 + name +
//             its PEL tree
//
// "Sampled" is Valkey's SAMPLES n: the average size of the first n elements
// (5 by default, 0 = all) times the element count. Listpack sizes are exact:
// src/data/list.ts computes every entry's encoded size.
import v8 from 'node:v8';
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { isStringValue, stringEncoding, stringLength, type Value } from '../keyspace/types.js';
import { ListValue, entryBytes } from '../data/list.js';
import { SetEnc, SetValue } from '../data/set.js';
import { ZSet } from '../data/zset.js';
import { HashObject } from '../data/hash.js';
import { Stream, STREAM_NODE_MAX_BYTES } from '../data/stream.js';
import { parseInt64 } from '../util/numbers.js';
import { E_SYNTAX, E_NOT_INT } from './errors.js';
import { replyHelp } from './connection.js';
import { scriptingInfo } from '../scripting/index.js';

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
  if (z.lp !== null) return ROBJ + sizeClass(z.lp.length); // the listpack string is its bytes
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
  const lp = h.listpack();
  if (lp !== null) return ROBJ + sizeClass(lp.length); // the listpack string is its bytes
  const n = h.size;
  let asize = ROBJ + DICT + 8 * nextPow2(n);
  if (n === 0) return asize;
  const k = samplesOf(n, samples);
  let ele = 0;
  for (let i = 0; i < k; i++) ele += DICT_ENTRY + sdsSize(h.fieldAt(i).length) + sdsSize(h.valueAt(i).length);
  asize += Math.floor((ele / k) * n);
  return asize + h.volatileCount() * 16;
}

/**
 * Valkey's estimate of a radix tree holding n stream IDs (streamRadixTreeMemoryUsage):
 * 16 bytes per ID, and per tree node its 4-byte header plus a fixed allowance of 30
 * words; a tree of IDs has about two nodes per element (one for an empty tree).
 */
function streamRaxUsage(n: number): number {
  const nodes = n === 0 ? 1 : 2 * n;
  return n * 16 + nodes * (4 + 8 * 30);
}

function streamUsage(s: Stream, samples: number): number {
  const nodes = s.entries.chunks;
  const n = nodes.length;
  let asize = ROBJ + 80 + streamRaxUsage(n);
  // A node's listpack is allocated with a 4096-byte preallocation; full nodes are shrunk to fit.
  const alloc = (i: number): number => {
    const b = sizeClass(nodes[i].lpBytes);
    return i === n - 1 && b < STREAM_NODE_MAX_BYTES ? STREAM_NODE_MAX_BYTES : b;
  };
  const k = samplesOf(n, samples);
  let lp = 0;
  for (let i = 0; i < k && i < n; i++) lp += alloc(i);
  if (n <= k) asize += lp;
  else asize += Math.floor(lp / k) * (n - 1) + alloc(n - 1);
  if (s.groups !== null) {
    for (const g of s.groups.values()) {
      asize += 40 + streamRaxUsage(g.pel.size) + 24 * g.pel.size;
      for (const c of g.consumers.values()) asize += 32 + c.name.length + streamRaxUsage(c.pel.size);
    }
  }
  return asize;
}

/** Types owned elsewhere: their own estimate if they offer one, else a flat guess. */
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
  else if (v instanceof Stream) usage = streamUsage(v, samples);
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
  for (const cl of c.server.clients.values()) n += cl.out.length + cl.parser.pending() + cl.queuedOut();
  return n;
}

/**
 * MEMORY STATS: Valkey 8's fields in its order. The allocator.* figures are
 * INFO memory's (V8 heap used / committed / physical, plus Buffers), so the
 * two commands agree as they do in Valkey. Vireo's key Maps never rehash
 * incrementally: the rehashing figures are 0.
 */
function memoryStats(c: Client): void {
  const server = c.server;
  let keys = 0;
  let lut = 0;
  const dbs: [number, number, number][] = [];
  server.dbs.forEach((db, i) => {
    const n = db.dict.size;
    const e = db.expires.size;
    if (n > 0) {
      dbs.push([i, n * DICT_ENTRY + 8 * nextPow2(n), e * DICT_ENTRY + (e > 0 ? 8 * nextPow2(e) : 0)]);
      lut += 8 * nextPow2(n) + (e > 0 ? 8 * nextPow2(e) : 0);
    }
    keys += n;
  });
  // The same measures as INFO memory (used_memory is what maxmemory compares with).
  server.sampleMemory();
  const used = server.usedMemory;
  const peak = Math.max(server.peakMemory, used);
  const startup = server.startupMemory;
  const clients = clientBuffers(c);
  const h = v8.getHeapStatistics();
  const mu = process.memoryUsage();
  const allocated = h.used_heap_size + mu.arrayBuffers;
  const active = h.total_heap_size + mu.arrayBuffers;
  const resident = h.total_physical_size + mu.arrayBuffers;
  let overhead = startup + clients;
  for (const d of dbs) overhead += d[1] + d[2];
  overhead = Math.min(used, overhead);
  const dataset = used - overhead;
  const net = used > startup ? used - startup : 1;
  const si = scriptingInfo(server);
  const head: [string, number | string][] = [
    ['peak.allocated', peak],
    ['total.allocated', used],
    ['startup.allocated', startup],
    ['replication.backlog', 0],
    ['clients.slaves', 0],
    ['clients.normal', clients],
    ['cluster.links', 0],
    ['aof.buffer', 0],
    ['lua.caches', si.scriptsMemory],
    ['functions.caches', si.functionsMemory],
  ];
  const tail: [string, number | string][] = [
    ['overhead.db.hashtable.lut', lut],
    ['overhead.db.hashtable.rehashing', 0],
    ['overhead.total', overhead],
    ['db.dict.rehashing.count', 0],
    ['keys.count', keys],
    ['keys.bytes-per-key', keys ? Math.floor(dataset / keys) : 0],
    ['dataset.bytes', dataset],
    ['dataset.percentage', (dataset * 100) / net],
    ['peak.percentage', (used * 100) / peak],
    ['allocator.allocated', allocated],
    ['allocator.active', active],
    ['allocator.resident', resident],
    ['allocator.muzzy', 0],
    ['allocator-fragmentation.ratio', active / allocated],
    ['allocator-fragmentation.bytes', active - allocated],
    ['allocator-rss.ratio', resident / active],
    ['allocator-rss.bytes', resident - active],
    ['rss-overhead.ratio', mu.rss / resident],
    ['rss-overhead.bytes', mu.rss - resident],
    ['fragmentation', mu.rss / used],
    ['fragmentation.bytes', mu.rss - used],
  ];
  c.addMapLen(head.length + dbs.length + tail.length);
  for (const p of head) addPair(c, p);
  for (const [id, main, exp] of dbs) {
    c.addBulk(`db.${id}`);
    c.addMapLen(2);
    c.addBulk('overhead.hashtable.main');
    c.addInt(main);
    c.addBulk('overhead.hashtable.expires');
    c.addInt(exp);
  }
  for (const p of tail) addPair(c, p);
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

/** The process's RSS before any data: the Node.js runtime and compiled code, which Valkey's RSS does not have. */
const RUNTIME_RSS = process.memoryUsage.rss();

/**
 * MEMORY DOCTOR, worded as Valkey's report, on Vireo's numbers: used memory
 * as INFO shows it, its peak, the RSS the data accounts for (RSS less the
 * runtime's own, measured before any data), client buffers, cached scripts.
 * Valkey's allocator-internal checks (jemalloc fragmentation, allocator RSS)
 * have no V8 counterpart and are left out.
 */
function memoryDoctor(c: Client): string {
  const server = c.server;
  server.sampleMemory();
  const used = server.usedMemory;
  const peak = Math.max(server.peakMemory, used);
  const startup = server.startupMemory;
  if (used - startup < 5 * 1024 * 1024) {
    return 'Hi Sam, this instance is empty or is using very little memory, my issues detector can\'t be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n';
  }
  const dataRss = process.memoryUsage.rss() - RUNTIME_RSS + startup;
  let n = 0;
  let bytes = 0;
  for (const cl of server.clients.values()) {
    n++;
    bytes += cl.out.length + cl.parser.pending() + cl.queuedOut();
  }
  let s = '';
  if (peak / used > 1.5) {
    s += ' * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Valkey instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Valkey instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n';
  }
  if (dataRss / used > 1.4 && dataRss - used > 10 << 20) {
    s += ` * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Valkey process is much larger than the sum of the logical allocations Valkey performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Note: The currently used allocator is "v8-${process.versions.v8}".\n\n`;
  }
  if (n > 0 && bytes / n > 1024 * 200) {
    s += ' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Valkey instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n';
  }
  if (scriptingInfo(server).scripts > 1000) {
    s += ' * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts\' caches may end up consuming most of your memory.\n\n';
  }
  if (s === '') return 'Hi Sam, I can\'t find any memory issue in your instance. I can only account for what occurs on this base.\n';
  return `Sam, I detected a few issues in this Valkey instance memory implants:\n\n${s}I'm here to keep you safe, Sam. I want to help you.\n`;
}

export const commands: HandlerMap = {
  'memory|usage': memoryUsage,
  'memory|help': memoryHelp,
  'memory|stats': (c) => memoryCommand(c, ['memory', 'stats']),
  'memory|doctor': (c) => memoryCommand(c, ['memory', 'doctor']),
  'memory|malloc-stats': (c) => memoryCommand(c, ['memory', 'malloc-stats']),
  'memory|purge': (c) => memoryCommand(c, ['memory', 'purge']),
};
