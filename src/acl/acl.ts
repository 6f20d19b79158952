// Access control lists as Valkey 8 has them: users with passwords (SHA-256 hex),
// a root selector plus extra "(...)" selectors, each allowing commands (by
// command, subcommand, first argument or category), key patterns (read, write or
// both) and Pub/Sub channel patterns; the permission check the dispatcher runs,
// the ACL log, the ACL file and the `user` config directives.
//
// The hot path: every client points at its user, and a user whose root selector
// allows every command, key and channel is flagged `unrestricted`; the
// dispatcher tests that one flag and calls into this module only otherwise.
import { writeFileAtomic } from '../util/atomic-file.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { META, ACL_CATEGORIES, CMD, aclCategories, commandHasKeys, getCommandKeys, type Command, type MetaEntry } from '../commands/table.js';
import { EXTRA_META } from '../commands/registry.js';
import { globMatch, isLiteralPattern } from '../util/glob.js';
import { splitArgs } from '../protocol/parser.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';

// ------------------------------------------------------------------ the command universe

/** One command or subcommand as ACL rules see it (every command Valkey has, implemented or not). */
interface AclCmd {
  id: number;
  fullname: string;
  /** Category bits (index in ACL_CATEGORIES). */
  cats: number;
  subs: AclCmd[] | null;
  parent: AclCmd | null;
}

const CAT_BIT = new Map<string, number>(ACL_CATEGORIES.map((c, i) => [c, 1 << i]));

let UNIVERSE: { byName: Map<string, AclCmd>; top: AclCmd[]; all: AclCmd[] } | null = null;

function universe(): { byName: Map<string, AclCmd>; top: AclCmd[]; all: AclCmd[] } {
  if (UNIVERSE !== null) return UNIVERSE;
  const meta: Record<string, MetaEntry> = { ...META, ...EXTRA_META };
  const byName = new Map<string, AclCmd>();
  const top: AclCmd[] = [];
  const all: AclCmd[] = [];
  const make = (m: MetaEntry, fullname: string, parent: AclCmd | null): AclCmd => {
    let cats = 0;
    for (const c of aclCategories(m)) cats |= CAT_BIT.get(c) ?? 0;
    const cmd: AclCmd = { id: all.length, fullname, cats, subs: null, parent };
    all.push(cmd);
    byName.set(fullname, cmd);
    return cmd;
  };
  for (const name of Object.keys(meta).sort()) {
    const m = meta[name];
    const cmd = make(m, name, null);
    top.push(cmd);
    if (m.subcommands) {
      cmd.subs = [];
      for (const sub of Object.keys(m.subcommands).sort()) cmd.subs.push(make(m.subcommands[sub], `${name}|${sub}`, cmd));
    }
  }
  UNIVERSE = { byName, top, all };
  return UNIVERSE;
}

/** Valkey's ACLLookupCommand: "get" or "config|get" (case-insensitive); null when unknown. */
function lookupAclCmd(name: string): AclCmd | null {
  const parts = name.toLowerCase().split('|');
  if (parts.length > 2) return null;
  const u = universe();
  const base = u.byName.get(parts[0]);
  if (base === undefined || base.parent !== null) return null;
  if (parts.length === 1) return base;
  if (base.subs === null) return null;
  return u.byName.get(`${parts[0]}|${parts[1]}`) ?? null;
}

/** ACL id of a command of the dispatch table (by its full name). */
function idOf(cmd: Command): number {
  const c = universe().byName.get(cmd.fullname);
  return c === undefined ? -1 : c.id;
}

// ------------------------------------------------------------------ users and selectors

const READ = 1;
const WRITE = 2;
const ALL_PERM = READ | WRITE;

interface KeyPattern {
  pattern: string;
  flags: number;
  /** "prefix*" patterns match by prefix, literal ones by equality (null: full glob). */
  prefix: string | null;
  literal: boolean;
}

function makeKeyPattern(pattern: string, flags: number): KeyPattern {
  const body = pattern.endsWith('*') ? pattern.slice(0, -1) : null;
  const literal = isLiteralPattern(pattern);
  return { pattern, flags, prefix: body !== null && isLiteralPattern(body) ? body : null, literal };
}

function patternMatches(p: KeyPattern, key: string): boolean {
  if (p.prefix !== null) return key.startsWith(p.prefix);
  if (p.literal) return key === p.pattern;
  return globMatch(p.pattern, key);
}

export interface Selector {
  root: boolean;
  allKeys: boolean;
  allChannels: boolean;
  allCommands: boolean;
  /** The reserved "future commands" bit that only +@all / allcommands sets. */
  future: boolean;
  allowed: Uint8Array;
  /** Allowed first arguments of otherwise denied commands (by command id). */
  firstArgs: Map<number, string[]> | null;
  patterns: KeyPattern[];
  channels: string[];
  /** The command rules as given (Valkey's command_rules), e.g. ["+@read", "-get"]. */
  rules: string[];
}

export interface AclUser {
  name: string;
  enabled: boolean;
  nopass: boolean;
  skipSanitize: boolean;
  /** SHA-256 hex digests. */
  passwords: string[];
  /** selectors[0] is the root selector. */
  selectors: Selector[];
  /** Root selector allows every command, key and channel: the dispatcher skips the check. */
  unrestricted: boolean;
}

