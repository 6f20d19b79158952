// Script semantics that need more than the engine gives (src/scripting/engine.ts,
// resp.ts, index.ts): RESP3 nulls reaching Lua as nil, Valkey's error replies
// for error(table) / error_reply / non-string errors and their pcall values,
// redis.set_repl(REPL_AOF / REPL_REPLICA) sending writes to one side only, and
// CLIENT TRACKING remembering the keys a script reads for its caller. Replies
// are pinned (Valkey's, which Redis 7.0 shares here) and, when redis-server is
// installed, also compared with it byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVireo } from '../helpers/servers.mjs';
import { serverPair } from '../helpers/pair.mjs';

const pair = serverPair();
const conn = pair.conn;
const sha1 = (s) => createHash('sha1').update(s).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


/** Runs each [script, keys, expected] on Vireo (twice: first run and compiled-cache run) and on redis-server if present. */
async function check(cases, setup = []) {
  const targets = [pair.srv.port, ...(pair.ref ? [pair.ref.port] : [])];
  for (const port of targets) {
    const c = await conn(port);
    for (const cmd of setup) await c.call(...cmd);
    for (const [script, keys, want] of cases) {
      for (let run = 0; run < 2; run++) {
        const got = await c.call('EVAL', script, String(keys.length), ...keys);
        const exp = typeof want === 'function' ? want(sha1(script)) : want;
        assert.equal(got, exp, `${port === pair.srv.port ? 'vireo' : 'redis'} run ${run + 1}: ${script}`);
      }
    }
  }
}

const at = (line) => (sha) => ` script: ${sha}, on @user_script:${line}.`;
const err = (msg, line) => (sha) => `-${msg}${at(line)(sha)}\r\n`;

test('RESP3 nulls reach the script as nil after redis.setresp(3); RESP2 nulls stay false', async () => {
  await check(
    [
      ["redis.setresp(3)\nlocal r = redis.call('GET', 'sem:none')\nreturn type(r)", [], '$3\r\nnil\r\n'],
      ["local r = redis.call('GET', 'sem:none')\nreturn type(r)", [], '$7\r\nboolean\r\n'],
      ["redis.setresp(3)\nredis.setresp(2)\nreturn type(redis.call('GET', 'sem:none'))", [], '$7\r\nboolean\r\n'],
      ["redis.setresp(3)\nreturn type(redis.pcall('GET', 'sem:none'))", [], '$3\r\nnil\r\n'],
      ["redis.setresp(3)\nreturn redis.call('GET', 'sem:none') == nil", [], ':1\r\n'],
      // Nulls inside an array leave holes where they were, as Valkey builds the table.
      [
        "redis.setresp(3)\nlocal r = redis.call('HMGET', KEYS[1], 'a', 'b', 'a')\nreturn {type(r), #r, type(r[1]), type(r[2]), r[3]}",
        ['sem:h'],
        '*5\r\n$5\r\ntable\r\n:1\r\n$6\r\nstring\r\n$3\r\nnil\r\n$1\r\n1\r\n',
      ],
      ["redis.setresp(3)\nlocal r = redis.call('HMGET', KEYS[1], 'b', 'b', 'a')\nreturn {#r, r[3]}", ['sem:h'], '*2\r\n:0\r\n$1\r\n1\r\n'],
      [
        "redis.setresp(3)\nlocal r = redis.call('HMGET', KEYS[1], 'b', 'a', 'b', 'a', 'b', 'b', 'a')\nlocal n = 0 for k in pairs(r) do n = n + k end return n",
        ['sem:h'],
        ':13\r\n',
      ],
      ["local r = redis.call('HMGET', KEYS[1], 'b', 'a')\nreturn {type(r[1]), r[2]}", ['sem:h'], '*2\r\n$7\r\nboolean\r\n$1\r\n1\r\n'],
      // Returned to the caller: the array is cut at the first hole.
      ["redis.setresp(3)\nreturn redis.call('HMGET', KEYS[1], 'a', 'b', 'a')", ['sem:h'], '*1\r\n$1\r\n1\r\n'],
      // Other RESP3 types are unchanged by the null handling.
      ["redis.setresp(3)\nlocal r = redis.call('HGETALL', KEYS[1])\nreturn r.map.a", ['sem:h'], '$1\r\n1\r\n'],
      ["redis.setresp(3)\nreturn redis.call('SET', KEYS[1], 'v')", ['sem:s'], '+OK\r\n'],
      // A command error under RESP3 still aborts with the caller's line (not in tail position: see
      // VALKEY_DIFFERENCES.md, LUA3).
      ["redis.setresp(3)\n\nlocal r = redis.call('INCR', KEYS[1])\nreturn r", ['sem:h'], err('WRONGTYPE Operation against a key holding the wrong kind of value', 3)],
      ["redis.setresp(3)\nlocal ok, e = pcall(redis.call, 'INCR', KEYS[1])\nreturn e", ['sem:h'], '$65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n'],
    ],
    [['DEL', 'sem:h', 'sem:s'], ['HSET', 'sem:h', 'a', '1']],
  );
});

