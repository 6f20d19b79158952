// The propagation stream's effective forms, read back from the AOF incr file
// (appendfsync always: a command's AOF bytes are written before its reply).
// Each case runs commands and checks exactly what was appended, as Valkey 8
// writes it (lazyfree-lazy-* default yes: deletions propagate as UNLINK).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { scanAof } from '../../dist/src/persistence/aof/parse.js';

let srv;
let dir;
let c;
let seen = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-prop-'));
  srv = await startVireo(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
  c = await RawConn.connect(srv.port);
});
after(async () => {
  c.close();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

function incrFile() {
  const d = join(dir, 'appendonlydir');
  const f = readdirSync(d).filter((n) => n.endsWith('.incr.aof')).sort();
  return join(d, f[f.length - 1]);
}

/** Commands appended to the AOF since the last call (SELECT included). */
function appended() {
  const buf = readFileSync(incrFile());
  const all = [];
  scanAof(buf, 0, buf.length, (argv) => all.push(argv));
  const out = all.slice(seen);
  seen = all.length;
  return out;
}

/** Compares commands; '<ms>' in an expected argument matches an absolute ms time within 10 s of `near`. */
function expectStream(got, want, near = Date.now()) {
  assert.equal(got.length, want.length, `stream: ${JSON.stringify(got)}`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i].length, want[i].length, `command ${i}: ${JSON.stringify(got[i])}`);
    for (let j = 0; j < want[i].length; j++) {
      const w = want[i][j];
      if (w === '<ms>') {
        const v = Number(got[i][j]);
        assert.ok(Number.isInteger(v) && Math.abs(v - near) < 10000, `command ${i} arg ${j}: ${got[i][j]} not near ${near}`);
      } else assert.equal(got[i][j], w, `command ${i}: ${JSON.stringify(got[i])}`);
    }
  }
}

async function run(...cmds) {
  for (const cmd of cmds) await c.call(...cmd);
}

test('plain writes keep their arguments; the first one selects the database', async () => {
  await run(['SET', 'a', '1'], ['GET', 'a'], ['RPUSH', 'l', 'x', 'y']);
  expectStream(appended(), [['SELECT', '0'], ['SET', 'a', '1'], ['RPUSH', 'l', 'x', 'y']]);
});

test('relative and absolute expires become PEXPIREAT <ms>; SET EX/PX/EXAT, SETEX, PSETEX become SET PXAT', async () => {
  const now = Date.now();
  // GT needs a later time than EXPIRE's even when both run in the same millisecond: 105 s.
  await run(['EXPIRE', 'a', '100'], ['PEXPIRE', 'a', '105000', 'GT'], ['EXPIREAT', 'a', String(Math.floor(now / 1000) + 100)]);
  await run(['SET', 'b', 'v', 'EX', '100'], ['SET', 'b', 'v', 'PX', '100000', 'NX'], ['SETEX', 'b', '100', 'w'], ['PSETEX', 'b', '100000', 'w']);
  await run(['SET', 'b', 'v2', 'PXAT', String(now + 100000)]);
  expectStream(
    appended(),
    [
      ['PEXPIREAT', 'a', '<ms>'],
      ['PEXPIREAT', 'a', '<ms>', 'GT'],
      ['PEXPIREAT', 'a', '<ms>'],
      ['SET', 'b', 'v', 'PXAT', '<ms>'],
      ['SET', 'b', 'w', 'PXAT', '<ms>'],
      ['SET', 'b', 'w', 'PXAT', '<ms>'],
      ['SET', 'b', 'v2', 'PXAT', String(now + 100000)],
    ],
    now + 100000,
  );
});

test('an expire time in the past deletes the key and propagates UNLINK', async () => {
  await run(['SET', 'p', '1'], ['EXPIRE', 'p', '-1'], ['SET', 'q', '1'], ['SET', 'q', '2', 'EXAT', '1'], ['SET', 'r', '1'], ['GETEX', 'r', 'PXAT', '1']);
  expectStream(appended(), [['SET', 'p', '1'], ['UNLINK', 'p'], ['SET', 'q', '1'], ['UNLINK', 'q'], ['SET', 'r', '1'], ['UNLINK', 'r']]);
  await run(['CONFIG', 'SET', 'lazyfree-lazy-expire', 'no'], ['SET', 'p', '1'], ['PEXPIRE', 'p', '0'], ['CONFIG', 'SET', 'lazyfree-lazy-expire', 'yes']);
  expectStream(appended(), [['SET', 'p', '1'], ['DEL', 'p']]);
});

