// The tokenizer's perceptual term (docs/method.md §4: "perceptual LPIPS-VGG (weight
// 1)"), pluggable because no VGG weights ship with robustok (docs/design.md §11):
//   none      pixel loss only: the small/CPU presets, which need no weights;
//   lpips     LPIPS-VGG (Zhang et al. 2018) from the user's weight files, as
//             VQGAN (Esser et al. 2021), LlamaGen and RobusTok train with;
//   features  a distance between the pooled features of any FeatureNetwork
//             (e.g. the dataset classifier of src/features/classifier.ts).
// Either way the term compares the reconstruction with the clean input image
// (docs/method.md §2: the target is always the clean image, perturbed or not).
import { type FeatureNetwork, type Lpips, loadLpips, unitChannels } from '../features/index.js';
import { type Tensor, isGradEnabled, noGrad } from '../torch/index.js';
import type { TokenizerConfig } from './config.js';

export type PerceptualKind = 'none' | 'lpips' | 'features';
export type PerceptualConfig = TokenizerConfig['loss']['perceptual'];

/**
 * The squared L2 distance between unit-normalised pooled features, per image:
 * `[B, C, H, W]` × 2 → `[B]`, in [0, 4] (= 2 − 2·cos between the features).
 * This is LPIPS with its learned heads replaced by ones, the "baseline"
 * feature distance of Zhang et al. 2018 (§3), applied to one pooled layer;
 * unit length makes it blind to the feature scale, which differs per network.
 * The target's features carry no graph: only the reconstruction is trained.
 */
export function featureDistance(network: FeatureNetwork, reconstruction: Tensor, target: Tensor): Tensor {
  const fr = network.features(reconstruction);
  if (reconstruction.requiresGrad && isGradEnabled() && !fr.requiresGrad) {
    throw new Error(`feature network '${network.name}' returned features without a gradient to its input, so a perceptual ` +
      'loss through it cannot train the tokenizer (FeatureNetwork.features must keep autograd on when grad mode is on)');
  }
  const ft = noGrad(() => network.features(target));
  return unitChannels(fr).sub(unitChannels(ft)).square().sum(1);
}

/**
 * The configured perceptual term. It owns the LPIPS weights it loads; an
 * injected FeatureNetwork stays the caller's to dispose.
 */
export class PerceptualLoss {
  private constructor(
    readonly kind: Exclude<PerceptualKind, 'none'>,
    /** The LPIPS model for kind lpips (owned: disposed with this). */
    readonly lpips: Lpips | null,
    /** The feature network for kind features (the caller's). */
    readonly network: FeatureNetwork | null,
  ) {}

  /** LPIPS-VGG with already-loaded weights (taken over: disposed with this). */
  static fromLpips(lpips: Lpips): PerceptualLoss {
    return new PerceptualLoss('lpips', lpips, null);
  }

  /** Unit-feature distance through `network` (not taken over). */
  static fromNetwork(network: FeatureNetwork): PerceptualLoss {
    return new PerceptualLoss('features', null, network);
  }

  /**
   * The term `config` asks for, or null for `none`. `lpips` reads the weight
   * files now, so a wrong path fails before training starts; `features`
   * needs the network the config names, built by the caller (the name →
   * network registry lives in src/features/registry.ts, above this layer's reach).
   */
  static fromConfig(config: PerceptualConfig, options: { featureNetwork?: FeatureNetwork } = {}): PerceptualLoss | null {
    switch (config.kind) {
      case 'none':
        return null;
      case 'lpips': {
        let lpips: Lpips;
        try {
          lpips = loadLpips({ vgg: config.vgg, lin: config.lin });
        } catch (error) {
          throw new Error(`loss.perceptual: ${(error as Error).message}`);
        }
        return PerceptualLoss.fromLpips(lpips);
      }
      case 'features': {
        const network = options.featureNetwork;
        if (!network) {
          throw new Error(`loss.perceptual.kind is features with network '${config.network}', but no feature network was given ` +
            'to the trainer (pass it as TokenizerTrainer options.featureNetwork)');
        }
        if (network.name !== config.network) {
          throw new Error(`loss.perceptual.network is '${config.network}', but the trainer was given feature network '${network.name}'`);
        }
        return PerceptualLoss.fromNetwork(network);
      }
    }
  }

  /** reconstruction, target `[B, C, H, W]` in [−1, 1] → the batch mean of the per-image distance (a scalar). */
  forward(reconstruction: Tensor, target: Tensor): Tensor {
    const perImage = this.lpips ? this.lpips.forward(reconstruction, target) : featureDistance(this.network!, reconstruction, target);
    return perImage.mean();
  }

  dispose(): void {
    this.lpips?.dispose();
  }
}
