// Replication commands: REPLICAOF / SLAVEOF, ROLE, PSYNC, SYNC, REPLCONF, WAIT.
// The machinery lives in src/replication/replication.ts (server.repl).
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_SYNTAX } from './errors.js';
import { waitaofRefusal } from '../replication/waitaof.js';

function replicaof(c: Client, argv: string[]): void {
  const repl = c.server.repl;
  // In cluster mode a node follows a primary through CLUSTER REPLICATE only.
  if (c.server.cluster !== null) {
    c.addError('ERR REPLICAOF not allowed in cluster mode.');
    return;
  }
  if (repl.failover !== null) {
    c.addError('ERR REPLICAOF not allowed while failing over.');
    return;
  }
  if (argv[1].toLowerCase() === 'no' && argv[2].toLowerCase() === 'one') {
    if (repl.isReplica) {
      repl.promote();
      c.server.log.notice(`MASTER MODE enabled (user request from '${c.describe()}')`);
    }
    c.addOK();
    return;
  }
  if (repl.replicaOf(c) !== undefined) {
    c.addError('ERR Command is not valid when client is a replica.');
    return;
  }
  const port = parseInt64(argv[2]);
  if (port === null || typeof port === 'bigint' || port < 0 || port > 65535) {
    c.addError('ERR Invalid master port');
    return;
  }
  if (!repl.setMaster(argv[1], port)) {
    c.addSimple('OK Already connected to specified master');
    return;
  }
  c.server.log.notice(`REPLICAOF ${argv[1]}:${port} enabled (user request from '${c.describe()}')`);
  c.addOK();
}

function role(c: Client): void {
  c.server.repl.role(c);
}

function psync(c: Client, argv: string[]): void {
  const off = parseInt64(argv[2]);
  if (off === null || typeof off === 'bigint') {
    c.addError(E_NOT_INT);
    return;
  }
  // PSYNC replid offset FAILOVER: our primary hands its role over to us (FAILOVER).
  if (argv.length > 3 && argv[3].toLowerCase() === 'failover' && !c.server.repl.psyncFailover(c, argv[1])) return;
  c.server.repl.psync(c, argv[1], off);
}

function failover(c: Client, argv: string[]): void {
  const repl = c.server.repl;
  // FAILOVER ABORT alone; anywhere else ABORT is a syntax error (as Valkey).
  if (argv.length === 2 && argv[1].toLowerCase() === 'abort') {
    if (repl.failover === null) {
      c.addError('ERR No failover in progress.');
      return;
    }
    repl.abortFailover('Failover manually aborted');
    c.addOK();
    return;
  }
  let host: string | null = null;
  let port = 0;
  let force = false;
  let timeout = 0;
  for (let j = 1; j < argv.length; j++) {
    const a = argv[j].toLowerCase();
    if (a === 'to' && j + 2 < argv.length && host === null) {
      const p = parseInt64(argv[j + 2]);
      if (p === null || typeof p === 'bigint') {
        c.addError(E_NOT_INT);
        return;
      }
      host = argv[j + 1];
      port = p;
      j += 2;
    } else if (a === 'timeout' && j + 1 < argv.length && timeout === 0) {
      const t = parseInt64(argv[j + 1]);
      if (t === null || typeof t === 'bigint') {
        c.addError(E_NOT_INT);
        return;
      }
      if (t <= 0) {
        c.addError('ERR FAILOVER timeout must be greater than 0');
        return;
      }
      timeout = t;
      j++;
    } else if (a === 'force' && !force) force = true;
    else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  const err = repl.startFailover(host, port, force, timeout);
  if (err !== null) c.addError(err);
  else c.addOK();
}

function sync(c: Client): void {
  c.server.repl.psync(c, null, -1);
}

function replconf(c: Client, argv: string[]): void {
  if (argv.length % 2 === 0) {
    c.addError(E_SYNTAX);
    return;
  }
  const repl = c.server.repl;
  for (let j = 1; j < argv.length; j += 2) {
    const opt = argv[j].toLowerCase();
    const val = argv[j + 1];
    if (opt === 'listening-port') {
      const p = parseInt64(val);
      if (p === null || typeof p === 'bigint') {
        c.addError(E_NOT_INT);
        return;
      }
      repl.replconf(c, 'port', p);
    } else if (opt === 'ip-address') {
      if (val.length >= 46) {
        c.addError(`ERR REPLCONF ip-address provided by replica instance is too long: ${val.length} bytes`);
        return;
      }
      repl.replconf(c, 'ip', val);
    } else if (opt === 'capa') {
      const v = val.toLowerCase();
      if (v === 'eof') repl.replconf(c, 'capaEof', true);
      else if (v === 'psync2') repl.replconf(c, 'capaPsync2', true);
    } else if (opt === 'ack' || opt === 'fack') {
      // From a replica: no reply. ACK <offset> may be followed by FACK <aof fsynced offset>.
      if (opt === 'ack') {
        const off = parseInt64(val);
        if (off === null || typeof off === 'bigint') return;
        let aofOff = -1;
        if (j + 3 < argv.length && argv[j + 2].toLowerCase() === 'fack') {
          const f = parseInt64(argv[j + 3]);
          if (f === null || typeof f === 'bigint') return;
          aofOff = f;
        }
        repl.ack(c, off, aofOff);
      }
      return;
    } else if (opt === 'getack') {
      repl.getack(c);
      return;
    } else {
      c.addError(`ERR Unrecognized REPLCONF option: ${argv[j]}`);
      return;
    }
  }
  c.addOK();
}

function wait(c: Client, argv: string[]): void {
  const repl = c.server.repl;
  if (repl.isReplica) {
    c.addError(
      'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
    );
    return;
  }
  const num = parseInt64(argv[1]);
  if (num === null) {
    c.addError(E_NOT_INT);
    return;
  }
  const t = parseInt64(argv[2]);
  if (t === null || typeof t === 'bigint') {
    c.addError('ERR timeout is not an integer or out of range');
    return;
  }
  if (t < 0) {
    c.addError('ERR timeout is negative');
    return;
  }
  repl.wait(c, Number(num), t);
}

/** WAITAOF numlocal numreplicas timeout (src/replication/waitaof.ts). */
function waitaof(c: Client, argv: string[]): void {
  const numlocal = parseInt64(argv[1]);
  if (numlocal === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (numlocal < 0 || numlocal > 1) {
    c.addError('ERR value is out of range, value must between 0 and 1');
    return;
  }
  const numreplicas = parseInt64(argv[2]);
  if (numreplicas === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (numreplicas < 0) {
    c.addError('ERR value is out of range, must be positive');
    return;
  }
  const t = parseInt64(argv[3]);
  if (t === null || typeof t === 'bigint') {
    c.addError('ERR timeout is not an integer or out of range');
    return;
  }
  if (t < 0) {
    c.addError('ERR timeout is negative');
    return;
  }
  const err = waitaofRefusal(c.server, Number(numlocal), c.server.config.bool('appendonly'));
  if (err !== null) {
    c.addError(err);
    return;
  }
  c.server.repl.aofWaits.wait(c, Number(numlocal), Number(numreplicas), t);
}

export const commands: HandlerMap = {
  waitaof,
  replicaof,
  slaveof: replicaof,
  role,
  psync,
  sync,
  replconf,
  wait,
  failover,
};
