// Lua scripting and functions (EVAL*, SCRIPT *, FUNCTION *, FCALL*).
//
// DESIGN: keeping Valkey's "busy script" behaviour on Node's single event loop
// ---------------------------------------------------------------------------
// Engine: lua-redis-wasm, PUC Lua 5.1 compiled to WebAssembly with cjson,
// cmsgpack, struct and bit (the libraries Valkey links), Valkey's global
// protection and an instruction budget ("fuel"). It runs a chunk
// synchronously and calls back into JavaScript for each redis.call.
//
// Engine choice (measured on this 2-core machine, Node 20, a script whose
// redis.call is a JS callback returning a constant):
//   lua-redis-wasm  Lua 5.1 (unpack, loadstring, table.getn, 5.1 number
//                   formatting), cjson/cmsgpack/struct/bit built in, Valkey's
//                   sandbox; 2 calls 7.6 us, 10 calls 13.1 us per run, including
//                   compiling the chunk each run; interruption only through an
//                   instruction budget that aborts the run (no resume).
//   wasmoon         Lua 5.4 (no unpack/loadstring, 2^53 prints as a float,
//                   integer subtype), none of the four libraries; 10.6 / 39.1 us
//                   for a pre-compiled function.
//   fengari         Lua 5.3 in JS (integer subtype, no 5.1 globals), none of
//                   the libraries; 2.3 / 5.6 us for a pre-compiled function;
//                   hooks could yield, but the semantics gap is large.
// Valkey's semantics and libraries decided it: lua-redis-wasm. The package
// compiles every chunk it runs; engine.ts keeps each script compiled in the
// VM instead (in the Lua registry, through two small functions wasmpatch.ts
// adds to the pinned build; else through a one-line chunk that calls it),
// and replaces the package's redis.call marshalling with a copy-free one
// (resp.ts). EVALSHA of a GET+INCR script at -P 16, server CPU per request:
// 10.0 us with the package as it is, 5.9 with the one-line chunk, 4.5 with
// the registry (Redis 7.0: 2.55 us; bench/run.mjs --issue5).
//
// Fast path (almost every script): the VM runs on the main thread, inside
// the EVAL/FCALL handler, with a fuel budget worth about busy-reply-threshold
// of pure Lua (calibrated at start). redis.call runs the command
// through server.call() on a fake client and hands the parsed reply back.
// Nothing else can run meanwhile: atomic, and no per-call thread hops.
//
// Slow path: when the budget runs out the VM aborts the run (and since fuel
// counts only Lua instructions, a redis.call made after that much wall time
// fails on purpose, which ends the run the same way). If the script
// has not yet done anything visible (no write, no publish: only reads, which
// nothing else could have interleaved with), it is started again from the
// beginning in a worker thread that has its own VM and (nearly) no budget:
// the engine's largest, about 15 s of pure Lua here. The worker
// performs each redis.call as a synchronous round trip to the main thread
// through a SharedArrayBuffer (Atomics.wait on both sides): the main thread
// executes the command exactly as on the fast path. Until busy-reply-threshold
// has passed since the script started, the main thread blocks in
// Atomics.wait serving only the worker (like Valkey, nobody else is served);
// after that it waits with Atomics.waitAsync, so the event loop runs again
// and the dispatcher's one hook (server.busyScript, a null test on the hot
// path) answers every other command with -BUSY, except the allow_busy ones
// (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS, SHUTDOWN NOSAVE, AUTH, ...).
// SCRIPT/FUNCTION KILL terminate the worker (safe: a killable script has not
// written); a script that has written answers -UNKILLABLE and only SHUTDOWN
// NOSAVE ends it. The caller's connection is paused until the script ends;
// active expiry is suspended while a script is busy. Writes made during a
// slow run are propagated as one MULTI/EXEC unit when it ends.
//
// A script that has written cannot be restarted, so it stays on the main
// thread (mainBusy): from its first write on, each redis.call renews its fuel
// to the engine's largest budget (the engine's remaining-fuel counter is
// found once per VM, Vm.probeFuel), and once busy-reply-threshold has passed
// each redis.call (at most every 10 ms) serves the other clients in place of
// the blocked event loop: the bytes waiting on their sockets are read
// straight from the file descriptors (readSync) and go through the normal
// input path, where busyHook answers -BUSY, -UNKILLABLE to SCRIPT/FUNCTION
// KILL, runs FUNCTION STATS, and exits on SHUTDOWN NOSAVE; the replies are written at
// once (a socket write with nothing queued is synchronous). Limits (see
// VALKEY_DIFFERENCES.md, LUA4): nothing is served during a stretch of pure
// Lua without redis.call, and a stretch longer than busy-reply-threshold
// right after the first write (or longer than the largest budget, ~15 s,
// later) still ends the script with an error, its writes kept; TLS clients,
// replicas, MONITOR, blocked or paused clients, clients holding a partial
// command and new connections wait for the script's end. Scripts known to
// have needed the worker run there from the start the next time (and go back
// to the main thread after a worker run shorter than a quarter of the
// threshold).
//
// Lua-side additions (engine.ts): compiled scripts are kept where no script
// can enumerate them (a hidden store reached through bit's protected
// metatable by a random key); error/pcall/xpcall are wrapped so error objects
// that are tables, nil or booleans, and error levels, give Valkey's replies
// (marked error strings the host decodes, scriptError below); after
// redis.setresp(3) redis.call/pcall are wrapped so a RESP3 null reaches the
// script as nil (resp.ts marks it). Keys a script reads are remembered for its
// caller's CLIENT TRACKING (tracking.scriptCaller), and redis.set_repl(REPL_AOF
// / REPL_REPLICA) restricts the ops a call queued to that target
// (Propagation.restrictFrom).
//
// Memory: each VM's WebAssembly heap is capped (LUA_VM_MAX_MEMORY); a script
// that exceeds it gets an error and the VM is replaced by a fresh one.
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import v8 from 'node:v8';
import type { LuaWasmModule } from 'lua-redis-wasm';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { CMD, type Command } from '../commands/table.js';
import { aclCheck } from '../acl/acl.js';
import { rejectInMulti } from '../commands/tx.js';
import {
  Vm,
  loadModule,
  type ReplyValue,
  evalPrelude,
  libraryPrelude,
  vmSecret,
  LIBRARY_LOAD_EPILOGUE,
  libraryCallEpilogue,
  LUA_VM_MAX_MEMORY,
  EVAL_HEAD,
  EVAL_TAIL,
} from './engine.js';
import { parseReply, writeReply, errorText, markNulls, type WireWriter } from './resp.js';

export const BUSY_EVAL = 'BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
export const BUSY_FUNCTION = 'BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';
export const UNKILLABLE =
  'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.';
export const NOTBUSY = 'NOTBUSY No scripts in execution right now.';
const FUEL_ERROR = 'Script killed by fuel limit';
const LOAD_CALL = 'ERR \u0000load-call';
const OOM_ERR = "OOM command not allowed when used memory > 'maxmemory'.";
/** Scripts loaded by EVAL that are kept (Valkey 8 evicts the least recently used beyond this). */
const EVAL_SCRIPTS_MAX = 500;
const VALID_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'];

