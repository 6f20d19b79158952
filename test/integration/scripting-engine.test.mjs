// The Lua engine binding itself (src/scripting/engine.ts, wasmpatch.ts): the
// compiled-script cache in the patched engine's Lua registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { patchEngine, REGISTRY_LEN } from '../../dist/src/scripting/wasmpatch.js';
import { Vm, loadModule } from '../../dist/src/scripting/engine.js';

const require = createRequire(import.meta.url);
const wasmFile = join(dirname(require.resolve('lua-redis-wasm')), 'redis_lua.wasm');

test('the pinned engine build is patched; any other bytes are left alone', () => {
  const bytes = readFileSync(wasmFile);
  const patched = patchEngine(bytes);
  assert.ok(patched !== null, 'lua-redis-wasm is the pinned build (package.json pins 1.5.0)');
  assert.ok(WebAssembly.validate(patched));
  const mod = new WebAssembly.Module(patched);
  assert.ok(WebAssembly.Module.exports(mod).some((e) => e.name === 'vireo_reg_set' && e.kind === 'function'));
  const other = Buffer.from(bytes);
  other[other.length - 1] ^= 1;
  assert.equal(patchEngine(other), null);
  assert.equal(patchEngine(Buffer.from('not wasm')), null);
});

function chunk(body) {
  return Buffer.from(`return ((function() ${body}\nend)())`, 'latin1');
}

test('cached chunks run from the registry: same results and errors as uncached runs, released on demand', async () => {
  const calls = [];
  const vm = new Vm(await loadModule(), { redisCall: () => null, redisPcall: () => null, log() {} }, (argv, out) => {
    calls.push(argv);
    out.value(Buffer.from(`got ${argv.join(' ')}`));
  });
  assert.ok(vm.regSet !== null, 'the VM uses the registry cache');
  const argv = ['EVALSHA', 'sha', '1', 'k1', 'a1', 'a2'];
  const ok = chunk("local t = {KEYS[1], ARGV[2], redis.call('GET', KEYS[1])} return t");
  const bad = chunk("local x = 1\nerror('boom ' .. #ARGV)");
  const results = [];
  for (let i = 0; i < 4; i++) {
    results.push(JSON.stringify(vm.runArgv(ok, argv, 3, 4, 6, 'sha', 1e9)));
    results.push(JSON.stringify(vm.runArgv(bad, argv, 3, 4, 6, 'sha', 1e9)));
  }
  // Run 1 compiles the chunk, run 2 stores it in the registry, 3 and 4 run it from there.
  assert.equal(vm.fns.get(ok)?.call, null);
  assert.equal(vm.fns.get(bad)?.call, null);
  for (let i = 2; i < results.length; i++) assert.equal(results[i], results[i % 2], `run ${i >> 1} of ${i % 2 ? 'bad' : 'ok'}`);
  assert.equal(results[0], JSON.stringify([Buffer.from('k1'), Buffer.from('a2'), Buffer.from('got GET k1')]));
  assert.match(Buffer.from(JSON.parse(results[1]).err.data).toString('latin1'), /user_script:2: boom 2$/);
  assert.equal(calls.length, 4);
  // Released: the registry slot is empty again (running it directly finds no function).
  const id = vm.fns.get(ok).id;
  vm.release(ok);
  assert.equal(vm.fns.get(ok), undefined);
  const ret = vm.alloc(8);
  const args = vm.alloc(8);
  const h = vm.heapBuf();
  h.writeUInt32LE(0, args);
  vm.evalWithArgs(ret, id, REGISTRY_LEN, args, 4, 0);
  const p = vm.heapBuf().readUInt32LE(ret);
  assert.match(vm.heapBuf().latin1Slice(p, p + vm.heapBuf().readUInt32LE(ret + 4)), /attempt to call a nil value/);
  // A chunk that does not compile is not cached and keeps its error.
  const syntax = chunk('return +');
  const e1 = JSON.stringify(vm.runArgv(syntax, argv, 3, 4, 6, 'sha', 1e9));
  const e2 = JSON.stringify(vm.runArgv(syntax, argv, 3, 4, 6, 'sha', 1e9));
  const e3 = JSON.stringify(vm.runArgv(syntax, argv, 3, 4, 6, 'sha', 1e9));
  assert.equal(vm.fns.get(syntax), null);
  assert.equal(e2, e1);
  assert.equal(e3, e1);
  assert.match(Buffer.from(JSON.parse(e1).err.data).toString('latin1'), /unexpected symbol/);
});
