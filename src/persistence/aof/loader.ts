// Loading one AOF file at start-up, resumable in time slices (the server
// listens meanwhile and answers -LOADING). The command part is read in chunks
// (never the whole file in memory): each chunk is parsed up to its last
// complete command, the incomplete tail is carried over to the next read.
// A base file in RDB form is loaded through the RDB module's sliced loader.
//
// Replay is Valkey's loadSingleAppendOnlyFile: commands run straight through
// their handlers on a fake client (no ACL, maxmemory, MISCONF or statistics);
// a MULTI block runs only once its EXEC is read (a truncated one is dropped).
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Server } from '../../server/server.js';
import type { Client } from '../../server/client.js';
import { clock } from '../../keyspace/db.js';
import { errText } from '../../config/config.js';
import { scanAof, ScanStatus } from './parse.js';

/** Bytes read from the file at a time (more when one command is bigger). */
const CHUNK = 256 * 1024;

/** A start-up failure: the server logs the message and exits with code 1. */
export class AofFatal extends Error {}

/** A sliced RDB load of a buffer (the RDB module's, see rdbPreamble in aof.ts). */
export interface RdbPartLoad {
  /** Loads for about budgetMs; true once the RDB part has been read. */
  step(budgetMs: number): boolean;
  /** Where the RDB part ends (valid once step returned true). */
  readonly end: number;
}

export type RdbPartLoader = (server: Server, buf: Buffer, file: string, progress: (offset: number) => void) => RdbPartLoad;

const truncatedMsg = (name: string): string =>
  `Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./vireo-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`;

class StopScan extends Error {}

export class AofFileLoader {
  private fd = -1;
  readonly size: number;
  /** Bytes of the file consumed (parsed or loaded); progress. */
  loaded = 0;
  private rdb: RdbPartLoad | null = null;
  /** File offset of the next read. */
  private readPos = 0;
  /** Bytes read but not parsed yet (an incomplete command), starting at file offset `base`. */
  private carry: Buffer | null = null;
  private base = 0;
  private readonly fake: Client;
  /** Commands of an open MULTI block, run at its EXEC. */
  private txn: string[][] | null = null;
  /** File offset of that MULTI. */
  private txnStart = 0;
  /** File offset just after the last complete command. */
  private validUpTo = 0;
  private fatal: Error | null = null;
  done = false;

  constructor(
    private readonly server: Server,
    private readonly path: string,
    private readonly name: string,
    private readonly last: boolean,
    private readonly rdbLoader: RdbPartLoader | null,
  ) {
    this.fd = fs.openSync(path, 'r');
    this.size = fs.fstatSync(this.fd).size;
    const fake = (this.fake = server.createFakeClient());
    fake.setAuthenticated(true);
    fake.denyBlocking = true;
    if (this.size === 0) {
      this.finish();
      return;
    }
    const head = Buffer.alloc(Math.min(9, this.size));
    fs.readSync(this.fd, head, 0, head.length, 0);
    const h = head.latin1Slice();
    if (h.startsWith('REDIS') || h.startsWith('VALKEY')) {
      if (this.rdbLoader === null) throw new AofFatal(`The AOF file ${name} starts with an RDB preamble, which this build of Vireo cannot read`);
      // The RDB part is read whole, as a dump.rdb is.
      const buf = fs.readFileSync(path);
      this.rdb = this.rdbLoader(server, buf, name, (off) => (this.loaded = off));
    }
  }