export const enum SF {
  NoWrites = 1,
  AllowOom = 2,
  AllowStale = 4,
  NoCluster = 8,
  AllowCrossSlot = 16,
  /** EVAL script with a #! line (flags then apply instead of the legacy rules). */
  Shebang = 32,
}

function flagBits(names: string[]): number {
  let f = 0;
  for (const n of names) f |= 1 << VALID_FLAGS.indexOf(n);
  return f;
}

export interface Script {
  sha: string;
  body: string;
  chunk: Buffer;
  flags: number;
  fromEval: boolean;
  /** Needed the worker once: runs there from the start. */
  slow: boolean;
}

export interface LibFunction {
  name: string;
  lib: Library;
  flags: string[];
  flagBits: number;
  desc: string | null;
  chunk: Buffer;
  slow: boolean;
}

export interface Library {
  name: string;
  code: string;
  functions: Map<string, LibFunction>;
}

/** State of the script being run. */
interface Run {
  caller: Client;
  fake: Client;
  isEval: boolean;
  /** sha (EVAL) or function name (FCALL): what error messages and FUNCTION STATS show. */
  name: string;
  /** The command that started it, for FUNCTION STATS. */
  argv: string[];
  readOnly: boolean;
  /** EVAL_RO / FCALL_RO (error text differs from no-writes). */
  roCommand: boolean;
  allowOom: boolean;
  legacy: boolean;
  /** The script ran a write command (it cannot be killed any more). */
  wrote: boolean;
  /** Something visible happened (write, publish): it cannot be restarted. */
  effects: boolean;
  resp: 2 | 3;
  repl: number;
  start: number;
  /** FUNCTION LOAD running a library: redis.call is refused. */
  loading: boolean;
  slow: boolean;
  oomAtStart: boolean;
  /**
   * Main thread only: the script spent its time budget in redis.call before
   * doing anything visible; every further call fails and the run is restarted
   * in the worker (the fuel budget only counts Lua instructions).
   */
  restart: boolean;
  /** Date.now() after which a main-thread run without effects moves to the worker (0: never). */
  moveAt: number;
  /** Cluster mode: calls may touch keys of several slots of this node (legacy EVAL, allow-cross-slot-keys). */
  crossSlot: boolean;
  /** Date.now() after which a main-thread run that has written turns busy (0: never). */
  busyAt: number;
  /** A main-thread run that has written is past busy-reply-threshold (see mainBusy). */
  busy: boolean;
}

// Worker protocol states (ctl[0]).
const S_IDLE = 0;
const S_JOB = 1;
const S_CALL = 2;
const S_REPLY = 3;
const S_DONE = 4;
const DATA_SIZE = 64 * 1024 * 1024;

const PAUSED: string[] = [];

/** Atomics.waitAsync (Node 16+; not in the ES2022 typings this project compiles against). */
interface AtomicsAsync {
  waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export function sha1hex(s: string): string {
  return createHash('sha1').update(s, 'latin1').digest('hex');
}

const scriptingByServer = new WeakMap<Server, Scripting>();

export function scriptingOf(server: Server): Scripting {
  let s = scriptingByServer.get(server);
  if (s === undefined) {
    s = new Scripting(server);
    scriptingByServer.set(server, s);
  }
  return s;
}

/** EVAL, EVALSHA, FCALL and their _RO forms are the only commands with both flags (the dispatcher's test). */
export const SCRIPT_COMMAND_FLAGS = CMD.SKIP_MONITOR | CMD.NO_MANDATORY_KEYS;

/** The flags of a shebang line (SF bits), or -1 when there is none or it does not parse. */
function shebangFlags(body: string): number {
  if (!body.startsWith('#!')) return -1;
  const nl = body.indexOf('\n');
  const parts = (nl < 0 ? body.slice(2) : body.slice(2, nl)).split(' ').filter((p) => p !== '');
  if (parts.length === 0 || parts[0].toLowerCase() !== 'lua') return -1;
  let flags = SF.Shebang;
  for (let i = 1; i < parts.length; i++) {
    if (!parts[i].startsWith('flags=')) return -1;
    for (const f of parts[i].slice(6).split(',')) {
      if (f === '') continue;
      const idx = VALID_FLAGS.indexOf(f);
      if (idx < 0) return -1;
      flags |= 1 << idx;
    }
  }
  return flags;
}

/** Views of a command with other flags, by command and flags (a handful: six commands, a few flag sets). */
const flagViews = new WeakMap<Command, Map<number, Command>>();

/**
 * What the dispatcher's checks see of an EVAL/EVALSHA/FCALL family command
 * (Valkey's getCommandFlags): a script with a shebang, or a function, declares
 * its own flags, which replace the command's write, denyoom and stale flags
 * (write unless no-writes, denyoom unless no-writes or allow-oom, stale with
 * allow-stale; may-replicate dropped). A script without a shebang, or one not
 * found, keeps the command's flags. Returns `cmd` itself, or a read-only view
 * of it with other flags (never to be run or counted: its stats are cmd's).
 */
export function scriptCommandView(server: Server, cmd: Command, argv: string[]): Command {
  if (argv.length < 2) return cmd;
  let sf = -1;
  const name = cmd.name;
  const s = scriptingByServer.get(server);
  if (name === 'fcall' || name === 'fcall_ro') {
    const f = s?.functions.get(argv[1]);
    if (f !== undefined) sf = f.flagBits | SF.Shebang;
  } else if (name === 'eval' || name === 'eval_ro') {
    sf = shebangFlags(argv[1]);
  } else if (argv[1].length === 40) {
    const sc = s?.scripts.get(argv[1]) ?? s?.scripts.get(argv[1].toLowerCase());
    if (sc !== undefined) sf = sc.flags;
  }
  if (sf < 0 || (sf & SF.Shebang) === 0) return cmd;
  let flags = cmd.flags & ~(CMD.STALE | CMD.DENYOOM | CMD.WRITE | CMD.MAY_REPLICATE);
  if ((sf & (SF.AllowOom | SF.NoWrites)) === 0) flags |= CMD.DENYOOM;
  if ((sf & SF.NoWrites) === 0) flags |= CMD.WRITE;
  if ((sf & SF.AllowStale) !== 0) flags |= CMD.STALE;
  if (flags === cmd.flags) return cmd;
  let views = flagViews.get(cmd);
  if (views === undefined) flagViews.set(cmd, (views = new Map()));
  let v = views.get(flags);
  if (v === undefined) {
    v = Object.create(cmd) as Command;
    v.flags = flags;
    views.set(flags, v);
  }
  return v;
}

// Two VM modules are loaded when this file is imported (before the server
// samples its baseline memory: each holds a fixed 64 MB WebAssembly memory,
// which is Lua's, not the dataset's, as in Valkey where used_memory excludes
// the Lua VM). The second is the spare that replaces a VM that ran out of
// memory; a new spare is then loaded in the background.
const spares: LuaWasmModule[] = await Promise.all([loadModule(), loadModule()]);
let spareLoading = false;
function takeModule(): LuaWasmModule | null {
  const m = spares.shift() ?? null;
  if (spares.length === 0 && !spareLoading) {
    spareLoading = true;
    loadModule().then(
      (mod) => {
        spares.push(mod);
        spareLoading = false;
      },
      () => {
        spareLoading = false;
      },
    );
  }
  return m;
}

let fuelPerMs = 0;

/** Figures for INFO memory / stats (Valkey's names). */
export interface ScriptingInfo {
  vmMemory: number;
  scripts: number;
  scriptsMemory: number;
  functions: number;
  libraries: number;
  functionsMemory: number;
  evictedScripts: number;
}

export function scriptingInfo(server: Server): ScriptingInfo {
  const s = scriptingByServer.get(server);
  if (s === undefined) return { vmMemory: 0, scripts: 0, scriptsMemory: 0, functions: 0, libraries: 0, functionsMemory: 0, evictedScripts: 0 };
  let scriptsMemory = 0;
  for (const sc of s.scripts.values()) scriptsMemory += sc.body.length + sc.chunk.length + 64;
  let functionsMemory = 0;
  for (const lib of s.libraries.values()) {
    functionsMemory += lib.code.length + 64;
    for (const f of lib.functions.values()) functionsMemory += f.chunk.length + 64;
  }
  return {
    vmMemory: s.vmMemory(),
    scripts: s.scripts.size,
    scriptsMemory,
    functions: s.functions.size,
    libraries: s.libraries.size,
    functionsMemory,
    evictedScripts: s.evictedScripts,
  };
}

export class Scripting {
  readonly server: Server;
  private vm: Vm | null = null;
  readonly scripts = new Map<string, Script>();
  /** EVAL-loaded scripts in least-recently-used order (oldest first). */
  private readonly evalLru = new Map<string, Script>();
  readonly libraries = new Map<string, Library>();
  readonly functions = new Map<string, LibFunction>();
  run: Run | null = null;
  private fakeClient: Client | null = null;
  // Worker (slow path).
  private worker: Worker | null = null;
  private ctl: Int32Array | null = null;
  private data: Uint8Array | null = null;
  private slowCaller: Client | null = null;
  private slowDeadline = 0;
  private slowName: LibFunction | Script | null = null;
  private killed: string | null = null;
  // Stats.
  evictedScripts = 0;

