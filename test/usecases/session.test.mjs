// Use case: an HTTP session store. express + express-session + connect-redis
// (node-redis client), driven by real HTTP requests with fetch: log in, the
// session is kept across requests and across a restart of the app, log out,
// and a session with a short cookie maxAge expires in the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
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

/** Starts the app the way users write it; returns {url, close}. */
async function startApp({ maxAge } = {}) {
  const client = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  client.on('error', () => {});
  await client.connect();
  const app = express();
  app.use(express.json());
  app.use(
    session({
      store: new RedisStore({ client, prefix: 'myapp:' }),
      resave: false,
      saveUninitialized: false,
      secret: 'keyboard cat',
      name: 'sid',
      cookie: maxAge ? { maxAge } : {},
    }),
  );
  app.post('/login', (req, res) => {
    req.session.user = req.body.user;
    req.session.views = 0;
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'not logged in' });
    req.session.views += 1;
    res.json({ user: req.session.user, views: req.session.views });
  });
  app.post('/logout', (req, res) => {
    req.session.destroy((err) => (err ? res.status(500).end() : res.json({ ok: true })));
  });
  const http = await new Promise((resolve) => {
    const h = app.listen(0, '127.0.0.1', () => resolve(h));
  });
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    async close() {
      http.closeAllConnections?.();
      await new Promise((r) => http.close(r));
      await client.quit();
    },
  };
}

function cookieOf(res) {
  const set = res.headers.get('set-cookie');
  assert.ok(set, 'a session cookie is set');
  return set.split(';')[0];
}

async function raw(fn) {
  const c = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.quit();
  }
}

test('express-session + connect-redis: login, requests, app restart, logout', async () => {
  let app = await startApp();
  try {
    assert.equal((await fetch(`${app.url}/me`)).status, 401);
    const login = await fetch(`${app.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ada' }),
    });
    assert.equal(login.status, 200);
    const cookie = cookieOf(login);
    const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0];
    // The session is a JSON document in the server under the store's prefix.
    const stored = await raw((c) => c.get(`myapp:${sid}`));
    assert.equal(JSON.parse(stored).user, 'ada');
    for (let i = 1; i <= 3; i++) {
      const r = await fetch(`${app.url}/me`, { headers: { cookie } });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { user: 'ada', views: i });
    }
    // Restart the app (new process state, new client): the session survives in the server.
    await app.close();
    app = await startApp();
    const again = await fetch(`${app.url}/me`, { headers: { cookie } });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { user: 'ada', views: 4 });
    // Another client without the cookie is not logged in.
    assert.equal((await fetch(`${app.url}/me`)).status, 401);
    // Log out: the session is deleted from the server.
    const out = await fetch(`${app.url}/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(out.status, 200);
    assert.equal(await raw((c) => c.exists(`myapp:${sid}`)), 0);
    assert.equal((await fetch(`${app.url}/me`, { headers: { cookie } })).status, 401);
  } finally {
    await app.close();
  }
});

test('express-session + connect-redis: the session expires with the cookie maxAge', async () => {
  const app = await startApp({ maxAge: 1500 });
  try {
    const login = await fetch(`${app.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'grace' }),
    });
    const cookie = cookieOf(login);
    const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0];
    // connect-redis stores the session with a TTL from the cookie's expiry (whole seconds).
    const ttl = await raw((c) => c.ttl(`myapp:${sid}`));
    assert.ok(ttl >= 1 && ttl <= 2, `ttl ${ttl}`);
    assert.equal((await fetch(`${app.url}/me`, { headers: { cookie } })).status, 200);
    // A request touches the session (resave false + touch): the TTL is renewed, not lost.
    assert.ok((await raw((c) => c.ttl(`myapp:${sid}`))) >= 1);
    await sleep(2300);
    // The server expired the key; the same cookie no longer logs in.
    assert.equal(await raw((c) => c.exists(`myapp:${sid}`)), 0);
    assert.equal((await fetch(`${app.url}/me`, { headers: { cookie } })).status, 401);
  } finally {
    await app.close();
  }
});
