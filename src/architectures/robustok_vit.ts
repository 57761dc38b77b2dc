// The ViT encoder and decoder of the RobusTok release (Qiu et al., "Image
// Tokenizer Needs Post-Training", 2025; qiuk2/RobusTok,
// tokenizer/tokenizer_image/dino_enc/dinov2.py and xqgan_model.py, run with
// configs/main-train.yaml: enc_type and dec_type dinov2, abs_pos_embed, 256
// latent tokens). Both wrap a timm DINOv2 ViT-B (`vit_base_patch14_dinov2`
// built at img_size 256, patch_size 16) under `model`, so the files carry
// timm's names: `model.patch_embed.proj`, `model.cls_token`, `model.pos_embed`
// (with the class token's entry), `model.blocks.i` with LayerScale
// `ls1`/`ls2`, `model.norm`. Around it:
//   - encoder: `latent_tokens`, appended after the image's tokens; each takes
//     the position of the patch at its index (timm's `_pos_embed` on the
//     latents laid out as the patch grid, class token dropped), and
//     `lvl_embed` (0 for class + patches, 1 for latents) is added to all;
//     the latents' outputs are read out as a √N × √N grid, where the
//     tokenizer's `quant_conv` (a 1×1 conv to the code width) takes them;
//   - decoder: P copies of `mask_token`, each position-embedded with a class
//     token in front, then the quantized latents, position-embedded with a
//     class token of their own, plus `lvl_embed` (0, then 1 from the second
//     class token on); the mask tokens' outputs go through
//     `to_pixel.model` (linear to p·p·C) and are folded into the image. Its
//     ViT has no patch embedding (upstream deletes it).
// The images are robustok's own [−1, 1] (xqgan_train.py: Normalize(0.5, 0.5));
// ImageNet's mean and std are applied only for the semantic loss's DINOv2.
import { Conv2d, Embedding, Linear, Module, init } from '../nn/index.js';
import { type Tensor, cat, full, tidy } from '../torch/index.js';
import { VitTrunk, type VitTrunkOptions, learned, unpatchify } from './vit.js';

/** The RobusTok ViT's geometry: N latent tokens, as many as patches (RobusTok: 256 = 16²). */
export type RobustokVitOptions = Omit<VitTrunkOptions, 'layerScale'>;

/** DINOv2's LayerScale start (timm's init_values for the dinov2 ViTs). */
const DINOV2_LAYER_SCALE = 1e-5;

/** `patch_embed.proj`: the p×p stride-p convolution of timm's PatchEmbed. */
class PatchEmbed extends Module {
  readonly proj: Conv2d;
  constructor(channels: number, width: number, patchSize: number) {
    super();
    this.proj = this.child('proj', new Conv2d(channels, width, patchSize, { stride: patchSize }));
  }
}

/**
 * timm's VisionTransformer as the release uses it (`model`): class token,
 * learned positions with the class token's entry, pre-norm blocks with
 * LayerScale, final norm; no head (DINOv2's num_classes 0).
 */
export class Dinov2Vit extends VitTrunk<VitTrunkOptions> {
  readonly patchEmbed: PatchEmbed | null;
  readonly clsToken: Tensor;
  readonly posEmbed: Tensor;

  constructor(options: RobustokVitOptions, withPatchEmbed: boolean) {
    super({ ...options, layerScale: DINOV2_LAYER_SCALE });
    const { imageChannels, width, patchSize } = options;
    this.patchEmbed = withPatchEmbed ? this.child('patch_embed', new PatchEmbed(imageChannels, width, patchSize)) : null;
    this.clsToken = this.param('cls_token', learned(1, width));
    this.posEmbed = this.param('pos_embed', learned(1 + this.patches, width));
  }

  /** timm's `_pos_embed` for a grid of P tokens: the class token in front, then the positions added. `[B, P, width] → [B, 1 + P, width]` */
  withClassToken(tokens: Tensor): Tensor {
    const B = tokens.size(0);
    return cat([this.clsToken.expand([B, -1, -1]), tokens], 1).add(this.posEmbed);
  }
}

/** The level ids `lvl1LC` `[1, zeros + ones]`: 0 for the image part, 1 for the latent part. */
const levelIds = (zeros: number, ones: number): Tensor =>
  cat([full([1, zeros], 0, { dtype: 'int64' }), full([1, ones], 1, { dtype: 'int64' })], 1);

/** What encoder and decoder share: the ViT under `model`, `lvl_embed`, and the (recomputed) `lvl1LC`. */
abstract class RobustokVitPart extends Module {
  readonly model: Dinov2Vit;
  readonly lvlEmbed: Embedding;
  /** Recomputed from the geometry, not loaded: src/tokenizer/published.ts compares the file's copy with it. */
  readonly levels: Tensor;
  readonly grid: number;

