// `save` defaults: Valkey's save points for vireo-server without a config
// (SIGTERM then writes dump.rdb in the working directory), `""` for the
// embedding API and `npm start` (in memory).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startVireo, ROOT } from '../helpers/servers.mjs';
import { client } from '../interop/rdb-helpers.mjs';
import { startServer } from '../../dist/src/index.js';

const made = [];
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'vireo-savedef-'));
  made.push(d);
  return d;
}
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test('vireo-server without a config has Valkey save points and saves on SIGTERM', async () => {
  const dir = tmp();
  // --save given (as the test helper would add `--save ""` otherwise): Valkey's default, spelled out.
  const s = await startVireo(['--save', '3600 1 300 100 60 10000'], { cwd: dir });
  const c = client(s.port);
  try {
    assert.deepEqual(await c.call('CONFIG', 'GET', 'save'), ['save', '3600 1 300 100 60 10000']);
    await c.set('k', 'v');
  } finally {
    c.disconnect();
    await s.stop();
  }
  assert.ok(existsSync(join(dir, 'dump.rdb')), 'SIGTERM with save points wrote dump.rdb');
  // Nothing given at all: the same default.
  const { spawn } = await import('node:child_process');
  const { freePort, VIREO_BIN } = await import('../helpers/servers.mjs');
  const port = await freePort();
  const dir2 = tmp();
  const p = spawn(process.execPath, [VIREO_BIN, '--port', String(port), '--bind', '127.0.0.1'], { cwd: dir2, stdio: 'ignore' });
  try {
    const net = await import('node:net');
    for (let i = 0; ; i++) {
      const ok = await new Promise((r) => net.connect(port, '127.0.0.1').once('connect', function () { this.destroy(); r(true); }).once('error', () => r(false)));
      if (ok) break;
      if (i > 400) throw new Error('vireo-server did not start');
      await new Promise((r) => setTimeout(r, 25));
    }
    const c2 = client(port);
    c2.on('error', () => {}); // reconnect attempts after SHUTDOWN
    assert.deepEqual(await c2.call('CONFIG', 'GET', 'save'), ['save', '3600 1 300 100 60 10000']);
    await c2.call('SHUTDOWN').catch(() => {});
    c2.disconnect();
  } finally {
    await new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)));
  }
  assert.ok(existsSync(join(dir2, 'dump.rdb')), 'SHUTDOWN with the default save points wrote dump.rdb');
});

test('the embedding API and npm start run in memory (save "")', async () => {
  const s = await startServer({});
  const c = client(s.port);
  try {
    assert.deepEqual(await c.call('CONFIG', 'GET', 'save'), ['save', '']);
  } finally {
    c.disconnect();
  }
  await s.close();
  const s2 = await startServer({ save: '3600 1' });
  const c2 = client(s2.port);
  try {
    assert.deepEqual(await c2.call('CONFIG', 'GET', 'save'), ['save', '3600 1']);
    await c2.call('CONFIG', 'SET', 'save', '');
  } finally {
    c2.disconnect();
  }
  await s2.close();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.match(pkg.scripts.start, /vireo-server --save ""$/);
});
