// Differential test: every script in corpus/*.txt runs against Debian's
// redis-server (the reference; Valkey 8 is the spec, so documented deliberate
// differences are pinned with @expect-vireo) and a real vireo-server, over raw
// RESP connections, once in RESP2 and once after HELLO 3. Raw reply bytes are
// compared unless a directive says otherwise (see lib/corpus.mjs).
//
// Environment knobs:
//   VIREO_CORPUS=name[,name]   only run corpus files whose name contains one of these
//   VIREO_DIFF_REPORT=path     also write every mismatch as JSON to path
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, startVireo, haveRedis } from '../helpers/servers.mjs';
import { parseCorpus, documentedDiffIds, countCommands } from './lib/corpus.mjs';
import { runFile, formatMismatch } from './lib/runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(here, 'corpus');
const diffIds = documentedDiffIds(join(CORPUS, 'VALKEY_DIFFERENCES.md'));
const filter = (process.env.VIREO_CORPUS ?? '').split(',').filter(Boolean);
const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.txt'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort()
  .map((f) => parseCorpus(join(CORPUS, f), diffIds));

const skip = haveRedis() ? false : 'redis-server is not installed';
let redis;
let vireo;
const totals = { commands: 0, compared: 0, skipped: 0, mismatches: [] };

const servers = {
  redis: () => redis,
  vireo: () => vireo,
  vireoAlive: () => vireo.proc.exitCode === null && vireo.proc.signalCode === null,
  vireoOutput: () => vireo.output(),
  restartVireo: async () => {
    await vireo.stop();
    vireo = await startVireo();
  },
};

before(async () => {
  if (skip) return;
  [redis, vireo] = await Promise.all([startRedis(), startVireo()]);
});

after(async () => {
  await Promise.all([redis?.stop(), vireo?.stop()]);
  const byFile = new Map();
  for (const m of totals.mismatches) byFile.set(basename(m.file), (byFile.get(basename(m.file)) ?? 0) + 1);
  const lines = [
    `differential summary: ${files.length} corpus files, ${totals.commands} corpus commands, ` +
      `${totals.compared} replies compared (RESP2 + RESP3), ${totals.skipped} protocol-specific lines skipped, ` +
      `${totals.mismatches.length} mismatches`,
    ...[...byFile].map(([f, n]) => `  ${f}: ${n} mismatches`),
  ];
  console.log(lines.join('\n'));
  if (process.env.VIREO_DIFF_REPORT) writeFileSync(process.env.VIREO_DIFF_REPORT, JSON.stringify(totals, null, 1));
});

test('corpus is large enough and parses', { skip }, () => {
  totals.commands = files.reduce((n, f) => n + countCommands(f), 0);
  if (filter.length === 0) assert.ok(totals.commands >= 300, `only ${totals.commands} corpus commands`);
});

for (const file of files) {
  describe(basename(file.path), { skip }, () => {
    for (const proto of [2, 3]) {
      const optOut = proto === 3 && file.noResp3;
      test(`RESP${proto}`, { skip: optOut ? `@no-resp3: ${file.noResp3}` : false }, async () => {
        const res = await runFile(file, proto, servers);
        totals.compared += res.compared;
        totals.skipped += res.skipped;
        totals.mismatches.push(...res.mismatches);
        if (res.mismatches.length) {
          assert.fail(
            `${res.mismatches.length} mismatch(es) of ${res.compared} compared in ${basename(file.path)} [RESP${proto}]\n` +
              res.mismatches.map(formatMismatch).join('\n'),
          );
        }
      });
    }
  });
}
