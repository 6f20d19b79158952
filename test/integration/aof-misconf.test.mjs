// The persistence gate: one -MISCONF check for a failed RDB save and an AOF
// write error, with Valkey's messages and precedence (the RDB error first,
// as in writeCommandsDeniedByDiskError), for writes, PING and EXEC of a
// transaction holding writes; reads are served; each error clears on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startVireo } from '../helpers/servers.mjs';
import { needsTmpfs, smallDisk } from '../helpers/diskfull.mjs';
import { RawConn } from '../helpers/resp.mjs';

const MISCONF_RDB =
  "-MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error.\r\n";
const MISCONF_AOF = '-MISCONF Errors writing to the AOF file: No space left on device\r\n';

async function waitFor(pred, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}

test('a failed RDB save and an AOF write error share one gate: RDB message first, each clears on its own', { skip: needsTmpfs() }, async () => {
  const disk = smallDisk('vireo-misconf-');
  const dir = disk.dir;
  let srv;
  let c;
  try {
    srv = await startVireo(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '3600 1', '--enable-protected-configs', 'yes']);
    c = await RawConn.connect(srv.port);
    assert.equal(await c.call('SET', 'k0', 'v'), '+OK\r\n');
    const filler = disk.fill();
    // Writes go on until the AOF cannot take them.
    let first = null;
    for (let i = 1; i < 300 && first === null; i++) {
      const r = await c.call('SET', `k${i}`, 'v'.repeat(2000));
      if (r !== '+OK\r\n') first = r;
    }
    assert.equal(first, MISCONF_AOF);
    assert.equal(await c.call('PING'), MISCONF_AOF);
    // The RDB save fails too (no space for the temp file): its error takes precedence.
    assert.match(await c.call('SAVE'), /^-ERR/);
    assert.match(await c.call('INFO', 'persistence'), /rdb_last_bgsave_status:err/);
    assert.equal(await c.call('SET', 'x', '1'), MISCONF_RDB);
    assert.equal(await c.call('PING'), MISCONF_RDB);
    assert.equal(await c.call('GET', 'k0'), '$1\r\nv\r\n');
    // Inside MULTI a write is refused as it is queued, and EXEC then discards; a read-only transaction runs.
    assert.equal(await c.call('MULTI'), '+OK\r\n');
    assert.equal(await c.call('SET', 'x', '1'), MISCONF_RDB);
    assert.equal(await c.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
    assert.equal(await c.call('MULTI'), '+OK\r\n');
    assert.equal(await c.call('GET', 'k0'), '+QUEUED\r\n');
    assert.equal(await c.call('EXEC'), '*1\r\n$1\r\nv\r\n');
    // Without save points the RDB error no longer stops writes: the AOF's shows.
    assert.equal(await c.call('CONFIG', 'SET', 'save', ''), '+OK\r\n');
    assert.equal(await c.call('SET', 'x', '1'), MISCONF_AOF);
    assert.equal(await c.call('CONFIG', 'SET', 'save', '3600 1'), '+OK\r\n');
    assert.equal(await c.call('SET', 'x', '1'), MISCONF_RDB);
    // Space returns: the AOF recovers on its own (retried each second), the RDB error stays until a save works.
    rmSync(filler);
    await waitFor(async () => /aof_last_write_status:ok/.test(await c.call('INFO', 'persistence')));
    assert.equal(await c.call('SET', 'x', '1'), MISCONF_RDB);
    assert.equal(await c.call('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no'), '+OK\r\n');
    assert.equal(await c.call('SET', 'x', '1'), '+OK\r\n');
    // A write queued before the gate came up: EXEC itself is refused.
    assert.equal(await c.call('MULTI'), '+OK\r\n');
    assert.equal(await c.call('SET', 'x', '2'), '+QUEUED\r\n');
    const admin = await RawConn.connect(srv.port);
    assert.equal(await admin.call('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'yes'), '+OK\r\n');
    admin.close();
    assert.equal(await c.call('EXEC'), `-EXECABORT Transaction discarded because of: ${MISCONF_RDB.slice(1)}`);
    assert.equal(await c.call('GET', 'x'), '$1\r\n1\r\n');
    assert.equal(await c.call('SET', 'x', '2'), MISCONF_RDB);
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    assert.equal(await c.call('SET', 'x', '3'), '+OK\r\n');
    assert.equal(await c.call('PING'), '+PONG\r\n');
  } finally {
    c?.close();
    await srv?.stop();
    disk.release();
  }
});
