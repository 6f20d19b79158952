// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT *, FUNCTION *,
// FCALL, FCALL_RO. The machinery (VM, conversions, busy scripts) is in
// src/scripting/.
import type { Client } from '../server/client.js';
import type { HandlerMap } from './table.js';
import { scriptingOf, sha1hex, type Library } from '../scripting/index.js';
import { globMatch } from '../util/glob.js';
import { RdbEncoder } from '../persistence/rdb/encoder.js';
import { RdbReader } from '../persistence/rdb/decoder.js';
import { crc64 } from '../persistence/rdb/crc64.js';
import { RDB_VERSION, RDB_MAX_READ_VERSION, Op } from '../persistence/rdb/format.js';

// The scripting commands are skip_monitor: each shows itself to MONITOR clients before
// its script runs (even when it then fails, e.g. NOSCRIPT), so the script's commands follow it.
function evalCmd(c: Client, argv: string[]): void {
  if (c.server.monitors.size !== 0) c.server.feedMonitors(c, 'eval', argv);
  scriptingOf(c.server).evalCommand(c, argv, false, false);
}
function evalsha(c: Client, argv: string[]): void {
  if (c.server.monitors.size !== 0) c.server.feedMonitors(c, 'evalsha', argv);
  scriptingOf(c.server).evalCommand(c, argv, true, false);
}
function evalRo(c: Client, argv: string[]): void {
  if (c.server.monitors.size !== 0) c.server.feedMonitors(c, 'eval_ro', argv);
  scriptingOf(c.server).evalCommand(c, argv, false, true);
}
function evalshaRo(c: Client, argv: string[]): void {
  if (c.server.monitors.size !== 0) c.server.feedMonitors(c, 'evalsha_ro', argv);
  scriptingOf(c.server).evalCommand(c, argv, true, true);
}
function fcall(c: Client, argv: string[]): void {
  if (c.server.monitors.size !== 0) c.server.feedMonitors(c, 'fcall', argv);
  scriptingOf(c.server).fcallCommand(c, argv, false);
}
function fcallRo(c: Client, argv: string[]): void {
  if (c.server.monitors.size !== 0) c.server.feedMonitors(c, 'fcall_ro', argv);
  scriptingOf(c.server).fcallCommand(c, argv, true);
}

// ------------------------------------------------------------------ SCRIPT

function scriptLoad(c: Client, argv: string[]): void {
  const s = scriptingOf(c.server).createScript(argv[2], false);
  if (typeof s === 'string') return c.addError(s);
  c.addBulk(s.sha);
}

function scriptExists(c: Client, argv: string[]): void {
  const scripts = scriptingOf(c.server).scripts;
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.addInt(scripts.has(argv[i].toLowerCase()) ? 1 : 0);
}

/** [ASYNC|SYNC] of SCRIPT FLUSH / FUNCTION FLUSH: true if fine. */
function flushMode(argv: string[]): boolean {
  if (argv.length === 2) return true;
  if (argv.length !== 3) return false;
  const m = argv[2].toLowerCase();
  return m === 'sync' || m === 'async';
}

function scriptFlush(c: Client, argv: string[]): void {
  if (!flushMode(argv)) return c.addError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
  scriptingOf(c.server).scriptFlush();
  c.addOK();
}

function scriptKill(c: Client): void {
  scriptingOf(c.server).kill(c, true);
}

function scriptShow(c: Client, argv: string[]): void {
  const s = scriptingOf(c.server).scripts.get(argv[2].toLowerCase());
  if (s === undefined) return c.addError('NOSCRIPT No matching script');
  c.addBulk(s.body);
}

function scriptHelp(c: Client): void {
  const lines = [
    'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'EXISTS <sha1> [<sha1> ...]',
    '    Return information about the existence of the scripts in the script cache.',
    'FLUSH [ASYNC|SYNC]',
    '    Flush the Lua scripts cache. Very dangerous on replicas.',
    '    When called without the optional mode argument, the behavior is determined by the',
    '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
    '    * ASYNC: Asynchronously flush the scripts cache.',
    '    * SYNC: Synchronously flush the scripts cache.',
    'KILL',
    '    Kill the currently executing Lua script.',
    'LOAD <script>',
    '    Load a script into the scripts cache without executing it.',
    'SHOW <sha1>',
    '    Show a script from the scripts cache.',
    'HELP',
    '    Print this help.',
  ];
  c.addArrayLen(lines.length);
  for (const l of lines) c.addSimple(l);
}

