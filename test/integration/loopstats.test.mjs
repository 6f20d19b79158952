// INFO stats counters of the I/O path: total_reads_processed,
// total_writes_processed, eventloop_cycles, eventloop_duration_sum and the
// instantaneous event-loop rates count real work, and CONFIG RESETSTAT resets them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVireo } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

let srv;
before(async () => {
  srv = await startVireo();
});
after(async () => {
  await srv.stop();
});

async function stats(c) {
  const r = await c.call('INFO', 'stats');
  const out = {};
  for (const line of r.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

test('reads, writes and event-loop turns are counted; RESETSTAT resets them', async () => {
  const c = await RawConn.connect(srv.port);
  const s0 = await stats(c);
  // 200 round trips: each is at least one socket read, one reply write and one turn.
  for (let i = 0; i < 200; i++) assert.equal(await c.call('PING'), '+PONG\r\n');
  const s1 = await stats(c);
  const d = (k) => Number(s1[k]) - Number(s0[k]);
  assert.ok(d('total_reads_processed') >= 200, `reads ${d('total_reads_processed')}`);
  assert.ok(d('total_writes_processed') >= 200, `writes ${d('total_writes_processed')}`);
  assert.ok(d('eventloop_cycles') >= 200, `cycles ${d('eventloop_cycles')}`);
  assert.ok(d('eventloop_duration_sum') > 0, `duration ${d('eventloop_duration_sum')}`);
  assert.ok(Number(s1.eventloop_duration_sum) >= Number(s1.eventloop_duration_cmd_sum) * 0.5, JSON.stringify(s1));
  // A pipelined burst arrives in few reads: far fewer reads than commands.
  let pipe = '';
  for (let i = 0; i < 2000; i++) pipe += '*1\r\n$4\r\nPING\r\n';
  c.write(pipe);
  for (let i = 0; i < 2000; i++) assert.equal(await c.readReply(), '+PONG\r\n');
  const s2 = await stats(c);
  assert.ok(Number(s2.total_reads_processed) - Number(s1.total_reads_processed) < 1000, JSON.stringify(s2));
  // The instantaneous rates come from the cron's samples (every 100 ms): poll until they show the traffic.
  const deadline = Date.now() + 20000;
  let s3;
  do {
    for (let i = 0; i < 50; i++) await c.call('PING');
    s3 = await stats(c);
  } while ((Number(s3.instantaneous_eventloop_cycles_per_sec) === 0 || Number(s3.instantaneous_eventloop_duration_usec) === 0) && Date.now() < deadline);
  assert.ok(Number(s3.instantaneous_eventloop_cycles_per_sec) > 0, JSON.stringify(s3));
  assert.ok(Number(s3.instantaneous_eventloop_duration_usec) > 0, JSON.stringify(s3));
  assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
  const s4 = await stats(c);
  assert.ok(Number(s4.total_reads_processed) <= 2 && Number(s4.total_writes_processed) <= 2, JSON.stringify(s4));
  assert.ok(Number(s4.eventloop_cycles) <= 5, JSON.stringify(s4));
  c.close();
});
