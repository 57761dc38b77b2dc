// `robustok post-train-compare --tokenizer DIR --generator DIR --config FILE --out DIR [--seeds 0,1,2] ...`:
// flags → config → runs/post_train_compare.ts (σ against its σ = 1 control, per seed, on the same grids).
import { loadConfigFile } from '../config/index.js';
import { posttrainSchema } from '../posttrain/index.js';
import { comparisonTable, inheritedLoss, postTrainCompare, resolveRunConfig } from '../runs/index.js';
import { flagLines, flagTable, fraction, positiveInteger, readFlags, seed, seedList, wantsHelp } from './flags.js';
import { cliEvents } from './run_events.js';

const flags = flagTable({
  tokenizer: { value: 'DIR', help: 'the tokenizer whose decoder is post-trained', required: true },
  generator: { value: 'DIR', help: 'a generator trained on its tokens', required: true },
  config: { value: 'FILE', help: "post-training's preset (configs/posttrain/)", required: true },
  out: { value: 'DIR', help: 'the comparison\'s folder: its arms, and compare.json', required: true },
  seeds: { value: 'LIST', help: 'comma-separated seeds, one pair of arms each', default: [0, 1, 2], parse: seedList },
  'control-sigma': { value: 'S', help: 'σ of the control arm', default: 1, parse: fraction },
  n: { value: 'N', help: 'samples scored per decoder', default: 10000, parse: positiveInteger },
  batch: { value: 'N', help: 'samples per batch', default: 500, parse: positiveInteger },
  'sample-seed': { value: 'S', help: 'seed of the sampled token grids', default: 0, parse: seed },
  features: { value: 'NAME', help: 'the scoring network, as for eval-generator' },
  weights: { value: 'FILE', help: 'its weights' },
  set: { value: 'key=value', help: "a key of post-train's config (robustok post-train --help)", multiple: true },
  json: { help: 'print the result as one JSON object' },
});

const usage = `usage: robustok post-train-compare --tokenizer DIR --generator DIR --config FILE --out DIR
                                  [--seeds 0,1,2] [--control-sigma 1] [--n 10000] [--batch 500]
                                  [--sample-seed 0] [--features NAME] [--weights FILE] [--set key=value ...] [--json]

The test of post-training (docs/method.md §6): for each seed, the decoder post-trained
at the config's σ and the same recipe at σ = 1 (--control-sigma), both scored by
eval-generator on the same sampled token grids as the original decoder. Prints gFID per
seed and the paired differences (post − original, post − control, control − original)
with the seed as the unit: mean ± std and a 95% t interval. Writes DIR/compare.json;
finished arms are skipped when run again, an interrupted one resumes.

${flagLines(flags)}`;

export async function postTrainCompareCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(usage);
    return;
  }
  const a = readFlags(argv, flags, usage);
  const inherited = inheritedLoss(a.tokenizer);
  if (inherited) console.error(inherited.note);
  const config = resolveRunConfig(posttrainSchema, a.out, { preset: loadConfigFile(a.config), inherited: inherited?.settings, sets: a.set, missing: usage });
  const events = cliEvents();
  try {
    const result = await postTrainCompare(config, a.out, {
      tokenizer: a.tokenizer, generator: a.generator, seeds: a.seeds, controlSigma: a['control-sigma'], n: a.n, batchSize: a.batch, sampleSeed: a['sample-seed'], features: a.features, weights: a.weights, events,
    });
    console.log(a.json ? JSON.stringify(result) : comparisonTable(result));
  } finally {
    events.close();
  }
}
