// A trained tokenizer on disk: `tokenizer.json` (the model options) next to
// `tokenizer.safetensors` (its weights, PyTorch names), so that
// `loadTokenizer(dir)` rebuilds it without the training config.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../torch/index.js';
import { Tokenizer, type TokenizerOptions } from './model.js';

const OPTIONS_FILE = 'tokenizer.json';
const WEIGHTS_FILE = 'tokenizer.safetensors';

/** Writes the model's current weights and options to `dir` (atomically, file by file). */
export function saveTokenizer(dir: string, model: Tokenizer): void {
  writeFileAtomic(path.join(dir, OPTIONS_FILE), [Buffer.from(`${JSON.stringify(model.options, null, 2)}\n`)]);
  saveSafetensors(path.join(dir, WEIGHTS_FILE), model.stateDict());
}

/** Rebuilds a tokenizer saved by `saveTokenizer` (or by `robustok train-tokenizer`), in eval mode. */
export function loadTokenizer(dir: string): Tokenizer {
  const optionsFile = path.join(dir, OPTIONS_FILE);
  if (!existsSync(optionsFile)) {
    throw new Error(`${dir} holds no trained tokenizer (${OPTIONS_FILE} is missing); train one with robustok train-tokenizer`);
  }
  const options = JSON.parse(readFileSync(optionsFile, 'utf8')) as TokenizerOptions;
  const model = new Tokenizer(options);
  const { tensors } = loadSafetensors(path.join(dir, WEIGHTS_FILE));
  try {
    model.loadStateDict(tensors);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return model.eval();
}
