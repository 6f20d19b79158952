// Geospatial commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH,
// GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO variants.
//
// A geo index is a sorted set whose scores are 52-bit interleaved geohashes
// (src/data/geohash.ts), so GEOADD is ZADD with computed scores and every zset
// command works on geo keys. A search picks a cell size from the radius, scans
// the centre cell and its eight neighbours (each one contiguous score range),
// keeps the points inside the shape and sorts by distance when asked -- the
// same cells in the same order as Valkey, so unsorted results come out in the
// same order too.
//
// Replies follow Valkey 8: distances are bulk strings with 4 decimals (also in
// RESP3), coordinates are %.17Lf-style strings (RESP3 doubles), WITHHASH is
// the integer score.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { ZSet } from '../data/zset.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  ShapeType,
  cellScoreRange,
  decodeScore,
  distance,
  formatCoord,
  formatDistance,
  formatFixed,
  geoScore,
  geohashString,
  searchCells,
  withinShape,
  type GeoShape,
} from '../data/geohash.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_FLOAT, E_NOT_INT, E_SYNTAX } from './errors.js';
import { notifyKeyspaceEvent as notify, NOTIFY_GENERIC, NOTIFY_ZSET } from '../server/notify.js';
import { commands as zsetCommands, parseScore, readZSet } from './zset.js';

const E_MEMBER = 'ERR could not decode requested zset member';
const E_UNIT = 'ERR unsupported unit provided. please use M, KM, FT, MI';

/** strcasecmp against a lower-case word (C string semantics: stops at NUL). */
function tok(arg: string, lower: string): boolean {
  const i = arg.indexOf('\0');
  const s = i < 0 ? arg : arg.slice(0, i);
  return s.length === lower.length && s.toLowerCase() === lower;
}

/** getDoubleFromObject: a whole-string double; replies and returns null on error. */
function doubleOrReply(c: Client, s: string, msg?: string): number | null {
  const v = parseScore(s);
  if (v === null) {
    c.addError(msg !== undefined ? `ERR ${msg}` : E_NOT_FLOAT);
    return null;
  }
  return v;
}

/** extractLongLatOrReply. */
function lonLatOrReply(c: Client, argv: string[], i: number, out: number[]): boolean {
  const lon = doubleOrReply(c, argv[i]);
  if (lon === null) return false;
  const lat = doubleOrReply(c, argv[i + 1]);
  if (lat === null) return false;
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.addError(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return false;
  }
  out[0] = lon;
  out[1] = lat;
  return true;
}

/** extractUnitOrReply: meters per unit, or -1 after replying. */
function unitOrReply(c: Client, u: string): number {
  if (tok(u, 'm')) return 1;
  if (tok(u, 'km')) return 1000;
  if (tok(u, 'ft')) return 0.3048;
  if (tok(u, 'mi')) return 1609.34;
  c.addError(E_UNIT);
  return -1;
}


// ------------------------------------------------------------------ GEOADD

function geoadd(c: Client, argv: string[]): void {
  let xx = false;
  let nx = false;
  let longidx = 2;
  const argc = argv.length;
  while (longidx < argc) {
    const o = argv[longidx];
    if (tok(o, 'nx')) nx = true;
    else if (tok(o, 'xx')) xx = true;
    else if (!tok(o, 'ch')) break;
    longidx++;
  }
  if ((argc - longidx) % 3 !== 0 || (xx && nx)) {
    c.addError(E_SYNTAX);
    return;
  }
  const elements = (argc - longidx) / 3;
  const zargv = new Array<string>(longidx + elements * 2);
  zargv[0] = 'zadd';
  for (let i = 1; i < longidx; i++) zargv[i] = argv[i];
  const xy = [0, 0];
  for (let i = 0; i < elements; i++) {
    if (!lonLatOrReply(c, argv, longidx + i * 3, xy)) return;
    const score = geoScore(xy[0], xy[1]) ?? 0;
    zargv[longidx + i * 2] = String(score);
    zargv[longidx + i * 2 + 1] = argv[longidx + i * 3 + 2];
  }
  zsetCommands.zadd(c, zargv);
}

