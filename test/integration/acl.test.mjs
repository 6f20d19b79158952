// ACL: every SETUSER rule form, the permission check in dispatch (commands,
// key patterns by read/write access, Pub/Sub channels, selectors), AUTH and
// HELLO AUTH (raw, ioredis, node-redis), requirepass as the default user's
// password, ACL LOG, clients killed on DELUSER and on lost channel rights,
// the aclfile (LOAD/SAVE round trip) and `user` directives in a config file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const OK = '+OK\r\n';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
const NOAUTH = '-NOAUTH Authentication required.\r\n';
const NOKEY = '-NOPERM No permissions to access a key\r\n';
const NOCHAN = '-NOPERM No permissions to access a channel\r\n';
const nocmd = (user, cmd) => `-NOPERM User ${user} has no permissions to run the '${cmd}' command\r\n`;
const bulk = (s) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const sha = (s) => createHash('sha256').update(s).digest('hex');

let srv;
const open = [];
const dir = mkdtempSync(join(tmpdir(), 'vireo-acl-'));

before(async () => {
  srv = await startVireo();
});
after(async () => {
  for (const c of open) c.close?.();
  await srv.stop();
});

async function raw(port = srv.port) {
  const c = await RawConn.connect(port);
  open.push(c);
  return c;
}

/** A connection logged in as `user`. */
async function as(user, pass, port = srv.port) {
  const c = await raw(port);
  assert.equal(await c.call('AUTH', user, pass), OK);
  return c;
}

/** ACL LIST line of one user. */
async function listLine(c, name) {
  const r = await c.call('ACL', 'LIST');
  const m = r.split('\r\n').find((l) => l.startsWith(`user ${name} `));
  assert.ok(m, `no ACL LIST line for ${name}: ${r}`);
  return m;
}

test('the default user and WHOAMI', async () => {
  const c = await raw();
  assert.equal(await c.call('ACL', 'WHOAMI'), bulk('default'));
  assert.equal(await listLine(c, 'default'), 'user default on nopass sanitize-payload ~* &* +@all');
  assert.equal(await c.call('ACL', 'USERS'), '*1\r\n' + bulk('default'));
});