  constructor(server: Server) {
    this.server = server;
  }

  // ---------------------------------------------------------------- the VM

  private getVm(): Vm | null {
    if (this.vm !== null && !this.vm.dead) return this.vm;
    const mod = takeModule();
    if (mod === null) return null;
    this.vm = new Vm(
      mod,
      {
        redisCall: (args) => this.hostCall(args),
        redisPcall: (args) => this.hostCall(args),
        log: (level, msg) => this.hostLog(level, msg),
        onSetResp: (v) => {
          if (this.run !== null) this.run.resp = v;
        },
      },
      this.fastCall,
    );
    if (fuelPerMs === 0) {
      const t0 = performance.now();
      this.vm.run(Buffer.from('local x=0 for i=1,1e9 do x=x+i end'), [], [], 2_000_000);
      const ms = Math.max(0.05, performance.now() - t0);
      fuelPerMs = Math.max(1000, Math.floor(2_000_000 / ms));
    }
    return this.vm;
  }

  private mainFuel(threshold: number): number {
    if (threshold <= 0) return 0;
    return Math.max(1, Math.min(0xffffffff, Math.floor(threshold * fuelPerMs)));
  }

  /** Bytes the main-thread Lua VM has allocated (lua_gc LUA_GCCOUNT, as Valkey's used_memory_lua); 0 before the VM exists. */
  vmMemory(): number {
    return this.vm !== null && !this.vm.dead ? this.vm.luaMemory() : 0;
  }

  private fake(): Client {
    if (this.fakeClient === null) {
      this.fakeClient = this.server.createFakeClient();
      this.fakeClient.user = 'default';
    }
    return this.fakeClient;
  }

  // ---------------------------------------------------------------- host side of redis.*

  private hostLog(level: number, msg: Buffer): void {
    const log = this.server.log as unknown as Record<string, (m: string) => void>;
    const text = msg.toString('latin1');
    if (level <= 0) log.debug?.call(this.server.log, text);
    else if (level === 1) log.verbose?.call(this.server.log, text);
    else if (level === 2) log.notice?.call(this.server.log, text);
    else log.warning?.call(this.server.log, text);
  }

  /**
   * redis.call / redis.pcall for the script worker: checks like Valkey's
   * scriptCall, then runs the command. Errors are returned as values; the
   * engine raises them for call.
   */
  hostCall(args: Buffer[]): ReplyValue {
    const argv = new Array<string>(args.length);
    for (let i = 0; i < args.length; i++) argv[i] = args[i].latin1Slice();
    const e = this.callArgv(argv);
    if (e !== undefined) return e;
    const fake = this.run!.fake;
    let v = fake.len === 0 ? null : parseReply(fake.out, fake.len);
    // RESP3 nulls for the redis.call wrapper (see markNulls); fake.len 0 (no reply) stays a plain null.
    if (fake.resp === 3 && fake.len !== 0) v = markNulls(v);
    this.doneWithFake(fake);
    return v;
  }

  /** The main-thread VM's redis.call / redis.pcall: the reply goes straight into the engine's format. */
  private readonly fastCall = (argv: string[], out: WireWriter): void => {
    const e = this.callArgv(argv);
    if (e !== undefined) return out.value(e);
    const fake = this.run!.fake;
    if (fake.len === 0) out.value(null);
    else out.resp(fake.out, fake.len);
    this.doneWithFake(fake);
  };

  private doneWithFake(fake: Client): void {
    fake.len = 0;
    if (fake.out.length > 1024 * 1024) fake.out = Buffer.allocUnsafe(16 * 1024);
  }

