// EVAL / EVALSHA / EVAL_RO / SCRIPT * against a real vireo-server: exact reply
// bytes in RESP2 and RESP3, every Lua <-> RESP conversion rule, error formats,
// the sandbox (globals, loadstring of bytecode, memory bombs, missing
// libraries), no-writes / *_RO rules, set_repl, acl_check_cmd, the script cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let srv;
const conns = [];
const sha1 = (s) => createHash('sha1').update(s).digest('hex');

before(async () => {
  srv = await startVireo();
});

after(async () => {
  for (const c of conns) c.close();
  await srv?.stop();
});

async function conn(resp3 = false) {
  const c = await RawConn.connect(srv.port);
  conns.push(c);
  if (resp3) await c.call('HELLO', '3');
  return c;
}

const suffix = (script, line = 1) => ` script: ${sha1(script)}, on @user_script:${line}.`;

for (const resp3 of [false, true]) {
  const P = resp3 ? 'RESP3' : 'RESP2';
  const NULL = resp3 ? '_\r\n' : '$-1\r\n';

  test(`${P}: Lua -> RESP conversions`, async () => {
    const c = await conn(resp3);
    const ev = (s, ...a) => c.call('EVAL', s, '0', ...a);
    assert.equal(await ev('return 1'), ':1\r\n');
    assert.equal(await ev('return 3.99'), ':3\r\n', 'numbers are truncated to integers');
    assert.equal(await ev('return -3.99'), ':-3\r\n');
    assert.equal(await ev("return 'abc'"), '$3\r\nabc\r\n');
    assert.equal(await ev("return 'a\\0b'"), '$3\r\na\0b\r\n');
    assert.equal(await ev('return nil'), NULL);
    assert.equal(await ev('return true'), ':1\r\n');
    assert.equal(await ev('return false'), NULL);
    assert.equal(await ev("return {1, 'x', {2}, nil, 5}"), '*3\r\n:1\r\n$1\r\nx\r\n*1\r\n:2\r\n', 'tables stop at the first nil');
    assert.equal(await ev('return {1, false, 3}'), `*3\r\n:1\r\n${NULL}:3\r\n`);
    assert.equal(await ev("return {ok='FINE'}"), '+FINE\r\n');
    assert.equal(await ev("return redis.status_reply('GOOD')"), '+GOOD\r\n');
    assert.equal(await ev("return redis.error_reply('My err')"), '-My err\r\n');
    assert.equal(await ev("return redis.error_reply('-ERR x')"), '-ERR x\r\n');
    assert.equal(await ev('return redis.error_reply(1)'), '-ERR wrong number or type of arguments\r\n');
    assert.equal(await ev('return redis.breakpoint()'), NULL);
    assert.equal(await ev("return {err='MYERR custom'}"), '-MYERR custom\r\n');
    assert.equal(await ev("return {err='ERR plain'}"), '-ERR plain\r\n');
    assert.equal(await ev("return {a=1}"), '*0\r\n', 'a hash part is dropped');
    assert.equal(await ev("return KEYS"), '*0\r\n');
    assert.equal(await c.call('EVAL', 'return {KEYS[1], KEYS[2], ARGV[1], #ARGV}', '2', 'k1', 'k2', 'a1', 'a2'), '*4\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\na1\r\n:2\r\n');
  });

  test(`${P}: RESP3 types after redis.setresp(3)`, async () => {
    const c = await conn(resp3);
    const ev = (s) => c.call('EVAL', 'redis.setresp(3) ' + s, '0');
    assert.equal(await ev('return true'), resp3 ? '#t\r\n' : ':1\r\n');
    assert.equal(await ev('return false'), resp3 ? '#f\r\n' : ':0\r\n');
    assert.equal(await ev('return {double=3.5}'), resp3 ? ',3.5\r\n' : '$3\r\n3.5\r\n');
    assert.equal(await ev("return {map={a=1}}"), resp3 ? '%1\r\n$1\r\na\r\n:1\r\n' : '*2\r\n$1\r\na\r\n:1\r\n');
    assert.equal(await ev("return {set={x=true}}"), resp3 ? '~1\r\n$1\r\nx\r\n' : '*1\r\n$1\r\nx\r\n');
    assert.equal(await ev("return {big_number='123456789012345678901234567890'}"), resp3 ? '(123456789012345678901234567890\r\n' : '$30\r\n123456789012345678901234567890\r\n');
    assert.equal(await ev("return {verbatim_string={format='txt', string='hi'}}"), resp3 ? '=6\r\ntxt:hi\r\n' : '$2\r\nhi\r\n');
    assert.equal(await ev('return nil'), NULL);
  });

  test(`${P}: RESP -> Lua conversions of redis.call replies`, async () => {
    const c = await conn(resp3);
    await c.call('DEL', 'cv:s', 'cv:h', 'cv:l', 'cv:z', 'cv:set');
    await c.call('SET', 'cv:s', 'val');
    await c.call('HSET', 'cv:h', 'f', 'v');
    await c.call('RPUSH', 'cv:l', 'a', 'b');
    await c.call('ZADD', 'cv:z', '1.5', 'm');
    const ev = (s) => c.call('EVAL', s, '0');
    assert.equal(await ev("return type(redis.call('GET', 'cv:none'))"), '$7\r\nboolean\r\n', 'null bulk -> false');
    assert.equal(await ev("return redis.call('GET', 'cv:none') == false and 1 or 0"), ':1\r\n');
    assert.equal(await ev("return type(redis.call('INCR', 'cv:n'))"), '$6\r\nnumber\r\n');
    assert.equal(await ev("local r = redis.call('SET', 'cv:s', 'val') return type(r) .. ':' .. r.ok"), '$8\r\ntable:OK\r\n');
    assert.equal(await ev("return redis.call('LRANGE', 'cv:l', 0, -1)"), '*2\r\n$1\r\na\r\n$1\r\nb\r\n');
    assert.equal(await ev("local r = redis.pcall('INCR', 'cv:s') return type(r) .. ':' .. r.err"), '$49\r\ntable:ERR value is not an integer or out of range\r\n');
    assert.equal(await ev("return redis.pcall('INCR', 'cv:s')"), '-ERR value is not an integer or out of range\r\n');
    // RESP3 replies inside the script after setresp(3).
    assert.equal(await ev("redis.setresp(3) local r = redis.call('HGETALL', 'cv:h') return r.map.f"), '$1\r\nv\r\n');
    assert.equal(await ev("redis.setresp(3) local r = redis.call('SMEMBERS', 'cv:none') return type(r.set)"), '$5\r\ntable\r\n');
    assert.equal(await ev("redis.setresp(3) local r = redis.call('ZSCORE', 'cv:z', 'm') return tostring(r.double)"), '$3\r\n1.5\r\n');
    assert.equal(await ev("redis.setresp(3) return redis.call('ZSCORE', 'cv:z', 'm')"), resp3 ? ',1.5\r\n' : '$3\r\n1.5\r\n');
    assert.equal(await ev("redis.setresp(3) return redis.call('EXISTS', 'cv:s') == 1 and 1 or 0"), ':1\r\n');
    // Lua numbers passed as arguments: integers as integers.
    assert.equal(await ev("redis.call('SET', 'cv:num', 42) return redis.call('GET', 'cv:num')"), '$2\r\n42\r\n');
    assert.equal(await ev("redis.call('SET', 'cv:num', 1e9) return redis.call('GET', 'cv:num')"), '$10\r\n1000000000\r\n');
  });

  test(`${P}: script error formats`, async () => {
    const c = await conn(resp3);
    await c.call('SET', 'ef:s', 'abc');
    const check = async (script, msg, line = 1) => assert.equal(await c.call('EVAL', script, '0'), `-${msg}${suffix(script, line)}\r\n`);
    await check("error('boom')", 'ERR user_script:1: boom');
    await check("\n\nerror('line3')", 'ERR user_script:3: line3', 3);
    await check("return redis.call('INCR', 'ef:s')", 'ERR value is not an integer or out of range');
    await check("return redis.call('LPUSH', 'ef:s', 'x')", 'WRONGTYPE Operation against a key holding the wrong kind of value');
    await check("return redis.call('nosuchcmd')", 'ERR Unknown Redis command called from script');
    await check("return redis.call('GET')", 'ERR Wrong number of args calling Redis command from script');
    await check("return redis.call('MULTI')", 'ERR This Redis command is not allowed from script');
    await check("return redis.call('EVAL', 'return 1', 0)", 'ERR This Redis command is not allowed from script');
    await check('return redis.call()', 'ERR Please specify at least one argument for this redis lib call');
    await check("return redis.call('SET', 'a', {})", 'ERR Lua redis lib command arguments must be strings or integers');
    await check('redis.setresp(4)', 'ERR RESP version must be 2 or 3.');
    await check('redis.log(1)', 'ERR redis.log() requires two arguments or more.');
    await check('return nosuch', "ERR user_script:1: Script attempted to access nonexistent global variable 'nosuch'");
    // pcall catches redis.call errors as tables with err.
    assert.equal(await c.call('EVAL', "local ok, e = pcall(redis.call, 'INCR', 'ef:s') return e", '0'), '$43\r\nERR value is not an integer or out of range\r\n');
    // Compile errors are not cached.
    assert.equal(await c.call('EVAL', 'return 1 +', '0'), "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n");
    assert.equal(await c.call('SCRIPT', 'EXISTS', sha1('return 1 +')), '*1\r\n:0\r\n');
    // numkeys checks.
    assert.equal(await c.call('EVAL', 'return 1', 'x'), '-ERR value is not an integer or out of range\r\n');
    assert.equal(await c.call('EVAL', 'return 1', '-1'), "-ERR Number of keys can't be negative\r\n");
    assert.equal(await c.call('EVAL', 'return 1', '2', 'k'), "-ERR Number of keys can't be greater than number of args\r\n");
    assert.equal(await c.call('EVAL', 'return 1'), "-ERR wrong number of arguments for 'eval' command\r\n");
  });
}

