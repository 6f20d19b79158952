#!/usr/bin/env node
// Load drivers for the benchmarks redis-benchmark cannot express. bench/run.mjs
// starts this under `taskset -c 1` (the benchmark-client CPU) after it has
// pre-filled the server, and reads one JSON line from stdout.
//
//   node bench/driver.mjs multi  --port P --clients C --pipeline K --n TX [--keyspace R]
//     C connections; each keeps K transactions in flight, written in one go:
//     MULTI, SET key:<r>, INCR counter:<r>, SET, INCR, SET, EXEC. Every EXEC reply
//     is checked to be a 5-element array. ops = transactions.
//   node bench/driver.mjs xgroup --port P --clients C --pipeline K --n CYCLES --key S --group G
//     C consumers (c0..), each loops: K x XREADGROUP GROUP G c<i> COUNT 10 STREAMS S >,
//     then one XACK S G <ids> per read, written together with the next K reads.
//     ops = commands (XREADGROUP + XACK); also reports entries read and acked.
//   node bench/driver.mjs subscribe --port P --subs S --channel CH --payload-len L
//     S raw sockets SUBSCRIBE CH; prints "ready" once all are subscribed, then
//     counts bytes until each socket has received the sentinel message (payload
//     of L 'E's). Frames are fixed-size, so bytes/frame is the message count;
//     messages/s is timed from the first message to the last one before the sentinel.
import { performance } from 'node:perf_hooks';
import { connect, frame, RespParser, ReplyError } from './resp.mjs';

const [mode, ...rest] = process.argv.slice(2);
const opt = (name, def) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : def;
};
const PORT = Number(opt('--port'));
const CLIENTS = Number(opt('--clients', '50'));
const PIPE = Number(opt('--pipeline', '1'));
const N = Number(opt('--n', '10000'));

function fail(msg) {
  process.stdout.write(JSON.stringify({ error: msg }) + '\n');
  process.exit(1);
}

/** Splits `total` units over `k` workers as evenly as possible. */
const share = (total, k, i) => Math.floor(total / k) + (i < total % k ? 1 : 0);

