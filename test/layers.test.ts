// The layers of docs/design.md §10 import downward only, so each can be read
// (and replaced) knowing just the layers below it. A folder imports from its
// own rank or below; `metrics` imports no model.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const ranks: Record<string, number> = {
  torch: 0, config: 0,
  nn: 1, optim: 1, data: 1, metrics: 1, train: 1,
  features: 2, architectures: 2,
  tokenizer: 3,
  generator: 4,
  posttrain: 5,
  eval: 6,
  runs: 7,
  pipeline: 8, server: 8,
  cli: 9,
};

/** `[importing folder, imported folder, file]` for every cross-folder import in src/. */
function crossImports(): [string, string, string][] {
  const found: [string, string, string][] = [];
  for (const folder of readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    for (const file of readdirSync(path.join(src, folder.name)).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(src, folder.name, file), 'utf8');
      for (const m of text.matchAll(/from '\.\.\/([a-z_]+)\//g)) found.push([folder.name, m[1]!, `src/${folder.name}/${file}`]);
    }
  }
  return found;
}

test('every src/ folder has a rank, and imports point down (or sideways within a rank) only', () => {
  const imports = crossImports();
  assert.ok(imports.length > 50, 'the scan finds the imports');
  const unranked = [...new Set(imports.flat().filter((name, i) => i % 3 !== 2 && !(name in ranks)))];
  assert.deepEqual(unranked, [], 'folders missing from the rank table');
  const upward = imports.filter(([from, to]) => ranks[to]! > ranks[from]!).map(([from, to, file]) => `${file}: ${from} → ${to}`);
  assert.deepEqual(upward, []);
  const modelImports = imports.filter(([from, to]) => from === 'metrics' && to !== 'torch').map(([, to, file]) => `${file} imports ${to}`);
  assert.deepEqual(modelImports, [], 'metrics is model-free math');
});
