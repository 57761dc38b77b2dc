// `robustok sample --generator DIR [--tokenizer DIR] [--class C | --per-class N] [--n N]
//                  [sampling flags] --out FILE.png|DIR`
//
// Draws token grids from a trained generator and decodes them: a PNG grid
// (one row per class with --per-class) or a folder of PNGs, plus the token
// ids as NumPy .npy (int64 [n, h, w]) beside them, so the same tokens can be
// decoded again by another decoder of the same codebook (`robustok decode`,
// or `sample --tokenizer` with the same seed: the draws do not depend on the decoder).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tensorToImages, writeImageGrid, writePng } from '../data/index.js';
import { sampleImages } from '../generator/index.js';
import { loadGeneratorPair, samplingWith } from '../runs/index.js';
import { RandomStream, type Tensor, arange, cat, full, tidy } from '../torch/index.js';
import { resolveDevice } from '../train/index.js';
import { flagLines, flagTable, positiveInteger, readFlags, wantsHelp } from './flags.js';
import { encodeNpy } from './npy.js';
import { samplingFlags, samplingOverrides } from './sampling_flags.js';

const flags = flagTable({
  generator: { value: 'DIR', help: 'the trained generator', required: true },
  tokenizer: { value: 'DIR|KIND:PATH', help: 'decode with this tokenizer (same codebook) instead of the generator\'s own' },
  class: { value: 'C', help: 'sample class C (an id or a class name), --n times (default 16)' },
  'per-class': { value: 'N', help: 'N samples of every class (the default: 8)', parse: positiveInteger },
  n: { value: 'N', help: 'samples of --class', parse: positiveInteger },
  batch: { value: 'N', help: 'samples per batch', default: 100, parse: positiveInteger },
  device: { value: 'D', help: 'cpu, cuda, cuda:N or auto: where the generator and decoder run', default: 'cpu' },
  ...samplingFlags,
  out: { value: 'FILE.png|DIR', help: 'a grid, or a folder of PNGs (the token ids beside them, as .npy)', required: true },
});

export const sampleUsage = `usage: robustok sample --generator DIR [--tokenizer DIR|KIND:PATH] [--class C | --per-class N] [--n N] [options] --out FILE.png|DIR

Samples images from a trained generator (docs/method.md §5) and decodes them with
its tokenizer, or with --tokenizer DIR, another decoder of the same codebook (a
post-trained one: the same seed gives the same tokens, so the decoders compare
on identical tokens). --out FILE.png writes a grid (a row per class with
--per-class), --out DIR one PNG per sample; the token ids go to FILE.npy / DIR/ids.npy.

${flagLines(flags)}
Sampling flags left out take the generator's own settings (its generator.json).`;

export async function sampleCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(sampleUsage);
    return;
  }
  const args = readFlags(argv, flags, sampleUsage);
  if (args.class !== undefined && args['per-class'] !== undefined) throw new Error('give --class or --per-class, not both');
  const device = resolveDevice(args.device);
  const pair = loadGeneratorPair(args.generator, args.tokenizer);
  for (const model of [pair.model, pair.tokenizer]) model.to(device);
  const parts: { ids: Tensor; images: Tensor }[] = [];
  try {
    const { classes } = pair.info;
    const C = classes.length;
    const classId = args.class === undefined ? null : parseClass(args.class, classes);
    const perClass = args['per-class'] ?? 8;
    const n = classId === null ? C * perClass : args.n ?? 16;
    const labelsOf = (start: number, count: number): Tensor => classId === null
      ? arange(start, start + count, 1, { dtype: 'int64', device }).div(perClass, 'floor')
      : full([count], classId, { dtype: 'int64', device });
    const sampling = samplingWith(pair.info.sampling, samplingOverrides(args));
    const stream = new RandomStream(args.seed);
    for (let start = 0; start < n; start += args.batch) {
      const labels = labelsOf(start, Math.min(args.batch, n - start));
      try {
        parts.push(sampleImages(pair.model, pair.tokenizer, labels, { ...sampling, stream }));
      } finally {
        labels.dispose();
      }
    }
    const [h, w] = pair.model.options.grid;
    const ids = tidy(() => Array.from(parts.flatMap((p) => Array.from(p.ids.reshape(-1).toTypedArray() as BigInt64Array))));
    const images = parts.map((p) => p.images);
    const toGrid = args.out.toLowerCase().endsWith('.png');
    const npy = toGrid ? args.out.replace(/\.png$/i, '.npy') : path.join(args.out, 'ids.npy');
    if (toGrid) {
      mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
      const all = cat(images, 0);
      try {
        await writeImageGrid(all, args.out, classId === null ? perClass : Math.min(n, 8));
      } finally {
        all.dispose();
      }
    } else {
      mkdirSync(args.out, { recursive: true });
      let i = 0;
      for (const batch of images) {
        for (const image of tensorToImages(batch)) {
          const c = classId ?? Math.floor(i / perClass);
          await writePng(image, path.join(args.out, `${String(i).padStart(6, '0')}-${slug(classes[c]!)}.png`));
          i += 1;
        }
      }
    }
    writeFileSync(npy, encodeNpy(ids, [n, h, w]));
    console.error(`${n} samples (cfg ${sampling.cfg} ${sampling.schedule}, temperature ${sampling.temperature}, seed ${args.seed}) decoded by ${pair.tokenizerDir} → ${args.out}; ids → ${npy}`);
  } finally {
    for (const p of parts) { p.ids.dispose(); p.images.dispose(); }
    pair.dispose();
  }
}

/** A class given as an id or a name (case-insensitive). */
function parseClass(text: string, classes: readonly string[]): number {
  const byName = classes.findIndex((c) => c.toLowerCase() === text.toLowerCase());
  if (byName >= 0) return byName;
  const id = Number(text);
  if (!Number.isInteger(id) || id < 0 || id >= classes.length) {
    throw new Error(`--class must be a class id in 0…${classes.length - 1} or a class name (${classes.join(', ')}), got '${text}'`);
  }
  return id;
}

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
