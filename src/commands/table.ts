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

/**
 * Order in which COMMAND INFO lists flags (Valkey's order). Flags that Valkey
 * keeps out of COMMAND INFO (may_replicate, sentinel, only_sentinel, protected)
 * are not in this list and are not shown.
 */
export const FLAG_ORDER = [
  'write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading',
  'no_multi', 'movablekeys', 'allow_busy',
];

/** ACL categories in Valkey's order (the order COMMAND INFO and ACL CAT use). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** Key spec flags in the order and spelling COMMAND INFO / GETKEYSANDFLAGS show them. */
export const KEY_FLAG_ORDER = ['RW', 'RO', 'OW', 'RM', 'access', 'update', 'insert', 'delete', 'not_key', 'incomplete', 'variable_flags'];
const KEY_FLAG_BY_UPPER = new Map(KEY_FLAG_ORDER.map((f) => [f.toUpperCase(), f]));

/** Canonical names and order of a key spec's flags ("RW", "access", ...). */
export function keyFlagNames(flags: string[]): string[] {
  const out: string[] = [];
  const want = new Set(flags.map((f) => f.toUpperCase()));
  for (const f of KEY_FLAG_ORDER) if (want.has(f.toUpperCase())) out.push(f);
  for (const f of flags) if (!KEY_FLAG_BY_UPPER.has(f.toUpperCase())) out.push(f.toLowerCase());
  return out;
}

/**
 * A command's ACL categories: the declared ones plus those implied by its flags
 * (write, read unless scripting, admin+dangerous, pubsub, fast, blocking, slow
 * when not fast), in Valkey's order.
 */
export function aclCategories(meta: MetaEntry): string[] {
  const cats = new Set(meta.acl);
  const f = new Set(meta.flags);
  if (f.has('write')) cats.add('write');
  if (f.has('readonly') && !cats.has('scripting')) cats.add('read');
  if (f.has('admin')) {
    cats.add('admin');
    cats.add('dangerous');
  }
  if (f.has('pubsub')) cats.add('pubsub');
  if (f.has('fast')) cats.add('fast');
  if (f.has('blocking')) cats.add('blocking');
  if (!cats.has('fast')) cats.add('slow');
  const out = ACL_CATEGORIES.filter((c) => cats.has(c));
  for (const c of cats) if (!ACL_CATEGORIES.includes(c)) out.push(c);
  return out;
}

export interface Command {
  /** Lower-case name; for a subcommand the bare subcommand name. */
  name: string;
  /** "get", or "client|list" for subcommands. */
  fullname: string;
  arity: number;
  flags: number;
  /** Flag names as COMMAND INFO lists them (movablekeys included). */
  flagNames: string[];
  /** ACL categories, declared and implied by the flags, in Valkey's order (no '@'). */
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
  /** Latency histogram for INFO latencystats / LATENCY HISTOGRAM (src/server/latency.ts); null until first used. */
  latencyHist: Float64Array | null;
}

const require = createRequire(import.meta.url);
export const META: Record<string, MetaEntry> = require('./meta.json');

/**
 * The legacy (first, last, step) triple of COMMAND INFO and the movablekeys flag,
 * derived from the key specs the way Valkey does it:
 * - one index+range spec: its own triple (lastkey made absolute unless negative);
 * - several specs: the index+range specs with step 1 that follow each other
 *   are merged into one range (step 1); any other spec is skipped;
 * - a spec that is not index+range (keyword, keynum, unknown) makes the command
 *   movablekeys, and so does an INCOMPLETE spec that is used for the range.
 */
export function legacyRange(specs: KeySpec[]): [number, number, number, boolean] {
  if (specs.length === 0) return [0, 0, 0, false];
  let movable = false;
  for (const ks of specs) if (ks.bs.type !== 'index' || ks.fk.type !== 'range') movable = true;
  if (specs.length === 1) {
    const ks = specs[0];
    if (ks.bs.type === 'index' && ks.fk.type === 'range') {
      const first = ks.bs.pos;
      const lk = ks.fk.lastkey;
      return [first, lk < 0 ? lk : first + lk, ks.fk.step, ks.flags.includes('INCOMPLETE')];
    }
    return [0, 0, 0, true];
  }
  let first = Number.MAX_SAFE_INTEGER;
  let last = 0;
  let prevLast = 0;
  for (const ks of specs) {
    if (ks.bs.type !== 'index' || ks.fk.type !== 'range') continue;
    if (ks.fk.step !== 1 || (prevLast !== 0 && prevLast !== ks.bs.pos - 1)) {
      movable = true;
      continue;
    }
    if (ks.flags.includes('INCOMPLETE')) movable = true;
    first = Math.min(first, ks.bs.pos);
    const abs = ks.fk.lastkey >= 0 ? ks.bs.pos + ks.fk.lastkey : ks.fk.lastkey;
    // Negative (counted from the end) wins over any positive index, as an
    // unsigned comparison would have it.
    if (abs < 0) last = last < 0 ? Math.max(last, abs) : abs;
    else if (last >= 0) last = Math.max(last, abs);
    prevLast = last;
  }
  if (first === Number.MAX_SAFE_INTEGER) return [0, 0, 0, true];
  return [first, last, 1, movable];
}

