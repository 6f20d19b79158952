// Server commands: COMMAND (INFO, DOCS, LIST, COUNT, GETKEYS, GETKEYSANDFLAGS,
// HELP), INFO, CONFIG (GET, SET, RESETSTAT, REWRITE, HELP), TIME, LOLWUT,
// SHUTDOWN, DEBUG and MONITOR, byte for byte over raw sockets in RESP2 and RESP3
// and through ioredis and node-redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo, freePort } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv; // enable-debug-command local
let plain; // defaults
const open = [];

before(async () => {
  [srv, plain] = await Promise.all([startVireo(['--enable-debug-command', 'local']), startVireo()]);
});
after(async () => {
  for (const c of open) c.close?.();
  await Promise.all([srv.stop(), plain.stop()]);
});

async function raw(port = srv.port, resp = 2) {
  const c = await RawConn.connect(port);
  open.push(c);
  if (resp === 3) await c.call('HELLO', '3');
  return c;
}

const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const arr = (...items) => `*${items.length}\r\n${items.join('')}`;
const err = (s) => `-${s}\r\n`;

/** Parses an INFO text into { section: { field: value } }. */
function parseInfo(text) {
  const out = {};
  let cur = null;
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) out[(cur = line.slice(2).toLowerCase())] = {};
    else if (line !== '') {
      const i = line.indexOf(':');
      out[cur][line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return out;
}

/** Body of a bulk or verbatim reply. */
function body(r) {
  const nl = r.indexOf('\r\n');
  const s = r.slice(nl + 2, -2);
  return r[0] === '=' ? s.slice(4) : s;
}

// ------------------------------------------------------------------ COMMAND

const GET_INFO_RESP2 =
  arr(
    bulk('get'),
    ':2\r\n',
    arr('+readonly\r\n', '+fast\r\n'),
    ':1\r\n',
    ':1\r\n',
    ':1\r\n',
    arr('+@read\r\n', '+@string\r\n', '+@fast\r\n'),
    arr(),
    arr(
      arr(
        bulk('flags'),
        arr('+RO\r\n', '+access\r\n'),
        bulk('begin_search'),
        arr(bulk('type'), bulk('index'), bulk('spec'), arr(bulk('index'), ':1\r\n')),
        bulk('find_keys'),
        arr(bulk('type'), bulk('range'), bulk('spec'), arr(bulk('lastkey'), ':0\r\n', bulk('keystep'), ':1\r\n', bulk('limit'), ':0\r\n')),
      ),
    ),
    arr(),
  );

test('COMMAND INFO get: exact bytes in RESP2 (as Valkey)', async () => {
  const c = await raw();
  assert.equal(await c.call('COMMAND', 'INFO', 'get'), arr(GET_INFO_RESP2));
  // Upper case, unknown names and subcommand paths that do not exist give nulls.
  assert.equal(await c.call('COMMAND', 'INFO', 'GET', 'nosuchcmd', 'get|key', 'config|get|x'), arr(GET_INFO_RESP2, '$-1\r\n', '$-1\r\n', '$-1\r\n'));
});

test('COMMAND INFO get: RESP3 types (sets for flags, categories, tips, key specs; maps for specs)', async () => {
  const c = await raw(srv.port, 3);
  const r = await c.call('COMMAND', 'INFO', 'get', 'nope');
  assert.equal(
    r,
    '*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n' +
      '%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n' +
      '$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n_\r\n',
  );
});

test('COMMAND INFO set (variable key flags), config (container), config|get (subcommand)', async () => {
  const io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true });
  await io.connect();
  try {
    const [set] = await io.call('COMMAND', 'INFO', 'set');
    assert.deepEqual(set.slice(0, 7), ['set', -3, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow']]);
    assert.deepEqual(set[8][0].slice(0, 2), ['flags', ['RW', 'access', 'update', 'variable_flags']]);
    const [config] = await io.call('COMMAND', 'INFO', 'config');
    assert.deepEqual(config.slice(0, 9), ['config', -2, [], 0, 0, 0, ['@slow'], [], []]);
    const subs = config[9].map((s) => s[0]).sort();
    assert.deepEqual(subs, ['config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set']);
    const [get] = await io.call('COMMAND', 'INFO', 'CONFIG|GET');
    assert.deepEqual(get, ['config|get', -3, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, ['@admin', '@slow', '@dangerous'], [], [], []]);
    // Tips are bulk strings; may_replicate/sentinel flags stay hidden.
    const [info] = await io.call('COMMAND', 'INFO', 'info');
    assert.deepEqual(info.slice(0, 8), ['info', -1, ['loading', 'stale'], 0, 0, 0, ['@slow', '@dangerous'], ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special']]);
  } finally {
    io.disconnect();
  }
});

test('COMMAND and COMMAND INFO without names list every command; COUNT agrees', async () => {
  const io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true });
  await io.connect();
  try {
    const all = await io.call('COMMAND');
    const infoAll = await io.call('COMMAND', 'INFO');
    const count = await io.call('COMMAND', 'COUNT');
    assert.equal(all.length, count);
    assert.equal(infoAll.length, count);
    const names = all.map((e) => e[0]);
    for (const n of ['command', 'config', 'info', 'time', 'monitor', 'get', 'set', 'ping']) assert.ok(names.includes(n), n);
    for (const e of all) assert.equal(e.length, 10);
  } finally {
    io.disconnect();
  }
});

test('COMMAND LIST with and without FILTERBY', async () => {
  const c = await raw();
  const io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true });
  await io.connect();
  try {
    const all = await io.call('COMMAND', 'LIST');
    assert.ok(all.includes('get') && all.includes('config') && all.includes('config|get') && all.includes('command|list'));
    assert.deepEqual(await io.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'get'), ['get']);
    assert.deepEqual((await io.call('COMMAND', 'LIST', 'FILTERBY', 'pattern', 'CONFIG*')).sort(), ['config', 'config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set']);
    assert.deepEqual((await io.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'config|*re*')).sort(), ['config|resetstat', 'config|rewrite']);
    assert.deepEqual(await io.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'nonexists*'), []);
    const admin = await io.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'admin');
    assert.ok(admin.includes('config|set') && admin.includes('monitor') && !admin.includes('get'));
    assert.ok((await io.call('COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'READ')).includes('get'));
    assert.deepEqual(await io.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuchcategory'), []);
    assert.deepEqual(await io.call('COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'm'), []);
  } finally {
    io.disconnect();
  }
  assert.equal(await c.call('COMMAND', 'LIST', 'bad'), err('ERR syntax error'));
  assert.equal(await c.call('COMMAND', 'LIST', 'FILTERBY', 'bad'), err('ERR syntax error'));
  assert.equal(await c.call('COMMAND', 'LIST', 'FILTERBY', 'bad', 'x'), err('ERR syntax error'));
});

test('COMMAND GETKEYS and GETKEYSANDFLAGS', async () => {
  const c = await raw();
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'get', 'k'), arr(bulk('k')));
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'SET', 'k', 'v', 'EX', '10'), arr(bulk('k')));
  assert.equal(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k', 'v'), arr(arr(bulk('k'), arr('+OW\r\n', '+update\r\n'))));
  assert.equal(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k', 'v', 'get'), arr(arr(bulk('k'), arr('+RW\r\n', '+access\r\n', '+update\r\n'))));
  assert.equal(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'get', 'k'), arr(arr(bulk('k'), arr('+RO\r\n', '+access\r\n'))));
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'nosuch', 'x'), err('ERR Invalid command specified'));
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'ping', 'x'), err('ERR The command has no key arguments'));
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'config', 'get', 'x'), err('ERR The command has no key arguments'));
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'set', 'k'), err('ERR Invalid number of arguments specified for command'));
  // Valkey 8's arity for GETKEYS is -3: a command without its arguments reaches the arity check of that command.
  assert.equal(await c.call('COMMAND', 'GETKEYS', 'get'), err('ERR Invalid number of arguments specified for command'));
  assert.equal(await c.call('COMMAND', 'GETKEYS'), err("ERR wrong number of arguments for 'command|getkeys' command"));
  const c3 = await raw(srv.port, 3);
  assert.equal(await c3.call('COMMAND', 'GETKEYSANDFLAGS', 'get', 'k'), '*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+RO\r\n+access\r\n');
});

