// `robustok post-train-compare --tokenizer DIR --generator DIR --config FILE --out DIR [--seeds 0,1,2] ...`:
// flags → config → runs/post_train_compare.ts (σ against its σ = 1 control, per seed, on the same grids).
import { loadConfigFile } from '../config/index.js';
import { posttrainSchema } from '../posttrain/index.js';
import { comparisonTable, inheritedLoss, postTrainCompare, resolveRunConfig } from '../runs/index.js';
import { parseFraction, readFlags } from './flags.js';
import { cliEvents } from './run_events.js';

const usage = `usage: robustok post-train-compare --tokenizer DIR --generator DIR --config FILE --out DIR
                                  [--seeds 0,1,2] [--control-sigma 1] [--n 10000] [--batch 500]
                                  [--sample-seed 0] [--features NAME] [--weights FILE] [--set key=value ...] [--json]

The test of post-training (docs/method.md §6): for each seed, the decoder post-trained
at the config's σ and the same recipe at σ = 1 (--control-sigma), both scored by
eval-generator on the same sampled token grids as the original decoder. Prints gFID per
seed and the paired differences (post − original, post − control, control − original)
with the seed as the unit: mean ± std and a 95% t interval. Writes DIR/compare.json;
finished arms are skipped when run again, an interrupted one resumes. --features and
--weights choose the scoring network as for eval-generator. The keys of --set are
post-train's (robustok post-train --help).`;

export async function postTrainCompareCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return;
  }
  const a = { tokenizer: '', generator: '', config: '', out: '', seeds: [0, 1, 2], controlSigma: 1, n: 10000, batch: 500, sampleSeed: 0, features: undefined as string | undefined, weights: undefined as string | undefined, sets: [] as string[], json: false };
  readFlags(argv, usage, (flag, read) => {
    if (flag === '--tokenizer') a.tokenizer = read.value();
    else if (flag === '--generator') a.generator = read.value();
    else if (flag === '--config') a.config = read.value();
    else if (flag === '--out') a.out = read.value();
    else if (flag === '--seeds') a.seeds = parseSeeds(read.value());
    else if (flag === '--control-sigma') a.controlSigma = parseFraction(flag, read.value());
    else if (flag === '--n') a.n = read.integer();
    else if (flag === '--batch') a.batch = read.integer();
    else if (flag === '--sample-seed') a.sampleSeed = read.seed();
    else if (flag === '--features') a.features = read.value();
    else if (flag === '--weights') a.weights = read.value();
    else if (flag === '--set') a.sets.push(read.value());
    else if (flag === '--json') a.json = true;
    else return false;
    return true;
  });
  for (const flag of ['tokenizer', 'generator', 'config', 'out'] as const) {
    if (!a[flag]) throw new Error(`--${flag} is required\n\n${usage}`);
  }
  const inherited = inheritedLoss(a.tokenizer);
  if (inherited) console.error(inherited.note);
  const config = resolveRunConfig(posttrainSchema, a.out, { preset: loadConfigFile(a.config), inherited: inherited?.settings, sets: a.sets, missing: usage });
  const events = cliEvents();
  try {
    const result = await postTrainCompare(config, a.out, {
      tokenizer: a.tokenizer, generator: a.generator, seeds: a.seeds, controlSigma: a.controlSigma, n: a.n, batchSize: a.batch, sampleSeed: a.sampleSeed, features: a.features, weights: a.weights, events,
    });
    console.log(a.json ? JSON.stringify(result) : comparisonTable(result));
  } finally {
    events.close();
  }
}

function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds takes non-negative integers separated by commas (e.g. 0,1,2), got '${text}'`);
  if (new Set(seeds).size !== seeds.length) throw new Error(`--seeds lists a seed twice: '${text}'`);
  return seeds;
}
