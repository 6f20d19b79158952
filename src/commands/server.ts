// Server commands: COMMAND (INFO, DOCS, LIST, COUNT, GETKEYS, GETKEYSANDFLAGS),
// CONFIG (GET, SET, RESETSTAT, REWRITE), INFO, TIME, LOLWUT, SHUTDOWN, DEBUG
// and MONITOR.
//
// Arity and "unknown subcommand" errors come from the dispatcher; handlers
// answer everything else with Valkey 8's exact replies.
import { performance } from 'node:perf_hooks';
import {
  type HandlerMap,
  type Command,
  type KeySpec,
  type ArgMeta,
  CMD,
  keyFlagNames,
  commandHasKeys,
  getCommandKeys,
} from './table.js';
import type { Client } from '../server/client.js';
import { VIREO_VERSION } from '../server/server.js';
import { DIRECTIVES, DIRECTIVE_BY_NAME, normalize, type Directive } from '../config/schema.js';
import { ConfigError, errText, rewriteConfigFile } from '../config/config.js';
import { globMatch } from '../util/glob.js';
import { genInfo, selectSections } from './info.js';
import { E_NOT_INT, E_SYNTAX } from './errors.js';
import { debugPersistence, DEBUG_PERSISTENCE_HELP } from './persistence.js';
import { dirSetting, processDirOwned } from '../persistence/paths.js';

// ------------------------------------------------------------------ helpers

