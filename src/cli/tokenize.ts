// `robustok reconstruct | encode | decode`: a trained tokenizer (the --out
// folder of train-tokenizer) applied to image files. Images are fitted to
// the tokenizer's training size and channels as tokenizer.json records them;
// token ids travel as JSON or as NumPy .npy (int64 [N, h, w]) files.
// Unreadable images in a folder follow the data layer's rule
// (src/data/decode_skips.ts): skipped with one counted warning, or with
// --strict the first one stops the command.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type PreparedSplit, type UnreadableImageError, decodeFilesSkipping, imagesToBytes, imagesToTensor, skippedWarning, tensorToImages, writeGrid, writePng,
} from '../data/index.js';
import { PFID_ALPHA, defaultPfidDelta } from '../eval/index.js';
import { psnrPerImage } from '../metrics/index.js';
import { refuseNonFiniteResults } from '../runs/index.js';
import { type ImageSpec, type Tokenizer, checkTokenIds, openTokenizer, tokenGrid } from '../tokenizer/index.js';
import { RandomStream, type Tensor, noGrad, onDevice, tensor, tidy } from '../torch/index.js';
import { resolveDevice } from '../train/index.js';
import { type FlagValues, flagLines, flagTable, fraction, positiveInteger, readFlags, seed } from './flags.js';
import { decodeNpy, encodeNpy } from './npy.js';
import { Progress } from './progress.js';

const GRID_IMAGES = 32;
const GRID_COLUMNS = 8;
const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp']);
const skipText = `Images of a FOLDER that cannot be read (truncated, corrupt, not an image) are
skipped with one warning that counts them; --strict stops at the first instead.`;

/** What one of the commands reads or writes. */
type Place = { value: string; help: string };

/** The flags all three commands take, with what each reads and writes. */
const common = (input: Place, out: Place) => flagTable({
  tokenizer: { value: 'DIR|KIND:PATH', help: "the trained tokenizer: a folder, or a published tokenizer's file" },
  input,
  out,
  batch: { value: 'N', help: 'images per batch', default: 32, parse: positiveInteger },
  device: { value: 'cpu|cuda|cuda:N|auto', help: 'where the tokenizer computes', default: 'cpu' },
});

const images: Place = { value: 'IMG|FOLDER', help: 'an image, or a folder of them (.png, .jpg, .jpeg, .webp)' };
const strictFlag = flagTable({ strict: { help: 'stop at the first image that cannot be read' } });

const reconstructFlags = flagTable({
  ...common(images, { value: 'OUT', help: 'a folder for the reconstructions, or FILE.png for one IMG' }),
  grid: { value: 'FILE', help: `originals and reconstructions of the first ${GRID_IMAGES} inputs as one PNG` },
  'perturb-alpha': { value: 'A', help: `decode from perturbed tokens at α (default ${PFID_ALPHA} when --perturb-delta is given)`, parse: fraction },
  'perturb-delta': { value: 'D', help: 'decode from perturbed tokens at δ (default max(2, round(K·100/4096)))', parse: positiveInteger },
  seed: { value: 'S', help: 'seed of the perturbation draws', default: 0, parse: seed },
  ...strictFlag,
});

const encodeFlags = flagTable({ ...common(images, { value: 'FILE.json|FILE.npy', help: 'the token ids' }), ...strictFlag });

const decodeFlags = common({ value: 'FILE.json|FILE.npy', help: 'token ids, as encode writes them' }, { value: 'FOLDER', help: 'a folder for the PNGs' });

export const reconstructUsage = `usage: robustok reconstruct --tokenizer DIR|KIND:PATH --input IMG|FOLDER --out OUT [--batch N] [--grid FILE]
                           [--perturb-alpha A] [--perturb-delta D] [--seed S] [--strict]

Encodes and decodes images with a trained tokenizer (DIR holds tokenizer.json
and tokenizer.safetensors; KIND:PATH reads a published tokenizer's file, see
robustok import --help) and writes the reconstructions as PNG: one per input
in folder OUT, same base name (or, for one IMG and OUT ending in .png, that file).
Prints the PSNR over the inputs. --perturb-alpha/--perturb-delta decode from
perturbed tokens instead (every image, β = 1, as pFID does), seeded by --seed
(the draws also follow --batch). --grid writes originals and reconstructions
of the first ${GRID_IMAGES} inputs as one PNG, rows of ${GRID_COLUMNS}.
${skipText}

${flagLines(reconstructFlags)}`;

