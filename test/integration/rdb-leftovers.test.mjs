// Persistence details around loading and the MISCONF gate:
//  - hashes with field TTLs that enter the keyspace without a hash command (start-up
//    RDB load, a rewritten AOF, DEBUG RELOAD, RESTORE) join ACTIVE field
//    expiry: a hash whose only field expires disappears although nothing touches it
//    (DBSIZE does not look at keys, so only the active cycle can delete it);
//  - scripts and MISCONF (Valkey's rules): a write from a script is refused unless the
//    script already wrote, a script declared without `no-writes` (shebang or function)
//    is refused before it runs, a `no-writes` one runs;
//  - CONFIG SET dir: the command-line server chdirs as Valkey does; an embedded server
//    resolves the new dir against its own and never changes the process's directory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, existsSync, realpathSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { startServer } from '../../dist/src/index.js';

const made = [];
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'vireo-rdbl-'));
  made.push(d);
  return d;
}
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const int = (r) => Number(/^:(-?\d+)\r\n$/.exec(r)?.[1]);

async function waitFor(pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(50);
  }
}

/**
 * Runs `attempt(ttlMs)`, which writes a hash `h` whose only field expires in ttlMs,
 * brings it back through the path under test and returns a connection to the server
 * holding the loaded data (plus a cleanup). Checks the hash arrived (else the machine
 * was too slow for that TTL: retried with a longer one), then that the active cycle
 * deletes it without any command touching it.
 */
async function expiresUntouched(attempt) {
  for (const ttl of [3000, 10000, 30000]) {
    const { c, done } = await attempt(ttl);
    try {
      const n = int(await c.call('DBSIZE'));
      if (n === 0) continue; // the field was already due when it loaded: try a longer TTL
      assert.equal(n, 2, 'h and the plain key k are loaded');
      await waitFor(async () => int(await c.call('DBSIZE')) === 1, ttl + 30000);
      assert.equal(await c.call('EXISTS', 'h'), ':0\r\n');
      assert.equal(await c.call('GET', 'k'), '$1\r\nv\r\n');
      return;
    } finally {
      await done();
    }
  }
  assert.fail('the hash never arrived before its field expired');
}

async function writeVolatileHash(c, ttl) {
  assert.equal(await c.call('SET', 'k', 'v'), '+OK\r\n');
  assert.equal(await c.call('HSET', 'h', 'f', 'v'), ':1\r\n');
  assert.equal(await c.call('HPEXPIRE', 'h', String(ttl), 'FIELDS', '1', 'f'), '*1\r\n:1\r\n');
}

test('a hash with field TTLs loaded from an RDB at start-up expires actively', async () => {
  await expiresUntouched(async (ttl) => {
    const dir = tmp();
    const a = await startVireo(['--dir', dir]);
    const ca = await RawConn.connect(a.port);
    await writeVolatileHash(ca, ttl);
    assert.equal(await ca.call('SAVE'), '+OK\r\n');
    ca.close();
    await a.stop('SIGKILL');
    const b = await startVireo(['--dir', dir]);
    const c = await RawConn.connect(b.port);
    await waitFor(async () => /^loading:0\r$/m.test(await c.call('INFO', 'persistence')), 30000);
    return { c, done: async () => (c.close(), await b.stop()) };
  });
});