/** A HELP reply in Valkey's shape: header line, entries, then HELP itself, as simple strings. */
function replyHelp(c: Client, command: string, lines: readonly string[]): void {
  c.addArrayLen(lines.length + 3);
  c.addSimple(`${command.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.addSimple(l);
  c.addSimple('HELP');
  c.addSimple('    Print this help text.');
}

/** True for connections from the same host (loopback or a unix socket), or internal ones. */
function isLocalClient(c: Client): boolean {
  const s = c.socket;
  if (s === null) return true;
  const a = s.remoteAddress;
  if (a === undefined) return true; // unix socket
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
}

/** Valkey's allowProtectedAction: a setting of "yes", or "local" and a local client. */
function allowProtected(c: Client, setting: string): boolean {
  const v = c.server.config.get(setting);
  return v === 'yes' || (v === 'local' && isLocalClient(c));
}

/** C's atoi: optional blanks and sign, then digits up to the first non-digit; 0 when none. */
function atoi(s: string): number {
  const m = /^[ \t\n\r\f\v]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

// ------------------------------------------------------------------ COMMAND

/** Our own short descriptions for a few commands (COMMAND DOCS "summary"); the others have none. */
const SUMMARIES: Record<string, string> = {
  command: 'Describes the commands this server implements.',
  'command|count': 'Counts the commands this server implements.',
  'command|docs': 'Documentation facts (version, group, arguments) about commands.',
  'command|getkeys': 'Finds the key names in a full command line.',
  'command|getkeysandflags': 'Finds the key names in a full command line, with their access flags.',
  'command|help': 'Lists the COMMAND subcommands.',
  'command|info': 'Arity, flags, key positions and ACL categories of commands.',
  'command|list': 'Names of the implemented commands, optionally filtered.',
  config: 'Reads and changes the server configuration.',
  'config|get': 'Values of the configuration directives that match patterns.',
  'config|help': 'Lists the CONFIG subcommands.',
  'config|resetstat': 'Zeroes the statistics INFO reports.',
  'config|rewrite': 'Writes the running configuration back to the config file.',
  'config|set': 'Changes configuration directives at run time, all or none.',
  info: 'Server state and statistics, by section.',
  time: 'The server clock: unix seconds and microseconds.',
  lolwut: 'A small piece of text art and the server version.',
  shutdown: 'Stops the server.',
  debug: 'Debugging helpers (disabled unless enable-debug-command allows them).',
  monitor: 'Streams every command the server runs to this connection.',
};

function addKeySpec(c: Client, ks: KeySpec): void {
  c.addMapLen(3);
  c.addBulk('flags');
  const flags = keyFlagNames(ks.flags);
  c.addSetLen(flags.length);
  for (const f of flags) c.addSimple(f);
  c.addBulk('begin_search');
  c.addMapLen(2);
  c.addBulk('type');
  const bs = ks.bs;
  c.addBulk(bs.type);
  c.addBulk('spec');
  if (bs.type === 'index') {
    c.addMapLen(1);
    c.addBulk('index');
    c.addInt(bs.pos);
  } else if (bs.type === 'keyword') {
    c.addMapLen(2);
    c.addBulk('keyword');
    c.addBulk(bs.keyword);
    c.addBulk('startfrom');
    c.addInt(bs.startfrom);
  } else c.addMapLen(0);
  c.addBulk('find_keys');
  c.addMapLen(2);
  c.addBulk('type');
  const fk = ks.fk;
  c.addBulk(fk.type);
  c.addBulk('spec');
  if (fk.type === 'range') {
    c.addMapLen(3);
    c.addBulk('lastkey');
    c.addInt(fk.lastkey);
    c.addBulk('keystep');
    c.addInt(fk.step);
    c.addBulk('limit');
    c.addInt(fk.limit);
  } else if (fk.type === 'keynum') {
    c.addMapLen(3);
    c.addBulk('keynumidx');
    c.addInt(fk.keynumidx);
    c.addBulk('firstkey');
    c.addInt(fk.firstkey);
    c.addBulk('keystep');
    c.addInt(fk.step);
  } else c.addMapLen(0);
}

/** One COMMAND INFO entry: name, arity, flags, first/last/step, ACL categories, tips, key specs, subcommands. */
function addCommandInfo(c: Client, cmd: Command | undefined): void {
  if (cmd === undefined) {
    c.addNull();
    return;
  }
  c.addArrayLen(10);
  c.addBulk(cmd.fullname);
  c.addInt(cmd.arity);
  c.addSetLen(cmd.flagNames.length);
  for (const f of cmd.flagNames) c.addSimple(f);
  c.addInt(cmd.firstKey);
  c.addInt(cmd.lastKey);
  c.addInt(cmd.keyStep);
  c.addSetLen(cmd.acl.length);
  for (const a of cmd.acl) c.addSimple('@' + a);
  const tips = cmd.meta.tips;
  c.addSetLen(tips.length);
  for (const t of tips) c.addBulk(t);
  c.addSetLen(cmd.keySpecs.length);
  for (const ks of cmd.keySpecs) addKeySpec(c, ks);
  const subs = cmd.subcommands;
  if (subs === null || subs.size === 0) c.addSetLen(0);
  else {
    c.addArrayLen(subs.size);
    for (const s of subs.values()) addCommandInfo(c, s);
  }
}

function addArgs(c: Client, args: ArgMeta[]): void {
  c.addArrayLen(args.length);
  for (const a of args) {
    const nested = a.type === 'oneof' || a.type === 'block';
    const flags: string[] = [];
    if (a.optional) flags.push('optional');
    if (a.multiple) flags.push('multiple');
    if (a.multiple_token) flags.push('multiple_token');
    let n = 2;
    if (a.key_spec_index !== undefined) n++;
    if (a.token !== undefined) n++;
    if (a.since !== undefined) n++;
    if (a.deprecated_since !== undefined) n++;
    if (flags.length > 0) n++;
    n++; // arguments (nested) or display_text (plain)
    c.addMapLen(n);
    c.addBulk('name');
    c.addBulk(a.name);
    c.addBulk('type');
    c.addBulk(a.type);
    if (a.key_spec_index !== undefined) {
      c.addBulk('key_spec_index');
      c.addInt(a.key_spec_index);
    }
    if (a.token !== undefined) {
      c.addBulk('token');
      c.addBulk(a.token);
    }
    if (a.since !== undefined) {
      c.addBulk('since');
      c.addBulk(a.since);
    }
    if (a.deprecated_since !== undefined) {
      c.addBulk('deprecated_since');
      c.addBulk(a.deprecated_since);
    }
    if (flags.length > 0) {
      c.addBulk('flags');
      c.addSetLen(flags.length);
      for (const f of flags) c.addSimple(f);
    }
    if (nested) {
      c.addBulk('arguments');
      addArgs(c, a.arguments ?? []);
    } else {
      c.addBulk('display_text');
      c.addBulk(a.display ?? a.name);
    }
  }
}

/** One COMMAND DOCS value: facts from the metadata, our own summary for a few commands. */
function addCommandDocs(c: Client, cmd: Command): void {
  const m = cmd.meta;
  const summary = SUMMARIES[cmd.fullname];
  const subs = cmd.subcommands !== null && cmd.subcommands.size > 0 ? cmd.subcommands : null;
  let n = 1; // group
  if (summary !== undefined) n++;
  if (m.since) n++;
  if (m.complexity) n++;
  if (m.docFlags && m.docFlags.length > 0) n++;
  if (m.deprecatedSince) n++;
  if (m.replacedBy) n++;
  if (m.args && m.args.length > 0) n++;
  if (subs) n++;
  c.addMapLen(n);
  if (summary !== undefined) {
    c.addBulk('summary');
    c.addBulk(summary);
  }
  if (m.since) {
    c.addBulk('since');
    c.addBulk(m.since);
  }
  c.addBulk('group');
  c.addBulk(m.group === 'sorted_set' ? 'sorted-set' : m.group);
  if (m.complexity) {
    c.addBulk('complexity');
    c.addBulk(m.complexity);
  }
  if (m.docFlags && m.docFlags.length > 0) {
    c.addBulk('doc_flags');
    c.addSetLen(m.docFlags.length);
    for (const f of m.docFlags) c.addSimple(f);
  }
  if (m.deprecatedSince) {
    c.addBulk('deprecated_since');
    c.addBulk(m.deprecatedSince);
  }
  if (m.replacedBy) {
    c.addBulk('replaced_by');
    c.addBulk(m.replacedBy);
  }
  if (m.args && m.args.length > 0) {
    c.addBulk('arguments');
    addArgs(c, m.args);
  }
  if (subs) {
    c.addBulk('subcommands');
    c.addMapLen(subs.size);
    for (const s of subs.values()) {
      c.addBulk(s.fullname);
      addCommandDocs(c, s);
    }
  }
}

function command(c: Client): void {
  const all = c.server.table.all;
  c.addArrayLen(all.length);
  for (const cmd of all) addCommandInfo(c, cmd);
}

function commandCount(c: Client): void {
  c.addInt(c.server.table.all.length);
}

function commandInfo(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    command(c);
    return;
  }
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) addCommandInfo(c, c.server.table.lookupFull(argv[i]));
}

function commandDocs(c: Client, argv: string[]): void {
  const table = c.server.table;
  const found: Command[] = [];
  if (argv.length === 2) found.push(...table.all);
  else {
    for (let i = 2; i < argv.length; i++) {
      const cmd = table.lookupFull(argv[i]);
      if (cmd !== undefined) found.push(cmd);
    }
  }
  c.addMapLen(found.length);
  for (const cmd of found) {
    c.addBulk(cmd.fullname);
    addCommandDocs(c, cmd);
  }
}

function commandList(c: Client, argv: string[]): void {
  let keep: (cmd: Command) => boolean = () => true;
  if (argv.length === 5 && argv[2].toLowerCase() === 'filterby') {
    const arg = argv[4];
    switch (argv[3].toLowerCase()) {
      case 'module':
        keep = () => false; // no modules
        break;
      case 'aclcat': {
        const cat = arg.toLowerCase();
        keep = (cmd) => cmd.acl.includes(cat);
        break;
      }
      case 'pattern':
        keep = (cmd) => globMatch(arg, cmd.fullname, true);
        break;
      default:
        c.addError(E_SYNTAX);
        return;
    }
  } else if (argv.length !== 2) {
    c.addError(E_SYNTAX);
    return;
  }
  const names: string[] = [];
  for (const cmd of c.server.table.allWithSubs()) if (keep(cmd)) names.push(cmd.fullname);
  c.addBulkArray(names);
}

function getKeysCommon(c: Client, argv: string[], withFlags: boolean): void {
  const line = argv.slice(2);
  let cmd = c.server.table.lookup(line[0]);
  if (cmd !== undefined && cmd.subcommands !== null && line.length >= 2) cmd = cmd.subcommands.get(line[1].toLowerCase());
  if (cmd === undefined) {
    c.addError('ERR Invalid command specified');
    return;
  }
  if (!commandHasKeys(cmd)) {
    c.addError('ERR The command has no key arguments');
    return;
  }
  if ((cmd.arity > 0 && cmd.arity !== line.length) || line.length < -cmd.arity) {
    c.addError('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = getCommandKeys(cmd, line);
  if (keys.length === 0) {
    if ((cmd.flags & CMD.NO_MANDATORY_KEYS) !== 0) c.addArrayLen(0);
    else c.addError('ERR Invalid arguments specified for command');
    return;
  }
  c.addArrayLen(keys.length);
  for (const k of keys) {
    if (!withFlags) {
      c.addBulk(line[k.pos]);
      continue;
    }
    c.addArrayLen(2);
    c.addBulk(line[k.pos]);
    c.addSetLen(k.flags.length);
    for (const f of k.flags) c.addSimple(f);
  }
}

const COMMAND_HELP = [
  '(no subcommand)',
  '    Details of every command this server implements.',
  'COUNT',
  '    Number of commands this server implements.',
  'LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]',
  '    Names of the implemented commands and subcommands, optionally filtered.',
  'INFO [<command-name> ...]',
  '    Details of the named commands, or of all commands when none is named.',
  'DOCS [<command-name> ...]',
  '    Documentation facts about the named commands, or about all commands when',
  '    none is named.',
  'GETKEYS <full-command>',
  '    The key names in a complete command line.',
  'GETKEYSANDFLAGS <full-command>',
  '    The key names in a complete command line, each with its access flags.',
];

// ------------------------------------------------------------------ CONFIG

function configGet(c: Client, argv: string[]): void {
  const cfg = c.server.config;
  // Shown name -> directive; names given without wildcards are echoed as typed.
  const matches = new Map<string, { shown: string; d: Directive }>();
  for (let i = 2; i < argv.length; i++) {
    const p = argv[i];
    if (!/[[*?]/.test(p)) {
      const d = DIRECTIVE_BY_NAME.get(p.toLowerCase());
      if (d !== undefined && !matches.has(p.toLowerCase())) matches.set(p.toLowerCase(), { shown: p, d });
      continue;
    }
    for (const d of DIRECTIVES) {
      if (d.hidden || matches.has(d.name)) continue;
      if (globMatch(p, d.name, true)) matches.set(d.name, { shown: d.name, d });
    }
  }
  c.addMapLen(matches.size);
  for (const { shown, d } of matches.values()) {
    c.addBulk(shown);
    c.addBulk(cfg.show(d));
  }
}

/** Directives whose change needs the TCP listeners bound again. */
const LISTENER_DIRECTIVES = new Set(['port', 'bind', 'tls-port']);

/**
 * CONFIG SET name value [name value ...]: all or nothing. Every name is checked
 * first (unknown, immutable, protected, repeated), then every value; only then
 * are values stored. Changing port or bind binds the listeners again, which
 * takes an event-loop turn: the client waits for it (its next commands too),
 * and if binding fails every value goes back to what it was.
 */
function configSet(c: Client, argv: string[]): void {
  if ((argv.length & 1) !== 0) {
    c.addError(E_SYNTAX);
    return;
  }
  const server = c.server;
  const cfg = server.config;
  const items: { d: Directive; typed: string; value: string }[] = [];
  const seen = new Set<Directive>();
  for (let i = 2; i < argv.length; i += 2) {
    const typed = argv[i];
    const d = DIRECTIVE_BY_NAME.get(typed.toLowerCase());
    if (d === undefined) {
      c.addError(`ERR Unknown option or number of arguments for CONFIG SET - '${typed}'`);
      return;
    }
    if (!d.mutable) {
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${typed}') - can't set immutable config`);
      return;
    }
    if (d.protected && !allowProtected(c, 'enable-protected-configs')) {
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${typed}') - can't set protected config`);
      return;
    }
    if (seen.has(d)) {
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${typed}') - duplicate parameter`);
      return;
    }
    seen.add(d);
    items.push({ d, typed, value: d.name === 'dir' ? dirSetting(server, argv[i + 1]) : argv[i + 1] });
  }
  const changes: { d: Directive; old: string; value: string }[] = [];
  for (const it of items) {
    const r = normalize(it.d, [it.value], cfg.get(it.d.name));
    if ('error' in r) {
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${it.d.name}') - ${r.error}`);
      return;
    }
    changes.push({ d: it.d, old: cfg.get(it.d.name), value: r.value });
  }
  const oldCwd = process.cwd();
  const restore = () => {
    for (const ch of changes) cfg.setValue(ch.d, ch.old);
    try {
      process.chdir(oldCwd);
    } catch {
      /* it was there a moment ago */
    }
  };
  for (const ch of changes) {
    cfg.setValue(ch.d, ch.value);
    if (ch.d.name === 'dir' && ch.value !== '' && processDirOwned()) {
      try {
        process.chdir(ch.value);
      } catch (e) {
        restore();
        c.addError(`ERR CONFIG SET failed (possibly related to argument 'dir') - ${errText(e)}`);
        return;
      }
    }
  }
  for (const ch of changes) {
    if (ch.d.apply === undefined || ch.old === ch.value) continue;
    const reason = ch.d.apply(server);
    if (reason !== null) {
      restore();
      ch.d.apply(server);
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${ch.d.name}') - ${reason}`);
      return;
    }
  }
  const listener = changes.find((ch) => LISTENER_DIRECTIVES.has(ch.d.name) && ch.old !== ch.value);
  if (listener === undefined) {
    c.addOK();
    return;
  }
  const failure =
    listener.d.name !== 'bind'
      ? `ERR CONFIG SET failed (possibly related to argument '${listener.d.name}') - Unable to listen on this port. Check server logs.`
      : "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.";
  waitFor(c, async () => {
    const err = await server.rebindListeners();
    if (err === null) return null;
    restore();
    const again = await server.rebindListeners();
    if (again !== null) server.log.warning(`Failed to restore the listeners after a failed CONFIG SET: ${again}`);
    return failure;
  });
}

