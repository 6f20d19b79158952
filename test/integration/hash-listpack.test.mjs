// Small hashes are held as a real listpack string (src/data/hash.ts): RESTORE
// of foreign listpacks with non-canonical entry encodings, Valkey's checks on
// a listpack payload (empty, odd, repeated field, corrupt: refused; converted
// on the entry count only), DUMP giving the blob back byte for byte, and the
// digest and commands agreeing with a hash built by HSET. The same payloads go
// to Debian's redis-server when it is installed (same replies expected).
import { entry, strEnt, rawListpack as listpack, FOREIGN_HASH_ENTRIES } from '../helpers/listpack-bytes.mjs';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { crc64 } from '../../dist/src/persistence/rdb/index.js';
import { startVireo, startRedis, haveRedis, testResources } from '../helpers/servers.mjs';

const res = testResources();
let v;
let rd = null;

function client(port) {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  res.clients.push(c);
  return c;
}

before(async () => {
  // Its own dir: DEBUG RELOAD writes dump.rdb there (never in the repository, where other servers would load it).
  const dir = mkdtempSync(join(tmpdir(), 'vireo-hash-lp-'));
  res.dirs.push(dir);
  const sv = await startVireo(['--enable-debug-command', 'yes', '--dir', dir]);
  res.servers.push(sv);
  v = client(sv.port);
  if (haveRedis()) {
    const sr = await startRedis();
    res.servers.push(sr);
    rd = client(sr.port);
  }
});

/** A DUMP payload (RDB 10) of a HASH_LISTPACK (type 16) value. */
function payload(lp) {
  const len = lp.length < 64 ? [lp.length] : [0x40 | (lp.length >> 8), lp.length & 255];
  const b = Buffer.from([16, ...len, ...lp, 10, 0]);
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(crc64(b).value());
  return Buffer.concat([b, sum]);
}

/** The same call on Vireo and (when installed) redis-server: equal replies, Vireo's returned. */
async function both(fn) {
  const a = await fn(v).catch((e) => e);
  if (rd !== null) {
    const b = await fn(rd).catch((e) => e);
    if (a instanceof Error || b instanceof Error) assert.equal(String(a), String(b));
    else assert.deepEqual(a, b);
  }
  if (a instanceof Error) throw a;
  return a;
}

const FOREIGN = listpack(FOREIGN_HASH_ENTRIES);

test('a listpack with non-canonical entries restores, reads, dumps back unchanged and digests like HSET', async () => {
  await both((c) => c.restore('fh', 0, payload(FOREIGN), 'REPLACE'));
  assert.deepEqual(await both((c) => c.hgetall('fh')), { name: '12', 7: '-5', big: '100' });
  assert.equal(await both((c) => c.object('ENCODING', 'fh')), 'listpack');
  assert.equal(await both((c) => c.hlen('fh')), 3);
  assert.deepEqual(await both((c) => c.hmget('fh', 'name', '7', 'big', 'nope')), ['12', '-5', '100', null]);
  assert.equal(await both((c) => c.hstrlen('fh', 'name')), 2);
  assert.deepEqual(await both((c) => c.hscan('fh', 0, 'COUNT', 1)), ['0', ['name', '12', '7', '-5', 'big', '100']]);
  assert.deepEqual(await both((c) => c.hkeys('fh')), ['name', '7', 'big']);
  // The blob is kept: DUMP gives the same bytes.
  assert.deepEqual(await v.dumpBuffer('fh'), payload(FOREIGN));
  // The same data made by HSET digests the same.
  await v.del('canon');
  await v.hset('canon', 'name', '12', '7', '-5', 'big', '100');
  const [d1, d2] = await v.call('DEBUG', 'DIGEST-VALUE', 'fh', 'canon');
  assert.equal(d1, d2);
  // Writes: an update in place, an increment, a delete, an append.
  assert.equal(await both((c) => c.hset('fh', '7', 'seven')), 0);
  assert.equal(await both((c) => c.hincrby('fh', 'big', 5)), 105);
  assert.equal(await both((c) => c.hdel('fh', 'name')), 1);
  assert.equal(await both((c) => c.hset('fh', 'new', 'x')), 1);
  assert.deepEqual(await both((c) => c.hgetall('fh')), { 7: 'seven', big: '105', new: 'x' });
  // And what it dumps now restores in both.
  const again = await v.dumpBuffer('fh');
  await both((c) => c.restore('fh2', 0, again, 'REPLACE'));
  assert.deepEqual(await both((c) => c.hgetall('fh2')), { 7: 'seven', big: '105', new: 'x' });
});

