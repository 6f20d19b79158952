// Long-running scripts against a real vireo-server: after busy-reply-threshold
// other clients get -BUSY, SCRIPT KILL / FUNCTION KILL stop read-only scripts
// from a second connection, a script that wrote answers -UNKILLABLE and only
// SHUTDOWN NOSAVE ends it, and a slow script that finishes returns its result
// and keeps atomicity (nothing else ran in between).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const BUSY_EVAL = '-BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n';
const BUSY_FN = '-BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n';

let srv;
const conns = [];

before(async () => {
  srv = await startVireo(['--busy-reply-threshold', '150']);
});

after(async () => {
  for (const c of conns) c.close();
  await srv?.stop();
});

async function conn() {
  const c = await RawConn.connect(srv.port);
  conns.push(c);
  return c;
}

test('CONFIG: busy-reply-threshold and its alias lua-time-limit', async () => {
  const c = await conn();
  assert.equal(await c.call('CONFIG', 'GET', 'lua-time-limit'), '*2\r\n$14\r\nlua-time-limit\r\n$3\r\n150\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'busy-reply-threshold'), '*2\r\n$20\r\nbusy-reply-threshold\r\n$3\r\n150\r\n');
});

test('an infinite loop: BUSY for others, SCRIPT KILL from a second client', async () => {
  const a = await conn();
  const b = await conn();
  assert.equal(await b.call('SCRIPT', 'KILL'), '-NOTBUSY No scripts in execution right now.\r\n');
  a.send('EVAL', "local i = 0 while true do i = i + 1 end", '0');
  // Pipelined after the script: runs only once the script ended.
  a.send('PING');
  await sleep(700);
  assert.equal(await b.call('PING'), BUSY_EVAL);
  assert.equal(await b.call('GET', 'x'), BUSY_EVAL);
  assert.equal(await b.call('FUNCTION', 'KILL'), BUSY_EVAL, 'FUNCTION KILL does not stop an EVAL');
  assert.match(await b.call('FUNCTION', 'STATS'), /running_script/);
  assert.equal(await b.call('SCRIPT', 'KILL'), '+OK\r\n');
  assert.equal(await a.readReply(), '-ERR Script killed by user with SCRIPT KILL.\r\n');
  assert.equal(await a.readReply(), '+PONG\r\n');
  assert.equal(await b.call('PING'), '+PONG\r\n');
  // The same script again (now known to be slow, it starts in the worker).
  a.send('EVAL', "local i = 0 while true do i = i + 1 end", '0');
  await sleep(400);
  assert.equal(await b.call('PING'), BUSY_EVAL);
  assert.equal(await b.call('SCRIPT', 'KILL'), '+OK\r\n');
  assert.equal(await a.readReply(), '-ERR Script killed by user with SCRIPT KILL.\r\n');
});

test('a read-only loop of redis.call runs in the worker and can be killed', async () => {
  const a = await conn();
  const b = await conn();
  await b.call('SET', 'rl:x', '7');
  a.send('EVAL', "local n = 0 while true do n = n + tonumber(redis.call('GET', KEYS[1])) end", '1', 'rl:x');
  await sleep(800);
  assert.equal(await b.call('SET', 'rl:x', '8'), BUSY_EVAL);
  assert.equal(await b.call('SCRIPT', 'KILL'), '+OK\r\n');
  assert.equal(await a.readReply(), '-ERR Script killed by user with SCRIPT KILL.\r\n');
  assert.equal(await b.call('GET', 'rl:x'), '$1\r\n7\r\n');
});

test('a looping function: BUSY, FUNCTION STATS shows it, FUNCTION KILL', async () => {
  const a = await conn();
  const b = await conn();
  await a.call('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}");
  a.send('FCALL', 'spin', '0');
  await sleep(700);
  assert.equal(await b.call('PING'), BUSY_FN);
  assert.equal(await b.call('SCRIPT', 'KILL'), BUSY_FN);
  const stats = await b.call('FUNCTION', 'STATS');
  assert.match(stats, /\$14\r\nrunning_script\r\n\*6\r\n\$4\r\nname\r\n\$4\r\nspin\r\n\$7\r\ncommand\r\n\*3\r\n\$5\r\nFCALL\r\n\$4\r\nspin\r\n\$1\r\n0\r\n\$11\r\nduration_ms\r\n:\d+\r\n/);
  assert.equal(await b.call('FUNCTION', 'KILL'), '+OK\r\n');
  assert.equal(await a.readReply(), '-ERR Script killed by user with FUNCTION KILL.\r\n');
  assert.equal(await b.call('PING'), '+PONG\r\n');
});

test('a slow script that ends: correct result, redis.call from the worker, atomicity', async () => {
  const a = await conn();
  const b = await conn();
  await a.call('SET', 'slow:n', '0');
  // Reads, then pure Lua work well past the main-thread budget, then a write and a reply.
  const script = `
    local start = tonumber(redis.call('GET', KEYS[1]))
    local x = 0
    for i = 1, 120000000 do x = x + 1 end
    redis.call('INCRBY', KEYS[1], 5)
    redis.setresp(3)
    return {start, redis.call('GET', KEYS[1]), {double = 1.5}, x}`;
  a.send('EVAL', script, '1', 'slow:n');
  await sleep(400);
  const r = await b.call('INCR', 'slow:n');
  assert.ok(r === BUSY_EVAL || r === ':6\r\n', r);
  const reply = await a.readReply(60000);
  assert.equal(reply, '*4\r\n:0\r\n$1\r\n5\r\n$3\r\n1.5\r\n:120000000\r\n');
  if (r === BUSY_EVAL) assert.equal(await b.call('GET', 'slow:n'), '$1\r\n5\r\n');
});

test('a script that wrote cannot be killed: UNKILLABLE, then SHUTDOWN NOSAVE', async () => {
  const own = await startVireo(['--busy-reply-threshold', '100']);
  try {
    const a = await RawConn.connect(own.port);
    const b = await RawConn.connect(own.port);
    // Warm the script worker first (a read-only loop that outgrows the main-thread budget ends there), so
    // the worker run below reaches its SET at once instead of after the thread and its VM start.
    assert.equal(await a.call('EVAL', 'local x = 0 for i = 1, 30000000 do x = x + 1 end return x', '0'), ':30000000\r\n');
    const script = "redis.call('SET', 'w', '1') while true do end";
    // First run: it wrote before running out of the main-thread budget, so it
    // cannot be moved to the worker; it ends with an error (see VALKEY_DIFFERENCES.md).
    assert.match(await a.call('EVAL', script, '0', 'x'), /^-ERR Script exceeded the main-thread time budget after writing/);
    a.send('EVAL', script, '0');
    await sleep(500);
    assert.equal(await b.call('GET', 'w'), BUSY_EVAL);
    assert.equal(
      await b.call('SCRIPT', 'KILL'),
      '-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n',
    );
    assert.equal(await b.call('SHUTDOWN'), BUSY_EVAL, 'only SHUTDOWN NOSAVE ends a busy script');
    b.send('SHUTDOWN', 'NOSAVE');
    const exited = await Promise.race([new Promise((r) => own.proc.once('exit', () => r(true))), sleep(10000).then(() => false)]);
    assert.ok(exited, 'the server exited on SHUTDOWN NOSAVE');
    a.close();
    b.close();
  } finally {
    await own.stop('SIGKILL');
  }
});

/** PING until the answer is not PONG (the script has started): that answer. */
async function busyPing(c) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const r = await c.call('PING');
    if (r !== '+PONG\r\n' || Date.now() > deadline) return r;
    await sleep(10);
  }
}

