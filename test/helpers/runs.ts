// Shared by the run tests (generator_run, posttrain): the CLI with one
// thread, the tiny presets, random-weight tokenizers and generators of the
// tiny presets' shapes, and comparisons of two run folders' files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveConfig } from '../../src/config/index.js';
import { openDataset } from '../../src/data/index.js';
import { DatasetClassifier, saveClassifier } from '../../src/features/index.js';
import { ArGenerator, codebookFingerprint, generatorOptions, generatorSchema, samplingOf, saveGenerator } from '../../src/generator/index.js';
import { runPaths } from '../../src/runs/index.js';
import { Tokenizer, modelOptions, saveTokenizer, tokenizerSchema } from '../../src/tokenizer/index.js';
import { type Tensor, loadSafetensors, manualSeed, tidy } from '../../src/torch/index.js';
import { oneThreadEnv } from './one_thread.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
export const presets = {
  generator: path.join(root, 'configs', 'generator', 'tiny.yaml'),
  tokenizer: path.join(root, 'configs', 'tokenizer', 'tiny.yaml'),
  posttrain: path.join(root, 'configs', 'posttrain', 'tiny.yaml'),
};

/** `robustok ARGS` with one thread (one_thread.ts). */
export const robustok = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { env: oneThreadEnv, encoding: 'utf8' });

/** A random-weight tokenizer of the tiny preset saved in `dir` (created or overwritten). */
export function saveTinyTokenizer(dir: string, seed: number, sets: string[] = []): string {
  mkdirSync(dir, { recursive: true });
  manualSeed(seed);
  const model = new Tokenizer(modelOptions(resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)], sets)));
  saveTokenizer(dir, model, { size: 32, channels: 1, fit: 'resize', padValue: 0 });
  model.dispose();
  return dir;
}

const fashionClasses = [...(await openDataset('fashion-mnist')).classes];

/** A random-weight generator of the tiny preset's shape on `tokenizerDir`'s codebook, saved as train-generator would. */
export function saveTinyGenerator(dir: string, tokenizerDir: string, seed: number): string {
  const config = resolveConfig(generatorSchema, [loadConfigFile(presets.generator)], []);
  const tokenizer = Tokenizer.load(tokenizerDir);
  manualSeed(seed);
  const model = new ArGenerator(generatorOptions(config, { vocabSize: tokenizer.options.codebookSize, numClasses: fashionClasses.length, grid: [16, 16] }));
  mkdirSync(dir, { recursive: true });
  saveGenerator(dir, model, {
    classes: fashionClasses, tokenizer: tokenizerDir, fingerprint: 'random weights', codebook: codebookFingerprint(tokenizer),
    data: 'fashion-mnist', sampling: samplingOf(config.sample),
  });
  model.dispose();
  tokenizer.dispose();
  return dir;
}

/** Two safetensors files hold the same tensors: names, dtypes, shapes and every value. */
export const sameTensors = (fileA: string, fileB: string): void => tidy(() => {
  const [a, b] = [fileA, fileB].map((f) => loadSafetensors(f).tensors) as [Record<string, Tensor>, Record<string, Tensor>];
  const what = path.basename(fileA);
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), `${what}: tensor names`);
  for (const [name, t] of Object.entries(a)) {
    const u = b[name]!;
    assert.deepEqual([u.dtype, u.shape], [t.dtype, t.shape], `${what}: ${name} dtype/shape`);
    assert.ok(t.eq(u).all().item(), `${what}: ${name} differs`);
  }
});

/** metrics.jsonl without the timing-dependent fields (tokensPerSecond, imagesPerSecond). */
export const metricLines = (dir: string): object[] => readFileSync(runPaths(dir).metrics, 'utf8').trim().split('\n')
  .map((l) => Object.fromEntries(Object.entries(JSON.parse(l) as Record<string, unknown>).filter(([key]) => !key.endsWith('PerSecond'))));

/** A random-weight Fashion-MNIST classifier saved to `file`: a scoring network for tests whose FIDs mean nothing. */
export function saveRandomClassifier(file: string): string {
  tidy(() => {
    manualSeed(0);
    const model = new DatasetClassifier({ channels: 1, size: 32, numClasses: 10, widths: [8], featureSize: 16 });
    saveClassifier(file, model, { dataset: 'fashion-mnist', testAccuracy: 0, epochs: 0 });
    model.dispose();
  });
  return file;
}
