// AOF loading at start-up: in time slices after listening (-LOADING replies,
// INFO loading_* fields meanwhile), the files read in chunks: commands and
// MULTI blocks across chunk boundaries, values bigger than a chunk.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, statSync, openSync, writeSync, closeSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { startVireo, freePort, VIREO_BIN } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { client } from '../interop/rdb-helpers.mjs';

const made = [];
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'vireo-aofload-'));
  made.push(d);
  return d;
}
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function cmd(...args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return s;
}

async function waitFor(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const BIG = 'b'.repeat(700 * 1024) + 'end';

/** An appendonlydir with an AOF-form base (one value bigger than a read chunk) and a big incr file. */
function writeAof(dir, n) {
  const ad = join(dir, 'appendonlydir');
  mkdirSync(ad);
  writeFileSync(join(ad, 'appendonly.aof.1.base.aof'), cmd('SELECT', '0') + cmd('SET', 'big', BIG) + cmd('SET', 'x', '1'));
  const fd = openSync(join(ad, 'appendonly.aof.1.incr.aof'), 'w');
  let buf = cmd('SELECT', '0');
  for (let i = 0; i < n; i++) {
    // Every 1000th write is a MULTI block: many of them straddle a read chunk boundary.
    if (i % 1000 === 0) buf += cmd('MULTI') + cmd('INCR', 'x') + cmd('SET', `key:${i}`, `value:${i}`) + cmd('EXEC');
    else buf += cmd('SET', `key:${i}`, `value:${i}`);
    if (buf.length > 1 << 20) {
      writeSync(fd, buf, null, 'latin1');
      buf = '';
    }
  }
  writeSync(fd, buf, null, 'latin1');
  closeSync(fd);
  writeFileSync(join(ad, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  return statSync(join(ad, 'appendonly.aof.1.base.aof')).size + statSync(join(ad, 'appendonly.aof.1.incr.aof')).size;
}

test('a big AOF loads in slices after listening: -LOADING and INFO loading_* meanwhile', async () => {
  const dir = tmp();
  const n = 400000;
  const total = writeAof(dir, n);
  const s = await startVireo(['--dir', dir, '--appendonly', 'yes']);
  const c = await RawConn.connect(s.port);
  try {
    assert.equal(await c.call('PING'), '-LOADING Valkey is loading the dataset in memory\r\n');
    const text = await c.call('INFO', 'persistence');
    assert.match(text, /loading:1\r\n/);
    assert.match(text, new RegExp(`loading_total_bytes:${total}\r\n`));
    const loaded = Number(text.match(/loading_loaded_bytes:(\d+)\r\n/)[1]);
    assert.ok(loaded > 0 && loaded < total, `loaded ${loaded} of ${total}`);
    const cl = client(s.port);
    await waitFor(async () => (await cl.info('persistence').catch(() => '')).includes('loading:0'), 60000);
    assert.equal(await cl.dbsize(), n + 2);
    assert.equal(await cl.get('key:123'), 'value:123');
    assert.equal(await cl.get(`key:${n - 1}`), `value:${n - 1}`);
    assert.equal(await cl.get('x'), String(1 + n / 1000));
    assert.equal(await cl.get('big'), BIG);
    // The AOF is open for appending afterwards.
    await cl.set('after', 'load');
    assert.match(await cl.info('persistence'), /aof_enabled:1\r\n/);
    cl.disconnect();
  } finally {
    c.sock.destroy();
    await s.stop();
  }
  const s2 = await startVireo(['--dir', dir, '--appendonly', 'yes']);
  const c2 = client(s2.port);
  try {
    await waitFor(async () => (await c2.info('persistence').catch(() => '')).includes('loading:0'), 60000);
    assert.equal(await c2.get('after'), 'load');
    assert.equal(await c2.dbsize(), n + 3);
  } finally {
    c2.disconnect();
    await s2.stop();
  }
});

test('a MULTI block cut by the end of the last file is dropped; a bad command names its offset', async () => {
  const dir = tmp();
  const ad = join(dir, 'appendonlydir');
  mkdirSync(ad);
  const good = cmd('SELECT', '0') + cmd('SET', 'a', '1') + 'x'.repeat(0);
  const filler = Array.from({ length: 20000 }, (_, i) => cmd('SET', `f${i}`, 'v'.repeat(20))).join('');
  const incr = good + filler + cmd('MULTI') + cmd('SET', 'b', '2');
  writeFileSync(join(ad, 'appendonly.aof.1.base.aof'), '');
  writeFileSync(join(ad, 'appendonly.aof.1.incr.aof'), incr);
  writeFileSync(join(ad, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  const s = await startVireo(['--dir', dir, '--appendonly', 'yes', '--loglevel', 'notice']);
  const c = client(s.port);
  try {
    await waitFor(async () => (await c.info('persistence').catch(() => '')).includes('loading:0'), 30000);
    assert.equal(await c.get('a'), '1');
    assert.equal(await c.get('b'), null);
    assert.equal(await c.dbsize(), 20001);
    assert.match(s.output(), /Revert incomplete MULTI\/EXEC transaction/);
    assert.equal(statSync(join(ad, 'appendonly.aof.1.incr.aof')).size, Buffer.byteLength(good + filler, 'latin1'));
  } finally {
    c.disconnect();
    await s.stop();
  }
  // Garbage past the first read chunk: start-up fails naming the absolute offset.
  const dir2 = tmp();
  const ad2 = join(dir2, 'appendonlydir');
  mkdirSync(ad2);
  const head = good + filler;
  writeFileSync(join(ad2, 'appendonly.aof.1.base.aof'), '');
  writeFileSync(join(ad2, 'appendonly.aof.1.incr.aof'), head + 'garbage\r\n' + cmd('SET', 'z', '1'));
  writeFileSync(join(ad2, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  const port = await freePort();
  const r = spawnSync(process.execPath, [VIREO_BIN, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir2, '--appendonly', 'yes'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, new RegExp(`Bad file format reading the append only file appendonly.aof.1.incr.aof at offset ${Buffer.byteLength(head, 'latin1')}`));
});

test('SHUTDOWN while the AOF loads: exits without saving the partial dataset, the AOF files untouched', async () => {
  const dir = tmp();
  writeAof(dir, 300000);
  const ad = join(dir, 'appendonlydir');
  const before = readdirSync(ad).map((f) => `${f}:${statSync(join(ad, f)).size}`).sort();
  const s = await startVireo(['--dir', dir, '--appendonly', 'yes', '--save', '3600 1']);
  const c = await RawConn.connect(s.port);
  try {
    assert.equal(await c.call('PING'), '-LOADING Valkey is loading the dataset in memory\r\n');
    c.send('SHUTDOWN');
    await c.waitClosed(20000);
    await new Promise((r) => (s.proc.exitCode !== null ? r() : s.proc.once('exit', r)));
    assert.equal(s.proc.exitCode, 0, s.output());
  } finally {
    c.sock.destroy();
    await s.stop();
  }
  assert.ok(!existsSync(join(dir, 'dump.rdb')), 'no save of a partial dataset');
  assert.deepEqual(readdirSync(ad).map((f) => `${f}:${statSync(join(ad, f)).size}`).sort(), before);
});
