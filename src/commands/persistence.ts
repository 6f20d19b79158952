// SAVE, BGSAVE [SCHEDULE | CANCEL], LASTSAVE, DUMP, RESTORE, and the DEBUG
// subcommands that need the RDB layer (RELOAD, DIGEST, DIGEST-VALUE, OBJECT),
// which DEBUG in server.ts hands over to debugPersistence().
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { clock } from '../keyspace/db.js';
import { ListValue } from '../data/list.js';
import { HashObject } from '../data/hash.js';
import { trackVolatileHash } from './hash.js';
import { isStringValue, stringEncoding, type Value } from '../keyspace/types.js';
import { parseInt64 } from '../util/numbers.js';
import { notifyKeyspaceEvent, NOTIFY_GENERIC } from '../server/notify.js';
import { E_NOT_INT, E_SYNTAX } from './errors.js';
import { serializeValue, verifyPayload, deserializeValue } from '../persistence/rdb/file.js';
import { RdbEncoder, writeValueBody } from '../persistence/rdb/encoder.js';
import { RdbError } from '../persistence/rdb/format.js';
import { keyClockFor, loadLimits } from '../persistence/manager.js';
import { datasetDigest, valueDigest } from '../persistence/digest.js';
import { scriptingOf } from '../scripting/index.js';

const E_BG_IN_PROGRESS = 'ERR Background save already in progress';

function save(c: Client): void {
  const rdb = c.server.rdb;
  if (rdb.current !== null) {
    c.addError(E_BG_IN_PROGRESS);
    return;
  }
  if (rdb.save()) c.addOK();
  else c.addError('ERR');
}

function bgsave(c: Client, argv: string[]): void {
  const rdb = c.server.rdb;
  let schedule = false;
  if (argv.length > 1) {
    const opt = argv[1].toLowerCase();
    if (argv.length === 2 && opt === 'schedule') schedule = true;
    else if (argv.length === 2 && opt === 'cancel') {
      if (rdb.current !== null) {
        rdb.cancel();
        c.addSimple('Background saving cancelled');
      } else if (rdb.scheduled) {
        rdb.scheduled = false;
        c.addSimple('Scheduled background saving cancelled');
      } else {
        c.addError('ERR Background saving is currently not in progress or scheduled');
      }
      return;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }
  if (rdb.current !== null) {
    c.addError(E_BG_IN_PROGRESS);
    return;
  }
  if (c.server.inExec) {
    // Inside MULTI/EXEC the save starts from the cron, after the transaction.
    rdb.scheduled = true;
    c.addSimple('Background saving scheduled');
    return;
  }
  // SCHEDULE matters in Valkey when another fork child runs; snapshots here never
  // exclude each other (an AOF rewrite and a BGSAVE run together), so it starts now.
  void schedule;
  if (rdb.bgsave()) c.addSimple('Background saving started');
  else c.addError('ERR');
}

function lastsave(c: Client): void {
  c.addInt(c.server.rdb.lastSave);
}

function dump(c: Client, argv: string[]): void {
  const v = c.db.lookup(argv[1]);
  if (v === undefined) {
    c.addNull();
    return;
  }
  c.addBulkBuf(serializeValue(v, c.server.config.bool('rdbcompression')));
}

function restore(c: Client, argv: string[]): void {
  const key = argv[1];
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = argv.length - j - 1;
    if (opt === 'replace') replace = true;
    else if (opt === 'absttl') absttl = true;
    else if (opt === 'idletime' && more >= 1 && freq === -1) {
      const v = parseInt64(argv[++j]);
      if (v === null) return c.addError(E_NOT_INT);
      if (v < 0) return c.addError('ERR Invalid IDLETIME value, must be >= 0');
      idle = Number(v);
    } else if (opt === 'freq' && more >= 1 && idle === -1) {
      const v = parseInt64(argv[++j]);
      if (v === null) return c.addError(E_NOT_INT);
      if (v < 0 || v > 255) return c.addError('ERR Invalid FREQ value, must be >= 0 and <= 255');
      freq = Number(v);
    } else return c.addError(E_SYNTAX);
  }
  const db = c.db;
  if (!replace && db.lookupWrite(key) !== undefined) return c.addError('BUSYKEY Target key name already exists.');
  const t = parseInt64(argv[2]);
  if (t === null) return c.addError(E_NOT_INT);
  if (t < 0) return c.addError('ERR Invalid TTL value, must be >= 0');
  const payload = Buffer.from(argv[3], 'latin1');
  if (verifyPayload(payload, !c.server.config.bool('rdbchecksum')) !== null) return c.addError('ERR DUMP payload version or checksum are wrong');
  let v: Value;
  try {
    v = deserializeValue(payload, loadLimits(c.server));
  } catch (e) {
    if (e instanceof RdbError || e instanceof RangeError || e instanceof TypeError || e instanceof SyntaxError) return c.addError('ERR Bad data format');
    throw e;
  }
  const server = c.server;
  let deleted = false;
  if (replace) deleted = db.delete(key);
  let ttl = typeof t === 'bigint' ? Number(t) : t;
  if (ttl !== 0 && !absttl) ttl += clock.ms;
  if (ttl !== 0 && ttl <= clock.ms) {
    // Already expired: the key is not created (a replaced one is deleted).
    if (deleted) {
      server.prop.replace(['DEL', key]);
      notifyKeyspaceEvent(server, NOTIFY_GENERIC, 'del', key, db.id);
      server.dirty++;
    }
    c.addOK();
    return;
  }
  db.add(key, v);
  if (v instanceof HashObject) trackVolatileHash(db, key, v); // active field expiry, as after HEXPIRE
  if (ttl !== 0) {
    db.setExpire(key, ttl);
    if (!absttl) {
      const out = argv.slice();
      out[2] = String(ttl);
      out.push('ABSTTL');
      server.prop.replace(out);
    }
  }
  // IDLETIME applies under an LRU (or no) policy, FREQ under an LFU one, as in Valkey.
  if (idle >= 0 || freq >= 0) db.setClock(key, keyClockFor(db.ks, idle, freq));
  notifyKeyspaceEvent(server, NOTIFY_GENERIC, 'restore', key, db.id);
  server.dirty++;
  c.addOK();
}

