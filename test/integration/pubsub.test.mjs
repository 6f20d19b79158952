// Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE,
// SUNSUBSCRIBE, SPUBLISH and PUBSUB introspection, byte for byte over raw sockets
// in RESP2 and RESP3, the RESP2 subscribed context, RESET, CLIENT LIST/KILL,
// INFO, client-output-buffer-limit CONFIG GET/SET, and ioredis / node-redis
// (RESP2 and RESP3) subscribers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
let port;
const open = [];

before(async () => {
  srv = await startVireo();
  // PUBSUB_TEST_PORT points the raw-byte tests at another server (e.g. a reference).
  port = Number(process.env.PUBSUB_TEST_PORT || srv.port);
});
after(async () => {
  for (const c of open) {
    try {
      c.close?.();
      c.disconnect?.();
    } catch {}
  }
  await srv.stop();
});

async function raw(resp = 2) {
  const c = await RawConn.connect(port);
  open.push(c);
  if (resp === 3) {
    const r = await c.call('HELLO', '3');
    assert.match(r, /^%7\r\n/);
  }
  return c;
}

const bulk = (s) => (s === null ? null : `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`);
/** A push frame (RESP2 array / RESP3 push): strings are bulks, numbers integers, null a null. */
function push(resp, ...items) {
  let out = (resp === 3 ? '>' : '*') + items.length + '\r\n';
  for (const it of items) {
    if (it === null) out += resp === 3 ? '_\r\n' : '$-1\r\n';
    else if (typeof it === 'number') out += `:${it}\r\n`;
    else out += bulk(it);
  }
  return out;
}
const arr = (...items) => `*${items.length}\r\n` + items.map((x) => (typeof x === 'number' ? `:${x}\r\n` : bulk(x))).join('');

/** Reads `n` replies/frames. */
async function frames(c, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await c.readReply());
  return out;
}

/** Reads `n` frames: the first as is, the rest (one per matching pattern) sorted. */
async function framesPatSorted(c, n) {
  const f = await frames(c, n);
  return [f[0], ...f.slice(1).sort()];
}

/** Waits until no more bytes arrive for a short while and returns what is buffered. */
async function nothingMore(c) {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.buf.toString('latin1'), '');
}

const CTX = (cmd) => `-ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n`;

for (const resp of [2, 3]) {
  test(`RESP${resp}: subscribe / unsubscribe confirmations and running counts`, async () => {
    const c = await raw(resp);
    // Nothing subscribed: one frame with a null channel, for each kind.
    assert.equal(await c.call('UNSUBSCRIBE'), push(resp, 'unsubscribe', null, 0));
    assert.equal(await c.call('PUNSUBSCRIBE'), push(resp, 'punsubscribe', null, 0));
    assert.equal(await c.call('SUNSUBSCRIBE'), push(resp, 'sunsubscribe', null, 0));
    c.send('SUBSCRIBE', 'a', 'b', 'a');
    assert.deepEqual(await frames(c, 3), [push(resp, 'subscribe', 'a', 1), push(resp, 'subscribe', 'b', 2), push(resp, 'subscribe', 'a', 2)]);
    assert.equal(await c.call('PSUBSCRIBE', 'x*'), push(resp, 'psubscribe', 'x*', 3));
    // Shard channels count on their own.
    c.send('SSUBSCRIBE', 's1', 's2');
    assert.deepEqual(await frames(c, 2), [push(resp, 'ssubscribe', 's1', 1), push(resp, 'ssubscribe', 's2', 2)]);
    // Unsubscribing a channel never subscribed still confirms, with the count unchanged.
    c.send('UNSUBSCRIBE', 'zz', 'a');
    assert.deepEqual(await frames(c, 2), [push(resp, 'unsubscribe', 'zz', 3), push(resp, 'unsubscribe', 'a', 2)]);
    c.send('SUNSUBSCRIBE');
    assert.deepEqual(await frames(c, 2), [push(resp, 'sunsubscribe', 's1', 1), push(resp, 'sunsubscribe', 's2', 0)]);
    assert.equal(await c.call('PUNSUBSCRIBE'), push(resp, 'punsubscribe', 'x*', 1));
    assert.equal(await c.call('UNSUBSCRIBE'), push(resp, 'unsubscribe', 'b', 0));
    // Out of the subscribed context: ordinary commands work again.
    assert.equal(await c.call('GET', 'pubsub:nokey'), resp === 3 ? '_\r\n' : '$-1\r\n');
    await nothingMore(c);
  });

  test(`RESP${resp}: message, pmessage and smessage frames`, async () => {
    const sub = await raw(resp);
    const pub = await raw(2);
    sub.send('SUBSCRIBE', 'news');
    sub.send('PSUBSCRIBE', 'n*', 'ne?s', 'zzz');
    sub.send('SSUBSCRIBE', 'shard');
    await frames(sub, 5);
    // One channel subscriber + two matching patterns = 3 receivers.
    assert.equal(await pub.call('PUBLISH', 'news', 'hello'), ':3\r\n');
    // The channel's subscribers first, then each matching pattern (patterns in no fixed order).
    assert.deepEqual(await framesPatSorted(sub, 3), [
      push(resp, 'message', 'news', 'hello'),
      push(resp, 'pmessage', 'n*', 'news', 'hello'),
      push(resp, 'pmessage', 'ne?s', 'news', 'hello'),
    ]);
    // Shard messages ignore patterns (and "shard" does not match n*).
    assert.equal(await pub.call('SPUBLISH', 'shard', 'm1'), ':1\r\n');
    assert.equal(await sub.readReply(), push(resp, 'smessage', 'shard', 'm1'));
    assert.equal(await pub.call('SPUBLISH', 'news', 'm2'), ':0\r\n');
    assert.equal(await pub.call('PUBLISH', 'shard', 'm3'), ':0\r\n');
    // Binary-safe channel and message.
    const bin = 'n\x00\xff\r\n';
    assert.equal(await pub.call('PUBLISH', bin, '\x00\x01\xfe'), ':1\r\n');
    assert.equal(await sub.readReply(), push(resp, 'pmessage', 'n*', bin, '\x00\x01\xfe'));
    assert.equal(await pub.call('PUBLISH', 'news', ''), ':3\r\n');
    assert.deepEqual(await framesPatSorted(sub, 3), [push(resp, 'message', 'news', ''), push(resp, 'pmessage', 'n*', 'news', ''), push(resp, 'pmessage', 'ne?s', 'news', '')]);
    await nothingMore(sub);
    sub.close();
  });
}

