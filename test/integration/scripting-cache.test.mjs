// The compiled-script cache and the redis.call fast path of src/scripting/
// (engine.ts, resp.ts): a script is compiled once into a hidden read-only
// table and each run only calls it; redis.call replies go from RESP straight
// into the engine's reply format. These pin that nothing observable changed:
// results on first and later runs, error lines, per-run state, eviction and
// SCRIPT FLUSH releasing the compiled functions, large and odd replies (same
// bytes as Redis when a reference server is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { serverPair } from '../helpers/pair.mjs';

const pair = serverPair();
const conn = pair.conn;
const sha1 = (s) => createHash('sha1').update(s).digest('hex');


/** Number of compiled functions the VM holds (the hidden table's entries). */

test('a cached script gives the same results, errors and lines on every run', async () => {
  const c = await conn();
  await c.call('DEL', 'k');
  const s = "redis.call('GET', KEYS[1]) return redis.call('INCR', KEYS[1])";
  const sha = sha1(s);
  assert.equal(await c.call('SCRIPT', 'LOAD', s), `$40\r\n${sha}\r\n`);
  for (let i = 1; i <= 5; i++) assert.equal(await c.call('EVALSHA', sha, '1', 'k'), `:${i}\r\n`);
  // KEYS and ARGV are the run's own.
  const kv = 'return {KEYS[1], ARGV[1], #KEYS, #ARGV}';
  assert.equal(await c.call('EVAL', kv, '1', 'a', 'b'), '*4\r\n$1\r\na\r\n$1\r\nb\r\n:1\r\n:1\r\n');
  assert.equal(await c.call('EVAL', 'return {#KEYS, #ARGV}', '0'), '*2\r\n:0\r\n:0\r\n');
  assert.equal(await c.call('EVAL', kv, '1', 'c', 'd'), '*4\r\n$1\r\nc\r\n$1\r\nd\r\n:1\r\n:1\r\n');
  // Runtime errors keep the user's line, first run and later ones alike.
  const bad = "local x = 1\n\nerror('boom')";
  for (let i = 0; i < 2; i++) {
    assert.equal(await c.call('EVAL', bad, '0'), `-ERR user_script:3: boom script: ${sha1(bad)}, on @user_script:3.\r\n`);
  }
  const lvl2 = "\nerror('up', 2)";
  const first = await c.call('EVAL', lvl2, '0');
  assert.equal(await c.call('EVAL', lvl2, '0'), first);
  const cmdErr = "\nreturn redis.call('INCR', 'notanint')";
  await c.call('SET', 'notanint', 'x');
  for (let i = 0; i < 2; i++) {
    assert.equal(
      await c.call('EVAL', cmdErr, '0'),
      `-ERR value is not an integer or out of range script: ${sha1(cmdErr)}, on @user_script:2.\r\n`,
    );
  }
  // Not compilable as a function body: the same compile error every run.
  const vararg = 'return ...';
  const e1 = await c.call('EVAL', vararg, '0');
  assert.match(e1, /^-ERR .*cannot use '\.\.\.' outside a vararg function/);
  assert.equal(await c.call('EVAL', vararg, '0'), e1);
  // Writing a global still fails, on every run.
  for (let i = 0; i < 2; i++) assert.match(await c.call('EVAL', 'x = 1', '0'), /^-ERR user_script:1: Attempt to modify a readonly table/);
});