test('a script that wrote and keeps calling redis.call past the threshold on the main thread: BUSY, UNKILLABLE, all its writes', async () => {
  const own = await startVireo(['--busy-reply-threshold', '100']);
  try {
    const a = await RawConn.connect(own.port);
    const b = await RawConn.connect(own.port);
    assert.equal(await b.call('SET', 'mb:n', '0'), '+OK\r\n');
    // Runs ~2.5 s of wall time (TIME), writing all along: it never leaves the main thread.
    const script = `
      redis.call('SET', KEYS[1], 'started')
      local t = redis.call('TIME')
      local s = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local n = 0
      while true do
        n = n + 1
        redis.call('INCR', KEYS[2])
        local u = redis.call('TIME')
        if tonumber(u[1]) * 1000 + math.floor(tonumber(u[2]) / 1000) - s > 2500 then break end
      end
      redis.call('SET', KEYS[3], 'done')
      return n`;
    a.send('EVAL', script, '3', 'mb:start', 'mb:n', 'mb:done');
    // b's commands wait in its socket until the script serves them (every redis.call past the threshold);
    // a PING read before the EVAL started is answered normally.
    assert.equal(await busyPing(b), BUSY_EVAL);
    assert.equal(await b.call('GET', 'mb:n'), BUSY_EVAL);
    assert.equal(
      await b.call('SCRIPT', 'KILL'),
      '-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n',
    );
    assert.equal(await b.call('SHUTDOWN'), BUSY_EVAL, 'only SHUTDOWN NOSAVE would end it');
    assert.match(await b.call('FUNCTION', 'STATS'), /^\*4\r\n\$14\r\nrunning_script\r\n\$-1\r\n/, 'FUNCTION STATS runs (no function is running)');
    const reply = await a.readReply(60000);
    const m = /^:(\d+)\r\n$/.exec(reply);
    assert.ok(m !== null && Number(m[1]) > 0, reply);
    // It ended normally: every write is there, in one atomic unit.
    assert.equal(await b.call('GET', 'mb:start'), '$7\r\nstarted\r\n');
    assert.equal(await b.call('GET', 'mb:n'), `$${m[1].length}\r\n${m[1]}\r\n`);
    assert.equal(await b.call('GET', 'mb:done'), '$4\r\ndone\r\n');
    assert.equal(await b.call('SCRIPT', 'KILL'), '-NOTBUSY No scripts in execution right now.\r\n');
    // Pure Lua between the calls, far more in total than the threshold's budget: once a script has written,
    // the budget is renewed at each redis.call.
    const pure =
      "redis.call('SET', KEYS[1], '1') local t = redis.call('TIME') local s = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) local k = 0 " +
      "while true do for i = 1, 300000 do k = k + 1 end local u = redis.call('TIME') if tonumber(u[1]) * 1000 + math.floor(tonumber(u[2]) / 1000) - s > 1000 then break end end return 'ok'";
    assert.equal(await a.call('EVAL', pure, '1', 'mb:pure'), '$2\r\nok\r\n');
    // A script that wrote and loops forever (calling redis.call) ends only with SHUTDOWN NOSAVE.
    a.send('EVAL', "redis.call('SET', KEYS[1], '1') while true do redis.call('TIME') end", '1', 'mb:loop');
    assert.equal(await busyPing(b), BUSY_EVAL);
    assert.match(await b.call('SCRIPT', 'KILL'), /^-UNKILLABLE /);
    b.send('SHUTDOWN', 'NOSAVE');
    const exited = await Promise.race([new Promise((r) => own.proc.once('exit', () => r(true))), sleep(20000).then(() => false)]);
    assert.ok(exited, 'the server exited on SHUTDOWN NOSAVE');
    a.close();
    b.close();
  } finally {
    await own.stop('SIGKILL');
  }
});
