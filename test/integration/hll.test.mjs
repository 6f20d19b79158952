// HyperLogLog commands against a real vireo-server: PFADD, PFCOUNT, PFMERGE,
// PFDEBUG, PFSELFTEST and hll-sparse-max-bytes. The stored bytes follow
// Valkey's format exactly (checked byte for byte against redis-server 7.0.15
// in test/interop/corpus/hll.txt); here: behaviour, errors, clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const NOT_HLL = '-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n';
const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
const INVALID = '-INVALIDOBJ Corrupted HLL object detected\r\n';
const int = (n) => `:${n}\r\n`;

let srv;
let raw;
let raw3;
let r;
let nr2;
let nr3;

before(async () => {
  srv = await startVireo();
  raw = await RawConn.connect(srv.port);
  raw3 = await RawConn.connect(srv.port);
  await raw3.call('HELLO', '3');
  r = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
  await r.connect();
  nr2 = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  nr3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await Promise.all([nr2.connect(), nr3.connect()]);
});

after(async () => {
  raw?.close();
  raw3?.close();
  r?.disconnect();
  await Promise.allSettled([nr2?.quit(), nr3?.quit()]);
  await srv?.stop();
});

async function expectRaw(conn, pairs) {
  for (const [cmd, want] of pairs) assert.equal(await conn.call(...cmd), want, JSON.stringify(cmd));
}

const header = (b) => ({ magic: b.subarray(0, 4).toString('latin1'), enc: b[4], stale: (b[15] & 0x80) !== 0, card: b.readUInt32LE(8) });

