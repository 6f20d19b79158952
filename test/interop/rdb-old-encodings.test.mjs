// Older RDB encodings (ziplist, zipmap, intset, quicklist v1, linked list,
// ASCII-score zsets, stream listpacks v1) built by hand as DUMP payloads:
// Debian's redis-server and Vireo both RESTORE them, and the values agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo, startRedis, haveRedis } from '../helpers/servers.mjs';
import { client } from './rdb-helpers.mjs';
import { crc64, ListpackWriter } from '../../dist/src/persistence/rdb/index.js';

function rdbLen(n) {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}
const rdbStr = (b) => Buffer.concat([rdbLen(b.length), Buffer.isBuffer(b) ? b : Buffer.from(b, 'latin1')]);

function zlEntry(v, prevlen) {
  const pl = prevlen < 254 ? Buffer.from([prevlen]) : Buffer.concat([Buffer.from([0xfe]), Buffer.from(Uint32Array.of(prevlen).buffer)]);
  let enc;
  if (typeof v === 'number') {
    if (v >= 0 && v <= 12) enc = Buffer.from([0xf1 + v]);
    else if (v >= -128 && v <= 127) enc = Buffer.from([0xfe, v & 0xff]);
    else {
      enc = Buffer.alloc(3);
      enc[0] = 0xc0;
      enc.writeInt16LE(v, 1);
    }
  } else {
    const s = Buffer.from(v, 'latin1');
    if (s.length < 64) enc = Buffer.concat([Buffer.from([s.length]), s]);
    else enc = Buffer.concat([Buffer.from([0x40 | (s.length >> 8), s.length & 0xff]), s]);
  }
  return Buffer.concat([pl, enc]);
}

function ziplist(items) {
  const entries = [];
  let prev = 0;
  let tail = 10;
  let off = 10;
  for (const it of items) {
    const e = zlEntry(it, prev);
    tail = off;
    off += e.length;
    prev = e.length;
    entries.push(e);
  }
  const body = Buffer.concat(entries);
  const h = Buffer.alloc(10);
  h.writeUInt32LE(10 + body.length + 1, 0);
  h.writeUInt32LE(tail, 4);
  h.writeUInt16LE(items.length, 8);
  return Buffer.concat([h, body, Buffer.from([0xff])]);
}

function zipmap(pairs) {
  const parts = [Buffer.from([pairs.length / 2])];
  for (let i = 0; i < pairs.length; i += 2) {
    const k = Buffer.from(pairs[i]);
    const v = Buffer.from(pairs[i + 1]);
    parts.push(Buffer.from([k.length]), k, Buffer.from([v.length, 0]), v);
  }
  parts.push(Buffer.from([0xff]));
  return Buffer.concat(parts);
}

function intset(vals, width) {
  const b = Buffer.alloc(8 + vals.length * width);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(vals.length, 4);
  vals.forEach((v, i) => (width === 2 ? b.writeInt16LE(v, 8 + i * 2) : width === 4 ? b.writeInt32LE(v, 8 + i * 4) : b.writeBigInt64LE(BigInt(v), 8 + i * 8)));
  return b;
}

function payload(type, body, version = 6) {
  const head = Buffer.concat([Buffer.from([type]), body, Buffer.from([version & 0xff, version >> 8])]);
  return Buffer.concat([head, crc64(head).digestLE()]);
}

const asciiDouble = (d) => {
  const s = Buffer.from(String(d));
  return Buffer.concat([Buffer.from([s.length]), s]);
};

const CASES = {
  'list-linked': payload(1, Buffer.concat([rdbLen(3), rdbStr('a'), rdbStr('bb'), Buffer.from([0xc0, 5])])),
  'list-ziplist': payload(10, rdbStr(ziplist(['x', 'y', 7, -100, 1000, 'z'.repeat(80)]))),
  'list-quicklist1': payload(14, Buffer.concat([rdbLen(2), rdbStr(ziplist(['a', 'b'])), rdbStr(ziplist([3, 'c']))]), 7),
  'set-linked': payload(2, Buffer.concat([rdbLen(3), rdbStr('m1'), rdbStr('m2'), rdbStr('3')])),
  'set-intset16': payload(11, rdbStr(intset([-5, 1, 2, 300], 2))),
  'set-intset64': payload(11, rdbStr(intset([-5, 1, 5000000000], 8))),
  'zset-ascii': payload(3, Buffer.concat([rdbLen(3), rdbStr('a'), asciiDouble(1.5), rdbStr('b'), asciiDouble(-2), rdbStr('c'), Buffer.from([254])])),
  'zset-ziplist': payload(12, rdbStr(ziplist(['a', 1, 'b', '2.5', 'c', 100]))),
  'hash-linked': payload(4, Buffer.concat([rdbLen(2), rdbStr('f1'), rdbStr('v1'), rdbStr('f2'), rdbStr('2')])),
  'hash-zipmap': payload(9, rdbStr(zipmap(['f', 'v', 'name', 'vireo']))),
  'hash-ziplist': payload(13, rdbStr(ziplist(['f', 'v', 'n', 12, 'long', 'q'.repeat(100)]))),
  // A hand-made LZF string: a 1-byte literal "a", then a back reference copying 29 more.
  'string-lzf': payload(0, Buffer.from([0xc3, 5, 30, 0x00, 0x61, 0xe0, 0x14, 0x00])),
};

