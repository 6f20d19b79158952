// WAITAOF numlocal numreplicas timeout (issue 9): the local AOF's fsynced
// position under appendfsync always / everysec / no, replicas reporting theirs
// with REPLCONF ACK <offset> FACK <aofoffset>, Valkey's errors, the reply
// [numlocal, numreplicas] on success and on timeout, a blocked client released
// with an error when appendonly is turned off, and no blocking inside MULTI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startVireo, testResources } from '../helpers/servers.mjs';
import { client } from '../interop/rdb-helpers.mjs';
import { waitFor, infoRepl } from '../helpers/repl.mjs';

const { servers, clients, dirs } = testResources();

async function vireo(args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-waitaof-'));
  dirs.push(dir);
  const s = await startVireo(['--save', '', '--dir', dir, '--repl-diskless-sync-delay', '0', ...args], { cwd: dir });
  servers.push(s);
  const c = client(s.port);
  clients.push(c);
  return { s, c, port: s.port, conn() {
    const x = client(s.port);
    clients.push(x);
    return x;
  } };
}

const errOf = (p) => p.then(() => null, (e) => e.message);

test('errors as Valkey; without the AOF numlocal 0 works and numreplicas times out', async () => {
  const { c } = await vireo();
  assert.equal(await errOf(c.call('WAITAOF', '1', '0', '0')), 'ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.');
  assert.equal(await errOf(c.call('WAITAOF', '2', '0', '0')), 'ERR value is out of range, value must between 0 and 1');
  assert.equal(await errOf(c.call('WAITAOF', '-1', '0', '0')), 'ERR value is out of range, value must between 0 and 1');
  assert.equal(await errOf(c.call('WAITAOF', 'x', '0', '0')), 'ERR value is not an integer or out of range');
  assert.equal(await errOf(c.call('WAITAOF', '0', '-1', '0')), 'ERR value is out of range, must be positive');
  assert.equal(await errOf(c.call('WAITAOF', '0', '0', '-1')), 'ERR timeout is negative');
  assert.equal(await errOf(c.call('WAITAOF', '0', '0', 'z')), 'ERR timeout is not an integer or out of range');
  assert.equal(await errOf(c.call('WAITAOF', '0', '0')), "ERR wrong number of arguments for 'waitaof' command");
  await c.set('k', 'v');
  assert.deepEqual(await c.call('WAITAOF', '0', '0', '0'), [0, 0]);
  const t0 = Date.now();
  assert.deepEqual(await c.call('WAITAOF', '0', '1', '150'), [0, 0]);
  assert.ok(Date.now() - t0 >= 140);
});

test('appendfsync always: fsynced before the reply; no: never, the wait times out', async () => {
  const a = await vireo(['--appendonly', 'yes', '--appendfsync', 'always']);
  await a.c.incr('n');
  assert.deepEqual(await a.c.call('WAITAOF', '1', '0', '0'), [1, 0]);
  const n = await vireo(['--appendonly', 'yes', '--appendfsync', 'no']);
  await n.c.incr('n');
  const t0 = Date.now();
  assert.deepEqual(await n.c.call('WAITAOF', '1', '0', '200'), [0, 0]);
  assert.ok(Date.now() - t0 >= 190);
  // inside MULTI it never blocks
  const m = await n.c.multi().incr('n').call('WAITAOF', '1', '0', '0').exec();
  assert.deepEqual(m[1], [null, [0, 0]]);
});

test('appendfsync everysec: the wait ends at the next fsync; appendonly no releases a blocked client with an error', async () => {
  const e = await vireo(['--appendonly', 'yes', '--appendfsync', 'everysec']);
  await e.c.incr('n');
  const t0 = Date.now();
  assert.deepEqual(await e.c.call('WAITAOF', '1', '0', '0'), [1, 0]);
  assert.ok(Date.now() - t0 < 2500);
  await e.c.config('SET', 'appendfsync', 'no');
  await e.c.incr('n');
  const other = e.conn();
  let settled = false;
  const blocked = errOf(other.call('WAITAOF', '1', '0', '0')).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 1500)); // past an everysec tick: appendfsync no never fsyncs
  assert.equal(settled, false);
  await e.c.config('SET', 'appendonly', 'no');
  assert.equal(await blocked, 'ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.');
});

test('replicas report their AOF with FACK: WAITAOF counts only those whose AOF has the writes', async () => {
  const p = await vireo(['--appendonly', 'yes', '--appendfsync', 'always']);
  const withAof = await vireo(['--appendonly', 'yes', '--appendfsync', 'everysec', '--replicaof', '127.0.0.1', String(p.port)]);
  const noAof = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await waitFor(async () => (await infoRepl(p.c)).connected_slaves === '2' && (await p.c.info('replication')).split('state=online').length === 3, 20000, 'replicas online');
  await p.c.set('a', '1');
  assert.deepEqual(await p.c.call('WAITAOF', '1', '1', '5000'), [1, 1]);
  await p.c.set('b', '2');
  assert.equal(await p.c.call('WAIT', '2', '5000'), 2);
  // The replica with an AOF fsyncs every second and then reports it (FACK): wait for that first, so the
  // timed wait below shows the count, not how fast a loaded machine gets there.
  assert.deepEqual(await p.c.call('WAITAOF', '1', '1', '10000'), [1, 1]);
  const t0 = Date.now();
  // only one replica has an AOF: asking for two times out with [1, 1]
  assert.deepEqual(await p.c.call('WAITAOF', '1', '2', '1500'), [1, 1]);
  assert.ok(Date.now() - t0 >= 1400);
  assert.equal(await withAof.c.get('b'), '2');
  assert.equal(await errOf(noAof.c.call('WAITAOF', '0', '0', '0')), 'ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.');
});
