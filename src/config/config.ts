// Config values, the config file / command line reader (valkey.conf syntax) and
// CONFIG REWRITE.
import { writeFileAtomic } from '../util/atomic-file.js';
import { readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { splitArgs } from '../protocol/parser.js';
import { VIREO_VERSION } from '../server/server.js';
import { DIRECTIVES, DIRECTIVE_BY_NAME, formatMemory, normalize, type Directive } from './schema.js';

export class ConfigError extends Error {}

export class Config {
  private values = new Map<string, string>();
  /** Absolute path of the config file the server was started with, for CONFIG REWRITE. */
  file: string | null = null;
  /** Listeners run after a directive changed at run time (name, new value). */
  onChange: ((name: string, value: string) => void) | null = null;
  /** `user <name> <rules...>` directives in order (name first), loaded by the ACL module at start-up. */
  users: string[][] = [];
  /**
   * The ACL users as `user <name> <rules>` lines, for CONFIG REWRITE (set by the
   * server; null: `user` lines of the file are kept as they are).
   */
  userLines: (() => string[]) | null = null;

  constructor() {
    for (const d of DIRECTIVES) this.values.set(d.name, d.default);
  }

  get(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`unknown config ${name}`);
    return v;
  }

  num(name: string): number {
    return Number(this.get(name));
  }

  bool(name: string): boolean {
    return this.get(name) === 'yes';
  }

  /** The value as CONFIG GET shows it (dir: the working directory). */
  show(d: Directive): string {
    const v = this.values.get(d.name)!;
    return d.show ? d.show(v) : v;
  }

  /** Sets a directive from raw arguments; returns an error message or null. */
  setRaw(name: string, args: string[]): string | null {
    const d = DIRECTIVE_BY_NAME.get(name.toLowerCase());
    if (!d) return 'Bad directive or wrong number of arguments';
    const r = normalize(d, args, this.values.get(d.name));
    if ('error' in r) return r.error;
    this.values.set(d.name, r.value);
    return null;
  }

  /** Sets an already-normalized value (CONFIG SET after validation). */
  setValue(d: Directive, value: string): void {
    this.values.set(d.name, value);
    this.onChange?.(d.name, value);
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  /** Values that differ from their defaults (for CONFIG REWRITE). */
  changed(): Map<string, string> {
    const m = new Map<string, string>();
    for (const d of DIRECTIVES) {
      const v = this.values.get(d.name)!;
      if (v !== d.default) m.set(d.name, v);
    }
    return m;
  }
}

interface Line {
  args: string[];
  text: string;
  lineNo: number;
  file: string;
}

function readLines(text: string, file: string, out: Line[], depth: number): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const args = splitArgs(trimmed);
    if (args === null) throw configFail(file, i + 1, trimmed, 'Unbalanced quotes in configuration line');
    if (args.length === 0) continue;
    if (args[0].toLowerCase() === 'include') {
      if (args.length !== 2) throw configFail(file, i + 1, trimmed, 'Bad directive or wrong number of arguments');
      if (depth > 16) throw configFail(file, i + 1, trimmed, 'Too many nested includes');
      let inc: string;
      try {
        inc = readFileSync(args[1], 'latin1');
      } catch (e) {
        throw configFail(file, i + 1, trimmed, `Fatal error, can't open config file '${resolve(args[1])}': ${errText(e)}`);
      }
      readLines(inc, resolve(args[1]), out, depth + 1);
      continue;
    }
    out.push({ args, text: trimmed, lineNo: i + 1, file });
  }
}

/** strerror-style text of a Node file system error. */
export function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EROFS':
      return 'Read-only file system';
    case 'ENOSPC':
      return 'No space left on device';
    default:
      return (e as Error).message;
  }
}

/**
 * The start-up error for a bad config line, in Valkey's shape (header, position,
 * the line, the reason), naming the file as well: an included file, the file
 * given on the command line, "(stdin)" or "(command line)".
 */
export function configFail(file: string, lineNo: number, text: string, msg: string): ConfigError {
  return new ConfigError(
    `\n*** FATAL CONFIG FILE ERROR (Vireo ${VIREO_VERSION}) ***\n` +
      `Reading the configuration file ${file}, at line ${lineNo}\n` +
      `>>> '${text}'\n${msg}`,
  );
}

/** Applies config text (valkey.conf syntax) to a Config. Throws ConfigError. */
export function applyConfigText(cfg: Config, text: string, file: string): void {
  const lines: Line[] = [];
  readLines(text, file, lines, 0);
  let saveSeen = false;
  for (const l of lines) {
    const name = l.args[0].toLowerCase();
    if (name === 'user' && l.args.length >= 2) {
      cfg.users.push(l.args.slice(1));
      continue;
    }
    const d = DIRECTIVE_BY_NAME.get(name);
    if (!d) throw configFail(l.file, l.lineNo, l.text, 'Bad directive or wrong number of arguments');
    let args = l.args.slice(1);
    if (d.type === 'save') {
      // Like Valkey: the first "save" line replaces the default save points,
      // later ones add to them, and `save ""` clears them.
      if (args.length === 1 && args[0] === '') args = [];
      else if (saveSeen && cfg.get('save') !== '') args = [...cfg.get('save').split(' '), ...args];
      saveSeen = true;
      if (args.length === 0) args = [''];
    }
    const err = cfg.setRaw(name, args);
    if (err) throw configFail(l.file, l.lineNo, l.text, err);
  }
}

