// Command scripts for keyspace notification tests (test/integration/notifications.test.mjs):
// each family is a list of commands run in order on a fresh database with
// notify-keyspace-events KEA (plus m/n where noted); the subscriber's
// (channel, message) stream is recorded and compared.
import { RawConn } from './resp.mjs';

export const SCRIPTS = {
  generic: [
    ['SET', 'a', '1'],
    ['DEL', 'a', 'nokey'],
    ['SET', 'a', '1'],
    ['UNLINK', 'a'],
    ['SET', 'src', 'v'],
    ['SET', 'dst', 'old'],
    ['RENAME', 'src', 'dst'],
    ['RENAMENX', 'dst', 'other'],
    ['RENAME', 'other', 'other'],
    ['EXPIRE', 'other', '100'],
    ['PEXPIRE', 'other', '100000'],
    ['EXPIREAT', 'other', '99999999999'],
    ['PERSIST', 'other'],
    ['PERSIST', 'other'],
    ['EXPIRE', 'other', '100', 'NX'],
    ['EXPIRE', 'other', '200', 'NX'],
    ['EXPIRE', 'nokey', '100'],
    ['COPY', 'other', 'cp'],
    ['COPY', 'other', 'cp'],
    ['COPY', 'other', 'cp', 'REPLACE'],
    ['COPY', 'other', 'cp', 'DB', '1'],
    ['MOVE', 'cp', '2'],
    ['SET', 'gone', 'x'],
    ['EXPIRE', 'gone', '-1'],
    ['SET', 'gone', 'x'],
    ['PEXPIREAT', 'gone', '1'],
    ['RPUSH', 'l', '3', '1', '2'],
    ['SORT', 'l', 'STORE', 'sorted'],
    ['SORT', 'nokey', 'STORE', 'sorted'],
    ['SORT', 'nokey', 'STORE', 'sorted'],
    ['SET', 'r', 'x'],
    ['TOUCH', 'r'],
    ['TYPE', 'r'],
    ['EXISTS', 'r'],
    ['FLUSHDB'],
  ],
  string: [
    ['SET', 's', 'v'],
    ['SET', 's', 'v', 'NX'],
    ['SET', 's', 'w', 'XX', 'EX', '100'],
    ['SET', 's', 'w', 'KEEPTTL'],
    ['SET', 's', 'z', 'GET', 'PX', '100000'],
    ['SETNX', 's', 'q'],
    ['SETNX', 's2', 'q'],
    ['SETEX', 's3', '100', 'v'],
    ['PSETEX', 's4', '100000', 'v'],
    ['GETSET', 's', 'g'],
    ['MSET', 'm1', '1', 'm2', '2'],
    ['MSETNX', 'm3', '1', 'm4', '2'],
    ['MSETNX', 'm3', '1', 'm5', '2'],
    ['APPEND', 'ap', 'x'],
    ['APPEND', 'ap', 'y'],
    ['SETRANGE', 'sr', '3', 'abc'],
    ['SETRANGE', 'sr', '0', ''],
    ['INCR', 'n'],
    ['DECR', 'n'],
    ['INCRBY', 'n', '5'],
    ['DECRBY', 'n', '2'],
    ['INCRBYFLOAT', 'n', '1.5'],
    ['GETDEL', 'n'],
    ['GETDEL', 'n'],
    ['GETEX', 's', 'EX', '100'],
    ['GETEX', 's', 'PERSIST'],
    ['GETEX', 's'],
    ['GETEX', 's', 'PXAT', '1'],
    ['SETBIT', 'b', '7', '1'],
    ['BITFIELD', 'bf', 'SET', 'u8', '0', '255'],
    ['BITFIELD', 'bf', 'GET', 'u8', '0'],
    ['SET', 'x', 'abc'],
    ['BITOP', 'AND', 'bo', 'x', 'b'],
    ['BITOP', 'AND', 'bo', 'nokey'],
    ['PFADD', 'hll', 'a', 'b'],
    ['PFADD', 'hll', 'a'],
    ['PFMERGE', 'hll2', 'hll'],
    ['FLUSHDB'],
  ],
  list: [
    ['LPUSH', 'l', 'a', 'b'],
    ['RPUSH', 'l', 'c'],
    ['LPUSHX', 'l', 'z'],
    ['RPUSHX', 'nokey', 'z'],
    ['LINSERT', 'l', 'BEFORE', 'a', 'x'],
    ['LINSERT', 'l', 'BEFORE', 'nope', 'x'],
    ['LSET', 'l', '0', 'y'],
    ['LREM', 'l', '0', 'x'],
    ['LREM', 'l', '0', 'nope'],
    ['LTRIM', 'l', '0', '2'],
    ['LPOP', 'l'],
    ['RPOP', 'l', '1'],
    ['RPUSH', 'l', 'p', 'q', 'r'],
    ['RPOPLPUSH', 'l', 'l2'],
    ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'],
    ['LMOVE', 'l', 'l2', 'LEFT', 'LEFT'],
    ['LMOVE', 'l2', 'l2', 'LEFT', 'RIGHT'],
    ['LMPOP', '1', 'l2', 'LEFT', 'COUNT', '2'],
    ['BLPOP', 'l2', '0'],
    ['RPUSH', 'l3', 'a', 'b'],
    ['BRPOP', 'l3', '0'],
    ['BLMOVE', 'l3', 'l4', 'RIGHT', 'LEFT', '0'],
    ['BLMPOP', '0', '1', 'l4', 'RIGHT'],
    ['RPUSH', 'l5', 'a', 'b', 'c'],
    ['LTRIM', 'l5', '5', '10'],
    ['RPUSH', 'l5', 'a'],
    ['LREM', 'l5', '0', 'a'],
    ['FLUSHDB'],
  ],
  hash: [
    ['HSET', 'h', 'f', '1', 'g', '2'],
    ['HSET', 'h', 'f', '1'],
    ['HMSET', 'h', 'x', '1'],
    ['HSETNX', 'h', 'f', '9'],
    ['HSETNX', 'h', 'n', '9'],
    ['HINCRBY', 'h', 'f', '2'],
    ['HINCRBYFLOAT', 'h', 'f', '0.5'],
    ['HDEL', 'h', 'f', 'nope'],
    ['HDEL', 'h', 'nope'],
    ['HGET', 'h', 'g'],
    ['HDEL', 'h', 'g', 'x', 'n'],
    ['FLUSHDB'],
  ],
  set: [
    ['SADD', 's', 'a', 'b', 'c'],
    ['SADD', 's', 'a'],
    ['SREM', 's', 'a', 'nope'],
    ['SREM', 's', 'nope'],
    ['SMOVE', 's', 't', 'b'],
    ['SMOVE', 's', 't', 'nope'],
    ['SMOVE', 's', 's', 'c'],
    ['SMOVE', 's', 't', 'c'],
    ['SADD', 'u', '1', '2', '3'],
    ['SPOP', 'u'],
    ['SPOP', 'u', '1'],
    ['SPOP', 'u', '5'],
    ['SADD', 'a1', 'x', 'y'],
    ['SADD', 'a2', 'y', 'z'],
    ['SINTERSTORE', 'd', 'a1', 'a2'],
    ['SUNIONSTORE', 'd', 'a1', 'a2'],
    ['SDIFFSTORE', 'd', 'a1', 'a2'],
    ['SINTERSTORE', 'd', 'a1', 'nokey'],
    ['SINTERSTORE', 'd', 'a1', 'nokey'],
    ['SMISMEMBER', 'a1', 'x'],
    ['FLUSHDB'],
  ],
  zset: [
    ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
    ['ZADD', 'z', '1', 'a'],
    ['ZADD', 'z', 'INCR', '1', 'a'],
    ['ZINCRBY', 'z', '1', 'b'],
    ['ZADD', 'z', 'NX', '5', 'a'],
    ['ZREM', 'z', 'a', 'nope'],
    ['ZREM', 'z', 'nope'],
    ['ZADD', 'z', '5', 'e', '6', 'f', '7', 'g'],
    ['ZREMRANGEBYSCORE', 'z', '3', '3'],
    ['ZREMRANGEBYRANK', 'z', '0', '0'],
    ['ZREMRANGEBYLEX', 'z', '-', '+'],
    ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
    ['ZPOPMIN', 'z'],
    ['ZPOPMAX', 'z', '2'],
    ['BZPOPMIN', 'z', '0'],
    ['ZADD', 'z', '1', 'a', '2', 'b'],
    ['BZPOPMAX', 'z', '0'],
    ['ZMPOP', '1', 'z', 'MIN'],
    ['ZADD', 'z1', '1', 'a', '2', 'b'],
    ['ZADD', 'z2', '1', 'b', '2', 'c'],
    ['ZUNIONSTORE', 'zd', '2', 'z1', 'z2'],
    ['ZINTERSTORE', 'zd', '2', 'z1', 'z2'],
    ['ZDIFFSTORE', 'zd', '2', 'z1', 'z2'],
    ['ZRANGESTORE', 'zd', 'z1', '0', '-1'],
    ['ZINTERSTORE', 'zd', '2', 'z1', 'nokey'],
    ['ZINTERSTORE', 'zd', '2', 'z1', 'nokey'],
    ['ZRANGESTORE', 'zd', 'z1', '5', '6'],
    ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
    ['GEOSEARCHSTORE', 'gd', 'geo', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
    ['GEORADIUS', 'geo', '15', '37', '200', 'km', 'STORE', 'gd2'],
    ['FLUSHDB'],
  ],
  stream: [
    ['XADD', 'x', '1-1', 'f', 'v'],
    ['XADD', 'x', '2-1', 'f', 'v'],
    ['XADD', 'x', 'MAXLEN', '1', '3-1', 'f', 'v'],
    ['XADD', 'nokey', 'NOMKSTREAM', '*', 'f', 'v'],
    ['XADD', 'x', '4-1', 'f', 'v'],
    ['XDEL', 'x', '3-1', '9-9'],
    ['XDEL', 'x', '9-9'],
    ['XTRIM', 'x', 'MAXLEN', '0'],
    ['XTRIM', 'x', 'MAXLEN', '0'],
    ['XADD', 'x', '5-1', 'f', 'v'],
    ['XGROUP', 'CREATE', 'x', 'g', '0'],
    ['XGROUP', 'CREATE', 'y', 'g', '$', 'MKSTREAM'],
    ['XGROUP', 'CREATECONSUMER', 'x', 'g', 'c1'],
    ['XGROUP', 'CREATECONSUMER', 'x', 'g', 'c1'],
    ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 'x', '>'],
    ['XCLAIM', 'x', 'g', 'c3', '0', '5-1'],
    ['XAUTOCLAIM', 'x', 'g', 'c4', '0', '0'],
    ['XACK', 'x', 'g', '5-1'],
    ['XGROUP', 'SETID', 'x', 'g', '0'],
    ['XSETID', 'x', '9-9'],
    ['XGROUP', 'DELCONSUMER', 'x', 'g', 'c1'],
    ['XGROUP', 'DESTROY', 'x', 'g'],
    ['XGROUP', 'DESTROY', 'x', 'g'],
    ['FLUSHDB'],
  ],
  // Run with KEAm: expiry (lazy or active, the order is the same), MULTI/EXEC, odd corners.
  misc: [
    ['SET', 'k', 'v', 'PX', '1'],
    ['@sleep', 20],
    ['GET', 'k'],
    ['XADD', 's', '1-1', 'f', 'v'],
    ['XGROUP', 'CREATE', 's', 'g', '0'],
    ['XAUTOCLAIM', 's', 'g', 'c', '0', '0'],
    ['XCLAIM', 's', 'g', 'c2', '0', '1-1'],
    ['MULTI'],
    ['LPUSH', 'a', 'x'],
    ['RPOP', 'a'],
    ['INCR', 'n'],
    ['EXEC'],
    ['SET', 'e', 'v'],
    ['EXPIRE', 'e', '100'],
    ['RENAME', 'e', 'e2'],
    ['TTL', 'e2'],
    ['SELECT', '3'],
    ['SET', 'other-db', 'v'],
    ['DEL', 'other-db'],
    ['SELECT', '0'],
    ['FLUSHDB'],
  ],
  // Run with notify-keyspace-events KEA + m (keymiss) + n (new).
  missnew: [
    ['GET', 'a'],
    ['SET', 'a', '1'],
    ['SET', 'a', '2'],
    ['EXISTS', 'b'],
    ['TYPE', 'b'],
    ['LPUSH', 'l', 'x'],
    ['LRANGE', 'nokey', '0', '-1'],
    ['HGET', 'nokey', 'f'],
    ['INCR', 'cnt'],
    ['SET', 'src', 'x'],
    ['RENAME', 'src', 'dst'],
    ['COPY', 'dst', 'cp'],
    ['SADD', 'st', 'a'],
    ['SMOVE', 'st', 'st2', 'a'],
    ['FLUSHDB'],
  ],
};

