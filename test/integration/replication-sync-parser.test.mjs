// The streamed RDB parser of repl-diskless-load (src/replication/sync-load.ts):
// an RDB fed in chunks of every size (1 byte, odd sizes, random, one piece),
// with and without the $EOF: mark after it, gives exactly what loading the
// whole file gives; bad data and a wrong checksum are errors, a cut file is
// only an error once no more bytes will come.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { startVireo } from '../helpers/servers.mjs';
import { client, populate } from '../interop/rdb-helpers.mjs';
import { StreamingRdb } from '../../dist/src/replication/sync-load.js';
import { loadRdb, serializeValue } from '../../dist/src/persistence/rdb/file.js';
import { DEFAULT_LOAD_LIMITS } from '../../dist/src/persistence/rdb/decoder.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-syncparse-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let rdb;
test('an RDB with every type, large values and TTLs', async () => {
  const s = await startVireo(['--save', '', '--dir', dir], { cwd: dir });
  const c = client(s.port);
  try {
    await populate(c, { big: 700 });
    await c.set('big:str', randomBytes(300000));
    await c.set('ttl', 'v', 'PX', 9000000);
    const p = c.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`k:${i}`, randomBytes(20).toString('hex'));
    await p.exec();
    await c.call('FUNCTION', 'LOAD', "#!lua name=plib\nserver.register_function('pf', function() return 1 end)");
    await c.save();
    rdb = readFileSync(join(dir, 'dump.rdb'));
  } finally {
    c.disconnect();
    await s.stop('SIGKILL');
  }
  assert.ok(rdb.length > 300000);
});

function collector() {
  const out = [];
  const libs = [];
  return {
    out,
    libs,
    target: {
      dbCount: 16,
      add(db, key, v, expire) {
        out.push(`${db}|${key}|${expire}|${serializeValue(v, false).toString('hex')}`);
      },
      library(code) {
        libs.push(code);
      },
    },
  };
}

function expected() {
  const c = collector();
  const res = loadRdb(rdb, c.target, { limits: DEFAULT_LOAD_LIMITS, checksum: true });
  return { out: c.out, libs: c.libs, keys: res.keys };
}

/** Feeds `data` in chunks from `sizes()`; `final` tells the parser when all has come ($<len> framing). */
function feed(data, sizes, { mark = null, known = true } = {}) {
  const c = collector();
  const p = new StreamingRdb(c.target, DEFAULT_LOAD_LIMITS, true, mark);
  let off = 0;
  let res = 'more';
  while (off < data.length && res !== 'done') {
    const n = Math.min(sizes(), data.length - off);
    p.push(data.subarray(off, off + n));
    off += n;
    const final = known && off === data.length;
    do res = p.step(final, 5); while (res === 'budget');
  }
  return { res, p, c };
}

const strategies = {
  one: () => 1,
  seven: () => 7,
  odd: () => 1021,
  net: () => 65536,
  random: () => 1 + Math.floor(Math.random() * 20000),
  whole: () => 1 << 30,
};

test('chunked like the network, it loads what the whole file loads ($<len> framing)', () => {
  const want = expected();
  for (const [name, sizes] of Object.entries(strategies)) {
    if (name === 'one' && rdb.length > 2e6) continue;
    const { res, p, c } = feed(rdb, sizes);
    assert.equal(res, 'done', name);
    assert.equal(p.result.keys, want.keys, name);
    assert.deepEqual(c.out, want.out, name);
    assert.deepEqual(c.libs, want.libs, name);
    assert.equal(p.rest().length, 0, name);
  }
});

test('with the $EOF: mark and stream bytes after it: done at the RDB end, the rest kept', () => {
  const want = expected();
  const mark = randomBytes(20).toString('hex');
  const after = Buffer.from('*1\r\n$4\r\nPING\r\n');
  const data = Buffer.concat([rdb, Buffer.from(mark, 'latin1'), after]);
  for (const [name, sizes] of Object.entries(strategies)) {
    if (name === 'one') continue;
    const c = collector();
    const p = new StreamingRdb(c.target, DEFAULT_LOAD_LIMITS, true, Buffer.from(mark, 'latin1'));
    let off = 0;
    let res = 'more';
    while (off < data.length && res !== 'done') {
      const n = Math.min(sizes(), data.length - off);
      p.push(data.subarray(off, off + n));
      off += n;
      do res = p.step(false, 5); while (res === 'budget');
    }
    assert.equal(res, 'done', name);
    assert.deepEqual(c.out, want.out, name);
    const rest = Buffer.concat([p.rest(), data.subarray(off)]);
    assert.equal(rest.toString('latin1'), mark + after.toString('latin1'), name);
  }
});

test('a cut file waits for more, then fails once nothing more will come; bad bytes fail', () => {
  const cut = rdb.subarray(0, rdb.length - 5000);
  const c = collector();
  const p = new StreamingRdb(c.target, DEFAULT_LOAD_LIMITS, true, null);
  p.push(cut);
  let r;
  do r = p.step(false, 50); while (r === 'budget');
  assert.equal(r, 'more');
  assert.throws(() => {
    while (p.step(true, 50) === 'budget');
  }, /Unexpected EOF/);
  const bad = Buffer.from(rdb);
  bad[bad.length - 3] ^= 0xff; // inside the CRC-64 trailer
  const q = new StreamingRdb(collector().target, DEFAULT_LOAD_LIMITS, true, null);
  q.push(bad);
  assert.throws(() => {
    while (q.step(true, 50) === 'budget');
  }, /checksum/);
  const q2 = new StreamingRdb(collector().target, DEFAULT_LOAD_LIMITS, true, null);
  q2.push(Buffer.from('NOTANRDB0000'));
  assert.throws(() => q2.step(false, 50), /Wrong signature/);
});
