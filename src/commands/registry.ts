// Joins every command family's handlers into the command table.
import { CommandTable, type HandlerMap, type MetaEntry } from './table.js';
import { commands as connection } from './connection.js';
import { commands as string } from './string.js';
import { commands as keyspace } from './keyspace.js';
import { commands as server } from './server.js';

/** Metadata for commands newer than the reference snapshot (Valkey 8.1/9.0). */
export const EXTRA_META: Record<string, MetaEntry> = {};

export function allHandlers(): HandlerMap {
  return { ...connection, ...string, ...keyspace, ...server };
}

export function buildCommandTable(): CommandTable {
  return new CommandTable(allHandlers(), EXTRA_META);
}
