// Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET, CLIENT ...
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    c.addError("ERR wrong number of arguments for 'ping' command");
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

export const commands: HandlerMap = { ping, echo, quit };