  /**
   * Runs one redis.call: an error value, or undefined when the command ran
   * and its reply is in run.fake.out[0, run.fake.len).
   */
  private callArgv(argv: string[]): ReplyValue | undefined {
    const run = this.run;
    if (run === null) return { err: Buffer.from('ERR redis.call is only available while a script runs') };
    if (argv.length === 0) return err('ERR Please specify at least one argument for this redis lib call');
    if (argv[0].length > 0 && argv[0].charCodeAt(0) === 0) return this.hostInternal(run, argv);
    // While FUNCTION LOAD runs a library, Valkey's `redis` table has no call/pcall.
    if (run.loading) return err(LOAD_CALL);
    if (run.moveAt !== 0 && !run.effects && (run.restart || Date.now() > run.moveAt)) {
      run.restart = true;
      return err('ERR the script is being moved to the script worker');
    }
    if (run.wrote && run.busyAt !== 0) this.mainBusy(run);
    const server = this.server;
    let cmd = server.table.lookup(argv[0]);
    if (cmd !== undefined && cmd.subcommands !== null && argv.length >= 2) cmd = cmd.subcommands.get(argv[1].toLowerCase());
    if (cmd === undefined || cmd.handler === null) return err('ERR Unknown Redis command called from script');
    const arity = cmd.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) return err('ERR Wrong number of args calling Redis command from script');
    const flags = cmd.flags;
    if ((flags & CMD.NOSCRIPT) !== 0) return err('ERR This Redis command is not allowed from script');
    if (!run.caller.aclUser.unrestricted) {
      const acl = aclCheck(run.caller, cmd, argv, 'lua');
      if (acl !== null) return err(`ERR ACL failure in script: ${acl}`);
    }
    if (server.cluster !== null) {
      // Keys of this node only, and of one slot unless the script may cross slots (src/cluster/cluster.ts).
      const ce = server.cluster.scriptCall(run, run.caller, run.fake, run.argv, run.crossSlot, cmd, argv);
      if (ce !== null) return err(ce);
    }
    if ((flags & CMD.WRITE) !== 0 && run.readOnly) return err('ERR Write commands are not allowed from read-only scripts.');
    if ((flags & CMD.WRITE) !== 0 && !run.wrote && server.rdb.diskGate) {
      // -MISCONF (the dispatcher's persistence gate) for the script's first write only, as Valkey's scriptVerifyWriteCommandAllow.
      const denied = server.rdb.diskError();
      if (denied !== null) return err(denied);
    }
    if (
      (flags & CMD.DENYOOM) !== 0 &&
      !run.allowOom &&
      server.maxmemory !== 0 &&
      (run.legacy ? server.overMaxmemory() : run.oomAtStart)
    ) {
      return err(OOM_ERR);
    }
    if ((flags & CMD.WRITE) !== 0) run.wrote = true;
    if ((flags & (CMD.WRITE | CMD.MAY_REPLICATE | CMD.PUBSUB)) !== 0) run.effects = true;
    const fake = run.fake;
    fake.resp = run.resp;
    fake.len = 0;
    const tracking = server.tracking;
    if (tracking.clients !== 0) {
      // Keys read here are remembered for the caller (CLIENT TRACKING).
      tracking.scriptFake = fake;
      tracking.scriptCaller = run.caller;
    }
    const prop = server.prop;
    const queued = run.repl !== 3 && prop.active ? prop.queued() : -1;
    server.call(fake, cmd, argv);
    // redis.set_repl: REPL_NONE drops what the call queued, REPL_AOF / REPL_REPLICA restrict it.
    if (queued >= 0) {
      if (run.repl === 0) prop.truncate(queued);
      else prop.restrictFrom(queued, run.repl);
    }
    return undefined;
  }