test('RESP3 nulls also reach a slow script (the worker) and a function as nil', async () => {
  const c = await conn();
  await c.call('HSET', 'sem:h2', 'a', '1');
  const lib = "#!lua name=semlib\nredis.register_function('semf', function(keys) redis.setresp(3) local r = redis.call('HMGET', keys[1], 'b', 'a') return {type(redis.call('GET', 'sem:none')), #r, r[2]} end)";
  assert.equal(await c.call('FUNCTION', 'LOAD', 'REPLACE', lib), '$6\r\nsemlib\r\n');
  for (let i = 0; i < 2; i++) assert.equal(await c.call('FCALL', 'semf', '1', 'sem:h2'), '*3\r\n$3\r\nnil\r\n:0\r\n$1\r\n1\r\n');
  // Busy for ~300 ms of pure Lua before the calls, past a 100 ms threshold: restarted in the worker.
  await c.call('CONFIG', 'SET', 'busy-reply-threshold', '100');
  try {
    const slow = "local t = redis.call('TIME') local s = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) local x = 0\n" +
      "while true do x = x + 1 if x % 100000 == 0 then local u = redis.call('TIME') if tonumber(u[1]) * 1000 + math.floor(tonumber(u[2]) / 1000) - s > 300 then break end end end\n" +
      "redis.setresp(3) local r = redis.call('HMGET', KEYS[1], 'b', 'a') return {type(redis.call('GET', 'sem:none')), #r, r[2]}";
    assert.equal(await c.call('EVAL', slow, '1', 'sem:h2'), '*3\r\n$3\r\nnil\r\n:0\r\n$1\r\n1\r\n');
  } finally {
    await c.call('CONFIG', 'SET', 'busy-reply-threshold', '5000');
    await c.call('FUNCTION', 'DELETE', 'semlib');
  }
});

test('error() with a table, a string, nil or a boolean: Valkey replies and pcall values', async () => {
  await check([
    ["error({err='MY message'})", [], err('MY message', 1)],
    ["error({err='my message'})", [], err('my message', 1)],
    ["local function f()\n  error({err='E1 deep'})\nend\n\nf()", [], err('E1 deep', 2)],
    ["\n\nerror(redis.error_reply('x'))", [], err('ERR x', 3)],
    ["error(redis.error_reply('MY x'))", [], err('MY x', 1)],
    ["local r = redis.pcall('INCR', KEYS[1])\nerror(r)", ['sem:str'], err('ERR value is not an integer or out of range', 2)],
    ["error({err=5})", [], err('5', 1)],
    ['error(true)', [], err('ERR true', 1)],
    ['error(nil)', [], err('ERR nil', 1)],
    ["error('MY x', 0)", [], err('ERR MY x', 1)],
    ["\n\nerror('x')", [], err('ERR user_script:3: x', 3)],
    ["local function f()\n  error('lvl2', 2)\nend\n\nf()", [], err('ERR user_script:5: lvl2', 2)],
    ["error({err='a\\nb'})", [], err('a b', 1)],
    ["local ok, e = pcall(error, {err='MY m'})\nreturn e", [], '$4\r\nMY m\r\n'],
    ["local ok, e = pcall(error)\nreturn type(e)", [], '$3\r\nnil\r\n'],
    ["local ok, e = pcall(error, true)\nreturn e", [], ':1\r\n'],
    ["local ok, e = pcall(error, 'x')\nreturn e", [], '$1\r\nx\r\n'],
    ["local ok, e = pcall(function() error('x') end)\nreturn e", [], '$16\r\nuser_script:1: x\r\n'],
    ["local ok, e = pcall(function() error({err='T1'}) end)\nreturn {ok, e}", [], '*2\r\n$-1\r\n$2\r\nT1\r\n'],
    ["return {pcall(function(a, b) return a + b, 'two' end, 1, 2)}", [], '*3\r\n:1\r\n:3\r\n$3\r\ntwo\r\n'],
    // An xpcall handler gets the error object itself (the table), pcall its err string.
    ["local ok, e = xpcall(function() error({err='X1'}) end, function(m) return type(m) .. ':' .. m.err end)\nreturn e", [], '$8\r\ntable:X1\r\n'],
    ["local ok, e = xpcall(function() error('X2', 0) end, function(m) return type(m) .. ':' .. m end)\nreturn e", [], '$9\r\nstring:X2\r\n'],
    ["local ok, e = pcall(function() local x = nil; return x.y end)\nreturn e", [], "$55\r\nuser_script:1: attempt to index local 'x' (a nil value)\r\n"],
  ], [['SET', 'sem:str', 'abc']]);
});

