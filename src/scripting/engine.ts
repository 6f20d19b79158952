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
import { WireWriter, decodeWire, W_SCRIPT_ERROR } from './resp.js';

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
  _eval_with_args(ret: number, scriptPtr: number, scriptLen: number, argsPtr: number, argsLen: number, keys: number): void;
  HEAPU8: Uint8Array;
}

/** The engine's internals used by the fast path (evalWithArgs minus its per-call SHA-1 and copies). */
interface EngineInternals {
  decodeResult(result: unknown, sha: string): ReplyValue;
}

/**
 * The host side of redis.call/redis.pcall on the fast path: runs the command
 * (argv as latin1 strings) and leaves its reply encoded in `out`.
 */
export type FastCall = (argv: string[], out: WireWriter) => void;

/** The package's mutable import table (LuaWasmModule.handlers): the VM calls these for host imports. */
interface Handlers {
  call: (...args: number[]) => unknown;
  pcall: (...args: number[]) => unknown;
}

/** A chunk compiled into the VM's cache: its index there and the chunk that calls it. */
interface CachedFn {
  id: number;
  call: Buffer;
}

/** One VM with its host callbacks; `dead` after the VM aborted (out of memory). */
export class Vm {
  readonly engine: LuaEngine;
  private readonly exp: Exports;
  dead = false;
  private fuel = -1;
  /** The whole VM memory as a Buffer (fixed size: the memory never grows). */
  private heap: Buffer;
  private heapView: Uint8Array;
  /** 8 bytes for the PtrLen a run returns, and a KEYS/ARGV area reused by every run. */
  private retPtr = 0;
  private argPtr = 0;
  private argCap = 0;
  private readonly wire = new WireWriter();
  /**
   * Compiled-script cache (see defineChunk): address of the table that holds
   * the compiled functions (-1: not looked up yet, 0: not available), and per
   * chunk the small chunk that calls its function (null: not cacheable,
   * false: run once so far).
   */
  private fnTable = -1;
  private nextFn = 1;
  private readonly fns = new Map<Buffer, CachedFn | null | false>();
  constructor(mod: LuaWasmModule, host: RedisHost, fast: FastCall | null = null) {
    this.engine = mod.create(host);
    this.exp = (this.engine as unknown as { exports: Exports }).exports;
    this.heapView = this.exp.HEAPU8;
    this.heap = Buffer.from(this.heapView.buffer, this.heapView.byteOffset, this.heapView.length);
    // redis.call/pcall without the package's per-call Buffers and Buffer.concat: the
    // arguments are read from the VM's memory as strings and the command's RESP is
    // encoded once into the VM's reply format. The imports use the sret ABI
    // (ret, ptr, len) in this build (pinned); any other shape keeps the package's path.
    const handlers = (mod as unknown as { handlers?: Handlers }).handlers;
    if (fast !== null && handlers !== undefined && this.exp._eval_with_args.length >= 6) {
      handlers.call = (ret: number, ptr: number, len: number) => this.hostCall(fast, ret, ptr, len);
      handlers.pcall = (ret: number, ptr: number, len: number) => this.hostCall(fast, ret, ptr, len);
    }
  }
  /** Chunks kept in the VM's memory (address by chunk), so a cached script is not copied in per run. */
  private readonly resident = new Map<Buffer, number>();

  /** Size of the VM's WebAssembly memory. */
  memoryBytes(): number {
    return this.exp.HEAPU8.length;
  }

  private heapBuf(): Buffer {
    const u = this.exp.HEAPU8;
    if (u !== this.heapView) {
      this.heapView = u;
      this.heap = Buffer.from(u.buffer, u.byteOffset, u.length);
    }
    return this.heap;
  }

  /** host_redis_call / host_redis_pcall (the engine raises errors for call itself). */
  private hostCall(fast: FastCall, ret: number, ptr: number, len: number): void {
    let h = this.heapBuf();
    const count = u32(h, ptr);
    // A fresh array per call: a command may keep its argv (propagation, SLOWLOG).
    const argv = new Array<string>(count);
    let o = ptr + 4;
    const end = ptr + len;
    for (let i = 0; i < count; i++) {
      if (o + 4 > end) throw new Error('ERR invalid argument encoding');
      const n = u32(h, o);
      o += 4;
      if (o + n > end) throw new Error('ERR invalid argument encoding');
      argv[i] = h.latin1Slice(o, o + n);
      o += n;
    }
    const w = this.wire;
    try {
      fast(argv, w);
    } catch (e) {
      w.value({ err: Buffer.from(e instanceof Error ? e.message : String(e), 'utf8') });
    }
    const n = w.len;
    const p = this.exp._alloc(n);
    h = this.heapBuf();
    if (p === 0) {
      // No memory left for the reply: the engine raises "empty reply from host".
      setU32(h, ret, 0);
      setU32(h, ret + 4, 0);
      return;
    }
    const b = w.buf;
    if (n <= 64) for (let i = 0; i < n; i++) h[p + i] = b[i];
    else h.set(b.subarray(0, n), p);
    setU32(h, ret, p);
    setU32(h, ret + 4, n);
    if (b.length > 1024 * 1024) w.buf = Buffer.allocUnsafe(4096);
  }

