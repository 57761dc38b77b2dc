// What the request thread asks the inference worker, and what comes back.
// Both sides import these types; the values cross as structured clones
// (images as raw 8-bit HWC bytes, PNG-encoded on the request thread). The
// results are the API's answers (api_types.ts) before that encoding.
import type { RawImage } from '../data/index.js';
import type { Sampling } from '../generator/index.js';
import type { Neighbours, Preserved, Reconstruction, Sample } from './api_types.js';

/** A token swapped by hand: position `index` (row-major) takes its `rank`-th nearest code (0 = the encoder's own). */
export interface TokenOverride {
  index: number;
  rank: number;
}

export interface ReconstructArgs {
  /** The tokenizer folder. */
  dir: string;
  image: RawImage;
  /** α: the probability that a token is redrawn (every image is perturbed: β = 1, as pFID does). */
  alpha: number;
  /** δ: how many nearest codes a redrawn token is drawn from. */
  delta: number;
  seed: number;
  overrides: TokenOverride[];
}

export type ReconstructResult = Reconstruction<RawImage>;

export interface NeighboursArgs {
  dir: string;
  code: number;
  count: number;
}

export type NeighboursResult = Neighbours;

export interface SampleArgs {
  /** The generator folder, and the tokenizer folders that decode its tokens (one or two). */
  dir: string;
  decoders: string[];
  classId: number;
  sampling: Sampling;
  seed: number;
}

export type SampleResult = Sample<RawImage>;

export interface PreservedArgs {
  dir: string;
  decoders: string[];
  image: RawImage;
  /** The image's row in its split: whose per-image streams the draws come from (posttrain/image_draws.ts). */
  index: number;
  classId: number;
  /** σ: the probability of keeping each ground-truth token. */
  sigma: number;
  sampling: Sampling;
  /** A post-training run's train.seed, to draw as its pregeneration drew. */
  seed: number;
}

export type PreservedResult = Preserved<RawImage>;

export interface LabOps {
  reconstruct: [ReconstructArgs, ReconstructResult];
  neighbours: [NeighboursArgs, NeighboursResult];
  sample: [SampleArgs, SampleResult];
  preserved: [PreservedArgs, PreservedResult];
}

export type LabOp = keyof LabOps;

export interface LabRequest<O extends LabOp = LabOp> {
  id: number;
  op: O;
  args: LabOps[O][0];
}

export type LabReply = { id: number; result: unknown } | { id: number; error: { status: number; message: string } };
