// The container image, without a container engine: this test builds the
// layout the Dockerfile builds (npm pack of the project, the package's files
// in /opt/vireo, `npm ci --omit=dev` there, vireo-server on PATH, /data as the
// working directory), starts it through the image's own entry point, PINGs
// it, runs the image's HEALTHCHECK command, and stops it with SIGTERM (with a
// final save into /data when persistence is on). It also
// lints the Dockerfile with dockerfilelint (npm) and checks that the build
// context (.dockerignore) lets in every file the Dockerfile copies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, symlinkSync, existsSync, readdirSync, rmSync, realpathSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT, freePort } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const run = promisify(execFile);
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ENTRYPOINT = join(ROOT, 'deploy', 'docker', 'docker-entrypoint.sh');

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text) {
  const out = [];
  let cur = '';
  for (const line of text.split('\n')) {
    if (cur === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    cur += line;
    if (cur.trim() !== '') {
      const m = /^\s*(\S+)\s*(.*)$/.exec(cur);
      out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    }
    cur = '';
  }
  return out;
}
const INSTR = instructions(DOCKERFILE);
const finalStage = INSTR.slice(INSTR.findLastIndex((i) => i.op === 'FROM'));

let dir; // the image's root, in a temp dir
let binDir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-image-'));
  const opt = join(dir, 'opt', 'vireo');
  binDir = join(dir, 'usr', 'local', 'bin');
  mkdirSync(opt, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  mkdirSync(join(dir, 'data'));
  // Build stage: the npm package of this tree (dist/ is built by `pretest`).
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT });
  const tgz = join(dir, JSON.parse(stdout)[0].filename);
  await run('tar', ['-xzf', tgz, '--strip-components=1', '-C', opt]);
  // Production stage: runtime dependencies only, from the lock file.
  copyFileSync(join(ROOT, 'package-lock.json'), join(opt, 'package-lock.json'));
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], { cwd: opt, timeout: 120000 });
  // Runtime stage: vireo-server on PATH, like the image's symlink.
  symlinkSync(join(opt, 'bin', 'vireo-server'), join(binDir, 'vireo-server'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startEntrypoint(args, port, env = {}, cwd = join(dir, 'data')) {
  const proc = spawn('sh', [ENTRYPOINT, ...args], {
    cwd,
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  const ready = (async () => {
    const deadline = Date.now() + 15000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}: ${output}`);
      const ok = await new Promise((r) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), r(true)));
        s.once('error', () => (s.destroy(), r(false)));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`not listening on ${port}: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { proc, exited, ready, output: () => output };
}

/** The HEALTHCHECK command of the Dockerfile, run as Docker would (exec form). */
async function healthcheck(port) {
  const hc = finalStage.find((i) => i.op === 'HEALTHCHECK');
  const cmd = JSON.parse(hc.args.slice(hc.args.indexOf('CMD') + 3).trim());
  try {
    await run(cmd[0], cmd.slice(1), { env: { ...process.env, VIREO_HEALTHCHECK_PORT: String(port) }, timeout: 10000 });
    return 0;
  } catch (e) {
    return e.code ?? -1;
  }
}

test('production layout: only runtime dependencies are installed', () => {
  const pkg = JSON.parse(readFileSync(join(dir, 'opt', 'vireo', 'package.json'), 'utf8'));
  const nm = join(dir, 'opt', 'vireo', 'node_modules');
  const installed = existsSync(nm) ? readdirSync(nm).filter((n) => !n.startsWith('.')) : [];
  const top = new Set(installed.flatMap((n) => (n.startsWith('@') ? readdirSync(join(nm, n)).map((s) => `${n}/${s}`) : [n])));
  for (const dep of Object.keys(pkg.dependencies ?? {})) assert.ok(top.has(dep), `runtime dependency ${dep} installed`);
  for (const dev of Object.keys(pkg.devDependencies ?? {})) assert.ok(!top.has(dev), `dev dependency ${dev} left out`);
  // The package carries the compiled server and its command table, not the sources or tests.
  assert.ok(existsSync(join(dir, 'opt', 'vireo', 'dist', 'src', 'commands', 'meta.json')));
  assert.ok(!existsSync(join(dir, 'opt', 'vireo', 'src')));
  assert.ok(!existsSync(join(dir, 'opt', 'vireo', 'test')));
});

test('entry point: vireo-server from the production layout, PING, healthcheck, SIGTERM', async () => {
  const port = await freePort();
  // `docker run vireo --port P --bind 127.0.0.1`: an option first means vireo-server.
  const s = startEntrypoint(['--port', String(port), '--bind', '127.0.0.1'], port, { VIREO_EXTRA_FLAGS: '--loglevel notice' });
  try {
    await s.ready;
    // exec all the way down: the entry point's PID is the server's, with the image's default bind first.
    const argv = readFileSync(`/proc/${s.proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    assert.equal(realpathSync(argv.find((a) => a.endsWith('vireo-server'))), realpathSync(join(dir, 'opt', 'vireo', 'bin', 'vireo-server')));
    const rest = argv.slice(argv.findIndex((a) => a.endsWith('vireo-server')) + 1);
    assert.deepEqual(rest, ['--bind', '*', '-::*', '--protected-mode', 'no', '--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'notice']);
    const c = await RawConn.connect(port);
    assert.equal(await c.call('PING'), '+PONG\r\n');
    assert.equal(await c.call('SET', 'demo', 'hola valkey'), '+OK\r\n');
    assert.equal(await c.call('GET', 'demo'), '$11\r\nhola valkey\r\n');
    // The later --bind won; the working directory is /data.
    assert.equal(await c.call('CONFIG', 'GET', 'bind'), '*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'protected-mode'), '*2\r\n$14\r\nprotected-mode\r\n$2\r\nno\r\n');
    const dirReply = await c.call('CONFIG', 'GET', 'dir');
    assert.ok(dirReply.endsWith(`${realpathSync(join(dir, 'data'))}\r\n`), dirReply);
    c.close();
    assert.equal(await healthcheck(port), 0, 'HEALTHCHECK passes while the server runs');
    s.proc.kill('SIGTERM');
    const { code, signal } = await s.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, s.output());
    assert.match(s.output(), /Received SIGTERM/);
    assert.match(s.output(), /ready to exit, bye bye/);
    assert.notEqual(await healthcheck(port), 0, 'HEALTHCHECK fails once the server is gone');
  } finally {
    s.proc.kill('SIGKILL');
  }
});

test('entry point with persistence on: SIGTERM writes a final save in /data, a restart loads it', async () => {
  const data = join(dir, 'data-persist');
  mkdirSync(data);
  const start = async () => {
    const port = await freePort();
    const s = startEntrypoint(['vireo-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '3600 1'], port, {}, data);
    await s.ready;
    return { s, port };
  };
  let { s, port } = await start();
  try {
    const c = await RawConn.connect(port);
    assert.equal(await c.call('SET', 'kept', 'across restarts'), '+OK\r\n');
    c.close();
    s.proc.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
    assert.match(s.output(), /DB saved on disk/);
    assert.ok(existsSync(join(data, 'dump.rdb')), 'dump.rdb in the working directory (the volume)');
    ({ s, port } = await start());
    const c2 = await RawConn.connect(port);
    assert.equal(await c2.call('GET', 'kept'), '$15\r\nacross restarts\r\n');
    c2.close();
    s.proc.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
  } finally {
    s.proc.kill('SIGKILL');
  }
});

test('entry point: a config file as first argument, whose bind and protected-mode win', async () => {
  const port = await freePort();
  const conf = join(dir, 'vireo.conf');
  writeFileSync(conf, `# my settings\nbind 127.0.0.1\n  protected-mode yes\nport ${port}\nrequirepass s3cret\n`);
  const s = startEntrypoint([conf, '--loglevel', 'warning'], port);
  try {
    await s.ready;
    const argv = readFileSync(`/proc/${s.proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const rest = argv.slice(argv.findIndex((a) => a.endsWith('vireo-server')) + 1);
    assert.deepEqual(rest, [conf, '--loglevel', 'warning'], 'no default bind or protected-mode added when the file sets them');
    const c = await RawConn.connect(port);
    assert.equal(await c.call('PING'), '-NOAUTH Authentication required.\r\n');
    assert.equal(await c.call('AUTH', 's3cret'), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'bind'), '*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'protected-mode'), '*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n');
    c.close();
    // A server with requirepass still counts as up.
    assert.equal(await healthcheck(port), 0);
    s.proc.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
  } finally {
    s.proc.kill('SIGKILL');
  }
});

test('entry point as a non-root user: refuses an unwritable /data, serves from a writable one', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to switch to another user');
    return;
  }
  // The image's user is uid 999; here uid/gid 65534 (nobody) plays that part.
  const asNobody = (args, cwd, port) => {
    const proc = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'sh', ENTRYPOINT, ...args], {
      cwd,
      env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    return { proc, output: () => output, exited: new Promise((r) => proc.once('exit', (code) => r(code))), port };
  };
  chmodSync(dir, 0o755);
  for (const sub of ['opt', 'usr', 'usr/local', 'usr/local/bin']) chmodSync(join(dir, sub), 0o755);
  const ro = join(dir, 'data-ro');
  mkdirSync(ro, { mode: 0o755 });
  const denied = asNobody(['vireo-server', '--port', String(await freePort()), '--bind', '127.0.0.1'], ro);
  assert.equal(await denied.exited, 1);
  assert.match(denied.output(), /is not writable by the current user \(65534\)/);
  const rw = join(dir, 'data-rw');
  mkdirSync(rw);
  chownSync(rw, 65534, 65534);
  const port = await freePort();
  const s = asNobody(['--port', String(port), '--bind', '127.0.0.1'], rw, port);
  try {
    const deadline = Date.now() + 15000;
    let c;
    while (!c) {
      c = await RawConn.connect(port).catch(() => null);
      if (!c) {
        assert.ok(Date.now() < deadline && s.proc.exitCode === null, s.output());
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(await c.call('PING'), '+PONG\r\n');
    c.close();
    const status = readFileSync(`/proc/${s.proc.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s/m, 'the server runs as the unprivileged user');
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  } finally {
    s.proc.kill('SIGKILL');
  }
});

test('entry point: shell syntax (dash, as /bin/sh in the Debian image)', async () => {
  await run('dash', ['-n', ENTRYPOINT]);
});

test('Dockerfile: multi-stage on an official Node LTS image, non-root, /data, 6379, healthcheck, entry point', () => {
  const froms = INSTR.filter((i) => i.op === 'FROM').map((i) => i.args);
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) assert.match(f, /^node:(20|22|24)-bookworm-slim( AS \w+)?$/);
  const ops = (op) => finalStage.filter((i) => i.op === op).map((i) => i.args);
  assert.deepEqual(ops('USER'), ['vireo']);
  assert.deepEqual(ops('WORKDIR'), ['/data']);
  assert.deepEqual(ops('VOLUME'), ['/data']);
  assert.deepEqual(ops('EXPOSE'), ['6379']);
  assert.deepEqual(ops('ENTRYPOINT'), ['["docker-entrypoint.sh"]']);
  assert.deepEqual(ops('CMD'), ['["vireo-server"]']);
  assert.equal(ops('HEALTHCHECK').length, 1);
  // The runtime stage copies the production install, not the build stage's dev tree.
  assert.ok(ops('COPY').some((a) => a.startsWith('--from=prod /opt/vireo')));
  assert.ok(INSTR.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)));
});

test('.dockerignore lets in every file the Dockerfile copies from the context', () => {
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(ignore[0], '**', 'everything else stays out of the context');
  const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
  const sources = INSTR.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  assert.ok(sources.length >= 5);
  for (const src of sources) {
    assert.ok(existsSync(join(ROOT, src)), `${src} exists`);
    assert.ok(allowed.some((a) => a === src || a === `${src}/**`), `${src} is let into the build context`);
  }
});

test('dockerfilelint: the Dockerfile has no issues (and the linter does flag a bad one)', async () => {
  const lint = join(ROOT, 'node_modules', '.bin', 'dockerfilelint');
  const { stdout } = await run(lint, ['-o', 'json', join(ROOT, 'Dockerfile')]);
  const report = JSON.parse(stdout);
  assert.equal(report.files[0].issues_count, 0, JSON.stringify(report.files[0].issues));
  const bad = join(dir, 'Dockerfile.bad');
  writeFileSync(bad, 'FROM node\nRUN apt-get install curl\nEXPOSE 70000\n');
  const res = await run(lint, ['-o', 'json', bad]).catch((e) => e);
  assert.ok(JSON.parse(res.stdout).files[0].issues_count >= 2);
});