  /** Loads for about budgetMs (Infinity: to the end); true once the file is loaded. Throws AofFatal or the RDB error. */
  step(budgetMs: number): boolean {
    if (this.done) return true;
    const t0 = performance.now();
    try {
      if (this.rdb !== null) {
        if (!this.rdb.step(budgetMs)) return false;
        const end = this.rdb.end;
        this.rdb = null;
        this.loaded = this.readPos = this.base = this.validUpTo = end;
        if (end >= this.size) {
          this.finish();
          return true;
        }
        if (performance.now() - t0 >= budgetMs) return false;
      }
      for (;;) {
        if (this.readChunk()) return true;
        if (performance.now() - t0 >= budgetMs) return false;
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Reads and replays one chunk; true once the end of the file has been handled. */
  private readChunk(): boolean {
    const carry = this.carry;
    const want = Math.min(this.size - this.readPos, Math.max(CHUNK, carry !== null ? carry.length : 0));
    let buf: Buffer;
    if (want > 0) {
      const clen = carry !== null ? carry.length : 0;
      buf = Buffer.allocUnsafe(clen + want);
      if (carry !== null) carry.copy(buf, 0);
      let got = 0;
      while (got < want) {
        const n = fs.readSync(this.fd, buf, clen + got, want - got, this.readPos + got);
        if (n === 0) break;
        got += n;
      }
      this.readPos += got;
      buf = buf.subarray(0, clen + got);
      if (got < want) (this as { size: number }).size = this.readPos; // shrank meanwhile
    } else {
      buf = carry ?? Buffer.alloc(0);
    }
    const atEof = this.readPos >= this.size;
    const base = this.base;
    const res = scanAof(buf, 0, buf.length, (argv, off) => this.command(argv, base + off));
    if (this.fatal !== null) throw this.fatal;
    if (res.status === ScanStatus.Corrupt) {
      throw new AofFatal(
        `Bad file format reading the append only file ${this.name} at offset ${base + res.errorOffset}: make a backup of your AOF file, then use ./vireo-check-aof --fix <filename.manifest>`,
      );
    }
    this.validUpTo = base + res.validUpTo;
    this.loaded = this.validUpTo;
    if (res.status === ScanStatus.Truncated && !atEof) {
      this.carry = Buffer.from(buf.subarray(res.validUpTo));
      this.base = base + res.validUpTo;
      return false;
    }
    this.carry = null;
    this.base = base + buf.length;
    if (!atEof) return false;
    this.endOfFile(res.status === ScanStatus.Truncated);
    this.loaded = this.size;
    this.finish();
    return true;
  }

  private command(argv: string[], offset: number): void {
    if (this.fatal !== null) return;
    const a0 = argv[0];
    const n = a0.length === 5 || a0.length === 4 ? a0.toLowerCase() : '';
    if (n === 'multi') {
      if (this.txn !== null) {
        this.fatal = new AofFatal(
          `Bad file format reading the append only file ${this.name} at offset ${offset}: make a backup of your AOF file, then use ./vireo-check-aof --fix <filename.manifest>`,
        );
        return;
      }
      this.txn = [];
      this.txnStart = offset;
      return;
    }
    if (n === 'exec') {
      const t = this.txn;
      this.txn = null;
      if (t !== null) for (const a of t) this.run(a);
      return;
    }
    if (this.txn !== null) this.txn.push(argv);
    else this.run(argv);
  }

  private run(argv: string[]): void {
    if (this.fatal !== null) return;
    const server = this.server;
    let cmd = server.table.lookup(argv[0]);
    if (cmd !== undefined && cmd.subcommands !== null && argv.length >= 2) cmd = cmd.subcommands.get(argv[1].toLowerCase()) ?? cmd;
    if (cmd === undefined || cmd.handler === null) {
      this.fatal = new AofFatal(`Unknown command '${argv[0]}' reading the append only file ${this.name}`);
      return;
    }
    clock.update();
    server.callClock = performance.now();
    try {
      cmd.handler(this.fake, argv);
    } catch (e) {
      server.log.warning(`Error replaying '${cmd.fullname}' from the append only file ${this.name}: ${(e as Error).message}`);
    }
    this.fake.len = 0;
  }

  /** The end of the file: a truncated command or an unfinished MULTI block is a crash while appending. */
  private endOfFile(truncated: boolean): void {
    const log = this.server.log;
    if (!truncated && this.txn === null) return;
    let validUpTo = this.validUpTo;
    if (this.txn !== null) {
      if (!truncated) log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${this.name}`);
      validUpTo = this.txnStart;
      this.txn = null;
    }
    if (!this.last || !this.server.config.bool('aof-load-truncated')) throw new AofFatal(truncatedMsg(this.name));
    log.warning(`!!! Warning: short read while loading the AOF file ${this.name}!!!`);
    log.warning(`!!! Truncating the AOF ${this.name} at offset ${validUpTo} !!!`);
    try {
      fs.truncateSync(this.path, validUpTo);
    } catch (e) {
      throw new AofFatal(`Error truncating the AOF file ${this.name}: ${errText(e)}`);
    }
    log.warning(`AOF ${this.name} loaded anyway because aof-load-truncated is enabled`);
  }

  private finish(): void {
    this.done = true;
    this.close();
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* closed */
      }
      this.fd = -1;
    }
    this.carry = null;
  }
}
