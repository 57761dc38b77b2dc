// The feature-network half of `npm run bench:metrics`: features per second of
// each feature network at its own input size (so no resize is timed), no grad,
// against the same network elsewhere on this machine:
// - `classifier` (classifierSchema's defaults, random weights) and
//   `inception-fid` (random weights from test/inception_ref.py) against their
//   PyTorch twins (bench/features_torch.py) on the same weights, the same
//   images and the same thread count, interleaved pass by pass (A B, B A, …);
// - `nsfwjs-mobilenet` and `nsfwjs-inception` (the real weights shipped in
//   nsfwjs) against TensorFlow.js running nsfwjs's own model files. TF.js's
//   only backend that runs here is pure JS on one thread and takes seconds
//   per image, so it gets a small batch and a single timed pass.
// Each row also says how far apart the two sides' features are, so a fast
// number from a different computation would show.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { resolveConfig } from '../src/config/index.js';
import {
  DatasetClassifier, type FeatureNetwork, type NsfwjsVariant, classifierNetwork, classifierSchema, loadInceptionFid, loadNsfwjs, readNsfwjsFiles,
} from '../src/features/index.js';
import { F, type PtValue, type Tensor, loadPt, noGrad, normal_, rand, savePt, tensor, tidy, uniform_ } from '../src/torch/index.js';
import { tfjsModel, useTfjsCpu } from '../test/helpers/tfjs_nsfwjs.js';
import { twinEnv } from './twin_env.js';

const REPEATS = 3;
/** Batches per network: 8 for the Inceptions keeps a pass at a few seconds on 2 cores. */
const BATCH = { classifier: 16, inception: 8, mobilenet: 16 } as const;
/** TF.js's batches: its CPU backend took ≈14 s per InceptionV3 image and ≈1.3 s per MobileNetV2 image on a busy 2-core machine. */
const TFJS_BATCH: Record<NsfwjsVariant, number> = { mobilenet: 2, inception: 1 };
const twinScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'features_torch.py');

