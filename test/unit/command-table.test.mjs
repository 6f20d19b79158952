// The command table built from the metadata: the legacy (first, last, step)
// triple, movablekeys, implicit ACL categories, and key extraction from key
// specs (COMMAND GETKEYSANDFLAGS), checked for every command Valkey describes,
// implemented here or not. Expected key extraction results were recorded from
// redis-server 7.0.15 for command lines whose metadata Valkey 8 did not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandTable, META, legacyRange } from '../../dist/src/commands/table.js';
import { commands } from '../../dist/src/commands/server.js';
import { ReplyWriter } from '../../dist/src/protocol/reply.js';

const handlers = {};
for (const [k, m] of Object.entries(META)) {
  handlers[k] = () => {};
  for (const s of Object.keys(m.subcommands ?? {})) handlers[k + '|' + s] = () => {};
}
const table = new CommandTable(handlers);

/** Runs a COMMAND subcommand handler against the full table and returns the parsed RESP3 reply. */
function run(sub, args) {
  const w = new ReplyWriter();
  w.resp = 3;
  w.server = { table };
  commands['command|' + sub](w, ['command', sub, ...args]);
  return parse(w.out.subarray(0, w.len).toString('latin1'));
}

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
    if (t === '-') return { error: h };
    if (t === '+' || t === ':') return t === ':' ? Number(h) : h;
    if (t === '$') {
      const s = buf.slice(i, i + Number(h));
      i += Number(h) + 2;
      return s;
    }
    if (t === '*' || t === '~') return Array.from({ length: Number(h) }, val);
    if (t === '%') return Object.fromEntries(Array.from({ length: Number(h) }, () => [val(), val()]));
    if (t === '_') return null;
    throw new Error('type ' + t);
  };
  return val();
}

test('legacy first/last/step and movablekeys match Valkey', () => {
  const expect = {
    get: [1, 1, 1], set: [1, 1, 1], mset: [1, -1, 2], mget: [1, -1, 1], rename: [1, 2, 1], smove: [1, 2, 1],
    blpop: [1, -2, 1], brpoplpush: [1, 2, 1], lmove: [1, 2, 1], bitop: [2, -1, 1], sinterstore: [1, -1, 1],
    zunionstore: [1, 1, 1], georadius: [1, 1, 1], sort: [1, 1, 1], migrate: [3, 3, 1], eval: [0, 0, 0],
    xread: [0, 0, 0], 'object|encoding': [2, 2, 1], 'memory|usage': [2, 2, 1], ping: [0, 0, 0], 'xgroup|create': [2, 2, 1],
  };
  for (const [name, triple] of Object.entries(expect)) {
    const cmd = table.lookupFull(name);
    assert.deepEqual([cmd.firstKey, cmd.lastKey, cmd.keyStep], triple, name);
  }
  // Valkey's own test list (tests/unit/introspection-2.tcl).
  for (const n of ['set', 'get', 'mset', 'bitfield', 'lmove', 'lpop', 'blpop', 'ping', 'memory', 'memory|usage', 'rename', 'georadius_ro']) {
    assert.ok(!table.lookupFull(n).flagNames.includes('movablekeys'), n);
  }
  for (const n of ['zunionstore', 'xread', 'eval', 'sort', 'sort_ro', 'migrate', 'georadius']) {
    assert.ok(table.lookupFull(n).flagNames.includes('movablekeys'), n);
  }
  assert.deepEqual(legacyRange([]), [0, 0, 0, false]);
});

