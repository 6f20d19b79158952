// Redis 7.4's hashes with field expire times (RDB 12): RDB_TYPE_HASH_METADATA
// (24), RDB_TYPE_HASH_LISTPACK_EX (25) and the 7.4 release candidates' 22/23.
// No Redis 7.4 binary here, so files are built by hand with the encoder
// primitives, following Redis's layout: loaded fields, values and expire times
// are checked, and fields whose time passed are dropped on load (a hash left
// with none is not loaded at all).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RdbEncoder, ListpackWriter, crc64, loadRdb, deserializeValue, verifyPayload, DEFAULT_LOAD_LIMITS, RdbError } from '../../dist/src/persistence/rdb/index.js';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const made = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const HOUR = 3600_000;

/** Type 24: smallest expire time, count, then (ttl relative to it + 1 or 0, field, value) per field. */
function metadata(e, fields) {
  const times = fields.filter((f) => f[2] !== 0).map((f) => f[2]);
  const min = times.length ? Math.min(...times) : 2 ** 48; // EB_EXPIRE_TIME_INVALID when none
  e.millis(min);
  e.len(fields.length);
  for (const [f, v, at] of fields) {
    e.len(at === 0 ? 0 : at - min + 1);
    e.str(f);
    e.str(v);
  }
}

/** Type 22 (7.4 release candidates): count, then (absolute ttl or 0, field, value). */
function metadataPreGa(e, fields) {
  e.len(fields.length);
  for (const [f, v, at] of fields) {
    e.len(at);
    e.str(f);
    e.str(v);
  }
}

/** Types 25 / 23: (25 only: smallest expire time) then a listpack of (field, value, ttl or 0) triples. */
function listpackEx(e, fields, withMin) {
  if (withMin) e.millis(Math.min(...fields.map((f) => (f[2] === 0 ? 2 ** 48 : f[2]))));
  const w = new ListpackWriter();
  w.begin();
  for (const [f, v, at] of fields) {
    w.str(f);
    w.str(v);
    w.str(String(at));
  }
  e.bytes(Buffer.from(w.finishBuffer()));
}

/** A whole RDB 12 file: header, an AUX field, db 0, keys, EOF, CRC-64. */
function rdb12(keys) {
  const e = new RdbEncoder(false, 1024);
  e.raw(Buffer.from('REDIS0012', 'latin1'));
  e.byte(250);
  e.str('redis-ver');
  e.str('7.4.1');
  e.byte(254);
  e.len(0);
  for (const k of keys) {
    if (k.expire !== undefined) {
      e.byte(252);
      e.millis(k.expire);
    }
    e.byte(k.type);
    e.str(k.key);
    k.body(e);
  }
  e.byte(255);
  const body = e.take();
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(crc64(body).value());
  return Buffer.concat([body, sum]);
}

/** A DUMP payload of RDB version 12. */
function payload12(type, body) {
  const e = new RdbEncoder(false, 256);
  e.byte(type);
  body(e);
  e.byte(12);
  e.byte(0);
  const b = e.take();
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(crc64(b).value());
  return Buffer.concat([b, sum]);
}

function dataset(now) {
  const t1 = now + HOUR;
  const t2 = now + 2 * HOUR + 7;
  const gone = now - 60_000;
  const big = Array.from({ length: 600 }, (_, i) => [`f${i}`, `value-${i}`, i % 3 === 0 ? t1 + i : 0]);
  big.push(['old', 'x', gone]);
  return {
    t1,
    t2,
    keys: [
      { key: 'meta', type: 24, fields: [['a', '1', t1], ['b', 'two', 0], ['c', 'three', t2], ['dead', 'x', gone]], body: null },
      { key: 'meta-big', type: 24, fields: big },
      { key: 'meta-none', type: 24, fields: [['p', 'q', 0]] },
      { key: 'lpex', type: 25, fields: [['x', '10', t2], ['y', 'why', 0], ['z', '-5', gone], ['w', 'long'.repeat(10), t1]] },
      { key: 'pre22', type: 22, fields: [['m', 'n', t1], ['o', 'p', 0]] },
      { key: 'pre23', type: 23, fields: [['u', 'v', 0], ['s', 't', t2]] },
      { key: 'all-gone', type: 24, fields: [['k', 'v', gone], ['k2', 'v2', gone + 5]] },
      { key: 'all-gone-lp', type: 25, fields: [['k', 'v', gone]] },
      { key: 'with-key-ttl', type: 25, fields: [['k', 'v', t2]], expire: now + 5 * HOUR },
    ].map((k) => ({
      ...k,
      body: (e) => (k.type === 24 ? metadata(e, k.fields) : k.type === 22 ? metadataPreGa(e, k.fields) : listpackEx(e, k.fields, k.type === 25)),
    })),
  };
}

