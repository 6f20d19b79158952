// Connection commands: PING, ECHO, QUIT, RESET, SELECT, HELLO, AUTH and the
// CLIENT container (ID, INFO, LIST, KILL, SETNAME, GETNAME, SETINFO, PAUSE,
// UNPAUSE, REPLY, NO-EVICT, NO-TOUCH, CAPA, HELP).
//
// Arity and "unknown subcommand" errors come from the dispatcher; everything
// a handler checks beyond that answers with Valkey 8's exact error text.
import type { HandlerMap } from './table.js';
import { ReplyMode, type Client, type ClientType } from '../server/client.js';
import { VALKEY_COMPAT_VERSION } from '../server/server.js';
import { INT64_MAX, parseInt64 } from '../util/numbers.js';
import { E_DB_INDEX, E_NOT_INT, E_SYNTAX } from './errors.js';
import { trackingCommands } from '../server/tracking.js';

const E_WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
const E_AUTH_NOPASS =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?';
const E_HELLO_NOAUTH =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time';
const E_NAME_CHARS = 'ERR Client names cannot contain spaces, newlines or special characters.';
const E_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';

/** The user AUTH <password> logs in as (its password is requirepass unless ACL rules say otherwise). */
const DEFAULT_USER = 'default';

// ------------------------------------------------------------------ helpers

/** Client names, lib-name and lib-ver must be printable ASCII without spaces ('!'..'~'). */
function validAttr(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

/** Logs the client in through the ACL module, or replies WRONGPASS (logged in ACL LOG) and leaves its state as it was. */
function authenticate(c: Client, user: string, pass: string, argv0: string): boolean {
  if (!c.server.acl.authenticate(c, user, pass, argv0)) {
    c.addError(E_WRONGPASS);
    return false;
  }
  return true;
}

/** Client type from a TYPE argument (Valkey's getClientTypeByName). */
function clientTypeByName(name: string): ClientType | null {
  switch (name.toLowerCase()) {
    case 'normal':
      return 'normal';
    case 'slave':
    case 'replica':
      return 'replica';
    case 'pubsub':
      return 'pubsub';
    case 'master':
    case 'primary':
      return 'master';
    default:
      return null;
  }
}

/**
 * Before a client describes itself: CLIENT LIST/INFO show the command being
 * run (cmd=client|list) and its argument bytes (argv-mem), as Valkey does,
 * since the dispatcher only records the command once it has finished.
 */
function describeSelf(c: Client, argv: string[], fullname: string): void {
  c.lastCmd = fullname;
  let n = 0;
  for (let i = 0; i < argv.length; i++) n += argv[i].length;
  c.argvMem = n;
}

/** Valkey's reply for a CLIENT subcommand called with arguments it does not take. */
function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
}

