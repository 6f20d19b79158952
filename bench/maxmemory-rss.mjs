#!/usr/bin/env node
// maxmemory under an endless write load: runs bin/vireo-server with
// `--maxmemory <size> --maxmemory-policy allkeys-lru` and redis-benchmark SET
// (random keys out of 10^8, 200-byte values, -P16, 20 clients) for --secs
// seconds, and prints used_memory, RSS, keys and evicted_keys every 2 s, then
// the peak RSS, the mean RSS of the second half (steady state) and the
// server's CPU time per request (from /proc, so less sensitive to a loaded
// machine than throughput).
//
// Usage: node bench/maxmemory-rss.mjs [--secs 40] [--maxmemory 100mb]
//        [--policy allkeys-lru] [--bin bin/vireo-server] [-- node flags...]
// Example: node bench/maxmemory-rss.mjs --maxmemory 100mb -- --max-semi-space-size=16
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const flags = dash >= 0 ? argv.slice(dash + 1) : ['--max-semi-space-size=16']; // as bin/vireo-server's shebang
const opts = dash >= 0 ? argv.slice(0, dash) : argv;
const opt = (name, def) => {
  const i = opts.indexOf(`--${name}`);
  return i >= 0 ? opts[i + 1] : def;
};
const secs = Number(opt('secs', '40'));
const port = 20000 + Math.floor(Math.random() * 10000);
const bin = opt('bin', join(ROOT, 'bin', 'vireo-server'));
const srv = spawn(process.execPath, [...flags, bin, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', opt('maxmemory', '100mb'), '--maxmemory-policy', opt('policy', 'allkeys-lru'), '--loglevel', 'warning'], { stdio: 'inherit' });
let bench = null;
process.on('exit', () => {
  bench?.kill('SIGKILL');
  srv.kill('SIGKILL');
});
const cli = (...a) => execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'latin1' });
const field = (t, n) => Number((new RegExp(`^${n}:(.*)$`, 'm').exec(t.replace(/\r/g, '')) || [])[1]);
for (let i = 0; ; i++) {
  await new Promise((r) => setTimeout(r, 250));
  try {
    cli('PING');
    break;
  } catch (e) {
    if (i > 80) throw e;
  }
}
// The server may run in a child node (a heap limit raised for maxmemory): measure that process.
const pid = field(cli('INFO', 'server'), 'process_id');
const cpuMs = () => {
  const st = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  return (Number(st[11]) + Number(st[12])) * 10;
};
bench = spawn('redis-benchmark', ['-p', String(port), '-t', 'set', '-n', '1000000000', '-r', '100000000', '-d', '200', '-P', '16', '-c', '20', '-q'], { stdio: 'ignore' });
const MB = (b) => (b / 1048576).toFixed(0);
const t0 = Date.now();
const c0 = cpuMs();
const n0 = field(cli('INFO', 'stats'), 'total_commands_processed');
let peak = 0;
const rss = [];
while (Date.now() - t0 < secs * 1000) {
  await new Promise((r) => setTimeout(r, 2000));
  let mem, stats, keys;
  try {
    mem = cli('INFO', 'memory');
    stats = cli('INFO', 'stats');
    keys = cli('DBSIZE').trim();
  } catch (e) {
    console.log(`sample failed: ${e.message}`);
    continue;
  }
  const r = field(mem, 'used_memory_rss');
  peak = Math.max(peak, r);
  rss.push(r);
  console.log(`${((Date.now() - t0) / 1000).toFixed(0)}s used_memory=${MB(field(mem, 'used_memory'))}MB rss=${MB(r)}MB keys=${keys} evicted=${field(stats, 'evicted_keys')}`);
}
const c1 = cpuMs();
const n1 = field(cli('INFO', 'stats'), 'total_commands_processed');
const tail = rss.slice(Math.floor(rss.length / 2));
const mean = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
console.log(`flags=[${flags.join(' ')}] maxmemory=${opt('maxmemory', '100mb')} peak_rss=${MB(peak)}MB mean_rss_2nd_half=${MB(mean)}MB requests=${n1 - n0} cpu_us_per_request=${(((c1 - c0) * 1000) / (n1 - n0)).toFixed(2)}`);
process.exit(0);
