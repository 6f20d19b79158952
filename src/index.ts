// Embedding API: run a real Vireo server inside this Node process.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const cfg = configFromOptions(options);
  // Embedding defaults, for what neither the options nor the config file set.
  const given = new Set(Object.keys(options).map((k) => directiveFor(k)));
  for (const [name, value] of EMBED_DEFAULTS) {
    if (!given.has(name) && cfg.get(name) === DIRECTIVE_BY_NAME.get(name)!.default) cfg.setRaw(name, [value]);
  }
  const server = new Server(cfg);
  server.ephemeralPort = Number(cfg.get('port')) === 0;
  await server.start();
  const host = cfg.get('bind').split(' ')[0].replace(/^-/, '');
  return {
    get port() {
      return server.port;
    },
    host,
    server,
    close: () => server.close(),
  };
}
