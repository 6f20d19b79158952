// Stream nodes end where Valkey's listpack nodes end (stream-node-max-bytes,
// stream-node-max-entries), so approximate trims (MAXLEN ~ / XTRIM ~) keep the
// same number of entries as the reference server, and XINFO STREAM counts the
// same radix-tree-keys. Differential: the same writes to Debian's
// redis-server and to Vireo, for entries of several sizes (strings, and
// integers that a listpack stores as numbers), fields equal to or different
// from the node's first entry, and several node limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveRedis } from '../helpers/servers.mjs';
import { serverPair } from '../helpers/pair.mjs';

const skip = !haveRedis() && !process.env.CI ? 'redis-server is not installed' : false;
const pair = serverPair({ vireo: !skip, redis: !skip, clients: true });

async function run(c, size, maxBytes, maxEntries) {
  await c.flushall();
  await c.config('SET', 'stream-node-max-bytes', maxBytes);
  await c.config('SET', 'stream-node-max-entries', maxEntries);
  const p = c.pipeline();
  for (let i = 1; i <= 600; i++) {
    const val = i % 3 === 0 ? String(i * 7) : 'x'.repeat(size);
    if (i % 5 === 0) p.xadd('s', `${i}-1`, 'f', val, 'g', 'y');
    else p.xadd('s', 'MAXLEN', '~', '150', `${i}-1`, 'f', val);
  }
  p.xlen('s');
  p.xtrim('s', 'MAXLEN', '~', 40);
  p.xlen('s');
  p.xinfo('STREAM', 's');
  const res = await p.exec();
  for (const [err] of res) assert.equal(err, null);
  const info = res[res.length - 1][1];
  return { afterAdds: res[600][1], trimmed: res[601][1], afterTrim: res[602][1], nodes: info[info.indexOf('radix-tree-keys') + 1] };
}

test('stream-node-max-bytes / -entries: the same node boundaries as redis-server for ~ trims and XINFO', { skip }, async () => {
  let cases = 0;
  for (const size of [1, 30, 100, 1000, 5000]) {
    for (const maxBytes of ['4096', '1000', '0']) {
      for (const maxEntries of ['100', '7', '0']) {
        if (maxBytes === '0' && maxEntries === '0' && size > 100) continue; // one node of 1 GB: same as size 100
        const want = await run(pair.cr, size, maxBytes, maxEntries);
        const got = await run(pair.cv, size, maxBytes, maxEntries);
        assert.deepEqual(got, want, `entries of ${size} bytes, stream-node-max-bytes ${maxBytes}, stream-node-max-entries ${maxEntries}`);
        cases++;
      }
    }
  }
  assert.ok(cases >= 40);
  // CONFIG GET with a pattern: the same pairs (the order is the server's hash order).
  const pairs = (a) => Object.fromEntries(Array.from({ length: a.length / 2 }, (_, i) => [a[2 * i], a[2 * i + 1]]));
  assert.deepEqual(pairs(await pair.cv.config('GET', 'stream-node-max-*')), pairs(await pair.cr.config('GET', 'stream-node-max-*')));
});
