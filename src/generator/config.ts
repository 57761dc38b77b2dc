// Everything a generator training run reads, in one schema (defaults, ranges
// and docs here and nowhere else; presets in configs/generator/ override
// them, `--set key=value` overrides those). The tokenizer is not part of the
// config: it is the run's input (`--tokenizer DIR`), and its codebook size,
// token grid and image preprocessing come from its folder.
import { type Infer, bool, choice, fraction, group, num, positive, str } from '../config/index.js';
import { optimGroup, trainGroup } from '../train/index.js';
import type { CfgSchedule, DrawOptions } from './guidance.js';
import type { GeneratorOptions } from './model.js';

const samplingFields = {
  cfg: num({ default: 1.5, min: 0, max: 100, doc: 'g, the classifier-free guidance scale (1 = no guidance; RAR-B: 6.0)' }),
  schedule: choice(['constant', 'linear', 'cosine'], 'constant', "how g_t ramps over the positions: constant, linear, or the paper's cosine-power (docs/method.md §5)"),
  power: num({ default: 1.15, min: 0, max: 100, doc: 'p of the cosine-power schedule (RAR-B: 1.15)' }),
  temperature: num({ default: 1, min: 0, max: 100, doc: 'divides the logits; 0 = argmax (RAR-B: 1.02)' }),
  topK: num({ default: 0, min: 0, integer: true, doc: 'keep the k most likely tokens (0 = all; the paper uses none)' }),
  topP: num({ default: 1, min: 1e-6, max: 1, doc: 'keep the most likely tokens up to mass p, the first past p included (1 = all)' }),
};

export const samplingSchema = group(samplingFields, 'sampling (docs/method.md §5): the defaults of sample grids, `robustok sample` and `eval-generator`');

export const generatorSchema = group({
  data: group({
    name: str({ default: 'fashion-mnist', doc: 'dataset whose images are tokenized: fashion-mnist, mnist, emoji or folder:PATH (size and channels follow the tokenizer)' }),
    limit: num({ default: 0, min: 0, integer: true, doc: 'use only the first N training images (0 = all)' }),
    flip: bool({ default: false, doc: 'encode each image and its mirror image; each step draws one of the two per image' }),
  }, 'the images whose tokens the generator learns'),
  model: group({
    width: positive(256, 'transformer width (RAR-B: 768)'),
    depth: positive(4, 'transformer blocks (RAR-B: 24)'),
    heads: positive(4, 'attention heads; must divide width (RAR-B: 16)'),
    mlpRatio: num({ default: 4, min: 0.25, max: 16, doc: 'MLP hidden width as a multiple of width' }),
    dropout: fraction(0.1, 'dropout on embeddings, attention weights and MLP outputs'),
    qkNorm: bool({ default: false, doc: 'LayerNorm on queries and keys (Dehghani et al., 2023)' }),
    tieWeights: bool({ default: false, doc: 'output layer shares the token embedding (Press & Wolf, 2017)' }),
    positions: choice(['learned', 'rope2d'], 'learned', 'learned absolute positions, or 2-D rotary angles over the token grid (LlamaGen)'),
    ropeBase: num({ default: 10000, min: 1, max: 1e9, doc: 'base of the rotary frequencies' }),
    classDropout: fraction(0.1, 'probability that a label is replaced by the null class in training (enables CFG; docs/method.md §5)'),
  }, 'the transformer'),
  optim: optimGroup({
    lr: [1e-3, 'peak learning rate (RAR-B: 4e-4 at batch 2048)'],
    lrMin: 1e-5,
    warmupFraction: 0.05,
    weightDecay: [0.03, 'AdamW weight decay on matrices and embeddings (not on biases and norm gains)'],
    emaDecay: [0.999, 'EMA of weights; the EMA weights sample and are exported'],
  }, 'optimisation (AdamW, warm-up + cosine)', {
    beta2: fraction(0.95, "AdamW's β₂ (β₁ = 0.9)"),
  }),
  train: trainGroup({
    steps: 3000,
    batchSize: [128, 'token sequences per step'],
    seed: 'seed of weights, data order and class dropout',
    logEvery: 25,
    sampleEvery: [1000, 'steps between sample grids (one row per class)'],
    checkpointEvery: 500,
    nonFinite: 'a NaN/Inf loss: stop (naming the step and the last checkpoint) or skip the batch (at most 100 in a row)',
  }, 'the run', {
    samplesPerClass: positive(8, 'images per class in a sample grid'),
  }),
  sample: samplingSchema,
});

export type GeneratorConfig = Infer<typeof generatorSchema>;
export type SamplingConfig = Infer<typeof samplingSchema>;

/** The model part of a config, completed by what the tokenizer and dataset fix. */
export function generatorOptions(config: GeneratorConfig, fixed: { vocabSize: number; numClasses: number; grid: [number, number] }): GeneratorOptions {
  const { classDropout: _, ...model } = config.model;
  return { ...model, ...fixed };
}

/** Sampling settings as the sampler takes them. */
export interface Sampling extends DrawOptions {
  cfg: number;
  schedule: CfgSchedule;
  power: number;
}

export const samplingOf = (s: SamplingConfig): Sampling =>
  ({ cfg: s.cfg, schedule: s.schedule, power: s.power, temperature: s.temperature, topK: s.topK, topP: s.topP });
