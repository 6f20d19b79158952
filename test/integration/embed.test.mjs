// The embedding API: startServer() from the built package, several servers in
// one process, options as camelCase or kebab-case directives, bad options
// rejected, close() and SHUTDOWN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startServer } from '../../dist/src/index.js';
import { RawConn } from '../helpers/resp.mjs';

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const pair = (k, v) => `*2\r\n${bulk(k)}${bulk(v)}`;

function refused(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

test('two servers in one process, each on its own free port, with their own data', async () => {
  const [a, b] = await Promise.all([startServer(), startServer({ port: 0 })]);
  try {
    assert.ok(a.port > 0 && b.port > 0 && a.port !== b.port);
    assert.equal(a.host, '127.0.0.1');
    const ra = new Redis({ port: a.port, host: a.host, lazyConnect: true });
    const rb = createClient({ url: `redis://127.0.0.1:${b.port}`, RESP: 3 });
    await ra.connect();
    await rb.connect();
    try {
      await ra.set('k', 'from-a');
      await rb.set('k', 'from-b');
      assert.equal(await ra.get('k'), 'from-a');
      assert.equal(await rb.get('k'), 'from-b');
      assert.equal(await ra.call('CONFIG', 'GET', 'port').then((r) => r[1]), String(a.port));
      // The server object is reachable for stats.
      assert.ok(a.server.stats.numCommands >= 3);
    } finally {
      ra.disconnect();
      await rb.quit();
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  assert.ok(await refused(a.port));
  assert.ok(await refused(b.port));
});

test('close() ends open connections and resolves; calling it twice is fine', async () => {
  const s = await startServer();
  const c = await RawConn.connect(s.port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  await s.close();
  await c.waitClosed();
  await s.close();
  assert.ok(await refused(s.port));
});

test('options as camelCase and kebab-case directives, booleans, numbers and lists', async () => {
  const s = await startServer({
    requirepass: 'secret',
    maxmemory: '10mb',
    'maxmemory-policy': 'noeviction',
    maxClients: 77,
    dynamicHz: false,
    databases: 3,
    'tcp-keepalive': 0,
    bind: ['127.0.0.1'],
  });
  try {
    const c = await RawConn.connect(s.port);
    assert.equal(await c.call('PING'), '-NOAUTH Authentication required.\r\n');
    assert.equal(await c.call('AUTH', 'secret'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), pair('maxmemory', '10485760'));
    assert.equal(await c.call('CONFIG', 'GET', 'maxclients'), pair('maxclients', '77'));
    assert.equal(await c.call('CONFIG', 'GET', 'dynamic-hz'), pair('dynamic-hz', 'no'));
    assert.equal(await c.call('CONFIG', 'GET', 'databases'), pair('databases', '3'));
    assert.equal(await c.call('SELECT', '3'), '-ERR DB index is out of range\r\n');
    c.close();
  } finally {
    await s.close();
  }
});

test('invalid options are rejected before anything listens', async () => {
  await assert.rejects(startServer({ noSuchOption: 1 }), /noSuchOption/);
  await assert.rejects(startServer({ maxmemory: 'lots' }), /argument must be a memory value/);
  await assert.rejects(startServer({ databases: 0 }), /argument must be between 1 and 2147483647 inclusive/);
  await assert.rejects(startServer({ 'dynamic-hz': 'maybe' }), /argument must be 'yes' or 'no'/);
  await assert.rejects(startServer({ appendfsync: 'sometimes' }), /must be one of the following: always, everysec, no/);
});

test('a config file plus options that win over it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-embed-'));
  try {
    const conf = join(dir, 'e.conf');
    writeFileSync(conf, 'timeout 30\nhz 15\nmaxclients 99\n');
    const s = await startServer({ configFile: conf, hz: 25 });
    try {
      const c = await RawConn.connect(s.port);
      assert.equal(await c.call('CONFIG', 'GET', 'timeout'), pair('timeout', '30'));
      assert.equal(await c.call('CONFIG', 'GET', 'hz'), pair('hz', '25'));
      assert.equal(await c.call('CONFIG', 'GET', 'maxclients'), pair('maxclients', '99'));
      // CONFIG REWRITE works on the embedded server's file too.
      assert.equal(await c.call('CONFIG', 'REWRITE'), '+OK\r\n');
      c.close();
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SHUTDOWN on an embedded server closes it without ending the process', async () => {
  const s = await startServer();
  const c = await RawConn.connect(s.port);
  c.send('SHUTDOWN', 'NOSAVE');
  await c.waitClosed();
  assert.ok(await refused(s.port));
  await s.close();
});
