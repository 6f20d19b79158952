// The Lua VM binding: lua-redis-wasm (PUC Lua 5.1 with cjson, cmsgpack, struct
// and bit, built to WebAssembly). One VM instance runs scripts on the main
// thread, another one in the script worker; the design notes are at the top
// of ./index.ts.
//
// The package gives us a sandboxed `redis`/`server` table with call, pcall,
// log, sha1hex, error_reply, status_reply and setresp, the KEYS/ARGV globals,
// Valkey's global protection, and an instruction budget ("fuel") per run.
// What it lacks (set_repl, acl_check_cmd, register_function) is added by a
// one-line Lua prelude that shadows `redis`/`server` with a read-only proxy;
// the prelude replaces nothing on the user's lines, so line numbers in error
// messages stay those of the user's code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LuaWasmModule, LuaEngine, ReplyValue, RedisHost, RedisProps } from 'lua-redis-wasm';

export type { ReplyValue };

// Same values as REDIS_COMPAT_VERSION / VALKEY_COMPAT_VERSION in src/server/server.ts (not imported:
// this module is loaded with a top-level await and must stay out of the import cycle).
const REDIS_COMPAT_VERSION = '7.2.4';
const VALKEY_COMPAT_VERSION = '8.0.2';
// The wasm file is read once; each VM instance is instantiated from the same bytes.
// The fast path below uses the engine's internals: the version is pinned in package.json.
const lrw = (await import('lua-redis-wasm')) as typeof import('lua-redis-wasm');
const wasmPath = lrw.LuaWasmModule.defaultWasmPath();
const WASM_BYTES: Uint8Array = readFileSync(wasmPath.startsWith('file:') ? fileURLToPath(wasmPath) : wasmPath);

/**
 * Memory of one Lua VM: the engine's WebAssembly memory is fixed at 64 MB and
 * cannot grow, which bounds what a script can allocate (a script that needs
 * more aborts the VM, which is then replaced).
 */
export const LUA_VM_MAX_MEMORY = 64 * 1024 * 1024;

function versionNum(v: string): number {
  const [a, b, c] = v.split('.').map((x) => parseInt(x, 10));
  return (a << 16) | (b << 8) | c;
}

export const REDIS_PROPS: RedisProps = {
  REDIS_VERSION: { value: REDIS_COMPAT_VERSION },
  REDIS_VERSION_NUM: { value: versionNum(REDIS_COMPAT_VERSION) },
  SERVER_VERSION: { value: VALKEY_COMPAT_VERSION },
  SERVER_VERSION_NUM: { value: versionNum(VALKEY_COMPAT_VERSION) },
  SERVER_NAME: { value: 'valkey' },
  REPL_NONE: { value: 0 },
  REPL_AOF: { value: 1 },
  REPL_SLAVE: { value: 2 },
  REPL_REPLICA: { value: 2 },
  REPL_ALL: { value: 3 },
  // Effects replication is the only mode (Valkey 7+): always true.
  replicate_commands: { returns: true },
};

/** Loads a fresh VM module (async: WebAssembly instantiation). */
export function loadModule(): Promise<LuaWasmModule> {
  return lrw.load({
    wasmBytes: WASM_BYTES,
    redisProps: REDIS_PROPS,
    profile: 'valkey-8.0',
  });
}

interface Exports {
  _set_limits(fuel: number, reply: number, arg: number): void;
  _alloc(n: number): number;
  _free_mem(p: number): void;
  HEAPU8: Uint8Array;
}

/** The engine's internals used by the fast path (evalWithArgs minus its per-call SHA-1 and copies). */
interface EngineInternals {
  callEvalWithArgs(scriptPtr: number, scriptLen: number, argsPtr: number, argsLen: number, keys: number): unknown;
  decodeResult(result: unknown, sha: string): ReplyValue;
}

