// A layer with a weight, an optional bias and optional spectral norm: what
// Linear and both convolutions share, initialised as PyTorch does.
import { type Tensor, empty } from '../torch/index.js';
import { defaultBias_, defaultWeight_, fans } from './init.js';
import { Module } from './module.js';
import { SpectralNorm, type SpectralNormOptions, spectralNormOptions } from './spectral_norm.js';

export interface WeightedOptions {
  bias?: boolean;
  /** Divide the weight by its spectral norm (GAN discriminators). */
  spectralNorm?: boolean | SpectralNormOptions;
}

export abstract class WeightedLayer extends Module {
  /** Named `weight_orig` in the state dict under spectral norm, as in PyTorch. */
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly spectral: SpectralNorm | null;

  constructor(weightShape: number[], biasSize: number, options: WeightedOptions) {
    super();
    const sn = spectralNormOptions(options.spectralNorm);
    this.weight = this.param(sn ? 'weight_orig' : 'weight', defaultWeight_(empty(weightShape)));
    this.bias = this.param('bias', options.bias === false ? null : defaultBias_(empty([biasSize]), fans(this.weight)[0]));
    this.spectral = sn ? new SpectralNorm(this.weight, sn, (name, t) => this.buffer(name, t)) : null;
  }

  /** The weight to compute with (normalised by σ under spectral norm). */
  protected currentWeight(): Tensor {
    return this.spectral ? this.spectral.apply(this.weight, this.training) : this.weight;
  }
}