test('~app:* +@read: GET app:x works, other keys and SET are refused', async () => {
  const admin = await raw();
  assert.equal(await admin.call('ACL', 'SETUSER', 'app', 'on', '>apppw', '~app:*', '+@read'), OK);
  await admin.call('SET', 'app:x', 'v');
  await admin.call('SET', 'other:x', 'w');
  const c = await as('app', 'apppw');
  assert.equal(await c.call('GET', 'app:x'), bulk('v'));
  assert.equal(await c.call('GET', 'other:x'), NOKEY);
  assert.equal(await c.call('SET', 'app:x', '1'), nocmd('app', 'set'));
  assert.equal(await c.call('MGET', 'app:x', 'other:x'), NOKEY);
  assert.equal(await c.call('ACL', 'WHOAMI'), nocmd('app', 'acl|whoami'));
  // NO_AUTH commands are always allowed.
  assert.equal(await c.call('AUTH', 'app', 'apppw'), OK);
  // Through ioredis (AUTH username password) and node-redis.
  const io = new Redis({ port: srv.port, host: '127.0.0.1', username: 'app', password: 'apppw', lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
  assert.equal(await io.get('app:x'), 'v');
  await assert.rejects(io.get('other:x'), /NOPERM No permissions to access a key/);
  await assert.rejects(io.set('app:x', '2'), /NOPERM User app has no permissions to run the 'set' command/);
  io.disconnect();
  for (const RESP of [2, 3]) {
    const nr = createClient({ url: `redis://127.0.0.1:${srv.port}`, username: 'app', password: 'apppw', RESP });
    await nr.connect();
    assert.equal(await nr.get('app:x'), 'v');
    await assert.rejects(nr.get('other:x'), /NOPERM No permissions to access a key/);
    await assert.rejects(nr.set('app:x', '2'), /NOPERM User app has no permissions to run the 'set' command/);
    await nr.quit();
  }
  // Wrong password through the clients.
  const bad = new Redis({ port: srv.port, host: '127.0.0.1', username: 'app', password: 'nope', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const errors = [];
  bad.on('error', (e) => errors.push(String(e)));
  await assert.rejects(bad.connect());
  bad.disconnect();
  assert.ok(errors.some((e) => e.includes('WRONGPASS invalid username-password pair or user is disabled.')), errors.join());
});

test('password rules: >pass <pass #hash !hash nopass resetpass on off', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', 'on', '>one', '>two', `#${sha('three')}`, '~*', '+@all'), OK);
  assert.equal(await listLine(a, 'pw'), `user pw on sanitize-payload #${sha('one')} #${sha('two')} #${sha('three')} ~* resetchannels +@all`);
  for (const p of ['one', 'two', 'three']) assert.equal(await (await raw()).call('AUTH', 'pw', p), OK);
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', '<one', `!${sha('three')}`), OK);
  const c = await raw();
  assert.equal(await c.call('AUTH', 'pw', 'one'), WRONGPASS);
  assert.equal(await c.call('AUTH', 'pw', 'three'), WRONGPASS);
  assert.equal(await c.call('AUTH', 'pw', 'two'), OK);
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', '<one'), "-ERR Error in ACL SETUSER modifier '<one': The password you are trying to remove from the user does not exist\r\n");
  assert.match(await a.call('ACL', 'SETUSER', 'pw', '#xyz'), /The password hash must be exactly 64 characters/);
  // nopass: any password works; resetpass: none does.
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', 'nopass'), OK);
  assert.equal(await (await raw()).call('AUTH', 'pw', 'whatever'), OK);
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', 'resetpass'), OK);
  assert.equal(await (await raw()).call('AUTH', 'pw', 'whatever'), WRONGPASS);
  assert.equal(await listLine(a, 'pw'), 'user pw on sanitize-payload ~* resetchannels +@all');
  // off: no new logins, existing connections go on (as in Valkey).
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', '>p'), OK);
  const live = await as('pw', 'p');
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', 'off'), OK);
  assert.equal(await (await raw()).call('AUTH', 'pw', 'p'), WRONGPASS);
  assert.equal(await live.call('PING'), '+PONG\r\n');
  assert.equal(await a.call('ACL', 'SETUSER', 'pw', 'on'), OK);
  assert.equal(await (await raw()).call('AUTH', 'pw', 'p'), OK);
  assert.equal(await (await raw()).call('AUTH', 'nosuchuser', 'p'), WRONGPASS);
});

test('key rules: ~ %R~ %W~ %RW~ allkeys resetkeys', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'k', 'on', 'nopass', '+@all', '%R~r:*', '%W~w:*', '%RW~b:*', '~all:*'), OK);
  assert.equal(await listLine(a, 'k'), 'user k on nopass sanitize-payload %R~r:* %W~w:* ~b:* ~all:* resetchannels +@all');
  const c = await as('k', 'x');
  assert.equal(await c.call('GET', 'r:1'), '$-1\r\n');
  assert.equal(await c.call('SET', 'r:1', 'v'), NOKEY);
  assert.equal(await c.call('SET', 'w:1', 'v'), OK);
  assert.equal(await c.call('GET', 'w:1'), NOKEY);
  assert.equal(await c.call('SET', 'b:1', 'v'), OK);
  assert.equal(await c.call('GET', 'b:1'), bulk('v'));
  // COPY reads its source and writes its destination.
  assert.equal(await c.call('COPY', 'r:1', 'w:2'), ':0\r\n');
  assert.equal(await c.call('COPY', 'w:1', 'r:2'), NOKEY);
  // EXISTS needs neither read nor write access (RO without ACCESS): any pattern does.
  assert.equal(await c.call('EXISTS', 'w:1', 'r:1'), ':1\r\n');
  assert.equal(await c.call('EXISTS', 'zzz'), NOKEY);
  // Adding the same pattern again merges the permissions.
  assert.equal(await a.call('ACL', 'SETUSER', 'k', '%W~r:*'), OK);
  assert.equal(await c.call('SET', 'r:1', 'v'), OK);
  assert.equal(await a.call('ACL', 'SETUSER', 'k', 'allkeys'), OK);
  assert.equal(await c.call('SET', 'zzz', 'v'), OK);
  assert.match(await a.call('ACL', 'SETUSER', 'k', '~x'), /Adding a pattern after the \* pattern \(or the 'allkeys' flag\)/);
  assert.equal(await a.call('ACL', 'SETUSER', 'k', 'resetkeys'), OK);
  assert.equal(await c.call('GET', 'zzz'), NOKEY);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  assert.equal(await listLine(a, 'k'), 'user k on nopass sanitize-payload resetchannels +@all');
  assert.match(await a.call('ACL', 'SETUSER', 'k', '%X~a'), /Syntax error/);
  assert.match(await a.call('ACL', 'SETUSER', 'k', '~a b'), /Syntax error/);
});

