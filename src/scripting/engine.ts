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
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { LuaWasmModule, LuaEngine, ReplyValue, RedisHost, RedisProps } from 'lua-redis-wasm';
import { WireWriter, decodeWire, W_SCRIPT_ERROR } from './resp.js';
import { shortLatin1 } from '../util/latin1.js';
import { patchEngine, REGISTRY_LEN, LUA_STATE_ADDR } from './wasmpatch.js';

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

/**
 * The key under which the hidden store (see "Compiled-script cache") is
 * reached from host-made chunks: random per process, so a script cannot
 * name it. The script worker receives the main thread's value (the chunks
 * it runs are made by the main thread).
 */
let vmKey = 'k' + randomBytes(12).toString('hex');
export function vmSecret(): string {
  return vmKey;
}
export function setVmSecret(k: string): void {
  vmKey = k;
}

/**
 * The prefix of the keys under which compiled scripts are stored (see
 * "Compiled-script cache"): ten random bytes of 0x80-0xff (70 bits), as
 * short as will do because the one-line chunk that names it is compiled on
 * every run. Per VM instance set: each thread makes its own.
 */
const fnKey = Array.from(randomBytes(10), (b) => String.fromCharCode(b | 0x80)).join('');

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

/** The engine with its compiled-script cache added (wasmpatch.ts), or null: the original is used. */
const PATCHED_BYTES = patchEngine(WASM_BYTES);
/** Where a loaded module keeps the patched build's vireo_reg_set export. */
const REG_SET = Symbol('vireo_reg_set');
type RegSet = (n: number, ptr: number, len: number) => number;
let loading: Promise<unknown> = Promise.resolve();

/** Loads a fresh VM module (async: WebAssembly instantiation); one at a time. */
export function loadModule(): Promise<LuaWasmModule> {
  const next = loading.then(loadOne);
  loading = next.catch(() => undefined);
  return next;
}