/** Valkey's errno-style reasons from ACLSetUser, mapped to their messages. */
class RuleError extends Error {}
const E_ENOENT = 'Unknown command or category name in ACL';
const E_EINVAL = 'Syntax error';
const E_EEXIST =
  "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
const E_EISDIR =
  "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
const E_ENODEV = 'The password you are trying to remove from the user does not exist';
const E_EBADMSG = 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
const E_ECHILD = 'Allowing first-arg of a subcommand is not supported';

function newSelector(root: boolean, pubsubAll: boolean): Selector {
  return {
    root,
    allKeys: false,
    allChannels: pubsubAll,
    allCommands: false,
    future: false,
    allowed: new Uint8Array(universe().all.length),
    firstArgs: null,
    patterns: [],
    channels: [],
    rules: [],
  };
}

function copySelector(s: Selector): Selector {
  let fa: Map<number, string[]> | null = null;
  if (s.firstArgs !== null) {
    fa = new Map();
    for (const [k, v] of s.firstArgs) fa.set(k, [...v]);
  }
  return {
    ...s,
    allowed: new Uint8Array(s.allowed),
    firstArgs: fa,
    patterns: s.patterns.map((p) => ({ ...p })),
    channels: [...s.channels],
    rules: [...s.rules],
  };
}

function newUser(name: string, pubsubAll: boolean): AclUser {
  return {
    name,
    enabled: false,
    nopass: false,
    skipSanitize: false,
    passwords: [],
    selectors: [newSelector(true, pubsubAll)],
    unrestricted: false,
  };
}

function copyUserInto(dst: AclUser, src: AclUser): void {
  dst.enabled = src.enabled;
  dst.nopass = src.nopass;
  dst.skipSanitize = src.skipSanitize;
  dst.passwords = [...src.passwords];
  dst.selectors = src.selectors.map(copySelector);
  dst.unrestricted = src.unrestricted;
}

function refreshFlags(u: AclUser): void {
  const r = u.selectors[0];
  u.unrestricted = r.allCommands && r.allKeys && r.allChannels;
}

export function hashPassword(p: string): string {
  return createHash('sha256').update(p, 'latin1').digest('hex');
}

function validHash(h: string): boolean {
  return /^[0-9a-f]{64}$/.test(h);
}

/** Valkey's ACLStringHasSpaces: isspace() or NUL anywhere. */
export function hasSpaces(s: string): boolean {
  return /[ \t\n\v\f\r\0]/.test(s);
}

// Command bits ------------------------------------------------------------

function setBit(s: Selector, id: number, allow: boolean): void {
  s.allowed[id] = allow ? 1 : 0;
  if (!allow) s.allCommands = false;
}

function changePerm(s: Selector, cmd: AclCmd, allow: boolean): void {
  setBit(s, cmd.id, allow);
  if (s.firstArgs !== null) s.firstArgs.delete(cmd.id);
  if (cmd.subs !== null) for (const sub of cmd.subs) setBit(s, sub.id, allow);
}

function setCategory(s: Selector, list: AclCmd[], bit: number, allow: boolean): void {
  for (const cmd of list) {
    if ((cmd.cats & bit) !== 0) changePerm(s, cmd, allow);
    if (cmd.subs !== null) setCategory(s, cmd.subs, bit, allow);
  }
}

/** Keeps the rules in the order given: a rule replaces an earlier equal one (and its subcommand rules). */
function updateRules(s: Selector, rule: string, allow: boolean): void {
  const r = rule.toLowerCase();
  s.rules = s.rules.filter((old) => {
    const body = old.slice(1);
    return !(body === r || (body.length > r.length && body.startsWith(r) && body[r.length] === '|'));
  });
  s.rules.push((allow ? '+' : '-') + r);
}

