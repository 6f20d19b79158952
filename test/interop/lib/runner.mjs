// Runs parsed corpus files against a redis-server / vireo-server pair over raw
// RESP connections and compares the replies (see corpus.mjs for directives).
import { RawConn } from '../../helpers/resp.mjs';
import { escapeRaw, unescapeRaw } from './split.mjs';
import { tryParse, shapeOf, sortedRaw, bulkArray } from './resp-tree.mjs';

const REPLY_TIMEOUT_MS = 3000;

/** One side of the comparison: a server handle plus its current connection. */
class Side {
  constructor(name, getServer) {
    this.name = name;
    this.getServer = getServer;
    this.conn = null;
  }

  async connect(proto) {
    if (this.conn) this.conn.close();
    this.conn = await RawConn.connect((await this.getServer()).port);
    this.helloReply = null;
    if (proto === 3) this.helloReply = await this.call(['HELLO', '3']);
  }

  /** Sends argv and returns the raw reply, or a marker string starting with '<'. */
  async call(argv) {
    this.conn.send(...argv);
    return this.read();
  }

  async read() {
    try {
      const r = await this.conn.readReply(REPLY_TIMEOUT_MS);
      return r === null ? '<connection closed>' : r;
    } catch (e) {
      return `<timeout: ${e.message.slice(0, 120)}>`;
    }
  }

  close() {
    if (this.conn) this.conn.close();
    this.conn = null;
  }
}

const isMarker = (r) => typeof r === 'string' && r.startsWith('<');

/** Follows a SCAN cursor to 0; returns a synthetic reply: cursor 0 and sorted unique keys. */
async function scanAll(side, argv) {
  const keys = new Set();
  let cursor = argv[1];
  for (let rounds = 0; rounds < 10000; rounds++) {
    const a = argv.slice();
    a[1] = cursor;
    const r = await side.call(a);
    if (isMarker(r)) return r;
    const node = tryParse(r);
    if (!node || node.t !== '*' || !node.children || node.children.length !== 2) return r;
    for (const k of node.children[1].children ?? []) keys.add(k.body);
    cursor = node.children[0].body;
    if (cursor === '0') break;
  }
  return `*2\r\n$1\r\n0\r\n` + bulkArray([...keys].sort());
}

/** Sends ECHO token and reads until its reply; returns the replies before it, or null. */
async function resync(side, token) {
  const want = `$${token.length}\r\n${token}\r\n`;
  side.conn.send('ECHO', token);
  const extra = [];
  for (let i = 0; i < 20; i++) {
    let r;
    try {
      r = await side.conn.readReply(1000);
    } catch {
      return null;
    }
    if (r === null) return null;
    if (r === want) return extra;
    extra.push(r);
  }
  return null;
}

/** Compares two raw replies under the line's directives. Returns null when equal, else a reason. */
export function compareReplies(redis, vireo, dirs, proto) {
  const expect = (proto === 3 && dirs.expect3) || dirs.expect;
  if (expect) {
    return vireo === expect.raw ? null : `vireo reply differs from the pinned Valkey 8 reply (${expect.id}): expected ${escapeRaw(expect.raw)}`;
  }
  if (isMarker(vireo) || isMarker(redis)) return 'no reply';
  const rn = tryParse(redis);
  const vn = tryParse(vireo);
  if (!vn) return 'vireo reply is not well-formed RESP';
  if (dirs.any) return null;
  if (dirs.range) {
    const [lo, hi] = dirs.range;
    const inRange = (n) => n && n.t === ':' && Number(n.head) >= lo && Number(n.head) <= hi;
    if (!inRange(rn)) return `redis reply not an integer in [${lo}, ${hi}]`;
    return inRange(vn) ? null : `integer in [${lo}, ${hi}] expected`;
  }
  if (dirs['type-only']) return redis[0] === vireo[0] ? null : `type differs (${redis[0]} vs ${vireo[0]})`;
  if (dirs['ignore-value']) {
    const a = shapeOf(rn);
    const b = shapeOf(vn);
    return a === b ? null : `shape differs: ${a} vs ${b}`;
  }
  if (dirs.sort) return sortedRaw(rn) === sortedRaw(vn) ? null : 'sorted elements differ';
  return redis === vireo ? null : 'raw bytes differ';
}

/**
 * Runs one file in one protocol pass.
 * servers: { redis: () => handle, vireo: () => handle, vireoAlive: () => bool, restartVireo: async () => void }
 */
