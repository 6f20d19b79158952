// Where a server's files go. The command line chdirs into `dir` as Valkey does
// (src/cli/server.ts, which claims the process's working directory with
// ownProcessDir()), so relative names resolve against the working directory,
// and CONFIG SET dir chdirs again. An embedded server (src/index.ts) never
// changes the host process's directory, which other servers and the host share:
// its `dir` is stored as an absolute path (CONFIG SET dir resolves a relative
// one against the current dir, as chdir would) and its files are resolved
// against it.
import { isAbsolute, resolve } from 'node:path';
import type { Server } from '../server/server.js';

let ownsCwd = false;

/** The command-line server: this process's working directory is the server's `dir` (chdir on CONFIG SET dir). */
export function ownProcessDir(): void {
  ownsCwd = true;
}

/** True when CONFIG SET dir changes the process's working directory (the command-line server only). */
export function processDirOwned(): boolean {
  return ownsCwd;
}

/** The directory the server's dump.rdb, AOF directory and other relative file names live in. */
export function serverDir(server: Server): string {
  const d = server.config.get('dir');
  return d !== '' && isAbsolute(d) ? d : process.cwd();
}

/** A file name (`dbfilename`, `appenddirname`, ...) resolved against the server's directory. */
export function serverPath(server: Server, name: string): string {
  return resolve(serverDir(server), name);
}

/**
 * The value CONFIG SET dir stores: as typed for the command-line server (which
 * then chdirs into it), else absolute, resolved against the server's current dir.
 */
export function dirSetting(server: Server, value: string): string {
  return ownsCwd || value === '' ? value : serverPath(server, value);
}
