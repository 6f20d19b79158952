// Keyspace notifications (notify-keyspace-events): the directive (canonical
// CONFIG GET form, errors, command line), and the exact (channel, message)
// stream each command family produces, with K (__keyspace@<db>__:<key>) and E
// (__keyevent@<db>__:<event>) messages, expired / keymiss / new events,
// class filtering, MULTI/EXEC and blocked clients. When Debian's redis-server
// is installed, the same scripts also run against it and the streams must match.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { startVireo, startRedis, haveRedis } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { SCRIPTS, collectEvents } from '../helpers/notify-scripts.mjs';

let srv;
before(async () => {
  srv = await startVireo();
});
after(async () => {
  await srv.stop();
});

const EXPECTED = {
  generic: [
    'set a', 'del a', 'set a', 'del a', 'set src', 'set dst', 'rename_from src', 'rename_to dst',
    'rename_from dst', 'rename_to other', 'expire other', 'expire other', 'expire other', 'persist other',
    'expire other', 'copy_to cp', 'copy_to cp', 'copy_to cp @1', 'move_from cp', 'move_to cp @2', 'set gone',
    'del gone', 'set gone', 'del gone', 'rpush l', 'sortstore sorted', 'del sorted', 'set r',
  ],
  string: [
    'set s', 'set s', 'expire s', 'set s', 'set s', 'expire s', 'set s2', 'set s3', 'expire s3', 'set s4',
    'expire s4', 'set s', 'set m1', 'set m2', 'set m3', 'set m4', 'append ap', 'append ap', 'setrange sr',
    'incrby n', 'incrby n', 'incrby n', 'incrby n', 'incrbyfloat n', 'del n', 'expire s', 'persist s',
    'del s', 'setbit b', 'setbit bf', 'set x', 'set bo', 'del bo', 'pfadd hll', 'pfadd hll2',
  ],
  list: [
    'lpush l', 'rpush l', 'lpush l', 'linsert l', 'lset l', 'lrem l', 'ltrim l', 'lpop l', 'rpop l',
    'rpush l', 'lpush l2', 'rpop l', 'rpush l2', 'lpop l', 'lpush l2', 'lpop l', 'rpush l2', 'lpop l2',
    'lpop l2', 'lpop l2', 'del l2', 'rpush l3', 'rpop l3', 'lpush l4', 'rpop l3', 'del l3', 'rpop l4',
    'del l4', 'rpush l5', 'ltrim l5', 'del l5', 'rpush l5', 'lrem l5', 'del l5',
  ],
  hash: [
    'hset h', 'hset h', 'hset h', 'hset h', 'hincrby h', 'hincrbyfloat h', 'hdel h', 'hdel h', 'del h',
  ],
  set: [
    'sadd s', 'srem s', 'srem s', 'sadd t', 'srem s', 'del s', 'sadd t', 'sadd u', 'spop u', 'spop u',
    'spop u', 'del u', 'sadd a1', 'sadd a2', 'sinterstore d', 'sunionstore d', 'sdiffstore d', 'del d',
  ],
  zset: [
    'zadd z', 'zincr z', 'zincr z', 'zrem z', 'zadd z', 'zremrangebyscore z', 'zremrangebyrank z',
    'zremrangebylex z', 'del z', 'zadd z', 'zpopmin z', 'zpopmax z', 'zpopmin z', 'del z', 'zadd z',
    'zpopmax z', 'zpopmin z', 'del z', 'zadd z1', 'zadd z2', 'zunionstore zd', 'zinterstore zd',
    'zdiffstore zd', 'zrangestore zd', 'del zd', 'zadd geo', 'geosearchstore gd', 'georadiusstore gd2',
  ],
  stream: [
    'xadd x', 'xadd x', 'xadd x', 'xtrim x', 'xadd x', 'xdel x', 'xtrim x', 'xadd x', 'xgroup-create x',
    'xgroup-create y', 'xgroup-createconsumer x', 'xgroup-createconsumer x', 'xgroup-createconsumer x',
    'xgroup-createconsumer x', 'xgroup-setid x', 'xsetid x', 'xgroup-delconsumer x', 'xgroup-destroy x',
  ],
  misc: [
    'set k', 'expire k', 'expired k', 'keymiss k', 'xadd s', 'xgroup-create s', 'lpush a', 'rpop a', 'del a',
    'incrby n', 'set e', 'expire e', 'rename_from e', 'rename_to e2', 'set other-db @3', 'del other-db @3',
  ],
  missnew: [
    'keymiss a', 'new a', 'set a', 'set a', 'keymiss b', 'keymiss b', 'new l', 'lpush l', 'keymiss nokey',
    'keymiss nokey', 'new cnt', 'incrby cnt', 'new src', 'set src', 'new dst', 'rename_from src',
    'rename_to dst', 'new cp', 'copy_to cp', 'new st', 'sadd st', 'srem st', 'del st', 'new st2', 'sadd st2',
  ],
};

