// RobusTok's transformer tokenizer (docs/method.md §1), the 1-D latent-token layout
// of TiTok (Yu et al., "An Image is Worth 32 Tokens for Reconstruction and
// Generation", 2024): a ViT encoder (Dosovitskiy et al., 2021) reads the
// image patches together with N learnable latent tokens, and only the latent
// tokens' outputs become the tokens, so N is free of the patch grid (RobusTok
// uses N = 256, read out as 16×16). The decoder is MAE-like (He et al.,
// 2022): one learned mask token per patch position plus the quantized
// tokens; the mask tokens' outputs are mapped by a linear head to patch
// pixels and folded back into the image.
import { Conv2d, LayerNorm, Linear, Module, ModuleList, TransformerBlock, init } from '../nn/index.js';
import { type Tensor, cat, empty } from '../torch/index.js';

export interface VitOptions {
  /** Side of the square input image (256 at reference scale). */
  imageSize: number;
  /** Side of a square patch (16 at reference scale); must divide imageSize. */
  patchSize: number;
  /** Image channels (3 for RGB). */
  imageChannels: number;
  /** Transformer width (768 for ViT-B). */
  width: number;
  /** Transformer blocks (12 for ViT-B). */
  depth: number;
  /** Attention heads (12 for ViT-B); must divide width. */
  heads: number;
  /** MLP hidden width as a multiple of width (4). */
  mlpRatio?: number;
  /** N, the learnable latent tokens that become the image's tokens (256). */
  numLatentTokens: number;
  /** D, the code width the tokens are projected to (64). */
  codeDim: number;
}

function positiveInt(name: string, v: number | undefined): void {
  if (!(Number.isInteger(v) && v! >= 1)) throw new RangeError(`ViT tokenizer: ${name} must be a positive integer, got ${v}`);
}

/** The transformer trunk's options: a ViT's geometry and blocks, without the code width. */
export type VitTrunkOptions = Omit<VitOptions, 'codeDim'> & {
  /** LayerScale on both residual branches of every block (DINOv2: 1e-5); absent = none. */
  layerScale?: number;
};

/** Validates the options; returns the number of patches P = (imageSize / patchSize)². */
function numPatches(o: VitTrunkOptions & { codeDim?: number }): number {
  const keys = ['imageSize', 'patchSize', 'imageChannels', 'width', 'depth', 'heads', 'numLatentTokens'] as const;
  for (const key of [...keys, ...('codeDim' in o ? ['codeDim' as const] : [])]) positiveInt(key, o[key]);
  if (o.imageSize % o.patchSize !== 0) {
    throw new RangeError(`ViT tokenizer: imageSize ${o.imageSize} is not divisible by patchSize ${o.patchSize}`);
  }
  if (o.width % o.heads !== 0) throw new RangeError(`ViT tokenizer: width ${o.width} does not split into heads ${o.heads}`);
  if (o.mlpRatio !== undefined && !(o.mlpRatio > 0)) throw new RangeError(`ViT tokenizer: mlpRatio must be > 0, got ${o.mlpRatio}`);
  return (o.imageSize / o.patchSize) ** 2;
}

/** A learned `[1, n, width]` table, N(0, 0.02²) truncated as in ViT/MAE. */
export const learned = (n: number, width: number): Tensor => init.truncNormal_(empty([1, n, width]), 0.02);

/**
 * What encoder and decoder share: `blocks.i` (pre-norm TransformerBlocks)
 * and the final `norm`, plus the validated patch count P. Also the trunk of
 * the DINOv2-layout ViTs of the RobusTok release (robustok_vit.ts).
 */
export abstract class VitTrunk<O extends VitTrunkOptions = VitOptions> extends Module {
  readonly patches: number;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;

  constructor(readonly options: O) {
    super();
    this.patches = numPatches(options);
    const { width, depth, heads, mlpRatio, layerScale } = options;
    this.blocks = this.child('blocks', new ModuleList(Array.from({ length: depth }, () => new TransformerBlock(width, { heads, mlpRatio, layerScale }))));
    this.norm = this.child('norm', new LayerNorm(width, { eps: 1e-6 }));
  }

  /** `[B, L, width] → [B, L, width]` */
  run(x: Tensor): Tensor {
    return this.norm.forward(this.blocks.items.reduce((h, b) => b.forward(h), x));
  }
}

