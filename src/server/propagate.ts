// The propagation stream: every effective write, once, in order, for AOF and
// replicas (see ../shared/DESIGN.md, "One propagation stream").
//
// How a command gets into the stream (mirrors Valkey's call()/alsoPropagate):
//  - After a handler ran, if it changed the dataset (server.dirty moved) or
//    asked for it with force(), its argv is queued, unless it called
//    prevent() or replaced what is queued with replace(argv).
//  - A handler may queue extra commands with also(dbId, argv) (SPOP with a
//    count queues SREMs, a served BLPOP queues an LPOP, ...).
//  - Nested calls (EXEC's queue, a script's redis.call) queue their own
//    commands; the outer EXEC/EVAL calls prevent().
//  - When the outermost call ends, the queued commands go to every target:
//    one command as is, several wrapped in MULTI ... EXEC, like Valkey 7+.
//  - Keys removed by expiry (lazily or by the active cycle) are queued as DEL.
//
// The work is skipped when nothing consumes the stream (no AOF, no replica):
// `active` is false and the dispatcher tests only that flag.
//
// Per-op targets (redis.set_repl(REPL_AOF) / (REPL_REPLICA) in scripts): an
// op may carry `to`, a mask of PROPAGATE_AOF / PROPAGATE_REPL, and a target
// may say which it is (`propagationKind`, absent: it gets every op). Only a
// flag is tested on the normal path; a unit holding masked ops is filtered
// per target, still wrapped in MULTI/EXEC when the unit has several ops (as
// Valkey's propagatePendingCommands; a target left with no op gets nothing).

/** Bits of PropagatedOp.to / PropagationTarget.propagationKind (Valkey's PROPAGATE_AOF / PROPAGATE_REPL). */
export const PROPAGATE_AOF = 1;
export const PROPAGATE_REPL = 2;

/** One command of the stream: the database it ran in, and its arguments. */
export interface PropagatedOp {
  db: number;
  argv: (string | Buffer)[];
  /** Only to these targets (PROPAGATE_AOF | PROPAGATE_REPL); absent: to all. */
  to?: number;
}

/** A consumer of the stream (the AOF writer, the replication backlog, tests). */
export interface PropagationTarget {
  /**
   * Receives one unit of the stream in order: a single command, or a
   * transaction already wrapped as MULTI, ..., EXEC (all in ops[0].db's
   * context except where an op says otherwise). The target tracks its own
   * selected database and emits SELECT when an op's db differs. The array and
   * its ops are only lent for the call (a lone command comes in a reused
   * one-op unit): a target copies what it keeps.
   */
  feed(ops: PropagatedOp[]): void;
  /** PROPAGATE_AOF or PROPAGATE_REPL: which ops with a `to` mask it receives (absent: all). */
  readonly propagationKind?: number;
}

const MULTI: string[] = ['MULTI'];
const EXEC: string[] = ['EXEC'];

export class Propagation {
  /** True while at least one target listens; everything else is skipped when false. */
  active = false;
  private readonly targets = new Set<PropagationTarget>();
  /** Commands queued by the outermost call that is running. */
  private pending: PropagatedOp[] = [];
  /** Depth of nested call()s (0: idle). */
  depth = 0;
  // State of the innermost running call (saved and restored by the dispatcher).
  /** The running command's own argv must not be propagated. */
  prevented = false;
  /** The running command is propagated even if it changed nothing (PUBLISH, ...). */
  forced = false;
  /** What to propagate instead of the running command's argv (null: its argv). */
  replacement: (string | Buffer)[] | null = null;
  /** Some queued op has a `to` mask (flush filters per target). */
  private masked = false;
  /** The targets as an array (the per-command path iterates it). */
  private list: PropagationTarget[] = [];
  /** The reused unit of a lone command (commandDone's common case: no op object, no array per write). */
  private readonly one: PropagatedOp = { db: 0, argv: EXEC };
  private readonly oneUnit: PropagatedOp[] = [this.one];

  addTarget(t: PropagationTarget): void {
    this.targets.add(t);
    this.list = [...this.targets];
    this.active = true;
  }

  removeTarget(t: PropagationTarget): void {
    this.targets.delete(t);
    this.list = [...this.targets];
    this.active = this.targets.size !== 0;
  }

  /** The running command's own argv is not propagated (its effects are, through also()). */
  prevent(): void {
    this.prevented = true;
  }