  private hostInternal(run: Run, args: string[]): ReplyValue {
    const what = args[0].slice(1);
    if (what === 'set_repl') {
      const f = Number(args[1]);
      if (!Number.isInteger(f) || (f & ~3) !== 0) return err('ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
      run.repl = f;
      return null;
    }
    if (what === 'acl_check_cmd') {
      if (args.length < 2) return err('ERR Please specify at least one argument for this redis lib call');
      const argv = args.slice(1);
      let cmd: Command | undefined = this.server.table.lookup(argv[0]);
      if (cmd !== undefined && cmd.subcommands !== null && argv.length >= 2) cmd = cmd.subcommands.get(argv[1].toLowerCase());
      if (cmd === undefined) return err('ERR Invalid command passed to redis.acl_check_cmd()');
      return aclCheck(run.caller, cmd, argv, null) === null ? 1 : 0;
    }
    return err('ERR Unknown Redis command called from script');
  }

  // ---------------------------------------------------------------- running

  private newRun(c: Client, isEval: boolean, name: string, argv: string[], flags: number, roCommand: boolean): Run {
    const fake = this.fake();
    fake.db = c.db;
    fake.resp = 2;
    fake.denyBlocking = true;
    fake.aclUser = c.aclUser;
    fake.user = c.user;
    return {
      caller: c,
      fake,
      isEval,
      name,
      argv,
      readOnly: roCommand || (flags & SF.NoWrites) !== 0,
      roCommand,
      allowOom: (flags & SF.AllowOom) !== 0,
      legacy: isEval && (flags & SF.Shebang) === 0,
      wrote: false,
      effects: false,
      resp: 2,
      repl: 3,
      start: Date.now(),
      loading: false,
      slow: false,
      oomAtStart: false,
      restart: false,
      moveAt: 0,
      crossSlot: (isEval && (flags & SF.Shebang) === 0) || (flags & SF.AllowCrossSlot) !== 0,
      busyAt: 0,
      busy: false,
    };
  }

  /**
   * Checks made before a script starts (Valkey's scriptPrepareForRun): *_RO
   * with a script not flagged no-writes, OOM for scripts that may write.
   * Returns an error message or null.
   */
  private prepare(c: Client, flags: number, roCommand: boolean, run: Run): string | null {
    const legacy = run.legacy;
    if (legacy) {
      // A script without a shebang does not run on a stale replica (Valkey's scriptPrepareForRun, compatibility mode);
      // one with a shebang was checked by the dispatcher with its declared flags.
      const repl = this.server.repl;
      if (repl.isReplica && repl.linkState !== 'connected' && !this.server.config.bool('replica-serve-stale-data')) {
        return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
      }
    } else {
      const server = this.server;
      // A script that may write is a write command: -MISCONF first, as Valkey's processCommand refuses it (src/persistence/manager.ts).
      if ((flags & SF.NoWrites) === 0 && server.rdb.diskGate && c.replRole !== 'master') {
        const denied = server.rdb.diskError();
        if (denied !== null) return denied;
      }
      if (roCommand && (flags & SF.NoWrites) === 0) return 'ERR Can not execute a script with write flag using *_ro command.';
      if (server.cluster !== null && (flags & SF.NoCluster) !== 0) return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
      if ((flags & SF.NoWrites) === 0 && (flags & SF.AllowOom) === 0 && server.maxmemory !== 0 && server.overMaxmemory()) {
        return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";
      }
    }
    return null;
  }

  /** Runs a chunk for client c and writes the reply (now, or when a slow run ends). */
  private execute(c: Client, target: Script | LibFunction, run: Run, argv: string[], nk: number): void {
    const server = this.server;
    server.prop.prevent();
    if (target.slow && this.canGoSlow(c)) {
      this.startSlow(c, target, run, argv, nk);
      return;
    }
    const vm = this.getVm();
    if (vm === null) {
      c.addError('ERR the Lua VM is being restarted, try again');
      return;
    }
    this.run = run;
    const threshold = server.config.num('busy-reply-threshold');
    if (threshold > 0 && c.socket !== null) {
      if (!server.inExec && c.multi === null) run.moveAt = run.start + threshold;
      run.busyAt = run.start + threshold;
    }
    let r: ReplyValue;
    try {
      r = vm.runArgv(target.chunk, argv, 3, 3 + nk, argv.length, run.name, this.mainFuel(threshold));
    } catch (e) {
      if (run.busy) this.endMainBusy();
      vm.dead = true;
      this.run = null;
      server.log.warning(`Lua VM aborted (${(e as Error).message}); starting a fresh one`);
      c.addError(`ERR Lua VM out of memory (the limit is ${LUA_VM_MAX_MEMORY} bytes) script: ${run.name}`);
      return;
    }
    this.run = null;
    if (run.busy) this.endMainBusy();
    if (run.restart && !run.effects) {
      target.slow = true;
      this.startSlow(c, target, run, argv, nk);
      return;
    }
    if (r !== null && typeof r === 'object' && 'err' in r && r.meta !== undefined && r.err.latin1Slice().endsWith(FUEL_ERROR)) {
      if (!run.effects && this.canGoSlow(c)) {
        target.slow = true;
        this.startSlow(c, target, run, argv, nk);
        return;
      }
      // It could not be restarted; next time it starts in the worker.
      if (this.canGoSlow(c)) target.slow = true;
      c.addError(
        run.effects
          ? `ERR Script exceeded the main-thread time budget after writing and was stopped script: ${run.name}`
          : `ERR Script exceeded the time budget inside MULTI/EXEC or a nested call and was stopped script: ${run.name}`,
      );
      return;
    }
    this.reply(c, r, run);
  }

  /**
   * The VM died (out of memory) and its replacement is still loading: the
   * command runs again once it is there; the client's later input waits.
   */
  private waitForVm(c: Client, argv: string[]): void {
    if (c.socket === null || c.multi !== null || this.server.inExec) {
      c.addError('ERR the Lua VM is being restarted, try again');
      return;
    }
    c.postponed = PAUSED;
    c.socket.pause();
    const retry = (): void => {
      if (spares.length === 0) {
        setTimeout(retry, 5);
        return;
      }
      c.postponed = null;
      if (c.closed) return;
      c.socket?.resume();
      this.server.execute(c, argv);
      if (c.postponed === null) c.processInput();
      c.flush();
    };
    setTimeout(retry, 5);
  }

  private canGoSlow(c: Client): boolean {
    return c.socket !== null && !this.server.inExec && c.multi === null && this.server.config.num('busy-reply-threshold') > 0;
  }

  /** Writes a script's result, formatting errors that aborted it like Valkey. */
  private reply(c: Client, r: ReplyValue, run: Run): void {
    if (r !== null && typeof r === 'object' && !Array.isArray(r) && !Buffer.isBuffer(r) && 'err' in r && r.meta !== undefined) {
      c.addError(scriptError(r, run.name, run.isEval));
      return;
    }
    writeReply(c, r);
  }

  // ---------------------------------------------------------------- EVAL & co

  /** Compiles a body to check its syntax; returns the Lua error message or null. */
  private compileError(body: string, chunkName: string): string | null {
    const vm = this.getVm();
    if (vm === null) return 'the Lua VM is being restarted';
    const run = this.newRun(this.fake(), true, '', [], 0, true);
    run.loading = true;
    this.run = run;
    let r: ReplyValue;
    try {
      r = vm.run(
        Buffer.from(`local f, e = loadstring(ARGV[1], '@${chunkName}') if f then return 1 end return e`, 'latin1'),
        [],
        [Buffer.from(body, 'latin1')],
        0,
      );
    } catch (e) {
      vm.dead = true;
      r = Buffer.from((e as Error).message);
    }
    this.run = null;
    return Buffer.isBuffer(r) ? r.latin1Slice() : null;
  }

  /** Parses an EVAL body's #! line: [flags, chunk body] or an error. */
  private evalShebang(body: string): { flags: number; rest: string } | string {
    if (!body.startsWith('#!')) return { flags: 0, rest: body };
    const nl = body.indexOf('\n');
    const line = nl < 0 ? body.slice(2) : body.slice(2, nl);
    const rest = nl < 0 ? '' : body.slice(nl);
    const parts = line.split(' ').filter((p) => p !== '');
    if (parts.length === 0 || parts[0].toLowerCase() !== 'lua') return `ERR Unexpected engine in script shebang: #!${parts[0] ?? ''}`;
    let flags = SF.Shebang;
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i];
      if (!p.startsWith('flags=')) return `ERR Unknown lua shebang option: ${p}`;
      for (const f of p.slice(6).split(',')) {
        if (f === '') continue;
        const idx = VALID_FLAGS.indexOf(f);
        if (idx < 0) return `ERR Unexpected flag in script shebang: ${f}`;
        flags |= 1 << idx;
      }
    }
    return { flags, rest };
  }

  /** Adds a script to the cache (compiling it first); returns it or an error message. */
  createScript(body: string, fromEval: boolean): Script | string {
    const sha = sha1hex(body);
    const have = this.scripts.get(sha);
    if (have !== undefined) {
      if (!fromEval && have.fromEval) {
        have.fromEval = false;
        this.evalLru.delete(sha);
      }
      return have;
    }
    const sb = this.evalShebang(body);
    if (typeof sb === 'string') return sb;
    const ce = this.compileError(sb.rest, 'user_script');
    if (ce !== null) return `ERR Error compiling script (new function): ${ce}`;
    // The body runs as a function whose first result is returned (Lua returns
    // all of them; Valkey's EVAL keeps one). Same line: line numbers hold.
    const text = evalPrelude(sb.rest) + EVAL_HEAD + sb.rest + EVAL_TAIL;
    const s: Script = { sha, body, chunk: Buffer.from(text, 'latin1'), flags: sb.flags, fromEval, slow: false };
    this.scripts.set(sha, s);
    if (fromEval) {
      this.evalLru.set(sha, s);
      if (this.evalLru.size > EVAL_SCRIPTS_MAX) {
        const oldest = this.evalLru.keys().next().value as string;
        this.evalLru.delete(oldest);
        const gone = this.scripts.get(oldest);
        if (gone !== undefined) this.vm?.release(gone.chunk);
        this.scripts.delete(oldest);
        this.evictedScripts++;
      }
    }
    return s;
  }

  /** EVAL, EVALSHA, EVAL_RO, EVALSHA_RO. */
  evalCommand(c: Client, argv: string[], bySha: boolean, ro: boolean): void {
    if (this.getVm() === null) return this.waitForVm(c, argv);
    const nk = numKeys(argv);
    if (typeof nk === 'string') return c.addError(nk);
    let script: Script | string | undefined;
    if (bySha) {
      const sha = argv[1];
      script = this.scripts.get(sha) ?? this.scripts.get(sha.toLowerCase());
      if (script === undefined) return c.addError('NOSCRIPT No matching script. Please use EVAL.');
    } else {
      script = this.scripts.get(sha1hex(argv[1])) ?? this.createScript(argv[1], true);
      if (typeof script === 'string') return c.addError(script);
    }
    if (script.fromEval) {
      this.evalLru.delete(script.sha);
      this.evalLru.set(script.sha, script);
    }
    const run = this.newRun(c, true, script.sha, argv, script.flags, ro);
    const e = this.prepare(c, script.flags, ro, run);
    if (e !== null) return c.addError(e);
    run.oomAtStart = this.server.maxmemory !== 0 && this.server.overMaxmemory();
    this.execute(c, script, run, argv, nk);
  }

  scriptFlush(): void {
    for (const sc of this.scripts.values()) this.vm?.release(sc.chunk);
    this.scripts.clear();
    this.evalLru.clear();
  }

  // ---------------------------------------------------------------- functions

  /** FUNCTION LOAD [REPLACE] code: returns the library name or an error. */
  loadLibrary(code: string, replace: boolean, restoring = false): string | { err: string } {
    const nl = code.indexOf('\n');
    const first = nl < 0 ? code : code.slice(0, nl);
    if (!first.startsWith('#!')) return { err: 'ERR Missing library metadata' };
    const parts = first.slice(2).split(' ').filter((p) => p !== '');
    const engine = parts[0] ?? '';
    let name: string | null = null;
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i];
      if (p.startsWith('name=')) name = p.slice(5);
      else return { err: `ERR Invalid metadata value given: ${p}` };
    }
    if (engine.toLowerCase() !== 'lua') return { err: `ERR Engine '${engine}' not found` };
    if (name === null) return { err: 'ERR Library name was not given' };
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      return { err: 'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long' };
    }
    const old = this.libraries.get(name);
    // FUNCTION RESTORE words it without quotes.
    if (old !== undefined && !replace) return { err: restoring ? `ERR Library ${name} already exists` : `ERR Library '${name}' already exists` };
    const rest = nl < 0 ? '' : code.slice(nl);
    const ce = this.compileError(rest, 'user_function');
    if (ce !== null) return { err: `ERR Error compiling function: ${ce}` };
    const vm = this.getVm();
    if (vm === null) return { err: 'ERR the Lua VM is being restarted, try again' };
    const run = this.newRun(this.fake(), false, name, [], 0, true);
    run.loading = true;
    this.run = run;
    let r: ReplyValue;
    try {
      // FUNCTION LOAD has a 500 ms budget in Valkey.
      r = vm.run(Buffer.from(libraryPrelude(rest) + rest + LIBRARY_LOAD_EPILOGUE, 'latin1'), [], [], Math.max(1, 500 * fuelPerMs));
    } catch (e) {
      vm.dead = true;
      this.run = null;
      return { err: `ERR Error registering functions: ${(e as Error).message}` };
    }
    this.run = null;
    if (r !== null && typeof r === 'object' && 'err' in r && !Array.isArray(r)) {
      const m = r.err.latin1Slice();
      if (m.endsWith(FUEL_ERROR)) return { err: 'ERR FUNCTION LOAD timeout' };
      if (errorText(r) === LOAD_CALL) {
        return { err: `ERR Error registering functions: ERR user_function:${r.meta?.line ?? 1}: Script attempted to access nonexistent global variable 'call'` };
      }
      const mk = parseMarked(r.err);
      const text = mk === null ? errorText(r) : mk.kind === 'S' ? withCode(mk.msg) : mk.msg;
      const msg = (r.meta?.kind === 'global-read' ? `user_function:${r.meta.line}: Script attempted to access nonexistent global variable '${r.meta.name}'` : text.replace(/^ERR (ERR |user_)/, '$1'))
        .replace(/user_script:/g, 'user_function:');
      return { err: `ERR Error registering functions: ${msg}` };
    }
    if (!Array.isArray(r) || r.length === 0) return { err: 'ERR No functions registered' };
    const lib: Library = { name, code, functions: new Map() };
    for (const e of r as ReplyValue[][]) {
      const fname = (e[0] as Buffer).latin1Slice();
      const flags = ((e[1] as ReplyValue[]) ?? []).map((f) => (f as Buffer).latin1Slice());
      const desc = Buffer.isBuffer(e[2]) ? e[2].latin1Slice() : null;
      const other = this.functions.get(fname);
      if (other !== undefined && other.lib.name !== name) return { err: `ERR Function ${fname} already exists` };
      lib.functions.set(fname, {
        name: fname,
        lib,
        flags,
        flagBits: flagBits(flags),
        desc,
        chunk: Buffer.from(libraryPrelude(rest) + rest + libraryCallEpilogue(fname), 'latin1'),
        slow: false,
      });
    }
    if (old !== undefined) this.deleteLibrary(name);
    this.libraries.set(name, lib);
    for (const f of lib.functions.values()) this.functions.set(f.name, f);
    return name;
  }

  deleteLibrary(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    for (const f of lib.functions.values()) {
      this.vm?.release(f.chunk);
      this.functions.delete(f.name);
    }
    this.libraries.delete(name);
    return true;
  }

  flushFunctions(): void {
    for (const f of this.functions.values()) this.vm?.release(f.chunk);
    this.libraries.clear();
    this.functions.clear();
  }

  /** FCALL, FCALL_RO. */
  fcallCommand(c: Client, argv: string[], ro: boolean): void {
    if (this.getVm() === null) return this.waitForVm(c, argv);
    const nk = numKeys(argv);
    if (typeof nk === 'string') return c.addError(nk);
    const f = this.functions.get(argv[1]);
    if (f === undefined) return c.addError('ERR Function not found');
    const run = this.newRun(c, false, f.name, argv, f.flagBits, ro);
    const e = this.prepare(c, f.flagBits, ro, run);
    if (e !== null) return c.addError(e);
    this.execute(c, f, run, argv, nk);
  }

  // ---------------------------------------------------------------- KILL and the busy hook

  /** SCRIPT KILL (isEval) / FUNCTION KILL. */
  kill(c: Client, isEval: boolean): void {
    const run = this.run;
    if (run === null || !(run.slow || run.busy)) return c.addError(NOTBUSY);
    if (run.wrote) return c.addError(UNKILLABLE);
    if (run.isEval !== isEval) return c.addError(run.isEval ? BUSY_EVAL : BUSY_FUNCTION);
    this.killed = isEval ? 'ERR Script killed by user with SCRIPT KILL.' : 'ERR Script killed by user with FUNCTION KILL.';
    c.addOK();
    this.server.log.notice(isEval ? 'Script killed by user with SCRIPT KILL.' : 'Script killed by user with FUNCTION KILL.');
    setImmediate(() => this.finishSlow(null));
  }

  /** The dispatcher's hook while a script is busy: true if it answered (BUSY). */
  readonly busyHook = (c: Client, cmd: Command, argv: string[]): boolean => {
    const run = this.run;
    if (run === null) return false;
    if (cmd.name === 'shutdown' && cmd.parent === null) {
      // Only SHUTDOWN NOSAVE gets through (Valkey's shutdownCommand answers BUSY otherwise).
      if (argv.some((a) => a.toLowerCase() === 'nosave')) {
        if (run.busy) this.exitNow();
        this.abortSlow();
        return false;
      }
    } else if (run.busy) {
      // The main thread is inside the script (see mainBusy): only the KILL commands (UNKILLABLE) and FUNCTION STATS run.
      if (cmd.fullname === 'script|kill' || cmd.fullname === 'function|kill' || cmd.fullname === 'function|stats') return false;
    } else if ((cmd.flags & CMD.ALLOW_BUSY) !== 0) return false;
    // Refused like any dispatcher check (Valkey's rejectCommand): inside MULTI it aborts the transaction.
    const msg = run.isEval ? BUSY_EVAL : BUSY_FUNCTION;
    if (c.multi !== null || (cmd.name === 'exec' && cmd.parent === null)) rejectInMulti(c, cmd, msg);
    else c.addError(msg);
    cmd.rejectedCalls++;
    return true;
  };

  /** FUNCTION STATS running_script part: [name, command argv, duration ms] or null. */
  runningScript(): { name: string; argv: string[]; ms: number } | null {
    const run = this.run;
    if (run === null || !(run.slow || run.busy) || run.isEval) return null;
    return { name: run.name, argv: run.argv, ms: Date.now() - run.start };
  }

  // ---------------------------------------------------------------- busy on the main thread

  /**
   * A main-thread run that has written can no longer move to the worker, so
   * it keeps running here (see the design notes): from its first write on it
   * gets the largest fuel budget again at each redis.call, and once
   * busy-reply-threshold has passed, each redis.call (at most every 10 ms)
   * serves the other clients in place of the blocked event loop: their
   * waiting bytes are read straight from their sockets' file descriptors and
   * go through the normal input path, where busyHook answers -BUSY,
   * -UNKILLABLE to SCRIPT/FUNCTION KILL, and exits on SHUTDOWN NOSAVE. The
   * replies leave at once (a socket write with nothing queued is written
   * synchronously). Clients that cannot be served that way wait for the
   * script's end: TLS, replicas and the primary link, MONITOR, blocked or
   * paused clients, clients with a partial command buffered, and new
   * connections (the listening socket is not served).
   */
  private mainBusy(run: Run): void {
    this.vm?.refillFuel();
    const now = Date.now();
    if (now < run.busyAt) return;
    if (!run.busy) {
      run.busy = true;
      this.server.busyScript = this.busyHook;
      this.server.log.warning(
        `Slow script detected: still in execution after ${now - run.start} milliseconds. This script has already written and cannot be killed (SHUTDOWN NOSAVE ends the server). Script name is: ${run.name}.`,
      );
    }
    if (now - this.lastServe < 10) return;
    this.lastServe = now;
    this.serveClients(run);
  }

  private lastServe = 0;
  private readBuf: Buffer | null = null;

  private serveClients(run: Run): void {
    const buf = (this.readBuf ??= Buffer.allocUnsafe(64 * 1024));
    for (const c of this.server.clients.values()) {
      if (c === run.caller || c.closed || c.socket === null || c.replRole !== null || c.monitor) continue;
      if (c.postponed !== null || c.blocked !== null || c.inProcess || c.parser.pending() !== 0) continue;
      const sock = c.socket as unknown as { encrypted?: boolean; isPaused(): boolean; _handle?: { fd?: number } | null };
      if (sock.encrypted === true || sock.isPaused()) continue;
      const fd = sock._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) continue;
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        continue; // EAGAIN: nothing waiting
      }
      // 0: the peer closed; the event loop sees it after the script.
      if (n > 0) c.onData(buf.subarray(0, n));
    }
  }

  private endMainBusy(): void {
    this.server.busyScript = null;
  }

  /** SHUTDOWN NOSAVE while the main thread is inside a script that wrote: exit now, without saving. */
  private exitNow(): void {
    this.server.log.warning('User requested shutdown... (SHUTDOWN NOSAVE during an unkillable script)');
    try {
      if (this.server.aof.bufLen !== 0) this.server.aof.flush();
    } finally {
      process.exit(0);
    }
  }

  // ---------------------------------------------------------------- slow path (worker)

  private ensureWorker(): void {
    if (this.worker !== null) return;
    const sab = new SharedArrayBuffer(16);
    const dsab = new SharedArrayBuffer(DATA_SIZE);
    this.ctl = new Int32Array(sab);
    this.data = new Uint8Array(dsab);
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { ctl: sab, data: dsab, key: vmSecret() } });
    this.worker.unref();
    this.worker.on('error', (e) => this.server.log.warning(`Lua worker failed: ${e.message}`));
  }

  private writeData(v: unknown): boolean {
    const b = v8.serialize(v);
    if (b.length > DATA_SIZE) return false;
    this.data!.set(b, 0);
    Atomics.store(this.ctl!, 1, b.length);
    return true;
  }

  private readData(): unknown {
    const n = Atomics.load(this.ctl!, 1);
    return v8.deserialize(Buffer.from(this.data!.buffer, 0, n));
  }

  private startSlow(c: Client, target: Script | LibFunction, run: Run, argv: string[], nk: number): void {
    const keys = bufs(argv, 3, 3 + nk);
    const args = bufs(argv, 3 + nk, argv.length);
    this.ensureWorker();
    run.slow = true;
    run.restart = false;
    run.moveAt = 0;
    // The event loop serves the others while the worker runs (mainBusy is for main-thread runs only).
    run.busyAt = 0;
    run.busy = false;
    run.wrote = false;
    run.effects = false;
    run.resp = 2;
    run.repl = 3;
    this.run = run;
    this.killed = null;
    this.slowCaller = c;
    this.slowName = target;
    const threshold = this.server.config.num('busy-reply-threshold');
    this.slowDeadline = run.start + threshold;
    this.writeData({ chunk: target.chunk, keys, args });
    Atomics.store(this.ctl!, 0, S_JOB);
    Atomics.notify(this.ctl!, 0);
    // The caller waits for its reply; its further input waits too.
    c.postponed = PAUSED;
    c.socket?.pause();
    this.server.prop.depth++;
    this.server.busyScript = this.busyHook;
    this.pump(true);
  }

  /** Serves the worker's requests; blocking until the threshold, then from the event loop. */
  private pump(sync: boolean): void {
    const ctl = this.ctl!;
    for (;;) {
      if (this.run === null || !this.run.slow) return;
      const s = Atomics.load(ctl, 0);
      if (s === S_CALL) {
        const req = this.readData() as { t: string; args?: Buffer[]; v?: number; level?: number; msg?: Buffer };
        let rep: ReplyValue = null;
        if (req.t === 'c' || req.t === 'p') rep = this.hostCall(req.args!.map((a) => Buffer.from(a)));
        else if (req.t === 's') this.run.resp = req.v as 2 | 3;
        else if (req.t === 'l') this.hostLog(req.level!, Buffer.from(req.msg!));
        if (!this.writeData(rep)) this.writeData({ err: Buffer.from('ERR reply too large for the script worker') });
        Atomics.store(ctl, 0, S_REPLY);
        Atomics.notify(ctl, 0);
        continue;
      }
      if (s === S_DONE) {
        const r = this.readData() as { r?: ReplyValue; oom?: string };
        Atomics.store(ctl, 0, S_IDLE);
        this.finishSlow(r);
        return;
      }
      const left = this.slowDeadline - Date.now();
      if (sync && left > 0) {
        Atomics.wait(ctl, 0, s, left);
        continue;
      }
      if (sync) {
        const run = this.run;
        this.server.log.warning(
          `Slow script detected: still in execution after ${Date.now() - run.start} milliseconds. You can try killing the script using the ${run.isEval ? 'SCRIPT KILL' : 'FUNCTION KILL'} command. Script name is: ${run.name}.`,
        );
        sync = false;
      }
      const w = (Atomics as unknown as AtomicsAsync).waitAsync(ctl, 0, s);
      if (w.async) {
        w.value.then(() => this.pump(false));
        return;
      }
    }
  }

  private finishSlow(result: { r?: ReplyValue; oom?: string } | null): void {
    const run = this.run;
    const c = this.slowCaller;
    if (run === null || c === null) return;
    if (result === null) {
      // Killed: the worker (and its VM) goes away.
      void this.worker?.terminate();
      this.worker = null;
    }
    this.run = null;
    this.slowCaller = null;
    this.server.busyScript = null;
    // A run that turned out short (the slow one was a hiccup: GC, a loaded
    // machine) sends the script back to the main thread next time.
    if (result !== null && this.slowName !== null && Date.now() - run.start < this.server.config.num('busy-reply-threshold') / 4) {
      this.slowName.slow = false;
    }
    this.slowName = null;
    const prop = this.server.prop;
    prop.depth--;
    if (prop.depth === 0) prop.flush();
    if (result === null) c.addError(this.killed ?? 'ERR Script killed');
    else if (result.oom !== undefined) c.addError(`ERR Lua VM out of memory (the limit is ${LUA_VM_MAX_MEMORY} bytes) script: ${run.name}`);
    else {
      const r = result.r ?? null;
      if (r !== null && typeof r === 'object' && 'err' in r && r.meta !== undefined && r.err.latin1Slice().endsWith(FUEL_ERROR)) {
        // The engine's largest instruction budget (see Vm.run) ran out.
        c.addError(`ERR Script exceeded the largest instruction budget of the Lua engine and was stopped script: ${run.name}`);
      } else this.reply(c, r, run);
    }
    if (this.server.blocking.pending) this.server.blocking.handleReady();
    if (c.closed) return;
    c.postponed = null;
    c.socket?.resume();
    c.processInput();
    c.flush();
    this.server.flushPending();
  }

  /** SHUTDOWN NOSAVE during a busy script: drop the worker. */
  private abortSlow(): void {
    if (this.worker !== null) void this.worker.terminate();
    this.worker = null;
    this.run = null;
    this.server.busyScript = null;
  }
}

