// Minimal RESP2 encoder, incremental reply parser and pipelined client, shared by
// bench/run.mjs (pre-fill, CONFIG SET) and bench/driver.mjs (measured load).
// Deliberately independent of src/: the benchmark must talk to both servers
// over the wire exactly as any client would.
import net from 'node:net';

/** Encodes one command (array of ASCII strings) as a RESP2 multibulk frame. */
export function frame(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const x = String(a);
    s += `$${Buffer.byteLength(x)}\r\n${x}\r\n`;
  }
  return s;
}

const INCOMPLETE = Symbol('incomplete');

/** Server error reply. */
export class ReplyError {
  constructor(message) {
    this.message = message;
  }
}

/**
 * Incremental RESP2 parser. push(chunk) returns the complete replies it could
 * decode; a partial reply is kept and re-parsed from its start when more
 * bytes arrive. Strings are decoded as latin1 (binary safe, fast).
 */
export class RespParser {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }

  push(chunk) {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    const out = [];
    for (;;) {
      if (this.pos >= this.buf.length) break;
      const start = this.pos;
      const v = this.#value();
      if (v === INCOMPLETE) {
        this.pos = start;
        break;
      }
      out.push(v);
    }
    return out;
  }

  #line() {
    const end = this.buf.indexOf(13, this.pos);
    if (end < 0 || end + 1 >= this.buf.length) return INCOMPLETE;
    const s = this.buf.toString('latin1', this.pos + 1, end);
    this.pos = end + 2;
    return s;
  }

  #value() {
    if (this.pos >= this.buf.length) return INCOMPLETE;
    const type = this.buf[this.pos];
    const line = this.#line();
    if (line === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case 43: // +
        return line;
      case 45: // -
        return new ReplyError(line);
      case 58: // :
        return Number(line);
      case 36: { // $
        const len = Number(line);
        if (len < 0) return null;
        if (this.pos + len + 2 > this.buf.length) return INCOMPLETE;
        const s = this.buf.toString('latin1', this.pos, this.pos + len);
        this.pos += len + 2;
        return s;
      }
      case 42: { // *
        const n = Number(line);
        if (n < 0) return null;
        const a = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = this.#value();
          if (v === INCOMPLETE) return INCOMPLETE;
          a[i] = v;
        }
        return a;
      }
      default:
        throw new Error(`unexpected RESP type byte ${type} (${String.fromCharCode(type)})`);
    }
  }
}

/** Opens a connection; resolves once connected (Nagle off). */
export function connect(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    sock.setNoDelay(true);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/**
 * A simple pipelined client: call(args) resolves with the reply (ReplyError
 * resolves, not rejects; callers check). pipeline(frames, count) writes a
 * pre-encoded string of `count` commands and resolves with their replies.
 */
export class Client {
  static async open(port) {
    const c = new Client(await connect(port));
    return c;
  }

  constructor(sock) {
    this.sock = sock;
    this.parser = new RespParser();
    this.waiters = []; // {need, got:[], resolve}
    sock.on('data', (d) => {
      for (const v of this.parser.push(d)) {
        const w = this.waiters[0];
        if (!w) throw new Error('unsolicited reply');
        w.got.push(v);
        if (w.got.length === w.need) {
          this.waiters.shift();
          w.resolve(w.got);
        }
      }
    });
    sock.on('error', (e) => {
      for (const w of this.waiters) w.reject(e);
      this.waiters = [];
    });
  }

  pipeline(str, count) {
    return new Promise((resolve, reject) => {
      this.waiters.push({ need: count, got: [], resolve, reject });
      this.sock.write(str);
    });
  }

  async call(...args) {
    return (await this.pipeline(frame(args), 1))[0];
  }

  close() {
    this.sock.destroy();
  }
}