function parseBulks(raw) {
  // *N\r\n then N bulk strings.
  const out = [];
  let i = raw.indexOf('\r\n') + 2;
  while (i < raw.length) {
    const nl = raw.indexOf('\r\n', i);
    const len = Number(raw.slice(i + 1, nl));
    out.push(raw.slice(nl + 2, nl + 2 + len));
    i = nl + 2 + len + 2;
  }
  return out;
}

/**
 * Runs `cmds` against a server at `port` (database 0, flushed first) while a
 * second connection is PSUBSCRIBEd to __key*__:*; returns the received events
 * as "channel message" strings, in order. A PUBLISH after the last command
 * marks the end, so nothing waits on time.
 */
export async function collectEvents(port, cmds, flags = 'KEA') {
  const c = await RawConn.connect(port);
  const sub = await RawConn.connect(port);
  try {
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', flags);
    await sub.call('PSUBSCRIBE', '__key*__:*');
    for (const cmd of cmds) {
      if (cmd[0] === '@sleep') await new Promise((r) => setTimeout(r, cmd[1]));
      else if (cmd[0] === '@until') {
        // ['@until', raw reply, ...command]: repeats the command until it answers that.
        for (let i = 0; i < 1000 && (await c.call(...cmd.slice(2))) !== cmd[1]; i++) await new Promise((r) => setTimeout(r, 10));
      } else await c.call(...cmd);
    }
    await c.call('PUBLISH', '__keyevent@99__:end', 'end');
    const out = [];
    for (;;) {
      const f = parseBulks(await sub.readReply());
      if (f[2] === '__keyevent@99__:end') break;
      out.push(`${f[2]} ${f[3]}`);
    }
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    await c.call('FLUSHALL');
    return out;
  } finally {
    c.close();
    sub.close();
  }
}
