// Function libraries in RDB files (FUNCTION2 records) and in the AOF: SAVE,
// BGSAVE, DEBUG RELOAD, the AOF base in RDB and AOF form; files with functions
// written by Debian's redis-server 7.0 load in Vireo and the reverse.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, copyFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startVireo, startRedis, haveRedis } from '../helpers/servers.mjs';
import { client } from '../interop/rdb-helpers.mjs';
import { loadRdb, DEFAULT_LOAD_LIMITS } from '../../dist/src/persistence/rdb/index.js';

/** The library codes of an RDB image's FUNCTION2 records, in file order. */
function rdbLibraries(buf) {
  const libs = [];
  loadRdb(buf, { dbCount: 16, add() {}, library: (code) => libs.push(code) }, { limits: DEFAULT_LOAD_LIMITS });
  return libs;
}

const LIB = "#!lua name=mylib\nserver.register_function('myfunc', function(keys, args) return 'hello ' .. args[1] end)\n" +
  "server.register_function{function_name='ro_get', callback=function(keys) return server.call('GET', keys[1]) end, flags={'no-writes'}}";
const LIB_REDIS = LIB.replaceAll('server.', 'redis.');
const LIB2 = "#!lua name=other\nredis.register_function('incr2', function(keys) return redis.call('INCRBY', keys[1], 2) end)";

const made = [];
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'vireo-rdbfn-'));
  made.push(d);
  return d;
}
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function withVireo(args, fn) {
  const s = await startVireo(['--enable-debug-command', 'yes', ...args]);
  const c = client(s.port);
  try {
    return await fn(c, s);
  } finally {
    c.disconnect();
    await s.stop();
  }
}

