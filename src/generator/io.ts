// A trained generator on disk: `generator.json` (model options, the classes,
// the tokenizer it was trained on, default sampling settings) next to
// `generator.safetensors` (the EMA weights, PyTorch names). Checked on
// reading, since folders get copied and edited: errors name the file and
// what is wrong.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../torch/index.js';
import type { Sampling } from './config.js';
import { ArGenerator, type GeneratorOptions, checkGeneratorOptions } from './model.js';

const OPTIONS_FILE = 'generator.json';
const WEIGHTS_FILE = 'generator.safetensors';

export interface GeneratorInfo {
  options: GeneratorOptions;
  /** Class names, index = class id. */
  classes: string[];
  /** The tokenizer folder the tokens came from, as given to train-generator (absolute). */
  tokenizer: string;
  /** The token set's fingerprint (tokenizer files + data transform). */
  fingerprint: string;
  /** sha256 of the tokenizer's codebook: the decoders that may decode these tokens have the same. */
  codebook: string;
  /** The dataset the tokens were encoded from. */
  data: string;
  /** Default sampling settings of `sample` and `eval-generator`. */
  sampling: Sampling;
}

export function saveGenerator(dir: string, model: ArGenerator, info: Omit<GeneratorInfo, 'options'>): void {
  const json = { ...info, options: model.options };
  writeFileAtomic(path.join(dir, OPTIONS_FILE), [Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]);
  saveSafetensors(path.join(dir, WEIGHTS_FILE), model.stateDict());
}

/** generator.json, checked. */
export function readGeneratorInfo(dir: string): GeneratorInfo {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`generator directory ${dir} does not exist; give the --out folder of robustok train-generator`);
  const file = path.join(dir, OPTIONS_FILE);
  if (!existsSync(file)) throw new Error(`${dir} holds no trained generator (${OPTIONS_FILE} is missing); train one with robustok train-generator`);
  let json: GeneratorInfo;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as GeneratorInfo;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const o = json?.options;
  if (typeof o !== 'object' || o === null) throw new Error(`${file} has no 'options' object`);
  try {
    checkGeneratorOptions(o);
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(json.classes) || json.classes.length !== o.numClasses) {
    throw new Error(`${file}: 'classes' must list the ${o.numClasses} class names`);
  }
  for (const key of ['tokenizer', 'fingerprint', 'codebook', 'data'] as const) {
    if (typeof json[key] !== 'string') throw new Error(`${file}: '${key}' must be a string`);
  }
  return json;
}

/** Rebuilds a generator that `saveGenerator` wrote, in eval mode, with its info. */
export function loadGenerator(dir: string): { model: ArGenerator; info: GeneratorInfo } {
  const info = readGeneratorInfo(dir);
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  if (!existsSync(weightsFile)) throw new Error(`${dir} has ${OPTIONS_FILE} but no ${WEIGHTS_FILE}`);
  const { tensors } = loadSafetensors(weightsFile);
  const model = new ArGenerator(info.options);
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    model.dispose();
    throw new Error(`${weightsFile}: the weights do not fit ${OPTIONS_FILE}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return { model: model.eval(), info };
}
