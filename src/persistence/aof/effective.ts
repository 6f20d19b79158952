// Small helpers for command handlers that rewrite what they propagate (their
// "effective form": EXPIRE -> PEXPIREAT, SET EX -> SET PXAT, ...). Handlers
// call them only when server.prop.active.
import type { Server } from '../../server/server.js';

/** The command a deletion propagates as: UNLINK when the lazyfree directive is yes (Valkey 8's default), else DEL. */
export function delCommand(server: Server, directive: 'lazyfree-lazy-expire' | 'lazyfree-lazy-server-del'): string {
  return server.config.get(directive) === 'yes' ? 'UNLINK' : 'DEL';
}