export async function runFile(file, proto, servers, log = () => {}) {
  const redis = new Side('redis', servers.redis);
  const vireo = new Side('vireo', servers.vireo);
  const result = { file: file.path, proto, compared: 0, skipped: 0, mismatches: [] };
  const note = (step, what, r, v, extra = {}) => {
    result.mismatches.push({ file: file.path, line: step.line, proto, command: step.text, reason: what, redis: r, vireo: v, ...extra });
  };
  const reconnect = async () => {
    if (!servers.vireoAlive()) {
      note({ line: 0, text: '(server)' }, 'vireo-server process died', '', servers.vireoOutput().slice(-2000));
      await servers.restartVireo();
    }
    await redis.connect(proto);
    await vireo.connect(proto);
  };
  try {
    await redis.connect(proto);
    await vireo.connect(proto);
    if (proto === 3) {
      const why = compareReplies(redis.helloReply, vireo.helloReply, { 'ignore-value': true }, 3);
      if (why) note({ line: 0, text: 'HELLO 3' }, why, redis.helloReply, vireo.helloReply);
    }
    const flushR = await redis.call(['FLUSHALL']);
    if (flushR !== '+OK\r\n') throw new Error(`FLUSHALL on redis replied ${escapeRaw(flushR)}`);
    const flushV = await vireo.call(['FLUSHALL']);
    if (flushV !== '+OK\r\n') {
      // Without a working FLUSHALL a fresh server is the only clean slate.
      note({ line: 0, text: 'FLUSHALL' }, 'FLUSHALL failed; restarted vireo-server instead', flushR, flushV);
      await servers.restartVireo();
      await vireo.connect(proto);
    }
    for (const step of file.steps) {
      if (step.kind === 'sleep') {
        await new Promise((r) => setTimeout(r, step.ms));
        continue;
      }
      const d = step.dirs;
      if ((d['resp2-only'] && proto !== 2) || (d['resp3-only'] && proto !== 3)) {
        result.skipped++;
        continue;
      }
      let r;
      let v;
      if (d['scan-all']) {
        [r, v] = await Promise.all([scanAll(redis, step.args), scanAll(vireo, step.args)]);
      } else {
        const send = (side) => {
          if (d.inline) side.conn.write(Buffer.from(`${step.raw}\r\n`, 'latin1'));
          else if (d.raw) side.conn.write(Buffer.from(unescapeRaw(step.text), 'latin1'));
          else side.conn.send(...step.args);
        };
        send(redis);
        send(vireo);
        if (d['no-reply']) {
          result.compared++;
          continue;
        }
        [r, v] = await Promise.all([redis.read(), vireo.read()]);
      }
      result.compared++;
      const why = compareReplies(r, v, d, proto);
      let resynced = true;
      if (why) {
        note(step, why, r, v);
        log(formatMismatch(result.mismatches.at(-1)));
        // An extra or missing reply would shift every later comparison: use a
        // sentinel to bring both streams back in step, and record any extra
        // replies that show up before it.
        if (!isMarker(r) && !isMarker(v)) {
          const token = `__resync_${step.line}__`;
          const [xr, xv] = await Promise.all([resync(redis, token), resync(vireo, token)]);
          if (xr === null || xv === null) resynced = false;
          else if (xr.length || xv.length) {
            const m = result.mismatches.at(-1);
            m.reason += `; replies out of step (redis had ${xr.length} extra, vireo ${xv.length})`;
            if (xr.length) m.redisExtra = xr;
            if (xv.length) m.vireoExtra = xv;
          }
        }
      }
      if (d.closes) {
        await Promise.all([redis.conn.waitClosed().catch(() => {}), vireo.conn.waitClosed().catch(() => {})]);
        if (!vireo.conn.closed) note(step, 'vireo did not close the connection', '', '');
        await reconnect();
      } else if (!resynced || isMarker(r) || isMarker(v) || !servers.vireoAlive()) {
        // Streams are out of step now: start over on new connections.
        await reconnect();
      }
    }
    // Nothing may be left unread: both must answer a final sentinel in step.
    const endR = await redis.call(['ECHO', '__end_of_file__']);
    const endV = await vireo.call(['ECHO', '__end_of_file__']);
    if (endR !== endV) note({ line: 'EOF', text: 'ECHO __end_of_file__' }, 'replies out of step at end of file', endR, endV);
  } finally {
    redis.close();
    vireo.close();
  }
  return result;
}

export function formatMismatch(m) {
  return [
    `MISMATCH ${m.file}:${m.line} [RESP${m.proto}] ${m.command}`,
    `  reason: ${m.reason}`,
    `  redis:  ${escapeRaw(m.redis)}`,
    `  vireo:  ${escapeRaw(m.vireo)}`,
    ...(m.redisExtra ? [`  redis extra: ${m.redisExtra.map(escapeRaw).join(' | ')}`] : []),
    ...(m.vireoExtra ? [`  vireo extra: ${m.vireoExtra.map(escapeRaw).join(' | ')}`] : []),
  ].join('\n');
}
