// The list structure: a chain of chunks modelled on Valkey's quicklist.
//
// Every chunk ("node") is an array of elements plus the exact size in bytes
// that Valkey's listpack encoding would take for them, so the node boundaries
// and the listpack <-> quicklist conversions follow Valkey 8 exactly and
// OBJECT ENCODING answers what Valkey answers:
//   - a small list is one node and reports "listpack"; it becomes a quicklist
//     when a push would take it over list-max-listpack-size (negative: a byte
//     budget of 4/8/16/32/64 KB; positive: an entry count, with an 8 KB cap);
//   - a quicklist adds a node at an end when the end node is full, splits and
//     merges nodes on LINSERT like Valkey does, drops emptied nodes, and turns
//     back into a listpack when it is down to a single node holding at most
//     half of the limit.
// Push/pop at both ends are O(1) amortized (a node holds at most a few KB);
// index access walks nodes from the nearer end, like Valkey.
//
// Elements are latin1 strings. Pure data: no I/O, no replies.
import { ObjType, type DataObject } from '../keyspace/types.js';

/** Byte budgets of negative list-max-listpack-size values -1 .. -5. */
const SIZE_LEVELS = [4096, 8192, 16384, 32768, 65536];
/** Size cap that also applies when the limit is an entry count. */
const SIZE_SAFETY_LIMIT = 8192;
/** What Valkey adds to an element's length when guessing its encoded size. */
const SIZE_ESTIMATE_OVERHEAD = 8;
/** Listpack header (total bytes + count) and end marker. */
const LP_EMPTY = 7;

/** Size and count limits of one node for a list-max-listpack-size value. */
function nodeLimits(fill: number): [number, number] {
  if (fill >= 0) return [Infinity, fill === 0 ? 1 : fill];
  let off = -fill - 1;
  if (off >= SIZE_LEVELS.length) off = SIZE_LEVELS.length - 1;
  return [SIZE_LEVELS[off], Infinity];
}

/** Valkey's quicklistNodeExceedsLimit. */
export function exceedsLimit(fill: number, bytes: number, count: number): boolean {
  const [sz, cnt] = nodeLimits(fill);
  if (sz !== Infinity) return bytes > sz;
  if (bytes > SIZE_SAFETY_LIMIT) return true;
  return count > cnt;
}