/** Applies one selector rule (ACLSetSelector). Throws RuleError. */
function setSelector(s: Selector, op: string): void {
  const lop = op.toLowerCase();
  if (lop === 'allkeys' || lop === '~*') {
    s.allKeys = true;
    s.patterns = [];
  } else if (lop === 'resetkeys') {
    s.allKeys = false;
    s.patterns = [];
  } else if (lop === 'allchannels' || lop === '&*') {
    s.allChannels = true;
    s.channels = [];
  } else if (lop === 'resetchannels') {
    s.allChannels = false;
    s.channels = [];
  } else if (lop === 'allcommands' || lop === '+@all') {
    s.allowed.fill(1);
    s.allCommands = true;
    s.future = true;
    s.rules = [];
    s.firstArgs = null;
  } else if (lop === 'nocommands' || lop === '-@all') {
    s.allowed.fill(0);
    s.allCommands = false;
    s.future = false;
    s.rules = [];
    s.firstArgs = null;
  } else if (op[0] === '~' || op[0] === '%') {
    if (s.allKeys) throw new RuleError(E_EEXIST);
    let flags = 0;
    let offset = 1;
    if (op[0] === '%') {
      let ok = true;
      for (; offset < op.length; offset++) {
        const ch = op[offset].toUpperCase();
        if (ch === 'R' && (flags & READ) === 0) flags |= READ;
        else if (ch === 'W' && (flags & WRITE) === 0) flags |= WRITE;
        else if (op[offset] === '~') {
          offset++;
          break;
        } else {
          ok = false;
          break;
        }
      }
      if (flags === 0 || !ok) throw new RuleError(E_EINVAL);
    } else flags = ALL_PERM;
    const pat = op.slice(offset);
    if (hasSpaces(pat)) throw new RuleError(E_EINVAL);
    const old = s.patterns.find((p) => p.pattern === pat);
    if (old === undefined) s.patterns.push(makeKeyPattern(pat, flags));
    else old.flags |= flags;
    s.allKeys = false;
  } else if (op[0] === '&') {
    if (s.allChannels) throw new RuleError(E_EISDIR);
    const pat = op.slice(1);
    if (hasSpaces(pat)) throw new RuleError(E_EINVAL);
    if (!s.channels.includes(pat)) s.channels.push(pat);
    s.allChannels = false;
  } else if (op[0] === '+' && op[1] !== '@') {
    const body = op.slice(1);
    const bar = body.lastIndexOf('|');
    if (bar < 0) {
      const cmd = lookupAclCmd(body);
      if (cmd === null) throw new RuleError(E_ENOENT);
      changePerm(s, cmd, true);
      updateRules(s, cmd.fullname, true);
    } else {
      const base = body.slice(0, bar);
      const sub = body.slice(bar + 1);
      const cmd = lookupAclCmd(base);
      if (cmd === null) throw new RuleError(E_ENOENT);
      if (cmd.parent !== null) throw new RuleError(E_ECHILD);
      if (sub.length === 0) throw new RuleError(E_EINVAL);
      if (cmd.subs !== null) {
        const sc = lookupAclCmd(body);
        if (sc === null) throw new RuleError(E_ENOENT);
        changePerm(s, sc, true);
      } else {
        // First argument of an otherwise denied command (SELECT|0): deprecated in Valkey, still honoured.
        if (s.firstArgs === null) s.firstArgs = new Map();
        let l = s.firstArgs.get(cmd.id);
        if (l === undefined) s.firstArgs.set(cmd.id, (l = []));
        if (!l.some((x) => x.toLowerCase() === sub.toLowerCase())) l.push(sub);
      }
      updateRules(s, body, true);
    }
  } else if (op[0] === '-' && op[1] !== '@') {
    const cmd = lookupAclCmd(op.slice(1));
    if (cmd === null) throw new RuleError(E_ENOENT);
    changePerm(s, cmd, false);
    updateRules(s, cmd.fullname, false);
  } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
    const bit = CAT_BIT.get(lop.slice(2));
    if (bit === undefined) throw new RuleError(E_ENOENT);
    const allow = op[0] === '+';
    updateRules(s, op.slice(1), allow);
    setCategory(s, universe().top, bit, allow);
  } else {
    throw new RuleError(E_EINVAL);
  }
}

/** Applies one user rule (ACLSetUser). Throws RuleError. */
function setUserRule(u: AclUser, op: string, pubsubAll: boolean): void {
  if (op.length === 0) return;
  const lop = op.toLowerCase();
  if (lop === 'on') u.enabled = true;
  else if (lop === 'off') u.enabled = false;
  else if (lop === 'skip-sanitize-payload') u.skipSanitize = true;
  else if (lop === 'sanitize-payload') u.skipSanitize = false;
  else if (lop === 'nopass') {
    u.nopass = true;
    u.passwords = [];
  } else if (lop === 'resetpass') {
    u.nopass = false;
    u.passwords = [];
  } else if (op[0] === '>' || op[0] === '#') {
    let h: string;
    if (op[0] === '>') h = hashPassword(op.slice(1));
    else {
      h = op.slice(1);
      if (!validHash(h)) throw new RuleError(E_EBADMSG);
    }
    if (!u.passwords.includes(h)) u.passwords.push(h);
    u.nopass = false;
  } else if (op[0] === '<' || op[0] === '!') {
    let h: string;
    if (op[0] === '<') h = hashPassword(op.slice(1));
    else {
      h = op.slice(1);
      if (!validHash(h)) throw new RuleError(E_EBADMSG);
    }
    const i = u.passwords.indexOf(h);
    if (i < 0) throw new RuleError(E_ENODEV);
    u.passwords.splice(i, 1);
  } else if (op[0] === '(' && op[op.length - 1] === ')') {
    const s = newSelector(false, pubsubAll);
    const args = splitArgs(op.slice(1, -1)) ?? [];
    for (const a of args) setSelector(s, a);
    u.selectors.push(s);
  } else if (lop === 'clearselectors') {
    u.selectors.length = 1;
  } else if (lop === 'reset') {
    setUserRule(u, 'resetpass', pubsubAll);
    setUserRule(u, 'resetkeys', pubsubAll);
    setUserRule(u, 'resetchannels', pubsubAll);
    if (pubsubAll) setUserRule(u, 'allchannels', pubsubAll);
    setUserRule(u, 'off', pubsubAll);
    setUserRule(u, 'sanitize-payload', pubsubAll);
    setUserRule(u, 'clearselectors', pubsubAll);
    setUserRule(u, '-@all', pubsubAll);
  } else {
    setSelector(u.selectors[0], op);
  }
  refreshFlags(u);
}

/**
 * Joins a selector written over several arguments ("(~x" "+get)") into one, like
 * ACLMergeSelectorArguments. Returns the index of an unclosed '(' as a number.
 */
