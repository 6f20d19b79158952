// One full garbage collection after a big load.
//
// A start-up load reads the whole RDB file into one buffer (39 MB for 1M
// keys) and makes garbage while decoding. The file buffer lives outside the
// V8 heap but is freed only when a full (mark-compact) collection finds it
// dead, and on a server that then only reads (GETs make young garbage only)
// no full collection may come for a long time: the file's pages stay in RSS.
// So once a load of at least LOAD_GC_MIN bytes is done, before the next client
// event, it runs one full collection (about 50 ms for 1M keys: 263 -> 227 MB
// RSS measured with bench/rdb.mjs's dataset). The caller must hold no
// reference to the file buffer any more.
//
// Node exposes the collector only with --expose-gc; the flag can be set at run
// time, after which a new context's global `gc` is the collector. If that ever
// fails (another runtime), nothing happens.
import v8 from 'node:v8';
import vm from 'node:vm';

/** Loads smaller than this (bytes of RDB/AOF) are not followed by a collection. */
export const LOAD_GC_MIN = 8 * 1024 * 1024;

let collector: (() => void) | null | undefined;

function getCollector(): (() => void) | null {
  if (collector !== undefined) return collector;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    collector = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    collector = null;
  }
  return collector;
}

/** After a load of `bytes`: one full collection when the load was big. */
export function collectAfterLoad(bytes: number): void {
  if (bytes < LOAD_GC_MIN) return;
  const gc = getCollector();
  if (gc !== null) gc();
}
