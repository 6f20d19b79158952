// MULTI / EXEC / DISCARD / WATCH / UNWATCH against a real vireo-server: exact
// bytes in RESP2 and RESP3, queueing errors and EXECABORT, runtime errors in
// place, WATCH invalidation (other clients, own writes, expiry, FLUSHALL,
// SWAPDB, MOVE), blocking commands inside EXEC, CLIENT LIST / INFO fields, and
// the ioredis and node-redis transaction APIs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient, WatchError } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const EXECABORT = '-EXECABORT Transaction discarded because of previous errors.\r\n';

let srv;
const conns = [];

before(async () => {
  srv = await startVireo();
});

after(async () => {
  for (const c of conns) c.close();
  await srv?.stop();
});

async function conn(resp3 = false) {
  const c = await RawConn.connect(srv.port);
  conns.push(c);
  if (resp3) await c.call('HELLO', '3');
  return c;
}

function infoField(info, name) {
  const m = new RegExp(`${name}:(\\d+)`).exec(info);
  return m ? Number(m[1]) : NaN;
}

async function infoText(c) {
  const raw = await c.call('INFO', 'clients');
  return raw;
}

for (const resp3 of [false, true]) {
  const P = resp3 ? 'RESP3' : 'RESP2';
  const NULLARR = resp3 ? '_\r\n' : '*-1\r\n';

  test(`${P}: MULTI/EXEC basics, queued replies, runtime errors in place`, async () => {
    const c = await conn(resp3);
    await c.call('DEL', 'tx:a');
    assert.equal(await c.call('MULTI'), '+OK\r\n');
    assert.equal(await c.call('SET', 'tx:a', '1'), '+QUEUED\r\n');
    assert.equal(await c.call('INCR', 'tx:a'), '+QUEUED\r\n');
    assert.equal(await c.call('LPUSH', 'tx:a', 'x'), '+QUEUED\r\n');
    assert.equal(await c.call('GET', 'tx:a'), '+QUEUED\r\n');
    assert.equal(
      await c.call('EXEC'),
      '*4\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n',
    );
    // Empty transaction
    await c.call('MULTI');
    assert.equal(await c.call('EXEC'), '*0\r\n');
  });

  test(`${P}: errors outside and inside MULTI`, async () => {
    const c = await conn(resp3);
    assert.equal(await c.call('EXEC'), '-ERR EXEC without MULTI\r\n');
    assert.equal(await c.call('DISCARD'), '-ERR DISCARD without MULTI\r\n');
    assert.equal(
      await c.call('EXEC', 'x'),
      "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
    );
    // Nested MULTI and WATCH inside MULTI: errors that do not abort the transaction.
    await c.call('MULTI');
    assert.equal(await c.call('MULTI'), '-ERR MULTI calls can not be nested\r\n');
    assert.equal(await c.call('WATCH', 'k'), '-ERR WATCH inside MULTI is not allowed\r\n');
    assert.equal(await c.call('PING'), '+QUEUED\r\n');
    assert.equal(await c.call('EXEC'), '*1\r\n+PONG\r\n');
  });

  test(`${P}: queueing errors abort with EXECABORT`, async () => {
    const c = await conn(resp3);
    const cases = [
      [['NOSUCHCMD', 'a'], "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' \r\n"],
      [['SET', 'tx:k'], "-ERR wrong number of arguments for 'set' command\r\n"],
      [['CONFIG', 'NOPE'], "-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n"],
      [['MULTI', 'x'], "-ERR wrong number of arguments for 'multi' command\r\n"],
      [['DISCARD', 'x'], "-ERR wrong number of arguments for 'discard' command\r\n"],
      [['SHUTDOWN'], '-ERR Command not allowed inside a transaction\r\n'],
    ];
    for (const [cmd, err] of cases) {
      await c.call('DEL', 'tx:k');
      assert.equal(await c.call('MULTI'), '+OK\r\n');
      assert.equal(await c.call('SET', 'tx:k', 'v'), '+QUEUED\r\n');
      assert.equal(await c.call(...cmd), err, cmd.join(' '));
      assert.equal(await c.call('SET', 'tx:k2', 'v'), '+QUEUED\r\n');
      assert.equal(await c.call('EXEC'), EXECABORT, cmd.join(' '));
      assert.equal(await c.call('EXISTS', 'tx:k'), ':0\r\n');
      assert.equal(await c.call('PING'), '+PONG\r\n'); // out of MULTI
    }
    // EXEC with arguments inside MULTI aborts with the reason.
    await c.call('MULTI');
    await c.call('SET', 'tx:k', 'v');
    assert.equal(
      await c.call('EXEC', 'x'),
      "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
    );
    assert.equal(await c.call('EXISTS', 'tx:k'), ':0\r\n');
    assert.equal(await c.call('EXEC'), '-ERR EXEC without MULTI\r\n');
  });

  test(`${P}: DISCARD drops the queue and unwatches`, async () => {
    const c = await conn(resp3);
    const o = await conn(resp3);
    await c.call('SET', 'tx:d', '1');
    await c.call('WATCH', 'tx:d');
    await c.call('MULTI');
    await c.call('INCR', 'tx:d');
    assert.equal(await c.call('DISCARD'), '+OK\r\n');
    assert.equal(await c.call('GET', 'tx:d'), '$1\r\n1\r\n');
    await o.call('SET', 'tx:d', '10'); // no longer watched
    await c.call('MULTI');
    await c.call('INCR', 'tx:d');
    assert.equal(await c.call('EXEC'), '*1\r\n:11\r\n');
    // DISCARD clears the dirty flag too
    await c.call('WATCH', 'tx:d');
    await c.call('SET', 'tx:d', '1');
    await c.call('MULTI');
    await c.call('DISCARD');
    await c.call('MULTI');
    await c.call('INCR', 'tx:d');
    assert.equal(await c.call('EXEC'), '*1\r\n:2\r\n');
  });

  test(`${P}: WATCH race between two clients`, async () => {
    const a = await conn(resp3);
    const b = await conn(resp3);
    await a.call('SET', 'tx:w', '1');
    assert.equal(await a.call('WATCH', 'tx:w', 'tx:other'), '+OK\r\n');
    await b.call('SET', 'tx:w', '2');
    await a.call('MULTI');
    await a.call('SET', 'tx:w', '100');
    assert.equal(await a.call('EXEC'), NULLARR);
    assert.equal(await a.call('GET', 'tx:w'), '$1\r\n2\r\n');
    // Not invalidated: a read, a write that changes nothing, another db's key.
    await a.call('WATCH', 'tx:w');
    await b.call('GET', 'tx:w');
    await b.call('DEL', 'tx:nothing');
    await b.call('SELECT', '3');
    await b.call('SET', 'tx:w', 'other-db');
    await b.call('SELECT', '0');
    await a.call('MULTI');
    await a.call('GET', 'tx:w');
    assert.equal(await a.call('EXEC'), '*1\r\n$1\r\n2\r\n');
    // Own write before EXEC invalidates; UNWATCH clears it.
    await a.call('WATCH', 'tx:w');
    await a.call('APPEND', 'tx:w', 'x');
    await a.call('MULTI');
    await a.call('PING');
    assert.equal(await a.call('EXEC'), NULLARR);
    await a.call('WATCH', 'tx:w');
    await a.call('SET', 'tx:w', 'y');
    assert.equal(await a.call('UNWATCH'), '+OK\r\n');
    await a.call('MULTI');
    await a.call('PING');
    assert.equal(await a.call('EXEC'), '*1\r\n+PONG\r\n');
  });

  test(`${P}: WATCH invalidated by FLUSHALL, FLUSHDB, SWAPDB, MOVE, RENAME, EXPIRE`, async () => {
    const a = await conn(resp3);
    const b = await conn(resp3);
    const expectNull = async () => {
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), NULLARR);
    };
    const expectPong = async () => {
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), '*1\r\n+PONG\r\n');
    };
    await b.call('SET', 'tx:f', '1');
    await a.call('WATCH', 'tx:f');
    await b.call('FLUSHALL');
    await expectNull();
    // FLUSHALL does not touch keys that did not exist
    await a.call('WATCH', 'tx:f');
    await b.call('FLUSHALL');
    await expectPong();
    await b.call('SET', 'tx:f', '1');
    await a.call('WATCH', 'tx:f');
    await b.call('FLUSHDB');
    await expectNull();
    // SWAPDB: existing key swapped away, and a missing key swapped in
    await b.call('SET', 'tx:f', '1');
    await a.call('WATCH', 'tx:f');
    await b.call('SWAPDB', '0', '1');
    await expectNull();
    await b.call('SWAPDB', '0', '1');
    await b.call('FLUSHALL');
    await b.call('SELECT', '1');
    await b.call('SET', 'tx:f', '1');
    await b.call('SELECT', '0');
    await a.call('WATCH', 'tx:f');
    await b.call('SWAPDB', '0', '1');
    await expectNull();
    await b.call('FLUSHALL');
    // MOVE to another db (source deleted), RENAME onto the watched key, EXPIRE
    await b.call('SET', 'tx:f', '1');
    await a.call('WATCH', 'tx:f');
    await b.call('MOVE', 'tx:f', '2');
    await expectNull();
    await b.call('SET', 'tx:src', '1');
    await a.call('WATCH', 'tx:dst');
    await b.call('RENAME', 'tx:src', 'tx:dst');
    await expectNull();
    await a.call('WATCH', 'tx:dst');
    await b.call('EXPIRE', 'tx:dst', '100');
    await expectNull();
    await b.call('FLUSHALL');
  });

  test(`${P}: WATCH and expiry`, async () => {
    const a = await conn(resp3);
    const b = await conn(resp3);
    // Key expires between WATCH and EXEC, nobody touches it (active expiry off).
    await b.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      await a.call('SET', 'tx:e', '1', 'PX', '30');
      await a.call('WATCH', 'tx:e');
      await sleep(60);
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), NULLARR);
      // Lazily expired by a read from another client
      await a.call('SET', 'tx:e', '1', 'PX', '30');
      await a.call('WATCH', 'tx:e');
      await sleep(60);
      assert.equal(await b.call('EXISTS', 'tx:e'), ':0\r\n');
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), NULLARR);
      // Watching a key that is already stale does not fail EXEC, even once deleted
      await a.call('SET', 'tx:e', '1', 'PX', '1');
      await sleep(10);
      await a.call('WATCH', 'tx:e');
      assert.equal(await b.call('EXISTS', 'tx:e'), ':0\r\n');
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), '*1\r\n+PONG\r\n');
      // ... and FLUSHDB of a stale watched key changes nothing
      await a.call('SET', 'tx:e', '1', 'PX', '1');
      await sleep(10);
      await a.call('WATCH', 'tx:e');
      await b.call('FLUSHDB');
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), '*1\r\n+PONG\r\n');
    } finally {
      await b.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
    // Active expiry invalidates too.
    await a.call('SET', 'tx:e', '1', 'PX', '30');
    await a.call('WATCH', 'tx:e');
    for (let i = 0; i < 100; i++) {
      if ((await b.call('DBSIZE')) === ':0\r\n') break;
      await sleep(20);
    }
    await a.call('MULTI');
    await a.call('PING');
    assert.equal(await a.call('EXEC'), NULLARR);
  });

  test(`${P}: blocking commands inside MULTI do not block; blocked clients served after EXEC`, async () => {
    const a = await conn(resp3);
    const w = await conn(resp3);
    await a.call('DEL', 'tx:l');
    await a.call('MULTI');
    await a.call('BLPOP', 'tx:l', '0');
    assert.equal(await a.call('EXEC'), `*1\r\n${NULLARR}`);
    // w blocks; a pushes and pops in one transaction: the pop inside EXEC wins.
    w.send('BLPOP', 'tx:l', '0');
    for (let i = 0; i < 100; i++) {
      if (infoField(await infoText(a), 'blocked_clients') >= 1) break;
      await sleep(10);
    }
    await a.call('MULTI');
    await a.call('LPUSH', 'tx:l', 'x', 'y');
    await a.call('LPOP', 'tx:l');
    assert.equal(await a.call('EXEC'), '*2\r\n:2\r\n$1\r\ny\r\n');
    const kv = resp3 ? '*2\r\n$4\r\ntx:l\r\n$1\r\nx\r\n' : '*2\r\n$4\r\ntx:l\r\n$1\r\nx\r\n';
    assert.equal(await w.readReply(), kv);
    assert.equal(await a.call('EXISTS', 'tx:l'), ':0\r\n');
  });
}