export function mergeSelectorArgs(args: string[]): string[] | number {
  const out: string[] = [];
  let open = -1;
  let cur = '';
  for (let j = 0; j < args.length; j++) {
    const op = args[j];
    if (open === -1 && op[0] === '(' && op[op.length - 1] !== ')') {
      cur = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      cur += ' ' + op;
      if (op[op.length - 1] === ')') {
        open = -1;
        out.push(cur);
      }
      continue;
    }
    out.push(op);
  }
  return open !== -1 ? open : out;
}

// Description -------------------------------------------------------------

function patternString(p: KeyPattern): string {
  const pre = p.flags === ALL_PERM ? '~' : p.flags === READ ? '%R~' : '%W~';
  return pre + p.pattern;
}

function describeCommands(s: Selector): string {
  const head = s.future ? '+@all' : '-@all';
  return s.rules.length === 0 ? head : head + ' ' + s.rules.join(' ');
}

function describeSelector(s: Selector): string {
  let res = '';
  if (s.allKeys) res += '~* ';
  else for (const p of s.patterns) res += patternString(p) + ' ';
  if (s.allChannels) res += '&* ';
  else {
    res += 'resetchannels ';
    for (const ch of s.channels) res += '&' + ch + ' ';
  }
  return res + describeCommands(s);
}

/** The user's rules as ACL LIST and the ACL file show them (without "user <name> "). */
export function describeUser(u: AclUser): string {
  let res = '';
  res += u.enabled ? 'on ' : 'off ';
  if (u.nopass) res += 'nopass ';
  res += u.skipSanitize ? 'skip-sanitize-payload ' : 'sanitize-payload ';
  for (const p of u.passwords) res += '#' + p + ' ';
  for (const s of u.selectors) {
    const d = describeSelector(s);
    res += s.root ? d : ` (${d})`;
  }
  return res;
}

function userFlags(u: AclUser): string[] {
  const f = [u.enabled ? 'on' : 'off'];
  if (u.nopass) f.push('nopass');
  f.push(u.skipSanitize ? 'skip-sanitize-payload' : 'sanitize-payload');
  return f;
}

// Checks ------------------------------------------------------------------

export const enum Denied {
  Ok = 0,
  Cmd = 1,
  Key = 2,
  Auth = 3,
  Channel = 4,
}
// Valkey's ACL_DENIED_* values order the "most relevant" error: CMD < KEY < AUTH < CHANNEL.

const KEY_READ_FLAGS = new Set(['access']);
const KEY_WRITE_FLAGS = new Set(['insert', 'delete', 'update']);

function keyPerm(flags: string[]): number {
  let p = 0;
  for (const f of flags) {
    if (KEY_READ_FLAGS.has(f)) p |= READ;
    else if (KEY_WRITE_FLAGS.has(f)) p |= WRITE;
  }
  return p;
}

function selectorCheckKey(s: Selector, key: string, perm: number): boolean {
  if (s.allKeys) return true;
  const pats = s.patterns;
  for (let i = 0; i < pats.length; i++) {
    const p = pats[i];
    if ((p.flags & perm) !== perm) continue;
    if (patternMatches(p, key)) return true;
  }
  return false;
}

function channelAllowed(list: string[], channel: string, isPattern: boolean): boolean {
  for (const p of list) {
    if (isPattern ? p === channel : globMatch(p, channel)) return true;
  }
  return false;
}

/** Channel arguments of a command line: [position, isPattern] pairs (publish/subscribe ones only). */
function channelsOf(fullname: string, argc: number): [number, boolean][] | null {
  switch (fullname) {
    case 'publish':
    case 'spublish':
      return argc > 1 ? [[1, false]] : [];
    case 'subscribe':
    case 'ssubscribe':
    case 'psubscribe': {
      const out: [number, boolean][] = [];
      const pat = fullname === 'psubscribe';
      for (let i = 1; i < argc; i++) out.push([i, pat]);
      return out;
    }
    default:
      return null;
  }
}

/** What the check needs to know about a dispatch-table command, computed once per command. */
interface CmdFacts {
  id: number;
  hasKeys: boolean;
  /** One index+range key spec: its first key, last key (negative: from the end), step and permission. */
  range: { first: number; last: number; step: number; perm: number } | null;
}

const FACTS = new WeakMap<Command, CmdFacts>();

function factsOf(cmd: Command): CmdFacts {
  let f = FACTS.get(cmd);
  if (f !== undefined) return f;
  let range: CmdFacts['range'] = null;
  const specs = cmd.keySpecs;
  if (specs.length === 1) {
    const ks = specs[0];
    const varFlags = ks.flags.some((x) => x.toUpperCase() === 'VARIABLE_FLAGS' || x.toUpperCase() === 'INCOMPLETE' || x.toUpperCase() === 'NOT_KEY');
    if (!varFlags && ks.bs.type === 'index' && ks.fk.type === 'range' && ks.fk.limit === 0 && ks.fk.step > 0) {
      range = { first: ks.bs.pos, last: ks.fk.lastkey, step: ks.fk.step, perm: keyPerm(ks.flags.map((x) => x.toLowerCase())) };
    }
  }
  f = { id: idOf(cmd), hasKeys: commandHasKeys(cmd), range };
  FACTS.set(cmd, f);
  return f;
}

