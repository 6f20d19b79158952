// RequestParser (src/protocol/parser.ts): arguments of every short length, with
// any byte values, decode to the same latin1 strings whatever path builds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser } from '../../dist/src/protocol/parser.js';

test('bulk arguments of 0..40 bytes with any byte values come out as their latin1 strings', () => {
  const p = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  for (let round = 0; round < 50; round++) {
    const args = [];
    for (let len = 0; len <= 40; len++) {
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = round === 0 ? 255 - i : Math.floor(Math.random() * 256);
      args.push(b);
    }
    const parts = [Buffer.from(`*${args.length + 1}\r\n$3\r\nSET\r\n`)];
    for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n'));
    p.feed(Buffer.concat(parts));
    assert.equal(p.next(), 1 /* Parse.Command */);
    assert.equal(p.argv.length, args.length + 1);
    for (let i = 0; i < args.length; i++) assert.equal(p.argv[i + 1], args[i].toString('latin1'), `length ${args[i].length}`);
  }
});

test('commands of 1-4 arguments parse the same whole or split at any chunk size (short-command fast path)', () => {
  const enc = (args) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')])]);
  const cmds = [];
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(Math.random() * 4);
    const args = [];
    for (let k = 0; k < n; k++) {
      const len = [0, 1, 3, 16, 24, 25, 100, 40000][Math.floor(Math.random() * 8)];
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(Math.random() * 256);
      args.push(b);
    }
    cmds.push(args);
  }
  const all = Buffer.concat(cmds.map(enc));
  for (const chunk of [7, 100, 4096, 65536, all.length]) {
    const p = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
    let got = 0;
    for (let off = 0; off < all.length; off += chunk) {
      const part = Buffer.from(all.subarray(off, off + chunk));
      p.feed(part);
      for (let r = p.next(); r !== 0; r = p.next()) {
        assert.equal(r, 1, p.error);
        const want = cmds[got++];
        assert.deepEqual(p.argv, want.map((b) => b.toString('latin1')));
      }
      p.detach(part);
    }
    assert.equal(got, cmds.length, `chunk ${chunk}`);
  }
});

test('short commands keep the protocol errors and limits', () => {
  const cases = [
    ['*2\r\n$01\r\nab\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['*2\r\n$3\r\nGET\r\n$x\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$99999999999\r\n', 'Protocol error: invalid bulk length'],
    ['*2\r\n$3\r\nGET\r\nk\r\n', "Protocol error: expected '$', got 'k'"],
  ];
  for (const [input, error] of cases) {
    const p = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
    p.feed(Buffer.from(input));
    assert.equal(p.next(), 2, input);
    assert.equal(p.error, error);
  }
  const u = new RequestParser({ maxBulk: 512 * 1024 * 1024 });
  u.authenticated = false;
  u.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$20000\r\n'));
  assert.equal(u.next(), 2);
  assert.equal(u.error, 'Protocol error: unauthenticated bulk length');
  const m = new RequestParser({ maxBulk: 10 });
  m.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$11\r\nabcdefghijk\r\n'));
  assert.equal(m.next(), 2);
  assert.equal(m.error, 'Protocol error: invalid bulk length');
});
