// `robustok train-tokenizer --config FILE --out DIR [--set key=value ...] [--resume]`:
// flags → config → runs/train_tokenizer.ts, which owns the run folder.
import { describeConfig, loadConfigFile } from '../config/index.js';
import { resolveRunConfig, trainTokenizer } from '../runs/index.js';
import { tokenizerSchema } from '../tokenizer/index.js';
import { threadDecision } from '../torch/index.js';
import { readFlags } from './flags.js';
import { cliEvents } from './run_events.js';

export const trainTokenizerUsage = `usage: robustok train-tokenizer --config FILE --out DIR [--set key=value ...] [--resume]

Trains a tokenizer with latent perturbation (RobusTok, docs/method.md §2). Presets
in configs/tokenizer/: tiny.yaml (seconds), small.yaml (Fashion-MNIST, ~3 min
on 2 cores), emoji64.yaml (colour emoji, ~23 min), reference.yaml (RobusTok's
ImageNet-256 ViT-B, for a GPU machine). --set overrides any key (e.g. --set perturbation.delta=8);
--resume continues DIR's checkpoint exactly (or starts one when DIR has none).
Ctrl-C or SIGTERM saves a checkpoint and exits (130 / 143). Keys, defaults and ranges:

${describeConfig(tokenizerSchema).map((l) => `  ${l}`).join('\n')}`;

export async function trainTokenizerCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(trainTokenizerUsage);
    return;
  }
  const args = { config: undefined as string | undefined, out: undefined as string | undefined, sets: [] as string[], resume: false };
  readFlags(argv, trainTokenizerUsage, (flag, read) => {
    if (flag === '--config') args.config = read.value();
    else if (flag === '--out') args.out = read.value();
    else if (flag === '--set') args.sets.push(read.value());
    else if (flag === '--resume') args.resume = true;
    else return false;
    return true;
  });
  if (!args.out) throw new Error(`--out DIR is required\n\n${trainTokenizerUsage}`);
  const config = resolveRunConfig(tokenizerSchema, args.out, {
    preset: args.config ? loadConfigFile(args.config) : undefined, sets: args.sets, resume: args.resume,
    missing: `--config FILE is required (try configs/tokenizer/small.yaml)\n\n${trainTokenizerUsage}`,
  });
  const events = cliEvents();
  console.error(`train-tokenizer → ${args.out}: ${config.train.steps} steps, batch ${config.train.batchSize}; threads: ${threadDecision().reason}`);
  try {
    const r = await trainTokenizer(config, args.out, { resume: args.resume, events });
    if (r.status === 'interrupted') {
      console.error(`${r.reason} at step ${r.step}: checkpoint saved; continue with --resume`);
      process.exitCode = events.exitCode(r.reason);
      return;
    }
    const s = r.summary!;
    console.error(`done: ${r.step} steps in ${r.minutes.toFixed(1)} min; tokenizer (EMA weights) in ${r.dir}; test PSNR ${s.psnr.toFixed(2)} dB (clean), ` +
      `${s.psnrPerturbed === null ? '' : `${s.psnrPerturbed.toFixed(2)} dB (perturbed), `}grid ${s.grid}`);
  } finally {
    events.close();
  }
}
