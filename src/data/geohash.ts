// Geohash arithmetic for the GEO commands, written from the published
// algorithm: a longitude/latitude pair becomes two integer cell indexes (one
// per axis, `step` bits each) whose bits are interleaved -- latitude in the
// even bit positions, longitude in the odd ones. At step 26 that is a 52-bit
// integer, stored exactly as a sorted-set score, so a sorted set of such scores
// is ordered along a Z-order curve and every geohash cell of any step is one
// contiguous score range.
//
// Valkey's index uses the Web Mercator latitude limits (+/-85.05112878) for the
// latitude axis; GEOHASH strings re-encode with the standard [-90, 90] range.
// Everything here is plain double arithmetic in the same order as the C
// implementation, so scores, decoded coordinates, cell choices and distances
// agree bit for bit with Valkey's.
//
// Pure data: no I/O, no replies.

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;

/** Earth radius used by Valkey's haversine, in meters. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;
const TWO32 = 4294967296;

export function degRad(ang: number): number {
  return ang * D_R;
}

export function radDeg(ang: number): number {
  return ang / D_R;
}

/** Spreads the low 16 bits of v into the even bit positions of a 32-bit value. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit value into a 16-bit value. */
function squash32(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/**
 * Interleaves two unsigned 32-bit values (x in even bits, y in odd bits) into
 * a 64-bit value, returned as a double (exact up to 2^53; above that rounded
 * to nearest, which is how Valkey's decimal score string parses too).
 */
export function interleave(x: number, y: number): number {
  x >>>= 0;
  y >>>= 0;
  const lo = (spread16(x) | (spread16(y) << 1)) >>> 0;
  const hi = (spread16(x >>> 16) | (spread16(y >>> 16) << 1)) >>> 0;
  return hi * TWO32 + lo;
}

/** The two 32-bit halves of an integral double score in [0, 2^64), as C's (uint64_t) cast. */
function toU64Halves(score: number): [number, number] {
  if (!(score >= 1)) return [0, 0]; // negative, NaN, or < 1 truncate to 0 here
  if (score >= 18446744073709551616) {
    // Out of range for uint64: x86 conversion yields 2^63.
    return [0x80000000, 0];
  }
  const t = Math.floor(score);
  const hi = Math.floor(t / TWO32);
  const lo = t - hi * TWO32;
  return [hi >>> 0, lo >>> 0];
}

/** Splits interleaved bits into [even bits (latitude), odd bits (longitude)] as 32-bit values. */
export function deinterleave(score: number): [number, number] {
  const [hi, lo] = toU64Halves(score);
  const lat = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
  const lon = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
  return [lat, lon];
}

/** A geohash cell: per-axis cell indexes at a step (bits per axis). */
export interface GeoHash {
  lat: number;
  lon: number;
  step: number;
}

export interface GeoArea {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/**
 * Encodes a point at `step` bits per axis within the given ranges; null when
 * the point is outside the index limits or the ranges.
 */
export function encode(
  lonMin: number,
  lonMax: number,
  latMin: number,
  latMax: number,
  longitude: number,
  latitude: number,
  step: number,
): GeoHash | null {
  if (longitude > 180 || longitude < -180 || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return null;
  if (latitude < latMin || latitude > latMax || longitude < lonMin || longitude > lonMax) return null;
  let latOffset = (latitude - latMin) / (latMax - latMin);
  let lonOffset = (longitude - lonMin) / (lonMax - lonMin);
  const scale = Math.pow(2, step);
  latOffset *= scale;
  lonOffset *= scale;
  // C converts the offsets to uint32_t (truncation toward zero).
  return { lat: Math.trunc(latOffset) >>> 0, lon: Math.trunc(lonOffset) >>> 0, step };
}

export function encodeWGS84(longitude: number, latitude: number, step: number): GeoHash | null {
  return encode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, longitude, latitude, step);
}

/** The interleaved bits of a cell (not aligned). */
export function hashBits(h: GeoHash): number {
  return interleave(h.lat, h.lon);
}

/** The cell's bits shifted to the 52-bit score scale. */
export function align52(bits: number, step: number): number {
  return bits * Math.pow(2, 52 - step * 2);
}

/** The 52-bit score GEOADD stores for a point, or null when it is out of range. */
export function geoScore(longitude: number, latitude: number): number | null {
  const h = encodeWGS84(longitude, latitude, GEO_STEP_MAX);
  if (h === null) return null;
  return align52(hashBits(h), GEO_STEP_MAX);
}

/** The area of a cell within the given ranges. */
export function decodeArea(lonMin: number, lonMax: number, latMin: number, latMax: number, h: GeoHash): GeoArea {
  const latScale = latMax - latMin;
  const lonScale = lonMax - lonMin;
  const div = Math.pow(2, h.step);
  const ilat = h.lat;
  const ilon = h.lon;
  return {
    latMin: latMin + ((ilat * 1.0) / div) * latScale,
    latMax: latMin + ((((ilat + 1) >>> 0) * 1.0) / div) * latScale,
    lonMin: lonMin + ((ilon * 1.0) / div) * lonScale,
    lonMax: lonMin + ((((ilon + 1) >>> 0) * 1.0) / div) * lonScale,
  };
}

export function decodeAreaWGS84(h: GeoHash): GeoArea {
  return decodeArea(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, h);
}

/** Decodes a stored score into [longitude, latitude] (cell centre, clamped to the limits). */
export function decodeScore(score: number, out: number[] = [0, 0]): number[] {
  const [lat, lon] = deinterleave(score);
  const a = decodeAreaWGS84({ lat, lon, step: GEO_STEP_MAX });
  let x = (a.lonMin + a.lonMax) / 2;
  if (x > GEO_LONG_MAX) x = GEO_LONG_MAX;
  if (x < GEO_LONG_MIN) x = GEO_LONG_MIN;
  let y = (a.latMin + a.latMax) / 2;
  if (y > GEO_LAT_MAX) y = GEO_LAT_MAX;
  if (y < GEO_LAT_MIN) y = GEO_LAT_MIN;
  out[0] = x;
  out[1] = y;
  return out;
}

const BASE32 = '0123456789bcdefghjkmnpqrstuvwxyz';

/** The 11-character standard geohash string of a stored score (GEOHASH). */
export function geohashString(score: number): string {
  const xy = decodeScore(score);
  const h = encode(-180, 180, -90, 90, xy[0], xy[1], GEO_STEP_MAX);
  if (h === null) return '00000000000';
  const bits = hashBits(h);
  // 52 bits: the top 10 groups of five, then a zero group.
  const hi = Math.floor(bits / TWO32) >>> 0; // upper 20 bits (and any overflow)
  const lo = (bits - Math.floor(bits / TWO32) * TWO32) >>> 0;
  let s = '';
  for (let i = 0; i < 10; i++) {
    const shift = 52 - (i + 1) * 5; // 47 .. 2
    let idx: number;
    if (shift >= 32) idx = (hi >>> (shift - 32)) & 0x1f;
    else if (shift + 5 <= 32) idx = (lo >>> shift) & 0x1f;
    else idx = ((lo >>> shift) | (hi << (32 - shift))) & 0x1f;
    s += BASE32[idx];
  }
  return s + '0';
}

// ------------------------------------------------------------------ distances

/** Distance along a meridian between two latitudes, in meters. */
export function latDistance(lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2d) - degRad(lat1d));
}

