// Request parser: RESP multibulk and inline commands, straight from socket Buffers.
// Keeps partial frames between reads; a large bulk argument is copied once into a
// buffer of its exact size instead of re-concatenating the query buffer.
import { shortLatin1 } from '../util/latin1.js';
import { constants } from 'node:buffer';
import { hashBytes } from '../data/keytable.js';

/**
 * SADD, SREM, HSET, HGET, HDEL, ZREM (b[q, q+4) is the name), ZSCORE (6) in
 * any case: 3, argument 2 is a member of the collection at argument 1. ZADD
 * (4), ZINCRBY (7): 4, argument 3 is (ZADD without flags: the first) member.
 * Else 0.
 */
function memberCommand(b: Buffer, q: number, len: number): number {
  const c1 = b[q + 1] | 32;
  const c2 = b[q + 2] | 32;
  const c3 = b[q + 3] | 32;
  switch (b[q] | 32) {
    case 115: // s: add, rem
      return len === 4 && ((c1 === 97 && c2 === 100 && c3 === 100) || (c1 === 114 && c2 === 101 && c3 === 109)) ? 3 : 0;
    case 104: // h: set, get, del
      return len === 4 && ((c2 === 101 && c3 === 116 && (c1 === 115 || c1 === 103)) || (c1 === 100 && c2 === 101 && c3 === 108)) ? 3 : 0;
    case 122: // z: add, rem, score, incrby
      if (len === 4) return c1 === 97 && c2 === 100 && c3 === 100 ? 4 : c1 === 114 && c2 === 101 && c3 === 109 ? 3 : 0;
      if (len === 6) return c1 === 115 && c2 === 99 && c3 === 111 && (b[q + 4] | 32) === 114 && (b[q + 5] | 32) === 101 ? 3 : 0;
      if (len === 7) return c1 === 105 && c2 === 110 && c3 === 99 && (b[q + 4] | 32) === 114 && (b[q + 5] | 32) === 98 && (b[q + 6] | 32) === 121 ? 4 : 0;
      return 0;
    default:
      return 0;
  }
}

export const enum Parse {
  Incomplete = 0,
  Command = 1,
  Error = 2,
}

const INLINE_MAX = 64 * 1024; // Valkey's PROTO_INLINE_MAX_SIZE
const BIG_ARG = 32 * 1024; // Valkey's PROTO_MBULK_BIG_ARG
const INT_MAX = 2147483647;
const MAX_STRING = constants.MAX_STRING_LENGTH;
const EMPTY = Buffer.alloc(0);
const SKIP = 3;

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulk: number;
}

