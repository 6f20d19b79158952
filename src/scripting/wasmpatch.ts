// A compiled-script cache inside the Lua engine's own run (see engine.ts,
// "Compiled-script cache"): the pinned lua-redis-wasm build exports no Lua C
// API, so its eval_with_args compiles the chunk it is given on every run.
// This adds two small functions to that build's WebAssembly module, written
// here in WebAssembly bytecode (nothing of the package's code is copied), and
// points eval_with_args' one call of luaL_loadbuffer at the first of them:
//
//   load(L, buf, len, name)  len = 0xffffffff: push registry[buf] (a function
//                            stored by vireo_reg_set) and report success,
//                            so the run calls it exactly as it would call
//                            the freshly compiled chunk; any other len:
//                            luaL_loadbuffer as before.
//   vireo_reg_set(n, buf, len)  (exported) compiles buf[0, len) with the
//                            same chunk name and stores the function in
//                            registry[n] (1), or 0 if it does not compile;
//                            len = 0 clears registry[n].
//
// The Lua registry is out of reach of scripts (there is no debug library),
// so the stored functions are as hidden as the compiled chunks Valkey keeps.
// Everything depends on one exact build: the function indices and addresses
// below were read from it and are used only when the file's SHA-256 matches
// and the patched module validates; otherwise the engine is used unpatched.
import { createHash } from 'node:crypto';

/** SHA-256 of node_modules/lua-redis-wasm/dist/redis_lua.wasm of lua-redis-wasm 1.5.0. */
const BUILD_SHA256 = 'c95b450f963b03479fe34da98bfecff67f277708dff89893ce2e40f898a0b42a';

// In that build (function indices count the 21 imported functions first):
const F_EVAL_WITH_ARGS = 37; // exported eval_with_args (run_script inlined)
const F_LOADBUFFER = 264; // luaL_loadbuffer(L, buf, len, name)
const F_RAWGETI = 87; // lua_rawgeti(L, idx, n)
const F_RAWSETI = 93; // lua_rawseti(L, idx, n)
const F_SETTOP = 57; // lua_settop(L, idx)
const T_I32x4_I32 = 3; // type (i32 i32 i32 i32) -> i32
const T_I32x3_I32 = 2; // type (i32 i32 i32) -> i32
const A_STATE = 28472; // lua_State *g_state
const A_CHUNKNAME = 1728; // "@user_script"
const LUA_REGISTRYINDEX = -10000;

/** Where the pinned build keeps its lua_State pointer (engine.ts reads the Lua heap size through it). */
export const LUA_STATE_ADDR = A_STATE;

/** The marker length that makes eval_with_args run registry[ptr] instead of compiling. */
export const REGISTRY_LEN = 0xffffffff;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

class Reader {
  constructor(
    readonly b: Uint8Array,
    public p: number,
  ) {}
  u32(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const x = this.b[this.p++];
      n += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return n;
      shift += 7;
    }
  }
  skip(n: number): void {
    this.p += n;
  }
}

function withCount(count: number, items: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(uleb(count)), items]);
}

function section(id: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([id, ...uleb(payload.length)]), payload]);
}

function body(locals: number[], code: number[]): Buffer {
  const b = Buffer.from([...locals, ...code, 0x0b]);
  return Buffer.concat([Buffer.from(uleb(b.length)), b]);
}

/**
 * The patched module, or null when `bytes` is not the pinned build or the
 * result does not validate (the caller then loads the original).
 */
