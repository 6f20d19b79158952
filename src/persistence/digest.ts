// DEBUG DIGEST / DIGEST-VALUE: Valkey's dataset digest (debug.c). Each key's
// digest mixes its name, type, value and whether it has a TTL with SHA-1; the
// dataset digest XORs the keys' digests per database, so it does not depend on
// key order and equals Valkey's for the same data.
import { createHash } from 'node:crypto';
import type { Db } from '../keyspace/db.js';
import { ObjType, type Value } from '../keyspace/types.js';
import type { ListValue } from '../data/list.js';
import type { SetValue } from '../data/set.js';
import type { ZSet } from '../data/zset.js';
import type { HashObject } from '../data/hash.js';
import type { Stream } from '../data/stream.js';
import { fpconvDtoa } from '../util/numbers.js';

type D = Buffer;

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Valkey's mixDigest: digest ^= SHA1(data), then digest = SHA1(digest). */
function mix(d: D, data: Uint8Array): void {
  xor(d, data);
  sha1(d).copy(d);
}

/** digest ^= SHA1(data) */
function xor(d: D, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) d[i] ^= h[i];
}

function u32be(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function stringBytes(v: string | number | Buffer): Buffer {
  if (typeof v === 'string') return bytes(v);
  if (typeof v === 'number') return bytes(String(v));
  return v;
}

/** Valkey's xorObjectDigest: mixes one value (and its having a TTL) into `d`. */
export function xorValueDigest(d: D, v: Value, hasExpire: boolean): void {
  const type = typeof v !== 'object' || Buffer.isBuffer(v) ? ObjType.String : v.objType;
  mix(d, u32be(type));
  if (type === ObjType.String) {
    mix(d, stringBytes(v as string | number | Buffer));
  } else if (type === ObjType.List) {
    for (const s of (v as ListValue).toArray()) mix(d, bytes(s));
  } else if (type === ObjType.Set) {
    for (const m of (v as SetValue).items) xor(d, bytes(m));
  } else if (type === ObjType.ZSet) {
    for (const [m, s] of (v as ZSet).entries()) {
      const e = Buffer.alloc(20);
      mix(e, bytes(m));
      mix(e, bytes(fpconvDtoa(s)));
      xor(d, e);
    }
  } else if (type === ObjType.Hash) {
    const h = v as HashObject;
    // Field/value pairs as strings, in either encoding (integer entries in decimal).
    const kv = h.pairs();
    for (let i = 0; i < kv.length; i += 2) {
      const e = Buffer.alloc(20);
      mix(e, bytes(kv[i]));
      mix(e, bytes(kv[i + 1]));
      xor(d, e);
    }
  } else if (type === ObjType.Stream) {
    const s = v as Stream;
    const ents = s.entries;
    for (let p = ents.first(); p !== null; ) {
      mix(d, bytes(`${ents.msAt(p)}.${ents.seqAt(p)}`));
      for (const f of ents.valAt(p)) mix(d, bytes(f));
      if (!ents.next(p)) break;
    }
  }
  if (hasExpire) xor(d, bytes('!!expire!!'));
}

/** DEBUG DIGEST-VALUE of one key (20 zero bytes when absent). */
export function valueDigest(db: Db, key: string): Buffer {
  const d = Buffer.alloc(20);
  const e = db.dict.find(key);
  if (e >= 0) xorValueDigest(d, db.dict.valueAt(e), db.getExpire(key) !== -1);
  return d;
}

/** DEBUG DIGEST: the whole dataset. */
export function datasetDigest(dbs: Db[]): Buffer {
  const final = Buffer.alloc(20);
  for (const db of dbs) {
    if (db.dict.size === 0) continue;
    mix(final, u32be(db.id));
    for (const [key, v] of db.dict) {
      const d = Buffer.alloc(20);
      mix(d, bytes(key));
      xorValueDigest(d, v, db.getExpire(key) !== -1);
      xor(final, d);
    }
  }
  return final;
}
