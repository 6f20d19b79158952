// TLS (tls-port and the tls-* directives): certificates made at test time with
// openssl (test/helpers/certs.mjs); node:tls raw connections, redis-cli --tls,
// ioredis and node-redis with tls options; client certificates required,
// optional or not asked; CONFIG SET reloading the context; session caching.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as cryptoConst } from 'node:crypto';
import { startVireo, freePort } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';
import { makeCerts, haveOpenssl } from '../helpers/certs.mjs';

const require = createRequire(import.meta.url);
/** A client that asks for no tickets resumes through the server's session-id cache. */
const NO_TICKET = cryptoConst.SSL_OP_NO_TICKET;
const skip = haveOpenssl() ? false : 'openssl is not installed';
let certs;
let srv;
let tlsPort;
let admin;

function tlsArgs(port, extra = []) {
  return ['--tls-port', String(port), '--tls-cert-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-cert-file', certs.ca, ...extra];
}

/**
 * Connects over TLS, sends `payload` and resolves with what came back before
 * `expectBytes` arrived or the connection closed; `error` when the handshake
 * or the connection failed before any reply.
 */
function tlsExchange(port, opts, payload, expectBytes = 7, timeoutMs = 5000) {
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      resolve(r);
    };
    const sock = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), servername: 'localhost', ...opts }, () => {
      sock.write(payload);
    });
    sock.on('data', (d) => {
      out += d.toString('latin1');
      if (out.length >= expectBytes) finish({ out, session: sock.isSessionReused(), protocol: sock.getProtocol(), cipher: sock.getCipher() });
    });
    sock.on('error', (e) => finish({ out, error: e.message }));
    sock.on('close', () => finish({ out, error: out === '' ? 'closed' : undefined }));
    const t = setTimeout(() => finish({ out, error: 'timeout' }), timeoutMs);
  });
}

