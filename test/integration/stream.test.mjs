// Stream commands against a real vireo-server: exact bytes on raw sockets (RESP2
// and RESP3), ioredis and node-redis (RESP2 and RESP3), blocking XREAD and
// XREADGROUP, and what Valkey 8 answers where Redis 7.0 differs (see
// test/interop/corpus/streams.txt for the differential corpus).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const int = (n) => `:${n}\r\n`;
const arr = (...items) => `*${items.length}\r\n${items.join('')}`;
const entry = (id, ...fv) => arr(bulk(id), arr(...fv.map(bulk)));
const INVALID_ID = '-ERR Invalid stream ID specified as stream command argument\r\n';

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
  assert.ok((await raw3.call('HELLO', '3')).startsWith('%'));
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
  for (const [cmd, want] of pairs) {
    const got = await conn.call(...cmd);
    assert.equal(got, want, JSON.stringify(cmd));
  }
}

test('XADD IDs, errors and 64-bit parts', async () => {
  await expectRaw(raw, [
    [['XADD', 'a', '1-1', 'f', 'v'], bulk('1-1')],
    [['XADD', 'a', '1-*', 'f', 'v'], bulk('1-2')],
    [['XADD', 'a', '1-2', 'f', 'v'], '-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n'],
    [['XADD', 'b', '0-0', 'f', 'v'], '-ERR The ID specified in XADD must be greater than 0-0\r\n'],
    [['XADD', 'b', '-', 'f', 'v'], INVALID_ID],
    [['XADD', 'b', '1-1', 'f'], "-ERR wrong number of arguments for 'xadd' command\r\n"],
    [['XADD', 'b', 'NOMKSTREAM', '1-1', 'f', 'v'], '$-1\r\n'],
    [['XADD', 'a', '9007199254740993-18446744073709551615', 'f', 'v'], bulk('9007199254740993-18446744073709551615')],
    [['XADD', 'a', '9007199254740993-*', 'f', 'v'], "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"],
    [['XADD', 'a', '18446744073709551615-18446744073709551615', 'f', 'v'], bulk('18446744073709551615-18446744073709551615')],
    [['XADD', 'a', '*', 'f', 'v'], '-ERR The stream has exhausted the last possible ID, unable to add more items\r\n'],
    [['XRANGE', 'a', '(9007199254740993-18446744073709551614', '(18446744073709551615-18446744073709551615'], arr(entry('9007199254740993-18446744073709551615', 'f', 'v'))],
    [['XLEN', 'a'], int(4)],
    [['TYPE', 'a'], '+stream\r\n'],
    [['OBJECT', 'ENCODING', 'a'], bulk('stream')],
  ]);
  const id = await r.xadd('auto', '*', 'x', '1');
  assert.match(id, /^\d+-\d+$/);
  const id2 = await nr2.xAdd('auto', '*', { y: '2' });
  assert.ok(id2 > id || id2.length > id.length);
});

test('XRANGE / XREVRANGE / XDEL / XTRIM through clients', async () => {
  await r.del('s');
  for (let i = 1; i <= 5; i++) await r.xadd('s', `${i}-0`, 'n', String(i));
  assert.deepEqual(await r.xrange('s', '(2-0', '+', 'COUNT', 2), [['3-0', ['n', '3']], ['4-0', ['n', '4']]]);
  assert.deepEqual(await r.xrevrange('s', '+', '-', 'COUNT', 1), [['5-0', ['n', '5']]]);
  assert.deepEqual(await nr2.xRange('s', '-', '2'), [
    { id: '1-0', message: { n: '1' } },
    { id: '2-0', message: { n: '2' } },
  ]);
  assert.deepEqual(await nr3.xRevRange('s', '5', '4'), [
    { id: '5-0', message: { n: '5' } },
    { id: '4-0', message: { n: '4' } },
  ]);
  assert.equal(await r.xdel('s', '2-0', '9-9'), 1);
  assert.equal(await nr3.xTrim('s', 'MAXLEN', 2), 2);
  assert.equal(await r.xlen('s'), 2);
  await expectRaw(raw3, [
    [['XRANGE', 's', '-', '+', 'COUNT', '0'], '_\r\n'],
    [['XRANGE', 'nokey', '-', '+'], '*0\r\n'],
  ]);
});

