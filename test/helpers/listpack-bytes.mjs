// Listpacks written byte by byte, for tests of foreign (non-canonical but
// valid) encodings that Vireo's own builder never produces.

/** A listpack entry: encoding bytes + data, then its backlen. */
export function entry(bytes) {
  const l = bytes.length;
  return [...bytes, ...(l <= 127 ? [l] : [l >> 7, (l & 127) | 128])];
}

/** A string entry with a 6-, 12- or 32-bit length (w), whatever its size. */
export function strEnt(s, w = 6) {
  const b = [...Buffer.from(s, 'latin1')];
  if (w === 6) return entry([0x80 | b.length, ...b]);
  if (w === 12) return entry([0xe0 | (b.length >> 8), b.length & 255, ...b]);
  return entry([0xf0, b.length & 255, (b.length >> 8) & 255, 0, 0, ...b]);
}

/** A whole listpack (Buffer) of raw entries; `count` is the header's entry count. */
export function rawListpack(entries, count = entries.length) {
  const body = entries.flat();
  const total = 6 + body.length + 1;
  return Buffer.from([total & 255, (total >> 8) & 255, 0, 0, count & 255, count >> 8, ...body, 255]);
}

/** A 3-field hash listpack using every non-canonical form Valkey accepts; its fields and values in order are FOREIGN_HASH_ITEMS. */
export const FOREIGN_HASH_ENTRIES = [
  strEnt('name', 12), // a 12-bit length for a short string
  strEnt('12'), // an integer stored as a string entry
  entry([7]), // field "7" as a 7-bit uint
  entry([0xc0 | 0x1f, 0xfb]), // -5 as a 13-bit int
  strEnt('big', 32), // a 32-bit length
  entry([0xf4, 100, 0, 0, 0, 0, 0, 0, 0]), // 100 as a 64-bit int
];
export const FOREIGN_HASH_ITEMS = ['name', '12', '7', '-5', 'big', '100'];