/** Haversine great-circle distance in meters. */
export function distance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d);
  const lon2r = degRad(lon2d);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1d, lat2d);
  const lat1r = degRad(lat1d);
  const lat2r = degRad(lat2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

// ------------------------------------------------------------------ search areas

export const enum ShapeType {
  Circle = 1,
  Box = 2,
}

export interface GeoShape {
  type: ShapeType;
  /** Centre. */
  lon: number;
  lat: number;
  /** Meters per unit. */
  conversion: number;
  radius: number;
  width: number;
  height: number;
}

/**
 * Whether a point lies within the shape; on success the distance from the
 * centre (meters) is left in `distOut[0]`.
 */
export function withinShape(shape: GeoShape, lon: number, lat: number, distOut: number[]): boolean {
  if (shape.type === ShapeType.Circle) {
    const d = distance(shape.lon, shape.lat, lon, lat);
    if (d > shape.radius * shape.conversion) return false;
    distOut[0] = d;
    return true;
  }
  const widthM = shape.width * shape.conversion;
  const heightM = shape.height * shape.conversion;
  const latD = latDistance(lat, shape.lat);
  if (latD > heightM / 2) return false;
  const lonD = distance(lon, lat, shape.lon, lat);
  if (lonD > widthM / 2) return false;
  distOut[0] = distance(shape.lon, shape.lat, lon, lat);
  return true;
}

/** [minLon, minLat, maxLon, maxLat] around the shape. */
function boundingBox(shape: GeoShape): [number, number, number, number] {
  const lon = shape.lon;
  const lat = shape.lat;
  const isCircle = shape.type === ShapeType.Circle;
  const height = shape.conversion * (isCircle ? shape.radius : shape.height / 2);
  const width = shape.conversion * (isCircle ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(lat - latDelta)));
  const south = lat < 0;
  return [
    south ? lon - lonDeltaBottom : lon - lonDeltaTop,
    lat - latDelta,
    south ? lon + lonDeltaBottom : lon + lonDeltaTop,
    lat + latDelta,
  ];
}