/** A HELP reply in Valkey's shape: header line, entries, then HELP itself, as simple strings. */
export function replyHelp(c: Client, command: string, lines: readonly string[]): void {
  c.addArrayLen(lines.length + 3);
  c.addSimple(`${command.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.addSimple(l);
  c.addSimple('HELP');
  c.addSimple('    Print this help text.');
}

// ------------------------------------------------------------------ top-level commands

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    c.addError("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (c.subscribed && c.resp === 2) {
    // In the RESP2 subscribed context PING answers in the shape of a message.
    c.addArrayLen(2);
    c.addBulk('pong');
    c.addBulk(argv.length === 2 ? argv[1] : '');
    return;
  }
  if (argv.length === 2) c.addBulk(argv[1]);
  else c.addSimple('PONG');
}

function echo(c: Client, argv: string[]): void {
  c.addBulk(argv[1]);
}

function quit(c: Client): void {
  c.addOK();
  c.closeAfterReply = true;
}

/** RESET: back to the state of a fresh connection (the library name and version stay). */
function reset(c: Client): void {
  const server = c.server;
  if (c.monitor) {
    server.monitors.delete(c);
    c.monitor = false;
  }
  c.db = server.dbs[0];
  c.resp = 2;
  server.acl.setDefaultAuth(c);
  c.name = '';
  c.replyMode = ReplyMode.On;
  c.noEvict = false;
  c.noTouch = false;
  if (c.subs !== null) server.pubsub.removeClient(c);
  // Leave MULTI and drop every WATCH (as DISCARD does).
  c.multi = null;
  c.dirtyCas = false;
  server.watch.unwatchAll(c);
  server.tracking.disable(c);
  c.clusterFlags = 0; // READONLY / ASKING
  c.addSimple('RESET');
}

function select(c: Client, argv: string[]): void {
  const v = parseInt64(argv[1]);
  if (v === null) {
    c.addError(E_NOT_INT);
    return;
  }
  if (typeof v === 'bigint' || v < -2147483648 || v > 2147483647) {
    c.addError(E_INT_RANGE);
    return;
  }
  if (c.server.cluster !== null && v !== 0) {
    c.addError('ERR SELECT is not allowed in cluster mode');
    return;
  }
  const dbs = c.server.dbs;
  if (v < 0 || v >= dbs.length) {
    c.addError(E_DB_INDEX);
    return;
  }
  c.db = dbs[v];
  c.addOK();
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
function hello(c: Client, argv: string[]): void {
  const argc = argv.length;
  let ver = 0;
  if (argc >= 2) {
    const v = parseInt64(argv[1]);
    if (v === null) {
      c.addError('ERR Protocol version is not an integer or out of range');
      return;
    }
    if (v !== 2 && v !== 3) {
      c.addError('NOPROTO unsupported protocol version');
      return;
    }
    ver = v;
  }
  let user: string | null = null;
  let pass = '';
  let name: string | null = null;
  for (let j = 2; j < argc; j++) {
    const more = argc - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === 'auth' && more >= 2) {
      user = argv[j + 1];
      pass = argv[j + 2];
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      name = argv[j + 1];
      if (!validAttr(name)) {
        c.addError(E_NAME_CHARS);
        return;
      }
      j++;
    } else {
      c.addError(`ERR Syntax error in HELLO option '${argv[j]}'`);
      return;
    }
  }
  if (user !== null && !authenticate(c, user, pass, argv[0])) return;
  if (!c.authenticated) {
    c.addError(E_HELLO_NOAUTH);
    return;
  }
  if (name !== null) c.name = name;
  if (ver !== 0) c.resp = ver as 2 | 3;
  c.addMapLen(7);
  c.addBulk('server');
  c.addBulk('valkey');
  c.addBulk('version');
  c.addBulk(VALKEY_COMPAT_VERSION);
  c.addBulk('proto');
  c.addInt(c.resp);
  c.addBulk('id');
  c.addInt(c.id);
  c.addBulk('mode');
  c.addBulk('standalone');
  c.addBulk('role');
  c.addBulk(c.server.repl.isReplica ? 'replica' : 'master');
  c.addBulk('modules');
  c.addArrayLen(0);
}

/** AUTH [username] password */
function auth(c: Client, argv: string[]): void {
  const argc = argv.length;
  if (argc > 3) {
    c.addError(E_SYNTAX);
    return;
  }
  let user = DEFAULT_USER;
  let pass: string;
  if (argc === 2) {
    if (c.server.acl.defaultUser.nopass) {
      c.addError(E_AUTH_NOPASS);
      return;
    }
    pass = argv[1];
  } else {
    user = argv[1];
    pass = argv[2];
  }
  if (authenticate(c, user, pass, argv[0])) c.addOK();
}

// ------------------------------------------------------------------ CLIENT subcommands

const CLIENT_HELP: readonly string[] = [
  'CAPA <capability> [<capability> ...]',
  '    Declare what this connection can handle. Known: REDIRECT; others are ignored.',
  'GETNAME',
  '    Reply with the name of this connection, or a null reply when it has none.',
  'ID',
  '    Reply with the unique ID of this connection.',
  'INFO',
  '    Reply with one line describing this connection, as CLIENT LIST shows it.',
  'KILL <ip:port>',
  '    Close the connection coming from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Close every connection matching all the given filters and reply with how many:',
  '    * ID <client-id>',
  '      The connection with this ID.',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Connections of this type.',
  '    * USER <username>',
  '      Connections logged in as <username>.',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      The connection coming from this remote address.',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Connections made to this local address.',
  '    * MAXAGE <maxage>',
  '      Connections open for at least <maxage> seconds.',
  '    * SKIPME (YES|NO)',
  '      Whether to spare the calling connection (YES unless told otherwise).',
  'LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> [<client-id> ...]]',
  '    Reply with one line per connection, optionally only of one type or with given IDs.',
  'NO-EVICT (ON|OFF)',
  '    Exempt this connection from client eviction, or stop exempting it.',
  'NO-TOUCH (ON|OFF)',
  '    While ON, commands from this connection leave the LRU/LFU data of keys unchanged.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Hold back commands of all clients (ALL) or only writes (WRITE) for <timeout> ms.',
  'REPLY (ON|OFF|SKIP)',
  '    Turn replies to this connection on, off, or off for the next command only.',
  'SETINFO <option> <value>',
  '    Record details about the client library. Options:',
  '    * LIB-NAME <name>',
  '      Name of the library.',
  '    * LIB-VER <version>',
  '      Version of the library.',
  'SETNAME <name>',
  '    Give this connection a name (an empty name removes it).',
  'UNPAUSE',
  '    End a pause started by CLIENT PAUSE and let held-back commands run.',
];

function clientHelp(c: Client, argv: string[]): void {
  replyHelp(c, argv[0], CLIENT_HELP);
}

function clientId(c: Client): void {
  c.addInt(c.id);
}

function clientInfo(c: Client, argv: string[]): void {
  describeSelf(c, argv, 'client|info');
  const line = c.describe() + '\n';
  c.argvMem = 0;
  c.addVerbatim(line);
}

function clientList(c: Client, argv: string[]): void {
  const argc = argv.length;
  const clients = c.server.clients;
  let type: ClientType | null = null;
  let ids: number[] | null = null;
  if (argc === 4 && argv[2].toLowerCase() === 'type') {
    type = clientTypeByName(argv[3]);
    if (type === null) {
      c.addError(`ERR Unknown client type '${argv[3]}'`);
      return;
    }
  } else if (argc > 3 && argv[2].toLowerCase() === 'id') {
    ids = [];
    for (let j = 3; j < argc; j++) {
      const v = parseInt64(argv[j]);
      if (v === null) {
        c.addError('ERR Invalid client ID');
        return;
      }
      ids.push(Number(v));
    }
  } else if (argc !== 2) {
    c.addError(E_SYNTAX);
    return;
  }
  describeSelf(c, argv, 'client|list');
  let out = '';
  if (ids !== null) {
    for (const id of ids) {
      const cl = clients.get(id);
      if (cl !== undefined) out += cl.describe() + '\n';
    }
  } else {
    for (const cl of clients.values()) {
      if (type === null || cl.clientType() === type) out += cl.describe() + '\n';
    }
  }
  c.argvMem = 0;
  c.addVerbatim(out);
}

/**
 * CLIENT KILL addr:port (replies OK or an error), or
 * CLIENT KILL <filter> <value> ... (replies the number of clients closed).
 */
function clientKill(c: Client, argv: string[]): void {
  const argc = argv.length;
  let addr: string | null = null;
  let laddr: string | null = null;
  let user: string | null = null;
  let type: ClientType | null = null;
  let id = 0;
  let maxAge = 0;
  let skipMe = true;
  if (argc === 3) {
    addr = argv[2];
    skipMe = false; // the old form can close the caller too
  } else {
    for (let i = 2; i < argc; i += 2) {
      const more = argc > i + 1;
      const opt = argv[i].toLowerCase();
      const val = more ? argv[i + 1] : '';
      if (opt === 'id' && more) {
        const v = parseInt64(val);
        if (v === null || v < 1) {
          c.addError('ERR client-id should be greater than 0');
          return;
        }
        id = Number(v);
      } else if (opt === 'maxage' && more) {
        const v = parseInt64(val);
        if (v === null) {
          c.addError('ERR maxage is not an integer or out of range');
          return;
        }
        if (v <= 0) {
          c.addError('ERR maxage should be greater than 0');
          return;
        }
        maxAge = Number(v);
      } else if (opt === 'type' && more) {
        type = clientTypeByName(val);
        if (type === null) {
          c.addError(`ERR Unknown client type '${val}'`);
          return;
        }
      } else if (opt === 'addr' && more) {
        addr = val;
      } else if (opt === 'laddr' && more) {
        laddr = val;
      } else if (opt === 'user' && more) {
        if (c.server.acl.getUser(val) === undefined) {
          c.addError(`ERR No such user '${val}'`);
          return;
        }
        user = val;
      } else if (opt === 'skipme' && more) {
        const v = val.toLowerCase();
        if (v === 'yes') skipMe = true;
        else if (v === 'no') skipMe = false;
        else {
          c.addError(E_SYNTAX);
          return;
        }
      } else {
        c.addError(E_SYNTAX);
        return;
      }
    }
  }
  const now = Date.now();
  let killed = 0;
  let closeSelf = false;
  for (const cl of [...c.server.clients.values()]) {
    if (addr !== null && cl.addr !== addr) continue;
    if (laddr !== null && cl.laddr !== laddr) continue;
    if (type !== null && cl.clientType() !== type) continue;
    if (id !== 0 && cl.id !== id) continue;
    if (user !== null && cl.user !== user) continue;
    if (cl === c && skipMe) continue;
    if (maxAge !== 0 && Math.floor((now - cl.createdMs) / 1000) < maxAge) continue;
    if (cl === c) closeSelf = true;
    else cl.closeNow();
    killed++;
  }
  if (argc === 3) {
    if (killed === 0) c.addError('ERR No such client');
    else c.addOK();
  } else {
    c.addInt(killed);
  }
  // Only after the reply is queued: the caller goes once it has been written.
  if (closeSelf) c.closeAfterReply = true;
}

function clientSetName(c: Client, argv: string[]): void {
  const name = argv[2];
  if (!validAttr(name)) {
    c.addError(E_NAME_CHARS);
    return;
  }
  c.name = name;
  c.addOK();
}

function clientGetName(c: Client): void {
  if (c.name === '') c.addNull();
  else c.addBulk(c.name);
}

function clientSetInfo(c: Client, argv: string[]): void {
  const attr = argv[2];
  const val = argv[3];
  const which = attr.toLowerCase();
  if (which !== 'lib-name' && which !== 'lib-ver') {
    c.addError(`ERR Unrecognized option '${attr}'`);
    return;
  }
  if (!validAttr(val)) {
    c.addError(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
    return;
  }
  if (which === 'lib-name') c.libName = val;
  else c.libVer = val;
  c.addOK();
}

function clientPause(c: Client, argv: string[]): void {
  const argc = argv.length;
  if (argc > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  let all = true;
  if (argc === 4) {
    const mode = argv[3].toLowerCase();
    if (mode === 'write') all = false;
    else if (mode !== 'all') {
      c.addError('ERR CLIENT PAUSE mode must be WRITE or ALL');
      return;
    }
  }
  const v = parseInt64(argv[2]);
  if (v === null) {
    c.addError('ERR timeout is not an integer or out of range');
    return;
  }
  if (v < 0) {
    c.addError('ERR timeout is negative');
    return;
  }
  if (v > 0 && BigInt(v) > INT64_MAX - BigInt(Date.now())) {
    c.addError('ERR timeout is out of range');
    return;
  }
  c.server.pause(all ? 'all' : 'write', Number(v));
  c.addOK();
}

function clientUnpause(c: Client): void {
  c.server.unpause();
  c.addOK();
}

/** CLIENT REPLY ON|OFF|SKIP: the dispatcher drops the replies; OFF and SKIP answer nothing. */
function clientReply(c: Client, argv: string[]): void {
  const mode = argv[2].toLowerCase();
  if (mode === 'on') {
    c.replyMode = ReplyMode.On;
    c.addOK();
  } else if (mode === 'off') {
    c.replyMode = ReplyMode.Off;
  } else if (mode === 'skip') {
    if (c.replyMode !== ReplyMode.Off) c.replyMode = ReplyMode.SkipNext;
  } else {
    c.addError(E_SYNTAX);
  }
}

/** Parses ON/OFF (any case) or replies a syntax error. */
function onOff(c: Client, arg: string): boolean | null {
  const v = arg.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  c.addError(E_SYNTAX);
  return null;
}

function clientNoEvict(c: Client, argv: string[]): void {
  const on = onOff(c, argv[2]);
  if (on === null) return;
  c.noEvict = on;
  c.addOK();
}

function clientNoTouch(c: Client, argv: string[]): void {
  const on = onOff(c, argv[2]);
  if (on === null) return;
  c.noTouch = on;
  c.addOK();
}

/** CLIENT CAPA: unknown capabilities are ignored; REDIRECT only matters on replicas. */
function clientCapa(c: Client): void {
  c.addOK();
}

// ---------------------------------------------------------------- tracking and unblocking
// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO live with the tracking
// manager (src/server/tracking.ts). CLIENT UNBLOCK works on clients blocked on
// keys (src/server/blocking.ts).

function clientUnblock(c: Client, argv: string[]): void {
  if (argv.length > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  const id = parseInt64(argv[2]);
  if (id === null) {
    c.addError(E_NOT_INT);
    return;
  }
  let asError = false;
  if (argv.length === 4) {
    const why = argv[3].toLowerCase();
    if (why !== 'timeout' && why !== 'error') {
      c.addError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
    asError = why === 'error';
  }
  // Only clients blocked on keys can be unblocked (not those held by CLIENT PAUSE).
  const target = typeof id === 'number' ? c.server.clients.get(id) : undefined;
  if (target === undefined || target.blocked === null) {
    c.addInt(0);
    return;
  }
  if (asError) c.server.blocking.errorClient(target, 'UNBLOCKED client unblocked via CLIENT UNBLOCK');
  else c.server.blocking.timeoutClient(target);
  c.addInt(1);
}

export const commands: HandlerMap = {
  'client|unblock': clientUnblock,
  ...trackingCommands,
  ping,
  echo,
  quit,
  reset,
  select,
  hello,
  auth,
  'client|help': clientHelp,
  'client|id': clientId,
  'client|info': clientInfo,
  'client|list': clientList,
  'client|kill': clientKill,
  'client|setname': clientSetName,
  'client|getname': clientGetName,
  'client|setinfo': clientSetInfo,
  'client|pause': clientPause,
  'client|unpause': clientUnpause,
  'client|reply': clientReply,
  'client|no-evict': clientNoEvict,
  'client|no-touch': clientNoTouch,
  'client|capa': clientCapa,
};
