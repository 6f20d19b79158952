// client-output-buffer-limit pubsub: a subscriber that stops reading is
// disconnected at the hard limit, or after staying over the soft limit for the
// soft seconds, while the others keep receiving and the server's RSS stays bounded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const servers = [];
const socks = [];
after(async () => {
  for (const s of socks) s.destroy();
  await Promise.all(servers.map((s) => s.stop()));
});

function rssKb(pid, field = 'VmRSS') {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

/** A subscriber socket: counts bytes, or stops reading altogether (paused). */
function subscriber(port, channel, { paused }) {
  return new Promise((resolve, reject) => {
    const st = { bytes: 0, closed: false, paused };
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`*2\r\n$9\r\nSUBSCRIBE\r\n$${channel.length}\r\n${channel}\r\n`);
      resolve(st);
    });
    st.sock = s;
    s.on('data', (d) => {
      st.bytes += d.length;
      // Once subscribed, a slow consumer stops reading: the kernel buffers fill, then the server's.
      if (st.paused) s.pause();
    });
    s.on('close', () => (st.closed = true));
    s.on('error', () => {});
    socks.push(s);
  });
}

async function until(pred, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const disconnections = async (c) => Number(/client_output_buffer_limit_disconnections:(\d+)/.exec(await c.call('INFO', 'stats'))[1]);

test('hard limit: a subscriber that does not read is closed, RSS stays bounded', async (t) => {
  const srv = await startVireo(['--client-output-buffer-limit', 'pubsub 1mb 512kb 1', '--loglevel', 'notice']);
  servers.push(srv);
  const pub = await RawConn.connect(srv.port);
  socks.push(pub.sock);
  assert.match(await pub.call('CONFIG', 'GET', 'client-output-buffer-limit'), /pubsub 1048576 524288 1\r\n$/);
  const slow = await subscriber(srv.port, 'big', { paused: true });
  const fast = await subscriber(srv.port, 'big', { paused: false });
  await until(async () => (await pub.call('PUBSUB', 'NUMSUB', 'big')).endsWith(':2\r\n'));
  const baseRss = rssKb(srv.proc.pid);
  const payload = 'p'.repeat(64 * 1024);
  const frame = `*3\r\n$7\r\nPUBLISH\r\n$3\r\nbig\r\n$${payload.length}\r\n${payload}\r\n`;
  // Publish until the slow one is dropped (or 256 MB were sent: far more than any buffer should hold).
  let sent = 0;
  while ((await disconnections(pub)) === 0 && sent < 4096) {
    pub.write(frame.repeat(16));
    for (let i = 0; i < 16; i++) await pub.readReply(10000);
    sent += 16;
  }
  assert.equal(await disconnections(pub), 1);
  assert.ok(sent < 4096, 'the slow subscriber was never disconnected');
  await until(async () => (await pub.call('PUBSUB', 'NUMSUB', 'big')).endsWith(':1\r\n'));
  // The fast subscriber got everything (each frame is the same size).
  const msgFrame = `*3\r\n$7\r\nmessage\r\n$3\r\nbig\r\n$${payload.length}\r\n${payload}\r\n`.length;
  const confirm = '*3\r\n$9\r\nsubscribe\r\n$3\r\nbig\r\n:1\r\n'.length + 0;
  await until(() => fast.bytes >= confirm + sent * msgFrame);
  // A few more messages reach only the fast subscriber.
  assert.equal(await pub.call('PUBLISH', 'big', 'tail'), ':1\r\n');
  // The slow subscriber's connection is gone once it reads again.
  slow.paused = false;
  slow.sock.resume();
  await until(() => slow.closed);
  assert.ok(slow.bytes < sent * msgFrame, 'the slow subscriber cannot have received everything');
  // Server memory did not grow with what was published (sent * 64 KB).
  const peak = rssKb(srv.proc.pid, 'VmHWM');
  t.diagnostic(`published ${sent} x 64 KB before the disconnect; slow subscriber read ${slow.bytes} bytes; RSS ${baseRss} kB -> peak ${peak} kB`);
  assert.ok(peak - baseRss < 96 * 1024, `RSS grew by ${peak - baseRss} kB after publishing ${sent * 64} kB`);
  assert.match(srv.output(), /Client id=\d+ addr=\S+ .*flags=P .* scheduled to be closed ASAP for overcoming of output buffer limits\./);
});

test('soft limit: over it for longer than the soft seconds', async () => {
  // No hard limit; soft limit 256 KB for 1 second.
  const srv = await startVireo(['--client-output-buffer-limit', 'pubsub 0 256kb 1']);
  servers.push(srv);
  const pub = await RawConn.connect(srv.port);
  socks.push(pub.sock);
  const slow = await subscriber(srv.port, 'soft', { paused: true });
  await until(async () => (await pub.call('PUBSUB', 'NUMSUB', 'soft')).endsWith(':1\r\n'));
  const payload = 's'.repeat(64 * 1024);
  const frame = `*3\r\n$7\r\nPUBLISH\r\n$4\r\nsoft\r\n$${payload.length}\r\n${payload}\r\n`;
  const t0 = Date.now();
  let firstOver = 0;
  // Fill the buffers, then keep publishing a little while the soft limit stays exceeded.
  while ((await disconnections(pub)) === 0 && Date.now() - t0 < 20000) {
    pub.write(frame.repeat(8));
    for (let i = 0; i < 8; i++) await pub.readReply(10000);
    const list = await pub.call('CLIENT', 'LIST', 'TYPE', 'pubsub');
    const omem = /omem=(\d+)/.exec(list);
    if (omem && Number(omem[1]) >= 256 * 1024 && firstOver === 0) firstOver = Date.now();
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await disconnections(pub), 1);
  // It was seen over the soft limit and still connected (CLIENT LIST omem) before it was dropped.
  assert.ok(firstOver !== 0, 'never observed over the soft limit before the disconnect');
  slow.paused = false;
  slow.sock.resume();
  await until(() => slow.closed);
  assert.equal(await pub.call('PUBSUB', 'NUMSUB', 'soft'), '*2\r\n$4\r\nsoft\r\n:0\r\n');
});
