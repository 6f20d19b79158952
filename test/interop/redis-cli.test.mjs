// redis-cli (Debian's redis-tools) against a real vireo-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startVireo } from '../helpers/servers.mjs';

let srv;
before(async () => {
  srv = await startVireo();
});
after(async () => {
  await srv.stop();
});

const cli = (...args) => execFileSync('redis-cli', ['-p', String(srv.port), ...args], { encoding: 'latin1' });

test('redis-cli ping, set, get', () => {
  assert.equal(cli('ping'), 'PONG\n');
  assert.equal(cli('set', 'demo', 'hola valkey'), 'OK\n');
  assert.equal(cli('get', 'demo'), 'hola valkey\n');
});