export interface FeatureRow {
  network: string;
  /** Network input `[C, S, S]`. */
  input: number[];
  batch: number;
  robustok_features_per_s: number;
  /** `pytorch X` or `tfjs X cpu`. */
  reference: string;
  reference_batch: number;
  reference_threads: number;
  reference_timed_passes: number;
  reference_features_per_s: number;
  /** robustok's time per image / the reference's (PyTorch: median of paired passes). */
  ratio: number;
  /** max |robustok − reference| / max |reference| over the features of the reference's batch. */
  features_max_relative_difference: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const relativeDifference = (ours: Tensor, ref: Tensor): number =>
  tidy(() => ours.sub(ref).abs().max().item() / ref.abs().max().item());

/** One pass of `net.features`, in seconds; with `keep`, its features stay alive for the caller. */
function pass(net: FeatureNetwork, x: Tensor, keep = false): { seconds: number; features: Tensor | null } {
  const start = performance.now();
  const features = noGrad(() => net.features(x));
  const seconds = (performance.now() - start) / 1e3;
  if (keep) return { seconds, features };
  features.dispose();
  return { seconds, features: null };
}

/**
 * `count` images `[count, C, side, side]` in [−1, 1], kept: 32×32 uniform
 * noise, upsampled bilinearly when `side` is larger. Smooth like the images
 * inception_ref.py calibrates its random BatchNorms on, so activations stay O(1).
 */
function images(count: number, channels: number, side: number): Tensor {
  return tidy(() => {
    const small = rand([count, channels, 32, 32]).mul(2).sub(1);
    return (side === 32 ? small : F.interpolate(small, { size: [side, side], mode: 'bilinear', alignCorners: false })).keep();
  });
}

/** The default dataset classifier with random weights, its BatchNorms given non-trivial statistics so the twin check covers them. */
function randomClassifier(): DatasetClassifier {
  const defaults = resolveConfig(classifierSchema, []);
  const model = new DatasetClassifier({
    channels: Number(defaults.data.channels) as 1 | 3, size: defaults.data.size, numClasses: 10,
    widths: [...defaults.model.widths], featureSize: defaults.model.featureSize,
  });
  noGrad(() => {
    for (const [key, t] of Object.entries(model.stateDict())) {
      if (key.endsWith('running_mean')) normal_(t, 0, 0.1);
      else if (key.endsWith('running_var')) uniform_(t, 0.5, 1.5);
    }
  });
  return model;
}

interface Twin {
  version: string;
  ask(command: string): Promise<number>;
  close(): void;
}

async function startTwin(threads: number, dir: string): Promise<Twin> {
  const child = spawn('/usr/bin/python3', [twinScript, String(threads), dir], { stdio: ['pipe', 'pipe', 'inherit'], env: twinEnv(threads) });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the PyTorch twin (${twinScript}) ended early (is python3-torch installed? its error is above)`);
    return value as string;
  };
  const first = await next();
  if (!first.startsWith('ready ')) throw new Error(`unexpected first answer from the PyTorch twin: ${first}`);
  return {
    version: first.slice('ready '.length),
    ask: async (command) => {
      child.stdin!.write(`${command}\n`);
      const answer = await next();
      const seconds = Number(answer);
      if (!Number.isFinite(seconds)) throw new Error(`PyTorch twin, on '${command}': ${answer}`);
      return seconds;
    },
    close: () => child.stdin!.end('quit\n'),
  };
}

/**
 * Warm-up passes on both sides (the first compares features), then `repeats`
 * paired passes, alternating who goes first. Passes of a few milliseconds
 * (the classifier) need more of both: robustok's first few after one warm-up
 * still run at half speed while the JIT settles.
 */
async function pairedRow(
  network: string, net: FeatureNetwork, x: Tensor, twin: Twin, twinName: string, dir: string, threads: number, { warmups = 1, repeats = REPEATS } = {},
): Promise<FeatureRow> {
  const warm = pass(net, x, true);
  await twin.ask(`warmup ${twinName}`);
  for (let i = 1; i < warmups; i++) {
    pass(net, x);
    await twin.ask(`time ${twinName}`);
  }
  const reference = loadPt(path.join(dir, `${twinName}_features.pt`)) as Tensor;
  const difference = relativeDifference(warm.features!, reference);
  warm.features!.dispose();
  reference.dispose();
  const pairs: [number, number][] = [];
  for (let i = 0; i < repeats; i++) {
    if (i % 2 === 0) pairs.push([pass(net, x).seconds, await twin.ask(`time ${twinName}`)]);
    else { const theirs = await twin.ask(`time ${twinName}`); pairs.push([pass(net, x).seconds, theirs]); }
  }
  const batch = x.size(0);
  return {
    network, input: x.shape.slice(1), batch,
    robustok_features_per_s: batch / median(pairs.map((p) => p[0])),
    reference: `pytorch ${twin.version}`, reference_batch: batch, reference_threads: threads, reference_timed_passes: repeats,
    reference_features_per_s: batch / median(pairs.map((p) => p[1])),
    ratio: median(pairs.map(([ours, theirs]) => ours / theirs)),
    features_max_relative_difference: difference,
  };
}

/** nsfwjs in robustok (warm-up + REPEATS passes), then in TF.js from the package's own files (warm-up + 1 pass at a small batch). */
async function tfjsRow(variant: NsfwjsVariant, batch: number): Promise<FeatureRow> {
  const net = loadNsfwjs(variant);
  const side = net.inputSize;
  const x = images(batch, 3, side);
  try {
    const warm = pass(net, x, true);
    const ours = Array.from({ length: REPEATS }, () => pass(net, x).seconds);

    const files = readNsfwjsFiles(variant);
    const model = await tfjsModel(files.topology, files.weightSpecs, files.weightData);
    const probe = tf.model({ inputs: model.inputs, outputs: model.getLayer(net.featureLayer).output as tf.SymbolicTensor });
    const b = TFJS_BATCH[variant];
    // nsfwjs feeds TF.js NHWC pixels in [0, 1] (already at the input size: no resize).
    const pixels = tidy(() => x.narrow(0, 0, b).add(1).mul(0.5).permute(0, 2, 3, 1).contiguous().toTypedArray() as Float32Array);
    const input = tf.tensor4d(pixels, [b, side, side, 3]);
    const tfjsPass = (): { seconds: number; values: Float32Array } => {
      const start = performance.now();
      const out = probe.predict(input) as tf.Tensor;
      const values = out.dataSync() as Float32Array;  // the CPU backend computes eagerly; this only reads
      const seconds = (performance.now() - start) / 1e3;
      out.dispose();
      return { seconds, values };
    };
    const reference = tfjsPass().values;
    const timed = tfjsPass().seconds;
    input.dispose();
    model.dispose();
    const difference = tidy(() => relativeDifference(warm.features!.narrow(0, 0, b), tensor(reference, { shape: [b, net.featureSize] })));
    warm.features!.dispose();
    const oursPerImage = median(ours) / batch;
    return {
      network: `nsfwjs-${variant}`, input: [3, side, side], batch,
      robustok_features_per_s: 1 / oursPerImage,
      reference: `tfjs ${tf.version.tfjs} cpu`, reference_batch: b, reference_threads: 1, reference_timed_passes: 1,
      reference_features_per_s: b / timed,
      ratio: oursPerImage / (timed / b),
      features_max_relative_difference: difference,
    };
  } finally {
    x.dispose();
    net.dispose();
  }
}

/** Every feature network's row; `threads` is robustok's thread count, given to PyTorch too. */
export async function benchFeatures(threads: number): Promise<FeatureRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-features-'));
  const rows: FeatureRow[] = [];
  let twin: Twin | null = null;
  const classifier = randomClassifier();
  const inputs = { classifier: images(BATCH.classifier, 1, 32), inception: images(BATCH.inception, 3, 299) };
  try {
    savePt(path.join(dir, 'init.pt'), {
      classifier_options: JSON.stringify(classifier.options), classifier: classifier.stateDict(), inputs,
    } as PtValue);
    twin = await startTwin(threads, dir);
    const classifierNet = classifierNetwork(classifier, { options: classifier.options, dataset: 'random', testAccuracy: NaN, epochs: 0 });
    rows.push(await pairedRow('classifier', classifierNet, inputs.classifier, twin, 'classifier', dir, threads, { warmups: 5, repeats: 21 }));
    const inception = loadInceptionFid(path.join(dir, 'inception.pth'));
    try {
      rows.push(await pairedRow('inception-fid', inception, inputs.inception, twin, 'inception', dir, threads));
    } finally {
      inception.dispose();
    }
    twin.close();
    twin = null;
    await useTfjsCpu();
    rows.push(await tfjsRow('mobilenet', BATCH.mobilenet));
    rows.push(await tfjsRow('inception', BATCH.inception));
  } finally {
    twin?.close();
    classifier.dispose();
    for (const t of Object.values(inputs)) t.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function printFeatureTable(rows: FeatureRow[], threads: number): void {
  console.log(`feature networks: features/s at each network's input size, no grad; robustok on ${threads} threads, median of ${REPEATS} passes after 1 warm-up (classifier: 21 after 5); `
    + `PyTorch on the same threads, same weights and images, interleaved (ratio: median of the paired passes); `
    + 'TF.js: pure-JS CPU backend (1 thread, its only backend here), small batch, warm-up 1 + ONE timed pass');
  // Text columns left-aligned, numbers right-aligned, two spaces between columns.
  const widths = [16, 9, 5, 12, 13, 6, 26, 21];
  const left = new Set([0, 1, 6]);
  const line = (cells: string[]) => console.log(cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  line(['network', 'input', 'batch', 'robustok f/s', 'reference f/s', 'ratio', 'reference', 'features max rel diff']);
  for (const r of rows) {
    const reference = r.reference_batch === r.batch ? r.reference : `${r.reference}, batch ${r.reference_batch}`;
    line([r.network, r.input.join('×'), String(r.batch), r.robustok_features_per_s.toFixed(1), r.reference_features_per_s.toFixed(2),
      r.ratio.toFixed(3), reference, r.features_max_relative_difference.toExponential(1)]);
  }
  console.log('ratio = robustok time per image / reference time per image (< 1: robustok faster)');
  // Float32 through ~100 layers on different kernels lands near 1e-6 (measured); far above that, the two sides ran different networks.
  for (const r of rows.filter((row) => !(row.features_max_relative_difference <= 1e-3))) {
    console.log(`WARNING: ${r.network}'s features differ from ${r.reference}'s by ${r.features_max_relative_difference.toExponential(1)} of their largest value: its timing compares different computations`);
  }
}
