// Durability under kill -9: a load generator records every acknowledged write,
// the server is killed with SIGKILL at random moments, and after each restart
// every acknowledged write must be there (appendfsync always), or everything
// acknowledged more than 2 seconds before the kill (everysec).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVireo } from '../helpers/servers.mjs';

const CYCLES = 20;
const CONNS = 4;
const PIPELINE = 16;

/**
 * One writer connection: keeps PIPELINE commands in flight (SET w<id>:<n> <n>,
 * then INCR w<id>:count), records what was acknowledged and when.
 */
function writer(port, id, startSeq) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const st = { id, next: startSeq, acked: [], incrAcked: 0, incrSent: 0, inflight: [], buf: '', closed: false };
  const sendOne = () => {
    const n = st.next++;
    const k = `w${id}:${n}`;
    const v = String(n);
    sock.write(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
    st.inflight.push({ n, incr: false });
    if (n % 4 === 0) {
      const ck = `w${id}:count`;
      sock.write(`*2\r\n$4\r\nINCR\r\n$${ck.length}\r\n${ck}\r\n`);
      st.inflight.push({ n, incr: true });
      st.incrSent++;
    }
  };
  sock.on('connect', () => {
    for (let i = 0; i < PIPELINE; i++) sendOne();
  });
  sock.on('data', (d) => {
    st.buf += d.toString('latin1');
    let i;
    while ((i = st.buf.indexOf('\r\n')) >= 0) {
      const line = st.buf.slice(0, i);
      st.buf = st.buf.slice(i + 2);
      const op = st.inflight.shift();
      if (op === undefined) continue;
      if (op.incr) {
        if (line.startsWith(':')) st.incrAcked++;
      } else if (line === '+OK') {
        st.acked.push({ n: op.n, at: Date.now() });
        if (!st.closed) sendOne();
      }
    }
  });
  sock.on('error', () => {});
  sock.on('close', () => (st.closed = true));
  st.sock = sock;
  return st;
}

async function call(port, ...args) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => {
      let cmd = `*${args.length}\r\n`;
      for (const a of args) cmd += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      s.write(cmd);
    });
    s.on('data', (d) => {
      out += d.toString('latin1');
      // MGET of many keys: wait for the whole array.
      if (isComplete(out)) {
        s.destroy();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
}

/** Start-up loading goes on after the port opens (-LOADING meanwhile): waits for it to end. */
async function waitLoaded(port) {
  const end = Date.now() + 60000;
  while ((await call(port, 'PING')) !== '+PONG\r\n') {
    if (Date.now() > end) throw new Error('still loading after 60 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function isComplete(s) {
  if (s[0] !== '*') return s.endsWith('\r\n');
  const lines = s.split('\r\n');
  const n = Number(lines[0].slice(1));
  let seen = 0;
  for (let i = 1; i < lines.length - 1; i++) {
    if (lines[i].startsWith('$-1')) seen++;
    else if (lines[i].startsWith('$')) {
      seen++;
      i++;
    }
  }
  return seen >= n && s.endsWith('\r\n');
}

function parseArray(s) {
  const lines = s.split('\r\n');
  const out = [];
  for (let i = 1; i < lines.length - 1; i++) {
    if (lines[i] === '$-1') out.push(null);
    else if (lines[i].startsWith('$')) out.push(lines[++i]);
  }
  return out;
}

async function killCycles(fsync, cycles, check, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), `vireo-kill-${fsync}-`));
  const args = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync, '--save', '', ...extra];
  const seqs = Array.from({ length: CONNS }, () => 0);
  const history = Array.from({ length: CONNS }, () => []);
  const incrAcked = Array.from({ length: CONNS }, () => 0);
  const incrSent = Array.from({ length: CONNS }, () => 0);
  let totalAcked = 0;
  let lost = 0;
  let rewrites = 0;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const srv = await startVireo(args);
    await waitLoaded(srv.port);
    // After a restart: every write acknowledged so far must be present.
    const res = await check(srv.port, history, incrAcked, incrSent);
    lost += res;
    const ws = [];
    for (let i = 0; i < CONNS; i++) ws.push(writer(srv.port, i, seqs[i]));
    // Every other cycle a BGREWRITEAOF starts at a random moment, so some kills land
    // during a rewrite (incr file switch, sliced base write, manifest swap).
    if (cycle % 2 === 1) setTimeout(() => call(srv.port, 'BGREWRITEAOF').then(() => rewrites++, () => {}), Math.floor(Math.random() * 300));
    await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 350)));
    const killAt = Date.now();
    srv.proc.kill('SIGKILL');
    await new Promise((r) => srv.proc.once('exit', r));
    for (const w of ws) {
      w.closed = true;
      w.sock.destroy();
      seqs[w.id] = w.next;
      for (const a of w.acked) history[w.id].push({ ...a, killAt });
      totalAcked += w.acked.length;
      incrAcked[w.id] += w.incrAcked;
      incrSent[w.id] += w.incrSent;
    }
  }
  const srv = await startVireo(args);
  await waitLoaded(srv.port);
  lost += await check(srv.port, history, incrAcked, incrSent);
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
  return { totalAcked, lost, rewrites };
}