const withClientCert = () => ({ cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
const withRogueCert = () => ({ cert: readFileSync(certs.rogueCert), key: readFileSync(certs.rogueKey) });

before(async () => {
  if (skip) return;
  certs = makeCerts();
  tlsPort = await freePort();
  srv = await startVireo(tlsArgs(tlsPort));
  admin = await RawConn.connect(srv.port);
  // startVireo waits for the plain port; the TLS listener binds right after it.
  for (let i = 0; i < 200; i++) {
    const r = await tlsExchange(tlsPort, withClientCert(), 'PING\r\n');
    if (r.out === '+PONG\r\n') break;
    await new Promise((res) => setTimeout(res, 25));
  }
});

after(async () => {
  admin?.close?.();
  await srv?.stop();
});

test('tls-auth-clients yes (default): a client certificate signed by the CA is required', { skip }, async () => {
  const ok = await tlsExchange(tlsPort, withClientCert(), 'PING\r\n');
  assert.equal(ok.out, '+PONG\r\n');
  assert.equal(ok.error, undefined);
  // No certificate: the handshake is refused, no reply ever comes.
  const none = await tlsExchange(tlsPort, {}, 'PING\r\n');
  assert.equal(none.out, '');
  assert.ok(none.error, 'a client without a certificate must be refused');
  // A certificate from a CA the server does not trust.
  const rogue = await tlsExchange(tlsPort, withRogueCert(), 'PING\r\n');
  assert.equal(rogue.out, '');
  assert.ok(rogue.error);
  // Plain TCP still works next to TLS.
  assert.equal(await admin.call('PING'), '+PONG\r\n');
});

test('TLS clients are ordinary clients: commands, pipelines, large values, CLIENT LIST', { skip }, async () => {
  const big = 'x'.repeat(3 * 1024 * 1024);
  let payload = `*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${big.length}\r\n${big}\r\n`;
  for (let i = 0; i < 1000; i++) payload += `*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n`;
  payload += '*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n';
  const r = await tlsExchange(tlsPort, withClientCert(), payload, 5 + 1000 * 4 + 1000 * 2 + 11, 15000);
  assert.ok(r.out.startsWith('+OK\r\n:1\r\n:2\r\n'), r.out.slice(0, 40));
  assert.ok(r.out.endsWith(':1000\r\n:3145728\r\n'), r.out.slice(-40));
  // GET of the big value comes back whole through TLS.
  const g = await tlsExchange(tlsPort, withClientCert(), '*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n', big.length + 12, 15000);
  assert.equal(g.out.length, big.length + 12);
  // CLIENT LIST over TLS lists the TLS connection itself.
  const l = await tlsExchange(tlsPort, withClientCert(), 'CLIENT INFO\r\n', 20);
  assert.match(l.out, /id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ /);
  assert.match(l.out, new RegExp(`laddr=127\\.0\\.0\\.1:${tlsPort} `));
});

test('redis-cli --tls with --cacert, --cert and --key', { skip }, async (t) => {
  const help = spawnSync('redis-cli', ['--help'], { encoding: 'utf8' });
  if (!(help.stdout + help.stderr).includes('--tls')) {
    t.skip('redis-cli was built without TLS');
    return;
  }
  const base = ['--tls', '--cacert', certs.ca, '-h', '127.0.0.1', '-p', String(tlsPort)];
  const ok = spawnSync('redis-cli', [...base, '--cert', certs.clientCert, '--key', certs.clientKey, 'SET', 'cli', 'hello'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(ok.stdout.trim(), 'OK', ok.stderr);
  const get = spawnSync('redis-cli', [...base, '--cert', certs.clientCert, '--key', certs.clientKey, 'GET', 'cli'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(get.stdout.trim(), 'hello');
  // Without a client certificate redis-cli cannot get a reply.
  const bad = spawnSync('redis-cli', [...base, 'PING'], { encoding: 'utf8', timeout: 10000 });
  assert.ok(!bad.stdout.includes('PONG'), bad.stdout);
});

test('ioredis and node-redis connect with tls options', { skip }, async () => {
  const tlsOpts = { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), servername: 'localhost' };
  const Redis = require('ioredis');
  const io = new Redis({ host: '127.0.0.1', port: tlsPort, tls: tlsOpts, lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
  assert.equal(await io.set('io', 'v1'), 'OK');
  assert.equal(await io.get('io'), 'v1');
  const p = io.pipeline();
  for (let i = 0; i < 100; i++) p.incr('ioctr');
  const res = await p.exec();
  assert.equal(res[99][1], 100);
  await io.quit();

  const { createClient } = require('redis');
  const nr = createClient({ socket: { host: '127.0.0.1', port: tlsPort, tls: true, ...tlsOpts }, disableOfflineQueue: true });
  nr.on('error', () => {});
  await nr.connect();
  assert.equal(await nr.get('io'), 'v1');
  assert.equal(await nr.hSet('h', { a: '1', b: '2' }), 2);
  assert.deepEqual(await nr.hGetAll('h'), { a: '1', b: '2' });
  await nr.quit();
});

test('CONFIG GET shows Valkey defaults; CONFIG SET tls-auth-clients no|optional applies to new connections', { skip }, async () => {
  const get = await admin.call('CONFIG', 'GET', 'tls-*');
  for (const [k, v] of [
    ['tls-auth-clients', 'yes'],
    ['tls-protocols', ''],
    ['tls-ciphers', ''],
    ['tls-ciphersuites', ''],
    ['tls-prefer-server-ciphers', 'no'],
    ['tls-session-caching', 'yes'],
    ['tls-session-cache-size', '20480'],
    ['tls-session-cache-timeout', '300'],
    ['tls-port', String(tlsPort)],
    ['tls-key-file-pass', ''],
    ['tls-ca-cert-dir', ''],
  ]) {
    assert.ok(get.includes(`$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`), `${k} ${v}\n${get}`);
  }
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'no'), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, {}, 'PING\r\n')).out, '+PONG\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'optional'), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, {}, 'PING\r\n')).out, '+PONG\r\n');
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
  // optional: a certificate that is presented must still verify.
  assert.equal((await tlsExchange(tlsPort, withRogueCert(), 'PING\r\n')).out, '');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'yes'), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, {}, 'PING\r\n')).out, '');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'maybe'), "-ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional\r\n");
});