/** 'event key [@db]' -> the two messages Valkey publishes, keyspace first. */
function expand(list, k = true, e = true) {
  const out = [];
  for (const item of list) {
    const m = /^(\S+) (\S+)(?: @(\d+))?$/.exec(item);
    const [, event, key, db = '0'] = m;
    if (k) out.push(`__keyspace@${db}__:${key} ${event}`);
    if (e) out.push(`__keyevent@${db}__:${event} ${key}`);
  }
  return out;
}

const FLAGS = { missnew: 'KEAmn', misc: 'KEAm' };

for (const family of Object.keys(SCRIPTS)) {
  test(`events: ${family}`, async () => {
    const got = await collectEvents(srv.port, SCRIPTS[family], FLAGS[family] ?? 'KEA');
    assert.deepEqual(got, expand(EXPECTED[family]));
  });
}

test('differential: the same scripts against redis-server give the same streams', { skip: !haveRedis() && 'redis-server not installed' }, async () => {
  const redis = await startRedis();
  try {
    for (const family of Object.keys(SCRIPTS)) {
      const flags = FLAGS[family] ?? 'KEA';
      const want = await collectEvents(redis.port, SCRIPTS[family], flags);
      const got = await collectEvents(srv.port, SCRIPTS[family], flags);
      assert.deepEqual(got, want, `family ${family}`);
    }
  } finally {
    await redis.stop();
  }
});

test('CONFIG SET/GET notify-keyspace-events: canonical form and errors', async () => {
  const c = await RawConn.connect(srv.port);
  try {
    const cases = [
      ['', ''],
      ['KEA', 'AKE'],
      ['KEAmn', 'AKEm'],
      ['Ex', 'xE'],
      ['gK$lsh', 'g$lshK'],
      ['nd', 'dn'],
      ['g$lshzxetdKE', 'AKE'],
      ['Kx', 'xK'],
      ['mE', 'Em'],
      ['tt', 't'],
    ];
    for (const [set, shown] of cases) {
      assert.equal(await c.call('CONFIG', 'SET', 'notify-keyspace-events', set), '+OK\r\n');
      assert.equal(await c.call('CONFIG', 'GET', 'notify-keyspace-events'), `*2\r\n$22\r\nnotify-keyspace-events\r\n$${shown.length}\r\n${shown}\r\n`, set);
    }
    const err = await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEq');
    assert.equal(err, "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n");
    // Flags are case-sensitive: 'k' is not 'K'.
    assert.match(await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'kea'), /^-ERR CONFIG SET failed/);
    assert.equal(await c.call('CONFIG', 'GET', 'notify-keyspace-events'), '*2\r\n$22\r\nnotify-keyspace-events\r\n$1\r\nt\r\n');
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
  } finally {
    c.close();
  }
});

test('A with n keeps n in effect though CONFIG GET shows AKE', async () => {
  const got = await collectEvents(srv.port, [['SET', 'x', '1']], 'AKEn');
  assert.deepEqual(got, expand(['new x', 'set x']));
});

