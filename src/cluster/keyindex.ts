// The per-slot key index (CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT, emptying a
// slot): a key table that also files each key under its hash slot. It replaces
// database 0's table only while cluster mode is on, so standalone servers pay
// nothing. ensureSlotIndex() re-wraps the table after something swapped it for a
// plain one (FLUSHALL creates a new table), rebuilding the index once.
import { KeyTable } from '../data/keytable.js';
import type { Db } from '../keyspace/db.js';
import type { Value } from '../keyspace/types.js';
import { CLUSTER_SLOTS, keyHashSlot } from './slots.js';

export class SlotKeyTable extends KeyTable<Value> {
  /** Keys of each slot (null: none). */
  readonly bySlot: (Set<string> | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** Number of slots holding at least one key. */
  slotsWithKeys = 0;

  override set(key: string, v: Value, clk = 0): number {
    const n = this.size;
    const e = super.set(key, v, clk);
    if (this.size !== n) this.file(key);
    return e;
  }

  override delete(key: string): boolean {
    if (!super.delete(key)) return false;
    const slot = keyHashSlot(key);
    const s = this.bySlot[slot];
    if (s !== null) {
      s.delete(key);
      if (s.size === 0) {
        this.bySlot[slot] = null;
        this.slotsWithKeys--;
      }
    }
    return true;
  }

  override clear(): void {
    super.clear();
    this.bySlot.fill(null);
    this.slotsWithKeys = 0;
  }

  private file(key: string): void {
    const slot = keyHashSlot(key);
    let s = this.bySlot[slot];
    if (s === null) {
      s = this.bySlot[slot] = new Set();
      this.slotsWithKeys++;
    }
    s.add(key);
  }

  countInSlot(slot: number): number {
    return this.bySlot[slot]?.size ?? 0;
  }

  keysInSlot(slot: number, max: number): string[] {
    const out: string[] = [];
    const s = this.bySlot[slot];
    if (s === null) return out;
    for (const k of s) {
      if (out.length >= max) break;
      out.push(k);
    }
    return out;
  }
}

/** Database 0's key table as a SlotKeyTable (wrapping a plain table once, keys, values and clocks kept). */
export function ensureSlotIndex(db: Db): SlotKeyTable {
  const d = db.dict;
  if (d instanceof SlotKeyTable) return d;
  const t = new SlotKeyTable();
  for (const [k, v] of d.entries()) {
    const e = d.find(k);
    t.set(k, v, d.clockAt(e));
  }
  db.dict = t;
  return t;
}