/**
 * Makes a client wait for asynchronous work before its reply (an error
 * message, or OK for null) and before its next commands run, the way a blocked
 * client waits in Valkey.
 */
function waitFor(c: Client, work: () => Promise<string | null>): void {
  c.postponed = [];
  const finish = (err: string | null) => {
    c.postponed = null;
    if (c.closed) return;
    if (err === null) c.addOK();
    else c.addError(err);
    c.processInput();
    c.flush();
    c.server.flushPending();
  };
  work().then(finish, (e: Error) => finish(`ERR ${e.message}`));
}

function configResetStat(c: Client): void {
  c.server.resetStats();
  c.addOK();
}

function configRewrite(c: Client): void {
  try {
    rewriteConfigFile(c.server.config);
  } catch (e) {
    if (e instanceof ConfigError) c.addError(`ERR ${e.message}`);
    else {
      c.server.log.warning(`CONFIG REWRITE failed: ${errText(e)}`);
      c.addError(`ERR Rewriting config file: ${errText(e)}`);
    }
    return;
  }
  c.server.log.notice('CONFIG REWRITE executed with success.');
  c.addOK();
}

const CONFIG_HELP = [
  'GET <pattern>',
  '    Directives whose names match the glob-style <pattern>, with their values.',
  'SET <directive> <value>',
  '    Change <directive> to <value>; several pairs change together or not at all.',
  'RESETSTAT',
  '    Zero the statistics that INFO reports.',
  'REWRITE',
  '    Write the running configuration back to the config file.',
];

