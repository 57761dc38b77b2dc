// `robustok post-train --tokenizer DIR --generator DIR --config FILE --out DIR [--set key=value ...] [--resume]`:
// flags → config → runs/post_train.ts, which owns the run folder.
import { posttrainSchema } from '../posttrain/index.js';
import { type PostTrainResult, inheritedLoss, postTrain } from '../runs/index.js';
import { flagTable } from './flags.js';
import { type TrainCommand, runTrainCommand } from './train_command.js';

const flags = flagTable({
  tokenizer: { value: 'DIR|KIND:PATH', help: 'the tokenizer to post-train', required: true },
  generator: { value: 'DIR', help: 'a generator trained on its tokens', required: true },
});

const command: TrainCommand<typeof posttrainSchema, typeof flags> = {
  name: 'post-train',
  about: `usage: robustok post-train --tokenizer DIR|KIND:PATH --generator DIR --config FILE --out DIR [--set key=value ...] [--pregenerate N] [--resume]

Fine-tunes the tokenizer's decoder on σ-tokens of a trained generator (docs/method.md §6):
each training image's tokens, with each one kept with probability σ and otherwise
replaced by the generator's draw, decoded back to that image. Encoder, quantizer and
codebook stay frozen; DIR becomes a tokenizer folder with the same codebook.
The loss settings start from the tokenizer's main training (its config.json), under the
preset and --set; the GAN is on from step 0 unless loss.gan.start says otherwise.
Presets in configs/posttrain/. --pregenerate N (= --set tokens.pregenerate=N) draws N σ-token sets
before training instead of each batch's on the fly. --resume continues exactly;
Ctrl-C or SIGTERM saves a checkpoint and exits (130 / 143).`,
  schema: posttrainSchema,
  flags,
  aliases: { pregenerate: 'tokens.pregenerate' },
  inherit: (f) => inheritedLoss(f.tokenizer),
  preset: 'configs/posttrain/small.yaml',
  plan: (c) => `${c.train.steps} steps, batch ${c.train.batchSize}, σ = ${c.sigma}`,
  run: (config, out, o) => postTrain(config, out, { tokenizer: o.flags.tokenizer, generator: o.flags.generator, resume: o.resume, events: o.events }),
  done: (r: PostTrainResult) => `done: ${r.step} steps in ${r.minutes.toFixed(1)} min; post-trained tokenizer (EMA weights) in ${r.dir}; grid ${r.grid}`,
};

export const postTrainCommand = (argv: string[]): Promise<void> => runTrainCommand(command, argv);