/** How many bits per axis give cells about as large as the search radius. */
export function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** The cell moved by dx, dy cells (wrapping on each axis, as Valkey's bit arithmetic does). */
function moved(h: GeoHash, dx: number, dy: number): GeoHash {
  const mask = Math.pow(2, h.step) - 1;
  let lon = h.lon;
  let lat = h.lat;
  if (dx !== 0) lon = (lon + dx) & mask;
  if (dy !== 0) lat = (lat + dy) & mask;
  return { lat: lat >>> 0, lon: lon >>> 0, step: h.step };
}

/**
 * The cells to scan for a search, in Valkey's order: centre, north, south,
 * east, west, north-east, north-west, south-east, south-west. A null entry is
 * a neighbour that cannot hold matches and is skipped.
 */
export function searchCells(shape: GeoShape): (GeoHash | null)[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  const radiusMeters =
    (shape.type === ShapeType.Circle
      ? shape.radius
      : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))) * shape.conversion;
  let steps = estimateSteps(radiusMeters, shape.lat);
  let hash = encodeWGS84(shape.lon, shape.lat, steps) ?? { lat: 0, lon: 0, step: steps };
  let n = neighbours(hash);
  let area = decodeAreaWGS84(hash);

  let decrease = false;
  {
    const north = decodeAreaWGS84(n[0]);
    const south = decodeAreaWGS84(n[1]);
    const east = decodeAreaWGS84(n[2]);
    const west = decodeAreaWGS84(n[3]);
    if (north.latMax < maxLat) decrease = true;
    if (south.latMin > minLat) decrease = true;
    if (east.lonMax < maxLon) decrease = true;
    if (west.lonMin > minLon) decrease = true;
  }
  if (steps > 1 && decrease) {
    steps--;
    hash = encodeWGS84(shape.lon, shape.lat, steps) ?? { lat: 0, lon: 0, step: steps };
    n = neighbours(hash);
    area = decodeAreaWGS84(hash);
  }
  // n: north, south, east, west, north_east, north_west, south_east, south_west
  const out: (GeoHash | null)[] = [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]];
  if (steps >= 2) {
    if (area.latMin < minLat) out[2] = out[8] = out[7] = null; // south, south_west, south_east
    if (area.latMax > maxLat) out[1] = out[5] = out[6] = null; // north, north_east, north_west
    if (area.lonMin < minLon) out[4] = out[8] = out[6] = null; // west, south_west, north_west
    if (area.lonMax > maxLon) out[3] = out[7] = out[5] = null; // east, south_east, north_east
  }
  return out;
}

/** north, south, east, west, north_east, north_west, south_east, south_west */
function neighbours(h: GeoHash): GeoHash[] {
  return [moved(h, 0, 1), moved(h, 0, -1), moved(h, 1, 0), moved(h, -1, 0), moved(h, 1, 1), moved(h, -1, 1), moved(h, 1, -1), moved(h, -1, -1)];
}

/** The score range [min, max) that holds every point of a cell. */
export function cellScoreRange(h: GeoHash): [number, number] {
  const bits = hashBits(h);
  return [align52(bits, h.step), align52(bits + 1, h.step)];
}

// ------------------------------------------------------------------ formatting

/** Exact value of a finite double rounded to `digits` decimals, half to even (C's %.Nf). */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? (Math.sign(x) < 0 ? '-nan' : 'nan') : x > 0 ? 'inf' : '-inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  // Decompose ax = mant * 2^exp exactly.
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, ax);
  const hiw = buf.getUint32(0);
  const low = buf.getUint32(4);
  const bexp = (hiw >>> 20) & 0x7ff;
  let mant = (BigInt(hiw & 0xfffff) << 32n) | BigInt(low);
  let exp: number;
  if (bexp === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = bexp - 1075;
  }
  const scaled = mant * 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) q = scaled << BigInt(exp);
  else {
    const sh = BigInt(-exp);
    q = scaled >> sh;
    const r = scaled - (q << sh);
    const half = 1n << (sh - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q += 1n;
  }
  let s = q.toString();
  if (digits > 0) {
    if (s.length <= digits) s = '0'.repeat(digits - s.length + 1) + s;
    s = s.slice(0, s.length - digits) + '.' + s.slice(s.length - digits);
  }
  return (neg ? '-' : '') + s;
}

/** Coordinates as Valkey prints them: %.17Lf with trailing zeros (and a bare dot) removed, "-0" as "0". */
export function formatCoord(x: number): string {
  let s = formatFixed(x, 17);
  if (s.indexOf('.') >= 0) {
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s.charCodeAt(end - 1) === 46) end--;
    s = s.slice(0, end);
  }
  if (s === '-0') s = '0';
  return s;
}

/** Distances as Valkey prints them: 4 decimals, the value scaled by 10^4 and rounded half to even (llrint). */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const v = d * 10000;
  let r = Math.round(v);
  if (Math.abs(v - Math.trunc(v)) === 0.5) r = 2 * Math.round(v / 2);
  const neg = r < 0;
  let s = String(Math.abs(r));
  if (s.length <= 4) s = '0'.repeat(5 - s.length) + s;
  return (neg ? '-' : '') + s.slice(0, s.length - 4) + '.' + s.slice(s.length - 4);
}
