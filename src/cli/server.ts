// vireo-server: the command-line entry point, taking valkey-server's arguments.
import { readFileSync, writeFileSync, unlinkSync, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import v8 from 'node:v8';
import { constants as osConstants } from 'node:os';
import { Config, ConfigError, applyConfigText, argsToConfig, errText } from '../config/config.js';
import { Server, VIREO_VERSION, VALKEY_COMPAT_VERSION } from '../server/server.js';
import { ownProcessDir } from '../persistence/paths.js';

function usage(): never {
  process.stderr.write(
    [
      'Usage: vireo-server [/path/to/valkey.conf] [options] [-]',
      '       vireo-server - (read config from stdin)',
      '       vireo-server -v or --version',
      '       vireo-server -h or --help',
      '',
      'Examples:',
      '       vireo-server (run the server with default config)',
      "       echo 'maxmemory 128mb' | vireo-server -",
      '       vireo-server /etc/valkey/6379.conf',
      '       vireo-server --port 7777',
      '       vireo-server /etc/myvalkey.conf --loglevel verbose -',
      '       vireo-server --bind 127.0.0.1 ::1 --requirepass secret',
      '',
    ].join('\n'),
  );
  // valkey-server exits with 1 after the usage text too.
  process.exit(1);
}

/** A log line in the server's format, before the logger is configured. */
function earlyLog(mark: string, msg: string): void {
  const d = new Date();
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  const ts = `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  process.stdout.write(`${process.pid}:C ${ts} ${mark} ${msg}\n`);
}

/** V8 old-space size (MB) a server told `maxmemory` bytes needs: the data, as much again of garbage between collections, and room for the runtime. */
export function heapMbFor(maxmemory: number): number {
  return Math.ceil((maxmemory * 2) / 1048576) + 256;
}

/**
 * With maxmemory set beyond what V8's heap limit can hold, runs the server in a
 * child node with --max-old-space-size large enough (the heap limit cannot be
 * raised once V8 is running), so eviction, not heap exhaustion, bounds memory.
 * The parent forwards signals and exits with the child's status. True when the
 * child took over.
 */
function reexecForHeap(maxmemory: number, argv: string[], stdinText: string | null): boolean {
  if (maxmemory === 0 || process.env.VIREO_HEAP_REEXEC === '1') return false;
  const wantMb = heapMbFor(maxmemory);
  if (v8.getHeapStatistics().heap_size_limit >= wantMb * 1048576) return false;
  const script = process.argv[1];
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--max-old-space-size'));
  const child = spawn(process.execPath, [...execArgv, `--max-old-space-size=${wantMb}`, script, ...argv], {
    stdio: [stdinText === null ? 'inherit' : 'pipe', 'inherit', 'inherit'],
    env: { ...process.env, VIREO_HEAP_REEXEC: '1' },
  });
  if (stdinText !== null) child.stdin!.end(stdinText, 'latin1');
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal !== null ? (osConstants.signals[signal] ?? 0) : 0));
  });
  return true;
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '-v' || argv[0] === '--version') {
    process.stdout.write(`Vireo server v=${VIREO_VERSION} valkey-compat=${VALKEY_COMPAT_VERSION} node=${process.versions.node} bits=64\n`);
    return;
  }
  if (argv[0] === '-h' || argv[0] === '--help') usage();
  const cfg = new Config();
  let server: Server;
  let stdinText: string | null = null;
  try {
    const { file, stdin, options } = argsToConfig(argv);
    if (file !== null) {
      let text: string;
      try {
        text = readFileSync(file, 'latin1');
      } catch (e) {
        earlyLog('#', `Fatal error, can't open config file '${resolve(file)}': ${errText(e)}`);
        process.exit(1);
      }
      cfg.file = resolve(file);
      applyConfigText(cfg, text, cfg.file);
    }
    if (stdin) {
      earlyLog('#', 'Reading config from stdin');
      stdinText = readFileSync(0, 'latin1');
      applyConfigText(cfg, stdinText, '(stdin)');
    }
    if (options !== '') applyConfigText(cfg, options, '(command line)');
    if (reexecForHeap(cfg.num('maxmemory'), argv, stdinText)) return;
    ownProcessDir(); // this server owns the working directory: it chdirs into dir, and again on CONFIG SET dir
    const dir = cfg.get('dir');
    if (dir !== '') {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`Can't chdir to '${dir}': No such file or directory`);
      process.chdir(dir);
    }
    server = new Server(cfg);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  const log = server.log;
  log.role = 'C';
  log.notice('oO0OoO0OoO0Oo Vireo is starting oO0OoO0OoO0Oo');
  log.notice(`Vireo version=${VIREO_VERSION}, valkey-compat=${VALKEY_COMPAT_VERSION}, node=${process.versions.node}, bits=64, pid=${process.pid}, just started`);
  if (cfg.file === null) log.warning('Warning: no config file specified, using the default config. In order to specify a config file use vireo-server /path/to/valkey.conf');
  else log.notice(`Configuration loaded`);
  log.role = 'M';
  try {
    await server.start();
  } catch (e) {
    log.warning((e as Error).message);
    process.exit(1);
  }
  const pidfile = cfg.get('pidfile');
  if (pidfile !== '') {
    try {
      writeFileSync(pidfile, `${process.pid}\n`);
    } catch (e) {
      log.warning(`Failed to write PID file: ${(e as Error).message}`);
    }
  }
  log.notice(`Running mode=${server.cluster !== null ? "cluster" : "standalone"}, port=${server.port}.`);
  log.notice('Server initialized');
  log.notice('Ready to accept connections tcp');

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.warning(why);
    log.notice('User requested shutdown...');
    await server.close();
    if (pidfile !== '') {
      try {
        unlinkSync(pidfile);
      } catch {
        /* already gone */
      }
    }
    log.warning('Vireo is now ready to exit, bye bye...');
    setTimeout(() => process.exit(0), 50).unref();
  };
  server.onShutdown = () => void shutdown('Received SHUTDOWN, scheduling shutdown...');
  process.on('SIGTERM', () => void shutdown('Received SIGTERM scheduling shutdown...'));
  process.on('SIGINT', () => void shutdown('Received SIGINT scheduling shutdown...'));
}
