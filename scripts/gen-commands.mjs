#!/usr/bin/env node
// Derives Vireo's command metadata table (src/commands/meta.json) from Valkey's
// per-command JSON files in ../shared/reference/valkey-commands/.
// Only facts are kept: names, arity, flags, ACL categories, key specs, argument
// structure, group, version, complexity class and deprecation. No prose: the
// summaries, argument summaries, key spec "notes" and history descriptions are
// left out (COMMAND DOCS writes a few summaries of its own, see commands/server.ts).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = process.argv[2] ?? join(here, '..', '..', 'shared', 'reference', 'valkey-commands');
const outFile = join(here, '..', 'src', 'commands', 'meta.json');

const lower = (a) => (a ?? []).map((s) => String(s).toLowerCase());

function convArgs(args) {
  if (!args) return undefined;
  return args.map((a) => {
    const o = { name: a.name, type: a.type };
    if (a.token !== undefined) o.token = a.token;
    if (a.key_spec_index !== undefined) o.key_spec_index = a.key_spec_index;
    if (a.optional) o.optional = true;
    if (a.multiple) o.multiple = true;
    if (a.multiple_token) o.multiple_token = true;
    if (a.since) o.since = a.since;
    if (a.deprecated_since) o.deprecated_since = a.deprecated_since;
    if (a.display) o.display = a.display;
    if (a.value !== undefined) o.value = a.value;
    if (a.arguments) o.arguments = convArgs(a.arguments);
    return o;
  });
}

function convKeySpecs(specs) {
  if (!specs) return [];
  return specs.map((s) => {
    const o = { flags: (s.flags ?? []).map((f) => f.toUpperCase()) };
    if (s.begin_search.index) o.bs = { type: 'index', pos: s.begin_search.index.pos };
    else if (s.begin_search.keyword) o.bs = { type: 'keyword', keyword: s.begin_search.keyword.keyword, startfrom: s.begin_search.keyword.startfrom };
    else o.bs = { type: 'unknown' };
    const fk = s.find_keys ?? {};
    if (fk.range) o.fk = { type: 'range', lastkey: fk.range.lastkey, step: fk.range.step, limit: fk.range.limit };
    else if (fk.keynum) o.fk = { type: 'keynum', keynumidx: fk.keynum.keynumidx, firstkey: fk.keynum.firstkey, step: fk.keynum.step };
    else o.fk = { type: 'unknown' };
    return o;
  });
}

const table = {};
for (const f of readdirSync(srcDir).sort()) {
  if (!f.endsWith('.json')) continue;
  const j = JSON.parse(readFileSync(join(srcDir, f), 'utf8'));
  for (const [NAME, c] of Object.entries(j)) {
    const name = NAME.toLowerCase();
    const e = {
      name,
      arity: c.arity,
      group: c.group,
      since: c.since,
      complexity: c.complexity,
      flags: lower(c.command_flags),
      acl: lower(c.acl_categories),
      tips: lower(c.command_tips),
      keySpecs: convKeySpecs(c.key_specs),
      args: convArgs(c.arguments),
    };
    if (c.doc_flags) e.docFlags = lower(c.doc_flags);
    if (c.deprecated_since) e.deprecatedSince = c.deprecated_since;
    if (c.replaced_by) e.replacedBy = c.replaced_by;
    if (c.container) {
      const parent = c.container.toLowerCase();
      e.name = `${parent}|${name}`;
      table[parent] ??= { subcommands: {} };
      table[parent].subcommands ??= {};
      table[parent].subcommands[name] = e;
    } else {
      const prev = table[name];
      table[name] = { ...e, subcommands: prev?.subcommands };
    }
  }
}
writeFileSync(outFile, JSON.stringify(table, null, 0).replace(/\},"/g, '},\n"') + '\n');
console.log(`wrote ${Object.keys(table).length} commands to ${outFile}`);
