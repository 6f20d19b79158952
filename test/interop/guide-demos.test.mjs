// The Valkey guide's first-steps demos, run unchanged (except for the port)
// against a real vireo-server: redis-cli ping / set / get, a raw inline
// command written with printf, and pub/sub between two redis-cli processes,
// one subscribed and one publishing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { startVireo } from '../helpers/servers.mjs';

const run = promisify(execFile);
let srv;
before(async () => {
  srv = await startVireo();
});
after(async () => {
  await srv?.stop();
});

async function cli(...args) {
  const { stdout } = await run('redis-cli', ['-p', String(srv.port), ...args]);
  return stdout;
}

test('guide: redis-cli ping, set demo "hola valkey", get demo', async () => {
  assert.equal(await cli('ping'), 'PONG\n');
  assert.equal(await cli('set', 'demo', 'hola valkey'), 'OK\n');
  assert.equal(await cli('get', 'demo'), 'hola valkey\n');
  // The same through a shell, as typed in the guide (quoting done by the shell).
  const { stdout } = await run('bash', ['-c', `redis-cli -p ${srv.port} get demo && redis-cli -p ${srv.port} --no-raw get demo`]);
  assert.equal(stdout, 'hola valkey\n"hola valkey"\n');
});

test('guide: printf an inline command straight to the port', async () => {
  // No netcat here: bash's /dev/tcp does what `printf ... | nc host port` does.
  const script = `exec 3<>/dev/tcp/127.0.0.1/${srv.port}; printf 'PING\\r\\nSET demo2 "hola valkey"\\r\\nGET demo2\\r\\nQUIT\\r\\n' >&3; cat <&3`;
  const { stdout } = await run('bash', ['-c', script], { timeout: 10000 });
  assert.equal(stdout, '+PONG\r\n+OK\r\n$11\r\nhola valkey\r\n+OK\r\n');
});

test('guide: redis-cli subscribe events receives redis-cli publish from another process', async () => {
  const sub = spawn('redis-cli', ['-p', String(srv.port), 'subscribe', 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sub.stdout.on('data', (d) => (out += d));
  try {
    const waitFor = async (pred, what) => {
      const deadline = Date.now() + 5000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; subscriber printed ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor(() => out.includes('subscribe\nevents\n1\n'), 'the subscription');
    // The publisher sees one receiver; the subscriber prints the message.
    assert.equal(await cli('publish', 'events', 'mensaje desde valkey'), '1\n');
    await waitFor(() => out.includes('mensaje desde valkey'), 'the message');
    assert.equal(out, 'subscribe\nevents\n1\nmessage\nevents\nmensaje desde valkey\n');
    assert.equal(await cli('pubsub', 'numsub', 'events'), 'events\n1\n');
  } finally {
    sub.kill('SIGTERM');
    await new Promise((r) => (sub.exitCode !== null ? r() : sub.once('exit', r)));
  }
  // Once the subscriber is gone, nobody receives.
  const deadline = Date.now() + 3000;
  let n;
  while ((n = await cli('publish', 'events', 'otra vez')) !== '0\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(n, '0\n');
});
