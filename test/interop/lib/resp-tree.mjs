// Parses one raw RESP2/RESP3 reply (latin1 text) into a tree and renders the
// normalised forms the differential runner compares.

/** Parses the reply starting at `i`; returns [node, nextIndex]. */
export function parseTree(s, i = 0) {
  const nl = s.indexOf('\r\n', i);
  if (nl < 0) throw new Error('incomplete reply');
  const t = s[i];
  const head = s.slice(i + 1, nl);
  let p = nl + 2;
  switch (t) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return [{ t, head, raw: s.slice(i, p) }, p];
    case '$': case '=': case '!': {
      const n = Number(head);
      if (n < 0) return [{ t, head, null: true, raw: s.slice(i, p) }, p];
      const body = s.slice(p, p + n);
      p += n + 2;
      return [{ t, head, body, raw: s.slice(i, p) }, p];
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(head);
      if (n < 0) return [{ t, head, null: true, raw: s.slice(i, p) }, p];
      if (t === '%' || t === '|') n *= 2;
      const children = [];
      for (let k = 0; k < n; k++) {
        const [c, q] = parseTree(s, p);
        children.push(c);
        p = q;
      }
      if (t === '|') {
        // An attribute is followed by the real reply; keep both.
        const [real, q] = parseTree(s, p);
        return [{ t, head, children, real, raw: s.slice(i, q) }, q];
      }
      return [{ t, head, children, raw: s.slice(i, p) }, p];
    }
    default:
      throw new Error(`bad RESP type byte ${JSON.stringify(t)}`);
  }
}

export function tryParse(s) {
  try {
    const [node, end] = parseTree(s, 0);
    return end === s.length ? node : null;
  } catch {
    return null;
  }
}

/** Shape: types, null-ness and aggregate sizes, no scalar values; errors keep their code. */
export function shapeOf(node) {
  if (!node) return '<unparsable>';
  if (node.null) return `${node.t}-1`;
  switch (node.t) {
    case '-': case '!':
      return `${node.t}${(node.t === '-' ? node.head : node.body).split(' ')[0]}`;
    case '*': case '~': case '>': case '%':
      return `${node.t}${node.head}[${node.children.map(shapeOf).join(',')}]`;
    case '|':
      return `|${node.head}[${node.children.map(shapeOf).join(',')}]${shapeOf(node.real)}`;
    case '_':
      return '_';
    default:
      return node.t;
  }
}

/** Re-renders an aggregate with its elements (or map pairs) sorted by raw bytes. */
export function sortedRaw(node) {
  if (!node || node.null || !node.children) return node ? node.raw : null;
  let items;
  if (node.t === '%') {
    items = [];
    for (let k = 0; k < node.children.length; k += 2) items.push(node.children[k].raw + node.children[k + 1].raw);
  } else items = node.children.map((c) => c.raw);
  items.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `${node.t}${node.head}\r\n${items.join('')}`;
}

/** Builds a raw RESP array of bulk strings. */
export function bulkArray(items) {
  return `*${items.length}\r\n` + items.map((x) => `$${x.length}\r\n${x}\r\n`).join('');
}