test('command rules: +cmd -cmd +@cat -@cat +cmd|sub +cmd|arg allcommands nocommands', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'cm', 'on', 'nopass', 'allkeys', '-@all', '+@string', '-set', '+client|id', '+select|0', '+ping'), OK);
  const c = await as('cm', 'x');
  assert.equal(await c.call('GET', 'a'), '$-1\r\n');
  assert.equal(await c.call('APPEND', 'a', 'x'), ':1\r\n');
  assert.equal(await c.call('SET', 'a', 'x'), nocmd('cm', 'set'));
  assert.equal(await c.call('LPUSH', 'l', 'x'), nocmd('cm', 'lpush'));
  assert.match(await c.call('CLIENT', 'ID'), /^:\d+\r\n$/);
  assert.equal(await c.call('CLIENT', 'INFO'), nocmd('cm', 'client|info'));
  assert.equal(await c.call('SELECT', '0'), OK);
  assert.equal(await c.call('SELECT', '1'), nocmd('cm', 'select'));
  assert.equal(await a.call('ACL', 'GETUSER', 'cm').then((r) => r.includes(bulk('-@all +@string -set +client|id +select|0 +ping'))), true);
  // -@category after +@all
  assert.equal(await a.call('ACL', 'SETUSER', 'cm', 'allcommands', '-@dangerous'), OK);
  assert.equal(await c.call('SET', 'a', 'x'), OK);
  assert.equal(await c.call('FLUSHALL'), nocmd('cm', 'flushall'));
  assert.equal(await c.call('CONFIG', 'GET', 'port'), nocmd('cm', 'config|get'));
  assert.equal(await a.call('ACL', 'SETUSER', 'cm', '+config|get'), OK);
  assert.match(await c.call('CONFIG', 'GET', 'port'), /^\*2\r\n/);
  assert.equal(await a.call('ACL', 'SETUSER', 'cm', 'nocommands'), OK);
  assert.equal(await c.call('GET', 'a'), nocmd('cm', 'get'));
  assert.equal(await listLine(a, 'cm'), 'user cm on nopass sanitize-payload ~* resetchannels -@all');
  assert.match(await a.call('ACL', 'SETUSER', 'cm', '+nosuch'), /Unknown command or category name in ACL/);
  assert.match(await a.call('ACL', 'SETUSER', 'cm', '+@nosuch'), /Unknown command or category name in ACL/);
  assert.match(await a.call('ACL', 'SETUSER', 'cm', '+config|get|x'), /Allowing first-arg of a subcommand is not supported/);
  // A failing rule leaves the user untouched (all or nothing).
  assert.match(await a.call('ACL', 'SETUSER', 'cm', '+get', 'bogus'), /Error in ACL SETUSER modifier 'bogus': Syntax error/);
  assert.equal(await c.call('GET', 'a'), nocmd('cm', 'get'));
});

