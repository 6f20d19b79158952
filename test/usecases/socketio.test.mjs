// Use case: pub/sub fan-out between app servers. Two Socket.IO servers joined
// by @socket.io/redis-adapter (classic PUBLISH/SUBSCRIBE, here over ioredis) and
// by its sharded adapter (SPUBLISH/SSUBSCRIBE and PUBSUB SHARDNUMSUB, over
// node-redis): a socket.io-client connected to server A receives a room
// broadcast emitted on server B, fetchSockets() on B sees A's sockets, and a
// client outside the room receives nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Server as IOServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startServer } from '../../dist/src/index.js';

let srv;
before(async () => {
  srv = await startServer({});
});
after(async () => {
  await srv?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ioServer(makeAdapter) {
  const { adapter, close: closeClients } = await makeAdapter();
  const http = createServer();
  const io = new IOServer(http, { adapter });
  io.on('connection', (socket) => {
    const room = socket.handshake.query.room;
    if (room) socket.join(room);
    socket.data.name = socket.handshake.query.name;
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  return {
    io,
    url: `http://127.0.0.1:${http.address().port}`,
    async close() {
      io.close();
      http.closeAllConnections?.();
      await closeClients();
    },
  };
}

function connect(url, query) {
  const c = ioClient(url, { query, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('connect_error', reject);
  });
}

async function scenario(makeAdapter, channelCheck) {
  const A = await ioServer(makeAdapter);
  const B = await ioServer(makeAdapter);
  const clients = [];
  try {
    const inRoom = await connect(A.url, { room: 'match-42', name: 'alice' });
    const outside = await connect(A.url, { room: 'lobby', name: 'bob' });
    const onB = await connect(B.url, { room: 'match-42', name: 'carol' });
    clients.push(inRoom, outside, onB);
    // Subscriptions are sent when the adapters are created; wait until the server has them all.
    for (let deadline = Date.now() + 3000; ; ) {
      try {
        await channelCheck();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(50);
      }
    }
    const got = { alice: [], bob: [], carol: [] };
    inRoom.on('score', (m) => got.alice.push(m));
    outside.on('score', (m) => got.bob.push(m));
    onB.on('score', (m) => got.carol.push(m));
    // Emitted on B, for the room: delivered to A's client through the server.
    B.io.to('match-42').emit('score', { home: 2, away: 1 });
    B.io.to('match-42').emit('score', { home: 3, away: 1, bin: Buffer.from([0, 1, 2, 255]) });
    const deadline = Date.now() + 5000;
    while (got.alice.length < 2 && Date.now() < deadline) await sleep(20);
    assert.equal(got.alice.length, 2, 'client on A received both broadcasts from B');
    assert.deepEqual(got.alice[0], { home: 2, away: 1 });
    assert.equal(got.alice[1].home, 3);
    assert.deepEqual([...new Uint8Array(got.alice[1].bin)], [0, 1, 2, 255], 'binary payload intact');
    assert.equal(got.carol.length, 2, 'local room member on B too');
    await sleep(150);
    assert.equal(got.bob.length, 0, 'client outside the room got nothing');
    // Request/response across servers (the adapter counts subscribers with PUBSUB NUMSUB / SHARDNUMSUB).
    const sockets = await B.io.in('match-42').fetchSockets();
    assert.deepEqual(sockets.map((s) => s.data.name).sort(), ['alice', 'carol']);
    // Emitted on A to everyone: B's client receives it.
    const hello = new Promise((r) => onB.once('hello', r));
    A.io.emit('hello', 'from A');
    assert.equal(await hello, 'from A');
  } finally {
    for (const c of clients) c.disconnect();
    await A.close();
    await B.close();
  }
}

test('@socket.io/redis-adapter (PUBLISH/SUBSCRIBE, ioredis): room broadcast from B reaches a client on A', async () => {
  const opened = [];
  await scenario(
    async () => {
      const pub = new Redis(srv.port, '127.0.0.1');
      const sub = pub.duplicate();
      opened.push(pub, sub);
      return { adapter: createAdapter(pub, sub), close: async () => {} };
    },
    async () => {
      const admin = new Redis(srv.port, '127.0.0.1');
      // Each server's sub client listens on the broadcast pattern and request channels.
      // Both servers PSUBSCRIBE the same broadcast pattern: one unique pattern.
      assert.equal(await admin.pubsub('NUMPAT'), 1);
      const chans = await admin.pubsub('CHANNELS', 'socket.io*');
      assert.ok(chans.includes('socket.io-request#/#'), JSON.stringify(chans));
      assert.deepEqual(await admin.pubsub('NUMSUB', 'socket.io-request#/#'), ['socket.io-request#/#', 2]);
      admin.disconnect();
    },
  ).finally(() => {
    for (const c of opened) c.disconnect();
  });
});

test('@socket.io/redis-adapter sharded (SSUBSCRIBE, node-redis, dynamic rooms): room broadcast from B reaches a client on A', async () => {
  const opened = [];
  await scenario(
    async () => {
      const pub = createClient({ url: `redis://127.0.0.1:${srv.port}` });
      const sub = pub.duplicate();
      await Promise.all([pub.connect(), sub.connect()]);
      opened.push(pub, sub);
      return { adapter: createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' }), close: async () => {} };
    },
    async () => {
      const admin = createClient({ url: `redis://127.0.0.1:${srv.port}` });
      await admin.connect();
      // The sharded adapter uses shard channels only: one per namespace and, in
      // dynamic mode, one per room; both servers subscribed to the room's.
      const shard = await admin.sendCommand(['PUBSUB', 'SHARDCHANNELS', 'socket.io*']);
      assert.ok(shard.includes('socket.io#/#match-42#'), JSON.stringify(shard));
      const counts = await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', 'socket.io#/#match-42#', 'socket.io#/#']);
      assert.deepEqual(counts, ['socket.io#/#match-42#', 2, 'socket.io#/#', 2]);
      assert.deepEqual(await admin.sendCommand(['PUBSUB', 'CHANNELS']), [], 'no classic channels used');
      await admin.quit();
    },
  ).finally(() => Promise.all(opened.map((c) => c.quit())));
});