// ------------------------------------------------------------------ GEOPOS, GEODIST, GEOHASH

function geopos(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  c.addArrayLen(argv.length - 2);
  const xy = [0, 0];
  for (let j = 2; j < argv.length; j++) {
    const s = z === undefined ? undefined : z.score(argv[j]);
    if (s === undefined) {
      c.addNullArray();
      continue;
    }
    decodeScore(s, xy);
    c.addArrayLen(2);
    addCoord(c, xy[0]);
    addCoord(c, xy[1]);
  }
}

/** addReplyHumanLongDouble: bulk string in RESP2, double in RESP3. */
function addCoord(c: Client, x: number): void {
  const s = formatCoord(x);
  if (c.resp === 3) c.raw(',' + s + '\r\n');
  else c.addBulk(s);
}

function geodist(c: Client, argv: string[]): void {
  let toMeter = 1;
  if (argv.length === 5) {
    toMeter = unitOrReply(c, argv[4]);
    if (toMeter < 0) return;
  } else if (argv.length > 5) {
    c.addError(E_SYNTAX);
    return;
  }
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  if (z === undefined) {
    c.addNull();
    return;
  }
  const s1 = z.score(argv[2]);
  const s2 = s1 === undefined ? undefined : z.score(argv[3]);
  if (s1 === undefined || s2 === undefined) {
    c.addNull();
    return;
  }
  const a = decodeScore(s1);
  const b = decodeScore(s2);
  c.addBulk(formatDistance(distance(a[0], a[1], b[0], b[1]) / toMeter));
}

function geohash(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]);
  if (z === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const s = z === undefined ? undefined : z.score(argv[j]);
    if (s === undefined) c.addNull();
    else c.addBulk(geohashString(s));
  }
}

// ------------------------------------------------------------------ searches

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

interface GeoPoint {
  member: string;
  score: number;
  lon: number;
  lat: number;
  dist: number;
}

/** Points of the cells around the shape that lie within it, in scan order (limit 0: all). */
function collect(z: ZSet, shape: GeoShape, limit: number): GeoPoint[] {
  const out: GeoPoint[] = [];
  const cells = searchCells(shape);
  const xy = [0, 0];
  const dist = [0];
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const h = cells[i];
    if (h === null) continue;
    if (last !== 0) {
      const p = cells[last]!;
      if (p.lat === h.lat && p.lon === h.lon && p.step === h.step) continue;
    }
    if (out.length !== 0 && limit !== 0 && out.length >= limit) break;
    const [min, max] = cellScoreRange(h);
    const [lo, hi] = z.scoreRange(min, false, max, true);
    if (hi > lo) {
      let stop = false;
      // Walk rank by rank so a COUNT ... ANY search stops where Valkey stops.
      z.walk(lo, hi - lo, false, (m, s) => {
        if (stop) return;
        decodeScore(s, xy);
        if (withinShape(shape, xy[0], xy[1], dist)) {
          out.push({ member: m, score: s, lon: xy[0], lat: xy[1], dist: dist[0] });
        }
        if (out.length !== 0 && limit !== 0 && out.length >= limit) stop = true;
      });
    }
    last = i;
  }
  return out;
}