test('channel rules: &pattern allchannels resetchannels, and subscribers losing a channel are killed', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'ch', 'on', 'nopass', 'allkeys', '+@all', '&news.*', '&exact'), OK);
  const c = await as('ch', 'x');
  assert.equal(await c.call('PUBLISH', 'news.1', 'm'), ':0\r\n');
  assert.equal(await c.call('PUBLISH', 'other', 'm'), NOCHAN);
  assert.equal(await c.call('SUBSCRIBE', 'news.1', 'other'), NOCHAN);
  assert.equal(await c.call('PSUBSCRIBE', 'news.1*'), NOCHAN);
  assert.equal(await c.call('SSUBSCRIBE', 'other'), NOCHAN);
  assert.match(await c.call('PSUBSCRIBE', 'news.*'), /psubscribe/);
  const s2 = await as('ch', 'x');
  assert.match(await s2.call('SUBSCRIBE', 'exact'), /subscribe/);
  // Keeping every channel (and adding one) kills nobody.
  assert.equal(await a.call('ACL', 'SETUSER', 'ch', '&more'), OK);
  assert.equal(await s2.call('PING'), '*2\r\n$4\r\npong\r\n$0\r\n\r\n');
  // Losing "exact" kills the subscriber of exact only.
  assert.equal(await a.call('ACL', 'SETUSER', 'ch', 'resetchannels', '&news.*'), OK);
  await s2.waitClosed();
  assert.equal(await c.call('PING'), '*2\r\n$4\r\npong\r\n$0\r\n\r\n');
  assert.equal(await a.call('ACL', 'SETUSER', 'ch', 'resetchannels'), OK);
  await c.waitClosed();
  assert.equal(await a.call('ACL', 'SETUSER', 'ch', 'allchannels'), OK);
  assert.equal(await listLine(a, 'ch'), 'user ch on nopass sanitize-payload ~* &* +@all');
  assert.match(await a.call('ACL', 'SETUSER', 'ch', '&x'), /Adding a pattern after the \* pattern \(or the 'allchannels' flag\)/);
});

test('selectors and clearselectors, reset', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'sel', 'on', 'nopass', '~a:*', '+get', '(~b:* +set)', '(~c:*', '+@hash)'), OK);
  assert.equal(await listLine(a, 'sel'), 'user sel on nopass sanitize-payload ~a:* resetchannels -@all +get (~b:* resetchannels -@all +set) (~c:* resetchannels -@all +@hash)');
  const c = await as('sel', 'x');
  assert.equal(await c.call('GET', 'a:1'), '$-1\r\n');
  assert.equal(await c.call('SET', 'b:1', 'v'), OK);
  assert.equal(await c.call('HSET', 'c:1', 'f', 'v'), ':1\r\n');
  assert.equal(await c.call('SET', 'a:1', 'v'), NOKEY); // "set" passes in a selector, the key fails there
  assert.equal(await c.call('GET', 'b:1'), NOKEY);
  assert.equal(await c.call('LPUSH', 'a:1', 'x'), nocmd('sel', 'lpush'));
  assert.equal(await a.call('ACL', 'SETUSER', 'sel', '(~d:*'), "-ERR Unmatched parenthesis in acl selector starting at '(~d:*'.\r\n");
  assert.equal(await a.call('ACL', 'SETUSER', 'sel', 'clearselectors'), OK);
  assert.equal(await c.call('SET', 'b:1', 'v'), nocmd('sel', 'set'));
  assert.equal(await a.call('ACL', 'SETUSER', 'sel', 'reset'), OK);
  assert.equal(await listLine(a, 'sel'), 'user sel off sanitize-payload resetchannels -@all');
  assert.equal(await a.call('ACL', 'SETUSER', 'sel', 'skip-sanitize-payload'), OK);
  assert.equal(await listLine(a, 'sel'), 'user sel off skip-sanitize-payload resetchannels -@all');
});

test('ACL GETUSER shape in RESP2 and RESP3', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'gu', 'on', '>p', '~k*', '&c', '-@all', '+get', '(%R~x +set)'), OK);
  const h = sha('p');
  const sel = bulk('commands') + bulk('-@all +set') + bulk('keys') + bulk('%R~x') + bulk('channels') + bulk('');
  const body = (m, s) =>
    bulk('flags') + `${s}2\r\n` + bulk('on') + bulk('sanitize-payload') + bulk('passwords') + '*1\r\n' + bulk(h) +
    bulk('commands') + bulk('-@all +get') + bulk('keys') + bulk('~k*') + bulk('channels') + bulk('&c') +
    bulk('selectors') + '*1\r\n' + m + sel;
  assert.equal(await a.call('ACL', 'GETUSER', 'gu'), '*12\r\n' + body('*6\r\n', '*'));
  await a.call('HELLO', '3');
  assert.equal(await a.call('ACL', 'GETUSER', 'gu'), '%6\r\n' + body('%3\r\n', '~'));
  assert.equal(await a.call('ACL', 'GETUSER', 'nosuch'), '_\r\n');
});