test('CONFIG SET of certificate files reloads the context; bad files are refused and nothing changes', { skip }, async () => {
  const fail = await admin.call('CONFIG', 'SET', 'tls-cert-file', '/nonexistent/cert.pem');
  assert.equal(fail, "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n");
  assert.ok((await admin.call('CONFIG', 'GET', 'tls-cert-file')).includes(certs.serverCert));
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
  // A key that does not match the certificate.
  const mism = await admin.call('CONFIG', 'SET', 'tls-key-file', certs.clientKey);
  assert.match(mism, /Unable to update TLS configuration/);
  // The encrypted key needs its passphrase: set together, they load.
  const noPass = await admin.call('CONFIG', 'SET', 'tls-key-file', certs.serverKeyEnc);
  assert.match(noPass, /Unable to update TLS configuration/);
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-key-file', certs.serverKeyEnc, 'tls-key-file-pass', certs.keyPass), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
  // CA from a directory instead of a file.
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-ca-cert-file', '', 'tls-ca-cert-dir', certs.caDir), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
  // Client authentication needs some CA.
  assert.match(await admin.call('CONFIG', 'SET', 'tls-ca-cert-dir', ''), /Unable to update TLS configuration/);
  // Switching to a CA that did not sign the client: the client is refused from now on.
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-ca-cert-dir', '', 'tls-ca-cert-file', certs.otherCa), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '');
  assert.equal((await tlsExchange(tlsPort, withRogueCert(), 'PING\r\n')).out, '+PONG\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-ca-cert-file', certs.ca), '+OK\r\n');
});

test('tls-protocols, tls-ciphers, tls-ciphersuites and tls-prefer-server-ciphers', { skip }, async () => {
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-protocols', 'TLSv1.2'), '+OK\r\n');
  const v12 = await tlsExchange(tlsPort, withClientCert(), 'PING\r\n');
  assert.equal(v12.protocol, 'TLSv1.2');
  const only13 = await tlsExchange(tlsPort, { ...withClientCert(), minVersion: 'TLSv1.3' }, 'PING\r\n');
  assert.equal(only13.out, '');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-protocols', 'TLSv1.3'), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).protocol, 'TLSv1.3');
  assert.equal((await tlsExchange(tlsPort, { ...withClientCert(), maxVersion: 'TLSv1.2' }, 'PING\r\n')).out, '');
  assert.match(await admin.call('CONFIG', 'SET', 'tls-protocols', 'SSLv3'), /Unable to update TLS configuration/);
  // TLSv1.3 suites.
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'), '+OK\r\n');
  const cs = await tlsExchange(tlsPort, withClientCert(), 'PING\r\n');
  assert.equal(cs.out, '+PONG\r\n');
  assert.equal(cs.cipher.name, 'TLS_CHACHA20_POLY1305_SHA256');
  // TLSv1.2 ciphers, with the server's order preferred.
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-protocols', 'TLSv1.2 TLSv1.3', 'tls-ciphersuites', ''), '+OK\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-protocols', 'TLSv1.2', 'tls-ciphers', 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384', 'tls-prefer-server-ciphers', 'yes'), '+OK\r\n');
  const pref = await tlsExchange(tlsPort, { ...withClientCert(), ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' }, 'PING\r\n');
  assert.equal(pref.cipher.standardName, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-prefer-server-ciphers', 'no'), '+OK\r\n');
  const cli = await tlsExchange(tlsPort, { ...withClientCert(), ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' }, 'PING\r\n');
  assert.equal(cli.cipher.standardName, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-protocols', '', 'tls-ciphers', ''), '+OK\r\n');
});

/** A fresh TLS session (what a client keeps to resume). */
function newSession(proto) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tlsPort, ca: readFileSync(certs.ca), servername: 'localhost', maxVersion: proto, secureOptions: NO_TICKET, ...withClientCert() });
    let session = null;
    s.on('session', (sess) => (session = sess));
    s.on('secureConnect', () => s.write('PING\r\n'));
    s.on('data', () =>
      setTimeout(() => {
        s.destroy();
        resolve(session);
      }, 50),
    );
    s.on('error', () => resolve(null));
  });
}

