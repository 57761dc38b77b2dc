// A reproduction preset (configs/reproduce/*.yaml): which tokenizers to
// train per seed, the generator and post-training configs they share, how
// everything is evaluated, and the analysis settings — everything that
// decides the three claims' numbers (docs/method.md, last section), in one
// validated file. Layer configs are not copied in: each names its layer's
// preset file (relative to the reproduction preset) plus `--set`-style
// overrides, so a reproduction trains exactly what the single commands
// would with the same preset and overrides.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type Infer, bool, choice, fraction, group, list, loadConfigFile, num, positive, resolveConfig, str } from '../config/index.js';
import { PFID_ALPHA, PFID_CURVE_ALPHAS } from '../eval/index.js';
import { designIssues } from './design.js';
import { RESERVED_NAMES, variantList } from './sweep_field.js';

/** The three claims of docs/method.md (last section), as each preset registers them by default. */
export const CLAIM_TEXT = {
  perturbation: 'Latent perturbation lowers pFID and gFID at a small rFID cost',
  ranking: 'pFID ranks tokenizers by gFID better than rFID',
  posttraining: 'Post-training the decoder lowers gFID for a fixed generator',
} as const;

/** A claim's registration: its hypothesis in words and the test that decides it (one implemented per claim; named so the file says it). */
const claimFields = <const T extends readonly [string, ...string[]]>(hypothesis: string, tests: T, doc: string) => group({
  hypothesis: str({ default: hypothesis, doc: 'the hypothesis, as registered before the run' }),
  test: choice(tests, tests[0], doc),
});

/** A layer's config: its preset file and overrides on top. */
const layerFields = (preset: string, what: string) => ({
  preset: str({ default: preset, doc: `${what} preset file, relative to this preset's folder` }),
  set: list(str({ default: '', doc: 'key.path=value' }), { default: [], doc: `overrides of the ${what} preset (as --set), for every run` }),
});

export const reproduceSchema = group({
  seeds: list(num({ default: 0, min: 0, integer: true, doc: 'a seed' }), {
    default: [0, 1, 2], minLength: 1, doc: 'every tokenizer, generator and post-training run is repeated per seed (train.seed); claims are measured over them',
  }),
  tokenizer: group({
    ...layerFields('../tokenizer/small.yaml', 'tokenizer'),
    sweep: variantList({
      default: [{ name: 'none', set: ['perturbation.enabled=false'] }, { name: 'delta16', set: ['perturbation.delta=16'] }],
      doc: 'the tokenizers trained per seed, each a name and overrides of the tokenizer preset',
    }),
    baseline: str({ default: 'none', doc: 'the sweep entry trained without latent perturbation: claim 1 compares the others with it' }),
  }, 'the tokenizers (docs/method.md §2)'),
  generator: group(layerFields('../generator/small.yaml', 'generator'), 'one generator per tokenizer and seed, same config (docs/method.md §5); its `sample` group is the sampling of every evaluation'),
  posttrain: group({
    ...layerFields('../posttrain/small.yaml', 'post-training'),
    tokenizers: list(str({ default: 'best-pfid', doc: 'a sweep name' }), {
      default: ['best-pfid', 'baseline'], doc: "per seed, the tokenizers whose decoder is post-trained with their own generator: sweep names, 'best-pfid' (the seed's lowest pFID) or 'baseline'",
    }),
    seeds: list(num({ default: 0, min: 0, integer: true, doc: 'a seed' }), {
      default: [], doc: 'the seeds of `seeds` whose tokenizers are post-trained (empty = all): claim 3 is measured over these',
    }),
    control: bool({
      default: true,
      doc: 'also post-train each at σ = 1 (ground-truth tokens only, the same recipe and seed) and test claim 3 as post − control: what σ-tokens add beyond fine-tuning itself',
    }),
  }, 'post-training (docs/method.md §6)'),
  eval: group({
    features: str({ default: '', doc: 'feature network of every FID (empty = classifier:<the tokenizer data>)' }),
    weights: str({ default: '', doc: "the feature network's weights file (empty = its default place; a missing dataset classifier is trained once)" }),
    images: positive(10000, 'real test images for rFID and pFID'),
    samples: positive(10000, 'generated samples for gFID (class-balanced; the same token ids before and after post-training)'),
    batchSize: positive(100, 'images per evaluation batch'),
    seed: num({ default: 0, min: 0, integer: true, doc: "seed of the pFID draws, of the generators' samples and of the bootstrap's row draws" }),
    fidReplicates: num({
      default: 100, min: 0, integer: true,
      doc: 'bootstrap replicates of every FID\'s standard error over images or samples (src/metrics/frechet_noise.ts; 0 = off): the sample noise, set beside the between-seed noise',
    }),
    pfid: group({
      alpha: fraction(PFID_ALPHA, 'α of the pFID that claims 1 and 2 use (docs/method.md §3)'),
      delta: num({ default: 0, min: 0, integer: true, doc: 'δ of every pFID level (0 = the default for K, docs/method.md §3)' }),
      curve: list(fraction(1, 'an α'), { default: [...PFID_CURVE_ALPHAS], doc: 'α values of the pFID curve at δ' }),
      deltaCurve: list(positive(1, 'a δ'), { default: [], doc: 'δ values of a pFID curve at α (none by default; each is another pass over the images)' }),
    }),
  }, 'evaluation'),
  analysis: group({
    perturbed: list(str({ default: '', doc: 'a sweep name' }), {
      default: [], doc: 'the sweep entries that count as "with perturbation" in claim 1 (empty = every entry but the baseline)',
    }),
    claims: group({
      perturbation: claimFields(CLAIM_TEXT.perturbation, ['seed-permutation'],
        'within-seed permutation test of the mean per-seed (with − without) pFID and gFID, relabelling which tokenizer of a seed is the baseline, one-sided lower; the rFID cost by a one-sided t test over seeds against rfidCost'),
      ranking: claimFields(CLAIM_TEXT.ranking, ['seed-permutation'],
        'within-seed permutation test (gFID shuffled over each seed\'s tokenizers) of the mean per-seed Spearman ρ(pFID, gFID) − ρ(rFID, gFID), one-sided higher'),
      posttraining: claimFields(CLAIM_TEXT.posttraining, ['seed-t'],
        'one-sided t test over seeds of the per-seed mean gFID(post-trained) − gFID(reference): the σ = 1 control where the results hold one, else the original decoder'),
    }, 'the hypotheses and the tests that decide them, registered before the run (report.html shows them above the numbers; results.json records the preset\'s hash)'),
    level: num({ default: 0.95, min: 0.5, max: 0.999, doc: 'coverage of every t interval over seeds' }),
    significance: fraction(0.05, 'a one-sided test supports a claim below this p'),
    rfidCost: num({ default: 0.10, min: 0, max: 100, doc: "claim 1's \"small rFID cost\": the mean over seeds of the relative rFID change (with − without)/without is tested to be at most this" }),
    permutations: positive(20000, 'Monte Carlo draws of a permutation test with more relabellings than exactLimit'),
    exactLimit: positive(200000, 'a permutation test with at most this many relabellings is enumerated exactly'),
    seed: num({ default: 0, min: 0, integer: true, doc: 'seed of the Monte Carlo permutation draws' }),
  }, 'how the claims are decided, with the seed as the unit (src/pipeline/verdict.ts)'),
});

