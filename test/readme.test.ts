// The README's TypeScript snippet runs as written (against the built package).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the README snippet trains and prints a small loss', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(snippet, 'README has a ```ts block');
  const entry = path.join(root, 'dist', 'src', 'index.js');
  const js = ts.transpileModule(snippet.replace("from 'robustok'", `from '${entry}'`), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-readme-'));
  try {
    const file = path.join(dir, 'snippet.mjs');
    writeFileSync(file, js);
    const output = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    const loss = Number(/loss (\S+),/.exec(output)?.[1]);
    assert.ok(loss < 1e-3, `the snippet's fit converges (printed: ${output.trim()})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
