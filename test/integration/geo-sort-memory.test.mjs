// GEO (GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS*),
// SORT / SORT_RO and MEMORY against a real vireo-server: exact bytes on raw
// sockets in RESP2 and RESP3, and what ioredis and node-redis (RESP2 and
// RESP3) hand back. Expected values follow Valkey 8 (the scores are the
// 52-bit geohashes Valkey stores; distances print with 4 decimals).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const arr = (...xs) => `*${xs.length}\r\n${xs.join('')}`;

let srv, raw, raw3, r, nr2, nr3;

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

async function sicily(key) {
  await r.del(key);
  return r.geoadd(key, 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania');
}

test('GEOADD stores Valkey geohash scores; NX/XX/CH', async () => {
  assert.equal(await sicily('g1'), 2);
  assert.equal(await r.zscore('g1', 'Palermo'), '3479099956230698');
  assert.equal(await r.zscore('g1', 'Catania'), '3479447370796909');
  assert.equal(await r.geoadd('g1', 'CH', 13.361389, 38.115556, 'Palermo', 12.4333, 37.8, 'Marsala'), 1);
  assert.equal(await r.geoadd('g1', 'XX', 'CH', 12.5, 37.8, 'Marsala', 1, 1, 'Nope'), 1);
  assert.equal(await r.geoadd('g1', 'NX', 1, 1, 'Marsala'), 0);
  assert.equal(await raw.call('GEOADD', 'g1', 'NX', 'XX', '1', '1', 'x'), '-ERR syntax error\r\n');
  assert.equal(await raw.call('GEOADD', 'g1', 'NX', '1', '1'), '-ERR syntax error\r\n');
  assert.equal(await raw.call('GEOADD', 'g1', '200', '100', 'x'), '-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n');
  assert.equal(await raw.call('GEOADD', 'g1', 'x', '1', 'x'), '-ERR value is not a valid float\r\n');
  await r.set('gstr', 'x');
  assert.equal(await raw.call('GEOADD', 'gstr', '1', '1', 'x'), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  assert.equal(await nr2.geoAdd('g1', { longitude: 1, latitude: 2, member: 'nr' }), 1);
});

test('GEOPOS, GEODIST, GEOHASH replies in RESP2 and RESP3', async () => {
  await sicily('g2');
  assert.equal(
    await raw.call('GEOPOS', 'g2', 'Palermo', 'nope'),
    arr(arr(bulk('13.36138933897018433'), bulk('38.11555639549629859')), '*-1\r\n'),
  );
  assert.equal(
    await raw3.call('GEOPOS', 'g2', 'Palermo', 'nope'),
    arr(arr(',13.36138933897018433\r\n', ',38.11555639549629859\r\n'), '_\r\n'),
  );
  assert.deepEqual(await r.geopos('g2', 'Palermo', 'nope'), [['13.36138933897018433', '38.11555639549629859'], null]);
  const p3 = await nr3.geoPos('g2', ['Catania']);
  assert.ok(String(p3[0].longitude).startsWith('15.0872674'));
  assert.equal(await raw.call('GEODIST', 'g2', 'Palermo', 'Catania'), bulk('166274.1516'));
  assert.equal(await raw3.call('GEODIST', 'g2', 'Palermo', 'Catania', 'km'), bulk('166.2742'));
  assert.equal(await r.geodist('g2', 'Palermo', 'Catania', 'mi'), '103.3182');
  assert.equal(await nr2.geoDist('g2', 'Palermo', 'Catania', 'ft'), 545518.87);
  assert.equal(await raw.call('GEODIST', 'g2', 'Palermo', 'x'), '$-1\r\n');
  assert.equal(await raw3.call('GEODIST', 'nokey', 'a', 'b'), '_\r\n');
  assert.equal(await raw.call('GEODIST', 'g2', 'a', 'b', 'yd'), '-ERR unsupported unit provided. please use M, KM, FT, MI\r\n');
  assert.equal(await raw.call('GEOHASH', 'g2', 'Palermo', 'Catania', 'x'), arr(bulk('sqc8b49rny0'), bulk('sqdtr74hyu0'), '$-1\r\n'));
  assert.deepEqual(await r.geohash('g2', 'Palermo'), ['sqc8b49rny0']);
});

test('GEOSEARCH / GEORADIUS shapes, options and errors', async () => {
  await sicily('g3');
  await r.geoadd('g3', 13.583333, 37.316667, 'Agrigento', 15.2833, 37.0667, 'Syracuse');
  assert.deepEqual(await r.call('GEOSEARCH', 'g3', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC'), ['Syracuse', 'Catania', 'Agrigento', 'Palermo']);
  assert.deepEqual(await r.call('GEOSEARCH', 'g3', 'FROMLONLAT', '15', '37', 'BYBOX', '400', '400', 'km', 'DESC', 'COUNT', '2', 'WITHDIST'), [
    ['Palermo', '190.4424'],
    ['Agrigento', '130.4235'],
  ]);
  assert.equal(
    await raw.call('GEORADIUS', 'g3', '15', '37', '100', 'km', 'WITHDIST', 'WITHHASH', 'WITHCOORD', 'ASC', 'COUNT', '1'),
    arr(arr(bulk('Syracuse'), bulk('26.2254'), ':3476514813623154\r\n', arr(bulk('15.28329938650131226'), bulk('37.06669891864647326')))),
  );
  assert.equal(
    await raw3.call('GEORADIUS_RO', 'g3', '15', '37', '100', 'km', 'WITHDIST', 'WITHCOORD', 'ASC', 'COUNT', '1'),
    arr(arr(bulk('Syracuse'), bulk('26.2254'), arr(',15.28329938650131226\r\n', ',37.06669891864647326\r\n'))),
  );
  assert.deepEqual(await r.georadiusbymember('g3', 'Palermo', 200, 'km', 'ASC'), ['Palermo', 'Agrigento', 'Catania']);
  const res = await nr3.geoSearch('g3', 'Palermo', { radius: 200, unit: 'km' }, { SORT: 'ASC' });
  assert.deepEqual(res, ['Palermo', 'Agrigento', 'Catania']);
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMLONLAT', '15', '37', 'WITHDIST', 'ASC'), '-ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'BYRADIUS', '1', 'km', 'ASC', 'WITHDIST'), '-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'km'), '-ERR could not decode requested zset member\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km', 'ANY'), '-ERR the ANY argument requires COUNT argument\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km', 'COUNT', '0'), '-ERR COUNT must be > 0\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMLONLAT', '1', '1', 'BYRADIUS', '-1', 'km'), '-ERR radius cannot be negative\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMLONLAT', '1', '1', 'BYRADIUS', 'x', 'km'), '-ERR need numeric radius\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'g3', 'FROMLONLAT', '1', '1', 'BYBOX', '1', '-1', 'km'), '-ERR height or width cannot be negative\r\n');
  assert.equal(await raw.call('GEORADIUS', 'g3', '1', '1', '1', 'km', 'WITHDIST', 'STORE', 'x'), '-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n');
  assert.equal(await raw.call('GEORADIUS_RO', 'g3', '1', '1', '1', 'km', 'STORE', 'x'), '-ERR syntax error\r\n');
  assert.equal(await raw.call('GEOSEARCH', 'nokey', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'km'), '*0\r\n');
});

test('GEOSEARCHSTORE and GEORADIUS STORE/STOREDIST', async () => {
  await sicily('g4');
  assert.equal(await raw.call('GEOSEARCHSTORE', 'g4dst', 'g4', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'), ':2\r\n');
  assert.deepEqual(await r.zrange('g4dst', 0, -1, 'WITHSCORES'), ['Palermo', '3479099956230698', 'Catania', '3479447370796909']);
  assert.equal(await raw.call('GEOSEARCHSTORE', 'g4dst', 'g4', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'STOREDIST'), ':2\r\n');
  assert.equal(await r.zscore('g4dst', 'Catania'), '56.4412578701582');
  assert.equal(await raw.call('GEORADIUS', 'g4', '15', '37', '200', 'km', 'STORE', 'g4dst2'), ':2\r\n');
  assert.equal(await r.type('g4dst2'), 'zset');
  assert.equal(await raw.call('GEORADIUS', 'g4', '15', '37', '1', 'm', 'STORE', 'g4dst2'), ':0\r\n');
  assert.equal(await r.exists('g4dst2'), 0);
  assert.equal(await nr2.geoSearchStore('g4dst3', 'g4', { longitude: 15, latitude: 37 }, { radius: 200, unit: 'km' }), 2);
});

test('SORT numeric, ALPHA, LIMIT, BY, GET, STORE', async () => {
  await r.del('sl', 'sdst');
  await r.rpush('sl', '3', '1', '2', '10');
  assert.deepEqual(await r.sort('sl'), ['1', '2', '3', '10']);
  assert.deepEqual(await r.sort('sl', 'ALPHA'), ['1', '10', '2', '3']);
  assert.deepEqual(await r.sort('sl', 'LIMIT', 1, 2, 'DESC'), ['3', '2']);
  await r.mset('sw_1', '4', 'sw_2', '3', 'sw_3', '2', 'sw_10', '1', 'sn_1', 'one', 'sn_3', 'three');
  assert.deepEqual(await r.sort('sl', 'BY', 'sw_*', 'GET', '#', 'GET', 'sn_*'), ['10', null, '3', 'three', '2', null, '1', 'one']);
  assert.equal(await raw3.call('SORT', 'sl', 'BY', 'sw_*', 'GET', 'sn_*', 'LIMIT', '0', '2'), '*2\r\n_\r\n$5\r\nthree\r\n');
  await r.hset('sh_1', 'w', '9');
  await r.hset('sh_2', 'w', '8');
  assert.deepEqual(await r.sort('sl', 'BY', 'sh_*->w', 'GET', 'sh_*->w'), [null, null, '8', '9']);
  assert.deepEqual(await r.sort('sl', 'BY', 'nosort', 'DESC'), ['10', '2', '1', '3']);
  assert.equal(await r.sort('sl', 'STORE', 'sdst'), 4);
  assert.deepEqual(await r.lrange('sdst', 0, -1), ['1', '2', '3', '10']);
  assert.equal(await r.object('ENCODING', 'sdst'), 'listpack');
  assert.deepEqual(await nr2.sort('sl', { LIMIT: { offset: 0, count: 2 } }), ['1', '2']);
  assert.deepEqual(await nr3.sortRo('sl', { DIRECTION: 'DESC' }), ['10', '3', '2', '1']);
  await r.rpush('sbad', '1', 'x');
  assert.equal(await raw.call('SORT', 'sbad'), "-ERR One or more scores can't be converted into double\r\n");
  await r.rpush('sbad2', '1', '1e400');
  assert.equal(await raw.call('SORT', 'sbad2'), "-ERR One or more scores can't be converted into double\r\n");
  await r.rpush('sbad3', '1', '1e-400');
  assert.equal(await raw.call('SORT', 'sbad3'), "-ERR One or more scores can't be converted into double\r\n");
  assert.deepEqual(await r.sort('sl'), ['1', '2', '3', '10'], 'no stale error after a failed conversion');
  assert.equal(await raw.call('SORT_RO', 'sl', 'STORE', 'x'), '-ERR syntax error\r\n');
  assert.equal(await raw.call('SORT', 'sl', 'LIMIT', 'a', '1'), '-ERR value is not an integer or out of range\r\n');
  await r.set('sstr', 'x');
  assert.equal(await raw.call('SORT', 'sstr'), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  assert.equal(await raw.call('SORT', 'nokey', 'STORE', 'sdst'), ':0\r\n');
  assert.equal(await r.exists('sdst'), 0);
  await r.sadd('sset', 'b', 'c', 'a');
  assert.equal(await r.sort('sset', 'BY', 'nosort', 'STORE', 'sdst'), 3);
  assert.deepEqual(await r.lrange('sdst', 0, -1), ['a', 'b', 'c']);
  await r.zadd('szs', 3, 'x', 1, 'y', 2, 'z');
  assert.deepEqual(await r.sort('szs', 'BY', 'nosort', 'DESC', 'LIMIT', 0, 2), ['x', 'z']);
  assert.deepEqual(await r.sort('szs', 'ALPHA'), ['x', 'y', 'z']);
});

test('MEMORY USAGE estimates, HELP and the other subcommands', async () => {
  await r.set('mstr', 'bar');
  assert.equal(await raw.call('MEMORY', 'USAGE', 'mstr'), ':64\r\n'); // key sds 8 + dict entry 24 + embstr block 32, as Redis/Valkey report
  assert.equal(await raw.call('MEMORY', 'USAGE', 'nokey'), '$-1\r\n');
  assert.equal(await raw3.call('MEMORY', 'USAGE', 'nokey'), '_\r\n');
  assert.equal(await raw.call('MEMORY', 'USAGE', 'mstr', 'SAMPLES', '-1'), '-ERR syntax error\r\n');
  assert.equal(await raw.call('MEMORY', 'USAGE', 'mstr', 'SAMPLES', 'x'), '-ERR value is not an integer or out of range\r\n');
  assert.equal(await raw.call('MEMORY', 'USAGE', 'mstr', 'BOGUS'), '-ERR syntax error\r\n');
  const big = 'x'.repeat(1000);
  await r.set('mbig', big);
  assert.ok((await r.memory('USAGE', 'mbig')) > 1000);
  await r.del('mh', 'ms', 'mz', 'ml');
  const fields = [];
  for (let i = 0; i < 1000; i++) fields.push('f' + i, 'v' + i);
  await r.hset('mh', ...fields);
  await r.sadd('ms', ...fields);
  await r.zadd('mz', ...fields.map((x, i) => (i % 2 === 0 ? String(i) : x)));
  await r.rpush('ml', ...fields);
  for (const k of ['mh', 'ms', 'mz', 'ml']) {
    const all = await r.memory('USAGE', k, 'SAMPLES', 0);
    const dflt = await nr2.memoryUsage(k);
    assert.ok(all > 2000 * 4, `${k} ${all}`);
    assert.ok(Math.abs(all - dflt) / all < 0.5, `${k} ${all} vs ${dflt}`);
  }
  // Streams follow Valkey's model: a 1-entry stream is its struct, a 2-node ID tree and the
  // open node's 4096-byte preallocation (4728 with the key, as redis-server 7.0 reports);
  // 10,000 short entries cost about 24 bytes each there (242036), not a flat guess.
  await r.del('mst');
  await r.xadd('mst', '1-0', 'sensor', 'temp', 'value', '0');
  assert.equal(await r.memory('USAGE', 'mst'), 4728);
  const xp = r.pipeline();
  for (let i = 1; i < 10000; i++) xp.xadd('mst', `${i + 1}-0`, 'sensor', 'temp', 'value', String(i));
  await xp.exec();
  const mst = await r.memory('USAGE', 'mst');
  assert.ok(mst > 242036 * 0.8 && mst < 242036 * 1.2, `stream of 10000: ${mst}`);
  await r.xgroup('CREATE', 'mst', 'g', '0');
  const noPel = await r.memory('USAGE', 'mst', 'SAMPLES', 0);
  await r.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1000, 'STREAMS', 'mst', '>');
  const pel = (await r.memory('USAGE', 'mst', 'SAMPLES', 0)) - noPel;
  assert.ok(pel > 1034710 * 0.9 && pel < 1034710 * 1.1, `1000 pending entries: ${pel}`);
  const help = await r.call('MEMORY', 'HELP');
  assert.ok(Array.isArray(help) && help.some((l) => l.startsWith('USAGE')));
  assert.equal(await raw.call('MEMORY', 'PURGE'), '+OK\r\n');
  assert.equal(await raw.call('MEMORY', 'MALLOC-STATS'), bulk('Stats not supported for the current allocator'));
  assert.ok((await raw3.call('MEMORY', 'DOCTOR')).startsWith('='));
  const stats = await nr3.sendCommand(['MEMORY', 'STATS']);
  assert.ok(stats);
  assert.ok((await raw3.call('MEMORY', 'STATS')).startsWith('%'));
  assert.ok((await raw.call('MEMORY', 'STATS')).startsWith('*'));
});
