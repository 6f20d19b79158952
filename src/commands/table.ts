// The command table: facts from meta.json (derived from Valkey's metadata) joined
// with the handlers that each command family exports. It drives dispatch, arity
// checks, COMMAND INFO/DOCS/LIST/GETKEYS and INFO commandstats.
import { createRequire } from 'node:module';
import type { Client } from '../server/client.js';

export type Handler = (c: Client, argv: string[]) => void;
export type HandlerMap = Record<string, Handler>;

export interface KeySpec {
  flags: string[];
  bs: { type: 'index'; pos: number } | { type: 'keyword'; keyword: string; startfrom: number } | { type: 'unknown' };
  fk:
    | { type: 'range'; lastkey: number; step: number; limit: number }
    | { type: 'keynum'; keynumidx: number; firstkey: number; step: number }
    | { type: 'unknown' };
}

export interface ArgMeta {
  name: string;
  type: string;
  token?: string;
  key_spec_index?: number;
  optional?: boolean;
  multiple?: boolean;
  multiple_token?: boolean;
  since?: string;
  deprecated_since?: string;
  display?: string;
  value?: string;
  arguments?: ArgMeta[];
}

export interface MetaEntry {
  name: string;
  arity: number;
  group: string;
  since: string;
  complexity?: string;
  flags: string[];
  acl: string[];
  tips: string[];
  keySpecs: KeySpec[];
  args?: ArgMeta[];
  docFlags?: string[];
  deprecatedSince?: string;
  replacedBy?: string;
  subcommands?: Record<string, MetaEntry>;
}

/** Command flag bits. */
export const CMD = {
  WRITE: 1 << 0,
  READONLY: 1 << 1,
  DENYOOM: 1 << 2,
  ADMIN: 1 << 3,
  PUBSUB: 1 << 4,
  NOSCRIPT: 1 << 5,
  BLOCKING: 1 << 6,
  LOADING: 1 << 7,
  STALE: 1 << 8,
  SKIP_MONITOR: 1 << 9,
  SKIP_SLOWLOG: 1 << 10,
  ASKING: 1 << 11,
  FAST: 1 << 12,
  NO_AUTH: 1 << 13,
  MAY_REPLICATE: 1 << 14,
  NO_MANDATORY_KEYS: 1 << 15,
  NO_MULTI: 1 << 16,
  MOVABLE_KEYS: 1 << 17,
  ALLOW_BUSY: 1 << 18,
  NO_ASYNC_LOADING: 1 << 19,
  SENTINEL: 1 << 20,
  ONLY_SENTINEL: 1 << 21,
  PROTECTED: 1 << 22,
} as const;

const FLAG_BITS: Record<string, number> = {
  write: CMD.WRITE,
  readonly: CMD.READONLY,
  denyoom: CMD.DENYOOM,
  admin: CMD.ADMIN,
  pubsub: CMD.PUBSUB,
  noscript: CMD.NOSCRIPT,
  blocking: CMD.BLOCKING,
  loading: CMD.LOADING,
  stale: CMD.STALE,
  skip_monitor: CMD.SKIP_MONITOR,
  skip_slowlog: CMD.SKIP_SLOWLOG,
  asking: CMD.ASKING,
  fast: CMD.FAST,
  no_auth: CMD.NO_AUTH,
  may_replicate: CMD.MAY_REPLICATE,
  no_mandatory_keys: CMD.NO_MANDATORY_KEYS,
  no_multi: CMD.NO_MULTI,
  allow_busy: CMD.ALLOW_BUSY,
  no_async_loading: CMD.NO_ASYNC_LOADING,
  sentinel: CMD.SENTINEL,
  only_sentinel: CMD.ONLY_SENTINEL,
  protected: CMD.PROTECTED,
};

/** Order in which COMMAND INFO lists flags (Valkey's order). */
export const FLAG_ORDER = [
  'write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'may_replicate', 'no_mandatory_keys',
  'no_multi', 'movablekeys', 'allow_busy', 'no_async_loading',
];

