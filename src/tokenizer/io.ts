// A trained tokenizer on disk: `tokenizer.json` (the model options, plus the
// `image` geometry it was trained on) next to `tokenizer.safetensors` (its
// weights, PyTorch names), so that `Tokenizer.load(dir)` rebuilds it without
// the training config.
//
// This file imports model.ts for types only: model.ts imports it at run time
// (`Tokenizer.load` reads through `readTokenizerFiles`), and a one-way
// dependency keeps the two modules free of an import cycle.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type PreprocessConfig, validatePreprocess } from '../data/index.js';
import { type Tensor, loadSafetensors, saveSafetensors, writeFileAtomic } from '../torch/index.js';
import type { Tokenizer, TokenizerOptions } from './model.js';

const OPTIONS_FILE = 'tokenizer.json';
const WEIGHTS_FILE = 'tokenizer.safetensors';

/**
 * How an image becomes the tokenizer's input: the preprocessing of its
 * training images (side, channels, and how other sizes were fitted).
 */
export type ImageSpec = PreprocessConfig;

/**
 * Writes the model's current weights and options to `dir` (atomically, file
 * by file). `image` records the training images' preprocessing so that
 * images given later are fitted the same way; without it `readImageSpec`
 * falls back to what the directory or the architecture tells.
 */
export function saveTokenizer(dir: string, model: Tokenizer, image?: ImageSpec): void {
  const json = image ? { ...model.options, image: validatePreprocess(image) } : model.options;
  writeFileAtomic(path.join(dir, OPTIONS_FILE), [Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]);
  saveSafetensors(path.join(dir, WEIGHTS_FILE), model.stateDict());
}

/** tokenizer.json, parsed; its `image` key is split off (older files lack it). */
function readJson(dir: string): { options: TokenizerOptions; image: ImageSpec | null } {
  if (!existsSync(dir)) throw new Error(`tokenizer directory ${dir} does not exist; give the --out folder of robustok train-tokenizer`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory; give the folder that holds ${OPTIONS_FILE} and ${WEIGHTS_FILE}`);
  const file = path.join(dir, OPTIONS_FILE);
  if (!existsSync(file)) throw new Error(`${dir} holds no trained tokenizer (${OPTIONS_FILE} is missing); train one with robustok train-tokenizer`);
  let json: TokenizerOptions & { image?: ImageSpec };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const { image, ...options } = json;
  return { options: options as TokenizerOptions, image: image ? validatePreprocess(image) : null };
}

/** What `saveTokenizer` wrote: the options and the weights (the caller disposes the tensors). */
export function readTokenizerFiles(dir: string): { options: TokenizerOptions; weights: Record<string, Tensor> } {
  const { options } = readJson(dir);
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  if (!existsSync(weightsFile)) throw new Error(`${dir} has ${OPTIONS_FILE} but no ${WEIGHTS_FILE}: the tokenizer's weights are missing`);
  return { options, weights: loadSafetensors(weightsFile).tensors };
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