// ------------------------------------------------------------------ FUNCTION

function functionLoad(c: Client, argv: string[]): void {
  let replace = false;
  for (let i = 2; i < argv.length - 1; i++) {
    if (argv[i].toLowerCase() === 'replace') replace = true;
    else return c.addError(`ERR Unknown option given: ${argv[i]}`);
  }
  const r = scriptingOf(c.server).loadLibrary(argv[argv.length - 1], replace);
  if (typeof r !== 'string') return c.addError(r.err);
  c.server.dirty++;
  c.addBulk(r);
}

function functionDelete(c: Client, argv: string[]): void {
  if (!scriptingOf(c.server).deleteLibrary(argv[2])) return c.addError('ERR Library not found');
  c.server.dirty++;
  c.addOK();
}

function functionFlush(c: Client, argv: string[]): void {
  if (!flushMode(argv)) return c.addError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
  scriptingOf(c.server).flushFunctions();
  c.server.dirty++;
  c.addOK();
}

function functionKill(c: Client): void {
  scriptingOf(c.server).kill(c, false);
}

function functionList(c: Client, argv: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === 'withcode') withCode = true;
    else if (a === 'libraryname') {
      if (pattern !== null) return c.addError('ERR Unknown argument');
      if (i >= argv.length - 1) return c.addError('ERR library name argument was not given');
      pattern = argv[++i];
    } else return c.addError(`ERR Unknown argument ${argv[i]}`);
  }
  const libs: Library[] = [];
  for (const lib of scriptingOf(c.server).libraries.values()) {
    if (pattern === null || globMatch(pattern, lib.name)) libs.push(lib);
  }
  c.addArrayLen(libs.length);
  for (const lib of libs) {
    c.addMapLen(withCode ? 4 : 3);
    c.addBulk('library_name');
    c.addBulk(lib.name);
    c.addBulk('engine');
    c.addBulk('LUA');
    c.addBulk('functions');
    c.addArrayLen(lib.functions.size);
    for (const f of lib.functions.values()) {
      c.addMapLen(3);
      c.addBulk('name');
      c.addBulk(f.name);
      c.addBulk('description');
      if (f.desc === null) c.addNull();
      else c.addBulk(f.desc);
      c.addBulk('flags');
      c.addSetLen(f.flags.length);
      for (const fl of f.flags) c.addSimple(fl);
    }
    if (withCode) {
      c.addBulk('library_code');
      c.addBulk(lib.code);
    }
  }
}

function functionStats(c: Client): void {
  const s = scriptingOf(c.server);
  c.addMapLen(2);
  c.addBulk('running_script');
  const r = s.runningScript();
  if (r === null) c.addNull();
  else {
    c.addMapLen(3);
    c.addBulk('name');
    c.addBulk(r.name);
    c.addBulk('command');
    c.addBulkArray(r.argv);
    c.addBulk('duration_ms');
    c.addInt(r.ms);
  }
  c.addBulk('engines');
  c.addMapLen(1);
  c.addBulk('LUA');
  c.addMapLen(2);
  c.addBulk('libraries_count');
  c.addInt(s.libraries.size);
  c.addBulk('functions_count');
  c.addInt(s.functions.size);
}

/** FUNCTION DUMP: each library as an RDB FUNCTION2 opcode + its code, then RDB version and CRC-64 (Valkey's format). */
function functionDump(c: Client): void {
  const e = new RdbEncoder(c.server.config.bool('rdbcompression'), 256);
  for (const lib of scriptingOf(c.server).libraries.values()) {
    e.byte(Op.FUNCTION2);
    e.str(lib.code);
  }
  e.byte(RDB_VERSION & 0xff);
  e.byte(RDB_VERSION >> 8);
  e.raw(crc64(e.buf, 0, e.pos).digestLE());
  c.addBulkBuf(e.take());
}

