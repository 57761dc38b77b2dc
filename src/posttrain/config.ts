// Everything a post-training run reads, in one schema (docs/method.md §6).
// The tokenizer and the generator are the run's inputs (`--tokenizer`,
// `--generator`); the losses are the tokenizer's own main-training settings
// (inherited from its run folder, see runs/post_train.ts), with the paper's
// post-training starting point: the GAN on from step 0.
import { type Infer, bool, choice, fraction, group, num, str, withDefaults } from '../config/index.js';
import { samplingSchema } from '../generator/index.js';
import { tokenizerSchema } from '../tokenizer/index.js';
import { optimGroup, trainGroup } from '../train/index.js';

export const posttrainSchema = group({
  data: group({
    name: str({ default: '', doc: "dataset of the images x (empty = the generator's); size and channels follow the tokenizer" }),
    limit: num({ default: 0, min: 0, integer: true, doc: 'use only the first N training images (0 = all)' }),
  }, 'the real images whose σ-tokens the decoder learns to decode'),
  sigma: fraction(0.7, 'σ, the preservation ratio: probability of keeping each ground-truth token (docs/method.md §6)'),
  samplingSource: choice(['generator', 'config'], 'generator',
    "where the σ-token draws' sampling settings come from: the generator's own (generator.json: the paper's \"usual CFG and temperature\") or the `sample` group below"),
  sample: samplingSchema,
  tokens: group({
    pregenerate: num({ default: 0, min: 0, integer: true, doc: 'σ-token sets generated into a cache before training and cycled through (0 = generate each batch on the fly)' }),
  }, 'the σ-token supply'),
  trainable: group({
    postQuant: bool({ default: false, doc: 'also train the projection between codes and decoder (post_quant_conv)' }),
  }, 'what is trained besides the decoder (encoder, quantizer and codebook stay frozen)'),
  roundTrip: bool({ default: false, doc: "the released code's variant: σ-tokens decoded by the frozen main-training decoder to 8-bit images, re-encoded, and trained on with codebook and projections trainable" }),
  discriminator: choice(['fresh', 'continue'], 'fresh',
    "the discriminator's start: freshly initialised (the paper's text), or continued from the tokenizer's main-training checkpoint (checkpoint.safetensors in its folder), so it judges the decoder competently from the first step"),
  loss: withDefaults(tokenizerSchema.fields.loss, { 'gan.enabled': true, 'gan.start': 0 }),
  optim: optimGroup({
    lr: [1e-4, 'peak learning rate (5e-5 at reference scale, batch 256)'],
    lrMin: [1e-5, 'cosine floor (1e-5 in the paper)'],
    warmupFraction: [0, 'fraction of steps in linear warm-up (the released recipe: one epoch of 100)'],
    weightDecay: 0,
    emaDecay: [0.9999, 'fixed decay of the EMA when emaHalfLife is 0 (the released recipe: 0.9999 over ~19.5k steps keeps ~14% of the starting weights)'],
  }, "optimisation (AdamW β = (0.9, 0.95), cosine; the discriminator's lr follows the same schedule, scaled to loss.gan.lr, as in the released code)", {
    emaHalfLife: num({ default: 0, min: 0, max: 1e9,
      doc: 'steps after which the EMA holds half of the starting (main-training) weights: decay 0.5^(1/h), no warm-up; 0 = the fixed emaDecay' }),
  }),
  train: trainGroup({
    steps: 500,
    batchSize: [64, 'images per step'],
    seed: 'seed of data order, coin flips, draws and the discriminator',
    logEvery: 10,
    sampleEvery: [250, 'steps between grids (original | old decoder | new decoder)'],
    checkpointEvery: 250,
    nonFinite: 'a NaN/Inf loss: stop, or skip the batch (at most 100 in a row)',
  }, 'the run'),
});

export type PosttrainConfig = Infer<typeof posttrainSchema>;