async function multi() {
  const keyspace = Number(opt('--keyspace', '100000'));
  const rnd = () => String(Math.floor(Math.random() * keyspace)).padStart(12, '0');
  // A pool of pre-encoded transactions with random keys keeps the driver's own
  // per-transaction work small (same pool shape against both servers).
  const POOL = 4096;
  const pool = [];
  for (let i = 0; i < POOL; i++) {
    pool.push(
      frame(['MULTI']) +
        frame(['SET', `key:${rnd()}`, 'xxx']) +
        frame(['INCR', `counter:${rnd()}`]) +
        frame(['SET', `key:${rnd()}`, 'xxx']) +
        frame(['INCR', `counter:${rnd()}`]) +
        frame(['SET', `key:${rnd()}`, 'xxx']) +
        frame(['EXEC']),
    );
  }
  const socks = await Promise.all(Array.from({ length: CLIENTS }, () => connect(PORT)));
  let next = 0;
  let done = 0;
  let bad = 0;
  const t0 = performance.now();
  await Promise.all(
    socks.map(
      (sock, i) =>
        new Promise((resolve) => {
          let quota = share(N, CLIENTS, i);
          const parser = new RespParser();
          let expect = 0; // replies outstanding in this batch
          const send = () => {
            const k = Math.min(PIPE, quota);
            if (k === 0) return resolve();
            quota -= k;
            let s = '';
            for (let j = 0; j < k; j++) s += pool[next++ & (POOL - 1)];
            expect = k * 7;
            sock.write(s);
          };
          sock.on('data', (d) => {
            for (const v of parser.push(d)) {
              expect--;
              // Every 7th reply of a transaction is EXEC's.
              if (expect % 7 === 0) {
                if (!Array.isArray(v) || v.length !== 5) bad++;
                done++;
              } else if (v instanceof ReplyError) bad++;
              if (expect === 0) send();
            }
          });
          sock.on('error', (e) => fail(`multi: ${e.message}`));
          send();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const s of socks) s.destroy();
  if (bad) fail(`multi: ${bad} bad replies`);
  return { ops: done, seconds };
}

async function xgroup() {
  const key = opt('--key', 'bench:group');
  const group = opt('--group', 'g');
  const socks = await Promise.all(Array.from({ length: CLIENTS }, () => connect(PORT)));
  let commands = 0;
  let entries = 0;
  let acked = 0;
  let short = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    socks.map(
      (sock, i) =>
        new Promise((resolve) => {
          let quota = share(N, CLIENTS, i);
          const readFrame = frame(['XREADGROUP', 'GROUP', group, `c${i}`, 'COUNT', '10', 'STREAMS', key, '>']);
          const parser = new RespParser();
          let toAck = []; // arrays of ids from the last batch of reads
          let kinds = [];
          let idx = 0;
          const send = () => {
            let s = '';
            kinds = [];
            idx = 0;
            for (const ids of toAck) {
              s += frame(['XACK', key, group, ...ids]);
              kinds.push(0);
            }
            toAck = [];
            const k = Math.min(PIPE, quota);
            quota -= k;
            for (let j = 0; j < k; j++) {
              s += readFrame;
              kinds.push(1);
            }
            if (kinds.length === 0) return resolve();
            sock.write(s);
          };
          sock.on('data', (d) => {
            for (const v of parser.push(d)) {
              commands++;
              const kind = kinds[idx++];
              if (v instanceof ReplyError) errors++;
              else if (kind === 1) {
                // [[key, [[id, [field, value]], ...]]] or null when nothing is new.
                const list = v?.[0]?.[1] ?? [];
                if (list.length < 10) short++;
                if (list.length) {
                  entries += list.length;
                  toAck.push(list.map((e) => e[0]));
                }
              } else acked += v;
              if (idx === kinds.length) send();
            }
          });
          sock.on('error', (e) => fail(`xgroup: ${e.message}`));
          send();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const s of socks) s.destroy();
  if (errors) fail(`xgroup: ${errors} error replies`);
  return { ops: commands, seconds, entries, acked, shortReads: short };
}

async function subscribe() {
  const subs = Number(opt('--subs', '1'));
  const channel = opt('--channel', 'bench:chan');
  const plen = Number(opt('--payload-len'));
  const clen = Buffer.byteLength(channel);
  const ackBytes = `*3\r\n$9\r\nsubscribe\r\n$${clen}\r\n${channel}\r\n:1\r\n`.length;
  const head = `*3\r\n$7\r\nmessage\r\n$${clen}\r\n${channel}\r\n$${plen}\r\n`;
  const msgBytes = head.length + plen + 2;
  // The run ends with one message whose payload is all 'E' (run.mjs publishes it
  // after redis-benchmark exits, which may send a few more than -n at -P > 1).
  const sentinel = Buffer.from(head + 'E'.repeat(plen) + '\r\n', 'latin1');
  const socks = await Promise.all(Array.from({ length: subs }, () => connect(PORT)));
  let first = 0;
  let last = 0;
  let ready = 0;
  let finished = 0;
  let lastProgress = performance.now();
  const got = new Array(subs).fill(0);
  const tails = new Array(subs).fill(Buffer.alloc(0));
  const prevTime = new Array(subs).fill(0);
  await new Promise((resolve) => {
    socks.forEach((sock, i) => {
      sock.on('data', (d) => {
        const now = performance.now();
        const before = got[i];
        got[i] += d.length;
        lastProgress = now;
        if (before < ackBytes) {
          if (got[i] >= ackBytes && ++ready === subs) process.stdout.write('ready\n');
          if (got[i] <= ackBytes) return;
        }
        if (!first) first = now;
        const tail = d.length >= msgBytes ? d.subarray(d.length - msgBytes) : Buffer.concat([tails[i], d]).subarray(-msgBytes);
        tails[i] = tail;
        if (tail.length === msgBytes && tail.equals(sentinel)) {
          // End of this subscriber's stream: time the last real message, not the sentinel.
          const t = d.length <= msgBytes ? prevTime[i] : now;
          if (t > last) last = t;
          if ((got[i] - ackBytes) % msgBytes !== 0) fail(`subscribe: socket ${i} stream is not whole messages`);
          if (++finished === subs) resolve();
        }
        prevTime[i] = now;
      });
      sock.on('close', () => {
        if (finished < subs) fail(`subscribe: socket ${i} closed after ${got[i]} bytes (output buffer limit?)`);
      });
      sock.on('error', () => {});
      sock.write(frame(['SUBSCRIBE', channel]));
    });
    // Stall detector: the publisher may have failed.
    setInterval(() => {
      if (performance.now() - lastProgress > 30000) fail(`subscribe: stalled, ${finished} of ${subs} subscribers finished`);
    }, 1000).unref();
  });
  for (const s of socks) s.destroy();
  const messages = got.reduce((a, b) => a + (b - ackBytes) / msgBytes - 1, 0);
  return { messages, publishes: messages / subs, seconds: (last - first) / 1000 };
}

const modes = { multi, xgroup, subscribe };
if (!modes[mode]) fail(`unknown mode ${mode}`);
const r = await modes[mode]();
process.stdout.write(JSON.stringify(r) + '\n');
process.exit(0);
