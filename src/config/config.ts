// Config values and the config file / command line reader (valkey.conf syntax).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { splitArgs } from '../protocol/parser.js';
import { DIRECTIVES, DIRECTIVE_BY_NAME, normalize, type Directive } from './schema.js';

export class ConfigError extends Error {}

export class Config {
  private values = new Map<string, string>();
  /** Path of the config file the server was started with, for CONFIG REWRITE. */
  file: string | null = null;
  /** Listeners run after a directive changed at run time (name, new value). */
  onChange: ((name: string, value: string) => void) | null = null;

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

  /** Sets a directive from raw arguments; returns an error message or null. */
  setRaw(name: string, args: string[]): string | null {
    const d = DIRECTIVE_BY_NAME.get(name.toLowerCase());
    if (!d) return 'Bad directive or wrong number of arguments';
    const r = normalize(d, args);
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
    const raw = lines[i].replace(/\r$/, '');
    const trimmed = raw.trim();
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
        throw configFail(file, i + 1, trimmed, `Fatal error, can't open config file '${args[1]}': ${(e as Error).message}`);
      }
      readLines(inc, resolve(args[1]), out, depth + 1);
      continue;
    }
    out.push({ args, text: trimmed, lineNo: i + 1, file });
  }
}

export function configFail(file: string, lineNo: number, text: string, msg: string): ConfigError {
  return new ConfigError(
    `\n*** FATAL CONFIG FILE ERROR (Vireo) ***\n` +
      `Reading the configuration file ${file}, at line ${lineNo}\n` +
      `>>> '${text}'\n${msg}`,
  );
}

/** Applies config text (valkey.conf syntax) to a Config. Throws ConfigError. */
export function applyConfigText(cfg: Config, text: string, file: string): void {
  const lines: Line[] = [];
  readLines(text, file, lines, 0);
  let saveReset = false;
  for (const l of lines) {
    const name = l.args[0].toLowerCase();
    const d = DIRECTIVE_BY_NAME.get(name);
    if (!d) throw configFail(l.file, l.lineNo, l.text, 'Bad directive or wrong number of arguments');
    let args = l.args.slice(1);
    if (d.type === 'save') {
      // Repeated "save" lines accumulate; `save ""` clears.
      if (args.length === 1 && args[0] === '') {
        args = [''];
        saveReset = true;
      } else if (saveReset || cfg.get('save') === d.default) {
        saveReset = false;
      } else {
        args = [...cfg.get('save').split(' ').filter((x) => x), ...args];
      }
    }
    const err = cfg.setRaw(name, args);
    if (err) throw configFail(l.file, l.lineNo, l.text, err);
  }
}

/** Quotes an argument for a config line when needed. */
export function quoteArg(s: string): string {
  if (s !== '' && /^[\x21-\x7e]+$/.test(s) && !/["'\\]/.test(s)) return s;
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * Turns valkey-server style arguments into config text:
 * `[configfile] [--name value ...]`. Returns the file path (or null) and the text
 * made of the options, to apply after the file.
 */
export function argsToConfig(argv: string[]): { file: string | null; options: string } {
  let i = 0;
  let file: string | null = null;
  if (argv.length > 0 && !argv[0].startsWith('--')) {
    file = argv[0];
    i = 1;
  }
  const lines: string[] = [];
  let cur: string[] | null = null;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && a.length > 2) {
      if (cur) lines.push(cur.join(' '));
      cur = [a.slice(2)];
    } else {
      if (!cur) throw new ConfigError(`Invalid option '${a}': options must start with -- (see --help)`);
      cur.push(quoteArg(a));
    }
  }
  if (cur) lines.push(cur.join(' '));
  return { file, options: lines.join('\n') };
}