// ------------------------------------------------------------------ DEBUG

export const DEBUG_PERSISTENCE_HELP = [
  'DIGEST',
  '    Output a hex signature representing the current DB content.',
  'DIGEST-VALUE <key> [<key> ...]',
  '    Output a hex signature of the values of all the specified keys.',
  'OBJECT <key>',
  '    Show low level info about the key and associated value.',
  'RELOAD [MERGE] [NOFLUSH] [NOSAVE]',
  '    Save the RDB on disk and reload it back to memory. By default it will save',
  '    the RDB file and load it back.',
  '    * MERGE: Merge the content of the RDB file with the existing keys.',
  '    * NOFLUSH: Do not empty the current database before loading.',
  '    * NOSAVE: Do not save the current database before loading.',
];

/** DEBUG subcommands of the persistence layer; false when `sub` is not one of them. */
export function debugPersistence(c: Client, sub: string, argv: string[]): boolean {
  const server = c.server;
  if (sub === 'digest' && argv.length === 2) {
    c.addSimple(datasetDigest(server.dbs).toString('hex'));
    return true;
  }
  if (sub === 'digest-value' && argv.length >= 2) {
    c.addArrayLen(argv.length - 2);
    for (let j = 2; j < argv.length; j++) c.addSimple(valueDigest(c.db, argv[j]).toString('hex'));
    return true;
  }
  if (sub === 'object' && argv.length === 3) {
    const e = c.db.dict.find(argv[2]);
    if (e < 0) {
      c.addError('ERR no such key');
      return true;
    }
    const v = c.db.dict.valueAt(e);
    const enc = new RdbEncoder(server.config.bool('rdbcompression'));
    writeValueBody(enc, v);
    const lru = c.db.dict.clockAt(e);
    const idle = (clock.lru - lru) & 0xffffff;
    let extra = '';
    if (v instanceof ListValue && v.quick) {
      const nodes = v.nodes.length;
      let total = 0;
      for (const n of v.nodes) total += n.bytes;
      const fill = v.qfill;
      extra = ` ql_nodes:${nodes} ql_avg_node:${(v.length / nodes).toFixed(2)} ql_listpack_max:${fill} ql_compressed:0 ql_uncompressed_size:${total}`;
    }
    const enc2 = encodingOf(v);
    c.addSimple(`Value at:0x${(0x7f0000000000 + e * 16).toString(16)} refcount:1 encoding:${enc2} serializedlength:${enc.pos} lru:${lru} lru_seconds_idle:${idle}${extra}`);
    return true;
  }
  if (sub === 'reload') {
    let merge = false;
    let flush = true;
    let doSave = true;
    for (let j = 2; j < argv.length; j++) {
      const o = argv[j].toLowerCase();
      if (o === 'merge') merge = true;
      else if (o === 'noflush') flush = false;
      else if (o === 'nosave') doSave = false;
      else {
        c.addError('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
        return true;
      }
    }
    if (doSave && !server.rdb.save()) {
      c.addError('ERR Error trying to save the DB');
      return true;
    }
    if (flush && !merge) {
      for (const db of server.dbs) db.flush();
      // Valkey's emptyData clears the function libraries too; the file brings them back.
      scriptingOf(server).flushFunctions();
    }
    try {
      const target = server.rdb.loadTarget();
      if (merge) {
        const add = target.add;
        target.add = (db, key, v, exp, idle, freq) => {
          server.dbs[db].delete(key);
          add(db, key, v, exp, idle, freq);
        };
      }
      server.rdb.loadFileInto(target);
    } catch (e) {
      server.log.warning(`Error trying to load the RDB dump: ${(e as Error).message}`);
      c.addError('ERR Error trying to load the RDB dump, check server logs.');
      return true;
    }
    server.log.notice('DB reloaded by DEBUG RELOAD');
    c.addOK();
    return true;
  }
  return false;
}

function encodingOf(v: Value): string {
  return isStringValue(v) ? stringEncoding(v) : v.encoding();
}

export const commands: HandlerMap = {
  save,
  bgsave,
  lastsave,
  dump,
  restore,
};
