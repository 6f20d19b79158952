// Client-side caching: CLIENT TRACKING in default, BCAST (PREFIX), OPTIN/OPTOUT
// and NOLOOP modes, invalidations as RESP3 pushes and as RESP2 messages on
// __redis__:invalidate to a REDIRECT client, FLUSHALL, expiry, broken redirect,
// tracking-table-max-keys, INFO, and node-redis's client-side cache.
// TRACKING_TEST_PORT points the raw-byte tests at another server (e.g. redis-server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
let port;
const open = [];

before(async () => {
  srv = await startVireo();
  port = Number(process.env.TRACKING_TEST_PORT || srv.port);
});
after(async () => {
  for (const c of open) {
    try {
      c.close?.();
    } catch {}
  }
  await srv.stop();
});

async function raw(resp = 2) {
  const c = await RawConn.connect(port);
  open.push(c);
  if (resp === 3) assert.match(await c.call('HELLO', '3'), /^%7\r\n/);
  return c;
}

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const inv3 = (...keys) => `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n` + keys.map(bulk).join('');
const inv2 = (...keys) => `*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*${keys.length}\r\n` + keys.map(bulk).join('');
const idOf = async (c) => Number((await c.call('CLIENT', 'ID')).slice(1));

/** Nothing else arrives within a short while. */
async function nothingMore(c) {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.buf.toString('latin1'), '');
}

test('RESP3 default mode: read keys are invalidated once, own writes after the reply', async () => {
  const a = await raw(3);
  const b = await raw(2);
  await b.call('DEL', 'dk', 'dk2');
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on'), '+OK\r\n');
  assert.equal(await a.call('GET', 'dk'), '_\r\n');
  assert.equal(await b.call('SET', 'dk', '1'), '+OK\r\n');
  assert.equal(await a.readReply(), inv3('dk'));
  // Forgotten after one invalidation.
  assert.equal(await b.call('SET', 'dk', '2'), '+OK\r\n');
  await nothingMore(a);
  // Own write: the reply first, then the push.
  assert.equal(await a.call('MGET', 'dk', 'dk2'), '*2\r\n$1\r\n2\r\n_\r\n');
  assert.equal(await a.call('SET', 'dk', '3'), '+OK\r\n');
  assert.equal(await a.readReply(), inv3('dk'));
  // A command that changes nothing invalidates nothing; DEL of a missing key neither.
  assert.equal(await a.call('GET', 'dk2'), '_\r\n');
  assert.equal(await b.call('DEL', 'dk2'), ':0\r\n');
  await nothingMore(a);
  // Inside MULTI/EXEC the pushes follow the whole EXEC reply.
  await a.call('GET', 'dk');
  await a.call('MULTI');
  await a.call('SET', 'dk', '4');
  await a.call('SET', 'dk2', '5');
  assert.equal(await a.call('EXEC'), '*2\r\n+OK\r\n+OK\r\n');
  assert.equal(await a.readReply(), inv3('dk'));
  assert.equal(await a.readReply(), inv3('dk2'));
  assert.equal(await a.call('CLIENT', 'TRACKINGINFO'), '%3\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n');
  assert.equal(await a.call('CLIENT', 'GETREDIR'), ':0\r\n');
  assert.equal(await a.call('CLIENT', 'TRACKING', 'off'), '+OK\r\n');
  assert.equal(await a.call('CLIENT', 'GETREDIR'), ':-1\r\n');
});

test('FLUSHALL / FLUSHDB send the null invalidation to every tracking client', async () => {
  const a = await raw(3);
  const b = await raw(3);
  await a.call('CLIENT', 'TRACKING', 'on');
  await b.call('CLIENT', 'TRACKING', 'on');
  assert.equal(await a.call('FLUSHALL'), '+OK\r\n');
  assert.equal(await a.readReply(), '>2\r\n$10\r\ninvalidate\r\n_\r\n');
  assert.equal(await b.readReply(), '>2\r\n$10\r\ninvalidate\r\n_\r\n');
  await b.call('FLUSHDB');
  assert.equal(await b.readReply(), '>2\r\n$10\r\ninvalidate\r\n_\r\n');
  assert.equal(await a.readReply(), '>2\r\n$10\r\ninvalidate\r\n_\r\n');
});

