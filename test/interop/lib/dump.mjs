// Prints each command of corpus files with the reply of one server, for
// writing and reviewing corpus lines:
//   node test/interop/lib/dump.mjs PORT corpus/file.txt [more.txt] [--resp3]
import { parseCorpus } from './corpus.mjs';
import { RawConn } from '../../helpers/resp.mjs';
import { escapeRaw, unescapeRaw } from './split.mjs';

const [port, ...rest] = process.argv.slice(2);
const resp3 = rest.includes('--resp3');
for (const path of rest.filter((x) => !x.startsWith('--'))) {
  const file = parseCorpus(path);
  let c = await RawConn.connect(Number(port));
  if (resp3) await c.call('HELLO', '3');
  await c.call('FLUSHALL');
  for (const step of file.steps) {
    if (step.kind === 'sleep') {
      await new Promise((r) => setTimeout(r, step.ms));
      continue;
    }
    if ((step.dirs['resp2-only'] && resp3) || (step.dirs['resp3-only'] && !resp3)) continue;
    if (step.dirs.inline) c.write(Buffer.from(`${step.raw}\r\n`, 'latin1'));
    else if (step.dirs.raw) c.write(Buffer.from(unescapeRaw(step.text), 'latin1'));
    else c.send(...step.args);
    let r = '(no reply expected)';
    if (!step.dirs['no-reply']) r = await c.readReply(3000).catch((e) => `<${e.message}>`);
    console.log(`${path.split('/').pop()}:${step.line} ${step.text}\n    ${escapeRaw(r).slice(0, 400)}`);
    if (step.dirs.closes) {
      await c.waitClosed();
      c = await RawConn.connect(Number(port));
      if (resp3) await c.call('HELLO', '3');
    }
  }
  c.close();
}