test('error({}) (no err field): Valkey 8 answers ERR unknown error (Redis 7.0 crashes, so Vireo only)', async () => {
  const c = await conn();
  for (let i = 0; i < 2; i++) {
    assert.equal(await c.call('EVAL', '\nerror({})', '0'), `-ERR unknown error script: ${sha1('\nerror({})')}, on @user_script:2.\r\n`);
    // pcall hands back the table itself when it has no err string.
    assert.equal(await c.call('EVAL', "local t = {1, 2} local ok, e = pcall(error, t) return {rawequal(e, t), #e}", '0'), '*2\r\n:1\r\n:2\r\n');
    assert.equal(await c.call('EVAL', "local t = {err='x'} local ok, e = xpcall(function() error(t) end, function(m) return m end) return rawequal(e, t)", '0'), ':1\r\n');
  }
});

test('redis.error_reply and {err=...} returned: Valkey\'s codes', async () => {
  await check([
    ["return redis.error_reply('x')", [], '-ERR x\r\n'],
    ["return redis.error_reply('My err')", [], '-My err\r\n'],
    ["return redis.error_reply('MY x')", [], '-MY x\r\n'],
    ["return redis.error_reply('-ERR x')", [], '-ERR x\r\n'],
    ["return redis.error_reply('-x')", [], '-ERR x\r\n'],
    ["return redis.error_reply('x\\r\\n')", [], '-ERR x\r\n'],
    ['return redis.error_reply(1)', [], '-ERR wrong number or type of arguments\r\n'],
    ["return redis.error_reply('x').err", [], '$5\r\nERR x\r\n'],
    ["return {err='x'}", [], '-x\r\n'],
    ["return {err='MY x'}", [], '-MY x\r\n'],
    ["return {err='a\\nb'}", [], '-a b\r\n'],
  ]);
});

test('error objects inside functions (FCALL) name the function and user_function', async () => {
  const c = await conn();
  const lib = "#!lua name=semerr\nredis.register_function('semt', function()\n  error({err='FN table'})\nend)\nredis.register_function('sems', function()\n  error('fn string')\nend)";
  assert.equal(await c.call('FUNCTION', 'LOAD', 'REPLACE', lib), '$6\r\nsemerr\r\n');
  try {
    for (let i = 0; i < 2; i++) {
      assert.equal(await c.call('FCALL', 'semt', '0'), '-FN table script: semt, on @user_function:3.\r\n');
      assert.equal(await c.call('FCALL', 'sems', '0'), '-ERR user_function:6: fn string script: sems, on @user_function:6.\r\n');
    }
    // Registration errors (raised as error tables by the register_function checks) keep their wording.
    assert.equal(
      await c.call('FUNCTION', 'LOAD', "#!lua name=e\nredis.register_function{function_name='f', callback=function() end, flags={'bogus'}}"),
      '-ERR Error registering functions: ERR unknown flag given\r\n',
    );
    assert.equal(
      await c.call('FUNCTION', 'LOAD', "#!lua name=e\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)"),
      '-ERR Error registering functions: ERR Function already exists in the library\r\n',
    );
  } finally {
    await c.call('FUNCTION', 'DELETE', 'semerr');
  }
});

/** The commands of an AOF / replication stream: argv words, without RESP framing. */
function words(text) {
  return text.split('\r\n').filter((l) => l !== '' && !/^[*$]/.test(l));
}

