// Everything a tokenizer training run reads, in one schema: defaults, allowed
// ranges and docs live here and nowhere else (presets in configs/tokenizer/
// override them; `--set key=value` overrides those). Symbols as in docs/method.md.
import type { DiffAugPolicy } from '../architectures/index.js';
import { ConfigError, type Infer, bool, choice, fraction, group, list, num, positive, str } from '../config/index.js';
import { datasetFields } from '../data/index.js';
import { optimGroup, trainGroup } from '../train/index.js';
import { ANNEALING_DEFAULTS } from './perturbation.js';
import type { TokenizerOptions } from './model.js';

/** A rate or decay in [0, 1] (a fraction by another name, so the docs read right). */
const rate = fraction;

export const tokenizerSchema = group({
  data: group({
    ...datasetFields({ size: 'image side after preprocessing', limit: 'use only the first N training images (0 = all)' }),
    flip: bool({ default: false, doc: 'random horizontal flips' }),
  }, 'the training images'),
  model: group({
    architecture: choice(['cnn', 'vit'], 'cnn', 'encoder/decoder family (docs/method.md §1: the method is architecture-agnostic)'),
    codebookSize: num({ default: 256, min: 2, max: 65536, integer: true, doc: 'K, codes in the codebook (4096 at reference scale)' }),
    codeDim: positive(16, 'D, code width (64 at reference scale)'),
    commitmentWeight: num({ default: 0.25, min: 0, max: 10, doc: 'weight of the commitment loss' }),
    codebookInit: choice(['uniform', 'normal', 'kmeans'], 'uniform',
      "codes' start (quantizer.ts, CodebookUpkeep): uniform U(−1/K, 1/K), the default, as TiTok and the released code; normal N(0, 1) as torch.nn.Embedding; " +
      "kmeans: spherical k-means (10 Lloyd iterations, seeded from the training stream) on the first batch's encoder latents, as vector-quantize-pytorch's kmeans_init"),
    deadCodeThreshold: num({ default: 0, min: 0, max: 1e9,
      doc: "replace a code whose EMA usage (tokens per batch) falls below this by a random latent of the batch, after each step; 0 = off, the default (vector-quantize-pytorch's threshold_ema_dead_code, also 0 by default; Jukebox's restarts use 1)" }),
    deadCodeDecay: num({ default: 0.99, min: 0, max: 0.999999, doc: "decay of that EMA usage count; default 0.99, Jukebox's (vector-quantize-pytorch uses its codebook decay, 0.8)" }),
    cnn: group({
      zChannels: positive(32, 'encoder output channels before the 1×1 projection'),
      baseChannels: positive(32, 'width of the first level'),
      channelMultipliers: list(positive(1, 'multiplier'), { default: [1, 2, 2], minLength: 1, maxLength: 6, doc: 'width per level; L levels downsample by 2^(L−1)' }),
      resBlocks: positive(1, 'residual blocks per level'),
      attention: bool({ default: false, doc: 'self-attention at the lowest resolution' }),
      normGroups: positive(8, 'GroupNorm groups (at most the channels)'),
    }),
    vit: group({
      patchSize: positive(4, 'patch side'),
      width: positive(128, 'transformer width'),
      depth: positive(4, 'blocks in encoder and in decoder'),
      heads: positive(4, 'attention heads'),
      numLatentTokens: positive(64, 'N, latent tokens per image (256 at reference scale)'),
    }),
  }, 'the tokenizer'),
  perturbation: group({
    enabled: bool({ default: true, doc: 'latent perturbation in main training (docs/method.md §2)' }),
    kind: choice(['codebook', 'gaussian'], 'codebook',
      'codebook: tokens redrawn among their δ nearest codes (RobusTok); gaussian: NextStep-1\'s noise (arXiv 2508.10711) on the quantized latent instead, for comparison (α and δ unused)'),
    noiseScale: num({ default: 0.5, min: 0, max: 10, doc: 'σ_max of the gaussian kind, relative to the quantized latent\'s RMS: σ ~ U(0, σ_max) per image, annealed like α' }),
    alpha: fraction(1, 'α₀: probability that a token is redrawn'),
    beta: fraction(0.1, 'β: fraction of the batch perturbed'),
    delta: positive(16, 'δ₀: nearest codes a token may be redrawn from, at most K (K = 256: 16 beat the 100/4096 share)'),
    anneal: bool({ default: true, doc: 'ratio 1 → floor between annealStart and annealEnd: α = r·α₀, δ = ⌊r·δ₀⌋' }),
    annealStart: fraction(ANNEALING_DEFAULTS.start, 'fraction of training where annealing starts (epoch 40 of 200)'),
    annealEnd: fraction(ANNEALING_DEFAULTS.end, 'fraction where it reaches the floor (epoch 120 of 200); at least annealStart'),
    annealFloor: fraction(ANNEALING_DEFAULTS.floor, 'final ratio'),
    select: choice(['first', 'random'], 'first', 'which ⌊β·B⌋ images: the first of each shuffled batch (released code) or random'),
  }, 'latent perturbation'),
  loss: group({
    reconstruction: choice(['mse', 'l1'], 'mse', 'pixel reconstruction loss'),
    gan: group({
      enabled: bool({ default: false, doc: 'hinge GAN with a PatchGAN discriminator (docs/method.md §4)' }),
      start: fraction(0.28, 'fraction of training after which the GAN is on (epoch 56 of 200)'),
      weight: num({ default: 0.5, min: 0, max: 100, doc: 'generator weight, times the VQGAN adaptive weight' }),
      lecamWeight: num({ default: 0.001, min: 0, max: 10, doc: 'LeCam regulariser weight' }),
      lecamDecay: num({ default: 0.999, min: 0, max: 0.999999, doc: "EMA decay of LeCam's anchors (the released code's 0.999; Tseng et al.'s own code uses 0.99)" }),
      hingeScale: num({ default: 0.5, min: 0, max: 10, doc: "factor on the discriminator's hinge loss (0.5 as taming's hinge_d_loss and the released code; sets LeCam's strength relative to it)" }),
      lr: rate(1e-4, 'discriminator learning rate'),
      weightDecay: rate(5e-4, 'discriminator weight decay'),
      network: str({ default: '',
        doc: "discriminator backbone: '' = a CNN PatchGAN (VQGAN's); a feature-network name (e.g. nsfwjs-mobilenet) = that frozen pretrained network with trainable spectral-norm heads, as RobusTok's DINO discriminator (docs/method.md §4)" }),
      networkWeights: str({ default: '', doc: "gan.network's weights file, where it needs one (inception-fid; a classifier file elsewhere than the cache)" }),
      headWidth: positive(256, "hidden width of the feature discriminator's head (gan.network set)"),
      baseChannels: positive(32, 'discriminator width'),
      layers: positive(2, 'discriminator stride-2 layers'),
      spectralNorm: bool({ default: true, doc: 'spectral norm instead of batch norm in the discriminator' }),
      diffaug: list<DiffAugPolicy>(choice(['color', 'translation', 'cutout'], 'color', 'a DiffAugment family'),
        { default: ['color', 'translation', 'cutout'], maxLength: 3, doc: 'DiffAugment on real and fake images, in order (Zhao et al. 2020)' }),
      cutoutRatio: num({ default: 0.2, min: 0, max: 1, doc: "DiffAugment cutout square's side as a fraction of the image side (the released code's 0.2, i.e. 4% of the area; DiffAugment's own default is 0.5)" }),
    }),
    perceptual: group({
      kind: choice(['none', 'lpips', 'features'], 'none',
        'perceptual term: none, LPIPS-VGG (Zhang et al. 2018; docs/method.md §4) from weight files, or a distance between unit-normalised features of `network`'),
      weight: num({ default: 1, min: 0, max: 100, doc: 'weight of the perceptual term (1.0 in VQGAN and LlamaGen)' }),
      vgg: str({ default: '', doc: "kind=lpips: VGG16 weights (torchvision's vgg16-397923af.pth, .pth or .safetensors), or one LPIPS checkpoint holding VGG and heads" }),
      lin: str({ default: '', doc: "kind=lpips: LPIPS heads (lpips' weights/v0.1/vgg.pth); the same path as vgg for a combined checkpoint" }),
      network: str({ default: '', doc: 'kind=features: feature-network name (e.g. classifier:fashion-mnist)' }),
      networkWeights: str({ default: '', doc: 'kind=features: the network\'s weights file (inception-fid needs one; a classifier file elsewhere than the cache)' }),
    }),
  }, 'losses'),
  optim: optimGroup({
    lr: [1e-3, 'peak learning rate (2.4e-4 at batch 1024 at reference scale)'],
    lrMin: 5e-5,
    warmupFraction: 0.02,
    weightDecay: [0, 'AdamW weight decay (0 for the tokenizer)'],
    emaDecay: [0.999, 'EMA of weights; the EMA weights are evaluated and exported'],
  }, 'optimisation (AdamW, β = (0.9, 0.95))'),
  train: trainGroup({
    steps: 2000,
    batchSize: [64, 'images per step'],
    seed: 'seed of weights, data order and perturbation',
    logEvery: 20,
    sampleEvery: [500, 'steps between reconstruction grids'],
    checkpointEvery: 500,
    nonFinite: 'a NaN/Inf loss: stop (naming the step, the terms and the last checkpoint) or skip the batch (at most 100 in a row)',
  }, 'the run'),
});