function georadiusGeneric(c: Client, argv: string[], srcKeyIndex: number, flags: number): void {
  const argc = argv.length;
  let storekey: string | null = null;
  let storedist = false;
  const z = readZSet(c, argv[srcKeyIndex]);
  if (z === null) return;

  const shape: GeoShape = { type: ShapeType.Circle, lon: 0, lat: 0, conversion: 0, radius: 0, width: 0, height: 0 };
  const xy = [0, 0];
  let baseArgs: number;
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    if (!lonLatOrReply(c, argv, 2, xy)) return;
    shape.lon = xy[0];
    shape.lat = xy[1];
    if (!distanceOrReply(c, argv, baseArgs - 2, shape)) return;
  } else if (flags & RADIUS_MEMBER && z === undefined) {
    baseArgs = 5;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    const s = z!.score(argv[2]);
    if (s === undefined) {
      c.addError(E_MEMBER);
      return;
    }
    decodeScore(s, xy);
    shape.lon = xy[0];
    shape.lat = xy[1];
    if (!distanceOrReply(c, argv, baseArgs - 2, shape)) return;
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storekey = argv[1];
    }
  }

  let withdist = false;
  let withhash = false;
  let withcoords = false;
  let frommember = false;
  let fromloc = false;
  let byradius = false;
  let bybox = false;
  let sort = SORT_NONE;
  let any = false;
  let count = 0;
  const remaining = argc - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const arg = argv[baseArgs + i];
    if (tok(arg, 'withdist')) withdist = true;
    else if (tok(arg, 'withhash')) withhash = true;
    else if (tok(arg, 'withcoord')) withcoords = true;
    else if (tok(arg, 'any')) any = true;
    else if (tok(arg, 'asc')) sort = SORT_ASC;
    else if (tok(arg, 'desc')) sort = SORT_DESC;
    else if (tok(arg, 'count') && i + 1 < remaining) {
      const v = parseInt64(argv[baseArgs + i + 1]);
      if (v === null) {
        c.addError(E_NOT_INT);
        return;
      }
      if (v <= 0) {
        c.addError('ERR COUNT must be > 0');
        return;
      }
      count = Number(v);
      i++;
    } else if (tok(arg, 'store') && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[baseArgs + i + 1];
      storedist = false;
      i++;
    } else if (tok(arg, 'storedist') && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[baseArgs + i + 1];
      storedist = true;
      i++;
    } else if (tok(arg, 'storedist') && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storedist = true;
    } else if (tok(arg, 'frommember') && i + 1 < remaining && flags & GEOSEARCH && !fromloc) {
      if (z === undefined) {
        frommember = true;
        i++;
        continue;
      }
      const s = z.score(argv[baseArgs + i + 1]);
      if (s === undefined) {
        c.addError(E_MEMBER);
        return;
      }
      decodeScore(s, xy);
      shape.lon = xy[0];
      shape.lat = xy[1];
      frommember = true;
      i++;
    } else if (tok(arg, 'fromlonlat') && i + 2 < remaining && flags & GEOSEARCH && !frommember) {
      if (!lonLatOrReply(c, argv, baseArgs + i + 1, xy)) return;
      shape.lon = xy[0];
      shape.lat = xy[1];
      fromloc = true;
      i += 2;
    } else if (tok(arg, 'byradius') && i + 2 < remaining && flags & GEOSEARCH && !bybox) {
      if (!distanceOrReply(c, argv, baseArgs + i + 1, shape)) return;
      shape.type = ShapeType.Circle;
      byradius = true;
      i += 2;
    } else if (tok(arg, 'bybox') && i + 3 < remaining && flags & GEOSEARCH && !byradius) {
      if (!boxOrReply(c, argv, baseArgs + i + 1, shape)) return;
      shape.type = ShapeType.Box;
      bybox = true;
      i += 3;
    } else {
      c.addError(E_SYNTAX);
      return;
    }
  }

  if (storekey !== null && (withdist || withhash || withcoords)) {
    c.addError(
      `ERR ${flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS'} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`,
    );
    return;
  }
  if (flags & GEOSEARCH && !(frommember || fromloc)) {
    c.addError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
    return;
  }
  if (flags & GEOSEARCH && !(byradius || bybox)) {
    c.addError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
    return;
  }
  if (any && count === 0) {
    c.addError('ERR the ANY argument requires COUNT argument');
    return;
  }

  if (z === undefined) {
    if (storekey !== null) {
      if (c.db.delete(storekey)) {
        c.server.dirty++;
        notify(c.server, NOTIFY_GENERIC, 'del', storekey, c.db.id);
      }
      c.addInt(0);
    } else {
      c.addEmptyArray();
    }
    return;
  }

  if (count !== 0 && sort === SORT_NONE && !any) sort = SORT_ASC;

  const ga = collect(z, shape, any ? count : 0);
  if (ga.length === 0 && storekey === null) {
    c.addEmptyArray();
    return;
  }
  const returned = count === 0 || ga.length < count ? ga.length : count;
  if (sort === SORT_ASC) ga.sort((a, b) => (a.dist > b.dist ? 1 : a.dist < b.dist ? -1 : 0));
  else if (sort === SORT_DESC) ga.sort((a, b) => (a.dist < b.dist ? 1 : a.dist > b.dist ? -1 : 0));

  if (storekey === null) {
    const options = (withdist ? 1 : 0) + (withhash ? 1 : 0) + (withcoords ? 1 : 0);
    c.addArrayLen(returned);
    for (let i = 0; i < returned; i++) {
      const gp = ga[i];
      if (options) c.addArrayLen(options + 1);
      c.addBulk(gp.member);
      if (withdist) c.addBulk(formatDistance(gp.dist / shape.conversion));
      if (withhash) c.addInt(gp.score);
      if (withcoords) {
        c.addArrayLen(2);
        addCoord(c, gp.lon);
        addCoord(c, gp.lat);
      }
    }
    return;
  }

  if (returned > 0) {
    const d = new Map<string, number>();
    let maxLen = 0;
    for (let i = 0; i < returned; i++) {
      const gp = ga[i];
      d.set(gp.member, storedist ? gp.dist / shape.conversion : gp.score);
      if (gp.member.length > maxLen) maxLen = gp.member.length;
    }
    const cfg = c.server.config;
    const compact = d.size <= cfg.num('zset-max-listpack-entries') && maxLen <= cfg.num('zset-max-listpack-value');
    c.db.set(storekey, ZSet.fromMap(d, compact));
    c.server.dirty += returned;
    notify(c.server, NOTIFY_ZSET, flags & GEOSEARCH ? 'geosearchstore' : 'georadiusstore', storekey, c.db.id);
  } else if (c.db.delete(storekey)) {
    c.server.dirty++;
    notify(c.server, NOTIFY_GENERIC, 'del', storekey, c.db.id);
  }
  c.addInt(returned);
}

