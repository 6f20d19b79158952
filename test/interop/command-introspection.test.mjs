// COMMAND INFO and COMMAND GETKEYSANDFLAGS of every command Vireo implements,
// against Debian's redis-server 7.0.15, field by field in RESP3. The table
// builder (first/last/step, movablekeys, flag order, implied ACL categories,
// key spec rendering) must agree exactly; where Valkey 8's metadata differs
// from Redis 7.0's, the field is listed in VALKEY_DIFFERS and skipped. Key spec
// "notes" (prose) are not reproduced and are dropped from Redis' reply.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startVireo, haveRedis } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

/** command -> fields (of COMMAND INFO's 10) where Valkey 8's metadata differs from Redis 7.0.15's. */
const VALKEY_DIFFERS = {
  blpop: ['flags'], brpop: ['flags'], brpoplpush: ['flags'], blmove: ['flags'], bzpopmin: ['flags'], bzpopmax: ['flags'], // noscript dropped
  wait: ['flags', 'acl'], // blocking
  watch: ['flags'], multi: ['flags'], // no_multi
  'cluster|nodes': ['flags'], 'cluster|shards': ['flags'], 'cluster|slots': ['flags'], 'cluster|myid': ['flags'], 'cluster|info': ['flags'],
  'config|resetstat': ['tips'], 'config|rewrite': ['tips'], 'client|setname': ['tips'], 'latency|reset': ['tips'], randomkey: ['tips'],
  'acl|save': ['tips'], 'acl|setuser': ['tips'], 'acl|deluser': ['tips'], scan: ['tips'], msetnx: ['tips'],
  zrank: ['arity'], zrevrank: ['arity'], 'command|getkeys': ['arity'], 'command|getkeysandflags': ['arity'],
  sinterstore: ['keyspecs'],
};
const FIELDS = ['name', 'arity', 'flags', 'first', 'last', 'step', 'acl', 'tips', 'keyspecs', 'subcommands'];

const skip = haveRedis() ? false : 'redis-server is not installed';
let redis;
let vireo;
let r;
let v;

before(async () => {
  if (skip) return;
  [redis, vireo] = await Promise.all([startRedis(), startVireo()]);
  [r, v] = await Promise.all([RawConn.connect(redis.port), RawConn.connect(vireo.port)]);
  await Promise.all([r.call('HELLO', '3'), v.call('HELLO', '3')]);
});
after(async () => {
  r?.close();
  v?.close();
  await Promise.all([redis?.stop(), vireo?.stop()]);
});

/** Typed RESP3 tree: { t, v }. */
function parse(buf) {
  let i = 0;
  const line = () => {
    const e = buf.indexOf('\r\n', i);
    const s = buf.slice(i, e);
    i = e + 2;
    return s;
  };
  const val = () => {
    const t = buf[i++];
    const h = line();
    if ('+-:,#('.includes(t)) return { t, v: h };
    if (t === '_') return { t, v: null };
    if (t === '$' || t === '=') {
      const n = Number(h);
      const s = buf.slice(i, i + n);
      i += n + 2;
      return { t, v: s };
    }
    if (t === '*' || t === '~') return { t, v: Array.from({ length: Number(h) }, val) };
    if (t === '%') return { t, v: Array.from({ length: Number(h) }, () => [val(), val()]) };
    throw new Error('type ' + t);
  };
  return val();
}

function dropNotes(node) {
  if (node.t === '%') node.v = node.v.filter(([k]) => k.v !== 'notes').map(([k, x]) => [k, dropNotes(x)]);
  else if (Array.isArray(node.v)) node.v = node.v.map(dropNotes);
  return node;
}

/** Every entry of a COMMAND INFO reply, subcommands included, by full name. */
function entries(reply) {
  const out = new Map();
  const walk = (list) => {
    for (const e of list) {
      if (e.t !== '*') continue;
      out.set(e.v[0].v, e.v);
      walk(e.v[9].v);
    }
  };
  walk(reply.v);
  return out;
}

test('COMMAND INFO of every implemented command matches Redis 7.0.15 (less Valkey 8 metadata changes)', { skip }, async () => {
  const names = parse(await v.call('COMMAND', 'LIST')).v.map((x) => x.v).filter((n) => !n.includes('|'));
  let compared = 0;
  for (const name of names) {
    const theirs = entries(dropNotes(parse(await r.call('COMMAND', 'INFO', name))));
    const ours = entries(parse(await v.call('COMMAND', 'INFO', name)));
    for (const [full, mine] of ours) {
      const ref = theirs.get(full);
      if (ref === undefined) continue; // newer than Redis 7.0
      for (let f = 1; f < 9; f++) {
        if (VALKEY_DIFFERS[full]?.includes(FIELDS[f])) continue;
        assert.deepEqual(mine[f], ref[f], `${full} ${FIELDS[f]}`);
      }
      assert.equal(mine[9].t, ref[9].t, `${full} subcommands type`);
      compared++;
    }
  }
  assert.ok(compared > 20);
});

test('COMMAND GETKEYSANDFLAGS agrees for implemented commands', { skip }, async () => {
  const lines = [
    ['get', 'k'], ['set', 'k', 'v'], ['set', 'k', 'v', 'GET'], ['set', 'k'], ['mset', 'a', '1', 'b', '2'], ['mget', 'a', 'b'],
    ['del', 'a', 'b'], ['rename', 'a', 'b'], ['copy', 'a', 'b'], ['exists', 'a'], ['getex', 'k', 'ex', '1'], ['object', 'encoding', 'k'],
    ['ping', 'x'], ['nosuchcommand', 'x'], ['client', 'list'],
  ];
  const implemented = new Set(parse(await v.call('COMMAND', 'LIST')).v.map((x) => x.v));
  for (const l of lines) {
    if (l[0] !== 'nosuchcommand' && !implemented.has(l[0])) continue;
    assert.equal(await v.call('COMMAND', 'GETKEYSANDFLAGS', ...l), await r.call('COMMAND', 'GETKEYSANDFLAGS', ...l), l.join(' '));
  }
});