test('ACL CAT, GENPASS, DRYRUN, DELUSER, HELP errors', async () => {
  const a = await raw();
  const cats = await a.call('ACL', 'CAT');
  assert.ok(cats.startsWith('*21\r\n' + bulk('keyspace') + bulk('read') + bulk('write')));
  const geo = await a.call('ACL', 'CAT', 'geo');
  assert.ok(geo.includes(bulk('geoadd')) && geo.includes(bulk('geosearchstore')));
  assert.ok((await a.call('ACL', 'CAT', 'dangerous')).includes(bulk('config|set')));
  assert.equal(await a.call('ACL', 'CAT', 'nope'), "-ERR Unknown category 'nope'\r\n");
  assert.match(await a.call('ACL', 'GENPASS'), /^\$64\r\n[0-9a-f]{64}\r\n$/);
  assert.match(await a.call('ACL', 'GENPASS', '5'), /^\$2\r\n[0-9a-f]{2}\r\n$/);
  assert.match(await a.call('ACL', 'GENPASS', '0'), /positive number up to 4096/);
  assert.equal(await a.call('ACL', 'SETUSER', 'dr', 'on', 'nopass', '~k', '+get'), OK);
  assert.equal(await a.call('ACL', 'DRYRUN', 'dr', 'get', 'k'), OK);
  assert.equal(await a.call('ACL', 'DRYRUN', 'dr', 'get', 'z'), bulk("User dr has no permissions to access the 'z' key"));
  assert.equal(await a.call('ACL', 'DRYRUN', 'dr', 'set', 'k', 'v'), bulk("User dr has no permissions to run the 'set' command"));
  assert.equal(await a.call('ACL', 'DRYRUN', 'nosuch', 'get', 'k'), "-ERR User 'nosuch' not found\r\n");
  assert.equal(await a.call('ACL', 'DRYRUN', 'dr', 'nosuch'), "-ERR Command 'nosuch' not found\r\n");
  assert.equal(await a.call('ACL', 'DRYRUN', 'dr', 'get'), "-ERR wrong number of arguments for 'get' command\r\n");
  assert.equal(await a.call('ACL', 'DELUSER', 'default'), "-ERR The 'default' user cannot be removed\r\n");
  assert.equal(await a.call('ACL', 'DELUSER', 'dr', 'nosuch'), ':1\r\n');
  assert.equal(await a.call('ACL', 'SETUSER', 'a b'), "-ERR Usernames can't contain spaces or null characters\r\n");
  assert.match(await a.call('ACL', 'LOAD'), /^-ERR This Redis instance is not configured to use an ACL file/);
  assert.match(await a.call('ACL', 'HELP'), /^\*\d+\r\n\+ACL <subcommand>/);
});

test('DELUSER kills the user\'s clients; CLIENT LIST and CLIENT KILL USER know users', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'gone', 'on', '>p', '~*', '+@all'), OK);
  const c1 = await as('gone', 'p');
  const c2 = await as('gone', 'p');
  const list = await a.call('CLIENT', 'LIST');
  assert.equal(list.split('user=gone').length - 1, 2);
  assert.equal(await a.call('CLIENT', 'KILL', 'USER', 'gone'), ':2\r\n');
  await c1.waitClosed();
  await c2.waitClosed();
  assert.equal(await a.call('CLIENT', 'KILL', 'USER', 'nosuch'), "-ERR No such user 'nosuch'\r\n");
  const c3 = await as('gone', 'p');
  assert.equal(await a.call('ACL', 'DELUSER', 'gone'), ':1\r\n');
  await c3.waitClosed();
  // A user deleting itself gets its reply, then the connection closes.
  assert.equal(await a.call('ACL', 'SETUSER', 'self', 'on', '>p', '~*', '+@all'), OK);
  const s = await as('self', 'p');
  assert.equal(await s.call('ACL', 'DELUSER', 'self'), ':1\r\n');
  await s.waitClosed();
});