test('redis.set_repl: REPL_AOF writes go only to the AOF, REPL_REPLICA only to replicas', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-lua-repl-'));
  const p = await startVireo(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--repl-diskless-sync-delay', '0'], { cwd: dir });
  const rdir = mkdtempSync(join(tmpdir(), 'vireo-lua-replica-'));
  const r = await startVireo(['--replicaof', '127.0.0.1', String(p.port), '--dir', rdir], { cwd: rdir });
  try {
    const c = await conn(p.port);
    const rc = await conn(r.port);
    const deadline = Date.now() + 60000;
    while (!(await rc.call('INFO', 'replication')).includes('master_link_status:up')) {
      assert.ok(Date.now() < deadline, 'replica link up');
      await sleep(50);
    }
    const script =
      "redis.set_repl(redis.REPL_AOF) redis.call('SET', 'only:aof', '1') " +
      "redis.set_repl(redis.REPL_REPLICA) redis.call('SET', 'only:replica', '1') " +
      "redis.set_repl(redis.REPL_NONE) redis.call('SET', 'only:primary', '1') " +
      "redis.set_repl(redis.REPL_ALL) redis.call('SET', 'everywhere', '1') return 1";
    assert.equal(await c.call('EVAL', script, '0'), ':1\r\n');
    // A single write under REPL_REPLICA: one command, no MULTI/EXEC, on the replica only.
    assert.equal(await c.call('EVAL', "redis.set_repl(redis.REPL_REPLICA) redis.call('SET', 'solo:replica', '1') return 1", '0'), ':1\r\n');
    assert.equal(await c.call('SET', 'marker', 'done'), '+OK\r\n');
    while ((await rc.call('GET', 'marker')) !== '$4\r\ndone\r\n') {
      assert.ok(Date.now() < deadline, 'replica caught up');
      await sleep(50);
    }
    assert.equal(await rc.call('EXISTS', 'only:aof'), ':0\r\n');
    assert.equal(await rc.call('EXISTS', 'only:replica'), ':1\r\n');
    assert.equal(await rc.call('EXISTS', 'only:primary'), ':0\r\n');
    assert.equal(await rc.call('EXISTS', 'everywhere'), ':1\r\n');
    assert.equal(await rc.call('EXISTS', 'solo:replica'), ':1\r\n');
    for (const k of ['only:aof', 'only:replica', 'only:primary', 'everywhere', 'solo:replica']) assert.equal(await c.call('EXISTS', k), ':1\r\n');
    const aofDir = join(dir, 'appendonlydir');
    const incr = readdirSync(aofDir).find((f) => f.endsWith('.incr.aof'));
    const cmds = words(readFileSync(join(aofDir, incr), 'latin1'));
    assert.deepEqual(cmds, ['SELECT', '0', 'MULTI', 'SET', 'only:aof', '1', 'SET', 'everywhere', '1', 'EXEC', 'SET', 'marker', 'done']);
  } finally {
    await r.stop();
    await p.stop();
  }
});

const inv3 = (...keys) => `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n` + keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('');

test('CLIENT TRACKING: keys read by a script are tracked for the caller', async () => {
  for (const port of [pair.srv.port, ...(pair.ref ? [pair.ref.port] : [])]) {
    const who = port === pair.srv.port ? 'vireo' : 'redis';
    const a = await conn(port, true);
    const b = await conn(port);
    await b.call('DEL', 'trk:a', 'trk:b', 'trk:w');
    assert.equal(await a.call('CLIENT', 'TRACKING', 'on'), '+OK\r\n');
    assert.equal(await a.call('EVAL', "redis.call('GET', KEYS[1]) return redis.call('EXISTS', KEYS[2])", '2', 'trk:a', 'trk:b'), ':0\r\n');
    assert.equal(await a.call('EVALSHA', sha1("return redis.call('GET', KEYS[1])"), '1', 'trk:x'), '-NOSCRIPT No matching script. Please use EVAL.\r\n');
    assert.equal(await b.call('SET', 'trk:a', '1'), '+OK\r\n', who);
    assert.equal(await a.readReply(), inv3('trk:a'), `${who}: invalidation for a key the script read`);
    assert.equal(await b.call('SET', 'trk:b', '1'), '+OK\r\n');
    assert.equal(await a.readReply(), inv3('trk:b'), `${who}: invalidation for the second key`);
    // A key the script only wrote is not tracked.
    assert.equal(await a.call('EVAL', "redis.call('SET', KEYS[1], 'x') return 1", '1', 'trk:w'), ':1\r\n');
    assert.equal(await b.call('SET', 'trk:w', '2'), '+OK\r\n');
    assert.equal(await a.call('PING'), '+PONG\r\n', `${who}: no invalidation for a key the script only wrote`);
    // OPTIN: only after CLIENT CACHING YES.
    assert.equal(await a.call('CLIENT', 'TRACKING', 'off'), '+OK\r\n');
    assert.equal(await a.call('CLIENT', 'TRACKING', 'on', 'OPTIN'), '+OK\r\n');
    assert.equal(await a.call('EVAL', "return redis.call('GET', KEYS[1])", '1', 'trk:a'), '$1\r\n1\r\n');
    assert.equal(await b.call('SET', 'trk:a', '2'), '+OK\r\n');
    assert.equal(await a.call('PING'), '+PONG\r\n', `${who}: OPTIN without CACHING YES tracks nothing`);
    assert.equal(await a.call('CLIENT', 'CACHING', 'YES'), '+OK\r\n');
    assert.equal(await a.call('EVAL', "return redis.call('GET', KEYS[1])", '1', 'trk:a'), '$1\r\n2\r\n');
    assert.equal(await b.call('SET', 'trk:a', '3'), '+OK\r\n');
    assert.equal(await a.readReply(), inv3('trk:a'), `${who}: OPTIN + CACHING YES tracks the script's reads`);
    assert.equal(await a.call('CLIENT', 'TRACKING', 'off'), '+OK\r\n');
  }
});
