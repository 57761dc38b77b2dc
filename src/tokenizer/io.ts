// A trained tokenizer on disk: `tokenizer.json` (the model options, plus the
// `image` geometry it was trained on) next to `tokenizer.safetensors` (its
// weights, PyTorch names), so that `Tokenizer.load(dir)` rebuilds it without
// the training config.
//
// Both files are checked on reading, since users hand them over (copied
// runs, hand edits, exports from elsewhere): tokenizer.json's structure
// before a model is built from it, and the weights' dtypes (copying an
// integer tensor into a float parameter would cast it silently and give a
// tokenizer that runs but reconstructs noise), and that they are finite (a
// NaN weight gives "PSNR NaN" everywhere; none is written either). Errors
// name the file and what is wrong.
//
// This file imports model.ts for types only: model.ts imports it at run time
// (`Tokenizer.load` reads through `readTokenizerFiles`), and a one-way
// dependency keeps the two modules free of an import cycle.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type PreprocessConfig, validatePreprocess } from '../data/index.js';
import { type Tensor, loadSafetensors, saveSafetensors, writeFileAtomic } from '../torch/index.js';
import { refuseIntegerWeights, refuseNonFiniteWeights } from '../train/index.js';
import type { Tokenizer, TokenizerOptions } from './model.js';

const OPTIONS_FILE = 'tokenizer.json';
const WEIGHTS_FILE = 'tokenizer.safetensors';

/**
 * How an image becomes the tokenizer's input: the preprocessing of its
 * training images (side, channels, and how other sizes were fitted).
 */
export type ImageSpec = PreprocessConfig;

/**
 * Where a tokenizer came from when it is not a first training: post-training
 * (docs/method.md §6) records its source, so that a decoder whose codebook
 * moved (the round-trip variant) is still known to read the ids its
 * generator was trained on, and so that its dataset is known.
 */
export interface TokenizerLineage {
  kind: 'post-train';
  /** The tokenizer it was post-trained from (absolute folder or KIND:PATH). */
  from: string;
  /** The generator whose σ-tokens it was post-trained on. */
  generator: string;
  /** The fingerprint of the codebook those ids index (the generator's). */
  codebook: string;
  /** The dataset of the post-training images. */
  data: string;
}

/**
 * Writes the model's current weights and options to `dir` (atomically, file
 * by file). `image` records the training images' preprocessing so that
 * images given later are fitted the same way; without it `readImageSpec`
 * falls back to what the directory or the architecture tells. `lineage`
 * records where a post-trained tokenizer came from.
 */
export function saveTokenizer(dir: string, model: Tokenizer, image?: ImageSpec, lineage?: TokenizerLineage): void {
  const json = { ...model.options, ...(image ? { image: validatePreprocess(image) } : {}), ...(lineage ? { lineage } : {}) };
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  refuseNonFiniteWeights(weightsFile, Object.entries(model.stateDict()), 'is not written', 'the weights broke during training');
  writeFileAtomic(path.join(dir, OPTIONS_FILE), [Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]);
  saveSafetensors(weightsFile, model.stateDict());
}

