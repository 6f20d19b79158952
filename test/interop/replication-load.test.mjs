// repl-diskless-load on a Vireo replica of Debian's redis-server 7.0 primary:
// every mode with both framings ($EOF:<mark> when the primary syncs diskless,
// $<len> through its disk), data compared key by key and by DEBUG DIGEST; and
// a swapdb transfer killed on the Redis side mid-way, which leaves the
// replica's old data intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { haveRedis } from '../helpers/servers.mjs';
import { client, populate } from './rdb-helpers.mjs';
import { infoRepl, waitFor, caughtUp, writeLoad, replicationServers, sameData } from '../helpers/repl.mjs';

const skip = !haveRedis() && 'redis-server is not installed';
const { vireo, redis, servers } = replicationServers({ prefix: 'vireo-repll-', vireoArgs: ['--save', '', '--enable-debug-command', 'yes', '--loglevel', 'notice'] });

async function kill(x) {
  x.c.disconnect();
  await x.s.stop('SIGKILL');
}

async function persistence(r) {
  const o = {};
  for (const line of (await r.info('persistence')).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) o[line.slice(0, i)] = line.slice(i + 1);
  }
  return o;
}

/** n incompressible string keys of `size` bytes. */
async function fill(c, n, prefix, size) {
  for (let i = 0; i < n; i += 500) {
    const p = c.pipeline();
    for (let k = i; k < Math.min(n, i + 500); k++) p.set(`${prefix}:${k}`, randomBytes(size >> 1).toString('hex'));
    await p.exec();
  }
}

const primaryP = skip
  ? null
  : (async () => {
      const p = await redis();
      await populate(p.c, { big: 600 });
      await fill(p.c, 1000, 'k', 300);
      await p.c.set('huge:str', randomBytes(400000));
      await p.c.call('FUNCTION', 'LOAD', "#!lua name=synclib\nredis.register_function{function_name='synced', callback=function() return 7 end, flags={'no-writes'}}");
      return p;
    })();

for (const mode of ['disabled', 'on-empty-db', 'swapdb']) {
  for (const diskless of ['yes', 'no']) {
    test(`Vireo replica of redis-server, repl-diskless-load ${mode}, diskless ${diskless}`, { skip }, async () => {
      const p = await primaryP;
      await p.c.config('SET', 'repl-diskless-sync', diskless);
      const r = await vireo(['--repl-diskless-load', mode]);
      await r.c.set('stale', 'x'); // a swapdb replica keeps this until the new set is complete
      if (mode === 'on-empty-db') await r.c.del('stale');
      const load = writeLoad(p.c, 1000, 7);
      await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
      await load;
      await caughtUp(p.c, r.c).catch((e) => {
        throw new Error(`${e.message}\n${r.s.output()}`);
      });
      await sameData(p, r);
      assert.equal(await r.c.call('FCALL', 'synced', '0'), 7); // no-writes: a read-only replica runs it
      assert.match(r.s.output(), mode === 'disabled' ? /receiving .* to disk/ : /receiving .* to parser/);
      await kill(r);
    });
  }
}

test('swapdb: a transfer from redis-server killed mid-way leaves the old data intact', { skip }, async () => {
  const p = await redis();
  await fill(p.c, 2000, 'a', 1000);
  const r = await vireo(['--repl-diskless-load', 'swapdb']);
  await r.c.set('old:1', 'a');
  await r.c.rpush('old:l', '1', '2', '3');
  const before = await r.c.call('DEBUG', 'DIGEST');
  await p.c.config('SET', 'rdb-key-save-delay', '3000'); // about 3 ms per key: a transfer of several seconds
  await r.c.call('REPLICAOF', '127.0.0.1', String(p.port));
  await waitFor(async () => Number((await infoRepl(r.c)).master_sync_read_bytes) > 0, 30000, 'part of the transfer');
  assert.equal((await persistence(r.c)).loading, '1');
  await assert.rejects(r.c.get('old:1'), /^ReplyError: LOADING/);
  // The next sync waits a minute: the replica serves its old data meanwhile.
  await p.c.config('SET', 'repl-diskless-sync-delay', '60');
  await p.c.client('KILL', 'TYPE', 'replica');
  await waitFor(async () => (await persistence(r.c)).loading === '0', 20000, 'load aborted');
  assert.match(r.s.output(), /Discarding the partially loaded data set/);
  assert.equal(await r.c.call('DEBUG', 'DIGEST'), before);
  assert.deepEqual(await r.c.lrange('old:l', 0, -1), ['1', '2', '3']);
  await kill(r);
  await kill(p);
});
