// What the request thread asks the inference worker, and what comes back.
// Both sides import these types; the values cross as structured clones
// (images as raw 8-bit HWC bytes, PNG-encoded on the request thread).
import type { RawImage } from '../data/index.js';
import type { Sampling } from '../generator/index.js';
import type { CodeDistance } from '../metrics/index.js';

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

export interface ReconstructResult {
  /** `[h, w]` of the token grid. */
  grid: [number, number];
  codebookSize: number;
  /** The image as the tokenizer sees it (fitted to its side and channels). */
  original: RawImage;
  clean: RawImage;
  perturbed: RawImage;
  /** Code ids, row-major: the encoder's, and after perturbation and the overrides. */
  ids: number[];
  perturbedIds: number[];
  /** Per token: its δ nearest codes to the continuous latent, nearest first (what a redraw and a click choose from). */
  candidates: number[][];
  /** Milliseconds of model time (encode, perturb, decode twice), without queueing or PNG encoding. */
  ms: number;
}

export interface NeighboursArgs {
  dir: string;
  code: number;
  count: number;
}

export interface NeighboursResult {
  code: number;
  /** The codebook's metric, which ranks the neighbours (as it ranks a perturbed token's candidates, docs/method.md §2). */
  metric: CodeDistance;
  /** The nearest other codes by that metric, nearest first, each with its cosine to `code`. */
  neighbours: { code: number; cosine: number }[];
}

export interface SampleArgs {
  /** The generator folder, and the tokenizer folders that decode its tokens (one or two). */
  dir: string;
  decoders: string[];
  classId: number;
  sampling: Sampling;
  seed: number;
}

export interface SampleResult {
  grid: [number, number];
  ids: number[];
  /** One image per decoder, in the order asked. */
  images: RawImage[];
  ms: number;
}

export interface PreservedArgs {
  dir: string;
  decoders: string[];
  image: RawImage;
  classId: number;
  /** σ: the probability of keeping each ground-truth token. */
  sigma: number;
  sampling: Sampling;
  seed: number;
}

export interface PreservedResult {
  grid: [number, number];
  /** Per position: whether the ground-truth token was kept. */
  kept: boolean[];
  /** Per decoder: the ground-truth tokens decoded, and the σ-tokens decoded. */
  truth: RawImage[];
  images: RawImage[];
  ms: number;
}

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
