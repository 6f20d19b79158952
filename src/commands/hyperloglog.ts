// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
// Values are plain strings in Valkey's HLL byte format (src/data/hll.ts), so a
// GET returns exactly what Valkey stores and a SET of Valkey's bytes works here.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { isStringValue, type Value } from '../keyspace/types.js';
import { E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_STRING } from '../server/notify.js';
import {
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_HDR_SIZE,
  HLL_REGISTERS,
  HLL_SPARSE,
  addElements,
  cacheValid,
  count,
  countRaw,
  createSparse,
  decodeSparse,
  denseGet,
  denseSetReg,
  invalidateCache,
  isHllHeader,
  mergeInto,
  readCache,
  setRegister,
  sparseToDense,
  writeCache,
  type HllWork,
} from '../data/hll.js';

const E_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const E_INVALID = 'INVALIDOBJ Corrupted HLL object detected';

function sparseMaxBytes(c: Client): number {
  return c.server.config.num('hll-sparse-max-bytes');
}

/**
 * The bytes of an existing value if it is a valid HLL, else replies the error
 * and returns null. A Buffer value is returned as is (edits go in place); other
 * string forms are copied into a new Buffer (`fresh` is then true).
 */
let fresh = false;
function hllBytes(c: Client, v: Value): Buffer | null {
  if (!isStringValue(v)) {
    c.addError(E_WRONGTYPE);
    return null;
  }
  if (typeof v === 'number') {
    c.addError(E_NOT_HLL);
    return null;
  }
  let b: Buffer;
  if (Buffer.isBuffer(v)) {
    b = v;
    fresh = false;
  } else {
    if (v.length < HLL_HDR_SIZE || v.charCodeAt(0) !== 72) {
      c.addError(E_NOT_HLL);
      return null;
    }
    b = Buffer.from(v, 'latin1');
    fresh = true;
  }
  if (!isHllHeader(b, b.length)) {
    c.addError(E_NOT_HLL);
    return null;
  }
  return b;
}

/** Scratch for sparse edits: room for hll-sparse-max-bytes plus a split. */
let scratch = new Uint8Array(4096);
function workFor(b: Buffer, maxBytes: number): HllWork {
  if (b[4] === HLL_DENSE) return { buf: b, len: b.length };
  const need = Math.max(b.length, Math.min(maxBytes, 1 << 30)) + 8;
  if (scratch.length < need) scratch = new Uint8Array(need);
  scratch.set(b, 0);
  return { buf: scratch, len: b.length };
}

/** The stored form of an edited HLL. */
function resultOf(w: HllWork, orig: Buffer): Buffer {
  if (w.buf === orig) return orig;
  if (w.buf.length === w.len && Buffer.isBuffer(w.buf)) return w.buf; // promoted to dense
  return Buffer.from(w.buf.subarray(0, w.len));
}

function pfadd(c: Client, argv: string[]): void {
  const key = argv[1];
  const db = c.db;
  const e = db.lookupWrite(key);
  let b: Buffer;
  let created = false;
  if (e === undefined) {
    b = createSparse();
    created = true;
    fresh = true;
  } else {
    const hb = hllBytes(c, e);
    if (hb === null) return;
    b = hb;
  }
  const maxBytes = sparseMaxBytes(c);
  const w = workFor(b, maxBytes);
  let updated = addElements(w, argv, 2, maxBytes);
  const failed = updated < 0;
  if (failed) updated = -1 - updated;
  if (created) updated++;
  if (updated > 0 || fresh) {
    const out = resultOf(w, b);
    if (updated > 0 && !failed) invalidateCache(out);
    if (created) db.add(key, out);
    else if (out !== e) db.replace(key, out);
  }
  if (failed) {
    c.addError(E_INVALID);
    return;
  }
  if (updated > 0) c.server.dirty += updated;
  if (updated > 0) notify(c.server, NOTIFY_STRING, 'pfadd', key, db.id);
  c.addInt(updated > 0 ? 1 : 0);
}

function pfcount(c: Client, argv: string[]): void {
  const db = c.db;
  if (argv.length > 2) {
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < argv.length; j++) {
      const e = db.lookup(argv[j]);
      if (e === undefined) continue;
      const b = hllBytes(c, e);
      if (b === null) return;
      if (!mergeInto(max, b, b.length)) {
        c.addError(E_INVALID);
        return;
      }
    }
    c.addInt(countRaw(max));
    return;
  }
  const key = argv[1];
  const e = db.lookup(key);
  if (e === undefined) {
    c.addInt(0);
    return;
  }
  const b = hllBytes(c, e);
  if (b === null) return;
  if (cacheValid(b)) {
    const card = readCache(b);
    if (typeof card === 'number') c.addInt(card);
    else c.addBigInt(card);
    return;
  }
  const card = count(b, b.length);
  if (card < 0) {
    c.addError(E_INVALID);
    return;
  }
  writeCache(b, card);
  if (fresh) db.replace(key, b);
  c.server.dirty++;
  c.addInt(card);
}

