// FUNCTION * and FCALL / FCALL_RO against a real vireo-server: library headers,
// register_function forms and flags, errors, LIST / STATS in RESP2 and RESP3,
// DUMP / RESTORE payloads and policies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
const conns = [];

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

const bulk = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

const LIB1 = [
  '#!lua name=mylib',
  "redis.register_function('incrby2', function(keys, args) return redis.call('INCRBY', keys[1], args[1] * 2) end)",
  'redis.register_function{function_name = "getit", callback = function(keys) return redis.call("GET", keys[1]) end, flags = {"no-writes"}, description = "reads a key"}',
  "local function helper() return 'h' end",
  "redis.register_function('boom', function() error('bad thing') end)",
  "redis.register_function{function_name='setro', callback=function(keys) return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}",
].join('\n');

test('FUNCTION LOAD, FCALL, FCALL_RO, REPLACE, DELETE, FLUSH', async () => {
  const c = await conn();
  await c.call('FUNCTION', 'FLUSH');
  assert.equal(await c.call('FUNCTION', 'LOAD', LIB1), bulk('mylib'));
  assert.equal(await c.call('FCALL', 'incrby2', '1', 'fn:n', '5'), ':10\r\n');
  assert.equal(await c.call('FCALL', 'incrby2', '1', 'fn:n', '1'), ':12\r\n');
  assert.equal(await c.call('FCALL_RO', 'getit', '1', 'fn:n'), bulk('12'));
  assert.equal(await c.call('FCALL_RO', 'incrby2', '1', 'fn:n', '1'), '-ERR Can not execute a script with write flag using *_ro command.\r\n');
  assert.equal(await c.call('FCALL', 'setro', '1', 'fn:x'), '-ERR Write commands are not allowed from read-only scripts. script: setro, on @user_function:6.\r\n');
  assert.equal(await c.call('FCALL', 'boom', '0'), '-ERR user_function:5: bad thing script: boom, on @user_function:5.\r\n');
  assert.equal(await c.call('FCALL', 'nosuch', '0'), '-ERR Function not found\r\n');
  assert.equal(await c.call('FCALL', 'getit', '5'), "-ERR Number of keys can't be greater than number of args\r\n");
  assert.equal(await c.call('FUNCTION', 'LOAD', LIB1), "-ERR Library 'mylib' already exists\r\n");
  const v2 = "#!lua name=mylib\nredis.register_function('incrby2', function(keys, args) return 'v2' end)";
  assert.equal(await c.call('FUNCTION', 'LOAD', 'REPLACE', v2), bulk('mylib'));
  assert.equal(await c.call('FCALL', 'incrby2', '0'), bulk('v2'));
  assert.equal(await c.call('FCALL', 'getit', '1', 'fn:n'), '-ERR Function not found\r\n', 'REPLACE drops the old functions');
  // A function name owned by another library.
  const clash = "#!lua name=other\nredis.register_function('incrby2', function() return 1 end)";
  assert.equal(await c.call('FUNCTION', 'LOAD', clash), '-ERR Function incrby2 already exists\r\n');
  assert.equal(await c.call('FUNCTION', 'DELETE', 'nolib'), '-ERR Library not found\r\n');
  assert.equal(await c.call('FUNCTION', 'DELETE', 'mylib'), '+OK\r\n');
  assert.equal(await c.call('FCALL', 'incrby2', '0'), '-ERR Function not found\r\n');
  assert.equal(await c.call('FUNCTION', 'LOAD', clash), bulk('other'));
  assert.equal(await c.call('FUNCTION', 'FLUSH', 'BAD'), '-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n');
  assert.equal(await c.call('FUNCTION', 'FLUSH', 'SYNC'), '+OK\r\n');
  assert.equal(await c.call('FUNCTION', 'LIST'), '*0\r\n');
});

