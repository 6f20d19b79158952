// src/data/listpack.ts: a listpack held in a latin1 string. Property tests
// against a plain array model, agreement with the RDB decoder's
// listpackItems, and fixed byte vectors of listpack.c's layout, so a string
// built here is a valid RDB listpack blob (the RDB encoder's ListpackWriter is
// this same builder, see finishBuffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LP_EMPTY, lpCount, lpFirst, lpNext, lpPrev, lpLast, lpSeek, lpGet, lpEq, lpFind, lpItems, lpValidate,
  lpFromItems, lpSplice, lpAppend, lpSkip, lpIsInt, lpInt, lpb,
} from '../../dist/src/data/listpack.js';
import { ListpackWriter, listpackItems } from '../../dist/src/persistence/rdb/index.js';
import { prng } from '../helpers/prng.mjs';

function randItem(r) {
  const k = r();
  if (k < 0.25) {
    // integers of every encoding width, canonical decimal
    const widths = [127, 4095, 32767, 8388607, 2147483647, 2 ** 53 - 1];
    const w = widths[Math.floor(r() * widths.length)];
    const v = Math.floor(r() * w) * (r() < 0.5 ? -1 : 1);
    return String(v);
  }
  if (k < 0.3) return ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '', '12a', '1e3'][Math.floor(r() * 8)];
  const len = k < 0.9 ? Math.floor(r() * 20) : k < 0.98 ? 60 + Math.floor(r() * 200) : 4090 + Math.floor(r() * 20);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

function writerBytes(items) {
  const w = new ListpackWriter();
  w.begin();
  for (const s of items) w.str(s);
  return Buffer.from(w.finishBuffer());
}

test('listpack strings read back like the RDB decoder reads them (forward, backward, seek)', () => {
  const r = prng(1234);
  for (let round = 0; round < 300; round++) {
    const items = [];
    const n = Math.floor(r() * (round % 10 === 0 ? 300 : 12));
    for (let i = 0; i < n; i++) items.push(randItem(r));
    const lp = lpFromItems(items);
    assert.equal(Buffer.from(lp, 'latin1').toString('hex'), writerBytes(items).toString('hex'));
    assert.deepEqual(lpItems(lp), items);
    assert.deepEqual(listpackItems(Buffer.from(lp, 'latin1')), items);
    assert.equal(lpCount(lp), n);
    assert.equal(lpValidate(lp), n);
    const back = [];
    for (let p = lpLast(lp); p >= 0; p = lpPrev(lp, p)) back.push(lpGet(lp, p));
    assert.deepEqual(back, items.slice().reverse());
    if (n > 0) {
      const i = Math.floor(r() * n);
      assert.equal(lpGet(lp, lpSeek(lp, i)), items[i]);
      assert.equal(lpGet(lp, lpSeek(lp, i - n)), items[i]);
      assert.ok(lpEq(lp, lpSeek(lp, i), items[i]));
      assert.equal(lpFind(lp, items[i]), lpSeek(lp, items.indexOf(items[i])));
    }
    assert.equal(lpSeek(lp, n), -1);
  }
});

test('integer entries: canonical int64 strings only, read back exactly', () => {
  const lp = lpFromItems(['0', '-1', '127', '128', '-4096', '4095', '4096', '-32769', '8388607', '-2147483648', '9007199254740993', '-9223372036854775808', '9223372036854775808', '01', '-0', '+1']);
  const kinds = [];
  for (let p = lpFirst(lp); p >= 0; p = lpNext(lp, p)) kinds.push(lpIsInt(lp, p));
  assert.deepEqual(kinds, [true, true, true, true, true, true, true, true, true, true, true, true, false, false, false, false]);
  assert.equal(lpInt(lp, lpSeek(lp, 10)), 9007199254740993n);
  assert.equal(lpGet(lp, lpSeek(lp, 11)), '-9223372036854775808');
  assert.ok(lpEq(lp, lpSeek(lp, 1), '-1'));
  assert.ok(!lpEq(lp, lpSeek(lp, 1), '-01'));
  assert.ok(!lpEq(lp, lpSeek(lp, 0), ''));
});