test('off, or without K/E, publishes nothing', async () => {
  for (const flags of ['', 'A', 'g$lshzxetdmn']) {
    const got = await collectEvents(srv.port, [['SET', 'a', '1'], ['DEL', 'a'], ['GET', 'zz'], ['LPUSH', 'l', 'x']], flags);
    assert.deepEqual(got, [], flags);
  }
});

test('class filtering and K-only / E-only', async () => {
  const cmds = [['SET', 's', '1'], ['LPUSH', 'l', 'x'], ['DEL', 's'], ['SADD', 'st', 'm'], ['HSET', 'h', 'f', 'v'], ['ZADD', 'z', '1', 'm'], ['XADD', 'x', '1-1', 'f', 'v']];
  assert.deepEqual(await collectEvents(srv.port, cmds, 'El'), expand(['lpush l'], false, true));
  assert.deepEqual(await collectEvents(srv.port, cmds, 'Kg'), expand(['del s'], true, false));
  assert.deepEqual(await collectEvents(srv.port, cmds, 'E$shzt'), expand(['set s', 'sadd st', 'hset h', 'zadd z', 'xadd x'], false, true));
});

test('SET with an expire time already in the past (Valkey 8: del when the key existed, nothing otherwise)', async () => {
  const got = await collectEvents(
    srv.port,
    [
      ['SET', 'k', 'v', 'PXAT', '1'],
      ['SET', 'k', 'v'],
      ['SET', 'k', 'v', 'PXAT', '1'],
      ['SET', 'k', 'v'],
      ['GETEX', 'k', 'EXAT', '1'],
    ],
    'KEA',
  );
  assert.deepEqual(got, expand(['set k', 'del k', 'set k', 'del k']));
});

test('active expiry publishes expired', async () => {
  const c = await RawConn.connect(srv.port);
  const sub = await RawConn.connect(srv.port);
  try {
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'Ex');
    await sub.call('SUBSCRIBE', '__keyevent@0__:expired');
    await c.call('SET', 'soon', 'v', 'PX', '5');
    // Nobody touches the key: only the active expire cycle can delete it.
    const frame = await sub.readReply(10000);
    assert.equal(frame, '*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$4\r\nsoon\r\n');
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
  } finally {
    c.close();
    sub.close();
  }
});

test('a blocked client served by a push: push, then pop, then del', async () => {
  const c = await RawConn.connect(srv.port);
  const b = await RawConn.connect(srv.port);
  const sub = await RawConn.connect(srv.port);
  try {
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'EA');
    await sub.call('PSUBSCRIBE', '__keyevent@0__:*');
    b.send('BLPOP', 'bl', '0');
    // CLIENT LIST shows the client blocked before the push.
    for (let i = 0; i < 200 && !/cmd=blpop/.test(await c.call('CLIENT', 'LIST')); i++) await new Promise((r) => setTimeout(r, 10));
    await c.call('LPUSH', 'bl', 'a');
    assert.equal(await b.readReply(), '*2\r\n$2\r\nbl\r\n$1\r\na\r\n');
    b.send('BLMOVE', 'bm', 'bmd', 'LEFT', 'RIGHT', '0');
    for (let i = 0; i < 200 && !/cmd=blmove/.test(await c.call('CLIENT', 'LIST')); i++) await new Promise((r) => setTimeout(r, 10));
    await c.call('RPUSH', 'bm', 'x', 'y');
    assert.equal(await b.readReply(), '$1\r\nx\r\n');
    await c.call('PUBLISH', '__keyevent@0__:end', 'end');
    const got = [];
    for (;;) {
      const f = (await sub.readReply()).split('\r\n');
      if (f[6] === '__keyevent@0__:end') break;
      got.push(`${f[6]} ${f[8]}`);
    }
    assert.deepEqual(got, expand(['lpush bl', 'lpop bl', 'del bl', 'rpush bm', 'rpush bmd', 'lpop bm'], false, true));
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
  } finally {
    c.close();
    b.close();
    sub.close();
  }
});

