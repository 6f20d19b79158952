// TLS (node:tls): the secure context built from the tls-* directives, the
// session cache (tls-session-caching/-size/-timeout) and the check of client
// certificates (tls-auth-clients). Listeners (src/server/listeners.ts) create
// the tls.Server; this file only describes how it is configured, so that
// CONFIG SET of a tls-* directive can rebuild the context at run time.
import tls from 'node:tls';
import { constants as osslConst } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';

/** tls-protocols tokens, lowest first, with the OpenSSL option that turns each off. */
const PROTOCOLS: [name: tls.SecureVersion, off: number][] = [
  ['TLSv1', osslConst.SSL_OP_NO_TLSv1],
  ['TLSv1.1', osslConst.SSL_OP_NO_TLSv1_1],
  ['TLSv1.2', osslConst.SSL_OP_NO_TLSv1_2],
  ['TLSv1.3', osslConst.SSL_OP_NO_TLSv1_3],
];

/** Server options derived from the configuration (a fresh object per (re)configuration). */
export interface TlsSettings {
  context: tls.SecureContextOptions;
  requestCert: boolean;
  /** tls-auth-clients yes: a client must present a valid certificate. */
  rejectUnauthorized: boolean;
  /** tls-auth-clients optional: a certificate is not required, but one that is presented must be valid. */
  optional: boolean;
  sessionCaching: boolean;
  sessionCacheSize: number;
  sessionTimeout: number;
}

/** Parses tls-protocols ("TLSv1.2 TLSv1.3"); empty means TLSv1.2 and TLSv1.3, as Valkey. */
export function parseProtocols(v: string): { min: tls.SecureVersion; max: tls.SecureVersion; off: number } | null {
  const words = v.split(/\s+/).filter((w) => w !== '');
  const on = new Set<string>();
  if (words.length === 0) {
    on.add('TLSv1.2');
    on.add('TLSv1.3');
  }
  for (const w of words) {
    const p = PROTOCOLS.find(([n]) => n.toLowerCase() === w.toLowerCase());
    if (p === undefined) return null;
    on.add(p[0]);
  }
  let min: tls.SecureVersion | null = null;
  let max: tls.SecureVersion | null = null;
  let off = 0;
  for (const [n] of PROTOCOLS) {
    if (on.has(n)) {
      min ??= n;
      max = n;
    }
  }
  // Versions between min and max that were left out are switched off one by one.
  let inside = false;
  for (const [n, bit] of PROTOCOLS) {
    if (n === min) inside = true;
    if (inside && !on.has(n)) off |= bit;
    if (n === max) inside = false;
  }
  return { min: min!, max: max!, off };
}

/** Every certificate in a CA directory (hashed links and plain .pem/.crt files). */
function readCaDir(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      const b = readFileSync(p);
      if (b.includes('-----BEGIN CERTIFICATE-----')) out.push(b);
    } catch {
      /* unreadable entries are skipped, as OpenSSL's lookup does */
    }
  }
  return out;
}

/** The file must hold PEM DH parameters (Node would silently ignore anything else). */
function readDhParams(b: Buffer, f: string): Buffer {
  if (!/-----BEGIN (X9\.42 )?DH PARAMETERS-----/.test(b.toString('latin1'))) throw new Error(`Failed to load DH parameters from '${f}': no PEM DH parameters found`);
  return b;
}

/** Splits Node's default cipher list into its TLSv1.3 suites and its TLSv1.2 ciphers. */
function defaultCipherParts(): { suites: string; list: string } {
  const all = tls.DEFAULT_CIPHERS.split(':');
  return { suites: all.filter((c) => c.startsWith('TLS_')).join(':'), list: all.filter((c) => !c.startsWith('TLS_')).join(':') };
}

/**
 * Reads the certificate, key and CA files named in the configuration and
 * builds the server settings. Throws an Error whose message says what is wrong
 * (logged by the caller; the client sees Valkey's generic message).
 */
