// Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
// SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT /
// SHARDCHANNELS / SHARDNUMSUB / HELP. State and fan-out live in server/pubsub.ts.
import type { HandlerMap } from './table.js';
import type { Client } from '../server/client.js';
import { Kind, PubSub } from '../server/pubsub.js';
import { replyHelp } from './connection.js';

function subscribe(c: Client, argv: string[]): void {
  const ps = c.server.pubsub;
  for (let i = 1; i < argv.length; i++) ps.subscribe(c, argv[i], Kind.Channel);
  ps.mark(c);
}

function unsubscribe(c: Client, argv: string[]): void {
  const ps = c.server.pubsub;
  if (argv.length === 1) ps.unsubscribeAll(c, Kind.Channel, true);
  else for (let i = 1; i < argv.length; i++) ps.unsubscribe(c, argv[i], Kind.Channel, true);
  ps.unmarkIfIdle(c);
}

function psubscribe(c: Client, argv: string[]): void {
  const ps = c.server.pubsub;
  for (let i = 1; i < argv.length; i++) ps.psubscribe(c, argv[i]);
  ps.mark(c);
}

function punsubscribe(c: Client, argv: string[]): void {
  const ps = c.server.pubsub;
  if (argv.length === 1) ps.punsubscribeAll(c, true);
  else for (let i = 1; i < argv.length; i++) ps.punsubscribe(c, argv[i], true);
  ps.unmarkIfIdle(c);
}

function ssubscribe(c: Client, argv: string[]): void {
  // Inside MULTI/EXEC (and scripts) a client expects one reply per command.
  if (c.denyBlocking) {
    c.addError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    return;
  }
  const ps = c.server.pubsub;
  for (let i = 1; i < argv.length; i++) ps.subscribe(c, argv[i], Kind.Shard);
  ps.mark(c);
}

function sunsubscribe(c: Client, argv: string[]): void {
  const ps = c.server.pubsub;
  if (argv.length === 1) ps.unsubscribeAll(c, Kind.Shard, true);
  else for (let i = 1; i < argv.length; i++) ps.unsubscribe(c, argv[i], Kind.Shard, true);
  ps.unmarkIfIdle(c);
}

function publish(c: Client, argv: string[]): void {
  // Cluster mode: the cluster bus carries it to every node, replicas included, and
  // the replication stream does not (as Valkey: each subscriber gets it once).
  if (c.server.cluster !== null) c.server.cluster.publish(argv[1], argv[2], false);
  // Standalone: PUBLISH reaches replicas (the AOF leaves it out, as Valkey's PROPAGATE_REPL does).
  else if (c.server.prop.active) c.server.prop.force();
  c.addInt(c.server.pubsub.publish(argv[1], argv[2], false));
}

function spublish(c: Client, argv: string[]): void {
  // Cluster mode: PUBLISHSHARD over the bus to the other nodes of this shard (src/cluster/cluster.ts).
  if (c.server.cluster !== null) c.server.cluster.publish(argv[1], argv[2], true);
  else if (c.server.prop.active) c.server.prop.force();
  c.addInt(c.server.pubsub.publish(argv[1], argv[2], true));
}

function syntaxError(c: Client, argv: string[]): void {
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try PUBSUB HELP.`);
}

const HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

function pubsubHelp(c: Client, argv: string[]): void {
  replyHelp(c, argv[0], HELP);
}

function pubsubChannels(c: Client, argv: string[]): void {
  if (argv.length > 3) return syntaxError(c, argv);
  PubSub.listChannels(c, c.server.pubsub.channels, argv.length === 3 ? argv[2] : null);
}

function pubsubShardChannels(c: Client, argv: string[]): void {
  if (argv.length > 3) return syntaxError(c, argv);
  PubSub.listChannels(c, c.server.pubsub.shardChannels, argv.length === 3 ? argv[2] : null);
}

function numsub(c: Client, argv: string[], table: Map<string, Set<Client>>): void {
  c.addArrayLen((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    c.addBulk(argv[i]);
    c.addInt(table.get(argv[i])?.size ?? 0);
  }
}

function pubsubNumsub(c: Client, argv: string[]): void {
  numsub(c, argv, c.server.pubsub.channels);
}

function pubsubShardNumsub(c: Client, argv: string[]): void {
  numsub(c, argv, c.server.pubsub.shardChannels);
}

function pubsubNumpat(c: Client): void {
  c.addInt(c.server.pubsub.patterns.size);
}

export const commands: HandlerMap = {
  subscribe,
  unsubscribe,
  psubscribe,
  punsubscribe,
  ssubscribe,
  sunsubscribe,
  publish,
  spublish,
  'pubsub|help': pubsubHelp,
  'pubsub|channels': pubsubChannels,
  'pubsub|shardchannels': pubsubShardChannels,
  'pubsub|numsub': pubsubNumsub,
  'pubsub|shardnumsub': pubsubShardNumsub,
  'pubsub|numpat': pubsubNumpat,
};