test('RESP2 subscribed context: only (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET', async () => {
  const c = await raw(2);
  assert.equal(await c.call('SUBSCRIBE', 'ch'), push(2, 'subscribe', 'ch', 1));
  assert.equal(await c.call('PING'), '*2\r\n$4\r\npong\r\n$0\r\n\r\n');
  assert.equal(await c.call('PING', 'hi'), '*2\r\n$4\r\npong\r\n$2\r\nhi\r\n');
  assert.equal(await c.call('GET', 'k'), CTX('get'));
  assert.equal(await c.call('PUBLISH', 'ch', 'x'), CTX('publish'));
  assert.equal(await c.call('CLIENT', 'INFO'), CTX('client|info'));
  assert.equal(await c.call('PUBSUB', 'NUMSUB', 'ch'), CTX('pubsub|numsub'));
  // Lookup, arity and unknown-subcommand errors come first.
  assert.match(await c.call('NOSUCH'), /^-ERR unknown command 'NOSUCH'/);
  assert.equal(await c.call('GET'), "-ERR wrong number of arguments for 'get' command\r\n");
  // Being subscribed only to patterns or shard channels counts too.
  assert.equal(await c.call('UNSUBSCRIBE'), push(2, 'unsubscribe', 'ch', 0));
  assert.equal(await c.call('PSUBSCRIBE', 'p*'), push(2, 'psubscribe', 'p*', 1));
  assert.equal(await c.call('ECHO', 'x'), CTX('echo'));
  assert.equal(await c.call('PUNSUBSCRIBE'), push(2, 'punsubscribe', 'p*', 0));
  assert.equal(await c.call('SSUBSCRIBE', 's'), push(2, 'ssubscribe', 's', 1));
  assert.equal(await c.call('ECHO', 'x'), CTX('echo'));
  // RESET leaves the context and drops every subscription, silently.
  assert.equal(await c.call('RESET'), '+RESET\r\n');
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('PUBSUB', 'SHARDNUMSUB', 's'), arr('s', 0));
  // QUIT is allowed.
  assert.equal(await c.call('SUBSCRIBE', 'q'), push(2, 'subscribe', 'q', 1));
  assert.equal(await c.call('QUIT'), '+OK\r\n');
  await c.waitClosed();
});