export const encodeUsage = `usage: robustok encode --tokenizer DIR|KIND:PATH --input IMG|FOLDER --out FILE.json|FILE.npy [--batch N] [--strict]

Writes the token ids of each image. FILE.json: {"tokenizer", "grid": [h, w],
"files", "ids": one row-major list of h·w ids per image}. FILE.npy: an int64
array [N, h, w] (NumPy .npy), with the file names in FILE.json beside it.
${skipText}

${flagLines(encodeFlags)}`;

export const decodeUsage = `usage: robustok decode --tokenizer DIR|KIND:PATH --input FILE.json|FILE.npy --out FOLDER [--batch N]

Decodes token ids (as robustok encode writes them, or from a generator) to
PNGs in FOLDER, named after the encoded files (or 000000.png, ...).

${flagLines(decodeFlags)}`;

type Required = { tokenizer: string; input: string; out: string };

/** `argv` read against one command's table; --tokenizer, --input and --out must all be given. */
function parseFlags<T extends typeof decodeFlags>(argv: string[], table: T, usage: string): FlagValues<T> & Required {
  const flags = readFlags(argv, table, usage);
  for (const key of ['tokenizer', 'input', 'out'] as const) {
    if (flags[key] === undefined) throw new Error(`--${key} is required\n\n${usage}`);
  }
  return flags as FlagValues<T> & Required;
}

/** A trained tokenizer on `device` (a missing GPU refused first), with the image geometry it reads and the grid of ids it makes. */
function openForImages(ref: string, device: string): { model: Tokenizer; spec: ImageSpec; grid: [number, number] } {
  const placed = resolveDevice(device);
  const { model, image: spec } = openTokenizer(ref);
  return { model: model.to(placed), spec, grid: tokenGrid(model.options, spec.size) };
}

/** The images named by --input: the file itself, or a folder's images (sorted, not recursive). */
function inputImages(input: string): { files: string[]; folder: boolean } {
  if (!existsSync(input)) throw new Error(`--input ${input} does not exist`);
  if (!statSync(input).isDirectory()) return { files: [input], folder: false };
  const files = readdirSync(input).filter((n) => !n.startsWith('.') && imageExtensions.has(path.extname(n).toLowerCase())).sort()
    .map((n) => path.join(input, n));
  if (files.length === 0) throw new Error(`--input ${input} holds no images (.png, .jpg, .jpeg, .webp)`);
  return { files, folder: true };
}

/** PNG names for outputs: each input's base name, or a running number; two inputs may not share one. */
function pngNames(files: readonly (string | undefined)[]): string[] {
  const names = files.map((f, i) => (f ? `${path.basename(f, path.extname(f))}.png` : `${String(i).padStart(6, '0')}.png`));
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw new Error(`${files[first] ?? first} and ${files[i] ?? i} would both be written as ${name}; rename one`);
    seen.set(name, i);
  });
  return names;
}

/**
 * --input's images, read a batch at a time (memory stays bounded on large
 * folders) under the data layer's rule for unreadable files: each is skipped
 * and counted, with one warning at the end, or with --strict the first one
 * stops the command with its error. A single IMG is always strict: there is
 * nothing else to process.
 */
class InputReader {
  private readonly failures: UnreadableImageError[] = [];

  constructor(private readonly input: string, private readonly total: number, private readonly strict: boolean, private readonly spec: ImageSpec) {}

  /** The readable files of `files` and their tensor (the caller disposes it), or null when none of them reads. */
  async read(files: readonly string[]): Promise<{ files: string[]; x: Tensor } | null> {
    const decoded = await decodeFilesSkipping(files, this.strict);
    this.failures.push(...decoded.failures);
    return decoded.files.length > 0 ? { files: decoded.files, x: imagesToTensor(decoded.images, this.spec, decoded.files) } : null;
  }

  /** After the last batch: an error when no image could be read, else the warning for those skipped. */
  finish(): void {
    const n = this.failures.length;
    if (n === 0) return;
    if (n === this.total) {
      throw new Error(`--input ${this.input}: none of its ${n} images could be read (${this.failures[0]!.message}${n > 1 ? '; …' : ''}); ` +
        'check that they are PNG, JPEG or WebP files');
    }
    console.warn(skippedWarning(this.failures.map((f) => f.file), this.total, `--input ${this.input}`, 'pass --strict to stop at the first instead'));
  }
}

const batches = (n: number, size: number): [number, number][] =>
  Array.from({ length: Math.ceil(n / size) }, (_, b) => [b * size, Math.min(n, (b + 1) * size)]);

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