test('GETEX EX -> PEXPIREAT, GETEX PERSIST -> PERSIST, GETDEL -> DEL', async () => {
  await run(['SET', 'g', '1'], ['GETEX', 'g', 'EX', '100'], ['GETEX', 'g', 'PERSIST'], ['GETEX', 'g', 'PERSIST'], ['GETEX', 'g'], ['GETDEL', 'g']);
  expectStream(appended(), [['SET', 'g', '1'], ['PEXPIREAT', 'g', '<ms>'], ['PERSIST', 'g'], ['DEL', 'g']], Date.now() + 100000);
});

test('INCRBYFLOAT -> SET ... KEEPTTL, HINCRBYFLOAT -> HSET with the result', async () => {
  await run(['SET', 'f', '1.5'], ['INCRBYFLOAT', 'f', '1'], ['HINCRBYFLOAT', 'h', 'x', '2.5'], ['HINCRBYFLOAT', 'h', 'x', '0.1']);
  expectStream(appended(), [['SET', 'f', '1.5'], ['SET', 'f', '2.5', 'KEEPTTL'], ['HSET', 'h', 'x', '2.5'], ['HSET', 'h', 'x', '2.6']]);
});

test('hash field TTLs (Valkey 9) are propagated with absolute times', async () => {
  await run(['HSET', 'hf', 'a', '1', 'b', '2'], ['HEXPIRE', 'hf', '100', 'FIELDS', '1', 'a'], ['HPEXPIRE', 'hf', '100000', 'NX', 'FIELDS', '1', 'b']);
  await run(['HSETEX', 'hf', 'EX', '100', 'FIELDS', '1', 'c', '3'], ['HGETEX', 'hf', 'PX', '100000', 'FIELDS', '1', 'c']);
  expectStream(
    appended(),
    [
      ['HSET', 'hf', 'a', '1', 'b', '2'],
      ['HPEXPIREAT', 'hf', '<ms>', 'FIELDS', '1', 'a'],
      ['HPEXPIREAT', 'hf', '<ms>', 'NX', 'FIELDS', '1', 'b'],
      ['HSETEX', 'hf', 'PXAT', '<ms>', 'FIELDS', '1', 'c', '3'],
      ['HGETEX', 'hf', 'PXAT', '<ms>', 'FIELDS', '1', 'c'],
    ],
    Date.now() + 100000,
  );
});

test('SPOP -> SREM of what was popped (one SREM per 1024 members); all of it -> UNLINK', async () => {
  await run(['SADD', 's', 'a', 'b', 'c', 'd', 'e']);
  appended();
  const one = await c.call('SPOP', 's');
  const m = one.split('\r\n')[1];
  expectStream(appended(), [['SREM', 's', m]]);
  const two = await c.call('SPOP', 's', '2');
  const parts = two.split('\r\n');
  expectStream(appended(), [['SREM', 's', parts[2], parts[4]]]);
  await run(['SPOP', 's', '10'], ['SRANDMEMBER', 's']);
  expectStream(appended(), [['UNLINK', 's']]);
});