test('sandbox: globals, removed libraries, bytecode, available libraries', async () => {
  const c = await conn();
  const ev = (s) => c.call('EVAL', s, '0');
  assert.match(await ev('x = 1'), /^-ERR user_script:1: Attempt to modify a readonly table script: /);
  assert.match(await ev("_G.y = 1"), /^-ERR user_script:1: Attempt to modify a readonly table script: /);
  assert.match(await ev("rawset(_G, 'z', 1)"), /readonly table/);
  assert.match(await ev("redis.call = function() end"), /readonly table/);
  assert.match(await ev("string.rep = nil"), /readonly table/);
  // Scripts cannot leave state behind for later scripts through shared metatables.
  assert.match(await ev("getmetatable('').x = 1"), /readonly table/);
  assert.match(await ev("getmetatable('').__index = {upper = function() return 'pwned' end}"), /readonly table/);
  assert.equal(await ev("return ('a'):upper()"), '$1\r\nA\r\n');
  assert.match(await ev("cjson.encode = nil"), /readonly table/);
  for (const g of ['io', 'debug', 'require', 'package', 'loadfile', 'dofile', 'print', 'setfenv', 'getfenv', 'newproxy']) {
    assert.match(await ev(`return type(${g})`), new RegExp(`nonexistent global variable '${g}'`), g);
  }
  assert.equal(await ev('return type(os.execute)'), '$3\r\nnil\r\n');
  assert.equal(await ev('return type(os.clock)'), '$8\r\nfunction\r\n');
  // Bytecode cannot be loaded.
  const bc = await ev("local f = loadstring(string.dump(function() return 1 end)) return type(f)");
  assert.equal(bc, '$3\r\nnil\r\n');
  // Lua 5.1 semantics and Valkey's libraries.
  assert.equal(await ev("return select('#', unpack({1, 2, 3}))"), ':3\r\n');
  assert.equal(await ev('return table.getn({1, 2, 3})'), ':3\r\n');
  assert.equal(await ev("return loadstring('return 7')()"), ':7\r\n');
  assert.equal(await ev('return tostring(10 / 4)'), '$3\r\n2.5\r\n');
  assert.equal(await ev("return cjson.encode({a = {1, 2}})"), '$11\r\n{"a":[1,2]}\r\n');
  assert.equal(await ev("return cjson.decode('[1,2,3]')[3]"), ':3\r\n');
  assert.equal(await ev("return cmsgpack.unpack(cmsgpack.pack({1, 'x'}))[2]"), '$1\r\nx\r\n');
  assert.equal(await ev('return bit.bor(1, 2, 4)'), ':7\r\n');
  assert.equal(await ev("return struct.unpack('>I2', struct.pack('>I2', 513))"), ':513\r\n');
  assert.equal(await ev("return redis.sha1hex('')"), '$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n');
  assert.equal(await ev('return redis.REDIS_VERSION'), '$5\r\n7.2.4\r\n');
  assert.equal(await ev('return redis.REDIS_VERSION_NUM'), `:${0x070204}\r\n`);
  assert.equal(await ev('return server.REPL_ALL + redis.REPL_NONE'), ':3\r\n');
  assert.equal(await ev("return server.call('PING')"), '+PONG\r\n', 'server.* is an alias of redis.*');
  assert.equal(await ev('return redis.replicate_commands()'), ':1\r\n');
  assert.equal(await ev("redis.log(redis.LOG_WARNING, 'from a script') return 1"), ':1\r\n');
});

