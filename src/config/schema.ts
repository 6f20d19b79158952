// Every config directive Vireo implements: name, type, default, bounds, whether
// CONFIG SET may change it, and what changing it does. The file parser, CLI
// flags, CONFIG GET/SET/REWRITE and INFO all read this one table.

export type DirectiveType = 'bool' | 'int' | 'memory' | 'string' | 'enum' | 'save' | 'list';

export interface Directive {
  name: string;
  aliases?: string[];
  type: DirectiveType;
  /** Default in its canonical string form (what CONFIG GET shows). */
  default: string;
  min?: number;
  max?: number;
  values?: string[];
  mutable: boolean;
  /** Extra validation of a parsed value; returns an error message or null. */
  check?: (v: string) => string | null;
  /** Hidden from CONFIG GET * (still settable). */
  hidden?: boolean;
}

const notYet = (what: string) => (v: string) =>
  v === '' || v === 'no' || v === 'noeviction' ? null : `${what} is not implemented by Vireo yet`;

export const DIRECTIVES: Directive[] = [
  { name: 'port', type: 'int', default: '6379', min: 0, max: 65535, mutable: true },
  { name: 'bind', type: 'list', default: '127.0.0.1 -::1', mutable: true },
  { name: 'tcp-backlog', type: 'int', default: '511', min: 0, max: 2147483647, mutable: false },
  { name: 'tcp-keepalive', type: 'int', default: '300', min: 0, max: 2147483647, mutable: true },
  { name: 'timeout', type: 'int', default: '0', min: 0, max: 2147483647, mutable: true },
  { name: 'maxclients', type: 'int', default: '10000', min: 1, max: 2147483647, mutable: true },
  { name: 'requirepass', type: 'string', default: '', mutable: true },
  { name: 'databases', type: 'int', default: '16', min: 1, max: 2147483647, mutable: false },
  { name: 'hz', type: 'int', default: '10', min: 1, max: 500, mutable: true },
  { name: 'dynamic-hz', type: 'bool', default: 'yes', mutable: true },
  { name: 'active-expire-effort', type: 'int', default: '1', min: 1, max: 10, mutable: true },
  { name: 'loglevel', type: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'], mutable: true },
  { name: 'logfile', type: 'string', default: '', mutable: false },
  { name: 'pidfile', type: 'string', default: '', mutable: false },
  { name: 'daemonize', type: 'bool', default: 'no', mutable: false, check: notYet('daemonize yes') },
  { name: 'always-show-logo', type: 'bool', default: 'no', mutable: false },
  { name: 'dir', type: 'string', default: '', mutable: true },
  { name: 'save', type: 'save', default: '', mutable: true, check: notYet('RDB persistence (save points)') },
  { name: 'appendonly', type: 'bool', default: 'no', mutable: true, check: notYet('AOF persistence (appendonly yes)') },
  { name: 'maxmemory', type: 'memory', default: '0', min: 0, max: Number.MAX_SAFE_INTEGER, mutable: true },
  {
    name: 'maxmemory-policy',
    type: 'enum',
    default: 'noeviction',
    values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'],
    mutable: true,
    check: notYet('eviction (maxmemory-policy other than noeviction)'),
  },
  { name: 'proto-max-bulk-len', type: 'memory', default: '536870912', min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER, mutable: true },
  { name: 'client-query-buffer-limit', type: 'memory', default: '1073741824', min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER, mutable: true },
  { name: 'enable-debug-command', type: 'enum', default: 'no', values: ['no', 'yes', 'local'], mutable: false },
];

export const DIRECTIVE_BY_NAME = new Map<string, Directive>();
for (const d of DIRECTIVES) {
  DIRECTIVE_BY_NAME.set(d.name, d);
  for (const a of d.aliases ?? []) DIRECTIVE_BY_NAME.set(a, d);
}

/** Parses "100", "1k", "1kb", "2mb", "1gb" (case-insensitive) like Valkey's memtoull. */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n < 0) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const mul: Record<string, number> = { '': 1, k: 1000, kb: 1024, m: 1000 * 1000, mb: 1024 * 1024, g: 1000 * 1000 * 1000, gb: 1024 * 1024 * 1024 };
  const v = n * mul[unit];
  return Number.isSafeInteger(v) ? v : null;
}

/**
 * Normalizes and validates one directive's arguments. Returns the canonical string
 * value or an error message (Valkey's wording) as { error }.
 */
export function normalize(d: Directive, args: string[]): { value: string } | { error: string } {
  switch (d.type) {
    case 'bool': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const v = args[0].toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: "argument must be 'yes' or 'no'" };
      return finish(d, v);
    }
    case 'int': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const s = args[0];
      let n: number | null = /^-?\d+$/.test(s) ? Number(s) : null;
      if (n === null) {
        const mem = parseMemory(s);
        if (mem === null) return { error: "argument couldn't be parsed into an integer" };
        n = mem;
      }
      if ((d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max))
        return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      return finish(d, String(n));
    }
    case 'memory': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const n = parseMemory(args[0]);
      if (n === null) return { error: 'argument must be a memory value' };
      if ((d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max))
        return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      return finish(d, String(n));
    }
    case 'enum': {
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      const v = args[0].toLowerCase();
      if (!d.values!.includes(v)) return { error: `argument(s) must be one of the following: ${d.values!.join(', ')}` };
      return finish(d, v);
    }
    case 'string':
      if (args.length !== 1) return { error: 'wrong number of arguments' };
      return finish(d, args[0]);
    case 'list':
      if (args.length < 1) return { error: 'wrong number of arguments' };
      return finish(d, args.join(' '));
    case 'save': {
      const parts = args.length === 1 ? args[0].split(/\s+/).filter((x) => x !== '') : args;
      if (parts.length % 2 !== 0) return { error: 'Invalid save parameters' };
      for (const p of parts) if (!/^\d+$/.test(p)) return { error: 'Invalid save parameters' };
      return finish(d, parts.join(' '));
    }
  }
}

function finish(d: Directive, v: string): { value: string } | { error: string } {
  if (d.check) {
    const e = d.check(v);
    if (e) return { error: e };
  }
  return { value: v };
}
