// Training the dataset classifier behind `classifier:DATASET` features
// (`robustok train-classifier`). Plain supervised learning: AdamW with a
// warm-up + cosine schedule and cross-entropy, for a few epochs; the test
// split's accuracy goes into the file so that every report can say how good
// the feature network is.
import { type Infer, group, list, num, positive } from '../config/index.js';
import { DataLoader, type PreparedSplit, datasetFields, leadingSamples, openDataset, prepareSplit } from '../data/index.js';
import { AdamW, Scheduler, warmupCosine } from '../optim/index.js';
import { type Device, F, manualSeed, noGrad, phase, profile, tidy } from '../torch/index.js';
import { deviceSetting, resolveDevice } from '../train/index.js';
import { DatasetClassifier } from './classifier.js';

export const classifierSchema = group({
  data: group({
    ...datasetFields({ size: 'image side (match the tokenizers you will evaluate)', limit: 'use only the first N images of each split (0 = all; for quick tries)' }),
  }),
  model: group({
    widths: list(positive(16, 'channels'), { default: [32, 64, 128], minLength: 1, maxLength: 5, doc: 'conv stage widths (each halves the resolution)' }),
    featureSize: positive(128, 'penultimate width: the FID feature size'),
  }),
  train: group({
    epochs: positive(4, 'passes over the training split'),
    batchSize: positive(128, 'images per step'),
    lr: num({ default: 2e-3, min: 0, max: 1, doc: 'peak AdamW learning rate' }),
    weightDecay: num({ default: 5e-4, min: 0, max: 1, doc: 'AdamW weight decay' }),
    seed: num({ default: 0, min: 0, integer: true, doc: 'weights and data order' }),
    device: deviceSetting(),
  }),
});

export type ClassifierConfig = Infer<typeof classifierSchema>;

export interface ClassifierProgress {
  epoch: number;
  step: number;
  totalSteps: number;
  loss: number;
}

export interface TrainedClassifier {
  model: DatasetClassifier;
  testAccuracy: number;
}

/** Trains on the dataset's train split and measures accuracy on its test split. */
export async function trainClassifier(config: ClassifierConfig, onProgress?: (p: ClassifierProgress) => void): Promise<TrainedClassifier> {
  const dataset = await openDataset(config.data.name);
  const preprocess = { size: config.data.size, channels: config.data.channels };
  const train = leadingSamples(await prepareSplit(dataset, 'train', { preprocess }), config.data.limit || Infinity);
  const test = leadingSamples(await prepareSplit(dataset, 'test', { preprocess }), config.data.limit || Infinity);
  const numClasses = Math.max(...train.labels.map(Number)) + 1;
  if (numClasses < 2) throw new Error(`${config.data.name} has no class labels to train a classifier on`);

  const device = resolveDevice(config.train.device);
  manualSeed(config.train.seed);
  // Drawn on the host and then moved, so a seed gives the same classifier on any device (up to its kernels).
  const model = new DatasetClassifier({
    channels: preprocess.channels, size: preprocess.size, numClasses, widths: [...config.model.widths], featureSize: config.model.featureSize,
  }).to(device);
  const loader = new DataLoader(train, { batchSize: config.train.batchSize, seed: config.train.seed, dropLast: true, device });
  const totalSteps = config.train.epochs * loader.batchesPerEpoch;
  const optimizer = new AdamW(model.parameters(), { lr: config.train.lr, weightDecay: config.train.weightDecay });
  const scheduler = new Scheduler(optimizer, warmupCosine({ lr: config.train.lr, lrMin: 0, warmupSteps: Math.round(0.05 * totalSteps), totalSteps }));
  let step = 0;
  try {
    model.train();
    for (let epoch = 0; epoch < config.train.epochs; epoch++) {
      const batches = loader.epoch(epoch)[Symbol.asyncIterator]();
      for (;;) {
        const next = await profile.phaseAsync('data', () => batches.next());
        if (next.done) break;
        const batch = next.value;
        const loss = phase('step', () => tidy(() => {
          const l = phase('forward', () => F.crossEntropy(model.forward(batch.images), batch.labels));
          optimizer.zeroGrad();
          phase('backward', () => l.backward());
          phase('AdamW', () => optimizer.step());
          return l.item();
        }));
        batch.dispose();
        scheduler.step();
        step += 1;
        profile.step();
        onProgress?.({ epoch, step, totalSteps, loss });
      }
    }
  } finally {
    optimizer.dispose();
  }
  model.eval();
  return { model, testAccuracy: phase('test accuracy', () => accuracy(model, test, 500, device)) };
}

/** Fraction of a split's images whose arg-max class is their label. */
export function accuracy(model: DatasetClassifier, split: PreparedSplit, batchSize = 500, device: Device = 'cpu'): number {
  const loader = new DataLoader(split, { batchSize, shuffle: false, device });
  let correct = 0;
  for (let b = 0; b < loader.batchesPerEpoch; b++) {
    correct += noGrad(() => tidy(() => {
      const { images, labels } = loader.batch(0, b);
      return model.forward(images).argmax(1).eq(labels).sum().item();
    }));
  }
  return correct / split.count;
}
