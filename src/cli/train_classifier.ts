// `robustok train-classifier --data NAME [--out FILE] [--config FILE] [--set key=value ...]`:
// flags → config → runs/train_classifier.ts. Without --out the file goes
// where `classifier:NAME` looks for it.
import path from 'node:path';
import { describeConfig, loadConfigFile, resolveConfig } from '../config/index.js';
import { classifierFileFor, classifierSchema } from '../features/index.js';
import { trainClassifier } from '../runs/index.js';
import { resolveDevice } from '../train/index.js';
import { flagLines, flagTable, readFlags, wantsHelp } from './flags.js';
import { finishProfile, profileFlag, startProfile } from './profile_flag.js';
import { cliEvents } from './run_events.js';

const flags = flagTable({
  data: { value: 'NAME', help: 'the dataset (= --set data.name=NAME, below any --set)' },
  device: { value: 'cpu|cuda|cuda:N|auto', help: 'the same as --set train.device=… (below any --set)' },
  out: { value: 'FILE', help: "the classifier's file (default: the data cache's classifiers/ folder, where classifier:NAME looks)" },
  config: { value: 'FILE', help: 'a preset; several are layered in order', multiple: true },
  set: { value: 'key=value', help: 'override a key (below)', multiple: true },
  ...profileFlag,
});

export const trainClassifierUsage = `usage: robustok train-classifier --data NAME [--out FILE] [--device cpu] [--config FILE] [--set key=value ...]

Trains a small CNN on NAME's train split and reports its test accuracy; its
penultimate features serve as --features classifier:NAME in robustok eval.

${flagLines(flags)}

Keys, defaults and ranges:

${describeConfig(classifierSchema).map((l) => `  ${l}`).join('\n')}`;

export async function trainClassifierCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(trainClassifierUsage);
    return;
  }
  const f = readFlags(argv, flags, trainClassifierUsage);
  const sets = [...(f.data === undefined ? [] : [`data.name=${f.data}`]), ...(f.device === undefined ? [] : [`train.device=${f.device}`]), ...f.set];
  const sources = f.config.map((file) => loadConfigFile(file));
  const config = resolveConfig(classifierSchema, sources, sets);  // a ConfigError lists every bad key
  const events = cliEvents({ signals: false });
  try {
    const file = f.out ?? classifierFileFor(config.data.name);
    startProfile(f.profile, resolveDevice(config.train.device));  // a missing GPU refused before any data is read
    await trainClassifier(config, file, { events });
    finishProfile(path.dirname(file), 'train-classifier');
  } finally {
    events.close();
  }
}