test('requirepass is the default user\'s password; NOAUTH; HELLO AUTH', async () => {
  const s = await startVireo(['--requirepass', 'secret']);
  try {
    const c = await raw(s.port);
    assert.equal(await c.call('GET', 'x'), NOAUTH);
    assert.equal(await c.call('AUTH', 'wrong'), WRONGPASS);
    assert.equal(await c.call('AUTH', 'secret'), OK);
    assert.ok((await c.call('ACL', 'GETUSER', 'default')).includes(bulk(sha('secret'))));
    assert.equal(await c.call('ACL', 'SETUSER', 'u', 'on', '>up', '~*', '+@all'), OK);
    const h = await raw(s.port);
    assert.match(await h.call('HELLO', '3', 'AUTH', 'u', 'up'), /^%7\r\n/);
    assert.equal(await h.call('ACL', 'WHOAMI'), bulk('u'));
    assert.equal(await (await raw(s.port)).call('HELLO', '2', 'AUTH', 'u', 'bad'), WRONGPASS);
    // CONFIG SET requirepass replaces the default user's passwords.
    assert.equal(await c.call('CONFIG', 'SET', 'requirepass', 'other'), OK);
    assert.equal(await (await raw(s.port)).call('AUTH', 'secret'), WRONGPASS);
    assert.equal(await (await raw(s.port)).call('AUTH', 'default', 'other'), OK);
    assert.equal(await c.call('CONFIG', 'SET', 'requirepass', ''), OK);
    assert.equal(await (await raw(s.port)).call('GET', 'x'), '$-1\r\n');
    // The default user turned off: new connections must authenticate.
    assert.equal(await c.call('ACL', 'SETUSER', 'default', 'off'), OK);
    const d = await raw(s.port);
    assert.equal(await d.call('PING'), NOAUTH);
    assert.equal(await d.call('AUTH', 'u', 'up'), OK);
    assert.equal(await d.call('PING'), '+PONG\r\n');
    // node-redis with username/password, RESP3 (HELLO 3 AUTH).
    const nr = createClient({ url: `redis://127.0.0.1:${s.port}`, username: 'u', password: 'up', RESP: 3 });
    await nr.connect();
    assert.equal(await nr.sendCommand(['ACL', 'WHOAMI']), 'u');
    await nr.quit();
  } finally {
    await s.stop();
  }
});

test('EXEC re-checks queued commands against rules changed since MULTI', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'SETUSER', 'txu', 'on', '>p', '~*', '+@all'), OK);
  const c = await as('txu', 'p');
  assert.equal(await c.call('MULTI'), OK);
  assert.equal(await c.call('SET', 'txk', '1'), '+QUEUED\r\n');
  assert.equal(await c.call('GET', 'txk'), '+QUEUED\r\n');
  assert.equal(await a.call('ACL', 'SETUSER', 'txu', '-set'), OK);
  assert.equal(
    await c.call('EXEC'),
    '*2\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. ' +
      'This command is no longer allowed for the following reason: no permission to execute the command or subcommand\r\n$-1\r\n',
  );
  assert.equal(await a.call('EXISTS', 'txk'), ':0\r\n');
  assert.equal(await a.call('ACL', 'DELUSER', 'txu'), ':1\r\n');
});