/** One VM with its host callbacks; `dead` after the VM aborted (out of memory). */
export class Vm {
  readonly engine: LuaEngine;
  private readonly exp: Exports;
  dead = false;
  private fuel = -1;
  constructor(mod: LuaWasmModule, host: RedisHost) {
    this.engine = mod.create(host);
    this.exp = (this.engine as unknown as { exports: Exports }).exports;
  }
  /** Chunks kept in the VM's memory (address by chunk), so a cached script is not copied in per run. */
  private readonly resident = new Map<Buffer, number>();

  /** Size of the VM's WebAssembly memory. */
  memoryBytes(): number {
    return this.exp.HEAPU8.length;
  }

  /** Frees the VM copy of a chunk that is no longer cached. */
  release(chunk: Buffer): void {
    const p = this.resident.get(chunk);
    if (p === undefined) return;
    this.resident.delete(chunk);
    if (!this.dead) this.exp._free_mem(p);
  }

  /**
   * The fast path: runs a cached chunk with KEYS = argv[kFrom, kTo) and
   * ARGV = argv[kTo, aTo) (latin1 strings written straight into the VM's
   * memory in the engine's argument layout: u32 count, then u32 length +
   * bytes per item). `sha` only labels errors.
   */
  runArgv(chunk: Buffer, argv: string[], kFrom: number, kTo: number, aTo: number, sha: string, fuel: number): ReplyValue {
    if (fuel !== this.fuel) {
      this.exp._set_limits(fuel === 0 ? 0xffffffff : Math.min(fuel, 0xffffffff), 0, 0);
      this.fuel = fuel;
    }
    const E = this.exp;
    let sp = this.resident.get(chunk);
    if (sp === undefined) {
      sp = E._alloc(chunk.length);
      E.HEAPU8.set(chunk, sp);
      this.resident.set(chunk, sp);
    }
    let size = 4;
    for (let i = kFrom; i < aTo; i++) size += 4 + argv[i].length;
    const ap = E._alloc(size);
    const heap = E.HEAPU8;
    const b = Buffer.from(heap.buffer, heap.byteOffset + ap, size);
    b.writeUInt32LE(aTo - kFrom, 0);
    let o = 4;
    for (let i = kFrom; i < aTo; i++) {
      const a = argv[i];
      b.writeUInt32LE(a.length, o);
      o += 4;
      o += b.latin1Write(a, o);
    }
    const eng = this.engine as unknown as EngineInternals;
    const r = eng.callEvalWithArgs(sp, chunk.length, ap, size, kTo - kFrom);
    E._free_mem(ap);
    return eng.decodeResult(r, sha);
  }

  /**
   * Runs a chunk with KEYS/ARGV and an instruction budget. The engine always
   * has one (an unsigned 32-bit count); 0 asks for the largest, which is
   * about 15 s of a tight Lua loop on a 2020s CPU.
   */
  run(src: Buffer, keys: Buffer[], args: Buffer[], fuel: number): ReplyValue {
    if (fuel !== this.fuel) {
      this.exp._set_limits(fuel === 0 ? 0xffffffff : Math.min(fuel, 0xffffffff), 0, 0);
      this.fuel = fuel;
    }
    return this.engine.evalWithArgs(src, keys, args);
  }
}

// ------------------------------------------------------------------ preludes
//
// `__VC` below is the engine's own redis.call, captured before the shadowing.
// A "command" whose name starts with a NUL byte is a request to the host
// (set_repl, acl_check_cmd); no real command name starts with one. A script
// that sends such a name itself only reaches those same two handlers.

const PROXY_TAIL =
  "},{__index=redis,__newindex=function() error('Attempt to modify a readonly table',2) end,__metatable=false}) local server=redis ";