test('tls-dh-params-file: DHE ciphers with the given parameters', { skip }, async () => {
  assert.match(await admin.call('CONFIG', 'SET', 'tls-dh-params-file', certs.serverCert), /Unable to update TLS configuration/);
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-dh-params-file', certs.dhParams, 'tls-protocols', 'TLSv1.2', 'tls-ciphers', 'DHE-RSA-AES128-GCM-SHA256'), '+OK\r\n');
  const r = await tlsExchange(tlsPort, { ...withClientCert(), ciphers: 'DHE-RSA-AES128-GCM-SHA256' }, 'PING\r\n');
  assert.equal(r.out, '+PONG\r\n');
  assert.equal(r.cipher.standardName, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-dh-params-file', '', 'tls-protocols', '', 'tls-ciphers', ''), '+OK\r\n');
});

test('tls-session-caching: sessions resume when on, never when off', { skip }, async () => {
  for (const proto of ['TLSv1.2', 'TLSv1.3']) {
    const resumeOnce = async () => {
      const first = await new Promise((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: tlsPort, ca: readFileSync(certs.ca), servername: 'localhost', maxVersion: proto, ...withClientCert() });
        let session = null;
        s.on('session', (sess) => (session = sess));
        s.on('data', () => {
          setTimeout(() => {
            s.destroy();
            resolve(session);
          }, 50);
        });
        s.on('secureConnect', () => s.write('PING\r\n'));
        s.on('error', () => resolve(null));
      });
      assert.ok(first, `${proto}: a session was issued`);
      const again = await tlsExchange(tlsPort, { ...withClientCert(), maxVersion: proto, session: first }, 'PING\r\n');
      assert.equal(again.out, '+PONG\r\n');
      return again.session;
    };
    assert.equal(await resumeOnce(), true, `${proto} resumes with caching on`);
    assert.equal(await admin.call('CONFIG', 'SET', 'tls-session-caching', 'no'), '+OK\r\n');
    const off = await new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: tlsPort, ca: readFileSync(certs.ca), servername: 'localhost', maxVersion: proto, ...withClientCert() });
      let session = null;
      s.on('session', (sess) => (session = sess));
      s.on('secureConnect', () => s.write('PING\r\n'));
      s.on('data', () =>
        setTimeout(() => {
          s.destroy();
          resolve(session);
        }, 50),
      );
      s.on('error', () => resolve(null));
    });
    assert.ok(off, `${proto}: the client still gets a session object`);
    {
      const again = await tlsExchange(tlsPort, { ...withClientCert(), maxVersion: proto, session: off }, 'PING\r\n');
      assert.equal(again.out, '+PONG\r\n');
      assert.equal(again.session, false, `${proto} does not resume with caching off`);
    }
    assert.equal(await admin.call('CONFIG', 'SET', 'tls-session-caching', 'yes'), '+OK\r\n');
    if (proto === 'TLSv1.3') continue; // TLSv1.3 resumes with tickets, not the server's session-id cache.
    // tls-session-cache-size 1: a second session pushes the first out of the cache.
    assert.equal(await admin.call('CONFIG', 'SET', 'tls-session-cache-size', '1'), '+OK\r\n');
    const s1 = await newSession(proto);
    const s2 = await newSession(proto);
    assert.equal((await tlsExchange(tlsPort, { ...withClientCert(), maxVersion: proto, secureOptions: NO_TICKET, session: s2 }, 'PING\r\n')).session, true, `${proto}: newest session`);
    assert.equal((await tlsExchange(tlsPort, { ...withClientCert(), maxVersion: proto, secureOptions: NO_TICKET, session: s1 }, 'PING\r\n')).session, false, `${proto}: evicted session`);
    // tls-session-cache-timeout 1: a session is gone after a second.
    assert.equal(await admin.call('CONFIG', 'SET', 'tls-session-cache-size', '20480', 'tls-session-cache-timeout', '1'), '+OK\r\n');
    const s3 = await newSession(proto);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await tlsExchange(tlsPort, { ...withClientCert(), maxVersion: proto, secureOptions: NO_TICKET, session: s3 }, 'PING\r\n')).session, false, `${proto}: expired session`);
    assert.equal(await admin.call('CONFIG', 'SET', 'tls-session-cache-timeout', '300'), '+OK\r\n');
  }
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-session-cache-size', '-1'), "-ERR CONFIG SET failed (possibly related to argument 'tls-session-cache-size') - argument must be between 0 and 2147483647 inclusive\r\n");
});