/** The fields each hash should load with: [field, value, expire time or -1], dropping those past `now`. */
function expected(k, now) {
  return k.fields.filter(([, , at]) => at === 0 || at >= now).map(([f, v, at]) => [f, v, at === 0 ? -1 : at]);
}

test('RDB 12 files with hash types 22-25 load with every field, value and expire time; expired fields dropped', () => {
  const now = Date.now();
  const { keys } = dataset(now);
  const file = rdb12(keys);
  const got = new Map();
  const res = loadRdb(file, { dbCount: 16, add: (db, k, v, exp) => got.set(k, { v, exp }) }, { limits: DEFAULT_LOAD_LIMITS, now, checksum: true });
  assert.equal(res.version, 12);
  assert.equal(res.keys, 7);
  assert.equal(res.expired, 2, 'the two hashes whose every field expired are counted as expired keys');
  assert.ok(!got.has('all-gone') && !got.has('all-gone-lp'));
  for (const k of keys) {
    if (k.key.startsWith('all-gone')) continue;
    const { v: h, exp } = got.get(k.key);
    const want = expected(k, now);
    assert.equal(h.size, want.length, k.key);
    for (const [f, v, at] of want) {
      assert.equal(h.get(f), v, `${k.key}.${f}`);
      assert.equal(h.getExpire(f), at, `${k.key}.${f} expire`);
    }
    assert.equal(h.get('dead'), undefined);
    assert.equal(exp, k.expire ?? -1);
  }
  assert.equal(got.get('meta-big').v.encoding(), 'hashtable');
  assert.equal(got.get('meta-big').v.volatileCount(), 200);
  assert.equal(got.get('meta-none').v.hasVolatile(), false);
  // Without a clock (an AOF preamble, a replica's view), nothing is dropped.
  const all = new Map();
  loadRdb(file, { dbCount: 16, add: (db, k, v) => all.set(k, v) }, { limits: DEFAULT_LOAD_LIMITS });
  assert.equal(all.size, 9);
  assert.equal(all.get('meta').getExpire('dead'), now - 60_000);
  // A corrupt checksum is still noticed.
  const bad = Buffer.from(file);
  bad[bad.length - 1] ^= 1;
  assert.throws(() => loadRdb(bad, { dbCount: 16, add() {} }, { limits: DEFAULT_LOAD_LIMITS, checksum: true }), /checksum/);
});