  /** Frees the VM copy of a chunk that is no longer cached. */
  release(chunk: Buffer): void {
    const fn = this.fns.get(chunk);
    this.fns.delete(chunk);
    if (fn !== undefined && fn !== null && fn !== false) {
      this.release(fn.call);
      if (!this.dead) this.withFnTableWritable(() => this.engine.eval(`rawset(${FN_TABLE},${fn.id},nil)`));
    }
    const p = this.resident.get(chunk);
    if (p === undefined) return;
    this.resident.delete(chunk);
    if (!this.dead) this.exp._free_mem(p);
  }

  // ---------------------------------------------------------------- compiled-script cache
  //
  // The engine compiles the chunk it is given on every run (luaL_loadbuffer),
  // which for a short script costs more than running it, and it exports no
  // Lua C API to keep a compiled function. Valkey compiles a script once into
  // a function kept in the Lua state; this does the same in Lua itself: on
  // its second run a script's chunk is compiled with loadstring (same chunk
  // name "@user_script", so the same messages and line numbers) and the
  // function is stored, and each run then compiles only `return (bit[id]())`,
  // which calls it (not a tail call: a script sees the same stack as when its
  // own chunk is the main one). A chunk loadstring refuses (`...` outside a
  // vararg function) stays compiled per run, which reports the error.
  //
  // Where: the globals table and every table reachable from it are read-only
  // (the patched Lua's per-table readonly flag, which rawset honours too).
  // The functions go in the `bit` library table under integer keys: the
  // cheapest trampoline to compile (every constant costs: a hidden table at
  // bit["\0v"] costs 0.2 us more per run, one in the globals' metatable 0.5
  // us), and a script iterating `bit` is rare. Entries are added or removed
  // by clearing the table's flag in the VM's memory around a short chunk, the
  // way the engine itself sets KEYS and ARGV. The flag's place in the Table
  // struct (an int at offset 8 on wasm32, after next, tt, marked, flags) is
  // checked on the live state first; if anything does not match, chunks are
  // compiled per run as before. A script can read the functions (and call
  // another script's, as with Redis 6's f_<sha> globals) but not change them.

  private withFnTableWritable<T>(f: () => T): T {
    const t = this.fnTable;
    const h = this.heapBuf();
    h.writeUInt32LE(0, t + 8);
    try {
      return f();
    } finally {
      this.heapBuf().writeUInt32LE(1, t + 8);
    }
  }

  /** Finds the table the functions go in, once per VM; false if the state does not look as expected. */
  private setUpFnTable(): boolean {
    this.fnTable = 0;
    const eng = this.engine;
    const t = tableAddr(eng.eval(`return tostring(${FN_TABLE})`));
    const h = this.heapBuf();
    if (t <= 0 || t + 40 > h.length || h[t + 4] !== LUA_TTABLE || h.readUInt32LE(t + 8) !== 1) return false;
    this.fnTable = t;
    // Writable with the flag cleared, read-only again after.
    const w = this.withFnTableWritable(() => eng.eval(`rawset(${FN_TABLE},-1,1) rawset(${FN_TABLE},-1,nil) return 1`));
    if (w !== 1 || !isErrorValue(eng.eval(`rawset(${FN_TABLE},-1,1)`))) {
      this.fnTable = 0;
      return false;
    }
    return true;
  }

  /** Compiles a chunk once into the function table; what calls it, or null (compiled per run). */
  private defineChunk(chunk: Buffer): CachedFn | null {
    if (this.fnTable < 0) this.setUpFnTable();
    if (this.fnTable === 0) {
      this.fns.set(chunk, null);
      return null;
    }
    const id = this.nextFn++;
    const r = this.withFnTableWritable(() =>
      this.engine.evalWithArgs(
        `local f=loadstring(ARGV[1],'@user_script') if not f then return 0 end rawset(${FN_TABLE},${id},f) return 1`,
        [],
        [chunk],
      ),
    );
    // Not compilable as a function (the run reports the error as before).
    if (r !== 1) {
      this.fns.set(chunk, null);
      return null;
    }
    const fn = { id, call: Buffer.from(`return (${FN_TABLE}[${id}]())`, 'latin1') };
    this.fns.set(chunk, fn);
    return fn;
  }

