// The README's TypeScript snippet runs as written (against the built package).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the README snippet defines a module, trains it and saves it', () => {
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
    const output = execFileSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, OUT_DIR: dir } });
    const loss = Number(/loss (\S+),/.exec(output)?.[1]);
    assert.ok(loss < 0.02, `the snippet trains (printed: ${output.trim()})`);
    assert.match(output, /keys fc1\.weight fc1\.bias fc2\.weight fc2\.bias/);
    for (const name of ['denoiser.safetensors', 'denoiser.pt', 'denoiser.ckpt']) assert.ok(existsSync(path.join(dir, name)), name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