const ENGINE_ERRORS: Record<string, string> = {
  'RESP version must be 2 or 3.': 'ERR RESP version must be 2 or 3.',
  'redis.log requires level and message': 'ERR redis.log() requires two arguments or more.',
};

function err(msg: string): ReplyValue {
  return { err: Buffer.from(msg, 'latin1') };
}

function bufs(argv: string[], from: number, to: number): Buffer[] {
  const out = new Array<Buffer>(to - from);
  for (let i = from; i < to; i++) out[i - from] = Buffer.from(argv[i], 'latin1');
  return out;
}

/** numkeys of EVAL/FCALL: the count or an error message. */
function numKeys(argv: string[]): number | string {
  const s = argv[2];
  let n = -1;
  // The usual short count without a regular expression.
  if (s.length > 0 && s.length <= 3) {
    n = 0;
    for (let i = 0; i < s.length; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) {
        n = -1;
        break;
      }
      n = n * 10 + d;
    }
  }
  if (n < 0) {
    if (!/^-?\d+$/.test(s) || s.length > 20) return 'ERR value is not an integer or out of range';
    n = Number(s);
  }
  if (n < 0) return "ERR Number of keys can't be negative";
  if (n > argv.length - 3) return "ERR Number of keys can't be greater than number of args";
  return n;
}

