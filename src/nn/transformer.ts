// Pre-norm transformer block (ViT / GPT-2 style): x + attn(norm1(x)), then
// x + mlp(norm2(x)). timm's names: norm1, attn, norm2, mlp.
import type { Tensor } from '../torch/index.js';
import { Attention, type AttentionCall, type AttentionOptions } from './attention.js';
import { Mlp } from './mlp.js';
import { Module } from './module.js';
import { LayerNorm } from './norm.js';

export interface TransformerBlockOptions extends AttentionOptions {
  /** Hidden width of the MLP as a multiple of dim (4 in ViT). */
  mlpRatio?: number;
  /** LayerNorm ε; 1e-6 as in ViT (PyTorch's own default is 1e-5). */
  normEps?: number;
  dropout?: number;
}

export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(readonly dim: number, options: TransformerBlockOptions) {
    super();
    const eps = options.normEps ?? 1e-6;
    this.norm1 = this.child('norm1', new LayerNorm(dim, { eps }));
    this.attn = this.child('attn', new Attention(dim, options));
    this.norm2 = this.child('norm2', new LayerNorm(dim, { eps }));
    this.mlp = this.child('mlp', new Mlp(dim, Math.round(dim * (options.mlpRatio ?? 4)), { dropout: options.dropout }));
  }

  /** `[B, N, D] → [B, N, D]` */
  forward(x: Tensor, call: AttentionCall = {}): Tensor {
    const h = x.add(this.attn.forward(this.norm1.forward(x), call));
    return h.add(this.mlp.forward(this.norm2.forward(h)));
  }
}