test('node-redis (RESP3) pattern subscriber receives keyspace events', async () => {
  const sub = createClient({ socket: { port: srv.port, host: '127.0.0.1' }, RESP: 3 });
  const cmd = createClient({ socket: { port: srv.port, host: '127.0.0.1' } });
  await sub.connect();
  await cmd.connect();
  try {
    await cmd.configSet('notify-keyspace-events', 'KA');
    const got = [];
    let done;
    const finished = new Promise((r) => (done = r));
    await sub.pSubscribe('__keyspace@0__:*', (message, channel) => {
      got.push(`${channel} ${message}`);
      if (message === 'del') done();
    });
    await cmd.set('user:1', 'x');
    await cmd.incr('n');
    await cmd.del('user:1');
    await finished;
    assert.deepEqual(got, ['__keyspace@0__:user:1 set', '__keyspace@0__:n incrby', '__keyspace@0__:user:1 del']);
    await cmd.configSet('notify-keyspace-events', '');
  } finally {
    await sub.quit();
    await cmd.quit();
  }
});

test('notify-keyspace-events from the command line', async () => {
  const s = await startVireo(['--notify-keyspace-events', 'KEA']);
  try {
    const c = await RawConn.connect(s.port);
    assert.equal(await c.call('CONFIG', 'GET', 'notify-keyspace-events'), '*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n');
    c.close();
  } finally {
    await s.stop();
  }
});

test('hash field expiry (Valkey 9): hexpire, hpersist, hexpired (immediate and active), hgetdel', async () => {
  const got = await collectEvents(
    srv.port,
    [
      ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'],
      ['HEXPIRE', 'h', '100', 'FIELDS', '1', 'a'],
      ['HEXPIRE', 'h', '100', 'FIELDS', '1', 'nope'],
      ['HPERSIST', 'h', 'FIELDS', '1', 'a'],
      ['HPERSIST', 'h', 'FIELDS', '1', 'a'],
      ['HEXPIRE', 'h', '0', 'FIELDS', '1', 'b'],
      ['HGETDEL', 'h', 'FIELDS', '1', 'c'],
      ['HPEXPIRE', 'h', '1', 'FIELDS', '1', 'a'],
      // DBSIZE touches no key: only the active field expiry can empty and delete h.
      ['@until', ':0\r\n', 'DBSIZE'],
      ['HSET', 'g', 'a', '1'],
      ['HEXPIRE', 'g', '0', 'FIELDS', '1', 'a'],
    ],
    'KEA',
  );
  assert.deepEqual(
    got,
    expand(['hset h', 'hexpire h', 'hpersist h', 'hexpired h', 'hdel h', 'hexpire h', 'hexpired h', 'del h', 'hset g', 'hexpired g', 'del g']),
  );
});

test('HSETEX and HGETEX (Valkey 9): hset + hexpire, hexpire, hpersist, hexpired, del; nothing when nothing changed', async () => {
  const got = await collectEvents(
    srv.port,
    [
      ['HSETEX', 'x', 'FIELDS', '1', 'a', '1'],
      ['HSETEX', 'x', 'EX', '100', 'FIELDS', '1', 'b', '2'],
      ['HSETEX', 'x', 'KEEPTTL', 'FIELDS', '1', 'b', '3'],
      ['HGETEX', 'x', 'PERSIST', 'FIELDS', '1', 'a'],
      ['HGETEX', 'x', 'PERSIST', 'FIELDS', '1', 'b'],
      ['HGETEX', 'x', 'EX', '100', 'FIELDS', '1', 'a'],
      ['HGETEX', 'x', 'PXAT', '1', 'FIELDS', '2', 'a', 'nope'],
      ['HSETEX', 'x', 'PXAT', '1', 'FIELDS', '1', 'nope', 'v'],
      ['HSETEX', 'x', 'PXAT', '1', 'FIELDS', '1', 'b', 'v'],
    ],
    'KEA',
  );
  assert.deepEqual(
    got,
    expand(['hset x', 'hset x', 'hexpire x', 'hset x', 'hpersist x', 'hexpire x', 'hexpired x', 'hexpired x', 'del x']),
  );
});
