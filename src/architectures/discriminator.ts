// The CNN PatchGAN discriminator (Isola et al. 2017, "Image-to-Image
// Translation with Conditional Adversarial Networks"), as taming-transformers'
// NLayerDiscriminator that VQGAN trains against (Esser et al. 2021). Each
// output logit sees one receptive-field patch, so the adversarial loss judges
// local texture — what MSE and LPIPS leave blurry — rather than the whole
// image. docs/method.md §4 names it the classic alternative to RobusTok's DINO-feature
// discriminator. Parameter names follow taming's (`main.0.weight`, ...), so a
// discriminator trained there loads here.
import { type Tensor, noGrad, normal_, tidy } from '../torch/index.js';
import { BatchNorm2d, Conv2d, type Layer, LeakyReLU, Module, Sequential } from '../nn/index.js';

export interface PatchDiscriminatorOptions {
  /** Image channels (3). */
  inChannels?: number;
  /** Channels of the first convolution, `ndf` (64). */
  baseChannels?: number;
  /** Stride-2 downsampling convolutions after the first, `n_layers` (3). */
  layers?: number;
  /**
   * Spectral norm on every convolution (Miyato et al. 2018) instead of batch
   * norm: the Lipschitz bound that stabilises hinge-loss GANs, and no batch
   * statistics shared between real and fake batches. Off by default (taming).
   */
  spectralNorm?: boolean;
}

/**
 * `[B, C, H, W]` images → `[B, 1, h, w]` real/fake logits, one per patch
 * (h = H/2^layers − 2 for H divisible by 2^layers; 256 → 30 with 3 layers).
 *
 * Layout (taming's NLayerDiscriminator): conv 4×4 s2 (with bias) + LeakyReLU;
 * then `layers − 1` blocks conv 4×4 s2 + norm + LeakyReLU with channels
 * doubling up to 8× `baseChannels`; one conv 4×4 s1 + norm + LeakyReLU; a
 * final conv 4×4 s1 to one channel. Under batch norm the convolutions before a
 * norm have no bias (the norm's shift replaces it); under spectral norm there
 * is no norm layer and every convolution has a bias, so indices of `main.*`
 * then skip no norm slot.
 */
export class PatchDiscriminator extends Module implements Layer {
  readonly main: Sequential;

  constructor(options: PatchDiscriminatorOptions = {}) {
    super();
    const inChannels = options.inChannels ?? 3;
    const ndf = options.baseChannels ?? 64;
    const n = options.layers ?? 3;
    const sn = options.spectralNorm ?? false;
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`PatchDiscriminator: layers must be an integer ≥ 1, got ${n}`);
    const conv = (cin: number, cout: number, stride: number, bias: boolean): Conv2d =>
      new Conv2d(cin, cout, 4, { stride, padding: 1, bias, spectralNorm: sn });
    // A conv + norm + activation block; the norm is batch norm, or nothing under spectral norm.
    const block = (cin: number, cout: number, stride: number): (Module & Layer)[] =>
      sn ? [conv(cin, cout, stride, true), new LeakyReLU(0.2)] : [conv(cin, cout, stride, false), new BatchNorm2d(cout), new LeakyReLU(0.2)];
    const layers: (Module & Layer)[] = [conv(inChannels, ndf, 2, true), new LeakyReLU(0.2)];
    let mult = 1;
    for (let i = 1; i <= n; i++) {
      const prev = mult;
      mult = Math.min(2 ** i, 8);
      layers.push(...block(ndf * prev, ndf * mult, i < n ? 2 : 1));
    }
    layers.push(conv(ndf * mult, 1, 1, true));
    this.main = this.child('main', new Sequential(...layers));
    this.initWeights();
  }

  /**
   * taming's `weights_init`, the DCGAN initialisation (Radford et al. 2016):
   * conv weights N(0, 0.02²), batch-norm scales N(1, 0.02²) and shifts 0.
   * Small initial weights keep the first discriminator logits near zero, where
   * the hinge loss has gradient for both real and fake.
   */
  private initWeights(): void {
    noGrad(() => {
      for (const layer of this.main) {
        if (layer instanceof Conv2d) normal_(layer.weight, 0, 0.02);
        else if (layer instanceof BatchNorm2d) {
          normal_(layer.weight!, 1, 0.02);
          layer.bias!.zero_();
        }
      }
    });
  }

  /** `[B, C, H, W] → [B, 1, h, w]` logits. */
  forward(x: Tensor): Tensor {
    // A scope, so the layers' intermediates go when the logits are out (see cnn.ts on why this matters for speed).
    return tidy(() => this.main.forward(x));
  }
}
