// Listeners: TCP on `bind` x `port`, TLS on `bind` x `tls-port` (node:tls),
// and a Unix socket (`unixsocket`, `unixsocketperm`). Every accepted
// connection goes to Server.accept(), which makes the same Client for all
// three; protected mode is decided here.
import net from 'node:net';
import tls from 'node:tls';
import { chmodSync, unlinkSync, statSync } from 'node:fs';
import type { Server } from './server.js';
import { applyTlsSettings, attachSessionCache, buildTlsSettings, clientCertAcceptable, SessionCache, type TlsSettings } from './tls.js';

export type ConnKind = 'tcp' | 'tls' | 'unix';

/** Valkey's reply to a non-local client refused by protected mode (then the connection is closed). */
export const PROTECTED_MODE_DENIED =
  '-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. ' +
  'If you want to connect from external computers, you may adopt one of the following solutions: ' +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface " +
  "by connecting from the same host the server is running, however MAKE SURE it's not publicly accessible from internet " +
  'if you do so. Use CONFIG REWRITE to make this change permanent. ' +
  "2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', " +
  'and then restarting the server. ' +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
  '4) Set up an authentication password for the default user. ' +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

/**
 * Whether a peer address counts as local for protected mode. Valkey compares
 * the textual address: anything in 127.0.0.0/8, or exactly ::1 (an
 * IPv4-mapped IPv6 form is not local to Valkey; Vireo never produces one, as
 * its IPv6 listeners are IPv6-only).
 */
export function isLocalAddress(addr: string | undefined): boolean {
  if (addr === undefined || addr === '') return false;
  return addr.startsWith('127.') || addr === '::1';
}

/**
 * Protected mode (Valkey's clientAcceptHandler): with protected-mode yes and
 * no password for the default user, only local TCP/TLS peers and Unix socket
 * clients are accepted.
 */
export function protectedModeDenies(protectedMode: boolean, defaultUserNopass: boolean, kind: ConnKind, remoteAddress: string | undefined): boolean {
  if (!protectedMode || !defaultUserNopass || kind === 'unix') return false;
  return !isLocalAddress(remoteAddress);
}

interface BindAddr {
  host: string;
  optional: boolean;
}

function bindAddrs(bind: string): BindAddr[] {
  const out: BindAddr[] = [];
  for (const raw of bind.split(/\s+/)) {
    if (raw === '') continue;
    const optional = raw.startsWith('-');
    let host = optional ? raw.slice(1) : raw;
    if (host === '*') host = '0.0.0.0';
    if (host === '::*') host = '::';
    out.push({ host, optional });
  }
  return out;
}

const SKIPPABLE = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL']);

export class Listeners {
  tcp: net.Server[] = [];
  tls: tls.Server[] = [];
  unix: net.Server | null = null;
  /** Port the TLS listeners use (0: none). */
  tlsPort = 0;
  /** TLS settings in effect (null until TLS is first configured). */
  tlsSettings: TlsSettings | null = null;
  readonly sessions = new SessionCache();
  private unixPath = '';

  constructor(private readonly server: Server) {}