/** Functions every script sees in addition to the engine's own. */
const EXTRA_FUNCS =
  "set_repl=function(...) if select('#',...)~=1 then error('redis.set_repl() requires one argument.',2) end __VC('\\0set_repl',(...)) end," +
  "acl_check_cmd=function(...) return __VC('\\0acl_check_cmd',...)==1 end," +
  // Valkey keeps the message as given (the engine's own version adds an ERR code).
  "error_reply=function(...) local e=(...) if select('#',...)~=1 or type(e)~='string' then return {err='ERR wrong number or type of arguments'} end " +
  "if string.sub(e,1,1)=='-' then e=string.sub(e,2) end return {err=e} end," +
  // Only meaningful under the script debugger (SCRIPT DEBUG), which Vireo does not have.
  'breakpoint=function() return false end,debug=function() end,';

/** Prelude of an EVAL script (only when the script mentions what it adds). */
export const EVAL_PRELUDE = 'local __VC=redis.call local redis=setmetatable({' + EXTRA_FUNCS + PROXY_TAIL;

/** True if an EVAL body needs the prelude (it names one of the added functions). */
export function needsPrelude(body: string): boolean {
  return (
    body.includes('set_repl') ||
    body.includes('acl_check_cmd') ||
    body.includes('error_reply') ||
    body.includes('breakpoint') ||
    body.includes('.debug')
  );
}

/**
 * Prelude of a function library: register_function records callbacks in __F,
 * with Valkey's argument checks. __L is true while FUNCTION LOAD runs the
 * library (redis.call and friends are refused then).
 */
export const LIBRARY_PRELUDE =
  'local __VC=redis.call local __F={} local __N={} ' +
  'local function __flags(t) local out={} if type(t)~="table" then error("ERR flags argument to redis.register_function must be a table representing function flags",0) end ' +
  'for _,f in ipairs(t) do if f~="no-writes" and f~="allow-oom" and f~="allow-stale" and f~="no-cluster" and f~="allow-cross-slot-keys" then error("ERR unknown flag given",0) end out[#out+1]=f end return out end ' +
  'local function __reg(...) local n=select("#",...) local name,cb,flags,desc ' +
  'if n==1 then local t=(...) if type(t)~="table" then error("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",0) end ' +
  'for k,v in pairs(t) do if k=="function_name" then if type(v)~="string" then error("ERR function_name argument given to redis.register_function must be a string",0) end name=v ' +
  'elseif k=="callback" then if type(v)~="function" then error("ERR callback argument given to redis.register_function must be a function",0) end cb=v ' +
  'elseif k=="flags" then flags=__flags(v) elseif k=="description" then if type(v)~="string" then error("ERR description argument given to redis.register_function must be a string",0) end desc=v ' +
  'else error("ERR unknown argument given to redis.register_function",0) end end ' +
  'if name==nil then error("ERR redis.register_function must get a function name argument",0) end if cb==nil then error("ERR redis.register_function must get a callback argument",0) end ' +
  'elseif n==2 then name,cb=... if type(name)~="string" then error("ERR first argument to redis.register_function must be a string",0) end if type(cb)~="function" then error("ERR second argument to redis.register_function must be a function",0) end ' +
  'else error("ERR wrong number of arguments to redis.register_function",0) end ' +
  'if not string.find(name,"^[%w_]+$") then error("ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long",0) end ' +
  'if __F[name]~=nil then error("ERR Function already exists in the library",0) end ' +
  '__F[name]={cb,flags or {},desc} __N[#__N+1]=name end ' +
  'local redis=setmetatable({register_function=__reg,' + EXTRA_FUNCS + PROXY_TAIL +
  'local __body=function() ';

/** What follows a library body when FUNCTION LOAD runs it: the registrations. */
export const LIBRARY_LOAD_EPILOGUE =
  '\nend __body() local __r={} for i,n in ipairs(__N) do local e=__F[n] __r[i]={n,e[2],e[3] or false} end return __r';

/** What follows a library body when FCALL runs one of its functions. */
export function libraryCallEpilogue(fname: string): string {
  return `\nend __body() return (__F["${fname}"][1](KEYS,ARGV))`;
}
