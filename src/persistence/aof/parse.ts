// Reading AOF text: RESP multibulk commands and `#...` annotation lines
// (aof-timestamp-enabled writes `#TS:<unix seconds>`). Shared by start-up
// loading and bin/vireo-check-aof.

export const enum ScanStatus {
  Ok = 0,
  /** The data ends inside a command (a crash while appending). */
  Truncated = 1,
  /** Bytes that are not a valid command where one should start or continue. */
  Corrupt = 2,
}

export interface ScanResult {
  status: ScanStatus;
  /** Offset just after the last complete command (or annotation). */
  validUpTo: number;
  /** Offset where the corruption was found (Corrupt only). */
  errorOffset: number;
  /** Why the data is corrupt (Corrupt only). */
  error: string;
  /** The data ends inside MULTI without its EXEC. */
  openMulti: boolean;
  /** Offset of that MULTI (where a fix cuts the file). */
  validBeforeMulti: number;
  commands: number;
}

/** Reads a "<prefix><integer>\r\n" line at p; returns [value, next offset], null if incomplete, -1 value if malformed. */
function readLenLine(buf: Buffer, p: number, end: number): [number, number] | null {
  const nl = buf.indexOf(10, p + 1);
  if (nl < 0 || nl >= end) return null;
  if (buf[nl - 1] !== 13) return [-1, nl + 1];
  let v = 0;
  if (nl - 1 === p + 1) return [-1, nl + 1];
  for (let i = p + 1; i < nl - 1; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) return [-1, nl + 1];
    v = v * 10 + (c - 48);
    if (v > 0x7fffffff) return [-1, nl + 1];
  }
  return [v, nl + 1];
}

/**
 * Walks the AOF commands in buf[start, end). onCommand gets each complete
 * command's arguments (latin1 strings) and its start offset; it may be null
 * (checking only).
 */
export function scanAof(
  buf: Buffer,
  start: number,
  end: number,
  onCommand: ((argv: string[], offset: number) => void) | null,
  onAnnotation: ((text: string, offset: number) => void) | null = null,
): ScanResult {
  const r: ScanResult = { status: ScanStatus.Ok, validUpTo: start, errorOffset: -1, error: '', openMulti: false, validBeforeMulti: start, commands: 0 };
  let p = start;
  const corrupt = (at: number, why: string): ScanResult => {
    r.status = ScanStatus.Corrupt;
    r.errorOffset = at;
    r.error = why;
    return r;
  };
  while (p < end) {
    const cmdStart = p;
    if (buf[p] === 35) {
      // '#' annotation: skipped up to its newline.
      const nl = buf.indexOf(10, p);
      if (nl < 0 || nl >= end) {
        r.status = ScanStatus.Truncated;
        return r;
      }
      if (onAnnotation !== null) onAnnotation(buf.latin1Slice(cmdStart + 1, buf[nl - 1] === 13 ? nl - 1 : nl), cmdStart);
      p = nl + 1;
      r.validUpTo = p;
      continue;
    }
    if (buf[p] !== 42) return corrupt(p, 'Bad file format');
    const head = readLenLine(buf, p, end);
    if (head === null) {
      r.status = ScanStatus.Truncated;
      return r;
    }
    const argc = head[0];
    if (argc < 1) return corrupt(p, 'Bad file format');
    p = head[1];
    const argv: string[] = new Array(argc);
    for (let i = 0; i < argc; i++) {
      if (p >= end) {
        r.status = ScanStatus.Truncated;
        return r;
      }
      if (buf[p] !== 36) return corrupt(p, 'Bad file format');
      const ln = readLenLine(buf, p, end);
      if (ln === null) {
        r.status = ScanStatus.Truncated;
        return r;
      }
      if (ln[0] < 0) return corrupt(p, 'Bad file format');
      p = ln[1];
      const n = ln[0];
      if (p + n + 2 > end) {
        r.status = ScanStatus.Truncated;
        return r;
      }
      if (buf[p + n] !== 13 || buf[p + n + 1] !== 10) return corrupt(p + n, 'Bad file format');
      argv[i] = buf.latin1Slice(p, p + n);
      p += n + 2;
    }
    const name = argv[0].toLowerCase();
    if (name === 'multi') {
      if (r.openMulti) return corrupt(cmdStart, 'Unexpected MULTI');
      r.openMulti = true;
      r.validBeforeMulti = cmdStart;
    } else if (name === 'exec') {
      r.openMulti = false;
    }
    if (onCommand !== null) onCommand(argv, cmdStart);
    r.commands++;
    r.validUpTo = p;
  }
  return r;
}
