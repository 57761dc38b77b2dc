// Training the dataset classifier behind `--features classifier:NAME` as a
// run: its penultimate features give FID, pFID and Inception Score on
// datasets no ImageNet network has seen. One file, not a folder.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type ClassifierConfig, saveClassifier, trainClassifier as fitClassifier } from '../features/index.js';
import { type RunEvents, withDefaults } from './events.js';

export async function trainClassifier(config: ClassifierConfig, out: string, options: { events?: RunEvents } = {}): Promise<{ file: string; testAccuracy: number }> {
  const events = withDefaults(options.events);
  events.log(`training a classifier on ${config.data.name} (${config.data.size}×${config.data.size}, ${config.train.epochs} epochs) → ${out}`);
  const { model, testAccuracy } = await fitClassifier(config, (p) => {
    events.progress({ label: 'classifier', done: p.step, total: p.totalSteps, detail: `epoch ${p.epoch + 1} loss ${p.loss.toFixed(3)}`, cadence: 50 });
  });
  try {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    saveClassifier(out, model, { dataset: config.data.name, testAccuracy, epochs: config.train.epochs });
  } finally {
    model.dispose();
  }
  events.log(`classifier:${config.data.name}: test accuracy ${(100 * testAccuracy).toFixed(2)}%, written to ${out}`);
  return { file: out, testAccuracy };
}