test('RESP3: any command runs while subscribed; a publisher can be its own subscriber', async () => {
  const c = await raw(3);
  assert.equal(await c.call('SUBSCRIBE', 'self'), push(3, 'subscribe', 'self', 1));
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await c.call('SET', 'pubsub:k', 'v'), '+OK\r\n');
  assert.equal(await c.call('GET', 'pubsub:k'), '$1\r\nv\r\n');
  // The push comes before the reply to PUBLISH, as in Valkey.
  c.send('PUBLISH', 'self', 'm');
  assert.deepEqual(await frames(c, 2), [push(3, 'message', 'self', 'm'), ':1\r\n']);
  assert.equal(await c.call('PUBSUB', 'NUMSUB', 'self'), arr('self', 1));
  // HELLO 2 while subscribed: the context rules apply from then on.
  assert.match(await c.call('HELLO', '2'), /^\*14\r\n/);
  assert.equal(await c.call('GET', 'pubsub:k'), CTX('get'));
  c.send('PUBLISH', 'self', 'again');
  assert.equal(await c.readReply(), CTX('publish'));
  assert.equal(await c.call('UNSUBSCRIBE'), push(2, 'unsubscribe', 'self', 0));
  assert.equal(await c.call('DEL', 'pubsub:k'), ':1\r\n');
});

test('PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP', async () => {
  const a = await raw(2);
  const b = await raw(3);
  const q = await raw(2);
  a.send('SUBSCRIBE', 'ps:one', 'ps:two');
  a.send('PSUBSCRIBE', 'ps:*', 'other*');
  a.send('SSUBSCRIBE', 'ps:s1');
  await frames(a, 5);
  b.send('SUBSCRIBE', 'ps:one');
  b.send('PSUBSCRIBE', 'ps:*');
  b.send('SSUBSCRIBE', 'ps:s1', 'ps:s2');
  await frames(b, 4);
  const sorted = (r) => r.split('\r\n').slice(1).filter((x, i) => i % 2 === 1).sort();
  assert.deepEqual(sorted(await q.call('PUBSUB', 'CHANNELS')), ['ps:one', 'ps:two']);
  assert.deepEqual(sorted(await q.call('PUBSUB', 'CHANNELS', 'ps:o*')), ['ps:one']);
  assert.equal(await q.call('PUBSUB', 'CHANNELS', 'nomatch*'), '*0\r\n');
  assert.equal(await q.call('PUBSUB', 'NUMSUB'), '*0\r\n');
  assert.equal(await q.call('PUBSUB', 'NUMSUB', 'ps:one', 'ps:two', 'ps:x', 'ps:one'), arr('ps:one', 2, 'ps:two', 1, 'ps:x', 0, 'ps:one', 2));
  // Unique patterns.
  assert.equal(await q.call('PUBSUB', 'NUMPAT'), ':2\r\n');
  assert.deepEqual(sorted(await q.call('PUBSUB', 'SHARDCHANNELS')), ['ps:s1', 'ps:s2']);
  assert.deepEqual(sorted(await q.call('PUBSUB', 'SHARDCHANNELS', '*2')), ['ps:s2']);
  assert.equal(await q.call('PUBSUB', 'SHARDNUMSUB', 'ps:s1', 'ps:s2', 'ps:one'), arr('ps:s1', 2, 'ps:s2', 1, 'ps:one', 0));
  assert.equal(await q.call('PUBSUB', 'SHARDNUMSUB'), '*0\r\n');
  // RESP3 reply shapes are plain arrays too.
  const q3 = await raw(3);
  assert.equal(await q3.call('PUBSUB', 'NUMSUB', 'ps:two'), arr('ps:two', 1));
  assert.equal(await q3.call('PUBSUB', 'CHANNELS', 'ps:t*'), arr('ps:two'));
  // Errors.
  assert.equal(await q.call('PUBSUB', 'CHANNELS', 'a', 'b'), "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n");
  assert.equal(await q.call('PUBSUB', 'shardchannels', 'a', 'b'), "-ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP.\r\n");
  assert.equal(await q.call('PUBSUB', 'NUMPAT', 'x'), "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n");
  assert.equal(await q.call('PUBSUB', 'foo'), "-ERR unknown subcommand 'foo'. Try PUBSUB HELP.\r\n");
  assert.equal(await q.call('PUBSUB'), "-ERR wrong number of arguments for 'pubsub' command\r\n");
  assert.equal(await q.call('PUBLISH', 'a'), "-ERR wrong number of arguments for 'publish' command\r\n");
  assert.equal(await q.call('SUBSCRIBE'), "-ERR wrong number of arguments for 'subscribe' command\r\n");
  assert.equal(await q.call('PSUBSCRIBE'), "-ERR wrong number of arguments for 'psubscribe' command\r\n");
  assert.equal(await q.call('SSUBSCRIBE'), "-ERR wrong number of arguments for 'ssubscribe' command\r\n");
  assert.equal(await q.call('SPUBLISH', 'a', 'b', 'c'), "-ERR wrong number of arguments for 'spublish' command\r\n");
  const help = await q.call('PUBSUB', 'HELP');
  assert.match(help, /^\*14\r\n\+PUBSUB <subcommand> \[<arg> \[value\] \[opt\] \.\.\.\]\. Subcommands are:\r\n\+CHANNELS \[<pattern>\]\r\n/);
  assert.match(help, /\+SHARDNUMSUB \[<shardchannel> \.\.\.\]\r\n/);
  // A closed connection drops its subscriptions.
  b.close();
  a.close();
  for (let i = 0; i < 100; i++) {
    if ((await q.call('PUBSUB', 'NUMPAT')) === ':0\r\n') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await q.call('PUBSUB', 'NUMPAT'), ':0\r\n');
  assert.equal(await q.call('PUBSUB', 'CHANNELS', 'ps:*'), '*0\r\n');
  assert.equal(await q.call('PUBSUB', 'SHARDCHANNELS', 'ps:*'), '*0\r\n');
});