test('COMMAND DOCS: facts from the metadata, as a map', async () => {
  const c3 = await raw(srv.port, 3);
  // get: no summary of ours, so: since, group, complexity, arguments (display_text last).
  assert.equal(
    await c3.call('COMMAND', 'DOCS', 'get'),
    '%1\r\n$3\r\nget\r\n%4\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n' +
      '$9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n$12\r\ndisplay_text\r\n$3\r\nkey\r\n',
  );
  // Unknown names are left out.
  assert.equal(await c3.call('COMMAND', 'DOCS', 'nosuch'), '%0\r\n');
  const nr = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await nr.connect();
  try {
    const docs = await nr.sendCommand(['COMMAND', 'DOCS', 'set', 'config']);
    const get = (m, k) => (m instanceof Map ? m.get(k) : m[k]);
    const set = get(docs, 'set');
    assert.equal(get(set, 'group'), 'string');
    assert.equal(get(set, 'since'), '1.0.0');
    const args = get(set, 'arguments');
    assert.equal(get(args[0], 'name'), 'key');
    const condition = args.find((a) => get(a, 'name') === 'condition');
    assert.equal(get(condition, 'type'), 'oneof');
    const config = get(docs, 'config');
    assert.equal(get(config, 'group'), 'server');
    assert.ok(typeof get(config, 'summary') === 'string');
    const subs = get(config, 'subcommands');
    assert.ok(get(subs, 'config|set'));
    assert.equal(get(get(subs, 'config|get'), 'since'), '2.0.0');
    const all = await nr.sendCommand(['COMMAND', 'DOCS']);
    const n = await nr.sendCommand(['COMMAND', 'COUNT']);
    assert.equal(all instanceof Map ? all.size : Object.keys(all).length, n);
  } finally {
    await nr.quit();
  }
});