export class RequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Arguments of the command just parsed (valid after next() returned Command). */
  argv: string[] = [];
  /** Protocol error message after next() returned Error. */
  error = '';
  /** Whether the last command came inline (no multibulk). */
  inline = false;
  private mbLeft = 0;
  private bulkLen = -1;
  private big: Buffer | null = null;
  private bigPos = 0;
  /** When false, multibulk and bulk sizes are capped as for an unauthenticated client. */
  authenticated = true;

  constructor(private limits: ParserLimits) {}

  /** Bytes held for commands not yet complete (for client-query-buffer-limit). */
  pending(): number {
    return this.buf.length - this.pos + (this.big !== null ? this.bigPos : 0);
  }

  /**
   * Bytes in the query buffer as Valkey's sdslen(c->querybuf) counts them
   * while the client's commands run: the commands already run from this read
   * are still in it (Valkey trims them once the read is processed).
   */
  queryLen(): number {
    return this.buf.length + (this.big !== null ? this.bigPos : 0);
  }

  /** Appends freshly read bytes. */
  feed(chunk: Buffer): void {
    if (this.big !== null) {
      // Fill the big argument directly.
      const need = this.bulkLen + 2 - this.bigPos;
      if (chunk.length <= need) {
        chunk.copy(this.big, this.bigPos);
        this.bigPos += chunk.length;
        return;
      }
      chunk.copy(this.big, this.bigPos, 0, need);
      this.bigPos += need;
      this.buf = chunk;
      this.pos = need;
      return;
    }
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /**
   * Stops referencing the last chunk fed (the caller reuses that memory): copies
   * the unparsed tail, if any, into a buffer of its own.
   */
  detach(chunk: Buffer): void {
    if (this.buf.buffer === chunk.buffer && this.buf !== EMPTY) {
      if (this.pos < this.buf.length) this.buf = Buffer.from(this.buf.subarray(this.pos));
      else this.buf = EMPTY;
      this.pos = 0;
    }
  }

  /** Drops everything buffered (after a protocol error, or on reset). */
  clear(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.mbLeft = 0;
    this.bulkLen = -1;
    this.big = null;
    this.argv = [];
  }

  /**
   * Looks ahead over the complete multibulk commands buffered after the current
   * one (at most `maxFrames`) and writes the hashes (hashBytes) of their key
   * arguments to `out`: argument 1, and for MSET/MSETNX every odd argument, for
   * MGET every argument. Returns the number of hashes; `scanned` is set to the
   * number of commands looked at. Read-only, changes nothing in the parser's
   * state: a guess that is not a key (or malformed input, which stops the scan)
   * only makes a prefetch useless.
   * With `members` (as long as `out`): members[j] is the hash of argument 2 when
   * out[j] is the key of SADD, SREM, HSET, HGET, HDEL, ZREM or ZSCORE, of
   * argument 3 for ZADD and ZINCRBY (a collection member; see memberCommand),
   * else 0; memberHashCount counts them.
   */
  keyHashes(out: Int32Array, maxFrames: number, members?: Int32Array): number {
    this.scanned = 0;
    this.memberHashCount = 0;
    if (this.mbLeft !== 0 || this.big !== null) return 0;
    const buf = this.buf;
    const end = buf.length;
    let p = this.pos;
    let n = 0;
    let frames = 0;
    const cap = out.length;
    while (frames < maxFrames && p < end && buf[p] === 42 /* * */) {
      let q = p + 1;
      let argc = 0;
      while (q < end && buf[q] >= 48 && buf[q] <= 57 && argc < 100000) argc = argc * 10 + buf[q++] - 48;
      if (q + 1 >= end || buf[q] !== 13) break;
      q += 2;
      let mode = 0; // 0: argument 1 only, 1: odd arguments, 2: all but the name
      for (let a = 0; a < argc; a++) {
        if (q >= end || buf[q] !== 36 /* $ */) return this.doneScan(n, frames);
        q++;
        let len = 0;
        while (q < end && buf[q] >= 48 && buf[q] <= 57 && len < 1e9) len = len * 10 + buf[q++] - 48;
        if (q + 1 >= end || buf[q] !== 13) return this.doneScan(n, frames);
        q += 2;
        if (q + len + 2 > end) return this.doneScan(n, frames);
        if (a === 0) {
          // MSET / MSETNX / MGET, any case.
          if ((len === 4 || len === 6) && (buf[q] | 32) === 109 && (buf[q + 2] | 32) === 101 && (buf[q + 3] | 32) === 116) {
            const c1 = buf[q + 1] | 32;
            if (c1 === 115 && (len === 4 || ((buf[q + 4] | 32) === 110 && (buf[q + 5] | 32) === 120))) mode = 1;
            else if (c1 === 103 && len === 4) mode = 2;
          } else if (members !== undefined && len >= 4 && len <= 7) mode = memberCommand(buf, q, len);
        } else if (a === 1 || mode === 2 || (mode === 1 && (a & 1) === 1)) {
          if (n === cap) return this.doneScan(n, frames);
          if (members !== undefined) members[n] = 0;
          out[n++] = hashBytes(buf, q, len);
        } else if (mode >= 3 && a === mode - 1 && len <= 128) {
          members![n - 1] = hashBytes(buf, q, len);
          this.memberHashCount++;
        } else if (a > 64) {
          // A long command: the scan stops here (it is not walked to its end).
          return this.doneScan(n, frames + 1);
        }
        q += len + 2;
      }
      p = q;
      frames++;
    }
    return this.doneScan(n, frames);
  }

  /** Commands looked at by the last keyHashes(). */
  scanned = 0;

  /** Member hashes the last keyHashes() wrote to `members`. */
  memberHashCount = 0;

  private doneScan(n: number, frames: number): number {
    this.scanned = frames;
    return n;
  }

  /** Bytes buffered past the current position (not counting a big argument). */
  buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Parses the next command. */
  next(): Parse {
    for (;;) {
      if (this.mbLeft === 0) {
        const buf = this.buf;
        if (this.pos >= buf.length) {
          if (buf !== EMPTY) {
            this.buf = EMPTY;
            this.pos = 0;
          }
          return Parse.Incomplete;
        }
        if (buf[this.pos] !== 42 /* * */) {
          const r = this.parseInline();
          if (r === SKIP) continue;
          return r;
        }
        const r = this.multibulkHeader();
        if (r !== Parse.Command) return r;
        if (this.mbLeft === 0) continue; // "*0" or "*-1": nothing to run
        this.inline = false;
        if (this.mbLeft <= 4 && this.shortCommand(this.mbLeft)) return Parse.Command;
        this.argv = [];
      }
      return this.bulks();
    }
  }

  /** Reads a "<prefix><int>\r\n" line. Returns the value, -1 (incomplete) or -2 (not a number). */
  private readLineInt(tooBig: string): number {
    const buf = this.buf;
    const end = buf.length;
    let p = this.pos + 1;
    let n = 0;
    let neg = false;
    const start = p;
    if (p < end && buf[p] === 45) {
      neg = true;
      p++;
    }
    const digitsStart = p;
    while (p < end) {
      const c = buf[p];
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      p++;
    }
    if (p >= end || (buf[p] === 13 && p + 1 >= end)) {
      if (end - this.pos > INLINE_MAX) {
        this.error = tooBig;
        return -3;
      }
      return -1;
    }
    if (buf[p] !== 13) {
      // Not a clean number: wait for the line to end, then it is invalid.
      const cr = buf.indexOf(13, p);
      if (cr < 0 || cr + 1 >= end) {
        if (end - this.pos > INLINE_MAX) {
          this.error = tooBig;
          return -3;
        }
        return -1;
      }
      this.pos = cr + 2;
      return -2;
    }
    this.pos = p + 2;
    const nd = p - digitsStart;
    if (nd === 0 || nd > 19) return -2;
    if (buf[digitsStart] === 48 && nd > 1) return -2; // leading zero
    if (neg) {
      if (buf[digitsStart] === 48) return -2; // "-0"
      return p - start > 0 ? -4 - n : -2; // encode negatives below -3
    }
    return n;
  }

  private multibulkHeader(): Parse {
    const v = this.readLineInt('Protocol error: too big mbulk count string');
    if (v === -1) return Parse.Incomplete;
    if (v === -3) return Parse.Error;
    if (v === -2 || v > INT_MAX) {
      this.error = 'Protocol error: invalid multibulk length';
      return Parse.Error;
    }
    if (v <= -4) {
      this.mbLeft = 0; // negative count: empty command
      return Parse.Command;
    }
    if (v > 1024 * 1024 && !this.authenticated) {
      this.error = 'Protocol error: unauthenticated multibulk length';
      return Parse.Error;
    }
    this.mbLeft = v;
    return Parse.Command;
  }

  /**
   * Fast path for a command of 1 to 4 arguments that is wholly buffered and
   * plainly formed (no big argument): parses it at once into an array of its
   * exact size (a literal; push() would allocate room for 17). Anything else
   * (incomplete, malformed, over a limit) returns false with nothing consumed,
   * and bulks() handles it, errors included.
   */
  private shortCommand(n: number): boolean {
    const buf = this.buf;
    const end = buf.length;
    let p = this.pos;
    const max = this.authenticated ? Math.min(this.limits.maxBulk, BIG_ARG - 1) : Math.min(this.limits.maxBulk, 16384, BIG_ARG - 1);
    let a0 = '';
    let a1 = '';
    let a2 = '';
    let a3 = '';
    for (let k = 0; k < n; k++) {
      if (p + 3 >= end || buf[p] !== 36 /* $ */) return false;
      let q = p + 1;
      let len = buf[q] - 48;
      if (len < 0 || len > 9) return false;
      q++;
      if (len !== 0) {
        while (q < end) {
          const c = buf[q];
          if (c < 48 || c > 57) break;
          len = len * 10 + (c - 48);
          q++;
          if (len > max) return false;
        }
      }
      if (q + 1 >= end || buf[q] !== 13 || buf[q + 1] !== 10 || len > max) return false;
      q += 2;
      if (end - q < len + 2) return false;
      const s = k === 0 ? (len <= 24 ? internName(buf, q, len) : buf.latin1Slice(q, q + len)) : len <= 24 ? shortLatin1(buf, q, len) : buf.latin1Slice(q, q + len);
      if (k === 0) a0 = s;
      else if (k === 1) a1 = s;
      else if (k === 2) a2 = s;
      else a3 = s;
      p = q + len + 2;
    }
    this.argv = n === 1 ? [a0] : n === 2 ? [a0, a1] : n === 3 ? [a0, a1, a2] : [a0, a1, a2, a3];
    this.pos = p;
    this.mbLeft = 0;
    return true;
  }

  private bulks(): Parse {
    const argv = this.argv;
    for (;;) {
      if (this.big !== null) {
        if (this.bigPos < this.bulkLen + 2) return Parse.Incomplete;
        argv.push(this.big.latin1Slice(0, this.bulkLen));
        this.big = null;
        this.bulkLen = -1;
        if (--this.mbLeft === 0) return Parse.Command;
        continue;
      }
      const buf = this.buf;
      const end = buf.length;
      if (this.bulkLen < 0) {
        if (this.pos >= end) return Parse.Incomplete;
        if (buf[this.pos] !== 36 /* $ */) {
          this.error = `Protocol error: expected '$', got '${String.fromCharCode(buf[this.pos])}'`;
          return Parse.Error;
        }
        const save = this.pos;
        const v = this.readLineInt('Protocol error: too big bulk count string');
        if (v === -1) {
          this.pos = save;
          return Parse.Incomplete;
        }
        if (v === -3) return Parse.Error;
        if (v === -2 || v <= -4 || v > this.limits.maxBulk || v > MAX_STRING) {
          this.error = 'Protocol error: invalid bulk length';
          return Parse.Error;
        }
        if (v > 16384 && !this.authenticated) {
          this.error = 'Protocol error: unauthenticated bulk length';
          return Parse.Error;
        }
        this.bulkLen = v;
        if (v >= BIG_ARG && end - this.pos < v + 2) {
          const big = Buffer.allocUnsafe(v + 2);
          buf.copy(big, 0, this.pos, end);
          this.big = big;
          this.bigPos = end - this.pos;
          this.buf = EMPTY;
          this.pos = 0;
          return Parse.Incomplete;
        }
      }
      const len = this.bulkLen;
      if (end - this.pos < len + 2) return Parse.Incomplete;
      argv.push(argv.length === 0 && len <= 24 ? internName(buf, this.pos, len) : len <= 24 ? shortLatin1(buf, this.pos, len) : buf.latin1Slice(this.pos, this.pos + len));
      this.pos += len + 2;
      this.bulkLen = -1;
      if (--this.mbLeft === 0) return Parse.Command;
    }
  }

  private parseInline(): Parse | typeof SKIP {
    const buf = this.buf;
    // Short lines (PING\r\n) are scanned here: Buffer.indexOf is a call into C++.
    let nl = -1;
    const scanEnd = Math.min(buf.length, this.pos + 64);
    let i = this.pos;
    while (i < scanEnd && buf[i] !== 10) i++;
    if (i < scanEnd) nl = i;
    else if (scanEnd < buf.length) nl = buf.indexOf(10, scanEnd);
    if (nl < 0) {
      if (buf.length - this.pos > INLINE_MAX) {
        this.error = 'Protocol error: too big inline request';
        return Parse.Error;
      }
      return Parse.Incomplete;
    }
    let lineEnd = nl;
    if (lineEnd > this.pos && buf[lineEnd - 1] === 13) lineEnd--;
    const start = this.pos;
    this.pos = nl + 1;
    // Fast path: no quotes (or NUL) on the line, so arguments are just the
    // runs of non-space bytes; sliced straight from the buffer.
    let simple = true;
    for (let i = start; i < lineEnd; i++) {
      const b = buf[i];
      if (b === 34 || b === 39 || b === 0) {
        simple = false;
        break;
      }
    }
    if (simple) {
      let i = start;
      while (i < lineEnd && isSpaceChar(buf[i])) i++;
      if (i >= lineEnd) return SKIP;
      const t0 = i;
      while (i < lineEnd && !isSpaceChar(buf[i])) i++;
      // An array of the exact size for the name alone (PING): push() from empty would allocate room for 17.
      const argv: string[] = [i - t0 <= 24 ? internName(buf, t0, i - t0) : buf.latin1Slice(t0, i)];
      for (;;) {
        while (i < lineEnd && isSpaceChar(buf[i])) i++;
        if (i >= lineEnd) break;
        const t = i;
        while (i < lineEnd && !isSpaceChar(buf[i])) i++;
        argv.push(buf.latin1Slice(t, i));
      }
      this.inline = true;
      this.argv = argv;
      return Parse.Command;
    }
    const line = buf.latin1Slice(start, lineEnd);
    const args = splitArgs(line);
    if (args === null) {
      this.error = 'Protocol error: unbalanced quotes in request';
      return Parse.Error;
    }
    if (args.length === 0) return SKIP;
    this.inline = true;
    this.argv = args;
    return Parse.Command;
  }
}