test('ACL LOG: entries with every field, grouping, auth failures, RESET, acllog-max-len', async () => {
  const a = await raw();
  assert.equal(await a.call('ACL', 'LOG', 'RESET'), OK);
  assert.equal(await a.call('ACL', 'SETUSER', 'lg', 'on', '>p', '~k:*', '&c', '+get', '+publish', '+multi', '+exec'), OK);
  const c = await as('lg', 'p');
  await c.call('SET', 'k:1', 'v');
  await c.call('SET', 'k:1', 'v');
  await c.call('GET', 'zz');
  await c.call('PUBLISH', 'nope', 'm');
  assert.equal(await c.call('MULTI'), OK);
  assert.equal(await c.call('GET', 'qq'), NOKEY);
  assert.equal(await c.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
  await (await raw()).call('AUTH', 'lg', 'wrongpw');
  const io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true });
  await io.connect();
  const log = await io.call('ACL', 'LOG');
  io.disconnect();
  const entries = log.map((e) => {
    const o = {};
    for (let i = 0; i < e.length; i += 2) o[e[i]] = e[i + 1];
    return o;
  });
  assert.equal(entries.length, 5);
  for (const e of entries) {
    assert.deepEqual(Object.keys(e), ['count', 'reason', 'context', 'object', 'username', 'age-seconds', 'client-info', 'entry-id', 'timestamp-created', 'timestamp-last-updated']);
    assert.ok(Math.abs(e['timestamp-created'] - Date.now()) < 60000);
    assert.ok(Number(e['age-seconds']) >= 0);
    assert.match(e['client-info'], /^id=\d+ addr=127\.0\.0\.1:\d+ /);
  }
  const [auth, multi, chan, key, cmd] = entries;
  assert.deepEqual([auth.reason, auth.context, auth.object, auth.username, auth.count], ['auth', 'toplevel', 'AUTH', 'lg', 1]);
  assert.deepEqual([multi.reason, multi.context, multi.object, multi.username], ['key', 'multi', 'qq', 'lg']);
  assert.deepEqual([chan.reason, chan.context, chan.object], ['channel', 'toplevel', 'nope']);
  assert.deepEqual([key.reason, key.object], ['key', 'zz']);
  assert.deepEqual([cmd.reason, cmd.object, cmd.count, cmd.username], ['command', 'set', 2, 'lg']);
  assert.match(cmd['client-info'], /user=lg/);
  // entry-id counts every entry ever created (ACL LOG RESET does not restart it).
  const id0 = entries[4]['entry-id'];
  assert.deepEqual(entries.map((e) => e['entry-id']), [id0 + 4, id0 + 3, id0 + 2, id0 + 1, id0]);
  assert.ok(cmd['timestamp-last-updated'] >= cmd['timestamp-created']);
  assert.match(await a.call('ACL', 'LOG', '1'), /^\*1\r\n\*20\r\n/);
  await a.call('HELLO', '3');
  assert.match(await a.call('ACL', 'LOG', '1'), /^\*1\r\n%10\r\n\$5\r\ncount\r\n:1\r\n/);
  assert.match(await a.call('ACL', 'LOG', '1'), /\$11\r\nage-seconds\r\n,[0-9.e-]+\r\n/);
  assert.equal(await a.call('CONFIG', 'SET', 'acllog-max-len', '2'), OK);
  await c.call('GET', 'x1');
  await c.call('GET', 'x2');
  await c.call('GET', 'x3');
  assert.match(await a.call('ACL', 'LOG', '100'), /^\*2\r\n/);
  assert.equal(await a.call('CONFIG', 'SET', 'acllog-max-len', '0'), OK);
  await c.call('GET', 'x4');
  assert.equal(await a.call('ACL', 'LOG'), '*0\r\n');
  assert.equal(await a.call('ACL', 'LOG', 'RESET'), OK);
  assert.equal(await a.call('ACL', 'LOG'), '*0\r\n');
  assert.equal(await a.call('ACL', 'LOG', 'x'), '-ERR value is not an integer or out of range\r\n');
  await a.call('CONFIG', 'SET', 'acllog-max-len', '128');
  // INFO counts the denials.
  const stats = await a.call('INFO', 'stats');
  for (const f of ['auth', 'cmd', 'key', 'channel']) assert.match(stats, new RegExp(`acl_access_denied_${f}:[1-9]`));
});

