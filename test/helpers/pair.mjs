// A Vireo server and Debian's redis-server (the reference) started once for a
// test file's tests and stopped after them: the fixture of the differential
// tests that send the same commands to both.
import { before, after } from 'node:test';
import Redis from 'ioredis';
import { startVireo, startRedis, haveRedis } from './servers.mjs';
import { RawConn } from './resp.mjs';

/**
 * Call at a file's top level (registers a `before` and an `after` hook).
 * Options: vireoArgs / redisArgs (extra arguments), vireo (start Vireo,
 * default true), redis (start redis-server, default: when it is installed),
 * clients (ioredis clients cv and cr on them). Returns an object whose fields
 * are set once the `before` hook ran: srv (Vireo) and ref (redis-server, or
 * null), cv and cr (the ioredis clients, or null), and conn(port = srv.port,
 * resp3 = false), a RawConn closed after the tests.
 */
export function serverPair({ vireoArgs = [], redisArgs = [], vireo = true, redis = haveRedis(), clients = false } = {}) {
  const conns = [];
  const p = {
    srv: null,
    ref: null,
    cv: null,
    cr: null,
    async conn(port = p.srv.port, resp3 = false) {
      const c = await RawConn.connect(port);
      conns.push(c);
      if (resp3) await c.call('HELLO', '3');
      return c;
    },
  };
  before(async () => {
    if (vireo) p.srv = await startVireo(vireoArgs);
    if (redis) p.ref = await startRedis(redisArgs);
    if (clients) {
      if (p.srv !== null) p.cv = new Redis(p.srv.port);
      if (p.ref !== null) p.cr = new Redis(p.ref.port);
    }
  });
  after(async () => {
    for (const c of conns) c.close();
    p.cv?.disconnect();
    p.cr?.disconnect();
    await p.srv?.stop();
    await p.ref?.stop();
  });
  return p;
}
