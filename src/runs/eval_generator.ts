// Evaluating a trained generator as a run: class-balanced samples decoded by
// its tokenizer (or another decoder of the same codebook), scored against a
// split's real images — gFID, Inception Score, precision/recall — written to
// the generator's eval/ folder (result.json, report.html, samples.png). A
// dataset classifier that the chosen features need is trained first, once.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type SplitName, openDataset, prepareSplit, writeImageRows } from '../data/index.js';
import { type GeneratorEvalResult, type GeneratorReportInput, evaluateGenerator, generatorReportHtml } from '../eval/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { type ArGenerator, type Sampling, filesFingerprint, idDtype, sampleClassBalanced } from '../generator/index.js';
import { tokenizerImageSpec } from '../tokenizer/index.js';
import { type Tensor, loadCached, phase, profile, saveSafetensors, tidy, writeFileAtomic } from '../torch/index.js';
import { featureNetwork } from './eval_tokenizer.js';
import { type RunEvents, withDefaults } from './events.js';
import { loadGeneratorPair, samplingWith } from './generator_pair.js';
import { refuseLossNetwork } from './loss_networks.js';
import { evalPaths, runPaths } from './layout.js';
import { resolveDevice } from '../train/index.js';

export interface EvalGeneratorOptions {
  generator: string;
  /** Another decoder of the same codebook (default: the generator's own tokenizer). */
  tokenizer?: string;
  /** Dataset of the real images (default: the one the generator was trained on). */
  data?: string;
  split?: SplitName;
  features?: string;
  weights?: string;
  /** Samples (default 10,000), class-balanced. */
  n?: number;
  batchSize?: number;
  /** Overrides of the generator's default sampling settings. */
  sampling?: Partial<Sampling>;
  seed?: number;
  /** Where sampling and decoding run (train.device's values; default cpu); the feature network scores on the CPU. */
  device?: string;
  /** Folder for result.json, report.html and samples.png (default: the generator's eval/). */
  out?: string;
  /** Bootstrap gFID's standard error (eval/generator_eval.ts). */
  noise?: { replicates: number; seed: number };
  events?: RunEvents;
}

export type GeneratorEvalSummary = GeneratorReportInput & { split: SplitName; minutes: number };

export async function evalGenerator(o: EvalGeneratorOptions): Promise<{ summary: GeneratorEvalSummary; report: string }> {
  const events = withDefaults(o.events);
  const device = resolveDevice(o.device ?? 'cpu');
  const pair = loadGeneratorPair(o.generator, o.tokenizer);
  for (const model of [pair.model, pair.tokenizer]) model.to(device);
  let network: FeatureNetwork | undefined;
  let result: GeneratorEvalResult | undefined;
  try {
    const split = o.split ?? 'test';
    const data = o.data ?? pair.info.data;
    const features = o.features ?? `classifier:${data}`;
    refuseLossNetwork(features, pair.tokenizerDir);  // before any data is prepared
    const spec = tokenizerImageSpec(pair.tokenizerDir);
    const dataset = await openDataset(data);
    if (dataset.classes.length !== pair.model.options.numClasses) {
      throw new Error(`${data} has ${dataset.classes.length} classes but the generator was trained on ${pair.model.options.numClasses}`);
    }
    const real = await profile.phaseAsync('prepare images', () => prepareSplit(dataset, split, { preprocess: { size: spec.size, channels: spec.channels } }));
    network = await profile.phaseAsync('feature network', () => featureNetwork(features, o.weights, spec, events, device));
    const scorer = network;  // narrowed, for the closure below
    const n = o.n ?? 10000;
    const C = pair.model.options.numClasses;
    const perClass = Math.min(10, Math.floor(n / C));  // grid columns: every class has at least this many samples
    const sampling = { ...samplingWith(pair.info.sampling, o.sampling ?? {}), seed: o.seed ?? 0 };
    const started = performance.now();
    const samples = drawnSamples(o.generator, pair.model, n, sampling, o.batchSize ?? 100, events);
    try {
      events.progress({ label: 'score', done: 0, total: n, unit: 'img' });
      result = phase('evaluate', () => evaluateGenerator(pair.tokenizer, samples, real, {
        network: scorer, numClasses: C, batchSize: o.batchSize ?? 100, keepPerClass: perClass, noise: o.noise,
        onProgress: (done) => events.progress({ label: 'score', done, total: n, unit: 'img', cadence: 10 }),
      }));
    } finally {
      samples.ids.dispose();
      samples.labels.dispose();
    }
    const paths = evalPaths(o.out ?? runPaths(o.generator).eval.dir);
    mkdirSync(paths.dir, { recursive: true });
    if (result.grid) await writeImageRows(Array.from({ length: C }, (_, c) => result!.grid!.narrow(0, c * perClass, perClass)), paths.samples);
    const { grid: _grid, ...numbers } = result;
    const summary: GeneratorEvalSummary = {
      ...numbers, sampling, generator: o.generator, tokenizer: pair.tokenizerDir, data, split, minutes: (performance.now() - started) / 60000,
    };
    writeFileAtomic(paths.result, [Buffer.from(`${JSON.stringify(summary, null, 2)}\n`)]);
    writeFileSync(paths.report, generatorReportHtml(summary, { classes: pair.info.classes, grid: result.grid ? paths.samples : null }));
    if (summary.biased) events.log(`warning: FID from ${n} samples (< 2048) is biased upwards; compare it only with FIDs at the same n`);
    return { summary, report: paths.report };
  } finally {
    result?.grid?.dispose();
    network?.dispose();
    pair.dispose();
  }
}

/**
 * The class-balanced sample ids: drawn once per generator, sampling settings,
 * seed and n, and cached in the generator's eval/ folder, since they do not
 * depend on the decoder — evaluating another decoder (post-trained) then
 * costs only decoding, and scores it on exactly the same tokens.
 */
function drawnSamples(dir: string, model: ArGenerator, n: number, sampling: Sampling & { seed: number }, batchSize: number,
  events: ReturnType<typeof withDefaults>): { ids: Tensor; labels: Tensor } {
  const key = filesFingerprint(['generator.json', 'generator.safetensors'].map((f) => path.join(dir, f)), { sampling, n, batchSize });
  const file = path.join(runPaths(dir).eval.dir, `samples-${key.slice(0, 16)}.safetensors`);
  const cached = loadCached(file, key, ['ids', 'labels']);
  if (cached) {
    events.log(`samples: ${n} drawn before, from ${file}`);
    const ids = tidy(() => cached.ids!.to('int64')).keep();  // stored narrow (idDtype)
    cached.ids!.dispose();
    return { ids, labels: cached.labels!.keep() };
  }
  events.progress({ label: 'sample', done: 0, total: n, unit: 'img' });
  const samples = phase('sample tokens', () => sampleClassBalanced(model, n, {
    ...sampling, batchSize, onProgress: (done) => events.progress({ label: 'sample', done, total: n, unit: 'img', cadence: 10 }),
  }));
  mkdirSync(path.dirname(file), { recursive: true });
  const narrow = tidy(() => samples.ids.to(idDtype(model.options.vocabSize))).keep();
  try {
    saveSafetensors(file, { ids: narrow, labels: samples.labels }, { fingerprint: key });
  } finally {
    narrow.dispose();
  }
  return samples;
}