test('expiry (lazy and active) invalidates', async () => {
  const w = await raw(2);
  for (const active of ['0', '1']) {
    // With active expiry off the key goes lazily (on EXISTS), else lazily or by the cron:
    // either way exactly one invalidation. (DEBUG may be disabled on a reference server.)
    await w.call('DEBUG', 'SET-ACTIVE-EXPIRE', active);
    const a = await raw(3);
    await a.call('CLIENT', 'TRACKING', 'on', 'NOLOOP');
    await a.call('MULTI');
    await a.call('SET', 'ek', 'v', 'PX', '1');
    await a.call('GET', 'ek');
    assert.equal(await a.call('EXEC'), '*2\r\n+OK\r\n$1\r\nv\r\n');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await w.call('EXISTS', 'ek'), ':0\r\n');
    assert.equal(await a.readReply(), inv3('ek'));
    await nothingMore(a);
  }
});

test('RESP2 with REDIRECT: messages on __redis__:invalidate; NOLOOP; broken redirect', async () => {
  const sub = await raw(2);
  const subId = await idOf(sub);
  assert.equal(await sub.call('SUBSCRIBE', '__redis__:invalidate'), '*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n');
  const c = await raw(2);
  const w = await raw(2);
  assert.equal(await c.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(subId), 'NOLOOP'), '+OK\r\n');
  assert.equal(await c.call('CLIENT', 'GETREDIR'), `:${subId}\r\n`);
  await c.call('GET', 'rk');
  await w.call('SET', 'rk', '1');
  assert.equal(await sub.readReply(), inv2('rk'));
  // NOLOOP: the client's own write sends nothing.
  await c.call('GET', 'rk');
  await c.call('SET', 'rk', '2');
  await nothingMore(sub);
  // FLUSHALL: the null of the tracking client's protocol.
  await w.call('FLUSHALL');
  assert.equal(await sub.readReply(), '*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n');
  // The redirect client goes away: flags say broken_redirect; RESP2 gets no push.
  sub.close();
  await new Promise((r) => setTimeout(r, 50));
  await c.call('GET', 'rk');
  await w.call('SET', 'rk', '3');
  assert.equal(
    await c.call('CLIENT', 'TRACKINGINFO'),
    `*6\r\n$5\r\nflags\r\n*3\r\n$2\r\non\r\n$6\r\nnoloop\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:${subId}\r\n$8\r\nprefixes\r\n*0\r\n`,
  );
  // RESP3 tracking client with a broken redirect gets tracking-redir-broken.
  const gone = await raw(2);
  const goneId = await idOf(gone);
  const d = await raw(3);
  await d.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(goneId));
  await d.call('GET', 'rk2');
  gone.close();
  await new Promise((r) => setTimeout(r, 50));
  await w.call('SET', 'rk2', '1');
  assert.equal(await d.readReply(), `>2\r\n$21\r\ntracking-redir-broken\r\n:${goneId}\r\n`);
});

test('BCAST with PREFIX: batched, sorted keys per prefix; NOLOOP filters own writes', async () => {
  const a = await raw(3);
  const w = await raw(2);
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'bc:', 'PREFIX', 'zz'), '+OK\r\n');
  assert.equal(await w.call('MSET', 'bc:2', '1', 'other', '1', 'bc:1', '1', 'zz', '1'), '+OK\r\n');
  const got = [await a.readReply(), await a.readReply()];
  assert.deepEqual(got, [inv3('bc:1', 'bc:2'), inv3('zz')]);
  assert.equal(
    await a.call('CLIENT', 'TRACKINGINFO'),
    '%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$3\r\nbc:\r\n$2\r\nzz\r\n',
  );
  assert.equal(
    await a.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'bc:x'),
    "-ERR Prefix 'bc:x' overlaps with an existing prefix 'bc:'. Prefixes for a single client must not overlap.\r\n",
  );
  // BCAST without prefix: every key; NOLOOP leaves out the client's own writes.
  const n = await raw(3);
  await n.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'NOLOOP');
  await n.call('SET', 'mine', '1');
  await w.call('SET', 'theirs', '1');
  assert.equal(await n.readReply(), inv3('theirs'));
  await nothingMore(n);
});