// ------------------------------------------------------------------ INFO, TIME, LOLWUT

function info(c: Client, argv: string[]): void {
  c.addVerbatim(genInfo(c.server, selectSections(argv.slice(1))));
}

function time(c: Client): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.addArrayLen(2);
  c.addBulk(String(Math.floor(us / 1e6)));
  c.addBulk(String(us % 1e6));
}

/**
 * LOLWUT [VERSION v] [width]: a vireo on a branch, drawn as many times as fits
 * the width (default 40 columns), then the version line.
 */
function lolwut(c: Client, argv: string[]): void {
  let args = argv.slice(1);
  if (args.length >= 2 && args[0].toLowerCase() === 'version') {
    if (!/^-?\d+$/.test(args[1])) {
      c.addError(E_NOT_INT);
      return;
    }
    args = args.slice(2);
  }
  let width = 40;
  if (args.length > 0) {
    if (!/^-?\d+$/.test(args[0])) {
      c.addError(E_NOT_INT);
      return;
    }
    width = Math.min(1000, Math.max(12, Number(args[0])));
  }
  const bird = ['   __     ', '  /o \\__  ', ' (   <_>  ', '  \\_/)    ', '===="====='];
  const n = Math.max(1, Math.floor(width / 10));
  let art = '';
  for (const row of bird) art += row.repeat(n).replace(/\s+$/, '') + '\n';
  c.addVerbatim(`${art}\nVireo ver. ${VIREO_VERSION}\n`);
}

