#!/usr/bin/env node
// Where the memory of bench/rdb.mjs's dataset goes, per kind of key (issue 6's
// peak-RSS target): for the strings, small hashes, lists and zsets of the
// mixed dataset (and all of them together), the V8 heap and external memory a
// Vireo server gains by loading them from an RDB (embedded server in a child
// process, full GCs before and after), against Redis's used_memory for the same
// file. Not a speed test: fine on a busy machine.
//
// Usage: node bench/rdb-heap.mjs [-n 1000000]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { ROOT, VIREO_BIN, opt, freePort, track } from './lib.mjs';

const cliArgs = process.argv.slice(2);
if (cliArgs[0] === '--child') {
  // Child: load <dir>/dump.rdb into an embedded server and print the heap it added.
  const dir = cliArgs[1];
  const { startServer } = await import(join(ROOT, 'dist', 'src', 'index.js'));
  const gc = async () => {
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const warm = await startServer({ port: 0 });
  await warm.close();
  await gc();
  const m0 = process.memoryUsage();
  const s = await startServer({ dir, port: 0 });
  while (s.server.rdb.loading) await new Promise((r) => setTimeout(r, 50));
  await gc();
  const m1 = process.memoryUsage();
  const keys = s.server.dbs[0].size;
  process.stdout.write(JSON.stringify({ keys, heap: m1.heapUsed - m0.heapUsed, ext: m1.external - m0.external, heapTotal: v8.getHeapStatistics().total_heap_size }) + '\n');
  await s.close();
  process.exit(0);
}

const N = Number(opt('-n', '1000000'));
const cli = (port, ...a) => execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const cmd = (...a) => {
  let s = `*${a.length}\r\n`;
  for (const x of a) s += `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`;
  return s;
};

/** bench/rdb.mjs's dataset, only the keys of `kind` ('all' for every key). */
function dataset(kind) {
  const parts = [];
  let buf = '';
  for (let i = 0; i < N; i++) {
    const t = i % 10;
    const k = t < 7 ? 'string' : t === 7 ? 'hash' : t === 8 ? 'list' : 'zset';
    if (kind === 'all' || kind === k) {
      if (t < 7) buf += cmd('SET', `key:${i}`, `value-${i}-abcdefgh`);
      else if (t === 7) buf += cmd('HSET', `hash:${i}`, 'name', `n${i}`, 'age', i % 100, 'city', 'somewhere');
      else if (t === 8) buf += cmd('RPUSH', `list:${i}`, 'a', 'b', `c${i}`, i);
      else buf += cmd('ZADD', `zset:${i}`, 1, 'one', 2.5, 'two', i, `m${i}`);
    }
    if ((kind === 'all' || kind === 'string') && i % 997 === 0) buf += cmd('PEXPIRE', `key:${i - (i % 10)}`, 86400000);
    if (buf.length > 1 << 20) {
      parts.push(buf);
      buf = '';
    }
  }
  parts.push(buf);
  return parts.join('');
}

async function serve(argv, port) {
  const p = track(spawn(argv[0], argv.slice(1), { stdio: 'ignore' }));
  for (;;) {
    try {
      if (/^loading:0\r?$/m.test(cli(port, 'info', 'persistence'))) return p;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(p) {
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

const rows = [];
for (const kind of ['string', 'hash', 'list', 'zset', 'all']) {
  const dir = mkdtempSync(join(tmpdir(), 'rdb-heap-'));
  writeFileSync(join(dir, 'data.resp'), dataset(kind));
  let port = await freePort();
  let p = await serve([process.execPath, VIREO_BIN, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], port);
  execFileSync('sh', ['-c', `redis-cli -p ${port} --pipe < ${join(dir, 'data.resp')} > /dev/null`]);
  cli(port, 'save');
  await stop(p);
  const child = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=16', new URL(import.meta.url).pathname, '--child', dir], { encoding: 'utf8' });
  const v = JSON.parse(child.stdout.trim().split('\n').pop());
  port = await freePort();
  p = await serve(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], port);
  const used = Number(/^used_memory:(\d+)/m.exec(cli(port, 'info', 'memory'))[1]);
  await stop(p);
  port = await freePort();
  const empty = mkdtempSync(join(tmpdir(), 'rdb-heap-empty-'));
  p = await serve(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', empty], port);
  const used0 = Number(/^used_memory:(\d+)/m.exec(cli(port, 'info', 'memory'))[1]);
  await stop(p);
  rmSync(empty, { recursive: true, force: true });
  rows.push({ kind, keys: v.keys, heap: v.heap, ext: v.ext, redis: used - used0 });
  rmSync(dir, { recursive: true, force: true });
}
console.log(`Memory of bench/rdb.mjs's ${N} mixed keys, loaded from an RDB`);
console.log('| keys | count | Vireo heap MB | Vireo external MB | Vireo heap B/key | Redis used_memory MB | Redis B/key |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const mb = (x) => (x / 1048576).toFixed(1);
  console.log(`| ${r.kind} | ${r.keys} | ${mb(r.heap)} | ${mb(r.ext)} | ${Math.round(r.heap / r.keys)} | ${mb(r.redis)} | ${Math.round(r.redis / r.keys)} |`);
}
process.exit(0);