test('OPTIN / OPTOUT with CLIENT CACHING for the next command only', async () => {
  const a = await raw(3);
  const w = await raw(2);
  await a.call('CLIENT', 'TRACKING', 'on', 'OPTIN');
  await a.call('GET', 'o1'); // not cached
  assert.equal(await a.call('CLIENT', 'CACHING', 'yes'), '+OK\r\n');
  assert.equal(
    await a.call('CLIENT', 'TRACKINGINFO'),
    '%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n',
  );
  await a.call('GET', 'o2'); // cached
  await a.call('GET', 'o3'); // not cached: CACHING lasted one command
  await w.call('MSET', 'o1', '1', 'o2', '1', 'o3', '1');
  assert.equal(await a.readReply(), inv3('o2'));
  await nothingMore(a);
  assert.equal(await a.call('CLIENT', 'CACHING', 'no'), '-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n');
  await a.call('CLIENT', 'TRACKING', 'off');
  await a.call('CLIENT', 'TRACKING', 'on', 'OPTOUT');
  await a.call('CLIENT', 'CACHING', 'no');
  await a.call('GET', 'o1'); // not cached
  await a.call('GET', 'o2'); // cached
  await w.call('MSET', 'o1', '2', 'o2', '2');
  assert.equal(await a.readReply(), inv3('o2'));
  await nothingMore(a);
});

test('errors of CLIENT TRACKING and CLIENT CACHING', async () => {
  const a = await raw(2);
  const E = (m) => `-ERR ${m}\r\n`;
  assert.equal(await a.call('CLIENT', 'CACHING', 'yes'), E('CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'PREFIX', 'x'), E('PREFIX option requires BCAST mode to be enabled'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'OPTIN', 'OPTOUT'), E("You can't specify both OPTIN mode and OPTOUT mode"));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'OPTIN'), E('OPTIN and OPTOUT are not compatible with BCAST'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', '987654'), E('The client ID you want redirect to does not exist'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', 'x'), E('value is not an integer or out of range'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a', 'PREFIX', 'ab'), E("Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap."));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'maybe'), E('syntax error'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'NOPE'), E('syntax error'));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on'), '+OK\r\n');
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'BCAST'), E("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'OPTIN'), '+OK\r\n');
  assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'OPTOUT'), E("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
  assert.equal(await a.call('CLIENT', 'CACHING', 'maybe'), E('syntax error'));
  assert.equal(await a.call('RESET'), '+RESET\r\n');
  assert.equal(await a.call('CLIENT', 'GETREDIR'), ':-1\r\n');
});

test('INFO counters and tracking-table-max-keys eviction', { skip: !!process.env.TRACKING_TEST_PORT }, async () => {
  const a = await raw(3);
  const w = await raw(2);
  await w.call('FLUSHALL'); // empties the tracking table
  await w.call('CONFIG', 'SET', 'tracking-table-max-keys', '2');
  await a.call('CLIENT', 'TRACKING', 'on');
  assert.equal(await a.call('MGET', 'm1', 'm2', 'm3'), '*3\r\n_\r\n_\r\n_\r\n');
  // The next command (anyone's) brings the table back under the limit, invalidating one key.
  const info = await w.call('INFO');
  assert.match(info, /tracking_clients:[1-9]/);
  assert.match(info, /tracking_total_keys:2\r\n/);
  assert.match(info, /tracking_total_items:2\r\n/);
  const ev = await a.readReply();
  assert.match(ev, /^>2\r\n\$10\r\ninvalidate\r\n\*1\r\n\$2\r\nm[123]\r\n$/);
  await w.call('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
  assert.equal(await w.call('CONFIG', 'GET', 'tracking-table-max-keys'), '*2\r\n$23\r\ntracking-table-max-keys\r\n$7\r\n1000000\r\n');
  const prefixes = async () => Number(/tracking_total_prefixes:(\d+)/.exec(await w.call('INFO', 'stats'))[1]);
  const p0 = await prefixes();
  const b = await raw(3);
  await b.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'pfx1', 'PREFIX', 'pfx2');
  assert.equal(await prefixes(), p0 + 2);
  assert.match(await w.call('CLIENT', 'LIST'), /flags=tB .*redir=0/);
  b.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await prefixes(), p0);
});

test('node-redis RESP3 client-side cache: a cached GET is invalidated by another client', { skip: !!process.env.TRACKING_TEST_PORT }, async () => {
  const client = createClient({ socket: { port, host: '127.0.0.1' }, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } });
  const other = createClient({ socket: { port, host: '127.0.0.1' } });
  await client.connect();
  await other.connect();
  try {
    await other.set('csc:k', 'v1');
    assert.equal(await client.get('csc:k'), 'v1');
    assert.equal(await client.get('csc:k'), 'v1');
    const cache = client.clientSideCache;
    assert.ok(cache.stats().hitCount >= 1);
    await other.set('csc:k', 'v2');
    // The invalidation push arrives asynchronously; poll until the cache drops the key.
    let v;
    for (let i = 0; i < 100; i++) {
      v = await client.get('csc:k');
      if (v === 'v2') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(v, 'v2');
  } finally {
    await client.quit();
    await other.quit();
  }
});