test('aclfile: start-up load, ACL SAVE / ACL LOAD round trip, errors', async () => {
  const file = join(dir, 'users.acl');
  writeFileSync(file, `user default on nopass ~* &* +@all\nuser f1 on #${sha('fp')} ~f:* resetchannels -@all +get\n`);
  const s = await startVireo(['--aclfile', file]);
  try {
    const a = await raw(s.port);
    assert.equal(await listLine(a, 'f1'), `user f1 on sanitize-payload #${sha('fp')} ~f:* resetchannels -@all +get`);
    assert.equal(await a.call('CONFIG', 'GET', 'aclfile'), '*2\r\n' + bulk('aclfile') + bulk(file));
    const f1 = await as('f1', 'fp', s.port);
    assert.equal(await a.call('ACL', 'SETUSER', 'f2', 'on', '>p2', '~*', '&x', '+@all', '-@dangerous', '(~y +get)'), OK);
    assert.equal(await a.call('ACL', 'SAVE'), OK);
    const saved = readFileSync(file, 'latin1');
    assert.equal(
      saved,
      `user default on nopass sanitize-payload ~* &* +@all\n` +
        `user f1 on sanitize-payload #${sha('fp')} ~f:* resetchannels -@all +get\n` +
        `user f2 on sanitize-payload #${sha('p2')} ~* resetchannels &x +@all -@dangerous (~y resetchannels -@all +get)\n`,
    );
    assert.equal(await a.call('ACL', 'DELUSER', 'f2'), ':1\r\n');
    assert.equal(await a.call('ACL', 'LOAD'), OK);
    assert.equal(await listLine(a, 'f2'), `user f2 on sanitize-payload #${sha('p2')} ~* resetchannels &x +@all -@dangerous (~y resetchannels -@all +get)`);
    // Connections of users that still exist stay and follow the new rules;
    // those of users gone from the file, and subscribers losing a channel, are closed.
    assert.equal(await f1.call('GET', 'f:1'), '$-1\r\n');
    const f2 = await as('f2', 'p2', s.port);
    const f2sub = await as('f2', 'p2', s.port);
    assert.match(await f2sub.call('SUBSCRIBE', 'x'), /subscribe/);
    writeFileSync(file, `user f1 on #${sha('fp')} ~g:* -@all +get\nuser default on nopass ~* &* +@all\n`);
    assert.equal(await a.call('ACL', 'LOAD'), OK);
    await f2.waitClosed();
    await f2sub.waitClosed();
    assert.equal(await f1.call('GET', 'f:1'), NOKEY);
    assert.equal(await f1.call('GET', 'g:1'), '$-1\r\n');
    assert.equal(await a.call('PING'), '+PONG\r\n');
    assert.equal(await a.call('ACL', 'SAVE'), OK);
    assert.equal(await a.call('ACL', 'SETUSER', 'f2', 'on', '>p2', '~*', '&x', '+@all'), OK);
    const f2b = await as('f2', 'p2', s.port);
    assert.match(await f2b.call('SUBSCRIBE', 'x'), /subscribe/);
    writeFileSync(file, readFileSync(file, 'latin1') + 'user f2 on #' + sha('p2') + ' ~* &y +@all\n');
    assert.equal(await a.call('ACL', 'LOAD'), OK);
    await f2b.waitClosed();
    // A broken file changes nothing.
    writeFileSync(file, 'user f3 on +nosuch\nuser f3 on\n# comment\n');
    const err = await a.call('ACL', 'LOAD');
    assert.ok(err.startsWith(`-ERR ${file}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: Duplicate user 'f3' found on line 2. ${file}:3 should start with user keyword followed by the username. WARNING: ACL errors detected`), err);
    assert.equal(await a.call('ACL', 'USERS'), '*3\r\n' + bulk('default') + bulk('f1') + bulk('f2'));
    assert.equal(await f1.call('GET', 'g:1'), '$-1\r\n');
  } finally {
    await s.stop();
  }
  // A missing or broken aclfile stops the start-up.
  await assert.rejects(startVireo(['--aclfile', join(dir, 'missing.acl')]), /Error loading ACLs, opening file/);
});

test('user directives in a config file, and not together with aclfile', async () => {
  const conf = join(dir, 'users.conf');
  writeFileSync(conf, 'user default on >dpw ~* &* +@all\nuser cu on >cp ~c:* +@read "(~w:* +set)"\n');
  const s = await startVireo([], { configFile: conf });
  try {
    const c = await raw(s.port);
    assert.equal(await c.call('PING'), NOAUTH);
    assert.equal(await c.call('AUTH', 'cu', 'cp'), OK);
    assert.equal(await c.call('GET', 'c:1'), '$-1\r\n');
    assert.equal(await c.call('SET', 'w:1', 'v'), OK);
    assert.equal(await c.call('SET', 'c:1', 'v'), NOKEY);
    assert.equal(await c.call('AUTH', 'dpw'), OK);
    assert.equal(await listLine(c, 'cu'), `user cu on sanitize-payload #${sha('cp')} ~c:* resetchannels -@all +@read (~w:* resetchannels -@all +set)`);
  } finally {
    await s.stop();
  }
  const both = join(dir, 'both.conf');
  writeFileSync(both, `aclfile ${join(dir, 'users.acl')}\nuser x on nopass\n`);
  await assert.rejects(startVireo([], { configFile: both }), /users defined in valkey.conf and at the same setting an ACL file path is invalid/);
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, 'user x on %Q~k\n');
  await assert.rejects(startVireo([], { configFile: bad }), /Error loading ACL rule '%Q~k' for the user named 'x': Syntax error/);
});
