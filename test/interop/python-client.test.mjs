// redis-py, Debian's python3-redis, against a real vireo-server: the smoke
// flow in test/interop/py/smoke.py (strings, hashes, lists, sorted sets,
// streams, EVAL and registered scripts, MULTI/EXEC, WATCH, pub/sub, binary
// values, errors, SCAN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startVireo } from '../helpers/servers.mjs';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./py/smoke.py', import.meta.url));

/** Debian's python3 (with python3-redis) first: a pyenv python3 on PATH may lack the module. */
function findPython() {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import redis'], { stdio: 'ignore' });
      return py;
    } catch {
      /* try the next one */
    }
  }
  return null;
}

const python = findPython();
// CI installs python3-redis (.ci/run), so there a missing module is a failure.
const skip = python === null && !process.env.CI ? 'python3-redis is not installed (apt-get install -y python3-redis)' : false;

let srv;
before(async () => {
  if (!skip) srv = await startVireo();
});
after(async () => {
  await srv?.stop();
});

test('python3-redis: smoke flow against vireo-server', { skip }, async () => {
  assert.ok(python, 'python3 with the redis module (Debian python3-redis)');
  const { stdout } = await run(python, [SCRIPT, String(srv.port)], { timeout: 30000 });
  const out = JSON.parse(stdout);
  assert.equal(out.ping, true);
  assert.equal(out.set, true);
  assert.equal(out.get, 'hola valkey ✓');
  assert.ok(out.ttl > 0 && out.ttl <= 100);
  assert.equal(out.hset, 2);
  assert.deepEqual(out.hgetall, { name: 'Ada', lang: 'es' });
  assert.equal(out.lpush, 3);
  assert.deepEqual(out.lrange, ['c', 'b', 'a']);
  assert.equal(out.zadd, 3);
  assert.deepEqual(out.zrange, [['cid', -1], ['bob', 2.5], ['ann', 10]]);
  assert.equal(out.zrevrank, 1);
  assert.equal(out.xadd, '1-1');
  assert.deepEqual(out.xrange, [['1-1', { type: 'login' }]]);
  assert.equal(out.incrbyfloat, 0.1);
  assert.deepEqual(out.eval, ['py:greeting', 'x', 'hola valkey ✓']);
  assert.deepEqual(out.script, ['hola valkey ✓!', 'hola valkey ✓?']);
  assert.deepEqual(out.multi, [1, 2, '2']);
  assert.equal(out.watch, 'aborted');
  assert.deepEqual(out.subscribe, ['subscribe', 'py:news', 1]);
  assert.equal(out.publish, 1);
  assert.deepEqual(out.message, ['message', 'py:news', 'mensaje desde valkey']);
  assert.equal(out.binary_ok, true);
  assert.equal(out.wrongtype, 'WRONGTYPE Operation against a key holding the wrong kind of value');
  assert.deepEqual(out.scan, ['py:bin', 'py:board', 'py:ctr', 'py:events', 'py:f', 'py:greeting', 'py:jobs', 'py:user:1']);
});