// Command names repeat on every request (and on every command of a replica's
// stream, src/replication/stream-parse.ts): keep the strings for recent ones so
// the hot path neither allocates them nor rehashes them for the command-table lookup.
const INTERN_SIZE = 256;
const internTable: (string | undefined)[] = new Array(INTERN_SIZE);

export function internName(buf: Buffer, pos: number, len: number): string {
  if (len === 0) return '';
  const h = (len * 31 + buf[pos] * 7 + buf[pos + len - 1] * 13 + (len > 2 ? buf[pos + 1] : 0)) & (INTERN_SIZE - 1);
  const cached = internTable[h];
  if (cached !== undefined && cached.length === len) {
    let i = 0;
    while (i < len && cached.charCodeAt(i) === buf[pos + i]) i++;
    if (i === len) return cached;
  }
  const s = buf.latin1Slice(pos, pos + len);
  internTable[h] = s;
  return s;
}


function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

/**
 * Splits a line into arguments like Valkey's sdssplitargs: spaces separate,
 * "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes'
 * take \' only; a closing quote must be followed by a space or the end.
 * Returns null on unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpaceChar(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let done = false;
    let cur = '';
    while (!done) {
      if (inq) {
        if (i >= n) return null;
        const ch = line[i];
        if (ch === '\\' && line[i + 1] === 'x' && i + 3 < n + 0 && isHex(line[i + 2] ?? '') && isHex(line[i + 3] ?? '')) {
          cur += String.fromCharCode(parseInt(line.substr(i + 2, 2), 16));
          i += 3;
        } else if (ch === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (ch === '"') {
          if (i + 1 < n && !isSpaceChar(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += ch;
        }
      } else if (insq) {
        if (i >= n) return null;
        const ch = line[i];
        if (ch === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (ch === "'") {
          if (i + 1 < n && !isSpaceChar(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += ch;
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const ch = line[i];
        const code = line.charCodeAt(i);
        if (code === 32 || code === 10 || code === 13 || code === 9 || code === 0) {
          done = true;
        } else if (ch === '"') {
          inq = true;
        } else if (ch === "'") {
          insq = true;
        } else {
          cur += ch;
        }
      }
      if (i < n) i++;
    }
    out.push(cur);
  }
}

function isSpaceChar(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 11 || c === 12;
}
