// Active expiry at scale: many volatile keys that nobody reads again must be
// removed by the server's own expire cycle, while other clients keep being served.
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

const COUNT = 200000;

test(`${COUNT} keys with a TTL are removed by active expiry, clients keep being served`, async () => {
  const c = await RawConn.connect(srv.port);
  // Load volatile keys with a short TTL and some persistent ones, in one pipeline.
  let batch = '';
  for (let i = 0; i < COUNT; i++) {
    const k = `vol:${i}`;
    batch += `*5\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$1\r\nx\r\n$2\r\nPX\r\n$4\r\n1500\r\n`;
  }
  for (let i = 0; i < 1000; i++) {
    const k = `keep:${i}`;
    batch += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$1\r\ny\r\n`;
  }
  c.write(batch);
  const acks = await c.readBytes(5 * (COUNT + 1000), 60000);
  assert.equal(acks, '+OK\r\n'.repeat(COUNT + 1000));
  const loaded = Number((await c.call('DBSIZE')).slice(1, -2));
  assert.ok(loaded > 1000 && loaded <= COUNT + 1000, `DBSIZE after load: ${loaded}`);

  // Nobody touches the keys: DBSIZE counts keys not yet removed, so it only
  // reaches 1000 through the active expire cycle. Meanwhile a second client's
  // commands are answered (the cycle runs in bounded slices).
  const other = await RawConn.connect(srv.port);
  let size = COUNT + 1000;
  let pings = 0;
  const deadline = Date.now() + 60000;
  while (size > 1000 && Date.now() < deadline) {
    assert.equal(await other.call('PING'), '+PONG\r\n');
    pings++;
    const r = await c.call('DBSIZE');
    size = Number(r.slice(1, -2));
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.equal(size, 1000, 'every volatile key was expired actively');
  assert.ok(pings > 0);
  const info = await c.call('INFO', 'stats');
  const expired = Number(/expired_keys:(\d+)/.exec(info)[1]);
  assert.ok(expired >= COUNT, `expired_keys=${expired}`);
  assert.equal(await c.call('GET', 'keep:999'), '$1\r\ny\r\n');
  c.close();
  other.close();
});
