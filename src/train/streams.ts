// The random streams of a run, by name. Every seeded draw a run makes comes
// from one of these, each a RandomStream (a torch.Generator) seeded with the
// run's train.seed plus the stream's offset, so that drawing more from one
// (a longer grid, another perturbation) never moves another. The offsets are
// the ones the runs have always used: changing one changes every run's
// numbers, and tests compare them with stored values and PyTorch twins.
// One table, so that a reader (or the generator lab, which redraws what
// post-training drew) finds every stream and what draws from it here.
import { mixSeed } from '../data/index.js';
import { RandomStream } from '../torch/index.js';

export const STREAMS = {
  /**
   * Not a RandomStream: train.seed itself seeds the global generator
   * (manualSeed: initial weights, dropout) and the loaders' host shuffles.
   */
  global: 0,
  /**
   * The trainer's draws, saved in its checkpoints (RngState): the
   * tokenizer's perturbation, DiffAugment and codebook upkeep; the
   * generator's class dropout and mirror choices; post-training's
   * σ-token draws on the fly and DiffAugment.
   */
  trainDraws: 1,
  /**
   * Sample grids, fresh for every grid so grids compare across steps: the
   * tokenizer's perturbed reconstructions, the generator's class grids.
   */
  gridDraws: 2,
  /** Post-training's keep/replace coins on the fly (docs/method.md §6), apart from the draws so σ = 0 is free sampling. */
  sigmaCoins: 3,
  /** The σ-tokens of post-training's grids: the generator's draws, drawn once. */
  gridSigmaDraws: 5,
  /** … and their keep/replace coins. */
  gridSigmaCoins: 6,
  /**
   * Pregenerated σ-tokens (--pregenerate): the generator's draws, from one
   * stream per image (`imageStream`), so an image's tokens do not depend
   * on which batch it was drawn in — and the generator lab can redraw them.
   */
  pregenDraws: 7,
  /** … and their keep/replace coins, likewise per image. */
  pregenCoins: 8,
} as const;

export type StreamName = keyof typeof STREAMS;

/** The seed of stream `name` of a run seeded with `seed` (train.seed). */
export const streamSeed = (seed: number, name: StreamName): number => seed + STREAMS[name];

/** Stream `name` of a run seeded with `seed`, at its start. */
export const openStream = (seed: number, name: StreamName): RandomStream => new RandomStream(streamSeed(seed, name));

/**
 * Image `index`'s own share of stream `name`: a stream seeded from the
 * run's stream seed and the image's index in its split, so the image draws
 * the same numbers in any batch, in any order, alone or with others.
 */
export const imageStream = (seed: number, name: StreamName, index: number): RandomStream =>
  new RandomStream(mixSeed(streamSeed(seed, name), index));