test('DUMP payloads of RDB 12 with types 24 and 25 restore; bad TTLs and triples are refused', () => {
  const now = Date.now();
  const t = now + HOUR;
  const p24 = payload12(24, (e) => metadata(e, [['f', 'v', t], ['g', 'w', 0]]));
  assert.equal(verifyPayload(p24), null);
  const h = deserializeValue(p24, DEFAULT_LOAD_LIMITS);
  assert.equal(h.get('f'), 'v');
  assert.equal(h.getExpire('f'), t);
  assert.equal(h.getExpire('g'), -1);
  const p25 = payload12(25, (e) => listpackEx(e, [['f', 'v', t]], true));
  assert.equal(deserializeValue(p25, DEFAULT_LOAD_LIMITS).getExpire('f'), t);
  // A TTL beyond Redis's EB_EXPIRE_TIME_MAX (2^48 - 1).
  const huge = payload12(22, (e) => metadataPreGa(e, [['f', 'v', 2 ** 48]]));
  assert.throws(() => deserializeValue(huge, DEFAULT_LOAD_LIMITS), (err) => err instanceof RdbError && /expireAt/.test(err.message));
  // A listpack whose items are not triples.
  const pairs = payload12(25, (e) => {
    e.millis(t);
    const w = new ListpackWriter();
    w.begin();
    w.str('f');
    w.str('v');
    e.bytes(Buffer.from(w.finishBuffer()));
  });
  assert.throws(() => deserializeValue(pairs, DEFAULT_LOAD_LIMITS), RdbError);
  // A duplicated field.
  const dup = payload12(24, (e) => metadata(e, [['f', 'v', t], ['f', 'w', 0]]));
  assert.throws(() => deserializeValue(dup, DEFAULT_LOAD_LIMITS), /Duplicate/);
});

test('a server starts from an RDB 12 dump.rdb with field TTLs: HGETALL and HPEXPIRETIME as written', async () => {
  const now = Date.now();
  const { keys, t1, t2 } = dataset(now);
  const dir = mkdtempSync(join(tmpdir(), 'vireo-hfe-'));
  made.push(dir);
  // A field due 1.5 s after the file was made (still there when loaded, unless the machine is very slow: then it is dropped on load, which the poll below accepts too).
  const soon = { key: 'soon', type: 24, fields: [['f', 'v', now + 1500], ['g', 'w', 0]] };
  soon.body = (e) => metadata(e, soon.fields);
  writeFileSync(join(dir, 'dump.rdb'), rdb12([...keys, soon]));
  const s = await startVireo(['--dir', dir]);
  try {
    const c = await RawConn.connect(s.port);
    const deadline = Date.now() + 60000;
    while (!(await c.call('INFO', 'persistence')).includes('loading:0')) {
      if (Date.now() > deadline) throw new Error('load did not finish');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await c.call('DBSIZE'), ':8\r\n');
    assert.equal(await c.call('EXISTS', 'all-gone', 'all-gone-lp'), ':0\r\n');
    assert.equal(await c.call('HLEN', 'meta'), ':3\r\n');
    assert.equal(await c.call('HGET', 'meta', 'b'), '$3\r\ntwo\r\n');
    assert.equal(await c.call('HPEXPIRETIME', 'meta', 'FIELDS', '4', 'a', 'b', 'c', 'dead'), `*4\r\n:${t1}\r\n:-1\r\n:${t2}\r\n:-2\r\n`);
    assert.equal(await c.call('HPEXPIRETIME', 'lpex', 'FIELDS', '3', 'x', 'y', 'z'), `*3\r\n:${t2}\r\n:-1\r\n:-2\r\n`);
    assert.equal(await c.call('HGET', 'lpex', 'x'), '$2\r\n10\r\n');
    assert.equal(await c.call('HLEN', 'meta-big'), ':600\r\n');
    assert.equal(await c.call('HPEXPIRETIME', 'meta-big', 'FIELDS', '2', 'f3', 'f4'), `*2\r\n:${t1 + 3}\r\n:-1\r\n`);
    assert.equal(await c.call('HPEXPIRETIME', 'pre23', 'FIELDS', '1', 's'), `*1\r\n:${t2}\r\n`);
    assert.equal(await c.call('HGET', 'pre22', 'o'), '$1\r\np\r\n');
    assert.equal(await c.call('PEXPIRETIME', 'with-key-ttl'), `:${now + 5 * HOUR}\r\n`);
    // The loaded times are live: a field due soon goes away (polled, however slow the machine).
    const end = Date.now() + 30000;
    while ((await c.call('HEXISTS', 'soon', 'f')) !== ':0\r\n') {
      if (Date.now() > end) throw new Error('field did not expire');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await c.call('HGET', 'soon', 'g'), '$1\r\nw\r\n');
    c.close();
  } finally {
    await s.stop();
  }
});