test('lpSplice / lpAppend against an array model', () => {
  const r = prng(99);
  let lp = LP_EMPTY;
  let model = [];
  for (let step = 0; step < 3000; step++) {
    const n = model.length;
    const i = Math.floor(r() * (n + 1));
    const del = Math.min(n - i, Math.floor(r() * 3));
    const ins = [];
    const k = Math.floor(r() * 3);
    for (let j = 0; j < k; j++) ins.push(randItem(r));
    if (r() < 0.2) {
      lp = lpAppend(lp, ins);
      model.push(...ins);
    } else {
      const from = i === n ? lp.length - 1 : lpSeek(lp, i);
      let to = from;
      for (let j = 0; j < del; j++) to = lpSkip(lp, to);
      lp = lpSplice(lp, from, to, del, ins);
      model.splice(i, del, ...ins);
    }
    if (model.length > 200) {
      lp = LP_EMPTY;
      model = [];
    }
    assert.equal(lpCount(lp), model.length);
    assert.equal(lpValidate(lp), model.length);
    if (step % 50 === 0) assert.deepEqual(lpItems(lp), model);
  }
  assert.deepEqual(lpItems(lp), model);
});

test('lpValidate rejects truncated and corrupted blobs', () => {
  const lp = lpFromItems(['a', 'bb', '123', 'x'.repeat(100)]);
  assert.equal(lpValidate(lp), 4);
  for (let cut = 0; cut < lp.length; cut++) assert.equal(lpValidate(lp.slice(0, cut)), -1, `cut ${cut}`);
  const badCount = lp.slice(0, 4) + '\x05\x00' + lp.slice(6);
  assert.equal(lpValidate(badCount), -1);
  const badTerm = lp.slice(0, lp.length - 1) + '\x00';
  assert.equal(lpValidate(badTerm), -1);
  const badEnc = lp.slice(0, 6) + '\xf5' + lp.slice(7);
  assert.equal(lpValidate(badEnc), -1);
  assert.equal(lpValidate(LP_EMPTY), 0);
});

test('the builder gives flat strings and can be reused', () => {
  lpb.begin();
  lpb.str('a').int(5).str('hello');
  const s = lpb.finish();
  assert.deepEqual(lpItems(s), ['a', '5', 'hello']);
  lpb.begin();
  assert.equal(lpb.finish(), LP_EMPTY);
});

test('fixed byte vectors (listpack.c layout: encodings, backlens, header)', async () => {
  const { createHash } = await import('node:crypto');
  const sha1 = (s) => createHash('sha1').update(Buffer.from(s, 'latin1')).digest('hex');
  assert.equal(Buffer.from(lpFromItems(['a', '1', '-5', 'hi']), 'latin1').toString('hex'), '1300000004008161020101dffb0282686903ff');
  // Every integer width, the 6/12-bit string lengths and a non-canonical "007" (a string entry).
  const items = ['a', '0', '127', '128', '-1', '-4096', '4095', '4096', '32767', '-32768', '8388607', '-8388608', '2147483647',
    '-2147483648', '9223372036854775807', '-9223372036854775808', '9223372036854775808', 'x'.repeat(63), 'y'.repeat(64), '007'];
  const lp = lpFromItems(items);
  assert.equal(lp.length, 238);
  assert.equal(sha1(lp), '942afeecb83a3d80d3e569be695fc904a6a40c99');
  // A 32-bit-length string entry with a 3-byte backlen.
  const big = lpFromItems(['z'.repeat(5000)]);
  assert.equal(big.length, 5014);
  assert.equal(sha1(big), '92229c2d8063f3174d2211fd840ceca0b0eb94d3');
  assert.deepEqual(lpItems(big), ['z'.repeat(5000)]);
});
