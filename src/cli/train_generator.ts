// `robustok train-generator --tokenizer DIR --config FILE --out DIR [--set key=value ...] [--resume]`:
// flags → config → runs/train_generator.ts, which owns the run folder.
import { describeConfig, loadConfigFile } from '../config/index.js';
import { generatorSchema } from '../generator/index.js';
import { resolveRunConfig, trainGenerator } from '../runs/index.js';
import { threadDecision } from '../torch/index.js';
import { readFlags } from './flags.js';
import { cliEvents } from './run_events.js';

export const trainGeneratorUsage = `usage: robustok train-generator --tokenizer DIR --config FILE --out DIR [--set key=value ...] [--resume]

Trains a class-conditional autoregressive transformer on the tokens of a trained
tokenizer (docs/method.md §5). The training images are encoded once and cached
in DIR. Presets in configs/generator/: tiny.yaml (seconds), small.yaml (the README's
Fashion-MNIST tokenizer), emoji64.yaml, reference.yaml (RAR-B scale, for a GPU).
--resume continues DIR's checkpoint exactly; Ctrl-C or SIGTERM saves a checkpoint
and exits (130 / 143). Keys, defaults and ranges:

${describeConfig(generatorSchema).map((l) => `  ${l}`).join('\n')}`;

export async function trainGeneratorCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(trainGeneratorUsage);
    return;
  }
  const args = { tokenizer: undefined as string | undefined, config: undefined as string | undefined, out: undefined as string | undefined, sets: [] as string[], resume: false };
  readFlags(argv, trainGeneratorUsage, (flag, read) => {
    if (flag === '--tokenizer') args.tokenizer = read.value();
    else if (flag === '--config') args.config = read.value();
    else if (flag === '--out') args.out = read.value();
    else if (flag === '--set') args.sets.push(read.value());
    else if (flag === '--resume') args.resume = true;
    else return false;
    return true;
  });
  if (!args.tokenizer) throw new Error(`--tokenizer DIR is required (the --out folder of robustok train-tokenizer)\n\n${trainGeneratorUsage}`);
  if (!args.out) throw new Error(`--out DIR is required\n\n${trainGeneratorUsage}`);
  const config = resolveRunConfig(generatorSchema, args.out, {
    preset: args.config ? loadConfigFile(args.config) : undefined, sets: args.sets, resume: args.resume,
    missing: `--config FILE is required (try configs/generator/small.yaml)\n\n${trainGeneratorUsage}`,
  });
  const events = cliEvents();
  console.error(`train-generator → ${args.out}: ${config.train.steps} steps, batch ${config.train.batchSize}; threads: ${threadDecision().reason}`);
  try {
    const r = await trainGenerator(config, args.out, { tokenizer: args.tokenizer, resume: args.resume, events });
    if (r.status === 'interrupted') {
      console.error(`${r.reason} at step ${r.step}: checkpoint saved; continue with --resume`);
      process.exitCode = events.exitCode(r.reason);
      return;
    }
    console.error(`done: ${r.step} steps in ${r.minutes.toFixed(1)} min; generator (EMA weights) in ${r.dir}; samples ${r.grid}`);
  } finally {
    events.close();
  }
}