  private opener(kind: ConnKind): (host: string, port: number) => Promise<net.Server> {
    const server = this.server;
    const backlog = server.config.num('tcp-backlog');
    return (host, port) =>
      new Promise((resolve, reject) => {
        let srv: net.Server;
        if (kind === 'tls') {
          const s = this.tlsSettings!;
          const t = tls.createServer({ ...s.context, requestCert: s.requestCert, rejectUnauthorized: s.rejectUnauthorized, noDelay: true, allowHalfOpen: false });
          t.on('secureConnection', (sock: tls.TLSSocket) => {
            if (!clientCertAcceptable(sock, this.tlsSettings!)) {
              server.log.verbose(`Error accepting a client connection: certificate verify failed (addr=${sock.remoteAddress}:${sock.remotePort})`);
              sock.destroy();
              return;
            }
            server.accept(sock, 'tls');
          });
          // maxclients is checked before the handshake, as Valkey: the connection just drops.
          t.on('connection', (raw: net.Socket) => {
            if (server.clients.size >= server.config.num('maxclients')) {
              server.stats.rejectedConnections++;
              raw.destroy();
            }
          });
          t.on('tlsClientError', (err: Error, sock: tls.TLSSocket) => {
            server.log.verbose(`Error accepting a client connection: ${err.message}`);
            sock.destroy();
          });
          attachSessionCache(t, this.sessions);
          srv = t;
        } else {
          srv = net.createServer({ noDelay: true, allowHalfOpen: false }, (s) => server.accept(s, kind));
        }
        srv.once('error', reject);
        const done = () => {
          srv.off('error', reject);
          srv.on('error', (e) => server.log.warning(`Listener error: ${e.message}`));
          resolve(srv);
        };
        if (kind === 'unix') srv.listen({ path: host, backlog }, done);
        else srv.listen({ host, port, backlog, ipv6Only: host.includes(':') }, done);
      });
  }

  /**
   * Binds every `bind` address on `port` with the given kind. Returns the
   * servers and the port bound (port 0 picks one), or the failure.
   */
  private async bindAll(kind: 'tcp' | 'tls', port: number): Promise<{ servers: net.Server[]; port: number } | { error: string; host: string }> {
    const open = this.opener(kind);
    const servers: net.Server[] = [];
    let boundPort = port;
    for (const { host, optional } of bindAddrs(this.server.config.get('bind'))) {
      try {
        const srv = await open(host, boundPort);
        const a = srv.address();
        if (a && typeof a === 'object') boundPort = a.port;
        servers.push(srv);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (optional && err.code !== undefined && SKIPPABLE.has(err.code)) {
          this.server.log.notice(`Skipping optional bind address ${host}: ${err.message}`);
          continue;
        }
        for (const s of servers) s.close();
        return { error: err.message, host };
      }
    }
    if (servers.length === 0) return { error: 'no address could be bound', host: '' };
    return { servers, port: boundPort };
  }

  /**
   * (Re)builds the TLS settings from the tls-* directives when TLS is in use
   * (tls-port set) and applies them to the running TLS listeners. Returns
   * Valkey's CONFIG SET reason on failure (the details go to the log).
   */
  configureTls(): string | null {
    if (this.server.config.num('tls-port') === 0 && this.tls.length === 0) return null;
    let s: TlsSettings;
    try {
      s = buildTlsSettings(this.server.config);
    } catch (e) {
      this.server.log.warning((e as Error).message);
      return 'Unable to update TLS configuration. Check server logs.';
    }
    this.tlsSettings = s;
    this.sessions.configure(s);
    for (const t of this.tls) applyTlsSettings(t, s);
    return null;
  }

  /** Start-up: TCP, then TLS, then the Unix socket. Throws with Valkey's wording on failure. */
  async listen(): Promise<void> {
    const server = this.server;
    const cfg = server.config;
    const port = cfg.num('port');
    if (port === 0 && !server.ephemeralPort) {
      server.log.warning('port 0: not listening on TCP');
    } else {
      const r = await this.bindAll('tcp', port);
      if ('error' in r) {
        await this.closeAll();
        throw new Error(`Failed listening on port ${port} (tcp), aborting: ${r.error}`);
      }
      this.tcp = r.servers;
      server.port = r.port;
      if (server.ephemeralPort) cfg.setRaw('port', [String(r.port)]);
    }
    const tlsPort = cfg.num('tls-port');
    if (tlsPort !== 0) {
      try {
        this.tlsSettings = buildTlsSettings(cfg);
      } catch (e) {
        await this.closeAll();
        server.log.warning((e as Error).message);
        throw new Error(`Failed to configure TLS. Check logs for more info. (${(e as Error).message})`);
      }
      this.sessions.configure(this.tlsSettings);
      const r = await this.bindAll('tls', tlsPort);
      if ('error' in r) {
        await this.closeAll();
        throw new Error(`Failed listening on port ${tlsPort} (tls), aborting: ${r.error}`);
      }
      this.tls = r.servers as tls.Server[];
      this.tlsPort = r.port;
    }
    const path = cfg.get('unixsocket');
    if (path !== '') {
      // A socket file left by an earlier run is removed first, as Valkey does.
      try {
        if (statSync(path).isSocket()) unlinkSync(path);
      } catch {
        /* not there */
      }
      try {
        this.unix = await this.opener('unix')(path, 0);
        this.unixPath = path;
        const perm = Number.parseInt(cfg.get('unixsocketperm'), 8);
        if (perm !== 0) chmodSync(path, perm);
      } catch (e) {
        await this.closeAll();
        throw new Error(`Failed opening Unix socket: ${(e as Error).message}`);
      }
    }
  }

