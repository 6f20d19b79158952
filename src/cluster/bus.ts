// The cluster bus wire format (Valkey's clusterMsg, protocol version 1): a fixed
// 2256-byte header, then per type: gossip sections (104 bytes each) and ping
// extensions for PING/PONG/MEET, a node name for FAIL, channel and message for
// PUBLISH(SHARD), config epoch + name + slot bitmap for UPDATE. Integers are big
// endian. Light headers (type | 0x8000) are never sent by Vireo, since it never
// advertises support for them, and are skipped if received.
export const MSG = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  AUTH_REQ: 5,
  AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
} as const;
export const MSG_TYPE_NAMES = ['ping', 'pong', 'meet', 'fail', 'publish', 'auth-req', 'auth-ack', 'update', 'mfstart', 'module', 'publishshard'];

/** Node flags (clusterNode.flags, also on the wire). */
export const NF = {
  MASTER: 1,
  SLAVE: 2,
  PFAIL: 4,
  FAIL: 8,
  MYSELF: 16,
  HANDSHAKE: 32,
  NOADDR: 64,
  MEET: 128,
  MIGRATE_TO: 256,
  NOFAILOVER: 512,
} as const;

export const HDR_LEN = 2256;
export const GOSSIP_LEN = 104;
export const NAMELEN = 40;
const IPLEN = 46;
const FLAG0_EXT_DATA = 4;
export const EXT_HOSTNAME = 0;
export const EXT_HUMAN_NODENAME = 1;
export const EXT_FORGOTTEN_NODE = 2;
export const EXT_SHARDID = 3;

export interface GossipEntry {
  name: string;
  pingSent: number;
  pongReceived: number;
  ip: string;
  port: number;
  cport: number;
  flags: number;
  pport: number;
}

/** A decoded bus message: the fixed header (HeaderFields, declared below) and what follows it. */
export interface BusMessage extends HeaderFields {
  count: number;
  gossip: GossipEntry[];
  hostname: string | null;
  humanNodename: string | null;
  shardId: string | null;
  forgotten: { name: string; ttl: number }[];
  /** FAIL: the failing node; UPDATE: the slot owner. */
  about: string | null;
  /** UPDATE */
  updateEpoch: bigint;
  updateSlots: Uint8Array | null;
  /** PUBLISH / PUBLISHSHARD */
  channel: Buffer | null;
  message: Buffer | null;
}

const ZERO_NAME = '\0'.repeat(NAMELEN);

function readStr(b: Buffer, off: number, len: number): string {
  let end = off;
  const lim = off + len;
  while (end < lim && b[end] !== 0) end++;
  return b.latin1Slice(off, end);
}

function writeStr(b: Buffer, off: number, len: number, s: string): void {
  b.fill(0, off, off + len);
  b.latin1Write(s.slice(0, len), off);
}

export interface HeaderFields {
  type: number;
  port: number;
  currentEpoch: bigint;
  configEpoch: bigint;
  offset: bigint;
  sender: string;
  slots: Uint8Array;
  replicaOf: string | null;
  myip: string;
  pport: number;
  cport: number;
  flags: number;
  state: number;
  mflags0: number;
}

/** Writes the fixed header (totlen/count/extensions are set by the callers). */
function writeHeader(b: Buffer, h: HeaderFields, totlen: number, count: number, extensions: number): void {
  b.latin1Write('RCmb', 0);
  b.writeUInt32BE(totlen, 4);
  b.writeUInt16BE(1, 8);
  b.writeUInt16BE(h.port, 10);
  b.writeUInt16BE(h.type, 12);
  b.writeUInt16BE(count, 14);
  b.writeBigUInt64BE(h.currentEpoch, 16);
  b.writeBigUInt64BE(h.configEpoch, 24);
  b.writeBigUInt64BE(h.offset, 32);
  writeStr(b, 40, NAMELEN, h.sender);
  Buffer.from(h.slots.buffer, h.slots.byteOffset, 2048).copy(b, 80);
  writeStr(b, 2128, NAMELEN, h.replicaOf ?? '');
  writeStr(b, 2168, IPLEN, h.myip);
  b.writeUInt16BE(extensions, 2214);
  b.writeUInt16BE(h.pport, 2246);
  b.writeUInt16BE(h.cport, 2248);
  b.writeUInt16BE(h.flags, 2250);
  b[2252] = h.state;
  b[2253] = h.mflags0 | (extensions > 0 ? FLAG0_EXT_DATA : 0);
}

