// Key prefetch for pipelined commands (RequestParser.keyHashes, KeyTable.prefetch):
// the hashes come out equal to the table's own hashes of the key strings, the
// look-ahead never changes what the parser then parses, and prefetching leaves
// the table unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser } from '../../dist/src/protocol/parser.js';
import { KeyTable, hashBytes, hashKey } from '../../dist/src/data/keytable.js';

const frame = (...args) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((a) => Buffer.concat([Buffer.from(`$${Buffer.byteLength(a, 'latin1')}\r\n`), Buffer.from(a, 'latin1'), Buffer.from('\r\n')]))]);

test('hashBytes of a key\'s bytes equals hashKey of its latin1 string', () => {
  for (let len = 0; len < 70; len++) {
    const b = Buffer.alloc(len + 3);
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
    assert.equal(hashBytes(b, 3, len), hashKey(b.latin1Slice(3, 3 + len)));
  }
});

test('keyHashes picks argument 1, MSET odd arguments and MGET arguments, and stops at incomplete frames', () => {
  const p = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  const buf = Buffer.concat([
    frame('GET', 'k1'),
    frame('mSeT', 'a', '1', 'b', '2'),
    frame('MGET', 'x', 'y', 'z'),
    frame('PING'),
    frame('MSETNX', 'n1', 'v', 'n2', 'v'),
    frame('SET', 'k\xff', 'v').subarray(0, 12), // incomplete
  ]);
  p.feed(buf);
  const out = new Int32Array(64);
  const n = p.keyHashes(out, 16);
  const want = ['k1', 'a', 'b', 'x', 'y', 'z', 'n1', 'n2'].map(hashKey);
  assert.deepEqual([...out.subarray(0, n)], want);
  assert.equal(p.scanned, 5);
  // Look-ahead does not move the parser.
  const seen = [];
  while (p.next() === 1) seen.push(p.argv.join(' '));
  assert.deepEqual(seen, ['GET k1', 'mSeT a 1 b 2', 'MGET x y z', 'PING', 'MSETNX n1 v n2 v']);
  // Bounded by maxFrames and by the output size.
  const q = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  q.feed(Buffer.concat(Array.from({ length: 40 }, (_, i) => frame('GET', 'key' + i))));
  assert.equal(q.keyHashes(out, 16), 16);
  assert.equal(q.scanned, 16);
  assert.equal(q.keyHashes(new Int32Array(4), 16), 4);
  // Garbage and inline commands: nothing, and no throw.
  const g = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  g.feed(Buffer.from('*2\r\n$-5\r\nxx\r\n*zz\r\nPING\r\n'));
  assert.equal(g.keyHashes(out, 16), 0);
  const i = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  i.feed(Buffer.from('GET a\r\nGET b\r\n'));
  assert.equal(i.keyHashes(out, 16), 0);
  assert.equal(i.scanned, 0);
});

test('KeyTable.prefetch leaves the table as it was', () => {
  const t = new KeyTable();
  for (let i = 0; i < 5000; i++) t.set('key:' + i, i % 3 === 0 ? 'v' + i : i);
  for (let i = 0; i < 5000; i += 7) t.delete('key:' + i);
  const hashes = new Int32Array(200);
  for (let j = 0; j < 200; j++) hashes[j] = hashKey('key:' + (j * 31));
  t.prefetch(hashes, 200);
  let live = 0;
  for (let i = 0; i < 5000; i++) {
    const v = t.get('key:' + i);
    if (i % 7 === 0) assert.equal(v, undefined);
    else {
      live++;
      assert.equal(v, i % 3 === 0 ? 'v' + i : i);
    }
  }
  assert.equal(t.size, live);
  new KeyTable().prefetch(hashes, 10); // empty table
});