test('flags shown by COMMAND INFO hide may_replicate and sentinel, in Valkey order', () => {
  assert.deepEqual(table.lookupFull('eval').flagNames, ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys']);
  assert.deepEqual(table.lookupFull('publish').flagNames, ['pubsub', 'loading', 'stale', 'fast']);
});

test('ACL categories include the implied ones, in Valkey order', () => {
  const acl = (n) => table.lookupFull(n).acl;
  assert.deepEqual(acl('get'), ['read', 'string', 'fast']);
  assert.deepEqual(acl('set'), ['write', 'string', 'slow']);
  assert.deepEqual(acl('blpop'), ['write', 'list', 'slow', 'blocking']);
  assert.deepEqual(acl('config|set'), ['admin', 'slow', 'dangerous']);
  assert.deepEqual(acl('client'), ['slow']);
  assert.deepEqual(acl('eval_ro'), ['slow', 'scripting']); // readonly but scripting: no @read
  assert.deepEqual(acl('sort'), ['write', 'set', 'sortedset', 'list', 'slow', 'dangerous']);
});

const EXPECTED = [[["get","k"],[["k",["RO","access"]]]],[["set","k","v"],[["k",["OW","update"]]]],[["set","k","v","get"],[["k",["RW","access","update"]]]],[["set","k","v","EX","1","GET"],[["k",["RW","access","update"]]]],[["mset","a","1","b","2"],[["a",["OW","update"]],["b",["OW","update"]]]],[["mset","a","1","b"],[["a",["OW","update"]],["b",["OW","update"]]]],[["mget","a","b","c"],[["a",["RO","access"]],["b",["RO","access"]],["c",["RO","access"]]]],[["del","a","b"],[["a",["RM","delete"]],["b",["RM","delete"]]]],[["lmove","a","b","left","right"],[["a",["RW","access","delete"]],["b",["RW","insert"]]]],[["sort","k","store","d"],[["k",["RO","access"]],["d",["OW","update"]]]],[["sort","k","by","x","store","d","get","#","limit","0","1"],[["k",["RO","access"]],["d",["OW","update"]]]],[["sort","k","store"],[["k",["RO","access"]]]],[["sort_ro","k","by","x"],[["k",["RO","access"]]]],[["eval","s","2","a","b","c"],[["a",["RW","access","update"]],["b",["RW","access","update"]]]],[["eval","s","0"],[]],[["eval","s","5","a"],[]],[["eval","s","-1"],[]],[["eval","s","x"],[]],[["evalsha","s","1","a"],[["a",["RW","access","update"]]]],[["fcall","f","1","k"],[["k",["RW","access","update"]]]],[["zunionstore","d","2","a","b"],[["d",["OW","update"]],["a",["RO","access"]],["b",["RO","access"]]]],[["zunionstore","d","2","a"],"ERR Invalid arguments specified for command"],[["zunionstore","d","0","a"],"ERR Invalid arguments specified for command"],[["zinter","2","a","b"],[["a",["RO","access"]],["b",["RO","access"]]]],[["zinter","2","a","b","weights","1","2"],[["a",["RO","access"]],["b",["RO","access"]]]],[["lmpop","2","a","b","left"],[["a",["RW","access","delete"]],["b",["RW","access","delete"]]]],[["blmpop","0","2","a","b","left"],[["a",["RW","access","delete"]],["b",["RW","access","delete"]]]],[["zmpop","1","a","min"],[["a",["RW","access","delete"]]]],[["sintercard","2","a","b"],[["a",["RO","access"]],["b",["RO","access"]]]],[["sintercard","3","a","b"],"ERR Invalid arguments specified for command"],[["xread","streams","a","b","1","2"],[["a",["RO","access"]],["b",["RO","access"]]]],[["xread","count","2","streams","a","1"],[["a",["RO","access"]]]],[["xread","streams","a","b","1"],[["a",["RO","access"]]]],[["xreadgroup","group","g","c","streams","a",">"],[["a",["RO","access"]]]],[["xread","count","1"],"ERR Invalid number of arguments specified for command"],[["georadius","k","1","2","3","m","store","d"],[["k",["RO","access"]],["d",["OW","update"]]]],[["georadius","k","1","2","3","m","storedist","d"],[["k",["RO","access"]],["d",["OW","update"]]]],[["georadius","k","1","2","3","m"],[["k",["RO","access"]]]],[["georadius","k","1","2","3","m","store"],[["k",["RO","access"]]]],[["georadiusbymember","k","m","3","km","store","x"],[["k",["RO","access"]],["x",["OW","update"]]]],[["migrate","h","p","k","0","5"],[["k",["RW","access","delete"]]]],[["migrate","h","p","","0","5","keys","a","b"],[["a",["RW","access","delete"]],["b",["RW","access","delete"]]]],[["migrate","h","p","x","0","5","keys","a","b"],"ERR Invalid arguments specified for command"],[["migrate","h","p","","0","5","auth","pw","keys","a"],[["a",["RW","access","delete"]]]],[["bitfield","k","get","u8","0"],[["k",["RO","access"]]]],[["bitfield","k","set","u8","0","1"],[["k",["RW","access","update"]]]],[["bitfield","k","overflow","wrap","get","u8","0"],[["k",["RO","access"]]]],[["bitfield","k","foo"],[["k",["RW","access","update"]]]],[["bitfield_ro","k","get","u8","0"],[["k",["RO","access"]]]],[["rename","a","b"],[["a",["RW","access","delete"]],["b",["OW","update"]]]],[["smove","a","b","m"],[["a",["RW","access","delete"]],["b",["RW","insert"]]]],[["brpoplpush","a","b","0"],[["a",["RW","access","delete"]],["b",["RW","insert"]]]],[["blpop","a","b","0"],[["a",["RW","access","delete"]],["b",["RW","access","delete"]]]],[["pfmerge","d","a","b"],[["d",["RW","access","insert"]],["a",["RO","access"]],["b",["RO","access"]]]],[["object","encoding","k"],[["k",["RO"]]]],[["memory","usage","k"],[["k",["RO"]]]],[["xgroup","create","k","g","$"],[["k",["RW","insert"]]]],[["xinfo","stream","k"],[["k",["RO","access"]]]],[["copy","a","b"],[["a",["RO","access"]],["b",["OW","update"]]]],[["lcs","a","b"],[["a",["RO","access"]],["b",["RO","access"]]]],[["msetnx","a","1","b","2"],[["a",["OW","insert"]],["b",["OW","insert"]]]],[["publish","c","m"],"ERR The command has no key arguments"],[["spublish","c","m"],"ERR The command has no key arguments"],[["ssubscribe","c"],"ERR The command has no key arguments"],[["client","list"],"ERR The command has no key arguments"],[["config","get","x"],"ERR The command has no key arguments"],[["watch","a","b"],[["a",["RO"]],["b",["RO"]]]],[["nosuch","x"],"ERR Invalid command specified"],[["set","k"],"ERR Invalid number of arguments specified for command"],[["bitop","and","d","a","b"],[["d",["OW","update"]],["a",["RO","access"]],["b",["RO","access"]]]],[["getex","k","ex","1"],[["k",["RW","access","update"]]]],[["zrangestore","d","s","0","1"],[["d",["OW","update"]],["s",["RO","access"]]]],[["exists","a","b"],[["a",["RO"]],["b",["RO"]]]],[["linsert","k","before","a","b"],[["k",["RW","insert"]]]]];

test('COMMAND GETKEYSANDFLAGS over the whole table', () => {
  for (const [line, want] of EXPECTED) {
    const got = run('getkeysandflags', line);
    if (typeof want === 'string') assert.deepEqual(got, { error: want }, line.join(' '));
    else assert.deepEqual(got, want, line.join(' '));
  }
});

test('COMMAND GETKEYS returns the same keys without flags', () => {
  for (const [line, want] of EXPECTED) {
    if (typeof want === 'string') continue;
    assert.deepEqual(run('getkeys', line), want.map((k) => k[0]), line.join(' '));
  }
});

test('COMMAND INFO key specs of keyword/keynum/unknown kinds', () => {
  const [sort] = run('info', ['sort']);
  assert.deepEqual(sort[8][1], { flags: ['RO', 'access'], begin_search: { type: 'unknown', spec: {} }, find_keys: { type: 'unknown', spec: {} } });
  const [geo] = run('info', ['georadius']);
  assert.deepEqual(geo[8][1].begin_search, { type: 'keyword', spec: { keyword: 'STORE', startfrom: 6 } });
  const [ev] = run('info', ['eval']);
  assert.deepEqual(ev[8][0].find_keys, { type: 'keynum', spec: { keynumidx: 0, firstkey: 1, keystep: 1 } });
});