test('maxclients on the TLS port: the connection drops before the handshake', { skip }, async () => {
  const stats = async () => Number(/rejected_connections:(\d+)/.exec(await admin.call('INFO', 'stats'))[1]);
  const before = await stats();
  const n = Number(/connected_clients:(\d+)/.exec(await admin.call('INFO', 'clients'))[1]);
  assert.equal(await admin.call('CONFIG', 'SET', 'maxclients', String(n)), '+OK\r\n');
  const r = await tlsExchange(tlsPort, withClientCert(), 'PING\r\n');
  assert.equal(r.out, '');
  assert.ok(r.error);
  assert.equal(await admin.call('CONFIG', 'SET', 'maxclients', '10000'), '+OK\r\n');
  assert.equal(await stats(), before + 1);
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
});

test('CONFIG SET tls-port moves the TLS listener; 0 closes it', { skip }, async () => {
  const np = await freePort();
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-port', String(np)), '+OK\r\n');
  assert.equal((await tlsExchange(np, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
  assert.ok((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).error);
  // A port in use: refused, the old one keeps working.
  const busy = await admin.call('CONFIG', 'SET', 'tls-port', String(srv.port));
  assert.equal(busy, "-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to listen on this port. Check server logs.\r\n");
  assert.equal((await tlsExchange(np, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-port', '0'), '+OK\r\n');
  assert.ok((await tlsExchange(np, withClientCert(), 'PING\r\n')).error);
  assert.equal(await admin.call('CONFIG', 'SET', 'tls-port', String(tlsPort)), '+OK\r\n');
  assert.equal((await tlsExchange(tlsPort, withClientCert(), 'PING\r\n')).out, '+PONG\r\n');
});

test('start-up: encrypted key with tls-key-file-pass; a key without its passphrase fails to start', { skip }, async () => {
  const p = await freePort();
  const s = await startVireo([...tlsArgs(p, ['--tls-key-file', certs.serverKeyEnc, '--tls-key-file-pass', certs.keyPass, '--tls-auth-clients', 'no'])]);
  try {
    // startVireo waits for the plain port; the TLS listener may bind a moment later.
    let r = await tlsExchange(p, {}, 'PING\r\n');
    for (let i = 0; i < 40 && r.out === '' && r.error; i++) {
      await new Promise((res) => setTimeout(res, 25));
      r = await tlsExchange(p, {}, 'PING\r\n');
    }
    assert.equal(r.out, '+PONG\r\n', String(r.error ?? ''));
  } finally {
    await s.stop();
  }
  const args = ['bin/vireo-server', '--port', String(await freePort()), ...tlsArgs(await freePort(), ['--tls-key-file', certs.serverKeyEnc])];
  // stdin closed: OpenSSL must not wait for a passphrase typed on a terminal.
  const bad = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
  const why = `status=${bad.status} signal=${bad.signal} error=${bad.error?.message} output=${bad.stdout}${bad.stderr}`;
  assert.equal(bad.status, 1, why);
  assert.match(bad.stdout + bad.stderr, /Failed to configure TLS/, why);
});
