// A small CNN trained on the evaluation dataset itself: the usual feature
// network for FID on MNIST-like data, where ImageNet networks see nothing
// they were trained on (docs/design.md §12). Its penultimate
// activations give FID-style statistics and its softmax the Inception Score
// for that dataset. Numbers made with it compare only with numbers made
// with the same classifier file, so the file records what it was trained on.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchNorm2d, Conv2d, Linear, Module, ReLU, Sequential } from '../nn/index.js';
import { type Device, F, type Tensor, loadSafetensors, saveSafetensors } from '../torch/index.js';
import type { FeatureNetwork } from './network.js';
import { runOnImages } from './preprocess.js';

export interface ClassifierOptions {
  /** Input channels and square side the classifier was trained at. */
  channels: 1 | 3;
  size: number;
  numClasses: number;
  /** Output channels of each conv stage; every stage halves the resolution. */
  widths: number[];
  /** Width of the penultimate layer: the FID features. */
  featureSize: number;
}

/** What a classifier file says about itself, beside its options. */
export interface ClassifierRecord {
  options: ClassifierOptions;
  /** Dataset name as the data registry knows it. */
  dataset: string;
  testAccuracy: number;
  epochs: number;
}

/** conv3×3 → BatchNorm → ReLU → 2×2 max-pool per stage, then a ReLU'd linear layer (features) and the class layer. */
export class DatasetClassifier extends Module {
  readonly stages: Sequential;
  readonly embed: Linear;
  readonly head: Linear;

  constructor(readonly options: ClassifierOptions) {
    super();
    const { channels, size, widths, featureSize, numClasses } = options;
    const side = size >> widths.length;
    if (widths.length === 0 || side < 1) throw new RangeError(`classifier: ${widths.length} stages do not fit images of side ${size}`);
    const stages: Module[] = [];
    widths.forEach((width, i) => {
      stages.push(new Conv2d(i === 0 ? channels : widths[i - 1]!, width, 3, { padding: 1, bias: false }), new BatchNorm2d(width), new ReLU(), new MaxPool2());
    });
    this.stages = this.child('stages', new Sequential(...(stages as (Module & { forward(x: Tensor): Tensor })[])));
    this.embed = this.child('embed', new Linear(widths.at(-1)! * side * side, featureSize));
    this.head = this.child('head', new Linear(featureSize, numClasses));
  }

  /** Images `[B, C, S, S]` at the training size → penultimate features `[B, featureSize]`. */
  features(x: Tensor): Tensor {
    return this.embed.forward(this.stages.forward(x).flatten(1)).relu();
  }

  /** → class logits `[B, numClasses]`. */
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }
}

class MaxPool2 extends Module {
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, 2);
  }
}

/** Writes weights and record to one safetensors file (atomically). */
export function saveClassifier(file: string, model: DatasetClassifier, record: Omit<ClassifierRecord, 'options'>): void {
  saveSafetensors(file, model.stateDict(), { robustok: 'dataset-classifier', record: JSON.stringify({ ...record, options: model.options }) });
}

/** Reads a file written by `saveClassifier` → the model in eval mode and its record. */
export function loadClassifier(file: string): { model: DatasetClassifier; record: ClassifierRecord } {
  if (!existsSync(file)) throw new Error(`classifier file ${file} does not exist`);
  const { tensors, metadata } = loadSafetensors(file);
  try {
    if (metadata.robustok !== 'dataset-classifier' || !metadata.record) {
      throw new Error(`${file} is not a robustok dataset classifier (write one with robustok train-classifier)`);
    }
    const record = JSON.parse(metadata.record) as ClassifierRecord;
    const model = new DatasetClassifier(record.options);
    model.loadStateDict(tensors);
    return { model: model.eval(), record };
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/** Where `classifier:DATASET` is looked for and written by default: the data cache's `classifiers/` folder. */
export function defaultClassifierFile(cacheDir: string, dataset: string): string {
  return path.join(cacheDir, 'classifiers', classifierFileName(dataset));
}

/** A dataset's classifier file name, safe for any dataset name (folder:PATH included). */
const classifierFileName = (dataset: string): string => `${dataset.replace(/[^A-Za-z0-9._-]+/g, '_')}.safetensors`;

/**
 * The classifier shipped with robustok for DATASET (assets/classifiers/,
 * trained by `robustok train-classifier` with its defaults), so that every
 * machine scores FIDs with the same features and none spends minutes
 * training it; it may not exist for a dataset.
 */
export function shippedClassifierFile(dataset: string): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'assets', 'classifiers', classifierFileName(dataset));
}

/** A trained classifier as a FeatureNetwork named `classifier:DATASET`, its weights moved to `device`. */
export function classifierNetwork(model: DatasetClassifier, record: ClassifierRecord, device: Device = 'cpu'): FeatureNetwork {
  const { size, channels, featureSize, numClasses } = record.options;
  model.eval().requiresGrad_(false).to(device);
  const input = { size, channels, device };
  return {
    name: `classifier:${record.dataset}`,
    inputSize: size,
    featureSize,
    numClasses,
    device,
    features: (images) => runOnImages(images, input, (x) => model.features(x)),
    logits: (images) => runOnImages(images, input, (x) => model.forward(x)),
    dispose: () => model.dispose(),
  };
}