test('CLIENT LIST, CLIENT KILL TYPE pubsub and INFO', async () => {
  const s = await raw(2);
  const q = await raw(2);
  const id = Number((await q.call('CLIENT', 'ID')).slice(1));
  s.send('CLIENT', 'SETNAME', 'pubsubber');
  await s.readReply();
  s.send('SUBSCRIBE', 'i1', 'i2');
  s.send('PSUBSCRIBE', 'i*');
  s.send('SSUBSCRIBE', 'is');
  await frames(s, 4);
  const list = (await q.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\r\n')[1];
  assert.match(list, /name=pubsubber .* flags=P db=0 sub=2 psub=1 ssub=1 multi=-1 /);
  const normal = await q.call('CLIENT', 'LIST', 'TYPE', 'normal');
  assert.ok(!normal.includes('pubsubber'));
  assert.match(normal, new RegExp(`id=${id} .* flags=N db=0 sub=0 psub=0 ssub=0 `));
  const info = await q.call('INFO', 'everything');
  assert.match(info, /\r\npubsub_clients:1\r\n/);
  assert.match(info, /\r\npubsub_channels:2\r\n/);
  assert.match(info, /\r\npubsub_patterns:1\r\n/);
  assert.match(info, /\r\npubsubshard_channels:1\r\n/);
  assert.match(info, /\r\nclient_output_buffer_limit_disconnections:\d+\r\n/);
  assert.equal(await q.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), ':1\r\n');
  await s.waitClosed();
  const after = await q.call('INFO', 'everything');
  assert.match(after, /\r\npubsub_clients:0\r\n/);
  assert.match(after, /\r\npubsub_channels:0\r\n/);
  assert.match(after, /\r\npubsub_patterns:0\r\n/);
});

test('CONFIG GET / SET client-output-buffer-limit', async () => {
  const c = await raw(2);
  const get = () => c.call('CONFIG', 'GET', 'client-output-buffer-limit');
  const val = (v) => arr('client-output-buffer-limit', v);
  assert.equal(await get(), val('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 512kb 1'), '+OK\r\n');
  assert.equal(await get(), val('normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 1'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'REPLICA 1k 1 5 normal 1 2 3'), '+OK\r\n');
  assert.equal(await get(), val('normal 1 2 3 slave 1000 1 5 pubsub 1048576 524288 1'));
  const fail = (m) => `-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ${m}\r\n`;
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'wrong number'), fail('Wrong number of arguments in buffer limit configuration.'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'master 1 1 1'), fail('Invalid client class specified in buffer limit configuration.'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'foo 1 1 1'), fail('Invalid client class specified in buffer limit configuration.'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 10mbs 1 1'), fail('Error in hard, soft or soft_seconds setting in buffer limit configuration.'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 1 -1'), fail('Error in hard, soft or soft_seconds setting in buffer limit configuration.'));
  // A bad group rejects the whole value.
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 5 5 5 normal x 1 1'), fail('Error in hard, soft or soft_seconds setting in buffer limit configuration.'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', ''), '+OK\r\n');
  assert.equal(await get(), val('normal 1 2 3 slave 1000 1 5 pubsub 1048576 524288 1'));
  assert.equal(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60'), '+OK\r\n');
  assert.equal(await get(), val('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'));
});