/** tokenizer.json, parsed; its `image` key is split off (older files lack it). */
function readJson(dir: string): { options: TokenizerOptions; image: ImageSpec | null } {
  if (!existsSync(dir)) throw new Error(`tokenizer directory ${dir} does not exist; give the --out folder of robustok train-tokenizer`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory; give the folder that holds ${OPTIONS_FILE} and ${WEIGHTS_FILE}`);
  const file = path.join(dir, OPTIONS_FILE);
  if (!existsSync(file)) throw new Error(`${dir} holds no trained tokenizer (${OPTIONS_FILE} is missing); train one with robustok train-tokenizer`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return checkTokenizerJson(file, json);
}

type Kind = 'positive integer' | 'positive number' | 'non-negative number' | 'boolean' | 'list of positive integers' |
  'list of level indices' | "'cosine' or 'euclidean'" | 'range [low, high]';
const isPositiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
const kinds: Record<Kind, (v: unknown) => boolean> = {
  'positive integer': isPositiveInt,
  'positive number': (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
  'non-negative number': (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
  'boolean': (v) => typeof v === 'boolean',
  'list of positive integers': (v) => Array.isArray(v) && v.length > 0 && v.every(isPositiveInt),
  'list of level indices': (v) => Array.isArray(v) && v.every((i) => Number.isInteger(i) && i >= 0),
  "'cosine' or 'euclidean'": (v) => v === 'cosine' || v === 'euclidean',
  'range [low, high]': (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[0] < v[1],
};
type Fields = Record<string, [Kind, string, 'optional'?]>;

/** tokenizer.json's keys: the kind of value and what it is (for messages), per architecture. */
const commonFields: Fields = {
  codebookSize: ['positive integer', 'K, the number of codes'],
  codeDim: ['positive integer', 'D, the width of a code'],
  commitmentWeight: ['non-negative number', 'the VQ commitment weight', 'optional'],
  distance: ["'cosine' or 'euclidean'", "the quantizer's metric", 'optional'],
  pixelRange: ['range [low, high]', 'the pixel range the model reads and writes', 'optional'],
};
const cnnFields: Fields = {
  imageChannels: ['positive integer', 'image channels'],
  zChannels: ['positive integer', 'channels of the latent map'],
  baseChannels: ['positive integer', 'width of the first level'],
  channelMultipliers: ['list of positive integers', 'width of each level, as multiples of baseChannels'],
  resBlocks: ['positive integer', 'residual blocks per level'],
  attention: ['boolean', 'self-attention in the middle', 'optional'],
  attentionLevels: ['list of level indices', 'levels with self-attention after each residual block', 'optional'],
  normGroups: ['positive integer', 'GroupNorm groups', 'optional'],
};
type Architecture = 'cnn' | 'llamagen' | 'vit' | 'robustok-vit';
const vitGeometry: Fields = {
  imageSize: ['positive integer', 'side of the input image'],
  patchSize: ['positive integer', 'side of a patch'],
  imageChannels: ['positive integer', 'image channels'],
  width: ['positive integer', 'transformer width'],
  depth: ['positive integer', 'transformer blocks'],
  heads: ['positive integer', 'attention heads'],
  mlpRatio: ['positive number', 'MLP width as a multiple of width', 'optional'],
  numLatentTokens: ['positive integer', 'latent tokens'],
};
const architectureFields: Record<Architecture, [string, Fields]> = {
  cnn: ["the CNN's options", cnnFields],
  llamagen: ["the LlamaGen CNN's options", cnnFields],
  vit: ["the ViT's options", { ...vitGeometry, codeDim: ['positive integer', 'code width (equal to codeDim)'] }],
  'robustok-vit': ["the RobusTok release's ViT's options", vitGeometry],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => (v === undefined ? 'nothing' : Array.isArray(v) ? `a list ${JSON.stringify(v)}` : JSON.stringify(v));

/**
 * tokenizer.json's parsed content → the options and the image geometry,
 * after checking that every key a model needs is there with the right kind
 * of value. Relations between values (a patch size that divides the image,
 * groups that divide widths) are checked where the model is built.
 */
function checkTokenizerJson(file: string, json: unknown): { options: TokenizerOptions; image: ImageSpec | null } {
  const fail = (what: string, fix = 'restore it from the run that wrote it (robustok train-tokenizer), or correct it by hand'): never => {
    throw new Error(`${file}: ${what} — ${fix}`);
  };
  if (!isObject(json)) fail(`holds ${shown(json)}, not a tokenizer's options (an object with "architecture", "codebookSize", "codeDim", ...)`);
  const options = json as Record<string, unknown>;
  const check = (object: Record<string, unknown>, fields: Fields, prefix: string): void => {
    for (const [key, [kind, doc, optional]] of Object.entries(fields)) {
      const value = object[key];
      if (value === undefined) {
        if (!optional) fail(`missing '${prefix}${key}' (${doc})`);
      } else if (!kinds[kind](value)) {
        fail(`'${prefix}${key}' (${doc}) must be a ${kind}, got ${shown(value)}`);
      }
    }
  };
  const architecture = options.architecture;
  if (!Object.hasOwn(architectureFields, architecture as string)) {
    const names = "'cnn', 'llamagen', 'vit' or 'robustok-vit'";
    fail(architecture === undefined ? `missing 'architecture' (${names})` : `'architecture' must be ${names}, got ${shown(architecture)}`);
  }
  check(options, commonFields, '');
  const [doc, fields] = architectureFields[architecture as Architecture];
  const sub = options[architecture as string];
  if (sub === undefined) fail(`missing '${architecture}' (${doc})`);
  if (!isObject(sub)) fail(`'${architecture}' (${doc}) must be an object, got ${shown(sub)}`);
  check(sub as Record<string, unknown>, fields, `${architecture}.`);
  const { image, lineage: _lineage, ...rest } = options;
  if (image === undefined || image === null) return { options: rest as unknown as TokenizerOptions, image: null };
  if (!isObject(image)) fail(`'image' (the training images' geometry) must be an object, got ${shown(image)}`);
  try {
    return { options: rest as unknown as TokenizerOptions, image: validatePreprocess(image as unknown as ImageSpec) };
  } catch (error) {
    return fail(`'image': ${error instanceof Error ? error.message : String(error)}`,
      'it should read { "size": S, "channels": 1 or 3, "fit": "resize", "padValue": 255 }');
  }
}

/** The lineage tokenizer.json records (post-trained tokenizers), or null for a first training. */
export function readTokenizerLineage(dir: string): TokenizerLineage | null {
  readJson(dir);  // the file's own checks first
  const lineage = (JSON.parse(readFileSync(path.join(dir, OPTIONS_FILE), 'utf8')) as { lineage?: unknown }).lineage;
  if (lineage === undefined) return null;
  const fields = ['from', 'generator', 'codebook', 'data'] as const;
  if (!isObject(lineage) || (lineage as { kind?: unknown }).kind !== 'post-train' || fields.some((f) => typeof (lineage as Record<string, unknown>)[f] !== 'string')) {
    throw new Error(`${path.join(dir, OPTIONS_FILE)}: 'lineage' must be { "kind": "post-train", ${fields.map((f) => `"${f}": "…"`).join(', ')} }, got ${shown(lineage)}`);
  }
  return lineage as unknown as TokenizerLineage;
}

/** What `saveTokenizer` wrote: the options and the weights (the caller disposes the tensors). */
export function readTokenizerFiles(dir: string): { options: TokenizerOptions; weights: Record<string, Tensor> } {
  const { options } = readJson(dir);
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  if (!existsSync(weightsFile)) throw new Error(`${dir} has ${OPTIONS_FILE} but no ${WEIGHTS_FILE}: the tokenizer's weights are missing`);
  const weights = loadSafetensors(weightsFile).tensors;
  try {
    refuseIntegerWeights(weightsFile, Object.entries(weights), "a tokenizer's weights are all floating point");
    refuseNonFiniteWeights(weightsFile, Object.entries(weights), 'cannot be used',
      'its training broke; retrain it, or save it again from a checkpoint that loads');
  } catch (error) {
    for (const t of Object.values(weights)) t.dispose();
    throw error;
  }
  return { options, weights };
}

/**
 * The preprocessing that turns an image into this tokenizer's input. From
 * tokenizer.json's `image` when present; for tokenizers saved before it
 * existed, the size and channels of DIR/config.json (which
 * `robustok train-tokenizer` writes), else the ViT's own image size. Those
 * fallbacks do not know the dataset's fit, so they resize.
 */
export function readImageSpec(dir: string): ImageSpec {
  const { options, image } = readJson(dir);
  if (image) return image;
  const fallback = { fit: 'resize', padValue: 255 } as const;
  const configFile = path.join(dir, 'config.json');
  if (existsSync(configFile)) {
    const data = (JSON.parse(readFileSync(configFile, 'utf8')) as { data?: { size?: number; channels?: string | number } }).data;
    if (data?.size !== undefined && data.channels !== undefined) {
      return validatePreprocess({ ...fallback, size: data.size, channels: Number(data.channels) as 1 | 3 });
    }
  }
  if (options.architecture === 'vit') {
    return validatePreprocess({ ...fallback, size: options.vit.imageSize, channels: options.vit.imageChannels as 1 | 3 });
  }
  throw new Error(`${path.join(dir, OPTIONS_FILE)} does not record the training image size (no "image" key, no config.json beside it): ` +
    'add "image": { "size": S, "channels": C, "fit": "resize", "padValue": 255 } to it');
}
