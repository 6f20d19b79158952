// Prints a VIREO_DIFF_REPORT JSON file compactly, one mismatch per block:
//   node test/interop/lib/show-report.mjs report.json [file-substring] [--resp2]
import { readFileSync } from 'node:fs';
import { escapeRaw } from './split.mjs';

const [path, ...rest] = process.argv.slice(2);
const only2 = rest.includes('--resp2');
const filter = rest.find((x) => !x.startsWith('--'));
const r = JSON.parse(readFileSync(path, 'utf8'));
for (const m of r.mismatches) {
  if (filter && !m.file.includes(filter)) continue;
  if (only2 && m.proto !== 2) continue;
  const f = m.file.split('/').pop();
  console.log(`${f}:${m.line} R${m.proto} ${m.command}  [${m.reason}]`);
  // Long replies: start the excerpt a little before the first differing byte.
  let from = 0;
  if (typeof m.redis === 'string' && typeof m.vireo === 'string' && (m.redis.length > 300 || m.vireo.length > 300)) {
    while (from < m.redis.length && m.redis[from] === m.vireo[from]) from++;
    from = Math.max(0, from - 60);
  }
  const at = from ? `[@${from}] ...` : '';
  console.log(`   redis: ${at}${escapeRaw(m.redis.slice(from)).slice(0, 300)}`);
  console.log(`   vireo: ${at}${escapeRaw(m.vireo.slice(from)).slice(0, 300)}`);
  if (m.redisExtra) console.log(`   redis extra: ${m.redisExtra.map(escapeRaw).join(' | ').slice(0, 300)}`);
  if (m.vireoExtra) console.log(`   vireo extra: ${m.vireoExtra.map(escapeRaw).join(' | ').slice(0, 300)}`);
}