function makeCommand(meta: MetaEntry, name: string, parent: Command | null, handler: Handler | null): Command {
  let flags = 0;
  for (const f of meta.flags) flags |= FLAG_BITS[f] ?? 0;
  const [first, last, step, movable] = legacyRange(meta.keySpecs);
  const names = meta.flags.filter((f) => FLAG_ORDER.includes(f));
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
    acl: aclCategories(meta),
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
    latencyHist: null,
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
    // Names repeat and the parser hands out the same string for a repeated name: a
    // direct-mapped cache compares it (pointer first) before hashing it into the Map.
    const slot = (name.length * 7 + name.charCodeAt(0)) & 63;
    if (this.cacheNames[slot] === name) return (this.lastHit = this.cacheCmds[slot]);
    const cmd = this.byName.get(name) ?? this.byName.get(name.toLowerCase());
    if (cmd !== undefined) {
      this.cacheNames[slot] = name;
      this.cacheCmds[slot] = cmd;
      this.lastHit = cmd;
    }
    return cmd;
  }

  private readonly cacheNames: (string | undefined)[] = new Array(64).fill(undefined);
  private readonly cacheCmds: (Command | undefined)[] = new Array(64).fill(undefined);
  /** The command the last successful lookup() found (Client.processInput's guess of what a pipeline runs next). */
  lastHit: Command | undefined = undefined;

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

// ------------------------------------------------------------------ key extraction

/** A key argument found in a command line: its index in argv and its flags. */
export interface KeyRef {
  pos: number;
  flags: string[];
}

const eqi = (a: string, b: string) => a.length === b.length && a.toLowerCase() === b;

/** True if the command declares key arguments (COMMAND GETKEYS refuses the others). */
export function commandHasKeys(cmd: Command): boolean {
  if (NATIVE_GETKEYS[cmd.fullname] !== undefined) return true;
  return cmd.keySpecs.some((ks) => !ks.flags.includes('NOT_KEY'));
}

/**
 * Keys of a command line from the key specs (Valkey's getKeysUsingKeySpecs).
 * Returns null when a spec cannot be applied (out of range, bad key count,
 * unknown or incomplete spec); specs flagged NOT_KEY are skipped.
 */
export function keysFromSpecs(cmd: Command, argv: string[]): KeyRef[] | null {
  const argc = argv.length;
  const out: KeyRef[] = [];
  for (const ks of cmd.keySpecs) {
    if (ks.flags.includes('NOT_KEY')) continue;
    let first = 0;
    const bs = ks.bs;
    if (bs.type === 'index') first = bs.pos;
    else if (bs.type === 'keyword') {
      const kw = bs.keyword.toLowerCase();
      if (bs.startfrom > 0) {
        // Forwards up to the next-to-last argument (a keyword last has no key after it).
        for (let i = bs.startfrom; i < argc - 1; i++) {
          if (eqi(argv[i], kw)) {
            first = i + 1;
            break;
          }
        }
      } else {
        for (let i = argc + bs.startfrom; i >= 1 && i < argc; i--) {
          if (eqi(argv[i], kw)) {
            first = i + 1;
            break;
          }
        }
      }
      if (first === 0) continue; // keyword absent: this spec finds no key
    } else return null;
    let last: number;
    let step: number;
    const fk = ks.fk;
    if (fk.type === 'range') {
      step = fk.step;
      if (fk.lastkey >= 0) last = first + fk.lastkey;
      else if (fk.limit === 0) last = argc + fk.lastkey;
      else last = first + (Math.floor((argc - first) / fk.limit) + fk.lastkey);
    } else if (fk.type === 'keynum') {
      step = fk.step;
      const idx = first + fk.keynumidx;
      if (idx >= argc) return null;
      const s = argv[idx];
      if (!/^-?\d+$/.test(s)) return null;
      const n = Number(s);
      if (n < 0 || n > 2147483647) return null;
      first += fk.firstkey;
      last = first + n - 1;
    } else return null;
    if (last >= argc || last < first || first >= argc) return null;
    const names = keyFlagNames(ks.flags);
    for (let i = first; i <= last; i += step) out.push({ pos: i, flags: names });
    if (ks.flags.includes('INCOMPLETE')) return null;
  }
  return out;
}