/**
 * Encoder: `patch_embed` (a p×p stride-p conv) + `pos_embed` over the P
 * patches, then `latent_tokens` appended (each is its own learned vector, so
 * it needs no separate position), `blocks`, `norm`, and `head` (linear to D)
 * on the latent tokens only.
 */
export class VitEncoder extends VitTrunk {
  readonly patchEmbed: Conv2d;
  readonly posEmbed: Tensor;
  readonly latentTokens: Tensor;
  readonly head: Linear;

  constructor(options: VitOptions) {
    super(options);
    const { imageChannels, width, patchSize, numLatentTokens, codeDim } = options;
    this.patchEmbed = this.child('patch_embed', new Conv2d(imageChannels, width, patchSize, { stride: patchSize }));
    this.posEmbed = this.param('pos_embed', learned(this.patches, width));
    this.latentTokens = this.param('latent_tokens', learned(numLatentTokens, width));
    this.head = this.child('head', new Linear(width, codeDim));
  }

  /** `[B, C, H, W] → [B, N, D]` tokens, H = W = imageSize. */
  forward(x: Tensor): Tensor {
    const { imageSize: S, imageChannels: C } = this.options;
    if (x.ndim !== 4 || x.size(1) !== C || x.size(2) !== S || x.size(3) !== S) {
      throw new Error(`ViT encoder expects [B, ${C}, ${S}, ${S}] (imageChannels, imageSize), got [${x.shape}]`);
    }
    const B = x.size(0);
    // [B, width, h, w] → [B, P, width]
    const patches = this.patchEmbed.forward(x).flatten(2).transpose(1, 2).add(this.posEmbed);
    const latents = this.latentTokens.expand([B, -1, -1]);
    const out = this.run(cat([patches, latents], 1));
    return this.head.forward(out.narrow(1, this.patches, this.options.numLatentTokens));
  }
}

/**
 * Decoder: `decoder_embed` (linear D → width) + `latent_pos_embed` on the N
 * quantized tokens, preceded by P copies of `mask_token` + `pos_embed`;
 * `blocks`, `norm`, then `head` (linear to p·p·C) on the mask-token outputs,
 * folded into the image.
 */
export class VitDecoder extends VitTrunk {
  readonly decoderEmbed: Linear;
  readonly maskToken: Tensor;
  readonly posEmbed: Tensor;
  readonly latentPosEmbed: Tensor;
  readonly head: Linear;

  constructor(options: VitOptions) {
    super(options);
    const { width, codeDim, numLatentTokens, patchSize, imageChannels } = options;
    this.decoderEmbed = this.child('decoder_embed', new Linear(codeDim, width));
    this.maskToken = this.param('mask_token', learned(1, width));
    this.posEmbed = this.param('pos_embed', learned(this.patches, width));
    this.latentPosEmbed = this.param('latent_pos_embed', learned(numLatentTokens, width));
    this.head = this.child('head', new Linear(width, patchSize * patchSize * imageChannels));
  }

  /** `[B, N, D]` quantized tokens → `[B, C, H, W]` image. */
  forward(tokens: Tensor): Tensor {
    const { numLatentTokens: N, codeDim: D, imageSize, patchSize: p, imageChannels: C } = this.options;
    if (tokens.ndim !== 3 || tokens.size(1) !== N || tokens.size(2) !== D) {
      throw new Error(`ViT decoder expects [B, ${N}, ${D}] (numLatentTokens, codeDim), got [${tokens.shape}]`);
    }
    const B = tokens.size(0);
    const masks = this.maskToken.add(this.posEmbed).expand([B, -1, -1]);
    const latents = this.decoderEmbed.forward(tokens).add(this.latentPosEmbed);
    return unpatchify(this.head.forward(this.run(cat([masks, latents], 1)).narrow(1, 0, this.patches)), imageSize, p, C);
  }
}

/**
 * MAE's unpatchify: `[B, h·w, p·p·C] → [B, h, w, p, p, C] → [B, C, h, p, w, p] → [B, C, H, W]`,
 * each patch's p·p·C outputs laid out row, column, channel.
 */
export function unpatchify(patches: Tensor, imageSize: number, patchSize: number, channels: number): Tensor {
  const [B] = patches.shape as [number];
  const g = imageSize / patchSize;
  return patches.reshape(B, g, g, patchSize, patchSize, channels).permute(0, 5, 1, 3, 2, 4).reshape(B, channels, imageSize, imageSize);
}