interface KeyCache {
  keys: { pos: number; flags: string[] }[] | null;
}

function selectorCheckCmd(s: Selector, cmd: Command, f: CmdFacts, argv: string[], out: { pos: number }, cache: KeyCache): Denied {
  const id = f.id;
  if (!s.allCommands && (cmd.flags & CMD.NO_AUTH) === 0) {
    if (id < 0 || s.allowed[id] === 0) {
      const fa = s.firstArgs?.get(id);
      if (argv.length < 2 || fa === undefined) return Denied.Cmd;
      const arg = argv[cmd.parent !== null ? 2 : 1];
      if (arg === undefined) return Denied.Cmd;
      const la = arg.toLowerCase();
      if (!fa.some((x) => x.toLowerCase() === la)) return Denied.Cmd;
    }
  }
  if (!s.allKeys && f.hasKeys) {
    const r = f.range;
    if (r !== null) {
      // The common shape (one index+range spec): no key list is built.
      const argc = argv.length;
      const last = r.last >= 0 ? r.first + r.last : argc + r.last;
      if (last < argc && r.first < argc && last >= r.first) {
        for (let i = r.first; i <= last; i += r.step) {
          if (!selectorCheckKey(s, argv[i], r.perm)) {
            out.pos = i;
            return Denied.Key;
          }
        }
      }
    } else {
      if (cache.keys === null) cache.keys = getCommandKeys(cmd, argv);
      for (const k of cache.keys) {
        if (!selectorCheckKey(s, argv[k.pos], keyPerm(k.flags))) {
          out.pos = k.pos;
          return Denied.Key;
        }
      }
    }
  }
  if (!s.allChannels) {
    const chans = channelsOf(cmd.fullname, argv.length);
    if (chans !== null) {
      for (const [pos, pat] of chans) {
        if (!channelAllowed(s.channels, argv[pos], pat)) {
          out.pos = pos;
          return Denied.Channel;
        }
      }
    }
  }
  return Denied.Ok;
}

/** ACLCheckAllUserCommandPerm: Ok, or the most relevant denial and the argv index it concerns. */
const SCRATCH_CACHE: KeyCache = { keys: null };
const SCRATCH_POS = { pos: 0 };

export function checkUserCommand(u: AclUser, cmd: Command, argv: string[], out: { pos: number }): Denied {
  if (u.unrestricted) return Denied.Ok;
  const f = factsOf(cmd);
  const sels = u.selectors;
  if (sels.length === 1) {
    // One selector (no "(...)"): its answer is the answer.
    SCRATCH_CACHE.keys = null;
    const r = selectorCheckCmd(sels[0], cmd, f, argv, out, SCRATCH_CACHE);
    SCRATCH_CACHE.keys = null;
    return r;
  }
  let relevant = Denied.Cmd;
  let lastIdx = 0;
  const cache: KeyCache = { keys: null };
  const local = SCRATCH_POS;
  for (const s of sels) {
    local.pos = 0;
    const r = selectorCheckCmd(s, cmd, f, argv, local, cache);
    if (r === Denied.Ok) return Denied.Ok;
    if (r > relevant || (r === relevant && local.pos > lastIdx)) {
      relevant = r;
      lastIdx = local.pos;
    }
  }
  out.pos = lastIdx;
  return relevant;
}

export function aclErrorMessage(r: Denied, u: AclUser, cmd: Command, errored: string, verbose: boolean): string {
  switch (r) {
    case Denied.Cmd:
      return `User ${u.name} has no permissions to run the '${cmd.fullname}' command`;
    case Denied.Key:
      return verbose ? `User ${u.name} has no permissions to access the '${errored}' key` : 'No permissions to access a key';
    default:
      return verbose ? `User ${u.name} has no permissions to access the '${errored}' channel` : 'No permissions to access a channel';
  }
}

// ------------------------------------------------------------------ the ACL log

export type LogContext = 'toplevel' | 'multi' | 'lua' | 'module';

interface LogEntry {
  count: number;
  reason: Denied;
  context: LogContext;
  object: string;
  username: string;
  ctime: number;
  cinfo: string;
  entryId: number;
  created: number;
}

const LOG_GROUPING_MS = 60000;

// ------------------------------------------------------------------ the ACL state of a server

const DISPATCH_POS = { pos: 0 };

export class Acl {
  readonly server: Server;
  /** Users by name. */
  users = new Map<string, AclUser>();
  readonly defaultUser: AclUser;
  /** True while the default user needs a password or is off (new clients start unauthenticated). */
  authRequired = false;
  readonly log: LogEntry[] = [];
  private logCount = 0;
  readonly stats = { authFailures: 0, cmd: 0, key: 0, channel: 0 };

  constructor(server: Server) {
    this.server = server;
    this.defaultUser = this.createDefaultUser();
    this.users.set('default', this.defaultUser);
    this.refresh();
  }

  get pubsubAll(): boolean {
    return this.server.config.get('acl-pubsub-default') === 'allchannels';
  }