export interface ReconstructResult {
  /** The PNGs written, in input order (unreadable inputs skipped). */
  outputs: string[];
  /** Mean per-image PSNR (dB) of the clean reconstructions, and of those from tokens perturbed at the flags' α and δ when asked for (null otherwise). */
  psnr: number;
  psnrPerturbed: number | null;
}

export async function reconstructCommand(argv: string[]): Promise<ReconstructResult> {
  const flags = parseFlags(argv, reconstructFlags, reconstructUsage);
  const { files, folder } = inputImages(flags.input);
  const out = flags.out;
  const single = !folder && out.toLowerCase().endsWith('.png');
  const outputOf = new Map((single ? [out] : pngNames(files).map((n) => path.join(out, n))).map((o, i) => [files[i]!, o]));
  const outputs: string[] = [];
  const { model, spec } = openForImages(flags.tokenizer, flags.device);
  const inputs = new InputReader(flags.input, files.length, flags.strict || !folder, spec);
  const K = model.options.codebookSize;
  const alpha = flags['perturb-alpha'];
  const delta = flags['perturb-delta'];
  const perturb = alpha !== undefined || delta !== undefined
    ? { alpha: alpha ?? PFID_ALPHA, delta: delta ?? defaultPfidDelta(K), beta: 1, stream: new RandomStream(flags.seed) }
    : null;
  const cells: Uint8Array[][] = [];  // per grid image: original, clean, (perturbed) as CHW bytes
  const psnrClean: number[] = [];
  const psnrPerturbed: number[] = [];
  const bar = folder ? new Progress(files.length, { label: 'reconstruct', unit: 'img', every: 10 }) : null;
  try {
    for (const [from, to] of batches(files.length, flags.batch)) {
      const batch = await inputs.read(files.slice(from, to));
      bar?.update(to);
      if (!batch) continue;
      const x = onDevice(batch.x, model.device);
      const r = tidy(() => noGrad(() => {
        const q = model.encode(x);
        const clean = model.decode(q.zq);
        const perturbed = perturb ? model.decode(model.perturb(q, perturb).latent) : null;
        const shown = Math.max(0, Math.min(batch.files.length, GRID_IMAGES - cells.length));
        const grid = flags.grid && shown > 0 ? [x, clean, perturbed].flatMap((t) => (t ? [imagesToBytes(t.slice(0, 0, shown))] : [])) : [];
        return {
          images: tensorToImages(perturbed ?? clean),
          psnr: Array.from(psnrPerImage(clean, x).toTypedArray(), Number),
          psnrPerturbed: perturbed ? Array.from(psnrPerImage(perturbed, x).toTypedArray(), Number) : [],
          grid,
        };
      }));
      x.dispose();
      if (x !== batch.x) batch.x.dispose();
      mkdirSync(single ? path.dirname(path.resolve(out)) : out, { recursive: true });
      const written = batch.files.map((f) => outputOf.get(f)!);
      await Promise.all(r.images.map((image, i) => writePng(image, written[i]!)));
      outputs.push(...written);
      psnrClean.push(...r.psnr);
      psnrPerturbed.push(...r.psnrPerturbed);
      const sample = spec.channels * spec.size * spec.size;
      for (let i = 0; i < (r.grid[0]?.length ?? 0) / sample; i++) cells.push(r.grid.map((rows) => rows.subarray(i * sample, (i + 1) * sample)));
    }
    inputs.finish();
  } finally {
    bar?.finish();
    model.dispose();
  }
  if (flags.grid) await writePairs(cells, spec, flags.grid);
  const result = { outputs, psnr: mean(psnrClean), psnrPerturbed: perturb ? mean(psnrPerturbed) : null };
  refuseNonFiniteResults(`reconstruct ${flags.input}`, { PSNR: result.psnr, 'PSNR from perturbed tokens': result.psnrPerturbed });
  console.log(`${outputs.length} image${outputs.length === 1 ? '' : 's'} → ${single ? out : `${out}/`}: PSNR ${result.psnr.toFixed(2)} dB` +
    (perturb ? ` (clean tokens); ${result.psnrPerturbed!.toFixed(2)} dB written from perturbed tokens (α = ${perturb.alpha}, δ = ${perturb.delta}, seed ${flags.seed})` : ''));
  return result;
}

/**
 * The --grid PNG: per block of 8 inputs a row of originals, a row of clean
 * reconstructions and (with perturbation) one of perturbed ones; the last
 * block is padded with white cells.
 */
