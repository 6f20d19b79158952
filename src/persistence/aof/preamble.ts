// Whether the AOF can use an RDB base file (aof-use-rdb-preamble): true once
// the RDB module registered its reader and writer in rdbPreamble (aof.ts).
// Kept in its own module so the config schema can ask without importing the server.
export const preambleHooks = { available: false };

export function rdbPreambleAvailable(): boolean {
  return preambleHooks.available;
}
