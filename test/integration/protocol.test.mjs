// Protocol-level behaviour over a raw socket: multibulk, inline, pipelining,
// protocol errors (exact Valkey messages) and connection closing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
before(async () => {
  srv = await startVireo();
});
after(async () => {
  await srv.stop();
});

test('PING multibulk and inline', async () => {
  const c = await RawConn.connect(srv.port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  c.write('PING\r\n');
  assert.equal(await c.readReply(), '+PONG\r\n');
  c.write('PING\n');
  assert.equal(await c.readReply(), '+PONG\r\n');
  c.write('ECHO "a b\\x41\\n"\r\n');
  assert.equal(await c.readReply(), '$5\r\na bA\n\r\n');
  c.write("ECHO 'it\\'s'\r\n");
  assert.equal(await c.readReply(), "$4\r\nit's\r\n");
  c.close();
});

test('empty inline lines and zero/negative multibulk counts are skipped', async () => {
  const c = await RawConn.connect(srv.port);
  c.write('\r\n\r\n*0\r\n*-1\r\nPING\r\n');
  assert.equal(await c.readReply(), '+PONG\r\n');
  c.close();
});

test('pipelined commands split across writes', async () => {
  const c = await RawConn.connect(srv.port);
  const frame = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n';
  for (const ch of frame) c.write(ch);
  assert.equal(await c.readReply(), '+OK\r\n');
  assert.equal(await c.readReply(), '$5\r\nhello\r\n');
  let many = '';
  for (let i = 0; i < 1000; i++) many += '*1\r\n$4\r\nPING\r\n';
  c.write(many);
  const all = await c.readBytes(7 * 1000);
  assert.equal(all, '+PONG\r\n'.repeat(1000));
  c.close();
});

const protoErrors = [
  ['*abc\r\n', 'Protocol error: invalid multibulk length'],
  ['*3000000000\r\n', 'Protocol error: invalid multibulk length'],
  ['*1\r\n+PING\r\n', "Protocol error: expected '$', got '+'"],
  ['*1\r\n$-5\r\n', 'Protocol error: invalid bulk length'],
  ['*1\r\n$99999999999\r\n', 'Protocol error: invalid bulk length'],
  ['*1\r\n$4x\r\n', 'Protocol error: invalid bulk length'],
  ['ECHO "unbalanced\r\n', 'Protocol error: unbalanced quotes in request'],
  ["ECHO 'x'y\r\n", 'Protocol error: unbalanced quotes in request'],
];

for (const [input, msg] of protoErrors) {
  test(`protocol error: ${JSON.stringify(input)}`, async () => {
    const c = await RawConn.connect(srv.port);
    c.write(input);
    assert.equal(await c.readReply(), `-ERR ${msg}\r\n`);
    await c.waitClosed();
  });
}

test('too big inline request closes the connection', async () => {
  const c = await RawConn.connect(srv.port);
  c.write('A'.repeat(70 * 1024));
  assert.equal(await c.readReply(), '-ERR Protocol error: too big inline request\r\n');
  await c.waitClosed();
});

test('too big mbulk count string', async () => {
  const c = await RawConn.connect(srv.port);
  c.write('*' + '1'.repeat(70 * 1024));
  assert.equal(await c.readReply(), '-ERR Protocol error: too big mbulk count string\r\n');
  await c.waitClosed();
});

test('replies before a protocol error are delivered', async () => {
  const c = await RawConn.connect(srv.port);
  c.write('*1\r\n$4\r\nPING\r\n*x\r\n');
  assert.equal(await c.readReply(), '+PONG\r\n');
  assert.equal(await c.readReply(), '-ERR Protocol error: invalid multibulk length\r\n');
  await c.waitClosed();
});

test('unknown command error lists the first arguments', async () => {
  const c = await RawConn.connect(srv.port);
  assert.equal(await c.call('NOPE', 'a', 'b'), "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n");
  assert.equal(await c.call('GET'), "-ERR wrong number of arguments for 'get' command\r\n");
  c.close();
});

test('a large bulk argument arriving in pieces', async () => {
  const c = await RawConn.connect(srv.port);
  const big = Buffer.alloc(3 * 1024 * 1024, 'x');
  c.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${big.length}\r\n`);
  for (let i = 0; i < big.length; i += 100000) c.write(big.subarray(i, i + 100000));
  c.write('\r\n');
  assert.equal(await c.readReply(), '+OK\r\n');
  c.send('GET', 'big');
  const r = await c.readBytes(big.length + 12);
  assert.equal(r.length, big.length + 12);
  assert.ok(r.startsWith(`$${big.length}\r\nxxx`));
  c.close();
});

test('QUIT replies OK and closes', async () => {
  const c = await RawConn.connect(srv.port);
  assert.equal(await c.call('QUIT'), '+OK\r\n');
  await c.waitClosed();
});