export type ReproduceConfig = Infer<typeof reproduceSchema>;

/** A resolved preset and the folder its layer presets are relative to. */
export interface ReproducePreset {
  /** The preset's name (quick, small, …) or file. */
  name: string;
  file: string;
  config: ReproduceConfig;
}

/** The repository's configs/reproduce/ (dist/src/pipeline/ → three levels up). */
export const presetFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'configs', 'reproduce');

/** A preset name (configs/reproduce/NAME.yaml) or a path to a .yaml/.json file. */
export function presetFile(nameOrFile: string): string {
  if (/\.(ya?ml|json)$/i.test(nameOrFile)) return path.resolve(nameOrFile);
  const file = path.join(presetFolder, `${nameOrFile}.yaml`);
  if (!existsSync(file)) throw new Error(`no reproduce preset '${nameOrFile}' (looked for ${file}); give a name of configs/reproduce/ or a .yaml file`);
  return file;
}

export interface PresetOverrides {
  /** Replaces `seeds` (--seeds 0,1,2). */
  seeds?: readonly number[];
  /** `key.path=value` (--set). */
  sets?: readonly string[];
}

/** Reads, resolves and checks a preset; the problems of the reproduction as a whole come with it (see presetIssues). */
export function loadPreset(nameOrFile: string, o: PresetOverrides = {}): ReproducePreset {
  const file = presetFile(nameOrFile);
  const sets = [...(o.sets ?? []), ...(o.seeds ? [`seeds=${JSON.stringify(o.seeds)}`] : [])];
  const config = resolveConfig(reproduceSchema, [loadConfigFile(file)], sets);
  const issues = presetIssues(config);
  if (issues.length > 0) throw new ConfigError(issues);
  return { name: nameOrFile, file, config };
}

/** What the schema cannot say key by key: names that must exist in the sweep, seeds that must differ, a design that can reach significance. */
export function presetIssues(c: ReproduceConfig): string[] {
  const names = c.tokenizer.sweep.map((v) => v.name);
  const issues: string[] = [];
  if (new Set(c.seeds).size !== c.seeds.length) issues.push(`seeds: ${JSON.stringify(c.seeds)} repeats a seed`);
  if (!names.includes(c.tokenizer.baseline)) issues.push(`tokenizer.baseline: '${c.tokenizer.baseline}' is not a sweep name (${names.join(', ')})`);
  c.posttrain.tokenizers.forEach((t, i) => {
    if (!names.includes(t) && !(RESERVED_NAMES as readonly string[]).includes(t)) {
      issues.push(`posttrain.tokenizers[${i}]: '${t}' is not a sweep name (${names.join(', ')}), best-pfid or baseline`);
    }
  });
  // An entry's own seeds select among `seeds` (which --seeds may narrow); one left with none is a mistake.
  const none = (list: readonly number[]) => !list.some((x) => c.seeds.includes(x));
  c.tokenizer.sweep.forEach((v, i) => {
    if (v.seeds && none(v.seeds)) issues.push(`tokenizer.sweep[${i}].seeds: none of ${v.seeds.join(', ')} is among seeds (${c.seeds.join(', ')}), so '${v.name}' would never train`);
  });
  if (c.posttrain.seeds.length > 0 && none(c.posttrain.seeds)) issues.push(`posttrain.seeds: none of ${c.posttrain.seeds.join(', ')} is among seeds (${c.seeds.join(', ')})`);
  if (c.eval.fidReplicates === 1) issues.push('eval.fidReplicates: 1 replicate has no spread; use 0 (off) or at least 2');
  c.analysis.perturbed.forEach((t, i) => {
    if (!names.includes(t) || t === c.tokenizer.baseline) issues.push(`analysis.perturbed[${i}]: '${t}' is not a sweep name other than the baseline`);
  });
  return [...issues, ...designIssues(c)];
}
