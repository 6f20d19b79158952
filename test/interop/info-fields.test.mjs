// INFO field names against Debian's redis-server 7.0.15: every section and
// field Redis prints must exist in Vireo's INFO (exporters and dashboards read
// them), after the same commands ran on both. Deliberate exceptions are listed
// below, each with its reason. Also: a few values that must be real, not
// placeholders (evicted_keys, keyspace, commandstats, latencystats).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo, startRedis, haveRedis } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

/** Fields Redis 7.0 has and Vireo deliberately does not, per section: name -> reason. */
const EXCEPTIONS = {
  server: {
    // Valkey 8 prints server_mode; redis_mode only with extended-redis-compatibility yes
    // (checked below with that directive on).
    redis_mode: 'Valkey 8 names it server_mode unless extended-redis-compatibility is yes',
  },
};

let vireo;
let redis;
before(async () => {
  if (!haveRedis()) return;
  [vireo, redis] = await Promise.all([startVireo(['--latency-monitor-threshold', '1']), startRedis(['--latency-monitor-threshold', '1'])]);
});
after(async () => {
  await Promise.all([vireo?.stop(), redis?.stop()]);
});

/** The same traffic on both servers, so dynamic sections (commandstats, errorstats, keyspace) have lines. */
async function traffic(port) {
  const c = await RawConn.connect(port);
  await c.call('SET', 'a', '1');
  await c.call('SET', 'b', '2', 'EX', '1000');
  await c.call('GET', 'a');
  await c.call('INCR', 'a');
  await c.call('HSET', 'h', 'f', 'v');
  await c.call('GET', 'h'); // WRONGTYPE
  await c.call('NOSUCHCOMMAND'); // ERR
  await c.call('CONFIG', 'GET', 'maxmemory');
  await c.call('CLIENT', 'SETNAME', 'info-test');
  await c.call('SELECT', '1');
  await c.call('SET', 'x', 'y');
  return c;
}

function parseInfo(text) {
  const out = new Map();
  let sec = null;
  for (const line of text.replace(/\r/g, '').split('\n')) {
    if (line.startsWith('# ')) {
      sec = line.slice(2).toLowerCase();
      out.set(sec, new Map());
    } else if (line !== '' && sec !== null) {
      const i = line.indexOf(':');
      out.get(sec).set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return out;
}

async function infoOf(c, ...args) {
  const r = await c.call('INFO', ...args);
  return parseInfo(r.slice(r.indexOf('\r\n') + 2));
}

test('every INFO section and field of redis-server 7.0 exists in Vireo', { skip: !haveRedis() && 'redis-server not installed' }, async () => {
  const [vc, rc] = await Promise.all([traffic(vireo.port), traffic(redis.port)]);
  const [vi, ri] = await Promise.all([infoOf(vc, 'everything'), infoOf(rc, 'everything')]);
  const missing = [];
  for (const [sec, fields] of ri) {
    if (!vi.has(sec)) {
      missing.push(`section ${sec}`);
      continue;
    }
    for (const name of fields.keys()) {
      if (vi.get(sec).has(name)) continue;
      if (EXCEPTIONS[sec]?.[name]) continue;
      missing.push(`${sec}.${name}`);
    }
  }
  assert.deepEqual(missing, []);
  // The per-command and per-error lines are the same set.
  for (const sec of ['commandstats', 'errorstats', 'keyspace']) {
    for (const name of ri.get(sec).keys()) {
      if (name === 'cmdstat_info') continue;
      assert.ok(vi.get(sec).has(name), `${sec}.${name}`);
    }
  }
  assert.match(vi.get('latencystats').get('latency_percentiles_usec_set'), /^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
  assert.match(ri.get('latencystats').get('latency_percentiles_usec_set'), /^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
  // Each listed exception is still a real difference (the list stays honest).
  for (const [sec, names] of Object.entries(EXCEPTIONS)) {
    for (const name of Object.keys(names)) assert.ok(ri.get(sec).has(name) && !vi.get(sec).has(name), `${sec}.${name}`);
  }
  vc.close();
  rc.close();
});

test('redis_mode appears with extended-redis-compatibility yes', async () => {
  const c = await RawConn.connect(vireo.port);
  assert.equal((await infoOf(c, 'server')).get('server').get('server_mode'), 'standalone');
  assert.equal(await c.call('CONFIG', 'SET', 'extended-redis-compatibility', 'yes'), '+OK\r\n');
  assert.equal((await infoOf(c, 'server')).get('server').get('redis_mode'), 'standalone');
  assert.equal(await c.call('CONFIG', 'SET', 'extended-redis-compatibility', 'no'), '+OK\r\n');
  c.close();
});

test('INFO values are the server state: keyspace, evicted_keys, latencystats percentiles', async () => {
  const c = await RawConn.connect(vireo.port);
  await c.call('FLUSHALL');
  for (let i = 0; i < 10; i++) await c.call('SET', `k${i}`, 'v');
  await c.call('EXPIRE', 'k0', '100');
  const ks = (await infoOf(c, 'keyspace')).get('keyspace').get('db0');
  assert.match(ks, /^keys=10,expires=1,avg_ttl=\d+$/);
  assert.equal((await infoOf(c, 'stats')).get('stats').get('evicted_keys'), '0');
  // latency-tracking-info-percentiles decides the percentiles shown.
  assert.equal(await c.call('CONFIG', 'SET', 'latency-tracking-info-percentiles', '0 50 100'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'latency-tracking-info-percentiles'), '*2\r\n$33\r\nlatency-tracking-info-percentiles\r\n$8\r\n0 50 100\r\n');
  assert.match((await infoOf(c, 'latencystats')).get('latencystats').get('latency_percentiles_usec_set'), /^p0=\d+\.\d{3},p50=\d+\.\d{3},p100=\d+\.\d{3}$/);
  assert.match(await c.call('CONFIG', 'SET', 'latency-tracking-info-percentiles', '101'), /^-ERR CONFIG SET failed/);
  // latency-tracking no: no new histograms.
  assert.equal(await c.call('CONFIG', 'SET', 'latency-tracking', 'no'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
  await c.call('SET', 'k1', 'v');
  assert.equal((await infoOf(c, 'latencystats')).get('latencystats').size, 0);
  assert.equal(await c.call('CONFIG', 'SET', 'latency-tracking', 'yes'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'), '+OK\r\n');
  c.close();
});