test('sandbox: memory bombs and the VM memory bound', async () => {
  const c = await conn();
  const r = await c.call('EVAL', "local s = string.rep('x', 1024 * 1024 * 1024) return #s", '0');
  assert.match(r, /^-ERR /);
  const r2 = await c.call('EVAL', "local t = {} for i = 1, 1e9 do t[i] = string.rep('y', 4096) .. i end return #t", '0');
  assert.match(r2, /^-ERR /);
  // The server (and a fresh VM) still work afterwards.
  assert.equal(await c.call('EVAL', 'return 41 + 1', '0'), ':42\r\n');
  assert.equal(await c.call('PING'), '+PONG\r\n');
});

test('script cache: SCRIPT LOAD / EXISTS / SHOW / FLUSH, EVALSHA, NOSCRIPT', async () => {
  const c = await conn();
  const s = "return 'cached'";
  assert.equal(await c.call('SCRIPT', 'LOAD', s), `$40\r\n${sha1(s)}\r\n`);
  assert.equal(await c.call('EVALSHA', sha1(s), '0'), '$6\r\ncached\r\n');
  assert.equal(await c.call('EVALSHA', sha1(s).toUpperCase(), '0'), '$6\r\ncached\r\n');
  assert.equal(await c.call('EVALSHA_RO', sha1(s), '0'), '$6\r\ncached\r\n');
  assert.equal(await c.call('SCRIPT', 'SHOW', sha1(s)), `$${s.length}\r\n${s}\r\n`);
  assert.equal(await c.call('SCRIPT', 'EXISTS', sha1(s), 'ffff'), '*2\r\n:1\r\n:0\r\n');
  // EVAL caches the script too.
  const s2 = 'return 2';
  await c.call('EVAL', s2, '0');
  assert.equal(await c.call('SCRIPT', 'EXISTS', sha1(s2)), '*1\r\n:1\r\n');
  assert.equal(await c.call('EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'), '-NOSCRIPT No matching script. Please use EVAL.\r\n');
  assert.equal(await c.call('SCRIPT', 'FLUSH', 'BAD'), '-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n');
  assert.equal(await c.call('SCRIPT', 'FLUSH', 'ASYNC'), '+OK\r\n');
  assert.equal(await c.call('SCRIPT', 'EXISTS', sha1(s), sha1(s2)), '*2\r\n:0\r\n:0\r\n');
  assert.equal(await c.call('EVALSHA', sha1(s), '0'), '-NOSCRIPT No matching script. Please use EVAL.\r\n');
  assert.equal(await c.call('SCRIPT', 'LOAD', 'return +'), "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'\r\n");
  assert.equal(await c.call('SCRIPT', 'KILL'), '-NOTBUSY No scripts in execution right now.\r\n');
  assert.match(await c.call('SCRIPT', 'HELP'), /^\*\d+\r\n\+SCRIPT <subcommand>/);
  // Many distinct EVAL scripts: the oldest EVAL-loaded ones are evicted beyond 500, SCRIPT LOAD ones stay.
  const keep = 'return "keep"';
  await c.call('SCRIPT', 'LOAD', keep);
  for (let i = 0; i < 510; i++) await c.call('EVAL', `return ${i}`, '0');
  assert.equal(await c.call('SCRIPT', 'EXISTS', sha1('return 0'), sha1('return 509'), sha1(keep)), '*3\r\n:0\r\n:1\r\n:1\r\n');
  const mem = await c.call('INFO', 'memory');
  assert.match(mem, /\r\nnumber_of_cached_scripts:501\r\n/, '500 EVAL scripts + 1 loaded');
  assert.match(mem, /\r\nused_memory_vm_eval:[1-9]\d*\r\n/);
  assert.match(await c.call('INFO', 'stats'), /\r\nevicted_scripts:10\r\n/, '510 EVAL scripts, 500 kept');
});