test('COMMAND HELP and unknown subcommands', async () => {
  const c = await raw();
  const r = await c.call('COMMAND', 'HELP');
  assert.ok(r.startsWith('*'));
  assert.ok(r.includes('+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n'));
  assert.ok(r.includes('+GETKEYSANDFLAGS <full-command>\r\n'));
  assert.equal(await c.call('COMMAND', 'nope'), err("ERR unknown subcommand 'nope'. Try COMMAND HELP."));
  assert.equal(await c.call('CONFIG', 'nope'), err("ERR unknown subcommand 'nope'. Try CONFIG HELP."));
  assert.ok((await c.call('CONFIG', 'HELP')).includes('+RESETSTAT\r\n'));
});

// ------------------------------------------------------------------ INFO

test('INFO default sections, layout and values', async () => {
  const c = await raw();
  const r = await c.call('INFO');
  assert.ok(r.startsWith('$'));
  const text = body(r);
  assert.ok(text.startsWith('# Server\r\nredis_version:7.2.4\r\n'));
  assert.ok(text.endsWith('\r\n'));
  assert.ok(!text.includes('\n\n') && !/[^\r]\n/.test(text), 'CRLF line ends');
  const info = parseInfo(text);
  assert.deepEqual(Object.keys(info), ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace']);
  const s = info.server;
  assert.equal(s.valkey_version, '8.0.2');
  assert.equal(s.server_mode, 'standalone');
  assert.equal(s.tcp_port, String(srv.port));
  assert.equal(s.process_id, String(srv.proc.pid));
  assert.equal(s.config_file, '');
  assert.match(s.run_id, /^[0-9a-f]{40}$/);
  assert.match(s.executable, /vireo-server$/);
  assert.ok(Number(s.uptime_in_seconds) >= 0);
  assert.equal(s.listener0, `name=tcp,bind=127.0.0.1,port=${srv.port}`);
  assert.ok(Number(info.clients.connected_clients) >= 1);
  assert.ok(Number(info.memory.used_memory) > 0);
  assert.match(info.memory.used_memory_human, /^\d+\.\d\dM$/);
  assert.ok(Number(info.memory.used_memory_rss) > 0);
  assert.ok(Number(info.memory.used_memory_peak) >= Number(info.memory.used_memory));
  assert.equal(info.memory.maxmemory_policy, 'noeviction');
  assert.equal(info.persistence.aof_enabled, '0');
  assert.equal(info.persistence.rdb_last_bgsave_status, 'ok');
  assert.equal(info.replication.role, 'master');
  assert.equal(info.replication.connected_slaves, '0');
  assert.match(info.replication.master_replid, /^[0-9a-f]{40}$/);
  assert.match(info.cpu.used_cpu_user, /^\d+\.\d{6}$/);
  assert.equal(info.cluster.cluster_enabled, '0');
  assert.deepEqual(info.modules, {});
});

test('INFO sections: selection, order, case, all/everything, unknown', async () => {
  const c = await raw();
  assert.deepEqual(Object.keys(parseInfo(body(await c.call('INFO', 'CPU', 'server')))), ['server', 'cpu']);
  assert.equal(await c.call('INFO', 'nosuchsection'), '$0\r\n\r\n');
  assert.equal(await c.call('INFO', 'modules'), bulk('# Modules\r\n'));
  const every = Object.keys(parseInfo(body(await c.call('INFO', 'everything'))));
  assert.deepEqual(every, ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace']);
  assert.deepEqual(Object.keys(parseInfo(body(await c.call('INFO', 'all')))), every);
  assert.deepEqual(Object.keys(parseInfo(body(await c.call('INFO', 'default', 'commandstats')))), [
    'server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'commandstats', 'errorstats', 'cluster', 'keyspace',
  ]);
  // Two sections are separated by one blank line.
  const two = body(await c.call('INFO', 'cluster', 'modules'));
  assert.equal(two, '# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n');
});

test('INFO is a verbatim string in RESP3', async () => {
  const c3 = await raw(srv.port, 3);
  const r = await c3.call('INFO', 'cluster');
  assert.equal(r, '=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n');
  const nr = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await nr.connect();
  try {
    const text = String(await nr.sendCommand(['INFO', 'server']));
    assert.ok(text.includes('redis_version:7.2.4'));
  } finally {
    await nr.quit();
  }
});

test('INFO stats, keyspace, commandstats and errorstats follow the traffic; CONFIG RESETSTAT clears them', async () => {
  const c = await raw();
  await c.call('SELECT', '9');
  assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
  await c.call('SET', 'ka', '1');
  await c.call('SET', 'kb', '2');
  await c.call('GET', 'ka');
  await c.call('GET', 'ka');
  await c.call('GET', 'missing');
  await c.call('NOSUCHCOMMAND');
  await c.call('GET');
  await c.call('CONFIG', 'SET', 'hz', 'x');
  const info = parseInfo(body(await c.call('INFO', 'everything')));
  assert.equal(info.stats.keyspace_hits, '2');
  assert.equal(info.stats.keyspace_misses, '1');
  assert.ok(Number(info.stats.total_commands_processed) >= 6);
  assert.ok(Number(info.stats.total_net_input_bytes) > 0);
  assert.equal(info.stats.total_error_replies, '3');
  assert.equal(info.errorstats.errorstat_ERR, 'count=3');
  assert.match(info.commandstats.cmdstat_get, /^calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0$/);
  assert.match(info.commandstats.cmdstat_set, /^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/);
  assert.match(info.commandstats['cmdstat_config|set'], /^calls=1,.*,rejected_calls=0,failed_calls=1$/);
  assert.equal(info.keyspace.db9, 'keys=2,expires=0,avg_ttl=0');
  assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
  const after = parseInfo(body(await c.call('INFO', 'stats', 'errorstats', 'commandstats')));
  assert.equal(after.stats.keyspace_hits, '0');
  assert.equal(after.stats.total_error_replies, '0');
  assert.deepEqual(after.errorstats, {});
  // Only the RESETSTAT itself, counted once it has run, as in Valkey.
  assert.deepEqual(Object.keys(after.commandstats), ['cmdstat_config|resetstat']);
  assert.equal(after.stats.total_connections_received, '0');
  await c.call('FLUSHDB');
});

// ------------------------------------------------------------------ CONFIG

test('CONFIG GET: exact names, patterns (case-insensitive), several at once, map in RESP3', async () => {
  const c = await raw();
  assert.equal(await c.call('CONFIG', 'GET', 'maxclients'), arr(bulk('maxclients'), bulk('10000')));
  // A name without wildcards is echoed as typed; a repeated one once.
  assert.equal(await c.call('CONFIG', 'GET', 'MaxClients', 'maxclients'), arr(bulk('MaxClients'), bulk('10000')));
  assert.equal(await c.call('CONFIG', 'GET', 'nosuch'), arr());
  const io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true });
  await io.connect();
  try {
    const hz = await io.call('CONFIG', 'GET', '*HZ');
    assert.deepEqual(hz, ['hz', '10', 'dynamic-hz', 'yes']);
    const many = await io.call('CONFIG', 'GET', 'port', 'timeout', 'max*');
    const m = Object.fromEntries(many.reduce((a, v, i) => (i % 2 ? a : [...a, [v, many[i + 1]]]), []));
    assert.equal(m.port, String(srv.port));
    assert.equal(m.timeout, '0');
    assert.equal(m.maxmemory, '0');
    assert.equal(m['maxmemory-policy'], 'noeviction');
    const all = await io.call('CONFIG', 'GET', '*');
    assert.ok(all.length > 20);
    assert.equal(all[all.indexOf('dir') + 1], process.cwd());
  } finally {
    io.disconnect();
  }
  const c3 = await raw(srv.port, 3);
  assert.equal(await c3.call('CONFIG', 'GET', 'timeout'), '%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n');
});

