// What SCAN, HSCAN, SSCAN and ZSCAN share: their option parsing (COUNT, MATCH,
// TYPE, NOVALUES, NOSCORES with Valkey's per-command errors) and the one-ahead
// iterator that lets a walk ending exactly on a page answer cursor 0.
import type { Client } from '../server/client.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT, E_SYNTAX } from './errors.js';

export const enum ScanKind {
  Keys = 0,
  Hash = 1,
  Set = 2,
  ZSet = 3,
}

export interface ScanOptions {
  /** Entries to walk per call (COUNT, default 10). */
  count: number;
  /** MATCH pattern, or null when absent or "*". */
  pattern: string | null;
  /** TYPE option of SCAN: the raw type name, or null. */
  typeName: string | null;
  noValues: boolean;
  noScores: boolean;
}

/** Case-insensitive comparison with a lower-case option name. */
function isOpt(arg: string, lowerName: string): boolean {
  const n = lowerName.length;
  if (arg.length !== n) return false;
  for (let i = 0; i < n; i++) if ((arg.charCodeAt(i) | 32) !== lowerName.charCodeAt(i)) return false;
  return true;
}

/**
 * Parses the options from argv[start] on. Replies the error and returns null
 * when they are invalid. `checkType` validates SCAN's TYPE argument (returns an
 * error message or null).
 */
export function parseScanOptions(
  c: Client,
  argv: string[],
  start: number,
  kind: ScanKind,
  checkType?: (name: string) => string | null,
): ScanOptions | null {
  const o: ScanOptions = { count: 10, pattern: null, typeName: null, noValues: false, noScores: false };
  const argc = argv.length;
  for (let i = start; i < argc; ) {
    const opt = argv[i];
    const more = argc - i;
    if (more >= 2 && isOpt(opt, 'count')) {
      const v = parseInt64(argv[i + 1]);
      if (v === null) {
        c.addError(E_NOT_INT);
        return null;
      }
      if (v < 1) {
        c.addError(E_SYNTAX);
        return null;
      }
      o.count = typeof v === 'bigint' ? Number.MAX_SAFE_INTEGER : v;
      i += 2;
    } else if (more >= 2 && isOpt(opt, 'match')) {
      const p = argv[i + 1];
      // The pattern "*" matches everything: no need to run the matcher.
      o.pattern = p === '*' ? null : p;
      i += 2;
    } else if (kind === ScanKind.Keys && more >= 2 && isOpt(opt, 'type')) {
      // Checked here, in argument order, like Valkey.
      const err = checkType ? checkType(argv[i + 1]) : null;
      if (err !== null) {
        c.addError(err);
        return null;
      }
      o.typeName = argv[i + 1];
      i += 2;
    } else if (isOpt(opt, 'novalues')) {
      if (kind !== ScanKind.Hash) {
        c.addError('ERR NOVALUES option can only be used in HSCAN');
        return null;
      }
      o.noValues = true;
      i++;
    } else if (isOpt(opt, 'noscores')) {
      if (kind !== ScanKind.ZSet) {
        c.addError('ERR NOSCORES option can only be used in ZSCAN');
        return null;
      }
      o.noScores = true;
      i++;
    } else {
      c.addError(E_SYNTAX);
      return null;
    }
  }
  return o;
}

/** An iterator with one element taken ahead of time (re-armed, never nested). */
export class LookaheadIterator implements Iterator<string> {
  constructor(
    public first: string | null,
    private readonly rest: Iterator<string>,
  ) {}
  next(): IteratorResult<string> {
    const f = this.first;
    if (f !== null) {
      this.first = null;
      return { done: false, value: f };
    }
    return this.rest.next();
  }
}