async function writePairs(cells: Uint8Array[][], spec: ImageSpec, file: string): Promise<void> {
  const kinds = cells[0]!.length;
  const columns = Math.min(GRID_COLUMNS, cells.length);
  const blocks = Math.ceil(cells.length / columns);
  const sample = spec.channels * spec.size * spec.size;
  const images = new Uint8Array(blocks * kinds * columns * sample).fill(255);
  cells.forEach((kindsOfOne, i) => {
    const block = Math.floor(i / columns);
    kindsOfOne.forEach((bytes, k) => images.set(bytes, ((block * kinds + k) * columns + (i % columns)) * sample));
  });
  const split: PreparedSplit = { images, labels: new Int32Array(0), count: blocks * kinds * columns, channels: spec.channels, size: spec.size, skipped: [] };
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await writeGrid(split, file, columns, blocks * kinds);
}

/** What encode writes beside the ids (and decode reads back). */
interface IdsMeta {
  tokenizer: string;
  grid: [number, number];
  files: string[];
}

export interface EncodeResult extends IdsMeta {
  /** Row-major `[N, h, w]`. */
  ids: BigInt64Array;
}

export async function encodeCommand(argv: string[]): Promise<EncodeResult> {
  const flags = parseFlags(argv, encodeFlags, encodeUsage);
  const out = flags.out;
  const format = path.extname(out).toLowerCase();
  if (format !== '.json' && format !== '.npy') throw new Error(`--out must name a .json or .npy file, got ${out}`);
  const { files, folder } = inputImages(flags.input);
  const { model, spec, grid } = openForImages(flags.tokenizer, flags.device);
  const perImage = grid[0] * grid[1];
  const all = new BigInt64Array(files.length * perImage);
  const encoded: string[] = [];  // the inputs that could be read, in order
  const inputs = new InputReader(flags.input, files.length, flags.strict || !folder, spec);
  const bar = folder ? new Progress(files.length, { label: 'encode', unit: 'img', every: 10 }) : null;
  try {
    for (const [from, to] of batches(files.length, flags.batch)) {
      const batch = await inputs.read(files.slice(from, to));
      bar?.update(to);
      if (!batch) continue;
      const n = batch.files.length;
      const batchIds = tidy(() => noGrad(() => model.encode(onDevice(batch.x, model.device)).ids.toTypedArray() as BigInt64Array));
      batch.x.dispose();
      if (batchIds.length !== n * perImage) throw new Error(`the tokenizer made ${batchIds.length / n} ids per image, expected ${perImage} (grid ${grid.join('×')})`);
      all.set(batchIds, encoded.length * perImage);
      encoded.push(...batch.files);
    }
    inputs.finish();
  } finally {
    bar?.finish();
    model.dispose();
  }
  const ids = all.slice(0, encoded.length * perImage);
  const meta: IdsMeta = { tokenizer: flags.tokenizer, grid, files: encoded };
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  if (format === '.npy') {
    writeFileSync(out, encodeNpy(ids, [encoded.length, ...grid]));
    writeFileSync(siblingJson(out), idsJson(meta, null));
  } else {
    writeFileSync(out, idsJson(meta, Array.from({ length: encoded.length }, (_, i) => ids.subarray(i * perImage, (i + 1) * perImage))));
  }
  console.log(`${encoded.length} image${encoded.length === 1 ? '' : 's'} → ${out}: ${grid.join('×')} tokens each, ids in [0, ${model.options.codebookSize})` +
    (format === '.npy' ? `, file names in ${siblingJson(out)}` : ''));
  return { ...meta, ids };
}

/** The JSON of encode: one line per file and per image's ids, so a large file stays readable and diffable. */
function idsJson(meta: IdsMeta, ids: BigInt64Array[] | null): string {
  const list = (items: string[]) => (items.length ? `[\n${items.map((i) => `    ${i}`).join(',\n')}\n  ]` : '[]');
  const fields = [
    `"tokenizer": ${JSON.stringify(meta.tokenizer)}`,
    `"grid": [${meta.grid.join(', ')}]`,
    `"files": ${list(meta.files.map((f) => JSON.stringify(f)))}`,
    ...(ids ? [`"ids": ${list(ids.map((row) => `[${row.join(', ')}]`))}`] : []),
  ];
  return `{\n  ${fields.join(',\n  ')}\n}\n`;
}

const siblingJson = (npy: string): string => `${npy.slice(0, -path.extname(npy).length)}.json`;

