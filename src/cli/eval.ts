// `robustok eval --tokenizer DIR --data NAME [--split test] [--features NAME] [--n N]
//                [--pfid-alpha A] [--pfid-delta D] [--curve LIST|none] [--json]`
//
// rFID, pFID (and its curve over α), PSNR, SSIM and codebook usage of a
// trained tokenizer on a dataset split; prints a table (or one JSON object)
// and writes DIR/eval/report.html. Every number names the feature network
// and the number of images behind it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type SplitName, openDataset, prepareSplit, splitNames, writeImageRows } from '../data/index.js';
import { type FeatureNetwork, MissingClassifierError, classifierFileFor, classifierSchema, loadFeatureNetwork } from '../features/index.js';
import { FID_UNBIASED_SAMPLES, PFID_ALPHA, PFID_CURVE_ALPHAS, type TokenizerEvalResult, evaluateTokenizer } from '../metrics/index.js';
import { Tokenizer, readImageSpec } from '../tokenizer/index.js';
import { resolveConfig } from '../config/index.js';
import { writeFileAtomic } from '../torch/index.js';
import { reportHtml } from './eval_report.js';
import { parseFraction, readFlags } from './flags.js';
import { Progress } from './progress.js';
import { runClassifierTraining } from './train_classifier.js';

export const evalUsage = `usage: robustok eval --tokenizer DIR --data NAME [options]

  --split train|test     split to evaluate (default test)
  --features NAME        feature network: classifier:DATASET (default classifier:NAME,
                         trained on first use), nsfwjs-inception, nsfwjs-mobilenet,
                         inception-fid (needs --weights pt_inception-2015-12-05-6726825d.pth)
  --weights FILE         weights of the feature network
  --n N                  images to use (default: the whole split)
  --batch N              images per batch (default 100)
  --pfid-alpha A         pFID level α (default ${PFID_ALPHA}); every image perturbed (β = 1)
  --pfid-delta D         pFID level δ (default max(2, round(K·100/4096)))
  --curve LIST|none      α values of the pFID curve (default ${PFID_CURVE_ALPHAS.join(',')})
  --seed S               seed of the perturbation draws (default 0)
  --json                 print one JSON object instead of the table
Writes DIR/eval/report.html and DIR/eval/result.json.`;

interface EvalArgs {
  tokenizer?: string;
  data?: string;
  split: SplitName;
  features?: string;
  weights?: string;
  n?: number;
  batch: number;
  alpha?: number;
  delta?: number;
  curve?: number[];
  seed: number;
  json: boolean;
}

export function parseEvalArgs(argv: string[]): EvalArgs {
  const args: EvalArgs = { split: 'test', batch: 100, seed: 0, json: false };
  readFlags(argv, evalUsage, (flag, read) => {
    if (flag === '--tokenizer') args.tokenizer = read.value();
    else if (flag === '--data') args.data = read.value();
    else if (flag === '--split') {
      const s = read.value();
      if (!splitNames.includes(s as SplitName)) throw new Error(`--split must be one of ${splitNames.join(', ')}, got '${s}'`);
      args.split = s as SplitName;
    } else if (flag === '--features') args.features = read.value();
    else if (flag === '--weights') args.weights = read.value();
    else if (flag === '--n') args.n = read.integer();
    else if (flag === '--batch') args.batch = read.integer();
    else if (flag === '--pfid-alpha') args.alpha = read.fraction();
    else if (flag === '--pfid-delta') args.delta = read.integer();
    else if (flag === '--curve') {
      const v = read.value();
      args.curve = v === 'none' ? [] : v.split(',').map((a) => parseFraction(flag, a));
    } else if (flag === '--seed') args.seed = read.seed();
    else if (flag === '--json') args.json = true;
    else return false;
    return true;
  });
  if (!args.tokenizer) throw new Error(`--tokenizer DIR is required\n\n${evalUsage}`);
  if (!args.data) throw new Error(`--data NAME is required\n\n${evalUsage}`);
  return args;
}

