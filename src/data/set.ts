// The set type: members are latin1 strings. Three encodings, as Valkey:
// - intset: every member is a canonical int64 and there are at most
//   set-max-intset-entries of them; kept sorted by numeric value (so iteration
//   is ascending, as Valkey's intset);
// - listpack: at most set-max-listpack-entries members of at most
//   set-max-listpack-value bytes each; kept in insertion order (removal keeps
//   the order of the rest);
// - hashtable: a dense array of members plus an index member -> array
//   position (MemberIndex, src/data/member-index.ts; `items` is its `keys`).
//   Removal moves the last member into the hole, so the array stays dense and
//   a random member is one random index: SRANDMEMBER and SPOP are O(1) per
//   member, fair, whatever the size.
// Conversions follow Valkey 8's rules (setTypeAddAux and friends): a set grows
// into a bigger encoding when a threshold is crossed and never shrinks back,
// except where a command builds a new set (SPOP's rebuild, *STORE results).
// Pure: no I/O, no server state; thresholds are passed in as SetLimits.
import { ObjType, type DataObject } from '../keyspace/types.js';
import { parseInt64 } from '../util/numbers.js';
import { MemberIndex } from './member-index.js';

export const enum SetEnc {
  Intset = 0,
  Listpack = 1,
  Hashtable = 2,
}

const ENC_NAMES = ['intset', 'listpack', 'hashtable'];

/** The three config thresholds that decide a set's encoding. */
export interface SetLimits {
  intsetEntries: number;
  listpackEntries: number;
  listpackValue: number;
}

export const DEFAULT_SET_LIMITS: SetLimits = { intsetEntries: 512, listpackEntries: 128, listpackValue: 64 };

/** Valkey caps intsets at 2^30 entries whatever set-max-intset-entries says. */
function intsetMax(lim: SetLimits): number {
  return Math.min(lim.intsetEntries, 1 << 30);
}

/** True when the member is the canonical decimal form of an int64 (Valkey's string2ll). */
export function isIntMember(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return false;
  return parseInt64(s) !== null;
}

/** Numeric order of two canonical int64 strings. */
export function compareIntMembers(a: string, b: string): number {
  if (a === b) return 0;
  const na = a.charCodeAt(0) === 45;
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  if (a.length !== b.length) return a.length < b.length !== na ? -1 : 1;
  return a < b !== na ? -1 : 1;
}

/** Binary search in a sorted intset: the index, or -(insertion point) - 1. */
function intsetSearch(items: string[], m: string): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareIntMembers(items[mid], m);
    if (c < 0) lo = mid + 1;
    else if (c > 0) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/** Digits (and sign) of the decimal form of an intset's extreme member. */
