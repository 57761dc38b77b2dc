// Pre-norm transformer block (ViT / GPT-2 style): x + attn(norm1(x)), then
// x + mlp(norm2(x)). timm's names: norm1, attn, norm2, mlp, and `ls1`/`ls2`
// when the branches carry a LayerScale (DINOv2's ViTs).
import type { Tensor } from '../torch/index.js';
import { Attention, type AttentionCall, type AttentionOptions } from './attention.js';
import { Mlp } from './mlp.js';
import { Module } from './module.js';
import { LayerScale } from './layer_scale.js';
import { LayerNorm } from './norm.js';

export interface TransformerBlockOptions extends AttentionOptions {
  /** Hidden width of the MLP as a multiple of dim (4 in ViT). */
  mlpRatio?: number;
  /** LayerNorm ε; 1e-6 as in ViT (PyTorch's own default is 1e-5). */
  normEps?: number;
  dropout?: number;
  /** LayerScale's initial factor on both branches (DINOv2: 1e-5); absent = none. */
  layerScale?: number;
}

export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly ls1: LayerScale | null;
  readonly ls2: LayerScale | null;

  constructor(readonly dim: number, options: TransformerBlockOptions) {
    super();
    const eps = options.normEps ?? 1e-6;
    this.norm1 = this.child('norm1', new LayerNorm(dim, { eps }));
    this.attn = this.child('attn', new Attention(dim, options));
    this.norm2 = this.child('norm2', new LayerNorm(dim, { eps }));
    this.mlp = this.child('mlp', new Mlp(dim, Math.round(dim * (options.mlpRatio ?? 4)), { dropout: options.dropout }));
    const scale = options.layerScale;
    this.ls1 = scale === undefined ? null : this.child('ls1', new LayerScale(dim, scale));
    this.ls2 = scale === undefined ? null : this.child('ls2', new LayerScale(dim, scale));
  }

  /** `[B, N, D] → [B, N, D]` */
  forward(x: Tensor, call: AttentionCall = {}): Tensor {
    const attended = this.attn.forward(this.norm1.forward(x), call);
    const h = x.add(this.ls1 ? this.ls1.forward(attended) : attended);
    const mixed = this.mlp.forward(this.norm2.forward(h));
    return h.add(this.ls2 ? this.ls2.forward(mixed) : mixed);
  }
}