test('served and immediate blocking pops propagate their non-blocking forms', async () => {
  await run(['RPUSH', 'bl', 'a', 'b', 'c', 'd'], ['BLPOP', 'bl', '1'], ['BRPOP', 'bl', '1'], ['BLMPOP', '1', '1', 'bl', 'LEFT', 'COUNT', '1'], ['LMPOP', '1', 'bl', 'RIGHT']);
  expectStream(appended(), [['RPUSH', 'bl', 'a', 'b', 'c', 'd'], ['LPOP', 'bl'], ['RPOP', 'bl'], ['LPOP', 'bl', '1'], ['RPOP', 'bl', '1']]);
  await run(['RPUSH', 'm', 'a', 'b'], ['BLMOVE', 'm', 'm2', 'LEFT', 'RIGHT', '1'], ['BRPOPLPUSH', 'm', 'm2', '1']);
  expectStream(appended(), [['RPUSH', 'm', 'a', 'b'], ['LMOVE', 'm', 'm2', 'LEFT', 'RIGHT'], ['RPOPLPUSH', 'm', 'm2']]);
  await run(['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['BZPOPMIN', 'z', '1'], ['BZMPOP', '1', '1', 'z', 'MAX', 'COUNT', '1'], ['ZMPOP', '1', 'z', 'MIN']);
  expectStream(appended(), [['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z', '1'], ['ZPOPMIN', 'z', '1']]);
  // A client that blocked first and is served later.
  const b = await RawConn.connect(srv.port);
  b.send('BLPOP', 'later', '5');
  await new Promise((r) => setTimeout(r, 100));
  await run(['RPUSH', 'later', 'x']);
  assert.equal(await b.readReply(), '*2\r\n$5\r\nlater\r\n$1\r\nx\r\n');
  b.close();
  expectStream(appended(), [['RPUSH', 'later', 'x'], ['LPOP', 'later']]);
});

test('XADD * gets its ID; XREADGROUP -> XCLAIM ... LASTID + XGROUP SETID (NOACK, new consumer: CREATECONSUMER + SETID); XCLAIM -> canonical XCLAIM', async () => {
  const id = (await c.call('XADD', 'st', '*', 'f', 'v')).split('\r\n')[1];
  expectStream(appended(), [['XADD', 'st', id, 'f', 'v']]);
  await run(['XGROUP', 'CREATE', 'st', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 'st', '>']);
  expectStream(appended(), [
    ['XGROUP', 'CREATE', 'st', 'g', '0'],
    ['MULTI'],
    ['XCLAIM', 'st', 'g', 'c1', '0', id, 'TIME', '<ms>', 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', id],
    ['XGROUP', 'SETID', 'st', 'g', id, 'ENTRIESREAD', '1'],
    ['EXEC'],
  ]);
  const id3 = (await c.call('XADD', 'st', '*', 'g', 'w')).split('\r\n')[1];
  await run(['XREADGROUP', 'GROUP', 'g', 'c2', 'NOACK', 'STREAMS', 'st', '>']);
  expectStream(appended(), [
    ['XADD', 'st', id3, 'g', 'w'],
    ['MULTI'],
    ['XGROUP', 'CREATECONSUMER', 'st', 'g', 'c2'],
    ['XGROUP', 'SETID', 'st', 'g', id3, 'ENTRIESREAD', '2'],
    ['EXEC'],
  ]);
  await run(['XCLAIM', 'st', 'g', 'c9', '0', id]);
  expectStream(appended(), [['XCLAIM', 'st', 'g', 'c9', '0', id, 'TIME', '<ms>', 'RETRYCOUNT', '2', 'FORCE', 'JUSTID', 'LASTID', id3]]);
});

test('XADD/XTRIM with ~ trimming that removed entries propagate the exact result (= length / first ID), without LIMIT', async () => {
  const p = [];
  for (let i = 1; i <= 1000; i++) p.push(['XADD', 'tr', `${i}-1`, 'f', 'v']);
  await run(...p);
  appended();
  await run(['XTRIM', 'tr', 'MINID', '~', '500-0', 'LIMIT', '1000']);
  const first = (await c.call('XRANGE', 'tr', '-', '+', 'COUNT', '1')).split('\r\n')[3];
  assert.ok(first !== '1-1' && first !== '500-1', `approximate MINID trim kept ${first} first`);
  await run(['XADD', 'tr', 'MAXLEN', '~', '10', '1001-1', 'f', 'v']);
  const len = Number((await c.call('XLEN', 'tr')).slice(1, -2));
  assert.ok(len > 10 && len < 600, `approximate trim left ${len}`);
  await run(['XTRIM', 'tr', 'MAXLEN', '=', '100000']);
  expectStream(appended(), [
    ['XTRIM', 'tr', 'MINID', '=', first],
    ['XADD', 'tr', 'MAXLEN', '=', String(len), '1001-1', 'f', 'v'],
  ]);
});

test('MULTI/EXEC is one unit; PUBLISH is not written to the AOF; FLUSHALL ASYNC as is', async () => {
  await run(['MULTI'], ['SET', 't', '1'], ['INCRBYFLOAT', 't', '1'], ['PUBLISH', 'ch', 'm'], ['EXEC']);
  expectStream(appended(), [['MULTI'], ['SET', 't', '1'], ['SET', 't', '2', 'KEEPTTL'], ['EXEC']]);
  await run(['PUBLISH', 'ch', 'hello'], ['SELECT', '3'], ['SET', 'in3', 'x'], ['SELECT', '0']);
  expectStream(appended(), [['SELECT', '3'], ['SET', 'in3', 'x']]);
  await run(['FLUSHALL', 'ASYNC']);
  expectStream(appended(), [['SELECT', '0'], ['FLUSHALL', 'ASYNC']]);
});

test('a key expired lazily is propagated as UNLINK', async () => {
  await run(['SET', 'soon', '1', 'PX', '30']);
  appended();
  await new Promise((r) => setTimeout(r, 60));
  await run(['GET', 'soon']);
  expectStream(appended(), [['UNLINK', 'soon']]);
});