test('per-run state: locals, the redis proxy of scripts using set_repl, redis.setresp', async () => {
  const c = await conn();
  const s = 'local t = {} t[#t + 1] = ARGV[1] return #t';
  for (let i = 0; i < 3; i++) assert.equal(await c.call('EVAL', s, '0', 'v'), ':1\r\n');
  const p = "redis.set_repl(redis.REPL_ALL) local ok = pcall(function() redis.call = nil end) return {ok and 1 or 0, type(redis.call)}";
  for (let i = 0; i < 3; i++) assert.equal(await c.call('EVAL', p, '0'), '*2\r\n:0\r\n$8\r\nfunction\r\n');
  const r3 = "redis.setresp(3) return redis.call('HGETALL', KEYS[1])";
  await c.call('DEL', 'h');
  await c.call('HSET', 'h', 'f', 'v');
  // RESP3 map -> Lua {map=...} -> a map to a RESP3 caller; the next run starts at RESP2 again.
  const c3 = await conn(pair.srv.port, true);
  for (let i = 0; i < 2; i++) assert.equal(await c3.call('EVAL', r3, '1', 'h'), '%1\r\n$1\r\nf\r\n$1\r\nv\r\n');
  assert.equal(await c.call('EVAL', "return redis.call('HGETALL', KEYS[1])", '1', 'h'), '*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
});

test('the compiled functions are hidden, read-only and released by eviction and SCRIPT FLUSH', async () => {
  const c = await conn();
  for (let i = 0; i < 2; i++) assert.equal(await c.call('EVAL', 'return 5678', '0'), ':5678\r\n');
  // Nothing a script can enumerate shows them: bit holds its 12 functions only, its metatable is hidden,
  // and the globals are the usual ones.
  assert.equal(
    await c.call('EVAL', "local n = 0 for k, v in pairs(bit) do if type(k) ~= 'string' or type(v) ~= 'function' then return 'odd key ' .. tostring(k) end n = n + 1 end return n", '0'),
    ':12\r\n',
  );
  assert.equal(await c.call('EVAL', 'return tostring(getmetatable(bit))', '0'), '$5\r\nfalse\r\n');
  assert.equal(await c.call('EVAL', "for k, v in pairs(_G) do if type(v) == 'table' then for k2, v2 in pairs(v) do if type(k2) ~= 'string' then return tostring(k) end end end end return 'ok'", '0'), '$2\r\nok\r\n');
  assert.equal(await c.call('EVAL', 'return bit[1]', '0'), '$-1\r\n');
  assert.match(await c.call('EVAL', 'bit.band = 1', '0'), /Attempt to modify a readonly table/);
  assert.match(await c.call('EVAL', "rawset(bit, 'x', 1)", '0'), /Attempt to modify a readonly table/);
  assert.match(await c.call('EVAL', 'setmetatable(bit, {})', '0'), /^-ERR/);
  assert.equal(await c.call('EVAL', 'return 5678', '0'), ':5678\r\n');
  // Released: the Lua heap shrinks again after SCRIPT FLUSH (600 compiled functions are well over 100 KB).
  const kb = async () => Number((await c.call('EVAL', "collectgarbage('collect') return math.floor(collectgarbage('count'))", '0')).slice(1, -2));
  assert.equal(await c.call('SCRIPT', 'FLUSH'), '+OK\r\n');
  const base = await kb();
  // 600 distinct EVAL scripts run twice (compiled into the cache on the second run): the script cache
  // keeps 500 of them (Valkey's LRU).
  for (let i = 0; i < 600; i++) {
    for (let j = 0; j < 2; j++) assert.equal(await c.call('EVAL', `return ${i}`, '0'), `:${i}\r\n`);
  }
  const full = await kb();
  assert.ok(full - base >= 100, `compiled functions take Lua memory: ${base} KB -> ${full} KB`);
  assert.match(await c.call('INFO', 'memory'), /number_of_cached_scripts:500\r\n/);
  assert.equal(await c.call('SCRIPT', 'FLUSH'), '+OK\r\n');
  const after = await kb();
  assert.ok(after - base < (full - base) / 4, `SCRIPT FLUSH releases them: ${base} KB -> ${full} KB -> ${after} KB`);
  assert.equal(await c.call('EVALSHA', sha1('return 7'), '0'), '-NOSCRIPT No matching script. Please use EVAL.\r\n');
  assert.equal(await c.call('EVAL', 'return 7', '0'), ':7\r\n');
});

test('redis.call replies through the fast path: large, nested, negative and 64-bit values', async () => {
  const checks = [
    ['SET', 'big', 'x'.repeat(100_000)],
    ['DEL', 'l'],
    ['RPUSH', 'l', ...Array.from({ length: 300 }, (_, i) => `item-${i}`)],
    ['SET', 'n', '9007199254740993'],
    ['SET', 'm', '-5'],
  ];
  const scripts = [
    ["return #redis.call('GET', KEYS[1])", ['big']],
    ["return redis.call('GET', KEYS[1])", ['big']],
    ["local r = redis.call('LRANGE', KEYS[1], 0, -1) return {#r, r[1], r[300]}", ['l']],
    ["return redis.call('LRANGE', KEYS[1], 0, -1)", ['l']],
    ["return redis.call('INCRBY', KEYS[1], 0)", ['n']],
    ["return tostring(redis.call('INCRBY', KEYS[1], 0))", ['n']],
    ["return redis.call('DECRBY', KEYS[1], 7)", ['m']],
    ["return redis.call('INCRBY', KEYS[1], -1000000000000)", ['m']],
    ["return redis.pcall('INCR', KEYS[1])", ['big']],
    ["return type(redis.call('GET', 'nosuchkey'))", []],
    ["return redis.call('PING')", []],
    ["return redis.call('TYPE', KEYS[1])", ['l']],
    ["return redis.call('SCAN', '0', 'COUNT', '1000')", []],
  ];
  const run = async (port) => {
    const c = await conn(port);
    for (const cmd of checks) await c.call(...cmd);
    const out = [];
    for (const [s, keys] of scripts) out.push(await c.call('EVAL', s, String(keys.length), ...keys));
    return out;
  };
  const got = await run(pair.srv.port);
  assert.equal(got[0], ':100000\r\n');
  assert.equal(got[1], `$100000\r\n${'x'.repeat(100_000)}\r\n`);
  assert.equal(got[2], '*3\r\n:300\r\n$6\r\nitem-0\r\n$8\r\nitem-299\r\n');
  assert.equal(got[4], ':9007199254740992\r\n', 'a Lua number is a double');
  assert.equal(got[6], ':-12\r\n');
  assert.equal(got[7], ':-1000000000012\r\n');
  assert.equal(got[8], '-ERR value is not an integer or out of range\r\n');
  assert.equal(got[9], '$7\r\nboolean\r\n');
  assert.equal(got[10], '+PONG\r\n');
  if (pair.ref !== null) {
    const want = await run(pair.ref.port);
    // SCAN's order differs between servers: compare its shape only.
    for (let i = 0; i < scripts.length - 1; i++) assert.equal(got[i], want[i], scripts[i][0]);
  }
});