for (const protocol of [2, 3]) {
  test(`ioredis protocol ${protocol}: subscribe, psubscribe, ssubscribe`, async () => {
    const sub = new Redis({ port: srv.port, lazyConnect: true, protocol });
    const pub = new Redis({ port: srv.port, lazyConnect: true, protocol });
    open.push(sub, pub);
    await sub.connect();
    await pub.connect();
    const p = `io${protocol}:`;
    try {
      const got = [];
      sub.on('message', (ch, msg) => got.push(['message', ch, msg]));
      sub.on('pmessage', (pat, ch, msg) => got.push(['pmessage', pat, ch, msg]));
      sub.on('smessage', (ch, msg) => got.push(['smessage', ch, msg]));
      assert.equal(await sub.subscribe(p + 'a', p + 'b'), 2);
      assert.equal(await sub.psubscribe(p + '*'), 3);
      assert.equal(await sub.ssubscribe(p + 's'), 1);
      if (protocol === 2) await assert.rejects(sub.get('x'), /Connection in subscriber mode, only subscriber commands may be used/);
      else assert.equal(await sub.get('pubsub:none'), null);
      assert.equal(await pub.publish(p + 'a', 'one'), 2);
      assert.equal(await pub.publish(p + 'zz', 'two'), 1);
      assert.equal(await pub.spublish(p + 's', 'three'), 1);
      assert.deepEqual(await pub.pubsub('NUMSUB', p + 'a', p + 'c'), [p + 'a', 1, p + 'c', 0]);
      assert.equal(await pub.pubsub('NUMPAT'), 1);
      for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(got, [
        ['message', p + 'a', 'one'],
        ['pmessage', p + '*', p + 'a', 'one'],
        ['pmessage', p + '*', p + 'zz', 'two'],
        ['smessage', p + 's', 'three'],
      ]);
      // Buffer variants keep binary data intact.
      const bin = [];
      sub.on('messageBuffer', (ch, msg) => bin.push(msg));
      const payload = Buffer.from([0, 0xff, 0x80, 13, 10]);
      assert.equal(await pub.publish(p + 'b', payload), 2);
      for (let i = 0; i < 100 && bin.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(bin[0], payload);
      // (ioredis waits forever on a bare UNSUBSCRIBE while patterns remain, with any server: name them.)
      assert.equal(await sub.unsubscribe(p + 'a', p + 'b'), 1);
      assert.equal(await sub.punsubscribe(p + '*'), 0);
      assert.equal(await sub.sunsubscribe(p + 's'), 0);
      assert.equal(await sub.ping(), 'PONG');
      assert.equal(await pub.pubsub('NUMPAT'), 0);
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  });
}

for (const RESP of [2, 3]) {
  test(`node-redis RESP${RESP}: subscribe, pSubscribe, sSubscribe`, async () => {
    const pub = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP });
    const sub = pub.duplicate();
    open.push({ close: () => pub.destroy?.() }, { close: () => sub.destroy?.() });
    await pub.connect();
    await sub.connect();
    const got = [];
    // Earlier tests' subscribers are gone by now (their connections closed).
    for (let i = 0; i < 100 && (await pub.pubSubNumPat()) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    await sub.subscribe(['nr:a', 'nr:b'], (msg, ch) => got.push(['message', ch, msg]));
    await sub.pSubscribe('nr:*', (msg, ch) => got.push(['pmessage', ch, msg]));
    await sub.sSubscribe('nr:s', (msg, ch) => got.push(['smessage', ch, msg]));
    assert.equal(await pub.publish('nr:a', 'hello'), 2);
    assert.equal(await pub.sPublish('nr:s', 'shard'), 1);
    assert.deepEqual(await pub.pubSubNumSub(['nr:a', 'nr:x']), { 'nr:a': 1, 'nr:x': 0 });
    assert.equal(await pub.pubSubNumPat(), 1);
    assert.deepEqual((await pub.pubSubChannels('nr:*')).sort(), ['nr:a', 'nr:b']);
    assert.deepEqual(await pub.pubSubShardChannels(), ['nr:s']);
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [
      ['message', 'nr:a', 'hello'],
      ['pmessage', 'nr:a', 'hello'],
      ['smessage', 'nr:s', 'shard'],
    ]);
    if (RESP === 3) {
      // RESP3: the same connection still runs ordinary commands.
      assert.equal(await sub.ping(), 'PONG');
    }
    await sub.unsubscribe();
    await sub.pUnsubscribe();
    await sub.sUnsubscribe();
    assert.deepEqual(await pub.pubSubNumSub('nr:a'), { 'nr:a': 0 });
    await sub.quit();
    await pub.quit();
  });
}