function functionRestore(c: Client, argv: string[]): void {
  let policy = 'append';
  if (argv.length > 4) return c.addError('ERR syntax error');
  if (argv.length === 4) {
    policy = argv[3].toLowerCase();
    if (policy !== 'append' && policy !== 'replace' && policy !== 'flush') {
      return c.addError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    }
  }
  const p = Buffer.from(argv[2], 'latin1');
  const bad = 'ERR DUMP payload version or checksum are wrong';
  if (p.length < 10) return c.addError(bad);
  const ver = p.readUInt16LE(p.length - 10);
  if (ver > RDB_MAX_READ_VERSION || !crc64(p, 0, p.length - 8).digestLE().equals(p.subarray(p.length - 8))) return c.addError(bad);
  const codes: string[] = [];
  try {
    const r = new RdbReader(p, 0, p.length - 10);
    while (r.pos < r.end) {
      const op = r.byte();
      if (op === Op.FUNCTION_PRE_GA) return c.addError('ERR Pre-GA function format not supported');
      if (op !== Op.FUNCTION2) return c.addError('ERR given type is not a function');
      codes.push(r.str());
    }
  } catch {
    return c.addError(bad);
  }
  const s = scriptingOf(c.server);
  // Load into a scratch state first, so a failure leaves the libraries as they were.
  const saved = new Map(s.libraries);
  const savedFns = new Map(s.functions);
  if (policy === 'flush') s.flushFunctions();
  for (const code of codes) {
    const r = s.loadLibrary(code, policy === 'replace', true);
    if (typeof r !== 'string') {
      s.libraries.clear();
      s.functions.clear();
      for (const [k, v] of saved) s.libraries.set(k, v);
      for (const [k, v] of savedFns) s.functions.set(k, v);
      return c.addError(r.err);
    }
  }
  c.server.dirty++;
  c.addOK();
}

function functionHelp(c: Client): void {
  const lines = [
    'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'LOAD [REPLACE] <FUNCTION CODE>',
    '    Create a new library with the given library name and code.',
    'DELETE <LIBRARY NAME>',
    '    Delete the given library.',
    'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
    '    Return general information on all the libraries:',
    '    * Library name',
    '    * The engine used to run the Library',
    '    * Library description',
    '    * Functions list',
    '    * Library code (if WITHCODE is given)',
    '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
    'STATS',
    '    Return information about the current function running:',
    '    * Function name',
    '    * Command used to run the function',
    '    * Duration in MS that the function is running',
    '    If no function is running, return nil',
    '    In addition, returns a list of available engines.',
    'KILL',
    '    Kill the current running function.',
    'FLUSH [ASYNC|SYNC]',
    '    Delete all the libraries.',
    '    When called without the optional mode argument, the behavior is determined by the',
    '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
    '    * ASYNC: Asynchronously flush the libraries.',
    '    * SYNC: Synchronously flush the libraries.',
    'DUMP',
    '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
    'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
    '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
    '    control how to handle existing libraries (default APPEND):',
    '    * FLUSH: delete all existing libraries.',
    '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
    '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
    '      libraries with the new libraries (notice that even on this option there is a chance of failure',
    '      in case of functions name collision with another library).',
    'HELP',
    '    Print this help.',
  ];
  c.addArrayLen(lines.length);
  for (const l of lines) c.addSimple(l);
}

void sha1hex;

export const commands: HandlerMap = {
  eval: evalCmd,
  evalsha,
  eval_ro: evalRo,
  evalsha_ro: evalshaRo,
  fcall,
  fcall_ro: fcallRo,
  'script|load': scriptLoad,
  'script|exists': scriptExists,
  'script|flush': scriptFlush,
  'script|kill': scriptKill,
  'script|show': scriptShow,
  'script|help': scriptHelp,
  'function|load': functionLoad,
  'function|delete': functionDelete,
  'function|flush': functionFlush,
  'function|kill': functionKill,
  'function|list': functionList,
  'function|stats': functionStats,
  'function|dump': functionDump,
  'function|restore': functionRestore,
  'function|help': functionHelp,
};
