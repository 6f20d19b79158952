// Embedding API: run a real Vireo server inside this Node process.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Config, applyConfigText } from './config/config.js';
import { Server } from './server/server.js';
import { DIRECTIVE_BY_NAME } from './config/schema.js';

export { Server } from './server/server.js';
export { Config } from './config/config.js';

/** Directive values by name (`port`, `requirepass`, `maxmemory`, ...); camelCase names work too. */
export type ServerOptions = Record<string, string | number | boolean | string[] | undefined>;

export interface RunningServer {
  /** The TCP port the server listens on (a free one when you asked for port 0). */
  readonly port: number;
  /** First bound address. */
  readonly host: string;
  /** The server object, for advanced use (stats, config). */
  readonly server: Server;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
}

/** The directive an option names: as written, camelCase as kebab-case (maxmemoryPolicy), or camelCase run together (maxClients). */
function directiveFor(key: string): string | null {
  for (const cand of [key, kebab(key), key.toLowerCase()]) {
    const d = DIRECTIVE_BY_NAME.get(cand.toLowerCase());
    if (d) return d.name;
  }
  return null;
}

/**
 * Builds a Config from an options object: `configFile` (read first, valkey.conf
 * syntax), then every other option as a directive, which wins over the file.
 * Throws on unknown options and invalid values.
 */
export function configFromOptions(options: ServerOptions): Config {
  const cfg = new Config();
  const file = options.configFile ?? options['config-file'];
  if (file !== undefined) {
    const path = resolve(String(file));
    applyConfigText(cfg, readFileSync(path, 'latin1'), path);
    cfg.file = path;
  }
  for (const [k, raw] of Object.entries(options)) {
    if (raw === undefined || k === 'configFile' || k === 'config-file') continue;
    const name = directiveFor(k);
    if (name === null) throw new Error(`Invalid option ${k}: no such config directive`);
    const args = Array.isArray(raw) ? raw.map(String) : typeof raw === 'boolean' ? [raw ? 'yes' : 'no'] : [String(raw)];
    const err = cfg.setRaw(name, args);
    if (err) throw new Error(`Invalid option ${k}=${JSON.stringify(raw)}: ${err}`);
  }
  return cfg;
}

/**
 * Directives naming files, resolved against `dir` like the command line's
 * (which chdirs into `dir`); cluster-config-file only matters in cluster mode.
 */
const PATH_DIRECTIVES = ['logfile', 'pidfile', 'aclfile', 'unixsocket', 'tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'tls-ca-cert-dir', 'tls-dh-params-file'];

/**
 * An embedded server never changes the host process's working directory (other
 * servers and the host share it): `dir` is pinned as an absolute path when the
 * server starts (the working directory when not given), the persistence files
 * (dbfilename, the AOF directory) are resolved against it (src/persistence/paths.ts),
 * and so are the relative file names above, which CONFIG GET then shows absolute.
 */
function pinDirectory(cfg: Config): void {
  const dir = resolve(cfg.get('dir') || '.');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`Can't chdir to '${cfg.get('dir')}': No such file or directory`);
  let err = cfg.setRaw('dir', [dir]);
  const names = cfg.bool('cluster-enabled') ? [...PATH_DIRECTIVES, 'cluster-config-file'] : PATH_DIRECTIVES;
  for (const name of names) {
    const v = cfg.get(name);
    if (err === null && v !== '' && !isAbsolute(v)) err = cfg.setRaw(name, [resolve(dir, v)]);
  }
  if (err) throw new Error(`Invalid option dir=${JSON.stringify(dir)}: ${err}`);
}

const EMBED_DEFAULTS: [string, string][] = [
  ['port', '0'],
  ['bind', '127.0.0.1'],
  ['loglevel', 'warning'],
  // In memory unless asked: an embedded server does not write dump.rdb into the host's working directory.
  ['save', ''],
];

/**
 * Starts a server. `port: 0` (the default here) picks a free port; `bind`
 * defaults to 127.0.0.1; log level defaults to warning to keep the host's output clean;
 * `save` defaults to "" (no save points: set `save` or `appendonly` to persist).
 * Files (dump.rdb, the AOF directory, pidfile, logfile, ...) go to `dir`, the
 * working directory when not given, without changing the process's directory.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const cfg = configFromOptions(options);
  // Embedding defaults, for what neither the options nor the config file set.
  const given = new Set(Object.keys(options).map((k) => directiveFor(k)));
  for (const [name, value] of EMBED_DEFAULTS) {
    if (!given.has(name) && cfg.get(name) === DIRECTIVE_BY_NAME.get(name)!.default) cfg.setRaw(name, [value]);
  }
  pinDirectory(cfg);
  const server = new Server(cfg);
  server.ephemeralPort = Number(cfg.get('port')) === 0;
  await server.start();
  // pidfile, as the command line writes it (and removes it on close).
  const pidfile = cfg.get('pidfile');
  if (pidfile !== '') {
    try {
      writeFileSync(pidfile, `${process.pid}\n`);
    } catch (e) {
      server.log.warning(`Failed to write PID file: ${(e as Error).message}`);
    }
  }
  const host = cfg.get('bind').split(' ')[0].replace(/^-/, '');
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= server.close().then(() => {
      if (pidfile !== '') rmSync(pidfile, { force: true });
    }));
  // SHUTDOWN (after its final save) closes the embedded server; the host process keeps running.
  server.onShutdown = () => void close();
  return {
    get port() {
      return server.port;
    },
    host,
    server,
    close,
  };
}
