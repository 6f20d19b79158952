// vireo-check-rdb: checks an RDB file and prints a summary, like valkey-check-rdb.
// Exit code 0 when the file is sound, 1 when it is not (the reason and offset printed).
import { readFileSync } from 'node:fs';
import { loadRdb, RdbError, DEFAULT_LOAD_LIMITS } from '../persistence/rdb/index.js';
import type { Value } from '../keyspace/types.js';

export function checkRdb(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): number {
  const file = argv[0];
  if (file === undefined || file === '-h' || file === '--help') {
    out('Usage: vireo-check-rdb <rdb-file-name>');
    return 1;
  }
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    out(`Cannot check RDB that is a directory or unreadable: ${(e as Error).message}`);
    return 1;
  }
  out(`[offset 0] Checking RDB file ${file}`);
  let keys = 0;
  let expires = 0;
  const types = new Map<string, number>();
  const now = Date.now();
  let alreadyExpired = 0;
  try {
    const res = loadRdb(
      buf,
      {
        dbCount: 1 << 30,
        add(_db: number, _key: string, v: Value, expire: number | bigint): void {
          keys++;
          if (expire !== -1 && expire !== -1n) {
            expires++;
            if (expire < now) alreadyExpired++;
          }
          const t = typeof v !== 'object' || Buffer.isBuffer(v) ? 'string' : v.constructor.name;
          types.set(t, (types.get(t) ?? 0) + 1);
        },
        aux(name: string, value: string, offset: number): void {
          out(`[offset ${offset}] AUX FIELD ${name} = '${value}'`);
        },
        select(db: number, offset: number): void {
          out(`[offset ${offset}] Selecting DB ID ${db}`);
        },
        warn(msg: string): void {
          out(`[warning] ${msg}`);
        },
      },
      { limits: DEFAULT_LOAD_LIMITS, checksum: true },
    );
    const trailer = buf.subarray(res.end - 8, res.end);
    if (res.version >= 5) out(trailer.equals(Buffer.alloc(8)) ? `[offset ${res.end}] RDB file was saved with checksum disabled: no check performed.` : `[offset ${res.end}] Checksum OK`);
    if (res.end !== buf.length) out(`[warning] ${buf.length - res.end} bytes after the end of the RDB data`);
    out(`[offset ${res.end}] \\o/ RDB looks OK! \\o/`);
    out(`[info] ${keys} keys read`);
    out(`[info] ${expires} expires`);
    out(`[info] ${alreadyExpired} already expired`);
    return 0;
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    out('--- RDB ERROR DETECTED ---');
    out(`[offset ${e.offset}] ${e.message}`);
    out(`[info] ${keys} keys read`);
    out(`[info] ${expires} expires`);
    out('--- RDB ERROR DETECTED ---');
    return 1;
  }
}