/** The feature network; a dataset classifier that does not exist yet is trained first (a few minutes on a CPU). */
async function featureNetwork(name: string, args: EvalArgs, size: number, channels: 1 | 3): Promise<FeatureNetwork> {
  try {
    return await loadFeatureNetwork(name, { weights: args.weights });
  } catch (error) {
    if (!(error instanceof MissingClassifierError)) throw error;
    console.error(`${error.message}; training it now (once)`);
    const config = resolveConfig(classifierSchema, [{ data: { name: error.dataset, size, channels: String(channels) } }], []);
    await runClassifierTraining(config, classifierFileFor(error.dataset, { weights: args.weights }));
    return loadFeatureNetwork(name, { weights: args.weights });
  }
}

export async function evalCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(evalUsage);
    return;
  }
  const args = parseEvalArgs(argv);
  const dir = args.tokenizer!;
  const tokenizer = Tokenizer.load(dir);
  const spec = readImageSpec(dir);
  const K = tokenizer.options.codebookSize;
  if (args.delta !== undefined && args.delta > K) throw new Error(`--pfid-delta must be at most the codebook size ${K}, got ${args.delta}`);
  const dataset = await openDataset(args.data!);
  // Size and channels from the tokenizer; the fit (pad, crop, resize) is the dataset's own, as in training.
  const split = await prepareSplit(dataset, args.split, { preprocess: { size: spec.size, channels: spec.channels } });
  const network = await featureNetwork(args.features ?? `classifier:${args.data}`, args, spec.size, spec.channels);
  const out = path.join(dir, 'eval');
  mkdirSync(out, { recursive: true });
  let result: TokenizerEvalResult | undefined;
  try {
    const n = Math.min(args.n ?? split.count, split.count);
    const bar = new Progress(n, { label: 'eval', unit: 'img', every: 10 });
    result = evaluateTokenizer(tokenizer, split, {
      network, n, batchSize: args.batch, alpha: args.alpha, delta: args.delta, curve: args.curve, seed: args.seed, keep: 8,
      onProgress: (done) => bar.update(done),
    });
    bar.finish();
    const grid = result.samples ? path.join(out, 'samples.png') : null;
    if (grid && result.samples) await writeImageRows([result.samples.real, result.samples.clean, result.samples.perturbed], grid);
    const summary = jsonSummary(result);
    writeFileAtomic(path.join(out, 'result.json'), [Buffer.from(`${JSON.stringify({ ...summary, tokenizer: dir, data: args.data, split: args.split, seed: args.seed }, null, 2)}\n`)]);
    writeFileSync(path.join(out, 'report.html'), reportHtml(result, { tokenizer: dir, data: args.data!, split: args.split, grid }));
    if (result.biased) console.error(`warning: FID from ${result.n} images (< ${FID_UNBIASED_SAMPLES}) is biased upwards; compare it only with FIDs at the same n`);
    if (args.json) console.log(JSON.stringify(summary));
    else printTable(result, args);
    console.error(`report: ${path.join(out, 'report.html')}`);
  } finally {
    for (const t of Object.values(result?.samples ?? {})) t.dispose();
    network.dispose();
    tokenizer.dispose();
  }
}

/** The `--json` object (the field names) plus the curve and the clean/perturbed PSNR split. */
function jsonSummary(r: TokenizerEvalResult) {
  return {
    features: r.features, n: r.n, biased: r.biased, rfid: r.rfid, pfid: r.pfid, curve: r.curve,
    psnr: r.psnr, psnrPerturbed: r.psnrPerturbed, ssim: r.ssim, usage: r.usage, perplexity: r.perplexity,
  };
}

function printTable(r: TokenizerEvalResult, args: EvalArgs): void {
  const at = `${r.features}, n = ${r.n}${r.biased ? ', biased' : ''}`;
  const lines: [string, string][] = [
    [`rFID (${at})`, r.rfid.toFixed(3)],
    [`pFID α=${r.pfid.alpha} δ=${r.pfid.delta} (${at})`, r.pfid.value.toFixed(3)],
    ...r.curve.map((p): [string, string] => [`  pFID curve α=${p.alpha}`, p.value.toFixed(3)]),
    [`PSNR clean / perturbed (dB, n = ${r.n})`, `${r.psnr.toFixed(2)} / ${r.psnrPerturbed.toFixed(2)}`],
    [`SSIM (n = ${r.n})`, r.ssim.toFixed(4)],
    [`codebook usage / perplexity (${args.split} split)`, `${(100 * r.usage).toFixed(1)}% / ${r.perplexity.toFixed(1)}`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}
