// Glob-style matching with Valkey's rules (stringmatchlen): * ? [abc] [^a] [a-z]
// and backslash escapes, optionally case-insensitive. Operates on latin1 strings
// (one char per byte).
//
// Quirks kept on purpose because Valkey has them:
// - An unterminated class ("[abc" at the end of the pattern) is closed by the
//   end of the pattern; "[" alone matches nothing, "[^" matches any one byte.
// - A backslash inside a class escapes the next char, and that escaped char is
//   compared exactly, even in nocase mode.
// - Range ends are compared as C `char`, which is signed on x86-64 (the platform
//   Valkey is built and tested on): bytes 0x80-0xff count as -128..-1, so
//   "[a-\xff]" is the range -1..'a' and does not match "b".
// - "-" right before the closing "]" makes a range whose end is "]", and the
//   class goes on past it.
// - Case folding is ASCII only (the C locale's tolower).
// - Recursion through '*' is capped at 1000 levels (a deeper match fails).

interface State {
  skipLongerMatches: boolean;
}

export function globMatch(pattern: string, str: string, nocase = false): boolean {
  const st: State = { skipLongerMatches: false };
  return match(pattern, 0, str, 0, nocase, st, 0);
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** A byte as a signed C char. */
function schar(c: number): number {
  return c >= 128 ? c - 256 : c;
}

function match(p: string, pi: number, s: string, si: number, nocase: boolean, st: State, nesting: number): boolean {
  // Protection against abusive patterns with deep recursion (Valkey caps at 1000).
  if (nesting > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    switch (pc) {
      case 42: {
        // '*'
        while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
        if (pi + 1 === plen) return true; // trailing star matches the rest
        while (si < slen) {
          if (match(p, pi + 1, s, si, nocase, st, nesting + 1)) return true;
          if (st.skipLongerMatches) return false;
          si++;
        }
        // The rest of the pattern matches nowhere in the rest of the string:
        // no enclosing '*' can help by matching a longer prefix.
        st.skipLongerMatches = true;
        return false;
      }
      case 63: // '?'
        si++;
        break;
      case 91: {
        // '['
        pi++;
        const not = pi < plen && p.charCodeAt(pi) === 94; // '^'
        if (not) pi++;
        let matched = false;
        const raw = s.charCodeAt(si);
        for (;;) {
          if (pi >= plen) {
            pi--; // an unterminated class ends with the pattern
            break;
          }
          const c = p.charCodeAt(pi);
          if (c === 92 /* \ */ && plen - pi >= 2) {
            pi++;
            if (p.charCodeAt(pi) === raw) matched = true;
          } else if (c === 93 /* ] */) {
            break;
          } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === 45 /* - */) {
            let start = schar(c);
            let end = schar(p.charCodeAt(pi + 2));
            let x = schar(raw);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              x = lower(x);
            }
            pi += 2;
            if (x >= start && x <= end) matched = true;
          } else if (nocase ? lower(c) === lower(raw) : c === raw) {
            matched = true;
          }
          pi++;
        }
        if (not) matched = !matched;
        if (!matched) return false;
        si++;
        break;
      }
      case 92: // '\\'
        if (pi + 1 < plen) pi++;
      // falls through
      default: {
        const a = p.charCodeAt(pi);
        const b = s.charCodeAt(si);
        if (nocase ? lower(a) !== lower(b) : a !== b) return false;
        si++;
        break;
      }
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}

/** True when the pattern has no special characters (so it can only match itself). */
export function isLiteralPattern(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 42 || c === 63 || c === 91 || c === 92) return false;
  }
  return true;
}