/** Checks the acknowledged SETs (all, or those older than graceMs before their kill) and the INCR counters. */
function checker(graceMs) {
  return async (port, history, incrAcked, incrSent) => {
    let lost = 0;
    for (let w = 0; w < CONNS; w++) {
      const acked = history[w];
      for (let i = 0; i < acked.length; i += 500) {
        const batch = acked.slice(i, i + 500);
        const got = parseArray(await call(port, 'MGET', ...batch.map((a) => `w${w}:${a.n}`)));
        batch.forEach((a, k) => {
          if (got[k] === String(a.n)) return;
          lost++;
          if (graceMs === 0 || a.killAt - a.at > graceMs) assert.fail(`acknowledged write w${w}:${a.n} missing after restart (acked ${a.killAt - a.at} ms before the kill)`);
        });
      }
      const cnt = Number((await call(port, 'GET', `w${w}:count`)).split('\r\n')[1] ?? 0);
      if (graceMs === 0) assert.ok(cnt >= incrAcked[w] && cnt <= incrSent[w], `counter w${w}: ${cnt}, acked ${incrAcked[w]}, sent ${incrSent[w]}`);
    }
    return lost;
  };
}

test(`appendfsync always: ${CYCLES} SIGKILLs under load (some during BGREWRITEAOF), every acknowledged write survives`, async () => {
  const { totalAcked, lost, rewrites } = await killCycles('always', CYCLES, checker(0));
  assert.ok(totalAcked > CYCLES * 50, `too few writes acknowledged: ${totalAcked}`);
  assert.ok(rewrites > 0, 'no BGREWRITEAOF ran during the cycles');
  assert.equal(lost, 0);
  console.log(`# always: ${CYCLES} kills, ${rewrites} rewrites started, ${totalAcked} acknowledged writes, ${lost} lost`);
});

test('appendfsync always, AOF-form base (aof-use-rdb-preamble no): 8 SIGKILLs under load with rewrites, every acknowledged write survives', async () => {
  const { totalAcked, lost, rewrites } = await killCycles('always', 8, checker(0), ['--aof-use-rdb-preamble', 'no']);
  assert.ok(totalAcked > 8 * 50);
  assert.ok(rewrites > 0);
  assert.equal(lost, 0);
  console.log(`# always, AOF base: 8 kills, ${rewrites} rewrites started, ${totalAcked} acknowledged writes, ${lost} lost`);
});

test('appendfsync everysec: 5 SIGKILLs under load, nothing acknowledged more than 2 s before a kill is lost', async () => {
  const { totalAcked, lost } = await killCycles('everysec', 5, checker(2000));
  assert.ok(totalAcked > 100);
  console.log(`# everysec: 5 kills, ${totalAcked} acknowledged writes, ${lost} lost`);
});
