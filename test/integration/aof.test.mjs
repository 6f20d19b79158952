// The append-only file: multi-part layout (base + incr + manifest), restarts,
// BGREWRITEAOF, turning AOF on at run time, truncated tails, corruption,
// old-style files, timestamps, automatic rewrites and -MISCONF on a full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync, statSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVireo, VIREO_BIN, freePort } from '../helpers/servers.mjs';
import { needsTmpfs, smallDisk } from '../helpers/diskfull.mjs';
import { client, populate, fullDump } from '../interop/rdb-helpers.mjs';

const AOF_ARGS = (dir, fsync = 'always') => ['--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync, '--save', ''];

function newDir() {
  return mkdtempSync(join(tmpdir(), 'vireo-aof-'));
}

function aofDir(dir) {
  return join(dir, 'appendonlydir');
}

function manifest(dir) {
  return readFileSync(join(aofDir(dir), 'appendonly.aof.manifest'), 'latin1');
}

function lastIncr(dir) {
  const f = readdirSync(aofDir(dir)).filter((n) => /\.incr\.aof$/.test(n)).sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
  return join(aofDir(dir), f[f.length - 1]);
}

async function info(r, field) {
  const s = await r.info('persistence');
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(s);
  return m ? m[1].trim() : null;
}

async function waitFor(pred, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}

/** Runs vireo-server expecting it to stop during start-up; returns { code, output }. */
async function startExpectingExit(args) {
  const port = await freePort();
  const proc = spawn(process.execPath, [VIREO_BIN, '--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
  // 'close' (not 'exit'): every byte of the output has been read by then.
  const code = await new Promise((r) => proc.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, output };
}

for (const preamble of ['yes', 'no']) {
test(`multi-part layout, BGREWRITEAOF, and a kill -9 restart keep every key, value, TTL and type (aof-use-rdb-preamble ${preamble})`, async () => {
  const dir = newDir();
  const ext = preamble === 'yes' ? 'rdb' : 'aof';
  const args = [...AOF_ARGS(dir), '--aof-use-rdb-preamble', preamble];
  let srv = await startVireo(args);
  let r = client(srv.port);
  await populate(r);
  assert.equal(manifest(dir), `file appendonly.aof.1.base.${ext} seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n`);
  assert.equal(await info(r, 'aof_enabled'), '1');
  assert.equal(await r.bgrewriteaof(), 'Background append only file rewriting started');
  await waitFor(async () => (await info(r, 'aof_rewrite_in_progress')) === '0' && (await info(r, 'aof_rewrites')) === '1');
  assert.equal(manifest(dir), `file appendonly.aof.2.base.${ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n`);
  assert.deepEqual(readdirSync(aofDir(dir)).sort(), [`appendonly.aof.2.base.${ext}`, 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
  assert.equal(readFileSync(join(aofDir(dir), `appendonly.aof.2.base.${ext}`)).subarray(0, 5).toString() === 'REDIS', preamble === 'yes');
  // Writes after the rewrite land in the new incr file.
  await r.set('after', 'rewrite');
  await r.lpush('list:small', 'new-head');
  await r.incrbyfloat('str:float', '1.5');
  await r.spop('set:big');
  await r.expire('str:short', 5000);
  assert.ok(statSync(lastIncr(dir)).size > 0);
  const want = await fullDump(r);
  r.disconnect();
  await srv.stop('SIGKILL');
  srv = await startVireo(args);
  r = client(srv.port);
  assert.deepEqual(await fullDump(r), want);
  assert.equal(await info(r, 'aof_last_write_status'), 'ok');
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});
}

for (const preamble of ['yes', 'no']) {
test(`writes during a sliced rewrite land in the new incr file and survive a restart (aof-use-rdb-preamble ${preamble})`, async () => {
  const dir = newDir();
  const args = [...AOF_ARGS(dir, 'everysec'), '--aof-use-rdb-preamble', preamble];
  let srv = await startVireo(args);
  let r = client(srv.port);
  const p = r.pipeline();
  for (let i = 0; i < 200000; i++) p.set(`bulk:${i}`, `value-${i}`);
  await p.exec();
  await r.bgrewriteaof();
  // Overwrite keys while the snapshot walks the table: the base keeps the old values, the incr the new.
  const w = r.pipeline();
  for (let i = 0; i < 200000; i += 97) w.set(`bulk:${i}`, `changed-${i}`);
  // APPEND is not idempotent: a key the walk reaches after it must be in the base as it was before.
  for (let i = 0; i < 200000; i += 89) w.append(`bulk:${i}`, '+');
  w.del('bulk:1');
  w.rpush('bulk:list', 'a');
  await w.exec();
  // Pings are answered while the rewrite runs (it is sliced, not one long pause).
  const t = Date.now();
  await r.ping();
  assert.ok(Date.now() - t < 1000);
  await waitFor(async () => (await info(r, 'aof_rewrite_in_progress')) === '0' && (await info(r, 'aof_rewrites')) === '1', 20000);
  // The AOF form counts every key copied ahead of the walk (the RDB snapshot only those of other databases).
  if (preamble === 'no') assert.ok(Number(await info(r, 'aof_last_cow_size')) > 0, 'keys were copied before their writes');
  await r.rpush('bulk:list', 'b');
  r.disconnect();
  await srv.stop('SIGKILL');
  srv = await startVireo(args);
  r = client(srv.port);
  assert.equal(await r.dbsize(), 200000);
  assert.equal(await r.get('bulk:97'), 'changed-97');
  assert.equal(await r.get('bulk:199917'), 'changed-199917'); // 97 * 2061, near the end of the walk
  assert.equal(await r.get('bulk:98'), 'value-98');
  assert.equal(await r.get('bulk:199894'), 'value-199894+'); // 89 * 2246
  assert.equal(await r.get('bulk:8633'), 'changed-8633+'); // 89 * 97
  assert.equal(await r.exists('bulk:1'), 0);
  assert.deepEqual(await r.lrange('bulk:list', 0, -1), ['a', 'b']);
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});
}

test('CONFIG SET appendonly yes writes a base from the dataset; appendonly no stops appending; a yes that cannot start is refused', async () => {
  const dir = newDir();
  let srv = await startVireo(['--dir', dir, '--save', '', '--appendfsync', 'always']);
  let r = client(srv.port);
  await populate(r, { big: 100 });
  assert.equal(await info(r, 'aof_enabled'), '0');
  assert.equal(await r.config('SET', 'appendonly', 'yes'), 'OK');
  await r.set('during', 'turn-on');
  await waitFor(async () => (await info(r, 'aof_rewrite_in_progress')) === '0' && (await info(r, 'aof_rewrites')) === '1');
  assert.equal(manifest(dir), 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  await r.set('later', 'x');
  const want = await fullDump(r);
  r.disconnect();
  await srv.stop('SIGKILL');
  srv = await startVireo(AOF_ARGS(dir));
  r = client(srv.port);
  assert.deepEqual(await fullDump(r), want);
  // appendonly no stops appending.
  await r.config('SET', 'appendonly', 'no');
  const size = statSync(lastIncr(dir)).size;
  await r.set('not-logged', '1');
  assert.equal(statSync(lastIncr(dir)).size, size);
  assert.equal(await info(r, 'aof_enabled'), '0');
  r.disconnect();
  await srv.stop();
  // appendonly yes that cannot start (the directory name is taken by a file) is refused.
  const dir2 = newDir();
  writeFileSync(join(dir2, 'appendonlydir'), 'not a directory');
  srv = await startVireo(['--dir', dir2, '--save', '']);
  r = client(srv.port);
  await assert.rejects(r.config('SET', 'appendonly', 'yes'), /^ReplyError: ERR CONFIG SET failed \(possibly related to argument 'appendonly'\) - Unable to turn on AOF\. Check server logs\.$/);
  assert.deepEqual(await r.config('GET', 'appendonly'), ['appendonly', 'no']);
  assert.equal(await info(r, 'aof_enabled'), '0');
  assert.equal(await r.set('still', 'works'), 'OK');
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(dir2, { recursive: true, force: true });
});

test('appendonly toggled off and on while its first rewrite runs: the last one wins, nothing is lost', async () => {
  const dir = newDir();
  let srv = await startVireo(['--dir', dir, '--save', '', '--appendfsync', 'always']);
  let r = client(srv.port);
  const p = r.pipeline();
  for (let i = 0; i < 100000; i++) p.set(`k:${i}`, String(i));
  await p.exec();
  await r.config('SET', 'appendonly', 'yes');
  await r.config('SET', 'appendonly', 'no');
  await r.config('SET', 'appendonly', 'yes');
  await r.set('after-toggle', '1');
  await waitFor(async () => (await info(r, 'aof_rewrite_in_progress')) === '0' && (await info(r, 'aof_rewrites')) === '1', 20000);
  await r.set('after-rewrite', '1');
  assert.deepEqual(readdirSync(aofDir(dir)).sort(), ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
  r.disconnect();
  await srv.stop('SIGKILL');
  srv = await startVireo(AOF_ARGS(dir));
  r = client(srv.port);
  assert.equal(await r.dbsize(), 100002);
  assert.equal(await r.get('k:99999'), '99999');
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const preamble of ['yes', 'no']) {
test(`hash field expire times (Valkey 9) survive a rewrite and a restart (aof-use-rdb-preamble ${preamble})`, async () => {
  const dir = newDir();
  const args = [...AOF_ARGS(dir), '--aof-use-rdb-preamble', preamble];
  let srv = await startVireo(args);
  let r = client(srv.port);
  await r.hset('hf', 'a', '1', 'b', '2');
  await r.call('HPEXPIRE', 'hf', '500000', 'FIELDS', '1', 'a');
  const want = await r.call('HPEXPIRETIME', 'hf', 'FIELDS', '2', 'a', 'b');
  await r.bgrewriteaof();
  await waitFor(async () => (await info(r, 'aof_rewrite_in_progress')) === '0' && (await info(r, 'aof_rewrites')) === '1');
  assert.match(manifest(dir), new RegExp(`^file appendonly\\.aof\\.2\\.base\\.${preamble === 'yes' ? 'rdb' : 'aof'} seq 2 type b\\n`));
  r.disconnect();
  await srv.stop('SIGKILL');
  srv = await startVireo(args);
  r = client(srv.port);
  assert.deepEqual(await r.call('HPEXPIRETIME', 'hf', 'FIELDS', '2', 'a', 'b'), want);
  assert.deepEqual(await r.hgetall('hf'), { a: '1', b: '2' });
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});
}

test('a truncated last command is cut off with a warning; aof-load-truncated no refuses to start', async () => {
  const dir = newDir();
  let srv = await startVireo(AOF_ARGS(dir));
  let r = client(srv.port);
  await r.set('k1', 'v1');
  await r.set('k2', 'v2');
  r.disconnect();
  await srv.stop('SIGKILL');
  const incr = lastIncr(dir);
  const good = statSync(incr).size;
  appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$2\r\nk3\r\n$2\r\nv');
  const refused = await startExpectingExit([...AOF_ARGS(dir), '--aof-load-truncated', 'no']);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, /Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof/);
  srv = await startVireo([...AOF_ARGS(dir), '--loglevel', 'notice']);
  // The log reaches us through a pipe: wait for it rather than race the TCP connect.
  await waitFor(() => /Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset \d+/.test(srv.output()), 5000);
  assert.equal(statSync(incr).size, good);
  r = client(srv.port);
  assert.equal(await r.get('k2'), 'v2');
  assert.equal(await r.exists('k3'), 0);
  // An unfinished MULTI at the end is dropped as a whole.
  r.disconnect();
  await srv.stop('SIGKILL');
  appendFileSync(incr, '*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk4\r\n$1\r\nx\r\n');
  srv = await startVireo(AOF_ARGS(dir));
  r = client(srv.port);
  assert.equal(await r.exists('k4'), 0);
  assert.equal(statSync(incr).size, good);
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('corruption in the middle stops start-up naming the file and the offset (exit code 1)', async () => {
  const dir = newDir();
  const srv = await startVireo(AOF_ARGS(dir));
  const r = client(srv.port);
  await r.set('a', '1');
  await r.set('b', '2');
  await r.set('c', '3');
  r.disconnect();
  await srv.stop('SIGKILL');
  const incr = lastIncr(dir);
  const buf = readFileSync(incr);
  const at = buf.lastIndexOf('*', buf.indexOf('\r\nb\r\n$1\r\n2\r\n'));
  assert.ok(at > 0);
  buf[at] = '!'.charCodeAt(0);
  writeFileSync(incr, buf);
  const res = await startExpectingExit(AOF_ARGS(dir));
  assert.equal(res.code, 1, res.output);
  assert.match(res.output, new RegExp(`Bad file format reading the append only file appendonly\\.aof\\.1\\.incr\\.aof at offset ${at}`));
  // A manifest naming a missing file is refused too.
  writeFileSync(join(aofDir(dir), 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.7.incr.aof seq 7 type i\n');
  const res2 = await startExpectingExit(AOF_ARGS(dir));
  assert.equal(res2.code, 1);
  assert.match(res2.output, /appendonly\.aof\.7\.incr\.aof doesn't exist/);
  rmSync(dir, { recursive: true, force: true });
});

test('an old-style appendonly.aof in dir is loaded and moved into the AOF directory; timestamps annotate and reload', async () => {
  const dir = newDir();
  writeFileSync(join(dir, 'appendonly.aof'), '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n#TS:1700000000\r\n*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\nm\r\n');
  let srv = await startVireo([...AOF_ARGS(dir), '--aof-timestamp-enabled', 'yes']);
  let r = client(srv.port);
  assert.equal(await r.get('old'), 'style');
  assert.deepEqual(await r.smembers('s'), ['m']);
  assert.equal(existsSync(join(dir, 'appendonly.aof')), false);
  assert.equal(manifest(dir), 'file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  await r.set('new', '1');
  assert.match(readFileSync(lastIncr(dir), 'latin1'), /^#TS:\d+\r\n\*2\r\n\$6\r\nSELECT/);
  r.disconnect();
  await srv.stop('SIGKILL');
  srv = await startVireo(AOF_ARGS(dir));
  r = client(srv.port);
  assert.equal(await r.get('new'), '1');
  assert.equal(await r.get('old'), 'style');
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('auto-aof-rewrite-percentage rewrites once the AOF doubled past auto-aof-rewrite-min-size', async () => {
  const dir = newDir();
  const srv = await startVireo([...AOF_ARGS(dir, 'everysec'), '--auto-aof-rewrite-min-size', '10kb', '--auto-aof-rewrite-percentage', '100']);
  const r = client(srv.port);
  for (let i = 0; i < 60; i++) await r.set('same', 'x'.repeat(500));
  await waitFor(async () => Number(await info(r, 'aof_rewrites')) >= 1, 8000);
  await waitFor(async () => (await info(r, 'aof_rewrite_in_progress')) === '0');
  assert.ok(Number(await info(r, 'aof_current_size')) < 10240, 'the rewrite compacted the file');
  assert.ok(Number(await info(r, 'aof_base_size')) > 0);
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a full disk makes writes answer -MISCONF (the server keeps serving) and they work again once space returns', { skip: needsTmpfs() }, async () => {
  const disk = smallDisk('vireo-full-');
  const dir = disk.dir;
  let srv;
  let r;
  try {
    srv = await startVireo(AOF_ARGS(dir, 'everysec'));
    r = client(srv.port);
    // Fill the rest of the file system.
    const filler = disk.fill();
    let misconf = null;
    for (let i = 0; i < 200 && misconf === null; i++) {
      try {
        await r.set(`k${i}`, 'v'.repeat(2000));
      } catch (e) {
        misconf = e.message;
      }
    }
    assert.equal(misconf, 'MISCONF Errors writing to the AOF file: No space left on device');
    await assert.rejects(r.set('again', '1'), /MISCONF Errors writing to the AOF file/);
    await assert.rejects(r.ping(), /MISCONF/);
    assert.equal(await r.get('k0'), 'v'.repeat(2000)); // reads are served
    assert.equal(await info(r, 'aof_last_write_status'), 'err');
    rmSync(filler);
    await waitFor(async () => (await info(r, 'aof_last_write_status')) === 'ok', 5000);
    assert.equal(await r.set('recovered', '1'), 'OK');
    const want = await fullDump(r, [0]);
    r.disconnect();
    await srv.stop('SIGKILL');
    srv = await startVireo(AOF_ARGS(dir, 'everysec'));
    r = client(srv.port);
    assert.deepEqual(await fullDump(r, [0]), want);
  } finally {
    r?.disconnect();
    await srv?.stop();
    disk.release();
  }
});

test('AOF directives: names are not paths, Valkey defaults, INFO fields', async () => {
  const bad = await startExpectingExit(['--appenddirname', 'a/b']);
  assert.equal(bad.code, 1);
  assert.match(bad.output, /appenddirname can't be a path, just a dirname/);
  const dir = newDir();
  mkdirSync(join(dir, 'x'));
  const srv = await startVireo(['--dir', dir, '--save', '']);
  const r = client(srv.port);
  assert.deepEqual(await r.config('GET', 'appendfsync'), ['appendfsync', 'everysec']);
  assert.deepEqual(await r.config('GET', 'aof-use-rdb-preamble'), ['aof-use-rdb-preamble', 'yes']);
  assert.deepEqual(await r.config('GET', 'appenddirname'), ['appenddirname', 'appendonlydir']);
  assert.deepEqual(await r.config('GET', 'auto-aof-rewrite-min-size'), ['auto-aof-rewrite-min-size', '67108864']);
  assert.equal(await r.config('SET', 'appendfsync', 'no'), 'OK');
  await assert.rejects(r.config('SET', 'appendfsync', 'sometimes'), /argument\(s\) must be one of the following: always, everysec, no/);
  const s = await r.info('persistence');
  for (const f of ['aof_enabled:0', 'aof_rewrite_in_progress:0', 'aof_last_bgrewrite_status:ok', 'aof_last_write_status:ok']) assert.ok(s.includes(f), f);
  assert.ok(!s.includes('aof_current_size'));
  r.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});
