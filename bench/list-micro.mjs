#!/usr/bin/env node
// Microbenchmark of the list structure (dist/data/list.js) on small lists, the
// operations a typical queue/feed workload runs, in CPU ns/op (best of
// --trials runs, so a shared machine's noise mostly drops out), plus the heap + external
// bytes one small list costs after a full GC.
//
//   lindex        get(i) on 10,000 lists of 8 elements, random list and index
//   lpush-new     new list + one LPUSH of one element (growCheck + push)
//   lpush-3       LPUSH of 3 more elements onto those lists
//   lpop+rpush    pop the head and push it back at the tail (rotate), random list
//   lrange-all    range(0, -1) of an 8-element list into strings
//   mem/list      bytes per 8-element list of 9-byte members
//
// Usage: npm run build && node --expose-gc bench/list-micro.mjs [--trials 7] [--ops 1000000]
//        [--impl path/to/list.js]   (another build of the structure, for A/B runs)
import { pathToFileURL } from 'node:url';

const implArg = process.argv.indexOf('--impl');
const { ListValue } = await import(implArg > 0 ? pathToFileURL(process.argv[implArg + 1]).href : '../dist/src/data/list.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const TRIALS = opt('--trials', 7);
const OPS = opt('--ops', 1000000);
const LISTS = 10000;
const FILL = -2;

const member = (i) => 'm:' + String(i).padStart(7, '0');
// Arguments as the server gets them: fresh strings per command.
const argPool = [];
for (let i = 0; i < 4096; i++) argPool.push(member(i));
const rnd = new Uint32Array(OPS);
for (let i = 0; i < OPS; i++) rnd[i] = (Math.random() * 0xffffffff) >>> 0;

function makeLists(n, per) {
  const lists = [];
  for (let k = 0; k < n; k++) {
    const l = new ListValue();
    const argv = ['RPUSH', 'key'];
    for (let i = 0; i < per; i++) argv.push(member(k * per + i));
    l.pushAll(argv, 2, false, FILL);
    lists.push(l);
  }
  return lists;
}

function best(name, fn) {
  let min = Infinity;
  for (let t = 0; t < TRIALS; t++) {
    // CPU time of this process, not wall time: on a shared machine the wait
    // for a core drops out (GC helper threads still count, as they should).
    const t0 = process.cpuUsage();
    const ops = fn();
    const d = process.cpuUsage(t0);
    const ns = ((d.user + d.system) * 1000) / ops;
    if (ns < min) min = ns;
  }
  console.log(`${name.padEnd(12)} ${min.toFixed(1).padStart(7)} ns/op`);
  return min;
}

let sink = 0;
const lists = makeLists(LISTS, 8);

best('lindex', () => {
  for (let i = 0; i < OPS; i++) {
    const r = rnd[i];
    const s = lists[r % LISTS].get((r >>> 16) & 7);
    sink += s.length;
  }
  return OPS;
});

let fresh = [];
best('lpush-new', () => {
  fresh = new Array(LISTS * 10);
  const n = fresh.length;
  for (let i = 0; i < n; i++) {
    const l = new ListValue();
    const argv = ['LPUSH', 'key', argPool[i & 4095]];
    l.pushAll(argv, 2, true, FILL);
    fresh[i] = l;
  }
  return n;
});

best('lpush-3', () => {
  const n = fresh.length;
  for (let i = 0; i < n; i++) {
    const argv = ['LPUSH', 'key', argPool[i & 4095], argPool[(i + 1) & 4095], argPool[(i + 2) & 4095]];
    fresh[i].pushAll(argv, 2, true, FILL);
  }
  return n;
});

best('lpop+rpush', () => {
  for (let i = 0; i < OPS; i++) {
    const l = lists[rnd[i] % LISTS];
    const s = l.pop(true);
    l.shrinkCheck(FILL);
    l.growCheck(FILL, s.length, 1);
    l.push(s, false);
  }
  return OPS;
});

best('lrange-all', () => {
  const n = OPS / 4;
  for (let i = 0; i < n; i++) {
    const l = lists[rnd[i] % LISTS];
    sink += l.range(0, l.length - 1).length;
  }
  return n;
});

if (typeof globalThis.gc === 'function') {
  const used = () => {
    globalThis.gc();
    globalThis.gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers * 0;
  };
  fresh = null;
  const keep = [];
  const before = used();
  const N = 100000;
  for (let k = 0; k < N; k++) {
    const l = new ListValue();
    for (let i = 0; i < 8; i++) {
      // Pushed one command at a time, like a queue being filled.
      const s = member(k * 8 + i);
      l.growCheck(FILL, s.length, 1);
      l.push(s, false);
    }
    keep.push(l);
  }
  const after = used();
  console.log(`mem/list     ${((after - before) / N - 8).toFixed(1).padStart(7)} bytes per 8-element list (one-by-one pushes; excludes the 8-byte array slot)`);
  keep.length = 0;
} else console.log('(run with node --expose-gc for the memory line)');
if (sink === 42) console.log('');