test('CONFIG SET: values, units, several pairs, and its exact errors', async () => {
  const c = await raw();
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '1gb', 'timeout', '300'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), arr(bulk('maxmemory'), bulk('1073741824')));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '2G'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), arr(bulk('maxmemory'), bulk('2000000000')));
  assert.equal(await c.call('CONFIG', 'SET', 'hz', '0'), '+OK\r\n'); // clamped like Valkey
  assert.equal(await c.call('CONFIG', 'GET', 'hz'), arr(bulk('hz'), bulk('1')));
  assert.equal(await c.call('CONFIG', 'SET', 'hz', '100000'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'hz'), arr(bulk('hz'), bulk('500')));
  assert.equal(await c.call('CONFIG', 'SET', 'loglevel', 'WARNING', 'dynamic-hz', 'NO'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'dynamic-hz'), arr(bulk('dynamic-hz'), bulk('no')));
  const failed = (arg, msg) => err(`ERR CONFIG SET failed (possibly related to argument '${arg}') - ${msg}`);
  assert.equal(await c.call('CONFIG', 'SET', 'foo', 'bar'), err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"));
  assert.equal(await c.call('CONFIG', 'SET', 'hz', '10', 'Foo', '1'), err("ERR Unknown option or number of arguments for CONFIG SET - 'Foo'"));
  assert.equal(await c.call('CONFIG', 'SET', 'maxclients', '1', 'hz'), err('ERR syntax error'));
  assert.equal(await c.call('CONFIG', 'SET', 'hz'), err("ERR wrong number of arguments for 'config|set' command"));
  assert.equal(await c.call('CONFIG', 'SET', 'HZ', '10', 'Hz', '11'), failed('Hz', 'duplicate parameter'));
  assert.equal(await c.call('CONFIG', 'SET', 'hz', 'abc', 'DATABASES', '4'), failed('DATABASES', "can't set immutable config"));
  assert.equal(await c.call('CONFIG', 'SET', 'HZ', 'abc'), failed('hz', "argument couldn't be parsed into an integer"));
  assert.equal(await c.call('CONFIG', 'SET', 'hz', '5x'), failed('hz', "argument couldn't be parsed into an integer"));
  assert.equal(await c.call('CONFIG', 'SET', 'maxclients', '0'), failed('maxclients', 'argument must be between 1 and 4294967295 inclusive'));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '-1'), failed('maxmemory', 'argument must be a memory value'));
  assert.equal(await c.call('CONFIG', 'SET', 'proto-max-bulk-len', '1000'), failed('proto-max-bulk-len', 'argument must be between 1048576 and 9223372036854775807 inclusive'));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '18446744073709551616'), failed('maxmemory', 'argument must be a memory value'));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '18446744073709551615'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), arr(bulk('maxmemory'), bulk('18446744073709551615')));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '10x'), failed('maxmemory', 'argument must be a memory value'));
  assert.equal(await c.call('CONFIG', 'SET', 'dynamic-hz', 'maybe'), failed('dynamic-hz', "argument must be 'yes' or 'no'"));
  assert.equal(await c.call('CONFIG', 'SET', 'save', '10'), failed('save', 'Invalid save parameters'));
  assert.equal(await c.call('CONFIG', 'SET', 'save', '0 1'), failed('save', 'Invalid save parameters'));
  assert.equal(await c.call('CONFIG', 'SET', 'save', ''), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'dir', '/tmp'), failed('dir', "can't set protected config"));
  assert.equal(
    await c.call('CONFIG', 'SET', 'loglevel', 'loud'),
    failed('loglevel', 'argument(s) must be one of the following: debug, verbose, notice, warning, nothing'),
  );
  // All or nothing: a bad value later in the list leaves the earlier ones alone.
  assert.equal(await c.call('CONFIG', 'SET', 'timeout', '5', 'maxclients', 'many'), failed('maxclients', "argument couldn't be parsed into an integer"));
  assert.equal(await c.call('CONFIG', 'GET', 'timeout'), arr(bulk('timeout'), bulk('300')));
  assert.equal(await c.call('CONFIG', 'SET', 'maxmemory', '0', 'timeout', '0', 'hz', '10', 'dynamic-hz', 'yes', 'loglevel', 'warning'), '+OK\r\n');
});