async function loadOne(): Promise<LuaWasmModule> {
  const opts = { redisProps: REDIS_PROPS, profile: 'valkey-8.0' as const };
  if (PATCHED_BYTES === null) return lrw.load({ ...opts, wasmBytes: WASM_BYTES });
  // The package hands out only the exports it knows: the instance is caught
  // on its way through WebAssembly.instantiate (loads are serialised above).
  const wa = WebAssembly as unknown as { instantiate: (...a: unknown[]) => Promise<{ instance?: WebAssembly.Instance }> };
  const orig = wa.instantiate;
  let inst: WebAssembly.Instance | undefined;
  wa.instantiate = async (...a: unknown[]) => {
    const r = await orig.apply(WebAssembly, a);
    if (r.instance !== undefined) inst = r.instance;
    return r;
  };
  let mod: LuaWasmModule;
  try {
    mod = await lrw.load({ ...opts, wasmBytes: PATCHED_BYTES });
  } catch {
    return lrw.load({ ...opts, wasmBytes: WASM_BYTES });
  } finally {
    wa.instantiate = orig;
  }
  const regSet = inst?.exports.vireo_reg_set;
  if (typeof regSet === 'function') (mod as unknown as Record<symbol, RegSet>)[REG_SET] = regSet as RegSet;
  return mod;
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

/**
 * A chunk compiled into the VM's cache: its index there and the chunk that
 * calls it, or null when it is in the Lua registry (the patched engine runs
 * registry[id] in place of compiling a chunk).
 */
interface CachedFn {
  id: number;
  call: Buffer | null;
}

/** The last few strings seen in one place (a ring of RECENT). */
interface Recent {
  strs: string[];
  next: number;
}
const RECENT = 8;

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
   * Compiled-script cache (see defineChunk): whether the hidden store and the
   * error/pcall/xpcall wrappers are installed (false: chunks are compiled per
   * run and errors keep the engine's formatting), and per chunk the small
   * chunk that calls its function (null: not cacheable, false: run once so far).
   */
  private installed = false;
  private nextFn = 1;
  /** Address of the engine's remaining-fuel counter (an int64 in its data), 0: not found (see probeFuel). */
  private fuelAddr = 0;
  /** Address of the Lua state's allocated-bytes counter, 0: not found (see probeGcCount). */
  private gcAddr = 0;
  private readonly fns = new Map<Buffer, CachedFn | null | false>();
  /**
   * The engine's exports, read once: the emscripten module object holds
   * dozens of properties (a slow dictionary lookup per access), and these
   * run several times per script.
   */
  private readonly alloc: (n: number) => number;
  private readonly freeMem: (p: number) => void;
  private readonly evalWithArgs: Exports['_eval_with_args'];
  /** Runs on the VM's stack now (eval_with_args calls in progress). */
  private running = 0;
  /** The patched engine's vireo_reg_set (see wasmpatch.ts), or null: chunks are cached through the hidden store. */
  private regSet: RegSet | null = null;
  /** Recent redis.call command names (see recent()). */
  private readonly names: Recent = { strs: [], next: 0 };
  constructor(mod: LuaWasmModule, host: RedisHost, fast: FastCall | null = null) {
    this.engine = mod.create(host);
    this.exp = (this.engine as unknown as { exports: Exports }).exports;
    this.alloc = this.exp._alloc;
    this.freeMem = this.exp._free_mem;
    this.evalWithArgs = this.exp._eval_with_args;
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
    this.installed = this.install();
    this.probeGcCount();
    if (fast !== null && handlers !== undefined) this.probeFuel(handlers);
    const rs = (mod as unknown as Record<symbol, RegSet | undefined>)[REG_SET];
    if (this.installed && rs !== undefined) this.regSet = this.checkRegistry(rs);
  }

  /** vireo_reg_set if a function stored with it runs and returns as expected (else null). */
  private checkRegistry(rs: RegSet): RegSet | null {
    const id = this.nextFn++;
    const src = Buffer.from("return {KEYS[1], ARGV[1], #KEYS + #ARGV, 'x' .. (6 * 7)}", 'latin1');
    const p = this.alloc(src.length);
    const ret = this.alloc(8);
    const args = this.alloc(64);
    if (p === 0 || ret === 0 || args === 0) return null;
    try {
      let h = this.heapBuf();
      src.copy(h, p);
      if (rs(id, p, src.length) !== 1) return null;
      const a = Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0x6b, 1, 0, 0, 0, 0x61]);
      a.copy(h, args);
      this.evalWithArgs(ret, id, REGISTRY_LEN, args, a.length, 1);
      h = this.heapBuf();
      const ptr = u32(h, ret);
      const len = u32(h, ret + 4);
      if (ptr === 0) return null;
      const ok = h[ptr] !== W_SCRIPT_ERROR && JSON.stringify(decodeWire(h, ptr, len)) === JSON.stringify([Buffer.from('k'), Buffer.from('a'), 2, Buffer.from('x42')]);
      this.freeMem(ptr);
      rs(id, 0, 0);
      return ok ? rs : null;
    } catch {
      return null;
    } finally {
      this.freeMem(p);
      this.freeMem(ret);
      this.freeMem(args);
    }
  }

  /**
   * Finds the engine's remaining-fuel counter, so a run can be given more
   * fuel while it runs (refillFuel): the engine has no export for that, only
   * set_limits for the next run. A run with a distinctive limit F calls the
   * host once; the counter is the int64 next to the limit F (both in the
   * engine's static data) that holds F less whole hook steps (1000). Not
   * found: refillFuel does nothing (a run keeps the budget it started with).
   */
  private probeFuel(handlers: Handlers): void {
    const F = 0x3a5b7c91;
    const prev = handlers.call;
    const scan = (_argv: string[], out: WireWriter): void => {
      const h = this.heapBuf();
      const end = Math.min(h.length, 1 << 20) - 8;
      for (let o = 8; o < end; o += 8) {
        if (h.readUInt32LE(o) !== F || h.readUInt32LE(o + 4) !== 0) continue;
        for (const n of [o + 8, o - 8]) {
          const lo = h.readUInt32LE(n);
          if (h.readUInt32LE(n + 4) === 0 && lo < F && lo > F - 1_000_000 && (F - lo) % 1000 === 0) this.fuelAddr = n;
        }
        if (this.fuelAddr !== 0) break;
      }
      out.value(1);
    };
    try {
      handlers.call = (ret: number, ptr: number, len: number) => this.hostCall(scan, ret, ptr, len);
      this.exp._set_limits(F, 0, 0);
      this.fuel = F;
      this.engine.eval("local x=0 for i=1,3000 do x=x+i end return redis.call('probe')");
    } catch {
      this.fuelAddr = 0;
    } finally {
      handlers.call = prev;
    }
  }

  /**
   * Finds the Lua state's allocated-bytes counter (global_State.totalbytes,
   * what lua_gc(L, LUA_GCCOUNT) reports), so INFO can read it without a run:
   * the engine exports no Lua C API. In the pinned build lua_State *g_state
   * is at LUA_STATE_ADDR, l_G at offset 16 of the lua_State and totalbytes at
   * offset 68 of the global_State (PUC Lua 5.1, 32-bit pointers). Used only if
   * it agrees with collectgarbage('count') in a run; else gcAddr stays 0.
   */
  private probeGcCount(): void {
    if (PATCHED_BYTES === null) return;
    try {
      const h = this.heapBuf();
      const L = u32(h, LUA_STATE_ADDR);
      if (L === 0 || L + 20 > h.length) return;
      const g = u32(h, L + 16);
      if (g === 0 || g + 72 > h.length) return;
      const addr = g + 68;
      const before = u32(h, addr);
      const r = this.engine.eval("return tostring(collectgarbage('count') * 1024)");
      const after = u32(h, addr);
      if (!Buffer.isBuffer(r)) return;
      const v = Number(r.toString('latin1'));
      if (!Number.isInteger(v) || v < 1024 || Math.abs(v - before) > 65536 || Math.abs(v - after) > 65536) return;
      this.gcAddr = addr;
    } catch {
      this.gcAddr = 0;
    }
  }

  /** Bytes the Lua VM has allocated, as Valkey's luaMemory reports them (whole KB); 0: unknown. */
  luaMemory(): number {
    if (this.gcAddr === 0) return 0;
    return Math.floor(u32(this.heapBuf(), this.gcAddr) / 1024) * 1024;
  }

  /** Gives the running script the largest budget again from now (main thread, once it has written). */
  refillFuel(): void {
    const a = this.fuelAddr;
    if (a === 0) return;
    const h = this.heap;
    h.writeUInt32LE(0xffffffff, a);
    h.writeUInt32LE(0, a + 4);
  }
  /** Chunks kept in the VM's memory (address by chunk), so a cached script is not copied in per run. */
  private readonly resident = new Map<Buffer, number>();

  private heapBuf(): Buffer {
    // The memory cannot grow (see LUA_VM_MAX_MEMORY); if it ever did, the old
    // buffer would be detached (length 0) and the view is taken again.
    if (this.heap.length !== 0) return this.heap;
    const u = this.exp.HEAPU8;
    this.heapView = u;
    this.heap = Buffer.from(u.buffer, u.byteOffset, u.length);
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
      argv[i] = i === 0 && n <= 32 ? this.recent(this.names, h, o, n) : n <= 24 ? shortLatin1(h, o, n) : h.latin1Slice(o, o + n);
      o += n;
    }
    const w = this.wire;
    try {
      fast(argv, w);
    } catch (e) {
      w.value({ err: Buffer.from(e instanceof Error ? e.message : String(e), 'utf8') });
    }
    const n = w.len;
    const p = this.alloc(n);
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

  /**
   * A short string read from the VM's memory: one of the last few in `ring`
   * when the bytes match (a script calls the same few commands over and
   * over), else a new string that joins them. No new string then, and its
   * hash is kept. (Keys were tried too: no gain, random keys only miss.)
   */
  private recent(ring: Recent, h: Buffer, o: number, n: number): string {
    const strs = ring.strs;
    outer: for (let k = 0; k < strs.length; k++) {
      const s = strs[k];
      if (s.length !== n) continue;
      for (let j = n - 1; j >= 0; j--) if (s.charCodeAt(j) !== h[o + j]) continue outer;
      return s;
    }
    const s = n <= 24 ? shortLatin1(h, o, n) : h.latin1Slice(o, o + n);
    strs[ring.next] = s;
    ring.next = (ring.next + 1) % RECENT;
    return s;
  }

  /** Frees the VM copy of a chunk that is no longer cached. */
  release(chunk: Buffer): void {
    const fn = this.fns.get(chunk);
    this.fns.delete(chunk);
    if (fn !== undefined && fn !== null && fn !== false) {
      if (fn.call === null) {
        // Not while a run is on the VM's stack (vireo_reg_set empties it); the entry then stays.
        if (!this.dead && this.running === 0) this.regSet!(fn.id, 0, 0);
      } else {
        this.release(fn.call);
        if (!this.dead) this.engine.eval(Buffer.from(`${FN_TABLE}["${vmKey}"]("${fnKey}${fn.id}",nil)`, 'latin1'));
      }
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
  // a function kept in the Lua state. Two ways here, both from a chunk's
  // second run on (a script sent once with EVAL is not worth the extra step):
  //
  // With the patched engine (wasmpatch.ts; the pinned build only), the
  // chunk is compiled once into the Lua registry (vireo_reg_set, chunk name
  // "@user_script") and a run passes its registry index in place of a chunk:
  // the engine then calls that function exactly where it would call the
  // freshly compiled chunk, so a run is an uncached run without the
  // compiling (same function, messages, line numbers and stack). This took
  // the VM's part of a GET+INCR script from 2.6 to 1.0 us. The registry is
  // out of a script's reach (no debug library).
  //
  // Otherwise, in Lua itself: the chunk is compiled with loadstring (same
  // chunk name) and the function is stored in a hidden store, and each run
  // then compiles only `return (bit["<key><id>"]())`, which calls it (not a
  // tail call: a script sees the same stack as when its own chunk is the
  // main one). A chunk loadstring refuses (`...` outside a vararg function)
  // stays compiled per run, which reports the error.
  //
  // Where (this second way): the functions live in a table that is the __index of the `bit`
  // library table's metatable (a table __index: no function call per run),
  // protected with __metatable=false. Nothing a script can enumerate holds them: not
  // pairs(bit) (they are not in bit), not getmetatable(bit) (false), not the
  // globals. They are reached by random keys (fnKey + id; vmSecret() for the
  // store's own functions), which a script cannot know, and a miss on bit
  // returns nil as before. The cheap trampoline stays one short chunk (every
  // constant and every byte of its key costs compile time).
  //
  // The globals table and every table reachable from it are read-only (the
  // patched Lua's per-table readonly flag, which rawset and setmetatable
  // honour too). The install chunk runs once per VM with the flag of `bit`
  // and of the globals cleared in the VM's memory, the way the engine itself
  // sets KEYS and ARGV. The flag's place in the Table struct (an int at
  // offset 8 on wasm32, after next, tt, marked, flags) is checked on the live
  // state first; if anything does not match, nothing is installed and chunks
  // are compiled per run as before.
  //
  // The same chunk replaces the globals error, pcall and xpcall with Lua
  // wrappers (see INSTALL_CHUNK): the engine turns an error object that is not
  // a string into "script execution failed" and takes the line of the
  // innermost Lua frame, where Valkey keeps {err=...} tables' messages and
  // reports the line of the caller of error().

  /** Clears the readonly flag of the tables at `addrs` around f, and sets it again after. */
  private withWritable<T>(addrs: number[], f: () => T): T {
    const h = this.heapBuf();
    for (const a of addrs) h.writeUInt32LE(0, a + 8);
    try {
      return f();
    } finally {
      const h2 = this.heapBuf();
      for (const a of addrs) h2.writeUInt32LE(1, a + 8);
    }
  }

  /** The address of a read-only table named by a Lua expression, or 0 if the state does not look as expected. */
  private readonlyTable(expr: string): number {
    const eng = this.engine;
    const t = tableAddr(eng.eval(`return tostring(${expr})`));
    const h = this.heapBuf();
    if (t <= 0 || t + 40 > h.length || h[t + 4] !== LUA_TTABLE || h.readUInt32LE(t + 8) !== 1) return 0;
    // Writable with the flag cleared, read-only again after.
    const w = this.withWritable([t], () => eng.eval(`rawset(${expr},-1,1) rawset(${expr},-1,nil) return 1`));
    if (w !== 1 || !isErrorValue(eng.eval(`rawset(${expr},-1,1)`))) return 0;
    return t;
  }

  /** Installs the hidden store and the error wrappers, once per VM; false if the state does not look as expected. */
  private install(): boolean {
    try {
      const b = this.readonlyTable(FN_TABLE);
      const g = b === 0 ? 0 : this.readonlyTable('_G');
      if (b === 0 || g === 0) return false;
      const r = this.withWritable([b, g], () => this.engine.evalWithArgs(INSTALL_CHUNK, [], [Buffer.from(vmKey, 'latin1')]));
      return r === 1;
    } catch {
      return false;
    }
  }

  /** Compiles a chunk once into the hidden store; what calls it, or null (compiled per run). */
  private defineChunk(chunk: Buffer): CachedFn | null {
    if (!this.installed) {
      this.fns.set(chunk, null);
      return null;
    }
    const id = this.nextFn++;
    if (this.regSet !== null) {
      // The chunk's own function, compiled once: a run is then the same as
      // an uncached one (same function, same chunk name, same stack) without
      // the compiling.
      const p = this.alloc(chunk.length);
      if (p === 0) throw new Error('Lua VM out of memory');
      chunk.copy(this.heapBuf(), p);
      const ok = this.regSet(id, p, chunk.length);
      this.freeMem(p);
      const fn = ok === 1 ? { id, call: null } : null;
      this.fns.set(chunk, fn);
      return fn;
    }
    const r = this.engine.evalWithArgs(
      Buffer.from(`local f=loadstring(ARGV[1],'@user_script') if not f then return 0 end ${FN_TABLE}["${vmKey}"]("${fnKey}${id}",f) return 1`, 'latin1'),
      [],
      [chunk],
    );
    // Not compilable as a function (the run reports the error as before).
    if (r !== 1) {
      this.fns.set(chunk, null);
      return null;
    }
    const fn = { id, call: Buffer.from(`return (${FN_TABLE}["${fnKey}${id}"]())`, 'latin1') };
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
    if (fuel !== this.fuel) {
      this.exp._set_limits(fuel === 0 ? 0xffffffff : Math.min(fuel, 0xffffffff), 0, 0);
      this.fuel = fuel;
    }
    // A chunk is compiled into the cache on its second run (a script sent once
    // with EVAL, e.g. with values pasted in, is not worth the extra step).
    const fn = this.fns.get(chunk);
    let sp: number | undefined;
    let slen = chunk.length;
    if (fn === undefined) this.fns.set(chunk, false);
    else if (fn !== null) {
      const cached = fn === false ? this.defineChunk(chunk) : fn;
      if (cached !== null) {
        if (cached.call === null) {
          sp = cached.id;
          slen = REGISTRY_LEN;
        } else {
          chunk = cached.call;
          slen = chunk.length;
        }
      }
    }
    if (sp === undefined) {
      sp = this.resident.get(chunk);
      if (sp === undefined) {
        sp = this.alloc(chunk.length);
        if (sp === 0) throw new Error('Lua VM out of memory');
        chunk.copy(this.heapBuf(), sp);
        this.resident.set(chunk, sp);
      }
    }
    let size = 4;
    for (let i = kFrom; i < aTo; i++) size += 4 + argv[i].length;
    if (size > this.argCap) {
      if (this.argPtr !== 0) this.freeMem(this.argPtr);
      const cap = Math.max(256, size);
      this.argPtr = this.alloc(cap);
      this.argCap = this.argPtr === 0 ? 0 : cap;
      if (this.argPtr === 0) throw new Error('Lua VM out of memory');
    }
    if (this.retPtr === 0) {
      this.retPtr = this.alloc(8);
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
    this.running++;
    try {
      this.evalWithArgs(ret, sp, slen, ap, size, kTo - kFrom);
    } finally {
      this.running--;
    }
    // A large KEYS/ARGV area goes back to the VM after the run.
    if (this.argCap > 64 * 1024) {
      this.freeMem(this.argPtr);
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
      this.freeMem(ptr);
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

/** How an EVAL script's body is wrapped into its chunk: a function whose first result is returned. */
export const EVAL_HEAD = 'return ((function() ';
export const EVAL_TAIL = '\nend)())';

const LUA_TTABLE = 5;
/** The library table whose metatable reaches the hidden store. */
const FN_TABLE = 'bit';

// ------------------------------------------------------------------ error objects
//
// Valkey's error handler turns what a script raised into {err=..., source,
// line} (a string s becomes 'ERR '..s, a table keeps its err field, nil or a
// boolean become 'ERR nil' / 'ERR true') with the line of the function that
// called error(); its pcall hands a script the err string of an error table.
// The engine only passes strings through (anything else becomes "script
// execution failed") and takes the innermost Lua frame's line. So error() is
// replaced by a Lua function that raises a marked string instead:
//   "\1V" kind line "\1" message
// kind: S (a string or number: the message with Lua's position prefix), T (a
// table: its err), N (nil), t / f (true / false), C (a redis.call error under
// RESP3, see the prelude); line: the caller's line, or empty. The host turns a
// marked error that ends a script into Valkey's reply (scriptErrorText in
// index.ts); the pcall/xpcall wrappers hand the script what Valkey's would
// (the message, or nil/true/false). Levels are counted by hand (a tail call
// would hide a frame): inside a wrapper, select(2,P(E,'',n)) is the position
// prefix of the function n-2 levels above the wrapper's caller.
//
// The store: FN[key](k, f) sets FN[k]; FN[key.."r"] converts a RESP3 reply
// (see resp.ts: a null arrives as {ok="\1N"}; a reply holding nested nulls
// arrives as {{ok="\1W"}, reply}) and raises redis.call errors as marked C
// errors.
const INSTALL_CHUNK =
  "local E,P,XP,T,TS,S,SB,SS,SF,M,RG,PR,SMT=error,pcall,xpcall,type,tostring,select,string.byte,string.sub,string.find,string.match,rawget,pairs,setmetatable " +
  // RT: the tables raised, by marked string (weak), so pcall/xpcall can hand back the object itself.
  "local K=ARGV[1] local FN={} local RT=SMT({},{__mode='v'}) " +
  "local function ln(w) return M(w,':(%d+): $') or '' end " +
  'local function EW(e,l) ' +
  "local t=T(e) local at=ln(S(2,P(E,'',3))) " +
  "if t=='string' or t=='number' then if l==nil then l=1 end if T(l)~='number' then E(e,l) end " +
  "local m=e if l>0 then m=S(2,P(E,'',l+2))..e end E('\\1VS'..at..'\\1'..m,0) end " +
  "local k,m if t=='table' then k='T' m=e.err if T(m)~='string' and T(m)~='number' then k='U' m='ERR unknown error' end " +
  "elseif t=='nil' then k='N' m='ERR nil' elseif t=='boolean' then k=e and 't' or 'f' m='ERR '..TS(e) else E(e,l) end " +
  "local s='\\1V'..k..at..'\\1'..m if t=='table' then RT[s]=e end E(s,0) end " +
  'local function um(e) ' +
  "if T(e)=='string' and SB(e,1)==1 and SB(e,2)==86 then local k=SS(e,3,3) " +
  "if k=='N' then return nil elseif k=='t' then return true elseif k=='f' then return false elseif k=='U' then return RT[e] or {} end " +
  "local i=SF(e,'\\1',4,true) if i then return SS(e,i+1) end return e end " +
  "if T(e)=='table' then local m=e.err if T(m)=='string' or T(m)=='number' then return m end end return e end " +
  'local function fix(ok,...) if ok then return ok,... end return false,um((...)) end ' +
  // An xpcall handler is given the error object itself: a table again for T.
  "local function ux(e) if T(e)=='string' and SB(e,1)==1 and SB(e,2)==86 and SS(e,3,3)=='T' then return RT[e] or {err=um(e)} end return um(e) end " +
  // A RESP3 array is rebuilt by inserting its non-null items in order into a
  // fresh table, as Valkey builds it (so # and the table's layout match);
  // null map values are dropped.
  "local function isn(v) return T(v)=='table' and RG(v,'ok')=='\\1N' end " +
  'local function nf(t) if T(t)~="table" then return t end ' +
  "local m=RG(t,'map') if T(m)=='table' then for k,v in PR(m) do if isn(v) or isn(k) then m[k]=nil elseif T(v)=='table' then m[k]=nf(v) end end return t end " +
  "local s=RG(t,'set') if T(s)=='table' then for k in PR(s) do if isn(k) then s[k]=nil end end return t end " +
  'if RG(t,1)==nil then return t end ' +
  'local o={} for i=1,#t do local v=RG(t,i) if not isn(v) then if T(v)=="table" then v=nf(v) end o[i]=v end end return o end ' +
  'FN[K]=function(k,f) FN[k]=f end ' +
  "FN[K..'r']=function(r,raise) if T(r)~='table' then return r end " +
  "if raise then local e=RG(r,'err') if e~=nil then E('\\1VC'..ln(S(2,P(E,'',4)))..'\\1'..TS(e),0) end end " +
  "if RG(r,'ok')=='\\1N' then return nil end local w=RG(r,1) " +
  "if T(w)=='table' and RG(w,'ok')=='\\1W' then r=nf(RG(r,2)) end return r end " +
  'SMT(bit,{__index=FN,__metatable=false}) ' +
  "rawset(_G,'error',EW) " +
  "rawset(_G,'pcall',function(...) return fix(P(...)) end) " +
  "rawset(_G,'xpcall',function(f,h) if T(h)~='function' then return XP(f,h) end return XP(f,function(e) return h(ux(e)) end) end) " +
  'return 1';

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
  // Valkey's error_reply: a leading '-' is dropped; the first word is the
  // error code if there is a space, else the code is ERR; CR/LF are trimmed
  // from both ends of the message (the engine's own adds ERR unless the first
  // word is upper case).
  "error_reply=function(...) local e=(...) if select('#',...)~=1 or type(e)~='string' then return {err='ERR wrong number or type of arguments'} end " +
  "if string.sub(e,1,1)=='-' then e=string.sub(e,2) end local c,m='ERR',e local i=string.find(e,' ',1,true) " +
  "if i then c=string.sub(e,1,i-1) m=string.sub(e,i+1) end return {err=c..' '..string.match(m,'^[\\r\\n]*(.-)[\\r\\n]*$')} end," +
  // Only meaningful under the script debugger (SCRIPT DEBUG), which Vireo does not have.
  'breakpoint=function() return false end,debug=function() end,';

/**
 * After redis.setresp(3) a RESP3 null must reach the script as nil (Valkey),
 * but the engine turns every null it is given into false. The host sends a
 * marked value instead (resp.ts) and these wrappers turn it into nil; they
 * also raise redis.call errors themselves (a marked "C" error), so the line
 * reported is the caller's and not the wrapper's (see INSTALL_CHUNK).
 * Statement calls, not tail calls: the frames are counted.
 */
function resp3Funcs(): string {
  return 'call=function(...) local r=__R(__VP(...),1) return r end,pcall=function(...) local r=__R(__VP(...)) return r end,';
}

function resp3Locals(): string {
  return `local __VP=redis.pcall local __R=bit["${vmSecret()}r"] `;
}

/** Whether a script may switch to RESP3 (then redis.call/pcall are wrapped). */
function mentionsResp(body: string): boolean {
  return body.includes('setresp');
}

/** Prelude of an EVAL script: empty unless the script mentions what it adds. */
export function evalPrelude(body: string): string {
  if (!needsPrelude(body)) return '';
  const r3 = mentionsResp(body);
  return (
    'local __VC=redis.call ' +
    (r3 ? resp3Locals() : '') +
    'local redis=setmetatable({' +
    EXTRA_FUNCS +
    (r3 ? resp3Funcs() : '') +
    PROXY_TAIL
  );
}

/** True if an EVAL body needs the prelude (it names one of the added functions). */
export function needsPrelude(body: string): boolean {
  return (
    body.includes('set_repl') ||
    body.includes('acl_check_cmd') ||
    body.includes('error_reply') ||
    body.includes('breakpoint') ||
    body.includes('.debug') ||
    mentionsResp(body)
  );
}

/**
 * Prelude of a function library: register_function records callbacks in __F,
 * with Valkey's argument checks (raised as error tables, as Valkey's C code
 * does). `code` is the library's source (RESP3 wrappers when it mentions
 * setresp).
 */
export function libraryPrelude(code: string): string {
  const r3 = mentionsResp(code);
  return (
    'local __VC=redis.call ' +
    (r3 ? resp3Locals() : '') +
    'local __F={} local __N={} ' +
    'local function __flags(t) local out={} if type(t)~="table" then error({err="ERR flags argument to redis.register_function must be a table representing function flags"}) end ' +
    'for _,f in ipairs(t) do if f~="no-writes" and f~="allow-oom" and f~="allow-stale" and f~="no-cluster" and f~="allow-cross-slot-keys" then error({err="ERR unknown flag given"}) end out[#out+1]=f end return out end ' +
    'local function __reg(...) local n=select("#",...) local name,cb,flags,desc ' +
    'if n==1 then local t=(...) if type(t)~="table" then error({err="ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."}) end ' +
    'for k,v in pairs(t) do if k=="function_name" then if type(v)~="string" then error({err="ERR function_name argument given to redis.register_function must be a string"}) end name=v ' +
    'elseif k=="callback" then if type(v)~="function" then error({err="ERR callback argument given to redis.register_function must be a function"}) end cb=v ' +
    'elseif k=="flags" then flags=__flags(v) elseif k=="description" then if type(v)~="string" then error({err="ERR description argument given to redis.register_function must be a string"}) end desc=v ' +
    'else error({err="ERR unknown argument given to redis.register_function"}) end end ' +
    'if name==nil then error({err="ERR redis.register_function must get a function name argument"}) end if cb==nil then error({err="ERR redis.register_function must get a callback argument"}) end ' +
    'elseif n==2 then name,cb=... if type(name)~="string" then error({err="ERR first argument to redis.register_function must be a string"}) end if type(cb)~="function" then error({err="ERR second argument to redis.register_function must be a function"}) end ' +
    'else error({err="ERR wrong number of arguments to redis.register_function"}) end ' +
    'if not string.find(name,"^[%w_]+$") then error({err="ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long"}) end ' +
    'if __F[name]~=nil then error({err="ERR Function already exists in the library"}) end ' +
    '__F[name]={cb,flags or {},desc} __N[#__N+1]=name end ' +
    'local redis=setmetatable({register_function=__reg,' +
    EXTRA_FUNCS +
    (r3 ? resp3Funcs() : '') +
    PROXY_TAIL +
    'local __body=function() '
  );
}

/** What follows a library body when FUNCTION LOAD runs it: the registrations. */
export const LIBRARY_LOAD_EPILOGUE =
  '\nend __body() local __r={} for i,n in ipairs(__N) do local e=__F[n] __r[i]={n,e[2],e[3] or false} end return __r';

/** What follows a library body when FCALL runs one of its functions. */
export function libraryCallEpilogue(fname: string): string {
  return `\nend __body() return (__F["${fname}"][1](KEYS,ARGV))`;
}