test('a hash with field TTLs in a rewritten AOF (RDB preamble or commands) expires actively after restart', async () => {
  for (const preamble of ['yes', 'no']) {
    await expiresUntouched(async (ttl) => {
      const dir = tmp();
      const args = ['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble];
      const a = await startVireo(args);
      const ca = await RawConn.connect(a.port);
      await writeVolatileHash(ca, ttl);
      assert.match(await ca.call('BGREWRITEAOF'), /^\+Background append only file rewriting/);
      // The rewrite done: the hash is in the new base file (RDB preamble, or HSET + HPEXPIREAT commands).
      await waitFor(async () => /^aof_rewrites:1\r$/m.test(await ca.call('INFO', 'persistence')), 30000);
      ca.close();
      await a.stop('SIGKILL');
      const b = await startVireo(args);
      const c = await RawConn.connect(b.port);
      await waitFor(async () => /^loading:0\r$/m.test(await c.call('INFO', 'persistence')), 30000);
      return { c, done: async () => (c.close(), await b.stop()) };
    });
  }
});

test('DEBUG RELOAD and RESTORE register hashes with field TTLs for active expiry', async () => {
  const dir = tmp();
  const s = await startVireo(['--dir', dir, '--enable-debug-command', 'yes']);
  try {
    // DEBUG RELOAD: the hashes registered by HPEXPIRE are replaced by loaded ones.
    await expiresUntouched(async (ttl) => {
      const c = await RawConn.connect(s.port);
      assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
      await writeVolatileHash(c, ttl);
      assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n');
      return { c, done: async () => c.close() };
    });
    // RESTORE of a DUMP payload holding a field TTL.
    await expiresUntouched(async (ttl) => {
      const c = await RawConn.connect(s.port);
      assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
      await writeVolatileHash(c, ttl);
      const dump = await c.call('DUMP', 'h');
      const m = /^\$(\d+)\r\n/.exec(dump);
      const payload = dump.slice(m[0].length, m[0].length + Number(m[1]));
      assert.equal(await c.call('DEL', 'h'), ':1\r\n');
      assert.equal(await c.call('RESTORE', 'h', '0', payload), '+OK\r\n');
      return { c, done: async () => c.close() };
    });
  } finally {
    await s.stop();
  }
});

const MISCONF_RDB =
  "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error.";
const sha1 = (s) => createHash('sha1').update(s).digest('hex');
const bulk = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

test('MISCONF in scripts: the first write is refused, write-flagged scripts and functions do not start, no-writes ones run', async () => {
  const dir = tmp();
  const s = await startVireo(['--dir', dir, '--save', '3600 1', '--enable-protected-configs', 'yes']);
  const c = await RawConn.connect(s.port);
  try {
    assert.equal(await c.call('SET', 'k', 'v'), '+OK\r\n');
    assert.equal(await c.call('FUNCTION', 'LOAD', "#!lua name=lib\nserver.register_function('wr', function(keys) return server.call('SET', keys[1], 'x') end)\nserver.register_function{function_name='rd', callback=function(keys) return server.call('GET', keys[1]) end, flags={'no-writes'}}"), bulk('lib'));
    // A save that fails: the file name is taken by a directory.
    mkdirSync(join(dir, 'blocked'));
    assert.equal(await c.call('CONFIG', 'SET', 'dbfilename', 'blocked'), '+OK\r\n');
    assert.equal(await c.call('SAVE'), '-ERR\r\n');
    assert.equal(await c.call('SET', 'k', 'w'), `-${MISCONF_RDB}\r\n`);
    // Legacy EVAL (no shebang): reads run, the first write is refused inside the script.
    const rd = "return redis.call('GET', KEYS[1])";
    assert.equal(await c.call('EVAL', rd, '1', 'k'), bulk('v'));
    const wr = "redis.call('GET', KEYS[1]) return redis.call('SET', KEYS[1], 'w')";
    assert.equal(await c.call('EVAL', wr, '1', 'k'), `-${MISCONF_RDB} script: ${sha1(wr)}, on @user_script:1.\r\n`);
    const pc = "local r = redis.pcall('SET', KEYS[1], 'w') return r['err']";
    assert.equal(await c.call('EVAL', pc, '1', 'k'), bulk(MISCONF_RDB));
    // Declared flags: a script that may write is a write command, refused before it runs.
    assert.equal(await c.call('EVAL', '#!lua\nreturn 1', '0'), `-${MISCONF_RDB}\r\n`);
    assert.equal(await c.call('EVAL', "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", '1', 'k'), bulk('v'));
    assert.equal(await c.call('FCALL', 'wr', '1', 'k'), `-${MISCONF_RDB}\r\n`);
    assert.equal(await c.call('FCALL', 'rd', '1', 'k'), bulk('v'));
    assert.equal(await c.call('GET', 'k'), bulk('v'));
    // The gate opens again after a good save.
    assert.equal(await c.call('CONFIG', 'SET', 'dbfilename', 'dump.rdb'), '+OK\r\n');
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    assert.equal(await c.call('EVAL', wr, '1', 'k'), '+OK\r\n');
    assert.equal(await c.call('FCALL', 'wr', '1', 'k'), '+OK\r\n');
    assert.equal(await c.call('EVAL', '#!lua\nreturn 1', '0'), ':1\r\n');
  } finally {
    c.close();
    await s.stop();
  }
});

test('CONFIG SET dir: an embedded server keeps the process directory; the command line chdirs as Valkey', async () => {
  const base = tmp();
  mkdirSync(join(base, 'a', 'sub'), { recursive: true });
  mkdirSync(join(base, 'b'));
  const cwd = process.cwd();
  const [a, b] = await Promise.all([
    startServer({ dir: join(base, 'a'), 'enable-protected-configs': 'yes' }),
    startServer({ dir: join(base, 'b'), 'enable-protected-configs': 'yes' }),
  ]);
  const ca = await RawConn.connect(a.port);
  const cb = await RawConn.connect(b.port);
  try {
    // A relative dir is resolved against the server's own dir, as chdir would.
    assert.equal(await ca.call('CONFIG', 'SET', 'dir', 'sub'), '+OK\r\n');
    assert.equal(process.cwd(), cwd, 'the process directory is unchanged');
    const sub = realpathSync(join(base, 'a', 'sub'));
    assert.equal(await ca.call('CONFIG', 'GET', 'dir'), `*2\r\n${bulk('dir')}${bulk(sub)}`);
    assert.equal(await cb.call('CONFIG', 'GET', 'dir'), `*2\r\n${bulk('dir')}${bulk(realpathSync(join(base, 'b')))}`);
    assert.equal(await ca.call('SAVE'), '+OK\r\n');
    assert.equal(await cb.call('SAVE'), '+OK\r\n');
    assert.ok(existsSync(join(sub, 'dump.rdb')));
    assert.ok(existsSync(join(base, 'b', 'dump.rdb')));
    assert.ok(!existsSync(join(base, 'a', 'dump.rdb')) && !existsSync(join(cwd, 'dump.rdb')));
    assert.equal(
      await ca.call('CONFIG', 'SET', 'dir', 'missing'),
      "-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory\r\n",
    );
    assert.equal(await ca.call('CONFIG', 'GET', 'dir'), `*2\r\n${bulk('dir')}${bulk(sub)}`);
  } finally {
    ca.close();
    cb.close();
    await Promise.all([a.close(), b.close()]);
  }
  // The command-line server: a relative dir is taken from its working directory (its dir).
  const dir = tmp();
  mkdirSync(join(dir, 'sub'));
  const s = await startVireo(['--dir', dir, '--enable-protected-configs', 'yes']);
  const c = await RawConn.connect(s.port);
  try {
    assert.equal(await c.call('CONFIG', 'SET', 'dir', 'sub'), '+OK\r\n');
    const sub = realpathSync(join(dir, 'sub'));
    assert.equal(await c.call('CONFIG', 'GET', 'dir'), `*2\r\n${bulk('dir')}${bulk(sub)}`);
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    assert.ok(existsSync(join(sub, 'dump.rdb')));
  } finally {
    c.close();
    await s.stop();
  }
});

test("an embedded primary's disk-based full sync writes its temp RDB into its own dir", async () => {
  const dir = tmp();
  const cwd = process.cwd();
  const temps = (d) => readdirSync(d).filter((f) => /^temp-repl-.*\.rdb$/.test(f));
  const before = temps(cwd).length;
  const p = await startServer({ dir, 'repl-diskless-sync': 'no', 'rdb-key-save-delay': 20000 });
  const cp = await RawConn.connect(p.port);
  const r = await startVireo([]);
  const cr = await RawConn.connect(r.port);
  try {
    for (let i = 0; i < 200; i++) assert.equal(await cp.call('SET', `k${i}`, 'v'), '+OK\r\n');
    assert.equal(await cr.call('REPLICAOF', '127.0.0.1', String(p.port)), '+OK\r\n');
    // rdb-key-save-delay holds the save open (20 ms per key): the file is there meanwhile.
    await waitFor(async () => temps(dir).length === 1, 30000);
    assert.equal(temps(cwd).length, before, 'nothing in the process directory');
  } finally {
    cr.close();
    cp.close();
    await r.stop('SIGKILL');
    await p.close();
  }
});