// ------------------------------------------------------------------ SHUTDOWN

function shutdown(c: Client, argv: string[]): void {
  let nosave = false;
  let save = false;
  let now = false;
  let force = false;
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    switch (argv[i].toLowerCase()) {
      case 'nosave':
        nosave = true;
        break;
      case 'save':
        save = true;
        break;
      case 'now':
        now = true;
        break;
      case 'force':
        force = true;
        break;
      case 'abort':
        abort = true;
        break;
      default:
        c.addError(E_SYNTAX);
        return;
    }
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save)) {
    c.addError(E_SYNTAX);
    return;
  }
  const server = c.server;
  if (abort) {
    // Shutting down never waits (no replicas to catch up), so there is nothing to abort.
    c.addError('ERR No shutdown in progress.');
    return;
  }
  // RDB: SAVE, or save points configured and no NOSAVE (src/persistence/manager.ts).
  if (!server.rdb.shutdownSave(save, nosave)) {
    server.log.warning('Error trying to save the DB, can\'t exit.');
    if (!force) {
      c.addError('ERR Errors trying to SHUTDOWN. Check logs.');
      return;
    }
    server.log.warning('Errors trying to shut down the server. Exit anyway (FORCE).');
  }
  if (server.onShutdown !== null) server.onShutdown();
  else {
    server.log.warning('User requested shutdown...');
    void server.close();
  }
}

