// AOF interoperability with Debian's redis-server 7.0.15: a multi-part AOF
// directory written by Vireo (base + incr + manifest) loads in redis-server
// with `appendonly yes`, and one written by redis-server loads in Vireo, with
// every key, value, TTL and type (compared with a full dump).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVireo, startRedis, haveRedis } from '../helpers/servers.mjs';
import { client, populate, fullDump } from './rdb-helpers.mjs';

const skip = !haveRedis() && 'needs Debian redis-server';

async function waitRewrite(r) {
  for (let i = 0; i < 200; i++) {
    const s = await r.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(s) && /aof_rewrite_scheduled:0/.test(s) && /aof_rewrites:[1-9]/.test(s)) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('rewrite did not finish');
}

/** A few writes of every kind after the rewrite, so the incr file matters too. */
async function moreWrites(r) {
  await r.set('after:str', 'v', 'EX', 5000);
  await r.rpush('list:small', 'tail');
  await r.hincrbyfloat('hash:small', 'f2', '0.5');
  await r.incrbyfloat('str:float', '2');
  await r.zincrby('zset:small', 3, 'a');
  await r.spop('set:big');
  await r.xadd('stream:s', '*', 'late', '1');
  await r.xreadgroup('GROUP', 'g2', 'carol', 'COUNT', 1, 'STREAMS', 'stream:s', '>');
  await r.select(5);
  await r.set('db5', 'x');
  await r.select(0);
}

for (const preamble of ['yes', 'no']) {
test(`an AOF directory written by Vireo loads in redis-server 7.0 (aof-use-rdb-preamble ${preamble})`, { skip }, async () => {
  const vdir = mkdtempSync(join(tmpdir(), 'vireo-aof-out-'));
  const v = await startVireo(['--dir', vdir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--aof-use-rdb-preamble', preamble]);
  const rv = client(v.port);
  await populate(rv);
  await rv.bgrewriteaof();
  await waitRewrite(rv);
  await moreWrites(rv);
  const want = await fullDump(rv, [0, 2, 5]);
  rv.disconnect();
  await v.stop();
  const rdir = mkdtempSync(join(tmpdir(), 'vireo-aof-redis-'));
  cpSync(join(vdir, 'appendonlydir'), join(rdir, 'appendonlydir'), { recursive: true });
  const red2 = await startRedis(['--appendonly', 'yes', '--dir', rdir]);
  const rr = client(red2.port);
  assert.deepEqual(await fullDump(rr, [0, 2, 5]), want);
  rr.disconnect();
  await red2.stop();
  rmSync(vdir, { recursive: true, force: true });
  rmSync(rdir, { recursive: true, force: true });
});

test(`an AOF directory written by redis-server 7.0 loads in Vireo (aof-use-rdb-preamble ${preamble})`, { skip }, async () => {
  const rdir = mkdtempSync(join(tmpdir(), 'vireo-aof-in-'));
  const red = await startRedis(['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble, '--appendfsync', 'always', '--dir', rdir]);
  const rr = client(red.port);
  await populate(rr);
  await rr.bgrewriteaof();
  await waitRewrite(rr);
  await moreWrites(rr);
  rr.disconnect();
  await red.stop();
  // What redis-server itself reads back from these files is the reference (Redis 7.0 does not
  // propagate a group's entries_read with XREADGROUP, so its reload differs from its live state there).
  const red2 = await startRedis(['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble, '--dir', rdir]);
  const rr2 = client(red2.port);
  const want = await fullDump(rr2, [0, 2, 5]);
  rr2.disconnect();
  await red2.stop();
  assert.match(readFileSync(join(rdir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'), /type b\n.*type i\n$/s);
  const vdir = mkdtempSync(join(tmpdir(), 'vireo-aof-copy-'));
  cpSync(join(rdir, 'appendonlydir'), join(vdir, 'appendonlydir'), { recursive: true });
  const v = await startVireo(['--dir', vdir, '--appendonly', 'yes', '--save', '']);
  const rv = client(v.port);
  assert.deepEqual(await fullDump(rv, [0, 2, 5]), want);
  rv.disconnect();
  await v.stop();
  rmSync(vdir, { recursive: true, force: true });
  rmSync(rdir, { recursive: true, force: true });
});
}
