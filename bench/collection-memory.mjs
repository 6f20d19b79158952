#!/usr/bin/env node
// Memory per member of collections, Vireo vs Debian's redis-server, measured
// two ways so the numbers can be compared fairly:
//   - RSS growth (what `bench/run.mjs --collections` reports), and
//   - used_memory growth after a full GC on both sides (Vireo: MEMORY PURGE
//     runs V8's full GC; Redis's used_memory counts what it allocated, without
//     allocator slack), which leaves out garbage and V8's young generation,
//     whose size the load changes and which RSS attributes to the members.
// Shapes: `one` is one collection of --members members (the --collections
// preset); `small` is --keys keys holding --per members each (many small lists,
// hashes, ... in their compact encodings).
//
// Usage: node bench/collection-memory.mjs [--types list,hash,set,zset]
//        [--shape one|small] [--members 1000000] [--keys 100000] [--per 10] [--batch N]
//        [--servers vireo,redis]
import { readFileSync } from 'node:fs';
import { opt, startServer as startPinned, stopServer } from './lib.mjs';
import { Client, frame } from './resp.mjs';

const TYPES = opt('--types', 'list').split(',');
const SHAPE = opt('--shape', 'one');
const MEMBERS = Number(opt('--members', '1000000'));
const KEYS = Number(opt('--keys', '100000'));
const PER = Number(opt('--per', '10'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');
const BATCH = Number(opt('--batch', String(PER)));

/** A fresh server (bench/lib.mjs: pinned to CPU 0, temp dir, no persistence) and a client `c` on it. */
async function startServer(kind) {
  const s = await startPinned(kind, { prefix: 'vireo-cmem-' });
  return { ...s, c: await Client.open(s.port) };
}

function rss(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

async function usedMemory(kind, s) {
  if (kind === 'vireo') {
    await s.c.call('MEMORY', 'PURGE');
    await s.c.call('MEMORY', 'PURGE');
  }
  await new Promise((r) => setTimeout(r, 300));
  const info = await s.c.call('INFO', 'memory');
  return { used: Number(/used_memory:(\d+)/.exec(info)[1]), rss: rss(s.pid) };
}

function* commandsFor(type) {
  const name = { hash: 'HSET', set: 'SADD', zset: 'ZADD', list: 'RPUSH' }[type];
  const add = (argv, i) => {
    const m = 'm:' + String(i).padStart(7, '0');
    const v = String(i % 1000);
    if (type === 'hash') argv.push(m, v);
    else if (type === 'zset') argv.push(v, m);
    else argv.push(m);
  };
  if (SHAPE === 'one') {
    for (let from = 0; from < MEMBERS; from += 100) {
      const argv = [name, 'coll'];
      for (let i = from; i < Math.min(MEMBERS, from + 100); i++) add(argv, i);
      yield argv;
    }
  } else {
    // --batch members per command; with fewer than --per, the keys fill in
    // rounds (every key gets its next members before any key gets more), the
    // way many small collections grow in practice.
    for (let from = 0; from < PER; from += BATCH) {
      for (let k = 0; k < KEYS; k++) {
        const argv = [name, 'k:' + String(k).padStart(7, '0')];
        for (let i = from; i < Math.min(PER, from + BATCH); i++) add(argv, k * PER + i);
        yield argv;
      }
    }
  }
}

async function measure(kind, type) {
  const s = await startServer(kind);
  const before = await usedMemory(kind, s);
  let batch = [];
  for (const argv of commandsFor(type)) {
    batch.push(argv);
    if (batch.length === 200) {
      await s.c.pipeline(batch.map(frame).join(''), batch.length);
      batch = [];
    }
  }
  if (batch.length) await s.c.pipeline(batch.map(frame).join(''), batch.length);
  await new Promise((r) => setTimeout(r, 1000));
  const after = await usedMemory(kind, s);
  const enc = await s.c.call('OBJECT', 'ENCODING', SHAPE === 'one' ? 'coll' : 'k:0000000');
  s.c.close();
  await stopServer(s, { signal: 'SIGKILL' });
  const n = SHAPE === 'one' ? MEMBERS : KEYS * PER;
  return { used: (after.used - before.used) / n, rss: (after.rss - before.rss) / n, enc };
}

const what = SHAPE === 'one' ? `one collection of ${MEMBERS} members` : `${KEYS} keys x ${PER} members`;
console.log(`| ${what} | server | encoding | used_memory bytes/member (after full GC) | RSS bytes/member |`);
console.log('|---|---|---|---:|---:|');
for (const type of TYPES) {
  for (const kind of SERVERS) {
    const m = await measure(kind, type);
    console.log(`| ${type} | ${kind} | ${m.enc} | ${m.used.toFixed(1)} | ${m.rss.toFixed(1)} |`);
  }
}
