// Pub/Sub at scale: 10,000 subscribers (RESP2 and RESP3) on one server and a
// publisher; every message reaches every subscriber, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const SUBSCRIBERS = 10000;
const MESSAGES = 20;
let srv;
const socks = [];

before(async () => {
  srv = await startVireo(['--maxclients', String(SUBSCRIBERS + 100)]);
});
after(async () => {
  for (const s of socks) s.destroy();
  await srv.stop();
});

// Strings here are latin1 (one char per byte), like the wire.
const bulk = (s) => `$${s.length}\r\n${s}\r\n`;
const cmd = (...a) => `*${a.length}\r\n` + a.map(bulk).join('');

/** A bare subscriber socket that keeps everything it receives as one latin1 string. */
function connectSubscriber(resp3) {
  return new Promise((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1', () => {
      s.write(Buffer.from((resp3 ? cmd('HELLO', '3') : '') + cmd('SUBSCRIBE', 'fanout'), 'latin1'));
      resolve(st);
    });
    const st = { sock: s, data: '', resp3, waiters: [] };
    s.setEncoding('latin1');
    s.on('data', (d) => {
      st.data += d;
      const w = st.waiters;
      st.waiters = [];
      for (const f of w) f();
    });
    s.once('error', reject);
    socks.push(s);
  });
}

async function waitFor(st, pred, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!pred(st.data)) {
    if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(st.data.slice(-200))}`);
    await new Promise((r) => {
      st.waiters.push(r);
      setTimeout(r, 200);
    });
  }
}

test(`${SUBSCRIBERS} subscribers each get every message in order`, async () => {
  const subs = [];
  for (let i = 0; i < SUBSCRIBERS; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(SUBSCRIBERS, i + 500); j++) batch.push(connectSubscriber(j % 10 === 0));
    subs.push(...(await Promise.all(batch)));
  }
  const confirm = (st) => (st.resp3 ? '>' : '*') + '3\r\n$9\r\nsubscribe\r\n$6\r\nfanout\r\n:1\r\n';
  await Promise.all(subs.map((st) => waitFor(st, (d) => d.endsWith(confirm(st)))));
  const pub = await RawConn.connect(srv.port);
  try {
    assert.equal(await pub.call('PUBSUB', 'NUMSUB', 'fanout'), `*2\r\n$6\r\nfanout\r\n:${SUBSCRIBERS}\r\n`);
    // Pipelined publishes, binary payloads of different sizes.
    const msgs = [];
    for (let m = 0; m < MESSAGES; m++) msgs.push(`m${m}:` + 'x'.repeat(m * 37) + '\x00\xff');
    pub.write(Buffer.from(msgs.map((m) => cmd('PUBLISH', 'fanout', m)).join(''), 'latin1'));
    for (let m = 0; m < MESSAGES; m++) assert.equal(await pub.readReply(30000), `:${SUBSCRIBERS}\r\n`);
    const body = msgs.map((m) => '3\r\n$7\r\nmessage\r\n$6\r\nfanout\r\n' + `$${m.length}\r\n${m}\r\n`);
    const expect2 = confirm({ resp3: false }) + body.map((b) => '*' + b).join('');
    const expect3 = confirm({ resp3: true }) + body.map((b) => '>' + b).join('');
    await Promise.all(subs.map((st) => waitFor(st, (d) => d.length >= (st.resp3 ? expect3.length : expect2.length))));
    let bad = 0;
    for (const st of subs) {
      if (st.resp3) {
        if (!st.data.startsWith('%7\r\n') || !st.data.endsWith(expect3)) bad++;
      } else if (st.data !== expect2) bad++;
    }
    assert.equal(bad, 0, `${bad} subscribers got something else`);
    assert.match(await pub.call('INFO', 'clients'), new RegExp(`\r\npubsub_clients:${SUBSCRIBERS}\r\n`));
  } finally {
    pub.close();
  }
  for (const st of subs) st.sock.destroy();
});