  /** The running command is propagated even when it did not change the dataset. */
  force(): void {
    this.forced = true;
  }

  /** Propagate `argv` instead of the running command's arguments (EXPIRE -> PEXPIREAT, ...). */
  replace(argv: (string | Buffer)[]): void {
    this.replacement = argv;
  }

  /** Queues an extra command, in the order of the calls, ahead of the running command's own argv. */
  also(db: number, argv: (string | Buffer)[]): void {
    if (!this.active) return;
    this.pending.push({ db, argv });
    if (this.depth === 0) this.flush();
  }

  /** Called by the dispatcher after a handler ran (depth already decremented). */
  commandDone(db: number, argv: (string | Buffer)[], changed: boolean): void {
    if (!this.prevented && (changed || this.forced)) {
      const a = this.replacement ?? argv;
      if (this.depth === 0 && this.pending.length === 0) {
        this.feedOne(db, a);
        return;
      }
      this.pending.push({ db, argv: a });
    }
    if (this.depth === 0) this.flush();
  }

  /** A lone command (nothing else queued, outermost call) in the reused one-op unit. */
  private feedOne(db: number, argv: (string | Buffer)[]): void {
    const op = this.one;
    op.db = db;
    op.argv = argv;
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i].feed(this.oneUnit);
    op.argv = EXEC; // keeps no reference to the command's arguments
  }

  /** How many ops are queued (a mark for truncate / restrictFrom). */
  queued(): number {
    return this.pending.length;
  }

  /** Drops the ops queued after the mark `n` (redis.set_repl(REPL_NONE)). */
  truncate(n: number): void {
    if (n < this.pending.length) this.pending.length = n;
  }

  /** Sends the ops queued after the mark `n` only to the targets in `mask` (redis.set_repl(REPL_AOF / REPL_REPLICA)). */
  restrictFrom(n: number, mask: number): void {
    const p = this.pending;
    for (let i = n; i < p.length; i++) p[i].to = (p[i].to ?? PROPAGATE_AOF | PROPAGATE_REPL) & mask;
    if (n < p.length) this.masked = true;
  }

  /** Sends what the outermost call queued to every target. */
  flush(): void {
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    if (this.masked) {
      this.masked = false;
      this.flushMasked(ops);
      return;
    }
    let unit = ops;
    if (ops.length > 1) {
      const db = ops[0].db;
      unit = [{ db, argv: MULTI }, ...ops, { db: ops[ops.length - 1].db, argv: EXEC }];
    }
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i].feed(unit);
  }

  /** flush() of a unit with per-op targets. */
  private flushMasked(ops: PropagatedOp[]): void {
    const wrap = ops.length > 1;
    for (const t of this.targets) {
      const kind = t.propagationKind;
      const mine = kind === undefined ? ops : ops.filter((op) => op.to === undefined || (op.to & kind) !== 0);
      if (mine.length === 0) continue;
      t.feed(wrap ? [{ db: mine[0].db, argv: MULTI }, ...mine, { db: mine[mine.length - 1].db, argv: EXEC }] : mine);
    }
  }
}

/** Encodes argv as a RESP multibulk (the form AOF files and replication links carry). */
export function encodeCommand(argv: (string | Buffer)[]): Buffer {
  let size = 16;
  for (const a of argv) size += (typeof a === 'string' ? a.length : a.length) + 16;
  const out = Buffer.allocUnsafe(size);
  let o = out.write(`*${argv.length}\r\n`, 0, 'latin1');
  for (const a of argv) {
    const n = a.length;
    o += out.write(`$${n}\r\n`, o, 'latin1');
    if (typeof a === 'string') o += out.write(a, o, 'latin1');
    else o += a.copy(out, o);
    out[o++] = 13;
    out[o++] = 10;
  }
  return out.subarray(0, o);
}

/**
 * Helper for targets: turns a unit of the stream into RESP bytes, inserting
 * SELECT when the database changes. `state.db` is the target's current db
 * (-1 at the start, so the first op always selects).
 */
export function encodeUnit(ops: PropagatedOp[], state: { db: number }): Buffer {
  const parts: Buffer[] = [];
  for (const op of ops) {
    if (op.argv !== EXEC && op.db !== state.db) {
      // SELECT before the first command of another db (MULTI counts; inside a transaction too, like Valkey).
      parts.push(encodeCommand(['SELECT', String(op.db)]));
      state.db = op.db;
    }
    parts.push(encodeCommand(op.argv));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
