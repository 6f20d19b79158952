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
