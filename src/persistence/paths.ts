// Where a server's files go. The command line chdirs into `dir` as Valkey does
// (src/cli/server.ts), so relative names resolve against the working
// directory; an embedded server (src/index.ts) never changes the host
// process's directory: its `dir` is stored as an absolute path and its files
// are resolved against it.
import { isAbsolute, resolve } from 'node:path';
import type { Server } from '../server/server.js';

/** The directory the server's dump.rdb, AOF directory and other relative file names live in. */
export function serverDir(server: Server): string {
  const d = server.config.get('dir');
  return d !== '' && isAbsolute(d) ? d : process.cwd();
}

/** A file name (`dbfilename`, `appenddirname`, ...) resolved against the server's directory. */
export function serverPath(server: Server, name: string): string {
  return resolve(serverDir(server), name);
}