// ------------------------------------------------------------------ DEBUG

const DEBUG_HELP = [
  'SLEEP <seconds>',
  '    Stop the server for <seconds> (may be fractional); nothing else runs meanwhile.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Turn the active expiry of keys in the background off (0) or on (1).',
  ...DEBUG_PERSISTENCE_HELP,
];

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function debug(c: Client, argv: string[]): void {
  if (!allowProtected(c, 'enable-debug-command')) {
    c.addError(
      'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
    );
    return;
  }
  const sub = argv[1].toLowerCase();
  if (sub === 'help' && argv.length === 2) {
    replyHelp(c, 'DEBUG', DEBUG_HELP);
    return;
  }
  if (sub === 'sleep' && argv.length === 3) {
    const secs = parseFloat(argv[2]);
    const ms = Number.isFinite(secs) ? secs * 1000 : 0;
    // Blocks the whole event loop, as DEBUG SLEEP blocks Valkey's main thread.
    if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
    c.addOK();
    return;
  }
  if (sub === 'set-active-expire' && argv.length === 3) {
    c.server.activeExpireEnabled = atoi(argv[2]) !== 0;
    c.addOK();
    return;
  }
  if (debugPersistence(c, sub, argv)) return;
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try DEBUG HELP.`);
}

// ------------------------------------------------------------------ MONITOR

/**
 * MONITOR: from now on this connection receives every command the server runs
 * (server.feedMonitors). Asking again while monitoring does nothing, not even a
 * reply, as in Valkey; RESET or QUIT end it.
 */
function monitor(c: Client): void {
  // Inside EXEC (and scripts) the client expects one reply per command.
  if (c.denyBlocking) {
    c.addError("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  if (c.monitor) return;
  c.monitor = true;
  c.server.monitors.add(c);
  c.addOK();
}

export const commands: HandlerMap = {
  command,
  'command|count': commandCount,
  'command|info': commandInfo,
  'command|docs': commandDocs,
  'command|list': commandList,
  'command|getkeys': (c, argv) => getKeysCommon(c, argv, false),
  'command|getkeysandflags': (c, argv) => getKeysCommon(c, argv, true),
  'command|help': (c) => replyHelp(c, 'COMMAND', COMMAND_HELP),
  'config|get': configGet,
  'config|set': configSet,
  'config|resetstat': configResetStat,
  'config|rewrite': configRewrite,
  'config|help': (c) => replyHelp(c, 'CONFIG', CONFIG_HELP),
  info,
  time,
  lolwut,
  shutdown,
  debug,
  monitor,
};
