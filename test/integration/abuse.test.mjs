// Abuse: clients that try to knock the server over. Each test checks that the
// server still answers PING afterwards and that its resident memory stays
// bounded (read from /proc/<pid>/status).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
let admin;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

function rssBytes() {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

function infoField(info, name) {
  const m = new RegExp(`^${name}:(.*)\\r$`, 'm').exec(info);
  return m ? m[1] : undefined;
}

async function stat(name) {
  return Number(infoField(await admin.call('INFO', 'everything'), name));
}

async function alive(t, rssLimit) {
  assert.equal(await admin.call('PING'), '+PONG\r\n');
  const fresh = await RawConn.connect(srv.port);
  assert.equal(await fresh.call('PING'), '+PONG\r\n');
  fresh.close();
  const rss = rssBytes();
  t.diagnostic(`RSS ${Math.round(rss / MB)} MB (started at ${Math.round(baseRss / MB)} MB, bound ${Math.round(rssLimit / MB)} MB)`);
  assert.ok(rss < rssLimit, `RSS ${Math.round(rss / MB)} MB over ${Math.round(rssLimit / MB)} MB`);
  return rss;
}

let baseRss = 0;

before(async () => {
  srv = await startVireo([]);
  admin = await RawConn.connect(srv.port);
  baseRss = rssBytes();
});

after(async () => {
  admin?.close();
  await srv?.stop();
});

test('5,000 concurrent connections opening and closing', { timeout: 60000 }, async (t) => {
  const N = 5000;
  for (let round = 0; round < 2; round++) {
    const socks = [];
    let connected = 0;
    await new Promise((resolve, reject) => {
      for (let i = 0; i < N; i++) {
        const s = net.connect(srv.port, '127.0.0.1');
        s.on('connect', () => {
          if (++connected === N) resolve();
        });
        s.on('error', reject);
        socks.push(s);
      }
    });
    // Every one of them is a client: each gets its PONG.
    let pongs = 0;
    await new Promise((resolve) => {
      for (const s of socks) {
        s.on('data', () => {
          if (++pongs === N) resolve();
        });
        s.write('PING\r\n');
      }
    });
    assert.equal(Number(infoField(await admin.call('INFO', 'clients'), 'connected_clients')), N + 1);
    for (const s of socks) s.destroy();
    const t0 = Date.now();
    while (Number(infoField(await admin.call('INFO', 'clients'), 'connected_clients')) !== 1) {
      assert.ok(Date.now() - t0 < 10000, 'clients went away');
      await sleep(50);
    }
  }
  await alive(t, baseRss + 200 * MB);
});

test('a client that pipelines 1M commands and never reads is closed by the output buffer limit', { timeout: 60000 }, async (t) => {
  assert.equal(await admin.call('SET', 'k', 'v'.repeat(100)), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 32mb 16mb 10'), '+OK\r\n');
  const before = await stat('client_output_buffer_limit_disconnections');
  const s = net.connect(srv.port, '127.0.0.1');
  s.pause(); // never reads
  await new Promise((r) => s.on('connect', r));
  let closed = false;
  s.on('error', () => {});
  s.on('close', () => (closed = true));
  const one = '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n';
  const batch = Buffer.from(one.repeat(10000));
  let sent = 0;
  // 1M commands in batches of 10,000, waiting for the socket to drain like a real client.
  while (sent < 1000000 && !closed) {
    if (!s.write(batch)) await new Promise((r) => s.once('drain', r).once('close', r));
    sent += 10000;
  }
  const t0 = Date.now();
  while (!closed && Date.now() - t0 < 20000) await sleep(50);
  assert.ok(closed, 'the client was closed');
  t.diagnostic(`closed after ${sent} commands were sent`);
  assert.equal(await stat('client_output_buffer_limit_disconnections'), before + 1);
  await alive(t, baseRss + 300 * MB);
  assert.equal(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0'), '+OK\r\n');
});

test('1 GB bulk length: refused at once; a large one trickled is bounded by the query buffer limit', { timeout: 60000 }, async (tt) => {
  const c = await RawConn.connect(srv.port);
  c.write('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1073741824\r\n');
  assert.equal(await c.readBytes(100, 3000), '-ERR Protocol error: invalid bulk length\r\n');
  await c.waitClosed();
  // Raising proto-max-bulk-len does not let a 1 GB string in either (it cannot be held as one value).
  assert.equal(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '2gb'), '+OK\r\n');
  const c2 = await RawConn.connect(srv.port);
  c2.write('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1073741824\r\n');
  assert.equal(await c2.readBytes(100, 3000), '-ERR Protocol error: invalid bulk length\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb'), '+OK\r\n');
  // Just under the limit, trickled: memory grows with what arrived, not with what was announced.
  const big = 500 * MB;
  const t = await RawConn.connect(srv.port);
  t.write(`*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$${big}\r\n`);
  const rss0 = rssBytes();
  const t0 = Date.now();
  while (Date.now() - t0 < 2000) {
    t.write(Buffer.alloc(1024, 'z'));
    await sleep(10);
    assert.equal(await admin.call('PING'), '+PONG\r\n');
  }
  assert.ok(rssBytes() < rss0 + 100 * MB, `RSS grew by ${Math.round((rssBytes() - rss0) / MB)} MB`);
  // With client-query-buffer-limit 1mb the same client is closed once it sent more.
  const before = await stat('client_query_buffer_limit_disconnections');
  assert.equal(await admin.call('CONFIG', 'SET', 'client-query-buffer-limit', '1mb'), '+OK\r\n');
  const chunk = Buffer.alloc(64 * 1024, 'z');
  for (let i = 0; i < 40 && !t.closed; i++) {
    t.write(chunk);
    await sleep(5);
  }
  await t.waitClosed();
  assert.equal(await stat('client_query_buffer_limit_disconnections'), before + 1);
  assert.equal(await admin.call('CONFIG', 'SET', 'client-query-buffer-limit', '1gb'), '+OK\r\n');
  await alive(tt, baseRss + 300 * MB);
});

test('slow-loris clients (one byte per 100 ms) do not hold up others; `timeout` closes slower ones', { timeout: 60000 }, async (t) => {
  const cmd = Buffer.from('*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$2\r\nok\r\n');
  const loris = [];
  for (let i = 0; i < 50; i++) loris.push(await RawConn.connect(srv.port));
  let stop = false;
  const dripping = (async () => {
    for (let i = 0; !stop; i = (i + 1) % cmd.length) {
      for (const l of loris) l.write(cmd.subarray(i, i + 1));
      await sleep(100);
    }
  })();
  // Meanwhile other clients are served promptly.
  const other = await RawConn.connect(srv.port);
  let worst = 0;
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    assert.equal(await other.call('INCR', 'fast'), `:${i + 1}\r\n`);
    worst = Math.max(worst, performance.now() - t0);
    await sleep(50);
  }
  t.diagnostic(`worst INCR latency next to 50 slow-loris clients: ${worst.toFixed(1)} ms`);
  assert.ok(worst < 1500, `worst latency ${worst.toFixed(1)} ms`);
  // The drip completes real commands.
  const t1 = Date.now();
  while (Date.now() - t1 < 8000 && (await admin.call('GET', 'slow')) !== '$2\r\nok\r\n') await sleep(100);
  assert.equal(await admin.call('GET', 'slow'), '$2\r\nok\r\n');
  stop = true;
  await dripping;
  // A byte every 100 ms is activity; with `timeout 1`, a client silent for over a second is closed.
  assert.equal(await admin.call('CONFIG', 'SET', 'timeout', '1'), '+OK\r\n');
  const slower = await RawConn.connect(srv.port);
  slower.write('P');
  const t2 = Date.now();
  while (!slower.closed && Date.now() - t2 < 5000) {
    await sleep(200);
    assert.equal(await admin.call('PING'), '+PONG\r\n'); // the admin client keeps talking
  }
  assert.ok(slower.closed, 'idle slow-loris closed by timeout');
  assert.equal(await admin.call('CONFIG', 'SET', 'timeout', '0'), '+OK\r\n');
  for (const l of loris) l.close();
  other.close();
  await alive(t, baseRss + 200 * MB);
});
