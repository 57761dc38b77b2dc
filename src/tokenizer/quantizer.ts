// The vector quantizer of RobusTok (docs/method.md §1): latents and codebook vectors
// are both L2-normalised, so the nearest code is the one of highest cosine;
// gradients pass to the encoder by the straight-through estimator (van den
// Oord et al., 2017). Losses: codebook ‖zq − sg(z)‖² (weight 1) and
// commitment ‖sg(zq) − z‖² (weight β_c = 0.25); no EMA codebook, no entropy
// loss, as in the paper's setting.
import { Embedding, Module } from '../nn/index.js';
import { F, type Tensor, noGrad, uniform_ } from '../torch/index.js';
import { type TokenLayout, fromTokens, idsInLayout, l2Normalize, toTokens } from './tokens.js';

export interface QuantizerOptions {
  /** K, the number of codes (4096 at reference scale). */
  codebookSize: number;
  /** D, the code width (64 at reference scale). */
  codeDim: number;
  /** Weight of the commitment loss (0.25). */
  commitmentWeight?: number;
  /** Weight of the codebook loss (1). */
  codebookWeight?: number;
}

export interface Quantized {
  /** z + sg(ẑ − z): the quantized latent, in the input's layout, with the encoder's gradient. */
  zq: Tensor;
  /** The normalised continuous latent `[B, N, D]` (what perturbation searches from). */
  z: Tensor;
  /** Code ids `[B, N]`. */
  ids: Tensor;
  /** Code ids in the latent's grid (`[B, H, W]` for feature maps). */
  idsGrid: Tensor;
  codebookLoss: Tensor;
  commitmentLoss: Tensor;
  /** codebookWeight · codebook + commitmentWeight · commitment. */
  loss: Tensor;
  layout: TokenLayout;
}

export class VectorQuantizer extends Module {
  /** Codes `[K, D]` (unnormalised parameters; used normalised). */
  readonly embedding: Embedding;

  constructor(readonly options: QuantizerOptions) {
    super();
    const { codebookSize: K, codeDim: D } = options;
    if (!(Number.isInteger(K) && K >= 2)) throw new RangeError(`codebookSize must be an integer ≥ 2, got ${K}`);
    if (!(Number.isInteger(D) && D >= 1)) throw new RangeError(`codeDim must be a positive integer, got ${D}`);
    this.embedding = this.child('embedding', new Embedding(K, D));
    // TiTok/RobusTok initialise codes U(−1/K, 1/K); direction is all that matters after normalising.
    noGrad(() => uniform_(this.embedding.weight, -1 / K, 1 / K));
  }

  /** The normalised codebook `[K, D]`. */
  codes(): Tensor {
    return l2Normalize(this.embedding.weight);
  }

  /** Nearest codes (highest cosine) for normalised tokens `[B, N, D]` → ids `[B, N]`. */
  nearest(z: Tensor, codes: Tensor = this.codes()): Tensor {
    return z.matmul(codes.T).argmax(-1);
  }

  /** Quantizes `[B, D, H, W]` or `[B, N, D]` latents. */
  forward(latent: Tensor): Quantized {
    const [tokens, layout] = toTokens(latent);
    if (tokens.size(-1) !== this.options.codeDim) {
      throw new Error(`quantizer expects latents of width ${this.options.codeDim}, got shape [${latent.shape}]`);
    }
    const z = l2Normalize(tokens);
    const codes = this.codes();
    const ids = noGrad(() => this.nearest(z, codes));
    const quantized = F.embedding(ids, codes);
    const codebookLoss = F.mseLoss(quantized, z.detach());
    const commitmentLoss = F.mseLoss(quantized.detach(), z);
    const loss = codebookLoss.mul(this.options.codebookWeight ?? 1).add(commitmentLoss.mul(this.options.commitmentWeight ?? 0.25));
    const straightThrough = z.add(quantized.sub(z).detach());
    return { zq: fromTokens(straightThrough, layout), z, ids, idsGrid: idsInLayout(ids, layout), codebookLoss, commitmentLoss, loss, layout };
  }

  /** Code ids `[B, N]` → normalised code vectors in the layout of `layout` (the decoder's input). */
  lookup(ids: Tensor, layout?: TokenLayout): Tensor {
    const vectors = F.embedding(ids.flatten(1), this.codes());
    return layout ? fromTokens(vectors, layout) : vectors;
  }
}
