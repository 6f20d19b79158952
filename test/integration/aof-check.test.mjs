// bin/vireo-check-aof: checks a manifest's files (RDB or AOF base, incr files)
// or a single AOF, reports where valid data ends, and with --fix truncates a
// damaged last file (after asking, like valkey-check-aof).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, statSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startVireo } from '../helpers/servers.mjs';
import { client } from '../interop/rdb-helpers.mjs';

const CHECK = join(ROOT, 'bin', 'vireo-check-aof');

function check(args, input = '') {
  const r = spawnSync(process.execPath, [CHECK, ...args], { input, encoding: 'latin1' });
  return { code: r.status, out: r.stdout + r.stderr };
}

async function makeAof(preamble) {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-check-aof-'));
  const srv = await startVireo(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--aof-use-rdb-preamble', preamble, '--aof-timestamp-enabled', 'yes']);
  const r = client(srv.port);
  await r.set('a', '1');
  await r.rpush('l', 'x', 'y');
  await r.bgrewriteaof();
  for (let i = 0; i < 100; i++) {
    const s = await r.info('persistence');
    if (/aof_rewrites:1/.test(s) && /aof_rewrite_in_progress:0/.test(s)) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  await r.set('b', '2');
  await r.multi().set('c', '3').incr('n').exec();
  r.disconnect();
  await srv.stop();
  const adir = join(dir, 'appendonlydir');
  const incr = join(adir, readdirSync(adir).find((n) => n.endsWith('.incr.aof')));
  return { dir, manifest: join(adir, 'appendonly.aof.manifest'), incr };
}

for (const preamble of ['yes', 'no']) {
  test(`a valid multi-part AOF is reported valid (aof-use-rdb-preamble ${preamble})`, async () => {
    const { dir, manifest } = await makeAof(preamble);
    const r = check([manifest]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Start checking Multi Part AOF/);
    assert.match(r.out, new RegExp(`Start to check BASE AOF \\(${preamble === 'yes' ? 'RDB' : 'AOF'} format\\)\\.`));
    assert.match(r.out, /INCR AOF appendonly\.aof\.2\.incr\.aof is valid/);
    assert.match(r.out, /All AOF files and manifest are valid/);
    rmSync(dir, { recursive: true, force: true });
  });
}

test('a truncated tail is found, --fix asks and truncates it, and the server then loads the file', async () => {
  const { dir, manifest, incr } = await makeAof('yes');
  const good = statSync(incr).size;
  appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$3\r\nab');
  let r = check([manifest]);
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`AOF analyzed: filename=appendonly\\.aof\\.2\\.incr\\.aof, size=${good + 26}, ok_up_to=${good}, ok_up_to_line=\\d+, diff=26`));
  assert.match(r.out, /AOF appendonly\.aof\.2\.incr\.aof is not valid\. Use the --fix option to try fixing it\./);
  r = check(['--fix', manifest], 'n\n');
  assert.equal(r.code, 1);
  assert.match(r.out, /Aborting/);
  assert.equal(statSync(incr).size, good + 26);
  r = check(['--fix', manifest], 'y\n');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /This will shrink the AOF appendonly\.aof\.2\.incr\.aof from \d+ bytes, with 26 bytes, to \d+ bytes/);
  assert.match(r.out, /Successfully truncated AOF appendonly\.aof\.2\.incr\.aof/);
  assert.equal(statSync(incr).size, good);
  assert.equal(check([manifest]).code, 0);
  const srv = await startVireo(['--dir', dir, '--appendonly', 'yes', '--save', '', '--aof-load-truncated', 'no']);
  const c = client(srv.port);
  assert.equal(await c.get('c'), '3');
  c.disconnect();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a MULTI without EXEC and corruption in the middle are reported with their offsets; a single file is checked too', async () => {
  const { dir, manifest, incr } = await makeAof('no');
  const good = statSync(incr).size;
  appendFileSync(incr, '*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n');
  let r = check([manifest]);
  assert.equal(r.code, 1);
  assert.match(r.out, /Reached EOF before reading EXEC for MULTI/);
  assert.match(r.out, new RegExp(`ok_up_to=${good},`));
  const buf = readFileSync(incr).subarray(0, good);
  const at = buf.indexOf('$1\r\nb');
  buf[at] = 'x'.charCodeAt(0);
  writeFileSync(incr, buf);
  r = check([manifest]);
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`0x\\s*${at.toString(16)}: Bad file format`));
  // A single old-style file.
  const single = join(dir, 'single.aof');
  writeFileSync(single, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n#TS:1700000100\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n');
  r = check([single]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /AOF single\.aof is valid/);
  // --truncate-to-timestamp cuts at the first annotation after the time.
  r = check(['--truncate-to-timestamp', '1700000000', single]);
  assert.equal(r.code, 0, r.out);
  assert.equal(readFileSync(single, 'latin1'), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
  assert.equal(check([]).code, 1);
  rmSync(dir, { recursive: true, force: true });
});
