// Evaluating a trained tokenizer folder as a run: rFID, pFID, its curves over
// α and δ and the sensitivity (docs/method.md §3), PSNR, SSIM and codebook
// usage, perplexity and crowding on a dataset split,
// written to DIR/eval/ (result.json, report.html, samples.png). A dataset
// classifier that the chosen features need is trained first, once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolveConfig } from '../config/index.js';
import { type SplitName, openDataset, prepareSplit, splitLabel, writeImageRows } from '../data/index.js';
import { FID_UNBIASED_SAMPLES, type PfidLevelOptions, type TokenizerEvalResult, evaluateTokenizer, pfidLevels, reportHtml } from '../eval/index.js';
import { type FeatureNetwork, MissingClassifierError, classifierFileFor, classifierSchema, loadFeatureNetwork } from '../features/index.js';
import { openTokenizer, parseTokenizerRef } from '../tokenizer/index.js';
import { type Device, phase, profile, writeFileAtomic } from '../torch/index.js';
import { type RunEvents, withDefaults } from './events.js';
import { refuseNonFiniteResults } from './finite_results.js';
import { evalPaths, runPaths } from './layout.js';
import { refuseLossNetwork } from './loss_networks.js';
import { trainClassifier } from './train_classifier.js';
import { resolveDevice } from '../train/index.js';

export interface EvalTokenizerOptions extends PfidLevelOptions {
  /** The tokenizer: a folder (robustok train-tokenizer's --out) or KIND:PATH, a published tokenizer's file. */
  tokenizer: string;
  /** Where result.json and report.html go (default DIR/eval for a folder, PATH.eval/ beside a released file). */
  out?: string;
  /** Dataset name: fashion-mnist, mnist, emoji, folder:PATH. */
  data: string;
  split?: SplitName;
  /** Feature network (default `classifier:` + data) and its weights file. */
  features?: string;
  weights?: string;
  n?: number;
  batchSize?: number;
  /** Bootstrap the standard errors of rFID and pFID (eval/tokenizer_eval.ts). */
  noise?: { replicates: number; seed: number };
  /** Where the tokenizer encodes, perturbs and decodes (train.device's values; default cpu); the feature network scores on the CPU. */
  device?: string;
  events?: RunEvents;
}

/** Every number of the evaluation (what result.json holds, beside what it was measured on). */
export type EvalSummary = Omit<TokenizerEvalResult, 'samples'>;

/** `split` says what the numbers were measured on ('test', a held-out slice of train, or training images). */
export async function evalTokenizer(o: EvalTokenizerOptions): Promise<{ summary: EvalSummary; report: string; split: string }> {
  const events = withDefaults(o.events);
  const split = o.split ?? 'test';
  const seed = o.seed ?? 0;
  const features = o.features ?? `classifier:${o.data}`;
  refuseLossNetwork(features, o.tokenizer);  // before any data is prepared or a model opened
  const device = resolveDevice(o.device ?? 'cpu');  // a missing GPU is refused before anything is read
  const { model: tokenizer, image: spec } = openTokenizer(o.tokenizer);
  tokenizer.to(device);
  let network: FeatureNetwork | undefined;
  let result: TokenizerEvalResult | undefined;
  try {
    // A bad level fails here, before data is prepared or a classifier trained.
    pfidLevels(tokenizer.options.codebookSize, o);
    const dataset = await openDataset(o.data);
    if (!dataset.splits[split]) {
      throw new Error(`${dataset.name} has no '${split}' split (it has: ${Object.keys(dataset.splits).join(', ')}); ` +
        `pass --split ${Object.keys(dataset.splits)[0]} to measure on those images`);
    }
    const label = splitLabel(dataset, split);
    if (split === 'train') events.log(`warning: --split train: the numbers are on training images, which the tokenizer has seen; they say nothing about new images`);
    // Size and channels from the tokenizer; the fit (pad, crop, resize) is the dataset's own, as in training.
    const images = await profile.phaseAsync('prepare images', () => prepareSplit(dataset, split, { preprocess: { size: spec.size, channels: spec.channels } }));
    network = await profile.phaseAsync('feature network', () => featureNetwork(features, o.weights, spec, events, device));
    const scorer = network;  // narrowed, for the closure below
    const paths = evalOutput(o);
    mkdirSync(paths.dir, { recursive: true });
    const n = Math.min(o.n ?? images.count, images.count);
    result = phase('evaluate', () => evaluateTokenizer(tokenizer, images, {
      network: scorer, n, batchSize: o.batchSize ?? 100, alpha: o.alpha, delta: o.delta, curve: o.curve, deltaCurve: o.deltaCurve, seed, keep: 8, noise: o.noise,
      onProgress: (done) => events.progress({ label: 'eval', done, total: n, unit: 'img', cadence: 10 }),
    }));
    const grid = result.samples ? paths.samples : null;
    if (grid && result.samples) await writeImageRows([result.samples.real, result.samples.clean, result.samples.perturbed], grid);
    const { samples: _samples, ...summary } = result;
    const { rfid, psnr, ssim, psnrPfidLevel, sensitivity } = summary;
    refuseNonFiniteResults(`${paths.result} (not written)`, { rFID: rfid, pFID: summary.pfid.value, PSNR: psnr, SSIM: ssim, 'PSNR at the pFID level': psnrPfidLevel, sensitivity });
    writeFileAtomic(paths.result, [Buffer.from(`${JSON.stringify({ ...summary, tokenizer: o.tokenizer, data: o.data, split: label, seed }, null, 2)}\n`)]);
    writeFileSync(paths.report, reportHtml(result, { tokenizer: o.tokenizer, data: o.data, split: label, grid }));
    if (summary.biased) events.log(`warning: FID from ${summary.n} images (< ${FID_UNBIASED_SAMPLES}) is biased upwards; compare it only with FIDs at the same n`);
    return { summary, report: paths.report, split: label };
  } finally {
    for (const t of Object.values(result?.samples ?? {})) t.dispose();
    network?.dispose();
    tokenizer.dispose();
  }
}

/** The feature network, on `device`; a dataset classifier that does not exist yet is trained first (a few minutes on a CPU). */
export async function featureNetwork(name: string, weights: string | undefined, spec: { size: number; channels: 1 | 3 }, events: ReturnType<typeof withDefaults>,
  device: Device = 'cpu'): Promise<FeatureNetwork> {
  try {
    return await loadFeatureNetwork(name, { weights, device });
  } catch (error) {
    if (!(error instanceof MissingClassifierError)) throw error;
    events.log(`${error.message}; training it now (once)`);
    const config = resolveConfig(classifierSchema, [{ data: { name: error.dataset, size: spec.size, channels: spec.channels } }], []);
    await trainClassifier(config, classifierFileFor(error.dataset, { weights }), { events });
    return loadFeatureNetwork(name, { weights, device });
  }
}

/** The evaluation's output folder: --out, else the tokenizer folder's eval/, else PATH.eval/ beside a released file. */
function evalOutput(o: EvalTokenizerOptions): ReturnType<typeof evalPaths> {
  if (o.out) return evalPaths(o.out);
  const ref = parseTokenizerRef(o.tokenizer);
  return 'folder' in ref ? runPaths(ref.folder).eval : evalPaths(`${ref.file}.eval`);
}
