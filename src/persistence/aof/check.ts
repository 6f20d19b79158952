// vireo-check-aof: checks (and with --fix truncates) an AOF, like valkey-check-aof.
//   vireo-check-aof [--fix|--truncate-to-timestamp <unix-seconds>] <file.manifest|file.aof>
// A manifest: its base (RDB or AOF form) and every incr file are checked in
// order; only the last file can be fixed. A single file: checked (an RDB
// preamble first, then AOF commands). Exit code 0 when valid, 1 otherwise.
import fs from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { parseManifest, type AofFileInfo } from './manifest.js';
import { isRdbImage } from './manifest.js';
import { scanAof, ScanStatus, type ScanResult } from './parse.js';
import { loadRdb } from '../rdb/file.js';
import { DEFAULT_LOAD_LIMITS } from '../rdb/decoder.js';

type Out = (s: string) => void;

function usage(out: Out): number {
  out('Usage: vireo-check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>');
  return 1;
}

function confirm(out: Out, question: string): boolean {
  out(question);
  const b = Buffer.alloc(64);
  let n = 0;
  try {
    n = fs.readSync(0, b, 0, 64, null);
  } catch {
    return false;
  }
  const a = b.latin1Slice(0, n).trim().toLowerCase();
  return a === 'y' || a === 'yes';
}

/** Line number (1-based count of newlines before pos) for ok_up_to_line. */
function lineOf(buf: Buffer, pos: number): number {
  let lines = 1;
  for (let i = 0; i < pos; i++) if (buf[i] === 10) lines++;
  return lines;
}

function hexOff(n: number): string {
  return '0x' + n.toString(16).padStart(16, ' ');
}

interface FileCheck {
  ok: boolean;
  /** Where a fix would cut (valid data ends). */
  okUpTo: number;
  size: number;
  buf: Buffer;
}

/** Checks one file's bytes: optional RDB preamble, then AOF commands. */
function checkBytes(buf: Buffer, name: string, out: Out): FileCheck {
  let start = 0;
  if (isRdbImage(buf)) {
    try {
      const res = loadRdb(buf, { dbCount: 1 << 30, add() {} }, { limits: DEFAULT_LOAD_LIMITS, checksum: true });
      start = res.end;
      out(`RDB preamble is OK, proceeding with AOF tail...`);
    } catch (e) {
      const off = (e as { offset?: number }).offset ?? 0;
      out(`${hexOff(off)}: RDB preamble of ${name} is not valid: ${(e as Error).message}`);
      return { ok: false, okUpTo: 0, size: buf.length, buf };
    }
  }
  const r: ScanResult = scanAof(buf, start, buf.length, null);
  if (r.status === ScanStatus.Ok && !r.openMulti) return { ok: true, okUpTo: buf.length, size: buf.length, buf };
  let okUpTo = r.validUpTo;
  if (r.status === ScanStatus.Corrupt) out(`${hexOff(r.errorOffset)}: ${r.error}`);
  else if (r.status === ScanStatus.Truncated) out(`${hexOff(r.validUpTo)}: Unexpected EOF, truncated command`);
  if (r.openMulti) {
    out(`${hexOff(r.validBeforeMulti)}: Reached EOF before reading EXEC for MULTI`);
    okUpTo = r.validBeforeMulti;
  }
  if (r.status === ScanStatus.Corrupt) okUpTo = Math.min(okUpTo, r.errorOffset);
  return { ok: false, okUpTo, size: buf.length, buf };
}

function fixOrFail(name: string, path: string, c: FileCheck, fix: boolean, last: boolean, out: Out): number {
  out(`AOF analyzed: filename=${name}, size=${c.size}, ok_up_to=${c.okUpTo}, ok_up_to_line=${lineOf(c.buf, c.okUpTo)}, diff=${c.size - c.okUpTo}`);
  if (!fix) {
    out(`AOF ${name} is not valid. Use the --fix option to try fixing it.`);
    return 1;
  }
  if (!last) {
    out(`Failed to truncate AOF ${name} because it is not the last file`);
    return 1;
  }
  if (!confirm(out, `This will shrink the AOF ${name} from ${c.size} bytes, with ${c.size - c.okUpTo} bytes, to ${c.okUpTo} bytes\nContinue? [y/N]: `)) {
    out('Aborting...');
    return 1;
  }
  try {
    fs.truncateSync(path, c.okUpTo);
  } catch (e) {
    out(`Failed to truncate AOF ${name}: ${(e as Error).message}`);
    return 1;
  }
  out(`Successfully truncated AOF ${name}`);
  return 0;
}

