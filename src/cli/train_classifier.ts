// `robustok train-classifier --data NAME [--out FILE] [--config FILE] [--set key=value ...]`
//
// Trains the dataset classifier whose features `--features classifier:NAME`
// uses (FID, pFID and Inception Score on datasets no ImageNet network has
// seen). Without --out the file goes where `classifier:NAME` looks for it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describeConfig, loadConfigFile, resolveConfig } from '../config/index.js';
import { type ClassifierConfig, classifierFileFor, classifierSchema, saveClassifier, trainClassifier } from '../features/index.js';
import { readFlags } from './flags.js';
import { Progress } from './progress.js';

export const trainClassifierUsage = `usage: robustok train-classifier --data NAME [--out FILE] [--config FILE] [--set key=value ...]

Trains a small CNN on NAME's train split and reports its test accuracy; its
penultimate features serve as --features classifier:NAME in robustok eval.
Default --out: the data cache's classifiers/ folder. Keys, defaults and ranges:

${describeConfig(classifierSchema).map((l) => `  ${l}`).join('\n')}`;

/** Parses flags into a resolved config and output file. */
export function classifierArgs(argv: string[]): { config: ClassifierConfig; out: string } {
  const sets: string[] = [];
  const sources: object[] = [];
  let out: string | undefined;
  readFlags(argv, trainClassifierUsage, (flag, read) => {
    if (flag === '--data') sets.unshift(`data.name=${read.value()}`);
    else if (flag === '--out') out = read.value();
    else if (flag === '--config') sources.push(loadConfigFile(read.value()));
    else if (flag === '--set') sets.push(read.value());
    else return false;
    return true;
  });
  const config = resolveConfig(classifierSchema, sources, sets);  // a ConfigError lists every bad key
  return { config, out: out ?? classifierFileFor(config.data.name) };
}

/** Trains, prints the test accuracy and writes the classifier file; returns its path and accuracy. */
export async function runClassifierTraining(config: ClassifierConfig, out: string): Promise<{ file: string; testAccuracy: number }> {
  console.error(`training a classifier on ${config.data.name} (${config.data.size}×${config.data.size}, ${config.train.epochs} epochs) → ${out}`);
  let bar: Progress | undefined;
  const { model, testAccuracy } = await trainClassifier(config, (p) => {
    bar ??= new Progress(p.totalSteps, { label: 'classifier', every: 50 });
    bar.update(p.step, `epoch ${p.epoch + 1} loss ${p.loss.toFixed(3)}`);
  });
  bar?.finish();
  try {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    saveClassifier(out, model, { dataset: config.data.name, testAccuracy, epochs: config.train.epochs });
  } finally {
    model.dispose();
  }
  console.error(`classifier:${config.data.name}: test accuracy ${(100 * testAccuracy).toFixed(2)}%, written to ${out}`);
  return { file: out, testAccuracy };
}

export async function trainClassifierCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(trainClassifierUsage);
    return;
  }
  const { config, out } = classifierArgs(argv);
  await runClassifierTraining(config, out);
}
