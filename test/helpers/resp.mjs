// A tiny raw RESP connection for tests that must see exact bytes on the wire
// (protocol errors, inline commands, RESP3 types). Not a client library.
import net from 'node:net';

export class RawConn {
  static async connect(port, host = '127.0.0.1') {
    const c = new RawConn();
    await new Promise((resolve, reject) => {
      c.sock = net.connect(port, host, resolve);
      c.sock.once('error', reject);
    });
    c.buf = Buffer.alloc(0);
    c.closed = false;
    c.waiters = [];
    c.sock.on('data', (d) => {
      c.buf = Buffer.concat([c.buf, d]);
      c._wake();
    });
    c.sock.on('close', () => {
      c.closed = true;
      c._wake();
    });
    c.sock.on('error', () => {});
    return c;
  }

  _wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data) {
    this.sock.write(data);
  }

  /** Sends a command as a multibulk frame. */
  send(...args) {
    let s = `*${args.length}\r\n`;
    const parts = [Buffer.from(s)];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'latin1');
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    this.sock.write(Buffer.concat(parts));
  }

  /** Waits until `n` bytes (or the connection closed) and returns the raw text so far. */
  // Default deadlines are generous (20 s): they catch a hang, and a loaded CI machine must not trip them.
  async readBytes(n, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(this.buf.subarray(0, 200).toString("latin1"))} (${this.buf.length} bytes)`);
      await new Promise((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    const out = this.buf.subarray(0, n).toString('latin1');
    this.buf = this.buf.subarray(Math.min(n, this.buf.length));
    return out;
  }

  /** Reads one complete RESP value and returns its raw text. */
  async readReply(timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = replyEnd(this.buf, 0);
      if (end > 0) {
        const out = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end);
        return out;
      }
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(this.buf.subarray(0, 200).toString("latin1"))} (${this.buf.length} bytes)`);
      await new Promise((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Sends a command and returns its raw reply. */
  async call(...args) {
    this.send(...args);
    return this.readReply();
  }

  async waitClosed(timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close() {
    this.sock.destroy();
  }
}

/** Index just past one complete RESP value starting at `i`, or -1. */
export function replyEnd(buf, i) {
  if (i >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', i);
  if (nl < 0) return -1;
  const t = String.fromCharCode(buf[i]);
  const head = buf.subarray(i + 1, nl).toString('latin1');
  switch (t) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return nl + 2;
    case '$': case '=': case '!': {
      const n = Number(head);
      if (n < 0) return nl + 2;
      return buf.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(head);
      if (n < 0) return nl + 2;
      if (t === '%' || t === '|') n *= 2;
      let p = nl + 2;
      for (let k = 0; k < n; k++) {
        p = replyEnd(buf, p);
        if (p < 0) return -1;
      }
      if (t === '|') {
        p = replyEnd(buf, p);
      }
      return p;
    }
    default:
      return -1;
  }
}