/**
 * A string raised by the error() wrapper (see INSTALL_CHUNK in engine.ts):
 * "\x01V" kind line "\x01" message; null for any other error.
 */
function parseMarked(err: Buffer): { kind: string; line: number; msg: string } | null {
  if (err.length < 4 || err[0] !== 1 || err[1] !== 86) return null;
  const s = err.latin1Slice();
  const i = s.indexOf('\u0001', 3);
  if (i < 0) return null;
  const ls = s.slice(3, i);
  return { kind: s[2], line: ls === '' ? 0 : Number(ls), msg: s.slice(i + 1) };
}

/** A message as the engine would have coded it: kept if its first word is an error code, else after "ERR ". */
function withCode(m: string): string {
  return /^[A-Z][A-Z0-9]* /.test(m) ? m : `ERR ${m}`;
}

/** The error reply of a script that failed: "<msg> script: <name>, on @user_script:<line>." */
function scriptError(r: { err: Buffer; code?: Buffer; meta?: { kind?: string; name?: string; line: number } }, name: string, isEval: boolean): string {
  const meta = r.meta!;
  const source = isEval ? 'user_script' : 'user_function';
  const mk = parseMarked(r.err);
  if (mk !== null) {
    // Raised through the error() wrapper or a RESP3 redis.call (engine.ts): Valkey's handler wording.
    let m = mk.kind === 'S' ? `ERR ${mk.msg}` : mk.msg;
    if (!isEval) m = m.replace(/user_script:/g, 'user_function:');
    return `${m} script: ${name}, on @${source}:${mk.line > 0 ? mk.line : Math.max(1, meta.line)}.`;
  }
  const line = meta.line;
  let msg: string;
  if (meta.kind === 'global-read') msg = `ERR user_script:${line}: Script attempted to access nonexistent global variable '${meta.name}'`;
  else if (meta.kind === 'command-arg-type') msg = 'ERR Lua redis lib command arguments must be strings or integers';
  else {
    msg = errorText(r);
    // Errors the engine raises itself, in Valkey's words.
    const m = /^ERR user_script:\d+: ERR (.*)$/.exec(msg);
    if (m !== null) msg = ENGINE_ERRORS[m[1]] ?? msg;
  }
  if (!isEval) msg = msg.replace(/user_script:/g, 'user_function:');
  if (line <= 0) return msg;
  return `${msg} script: ${name}, on @${source}:${line}.`;
}

// ------------------------------------------------------------------ for RDB persistence

/**
 * The code of every function library, in load order: what an RDB file stores
 * as one FUNCTION2 opcode + string each (the same layout FUNCTION DUMP uses).
 */
export function libraryCodes(server: Server): string[] {
  const s = scriptingByServer.get(server);
  return s === undefined ? [] : [...s.libraries.values()].map((l) => l.code);
}

/** Loads one library read from an RDB FUNCTION2 record (replacing one of the same name); null or the error. */
export function loadLibraryCode(server: Server, code: string): string | null {
  const r = scriptingOf(server).loadLibrary(code, true);
  return typeof r === 'string' ? null : r.err;
}
