// RDB format constants (Redis/Valkey rdb.h) and small shared helpers.

/** RDB version Vireo writes: 10 (Redis 7.0), so every encoding used is one 7.0 and later load. */
export const RDB_VERSION = 10;
/** Newest Redis-lineage RDB version Vireo reads (Valkey 8 writes 11, Redis 7.4 writes 12). */
export const RDB_MAX_READ_VERSION = 12;
/**
 * Valkey 9's own format: magic "VALKEY" and version 080. Vireo writes it only
 * when a hash has field expire times (RDB_TYPE_HASH_2), which RDB 10 cannot hold.
 */
export const RDB_VERSION_VALKEY = 80;

export const enum T {
  STRING = 0,
  LIST = 1,
  SET = 2,
  ZSET = 3,
  HASH = 4,
  ZSET_2 = 5,
  MODULE_PRE_GA = 6,
  MODULE_2 = 7,
  HASH_ZIPMAP = 9,
  LIST_ZIPLIST = 10,
  SET_INTSET = 11,
  ZSET_ZIPLIST = 12,
  HASH_ZIPLIST = 13,
  LIST_QUICKLIST = 14,
  STREAM_LISTPACKS = 15,
  HASH_LISTPACK = 16,
  ZSET_LISTPACK = 17,
  LIST_QUICKLIST_2 = 18,
  STREAM_LISTPACKS_2 = 19,
  SET_LISTPACK = 20,
  STREAM_LISTPACKS_3 = 21,
  /** Valkey 9 (RDB 80): a hash with field expire times, as (field, value, expire ms or -1) triples. */
  HASH_2 = 22,
  /** Redis 7.4 release candidates (RDB 12): a hash with field TTLs, each TTL absolute (0: none). Same number as HASH_2 in Valkey's format. */
  HASH_METADATA_PRE_GA = 22,
  /** Redis 7.4 release candidates: a listpack of (field, value, TTL) triples. */
  HASH_LISTPACK_EX_PRE_GA = 23,
  /** Redis 7.4+ (RDB 12): a hash with field TTLs; the smallest TTL first, then each field's TTL relative to it. */
  HASH_METADATA = 24,
  /** Redis 7.4+: the smallest TTL, then a listpack of (field, value, absolute TTL or 0) triples. */
  HASH_LISTPACK_EX = 25,
}

/** Largest field expire time Redis 7.4 stores (its EB_EXPIRE_TIME_MAX, 2^48 - 1 ms). */
export const HFE_MAX_EXPIRE = 2 ** 48 - 1;

export const enum Op {
  SLOT_INFO = 244,
  FUNCTION2 = 245,
  FUNCTION_PRE_GA = 246,
  MODULE_AUX = 247,
  IDLE = 248,
  FREQ = 249,
  AUX = 250,
  RESIZEDB = 251,
  EXPIRETIME_MS = 252,
  EXPIRETIME = 253,
  SELECTDB = 254,
  EOF = 255,
}

export const ENC_INT8 = 0;
export const ENC_INT16 = 1;
export const ENC_INT32 = 2;
export const ENC_LZF = 3;

export const QUICKLIST_NODE_PLAIN = 1;
export const QUICKLIST_NODE_PACKED = 2;

export const STREAM_ITEM_FLAG_DELETED = 1;
export const STREAM_ITEM_FLAG_SAMEFIELDS = 2;

/** Error for a malformed or unsupported RDB file or payload. */
export class RdbError extends Error {
  constructor(
    message: string,
    public offset = -1,
  ) {
    super(message);
  }
}

export { canonicalInt } from '../../util/numbers.js';
