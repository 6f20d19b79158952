// Embedding API: run a real Vireo server inside this Node process.
import { readFileSync } from 'node:fs';
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

/** Builds a Config from an options object. Throws on unknown or invalid directives. */
export function configFromOptions(options: ServerOptions): Config {
  const cfg = new Config();
  const lines: string[] = [];
  let file: string | undefined;
  for (const [k, raw] of Object.entries(options)) {
    if (raw === undefined) continue;
    if (k === 'configFile' || k === 'config-file') {
      file = String(raw);
      continue;
    }
    const name = DIRECTIVE_BY_NAME.has(k) ? k : kebab(k);
    const args = Array.isArray(raw) ? raw.map(String) : typeof raw === 'boolean' ? [raw ? 'yes' : 'no'] : [String(raw)];
    const err = cfg.setRaw(name, args);
    if (err) throw new Error(`Invalid option ${k}=${JSON.stringify(raw)}: ${err}`);
    lines.push(name);
  }
  if (file !== undefined) {
    // A config file first, then the explicit options again so they win.
    const fileCfg = new Config();
    applyConfigText(fileCfg, readFileSync(file, 'latin1'), file);
    for (const [k, v] of fileCfg.entries()) if (!lines.includes(k)) cfg.setRaw(k, [v]);
    cfg.file = file;
  }
  return cfg;
}


/**
 * Starts a server. `port: 0` (the default here) picks a free port; `bind`
 * defaults to 127.0.0.1; log level defaults to warning to keep the host's output clean.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const opts: ServerOptions = { port: 0, loglevel: 'warning', ...options };
  const cfg = configFromOptions(opts);
  if (opts.bind === undefined) cfg.setRaw('bind', ['127.0.0.1']);
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