test('read-only scripts: EVAL_RO, #!lua flags=no-writes, shebang errors, OOM', async () => {
  const c = await conn();
  const w = "return redis.call('SET', 'ro:k', 'v')";
  assert.equal(await c.call('EVAL_RO', w, '0'), `-ERR Write commands are not allowed from read-only scripts.${suffix(w)}\r\n`);
  assert.equal(await c.call('EVAL_RO', "return redis.call('GET', 'ro:k')", '0'), '$-1\r\n');
  const nw = "#!lua flags=no-writes\nreturn redis.call('SET', 'ro:k', 'v')";
  assert.equal(await c.call('EVAL', nw, '0'), `-ERR Write commands are not allowed from read-only scripts.${suffix(nw, 2)}\r\n`);
  const sw = "#!lua\nreturn redis.call('SET', 'ro:k', 'v')";
  assert.equal(await c.call('EVAL_RO', sw, '0'), '-ERR Can not execute a script with write flag using *_ro command.\r\n');
  assert.equal(await c.call('EVAL', sw, '0'), '+OK\r\n');
  assert.equal(await c.call('EVAL', '#!lua flags=bad\nreturn 1', '0'), '-ERR Unexpected flag in script shebang: bad\r\n');
  assert.equal(await c.call('EVAL', '#!foo\nreturn 1', '0'), '-ERR Unexpected engine in script shebang: #!foo\r\n');
  // maxmemory: legacy scripts fail on denyoom commands, allow-oom scripts may write.
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1'), '+OK\r\n');
  try {
    const l = "return redis.call('SET', 'ro:oom', 'v')";
    assert.equal(await c.call('EVAL', l, '0'), `-OOM command not allowed when used memory > 'maxmemory'.${suffix(l)}\r\n`);
    // A script with a shebang and no allow-oom flag is a denyoom command: refused before it starts, as by Valkey's processCommand.
    assert.equal(await c.call('EVAL', "#!lua\nreturn redis.call('SET', 'ro:oom', 'v')", '0'), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    assert.equal(await c.call('EVAL', "#!lua flags=no-writes\nreturn redis.call('GET', 'ro:oom')", '0'), '$-1\r\n', 'no-writes implies allow-oom');
    assert.equal(await c.call('EVAL', "#!lua flags=allow-oom\nreturn redis.call('SET', 'ro:oom', 'v')", '0'), '+OK\r\n');
    assert.equal(await c.call('EVAL', "return redis.call('GET', 'ro:oom')", '0'), '$1\r\nv\r\n');
  } finally {
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
  }
});

test('redis.set_repl, redis.acl_check_cmd, SELECT inside a script', async () => {
  const c = await conn();
  assert.equal(await c.call('EVAL', 'redis.set_repl(redis.REPL_ALL) return 1', '0'), ':1\r\n');
  assert.equal(await c.call('EVAL', 'redis.set_repl(redis.REPL_NONE) return 1', '0'), ':1\r\n');
  const bad = 'redis.set_repl(12345)';
  assert.equal(await c.call('EVAL', bad, '0'), `-ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.${suffix(bad)}\r\n`);
  assert.equal(await c.call('EVAL', "return redis.acl_check_cmd('GET', 'x')", '0'), ':1\r\n');
  const inv = "return redis.acl_check_cmd('nosuch')";
  assert.equal(await c.call('EVAL', inv, '0'), `-ERR Invalid command passed to redis.acl_check_cmd()${suffix(inv)}\r\n`);
  // SELECT inside a script does not change the caller's database.
  await c.call('SELECT', '0');
  assert.equal(await c.call('EVAL', "redis.call('SELECT', 1) redis.call('SET', 'sel:k', 'db1') return 1", '0'), ':1\r\n');
  assert.equal(await c.call('GET', 'sel:k'), '$-1\r\n');
  await c.call('SELECT', '1');
  assert.equal(await c.call('GET', 'sel:k'), '$3\r\ndb1\r\n');
  await c.call('SELECT', '0');
});

test('scripts inside MULTI/EXEC, blocking commands do not block, atomic INCR script', async () => {
  const c = await conn();
  assert.equal(await c.call('MULTI'), '+OK\r\n');
  assert.equal(await c.call('EVAL', "return redis.call('INCRBY', 'tx:n', 5)", '0'), '+QUEUED\r\n');
  assert.equal(await c.call('EXEC'), '*1\r\n:5\r\n');
  assert.equal(await c.call('EVAL', "return redis.call('BLPOP', 'bl:none', 0)", '0'), '$-1\r\n', 'a null array becomes false, returned as a null');
  const io = new Redis(srv.port);
  try {
    const sha = await io.script('LOAD', "return redis.call('INCR', KEYS[1])");
    await io.del('at:n');
    await Promise.all(Array.from({ length: 200 }, () => io.evalsha(sha, 1, 'at:n')));
    assert.equal(await io.get('at:n'), '200');
    // ioredis defineCommand uses EVALSHA with an EVAL fallback on NOSCRIPT.
    io.defineCommand('addTwo', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1]) + 0" });
    await io.script('FLUSH');
    assert.equal(await io.addTwo('at:m', 2), 2);
    assert.equal(await io.addTwo('at:m', 2), 4);
  } finally {
    io.disconnect();
  }
});