export interface Command {
  /** Lower-case name; for a subcommand the bare subcommand name. */
  name: string;
  /** "get", or "client|list" for subcommands. */
  fullname: string;
  arity: number;
  flags: number;
  /** Flag names as COMMAND INFO lists them (movablekeys included). */
  flagNames: string[];
  acl: string[];
  keySpecs: KeySpec[];
  firstKey: number;
  lastKey: number;
  keyStep: number;
  handler: Handler | null;
  subcommands: Map<string, Command> | null;
  parent: Command | null;
  meta: MetaEntry;
  // INFO commandstats
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

const require = createRequire(import.meta.url);
export const META: Record<string, MetaEntry> = require('./meta.json');

/** Legacy (first, last, step) triple derived from the key specs, like Valkey. */
function legacyRange(specs: KeySpec[]): [number, number, number, boolean] {
  let first = 0;
  let last = 0;
  let step = 0;
  let movable = false;
  let prevLast = 0;
  for (const ks of specs) {
    if (ks.bs.type !== 'index' || ks.fk.type !== 'range') {
      movable = true;
      continue;
    }
    const pos = ks.bs.pos;
    const lk = ks.fk.lastkey;
    const thisLast = lk < 0 ? lk : pos + lk;
    if (first === 0) {
      first = pos;
      last = thisLast;
      step = ks.fk.step;
      prevLast = thisLast;
      continue;
    }
    if (ks.fk.step === step && prevLast >= 0 && pos === prevLast + step) {
      last = thisLast;
      prevLast = thisLast;
    } else {
      movable = true;
    }
  }
  if (specs.some((ks) => ks.flags.includes('INCOMPLETE'))) movable = true;
  return [first, last, step, movable];
}

function makeCommand(meta: MetaEntry, name: string, parent: Command | null, handler: Handler | null): Command {
  let flags = 0;
  for (const f of meta.flags) flags |= FLAG_BITS[f] ?? 0;
  const [first, last, step, movable] = legacyRange(meta.keySpecs);
  const names = meta.flags.slice();
  if (movable) {
    flags |= CMD.MOVABLE_KEYS;
    names.push('movablekeys');
  }
  names.sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b));
  return {
    name,
    fullname: parent ? `${parent.name}|${name}` : name,
    arity: meta.arity,
    flags,
    flagNames: names,
    acl: meta.acl,
    keySpecs: meta.keySpecs,
    firstKey: first,
    lastKey: last,
    keyStep: step,
    handler,
    subcommands: null,
    parent,
    meta,
    calls: 0,
    usec: 0,
    rejectedCalls: 0,
    failedCalls: 0,
  };
}

export class CommandTable {
  /** Top-level commands by lower-case name (and, for speed, upper-case too). */
  readonly byName = new Map<string, Command>();
  /** Every implemented command, top level only, in name order. */
  readonly all: Command[] = [];

  constructor(handlers: HandlerMap, extraMeta: Record<string, MetaEntry> = {}) {
    const meta: Record<string, MetaEntry> = { ...META, ...extraMeta };
    const containers = new Set<string>();
    for (const k of Object.keys(handlers)) {
      const bar = k.indexOf('|');
      if (bar > 0) containers.add(k.slice(0, bar));
    }
    for (const name of Object.keys(meta).sort()) {
      const m = meta[name];
      const h = handlers[name] ?? null;
      if (!h && !containers.has(name)) continue;
      const cmd = makeCommand(m, name, null, h);
      if (containers.has(name) && m.subcommands) {
        cmd.subcommands = new Map();
        for (const sub of Object.keys(m.subcommands).sort()) {
          const sh = handlers[`${name}|${sub}`];
          if (!sh) continue;
          cmd.subcommands.set(sub, makeCommand(m.subcommands[sub], sub, cmd, sh));
        }
      }
      this.byName.set(name, cmd);
      this.byName.set(name.toUpperCase(), cmd);
      this.all.push(cmd);
    }
    for (const k of Object.keys(handlers)) {
      const top = k.split('|')[0];
      if (!meta[top]) throw new Error(`handler for ${k} has no command metadata`);
    }
  }

  lookup(name: string): Command | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  /** Resolves "client|list" style names, or a top-level name. */
  lookupFull(full: string): Command | undefined {
    const lower = full.toLowerCase();
    const bar = lower.indexOf('|');
    if (bar < 0) return this.byName.get(lower);
    const top = this.byName.get(lower.slice(0, bar));
    return top?.subcommands?.get(lower.slice(bar + 1));
  }

  /** Every implemented command and subcommand (for commandstats, COMMAND LIST). */
  *allWithSubs(): Iterable<Command> {
    for (const c of this.all) {
      yield c;
      if (c.subcommands) yield* c.subcommands.values();
    }
  }
}