  private createDefaultUser(): AclUser {
    const u = newUser('default', this.pubsubAll);
    for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) setUserRule(u, r, false);
    return u;
  }

  /** Recomputes what the dispatcher caches after the default user changed. */
  refresh(): void {
    const d = this.defaultUser;
    this.authRequired = !d.nopass || !d.enabled;
  }

  getUser(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  /** Users in the order Valkey lists them (byte order of the names). */
  sortedUsers(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** requirepass: the default user's only password (or nopass when empty), like ACLUpdateDefaultUserPassword. */
  setRequirePass(pass: string): void {
    const u = this.defaultUser;
    setUserRule(u, 'resetpass', this.pubsubAll);
    setUserRule(u, pass === '' ? 'nopass' : '>' + pass, this.pubsubAll);
    this.refresh();
  }

  // Client state ------------------------------------------------------------

  /** A new (or RESET) connection: the default user, authenticated when it is on and nopass. */
  setDefaultAuth(c: Client): void {
    const d = this.defaultUser;
    c.aclUser = d;
    c.user = d.name;
    c.setAuthenticated(d.nopass && d.enabled);
  }

  /** Valkey's ACLCheckUserCredentials. */
  credentialsOk(username: string, password: string): boolean {
    const u = this.users.get(username);
    if (u === undefined || !u.enabled) return false;
    if (u.nopass) return true;
    const h = Buffer.from(hashPassword(password), 'latin1');
    let ok = false;
    for (const p of u.passwords) if (timingSafeEqual(h, Buffer.from(p, 'latin1'))) ok = true;
    return ok;
  }

  /** AUTH / HELLO AUTH: logs the client in, or logs the failure and returns false. */
  authenticate(c: Client, username: string, password: string, argv0: string): boolean {
    if (this.credentialsOk(username, password)) {
      const u = this.users.get(username)!;
      c.aclUser = u;
      c.user = u.name;
      c.setAuthenticated(true);
      return true;
    }
    this.addLog(c, Denied.Auth, c.multi !== null ? 'multi' : 'toplevel', username, argv0);
    return false;
  }

  // Checks ------------------------------------------------------------------

  /**
   * The dispatcher's check for a restricted user: null, or the error to reply
   * (NOPERM ...) after logging the denial.
   */
  checkDispatch(c: Client, cmd: Command, argv: string[]): string | null {
    const out = DISPATCH_POS;
    out.pos = 0;
    const r = checkUserCommand(c.aclUser, cmd, argv, out);
    if (r === Denied.Ok) return null;
    this.addLog(c, r, c.multi !== null ? 'multi' : 'toplevel', null, r === Denied.Cmd ? cmd.fullname : argv[out.pos]);
    return 'NOPERM ' + aclErrorMessage(r, c.aclUser, cmd, argv[out.pos], false);
  }

  // Log ---------------------------------------------------------------------

  addLog(c: Client, reason: Denied, context: LogContext, username: string | null, object: string): void {
    if (reason === Denied.Auth) this.stats.authFailures++;
    else if (reason === Denied.Cmd) this.stats.cmd++;
    else if (reason === Denied.Key) this.stats.key++;
    else this.stats.channel++;
    const max = this.server.config.num('acllog-max-len');
    if (max === 0) {
      this.log.length = 0;
      return;
    }
    const now = Date.now();
    const uname = username ?? c.aclUser.name;
    const cinfo = c.describe();
    const n = Math.min(10, this.log.length);
    for (let i = 0; i < n; i++) {
      const e = this.log[i];
      if (e.reason === reason && e.context === context && Math.abs(e.ctime - now) <= LOG_GROUPING_MS && e.object === object && e.username === uname) {
        e.cinfo = cinfo;
        e.ctime = now;
        e.count++;
        this.log.splice(i, 1);
        this.log.unshift(e);
        return;
      }
    }
    this.log.unshift({ count: 1, reason, context, object, username: uname, ctime: now, cinfo, entryId: this.logCount++, created: now });
    if (this.log.length > max) this.log.length = max;
  }

  resetLog(): void {
    this.log.length = 0;
  }

  // SETUSER / DELUSER -------------------------------------------------------------

  /** ACL SETUSER: all rules or none. Returns an error message (without "ERR ") or null. */
  setUser(username: string, rules: string[], current: Client | null): string | null {
    const merged = mergeSelectorArgs(rules);
    if (typeof merged === 'number') return `Unmatched parenthesis in acl selector starting at '${rules[merged]}'.`;
    const old = this.users.get(username);
    const pubsubAll = this.pubsubAll;
    const temp = newUser(username, pubsubAll);
    if (old !== undefined) copyUserInto(temp, old);
    for (const r of merged) {
      try {
        setUserRule(temp, r, pubsubAll);
      } catch (e) {
        if (e instanceof RuleError) return `Error in ACL SETUSER modifier '${r}': ${e.message}`;
        throw e;
      }
    }
    refreshFlags(temp);
    if (old !== undefined) {
      this.killPubsubClientsIfNeeded(temp, old, current);
      copyUserInto(old, temp);
      if (old === this.defaultUser) this.refresh();
    } else {
      this.users.set(username, temp);
    }
    return null;
  }

  /** Clients of `u` go back to the unauthenticated default user and are closed (after this reply for `current`). */
  killClientsOf(u: AclUser, current: Client | null): void {
    for (const c of [...this.server.clients.values()]) if (c.aclUser === u) this.deauthAndClose(c, current);
  }

  deleteUser(name: string, current: Client | null): boolean {
    const u = this.users.get(name);
    if (u === undefined) return false;
    this.users.delete(name);
    this.killClientsOf(u, current);
    return true;
  }

  private hasSubscribers(): boolean {
    const ps = this.server.pubsub;
    return ps.channels.size !== 0 || ps.patterns.size !== 0 || ps.shardChannels.size !== 0;
  }

  /** Subscribers of `old` whose channels or patterns the new rules no longer allow are disconnected. */
  private killPubsubClientsIfNeeded(next: AclUser, old: AclUser, current: Client | null): void {
    if (!this.hasSubscribers()) return;
    const upcoming = upcomingChannels(next, old);
    if (upcoming === null) return;
    for (const c of [...this.server.clients.values()]) {
      if (c.aclUser === old && shouldKillPubsub(c, upcoming)) this.deauthAndClose(c, current);
    }
  }

  /** Valkey's deauthenticateAndCloseClient: back to the unauthenticated default user, then closed. */
  private deauthAndClose(c: Client, current: Client | null): void {
    c.aclUser = this.defaultUser;
    c.user = this.defaultUser.name;
    c.setAuthenticated(false);
    if (c === current) c.closeAfterReply = true;
    else c.closeNow();
  }

  // Start-up, ACL LOAD / SAVE --------------------------------------------------------

  /**
   * Loads `user` directives (each an argv without the word "user") like
   * ACLLoadConfiguredUsers. Returns an error message or null.
   */
  loadConfiguredUsers(lines: string[][]): string | null {
    const seen = new Set<string>();
    const pubsubAll = this.pubsubAll;
    for (const args of lines) {
      if (args.length < 1) return 'Error in user declaration: missing username';
      const name = args[0];
      if (seen.has(name)) return `Error in user declaration '${name}': Duplicate user found. A user can only be defined once in config files`;
      seen.add(name);
      if (hasSpaces(name)) return 'Spaces not allowed in ACL usernames';
      const merged = mergeSelectorArgs(args.slice(1));
      if (typeof merged === 'number') return `Error in user declaration '${name}': Unmatched parenthesis in acl selector starting at '${args[merged + 1]}'.`;
      let u = this.users.get(name);
      if (u === undefined) {
        u = newUser(name, pubsubAll);
        this.users.set(name, u);
      } else setUserRule(u, 'reset', pubsubAll);
      for (const r of merged) {
        try {
          setUserRule(u, r, pubsubAll);
        } catch (e) {
          if (e instanceof RuleError) return `Error loading ACL rule '${r}' for the user named '${name}': ${e.message}`;
          throw e;
        }
      }
      refreshFlags(u);
      if (!u.enabled) {
        this.server.log.notice(
          `The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`,
        );
      }
    }
    this.refresh();
    return null;
  }

  /** ACLLoadFromFile: all or nothing. Returns null, or the errors in one line. */
  loadFile(file: string, current: Client | null): string | null {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (e) {
      return `Error loading ACLs, opening file '${file}': ${errnoText(e)}`;
    }
    const pubsubAll = this.pubsubAll;
    const fresh = new Map<string, AclUser>();
    let errors = '';
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      const lineNo = i + 1;
      if (line === '') continue;
      const argv = line.split(' ');
      if (argv[0] !== 'user' || argv.length < 2) {
        errors += `${file}:${lineNo} should start with user keyword followed by the username. `;
        continue;
      }
      const name = argv[1];
      if (hasSpaces(name)) {
        errors += `'${file}:${lineNo}: username '${name}' contains invalid characters. `;
        continue;
      }
      if (fresh.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${lineNo}. `;
        continue;
      }
      const u = newUser(name, pubsubAll);
      fresh.set(name, u);
      const merged = mergeSelectorArgs(argv.slice(2));
      if (typeof merged === 'number') {
        errors += `${file}:${lineNo}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      let syntaxError = false;
      for (const raw of merged) {
        const r = raw.replace(/^[\t\r\n]+|[\t\r\n]+$/g, '');
        try {
          setUserRule(u, r, pubsubAll);
        } catch (e) {
          if (!(e instanceof RuleError)) throw e;
          if (e.message === E_ENOENT) errors += `${file}:${lineNo}: Error in applying operation '${r}': ${e.message}. `;
          else if (!syntaxError) {
            errors += `${file}:${lineNo}: ${e.message}. `;
            syntaxError = true;
          }
        }
      }
      refreshFlags(u);
    }
    if (errors !== '') return errors + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed';
    // The default user object stays (clients point at it); the others are replaced.
    let nd = fresh.get('default');
    if (nd === undefined) nd = this.createDefaultUser();
    copyUserInto(this.defaultUser, nd);
    fresh.set('default', this.defaultUser);
    this.users = fresh;
    // Clients of users that still exist move to the new definition; those of
    // deleted users, and subscribers to channels no longer allowed, are closed.
    const upcoming = new Map<string, string[] | null>();
    const subscribers = this.hasSubscribers();
    for (const c of [...this.server.clients.values()]) {
      const original = c.aclUser;
      const next = fresh.get(original.name);
      let chans: string[] | null = null;
      if (next !== undefined && subscribers) {
        if (!upcoming.has(next.name)) upcoming.set(next.name, upcomingChannels(next, original));
        chans = upcoming.get(next.name)!;
      }
      if (next === undefined || (chans !== null && shouldKillPubsub(c, chans))) {
        this.deauthAndClose(c, current);
        continue;
      }
      c.aclUser = next;
    }
    this.refresh();
    return null;
  }

  /** ACLSaveToFile; throws on I/O errors (logged by the caller). */
  saveFile(file: string): void {
    let text = '';
    for (const u of this.sortedUsers()) text += `user ${u.name} ${describeUser(u)}\n`;
    writeFileAtomic(file, text);
  }

  /** Start-up: `user` directives or the aclfile (not both). Returns an error message or null. */
  loadAtStartup(userLines: string[][]): string | null {
    const file = this.server.config.get('aclfile');
    if (file !== '' && userLines.length !== 0) {
      return 'Configuring Valkey with users defined in valkey.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your valkey.conf, but not both.';
    }
    const e = this.loadConfiguredUsers(userLines);
    if (e !== null) return `${e}\nCritical error while loading ACLs. Exiting.`;
    if (file !== '') {
      const err = this.loadFile(file, null);
      if (err !== null) return `Aborting Valkey startup because of ACL errors: ${err}`;
    }
    return null;
  }
}

/**
 * The channel patterns `next` allows, or null when they include everything
 * `old` allowed (nobody needs to be disconnected); Valkey's getUpcomingChannelList.
 */
function upcomingChannels(next: AclUser, old: AclUser): string[] | null {
  for (const s of next.selectors) if (s.allChannels) return null;
  const upcoming: string[] = [];
  for (const s of next.selectors) upcoming.push(...s.channels);
  for (const s of old.selectors) {
    if (s.allChannels) return upcoming;
    for (const ch of s.channels) if (!upcoming.includes(ch)) return upcoming;
  }
  return null;
}

/** A Pub/Sub client subscribed to a channel or pattern that `upcoming` does not allow. */
function shouldKillPubsub(c: Client, upcoming: string[]): boolean {
  const subs = c.subs;
  if (subs === null || !c.subscribed) return false;
  for (const p of subs.patterns) if (!channelAllowed(upcoming, p, true)) return true;
  for (const ch of subs.channels) if (!channelAllowed(upcoming, ch, false)) return true;
  for (const ch of subs.shard) if (!channelAllowed(upcoming, ch, false)) return true;
  return false;
}

function errnoText(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    default:
      return (e as Error).message;
  }
}

