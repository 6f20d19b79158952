// BGREWRITEAOF (the AOF's command; registered in src/commands/registry.ts).
import type { Client } from '../../server/client.js';
import type { HandlerMap } from '../../commands/table.js';

function bgrewriteaof(c: Client): void {
  const err = c.server.aof.bgrewrite();
  if (err !== null) c.addError(err);
  else c.addSimple('Background append only file rewriting started');
}

export const commands: HandlerMap = { bgrewriteaof };
