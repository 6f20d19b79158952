// Stream pieces on XADD's and XACK's fast paths (src/data/stream.ts): the ID
// reply written from the last entry (digit caches, every seq size), IdMap's
// take/delete (PEL removal moving the shorter side of a chunk), the node buffer
// a full node leaves behind being reused by the next node, and Stream's
// lastId kept as two parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryMap, IdMap, Stream } from '../../dist/src/data/stream.js';
import { ReplyWriter } from '../../dist/src/protocol/reply.js';
import { prng } from '../helpers/prng.mjs';

function lastIdReply(m) {
  const w = new ReplyWriter(4);
  m.writeLastId(w);
  return w.out.subarray(0, w.len).toString('latin1');
}

test('the last ID reply is right for every digit count of ms and seq', () => {
  const seqs = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 99999, 123456789, 999999999, 1000000000, 4294967296, 2 ** 53 - 1];
  const mss = [0, 1, 9, 10, 99, 1732604263000, 1732604263009, 1732604263010, 1732604263099, 1732604263100, 9999999999999, 10000000000000, 2 ** 53 - 1];
  const rnd = prng(11);
  // Separate maps per ms: the ms digit cache is shared, so also jump between
  // unrelated ms values (up and down) between appends.
  for (let r = 0; r < 400; r++) {
    const ms = mss[Math.floor(rnd() * mss.length)];
    const seq = seqs[Math.floor(rnd() * seqs.length)];
    const m = new EntryMap();
    m.append(ms, seq, ['f', 'v'], 100);
    assert.equal(lastIdReply(m), `$${`${ms}-${seq}`.length}\r\n${ms}-${seq}\r\n`);
  }
  // Consecutive ms parts whose digits carry (the cache adds to the last digits).
  const m = new EntryMap();
  let seq = 0;
  for (let ms = 1732604262990; ms < 1732604263110; ms++) {
    seq = (seq * 7 + 3) % 1500;
    m.append(ms, seq, ['f', 'v'], 100);
    assert.equal(lastIdReply(m), `$${`${ms}-${seq}`.length}\r\n${ms}-${seq}\r\n`);
  }
  const b = new EntryMap();
  b.append(5, 2n ** 63n, ['f', 'v'], 100);
  assert.equal(lastIdReply(b), `$${`5-${2n ** 63n}`.length}\r\n5-${2n ** 63n}\r\n`);
  b.append(2n ** 64n - 1n, 7, ['f', 'v'], 100);
  assert.equal(lastIdReply(b), `$${`${2n ** 64n - 1n}-7`.length}\r\n${2n ** 64n - 1n}-7\r\n`);
});

test('IdMap take and delete match a model, front, back and middle', () => {
  const rnd = prng(5);
  const int = (n) => Math.floor(rnd() * n);
  for (let round = 0; round < 20; round++) {
    const m = new IdMap();
    const model = new Map(); // "ms-seq" -> value
    const key = (ms, seq) => `${ms}-${seq}`;
    let ms = 1000;
    // Appends (as XREADGROUP delivers) and scattered inserts (as XCLAIM moves entries).
    for (let i = 0; i < 1500; i++) {
      ms += 1 + int(3);
      m.set(ms, 0, i);
      model.set(key(ms, 0), i);
      if (int(10) === 0) {
        const s = 1 + int(5);
        const at = 1000 + int(ms - 1000);
        if (m.set(at, s, -i)) model.set(key(at, s), -i);
        else model.set(key(at, s), -i);
      }
    }
    const ids = () => {
      const out = [];
      const p = m.first();
      if (p === null) return out;
      do out.push([m.msAt(p), m.seqAt(p), m.valAt(p)]);
      while (m.next(p));
      return out;
    };
    const sorted = () =>
      [...model]
        .map(([k, v]) => [...k.split('-').map(Number), v])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    while (model.size !== 0) {
      const all = sorted();
      // Mostly the oldest entries (XACK), sometimes the newest or any.
      const r = rnd();
      const j = r < 0.6 ? int(Math.min(12, all.length)) : r < 0.8 ? all.length - 1 - int(Math.min(12, all.length)) : int(all.length);
      const [a, b, v] = all[j];
      if (int(2) === 0) assert.equal(m.take(a, b), v);
      else assert.equal(m.delete(a, b), true);
      assert.equal(m.take(a, b), undefined);
      assert.equal(m.delete(a, b), false);
      model.delete(key(a, b));
      assert.equal(m.size, model.size);
      if (model.size % 97 === 0) assert.deepEqual(ids(), sorted());
    }
    assert.equal(m.chunks.length, 0);
    assert.equal(m.first(), null);
  }
});

test('nodes filled after a reused buffer keep every earlier entry intact', () => {
  const m = new EntryMap();
  const model = [];
  const rnd = prng(9);
  let ms = 1732604263000;
  for (let i = 0; i < 5000; i++) {
    if (rnd() < 0.3) ms++;
    const seq = model.length !== 0 && model[model.length - 1][0] === ms ? model[model.length - 1][1] + 1 : 0;
    // Mostly alike entries (the next node reuses the full one's buffer), now
    // and then a large one (the reused buffer has to grow).
    const v = rnd() < 0.01 ? 'x'.repeat(300 + Math.floor(rnd() * 3000)) : 'value' + (i % 10);
    const f = ['field', v];
    m.append(ms, seq, f, 100, 4096);
    model.push([ms, seq, f]);
  }
  assert.ok(m.chunks.length > 40);
  const w = new ReplyWriter(16);
  m.writeRun(m.first(), model.length, w);
  const x = new ReplyWriter(16);
  for (const [a, b, f] of model) {
    x.addArrayLen(2);
    x.addBulk(`${a}-${b}`);
    x.addArrayLen(f.length);
    for (const s of f) x.addBulk(s);
  }
  assert.deepEqual(w.out.subarray(0, w.len), x.out.subarray(0, x.len));
  // Closed nodes hold exactly their bytes.
  for (let c = 0; c < m.chunks.length - 1; c++) assert.equal(m.chunks[c].buf.length, m.chunks[c].used);
});

test('Stream keeps lastId as two parts', () => {
  const s = new Stream();
  assert.deepEqual(s.lastId, { ms: 0, seq: 0 });
  s.appendAt(7, 3, ['XADD', 'k', '*', 'a', '1'], 3, 100, 4096);
  assert.deepEqual(s.lastId, { ms: 7, seq: 3 });
  assert.deepEqual(s.firstId, { ms: 7, seq: 3 });
  assert.equal(s.entriesAdded, 1);
  s.lastId = { ms: 2n ** 60n, seq: 1 };
  assert.equal(s.lastMs, 2n ** 60n);
  assert.equal(s.lastSeq, 1);
  const c = s.clone();
  assert.deepEqual(c.lastId, { ms: 2n ** 60n, seq: 1 });
  s.lastId = { ms: 9, seq: 9 };
  assert.deepEqual(c.lastId, { ms: 2n ** 60n, seq: 1 });
});