function intsetMaxLen(items: string[]): number {
  const n = items.length;
  if (n === 0) return 0;
  return Math.max(items[0].length, items[n - 1].length);
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

export class SetValue implements DataObject {
  enc: SetEnc;
  /** intset: sorted members; listpack: insertion order; hashtable: dense, any order. */
  items: string[];
  /** hashtable only: member -> position in items (its keys array is `items`). */
  index: MemberIndex<never> | null;

  constructor(enc: SetEnc = SetEnc.Intset, items: string[] = [], index: MemberIndex<never> | null = null) {
    this.enc = enc;
    this.items = items;
    this.index = index;
    if (enc === SetEnc.Hashtable && index === null) this.index = buildIndex(items);
  }

  get objType(): ObjType {
    return ObjType.Set;
  }

  encoding(): string {
    return ENC_NAMES[this.enc];
  }

  clone(): SetValue {
    const items = this.items.slice();
    return new SetValue(this.enc, items, this.index === null ? null : this.index.clone<never>(items, null));
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * The set a command creates for its first member (Valkey's setTypeCreate):
   * an intset if that member is an integer and sizeHint fits an intset, else
   * a listpack if sizeHint fits one, else a hashtable.
   */
  static create(first: string, sizeHint: number, lim: SetLimits): SetValue {
    if (sizeHint <= lim.intsetEntries && isIntMember(first)) return new SetValue(SetEnc.Intset);
    if (sizeHint <= lim.listpackEntries) return new SetValue(SetEnc.Listpack);
    return new SetValue(SetEnc.Hashtable);
  }

  /** Converts a compact set that `sizeHint` more members would overflow (SADD's setTypeMaybeConvert). */
  maybeConvertForHint(sizeHint: number, lim: SetLimits): void {
    if (
      (this.enc === SetEnc.Listpack && sizeHint > lim.listpackEntries) ||
      (this.enc === SetEnc.Intset && sizeHint > lim.intsetEntries)
    ) {
      this.toHashtable();
    }
  }

  has(m: string): boolean {
    switch (this.enc) {
      case SetEnc.Hashtable:
        return this.index!.find(m) >= 0;
      case SetEnc.Listpack:
        return this.items.indexOf(m) >= 0;
      default:
        return isIntMember(m) && intsetSearch(this.items, m) >= 0;
    }
  }

  /** Adds a member; true when it was not there. Converts the encoding as Valkey does. */
  add(m: string, lim: SetLimits): boolean {
    const items = this.items;
    switch (this.enc) {
      case SetEnc.Hashtable: {
        const index = this.index!;
        if (index.find(m) >= 0) return false;
        index.insertAfterMiss(m);
        return true;
      }
      case SetEnc.Listpack: {
        if (items.indexOf(m) >= 0) return false;
        if (items.length < lim.listpackEntries && m.length <= lim.listpackValue) {
          items.push(m);
        } else {
          this.toHashtable();
          this.index!.add(m);
        }
        return true;
      }
      default: {
        if (isIntMember(m)) {
          const i = intsetSearch(items, m);
          if (i >= 0) return false;
          items.splice(-i - 1, 0, m);
          if (items.length > intsetMax(lim)) this.toHashtable();
          return true;
        }
        // A non-integer: a listpack if everything fits one, else a hashtable.
        const maxLen = intsetMaxLen(items);
        if (items.length < lim.listpackEntries && m.length <= lim.listpackValue && maxLen <= lim.listpackValue) {
          this.enc = SetEnc.Listpack;
          items.push(m);
        } else {
          this.toHashtable();
          this.index!.add(m);
        }
        return true;
      }
    }
  }

  /** Removes a member; true when it was there. The encoding never changes. */
  remove(m: string): boolean {
    const items = this.items;
    switch (this.enc) {
      case SetEnc.Hashtable:
        return this.index!.remove(m) >= 0;
      case SetEnc.Listpack: {
        const i = items.indexOf(m);
        if (i < 0) return false;
        removeAt(items, i);
        return true;
      }
      default: {
        if (!isIntMember(m)) return false;
        const i = intsetSearch(items, m);
        if (i < 0) return false;
        removeAt(items, i);
        return true;
      }
    }
  }

  /** A uniformly random member (the set must not be empty). */
  random(): string {
    return this.items[randomIndex(this.items.length)];
  }

  /** Removes and returns a uniformly random member (the set must not be empty). */
  popRandom(): string {
    const items = this.items;
    const i = randomIndex(items.length);
    const m = items[i];
    if (this.enc === SetEnc.Hashtable) {
      this.index!.removeAt(i);
    } else {
      removeAt(items, i);
    }
    return m;
  }

  /**
   * `count` distinct random members (count < size), uniformly chosen.
   * Compact encodings answer them in set order (Valkey walks a listpack once);
   * a hashtable in random order. O(count) for a hashtable or an intset, O(size)
   * for a listpack (which is small).
   */
  sample(count: number): string[] {
    const items = this.items;
    const n = items.length;
    if (this.enc === SetEnc.Listpack) return orderedSample(items, count);
    // Partial Fisher-Yates shuffle of the first `count` slots, then undo the
    // swaps so items (and the hashtable index) are left untouched.
    const out = new Array<string>(count);
    const swaps = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const j = i + randomIndex(n - i);
      swaps[i] = j;
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
      out[i] = items[i];
    }
    for (let i = count - 1; i >= 0; i--) {
      const j = swaps[i];
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return out;
  }

  /**
   * Removes `count` random members (count < size) and returns them. A listpack
   * gives them in set order, other encodings in random order.
   */
  popMany(count: number): string[] {
    if (this.enc === SetEnc.Listpack) {
      const items = this.items;
      const picked = orderedSamplePositions(items.length, count);
      const out = new Array<string>(count);
      for (let i = 0; i < count; i++) out[i] = items[picked[i]];
      let w = 0;
      let p = 0;
      for (let r = 0; r < items.length; r++) {
        if (p < count && picked[p] === r) p++;
        else items[w++] = items[r];
      }
      items.length = w;
      return out;
    }
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = this.popRandom();
    return out;
  }

  /**
   * SPOP's strategy when almost everything goes: keep `remaining` random
   * members in a freshly built set (whose encoding follows from how it is
   * built, as Valkey's: a hashtable's survivors start a listpack, an intset's
   * an intset) and return the members removed, in set order.
   */
  popAllBut(remaining: number, lim: SetLimits): string[] {
    const items = this.items;
    const n = items.length;
    let keep: string[];
    let keepPos: number[];
    if (this.enc === SetEnc.Listpack) {
      keepPos = orderedSamplePositions(n, remaining);
      keep = keepPos.map((p) => items[p]);
    } else {
      // Random positions, in random order (a partial shuffle of positions).
      const pos = new Array<number>(n);
      for (let i = 0; i < n; i++) pos[i] = i;
      for (let i = 0; i < remaining; i++) {
        const j = i + randomIndex(n - i);
        const t = pos[i];
        pos[i] = pos[j];
        pos[j] = t;
      }
      keepPos = pos.slice(0, remaining);
      keep = keepPos.map((p) => items[p]);
      keepPos.sort((a, b) => a - b);
    }
    const popped: string[] = [];
    let p = 0;
    for (let r = 0; r < n; r++) {
      if (p < keepPos.length && keepPos[p] === r) p++;
      else popped.push(items[r]);
    }
    const next = new SetValue(this.enc === SetEnc.Intset ? SetEnc.Intset : SetEnc.Listpack);
    for (const m of keep) next.add(m, lim);
    this.enc = next.enc;
    this.items = next.items;
    this.index = next.index;
    return popped;
  }

  /** True when every member is a canonical int64. */
  allIntegers(): boolean {
    if (this.enc === SetEnc.Intset) return true;
    const items = this.items;
    for (let i = 0; i < items.length; i++) if (!isIntMember(items[i])) return false;
    return true;
  }

  /** Converts to an intset if it fits one; the caller knows every member is an integer. */
  convertToIntsetIfFits(lim: SetLimits): void {
    if (this.enc === SetEnc.Intset || this.items.length > intsetMax(lim)) return;
    this.items.sort(compareIntMembers);
    this.enc = SetEnc.Intset;
    this.index = null;
  }

  toHashtable(): void {
    if (this.enc === SetEnc.Hashtable) return;
    this.enc = SetEnc.Hashtable;
    this.index = buildIndex(this.items);
  }

  /**
   * Iterates members (for SSCAN: a live iterator over a hashtable, which
   * visits every member present throughout exactly once; compact sets are read at once).
   */
  keys(): Iterator<string> {
    return this.index !== null ? this.index.iterator() : this.items.values();
  }
}

function buildIndex(items: string[]): MemberIndex<never> {
  return new MemberIndex<never>(items, null);
}

function removeAt(items: string[], i: number): void {
  const n = items.length - 1;
  for (let k = i; k < n; k++) items[k] = items[k + 1];
  items.length = n;
}

/** `count` distinct positions out of n, ascending, uniformly chosen (selection sampling). */
function orderedSamplePositions(n: number, count: number): number[] {
  const out: number[] = [];
  let need = count;
  for (let i = 0; i < n && need > 0; i++) {
    if (Math.random() * (n - i) < need) {
      out.push(i);
      need--;
    }
  }
  return out;
}

function orderedSample(items: string[], count: number): string[] {
  return orderedSamplePositions(items.length, count).map((p) => items[p]);
}
