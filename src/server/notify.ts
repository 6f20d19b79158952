// Keyspace notifications (notify-keyspace-events): Pub/Sub messages that tell
// subscribers which keys changed and how.
//
// A command calls notifyKeyspaceEvent(server, class, event, key, dbid) at the
// point Valkey does. With K, the event name goes to `__keyspace@<db>__:<key>`;
// with E, the key goes to `__keyevent@<db>__:<event>`; both go through the
// ordinary Pub/Sub fan-out (channel and pattern subscribers, one encode each).
//
// Cost when off: server.notifyFlags holds the configured classes, and is 0
// unless K or E is also set, so every call is one integer test. Db-level
// events (expired, keymiss, new) are hooked into each Db only while their
// class is on (see applyNotifyConfig).
import type { Server } from './server.js';
import type { Db, KeyspaceHooks } from '../keyspace/db.js';

// Class bits (Valkey's NOTIFY_* values).
export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m
export const NOTIFY_LOADED = 1 << 12; // (modules only)
export const NOTIFY_MODULE = 1 << 13; // d
export const NOTIFY_NEW = 1 << 14; // n
/** A: g$lshzxetd (not m, n). */
export const NOTIFY_ALL =
  NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;

const CHAR_FLAGS: Record<string, number> = {
  A: NOTIFY_ALL,
  g: NOTIFY_GENERIC,
  $: NOTIFY_STRING,
  l: NOTIFY_LIST,
  s: NOTIFY_SET,
  h: NOTIFY_HASH,
  z: NOTIFY_ZSET,
  x: NOTIFY_EXPIRED,
  e: NOTIFY_EVICTED,
  K: NOTIFY_KEYSPACE,
  E: NOTIFY_KEYEVENT,
  t: NOTIFY_STREAM,
  m: NOTIFY_KEY_MISS,
  d: NOTIFY_MODULE,
  n: NOTIFY_NEW,
};

export const E_NOTIFY_FLAGS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/** Flag string -> class bits (case-sensitive); -1 on an unknown character. */
export function notifyFlagsFromString(s: string): number {
  let f = 0;
  for (const ch of s) {
    const b = CHAR_FLAGS[ch];
    if (b === undefined) return -1;
    f |= b;
  }
  return f;
}

/** Class bits -> the canonical flag string CONFIG GET shows. */
export function notifyFlagsToString(f: number): string {
  let s = '';
  if ((f & NOTIFY_ALL) === NOTIFY_ALL) s += 'A';
  else {
    if (f & NOTIFY_GENERIC) s += 'g';
    if (f & NOTIFY_STRING) s += '$';
    if (f & NOTIFY_LIST) s += 'l';
    if (f & NOTIFY_SET) s += 's';
    if (f & NOTIFY_HASH) s += 'h';
    if (f & NOTIFY_ZSET) s += 'z';
    if (f & NOTIFY_EXPIRED) s += 'x';
    if (f & NOTIFY_EVICTED) s += 'e';
    if (f & NOTIFY_STREAM) s += 't';
    if (f & NOTIFY_MODULE) s += 'd';
    if (f & NOTIFY_NEW) s += 'n';
  }
  if (f & NOTIFY_KEYSPACE) s += 'K';
  if (f & NOTIFY_KEYEVENT) s += 'E';
  if (f & NOTIFY_KEY_MISS) s += 'm';
  return s;
}

/**
 * Config parser for notify-keyspace-events: a canonical stored form or Valkey's
 * error. The stored form keeps every class in effect; what CONFIG GET shows
 * (showNotifyConfig) is Valkey's string, which omits n when A is set, though
 * n stays in effect.
 */
export function parseNotifyConfig(value: string): { value: string } | { error: string } {
  const f = notifyFlagsFromString(value);
  if (f < 0) return { error: E_NOTIFY_FLAGS };
  let s = notifyFlagsToString(f);
  if ((f & NOTIFY_ALL) === NOTIFY_ALL && (f & NOTIFY_NEW) !== 0) s += 'n';
  return { value: s };
}

export function showNotifyConfig(stored: string): string {
  const f = notifyFlagsFromString(stored);
  return f < 0 ? stored : notifyFlagsToString(f);
}

/**
 * Publishes one keyspace event. Returns at once (one integer test) when the
 * class is not configured.
 */
export function notifyKeyspaceEvent(server: Server, cls: number, event: string, key: string, dbid: number): void {
  const f = server.notifyFlags;
  if ((f & cls) === 0) return;
  const ps = server.pubsub;
  if ((f & NOTIFY_KEYSPACE) !== 0) ps.publish('__keyspace@' + dbid + '__:' + key, event, false);
  if ((f & NOTIFY_KEYEVENT) !== 0) ps.publish('__keyevent@' + dbid + '__:' + event, key, false);
}

/**
 * Reads notify-keyspace-events into server.notifyFlags and arms (or clears)
 * the Db hooks for expired, keymiss and new. Called at start and on CONFIG SET.
 */
export function applyNotifyConfig(server: Server): void {
  let f = notifyFlagsFromString(server.config.get('notify-keyspace-events'));
  if (f < 0 || (f & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) === 0) f = 0;
  server.notifyFlags = f;
  const prop = server.prop;
  const notifyExpired = (f & NOTIFY_EXPIRED) !== 0;
  const hooks: KeyspaceHooks = {
    // An expired key also enters the propagation stream as UNLINK (DEL with lazyfree-lazy-expire no), like Valkey 8.
    onExpired: (db: Db, key: string) => {
      if (prop.active) prop.also(db.id, [server.config.get('lazyfree-lazy-expire') === 'yes' ? 'UNLINK' : 'DEL', key]);
      if (notifyExpired) notifyKeyspaceEvent(server, NOTIFY_EXPIRED, 'expired', key, db.id);
    },
    onKeyMiss: (f & NOTIFY_KEY_MISS) !== 0 ? (db: Db, key: string) => notifyKeyspaceEvent(server, NOTIFY_KEY_MISS, 'keymiss', key, db.id) : null,
    onNew: (f & NOTIFY_NEW) !== 0 ? (db: Db, key: string) => notifyKeyspaceEvent(server, NOTIFY_NEW, 'new', key, db.id) : null,
  };
  for (const db of server.dbs) db.hooks = hooks;
}
