// Public API of the RDB layer (used by SAVE/BGSAVE, DUMP/RESTORE, DEBUG, the
// AOF base file and rewrite, and bin/vireo-check-rdb).
export { Crc64, crc64 } from './crc64.js';
export { lzfCompress, lzfDecompress } from './lzf.js';
export { RDB_VERSION, RDB_MAX_READ_VERSION, RdbError, T as RdbType, Op as RdbOp } from './format.js';
export { RdbEncoder, ListpackWriter, rdbTypeOf, writeValueBody } from './encoder.js';
export { RdbReader, readValue, listpackItems, ziplistItems, intsetItems, DEFAULT_LOAD_LIMITS, type LoadLimits } from './decoder.js';
export {
  writeKeyValue,
  writeAux,
  writeHeader,
  serializeValue,
  deserializeValue,
  verifyPayload,
  loadRdb,
  RdbLoader,
  type LoadTarget,
  type LoadResult,
  type LoadOptions,
} from './file.js';
export { RdbSnapshot, BufferSink, type RdbSink, type SnapshotOptions } from './snapshot.js';