  /**
   * The fast path: runs a cached chunk with KEYS = argv[kFrom, kTo) and
   * ARGV = argv[kTo, aTo) (latin1 strings written straight into the VM's
   * memory in the engine's argument layout: u32 count, then u32 length +
   * bytes per item). `sha` only labels errors.
   */
  runArgv(chunk: Buffer, argv: string[], kFrom: number, kTo: number, aTo: number, sha: string, fuel: number): ReplyValue {
    const E = this.exp;
    if (fuel !== this.fuel) {
      E._set_limits(fuel === 0 ? 0xffffffff : Math.min(fuel, 0xffffffff), 0, 0);
      this.fuel = fuel;
    }
    // A chunk is compiled into the cache on its second run (a script sent once
    // with EVAL, e.g. with values pasted in, is not worth the extra step).
    const fn = this.fns.get(chunk);
    if (fn === undefined) this.fns.set(chunk, false);
    else if (fn !== null) chunk = (fn === false ? this.defineChunk(chunk) : fn)?.call ?? chunk;
    let sp = this.resident.get(chunk);
    if (sp === undefined) {
      sp = E._alloc(chunk.length);
      if (sp === 0) throw new Error('Lua VM out of memory');
      chunk.copy(this.heapBuf(), sp);
      this.resident.set(chunk, sp);
    }
    let size = 4;
    for (let i = kFrom; i < aTo; i++) size += 4 + argv[i].length;
    if (size > this.argCap) {
      if (this.argPtr !== 0) E._free_mem(this.argPtr);
      const cap = Math.max(256, size);
      this.argPtr = E._alloc(cap);
      this.argCap = this.argPtr === 0 ? 0 : cap;
      if (this.argPtr === 0) throw new Error('Lua VM out of memory');
    }
    if (this.retPtr === 0) {
      this.retPtr = E._alloc(8);
      if (this.retPtr === 0) throw new Error('Lua VM out of memory');
    }
    const ap = this.argPtr;
    let h = this.heapBuf();
    setU32(h, ap, aTo - kFrom);
    let o = ap + 4;
    for (let i = kFrom; i < aTo; i++) {
      const a = argv[i];
      const n = a.length;
      setU32(h, o, n);
      o += 4;
      if (n <= 32) for (let j = 0; j < n; j++) h[o + j] = a.charCodeAt(j);
      else h.latin1Write(a, o);
      o += n;
    }
    const ret = this.retPtr;
    E._eval_with_args(ret, sp, chunk.length, ap, size, kTo - kFrom);
    // A large KEYS/ARGV area goes back to the VM after the run.
    if (this.argCap > 64 * 1024) {
      E._free_mem(this.argPtr);
      this.argPtr = 0;
      this.argCap = 0;
    }
    h = this.heapBuf();
    const ptr = u32(h, ret);
    const len = u32(h, ret + 4);
    if (ptr === 0 || len === 0) return null;
    if (h[ptr] === W_SCRIPT_ERROR) return (this.engine as unknown as EngineInternals).decodeResult([ptr, len], sha);
    let v: ReplyValue;
    try {
      v = decodeWire(h, ptr, len);
    } finally {
      E._free_mem(ptr);
    }
    return v;
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

const LUA_TTABLE = 5;
/** The table compiled scripts are kept in (under integer keys). */
const FN_TABLE = 'bit';

function u32(h: Uint8Array, o: number): number {
  return (h[o] | (h[o + 1] << 8) | (h[o + 2] << 16) | (h[o + 3] << 24)) >>> 0;
}

function setU32(h: Uint8Array, o: number, v: number): void {
  h[o] = v;
  h[o + 1] = v >>> 8;
  h[o + 2] = v >>> 16;
  h[o + 3] = v >>> 24;
}

/** The address in "table: 0x1f2e0" (what tostring gives for a table), or 0. */
function tableAddr(v: ReplyValue): number {
  if (!Buffer.isBuffer(v)) return 0;
  const m = /^table: (?:0x)?([0-9a-fA-F]+)$/.exec(v.latin1Slice());
  return m === null ? 0 : parseInt(m[1], 16);
}

function isErrorValue(v: ReplyValue): boolean {
  return v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v) && 'err' in v;
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
