// Test certificates made at test time with Debian's openssl, in a temp dir:
// a CA, a server certificate for 127.0.0.1/localhost signed by it, a client
// certificate signed by it, a client certificate signed by another CA (not
// trusted by the server), and the server key encrypted with a passphrase.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function haveOpenssl() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ossl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir, name) {
  ossl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name} Test CA`]);
}

function makeSigned(dir, name, ca, cn, ext) {
  ossl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  ossl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

/** Creates the files; returns their paths. */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-certs-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'otherca');
  makeSigned(dir, 'server', 'ca', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  makeSigned(dir, 'client', 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
  makeSigned(dir, 'rogue', 'otherca', 'rogue', 'extendedKeyUsage=clientAuth\n');
  ossl(dir, ['pkey', '-in', 'server.key', '-out', 'server-enc.key', '-aes256', '-passout', 'pass:sekrit']);
  // DH parameters (a named RFC 7919 group: instant, unlike generating new ones).
  ossl(dir, ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'dh_param:ffdhe2048', '-out', 'dh.pem']);
  // A CA directory (tls-ca-cert-dir) holding only the CA.
  const caDir = join(dir, 'cadir');
  mkdirSync(caDir);
  copyFileSync(join(dir, 'ca.crt'), join(caDir, 'ca.pem'));
  const p = (f) => join(dir, f);
  return {
    dir,
    caDir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    serverKeyEnc: p('server-enc.key'),
    keyPass: 'sekrit',
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rogueCert: p('rogue.crt'),
    rogueKey: p('rogue.key'),
    otherCa: p('otherca.crt'),
    dhParams: p('dh.pem'),
  };
}
