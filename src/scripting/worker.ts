// The script worker: runs scripts that outgrew the main thread's instruction
// budget (see the design notes in ./index.ts). Every redis.* call that needs
// the server is a synchronous round trip through the shared buffers:
//   ctl[0]: state (JOB main->worker, CALL worker->main, REPLY main->worker,
//           DONE worker->main, IDLE), ctl[1]: length of the payload in `data`
//   (v8-serialized values).
import { workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import { Vm, loadModule, setVmSecret, type ReplyValue } from './engine.js';

const S_IDLE = 0;
const S_JOB = 1;
const S_CALL = 2;
const S_REPLY = 3;
const S_DONE = 4;

const ctl = new Int32Array(workerData.ctl as SharedArrayBuffer);
// The chunks it runs are made by the main thread and name the main thread's key.
setVmSecret(workerData.key as string);
const data = new Uint8Array(workerData.data as SharedArrayBuffer);

function write(v: unknown): void {
  let b = v8.serialize(v);
  if (b.length > data.length) b = v8.serialize({ err: Buffer.from('ERR value too large for the script worker') });
  data.set(b, 0);
  Atomics.store(ctl, 1, b.length);
}

function read(): unknown {
  const n = Atomics.load(ctl, 1);
  return v8.deserialize(Buffer.from(data.buffer, 0, n));
}

function roundTrip(req: unknown): ReplyValue {
  write(req);
  Atomics.store(ctl, 0, S_CALL);
  Atomics.notify(ctl, 0);
  while (Atomics.load(ctl, 0) === S_CALL) Atomics.wait(ctl, 0, S_CALL);
  return read() as ReplyValue;
}

function makeVm(mod: Awaited<ReturnType<typeof loadModule>>): Vm {
  return new Vm(mod, {
    redisCall: (args) => roundTrip({ t: 'c', args }),
    redisPcall: (args) => roundTrip({ t: 'p', args }),
    log: (level, msg) => void roundTrip({ t: 'l', level, msg }),
    onSetResp: (v) => void roundTrip({ t: 's', v }),
  });
}

let vm = makeVm(await loadModule());
let spare = loadModule();

for (;;) {
  while (Atomics.load(ctl, 0) !== S_JOB) Atomics.wait(ctl, 0, Atomics.load(ctl, 0));
  const job = read() as { chunk: Uint8Array; keys: Uint8Array[]; args: Uint8Array[] };
  let out: unknown;
  try {
    const r = vm.run(Buffer.from(job.chunk), job.keys.map((k) => Buffer.from(k)), job.args.map((a) => Buffer.from(a)), 0);
    out = { r };
  } catch (e) {
    out = { oom: (e as Error).message };
    vm = makeVm(await spare);
    spare = loadModule();
  }
  write(out);
  Atomics.store(ctl, 0, S_DONE);
  Atomics.notify(ctl, 0);
  void S_IDLE;
  void S_REPLY;
}
