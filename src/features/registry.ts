// Feature networks by name, as `--features NAME` and reports spell them:
//   inception-fid         pytorch-fid's InceptionV3 (weights: pt_inception-2015-12-05 from the user's disk)
//   nsfwjs-inception      Keras InceptionV3 inside the npm package nsfwjs (offline; not comparable with published FIDs)
//   nsfwjs-mobilenet      Keras MobileNetV2 inside nsfwjs
//   classifier:DATASET    a classifier robustok trained on DATASET (robustok train-classifier; Fashion-MNIST's ships in assets/)
import { existsSync } from 'node:fs';
import { defaultCacheDir } from '../data/index.js';
import type { Device } from '../torch/index.js';
import { classifierNetwork, defaultClassifierFile, loadClassifier, shippedClassifierFile } from './classifier.js';
import { loadInceptionFid } from './inception_fid.js';
import { loadNsfwjs } from './nsfwjs.js';
import type { FeatureNetwork } from './network.js';

export interface FeatureNetworkOptions {
  /** A weights file: required by `inception-fid`; for `classifier:DATASET`, overrides the default location. */
  weights?: string;
  /** Where default classifier files live (default: the data cache). */
  cacheDir?: string;
  /** Where the weights go (default cpu): a GPU run's perceptual loss and scoring run beside its models. */
  device?: Device;
}

/** Thrown for `classifier:DATASET` when no classifier file exists yet: callers may train one (`file` is where it belongs). */
export class MissingClassifierError extends Error {
  constructor(readonly dataset: string, readonly file: string) {
    super(`no classifier for ${dataset} at ${file}: train one with \`robustok train-classifier --data ${dataset}\``);
  }
}

export const featureNetworkNames = ['inception-fid', 'nsfwjs-inception', 'nsfwjs-mobilenet', 'classifier:DATASET'] as const;

/** Where `classifier:DATASET`'s file is written and first looked for: `weights`, else the cache. */
export function classifierFileFor(dataset: string, options: FeatureNetworkOptions = {}): string {
  return options.weights ?? defaultClassifierFile(options.cacheDir ?? defaultCacheDir(), dataset);
}

/**
 * The classifier file `classifier:DATASET` reads: `weights`; else one in the
 * cache (trained here, by `train-classifier` or on first use); else the one
 * robustok ships for the dataset; else the cache's place, where none exists yet.
 */
export function classifierToRead(dataset: string, options: FeatureNetworkOptions = {}): string {
  const own = classifierFileFor(dataset, options);
  if (options.weights || existsSync(own)) return own;
  const shipped = shippedClassifierFile(dataset);
  return existsSync(shipped) ? shipped : own;
}

export async function loadFeatureNetwork(name: string, options: FeatureNetworkOptions = {}): Promise<FeatureNetwork> {
  if (name.startsWith('classifier:')) {
    const dataset = name.slice('classifier:'.length);
    if (!dataset) throw new Error('classifier:DATASET needs a dataset name, e.g. classifier:fashion-mnist');
    const file = classifierToRead(dataset, options);
    if (!existsSync(file)) throw new MissingClassifierError(dataset, file);
    const { model, record } = loadClassifier(file);
    if (record.dataset !== dataset) throw new Error(`${file} holds a classifier for ${record.dataset}, not ${dataset}`);
    return classifierNetwork(model, record, options.device);
  }
  switch (name) {
    case 'inception-fid':
      if (!options.weights) {
        throw new Error('inception-fid needs its weights file: --weights pt_inception-2015-12-05-6726825d.pth (pytorch-fid\'s FID Inception weights)');
      }
      return loadInceptionFid(options.weights, { device: options.device });
    case 'nsfwjs-inception':
      return loadNsfwjs('inception', { device: options.device });
    case 'nsfwjs-mobilenet':
      return loadNsfwjs('mobilenet', { device: options.device });
    default:
      throw new Error(`unknown feature network '${name}'; known: ${featureNetworkNames.join(', ')}`);
  }
}