/** Quotes an argument for a config line when needed. */
export function quoteArg(s: string): string {
  if (s !== '' && /^[\x21-\x7e]+$/.test(s) && !/["'\\]/.test(s)) return s;
  return reprArg(s);
}

/** Always-quoted form of a string, like Valkey's sdscatrepr. */
export function reprArg(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * Turns valkey-server style arguments into config text, as valkey-server does:
 * `[configfile] [--name value ...] [-]`. The first argument is the config file
 * unless it starts with '-'; a lone '-' as the first or last argument reads the
 * config from stdin as well; `--name` starts an option whose values follow (a
 * value may itself start with "--" when the option has none yet); an option
 * written as one argument with spaces ("--port 7777") is split; `--save` with
 * no value means `save ""`. Returns the file, whether to read stdin, and the
 * options as config text to apply after the file.
 */
export function argsToConfig(argv: string[]): { file: string | null; stdin: boolean; options: string } {
  let i = 0;
  let file: string | null = null;
  let stdin = false;
  if (argv.length > 0 && !argv[0].startsWith('-')) {
    file = argv[0];
    i = 1;
  }
  const lines: string[] = [];
  let cur: string[] | null = null;
  let hasArg = true;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-' && (i === 0 || i === argv.length - 1)) {
      stdin = true;
      continue;
    }
    if (hasArg && a.startsWith('--')) {
      if (cur) lines.push(cur.join(' '));
      const parts = splitArgs(a.slice(2)) ?? [a.slice(2)];
      cur = [a.slice(2)];
      hasArg = parts.length > 1;
      if (!hasArg && a.toLowerCase() === '--save') {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) {
          cur.push('""');
          hasArg = true;
        }
      }
    } else {
      if (!cur) throw new ConfigError(`Invalid option '${a}': options must start with -- (see --help)`);
      cur.push(reprArg(a));
      hasArg = true;
    }
  }
  if (cur) lines.push(cur.join(' '));
  return { file, stdin, options: lines.join('\n') };
}

// ------------------------------------------------------------------ CONFIG REWRITE

const REWRITE_SIGNATURE = '# Generated by CONFIG REWRITE';

/** The config line for a directive's current value, as CONFIG REWRITE writes it. */
export function formatDirective(d: Directive, value: string): string {
  switch (d.type) {
    case 'bool':
    case 'int':
    case 'enum':
      return `${d.name} ${value}`;
    case 'memory':
      return `${d.name} ${formatMemory(value)}`;
    case 'save':
      return value === '' ? `${d.name} ""` : `${d.name} ${value}`;
    case 'list':
      return value === '' ? `${d.name} ""` : `${d.name} ${value.split(' ').map(quoteArg).join(' ')}`;
    case 'string':
      return `${d.name} ${reprArg(value)}`;
  }
}

/**
 * The new text of a config file after CONFIG REWRITE: comments, blank lines,
 * `include` lines and unknown lines stay where they are; the first line of each
 * directive is replaced by its current value and its repeats become blank;
 * directives that are not at their defaults and not in the file are appended
 * after a "# Generated by CONFIG REWRITE" line. Runs of blank lines become one.
 */
export function rewriteConfigText(cfg: Config, oldText: string): string {
  // Like Valkey, the text after the last newline counts as a (blank) line.
  const lines = oldText === '' ? [] : oldText.split('\n');
  const out: string[] = [];
  const byName = new Map<string, number[]>();
  const userAt: number[] = [];
  let hasSignature = false;
  for (const raw of lines) {
    const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (line === '' || line.startsWith('#')) {
      if (line === REWRITE_SIGNATURE) hasSignature = true;
      out.push(line);
      continue;
    }
    const args = splitArgs(line);
    if (args && args.length > 0 && args[0].toLowerCase() === 'user' && cfg.userLines !== null) {
      userAt.push(out.length);
      out.push(line);
      continue;
    }
    const d = args && args.length > 0 ? DIRECTIVE_BY_NAME.get(args[0].toLowerCase()) : undefined;
    if (!d) {
      // include, or a line this server does not know: keep it as it is.
      out.push(line);
      continue;
    }
    let l = byName.get(d.name);
    if (!l) byName.set(d.name, (l = []));
    l.push(out.length);
    out.push(line);
  }
  const appended: string[] = [];
  for (const d of DIRECTIVES) {
    const value = cfg.show(d);
    const line = formatDirective(d, value);
    const at = byName.get(d.name);
    if (at && at.length > 0) {
      out[at[0]] = line;
      for (const k of at.slice(1)) out[k] = ''; // repeats become blank lines
    } else if (cfg.get(d.name) !== d.default || d.alwaysRewrite) {
      appended.push(line);
    }
  }
  if (cfg.userLines !== null) {
    // Valkey's rewriteConfigUserOption: with no aclfile, every user is written
    // (in the place of the file's `user` lines, the rest appended); with an
    // aclfile, the users live there and `user` lines are dropped.
    const users = cfg.get('aclfile') === '' ? cfg.userLines() : [];
    for (let i = 0; i < users.length; i++) {
      if (i < userAt.length) out[userAt[i]] = users[i];
      else appended.push(users[i]);
    }
    for (let i = users.length; i < userAt.length; i++) out[userAt[i]] = '';
  }
  if (appended.length > 0) {
    if (!hasSignature) out.push(REWRITE_SIGNATURE);
    out.push(...appended);
  }
  let text = '';
  let wasEmpty = false;
  for (const l of out) {
    if (l === '') {
      if (wasEmpty) continue;
      wasEmpty = true;
    } else wasEmpty = false;
    text += l + '\n';
  }
  return text;
}

/**
 * CONFIG REWRITE: rewrites the server's config file in place (through a
 * temporary file in the same directory, renamed over it). Throws on I/O errors.
 */
export function rewriteConfigFile(cfg: Config): void {
  const file = cfg.file;
  if (file === null) throw new ConfigError('The server is running without a config file');
  let old = '';
  try {
    old = readFileSync(file, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const text = rewriteConfigText(cfg, old);
  writeFileAtomic(file, text);
}
