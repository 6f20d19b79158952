// Pieces the collection families (hash, set, zset) share.
import type { Client } from '../server/client.js';
import type { Value } from '../keyspace/types.js';
import { E_WRONGTYPE } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC } from '../server/notify.js';
import type { KeyTable } from '../data/keytable.js';
import { type MemberIndex, prefetchMembers as prefetchIndexed } from '../data/member-index.js';
import { SetValue } from '../data/set.js';
import { HashObject } from '../data/hash.js';
import { ZSet } from '../data/zset.js';

/** What HDEL, SREM and ZREM need from a collection. */
export interface Removable {
  readonly size: number;
}

/**
 * Removes the members argv[from..] from the collection at `key` (HDEL, SREM,
 * ZREM): counts removals, deletes the key once the collection is empty, bumps
 * dirty, sends the family's event (and `del` when the key went) and replies the count.
 */
export function removeMembers<T extends Removable>(
  c: Client,
  key: string,
  coll: T,
  argv: string[],
  from: number,
  remove: (coll: T, member: string) => boolean,
  cls: number,
  event: string,
): void {
  let deleted = 0;
  for (let i = from; i < argv.length; i++) {
    if (remove(coll, argv[i])) {
      deleted++;
      if (coll.size === 0) {
        c.db.delete(key);
        break;
      }
    }
  }
  c.server.dirty += deleted;
  if (deleted !== 0) {
    notify(c.server, cls, event, key, c.db.id);
    if (coll.size === 0) notify(c.server, NOTIFY_GENERIC, 'del', key, c.db.id);
  }
  c.addInt(deleted);
}

/**
 * A looked-up value as the expected collection class: the value, undefined when
 * the key is missing, or null after replying WRONGTYPE.
 */
export function ofType<T>(c: Client, v: Value | undefined, cls: abstract new (...args: never[]) => T): T | undefined | null {
  if (v === undefined) return undefined;
  if (v instanceof cls) return v;
  c.addError(E_WRONGTYPE);
  return null;
}

/** Indexes of the collections a prefetch batch touches (scratch). */
const pfIdx: (MemberIndex<unknown> | null)[] = [];

/**
 * Member prefetch for a pipelined batch (called by the client's key prefetch,
 * right after dict.prefetch(keyHashes, n)): memberHashes[j] is the hash of
 * the member argument of the command whose key hash is keyHashes[j] when that
 * command is SADD, SREM, HSET, HGET, HDEL, ZADD, ZINCRBY, ZREM or ZSCORE (else
 * 0; see RequestParser.keyHashes). For every such key holding a hashtable-
 * encoded set or hash or a skiplist-encoded sorted set, the member's slot,
 * cells and strings are brought into the cache (see prefetchMembers in
 * src/data/member-index.ts).
 */
export function prefetchCollectionMembers(dict: KeyTable<Value>, memberHashes: Int32Array, n: number): void {
  let any = false;
  for (let j = 0; j < n; j++) {
    let idx: MemberIndex<unknown> | null = null;
    if (memberHashes[j] !== 0) {
      const v = dict.prefetchedValue(j);
      if (v instanceof SetValue) idx = v.index;
      else if (v instanceof HashObject) idx = v.memberIndex();
      else if (v instanceof ZSet && v.dict !== null) idx = v.dict.index;
      if (idx !== null) any = true;
    }
    pfIdx[j] = idx;
  }
  if (any) prefetchIndexed(pfIdx, memberHashes, n);
  for (let j = 0; j < n; j++) pfIdx[j] = null;
}