test('XREAD shapes in RESP2 and RESP3, $ and +', async () => {
  await r.del('r1', 'r2');
  await r.xadd('r1', '1-1', 'a', '1');
  await r.xadd('r1', '1-2', 'a', '2');
  await r.xadd('r2', '2-1', 'b', '1');
  await expectRaw(raw, [
    [['XREAD', 'COUNT', '1', 'STREAMS', 'r1', 'r2', '0', '0'], arr(arr(bulk('r1'), arr(entry('1-1', 'a', '1'))), arr(bulk('r2'), arr(entry('2-1', 'b', '1'))))],
    [['XREAD', 'STREAMS', 'r1', '$'], '*-1\r\n'],
    [['XREAD', 'STREAMS', 'r1', 'r2', '+', '+'], arr(arr(bulk('r1'), arr(entry('1-2', 'a', '2'))), arr(bulk('r2'), arr(entry('2-1', 'b', '1'))))],
    [['XREAD', 'STREAMS', 'nokey', '+'], '*-1\r\n'],
  ]);
  await expectRaw(raw3, [
    [['XREAD', 'STREAMS', 'r1', '1-1'], `%1\r\n${bulk('r1')}${arr(entry('1-2', 'a', '2'))}`],
    [['XREAD', 'STREAMS', 'r1', '$'], '_\r\n'],
  ]);
  const io = await r.xread('STREAMS', 'r1', '0');
  assert.deepEqual(io, [['r1', [['1-1', ['a', '1']], ['1-2', ['a', '2']]]]]);
  const n2 = await nr2.xRead({ key: 'r2', id: '0' });
  assert.equal(JSON.stringify(n2).includes('2-1'), true);
  const n3 = await nr3.xRead({ key: 'r2', id: '0' });
  assert.equal(JSON.stringify(n3).includes('2-1'), true);
});

