// repl-diskless-load on a Vireo replica of a Vireo primary: disabled (the RDB
// is buffered whole, then loaded), on-empty-db and swapdb (parsed while it
// streams in), with both framings ($EOF:<mark> diskless and $<len> disk-based);
// -LOADING during a streamed load; swapdb's async loading (old data served,
// INFO async_loading:1) and a transfer broken mid-way that leaves the old data
// intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { populate, fullDump } from '../interop/rdb-helpers.mjs';
import { infoRepl, waitFor, caughtUp, writeLoad, replicationServers } from '../helpers/repl.mjs';

const { vireo, servers } = replicationServers({ prefix: 'vireo-repll-', vireoArgs: ['--save', '', '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0', '--loglevel', 'notice'] });

async function kill(x) {
  x.c.disconnect();
  await x.s.stop('SIGKILL');
}

/** DEBUG DIGEST covers every key, value and TTL; `full` also compares key by key. */
async function sameData(a, b, full = false) {
  if (full) assert.deepEqual(await fullDump(b.c), await fullDump(a.c));
  assert.equal(await b.c.call('DEBUG', 'DIGEST'), await a.c.call('DEBUG', 'DIGEST'));
  assert.equal(await b.c.dbsize(), await a.c.dbsize());
}

/** n string keys prefix:0.. with incompressible values of `size` bytes. */
async function fill(c, n, prefix, size) {
  for (let i = 0; i < n; i += 500) {
    const p = c.pipeline();
    for (let k = i; k < Math.min(n, i + 500); k++) p.set(`${prefix}:${k}`, randomBytes(size >> 1).toString('hex'));
    await p.exec();
  }
}

async function info(r, section) {
  const o = {};
  for (const line of (await r.info(section)).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) o[line.slice(0, i)] = line.slice(i + 1);
  }
  return o;
}

/** A dataset with records much larger than a socket read (cut across many chunks) and many small ones. */
async function bigDataset(c) {
  await populate(c, { big: 600 });
  await fill(c, 1000, 'k', 40);
  await c.set('huge:str', Buffer.alloc(1500000, 'abcdefgh'));
  const p = c.pipeline();
  for (let i = 0; i < 8000; i += 1000) p.sadd('huge:set', ...Array.from({ length: 1000 }, (_, k) => `member-${i + k}`));
  for (let i = 0; i < 5000; i += 500) p.hset('huge:hash', ...Array.from({ length: 500 }, (_, k) => [`f${i + k}`, 'v'.repeat((i + k) % 90)]).flat());
  await p.exec();
  await c.call('FUNCTION', 'LOAD', "#!lua name=synclib\nserver.register_function{function_name='synced', callback=function() return 7 end, flags={'no-writes'}}");
}

const primaryP = (async () => {
  const p = await vireo();
  await bigDataset(p.c);
  return p;
})();

for (const mode of ['disabled', 'on-empty-db', 'swapdb']) {
  for (const diskless of ['yes', 'no']) {
    test(`repl-diskless-load ${mode}, ${diskless === 'yes' ? '$EOF: (diskless)' : '$<len> (disk-based)'} transfer`, async () => {
      const p = await primaryP;
      await p.c.config('SET', 'repl-diskless-sync', diskless);
      const r = await vireo(['--repl-diskless-load', mode]);
      const load = writeLoad(p.c, 1000, 11); // writes during the transfer follow it in the stream
      await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
      await load;
      await caughtUp(p.c, r.c);
      await sameData(p, r, diskless === 'yes');
      assert.equal(await r.c.call('FCALL', 'synced', '0'), 7); // no-writes: a read-only replica runs it
      const log = r.s.output();
      assert.match(log, mode === 'disabled' ? /receiving .* to disk/ : /receiving .* to parser/);
      if (mode === 'swapdb') assert.match(log, /swapped in/);
      await kill(r);
    });
  }
}

test('on-empty-db with data already there loads like disabled', async () => {
  const p = await primaryP;
  const r = await vireo(['--repl-diskless-load', 'on-empty-db']);
  await r.c.set('mine', '1');
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  await caughtUp(p.c, r.c);
  assert.match(r.s.output(), /receiving .* to disk/);
  assert.equal(await r.c.exists('mine'), 0);
  await sameData(p, r);
  await kill(r);
});

test('a streamed load answers -LOADING while the transfer is still arriving', async () => {
  const p = await primaryP;
  await p.c.config('SET', 'repl-diskless-sync', 'no'); // $<len>: the replica knows how much is still to come
  const r = await vireo(['--repl-diskless-load', 'on-empty-db', '--key-load-delay', '2000']);
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  let seen = null;
  await waitFor(async () => {
    const pers = await info(r.c, 'persistence');
    const repl = await infoRepl(r.c);
    if (pers.loading === '1' && repl.master_sync_in_progress === '1' && Number(repl.master_sync_left_bytes) > 0) seen = repl;
    return seen !== null;
  }, 30000, 'loading while the transfer is in progress');
  await assert.rejects(r.c.get('k:1'), /^ReplyError: LOADING/);
  await r.c.config('SET', 'key-load-delay', '0');
  await caughtUp(p.c, r.c);
  await sameData(p, r);
  await kill(r);
});

