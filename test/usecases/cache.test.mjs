// Use case: a cache. Keyv with @keyv/redis (node-redis underneath), the way
// applications cache values: set with a TTL, hit, expiry, miss, and clearing
// one namespace without touching another.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyv } from '@keyv/redis';
import Redis from 'ioredis';
import { startServer } from '../../dist/src/index.js';

let srv;
let url;
before(async () => {
  srv = await startServer({});
  url = `redis://127.0.0.1:${srv.port}`;
});
after(async () => {
  await srv?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('keyv + @keyv/redis: set with TTL, hit, expire, miss', async () => {
  // createKeyv is the documented way: the adapter owns the namespace prefix.
  const cache = createKeyv(url, { namespace: 'users' });
  const errors = [];
  cache.on('error', (e) => errors.push(e));
  const raw = new Redis(srv.port, '127.0.0.1');
  try {
    assert.equal(await cache.get('u:1'), undefined, 'miss before set');
    assert.equal(await cache.set('u:1', { name: 'Ada', langs: ['en', 'es'] }, 1000), true);
    assert.deepEqual(await cache.get('u:1'), { name: 'Ada', langs: ['en', 'es'] }, 'hit');
    // The value really lives in the server, under the namespace, with a TTL.
    const keys = await raw.keys('*');
    assert.deepEqual(keys, ['users::u:1']);
    const pttl = await raw.pttl('users::u:1');
    assert.ok(pttl > 0 && pttl <= 1000, `pttl ${pttl}`);
    assert.equal(await cache.has('u:1'), true);
    // A value set without TTL stays.
    await cache.set('u:2', 'forever');
    assert.equal(await raw.pttl('users::u:2'), -1);
    // getMany / deleting one key.
    assert.deepEqual(await cache.get(['u:1', 'u:2', 'u:3']), [{ name: 'Ada', langs: ['en', 'es'] }, 'forever', undefined]);
    assert.equal(await cache.delete('u:2'), true);
    assert.equal(await cache.get('u:2'), undefined);
    // Expiry is done by the server.
    await sleep(1150);
    assert.equal(await cache.get('u:1'), undefined, 'miss after expiry');
    assert.equal(await cache.has('u:1'), false);
    assert.equal(await raw.exists('users::u:1'), 0);
    assert.deepEqual(errors, []);
  } finally {
    raw.disconnect();
    await cache.disconnect();
  }
});

test('keyv + @keyv/redis: clearing one namespace leaves the others', async () => {
  const a = createKeyv(url, { namespace: 'sessions' });
  const b = createKeyv(url, { namespace: 'pages' });
  const raw = new Redis(srv.port, '127.0.0.1');
  try {
    await raw.flushall();
    await raw.set('unrelated', 'x');
    // More keys than one SCAN batch, so clear really walks the cursor.
    for (let i = 0; i < 1500; i++) await a.set(`s${i}`, i);
    for (let i = 0; i < 20; i++) await b.set(`p${i}`, `<html>${i}</html>`, 60_000);
    assert.equal(await raw.dbsize(), 1521);
    assert.equal(await a.get('s1234'), 1234);
    assert.equal(await raw.exists('sessions::s1234', 'pages::p0'), 2);
    await a.clear();
    assert.equal(await a.get('s1234'), undefined);
    assert.equal(await raw.dbsize(), 21, 'only the cleared namespace is gone');
    assert.equal(await b.get('p7'), '<html>7</html>');
    assert.equal(await raw.get('unrelated'), 'x');
    // Iterating a namespace yields exactly its entries.
    const seen = [];
    for await (const [k, v] of b.iterator()) seen.push([k, v]);
    assert.equal(seen.length, 20);
    assert.ok(seen.some(([k, v]) => k === 'p3' && v === '<html>3</html>'), JSON.stringify(seen.slice(0, 3)));
  } finally {
    raw.disconnect();
    await a.disconnect();
    await b.disconnect();
  }
});
