// Reads differential corpus files. One command per line in redis-cli-like
// quoting (see split.mjs); '#' starts a comment line; blank lines are ignored.
// A comment of the form '# @directive args' is a directive. Line directives
// apply to the next command line only (several may stack):
//   @ignore-value        compare the reply's shape only: RESP types, null-ness,
//                        aggregate sizes and error codes, not scalar values
//   @type-only           compare only the top-level RESP type byte
//   @sort                compare an aggregate reply as a sorted multiset
//   @scan-all            a SCAN: follow the cursor to 0 on each server and
//                        compare the sorted, de-duplicated union of keys
//   @range LO HI         an integer reply that must lie in [LO, HI] on both
//   @any                 send and require a well-formed reply, compare nothing
//   @no-reply            neither server sends a reply (CLIENT REPLY OFF/SKIP)
//   @closes              the server replies and then closes (QUIT); reconnect
//   @expect-vireo ID RAW pin Vireo's reply to RAW (escapes \r \n \xHH) where
//                        Valkey 8 deliberately differs from Redis 7.0; ID must
//                        be a heading in corpus/VALKEY_DIFFERENCES.md. Applies
//                        to both protocol passes unless @expect-vireo3 is given
//   @expect-vireo3 ID RAW  the same, for the RESP3 pass only
//   @resp2-only / @resp3-only   run the line in one protocol pass only
//   @inline              send the line exactly as written plus CRLF, as an
//                        inline command, instead of as a multibulk frame
//   @raw                 send the line's bytes after unescaping \r \n \xHH
//                        (nothing added): hand-made or malformed frames
// Step directives (take effect in sequence):
//   @sleep MS            wait MS milliseconds before going on
// File directives (before the first command):
//   @no-resp3 REASON     do not run this file in the RESP3 pass
import { readFileSync } from 'node:fs';
import { splitArgs, unescapeRaw } from './split.mjs';
export { unescapeRaw };

const LINE_DIRECTIVES = new Set([
  'ignore-value', 'type-only', 'sort', 'scan-all', 'range', 'any', 'no-reply', 'closes',
  'expect-vireo', 'expect-vireo3', 'resp2-only', 'resp3-only', 'inline', 'raw',
]);

export function parseCorpus(path, knownDiffIds = null) {
  const text = readFileSync(path, 'latin1');
  const lines = text.split('\n');
  const steps = [];
  const file = { path, noResp3: null, steps };
  let pending = {};
  let sawCommand = false;
  const fail = (ln, msg) => {
    throw new Error(`${path}:${ln}: ${msg}`);
  };
  lines.forEach((rawLine, idx) => {
    const ln = idx + 1;
    const line = rawLine.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const m = /^#\s*@([a-z0-9-]+)\s*(.*)$/.exec(trimmed);
      if (!m) return;
      const [, name, rest] = m;
      if (name === 'no-resp3') {
        if (sawCommand) fail(ln, '@no-resp3 must come before the first command');
        file.noResp3 = rest || 'opted out';
        return;
      }
      if (name === 'sleep') {
        const ms = Number(rest);
        if (!Number.isFinite(ms) || ms < 0) fail(ln, 'bad @sleep');
        steps.push({ kind: 'sleep', ms, line: ln });
        return;
      }
      if (!LINE_DIRECTIVES.has(name)) fail(ln, `unknown directive @${name}`);
      if (name === 'range') {
        const [lo, hi] = rest.split(/\s+/).map(Number);
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) fail(ln, 'bad @range');
        pending.range = [lo, hi];
      } else if (name === 'expect-vireo' || name === 'expect-vireo3') {
        const mm = /^(\S+)\s+(.+)$/.exec(rest);
        if (!mm) fail(ln, `@${name} needs an ID and a raw reply`);
        if (knownDiffIds && !knownDiffIds.has(mm[1])) fail(ln, `@${name} ID ${mm[1]} is not documented in VALKEY_DIFFERENCES.md`);
        pending[name === 'expect-vireo' ? 'expect' : 'expect3'] = { id: mm[1], raw: unescapeRaw(mm[2]) };
      } else {
        pending[name] = true;
      }
      return;
    }
    let args = null;
    if (!pending.inline && !pending.raw) {
      try {
        args = splitArgs(line);
      } catch (e) {
        fail(ln, e.message);
      }
    }
    sawCommand = true;
    steps.push({ kind: 'cmd', line: ln, text: trimmed, raw: line, args, dirs: pending });
    pending = {};
  });
  if (Object.keys(pending).length) fail(lines.length, 'directive(s) with no command after them');
  return file;
}

/** IDs documented in VALKEY_DIFFERENCES.md: headings like "## V3: ...". */
export function documentedDiffIds(mdPath) {
  const ids = new Set();
  for (const m of readFileSync(mdPath, 'utf8').matchAll(/^##\s+([A-Z]+[0-9]+)\b/gm)) ids.add(m[1]);
  return ids;
}

export function countCommands(file) {
  return file.steps.filter((s) => s.kind === 'cmd').length;
}