function extLen(payload: number): number {
  return 8 + Math.ceil(payload / 8) * 8;
}

/** A PING, PONG or MEET message with gossip sections and the hostname / shard id extensions. */
export function encodePing(
  h: HeaderFields,
  gossip: GossipEntry[],
  hostname: string,
  humanNodename: string,
  shardId: string,
  forgotten: { name: string; ttl: number }[] = [],
): Buffer {
  const exts: [number, Buffer][] = [];
  if (hostname !== '') exts.push([EXT_HOSTNAME, Buffer.from(hostname + '\0', 'latin1')]);
  if (humanNodename !== '') exts.push([EXT_HUMAN_NODENAME, Buffer.from(humanNodename + '\0', 'latin1')]);
  for (const f of forgotten) {
    // A forgotten node (CLUSTER FORGET) and the seconds it stays banned.
    const p = Buffer.alloc(NAMELEN + 8);
    p.latin1Write(f.name, 0);
    p.writeBigUInt64BE(BigInt(f.ttl), NAMELEN);
    exts.push([EXT_FORGOTTEN_NODE, p]);
  }
  exts.push([EXT_SHARDID, Buffer.from(shardId, 'latin1')]);
  let total = HDR_LEN + gossip.length * GOSSIP_LEN;
  for (const [, p] of exts) total += extLen(p.length);
  const b = Buffer.alloc(total);
  writeHeader(b, h, total, gossip.length, exts.length);
  let off = HDR_LEN;
  for (const g of gossip) {
    writeStr(b, off, NAMELEN, g.name);
    b.writeUInt32BE(Math.floor(g.pingSent / 1000) >>> 0, off + 40);
    b.writeUInt32BE(Math.floor(g.pongReceived / 1000) >>> 0, off + 44);
    writeStr(b, off + 48, IPLEN, g.ip);
    b.writeUInt16BE(g.port, off + 94);
    b.writeUInt16BE(g.cport, off + 96);
    b.writeUInt16BE(g.flags, off + 98);
    b.writeUInt16BE(g.pport, off + 100);
    off += GOSSIP_LEN;
  }
  for (const [type, p] of exts) {
    const len = extLen(p.length);
    b.writeUInt32BE(len, off);
    b.writeUInt16BE(type, off + 4);
    p.copy(b, off + 8);
    off += len;
  }
  return b;
}

export function encodeFail(h: HeaderFields, name: string): Buffer {
  const total = HDR_LEN + NAMELEN;
  const b = Buffer.alloc(total);
  writeHeader(b, h, total, 0, 0);
  writeStr(b, HDR_LEN, NAMELEN, name);
  return b;
}

export function encodeUpdate(h: HeaderFields, name: string, configEpoch: bigint, slots: Uint8Array): Buffer {
  const total = HDR_LEN + 8 + NAMELEN + 2048;
  const b = Buffer.alloc(total);
  writeHeader(b, h, total, 0, 0);
  b.writeBigUInt64BE(configEpoch, HDR_LEN);
  writeStr(b, HDR_LEN + 8, NAMELEN, name);
  Buffer.from(slots.buffer, slots.byteOffset, 2048).copy(b, HDR_LEN + 48);
  return b;
}

export function encodePublish(h: HeaderFields, channel: Buffer, message: Buffer): Buffer {
  // The publish body: the two lengths, then channel and message bytes.
  const total = HDR_LEN + 8 + channel.length + message.length;
  const b = Buffer.alloc(total);
  writeHeader(b, h, total, 0, 0);
  b.writeUInt32BE(channel.length, HDR_LEN);
  b.writeUInt32BE(message.length, HDR_LEN + 4);
  channel.copy(b, HDR_LEN + 8);
  message.copy(b, HDR_LEN + 8 + channel.length);
  return b;
}

/** Header-only messages (FAILOVER_AUTH_REQUEST/ACK, MFSTART). */
export function encodeEmpty(h: HeaderFields): Buffer {
  const b = Buffer.alloc(HDR_LEN);
  writeHeader(b, h, HDR_LEN, 0, 0);
  return b;
}

