// Hash-field expiry and replication (Valkey 9 field expiration).
//
// A primary that deletes expired hash fields (lazily in a hash command, or in
// the active cycle) sends them down the propagation stream as one
// HDEL key field ..., the way expired keys travel as DEL. A replica never
// deletes fields on its own (server.keyspace.replica != 0): its clients read a view
// of the hash without the logically expired fields, and the primary's HDEL
// removes them for real. src/commands/hash.ts calls these two hooks.
import type { Server } from '../server/server.js';
import type { HashObject } from '../data/hash.js';

/** Primary: the fields just removed by expiry enter the stream as HDEL. */
export function propagateExpiredFields(server: Server, dbId: number, key: string, fields: string[]): void {
  if (fields.length !== 0 && server.prop.active) server.prop.also(dbId, ['HDEL', key, ...fields]);
}

/**
 * Replica (server.keyspace.replica != 0): what a hash with due fields looks like.
 * Null: not a replica, the caller expires fields itself. While the primary's
 * stream is applied (mode 2) or for a write, the hash as stored; for a client's
 * read (mode 1), a copy without the expired fields (undefined when none is
 * left). The stored hash is never changed here.
 */
export function replicaHashView(mode: number, h: HashObject, now: number, read: boolean): HashObject | undefined | null {
  if (mode === 0) return null;
  if (mode === 2 || !read || !(h.nextExpire() < now)) return h;
  const v = h.clone();
  v.expireDue(now, Infinity);
  return v.size === 0 ? undefined : v;
}
