// Parsing the replication stream a replica receives from its primary: RESP
// multibulk commands only (the primary never sends inline commands; bare
// newlines between commands are keep-alives the caller skips).
//
// The replica applies the stream in batches: it parses a batch of complete
// commands first, prefetches their keys together (KeyTable.prefetch, as a
// client's pipeline in src/server/client.ts), then executes them. The parser
// therefore also gives the hash of each command's first argument (argv[1], the
// first key of almost every write; a wrong guess costs only the loads).
import { hashBytes } from '../data/keytable.js';
import { shortLatin1 } from '../util/latin1.js';

/** After parseMultibulk returned a position: hashBytes of the command's argv[1], valid when `hasKey`. */
export const parsed = { keyHash: 0, hasKey: false };

/**
 * Parses one RESP multibulk at `pos` into `argv` (latin1 strings). Returns the
 * position after it, -1 when it is incomplete, -2 on a protocol error.
 */
export function parseMultibulk(buf: Buffer, pos: number, argv: string[]): number {
  const len = buf.length;
  if (buf[pos] !== 42) return -2;
  let p = pos + 1;
  let count = 0;
  let digits = 0;
  while (p < len && buf[p] !== 13) {
    const ch = buf[p] - 48;
    if (ch < 0 || ch > 9) return -2;
    count = count * 10 + ch;
    p++;
    digits++;
  }
  if (p + 1 >= len) return -1;
  if (digits === 0 || buf[p + 1] !== 10) return -2;
  p += 2;
  parsed.hasKey = false;
  for (let i = 0; i < count; i++) {
    if (p >= len) return -1;
    if (buf[p] !== 36) return -2;
    p++;
    let n = 0;
    digits = 0;
    while (p < len && buf[p] !== 13) {
      const ch = buf[p] - 48;
      if (ch < 0 || ch > 9) return -2;
      n = n * 10 + ch;
      p++;
      digits++;
    }
    if (p + 1 >= len) return -1;
    if (digits === 0 || buf[p + 1] !== 10) return -2;
    p += 2;
    if (p + n + 2 > len) return -1;
    argv.push(n <= 24 ? shortLatin1(buf, p, n) : buf.latin1Slice(p, p + n));
    if (i === 1) {
      parsed.keyHash = hashBytes(buf, p, n);
      parsed.hasKey = true;
    }
    p += n + 2;
  }
  return p;
}
