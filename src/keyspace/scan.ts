// SCAN cursors. A cursor names a live iterator over a database's Map: JS Map
// iterators visit every entry present for the whole iteration exactly once,
// whatever is added or deleted meanwhile, which is the SCAN guarantee.
// Cursors are kept in a bounded table; an unknown cursor restarts the iteration.

interface CursorState {
  it: Iterator<string>;
  source: object;
  lastUse: number;
}

const MAX_CURSORS = 1024;
const IDLE_MS = 5 * 60 * 1000;

export class ScanCursors {
  private table = new Map<bigint, CursorState>();
  private next = BigInt(Math.floor(Math.random() * 1e6) + 1) * 1000n;

  /** Takes (and forgets) the iterator a cursor names, if it is still known for this source. */
  take(cursor: bigint, source: object): Iterator<string> | null {
    const st = this.table.get(cursor);
    if (st === undefined) return null;
    this.table.delete(cursor);
    if (st.source !== source) return null;
    return st.it;
  }

  /** Stores an iterator and returns the cursor that names it. */
  put(it: Iterator<string>, source: object, now: number): bigint {
    if (this.table.size >= MAX_CURSORS) {
      const oldest = this.table.keys().next().value as bigint;
      this.table.delete(oldest);
    }
    this.next += 1n;
    if (this.next >= 18446744073709551615n) this.next = 1n;
    this.table.set(this.next, { it, source, lastUse: now });
    return this.next;
  }

  /** Forgets cursors idle for too long (their iterators pin old hash tables). */
  expire(now: number): void {
    for (const [k, st] of this.table) {
      if (now - st.lastUse > IDLE_MS) this.table.delete(k);
      else break;
    }
  }

  clear(): void {
    this.table.clear();
  }
}