test('MONITOR inside MULTI is refused at EXEC', async () => {
  const c = await conn();
  await c.call('MULTI');
  assert.equal(await c.call('MONITOR'), '+QUEUED\r\n');
  assert.equal(await c.call('EXEC'), "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n");
  assert.equal(await c.call('PING'), '+PONG\r\n');
});

test('RESET leaves MULTI and unwatches; QUIT inside MULTI closes', async () => {
  const c = await conn();
  await c.call('WATCH', 'tx:r');
  await c.call('MULTI');
  await c.call('SET', 'tx:r', '1');
  assert.equal(await c.call('RESET'), '+RESET\r\n');
  assert.equal(await c.call('EXEC'), '-ERR EXEC without MULTI\r\n');
  assert.equal(await c.call('EXISTS', 'tx:r'), ':0\r\n');
  assert.equal(infoField(await infoText(c), 'total_watched_keys'), 0);
  const q = await conn();
  await q.call('MULTI');
  assert.equal(await q.call('QUIT'), '+OK\r\n');
  await q.waitClosed();
});

test('CLIENT LIST multi= watch= and flags; INFO watching_clients / total_watched_keys', async () => {
  const a = await conn();
  const b = await conn();
  const other = await conn();
  const infoBefore = await infoText(other);
  const wc0 = infoField(infoBefore, 'watching_clients');
  const wk0 = infoField(infoBefore, 'total_watched_keys');
  await a.call('WATCH', 'tx:i1', 'tx:i2', 'tx:i1');
  await b.call('WATCH', 'tx:i1');
  let info = await infoText(other);
  assert.equal(infoField(info, 'watching_clients'), wc0 + 2);
  assert.equal(infoField(info, 'total_watched_keys'), wk0 + 2);
  const aid = (await a.call('CLIENT', 'ID')).slice(1, -2);
  const lineOf = async (id) => (await other.call('CLIENT', 'LIST', 'ID', id)).split('\n').find((l) => l.includes(`id=${id} `));
  await a.call('MULTI');
  await a.call('PING');
  await a.call('PING');
  let line = await lineOf(aid);
  assert.match(line, / flags=x /);
  assert.match(line, / multi=2 watch=2 /);
  await a.call('EXEC');
  line = await a.call('CLIENT', 'INFO');
  assert.match(line, / flags=N /);
  assert.match(line, / multi=-1 watch=0 /);
  // b becomes dirty: flag d, and its watches are released
  await other.call('SET', 'tx:i1', 'v');
  line = await b.call('CLIENT', 'INFO');
  assert.match(line, / flags=d /);
  assert.match(line, / watch=0 /);
  info = await infoText(other);
  assert.equal(infoField(info, 'watching_clients'), wc0);
  assert.equal(infoField(info, 'total_watched_keys'), wk0);
  await b.call('UNWATCH');
  // A disconnecting watcher is forgotten
  const d = await conn();
  await d.call('WATCH', 'tx:gone');
  d.close();
  for (let i = 0; i < 100; i++) {
    if (infoField(await infoText(other), 'total_watched_keys') === wk0) break;
    await sleep(10);
  }
  assert.equal(infoField(await infoText(other), 'total_watched_keys'), wk0);
});

