// Joins every command family's handlers into the command table.
import { CommandTable, META, type HandlerMap, type MetaEntry } from './table.js';
import { commands as connection } from './connection.js';
import { commands as string } from './string.js';
import { commands as keyspace } from './keyspace.js';
import { commands as server } from './server.js';
import { commands as list } from './list.js';
import { commands as bitmap } from './bitmap.js';
import { commands as hyperloglog } from './hyperloglog.js';
import { commands as set } from './set.js';
import { commands as hash, HASH_META } from './hash.js';
import { commands as zset } from './zset.js';
import { commands as geo } from './geo.js';
import { commands as sort } from './sort.js';
import { commands as memory } from './memory.js';
import { commands as stream } from './stream.js';
import { commands as pubsub } from './pubsub.js';
import { commands as tx } from './tx.js';
import { commands as scripting } from './scripting.js';
import { commands as persistence } from './persistence.js';
import { commands as aof } from '../persistence/aof/commands.js';
import { commands as acl } from './acl.js';
import { commands as observability, COMMANDLOG_META } from './observability.js';
import { commands as replication } from './replication.js';
import { commands as cluster } from './cluster.js';

/** Metadata for commands newer than the reference snapshot (Valkey 8.1/9.0). */
export const EXTRA_META: Record<string, MetaEntry> = {
  // Valkey 9.0/9.1 hash field expiration commands (src/commands/hash.ts).
  ...HASH_META,
  // Valkey 8.1: COMMANDLOG GET/LEN/RESET/HELP (src/commands/observability.ts).
  ...COMMANDLOG_META,
  // Valkey 9.0: DELIFEQ key value (src/commands/delifeq.json).
  delifeq: {
    name: 'delifeq',
    arity: 3,
    group: 'string',
    since: '9.0.0',
    complexity: 'O(1)',
    flags: ['write'],
    acl: ['string'],
    tips: [],
    keySpecs: [{ flags: ['RM', 'ACCESS', 'DELETE'], bs: { type: 'index', pos: 1 }, fk: { type: 'range', lastkey: 0, step: 1, limit: 0 } }],
    args: [
      { name: 'key', type: 'key', key_spec_index: 0 },
      { name: 'value', type: 'string' },
    ],
  },
  // Valkey 8.1 added SET ... IFEQ comparison-value to the NX | XX choice.
  set: {
    ...META.set,
    args: META.set.args?.map((a) =>
      a.name === 'condition' && a.arguments
        ? { ...a, arguments: [...a.arguments, { name: 'comparison-value', type: 'string', token: 'IFEQ', since: '8.1.0' }] }
        : a,
    ),
  },
};

export function allHandlers(): HandlerMap {
  return { ...connection, ...string, ...keyspace, ...server, ...bitmap, ...hyperloglog, ...set, ...hash, ...list, ...zset, ...stream, ...pubsub, ...geo, ...sort, ...memory, ...tx, ...aof, ...acl, ...persistence, ...scripting, ...observability, ...replication, ...cluster };
}

export function buildCommandTable(): CommandTable {
  return new CommandTable(allHandlers(), EXTRA_META);
}
