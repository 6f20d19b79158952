// Use case: the clients people use. The same smoke flow (SET/GET, HSET, LPUSH,
// ZADD, XADD, PUBLISH/SUBSCRIBE, MULTI, EVAL and cached scripts)
// through ioredis, node-redis (RESP2 and RESP3), iovalkey and
// @valkey/valkey-glide (native core), each against a real vireo-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import IORedis from 'ioredis';
import IOValkey from 'iovalkey';
import { createClient } from 'redis';
import { RawConn } from '../helpers/resp.mjs';
import { startServer } from '../../dist/src/index.js';

let srv;
before(async () => {
  srv = await startServer({});
});
after(async () => {
  await srv?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The smoke flow, on a normalised adapter `c`; `p` prefixes every key so the
 * clients do not see each other's data.
 */
async function smoke(c, p) {
  assert.equal(await c.set(`${p}:greeting`, 'hola valkey ✓'), 'OK');
  assert.equal(await c.get(`${p}:greeting`), 'hola valkey ✓');
  assert.equal(await c.get(`${p}:missing`), null);

  assert.equal(await c.hset(`${p}:user:1`, { name: 'Ada', lang: 'es', visits: '3' }), 3);
  assert.deepEqual(await c.hgetall(`${p}:user:1`), { name: 'Ada', lang: 'es', visits: '3' });

  assert.equal(await c.lpush(`${p}:jobs`, ['a', 'b', 'c']), 3);
  assert.deepEqual(await c.lrange(`${p}:jobs`), ['c', 'b', 'a']);

  assert.equal(await c.zadd(`${p}:board`, [['ann', 10], ['bob', 2.5], ['cid', -1]]), 3);
  assert.deepEqual(await c.zrangeWithScores(`${p}:board`), [['cid', -1], ['bob', 2.5], ['ann', 10]]);

  const id1 = await c.xadd(`${p}:events`, '1-1', { type: 'login', user: 'ada' });
  assert.equal(id1, '1-1');
  const id2 = await c.xadd(`${p}:events`, '*', { type: 'logout' });
  assert.match(id2, /^\d+-\d+$/);
  assert.deepEqual(await c.xrange(`${p}:events`), [
    ['1-1', { type: 'login', user: 'ada' }],
    [id2, { type: 'logout' }],
  ]);

  const got = [];
  const unsub = await c.subscribe(`${p}:news`, (m) => got.push(m));
  try {
    assert.equal(await c.publish(`${p}:news`, 'mensaje desde valkey'), 1);
    await waitFor(() => got.length === 1, 'the published message');
    assert.deepEqual(got, ['mensaje desde valkey']);
  } finally {
    await unsub();
  }

  assert.deepEqual(await c.multiIncrIncrGet(`${p}:ctr`), [1, 2, '2']);

  assert.deepEqual(await c.eval('return {KEYS[1], ARGV[1], redis.call("GET", KEYS[1])}', [`${p}:greeting`], ['x']), [
    `${p}:greeting`,
    'x',
    'hola valkey ✓',
  ]);
  // A cached script, the way each library runs them (EVALSHA, loading it when the server answers NOSCRIPT).
  assert.equal(await c.script('return redis.call("GET", KEYS[1]) .. ARGV[1]', [`${p}:greeting`], ['!']), 'hola valkey ✓!');
  assert.equal(await c.script('return redis.call("GET", KEYS[1]) .. ARGV[1]', [`${p}:greeting`], ['?']), 'hola valkey ✓?');
}

function ioredisAdapter(Ctor) {
  const r = new Ctor(srv.port, '127.0.0.1');
  return {
    set: (k, v) => r.set(k, v),
    get: (k) => r.get(k),
    hset: (k, o) => r.hset(k, o),
    hgetall: (k) => r.hgetall(k),
    lpush: (k, vs) => r.lpush(k, ...vs),
    lrange: (k) => r.lrange(k, 0, -1),
    zadd: (k, pairs) => r.zadd(k, ...pairs.flatMap(([m, s]) => [s, m])),
    zrangeWithScores: async (k) => {
      const flat = await r.zrange(k, 0, -1, 'WITHSCORES');
      const out = [];
      for (let i = 0; i < flat.length; i += 2) out.push([flat[i], Number(flat[i + 1])]);
      return out;
    },
    xadd: (k, id, o) => r.xadd(k, id, ...Object.entries(o).flat()),
    xrange: async (k) => (await r.xrange(k, '-', '+')).map(([id, f]) => [id, Object.fromEntries(pairs(f))]),
    subscribe: async (ch, cb) => {
      const sub = r.duplicate();
      sub.on('message', (c, m) => c === ch && cb(m));
      assert.equal(await sub.subscribe(ch), 1);
      return async () => sub.disconnect();
    },
    publish: (ch, m) => r.publish(ch, m),
    multiIncrIncrGet: async (k) => (await r.multi().incr(k).incr(k).get(k).exec()).map(([e, v]) => e ?? v),
    eval: (script, keys, args) => r.eval(script, keys.length, ...keys, ...args),
    script: (lua, keys, args) => {
      if (!r.smokeScript) r.defineCommand('smokeScript', { numberOfKeys: keys.length, lua });
      return r.smokeScript(...keys, ...args);
    },
    close: () => r.disconnect(),
  };
}

function pairs(flat) {
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

async function nodeRedisAdapter(RESP) {
  const r = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP });
  await r.connect();
  return {
    set: (k, v) => r.set(k, v),
    get: (k) => r.get(k),
    hset: (k, o) => r.hSet(k, o),
    hgetall: async (k) => ({ ...(await r.hGetAll(k)) }),
    lpush: (k, vs) => r.lPush(k, vs),
    lrange: (k) => r.lRange(k, 0, -1),
    zadd: (k, ps) => r.zAdd(k, ps.map(([value, score]) => ({ value, score }))),
    zrangeWithScores: async (k) => (await r.zRangeWithScores(k, 0, -1)).map(({ value, score }) => [value, score]),
    xadd: (k, id, o) => r.xAdd(k, id, o),
    xrange: async (k) => (await r.xRange(k, '-', '+')).map(({ id, message }) => [id, { ...message }]),
    subscribe: async (ch, cb) => {
      const sub = r.duplicate();
      await sub.connect();
      await sub.subscribe(ch, (m) => cb(m));
      return async () => {
        await sub.unsubscribe(ch);
        await sub.quit();
      };
    },
    publish: (ch, m) => r.publish(ch, m),
    multiIncrIncrGet: (k) => r.multi().incr(k).incr(k).get(k).exec(),
    eval: (script, keys, args) => r.eval(script, { keys, arguments: args }),
    script: async (lua, keys, args) => {
      const sha = await r.scriptLoad(lua);
      return r.evalSha(sha, { keys, arguments: args });
    },
    close: () => r.quit(),
  };
}

async function withServerCheck(label, c) {
  await smoke(c, label);
  // The data really is in the server (checked over a raw connection).
  const raw = await RawConn.connect(srv.port);
  try {
    assert.equal(await raw.call('TYPE', `${label}:events`), '+stream\r\n');
    assert.equal(await raw.call('ZSCORE', `${label}:board`, 'bob'), '$3\r\n2.5\r\n');
    assert.equal(await raw.call('GET', `${label}:ctr`), '$1\r\n2\r\n');
  } finally {
    raw.close();
  }
}

test('ioredis: smoke flow', async () => {
  const c = ioredisAdapter(IORedis);
  try {
    await withServerCheck('ioredis', c);
  } finally {
    c.close();
  }
});

test('iovalkey: smoke flow', async () => {
  const c = ioredisAdapter(IOValkey);
  try {
    await withServerCheck('iovalkey', c);
  } finally {
    c.close();
  }
});

test('node-redis RESP2: smoke flow', async () => {
  const c = await nodeRedisAdapter(2);
  try {
    await withServerCheck('noderedis2', c);
  } finally {
    await c.close();
  }
});

test('node-redis RESP3: smoke flow', async () => {
  const c = await nodeRedisAdapter(3);
  try {
    await withServerCheck('noderedis3', c);
  } finally {
    await c.close();
  }
});

async function glideAdapter(protocol) {
  const glide = await import('@valkey/valkey-glide');
  const { GlideClient, Batch, InfBoundary, GlideClientConfiguration, Logger, Script } = glide;
  // Its Rust core logs a harmless error when a subscriber closes; keep the test output clean.
  Logger.setLoggerConfig('off');
  const addresses = [{ host: '127.0.0.1', port: srv.port }];
  const r = await GlideClient.createClient({ addresses, protocol, requestTimeout: 5000 });
  return {
    set: (k, v) => r.set(k, v),
    get: (k) => r.get(k),
    hset: (k, o) => r.hset(k, o),
    hgetall: async (k) => Object.fromEntries((await r.hgetall(k)).map(({ field, value }) => [field, value])),
    lpush: (k, vs) => r.lpush(k, vs),
    lrange: (k) => r.lrange(k, 0, -1),
    zadd: (k, ps) => r.zadd(k, Object.fromEntries(ps)),
    zrangeWithScores: async (k) => (await r.zrangeWithScores(k, { start: 0, end: -1 })).map(({ element, score }) => [element, score]),
    xadd: (k, id, o) => r.xadd(k, Object.entries(o), id === '*' ? {} : { id }),
    xrange: async (k) =>
      Object.entries(await r.xrange(k, InfBoundary.NegativeInfinity, InfBoundary.PositiveInfinity)).map(([id, fv]) => [id, Object.fromEntries(fv)]),
    subscribe: async (ch, cb) => {
      // Glide subscribes at connection time, from the client configuration;
      // it supports subscriptions on RESP3 connections only.
      const sub = await GlideClient.createClient({
        addresses,
        protocol: 0,
        pubsubSubscriptions: {
          channelsAndPatterns: { [GlideClientConfiguration.PubSubChannelModes.Exact]: new Set([ch]) },
          callback: (msg) => cb(String(msg.message)),
        },
      });
      return async () => sub.close();
    },
    publish: (ch, m) => r.publish(m, ch),
    multiIncrIncrGet: (k) => r.exec(new Batch(true).incr(k).incr(k).get(k), true),
    eval: (script, keys, args) => r.customCommand(['EVAL', script, String(keys.length), ...keys, ...args]),
    script: async (lua, keys, args) => {
      const sc = new Script(lua);
      try {
        return await r.invokeScript(sc, { keys, args });
      } finally {
        sc.release();
      }
    },
    close: () => r.close(),
  };
}

for (const [label, proto] of [
  ['RESP3', 0],
  ['RESP2', 1],
]) {
  test(`@valkey/valkey-glide ${label}: smoke flow`, async () => {
    const c = await glideAdapter(proto);
    try {
      await withServerCheck(`glide${label}`, c);
    } finally {
      c.close();
    }
  });
}