export function patchEngine(bytes: Uint8Array): Uint8Array | null {
  try {
    if (createHash('sha256').update(bytes).digest('hex') !== BUILD_SHA256) return null;
    const sections: { id: number; start: number; end: number }[] = [];
    const r = new Reader(bytes, 8);
    while (r.p < bytes.length) {
      const id = bytes[r.p++];
      const size = r.u32();
      sections.push({ id, start: r.p, end: r.p + size });
      r.skip(size);
    }
    const get = (id: number) => sections.find((s) => s.id === id);
    const imp = get(2);
    const fun = get(3);
    const exp = get(7);
    const code = get(10);
    if (imp === undefined || fun === undefined || exp === undefined || code === undefined) return null;
    // Imported functions come first in the index space.
    let importedFns = 0;
    const ri = new Reader(bytes, imp.start);
    for (let n = ri.u32(); n > 0; n--) {
      ri.skip(ri.u32());
      ri.skip(ri.u32());
      const kind = bytes[ri.p++];
      if (kind === 0) {
        ri.u32();
        importedFns++;
      } else if (kind === 1) {
        ri.skip(1);
        const flags = bytes[ri.p++];
        ri.u32();
        if (flags & 1) ri.u32();
      } else if (kind === 2) {
        const flags = bytes[ri.p++];
        ri.u32();
        if (flags & 1) ri.u32();
      } else if (kind === 3) ri.skip(2);
      else return null;
    }
    const rf = new Reader(bytes, fun.start);
    const definedFns = rf.u32();
    const fnEntries = bytes.subarray(rf.p, fun.end);
    const F_LOAD = importedFns + definedFns;
    const F_REGSET = F_LOAD + 1;

    // The code section: find eval_with_args' body and its one `i32.const A_CHUNKNAME; call F_LOADBUFFER`.
    const rc = new Reader(bytes, code.start);
    const bodies = rc.u32();
    if (bodies !== definedFns) return null;
    const bodiesStart = rc.p;
    // target: where the LEB128 function index of that call is.
    let target = -1;
    for (let i = 0; i < bodies; i++) {
      const size = rc.u32();
      if (i + importedFns === F_EVAL_WITH_ARGS) {
        const pat = Buffer.from([0x41, ...sleb(A_CHUNKNAME), 0x10, ...uleb(F_LOADBUFFER)]);
        const bodyBytes = Buffer.from(bytes.buffer, bytes.byteOffset + rc.p, size);
        const at = bodyBytes.indexOf(pat);
        if (at < 0 || bodyBytes.indexOf(pat, at + 1) >= 0) return null;
        target = rc.p + at + pat.length - uleb(F_LOADBUFFER).length;
      }
      rc.skip(size);
    }
    if (target < 0 || uleb(F_LOAD).length !== uleb(F_LOADBUFFER).length) return null;

    const GET = 0x20;
    const SET = 0x21;
    const CONST = 0x41;
    const CALL = 0x10;
    const IF = 0x04;
    const ELSE = 0x05;
    const END = 0x0b;
    const loadFn = body(
      [0x00],
      [
        GET, 2, CONST, 0x7f, 0x46, // len == -1
        IF, 0x7f,
        GET, 0, CONST, ...sleb(LUA_REGISTRYINDEX), GET, 1, CALL, ...uleb(F_RAWGETI),
        CONST, 0x00,
        ELSE,
        GET, 0, GET, 1, GET, 2, GET, 3, CALL, ...uleb(F_LOADBUFFER),
        END,
      ],
    );
    const regSetFn = body(
      [0x01, 0x01, 0x7f], // one i32 local: L
      [
        CONST, ...sleb(A_STATE), 0x28, 0x02, 0x00, SET, 3, // L = g_state
        GET, 3, CONST, 0x00, CALL, ...uleb(F_SETTOP), // empty stack
        GET, 2, 0x45, // len == 0: registry[n] = nil
        IF, 0x40,
        GET, 3, CONST, 0x01, CALL, ...uleb(F_SETTOP),
        ELSE,
        GET, 3, GET, 1, GET, 2, CONST, ...sleb(A_CHUNKNAME), CALL, ...uleb(F_LOADBUFFER),
        IF, 0x40,
        GET, 3, CONST, 0x00, CALL, ...uleb(F_SETTOP),
        CONST, 0x00, 0x0f, // return 0
        END,
        END,
        GET, 3, CONST, ...sleb(LUA_REGISTRYINDEX), GET, 0, CALL, ...uleb(F_RAWSETI),
        CONST, 0x01,
      ],
    );

    const codePayload = Buffer.concat([
      Buffer.from(uleb(bodies + 2)),
      Buffer.from(bytes.subarray(bodiesStart, code.end)),
      loadFn,
      regSetFn,
    ]);
    // The call inside eval_with_args, patched in place (same LEB128 length).
    const patchAt = Buffer.from(uleb(bodies + 2)).length + (target - bodiesStart);
    Buffer.from(uleb(F_LOAD)).copy(codePayload, patchAt);

    const re = new Reader(bytes, exp.start);
    const exports = re.u32();
    const name = Buffer.from('vireo_reg_set', 'latin1');
    const expPayload = withCount(
      exports + 1,
      Buffer.concat([Buffer.from(bytes.subarray(re.p, exp.end)), Buffer.from(uleb(name.length)), name, Buffer.from([0x00, ...uleb(F_REGSET)])]),
    );
    const funPayload = withCount(definedFns + 2, Buffer.concat([Buffer.from(fnEntries), Buffer.from([T_I32x4_I32, T_I32x3_I32])]));

    const parts: Buffer[] = [Buffer.from(bytes.subarray(0, 8))];
    for (const s of sections) {
      if (s.id === 3) parts.push(section(3, funPayload));
      else if (s.id === 7) parts.push(section(7, expPayload));
      else if (s.id === 10) parts.push(section(10, codePayload));
      else parts.push(section(s.id, bytes.subarray(s.start, s.end)));
    }
    const out = Buffer.concat(parts);
    return WebAssembly.validate(out) ? out : null;
  } catch {
    return null;
  }
}