export type TokenizerConfig = Infer<typeof tokenizerSchema>;

/** The step at which the GAN comes on (loss.gan.start of train.steps); null when the GAN is off. */
export const ganStartStep = (config: TokenizerConfig): number | null =>
  config.loss.gan.enabled ? Math.round(config.loss.gan.start * config.train.steps) : null;

/**
 * What the schema cannot say key by key: settings required by another
 * setting's value. One message per problem, each starting with its key.
 */
export function tokenizerConfigIssues(config: TokenizerConfig): string[] {
  const issues: string[] = [];
  const { perturbation: pt, model } = config;
  if (pt.delta > model.codebookSize) {
    issues.push(`perturbation.delta: δ₀ = ${pt.delta} exceeds the codebook size model.codebookSize = ${model.codebookSize} (a token is redrawn among its δ nearest codes)`);
  }
  if (pt.annealStart > pt.annealEnd) {
    issues.push(`perturbation.annealStart: ${pt.annealStart} is after perturbation.annealEnd ${pt.annealEnd} (annealing needs 0 ≤ start ≤ end ≤ 1)`);
  }
  const p = config.loss.perceptual;
  if (p.kind === 'lpips') {
    if (p.vgg === '') issues.push("loss.perceptual.vgg: required when loss.perceptual.kind is lpips (torchvision's vgg16-397923af.pth, or an LPIPS checkpoint holding VGG and heads)");
    if (p.lin === '') issues.push("loss.perceptual.lin: required when loss.perceptual.kind is lpips (lpips' weights/v0.1/vgg.pth, or the vgg path again for a combined checkpoint)");
  }
  if (p.kind === 'features' && p.network === '') {
    issues.push('loss.perceptual.network: required when loss.perceptual.kind is features (a feature-network name, e.g. classifier:fashion-mnist)');
  }
  return issues;
}

/** Throws a ConfigError listing tokenizerConfigIssues, if any (run after resolveConfig). */
export function checkTokenizerConfig(config: TokenizerConfig): TokenizerConfig {
  const issues = tokenizerConfigIssues(config);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/** The model part of a resolved config. */
export function modelOptions(config: TokenizerConfig): TokenizerOptions {
  const m = config.model;
  const imageChannels = config.data.channels;
  const common = { codebookSize: m.codebookSize, codeDim: m.codeDim, commitmentWeight: m.commitmentWeight };
  if (m.architecture === 'vit') {
    return { architecture: 'vit', ...common, vit: { ...m.vit, imageSize: config.data.size, imageChannels, codeDim: m.codeDim } };
  }
  return { architecture: 'cnn', ...common, cnn: { ...m.cnn, channelMultipliers: [...m.cnn.channelMultipliers], imageChannels } };
}
