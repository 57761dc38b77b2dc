// `robustok train-tokenizer --config FILE --out DIR [--set key=value ...] [--resume]`:
// flags → config → runs/train_tokenizer.ts, which owns the run folder.
import { type TrainTokenizerResult, evalWorkFor, trainTokenizer, withJobEstimate } from '../runs/index.js';
import { ganStartStep, tokenizerSchema } from '../tokenizer/index.js';
import { flagTable } from './flags.js';
import { type TrainCommand, runTrainCommand } from './train_command.js';

const flags = flagTable({
  'estimate-eval': {
    value: 'DATA',
    help: 'after two logged steps, also print the expected total of this training and the\n' +
      '`robustok eval --data DATA` that follows it (npm start does), classifier training included when its file is missing',
  },
});

const command: TrainCommand<typeof tokenizerSchema, typeof flags> = {
  name: 'train-tokenizer',
  about: `usage: robustok train-tokenizer --config FILE --out DIR [--set key=value ...] [--resume]

Trains a tokenizer with latent perturbation (RobusTok, docs/method.md §2). Presets
in configs/tokenizer/: tiny.yaml (seconds), small.yaml (Fashion-MNIST, ~3 min
on 2 cores), emoji64.yaml (colour emoji, ~23 min), reference.yaml (RobusTok's
ImageNet-256 ViT-B, for a GPU machine). --set overrides any key (e.g. --set perturbation.delta=8);
--resume continues DIR's checkpoint exactly (or starts one when DIR has none).
Ctrl-C or SIGTERM saves a checkpoint and exits (130 / 143).`,
  schema: tokenizerSchema,
  flags,
  preset: 'configs/tokenizer/small.yaml',
  plan: (c) => `${c.train.steps} steps, batch ${c.train.batchSize}`,
  run: async (config, out, o) => {
    const data = o.flags['estimate-eval'];
    const events = data ? withJobEstimate(o.events, await evalWorkFor(data), ganStartStep(config)) : o.events;
    return trainTokenizer(config, out, { resume: o.resume, events });
  },
  done: (r: TrainTokenizerResult) => {
    const s = r.summary!;
    const on = s.split === 'test' ? 'test' : `${s.split}:`;
    return `done: ${r.step} steps in ${r.minutes.toFixed(1)} min; tokenizer (EMA weights) in ${r.dir}; ${on} PSNR ${s.psnr.toFixed(2)} dB (clean), ` +
      `${s.psnrTrainingPerturbation === null ? '' : `${s.psnrTrainingPerturbation.toFixed(2)} dB (tokens perturbed as at the last step), `}grid ${s.grid}`;
  },
};

export const trainTokenizerCommand = (argv: string[]): Promise<void> => runTrainCommand(command, argv);