test('FUNCTION LOAD errors', async () => {
  const c = await conn();
  const load = (code) => c.call('FUNCTION', 'LOAD', code);
  assert.equal(await load('return 1'), '-ERR Missing library metadata\r\n');
  assert.equal(await load('#!lua\nreturn 1'), '-ERR Library name was not given\r\n');
  assert.equal(await load('#!lua name=a foo=bar\n'), '-ERR Invalid metadata value given: foo=bar\r\n');
  assert.equal(await load('#!js name=a\n'), "-ERR Engine 'js' not found\r\n");
  assert.equal(await load('#!lua name=bad-name\n'), '-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n');
  assert.equal(await load('#!lua name=empty\nlocal x = 1'), '-ERR No functions registered\r\n');
  assert.equal(await load("#!lua name=e1\nredis.call('PING')"), "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'\r\n");
  assert.equal(
    await load("#!lua name=e2\nredis.register_function('bad name', function() end)"),
    '-ERR Error registering functions: ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n',
  );
  assert.equal(await load("#!lua name=e3\nredis.register_function{function_name='f', callback=function() end, flags={'bogus'}}"), '-ERR Error registering functions: ERR unknown flag given\r\n');
  assert.equal(await load("#!lua name=e4\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)"), '-ERR Error registering functions: ERR Function already exists in the library\r\n');
  assert.equal(
    await load("#!lua name=e5\nredis.register_function('f')"),
    '-ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).\r\n',
  );
  assert.equal(await load("#!lua name=e5\nredis.register_function('f', 1, 2)"), '-ERR Error registering functions: ERR wrong number of arguments to redis.register_function\r\n');
  assert.equal(await load('#!lua name=e6\nredis.register_function(1 +)'), "-ERR Error compiling function: user_function:2: unexpected symbol near ')'\r\n");
  assert.equal(await load('#!lua name=e7\nx = 1'), '-ERR Error registering functions: user_function:2: Attempt to modify a readonly table\r\n');
  assert.equal(await c.call('FUNCTION', 'LOAD', 'BADOPT', '#!lua name=z\n'), '-ERR Unknown option given: BADOPT\r\n');
  assert.equal(await c.call('FUNCTION', 'LIST'), '*0\r\n', 'nothing was loaded');
});

for (const resp3 of [false, true]) {
  const P = resp3 ? 'RESP3' : 'RESP2';
  test(`${P}: FUNCTION LIST and STATS`, async () => {
    const c = await conn(resp3);
    await c.call('FUNCTION', 'FLUSH');
    const code = "#!lua name=listlib\nredis.register_function{function_name='lf', callback=function() return 1 end, flags={'no-writes', 'allow-oom'}, description='d'}";
    await c.call('FUNCTION', 'LOAD', code);
    await c.call('FUNCTION', 'LOAD', "#!lua name=zother\nredis.register_function('zf', function() return 2 end)");
    const map = (n) => (resp3 ? `%${n}\r\n` : `*${2 * n}\r\n`);
    const set = (n) => (resp3 ? `~${n}\r\n` : `*${n}\r\n`);
    const NULL = resp3 ? '_\r\n' : '$-1\r\n';
    const lib1 = `${map(3)}${bulk('library_name')}${bulk('listlib')}${bulk('engine')}${bulk('LUA')}${bulk('functions')}*1\r\n${map(3)}${bulk('name')}${bulk('lf')}${bulk('description')}${bulk('d')}${bulk('flags')}${set(2)}+no-writes\r\n+allow-oom\r\n`;
    assert.equal(await c.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'list*'), `*1\r\n${lib1}`);
    const withCode = await c.call('FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'zoth*');
    assert.equal(
      withCode,
      `*1\r\n${map(4)}${bulk('library_name')}${bulk('zother')}${bulk('engine')}${bulk('LUA')}${bulk('functions')}*1\r\n${map(3)}${bulk('name')}${bulk('zf')}${bulk('description')}${NULL}${bulk('flags')}${set(0)}${bulk('library_code')}${bulk("#!lua name=zother\nredis.register_function('zf', function() return 2 end)")}`,
    );
    assert.match(await c.call('FUNCTION', 'LIST'), /^\*2\r\n/);
    assert.equal(await c.call('FUNCTION', 'LIST', 'LIBRARYNAME'), '-ERR library name argument was not given\r\n');
    assert.equal(await c.call('FUNCTION', 'LIST', 'BOGUS'), '-ERR Unknown argument BOGUS\r\n');
    assert.equal(
      await c.call('FUNCTION', 'STATS'),
      `${map(2)}${bulk('running_script')}${NULL}${bulk('engines')}${map(1)}${bulk('LUA')}${map(2)}${bulk('libraries_count')}:2\r\n${bulk('functions_count')}:2\r\n`,
    );
    assert.equal(await c.call('FUNCTION', 'KILL'), '-NOTBUSY No scripts in execution right now.\r\n');
    assert.match(await c.call('FUNCTION', 'HELP'), /^\*\d+\r\n\+FUNCTION <subcommand>/);
  });
}

