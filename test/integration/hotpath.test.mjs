// The per-command hot path: FAST commands timed per pipelined batch
// (src/server/cmdtiming.ts), the command-name lookup cache, replies written
// straight to the socket handle (src/server/directwrite.ts), the PUBLISH
// channel cache and short inline lines. Each test checks what a client sees:
// exact INFO commandstats / latency counts, replies in order and intact,
// messages delivered after subscribers come and go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
const open = [];

before(async () => {
  srv = await startVireo();
});
after(async () => {
  for (const c of open) c.close();
  await srv.stop();
});

async function conn() {
  const c = await RawConn.connect(srv.port);
  open.push(c);
  return c;
}

const frame = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a), 'latin1')}\r\n${a}\r\n`).join('');

/** cmdstat_<name> fields from INFO commandstats, or null. */
async function cmdstat(c, name) {
  const info = await c.call('INFO', 'commandstats');
  const m = new RegExp(`^cmdstat_${name}:calls=(\\d+),usec=(\\d+),usec_per_call=([\\d.]+),rejected_calls=(\\d+),failed_calls=(\\d+)`, 'm').exec(info);
  return m === null ? null : { calls: Number(m[1]), usec: Number(m[2]), failed: Number(m[5]) };
}

test('pipelined FAST commands: commandstats calls and latency histogram counts are exact', async () => {
  const c = await conn();
  assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
  // Mixed FAST (PING, SET, GET, INCR) and non-FAST (DEL, TYPE... here KEYS) commands in one write, several times.
  let batch = '';
  for (let i = 0; i < 500; i++) batch += frame('PING') + frame('SET', `hp:k${i % 7}`, 'v') + frame('GET', `hp:k${i % 7}`) + (i % 50 === 0 ? frame('KEYS', 'hp:nomatch*') : '') + frame('INCR', 'hp:n');
  for (let r = 0; r < 4; r++) c.write(batch);
  const replies = 4 * (500 * 4 + 10);
  for (let i = 0; i < replies; i++) assert.notEqual(await c.readReply(), null);
  for (const [name, calls] of [['ping', 2000], ['set', 2000], ['get', 2000], ['incr', 2000], ['keys', 40]]) {
    const s = await cmdstat(c, name);
    assert.ok(s !== null, name);
    assert.equal(s.calls, calls, `${name} calls`);
    assert.equal(s.failed, 0);
    assert.ok(s.usec >= 0);
  }
  assert.equal(await c.call('GET', 'hp:n'), '$4\r\n2000\r\n');
  // LATENCY HISTOGRAM counts one entry per call (the deferred ones included).
  const h = await c.call('LATENCY', 'HISTOGRAM', 'ping', 'incr');
  for (const name of ['ping', 'incr']) {
    const m = new RegExp(`\\$${name.length}\\r\\n${name}\\r\\n\\*4\\r\\n\\$5\\r\\ncalls\\r\\n:(\\d+)`).exec(h);
    assert.ok(m !== null, h.slice(0, 300));
    assert.equal(Number(m[1]), 2000, `${name} histogram calls`);
  }
  // A stats reader on another connection sees every command of a finished batch.
  const d = await conn();
  c.write(frame('PING').repeat(300));
  for (let i = 0; i < 300; i++) await c.readReply();
  assert.equal((await cmdstat(d, 'ping')).calls, 2300);
});

test('slowlog-log-slower-than 0 still logs every pipelined FAST command with its own entry', async () => {
  const c = await conn();
  assert.equal(await c.call('SLOWLOG', 'RESET'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0'), '+OK\r\n');
  try {
    c.write(frame('ECHO', 'a1') + frame('ECHO', 'a2') + frame('PING', 'a3') + frame('GET', 'hp:none'));
    for (let i = 0; i < 4; i++) await c.readReply();
    const log = await c.call('SLOWLOG', 'GET', '10');
    for (const a of ['a1', 'a2', 'a3', 'hp:none']) assert.ok(log.includes(`$${a.length}\r\n${a}\r\n`), `${a} logged: ${log.slice(0, 400)}`);
  } finally {
    assert.equal(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000'), '+OK\r\n');
  }
});

test('command names in any case resolve through the lookup cache; unknown names still fail', async () => {
  const c = await conn();
  const names = ['PING', 'ping', 'PiNg', 'pINg', 'PINGX', 'PIN', 'echo', 'ECHO', 'Echo', 'get', 'GET', 'gEt', 'xyz', 'PING'];
  let batch = '';
  for (let r = 0; r < 3; r++) for (const n of names) batch += n.toLowerCase().startsWith('echo') ? frame(n, 'e') : n.toLowerCase() === 'get' ? frame(n, 'hp:nokey') : frame(n);
  c.write(batch);
  for (let r = 0; r < 3; r++) {
    for (const n of names) {
      const got = await c.readReply();
      const l = n.toLowerCase();
      if (l === 'ping') assert.equal(got, '+PONG\r\n');
      else if (l === 'echo') assert.equal(got, '$1\r\ne\r\n');
      else if (l === 'get') assert.equal(got, '$-1\r\n');
      else assert.equal(got, `-ERR unknown command '${n}', with args beginning with: \r\n`);
    }
  }
});

test('replies written while the client does not read arrive complete and in order', async () => {
  const c = await conn();
  const big = 'x'.repeat(60000); // under the direct-write size, many times the socket buffer in total
  assert.equal(await c.call('SET', 'hp:big', big), '+OK\r\n');
  c.sock.pause(); // stop reading: the server's writes stop completing at once
  let batch = '';
  for (let i = 0; i < 200; i++) batch += frame('GET', 'hp:big') + frame('ECHO', `n${i}`) + frame('PING');
  c.write(batch);
  await new Promise((r) => setTimeout(r, 300));
  c.sock.resume();
  for (let i = 0; i < 200; i++) {
    assert.equal(await c.readReply(), `$60000\r\n${big}\r\n`);
    assert.equal(await c.readReply(), `$${String(i).length + 1}\r\nn${i}\r\n`);
    assert.equal(await c.readReply(), '+PONG\r\n');
  }
  assert.equal(await c.call('PING'), '+PONG\r\n');
});

test('QUIT after pipelined replies: every reply is written before the connection closes', async () => {
  const c = await conn();
  c.write(frame('PING').repeat(1000) + frame('QUIT') + frame('PING'));
  let pongs = 0;
  for (let i = 0; i < 1000; i++) if ((await c.readReply()) === '+PONG\r\n') pongs++;
  assert.equal(pongs, 1000);
  assert.equal(await c.readReply(), '+OK\r\n');
  await c.waitClosed();
  assert.equal(await c.readReply(), null);
});

test('PUBLISH to a channel whose subscribers come and go reaches exactly the current ones', async () => {
  const pub = await conn();
  const s1 = await conn();
  const s2 = await conn();
  const msg = (ch, m) => `*3\r\n$7\r\nmessage\r\n$${ch.length}\r\n${ch}\r\n$${m.length}\r\n${m}\r\n`;
  assert.equal(await s1.call('SUBSCRIBE', 'hp:ch'), '*3\r\n$9\r\nsubscribe\r\n$5\r\nhp:ch\r\n:1\r\n');
  assert.equal(await pub.call('PUBLISH', 'hp:ch', 'm1'), ':1\r\n');
  assert.equal(await pub.call('PUBLISH', 'hp:ch', 'm2'), ':1\r\n');
  assert.equal(await s1.readReply(), msg('hp:ch', 'm1'));
  assert.equal(await s1.readReply(), msg('hp:ch', 'm2'));
  // The last subscriber leaves: the channel is gone, PUBLISH reaches nobody.
  assert.equal(await s1.call('UNSUBSCRIBE', 'hp:ch'), '*3\r\n$11\r\nunsubscribe\r\n$5\r\nhp:ch\r\n:0\r\n');
  assert.equal(await pub.call('PUBLISH', 'hp:ch', 'm3'), ':0\r\n');
  // A new subscriber set for the same name, and a shard channel of the same name.
  assert.equal(await s2.call('SUBSCRIBE', 'hp:ch'), '*3\r\n$9\r\nsubscribe\r\n$5\r\nhp:ch\r\n:1\r\n');
  assert.equal(await s1.call('SSUBSCRIBE', 'hp:ch'), '*3\r\n$10\r\nssubscribe\r\n$5\r\nhp:ch\r\n:1\r\n');
  assert.equal(await pub.call('PUBLISH', 'hp:ch', 'm4'), ':1\r\n');
  assert.equal(await pub.call('SPUBLISH', 'hp:ch', 'm5'), ':1\r\n');
  assert.equal(await pub.call('PUBLISH', 'hp:ch', 'm6'), ':1\r\n');
  assert.equal(await pub.call('PUBLISH', 'hp:other', 'm7'), ':0\r\n');
  assert.equal(await s2.readReply(), msg('hp:ch', 'm4'));
  assert.equal(await s2.readReply(), msg('hp:ch', 'm6'));
  assert.equal(await s1.readReply(), `*3\r\n$8\r\nsmessage\r\n$5\r\nhp:ch\r\n$2\r\nm5\r\n`);
  // A subscriber that disconnects drops out too.
  s2.close();
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 100 && (await pub.call('PUBSUB', 'NUMSUB', 'hp:ch')) !== '*2\r\n$5\r\nhp:ch\r\n:0\r\n'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await pub.call('PUBLISH', 'hp:ch', 'm8'), ':0\r\n');
  // Payloads of 10-99 and 100+ bytes (the length prefix written by hand up to two digits).
  assert.equal(await s1.call('SUBSCRIBE', 'hp:len'), '*3\r\n$9\r\nsubscribe\r\n$6\r\nhp:len\r\n:1\r\n'); // shard channels do not count
  for (const n of [0, 9, 10, 42, 99, 100, 1000]) {
    const m = 'p'.repeat(n);
    assert.equal(await pub.call('PUBLISH', 'hp:len', m), ':1\r\n');
    assert.equal(await s1.readReply(), msg('hp:len', m));
  }
});

test('inline commands longer than the quick newline scan, and split across reads', async () => {
  const c = await conn();
  const arg = 'y'.repeat(200);
  c.write(`ECHO ${arg}\r\nPING\r\n`);
  assert.equal(await c.readReply(), `$200\r\n${arg}\r\n`);
  assert.equal(await c.readReply(), '+PONG\r\n');
  // One inline line delivered in pieces, the newline arriving last.
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  const line = `ECHO ${'z'.repeat(150)}`;
  for (let i = 0; i < line.length; i += 37) {
    sock.write(line.slice(i, i + 37));
    await new Promise((r) => setTimeout(r, 10));
  }
  sock.write('\r\n');
  for (let i = 0; i < 200 && got.length < 150 + 8; i++) await new Promise((r) => setTimeout(r, 20));
  sock.destroy();
  assert.equal(got, `$150\r\n${'z'.repeat(150)}\r\n`);
});