test('PFADD / PFCOUNT: stored bytes, cached cardinality', async () => {
  assert.equal(await r.pfadd('h', 'a', 'b', 'c'), 1);
  // The value is Valkey's sparse HLL for {a, b, c}.
  const want = Buffer.concat([Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80', 'latin1'), Buffer.from('60f38050b1844bfb80425a', 'hex')]);
  assert.deepEqual(await r.getBuffer('h'), want);
  assert.equal(await r.pfcount('h'), 3);
  let h = header(await r.getBuffer('h'));
  assert.deepEqual(h, { magic: 'HYLL', enc: 1, stale: false, card: 3 });
  assert.equal(await r.pfadd('h', 'a', 'b'), 0);
  assert.equal(header(await r.getBuffer('h')).stale, false);
  assert.equal(await r.pfadd('h', 'd'), 1);
  assert.equal(header(await r.getBuffer('h')).stale, true);
  assert.equal(await r.pfcount('h'), 4);
  await expectRaw(raw, [
    [['PFADD', 'h:empty'], int(1)],
    [['PFADD', 'h:empty'], int(0)],
    [['PFCOUNT', 'h:empty'], int(0)],
    [['STRLEN', 'h:empty'], int(18)],
    [['PFCOUNT', 'h:none'], int(0)],
    [['PFCOUNT', 'h:none', 'h:none2'], int(0)],
    [['PFDEBUG', 'ENCODING', 'h'], '+sparse\r\n'],
    [['PFDEBUG', 'DECODE', 'h:empty'], '$7\r\nZ:16384\r\n'],
  ]);
  // Binary-safe elements.
  assert.equal(await r.pfadd('h:bin', Buffer.from([0]), Buffer.from([0xff, 0xfe]), '', 'a\r\nb'), 1);
  assert.equal(await r.pfcount('h:bin'), 4);
});

test('PFADD promotes sparse to dense past hll-sparse-max-bytes; estimates stay close', async () => {
  const n = 20000;
  for (let i = 0; i < n; i += 1000) {
    const els = [];
    for (let j = i; j < i + 1000; j++) els.push(`el:${j}`);
    await r.pfadd('h:big', ...els);
  }
  assert.equal(await raw.call('PFDEBUG', 'ENCODING', 'h:big'), '+dense\r\n');
  assert.equal(await r.strlen('h:big'), 12304);
  const est = await r.pfcount('h:big');
  assert.ok(Math.abs(est - n) / n < 0.03, `estimate ${est} for ${n}`);
  // Lower threshold: promotion happens sooner.
  assert.equal(await r.config('GET', 'hll-sparse-max-bytes').then((x) => x[1]), '3000');
  await r.config('SET', 'hll-sparse-max-bytes', '30');
  try {
    await r.pfadd('h:low', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i');
    assert.equal(await raw.call('PFDEBUG', 'ENCODING', 'h:low'), '+dense\r\n');
  } finally {
    await r.config('SET', 'hll-sparse-max-bytes', '3000');
  }
  await r.pfadd('h:sp', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i');
  assert.equal(await raw.call('PFDEBUG', 'ENCODING', 'h:sp'), '+sparse\r\n');
  assert.equal(await r.pfcount('h:sp'), 9);
});

test('PFCOUNT of several keys and PFMERGE', async () => {
  await r.pfadd('u1', 'x1', 'x2', 'x3', 'x4', 'x5');
  await r.pfadd('u2', 'x4', 'x5', 'x6', 'x7');
  assert.equal(await r.pfcount('u1', 'u2'), 7);
  assert.equal(await r.pfcount('u1', 'u2', 'u:none'), 7);
  assert.equal(await r.pfmerge('u:m', 'u1', 'u2'), 'OK');
  assert.equal(await r.pfcount('u:m'), 7);
  assert.equal(header(await r.getBuffer('u:m')).enc, 1);
  assert.equal(await r.pfmerge('u:e'), 'OK');
  assert.equal(await r.pfcount('u:e'), 0);
  // A dense source makes the destination dense.
  await raw.call('PFDEBUG', 'TODENSE', 'u2');
  assert.equal(await r.pfmerge('u:d', 'u1', 'u2'), 'OK');
  assert.equal(await raw.call('PFDEBUG', 'ENCODING', 'u:d'), '+dense\r\n');
  assert.equal(await r.pfcount('u:d'), 7);
  assert.equal(await nr2.pfCount(['u1', 'u2']), 7);
  assert.equal(await nr3.pfMerge('u:m3', ['u1', 'u2']), 'OK');
  assert.equal(await nr3.pfCount('u:m3'), 7);
});

test('PFDEBUG subcommands and PFSELFTEST', async () => {
  await r.pfadd('d', 'a', 'b', 'c');
  await expectRaw(raw, [
    [['PFDEBUG', 'DECODE', 'd'], '$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n'],
    [['PFDEBUG', 'ENCODING', 'd'], '+sparse\r\n'],
    [['PFDEBUG', 'FOO', 'd'], "-ERR Unknown PFDEBUG subcommand 'FOO'\r\n"],
    [['PFDEBUG', 'GETREG', 'd:none'], '-ERR The specified key does not exist\r\n'],
    [['PFDEBUG', 'TODENSE', 'd'], int(1)],
    [['PFDEBUG', 'TODENSE', 'd'], int(0)],
    [['PFDEBUG', 'DECODE', 'd'], '-ERR HLL encoding is not sparse\r\n'],
    [['PFCOUNT', 'd'], int(3)],
    [['PFSELFTEST'], '+OK\r\n'],
  ]);
  const regs = await r.call('PFDEBUG', 'GETREG', 'd');
  assert.equal(regs.length, 16384);
  assert.deepEqual(regs.filter((v) => v !== 0), [1, 2, 1]);
  assert.equal(regs[8436], 1);
  assert.equal(regs[8436 + 1 + 4274], 2);
  const regs3 = await nr3.sendCommand(['PFDEBUG', 'GETREG', 'd']);
  assert.deepEqual(regs3, regs);
});

test('type errors, invalid and corrupt HLL values', async () => {
  await r.set('e:str', 'hello');
  await r.set('e:num', '12345');
  await r.lpush('e:list', 'a');
  await r.set('e:c1', Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f', 'latin1'));
  await r.set('e:c2', Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x00', 'latin1'));
  await r.set('e:dense', Buffer.from('HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00', 'latin1'));
  await r.pfadd('e:ok', 'a');
  await expectRaw(raw, [
    [['PFADD', 'e:str', 'a'], NOT_HLL],
    [['PFCOUNT', 'e:str'], NOT_HLL],
    [['PFCOUNT', 'e:num'], NOT_HLL],
    [['PFCOUNT', 'e:dense'], NOT_HLL],
    [['PFMERGE', 'e:ok', 'e:str'], NOT_HLL],
    [['PFADD', 'e:list', 'a'], WRONGTYPE],
    [['PFCOUNT', 'e:ok', 'e:list'], WRONGTYPE],
    [['PFDEBUG', 'ENCODING', 'e:list'], WRONGTYPE],
    [['PFCOUNT', 'e:c1'], INVALID],
    [['PFCOUNT', 'e:c1', 'e:ok'], INVALID],
    [['PFMERGE', 'e:m', 'e:c1'], INVALID],
    [['PFDEBUG', 'TODENSE', 'e:c1'], INVALID],
    [['PFCOUNT', 'e:c2'], INVALID],
  ]);
  assert.equal(await raw3.call('PFCOUNT', 'e:c1'), INVALID);
});

test('a value copied as raw bytes works like the original', async () => {
  const els = Array.from({ length: 300 }, (_, i) => `c${i}`);
  await r.pfadd('cp:a', ...els);
  const bytes = await r.getBuffer('cp:a');
  await r.set('cp:b', bytes);
  assert.equal(await r.pfcount('cp:b'), await r.pfcount('cp:a'));
  assert.equal(await r.pfadd('cp:a', 'new1', 'new2'), 1);
  assert.equal(await r.pfadd('cp:b', 'new1', 'new2'), 1);
  assert.deepEqual(await r.getBuffer('cp:b'), await r.getBuffer('cp:a'));
  // PFCOUNT writes the cache into the value (it is a write to a string).
  await r.pfcount('cp:b');
  assert.equal(header(await r.getBuffer('cp:b')).stale, false);
});
