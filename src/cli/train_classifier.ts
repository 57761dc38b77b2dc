// `robustok train-classifier --data NAME [--out FILE] [--config FILE] [--set key=value ...]`:
// flags → config → runs/train_classifier.ts. Without --out the file goes
// where `classifier:NAME` looks for it.
import { describeConfig, loadConfigFile, resolveConfig } from '../config/index.js';
import { classifierFileFor, classifierSchema } from '../features/index.js';
import { trainClassifier } from '../runs/index.js';
import { readFlags } from './flags.js';
import { cliEvents } from './run_events.js';

export const trainClassifierUsage = `usage: robustok train-classifier --data NAME [--out FILE] [--config FILE] [--set key=value ...]

Trains a small CNN on NAME's train split and reports its test accuracy; its
penultimate features serve as --features classifier:NAME in robustok eval.
Default --out: the data cache's classifiers/ folder. Keys, defaults and ranges:

${describeConfig(classifierSchema).map((l) => `  ${l}`).join('\n')}`;

export async function trainClassifierCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(trainClassifierUsage);
    return;
  }
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
  const events = cliEvents({ signals: false });
  try {
    await trainClassifier(config, out ?? classifierFileFor(config.data.name), { events });
  } finally {
    events.close();
  }
}
