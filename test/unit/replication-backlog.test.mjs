// The replication backlog (circular buffer with Valkey's offsets) against a
// naive model, and the replication stream's multibulk parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backlog } from '../../dist/src/replication/backlog.js';
import { parseMultibulk } from '../../dist/src/replication/replication.js';
import { parsed } from '../../dist/src/replication/stream-parse.js';

function rng(seed) {
  let x = seed;
  return (m) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % m;
  };
}

test('backlog: appends, wrap-around, reads from any held offset, resize', () => {
  for (const size of [1, 7, 64, 1000]) {
    const rnd = rng(size);
    const start = rnd(50);
    const b = new Backlog(size, start);
    let model = Buffer.alloc(0); // every byte ever appended
    let held = 0; // bytes the backlog should hold
    assert.equal(b.firstByte, start + 1);
    assert.equal(b.histlen, 0);
    assert.ok(b.has(start + 1));
    assert.ok(!b.has(start + 2));
    for (let i = 0; i < 300; i++) {
      const chunk = Buffer.from(Array.from({ length: rnd(size * 2 + 3) }, () => rnd(256)));
      b.append(chunk);
      model = Buffer.concat([model, chunk]);
      held = Math.min(size, held + chunk.length);
      const end = start + model.length;
      assert.equal(b.lastByte, end);
      assert.equal(b.histlen, held);
      assert.equal(b.firstByte, end - b.histlen + 1);
      assert.ok(!b.has(b.firstByte - 1));
      assert.ok(b.has(end + 1));
      assert.ok(!b.has(end + 2));
      const from = b.firstByte + rnd(b.histlen + 1);
      assert.deepEqual(b.from(from), model.subarray(from - start - 1));
      if (i % 97 === 96) {
        const n = 1 + rnd(size * 2);
        b.resize(n);
        held = Math.min(n, held);
        assert.equal(b.histlen, held);
        assert.deepEqual(b.from(b.firstByte), model.subarray(model.length - b.histlen));
        b.resize(size);
        assert.equal(b.histlen, held);
        assert.deepEqual(b.from(b.firstByte), model.subarray(model.length - b.histlen));
      }
    }
  }
});

test('stream parser: complete, incomplete and malformed commands', () => {
  const cmd = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nxy\r\n*1\r\n$4\r\nPING\r\n', 'latin1');
  const end = parseMultibulk(cmd, 0);
  assert.deepEqual(parsed.argv, ['SET', 'k', 'v\r\nxy']);
  assert.equal(parseMultibulk(cmd, end), cmd.length);
  assert.deepEqual(parsed.argv, ['PING']);
  for (let cut = 1; cut < end; cut++) assert.equal(parseMultibulk(cmd.subarray(0, cut), 0), -1, `cut at ${cut}`);
  assert.equal(parseMultibulk(Buffer.from('+OK\r\n'), 0), -2);
  assert.equal(parseMultibulk(Buffer.from('*1\r\n+x\r\n'), 0), -2);
  assert.equal(parseMultibulk(Buffer.from('*x\r\n'), 0), -2);
  // Binary-safe: arguments are latin1 strings of the exact bytes.
  const bin = Buffer.concat([Buffer.from('*1\r\n$3\r\n'), Buffer.from([0, 255, 13]), Buffer.from('\r\n')]);
  assert.equal(parseMultibulk(bin, 0), bin.length);
  assert.deepEqual(Buffer.from(parsed.argv[0], 'latin1'), Buffer.from([0, 255, 13]));
});

test('stream parser: long commands, a fresh array per command, incomplete long commands leave nothing behind', () => {
  const enc = (args) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((a) => Buffer.concat([Buffer.from(`$${a.length}\r\n`), Buffer.from(a, 'latin1'), Buffer.from('\r\n')]))]);
  const seen = [];
  for (const args of [[], ['MSET', 'a', '1', 'b', '2', 'c', '3'], ['SET', 'k', 'v', 'PXAT', '123'], ['DEL', 'x', 'y'], ['set', 'k', 'v'], ['SET', 'k2', 'w']]) {
    const wire = enc(args);
    // Every cut of a long command is incomplete and must not leak arguments into the next command.
    for (let cut = 1; cut < wire.length; cut++) assert.equal(parseMultibulk(wire.subarray(0, cut), 0), -1);
    assert.equal(parseMultibulk(wire, 0), wire.length);
    assert.deepEqual(parsed.argv, args);
    assert.equal(parsed.argv.length, args.length);
    seen.push(parsed.argv);
  }
  // Arrays handed out earlier are untouched by later commands (the replica keeps a batch of them).
  assert.deepEqual(seen[1], ['MSET', 'a', '1', 'b', '2', 'c', '3']);
  assert.deepEqual(seen[4], ['set', 'k', 'v']);
  // A long command cut by a protocol error in a later argument leaves nothing behind either.
  assert.equal(parseMultibulk(Buffer.from('*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n+2\r\n'), 0), -2);
  const four = enc(['A', 'b', 'c', 'd']);
  assert.equal(parseMultibulk(four, 0), four.length);
  assert.deepEqual(parsed.argv, ['A', 'b', 'c', 'd']);
});

test('stream parser: the first key hash for the apply batch prefetch, binary and long arguments', async () => {
  const { hashKey } = await import('../../dist/src/data/keytable.js');
  const long = 'x'.repeat(100) + '\u00ff';
  for (const args of [['SET', 'key:000000012345', 'v'], ['DEL', '\u0000\u00ff\r\n'], ['HSET', long, 'f', long], ['SET', '', '']]) {
    const wire = Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((a) => Buffer.concat([Buffer.from(`$${a.length}\r\n`), Buffer.from(a, 'latin1'), Buffer.from('\r\n')]))]);
    assert.equal(parseMultibulk(wire, 0), wire.length);
    assert.deepEqual(parsed.argv, args);
    assert.equal(parsed.hasKey, true);
    assert.equal(parsed.keyHash, hashKey(args[1]), `hash of ${JSON.stringify(args[1]).slice(0, 20)}`);
  }
  assert.equal(parseMultibulk(Buffer.from('*1\r\n$4\r\nPING\r\n'), 0), 14);
  assert.equal(parsed.hasKey, false);
});

test('stream buffer: commands encode as encodeCommand does, for lengths of every digit count', async () => {
  const { StreamBuf } = await import('../../dist/src/replication/stream-buf.js');
  const { encodeCommand } = await import('../../dist/src/server/propagate.js');
  const t = new StreamBuf();
  const expected = [];
  for (const n of [0, 1, 9, 10, 11, 42, 99, 100, 101, 999, 1000, 12345, 70000]) {
    const argv = ['SET', 'k'.repeat(n), Buffer.alloc(n, 0xff), '\u00e9'.repeat(n % 30)];
    t.appendCommand(argv);
    expected.push(encodeCommand(argv));
  }
  const many = Array.from({ length: 123 }, (_, i) => String(i));
  t.appendCommand(many);
  expected.push(encodeCommand(many));
  assert.deepEqual(t.buf.subarray(0, t.len), Buffer.concat(expected));
});