/** Bytes of the backlen field that follows an entry of `l` bytes. */
function backlenBytes(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** The integer a listpack would store the string as, or null (canonical int64 only). */
function packedInt(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return null;
  if (c === 48) return n === 1 ? 0 : null;
  let i = c === 45 ? 1 : 0;
  if (i === 1) {
    if (n === 1) return null;
    const d = s.charCodeAt(1);
    if (d < 49 || d > 57) return null;
  }
  for (; i < n; i++) {
    const d = s.charCodeAt(i);
    if (d < 48 || d > 57) return null;
  }
  if (n < 16) return Number(s);
  const b = BigInt(s);
  if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
  return b;
}

/** Bytes the element takes inside a listpack (encoding, data and backlen). */
export function entryBytes(s: string): number {
  const v = packedInt(s);
  let enc: number;
  if (v !== null) {
    if (typeof v === 'bigint') enc = 9;
    else if (v >= 0 && v <= 127) enc = 1;
    else if (v >= -4096 && v <= 4095) enc = 2;
    else if (v >= -32768 && v <= 32767) enc = 3;
    else if (v >= -8388608 && v <= 8388607) enc = 4;
    else if (v >= -2147483648 && v <= 2147483647) enc = 5;
    else enc = 9;
  } else {
    const l = s.length;
    enc = l < 64 ? 1 + l : l < 4096 ? 2 + l : 5 + l;
  }
  return enc + backlenBytes(enc);
}

class QNode {
  items: string[];
  bytes: number;
  constructor(items: string[], bytes: number) {
    this.items = items;
    this.bytes = bytes;
  }
  static of(items: string[]): QNode {
    let b = LP_EMPTY;
    for (let i = 0; i < items.length; i++) b += entryBytes(items[i]);
    return new QNode(items, b);
  }
}

/** Valkey's _quicklistNodeAllowInsert for an element of `len` bytes. */
function allowInsert(node: QNode | undefined, fill: number, len: number): boolean {
  if (node === undefined) return false;
  return !exceedsLimit(fill, node.bytes + len + SIZE_ESTIMATE_OVERHEAD, node.items.length + 1);
}

function allowMerge(a: QNode | undefined, b: QNode | undefined, fill: number): boolean {
  if (a === undefined || b === undefined) return false;
  return !exceedsLimit(fill, a.bytes + b.bytes - LP_EMPTY, a.items.length + b.items.length);
}

export class ListValue implements DataObject {
  readonly objType = ObjType.List;
  /** Chunks from head to tail; a listpack-encoded list has exactly one. */
  nodes: QNode[] = [new QNode([], LP_EMPTY)];
  /** True once the list is a quicklist. */
  quick = false;
  /** Node limit the quicklist was created with (Valkey keeps it per list). */
  qfill = -2;
  length = 0;

  encoding(): string {
    return this.quick ? 'quicklist' : 'listpack';
  }

  clone(): ListValue {
    const l = new ListValue();
    l.nodes = this.nodes.map((n) => new QNode(n.items.slice(), n.bytes));
    l.quick = this.quick;
    l.qfill = this.qfill;
    l.length = this.length;
    return l;
  }

  /** Bytes of the listpack (or of every quicklist node together). */
  bytes(): number {
    let b = 0;
    for (const n of this.nodes) b += n.bytes;
    return b;
  }

  // ------------------------------------------------------------ conversions

  /**
   * Before adding elements whose lengths sum to `addBytes` (`addCount` of
   * them): a listpack that would go over the limit becomes a quicklist.
   */
  growCheck(fill: number, addBytes: number, addCount: number): void {
    if (this.quick) return;
    const n = this.nodes[0];
    if (!exceedsLimit(fill, n.bytes + addBytes, n.items.length + addCount)) return;
    this.quick = true;
    this.qfill = fill;
    if (this.length === 0) this.nodes = [];
  }

  /** After removing elements: a quicklist down to one small node becomes a listpack. */
  shrinkCheck(fill: number): void {
    if (!this.quick || this.nodes.length !== 1) return;
    const [sz, cnt] = nodeLimits(fill);
    const n = this.nodes[0];
    if (n.bytes > Math.floor(sz / 2) || this.length > Math.floor(cnt / 2)) return;
    this.quick = false;
  }

  // ------------------------------------------------------------ ends

  /** Pushes one element at the head or tail (call growCheck first). */
  push(s: string, head: boolean): void {
    const eb = entryBytes(s);
    this.length++;
    if (!this.quick) {
      const n = this.nodes[0];
      if (head) n.items.unshift(s);
      else n.items.push(s);
      n.bytes += eb;
      return;
    }
    const nodes = this.nodes;
    const end = head ? nodes[0] : nodes[nodes.length - 1];
    if (allowInsert(end, this.qfill, s.length)) {
      if (head) end.items.unshift(s);
      else end.items.push(s);
      end.bytes += eb;
    } else {
      const n = new QNode([s], LP_EMPTY + eb);
      if (head) nodes.unshift(n);
      else nodes.push(n);
    }
  }

  /** Pushes elements argv[from..] one by one, like LPUSH/RPUSH (conversion included). */
  pushAll(argv: string[], from: number, head: boolean, fill: number): void {
    let add = 0;
    for (let i = from; i < argv.length; i++) add += argv[i].length;
    this.growCheck(fill, add, argv.length - from);
    for (let i = from; i < argv.length; i++) this.push(argv[i], head);
  }

  /** Removes and returns the head or tail element (undefined when empty). Caller runs shrinkCheck. */
  pop(head: boolean): string | undefined {
    if (this.length === 0) return undefined;
    const nodes = this.nodes;
    const idx = head ? 0 : nodes.length - 1;
    const n = nodes[idx];
    const s = (head ? n.items.shift() : n.items.pop()) as string;
    n.bytes -= entryBytes(s);
    this.length--;
    if (n.items.length === 0 && this.quick) {
      if (head) nodes.shift();
      else nodes.pop();
    }
    return s;
  }

  /** Pops up to `count` elements from one end, in popping order. */
  popMany(count: number, head: boolean): string[] {
    const out: string[] = [];
    while (count-- > 0 && this.length > 0) out.push(this.pop(head) as string);
    return out;
  }

  // ------------------------------------------------------------ positions

  /** Node index and offset of element `i` (0 <= i < length), seeking from the nearer end. */
  private locate(i: number): [number, number] {
    const nodes = this.nodes;
    if (i <= (this.length - 1) / 2) {
      let acc = 0;
      for (let k = 0; k < nodes.length; k++) {
        const c = nodes[k].items.length;
        if (acc + c > i) return [k, i - acc];
        acc += c;
      }
    } else {
      let acc = this.length;
      for (let k = nodes.length - 1; k >= 0; k--) {
        const c = nodes[k].items.length;
        acc -= c;
        if (acc <= i) return [k, i - acc];
      }
    }
    throw new Error('list index out of bounds');
  }

  /** Element at an index (negative counts from the tail), or undefined. */
  get(index: number): string | undefined {
    if (index < 0) index += this.length;
    if (index < 0 || index >= this.length) return undefined;
    if (index === 0) return this.nodes[0].items[0];
    const [k, off] = this.locate(index);
    return this.nodes[k].items[off];
  }

  /** Replaces the element at an index; false when out of range (LSET). */
  set(index: number, s: string, fill: number): boolean {
    this.growCheck(fill, s.length, 1);
    if (index < 0) index += this.length;
    if (index < 0 || index >= this.length) return false;
    const [k, off] = this.locate(index);
    const n = this.nodes[k];
    n.bytes += entryBytes(s) - entryBytes(n.items[off]);
    n.items[off] = s;
    this.shrinkCheck(fill);
    return true;
  }

  /**
   * Elements from index `start` to `end` inclusive (already clamped,
   * 0 <= start <= end < length), optionally tail first.
   */
  range(start: number, end: number, reverse = false): string[] {
    const out = new Array<string>(end - start + 1);
    let [k, off] = this.locate(reverse ? end : start);
    const nodes = this.nodes;
    let items = nodes[k].items;
    if (!reverse) {
      for (let j = 0; j < out.length; j++) {
        if (off >= items.length) {
          items = nodes[++k].items;
          off = 0;
        }
        out[j] = items[off++];
      }
    } else {
      for (let j = 0; j < out.length; j++) {
        if (off < 0) {
          items = nodes[--k].items;
          off = items.length - 1;
        }
        out[j] = items[off--];
      }
    }
    return out;
  }

  /** Every element, head to tail. */
  toArray(): string[] {
    const out: string[] = [];
    for (const n of this.nodes) for (const s of n.items) out.push(s);
    return out;
  }

  // ------------------------------------------------------------ middle

  /** Deletes `count` elements from index `start` (non-negative, in range). */
  deleteRange(start: number, count: number): void {
    if (count <= 0) return;
    if (start + count > this.length) count = this.length - start;
    let [k, off] = this.locate(start);
    const nodes = this.nodes;
    while (count > 0) {
      const n = nodes[k];
      const del = Math.min(count, n.items.length - off);
      if (off === 0 && del === n.items.length) {
        this.length -= del;
        count -= del;
        if (this.quick) {
          nodes.splice(k, 1);
        } else {
          n.items = [];
          n.bytes = LP_EMPTY;
        }
        off = 0;
        continue;
      }
      const removed = n.items.splice(off, del);
      for (const s of removed) n.bytes -= entryBytes(s);
      this.length -= del;
      count -= del;
      k++;
      off = 0;
    }
  }

  /** LTRIM's work: drops `left` elements from the head and `right` from the tail. */
  trim(left: number, right: number): void {
    this.deleteRange(0, left);
    if (right > 0) this.deleteRange(this.length - right, right);
  }

  /**
   * Removes elements equal to `s`: all when count is 0, the first `count`
   * from the head when positive, from the tail when negative. Returns how many.
   */
  remove(s: string, count: number): number {
    let removed = 0;
    const limit = Math.abs(count);
    const nodes = this.nodes;
    const eb = entryBytes(s);
    if (count >= 0) {
      for (let k = 0; k < nodes.length; k++) {
        const n = nodes[k];
        const items = n.items;
        for (let j = 0; j < items.length; j++) {
          if (items[j] !== s) continue;
          items.splice(j, 1);
          j--;
          n.bytes -= eb;
          this.length--;
          removed++;
          if (items.length === 0 && this.quick) {
            nodes.splice(k, 1);
            k--;
          }
          if (limit !== 0 && removed === limit) return removed;
          if (items.length === 0) break;
        }
      }
    } else {
      for (let k = nodes.length - 1; k >= 0; k--) {
        const n = nodes[k];
        const items = n.items;
        for (let j = items.length - 1; j >= 0; j--) {
          if (items[j] !== s) continue;
          items.splice(j, 1);
          n.bytes -= eb;
          this.length--;
          removed++;
          if (items.length === 0 && this.quick) nodes.splice(k, 1);
          if (removed === limit) return removed;
          if (items.length === 0) break;
        }
      }
    }
    return removed;
  }

  /**
   * LINSERT: puts `s` before or after the first element equal to `pivot`.
   * Returns false when the pivot is absent. The listpack conversion check is
   * done first, whatever the outcome, like Valkey.
   */
  insert(pivot: string, s: string, after: boolean, fill: number): boolean {
    this.growCheck(fill, s.length, 1);
    const nodes = this.nodes;
    for (let k = 0; k < nodes.length; k++) {
      const off = nodes[k].items.indexOf(pivot);
      if (off < 0) continue;
      this.insertAt(k, off, s, after);
      return true;
    }
    return false;
  }

  /** Valkey's _quicklistInsert next to the element at (node k, offset off). */
  private insertAt(k: number, off: number, s: string, after: boolean): void {
    const nodes = this.nodes;
    const node = nodes[k];
    const eb = entryBytes(s);
    this.length++;
    if (!this.quick) {
      node.items.splice(after ? off + 1 : off, 0, s);
      node.bytes += eb;
      return;
    }
    const fill = this.qfill;
    const full = !allowInsert(node, fill, s.length);
    const atTail = after && off === node.items.length - 1;
    const atHead = !after && off === 0;
    const availNext = atTail && allowInsert(nodes[k + 1], fill, s.length);
    const availPrev = atHead && allowInsert(nodes[k - 1], fill, s.length);
    if (!full) {
      node.items.splice(after ? off + 1 : off, 0, s);
      node.bytes += eb;
    } else if (atTail && availNext) {
      const nx = nodes[k + 1];
      nx.items.unshift(s);
      nx.bytes += eb;
    } else if (atHead && availPrev) {
      const pv = nodes[k - 1];
      pv.items.push(s);
      pv.bytes += eb;
    } else if (atTail || atHead) {
      nodes.splice(after ? k + 1 : k, 0, new QNode([s], LP_EMPTY + eb));
    } else {
      // Split the full node at the pivot and put the element at the edge of the new part.
      let moved: string[];
      if (after) {
        moved = node.items.splice(off + 1);
        moved.unshift(s);
      } else {
        moved = node.items.splice(0, off);
        moved.push(s);
      }
      const fresh = QNode.of(moved);
      node.bytes = QNode.of(node.items).bytes;
      nodes.splice(after ? k + 1 : k, 0, fresh);
      this.mergeAround(after ? k : k + 1);
    }
  }

  /** Merges node `b` into node `a` (a is left of b, adjacent); returns the kept index. */
  private merge(ai: number): void {
    const a = this.nodes[ai];
    const b = this.nodes[ai + 1];
    const items = a.items.length >= b.items.length ? (a.items.push(...b.items), a.items) : (b.items.unshift(...a.items), b.items);
    const merged = new QNode(items, a.bytes + b.bytes - LP_EMPTY);
    this.nodes.splice(ai, 2, merged);
  }

  /** Valkey's _quicklistMergeNodes around the node at index c. */
  private mergeAround(c: number): void {
    const nodes = this.nodes;
    const fill = this.qfill;
    // prev_prev + prev
    if (c >= 2 && allowMerge(nodes[c - 1], nodes[c - 2], fill)) {
      this.merge(c - 2);
      c--;
    }
    // next + next_next
    if (allowMerge(nodes[c + 1], nodes[c + 2], fill)) this.merge(c + 1);
    // center + prev
    let target = c;
    if (c >= 1 && allowMerge(nodes[c], nodes[c - 1], fill)) {
      this.merge(c - 1);
      target = c - 1;
    }
    // target + next
    if (allowMerge(nodes[target], nodes[target + 1], fill)) this.merge(target);
  }

  /**
   * LPOS: indexes of matches of `s`, skipping the first rank-1 matches,
   * scanning from the tail when `fromTail`, at most `count` results (0: all),
   * looking at no more than `maxlen` elements (0: all).
   */
  positions(s: string, rank: number, fromTail: boolean, count: number, maxlen: number): number[] {
    const out: number[] = [];
    const nodes = this.nodes;
    let seen = 0;
    let matches = 0;
    const len = this.length;
    if (!fromTail) {
      for (let k = 0; k < nodes.length; k++) {
        const items = nodes[k].items;
        for (let j = 0; j < items.length; j++, seen++) {
          if (maxlen !== 0 && seen >= maxlen) return out;
          if (items[j] === s && ++matches >= rank) {
            out.push(seen);
            if (count !== 0 && out.length >= count) return out;
          }
        }
      }
    } else {
      for (let k = nodes.length - 1; k >= 0; k--) {
        const items = nodes[k].items;
        for (let j = items.length - 1; j >= 0; j--, seen++) {
          if (maxlen !== 0 && seen >= maxlen) return out;
          if (items[j] === s && ++matches >= rank) {
            out.push(len - seen - 1);
            if (count !== 0 && out.length >= count) return out;
          }
        }
      }
    }
    return out;
  }

  /** Internal consistency check for tests: lengths, bytes and node shape. */
  check(): void {
    let total = 0;
    for (const n of this.nodes) {
      total += n.items.length;
      const b = QNode.of(n.items).bytes;
      if (b !== n.bytes) throw new Error(`node bytes ${n.bytes} != ${b}`);
      if (this.quick && n.items.length === 0) throw new Error('empty quicklist node');
    }
    if (total !== this.length) throw new Error(`length ${this.length} != ${total}`);
    if (!this.quick && this.nodes.length !== 1) throw new Error('listpack with several nodes');
  }

  /** Number of nodes (quicklist) for tests and DEBUG-like introspection. */
  nodeCount(): number {
    return this.nodes.length;
  }
}
