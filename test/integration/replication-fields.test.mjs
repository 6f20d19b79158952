// Hash-field expiry (Valkey 9 field expiration) across replication: the
// primary sends HDEL for the fields it expires (lazily or in its active
// cycle); a replica never deletes fields itself, it hides the logically
// expired ones from reads until the HDEL arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { caughtUp, waitFor, replicationServers } from '../helpers/repl.mjs';

const { vireo, servers } = replicationServers({ prefix: 'vireo-replf-', vireoArgs: ['--save', '', '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0'] });

const digest = async (x, key) => (await x.c.call('DEBUG', 'DIGEST-VALUE', key))[0];

test('expired hash fields reach replicas as HDEL; replicas hide them meanwhile', async () => {
  const p = await vireo();
  const r = await vireo(['--replicaof', '127.0.0.1', String(p.port)]);
  await caughtUp(p.c, r.c);
  await p.c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await p.c.hset('h', 'f1', 'v1', 'f2', 'v2', 'f3', 'v3');
  await p.c.call('HPEXPIRE', 'h', '100', 'FIELDS', '2', 'f1', 'f2');
  await p.c.hset('g', 'only', 'x');
  await p.c.call('HPEXPIRE', 'g', '100', 'FIELDS', '1', 'only');
  await caughtUp(p.c, r.c);
  const before = await digest(r, 'h');
  await sleep(300);
  // The replica hides the expired fields from every read...
  assert.equal(await r.c.hget('h', 'f1'), null);
  assert.equal(await r.c.hlen('h'), 1);
  assert.deepEqual(await r.c.hgetall('h'), { f3: 'v3' });
  assert.equal(await r.c.exists('g'), 1, 'the key itself stays until the primary deletes it');
  assert.equal(await r.c.hlen('g'), 0);
  // ... without deleting them: its copy is unchanged until the primary says so.
  assert.equal(await digest(r, 'h'), before);
  // A read on the primary expires the fields lazily and propagates HDEL.
  assert.equal(await p.c.hget('h', 'f1'), null);
  assert.equal(await p.c.hlen('g'), 0);
  await caughtUp(p.c, r.c);
  assert.equal(await digest(r, 'h'), await digest(p, 'h'));
  assert.notEqual(await digest(r, 'h'), before, 'the HDEL removed the fields on the replica');
  assert.equal(await r.c.exists('g'), 0, 'HDEL of the last field deleted the key');
  // The active cycle propagates too.
  await p.c.hset('a', 'x', '1', 'y', '2');
  await p.c.call('HPEXPIRE', 'a', '100', 'FIELDS', '1', 'x');
  await caughtUp(p.c, r.c);
  const aBefore = await digest(r, 'a');
  await p.c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  // (DIGEST-VALUE reads the stored value: no lazy expiry involved)
  await waitFor(async () => (await digest(p, 'a')) !== aBefore, 20000, 'active expiry on the primary');
  await caughtUp(p.c, r.c);
  await waitFor(async () => (await digest(r, 'a')) !== aBefore, 20000, 'HDEL from the active cycle');
  assert.equal(await digest(r, 'a'), await digest(p, 'a'));
  assert.deepEqual(await r.c.hgetall('a'), { y: '2' });
});