// ------------------------------------------------------------------ API for other modules

/**
 * The ACL check for a command a client (or a script on its behalf) is about to
 * run: null when allowed, else the message Valkey puts after "-NOPERM "
 * (non-verbose form). When `context` is given the denial is logged in ACL LOG
 * with it (scripts pass 'lua'); redis.acl_check_cmd passes null to only ask.
 */
export function aclCheck(c: Client, cmd: Command, argv: string[], context: LogContext | null = null): string | null {
  const u = c.aclUser;
  if (u.unrestricted) return null;
  const out = { pos: 0 };
  const r = checkUserCommand(u, cmd, argv, out);
  if (r === Denied.Ok) return null;
  if (context !== null) c.server.acl.addLog(c, r, context, null, r === Denied.Cmd ? cmd.fullname : argv[out.pos]);
  return aclErrorMessage(r, u, cmd, argv[out.pos], false);
}

const EXEC_REASONS: Record<number, string> = {
  [Denied.Cmd]: 'no permission to execute the command or subcommand',
  [Denied.Key]: 'no permission to touch the specified keys',
  [Denied.Channel]: 'no permission to access one of the channels used as arguments',
};

/**
 * EXEC's re-check of each queued command (rules may have changed since it was
 * queued): null when allowed, else the NOPERM error to reply in its place,
 * after logging the denial with context "multi". Call it only when
 * `!c.aclUser.unrestricted`.
 */
