// Small correctness leftovers, each as Valkey 8 does it: the Lua VM's memory in
// INFO, qbuf in CLIENT LIST, output-buffer accounting of pending direct writes,
// the order of the checks before a command runs (with a script's declared flags
// standing in for EVAL's, so a shebang script is refused when queued in MULTI
// under MISCONF), and active field expiry after a swapdb full sync or SWAPDB.
// Compared with redis-server where it agrees with Valkey. (SRANDMEMBER /
// HRANDFIELD / ZRANDMEMBER counts near -2^63: test/interop/corpus/random-counts.txt.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo, startRedis, haveRedis, freePort, testResources } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const res = testResources();

async function vireo(args = []) {
  const s = await startVireo(args);
  res.servers.push(s);
  return s;
}

async function conn(port) {
  const c = await RawConn.connect(port);
  res.conns.push(c);
  return c;
}

const field = (text, name) => {
  const m = new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*)`).exec(text);
  return m === null ? undefined : m[1];
};

test('used_memory_lua / used_memory_vm_eval: the Lua heap in use (lua_gc count), not the WebAssembly memory', async () => {
  const s = await vireo();
  const c = await conn(s.port);
  assert.equal(await c.call('EVAL', "local t = {} for i = 1, 100 do t[i] = tostring(i) end return #t", '0'), ':100\r\n');
  const mem = await c.call('INFO', 'memory');
  const lua = Number(field(mem, 'used_memory_lua'));
  // Valkey: lua_gc(LUA_GCCOUNT) * 1024, whole KB; a small VM uses tens of KB (64 MB is the WebAssembly memory).
  assert.ok(lua >= 8 * 1024 && lua < 4 * 1024 * 1024, `used_memory_lua ${lua}`);
  assert.equal(lua % 1024, 0);
  assert.equal(Number(field(mem, 'used_memory_vm_eval')), lua);
  assert.equal(Number(field(mem, 'used_memory_vm_total')), lua + Number(field(mem, 'used_memory_vm_functions')));
  // While a script holds a big table, INFO called from that script sees it.
  const inRun = await c.call('EVAL', "local t = {} for i = 1, 50000 do t[i] = i end local m = redis.call('INFO', 'memory') return {#t, m}", '0');
  const during = Number(field(inRun, 'used_memory_lua'));
  assert.ok(during >= lua + 256 * 1024, `a 50000-element table adds to used_memory_lua: ${lua} -> ${during}`);
});

const qbufOf = (list, id) => {
  const line = list.split('\n').find((l) => l.startsWith(`id=${id} `));
  return Number(/ qbuf=(\d+) /.exec(line)[1]);
};

async function qbufCase(port) {
  const a = await conn(port);
  const b = await conn(port);
  const aId = Number((await a.call('CLIENT', 'ID')).slice(1, -2));
  const bId = Number((await b.call('CLIENT', 'ID')).slice(1, -2));
  // A partial command waits in a's query buffer.
  const partial = '*3\r\n$3\r\nSET\r\n$2\r\nqk\r\n$10\r\nabc';
  a.write(partial);
  let seen;
  const deadline = Date.now() + 20000;
  do {
    const r = await b.call('CLIENT', 'LIST');
    seen = qbufOf(r, aId);
    if (seen > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() < deadline);
  const list = await b.call('CLIENT', 'LIST');
  // The client running CLIENT LIST/INFO has that command in its query buffer (26 bytes), and
  // the commands run before it in the same read.
  const info = await b.call('CLIENT', 'INFO');
  b.write('*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n');
  assert.equal(await b.readReply(), '+PONG\r\n');
  const piped = await b.readReply();
  a.write('defghij\r\n');
  assert.equal(await a.readReply(), '+OK\r\n');
  const after = await b.call('CLIENT', 'LIST');
  return { other: qbufOf(list, aId), self: qbufOf(list, bId), info: Number(/ qbuf=(\d+) /.exec(info)[1]), piped: Number(/ qbuf=(\d+) /.exec(piped)[1]), otherAfter: qbufOf(after, aId) };
}

test('CLIENT LIST / CLIENT INFO qbuf: unparsed bytes of other clients, the whole read of the running one', async () => {
  // Valkey keeps the parsed arguments of a partial multibulk in argv: only "abc" of the last bulk is left.
  const want = { other: 3, self: 26, info: 26, piped: 40, otherAfter: 0 };
  const s = await vireo();
  assert.deepEqual(await qbufCase(s.port), want);
  if (haveRedis()) {
    const r = await startRedis();
    res.servers.push(r);
    assert.deepEqual(await qbufCase(r.port), want, 'redis-server');
  }
});

const statOf = (list, id, name) => {
  const line = list.split('\n').find((l) => l.startsWith(`id=${id} `));
  return Number(new RegExp(` ${name}=(\\d+)(?: |\\r|$)`).exec(line)[1]);
};

test('a reply written straight to the socket and not yet taken by the kernel counts as output buffer memory', async () => {
  const s = await vireo();
  const admin = await conn(s.port);
  assert.equal(await admin.call('SET', 'big', 'x'.repeat(60000)), '+OK\r\n');
  const slow = await conn(s.port);
  const id = Number((await slow.call('CLIENT', 'ID')).slice(1, -2));
  slow.sock.pause(); // reads nothing more: the kernel buffers fill up
  let omem = 0;
  let list = '';
  for (let i = 1; i <= 2000 && omem === 0; i++) {
    slow.send('GET', 'big');
    // One GET at a time: each reply (under 64 KB) is written straight to the socket while nothing is queued.
    const deadline = Date.now() + 20000;
    for (;;) {
      list = await admin.call('CLIENT', 'LIST');
      if (statOf(list, id, 'tot-cmds') >= i + 1) break;
      if (Date.now() > deadline) throw new Error('GET not run');
      await new Promise((r) => setTimeout(r, 2));
    }
    omem = statOf(list, id, 'omem');
  }
  assert.ok(omem > 0 && omem <= 65536, `a direct write pending: omem ${omem}`);
  // The first reply the kernel did not take is the only output held: INFO counts it as CLIENT LIST does
  // (read again until both agree, in case the kernel took more in between).
  let seen;
  await until(async () => {
    const info = await admin.call('INFO', 'clients');
    list = await admin.call('CLIENT', 'LIST');
    omem = statOf(list, id, 'omem');
    seen = Number(field(info, 'client_recent_max_output_buffer'));
    return omem > 0 && seen === omem;
  }, 'INFO client_recent_max_output_buffer to count the pending write', 10000).catch(() => assert.fail(`client_recent_max_output_buffer ${seen}, omem ${omem}`));
  const mem = await admin.call('INFO', 'memory');
  assert.ok(Number(field(mem, 'mem_clients_normal')) >= omem, `mem_clients_normal ${field(mem, 'mem_clients_normal')} >= ${omem}`);
  assert.ok(statOf(list, id, 'tot-mem') >= omem);
});

// Runs `steps` (arrays of arguments, or a function of the connection) on a fresh
// connection and returns the replies.
async function replies(port, steps) {
  const c = await conn(port);
  const out = [];
  for (const st of steps) out.push(typeof st === 'function' ? await st(c) : await c.call(...st));
  c.close();
  return out;
}

async function bothServers(args, fn) {
  const s = await vireo(args);
  const got = await fn(s.port);
  if (haveRedis()) {
    const r = await startRedis(args);
    res.servers.push(r);
    assert.deepEqual(await fn(r.port), got, 'redis-server answers the same');
  }
  return got;
}

test('the checks before a command run in Valkey\'s order: NO_MULTI before ACL and OOM', async () => {
  const got = await bothServers([], async (port) => {
    const admin = await conn(port);
    assert.equal(await admin.call('ACL', 'SETUSER', 'nosave', 'on', '>pw', '~*', '+@all', '-save'), '+OK\r\n');
    const acl = await replies(port, [['AUTH', 'nosave', 'pw'], ['MULTI'], ['SAVE'], ['EXEC']]);
    // maxmemory 1: every command queued in MULTI is refused with -OOM, but SAVE is refused for MULTI first.
    assert.equal(await admin.call('SET', 'filler', 'x'.repeat(1000)), '+OK\r\n');
    assert.equal(await admin.call('CONFIG', 'SET', 'maxmemory', '1'), '+OK\r\n');
    const oom = await replies(port, [['MULTI'], ['SAVE'], ['SET', 'k', 'v'], ['EXEC']]);
    assert.equal(await admin.call('CONFIG', 'SET', 'maxmemory', '0'), '+OK\r\n');
    return { acl, oom };
  });
  assert.deepEqual(got, {
    acl: ['+OK\r\n', '+OK\r\n', '-ERR Command not allowed inside a transaction\r\n', '-EXECABORT Transaction discarded because of previous errors.\r\n'],
    oom: ['+OK\r\n', '-ERR Command not allowed inside a transaction\r\n', "-OOM command not allowed when used memory > 'maxmemory'.\r\n", '-EXECABORT Transaction discarded because of previous errors.\r\n'],
  });
});

test('the checks before a command run in Valkey\'s order: RESP2 pub/sub context before -MASTERDOWN', async () => {
  const dead = await freePort();
  const got = await bothServers(['--replica-serve-stale-data', 'no'], async (port) => {
    const admin = await conn(port);
    assert.equal(await admin.call('REPLICAOF', '127.0.0.1', String(dead)), '+OK\r\n');
    const out = await replies(port, [['GET', 'k'], ['SUBSCRIBE', 'ch'], ['GET', 'k'], ['SET', 'k', 'v']]);
    assert.equal(await admin.call('REPLICAOF', 'NO', 'ONE'), '+OK\r\n');
    return out;
  });
  assert.deepEqual(got, [
    "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n",
    '*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n',
    "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    "-READONLY You can't write against a read only replica.\r\n",
  ]);
});

test('a script that declares it may write is a write command for MISCONF: refused when queued in MULTI, EXEC aborts', async () => {
  const steps = [
    ['SET', 'a', '1'],
    ['MULTI'],
    ['EVAL', '#!lua\nreturn 1', '0'],
    ['EVAL', 'return 1', '0'],
    ['EVAL', '#!lua flags=no-writes\nreturn 1', '0'],
    ['EXEC'],
    ['MULTI'],
    ['EVAL', 'return 1', '0'],
    ['EVAL', '#!lua flags=no-writes\nreturn 1', '0'],
    ['EXEC'],
    ['EVAL', '#!lua\nreturn 1', '0'],
    ['EVAL', '#!lua flags=no-writes\nreturn 1', '0'],
  ];
  const run = async (port, dir) => {
    const c = await conn(port);
    mkdirSync(join(dir, 'blocked'));
    // The RDB file name is taken by a directory: the save fails, and with a save point set MISCONF is on.
    assert.equal(await c.call('CONFIG', 'SET', 'dbfilename', 'blocked'), '+OK\r\n');
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    const deadline = Date.now() + 30000;
    while (field(await c.call('INFO', 'persistence'), 'rdb_last_bgsave_status') !== 'err') {
      if (Date.now() > deadline) throw new Error('BGSAVE did not fail');
      await new Promise((r) => setTimeout(r, 20));
    }
    const out = (await replies(port, steps)).map((r) => r.replace(/\bRedis\b/g, 'Valkey'));
    // A queued write made the transaction a write: EXEC is refused once the gate is up.
    assert.equal(await c.call('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no'), '+OK\r\n');
    const setGate = async () => c.call('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'yes');
    out.push(...(await replies(port, [['MULTI'], ['EVAL', '#!lua\nreturn 2', '0'], setGate, ['EXEC']])));
    return out.map((r) => r.replace(/\bRedis\b/g, 'Valkey'));
  };
  const dirOf = () => {
    const d = mkdtempSync(join(tmpdir(), 'vireo-leftovers-'));
    res.dirs.push(d);
    return d;
  };
  const args = (d) => ['--dir', d, '--save', '3600 1', '--enable-protected-configs', 'yes'];
  const vd = dirOf();
  const s = await vireo(args(vd));
  const got = await run(s.port, vd);
  const MISCONF =
    "-MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error.\r\n";
  assert.deepEqual(got, [
    MISCONF,
    '+OK\r\n',
    MISCONF,
    '+QUEUED\r\n',
    '+QUEUED\r\n',
    '-EXECABORT Transaction discarded because of previous errors.\r\n',
    '+OK\r\n',
    '+QUEUED\r\n',
    '+QUEUED\r\n',
    '*2\r\n:1\r\n:1\r\n',
    MISCONF,
    ':1\r\n',
    '+OK\r\n',
    '+QUEUED\r\n',
    '+OK\r\n',
    `-EXECABORT Transaction discarded because of: ${MISCONF.slice(1)}`,
  ]);
  if (haveRedis()) {
    const rd = dirOf();
    const r = await startRedis(args(rd));
    res.servers.push(r);
    assert.deepEqual(await run(r.port, rd), got, 'redis-server answers the same');
  }
});

test('a script\'s declared flags are what the replica and pause checks see (-READONLY, -MASTERDOWN, CLIENT PAUSE WRITE)', async () => {
  const dead = await freePort();
  const got = await bothServers(['--replica-serve-stale-data', 'no'], async (port) => {
    const admin = await conn(port);
    assert.equal(await admin.call('REPLICAOF', '127.0.0.1', String(dead)), '+OK\r\n');
    const stale = await replies(port, [
      ['EVAL', 'return 1', '0'],
      ['EVAL', '#!lua flags=no-writes\nreturn 1', '0'],
      ['EVAL', '#!lua flags=no-writes,allow-stale\nreturn 1', '0'],
      ['EVAL', '#!lua flags=allow-stale\nreturn 1', '0'],
    ]);
    assert.equal(await admin.call('CONFIG', 'SET', 'replica-serve-stale-data', 'yes'), '+OK\r\n');
    const ro = await replies(port, [['EVAL', '#!lua\nreturn 1', '0'], ['EVAL', '#!lua flags=no-writes\nreturn 1', '0']]);
    assert.equal(await admin.call('REPLICAOF', 'NO', 'ONE'), '+OK\r\n');
    // CLIENT PAUSE WRITE holds scripts that may write, not no-writes ones.
    assert.equal(await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE'), '+OK\r\n');
    const paused = await replies(port, [['EVAL', '#!lua flags=no-writes\nreturn 5', '0']]);
    const held = await conn(port);
    held.send('EVAL', '#!lua\nreturn 6', '0');
    await new Promise((r) => setTimeout(r, 100));
    const early = held.buf.length;
    assert.equal(await admin.call('CLIENT', 'UNPAUSE'), '+OK\r\n');
    paused.push(early, await held.readReply());
    return { stale, ro, paused };
  });
  const MASTERDOWN = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n";
  assert.deepEqual(got, {
    stale: [MASTERDOWN, MASTERDOWN, ':1\r\n', "-READONLY You can't write against a read only replica.\r\n"],
    ro: ["-READONLY You can't write against a read only replica.\r\n", ':1\r\n'],
    paused: [':5\r\n', 0, ':6\r\n'],
  });
});

async function until(fn, what, ms = 30000) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('repl-diskless-load swapdb: hashes with field TTLs join active field expiry (after a promotion)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-leftovers-'));
  res.dirs.push(dir);
  mkdirSync(join(dir, 'p'));
  mkdirSync(join(dir, 'r'));
  const p = await vireo(['--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0', '--dir', join(dir, 'p')]);
  const pc = await conn(p.port);
  // The primary expires nothing by itself: the fields can only go by the replica's own active expiry.
  assert.equal(await pc.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'), '+OK\r\n');
  assert.equal(await pc.call('HSET', 'h', 'f', 'v'), ':1\r\n');
  assert.equal(await pc.call('HPEXPIRE', 'h', '1500', 'FIELDS', '1', 'f'), '*1\r\n:1\r\n');
  const r = await vireo(['--repl-diskless-load', 'swapdb', '--dir', join(dir, 'r')]);
  const rc = await conn(r.port);
  assert.equal(await rc.call('SET', 'old', '1'), '+OK\r\n');
  assert.equal(await rc.call('REPLICAOF', '127.0.0.1', String(p.port)), '+OK\r\n');
  await until(async () => field(await rc.call('INFO', 'replication'), 'master_link_status') === 'up' && (await rc.call('DBSIZE')) === ':1\r\n' && (await rc.call('EXISTS', 'h')) === ':1\r\n', 'the sync');
  assert.equal(await rc.call('REPLICAOF', 'NO', 'ONE'), '+OK\r\n');
  // DBSIZE reads no field: the key goes only when active field expiry deletes its last field.
  await until(async () => (await rc.call('DBSIZE')) === ':0\r\n', 'active field expiry on the promoted replica');
});

test('SWAPDB: hashes with field TTLs keep their active field expiry in their new database', async () => {
  const s = await vireo();
  const c = await conn(s.port);
  assert.equal(await c.call('SELECT', '1'), '+OK\r\n');
  assert.equal(await c.call('HSET', 'h', 'f', 'v'), ':1\r\n');
  assert.equal(await c.call('HPEXPIRE', 'h', '300', 'FIELDS', '1', 'f'), '*1\r\n:1\r\n');
  assert.equal(await c.call('SWAPDB', '0', '1'), '+OK\r\n');
  assert.equal(await c.call('SELECT', '0'), '+OK\r\n');
  assert.equal(await c.call('DBSIZE'), ':1\r\n');
  await until(async () => (await c.call('DBSIZE')) === ':0\r\n', 'active field expiry after SWAPDB');
});

test('-BUSY while queueing in MULTI aborts the transaction, as any refused command', async () => {
  const BUSY = 'BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
  const s = await vireo(['--busy-reply-threshold', '100']);
  const a = await conn(s.port);
  const b = await conn(s.port);
  const k = await conn(s.port);
  const loop = 'local i = 0 while true do i = i + 1 end';
  const busy = async () => {
    a.send('EVAL', loop, '0');
    await until(async () => (await k.call('PING')) === `-${BUSY}\r\n`, 'the script to be busy');
  };
  const kill = async () => {
    assert.equal(await k.call('SCRIPT', 'KILL'), '+OK\r\n');
    assert.equal(await a.readReply(), '-ERR Script killed by user with SCRIPT KILL.\r\n');
  };
  // The first run, on the main thread, leaves the loop known to be slow: the second runs in the worker,
  // where commands flagged allow-busy (MULTI, DISCARD) are served.
  await busy();
  await kill();
  await busy();
  assert.equal(await b.call('MULTI'), '+OK\r\n');
  assert.equal(await b.call('SET', 'k', 'v'), `-${BUSY}\r\n`);
  assert.equal(await b.call('EXEC'), `-EXECABORT Transaction discarded because of: ${BUSY}\r\n`);
  assert.equal(await b.call('MULTI'), '+OK\r\n');
  assert.equal(await b.call('SET', 'k', 'v'), `-${BUSY}\r\n`);
  await kill();
  assert.equal(await b.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
  assert.equal(await b.call('EXISTS', 'k'), ':0\r\n');
});
