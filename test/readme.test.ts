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

/** The README's `ts` blocks, in order. */
const snippets = (): string[] => [...readFileSync(path.join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** Runs a snippet as an ES module against the built package; returns what it printed. */
function runSnippet(snippet: string, dir: string, env: Record<string, string>): string {
  const entry = path.join(root, 'dist', 'src', 'index.js');
  const js = ts.transpileModule(snippet.replace("from 'robustok'", `from '${entry}'`), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = path.join(dir, 'snippet.mjs');
  writeFileSync(file, js);
  return execFileSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, ...env } });
}

test('the README snippet defines a module, trains it and saves it', () => {
  const snippet = snippets()[0];
  assert.ok(snippet, 'README has a ```ts block');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-readme-'));
  try {
    const output = runSnippet(snippet, dir, { OUT_DIR: dir });
    const loss = Number(/loss (\S+),/.exec(output)?.[1]);
    assert.ok(loss < 0.02, `the snippet trains (printed: ${output.trim()})`);
    assert.match(output, /keys fc1\.weight fc1\.bias fc2\.weight fc2\.bias/);
    for (const name of ['denoiser.safetensors', 'denoiser.pt', 'denoiser.ckpt']) assert.ok(existsSync(path.join(dir, name)), name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the README library snippet loads a trained tokenizer, perturbs a PNG\'s tokens and computes pFID', () => {
  const snippet = snippets().find((text) => text.includes('Tokenizer.load'));
  assert.ok(snippet, 'README has a ```ts block that loads a tokenizer');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-readme-'));
  try {
    const tokenizer = path.join(dir, 'tiny');
    execFileSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'main.js'), 'train-tokenizer', '--config', path.join(root, 'configs', 'tokenizer', 'tiny.yaml'),
      '--out', tokenizer], { stdio: 'ignore' });
    const image = path.join(root, 'node_modules', 'emoji-datasource-google', 'img', 'google', '64', '1f455.png');
    const output = runSnippet(snippet, dir, { TOKENIZER_DIR: tokenizer, IMAGE: image });
    const [, changed, total] = /(\d+) of (\d+) tokens changed/.exec(output) ?? [];
    assert.equal(Number(total), 256, 'a 16×16 grid');
    assert.ok(Number(changed) > 0 && Number(changed) < 256, `α = 0.5 changes some tokens (printed: ${output.trim()})`);
    const [, rfid, pfid] = /rFID ([\d.]+), pFID ([\d.]+) \(α = 0\.5, δ = 2, nsfwjs-mobilenet, n = 256\)/.exec(output) ?? [];
    assert.ok(rfid && pfid, `printed: ${output.trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