/** Parses and validates one whole message; null if it is malformed (Valkey drops the link then). */
export function decode(b: Buffer): BusMessage | null {
  if (b.length < 16 || b.latin1Slice(0, 4) !== 'RCmb') return null;
  const totlen = b.readUInt32BE(4);
  if (totlen !== b.length) return null;
  const type = b.readUInt16BE(12);
  if ((type & 0x8000) !== 0) return null;
  if (b.length < HDR_LEN) return null;
  if (b.readUInt16BE(8) !== 1) return null;
  const count = b.readUInt16BE(14);
  const replicaOf = readStr(b, 2128, NAMELEN);
  const m: BusMessage = {
    type,
    port: b.readUInt16BE(10),
    count,
    currentEpoch: b.readBigUInt64BE(16),
    configEpoch: b.readBigUInt64BE(24),
    offset: b.readBigUInt64BE(32),
    sender: b.latin1Slice(40, 80),
    slots: new Uint8Array(b.subarray(80, 2128)),
    replicaOf: replicaOf === '' || b.latin1Slice(2128, 2168) === ZERO_NAME ? null : b.latin1Slice(2128, 2168),
    myip: readStr(b, 2168, IPLEN),
    pport: b.readUInt16BE(2246),
    cport: b.readUInt16BE(2248),
    flags: b.readUInt16BE(2250),
    state: b[2252],
    mflags0: b[2253],
    gossip: [],
    hostname: null,
    humanNodename: null,
    shardId: null,
    forgotten: [],
    about: null,
    updateEpoch: 0n,
    updateSlots: null,
    channel: null,
    message: null,
  };
  const extensions = b.readUInt16BE(2214);
  if (type === MSG.PING || type === MSG.PONG || type === MSG.MEET) {
    let off = HDR_LEN;
    if (off + count * GOSSIP_LEN > b.length) return null;
    for (let i = 0; i < count; i++) {
      m.gossip.push({
        name: b.latin1Slice(off, off + NAMELEN),
        pingSent: b.readUInt32BE(off + 40) * 1000,
        pongReceived: b.readUInt32BE(off + 44) * 1000,
        ip: readStr(b, off + 48, IPLEN),
        port: b.readUInt16BE(off + 94),
        cport: b.readUInt16BE(off + 96),
        flags: b.readUInt16BE(off + 98),
        pport: b.readUInt16BE(off + 100),
      });
      off += GOSSIP_LEN;
    }
    if ((m.mflags0 & FLAG0_EXT_DATA) !== 0) {
      for (let i = 0; i < extensions; i++) {
        if (off + 8 > b.length) return null;
        const len = b.readUInt32BE(off);
        const et = b.readUInt16BE(off + 4);
        if (len < 8 || len % 8 !== 0 || off + len > b.length) return null;
        const body = off + 8;
        if (et === EXT_HOSTNAME) m.hostname = readStr(b, body, len - 8);
        else if (et === EXT_HUMAN_NODENAME) m.humanNodename = readStr(b, body, len - 8);
        else if (et === EXT_SHARDID && len - 8 >= NAMELEN) m.shardId = b.latin1Slice(body, body + NAMELEN);
        else if (et === EXT_FORGOTTEN_NODE && len - 8 >= NAMELEN + 8) {
          m.forgotten.push({ name: b.latin1Slice(body, body + NAMELEN), ttl: Number(b.readBigUInt64BE(body + NAMELEN)) });
        }
        off += len;
      }
    }
    if (off !== b.length) return null;
  } else if (type === MSG.FAIL) {
    if (b.length !== HDR_LEN + NAMELEN) return null;
    m.about = b.latin1Slice(HDR_LEN, HDR_LEN + NAMELEN);
  } else if (type === MSG.UPDATE) {
    if (b.length !== HDR_LEN + 8 + NAMELEN + 2048) return null;
    m.updateEpoch = b.readBigUInt64BE(HDR_LEN);
    m.about = b.latin1Slice(HDR_LEN + 8, HDR_LEN + 48);
    m.updateSlots = new Uint8Array(b.subarray(HDR_LEN + 48, HDR_LEN + 48 + 2048));
  } else if (type === MSG.PUBLISH || type === MSG.PUBLISHSHARD) {
    if (b.length < HDR_LEN + 8) return null;
    const cl = b.readUInt32BE(HDR_LEN);
    const ml = b.readUInt32BE(HDR_LEN + 4);
    if (HDR_LEN + 8 + cl + ml !== b.length) return null;
    m.channel = Buffer.from(b.subarray(HDR_LEN + 8, HDR_LEN + 8 + cl));
    m.message = Buffer.from(b.subarray(HDR_LEN + 8 + cl, HDR_LEN + 8 + cl + ml));
  }
  return m;
}
