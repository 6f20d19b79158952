// The ACL command family: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT,
// GENPASS, LOG [count | RESET], LOAD, SAVE, DRYRUN and HELP, answering as Valkey 8.
// The users, rules and checks live in src/acl/acl.ts.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { ACL_CATEGORIES } from './table.js';
import { parseInt64 } from '../util/numbers.js';
import { E_NOT_INT } from './errors.js';
import { replyHelp } from './connection.js';
import {
  Denied,
  aclErrorMessage,
  checkUserCommand,
  commandsInCategory,
  describeUser,
  genpassHex,
  hasSpaces,
  selectorView,
  userFlags,
  type Selector,
} from '../acl/acl.js';

const E_NO_ACLFILE =
  'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

const ACL_HELP = [
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
];

function syntaxError(c: Client, argv: string[]): void {
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
}

function setuser(c: Client, argv: string[]): void {
  const name = argv[2];
  if (hasSpaces(name)) {
    c.addError("ERR Usernames can't contain spaces or null characters");
    return;
  }
  const err = c.server.acl.setUser(name, argv.slice(3), c);
  if (err === null) c.addOK();
  else c.addError('ERR ' + err.replace(/[\r\n]/g, ' '));
}

function deluser(c: Client, argv: string[]): void {
  for (let j = 2; j < argv.length; j++) {
    if (argv[j] === 'default') {
      c.addError("ERR The 'default' user cannot be removed");
      return;
    }
  }
  let deleted = 0;
  for (let j = 2; j < argv.length; j++) if (c.server.acl.deleteUser(argv[j], c)) deleted++;
  c.addInt(deleted);
}

function replySelector(c: Client, s: Selector): void {
  const v = selectorView(s);
  c.addBulk('commands');
  c.addBulk(v.commands);
  c.addBulk('keys');
  c.addBulk(v.keys);
  c.addBulk('channels');
  c.addBulk(v.channels);
}

function getuser(c: Client, argv: string[]): void {
  if (argv.length !== 3) return syntaxError(c, argv);
  const u = c.server.acl.getUser(argv[2]);
  if (u === undefined) {
    c.addNull();
    return;
  }
  c.addMapLen(6);
  c.addBulk('flags');
  const flags = userFlags(u);
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulk(f);
  c.addBulk('passwords');
  c.addBulkArray(u.passwords);
  replySelector(c, u.selectors[0]);
  c.addBulk('selectors');
  c.addArrayLen(u.selectors.length - 1);
  for (let i = 1; i < u.selectors.length; i++) {
    c.addMapLen(3);
    replySelector(c, u.selectors[i]);
  }
}

function list(c: Client, argv: string[]): void {
  if (argv.length !== 2) return syntaxError(c, argv);
  const users = c.server.acl.sortedUsers();
  c.addArrayLen(users.length);
  for (const u of users) c.addBulk(`user ${u.name} ${describeUser(u)}`);
}

function users(c: Client, argv: string[]): void {
  if (argv.length !== 2) return syntaxError(c, argv);
  const all = c.server.acl.sortedUsers();
  c.addArrayLen(all.length);
  for (const u of all) c.addBulk(u.name);
}

function whoami(c: Client, argv: string[]): void {
  if (argv.length !== 2) return syntaxError(c, argv);
  c.addBulk(c.aclUser.name);
}

function cat(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    c.addBulkArray(ACL_CATEGORIES);
    return;
  }
  if (argv.length !== 3) return syntaxError(c, argv);
  const names = commandsInCategory(argv[2]);
  if (names === null) {
    c.addError(`ERR Unknown category '${argv[2].slice(0, 128)}'`);
    return;
  }
  c.addBulkArray(names);
}

const GENPASS_MAX_BITS = 4096;

function genpass(c: Client, argv: string[]): void {
  if (argv.length > 3) return syntaxError(c, argv);
  let bits = 256;
  if (argv.length === 3) {
    const v = parseInt64(argv[2]);
    if (v === null || typeof v === 'bigint') {
      c.addError(E_NOT_INT);
      return;
    }
    bits = v;
  }
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    c.addError(`ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`);
    return;
  }
  c.addBulk(genpassHex(Math.floor((bits + 3) / 4)));
}