type GetKeysProc = (argv: string[]) => KeyRef[];

/**
 * Commands whose key specs cannot say everything (flags that depend on the
 * arguments, keys found by parsing): their own key finders, used as Valkey uses
 * its getkeys procedures.
 */
const NATIVE_GETKEYS: Record<string, GetKeysProc> = {
  set(argv) {
    for (let i = 3; i < argv.length; i++) if (eqi(argv[i], 'get')) return [{ pos: 1, flags: ['RW', 'access', 'update'] }];
    return [{ pos: 1, flags: ['OW', 'update'] }];
  },
  bitfield(argv) {
    let readonly = true;
    for (let i = 2; i < argv.length; i++) {
      const rest = argv.length - i - 1;
      const a = argv[i].toLowerCase();
      if (a === 'get' && rest >= 2) i += 2;
      else if (a === 'overflow' && rest >= 1) i += 1;
      else {
        // SET / INCRBY write; anything else is a syntax error, assumed to write.
        readonly = false;
        break;
      }
    }
    return [{ pos: 1, flags: readonly ? ['RO', 'access'] : ['RW', 'access', 'update'] }];
  },
  sort: (argv) => sortKeys(argv, true),
  sort_ro: (argv) => sortKeys(argv, false),
  migrate(argv) {
    let first = 3;
    let num = 1;
    if (argv.length > 6) {
      for (let i = 6; i < argv.length; i++) {
        const a = argv[i].toLowerCase();
        if (a === 'keys') {
          if (argv[3].length > 0) return [];
          first = i + 1;
          num = argv.length - first;
          break;
        }
        if (a === 'auth') i += 1;
        else if (a === 'auth2') i += 2;
      }
    }
    const out: KeyRef[] = [];
    for (let i = 0; i < num; i++) out.push({ pos: first + i, flags: ['RW', 'access', 'delete'] });
    return out;
  },
  georadius: (argv) => geoStoreKeys(argv),
  georadiusbymember: (argv) => geoStoreKeys(argv),
};

function sortKeys(argv: string[], store: boolean): KeyRef[] {
  const out: KeyRef[] = [{ pos: 1, flags: ['RO', 'access'] }];
  let dest = -1;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === 'limit') i += 2;
    else if (a === 'get' || a === 'by') i += 1;
    else if (store && a === 'store' && i + 1 < argv.length) {
      dest = i + 1; // the last STORE wins, as in SORT itself
      i += 1;
    }
  }
  if (dest > 0) out.push({ pos: dest, flags: ['OW', 'update'] });
  return out;
}

function geoStoreKeys(argv: string[]): KeyRef[] {
  let stored = -1;
  for (let i = 5; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if ((a === 'store' || a === 'storedist') && i + 1 < argv.length) {
      stored = i + 1;
      i++;
    }
  }
  const out: KeyRef[] = [{ pos: 1, flags: [] }];
  if (stored > 0) out.push({ pos: stored, flags: [] });
  return out;
}

/**
 * Keys of a command line (`argv[0]` is the command name, or for a subcommand
 * argv[0..1]). Uses the key specs when they are reliable, else the command's
 * own key finder; an empty list when neither can find keys.
 */
export function getCommandKeys(cmd: Command, argv: string[]): KeyRef[] {
  const varFlags = cmd.keySpecs.some((ks) => ks.flags.includes('VARIABLE_FLAGS'));
  const hasKeySpec = cmd.keySpecs.some((ks) => !ks.flags.includes('NOT_KEY'));
  if (hasKeySpec && !varFlags) {
    const r = keysFromSpecs(cmd, argv);
    if (r !== null) return r;
  }
  const proc = NATIVE_GETKEYS[cmd.fullname];
  return proc ? proc(argv) : [];
}