test('FUNCTION DUMP / RESTORE with APPEND, REPLACE, FLUSH', async () => {
  const io = new Redis(srv.port);
  try {
    await io.function('FLUSH');
    await io.function('LOAD', "#!lua name=d1\nredis.register_function('d1f', function() return 'one' end)");
    await io.function('LOAD', "#!lua name=d2\nredis.register_function('d2f', function() return 'two' end)");
    const dump = await io.callBuffer('FUNCTION', 'DUMP');
    // Valkey's layout: FUNCTION2 opcode (245) + code string per library, RDB version (2 bytes), CRC-64 (8 bytes).
    assert.equal(dump[0], 245);
    await assert.rejects(io.call('FUNCTION', 'RESTORE', dump), /ERR Library d1 already exists/);
    await io.function('FLUSH');
    assert.equal(await io.call('FUNCTION', 'RESTORE', dump), 'OK');
    assert.equal(await io.fcall('d1f', 0), 'one');
    assert.equal(await io.fcall('d2f', 0), 'two');
    await io.function('LOAD', 'REPLACE', "#!lua name=d1\nredis.register_function('d1f', function() return 'changed' end)");
    assert.equal(await io.call('FUNCTION', 'RESTORE', dump, 'REPLACE'), 'OK');
    assert.equal(await io.fcall('d1f', 0), 'one');
    await io.function('LOAD', "#!lua name=d3\nredis.register_function('d3f', function() return 3 end)");
    assert.equal(await io.call('FUNCTION', 'RESTORE', dump, 'FLUSH'), 'OK');
    await assert.rejects(io.fcall('d3f', 0), /Function not found/);
    const bad = Buffer.from(dump);
    bad[bad.length - 1] ^= 0xff;
    await assert.rejects(io.call('FUNCTION', 'RESTORE', bad), /ERR DUMP payload version or checksum are wrong/);
    await assert.rejects(io.call('FUNCTION', 'RESTORE', dump, 'BOGUS'), /ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE./);
    // An empty dump restores to nothing.
    await io.function('FLUSH');
    const empty = await io.callBuffer('FUNCTION', 'DUMP');
    assert.equal(empty.length, 10);
    assert.equal(await io.call('FUNCTION', 'RESTORE', empty), 'OK');
  } finally {
    io.disconnect();
  }
});

test('functions get KEYS and ARGV as arguments; globals stay protected; ioredis fcall', async () => {
  const io = new Redis(srv.port);
  try {
    await io.function('LOAD', 'REPLACE', "#!lua name=args\nredis.register_function('echo', function(keys, args) return {#keys, #args, keys[1], args[2]} end)\nredis.register_function('glob', function() return type(KEYS) end)");
    assert.deepEqual(await io.fcall('echo', 1, 'k', 'a1', 'a2'), [1, 2, 'k', 'a2']);
    assert.equal(await io.fcall('glob', 0), 'table');
  } finally {
    io.disconnect();
  }
});