  constructor(readonly options: RobustokVitOptions, withPatchEmbed: boolean, levels: [number, number]) {
    super();
    this.model = this.child('model', new Dinov2Vit(options, withPatchEmbed));
    const side = Math.round(Math.sqrt(options.numLatentTokens));
    if (options.numLatentTokens !== this.model.patches || side * side !== options.numLatentTokens) {
      throw new RangeError(`RobusTok ViT: numLatentTokens ${options.numLatentTokens} must equal the ${this.model.patches} patches ` +
        '(the latents take the patch positions, abs_pos_embed) and be a square');
    }
    this.grid = side;
    this.lvlEmbed = this.child('lvl_embed', new Embedding(2, options.width));
    init.truncNormal_(this.lvlEmbed.weight, Math.sqrt(1 / options.width / 3));
    this.levels = this.buffer('lvl1LC', levelIds(...levels), false)!;
  }

  /** `[B, L, width]` + lvl_embed(lvl1LC) → blocks → norm. */
  protected transform(x: Tensor): Tensor {
    return this.model.run(x.add(this.lvlEmbed.forward(this.levels)));
  }
}

/** Encoder: `[B, C, S, S]` in [−1, 1] → the latent tokens' outputs as a grid `[B, width, √N, √N]`. */
export class RobustokVitEncoder extends RobustokVitPart {
  readonly latentTokens: Tensor;

  constructor(options: RobustokVitOptions) {
    const patches = (options.imageSize / options.patchSize) ** 2;
    super(options, true, [1 + patches, options.numLatentTokens]);
    this.latentTokens = this.param('latent_tokens', learned(options.numLatentTokens, options.width));
  }

  forward(x: Tensor): Tensor {
    const { imageSize: S, imageChannels: C, numLatentTokens: N, width } = this.options;
    if (x.ndim !== 4 || x.size(1) !== C || x.size(2) !== S || x.size(3) !== S) {
      throw new Error(`RobusTok ViT encoder expects [B, ${C}, ${S}, ${S}] (imageChannels, imageSize), got [${x.shape}]`);
    }
    return tidy(() => {
      const B = x.size(0);
      const image = this.model.withClassToken(this.model.patchEmbed!.proj.forward(x).flatten(2).transpose(1, 2));
      // each latent at the position of the patch with its index (the class token's entry left out)
      const latents = this.latentTokens.add(this.model.posEmbed.narrow(1, 1, N)).expand([B, -1, -1]);
      const out = this.transform(cat([image, latents], 1)).narrow(1, 1 + this.model.patches, N);
      // [B, N, width] → [B, width, √N, √N], token i at row ⌊i/√N⌋, column i mod √N (xqgan_model.py, encode)
      return out.transpose(1, 2).reshape(B, width, this.grid, this.grid);
    });
  }
}

/** `to_pixel.model`: linear to a patch's p·p·C values (ToPixel with to_pixel='linear'). */
class ToPixel extends Module {
  readonly model: Linear;
  constructor(width: number, patchSize: number, channels: number) {
    super();
    this.model = this.child('model', new Linear(width, patchSize * patchSize * channels));
  }
}

/** Decoder: the quantized grid after `post_quant_conv`, `[B, width, √N, √N]` → image `[B, C, S, S]`. */
export class RobustokVitDecoder extends RobustokVitPart {
  readonly maskToken: Tensor;
  readonly toPixel: ToPixel;

  constructor(options: RobustokVitOptions) {
    const patches = (options.imageSize / options.patchSize) ** 2;
    super(options, false, [1 + patches, 1 + options.numLatentTokens]);
    this.maskToken = this.param('mask_token', learned(1, options.width));
    this.toPixel = this.child('to_pixel', new ToPixel(options.width, options.patchSize, options.imageChannels));
  }

  forward(h: Tensor): Tensor {
    const { width, imageSize, patchSize, imageChannels } = this.options;
    if (h.ndim !== 4 || h.size(1) !== width || h.size(2) !== this.grid || h.size(3) !== this.grid) {
      throw new Error(`RobusTok ViT decoder expects [B, ${width}, ${this.grid}, ${this.grid}] (width, √numLatentTokens), got [${h.shape}]`);
    }
    return tidy(() => {
      const B = h.size(0);
      const P = this.model.patches;
      const masks = this.model.withClassToken(this.maskToken.expand([B, P, -1]));
      const latents = this.model.withClassToken(h.flatten(2).transpose(1, 2));
      const out = this.transform(cat([masks, latents], 1)).narrow(1, 1, P);
      return unpatchify(this.toPixel.model.forward(out), imageSize, patchSize, imageChannels);
    });
  }
}
