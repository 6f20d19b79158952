// Shared by the RDB tests: a generated dataset with every type in small and
// large encodings plus TTLs, and a full, order-independent dump of a server's
// data for key-by-key comparison.
import Redis from 'ioredis';

export function client(port) {
  return new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true });
}

/** Fills db 0 and db 2 with every type, small and large, some keys with TTLs. */
export async function populate(r, { big = 300 } = {}) {
  const p = r.pipeline();
  p.select(0);
  p.set('str:short', 'hello');
  p.set('str:int', '12345');
  p.set('str:negint', '-7');
  p.set('str:bigint', '9223372036854775807');
  p.set('str:long', 'x'.repeat(500)); // compressible
  p.set('str:rand', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 255)));
  p.set('str:bin', Buffer.from([0, 1, 2, 255, 254, 10, 13]));
  p.set('str:empty', '');
  p.set('str:float', '3.14');
  p.set('str:ttl', 'v', 'PX', 3600000);
  p.append('str:appended', 'abc');
  p.append('str:appended', 'def');
  p.rpush('list:small', 'a', 'b', 'c', '1', '-2', '1000000', '9223372036854775807', '');
  for (let i = 0; i < big; i += 50) p.rpush('list:big', ...Array.from({ length: 50 }, (_, k) => `element-${i + k}-${'y'.repeat((i + k) % 70)}`));
  p.sadd('set:intset', 1, 2, 3, -5, 100000, 4294967296);
  p.sadd('set:listpack', 'a', 'b', 'c', '1');
  p.sadd('set:big', ...Array.from({ length: big }, (_, i) => `member:${i}`));
  p.sadd('set:bigint', ...Array.from({ length: 600 }, (_, i) => i * 3));
  p.zadd('zset:small', 1, 'a', 2.5, 'b', -3, 'c', 0, 'd', 1.5e10, 'e', 0.375, 'f');
  p.zadd('zset:inf', 'inf', 'top', '-inf', 'bottom', 7, 'mid');
  for (let i = 0; i < big; i++) p.zadd('zset:big', i * 0.5, `m${i}`);
  p.hset('hash:small', 'f1', 'v1', 'f2', '2', 'f3', '');
  for (let i = 0; i < big; i += 50) p.hset('hash:big', ...Array.from({ length: 50 }, (_, k) => [`field${i + k}`, `value${i + k}`]).flat());
  p.hset('hash:longval', 'f', 'z'.repeat(100));
  p.xadd('stream:s', '1-1', 'f', 'v', 'g', 'w');
  p.xadd('stream:s', '1-2', 'f', 'v2', 'g', 'w2');
  p.xadd('stream:s', '2-0', 'other', 'x');
  for (let i = 3; i < 250; i++) p.xadd('stream:s', `${i}-0`, 'f', String(i), 'g', 'w');
  p.xdel('stream:s', '5-0');
  p.xgroup('CREATE', 'stream:s', 'g1', '0');
  p.xgroup('CREATE', 'stream:s', 'g2', '$');
  p.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 3, 'STREAMS', 'stream:s', '>');
  p.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', 2, 'STREAMS', 'stream:s', '>');
  p.xack('stream:s', 'g1', '1-2');
  p.xadd('stream:empty', '5-5', 'a', 'b');
  p.xdel('stream:empty', '5-5');
  p.pexpire('list:small', 7200000);
  p.pexpire('zset:big', 7200000);
  p.pexpire('stream:s', 7200000);
  p.select(2);
  p.set('db2:key', 'in db 2');
  p.hset('db2:hash', 'a', '1');
  p.pexpire('db2:hash', 100000000);
  p.select(0);
  const res = await p.exec();
  for (const [err] of res) if (err) throw err;
}

function sortPairs(arr) {
  const pairs = [];
  for (let i = 0; i < arr.length; i += 2) pairs.push([arr[i].toString('latin1'), arr[i + 1].toString('latin1')]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs;
}

/** Everything a server holds in dbs 0..15: key -> {type, value, expire}. */
export async function fullDump(r, dbs = [0, 1, 2, 3]) {
  const out = {};
  for (const db of dbs) {
    await r.select(db);
    let cursor = '0';
    const keys = [];
    do {
      const [c, ks] = await r.scanBuffer(cursor, 'COUNT', 1000);
      cursor = c.toString();
      keys.push(...ks);
    } while (cursor !== '0');
    for (const kb of keys) {
      const k = kb.toString('latin1');
      const type = await r.type(kb);
      let value;
      if (type === 'string') value = (await r.getBuffer(kb)).toString('hex');
      else if (type === 'list') value = (await r.lrangeBuffer(kb, 0, -1)).map((b) => b.toString('latin1'));
      else if (type === 'set') value = (await r.smembersBuffer(kb)).map((b) => b.toString('latin1')).sort();
      else if (type === 'zset') value = (await r.zrangeBuffer(kb, 0, -1, 'WITHSCORES')).map((b) => b.toString('latin1'));
      else if (type === 'hash') value = sortPairs(await r.hgetallBuffer(kb));
      else if (type === 'stream') {
        const entries = await r.xrange(kb, '-', '+');
        const groups = await r.call('XINFO', 'GROUPS', kb);
        const gs = [];
        for (const g of groups) {
          const o = {};
          for (let i = 0; i < g.length; i += 2) o[g[i]] = g[i + 1];
          const cons = await r.call('XINFO', 'CONSUMERS', kb, o.name);
          const consumers = cons.map((c) => {
            const x = {};
            for (let i = 0; i < c.length; i += 2) x[c[i]] = c[i + 1];
            return [x.name, x.pending];
          });
          const pend = await r.xpending(kb, o.name, '-', '+', 1000);
          gs.push({ name: o.name, last: o['last-delivered-id'], read: o['entries-read'], pending: o.pending, consumers, pel: pend.map((e) => [e[0], e[1], e[3]]) });
        }
        const info = await r.call('XINFO', 'STREAM', kb);
        const io = {};
        for (let i = 0; i < info.length; i += 2) io[info[i]] = info[i + 1];
        value = { entries, groups: gs, length: io.length, lastId: io['last-generated-id'], maxDel: io['max-deleted-entry-id'], added: io['entries-added'], first: io['recorded-first-entry-id'] };
      }
      const expire = await r.pexpiretime(kb);
      out[`${db}:${k}`] = { type, value, expire };
    }
  }
  await r.select(0);
  return out;
}
