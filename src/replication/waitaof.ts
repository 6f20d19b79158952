// WAITAOF numlocal numreplicas timeout (Valkey 7.2+): blocks until the writes
// made so far are fsynced by the local AOF (numlocal 0 or 1) and by at least
// numreplicas replicas' AOFs (REPLCONF ACK <offset> FACK <aofoffset>), or the
// timeout; replies [numlocal acked, numreplicas acked] either way.
// Local: the AOF's fed-bytes count at the call must be fsynced (Aof.fsyncedUpTo).
// Replicas: their FACK offset must reach the stream offset of the last write
// (the same offset WAIT uses). Checked on FACKs, on local fsyncs, and every
// 100 ms while someone waits (appendonly turned off, rewrite finished...).
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';

interface AofWaiter {
  c: Client;
  local: number;
  offset: number;
  numlocal: number;
  numreplicas: number;
  timer: NodeJS.Timeout | null;
}

const E_AOF_OFF = 'ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.';

export class AofWaits {
  private list: AofWaiter[] = [];
  private poll: NodeJS.Timeout | null = null;
  private soon = false;

  constructor(private readonly server: Server) {}

  /** Replicas (online) whose AOF is fsynced up to `off`. */
  private replicasAt(off: number): number {
    let n = 0;
    for (const r of this.server.repl.replicas) if (r.state === 'online' && r.aofAckOffset >= off) n++;
    return n;
  }

  private localAt(bytes: number): number {
    return this.server.aof.fsyncedUpTo(bytes) ? 1 : 0;
  }

  /** WAITAOF with parsed arguments (the command checked role and appendonly). */
  wait(c: Client, numlocal: number, numreplicas: number, timeoutMs: number): void {
    const server = this.server;
    const local = server.aof.fedBytes;
    const offset = server.repl.writeOffset;
    const al = this.localAt(local);
    const ar = this.replicasAt(offset);
    if ((al >= numlocal && ar >= numreplicas) || c.denyBlocking) {
      reply(c, al, ar);
      return;
    }
    const w: AofWaiter = { c, local, offset, numlocal, numreplicas, timer: null };
    c.postponed = [];
    if (timeoutMs > 0) w.timer = setTimeout(() => this.finish(w, false), timeoutMs);
    this.list.push(w);
    if (this.poll === null) {
      this.poll = setInterval(() => this.check(), 100);
      this.poll.unref();
    }
    if (numreplicas > 0) server.repl.askAcks();
  }

  /** Checks the blocked clients once, on the next event-loop turn. */
  checkSoon(): void {
    if (this.list.length === 0 || this.soon) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      this.check();
    });
  }

  check(): void {
    if (this.list.length === 0) return;
    const aofEnabled = this.server.config.bool('appendonly');
    for (const w of [...this.list]) {
      if (w.c.closed) this.finish(w, false);
      else if (w.numlocal > 0 && !aofEnabled) this.finish(w, true);
      else if (this.localAt(w.local) >= w.numlocal && this.replicasAt(w.offset) >= w.numreplicas) this.finish(w, false);
    }
  }

  /** The server became a replica: every blocked client gets its counts now. */
  abort(): void {
    for (const w of [...this.list]) this.finish(w, false);
  }

  private finish(w: AofWaiter, aofOff: boolean): void {
    const i = this.list.indexOf(w);
    if (i < 0) return;
    this.list.splice(i, 1);
    if (w.timer !== null) clearTimeout(w.timer);
    if (this.list.length === 0 && this.poll !== null) {
      clearInterval(this.poll);
      this.poll = null;
    }
    const c = w.c;
    c.postponed = null;
    if (c.closed) return;
    if (aofOff) c.addError(E_AOF_OFF);
    else reply(c, this.localAt(w.local), this.replicasAt(w.offset));
    c.processInput();
    c.flush();
    this.server.flushPending();
  }
}

function reply(c: Client, local: number, replicas: number): void {
  c.addArrayLen(2);
  c.addInt(local);
  c.addInt(replicas);
}

/** WAITAOF's argument errors and role checks, in Valkey's order; null when the call may go on. */
export function waitaofRefusal(server: Server, numlocal: number, appendonly: boolean): string | null {
  if (server.repl.isReplica) return 'ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.';
  if (numlocal > 0 && !appendonly) return E_AOF_OFF;
  return null;
}