test('listpack payloads refused: empty, corrupt, and odd or with a field twice (Valkey checks these two when sanitizing payloads; Vireo always does)', async () => {
  const bad = async (lp) => {
    await assert.rejects(v.restore('bad', 0, payload(lp), 'REPLACE'), /Bad data format/);
    assert.equal(await v.exists('bad'), 0);
  };
  await bad(listpack([]));
  await bad(listpack([strEnt('a'), strEnt('1'), strEnt('b')]));
  await bad(listpack([strEnt('a'), strEnt('1'), strEnt('a'), strEnt('2')]));
  await bad(listpack([strEnt('5'), strEnt('1'), entry([5]), strEnt('2')])); // "5" twice, in two encodings
  const corrupt = listpack([strEnt('a'), strEnt('1')]);
  corrupt[6 + 3] = 9; // the first entry's backlen
  await bad(corrupt);
  await bad(listpack([strEnt('a'), strEnt('1')], 3)); // header count
});

test('a restored listpack converts on hash-max-listpack-entries only, as Valkey', async () => {
  const three = listpack([strEnt('a'), strEnt('1'), strEnt('b'), strEnt('2'), strEnt('c'), strEnt('3')]);
  const long = listpack([strEnt('f'), strEnt('v'.repeat(100), 12)]);
  try {
    await both((c) => c.config('SET', 'hash-max-listpack-entries', '2'));
    await both((c) => c.restore('h3', 0, payload(three), 'REPLACE'));
    assert.equal(await both((c) => c.object('ENCODING', 'h3')), 'hashtable');
    assert.deepEqual(await both((c) => c.hgetall('h3')), { a: '1', b: '2', c: '3' });
    await both((c) => c.restore('hl', 0, payload(long), 'REPLACE'));
    assert.equal(await both((c) => c.object('ENCODING', 'hl')), 'listpack');
    assert.equal(await both((c) => c.hget('hl', 'f')), 'v'.repeat(100));
  } finally {
    await both((c) => c.config('SET', 'hash-max-listpack-entries', '512'));
  }
  // Any change through a command applies both thresholds again.
  assert.equal(await both((c) => c.hset('hl', 'g', 'w'.repeat(70))), 1);
  assert.equal(await both((c) => c.object('ENCODING', 'hl')), 'hashtable');
});

test('DEBUG RELOAD keeps small hashes as listpacks with every field', async () => {
  await v.flushall();
  const p = v.pipeline();
  for (let i = 0; i < 200; i++) p.hset(`h:${i}`, 'name', `n${i}`, 'age', i % 100, 'city', 'somewhere', 'neg', -i, 'big', 2 ** 40 + i);
  await p.exec();
  const before = await v.call('DEBUG', 'DIGEST');
  await v.call('DEBUG', 'RELOAD');
  assert.equal(await v.call('DEBUG', 'DIGEST'), before);
  assert.equal(await v.object('ENCODING', 'h:7'), 'listpack');
  assert.deepEqual(await v.hgetall('h:7'), { name: 'n7', age: '7', city: 'somewhere', neg: '-7', big: String(2 ** 40 + 7) });
  assert.equal(await v.call('MEMORY', 'USAGE', 'h:7') > 0, true);
});
