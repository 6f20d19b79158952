// Conversions between the replies commands write (RESP bytes in a client's
// output buffer) and the engine's ReplyValue, both ways.
//
// RESP -> Lua (what redis.call returns), as Valkey: integers -> numbers,
// bulk -> strings, null bulk / null array -> false (RESP2), status -> {ok=},
// error -> {err=}, arrays -> tables; after redis.setresp(3) also maps, sets,
// doubles, booleans, null (nil), big numbers and verbatim strings.
// Lua -> RESP (what the script returns) is done by the engine into a
// ReplyValue; writeReply() below writes it in the caller's protocol.
import type { ReplyValue } from './engine.js';
import type { ReplyWriter } from '../protocol/reply.js';

const pos = { p: 0 };

function readLine(buf: Buffer, end: number): string {
  const start = pos.p;
  let i = start;
  while (i < end && buf[i] !== 13) i++;
  pos.p = i + 2;
  return buf.latin1Slice(start, i);
}

function readLenLine(buf: Buffer): number {
  let i = pos.p;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  let n = 0;
  while (buf[i] !== 13) n = n * 10 + (buf[i++] - 48);
  pos.p = i + 2;
  return neg ? -n : n;
}

function parseOne(buf: Buffer, end: number): ReplyValue {
  const t = buf[pos.p++];
  switch (t) {
    case 43: // +
      return { ok: Buffer.from(readLine(buf, end), 'latin1') };
    case 45: // -
      return { err: Buffer.from(readLine(buf, end), 'latin1') };
    case 58: {
      // :
      const s = readLine(buf, end);
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : BigInt(s);
    }
    case 36: {
      // $
      const n = readLenLine(buf);
      if (n < 0) return false;
      const b = Buffer.from(buf.subarray(pos.p, pos.p + n));
      pos.p += n + 2;
      return b;
    }
    case 42: // *
    case 62: {
      // > (push: as an array)
      const n = readLenLine(buf);
      if (n < 0) return false;
      const a: ReplyValue[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = parseOne(buf, end);
      return a;
    }
    case 37: {
      // %
      const n = readLenLine(buf);
      const m: [ReplyValue, ReplyValue][] = new Array(n);
      for (let i = 0; i < n; i++) {
        const k = parseOne(buf, end);
        m[i] = [k, parseOne(buf, end)];
      }
      return { map: m };
    }
    case 126: {
      // ~
      const n = readLenLine(buf);
      const a: ReplyValue[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = parseOne(buf, end);
      return { set: a };
    }
    case 95: // _
      pos.p += 2;
      return null;
    case 35: {
      // #
      const v = buf[pos.p] === 116;
      pos.p += 3;
      return v;
    }
    case 44: {
      // ,
      const s = readLine(buf, end);
      return { double: s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s) };
    }
    case 40: // (
      return { big_number: Buffer.from(readLine(buf, end), 'latin1') };
    case 61: {
      // =
      const n = readLenLine(buf);
      const format = Buffer.from(buf.subarray(pos.p, pos.p + 3));
      const string = Buffer.from(buf.subarray(pos.p + 4, pos.p + n));
      pos.p += n + 2;
      return { verbatim_string: { format, string } };
    }
    case 124: {
      // | attribute: skipped, the reply follows
      const n = readLenLine(buf);
      for (let i = 0; i < 2 * n; i++) parseOne(buf, end);
      return parseOne(buf, end);
    }
    default:
      throw new Error(`unexpected reply type byte ${t}`);
  }
}

/** Parses the first reply in buf[0, end). */
export function parseReply(buf: Buffer, end: number): ReplyValue {
  pos.p = 0;
  return parseOne(buf, end);
}

/** An error reply value's full text ("CODE message"). */
export function errorText(v: { err: Buffer; code?: Buffer }): string {
  const m = v.err.latin1Slice();
  return v.code !== undefined && v.code.length > 0 ? `${v.code.latin1Slice()} ${m}` : m;
}

/** Writes what a script returned in the caller's protocol. */
export function writeReply(c: ReplyWriter, v: ReplyValue): void {
  if (v === null) return c.addNull();
  switch (typeof v) {
    case 'number':
      return c.addInt(v);
    case 'bigint':
      return c.addBigInt(v);
    case 'boolean':
      return c.addBool(v);
  }
  if (Buffer.isBuffer(v)) return c.addBulkBuf(v);
  if (Array.isArray(v)) {
    c.addArrayLen(v.length);
    for (let i = 0; i < v.length; i++) writeReply(c, v[i]);
    return;
  }
  const o = v as Record<string, unknown>;
  if ('ok' in o) return c.addSimple((o.ok as Buffer).latin1Slice().replace(/[\r\n]/g, ' '));
  if ('err' in o) return c.addError(errorText(o as { err: Buffer; code?: Buffer }));
  if ('double' in o) {
    const d = o.double as number | null;
    return c.addDouble(d === null ? NaN : d);
  }
  if ('map' in o) {
    const m = o.map as [ReplyValue, ReplyValue][];
    c.addMapLen(m.length);
    for (const [k, val] of m) {
      writeReply(c, k);
      writeReply(c, val);
    }
    return;
  }
  if ('set' in o) {
    const s = o.set as ReplyValue[];
    c.addSetLen(s.length);
    for (const x of s) writeReply(c, x);
    return;
  }
  if ('big_number' in o) return c.addBigNumber((o.big_number as Buffer).latin1Slice());
  if ('verbatim_string' in o) {
    const vs = o.verbatim_string as { format: Buffer; string: Buffer };
    return c.addVerbatim(vs.string.latin1Slice(), vs.format.latin1Slice());
  }
  c.addNull();
}
