// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the queueing rules
// the dispatcher applies while a client is inside MULTI.
//
// - Inside MULTI every command that passes the dispatcher's checks is queued
//   (+QUEUED), except EXEC, DISCARD, MULTI, WATCH, QUIT and RESET, which run at
//   once; no_multi commands are refused.
// - A rejected command while queueing (unknown, arity, NOAUTH, OOM, no_multi...)
//   marks the transaction (dirtyExec): EXEC then answers EXECABORT. A rejected
//   EXEC itself aborts the transaction with the reason.
// - EXEC runs the queue synchronously inside one dispatcher call, so nothing
//   interleaves and clients blocked on keys are served only after it.
import type { Client } from '../server/client.js';
import { CMD, type Command, type HandlerMap } from './table.js';
import { aclExecDenied } from '../acl/acl.js';

/** The queued commands of a client inside MULTI. */
export class MultiState {
  cmds: Command[] = [];
  argvs: string[][] = [];
  /** OR of the queued commands' flags (pause and OOM checks of EXEC use it). */
  flags = 0;
  /** A command was rejected while queueing: EXEC answers EXECABORT. */
  dirtyExec = false;
  /** Bytes of queued arguments (CLIENT LIST multi-mem). */
  argvBytes = 0;
}

const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';

/** Commands that run at once inside MULTI instead of being queued. */
function runsInsideMulti(cmd: Command): boolean {
  switch (cmd.name) {
    case 'exec':
    case 'discard':
    case 'multi':
    case 'watch':
    case 'quit':
    case 'reset':
      return cmd.parent === null;
    default:
      return false;
  }
}

/**
 * Called by the dispatcher, after its checks, for a client inside MULTI.
 * Returns true when the command was queued (or refused); false when it must run now.
 */
export function queueIfMulti(c: Client, cmd: Command, argv: string[], flags = cmd.flags): boolean {
  const ms = c.multi!;
  if (runsInsideMulti(cmd)) return false;
  if ((cmd.flags & CMD.NO_MULTI) !== 0) {
    cmd.rejectedCalls++;
    rejectInMulti(c, cmd, 'ERR Command not allowed inside a transaction');
    return true;
  }
  // An aborted transaction keeps answering QUEUED but stores nothing.
  if (!ms.dirtyExec && !c.dirtyCas) {
    ms.cmds.push(cmd);
    ms.argvs.push(argv);
    ms.flags |= flags; // a script's declared flags for EVAL/FCALL (the dispatcher's)
    for (let i = 0; i < argv.length; i++) ms.argvBytes += argv[i].length;
  }
  c.addSimple('QUEUED');
  return true;
}

/**
 * A command refused by the dispatcher (Valkey's rejectCommand): marks the
 * transaction of a client inside MULTI; a refused EXEC aborts it with the reason.
 */
export function rejectInMulti(c: Client, cmd: Command | undefined, msg: string): void {
  if (cmd !== undefined && cmd.name === 'exec' && cmd.parent === null) {
    discardTransaction(c);
    c.addError(`EXECABORT Transaction discarded because of: ${msg.startsWith('ERR ') ? msg.slice(4) : msg}`);
    return;
  }
  flagTransaction(c);
  c.addError(msg);
}

/** Marks the transaction so that EXEC fails (Valkey's flagTransaction); frees the queue. */
export function flagTransaction(c: Client): void {
  const ms = c.multi;
  if (ms === null) return;
  ms.dirtyExec = true;
  ms.cmds = [];
  ms.argvs = [];
  ms.argvBytes = 0;
}

/** Leaves MULTI, clears the dirty flags and every watch. */
export function discardTransaction(c: Client): void {
  c.multi = null;
  c.dirtyCas = false;
  c.server.watch.unwatchAll(c);
}

function multi(c: Client): void {
  if (c.multi !== null) {
    c.addError('ERR MULTI calls can not be nested');
    return;
  }
  c.multi = new MultiState();
  c.addOK();
}

function discard(c: Client): void {
  if (c.multi === null) {
    c.addError('ERR DISCARD without MULTI');
    return;
  }
  discardTransaction(c);
  c.addOK();
}

function exec(c: Client): void {
  const ms = c.multi;
  if (ms === null) {
    c.addError('ERR EXEC without MULTI');
    return;
  }
  const server = c.server;
  // A watched key whose TTL passed since WATCH counts as modified.
  if (c.watched !== null && server.watch.anyExpired(c)) c.dirtyCas = true;
  if (ms.dirtyExec || c.dirtyCas) {
    if (ms.dirtyExec) c.addError(EXECABORT);
    else c.addNullArray();
    discardTransaction(c);
    return;
  }
  const oldDeny = c.denyBlocking;
  c.denyBlocking = true; // blocking commands answer as if timed out
  server.watch.unwatchAll(c);
  // The whole queue runs here, synchronously. EXEC itself is not propagated:
  // the queued writes are, and the stream wraps them in one MULTI/EXEC.
  server.prop.prevent();
  server.inExec = true;
  const n = ms.cmds.length;
  c.addArrayLen(n);
  for (let i = 0; i < n; i++) {
    // ACL rules may have changed since the command was queued (Valkey re-checks at EXEC).
    if (!c.aclUser.unrestricted) {
      const denied = aclExecDenied(c, ms.cmds[i], ms.argvs[i]);
      if (denied !== null) {
        c.addError(denied);
        continue;
      }
    }
    server.call(c, ms.cmds[i], ms.argvs[i]);
    if (c.closed) break;
  }
  c.denyBlocking = oldDeny;
  server.inExec = false;
  discardTransaction(c);
}

function watch(c: Client, argv: string[]): void {
  if (c.multi !== null) {
    c.addError('ERR WATCH inside MULTI is not allowed');
    return;
  }
  // Nothing to gain by watching once a watched key was touched.
  if (!c.dirtyCas) {
    const mgr = c.server.watch;
    for (let i = 1; i < argv.length; i++) mgr.watch(c, c.db, argv[i]);
  }
  c.addOK();
}

function unwatch(c: Client): void {
  c.server.watch.unwatchAll(c);
  c.dirtyCas = false;
  c.addOK();
}

export const commands: HandlerMap = { multi, exec, discard, watch, unwatch };
