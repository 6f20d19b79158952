// String commands: GET, SET and friends.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { compactInt } from '../util/numbers.js';
import { E_WRONGTYPE } from './errors.js';

function get(c: Client, argv: string[]): void {
  const e = c.db.lookup(argv[1]);
  if (e === undefined) {
    c.addNull();
    return;
  }
  const v = e.v;
  if (typeof v === 'string') c.addBulk(v);
  else if (typeof v === 'number') c.addBulkInt(v);
  else if (Buffer.isBuffer(v)) c.addBulkBuf(v);
  else c.addError(E_WRONGTYPE);
}

function set(c: Client, argv: string[]): void {
  const val = argv[2];
  const n = compactInt(val);
  c.db.set(argv[1], n === undefined ? val : n);
  c.server.dirty++;
  c.addOK();
}

export const commands: HandlerMap = { get, set };
