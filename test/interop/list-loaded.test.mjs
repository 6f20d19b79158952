// Lists loaded from an RDB against Debian's redis-server. Vireo holds a
// loaded listpack list as the listpack string itself until its first change,
// and a save (SAVE, BGSAVE, DEBUG RELOAD, DUMP) turns a changed listpack back
// into that form (src/data/list.ts). Here the same lists live on both servers,
// both DEBUG RELOAD, then a seeded random sequence of list commands must get
// byte-identical replies (a reload again half-way), and every list digests
// alike (DEBUG DIGEST-VALUE) at each stage; DUMP payloads of Vireo's lists
// RESTORE in redis-server with the same digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVireo, startRedis, haveRedis, testResources } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const res = testResources();
const skip = !haveRedis() && 'redis-server not installed';

// Short and long strings, integers of every listpack width, non-canonical numbers, the empty string.
const POOL = ['a', 'b', 'c', '0', '1', '-1', '127', '128', '-4096', '4096', '-70000', '2147483648', '9223372036854775807', '9223372036854775808', '007', '-0', '', 'x'.repeat(20), 'y'.repeat(70), 'z'.repeat(300)];
const KEYS = ['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6'];

function rng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

/** One random list command (argv). */
function randomCommand(rnd) {
  const k = KEYS[rnd(KEYS.length)];
  const e = () => POOL[rnd(POOL.length)];
  const i = () => rnd(25) - 12;
  switch (rnd(17)) {
    case 0:
      return ['LPUSH', k, e(), e()];
    case 1:
      return ['RPUSH', k, e()];
    case 2:
      return ['LPOP', k];
    case 3:
      return ['RPOP', k, String(rnd(3) + 1)];
    case 4:
      return ['LINDEX', k, String(i())];
    case 5:
      return ['LRANGE', k, String(i()), String(i())];
    case 6:
      return ['LSET', k, String(i()), e()];
    case 7:
      return ['LINSERT', k, rnd(2) ? 'BEFORE' : 'AFTER', e(), e()];
    case 8:
      return ['LREM', k, String(rnd(5) - 2), e()];
    case 9:
      return ['LPOS', k, e(), 'RANK', String(rnd(2) ? 1 : -1), 'COUNT', String(rnd(3)), 'MAXLEN', String(rnd(6))];
    case 10:
      return ['LTRIM', k, String(rnd(3)), String(-1 - rnd(3))];
    case 11:
      return ['LLEN', k];
    case 12:
      return ['LMOVE', k, KEYS[rnd(KEYS.length)], rnd(2) ? 'LEFT' : 'RIGHT', rnd(2) ? 'LEFT' : 'RIGHT'];
    case 13:
      return ['LMPOP', '2', k, KEYS[rnd(KEYS.length)], rnd(2) ? 'LEFT' : 'RIGHT', 'COUNT', String(rnd(3) + 1)];
    case 14:
      return ['SORT', k, 'ALPHA', 'LIMIT', '0', String(rnd(6))];
    case 15:
      return ['LRANGE', k, '0', '-1'];
    default:
      return ['COPY', k, KEYS[rnd(KEYS.length)], 'REPLACE'];
  }
}

async function fill(c) {
  // 1, 3, 8 and 9 elements (the tiny/packed boundaries), 40, and a quicklist (over 8 KB).
  const sizes = [1, 3, 8, 9, 40, 60, 2];
  for (let j = 0; j < KEYS.length; j++) {
    const items = [];
    for (let n = 0; n < sizes[j]; n++) items.push(j === 5 ? 'z'.repeat(300) + n : POOL[(n * 7 + j) % POOL.length]);
    await c.call('RPUSH', KEYS[j], ...items);
  }
}

async function digests(c) {
  const out = [];
  for (const k of KEYS) out.push(await c.call('DEBUG', 'DIGEST-VALUE', k));
  return out;
}

test('lists loaded from an RDB answer like redis-server under random list commands, across reloads', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-list-loaded-'));
  res.dirs.push(dir);
  const v = await startVireo(['--enable-debug-command', 'yes', '--dir', dir]);
  const r = await startRedis(['--enable-debug-command', 'yes']);
  res.servers.push(v, r);
  const cv = await RawConn.connect(v.port);
  const cr = await RawConn.connect(r.port);
  res.conns.push(cv, cr);
  await fill(cv);
  await fill(cr);
  for (const seed of [1, 2, 3]) {
    assert.equal(await cv.call('DEBUG', 'RELOAD'), '+OK\r\n');
    assert.equal(await cr.call('DEBUG', 'RELOAD'), '+OK\r\n');
    assert.deepEqual(await digests(cv), await digests(cr), `digests after reload ${seed}`);
    const rnd = rng(seed);
    for (let n = 0; n < 400; n++) {
      const argv = randomCommand(rnd);
      const a = await cv.call(...argv);
      const b = await cr.call(...argv);
      assert.equal(a, b, `seed ${seed}, command ${n}: ${argv.join(' ')}`);
      // Keep the lists from dying out: refill an emptied one.
      if (n % 50 === 49) {
        for (const k of KEYS) {
          if ((await cv.call('EXISTS', k)) === ':0\r\n') {
            await cv.call('RPUSH', k, 'a', '1', 'y'.repeat(70));
            await cr.call('RPUSH', k, 'a', '1', 'y'.repeat(70));
          }
        }
      }
    }
    assert.deepEqual(await digests(cv), await digests(cr), `digests after the commands of seed ${seed}`);
  }
  // Vireo's DUMP payloads (listpack lists write their string as is) restore in redis-server alike.
  for (const k of KEYS) {
    cv.send('DUMP', k);
    const payload = await cv.readReply();
    if (payload.startsWith('$-1')) continue;
    const body = Buffer.from(payload.slice(payload.indexOf('\r\n') + 2, -2), 'latin1');
    assert.equal(await cr.call('RESTORE', `v:${k}`, '0', body), '+OK\r\n', `RESTORE of ${k}`);
    assert.equal(await cr.call('DEBUG', 'DIGEST-VALUE', `v:${k}`), await cr.call('DEBUG', 'DIGEST-VALUE', k), `${k} restored from Vireo's payload`);
  }
});
