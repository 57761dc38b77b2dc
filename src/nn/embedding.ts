// A lookup table of vectors, as torch.nn.Embedding (initialised N(0, 1)).
import { F, type Tensor, noGrad, randn, tidy } from '../torch/index.js';
import { Module } from './module.js';

export class Embedding extends Module {
  /** `[num, dim]` */
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, readonly options: { paddingIdx?: number } = {}) {
    super();
    this.weight = this.param('weight', randn([numEmbeddings, embeddingDim]));
    const pad = options.paddingIdx;
    if (pad !== undefined) noGrad(() => tidy(() => this.weight.select(0, pad).zero_()));
  }

  /** integer ids `[...] → [..., dim]` */
  forward(ids: Tensor): Tensor {
    return F.embedding(ids, this.weight, this.options.paddingIdx ?? null);
  }
}