test('CONFIG SET requirepass applies to new connections and AUTH', async () => {
  const c = await raw(plain.port);
  assert.equal(await c.call('CONFIG', 'SET', 'requirepass', 's3cret'), '+OK\r\n');
  try {
    const d = await raw(plain.port);
    assert.equal(await d.call('GET', 'x'), err('NOAUTH Authentication required.'));
    assert.equal(await d.call('AUTH', 's3cret'), '+OK\r\n');
    assert.equal(await d.call('GET', 'x'), '$-1\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'requirepass'), arr(bulk('requirepass'), bulk('s3cret')));
  } finally {
    assert.equal(await c.call('CONFIG', 'SET', 'requirepass', ''), '+OK\r\n');
  }
});

test('CONFIG SET port binds the new port; a port in use is refused and nothing changes', async () => {
  const s = await startVireo();
  try {
    const c = await RawConn.connect(s.port);
    const p2 = await freePort();
    assert.equal(await c.call('CONFIG', 'SET', 'port', String(p2), 'timeout', '7'), '+OK\r\n');
    // The connection that asked stays; new ones go to the new port.
    assert.equal(await c.call('PING'), '+PONG\r\n');
    const d = await RawConn.connect(p2);
    assert.equal(await d.call('CONFIG', 'GET', 'port'), arr(bulk('port'), bulk(String(p2))));
    await assert.rejects(RawConn.connect(s.port));
    // A port that is taken: the error, then the old port and the other values are back.
    const blocker = net.createServer();
    const p3 = await freePort();
    await new Promise((r) => blocker.listen(p3, '127.0.0.1', r));
    try {
      // Pipelined: the PING waits for the CONFIG SET reply.
      d.write(`*6\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$7\r\ntimeout\r\n$2\r\n99\r\n$4\r\nport\r\n$${String(p3).length}\r\n${p3}\r\n*1\r\n$4\r\nPING\r\n`);
      assert.equal(await d.readReply(), err("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."));
      assert.equal(await d.readReply(), '+PONG\r\n');
    } finally {
      blocker.close();
    }
    assert.equal(await d.call('CONFIG', 'GET', 'port'), arr(bulk('port'), bulk(String(p2))));
    assert.equal(await d.call('CONFIG', 'GET', 'timeout'), arr(bulk('timeout'), bulk('7')));
    const e = await RawConn.connect(p2);
    assert.equal(await e.call('PING'), '+PONG\r\n');
    c.close();
    d.close();
    e.close();
  } finally {
    await s.stop();
  }
});

test('CONFIG REWRITE without a config file', async () => {
  const c = await raw();
  assert.equal(await c.call('CONFIG', 'REWRITE'), err('ERR The server is running without a config file'));
});

// ------------------------------------------------------------------ TIME, LOLWUT

test('TIME', async () => {
  const c = await raw();
  const r = await c.call('TIME');
  const m = /^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$/.exec(r);
  assert.ok(m, r);
  assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 60);
  assert.ok(Number(m[2]) < 1000000);
});

