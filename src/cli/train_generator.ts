// `robustok train-generator --tokenizer DIR --config FILE --out DIR [--set key=value ...] [--resume]`:
// flags → config → runs/train_generator.ts, which owns the run folder.
import { generatorSchema } from '../generator/index.js';
import { type TrainGeneratorResult, trainGenerator } from '../runs/index.js';
import { flagTable } from './flags.js';
import { type TrainCommand, runTrainCommand } from './train_command.js';

const flags = flagTable({
  tokenizer: { value: 'DIR|KIND:PATH', help: 'the --out folder of robustok train-tokenizer', required: true },
});

const command: TrainCommand<typeof generatorSchema, typeof flags> = {
  name: 'train-generator',
  about: `usage: robustok train-generator --tokenizer DIR|KIND:PATH --config FILE --out DIR [--set key=value ...] [--resume]

Trains a class-conditional autoregressive transformer on the tokens of a trained
tokenizer (docs/method.md §5). The training images are encoded once and cached
in DIR. Presets in configs/generator/: tiny.yaml (seconds), small.yaml (the README's
Fashion-MNIST tokenizer), emoji64.yaml, reference.yaml (RAR-B scale, for a GPU).
--resume continues DIR's checkpoint exactly; Ctrl-C or SIGTERM saves a checkpoint
and exits (130 / 143).`,
  schema: generatorSchema,
  flags,
  preset: 'configs/generator/small.yaml',
  plan: (c) => `${c.train.steps} steps, batch ${c.train.batchSize}`,
  run: (config, out, o) => trainGenerator(config, out, { tokenizer: o.flags.tokenizer, resume: o.resume, events: o.events }),
  done: (r: TrainGeneratorResult) => `done: ${r.step} steps in ${r.minutes.toFixed(1)} min; generator (EMA weights) in ${r.dir}; samples ${r.grid}`,
};

export const trainGeneratorCommand = (argv: string[]): Promise<void> => runTrainCommand(command, argv);