test('swapdb: a broken transfer leaves the old data intact (-LOADING meanwhile, another history)', async () => {
  const p = await vireo();
  await fill(p.c, 2000, 'a', 1000); // 2 MB: the snapshot sends a chunk every 256 keys
  const r = await vireo(['--repl-diskless-load', 'swapdb']);
  await r.c.set('old:1', 'a');
  await r.c.hset('old:h', 'f', 'v');
  const before = await r.c.call('DEBUG', 'DIGEST');
  await p.c.config('SET', 'rdb-key-save-delay', '3000'); // a slow transfer: about 3 ms per key
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  await waitFor(async () => (await info(r.c, 'persistence')).loading === '1', 20000, 'loading');
  await waitFor(async () => Number((await infoRepl(r.c)).master_sync_read_bytes) > 0, 20000, 'part of the transfer');
  assert.equal((await info(r.c, 'persistence')).async_loading, '0', 'not the same history: no async loading');
  await assert.rejects(r.c.get('old:1'), /^ReplyError: LOADING/);
  assert.equal((await info(r.c, 'persistence')).loading, '1', 'still loading');
  // The link breaks mid-transfer: the half-loaded set is dropped, the old data stays.
  // (The next sync waits a minute to start: the replica serves its data meanwhile.)
  await p.c.config('SET', 'repl-diskless-sync-delay', '60');
  await p.c.call('CLIENT', 'KILL', 'TYPE', 'replica');
  await waitFor(async () => (await info(r.c, 'persistence')).loading === '0', 20000, 'load aborted');
  assert.match(r.s.output(), /Discarding the partially loaded data set/);
  assert.equal(await r.c.call('DEBUG', 'DIGEST'), before);
  assert.equal(await r.c.get('old:1'), 'a');
  await kill(r);
  await kill(p);
});

test('swapdb with the same history: async loading serves the old data; a killed link keeps it', async () => {
  const p = await vireo();
  await fill(p.c, 2000, 'a', 1000);
  await p.c.config('SET', 'repl-backlog-size', '16384');
  const r = await vireo(['--repl-diskless-load', 'swapdb']);
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  await caughtUp(p.c, r.c);
  const oldDigest = await r.c.call('DEBUG', 'DIGEST');
  // Point the replica elsewhere (it keeps its history), write past the primary's backlog, come back:
  // the primary cannot continue, a full sync of the same history follows.
  // (A listener of ours that never answers: no other test's server can take its port.)
  const silent = net.createServer(() => {});
  await new Promise((res) => silent.listen(0, '127.0.0.1', res));
  await r.c.call('REPLICAOF', '127.0.0.1', String(silent.address().port));
  const p2 = p.c.pipeline();
  for (let i = 0; i < 2000; i++) p2.set(`b:${i}`, 'x'.repeat(30));
  await p2.exec();
  await p.c.config('SET', 'rdb-key-save-delay', '3000');
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  silent.close();
  await waitFor(async () => (await info(r.c, 'persistence')).async_loading === '1', 20000, 'async loading');
  assert.equal((await info(r.c, 'persistence')).loading, '0');
  // Reads are served from the old data; no-async-loading commands are refused.
  assert.equal(await r.c.get('a:1'), (await p.c.get('a:1')));
  assert.equal(await r.c.exists('b:1'), 0);
  await assert.rejects(r.c.call('BGSAVE'), /^ReplyError: LOADING/);
  // Kill the link from the primary's side mid-transfer.
  await waitFor(async () => Number((await infoRepl(r.c)).master_sync_read_bytes) > 0, 20000, 'part of the transfer');
  assert.equal((await info(r.c, 'persistence')).async_loading, '1', 'still loading');
  await p.c.call('CLIENT', 'KILL', 'TYPE', 'replica');
  await waitFor(async () => /Discarding the partially loaded data set/.test(r.s.output()), 20000, 'load discarded').catch((e) => {
    throw new Error(`${e.message}\n${r.s.output()}`);
  });
  assert.equal(await r.c.call('DEBUG', 'DIGEST'), oldDigest, 'the old data is intact');
  // The replica reconnects and completes a sync; the new set is swapped in.
  await p.c.config('SET', 'rdb-key-save-delay', '0');
  await caughtUp(p.c, r.c);
  assert.equal((await info(r.c, 'persistence')).async_loading, '0');
  await sameData(p, r);
  await kill(r);
  await kill(p);
});
