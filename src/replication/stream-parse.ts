// Parsing the replication stream a replica receives from its primary: RESP
// multibulk commands only (the primary never sends inline commands; bare
// newlines between commands are keep-alives the caller skips).
//
// The replica applies the stream in batches: it parses a batch of complete
// commands first, prefetches their keys together (KeyTable.prefetch, as a
// client's pipeline in src/server/client.ts), then executes them. The parser
// therefore also gives the hash of each command's first argument (argv[1], the
// first key of almost every write; a wrong guess costs only the loads).
//
// Per command it allocates only what the command keeps: its argv array, of
// the exact size (a literal up to 3 arguments, as the client parser's
// shortCommand), and the argument strings, except the command name, which is
// interned (the same string for every SET: no allocation, and the command
// table's lookup cache compares it by pointer).
import { hashBytes } from '../data/keytable.js';
import { shortLatin1 } from '../util/latin1.js';
import { internName } from '../protocol/parser.js';

/**
 * After parseMultibulk returned a position: the command's arguments (a fresh
 * array the caller keeps), and hashBytes of its argv[1], valid when `hasKey`.
 */
export const parsed: { argv: string[]; keyHash: number; hasKey: boolean } = { argv: [], keyHash: 0, hasKey: false };

/** Arguments past the third, while a long command is parsed (cleared after). */
const rest: string[] = [];

/**
 * Parses one RESP multibulk at `pos` into parsed.argv (latin1 strings).
 * Returns the position after it, -1 when it is incomplete, -2 on a protocol
 * error (parsed.argv is then unspecified).
 */
export function parseMultibulk(buf: Buffer, pos: number): number {
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
  let a0 = '';
  let a1 = '';
  let a2 = '';
  for (let i = 0; i < count; i++) {
    if (p >= len) return clearRest(i, -1);
    if (buf[p] !== 36) return clearRest(i, -2);
    p++;
    let n = 0;
    digits = 0;
    while (p < len && buf[p] !== 13) {
      const ch = buf[p] - 48;
      if (ch < 0 || ch > 9) return clearRest(i, -2);
      n = n * 10 + ch;
      p++;
      digits++;
    }
    if (p + 1 >= len) return clearRest(i, -1);
    if (digits === 0 || buf[p + 1] !== 10) return clearRest(i, -2);
    p += 2;
    if (p + n + 2 > len) return clearRest(i, -1);
    if (i === 0) a0 = n <= 24 ? internName(buf, p, n) : buf.latin1Slice(p, p + n);
    else {
      const s = n <= 24 ? shortLatin1(buf, p, n) : buf.latin1Slice(p, p + n);
      if (i === 1) {
        a1 = s;
        parsed.keyHash = hashBytes(buf, p, n);
        parsed.hasKey = true;
      } else if (i === 2) a2 = s;
      else rest.push(s);
    }
    p += n + 2;
  }
  if (count <= 3) parsed.argv = count === 3 ? [a0, a1, a2] : count === 2 ? [a0, a1] : count === 1 ? [a0] : [];
  else {
    const argv = [a0, a1, a2];
    for (let i = 0; i < rest.length; i++) argv.push(rest[i]);
    rest.length = 0;
    parsed.argv = argv;
  }
  return p;
}

/** An incomplete or bad command: drops the arguments kept for it, returns `r`. */
function clearRest(i: number, r: number): number {
  if (i > 3) rest.length = 0;
  return r;
}
