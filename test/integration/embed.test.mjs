// The embedding API: startServer() from the built package, several servers in
// one process, options as camelCase or kebab-case directives, bad options
// rejected, close() and SHUTDOWN, and files (RDB, AOF, pidfile, logfile) in `dir`
// without changing the process's working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, existsSync, readdirSync, readFileSync, mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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

// ------------------------------------------------------------ files and `dir`

/** Runs fn with the process in a fresh empty working directory; returns what is in it afterwards. */
async function inEmptyCwd(fn) {
  const cwd = mkdtempSync(join(tmpdir(), 'vireo-embed-cwd-'));
  const old = process.cwd();
  process.chdir(cwd);
  try {
    await fn(cwd);
    assert.equal(process.cwd(), realpathSync(cwd), 'an embedded server never changes the working directory');
    return readdirSync(cwd);
  } finally {
    process.chdir(old);
    rmSync(cwd, { recursive: true, force: true });
  }
}

test('SAVE writes dump.rdb into dir (never the working directory), and a restart in that dir loads it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-embed-dir-'));
  try {
    const left = await inEmptyCwd(async () => {
      let s = await startServer({ dir, save: '3600 1', dbfilename: 'data.rdb' });
      let c = await RawConn.connect(s.port);
      assert.equal(await c.call('CONFIG', 'GET', 'dir'), pair('dir', realpathSync(dir)));
      assert.equal(await c.call('CONFIG', 'GET', 'save'), pair('save', '3600 1'));
      assert.equal(await c.call('SET', 'k', 'v1'), '+OK\r\n');
      assert.equal(await c.call('SAVE'), '+OK\r\n');
      assert.ok(existsSync(join(dir, 'data.rdb')));
      assert.equal(await c.call('SET', 'after-save', 'x'), '+OK\r\n');
      c.close();
      // close() with save points set does the final save, like SIGTERM on the command line.
      await s.close();
      s = await startServer({ dir, dbfilename: 'data.rdb' });
      c = await RawConn.connect(s.port);
      assert.equal(await c.call('GET', 'k'), bulk('v1'));
      assert.equal(await c.call('GET', 'after-save'), bulk('x'));
      // Without save points (the embedding default) close() does not save.
      assert.equal(await c.call('SET', 'unsaved', '1'), '+OK\r\n');
      c.close();
      await s.close();
      s = await startServer({ dir, dbfilename: 'data.rdb' });
      c = await RawConn.connect(s.port);
      assert.equal(await c.call('EXISTS', 'unsaved'), ':0\r\n');
      // BGSAVE goes to dir too.
      assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
      const end = Date.now() + 30000;
      while (!(await c.call('INFO', 'persistence')).includes('rdb_bgsave_in_progress:0')) {
        if (Date.now() > end) throw new Error('BGSAVE did not finish');
        await new Promise((r) => setTimeout(r, 20));
      }
      c.close();
      await s.close();
    });
    assert.deepEqual(left, []);
    assert.deepEqual(readdirSync(dir), ['data.rdb']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('appendonly, relative dir, pidfile and logfile: every file lands in dir; two servers keep their own dirs', async () => {
  const base = mkdtempSync(join(tmpdir(), 'vireo-embed-base-'));
  try {
    mkdirSync(join(base, 'a'));
    mkdirSync(join(base, 'b'));
    const left = await inEmptyCwd(async (cwd) => {
      // A relative dir is taken from the working directory at start, as the command line's chdir would.
      const rel = relative(cwd, join(base, 'a'));
      const a = await startServer({ dir: rel, appendonly: true, appendfsync: 'always', pidfile: 'a.pid', logfile: 'a.log', loglevel: 'notice' });
      const b = await startServer({ dir: join(base, 'b'), save: '3600 1' });
      const ca = await RawConn.connect(a.port);
      const cb = await RawConn.connect(b.port);
      assert.equal(await ca.call('SET', 'ka', '1'), '+OK\r\n');
      assert.equal(await cb.call('SET', 'kb', '2'), '+OK\r\n');
      assert.equal(await ca.call('CONFIG', 'GET', 'dir'), pair('dir', realpathSync(join(base, 'a'))));
      assert.equal(readFileSync(join(base, 'a', 'a.pid'), 'latin1'), `${process.pid}\n`);
      assert.ok(existsSync(join(base, 'a', 'appendonlydir', 'appendonly.aof.manifest')));
      ca.close();
      cb.close();
      await Promise.all([a.close(), b.close()]);
      assert.ok(!existsSync(join(base, 'a', 'a.pid')), 'the pidfile is removed on close');
      assert.match(readFileSync(join(base, 'a', 'a.log'), 'latin1'), /\S/);
      assert.ok(existsSync(join(base, 'b', 'dump.rdb')));
      assert.ok(!existsSync(join(base, 'a', 'dump.rdb')) && !existsSync(join(base, 'b', 'appendonlydir')));
      // Restarted, each server finds its own data (a from its AOF, b from its RDB).
      const a2 = await startServer({ dir: join(base, 'a'), appendonly: true });
      const b2 = await startServer({ dir: join(base, 'b') });
      const ca2 = await RawConn.connect(a2.port);
      const cb2 = await RawConn.connect(b2.port);
      assert.equal(await ca2.call('MGET', 'ka', 'kb'), `*2\r\n${bulk('1')}$-1\r\n`);
      assert.equal(await cb2.call('MGET', 'ka', 'kb'), `*2\r\n$-1\r\n${bulk('2')}`);
      ca2.close();
      cb2.close();
      await Promise.all([a2.close(), b2.close()]);
    });
    assert.deepEqual(left, []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('without dir the working directory at start is the dir; a dir that does not exist is refused', async () => {
  const left = await inEmptyCwd(async (cwd) => {
    await assert.rejects(startServer({ dir: join(cwd, 'missing') }), /No such file or directory/);
    const s = await startServer();
    const c = await RawConn.connect(s.port);
    assert.equal(await c.call('CONFIG', 'GET', 'dir'), pair('dir', realpathSync(cwd)));
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    c.send('SHUTDOWN', 'SAVE');
    await c.waitClosed();
    await s.close();
  });
  assert.deepEqual(left, ['dump.rdb']);
});

test('servers in one process keep their own keyspace state: replica expiry mode, LFU settings, hit counters', async () => {
  const a = await startServer({ port: 0 });
  const b = await startServer({ port: 0 });
  const ca = new Redis(a.port);
  const cb = new Redis(b.port);
  try {
    // b becomes a replica of a: only b hides expired keys and waits for the primary's DEL.
    assert.equal(await cb.call('REPLICAOF', '127.0.0.1', String(a.port)), 'OK');
    const end = Date.now() + 20000;
    while (!(await cb.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > end) throw new Error('replica link not up');
      await new Promise((r) => setTimeout(r, 50));
    }
    await ca.set('k', 'v', 'PX', 50);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await ca.get('k'), null);
    // The primary deleted the key on that read (as a lone server would) and counted it.
    assert.equal(await ca.dbsize(), 0);
    assert.match(await ca.info('stats'), /expired_keys:1\r\n/);
    assert.equal(await cb.call('REPLICAOF', 'NO', 'ONE'), 'OK');

    // LFU settings are per server: lfu-log-factor 0 counts every access, 100 almost none.
    await ca.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    await ca.config('SET', 'lfu-log-factor', '0');
    await cb.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    await cb.config('SET', 'lfu-log-factor', '100');
    await ca.set('f', '1');
    await cb.set('f', '1');
    for (let i = 0; i < 20; i++) await Promise.all([ca.get('f'), cb.get('f')]);
    assert.equal(await ca.object('FREQ', 'f'), 25);
    assert.ok((await cb.object('FREQ', 'f')) < 10);

    // Hit counters are per server.
    await ca.config('RESETSTAT');
    await cb.config('RESETSTAT');
    await ca.get('f');
    await ca.get('nope');
    assert.match(await ca.info('stats'), /keyspace_hits:1\r\nkeyspace_misses:1\r\n/);
    assert.match(await cb.info('stats'), /keyspace_hits:0\r\nkeyspace_misses:0\r\n/);
  } finally {
    ca.disconnect();
    cb.disconnect();
    await a.close();
    await b.close();
  }
});
