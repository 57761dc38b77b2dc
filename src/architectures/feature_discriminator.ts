// A discriminator on a frozen pretrained network's features (docs/method.md §4
// and §6): RobusTok's main training and its released post-training judge
// images through a frozen DINO ViT-S/16 with small trainable spectral-norm
// heads. A pretrained backbone tells real images from decoded ones from its
// first step, where a randomly initialised PatchGAN started against a
// converged decoder spends hundreds of steps pushing it anywhere. Here the
// backbone is any offline feature network (features/registry.ts: nsfwjs's
// ImageNet-pretrained MobileNetV2 or InceptionV3, a dataset classifier); its
// weights stay frozen and are not saved, only the heads are.
import type { FeatureNetwork } from '../features/index.js';
import { LeakyReLU, Linear, Module, Sequential } from '../nn/index.js';
import { type Tensor, noGrad, normal_ } from '../torch/index.js';

export class FeatureDiscriminator extends Module {
  readonly head: Sequential;

  /** `hidden`: width of the head's one hidden layer. */
  constructor(readonly network: FeatureNetwork, hidden: number) {
    super();
    const sn = { spectralNorm: true };
    this.head = this.child('head', new Sequential(new Linear(network.featureSize, hidden, sn), new LeakyReLU(0.2), new Linear(hidden, 1, sn)));
    // Small initial weights, as the PatchGAN's DCGAN start: logits near 0, where the hinge loss has gradient on both sides.
    noGrad(() => {
      for (const layer of this.head) if (layer instanceof Linear) normal_(layer.weight, 0, 0.02);
    });
  }

  /**
   * Images `[B, C, H, W]` in [−1, 1] → real/fake logits `[B, 1]`. Gradients
   * reach the images through the frozen network (the decoder's GAN term) and
   * the heads (the discriminator's step).
   */
  forward(images: Tensor): Tensor {
    return this.head.forward(this.network.features(images));
  }
}
