// What a key can hold. Strings are stored as a latin1 JS string, a number (when
// the value is a canonical integer, Valkey's "int" encoding) or a Buffer (for
// values edited in place). Every other type is an object from src/data/.

export const enum ObjType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  Stream = 6,
}

/** A non-string value: every structure in src/data/ implements this. */
export interface DataObject {
  readonly objType: ObjType;
  /** OBJECT ENCODING answer, e.g. "listpack" or "hashtable". */
  encoding(): string;
  /** A deep, independent copy with the same encoding (COPY uses it). */
  clone(): DataObject;
}

export type StringValue = string | number | Buffer;
export type Value = StringValue | DataObject;

export function isStringValue(v: Value): v is StringValue {
  return typeof v !== 'object' || Buffer.isBuffer(v);
}

export function objType(v: Value): ObjType {
  if (typeof v === 'string' || typeof v === 'number' || Buffer.isBuffer(v)) return ObjType.String;
  return v.objType;
}

const TYPE_NAMES: Record<number, string> = {
  [ObjType.String]: 'string',
  [ObjType.List]: 'list',
  [ObjType.Set]: 'set',
  [ObjType.ZSet]: 'zset',
  [ObjType.Hash]: 'hash',
  [ObjType.Stream]: 'stream',
};

export function typeName(v: Value): string {
  return TYPE_NAMES[objType(v)];
}

/** Length in bytes of a stored string value. */
export function stringLength(v: StringValue): number {
  if (typeof v === 'string') return v.length;
  if (typeof v === 'number') return numberLength(v);
  return v.length;
}

function numberLength(n: number): number {
  return String(n).length;
}

/** The latin1 string form of a stored string value. */
export function stringOf(v: StringValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return v.latin1Slice(0, v.length);
}

/**
 * OBJECT ENCODING for strings, as Valkey answers it. A Buffer holds a value
 * edited in place (APPEND, SETRANGE, SETBIT ...), which Valkey keeps "raw"
 * whatever its length or digits.
 */
export function stringEncoding(v: StringValue): string {
  if (typeof v === 'number') return 'int';
  if (Buffer.isBuffer(v)) return 'raw';
  const len = v.length;
  // SET stores integers of up to 15 digits as numbers, so a shorter string that
  // looks like one came from INCRBYFLOAT and the like, which Valkey does not
  // int-encode; longer canonical int64 strings are Valkey's "int".
  if (len >= 16 && len <= 20 && /^-?[1-9][0-9]*$/.test(v)) {
    const b = BigInt(v);
    if (b <= 9223372036854775807n && b >= -9223372036854775808n) return 'int';
  }
  return len <= 44 ? 'embstr' : 'raw';
}