function pfmerge(c: Client, argv: string[]): void {
  const db = c.db;
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const e = db.lookup(argv[j]);
    if (e === undefined) continue;
    const b = hllBytes(c, e);
    if (b === null) return;
    if (b[4] === HLL_DENSE) useDense = true;
    if (!mergeInto(max, b, b.length)) {
      c.addError(E_INVALID);
      return;
    }
  }
  const key = argv[1];
  const e = db.lookupWrite(key);
  let b: Buffer;
  let created = false;
  if (e === undefined) {
    b = createSparse();
    created = true;
  } else {
    // Already validated as a source.
    b = Buffer.isBuffer(e) ? e : Buffer.from(e as string, 'latin1');
  }
  let out: Buffer;
  if (useDense) {
    let d: Buffer | null = b;
    if (b[4] === HLL_SPARSE) {
      d = sparseToDense(b, b.length);
      if (d === null) {
        c.addError(E_INVALID);
        return;
      }
    }
    for (let i = 0; i < HLL_REGISTERS; i++) denseSetReg(d, HLL_HDR_SIZE, i, max[i]);
    out = d;
  } else {
    const maxBytes = sparseMaxBytes(c);
    const w = workFor(b, maxBytes);
    for (let i = 0; i < HLL_REGISTERS; i++) {
      if (max[i] !== 0) setRegister(w, i, max[i], maxBytes);
    }
    out = resultOf(w, b);
  }
  invalidateCache(out);
  if (created) db.add(key, out);
  else if (out !== e) db.replace(key, out);
  c.server.dirty++;
  notify(c.server, NOTIFY_STRING, 'pfadd', key, db.id);
  c.addOK();
}

function pfdebug(c: Client, argv: string[]): void {
  const sub = argv[1].toLowerCase();
  if (sub === 'simd') {
    const arg = argv[2].toLowerCase();
    // (Valkey also sends the status after this error, a double reply; one is enough.)
    if (arg !== 'on' && arg !== 'off') c.addError('ERR Argument must be ON or OFF');
    else c.addSimple('disabled');
    return;
  }
  const key = argv[2];
  const db = c.db;
  const e = db.lookupWrite(key);
  if (e === undefined) {
    c.addError('ERR The specified key does not exist');
    return;
  }
  let b = hllBytes(c, e);
  if (b === null) return;
  if (fresh) db.replace(key, b);
  if (sub === 'getreg' || sub === 'todense') {
    let conv = 0;
    if (b[4] === HLL_SPARSE) {
      const d = sparseToDense(b, b.length);
      if (d === null) {
        c.addError(E_INVALID);
        return;
      }
      db.replace(key, d);
      b = d;
      conv = 1;
      c.server.dirty++;
    }
    if (sub === 'todense') {
      c.addInt(conv);
      return;
    }
    c.addArrayLen(HLL_REGISTERS);
    for (let i = 0; i < HLL_REGISTERS; i++) c.addInt(denseGet(b, HLL_HDR_SIZE, i));
  } else if (sub === 'decode') {
    if (b[4] !== HLL_SPARSE) {
      c.addError('ERR HLL encoding is not sparse');
      return;
    }
    c.addBulk(decodeSparse(b, b.length));
  } else if (sub === 'encoding') {
    c.addSimple(b[4] === HLL_DENSE ? 'dense' : 'sparse');
  } else {
    c.addError(`ERR Unknown PFDEBUG subcommand '${argv[1]}'`);
  }
}

/**
 * PFSELFTEST: checks the 6-bit register packing and that sparse and dense
 * forms agree and stay within the expected error, on a smaller run than
 * Valkey's (which adds ten million elements).
 */
function pfselftest(c: Client): void {
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  dense.write('HYLL', 0, 'latin1');
  const ref = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < 20; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = (Math.random() * 64) | 0;
      ref[i] = r;
      denseSetReg(dense, HLL_HDR_SIZE, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(dense, HLL_HDR_SIZE, i);
      if (v !== ref[i]) {
        c.addError(`TESTFAILED Register ${i} should be ${ref[i]} but is ${v}`);
        return;
      }
    }
  }
  dense.fill(0, HLL_HDR_SIZE);
  const dw: HllWork = { buf: dense, len: HLL_DENSE_SIZE };
  const maxBytes = sparseMaxBytes(c);
  const sw: HllWork = { buf: new Uint8Array(Math.max(3000, Math.min(maxBytes, 1 << 24)) + 8), len: 18 };
  sw.buf.set(createSparse(), 0);
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seed = (Math.random() * 0x100000000) >>> 0;
  const ele = Buffer.alloc(8);
  let checkpoint = 1;
  for (let j = 1; j <= 100000; j++) {
    ele.writeUInt32LE((j ^ seed) >>> 0, 0);
    ele.writeUInt32LE(seed, 4);
    addElements(dw, [ele], 0, maxBytes);
    addElements(sw, [ele], 0, maxBytes);
    if (j === checkpoint) {
      if (j < maxBytes / 2 && sw.buf[4] !== HLL_SPARSE) {
        c.addError('TESTFAILED sparse encoding not used');
        return;
      }
      const cd = count(dw.buf, dw.len);
      if (cd !== count(sw.buf, sw.len)) {
        c.addError('TESTFAILED dense/sparse disagree');
        return;
      }
      const abserr = Math.abs(checkpoint - cd);
      const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
      if (abserr > maxerr) {
        c.addError(`TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
        return;
      }
      checkpoint *= 10;
    }
  }
  c.addOK();
}

export const commands: HandlerMap = {
  pfadd,
  pfcount,
  pfmerge,
  pfdebug,
  pfselftest,
};
