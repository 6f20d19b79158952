// The stream entry store (EntryMap in src/data/stream.ts): entries packed per
// node the way Valkey's listpack nodes hold them. Checked against a plain array model under random
// appends, XDEL-style deletes and head trims: IDs, decoded fields, the bytes
// written for runs, single entries and the last ID (compared with what
// ReplyWriter's own addArrayLen/addBulk produce), seeks and clones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryMap, Stream } from '../../dist/src/data/stream.js';
import { ReplyWriter } from '../../dist/src/protocol/reply.js';
import { prng } from '../helpers/prng.mjs';

function expected(ms, seq, fields) {
  const w = new ReplyWriter(16);
  w.addArrayLen(2);
  w.addBulk(`${ms}-${seq}`);
  w.addArrayLen(fields.length);
  for (const f of fields) w.addBulk(f);
  return Buffer.from(w.out.subarray(0, w.len));
}

function written(fn) {
  const w = new ReplyWriter(4); // tiny: exercises the growth path too
  fn(w);
  return Buffer.from(w.out.subarray(0, w.len));
}

test('entry store matches a model under appends, deletes and trims', () => {
  const rnd = prng(4);
  const int = (n) => Math.floor(rnd() * n);
  const str = () => {
    const n = [0, 1, 9, 10, 24, 25, 100, 300][int(8)];
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(int(256));
    return s;
  };
  for (let round = 0; round < 60; round++) {
    const m = new EntryMap();
    const model = [];
    const big = round % 10 === 9;
    let ms = [0, 7, 1732604263000, 2 ** 53 - 5000, 99999999, 999999999][round % 6];
    let seq = 0;
    const n = int(450);
    for (let i = 0; i < n; i++) {
      const pms = ms;
      const pseq = seq;
      if (rnd() < 0.5) ms += int(3);
      seq = int(2) ? seq + 1 : 0;
      if (i > 0 && ms === pms && seq <= pseq) seq = pseq + 1;
      const msv = big ? 2n ** 60n + BigInt(ms) : ms;
      const fields = [];
      for (let j = 0, nf = 1 + int(4); j < nf; j++) fields.push(str(), str());
      m.append(msv, seq, fields, 100);
      model.push([msv, seq, fields]);
      assert.equal(written((w) => m.writeLastId(w)).toString('latin1'), `$${`${msv}-${seq}`.length}\r\n${msv}-${seq}\r\n`);
      const r = rnd();
      if (r < 0.1) {
        const k = int(model.length);
        assert.equal(m.delete(model[k][0], model[k][1]), true);
        assert.equal(m.delete(model[k][0], model[k][1]), false);
        model.splice(k, 1);
      } else if (r < 0.12 && m.chunks.length !== 0) {
        const cut = 1 + int(m.chunks[0].count);
        m.shiftFromFirst(cut);
        model.splice(0, cut);
      }
    }
    assert.equal(m.size, model.length);
    if (model.length === 0) continue;
    // Walk, decode, per-entry bytes.
    const p = m.first();
    for (let i = 0; i < model.length; i++) {
      const [a, b, f] = model[i];
      assert.equal(m.msAt(p), a);
      assert.equal(m.seqAt(p), b);
      assert.deepEqual(m.valAt(p), f);
      assert.equal(m.pairsAt(p), f.length / 2);
      assert.deepEqual(written((w) => m.writeEntry(p, w)), expected(a, b, f));
      assert.equal(m.next(p), i + 1 < model.length);
    }
    // A run from a random start crosses node boundaries.
    const from = int(model.length);
    const cnt = 1 + int(model.length - from);
    const q = m.seekGE(model[from][0], model[from][1]);
    const run = written((w) => m.writeRun(q, cnt, w));
    assert.deepEqual(run, Buffer.concat(model.slice(from, from + cnt).map(([a, b, f]) => expected(a, b, f))));
    // Exact lookups and seeks.
    const k = int(model.length);
    assert.notEqual(m.find(model[k][0], model[k][1]), null);
    const le = m.seekLE(model[k][0], model[k][1]);
    assert.equal(m.msAt(le), model[k][0]);
    // Clones are independent copies.
    const c = m.clone();
    m.shiftFromFirst(Math.min(5, m.chunks[0].count));
    const cp = c.first();
    for (let i = 0; i < model.length; i++) {
      assert.deepEqual(written((w) => c.writeEntry(cp, w)), expected(...model[i]));
      c.next(cp);
    }
  }
});

test('stream append keeps first/last IDs and the added counter', () => {
  const s = new Stream();
  s.appendArgv({ ms: 5, seq: 1 }, ['XADD', 'k', '5-1', 'a', '1'], 3);
  s.append({ ms: 6, seq: 0 }, ['b', '2']);
  assert.equal(s.length, 2);
  assert.deepEqual(s.firstId, { ms: 5, seq: 1 });
  assert.deepEqual(s.lastId, { ms: 6, seq: 0 });
  assert.equal(s.entriesAdded, 2);
  assert.deepEqual(s.entries.valAt(s.entries.first()), ['a', '1']);
  assert.equal(s.trim(1, null, false, 0), 1);
  assert.deepEqual(s.firstId, { ms: 6, seq: 0 });
  const cl = s.clone().entries;
  assert.deepEqual(cl.valAt(cl.first()), ['b', '2']);
});