test('LOLWUT ends with the version line; VERSION must be an integer', async () => {
  const c = await raw();
  const r = body(await c.call('LOLWUT'));
  assert.ok(r.endsWith('\nVireo ver. 0.1.0\n'));
  assert.ok(body(await c.call('LOLWUT', 'VERSION', '5', '60')).endsWith('Vireo ver. 0.1.0\n'));
  assert.equal(await c.call('LOLWUT', 'VERSION', 'x'), err('ERR value is not an integer or out of range'));
  const c3 = await raw(srv.port, 3);
  assert.ok((await c3.call('LOLWUT')).startsWith('='));
});

// ------------------------------------------------------------------ DEBUG

test('DEBUG is refused unless enable-debug-command allows it', async () => {
  const c = await raw(plain.port);
  const refused = err(
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
  );
  assert.equal(await c.call('DEBUG', 'SLEEP', '0'), refused);
  assert.equal(await c.call('DEBUG', 'HELP'), refused);
  assert.equal(await c.call('CONFIG', 'SET', 'enable-debug-command', 'yes'), err("ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config"));
});

test('DEBUG SLEEP blocks the server; SET-ACTIVE-EXPIRE; HELP; errors', async () => {
  const c = await raw();
  const d = await raw();
  assert.equal(await c.call('DEBUG', 'SLEEP', '0'), '+OK\r\n');
  assert.equal(await c.call('DEBUG', 'sleep', 'abc'), '+OK\r\n');
  c.send('DEBUG', 'SLEEP', '0.3');
  await new Promise((r) => setTimeout(r, 50));
  d.send('SET', 'after-sleep', '1');
  // The SET sent during the sleep is answered after the sleep's OK.
  assert.equal(await c.readReply(), '+OK\r\n');
  assert.equal(await d.readReply(), '+OK\r\n');
  // With active expiry off, an expired key nobody touches stays in the keyspace.
  await c.call('SELECT', '5');
  assert.equal(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'), '+OK\r\n');
  assert.equal(await c.call('SET', 'short', 'v', 'PX', '1'), '+OK\r\n');
  await new Promise((r) => setTimeout(r, 300));
  assert.match(body(await c.call('INFO', 'keyspace')), /db5:keys=1,expires=1,/);
  assert.equal(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1'), '+OK\r\n');
  const deadline = Date.now() + 10000;
  while (/db5:/.test(body(await c.call('INFO', 'keyspace')))) {
    assert.ok(Date.now() < deadline, 'active expiry removes the key once enabled again');
    await new Promise((r) => setTimeout(r, 50));
  }
  await c.call('SELECT', '0');
  const help = await c.call('DEBUG', 'HELP');
  assert.ok(help.includes('+SLEEP <seconds>\r\n'));
  assert.equal(await c.call('DEBUG', 'SLEEP'), err("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP."));
  assert.equal(await c.call('DEBUG', 'nope'), err("ERR unknown subcommand or wrong number of arguments for 'nope'. Try DEBUG HELP."));
  assert.equal(await c.call('DEBUG'), err("ERR wrong number of arguments for 'debug' command"));
  await c.call('DEL', 'after-sleep');
});

// ------------------------------------------------------------------ SHUTDOWN

test('SHUTDOWN ABORT and bad flag combinations', async () => {
  const c = await raw();
  assert.equal(await c.call('SHUTDOWN', 'ABORT'), err('ERR No shutdown in progress.'));
  assert.equal(await c.call('SHUTDOWN', 'ABORT', 'NOW'), err('ERR syntax error'));
  assert.equal(await c.call('SHUTDOWN', 'SAVE', 'NOSAVE'), err('ERR syntax error'));
  assert.equal(await c.call('SHUTDOWN', 'sideways'), err('ERR syntax error'));
  // SHUTDOWN SAVE (a real save now) is covered by test/integration/rdb.test.mjs.
  assert.equal(await c.call('PING'), '+PONG\r\n');
});

test('SHUTDOWN NOSAVE stops the server process with exit code 0', async () => {
  const s = await startVireo();
  const exited = new Promise((r) => s.proc.once('exit', (code) => r(code)));
  const c = await RawConn.connect(s.port);
  c.send('SHUTDOWN', 'NOSAVE');
  await c.waitClosed();
  assert.equal(await exited, 0);
});

// ------------------------------------------------------------------ MONITOR

test('MONITOR: OK, then every command run by others (credentials redacted), not admin ones', async () => {
  const m = await raw();
  const o = await raw();
  assert.equal(await m.call('MONITOR'), '+OK\r\n');
  await o.call('SET', 'mk', 'v\n"x');
  await o.call('SELECT', '3');
  await o.call('GET', 'mk');
  await o.call('AUTH', 'user', 'pass');
  await o.call('HELLO', '2', 'AUTH', 'default', 'pw', 'SETNAME', 'nm');
  await o.call('CONFIG', 'GET', 'hz');
  await o.call('ECHO', 'last');
  const lines = [];
  while (lines.length < 6) lines.push(await m.readReply());
  const port = o.sock.localPort;
  const re = (db, rest) => new RegExp(`^\\+\\d{10}\\.\\d{6} \\[${db} 127\\.0\\.0\\.1:${port}\\] ${rest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r\\n$`);
  assert.match(lines[0], re(0, '"SET" "mk" "v\\n\\"x"'));
  assert.match(lines[1], re(3, '"SELECT" "3"'));
  assert.match(lines[2], re(3, '"GET" "mk"'));
  assert.match(lines[3], re(3, '"AUTH" "(redacted)" "(redacted)"'));
  assert.match(lines[4], re(3, '"HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "nm"'));
  assert.match(lines[5], re(3, '"ECHO" "last"'));
  // The monitor's own commands are answered and shown; MONITOR again says nothing.
  m.send('MONITOR');
  m.send('PING');
  assert.equal(await m.readReply(), '+PONG\r\n');
  assert.match(await m.readReply(), /"PING"\r\n$/);
  // RESET ends monitoring.
  assert.equal(await m.call('RESET'), '+RESET\r\n');
  await o.call('ECHO', 'unseen');
  assert.equal(await m.call('PING'), '+PONG\r\n');
  await o.call('SELECT', '0');
  await o.call('DEL', 'mk');
});

test('MONITOR: EVAL, EVALSHA and FCALL show before their script\'s commands, even when they fail', async () => {
  const m = await raw();
  const o = await raw();
  assert.equal(await m.call('MONITOR'), '+OK\r\n');
  await o.call('EVAL', "return redis.call('set', KEYS[1], 'x')", '1', 'mon:k');
  await o.call('EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0');
  await o.call('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=monlib\nredis.register_function('mf', function(k) return redis.call('get', k[1]) end)");
  await o.call('FCALL', 'mf', '1', 'mon:k');
  const lines = [];
  while (lines.length < 6) lines.push(await m.readReply());
  const port = o.sock.localPort;
  const at = `\\[0 127\\.0\\.0\\.1:${port}\\]`;
  assert.match(lines[0], new RegExp(`${at} "eval" "return redis\\.call\\('set', KEYS\\[1\\], 'x'\\)" "1" "mon:k"\\r\\n$`, 'i'));
  assert.match(lines[1], /\[0 lua\] "set" "mon:k" "x"\r\n$/);
  assert.match(lines[2], new RegExp(`${at} "evalsha" "f{40}" "0"\\r\\n$`, 'i'));
  assert.match(lines[3], new RegExp(`${at} "function" "load" "REPLACE"`, 'i'));
  assert.match(lines[4], new RegExp(`${at} "fcall" "mf" "1" "mon:k"\\r\\n$`, 'i'));
  assert.match(lines[5], /\[0 lua\] "get" "mon:k"\r\n$/);
  await m.call('RESET');
  await o.call('DEL', 'mon:k');
  await o.call('FUNCTION', 'DELETE', 'monlib');
});