async function waitFor(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function checkLibs(c) {
  assert.equal(await c.call('FCALL', 'myfunc', '0', 'world'), 'hello world');
  assert.equal(await c.call('FCALL_RO', 'ro_get', '1', 'k'), 'v');
  assert.equal(await c.call('FCALL', 'incr2', '1', 'n'), 12);
  const list = await c.call('FUNCTION', 'LIST', 'WITHCODE');
  const codes = list.map((l) => l[l.indexOf('library_code') + 1]).sort();
  assert.deepEqual(codes, [LIB2, LIB].sort());
}

test('SAVE, BGSAVE and restart keep the function libraries; DEBUG RELOAD too', async () => {
  const dir = tmp();
  await withVireo(['--dir', dir], async (c) => {
    assert.equal(await c.call('FUNCTION', 'LOAD', LIB), 'mylib');
    assert.equal(await c.call('FUNCTION', 'LOAD', LIB2), 'other');
    await c.set('k', 'v');
    await c.set('n', '10');
    assert.equal(await c.call('SAVE'), 'OK');
    // One FUNCTION2 record (opcode 245 + the code as a string) per library, in load order.
    assert.deepEqual(rdbLibraries(readFileSync(join(dir, 'dump.rdb'))), [LIB, LIB2]);
    assert.equal(await c.call('DEBUG', 'RELOAD'), 'OK');
    await checkLibs(c);
    await c.set('n', '10');
  });
  await withVireo(['--dir', dir], async (c) => {
    await checkLibs(c);
    await c.set('n', '10');
    // BGSAVE: the libraries as of its start.
    assert.equal(await c.call('FUNCTION', 'DELETE', 'other'), 'OK');
    assert.equal(await c.call('FUNCTION', 'LOAD', LIB2), 'other');
    await c.call('BGSAVE');
    await waitFor(async () => /rdb_bgsave_in_progress:0/.test(await c.info('persistence')));
    assert.match(await c.info('persistence'), /rdb_last_bgsave_status:ok/);
  });
  await withVireo(['--dir', dir], async (c) => {
    await checkLibs(c);
  });
});

test('a library that fails to load stops the start-up with a clear error', async () => {
  const dir = tmp();
  await withVireo(['--dir', dir, '--rdbcompression', 'no'], async (c) => {
    await c.call('FUNCTION', 'LOAD', LIB);
    await c.call('SAVE');
  });
  // (--rdbcompression no: the code is stored as is.) Make the library invalid without changing lengths: the engine name is unknown.
  const p = join(dir, 'dump.rdb');
  const b = readFileSync(p);
  const at = b.indexOf('#!lua name=mylib');
  assert.ok(at > 0);
  b.write('#!lux', at, 'latin1');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(p, b);
  await assert.rejects(startVireo(['--dir', dir, '--rdbchecksum', 'no']), /Failed loading library, ERR Engine 'lux' not found/);
});

test('the AOF base keeps the libraries, in RDB and in AOF form', async () => {
  for (const preamble of ['yes', 'no']) {
    const dir = tmp();
    const args = ['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble];
    await withVireo(args, async (c) => {
      await c.call('FUNCTION', 'LOAD', LIB);
      await c.call('FUNCTION', 'LOAD', LIB2);
      await c.set('k', 'v');
      await c.set('n', '10');
      await c.call('BGREWRITEAOF');
      await waitFor(async () => /aof_rewrite_in_progress:0/.test(await c.info('persistence')) && /aof_rewrite_scheduled:0/.test(await c.info('persistence')));
    });
    const base = readFileSync(join(dir, 'appendonlydir', preamble === 'yes' ? 'appendonly.aof.2.base.rdb' : 'appendonly.aof.2.base.aof'));
    if (preamble === 'yes') assert.deepEqual(rdbLibraries(base), [LIB, LIB2]);
    else assert.ok(base.includes(Buffer.from(`*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$${LIB.length}\r\n${LIB}\r\n`)));
    await withVireo(args, async (c) => {
      await checkLibs(c);
    });
  }
});

test('function libraries cross between redis-server 7.0 and Vireo in dump.rdb', { skip: !haveRedis() }, async () => {
  const vdir = tmp();
  const rdir = tmp();
  // redis-server -> Vireo
  const r = await startRedis(['--dir', rdir]);
  const cr = client(r.port);
  try {
    assert.equal(await cr.call('FUNCTION', 'LOAD', LIB_REDIS), 'mylib');
    assert.equal(await cr.call('FUNCTION', 'LOAD', LIB2), 'other');
    await cr.set('k', 'v');
    await cr.set('n', '10');
    assert.equal(await cr.call('SAVE'), 'OK');
  } finally {
    cr.disconnect();
    await r.stop();
  }
  copyFileSync(join(rdir, 'dump.rdb'), join(vdir, 'dump.rdb'));
  await withVireo(['--dir', vdir], async (c) => {
    assert.equal(await c.call('FCALL', 'myfunc', '0', 'world'), 'hello world');
    assert.equal(await c.call('FCALL_RO', 'ro_get', '1', 'k'), 'v');
    assert.equal(await c.call('FCALL', 'incr2', '1', 'n'), 12);
    // Vireo -> redis-server
    assert.equal(await c.call('FUNCTION', 'DELETE', 'mylib'), 'OK');
    assert.equal(await c.call('FUNCTION', 'LOAD', LIB_REDIS.replace('hello ', 'hi ')), 'mylib');
    assert.equal(await c.call('SAVE'), 'OK');
  });
  rmSync(join(rdir, 'dump.rdb'));
  copyFileSync(join(vdir, 'dump.rdb'), join(rdir, 'dump.rdb'));
  const r2 = await startRedis(['--dir', rdir]);
  const cr2 = client(r2.port);
  try {
    assert.equal(await cr2.call('FCALL', 'myfunc', '0', 'world'), 'hi world');
    assert.equal(await cr2.call('FCALL_RO', 'ro_get', '1', 'k'), 'v');
    assert.equal(await cr2.call('FCALL', 'incr2', '1', 'n'), 14);
    assert.equal((await cr2.call('FUNCTION', 'LIST')).length, 2);
  } finally {
    cr2.disconnect();
    await r2.stop();
  }
  assert.ok(existsSync(join(rdir, 'dump.rdb')));
});
