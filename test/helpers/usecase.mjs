// Shared by the use-case tests (test/usecases/).
import assert from 'node:assert/strict';
import Redis from 'ioredis';

/**
 * Libraries swallow some error replies (a NOSCRIPT is answered by EVAL), so
 * the server's own statistics tell whether any command failed or was
 * rejected: only EVALSHA's NOSCRIPT is expected.
 */
export async function assertNoErrorReplies(port) {
  const c = new Redis(port, '127.0.0.1');
  try {
    const stats = (await c.info('commandstats')).split(/\r?\n/).filter((l) => l.startsWith('cmdstat_'));
    assert.ok(stats.length > 3, 'commandstats are kept');
    const errors = Object.fromEntries(
      (await c.info('errorstats'))
        .split(/\r?\n/)
        .filter((l) => l.startsWith('errorstat_'))
        .map((l) => [l.slice(10, l.indexOf(':')), Number(/count=(\d+)/.exec(l)[1])]),
    );
    const bad = stats.filter((l) => !l.startsWith('cmdstat_evalsha:') && !/rejected_calls=0,failed_calls=0$/.test(l));
    assert.deepEqual(bad, [], 'no command failed');
    const evalsha = stats.find((l) => l.startsWith('cmdstat_evalsha:'));
    const noscript = evalsha ? Number(/failed_calls=(\d+)/.exec(evalsha)[1]) : 0;
    assert.equal(errors.NOSCRIPT ?? 0, noscript, 'EVALSHA fails only with NOSCRIPT');
    delete errors.NOSCRIPT;
    return errors;
  } finally {
    c.disconnect();
  }
}