const REASONS: Record<number, string> = {
  [Denied.Cmd]: 'command',
  [Denied.Key]: 'key',
  [Denied.Channel]: 'channel',
  [Denied.Auth]: 'auth',
};

function log(c: Client, argv: string[]): void {
  if (argv.length > 3) return syntaxError(c, argv);
  const acl = c.server.acl;
  let count = 10;
  if (argv.length === 3) {
    if (argv[2].toLowerCase() === 'reset') {
      acl.resetLog();
      c.addOK();
      return;
    }
    const v = parseInt64(argv[2]);
    if (v === null || typeof v === 'bigint') {
      c.addError(E_NOT_INT);
      return;
    }
    count = v < 0 ? 0 : v;
  }
  if (count > acl.log.length) count = acl.log.length;
  const now = Date.now();
  c.addArrayLen(count);
  for (let i = 0; i < count; i++) {
    const e = acl.log[i];
    c.addMapLen(10);
    c.addBulk('count');
    c.addInt(e.count);
    c.addBulk('reason');
    c.addBulk(REASONS[e.reason] ?? 'unknown');
    c.addBulk('context');
    c.addBulk(e.context);
    c.addBulk('object');
    c.addBulk(e.object);
    c.addBulk('username');
    c.addBulk(e.username);
    c.addBulk('age-seconds');
    c.addDouble((now - e.ctime) / 1000);
    c.addBulk('client-info');
    c.addBulk(e.cinfo);
    c.addBulk('entry-id');
    c.addInt(e.entryId);
    c.addBulk('timestamp-created');
    c.addInt(e.created);
    c.addBulk('timestamp-last-updated');
    c.addInt(e.ctime);
  }
}

function load(c: Client, argv: string[]): void {
  const file = c.server.config.get('aclfile');
  if (file === '') {
    c.addError(E_NO_ACLFILE);
    return;
  }
  if (argv.length !== 2) return syntaxError(c, argv);
  const err = c.server.acl.loadFile(file, c);
  if (err === null) c.addOK();
  else c.addError('ERR ' + err);
}

function save(c: Client, argv: string[]): void {
  const file = c.server.config.get('aclfile');
  if (file === '') {
    c.addError(E_NO_ACLFILE);
    return;
  }
  if (argv.length !== 2) return syntaxError(c, argv);
  try {
    c.server.acl.saveFile(file);
    c.addOK();
  } catch (e) {
    c.server.log.warning(`Saving the ACL file for ACL SAVE: ${(e as Error).message}`);
    c.addError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  }
}

function dryrun(c: Client, argv: string[]): void {
  const u = c.server.acl.getUser(argv[2]);
  if (u === undefined) {
    c.addError(`ERR User '${argv[2]}' not found`);
    return;
  }
  const args = argv.slice(3);
  let cmd = c.server.table.lookup(args[0]);
  if (cmd !== undefined && cmd.subcommands !== null && args.length >= 2) cmd = cmd.subcommands.get(args[1].toLowerCase());
  if (cmd === undefined) {
    c.addError(`ERR Command '${args[0]}' not found`);
    return;
  }
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) {
    c.addError(`ERR wrong number of arguments for '${cmd.fullname}' command`);
    return;
  }
  const out = { pos: 0 };
  const r = checkUserCommand(u, cmd, args, out);
  if (r !== Denied.Ok) {
    c.addBulk(aclErrorMessage(r, u, cmd, args[out.pos], true));
    return;
  }
  c.addOK();
}

function help(c: Client, argv: string[]): void {
  if (argv.length !== 2) return syntaxError(c, argv);
  replyHelp(c, argv[0], ACL_HELP);
}

export const commands: HandlerMap = {
  'acl|setuser': setuser,
  'acl|getuser': getuser,
  'acl|deluser': deluser,
  'acl|list': list,
  'acl|users': users,
  'acl|whoami': whoami,
  'acl|cat': cat,
  'acl|genpass': genpass,
  'acl|log': log,
  'acl|load': load,
  'acl|save': save,
  'acl|dryrun': dryrun,
  'acl|help': help,
};
