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
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const TYPES = opt('--types', 'list').split(',');
const SHAPE = opt('--shape', 'one');
const MEMBERS = Number(opt('--members', '1000000'));
const KEYS = Number(opt('--keys', '100000'));
const PER = Number(opt('--per', '10'));
const SERVERS = opt('--servers', 'vireo,redis').split(',');
const BATCH = Number(opt('--batch', String(PER)));

const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function freePort() {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/** A minimal pipelining RESP client: send(argv) resolves with the raw reply text. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const waiting = [];
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      buf += d;
      for (;;) {
        const end = replyEnd(buf, 0);
        if (end < 0) break;
        const r = buf.slice(0, end);
        buf = buf.slice(end);
        waiting.shift()(r);
      }
    });
    sock.once('error', reject);
    sock.once('connect', () =>
      resolve({
        send(argv) {
          return new Promise((r) => {
            waiting.push(r);
            sock.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`, 'latin1');
          });
        },
        /** Writes many commands, resolves when all replied. */
        async pipeline(cmds) {
          let last;
          for (const c of cmds) last = this.send(c);
          return last;
        },
        close: () => sock.destroy(),
      }),
    );
  });
}

/** End offset of the first complete reply in s from p, or -1. */
function replyEnd(s, p) {
  const nl = s.indexOf('\r\n', p);
  if (nl < 0) return -1;
  const t = s[p];
  if (t === '$') {
    const n = Number(s.slice(p + 1, nl));
    if (n < 0) return nl + 2;
    return s.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 : -1;
  }
  if (t === '*') {
    const n = Number(s.slice(p + 1, nl));
    let q = nl + 2;
    for (let i = 0; i < n; i++) {
      q = replyEnd(s, q);
      if (q < 0) return -1;
    }
    return q;
  }
  return nl + 2;
}

async function startServer(kind) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-cmem-'));
  const argv =
    kind === 'redis'
      ? ['redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]]
      : [join(ROOT, 'bin', 'vireo-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning']];
  const proc = spawn(argv[0], argv[1], { stdio: 'ignore' });
  children.add(proc);
  for (let i = 0; i < 1200; i++) {
    try {
      const c = await connect(port);
      return { port, pid: proc.pid, proc, dir, c };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${kind} did not start`);
}

function rss(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

async function usedMemory(kind, s) {
  if (kind === 'vireo') {
    await s.c.send(['MEMORY', 'PURGE']);
    await s.c.send(['MEMORY', 'PURGE']);
  }
  await new Promise((r) => setTimeout(r, 300));
  const info = await s.c.send(['INFO', 'memory']);
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
      await s.c.pipeline(batch);
      batch = [];
    }
  }
  if (batch.length) await s.c.pipeline(batch);
  await new Promise((r) => setTimeout(r, 1000));
  const after = await usedMemory(kind, s);
  const enc = await s.c.send(['OBJECT', 'ENCODING', SHAPE === 'one' ? 'coll' : 'k:0000000']);
  s.c.close();
  s.proc.kill('SIGKILL');
  await new Promise((r) => s.proc.once('exit', r));
  rmSync(s.dir, { recursive: true, force: true });
  const n = SHAPE === 'one' ? MEMBERS : KEYS * PER;
  return { used: (after.used - before.used) / n, rss: (after.rss - before.rss) / n, enc: enc.split('\r\n')[1] };
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
