// Glob-style matching with Valkey's rules (stringmatchlen): * ? [abc] [^a] [a-z]
// and backslash escapes, optionally case-insensitive. Operates on latin1 strings.

export function globMatch(pattern: string, str: string, nocase = false): boolean {
  return match(pattern, 0, str, 0, nocase, { skipLongerMatches: false }, 0);
}

interface State {
  skipLongerMatches: boolean;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function match(p: string, pi: number, s: string, si: number, nocase: boolean, st: State, nesting: number): boolean {
  // Protect against abusive patterns with deep recursion (Valkey caps at 1000).
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
        const sc = nocase ? lower(s.charCodeAt(si)) : s.charCodeAt(si);
        for (;;) {
          if (pi >= plen) {
            pi--; // like Valkey: an unterminated class ends the pattern
            break;
          }
          let c = p.charCodeAt(pi);
          if (c === 92 /* \ */ && plen - pi >= 2) {
            pi++;
            c = p.charCodeAt(pi);
            if ((nocase ? lower(c) : c) === sc) matched = true;
          } else if (c === 93 /* ] */) {
            break;
          } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === 45 /* - */) {
            let start = c;
            let end = p.charCodeAt(pi + 2);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
            }
            pi += 2;
            if (sc >= start && sc <= end) matched = true;
          } else {
            if ((nocase ? lower(c) : c) === sc) matched = true;
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