/** extractDistanceOrReply: radius and unit at argv[i], argv[i+1]. */
function distanceOrReply(c: Client, argv: string[], i: number, shape: GeoShape): boolean {
  const d = doubleOrReply(c, argv[i], 'need numeric radius');
  if (d === null) return false;
  if (d < 0) {
    c.addError('ERR radius cannot be negative');
    return false;
  }
  shape.radius = d;
  const conv = unitOrReply(c, argv[i + 1]);
  if (conv < 0) return false;
  shape.conversion = conv;
  return true;
}

/** extractBoxOrReply: width, height and unit at argv[i..i+2]. */
function boxOrReply(c: Client, argv: string[], i: number, shape: GeoShape): boolean {
  const w = doubleOrReply(c, argv[i], 'need numeric width');
  if (w === null) return false;
  const h = doubleOrReply(c, argv[i + 1], 'need numeric height');
  if (h === null) return false;
  if (h < 0 || w < 0) {
    c.addError('ERR height or width cannot be negative');
    return false;
  }
  shape.width = w;
  shape.height = h;
  const conv = unitOrReply(c, argv[i + 2]);
  if (conv < 0) return false;
  shape.conversion = conv;
  return true;
}

function georadius(c: Client, argv: string[]): void {
  georadiusGeneric(c, argv, 1, RADIUS_COORDS);
}

function georadiusbymember(c: Client, argv: string[]): void {
  georadiusGeneric(c, argv, 1, RADIUS_MEMBER);
}

function georadius_ro(c: Client, argv: string[]): void {
  georadiusGeneric(c, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE);
}

function georadiusbymember_ro(c: Client, argv: string[]): void {
  georadiusGeneric(c, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE);
}

function geosearch(c: Client, argv: string[]): void {
  georadiusGeneric(c, argv, 1, GEOSEARCH);
}

function geosearchstore(c: Client, argv: string[]): void {
  georadiusGeneric(c, argv, 2, GEOSEARCH | GEOSEARCHSTORE);
}

export const commands: HandlerMap = {
  geoadd,
  geopos,
  geodist,
  geohash,
  georadius,
  georadiusbymember,
  georadius_ro,
  georadiusbymember_ro,
  geosearch,
  geosearchstore,
};