/** Truncates at the first #TS annotation later than ts (in the last file). */
function truncateToTimestamp(path: string, name: string, ts: number, out: Out): number {
  const buf = fs.readFileSync(path);
  let cut = -1;
  const r = scanAof(buf, 0, buf.length, null, (text, off) => {
    if (cut < 0 && text.startsWith('TS:') && Number(text.slice(3)) > ts) cut = off;
  });
  if (r.status === ScanStatus.Corrupt && (cut < 0 || r.errorOffset < cut)) {
    out(`${hexOff(r.errorOffset)}: ${r.error}`);
    out(`AOF ${name} is not valid: cannot truncate to timestamp ${ts}`);
    return 1;
  }
  if (cut >= 0) fs.truncateSync(path, cut);
  out(`Successfully truncated AOF ${name} to timestamp ${ts}`);
  return 0;
}

export function checkAof(argv: string[], out: Out = (s) => process.stdout.write(s + '\n')): number {
  let fix = false;
  let toTs: number | null = null;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fix') fix = true;
    else if (a === '--truncate-to-timestamp' && i + 1 < argv.length) {
      toTs = Number(argv[++i]);
      if (!Number.isInteger(toTs)) return usage(out);
    } else if (a.startsWith('-')) return usage(out);
    else if (file === undefined) file = a;
    else return usage(out);
  }
  if (file === undefined || (fix && toTs !== null)) return usage(out);
  let text: Buffer;
  try {
    text = fs.readFileSync(file);
  } catch (e) {
    out(`Cannot open file ${file}: ${(e as Error).message}`);
    return 1;
  }
  // A manifest: its first line that is not a comment starts with "file " (valkey-check-aof's test).
  const firstLine = text.latin1Slice(0, Math.min(text.length, 4096)).split('\n').find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  const isManifest = !isRdbImage(text) && firstLine.startsWith('file ');
  if (!isManifest) {
    out('Start checking Old-Style AOF');
    const name = basename(file);
    if (toTs !== null) return truncateToTimestamp(file, name, toTs, out);
    const c = checkBytes(text, name, out);
    if (c.ok) {
      out(`AOF ${name} is valid`);
      return 0;
    }
    return fixOrFail(name, file, c, fix, true, out);
  }
  out('Start checking Multi Part AOF');
  let files: AofFileInfo[];
  try {
    const m = parseManifest(text.toString('latin1'));
    files = [];
    if (m.base !== null) files.push(m.base);
    files.push(...m.incr);
  } catch (e) {
    out(`Invalid AOF manifest file format: ${(e as Error).message}`);
    return 1;
  }
  const dir = dirname(file);
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const path = join(dir, f.name);
    const last = i === files.length - 1;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(path);
    } catch (e) {
      out(`Cannot open the AOF file ${f.name}: ${(e as Error).message}`);
      return 1;
    }
    if (f.type === 'b') {
      const rdb = isRdbImage(buf);
      out(`Start to check BASE AOF (${rdb ? 'RDB' : 'AOF'} format).`);
    } else if (i === 0 || files[i - 1].type === 'b') out('Start to check INCR files.');
    if (last && toTs !== null) return truncateToTimestamp(path, f.name, toTs, out);
    const c = checkBytes(buf, f.name, out);
    if (!c.ok) return fixOrFail(f.name, path, c, fix, last, out);
    out(`${f.type === 'b' ? 'BASE' : 'INCR'} AOF ${f.name} is valid`);
  }
  out('All AOF files and manifest are valid');
  return 0;
}