export function buildTlsSettings(cfg: Config): TlsSettings {
  const certFile = cfg.get('tls-cert-file');
  const keyFile = cfg.get('tls-key-file');
  if (certFile === '' || keyFile === '') throw new Error('No tls-cert-file or tls-key-file configured');
  const auth = cfg.get('tls-auth-clients');
  const caFile = cfg.get('tls-ca-cert-file');
  const caDir = cfg.get('tls-ca-cert-dir');
  if (auth !== 'no' && caFile === '' && caDir === '') {
    throw new Error('Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-auth-clients is enabled!');
  }
  const protocols = parseProtocols(cfg.get('tls-protocols'));
  if (protocols === null) throw new Error("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
  const read = (what: string, f: string): Buffer => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new Error(`Failed to load ${what} '${f}': ${(e as Error).message}`);
    }
  };
  const ca: Buffer[] = [];
  if (caFile !== '') ca.push(read('tls-ca-cert-file', caFile));
  if (caDir !== '') {
    try {
      ca.push(...readCaDir(caDir));
    } catch (e) {
      throw new Error(`Failed to configure CA certificate(s) file/directory: ${(e as Error).message}`);
    }
  }
  const caching = cfg.bool('tls-session-caching');
  // Node takes TLSv1.3 suites and TLSv1.2 ciphers in one list; a part left
  // unset keeps Node's default (an empty part would disable that version).
  const def = defaultCipherParts();
  const suites = cfg.get('tls-ciphersuites');
  const list = cfg.get('tls-ciphers');
  const pass = cfg.get('tls-key-file-pass');
  const dhFile = cfg.get('tls-dh-params-file');
  const context: tls.SecureContextOptions = {
    cert: read('tls-cert-file', certFile),
    key: read('tls-key-file', keyFile),
    passphrase: pass === '' ? undefined : pass,
    ca: ca.length > 0 ? ca : undefined,
    minVersion: protocols.min,
    maxVersion: protocols.max,
    // Session caching on: session ids go to the SessionCache (size and
    // timeout), tickets live tls-session-cache-timeout seconds. Off: no
    // tickets either, nothing resumes.
    secureOptions: protocols.off | (caching ? 0 : osslConst.SSL_OP_NO_TICKET),
    ciphers: `${suites !== '' ? suites : def.suites}:${list !== '' ? list : def.list}`,
    honorCipherOrder: cfg.bool('tls-prefer-server-ciphers'),
    sessionTimeout: cfg.num('tls-session-cache-timeout'),
    // DH parameters for the DHE ciphers (TLSv1.2); without a file OpenSSL's built-in groups are used.
    dhparam: dhFile !== '' ? readDhParams(read('tls-dh-params-file', dhFile), dhFile) : 'auto',
  };
  // Builds it once here so that a bad key, passphrase or cipher list is reported now.
  try {
    tls.createSecureContext(context);
  } catch (e) {
    throw new Error(`Failed to configure TLS: ${(e as Error).message}`);
  }
  return {
    context,
    requestCert: auth !== 'no',
    rejectUnauthorized: auth === 'yes',
    optional: auth === 'optional',
    sessionCaching: caching,
    sessionCacheSize: cfg.num('tls-session-cache-size'),
    sessionTimeout: cfg.num('tls-session-cache-timeout'),
  };
}

/**
 * Server-side session cache (TLSv1.2 session ids): at most
 * tls-session-cache-size entries (0: no limit), each valid for
 * tls-session-cache-timeout seconds. Node's OpenSSL context keeps no internal
 * cache, so the tls.Server's newSession/resumeSession events feed this one.
 */
export class SessionCache {
  private map = new Map<string, { data: Buffer; expires: number }>();
  size = 20480;
  timeoutSec = 300;
  enabled = true;

  configure(s: TlsSettings): void {
    this.enabled = s.sessionCaching;
    this.size = s.sessionCacheSize;
    this.timeoutSec = s.sessionTimeout;
    if (!this.enabled) this.map.clear();
    this.trim();
  }

  store(id: Buffer, data: Buffer): void {
    if (!this.enabled) return;
    const k = id.toString('hex');
    this.map.delete(k);
    this.map.set(k, { data, expires: Date.now() + this.timeoutSec * 1000 });
    this.trim();
  }

  lookup(id: Buffer): Buffer | null {
    if (!this.enabled) return null;
    const k = id.toString('hex');
    const e = this.map.get(k);
    if (e === undefined) return null;
    if (Date.now() > e.expires) {
      this.map.delete(k);
      return null;
    }
    return e.data;
  }

  private trim(): void {
    if (this.size === 0) return;
    // Oldest entries first (Map keeps insertion order).
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }

  get count(): number {
    return this.map.size;
  }
}

/** Attaches the session cache to a TLS server. */
export function attachSessionCache(srv: tls.Server, cache: SessionCache): void {
  srv.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
    cache.store(id, data);
    cb();
  });
  srv.on('resumeSession', (id: Buffer, cb: (err: Error | null, data: Buffer | null) => void) => {
    cb(null, cache.lookup(id));
  });
}

/** Applies (new) settings to a running TLS server: later handshakes use them. */
export function applyTlsSettings(srv: tls.Server, s: TlsSettings): void {
  srv.setSecureContext(s.context);
  const r = srv as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
  r.requestCert = s.requestCert;
  r.rejectUnauthorized = s.rejectUnauthorized;
}

/**
 * tls-auth-clients optional: a client may come without a certificate, but one
 * it presents must verify. Returns false when the connection must be dropped.
 */
export function clientCertAcceptable(sock: tls.TLSSocket, s: TlsSettings): boolean {
  if (!s.optional || sock.authorized) return true;
  const peer = sock.getPeerCertificate();
  return peer === null || Object.keys(peer).length === 0;
}