test('ioredis multi() / watch()', async () => {
  const r = new Redis({ port: srv.port, lazyConnect: true });
  const r2 = new Redis({ port: srv.port, lazyConnect: true });
  await r.connect();
  await r2.connect();
  try {
    await r.del('tx:io');
    const res = await r.multi().set('tx:io', '5').incr('tx:io').get('tx:io').exec();
    assert.deepEqual(res, [
      [null, 'OK'],
      [null, 6],
      [null, '6'],
    ]);
    const res2 = await r.multi().set('tx:io', 'a').incr('tx:io').exec();
    assert.equal(res2[0][1], 'OK');
    assert.match(String(res2[1][0]), /not an integer/);
    await r.watch('tx:io');
    await r2.set('tx:io', 'changed');
    assert.equal(await r.multi().set('tx:io', 'mine').exec(), null);
    assert.equal(await r.get('tx:io'), 'changed');
    await assert.rejects(r.multi().set('tx:io').exec(), /EXECABORT/);
  } finally {
    r.disconnect();
    r2.disconnect();
  }
});

for (const RESP of [2, 3]) {
  test(`node-redis RESP${RESP} multi() / watch and WatchError`, async () => {
    const url = `redis://127.0.0.1:${srv.port}`;
    const c = createClient({ url, RESP });
    const c2 = createClient({ url, RESP });
    await c.connect();
    await c2.connect();
    try {
      await c.del('tx:nr');
      const res = await c.multi().set('tx:nr', '1').incr('tx:nr').get('tx:nr').exec();
      assert.deepEqual(res, ['OK', 2, '2']);
      // WATCH on an isolated connection, invalidated by another client.
      await assert.rejects(
        c.executeIsolated
          ? c.executeIsolated(async (iso) => {
              await iso.watch('tx:nr');
              await c2.set('tx:nr', 'x');
              return iso.multi().set('tx:nr', 'y').exec();
            })
          : (async () => {
              await c.watch('tx:nr');
              await c2.set('tx:nr', 'x');
              return c.multi().set('tx:nr', 'y').exec();
            })(),
        (e) => e instanceof WatchError,
      );
      assert.equal(await c.get('tx:nr'), 'x');
    } finally {
      await c.quit().catch(() => {});
      await c2.quit().catch(() => {});
    }
  });
}
