// Spectral normalisation (Miyato et al., 2018): the weight is divided by its
// largest singular value σ, estimated by power iteration with vectors u, v
// kept between steps. Same names and update as torch.nn.utils.spectral_norm
// (`weight_orig`, `weight_u`, `weight_v`), so GAN discriminators trained in
// PyTorch load here. Used by the tokenizer's discriminator heads (docs/method.md §4).
import { type Tensor, empty, noGrad, normal_, tidy } from '../torch/index.js';

export interface SpectralNormOptions {
  /** Power-iteration steps per training forward (PyTorch default 1). */
  powerIterations?: number;
  eps?: number;
}

const normalize = (x: Tensor, eps: number): Tensor => x.div(x.norm(2).clamp(eps));

export class SpectralNorm {
  readonly u: Tensor;
  readonly v: Tensor;
  private readonly iterations: number;
  private readonly eps: number;

  /** Draws u `[out]` and v `[in·k·k]` as PyTorch does; `register` stores them as buffers. */
  constructor(weight: Tensor, options: SpectralNormOptions, register: (name: string, t: Tensor) => void) {
    this.iterations = options.powerIterations ?? 1;
    this.eps = options.eps ?? 1e-12;
    const [height, ...rest] = weight.shape;
    const width = rest.reduce((a, b) => a * b, 1);
    [this.u, this.v] = noGrad(() => tidy(() => [height!, width].map((n) => normalize(normal_(empty([n])), this.eps).keep())));
    register('weight_u', this.u);
    register('weight_v', this.v);
  }

  /** weight / σ. In training, first refines u and v in place. */
  apply(weight: Tensor, training: boolean): Tensor {
    const matrix = weight.flatten(1);
    if (training && this.iterations > 0) {
      noGrad(() => tidy(() => {
        for (let i = 0; i < this.iterations; i++) {
          this.v.copy_(normalize(matrix.T.matmul(this.u), this.eps));
          this.u.copy_(normalize(matrix.matmul(this.v), this.eps));
        }
      }));
    }
    // Clones, as PyTorch takes them: a second forward before backward (a
    // discriminator on real, then on fake images) updates u and v in place
    // again, which must not touch the tensors this graph saved.
    const [u, v] = training && this.iterations > 0 ? [this.u.clone(), this.v.clone()] : [this.u, this.v];
    const sigma = u.mul(matrix.matmul(v)).sum();
    return weight.div(sigma);
  }
}

/** `options.spectralNorm` of a layer, normalised (false = off). */
export const spectralNormOptions = (value: boolean | SpectralNormOptions | undefined): SpectralNormOptions | null =>
  value === true ? {} : value ? value : null;

