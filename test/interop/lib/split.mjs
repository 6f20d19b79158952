// A small quote-aware argument splitter in the style of redis-cli's command
// line: whitespace separates words; "double quotes" understand \xHH, \n, \r,
// \t, \b, \a and backslash-anything; 'single quotes' understand only \'.
// A closing quote must be followed by whitespace or the end of the line.
// Returns an array of latin1 strings (one char per byte), or throws on
// unbalanced quotes.

const HEX = /^[0-9a-fA-F]{2}$/;

export function splitArgs(line) {
  const out = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    let done = false;
    while (!done) {
      if (inDq) {
        if (i >= n) throw new Error(`unbalanced double quote in: ${line}`);
        const c = line[i];
        if (c === '\\' && line[i + 1] === 'x' && HEX.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !/\s/.test(line[i + 1])) throw new Error(`closing quote must be followed by a space in: ${line}`);
          done = true;
        } else {
          cur += c;
        }
      } else if (inSq) {
        if (i >= n) throw new Error(`unbalanced single quote in: ${line}`);
        const c = line[i];
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i++;
        } else if (c === "'") {
          if (i + 1 < n && !/\s/.test(line[i + 1])) throw new Error(`closing quote must be followed by a space in: ${line}`);
          done = true;
        } else {
          cur += c;
        }
      } else {
        if (i >= n) break;
        const c = line[i];
        if (/\s/.test(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else cur += c;
      }
      i++;
    }
    out.push(cur);
  }
}

/** Converts a string given with JS-like escapes (\r \n \t \\ \xHH) to latin1 text. */
export function unescapeRaw(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === 'x' && HEX.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === '0' ? '\0' : e;
  }
  return out;
}

/** Escapes latin1 text for printing: printable ASCII stays, the rest becomes \r \n \xHH. */
export function escapeRaw(s) {
  if (s === null || s === undefined) return String(s);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13) out += '\\r';
    else if (c === 10) out += '\\n';
    else if (c === 9) out += '\\t';
    else if (c === 92) out += '\\\\';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += s[i];
  }
  return out;
}
