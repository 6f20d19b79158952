// rdb-save-incremental-fsync and aof-rewrite-incremental-fsync: with yes, a
// save or AOF rewrite flushes its file to disk every 4 MB as it writes (SAVE in
// place, BGSAVE / BGREWRITEAOF in the thread pool); with no, only the final
// fsync. The server runs in this process so the fs calls can be counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { client } from '../interop/rdb-helpers.mjs';
import { startServer } from '../../dist/src/index.js';
import { FdSink, AUTOSYNC_BYTES } from '../../dist/src/persistence/fdsink.js';

const counts = { sync: 0, async: 0 };
const orig = { sync: fs.fdatasyncSync, async: fs.fdatasync };
let dir;
let cwd;

before(() => {
  fs.fdatasyncSync = (...a) => {
    counts.sync++;
    return orig.sync(...a);
  };
  fs.fdatasync = (...a) => {
    counts.async++;
    return orig.async(...a);
  };
  syncBuiltinESMExports();
  cwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), 'vireo-incfsync-'));
  process.chdir(dir); // the embedded server writes in the working directory
});
after(() => {
  fs.fdatasyncSync = orig.sync;
  fs.fdatasync = orig.async;
  syncBuiltinESMExports();
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

function reset() {
  counts.sync = 0;
  counts.async = 0;
}

async function waitFor(fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('FdSink flushes every AUTOSYNC_BYTES (4 MB), in place or in the pool, and waits before closing', async () => {
  assert.equal(AUTOSYNC_BYTES, 4 * 1024 * 1024);
  const p = join(dir, 'sink.bin');
  const chunk = Buffer.alloc(1024 * 1024, 7);
  for (const [mode, field, expect] of [['sync', 'sync', 2], ['async', 'async', 1], ['off', 'sync', 0]]) {
    reset();
    const fd = fs.openSync(p, 'w');
    const s = new FdSink(fd, mode);
    for (let i = 0; i < 9; i++) s.write(chunk);
    if (mode === 'async') assert.ok(counts.async >= 1 && counts.async <= 2);
    else assert.equal(counts[field], expect);
    await new Promise((r) => s.whenIdle(r));
    fs.closeSync(fd);
    assert.equal(fs.statSync(p).size, 9 * chunk.length);
  }
});

test('SAVE, BGSAVE and BGREWRITEAOF fsync incrementally unless the directives say no', async () => {
  const srv = await startServer({ save: '', appendfsync: 'no' });
  const c = client(srv.port);
  try {
    const p = c.pipeline();
    for (let i = 0; i < 120; i++) p.set(`k${i}`, randomBytes(50 * 1024).toString('base64'));
    await p.exec();
    // ~8 MB of values: two 4 MB marks.
    reset();
    assert.equal(await c.call('SAVE'), 'OK');
    assert.ok(counts.sync >= 1, `SAVE: ${counts.sync} incremental fdatasyncs`);
    assert.ok(existsSync(join(dir, 'dump.rdb')));
    reset();
    await c.call('BGSAVE');
    await waitFor(async () => /rdb_bgsave_in_progress:0/.test(await c.info('persistence')));
    assert.match(await c.info('persistence'), /rdb_last_bgsave_status:ok/);
    assert.ok(counts.async >= 1, `BGSAVE: ${counts.async} incremental fdatasyncs`);
    await c.call('CONFIG', 'SET', 'rdb-save-incremental-fsync', 'no');
    reset();
    assert.equal(await c.call('SAVE'), 'OK');
    await c.call('BGSAVE');
    await waitFor(async () => /rdb_bgsave_in_progress:0/.test(await c.info('persistence')));
    assert.deepEqual(counts, { sync: 0, async: 0 });
    assert.deepEqual(await c.call('CONFIG', 'GET', 'rdb-save-incremental-fsync'), ['rdb-save-incremental-fsync', 'no']);

    // AOF rewrite (appendfsync no: the AOF itself never fdatasyncs).
    await c.call('CONFIG', 'SET', 'appendonly', 'yes');
    await waitFor(async () => /aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0/.test(await c.info('persistence')) && /aof_enabled:1/.test(await c.info('persistence')));
    for (const [value, min, max] of [['yes', 1, Infinity], ['no', 0, 0]]) {
      await c.call('CONFIG', 'SET', 'aof-rewrite-incremental-fsync', value);
      reset();
      await c.call('BGREWRITEAOF');
      await waitFor(async () => /aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0/.test(await c.info('persistence')));
      assert.match(await c.info('persistence'), /aof_last_bgrewrite_status:ok/);
      assert.ok(counts.async >= min && counts.async <= max, `BGREWRITEAOF (${value}): ${counts.async} incremental fdatasyncs`);
    }
    await c.call('CONFIG', 'SET', 'appendonly', 'no');
  } finally {
    c.disconnect();
    await srv.close();
  }
});