test('old RDB encodings RESTORE in redis-server and Vireo alike', { skip: !haveRedis() }, async () => {
  const v = await startVireo(['--enable-debug-command', 'yes']);
  const r = await startRedis(['--enable-debug-command', 'yes']);
  const cv = client(v.port);
  const cr = client(r.port);
  try {
    for (const [name, p] of Object.entries(CASES)) {
      assert.equal(await cr.call('RESTORE', name, 0, p).catch((e) => `${name}: ${e.message}`), 'OK', `redis RESTORE ${name}`);
      assert.equal(await cv.call('RESTORE', name, 0, p).catch((e) => `${name}: ${e.message}`), 'OK', `vireo RESTORE ${name}`);
      assert.equal(await cv.type(name), await cr.type(name), name);
      const [dv] = await cv.call('DEBUG', 'DIGEST-VALUE', name);
      const [dr] = await cr.call('DEBUG', 'DIGEST-VALUE', name);
      assert.equal(dv, dr, `${name}: same value in both servers`);
    }
    assert.equal(await cv.get('string-lzf'), 'a'.repeat(30));
    assert.deepEqual(await cv.lrange('list-quicklist1', 0, -1), ['a', 'b', '3', 'c']);
    assert.equal(await cv.zscore('zset-ascii', 'c'), 'inf');
    assert.equal(await cv.hget('hash-zipmap', 'name'), 'vireo');
    // RDB 11 (Valkey 8): a set as a listpack (type 20), which redis-server 7.0 does not know.
    const lp = new ListpackWriter();
    lp.begin();
    for (const m of ['x', '12', 'y', '-7']) lp.str(m);
    assert.equal(await cv.call('RESTORE', 'set-listpack', 0, payload(20, rdbStr(Buffer.from(lp.finishBuffer())), 11)), 'OK');
    assert.deepEqual((await cv.smembers('set-listpack')).sort(), ['-7', '12', 'x', 'y']);
    assert.equal(await cv.object('ENCODING', 'set-listpack'), 'listpack');
    // RDB 11 (Valkey 8): a stream with consumer active times (type 21), made from
    // Vireo's type-19 payload by adding the consumer's active time after its seen time.
    await cv.xadd('st', '1-1', 'f', 'v');
    await cv.xgroup('CREATE', 'st', 'g', '0');
    await cv.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', 'st', '>');
    const p19 = await cv.dumpBuffer('st');
    assert.equal(p19[0], 19);
    const body = p19.subarray(1, p19.length - 10);
    const at = body.length - 17; // seen time | PEL count (1) | one 16-byte ID
    const active = Buffer.alloc(8);
    active.writeBigInt64LE(BigInt(Date.now() - 60000));
    const p21 = payload(21, Buffer.concat([body.subarray(0, at), active, body.subarray(at)]), 11);
    assert.equal(await cv.call('RESTORE', 'st21', 0, p21), 'OK');
    const [cons] = await cv.call('XINFO', 'CONSUMERS', 'st21', 'g');
    const ci = Object.fromEntries(Array.from({ length: cons.length / 2 }, (_, i) => [cons[2 * i], cons[2 * i + 1]]));
    assert.equal(ci.name, 'c');
    assert.equal(ci.pending, 1);
    assert.ok(ci.inactive >= 59000 && ci.inactive < 120000, `inactive ${ci.inactive}`);
    // Payload checks: a flipped byte, a newer version, garbage.
    const bad = Buffer.from(CASES['hash-ziplist']);
    bad[5] ^= 1;
    await assert.rejects(cv.call('RESTORE', 'x', 0, bad), /DUMP payload version or checksum are wrong/);
    await assert.rejects(cv.call('RESTORE', 'x', 0, payload(0, rdbStr('v'), 99)), /DUMP payload version or checksum are wrong/);
    await assert.rejects(cv.call('RESTORE', 'x', 0, payload(0, Buffer.from([0x05, 0x61]))), /Bad data format/);
    await assert.rejects(cv.call('RESTORE', 'x', 0, payload(42, rdbStr('v'))), /Bad data format/);
    await assert.rejects(cv.call('RESTORE', 'list-linked', 0, CASES['list-linked']), /BUSYKEY/);
  } finally {
    cv.disconnect();
    cr.disconnect();
    await v.stop();
    await r.stop();
  }
});