test('effects are propagated as MULTI/EXEC units to the AOF; set_repl(REPL_NONE) leaves writes out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-lua-aof-'));
  const s = await startVireo(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], { cwd: dir });
  try {
    const c = await RawConn.connect(s.port);
    assert.equal(await c.call('EVAL', "redis.call('SET', 'a', '1') redis.call('INCR', 'a') redis.call('GET', 'a') return 1", '0'), ':1\r\n');
    assert.equal(await c.call('EVAL', "redis.set_repl(redis.REPL_NONE) redis.call('SET', 'b', '1') redis.set_repl(redis.REPL_ALL) redis.call('SET', 'c', '1') return 1", '0'), ':1\r\n');
    assert.equal(await c.call('EVAL', "return redis.call('GET', 'a')", '0'), '$1\r\n2\r\n');
    c.close();
    await new Promise((r) => setTimeout(r, 200));
    const aofDir = join(dir, 'appendonlydir');
    const incr = readdirSync(aofDir).find((f) => f.endsWith('.incr.aof'));
    const text = readFileSync(join(aofDir, incr), 'latin1');
    const cmds = text.split('\r\n').filter((l) => l !== '' && !/^[*$]/.test(l));
    assert.deepEqual(cmds, ['SELECT', '0', 'MULTI', 'SET', 'a', '1', 'INCR', 'a', 'EXEC', 'SET', 'c', '1']);
  } finally {
    await s.stop();
  }
});
