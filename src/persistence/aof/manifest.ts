// The multi-part AOF manifest (Valkey 7+/8): one line per file,
//   file <name> seq <n> type <b|h|i>
// b: the base file (RDB or AOF form), i: incremental files in order, h: files
// of an older generation waiting to be deleted. File names follow Valkey:
//   <appendfilename>.<seq>.base.rdb|aof, <appendfilename>.<seq>.incr.aof,
//   <appendfilename>.manifest (written through temp-<appendfilename>.manifest).
import { splitArgs } from '../../protocol/parser.js';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofFileInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

export interface Manifest {
  base: AofFileInfo | null;
  incr: AofFileInfo[];
  history: AofFileInfo[];
  /** Highest sequence numbers in use (the next files take seq + 1). */
  baseSeq: number;
  incrSeq: number;
}

export function emptyManifest(): Manifest {
  return { base: null, incr: [], history: [], baseSeq: 0, incrSeq: 0 };
}

export const baseName = (fname: string, seq: number, rdb: boolean): string => `${fname}.${seq}.base.${rdb ? 'rdb' : 'aof'}`;
export const incrName = (fname: string, seq: number): string => `${fname}.${seq}.incr.aof`;
export const manifestName = (fname: string): string => `${fname}.manifest`;
export const tempManifestName = (fname: string): string => `temp-${fname}.manifest`;

/** Quotes a file name like sdscatrepr when it needs it (spaces, quotes, control bytes). */
function fmtName(name: string): string {
  if (/^[\x21-\x7e]+$/.test(name) && !/["'\\]/.test(name)) return name;
  let out = '"';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 92) out += '\\\\';
    else if (c === 34) out += '\\"';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c >= 32 && c < 127) out += name[i];
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}

/** The manifest text, in Valkey's order: base, history, incremental files. */
export function formatManifest(m: Manifest): string {
  let s = '';
  const line = (f: AofFileInfo) => `file ${fmtName(f.name)} seq ${f.seq} type ${f.type}\n`;
  if (m.base !== null) s += line(m.base);
  for (const h of m.history) s += line(h);
  for (const i of m.incr) s += line(i);
  return s;
}

/** Parses manifest text; throws an Error with Valkey's wording when it is malformed. */
export function parseManifest(text: string): Manifest {
  const m = emptyManifest();
  let maxIncrSeq = 0;
  const lines = text.split('\n');
  if (text.length === 0) throw new Error('Found an empty AOF manifest');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].replace(/[\r\t ]+$/, '').replace(/^[\t ]+/, '');
    if (raw === '' || raw.startsWith('#')) continue;
    if (raw.length > 1024) throw new Error('The AOF manifest file contains too long line');
    const args = splitArgs(raw);
    if (args === null || args.length < 6 || args.length % 2 !== 0) throw new Error('Invalid AOF manifest file format');
    let name: string | null = null;
    let seq = -1;
    let type: string | null = null;
    for (let i = 0; i < args.length; i += 2) {
      const k = args[i].toLowerCase();
      if (k === 'file') name = args[i + 1];
      else if (k === 'seq') seq = /^\d+$/.test(args[i + 1]) ? Number(args[i + 1]) : -1;
      else if (k === 'type') type = args[i + 1];
      // Unknown keys are skipped (forward compatibility, like Valkey).
    }
    if (name === null || seq < 0 || (type !== 'b' && type !== 'h' && type !== 'i')) throw new Error('Invalid AOF manifest file format');
    const info: AofFileInfo = { name, seq, type };
    if (type === 'b') {
      if (m.base !== null) throw new Error('Found duplicate base file information');
      m.base = info;
      m.baseSeq = seq;
    } else if (type === 'h') {
      m.history.push(info);
    } else {
      if (seq <= maxIncrSeq) throw new Error('Found a non-monotonic sequence number');
      m.incr.push(info);
      maxIncrSeq = seq;
      m.incrSeq = seq;
    }
  }
  if (m.base === null && m.incr.length === 0 && m.history.length === 0) throw new Error('Found an empty AOF manifest');
  return m;
}

/** A base (or old-style preamble) in RDB form: "REDIS" (RDB 1-12) or "VALKEY" (Valkey 9's format) magic. */
export function isRdbImage(buf: Buffer): boolean {
  return (buf.length >= 5 && buf.latin1Slice(0, 5) === 'REDIS') || (buf.length >= 6 && buf.latin1Slice(0, 6) === 'VALKEY');
}