test('blocked XREAD clients wake on XADD in FIFO order; $ remembers the last ID', async () => {
  await r.del('bx');
  await r.xadd('bx', '5-0', 'old', '1');
  const c1 = await RawConn.connect(srv.port);
  const c2 = await RawConn.connect(srv.port);
  try {
    c1.send('XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'bx', '$');
    await new Promise((res) => setTimeout(res, 50));
    c2.send('XREAD', 'BLOCK', '0', 'STREAMS', 'bx', '$');
    await new Promise((res) => setTimeout(res, 50));
    assert.match(await r.info('clients'), /blocked_clients:2/);
    await r.xadd('bx', '6-0', 'new', '1');
    const want = arr(arr(bulk('bx'), arr(entry('6-0', 'new', '1'))));
    assert.equal(await c1.readReply(), want);
    assert.equal(await c2.readReply(), want);
    // Timeout: null array.
    assert.equal(await c1.call('XREAD', 'BLOCK', '20', 'STREAMS', 'bx', '$'), '*-1\r\n');
  } finally {
    c1.close();
    c2.close();
  }
  // ioredis BLOCK that is served by another client.
  const p = r.duplicate();
  try {
    const pending = p.xread('BLOCK', 0, 'STREAMS', 'bx', '6-0');
    await new Promise((res) => setTimeout(res, 50));
    await nr2.xAdd('bx', '7-0', { k: 'v' });
    assert.deepEqual(await pending, [['bx', [['7-0', ['k', 'v']]]]]);
  } finally {
    p.disconnect();
  }
});

test('consumer groups: XGROUP, XREADGROUP, XACK, XPENDING', async () => {
  await r.del('q');
  await expectRaw(raw, [
    [['XGROUP', 'CREATE', 'q', 'g', '$'], '-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n'],
    [['XGROUP', 'CREATE', 'q', 'g', '$', 'MKSTREAM'], '+OK\r\n'],
    [['XGROUP', 'CREATE', 'q', 'g', '$'], '-BUSYGROUP Consumer Group name already exists\r\n'],
    [['XGROUP', 'SETID', 'q', 'nog', '0'], "-NOGROUP No such consumer group 'nog' for key name 'q'\r\n"],
    [['XREADGROUP', 'GROUP', 'nog', 'c', 'STREAMS', 'q', '>'], "-NOGROUP No such key 'q' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"],
    [['XADD', 'q', '1-0', 'f', '1'], bulk('1-0')],
    [['XADD', 'q', '2-0', 'f', '2'], bulk('2-0')],
    [['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'q', '>'], arr(arr(bulk('q'), arr(entry('1-0', 'f', '1'))))],
    [['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 'q', '>'], arr(arr(bulk('q'), arr(entry('2-0', 'f', '2'))))],
    [['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 'q', '>'], '*-1\r\n'],
    [['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 'q', '0'], arr(arr(bulk('q'), arr(entry('1-0', 'f', '1'))))],
    [['XPENDING', 'q', 'g'], arr(int(2), bulk('1-0'), bulk('2-0'), arr(arr(bulk('alice'), bulk('1')), arr(bulk('bob'), bulk('1'))))],
    [['XACK', 'q', 'g', '1-0', '1-0'], int(1)],
    [['XGROUP', 'CREATECONSUMER', 'q', 'g', 'carol'], int(1)],
    [['XGROUP', 'DELCONSUMER', 'q', 'g', 'bob'], int(1)],
    [['XPENDING', 'q', 'g'], arr(int(0), '$-1\r\n', '$-1\r\n', '*-1\r\n')],
  ]);
  await expectRaw(raw3, [[['XPENDING', 'q', 'g'], arr(int(0), '_\r\n', '_\r\n', '_\r\n')]]);
  const groups = await r.xinfo('GROUPS', 'q');
  assert.deepEqual(groups, [['name', 'g', 'consumers', 2, 'pending', 0, 'last-delivered-id', '2-0', 'entries-read', 2, 'lag', 0]]);
  const g3 = await nr3.xInfoGroups('q');
  assert.equal(g3[0].name, 'g');
  assert.equal(g3[0]['last-delivered-id'], '2-0');
  const cons = await nr2.xInfoConsumers('q', 'g');
  assert.deepEqual(
    cons.map((c) => c.name),
    ['alice', 'carol'],
  );
  // Valkey 8 (STREAM1): inactive is the fourth field; -1 for a consumer that never read.
  const rawCons = await raw.call('XINFO', 'CONSUMERS', 'q', 'g');
  assert.match(rawCons, /^\*2\r\n\*8\r\n\$4\r\nname\r\n\$5\r\nalice\r\n\$7\r\npending\r\n:0\r\n\$4\r\nidle\r\n:\d+\r\n\$8\r\ninactive\r\n:\d+\r\n/);
  assert.ok(rawCons.endsWith('$8\r\ninactive\r\n:-1\r\n'));
  // ioredis / node-redis XREADGROUP + XACK.
  await r.xadd('q', '3-0', 'f', '3');
  const got = await r.xreadgroup('GROUP', 'g', 'dave', 'STREAMS', 'q', '>');
  assert.deepEqual(got, [['q', [['3-0', ['f', '3']]]]]);
  assert.equal(await nr3.xAck('q', 'g', '3-0'), 1);
  const ext = await r.xpending('q', 'g', '-', '+', 10);
  assert.deepEqual(ext, []);
});

test('blocked XREADGROUP: served by XADD, unblocked by DEL and by XGROUP DESTROY', async () => {
  await r.del('bq');
  await r.xgroup('CREATE', 'bq', 'g', '$', 'MKSTREAM');
  const c1 = await RawConn.connect(srv.port);
  try {
    c1.send('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'bq', '>');
    await new Promise((res) => setTimeout(res, 50));
    await r.xadd('bq', '1-0', 'f', 'v');
    assert.equal(await c1.readReply(), arr(arr(bulk('bq'), arr(entry('1-0', 'f', 'v')))));
    c1.send('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'bq', '>');
    await new Promise((res) => setTimeout(res, 50));
    await r.xgroup('DESTROY', 'bq', 'g');
    assert.equal(await c1.readReply(), "-NOGROUP No such key 'bq' or consumer group 'g' in XREADGROUP with GROUP option\r\n");
    await r.xgroup('CREATE', 'bq', 'g', '$');
    c1.send('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'bq', '>');
    await new Promise((res) => setTimeout(res, 50));
    await r.del('bq');
    assert.equal(await c1.readReply(), '-UNBLOCKED the stream key no longer exists\r\n');
    assert.equal(await c1.call('PING'), '+PONG\r\n');
  } finally {
    c1.close();
  }
});

test('blocked XREADGROUP is unblocked with an error by FLUSHDB, like Valkey', async () => {
  const c1 = await RawConn.connect(srv.port);
  const c2 = await RawConn.connect(srv.port);
  try {
    // Database 7 so the rest of this file's keys are untouched.
    assert.equal(await c1.call('SELECT', '7'), '+OK\r\n');
    assert.equal(await c2.call('SELECT', '7'), '+OK\r\n');
    assert.equal(await c2.call('XGROUP', 'CREATE', 'fq', 'g', '$', 'MKSTREAM'), '+OK\r\n');
    c1.send('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'fq', '>');
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(await c2.call('FLUSHDB'), '+OK\r\n');
    assert.equal(await c1.readReply(), '-UNBLOCKED the stream key no longer exists\r\n');
    assert.equal(await c1.call('PING'), '+PONG\r\n');
  } finally {
    c1.close();
    c2.close();
  }
});

test('XCLAIM, XAUTOCLAIM with deleted entries', async () => {
  await r.del('c');
  for (let i = 1; i <= 4; i++) await r.xadd('c', `${i}-0`, 'f', String(i));
  await r.xgroup('CREATE', 'c', 'g', '0');
  await r.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 'c', '>');
  await r.xdel('c', '2-0');
  await expectRaw(raw, [
    [['XCLAIM', 'c', 'g', 'bob', '0', '1-0', 'JUSTID'], arr(bulk('1-0'))],
    [['XCLAIM', 'c', 'g', 'bob', '0', '1-0', 'FOO'], "-ERR Unrecognized XCLAIM option 'FOO'\r\n"],
    [['XAUTOCLAIM', 'c', 'g', 'bob', '0', '0', 'COUNT', '2'], arr(bulk('3-0'), arr(entry('1-0', 'f', '1')), arr(bulk('2-0')))],
    [['XAUTOCLAIM', 'c', 'g', 'bob', '0', '4-0', 'JUSTID'], arr(bulk('0-0'), arr(bulk('4-0')), '*0\r\n')],
    [['XAUTOCLAIM', 'c', 'g', 'bob', '0', '0', 'COUNT', '0'], '-ERR COUNT must be > 0\r\n'],
    [['XAUTOCLAIM', 'c', 'nog', 'bob', '0', '0'], "-NOGROUP No such key 'c' or consumer group 'nog'\r\n"],
  ]);
  const res = await r.xclaim('c', 'g', 'carol', 0, '3-0');
  assert.deepEqual(res, [['3-0', ['f', '3']]]);
  const ac = await nr2.xAutoClaimJustId('c', 'g', 'dave', 0, '0');
  assert.equal(ac.nextId, '0-0');
  assert.deepEqual(ac.messages, ['1-0', '3-0', '4-0']);
});

test('XINFO STREAM (and FULL), XSETID, COPY', async () => {
  await r.del('x', 'x2');
  await r.xadd('x', '1-0', 'a', '1');
  await r.xadd('x', '2-0', 'a', '2');
  await r.xdel('x', '2-0');
  await r.xgroup('CREATE', 'x', 'g', '0');
  await r.xreadgroup('GROUP', 'g', 'c', 'STREAMS', 'x', '>');
  const info = await r.xinfo('STREAM', 'x');
  assert.deepEqual(info.slice(0, 4), ['length', 1, 'radix-tree-keys', 1]);
  assert.deepEqual(info.slice(6), [
    'last-generated-id', '2-0', 'max-deleted-entry-id', '2-0', 'entries-added', 2, 'recorded-first-entry-id', '1-0',
    'groups', 1, 'first-entry', ['1-0', ['a', '1']], 'last-entry', ['1-0', ['a', '1']],
  ]);
  const full = await raw3.call('XINFO', 'STREAM', 'x', 'FULL');
  assert.ok(full.startsWith('%9\r\n'));
  assert.match(full, /\$9\r\nseen-time\r\n:\d+\r\n\$11\r\nactive-time\r\n:\d+\r\n\$9\r\npel-count\r\n:1\r\n/);
  await expectRaw(raw, [
    [['XSETID', 'x', '1-5'], '-ERR The ID specified in XSETID is smaller than current max_deleted_entry_id\r\n'],
    [['XSETID', 'x', '5-0', 'ENTRIESADDED', '0'], '-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n'],
    [['XSETID', 'x', '5-0', 'ENTRIESADDED', '7', 'MAXDELETEDID', '3-0'], '+OK\r\n'],
    [['XSETID', 'nokey', '5-0'], '-ERR no such key\r\n'],
    [['XINFO', 'STREAM', 'nokey'], '-ERR no such key\r\n'],
    [['COPY', 'x', 'x2'], int(1)],
    [['XACK', 'x2', 'g', '1-0'], int(1)],
    [['XPENDING', 'x2', 'g'], arr(int(0), '$-1\r\n', '$-1\r\n', '*-1\r\n')],
    [['XPENDING', 'x', 'g'], arr(int(1), bulk('1-0'), bulk('1-0'), arr(arr(bulk('c'), bulk('1'))))],
    [['XADD', 'x', '5-0', 'f', 'v'], '-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n'],
    [['XADD', 'x', '5-*', 'f', 'v'], bulk('5-1')],
  ]);
});

test('trimming: approximate trims whole nodes, LIMIT caps work', async () => {
  await r.del('t');
  const p = r.pipeline();
  for (let i = 1; i <= 250; i++) p.xadd('t', `1-${i}`, 'f', 'v');
  await p.exec();
  assert.equal(await r.xtrim('t', 'MAXLEN', '~', 120), 100);
  assert.equal(await r.xtrim('t', 'MAXLEN', '~', 10, 'LIMIT', 20), 0);
  assert.equal(await r.xtrim('t', 'MINID', '1-245'), 144);
  assert.deepEqual(await r.xrange('t', '-', '+', 'COUNT', 1), [['1-245', ['f', 'v']]]);
  await expectRaw(raw, [
    [['XTRIM', 't', 'MAXLEN', '1', 'LIMIT', '10'], '-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n'],
    [['XTRIM', 't', 'LIMIT', '10'], '-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n'],
    [['XADD', 't', 'MAXLEN', '2', '2-0', 'f', 'v'], bulk('2-0')],
    [['XLEN', 't'], int(2)],
  ]);
});