export function aclExecDenied(c: Client, cmd: Command, argv: string[]): string | null {
  const out = { pos: 0 };
  const r = checkUserCommand(c.aclUser, cmd, argv, out);
  if (r === Denied.Ok) return null;
  c.server.acl.addLog(c, r, 'multi', null, r === Denied.Cmd ? cmd.fullname : argv[out.pos]);
  return (
    'NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. ' +
    `This command is no longer allowed for the following reason: ${EXEC_REASONS[r] ?? 'no permission'}`
  );
}

// ------------------------------------------------------------------ helpers for the ACL command

export function genpassHex(chars: number): string {
  return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
}

/** Every command and subcommand name in a category (ACL CAT <category>); null for an unknown category. */
export function commandsInCategory(cat: string): string[] | null {
  const bit = CAT_BIT.get(cat.toLowerCase());
  if (bit === undefined) return null;
  const out: string[] = [];
  for (const c of universe().all) if ((c.cats & bit) !== 0) out.push(c.fullname);
  return out;
}

export interface SelectorView {
  commands: string;
  keys: string;
  channels: string;
}

export function selectorView(s: Selector): SelectorView {
  return {
    commands: describeCommands(s),
    keys: s.allKeys ? '~*' : s.patterns.map(patternString).join(' '),
    channels: s.allChannels ? '&*' : s.channels.map((c) => '&' + c).join(' '),
  };
}

export { userFlags };