/** Ids read from a .json or .npy file: `values` row-major `[N, h, w]`, and the encoded files' names when known. */
function readIds(file: string): { values: ArrayLike<number>; count: number; grid: [number, number]; files: (string | undefined)[] } {
  if (!existsSync(file)) throw new Error(`--input ${file} does not exist`);
  const format = path.extname(file).toLowerCase();
  if (format === '.npy') {
    const { shape, values } = decodeNpy(readFileSync(file), file);
    if (shape.length !== 3) throw new Error(`${file} holds an array of shape (${shape.join(', ')}); token ids must be [N, h, w]`);
    const [count, h, w] = shape as [number, number, number];
    const meta = existsSync(siblingJson(file)) ? (JSON.parse(readFileSync(siblingJson(file), 'utf8')) as Partial<IdsMeta>) : {};
    const files = Array.isArray(meta.files) && meta.files.length === count ? meta.files : Array.from<undefined>({ length: count });
    return { values, count, grid: [h, w], files };
  }
  if (format !== '.json') throw new Error(`--input must be a .json or .npy file of token ids, got ${file}`);
  let json: { grid?: unknown; ids?: unknown; files?: unknown };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const grid = json.grid;
  if (!Array.isArray(grid) || grid.length !== 2 || !grid.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`${file}: "grid" must be [h, w] (positive integers), got ${JSON.stringify(grid)}`);
  }
  const [h, w] = grid as [number, number];
  if (!Array.isArray(json.ids) || json.ids.length === 0) throw new Error(`${file}: "ids" must be a non-empty list with one list of ids per image`);
  const values: number[] = [];
  json.ids.forEach((row: unknown, i) => {
    const flat = Array.isArray(row) ? (row as unknown[]).flat() : null;
    if (!flat || flat.length !== h * w || !flat.every((v) => typeof v === 'number')) {
      throw new Error(`${file}: ids[${i}] must hold ${h}×${w} = ${h * w} numbers (flat, or ${h} rows of ${w}), got ${flat ? `${flat.length} entries` : JSON.stringify(row)}`);
    }
    values.push(...(flat as number[]));
  });
  const files = Array.isArray(json.files) && json.files.length === json.ids.length ? (json.files as string[]) : Array.from<undefined>({ length: json.ids.length });
  return { values, count: json.ids.length, grid: [h, w], files };
}

export async function decodeCommand(argv: string[]): Promise<{ outputs: string[] }> {
  const flags = parseFlags(argv, decodeFlags, decodeUsage);
  const input = readIds(flags.input);
  const names = pngNames(input.files);
  const { model, grid } = openForImages(flags.tokenizer, flags.device);
  const K = model.options.codebookSize;
  const outputs = names.map((n) => path.join(flags.out, n));
  try {
    if (input.grid[0] !== grid[0] || input.grid[1] !== grid[1]) {
      throw new Error(`${flags.input} holds ${input.grid.join('×')} token grids, but this tokenizer reads and writes ${grid.join('×')}`);
    }
    checkTokenIds(input.values, grid, K, input.files.map((f) => (f ? path.basename(f) : '')));
    mkdirSync(flags.out, { recursive: true });
    const perImage = grid[0] * grid[1];
    const bar = input.count > 1 ? new Progress(input.count, { label: 'decode', unit: 'img', every: 10 }) : null;
    for (const [from, to] of batches(input.count, flags.batch)) {
      const ids = BigInt64Array.from({ length: (to - from) * perImage }, (_, i) => BigInt(input.values[from * perImage + i]!));
      const images = tidy(() => noGrad(() => tensorToImages(model.decodeIds(tensor(ids, { shape: [to - from, ...grid], device: model.device })))));
      await Promise.all(images.map((image, i) => writePng(image, outputs[from + i]!)));
      bar?.update(to);
    }
    bar?.finish();
  } finally {
    model.dispose();
  }
  console.log(`${input.count} image${input.count === 1 ? '' : 's'} → ${flags.out}/`);
  return { outputs };
}

const commands = {
  reconstruct: [reconstructUsage, reconstructCommand],
  encode: [encodeUsage, encodeCommand],
  decode: [decodeUsage, decodeCommand],
} as const;

/** The entry point for main.ts: `--help` prints the command's usage, anything else runs it. */
export async function tokenizeCommand(name: keyof typeof commands, argv: string[]): Promise<void> {
  const [usage, command] = commands[name];
  if (argv.includes('--help') || argv.includes('-h')) console.log(usage);
  else await command(argv);
}