  /**
   * Binds TCP and TLS again after CONFIG SET port/bind/tls-port (connected
   * clients stay). Old listeners close first so their ports are free at once,
   * as Valkey does; on failure the caller restores the old values and calls
   * this again. Returns an error message or null.
   */
  async rebind(): Promise<string | null> {
    const server = this.server;
    const cfg = server.config;
    for (const l of this.tcp) l.close();
    for (const l of this.tls) l.close();
    this.tcp = [];
    this.tls = [];
    server.port = 0;
    this.tlsPort = 0;
    const port = cfg.num('port');
    let tcp: net.Server[] = [];
    let tcpPort = 0;
    if (port !== 0) {
      const r = await this.bindAll('tcp', port);
      if ('error' in r) {
        server.log.warning(`Failed listening on port ${port} (tcp), bind ${r.host}: ${r.error}`);
        return r.error;
      }
      tcp = r.servers;
      tcpPort = r.port;
    }
    const tlsPort = cfg.num('tls-port');
    if (tlsPort !== 0) {
      if (this.tlsSettings === null) {
        const err = this.configureTls();
        if (err !== null) {
          for (const l of tcp) l.close();
          return err;
        }
      }
      const r = await this.bindAll('tls', tlsPort);
      if ('error' in r) {
        server.log.warning(`Failed listening on port ${tlsPort} (tls), bind ${r.host}: ${r.error}`);
        for (const l of tcp) l.close();
        return r.error;
      }
      this.tls = r.servers as tls.Server[];
      this.tlsPort = r.port;
    }
    this.tcp = tcp;
    server.port = tcpPort;
    return null;
  }

  /** Stops every listener; resolves when they are closed (their connections ended). */
  closeAll(): Promise<void> {
    const all: net.Server[] = [...this.tcp, ...this.tls];
    if (this.unix !== null) all.push(this.unix);
    this.tcp = [];
    this.tls = [];
    this.unix = null;
    const path = this.unixPath;
    this.unixPath = '';
    const p = Promise.all(all.map((l) => new Promise<void>((r) => l.close(() => r())))).then(() => {});
    if (path !== '') {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
    return p;
  }

  /** INFO server's listenerN fields, numbered by connection type as Valkey (tcp 0, unix 1, tls 2). */
  infoLines(): [string, string][] {
    const bind = this.server.config
      .get('bind')
      .split(/\s+/)
      .filter((b) => b !== '')
      .map((b) => `bind=${b}`)
      .join(',');
    const out: [string, string][] = [];
    if (this.server.port !== 0) out.push(['listener0', `name=tcp,${bind},port=${this.server.port}`]);
    if (this.unix !== null) out.push(['listener1', `name=unix,bind=${this.unixPath}`]);
    if (this.tlsPort !== 0) out.push(['listener2', `name=tls,${bind},port=${this.tlsPort}`]);
    return out;
  }
}
