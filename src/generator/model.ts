// The class-conditional autoregressive generator (docs/method.md §5): a
// decoder-only transformer that reads a tokenizer's token grid in raster
// order and predicts each token from the class and the tokens before it, as
// LlamaGen and RAR do. Input position 0 holds the class embedding; input
// position p ≥ 1 holds token p − 1, so the output at position p predicts
// token p and N inputs predict all N tokens. One extra class embedding, the
// null class, stands for "no class": class dropout trains it, and
// classifier-free guidance contrasts it with the real class.
//
// State-dict names: tok_emb, cls_emb, pos_emb, blocks.i.{norm1,attn,norm2,mlp},
// norm, head (absent with tied weights, where the output layer reuses tok_emb).
import { Embedding, KVCache, LayerNorm, Linear, Module, ModuleList, type Rotary, TransformerBlock, init } from '../nn/index.js';
import { F, type Tensor, cat, empty, tensor, tidy } from '../torch/index.js';

export interface GeneratorOptions {
  /** K, the tokenizer's codebook size: the vocabulary. */
  vocabSize: number;
  /** C, the dataset's classes; id C is the null class. */
  numClasses: number;
  /** The token grid [h, w]; N = h·w tokens per image. */
  grid: [number, number];
  width: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  /** Dropout on embeddings, attention weights and MLP outputs in training. */
  dropout: number;
  /** LayerNorm on queries and keys per head (Dehghani et al., 2023). */
  qkNorm: boolean;
  /** The output layer shares the token embedding's weights (Press & Wolf, 2017). */
  tieWeights: boolean;
  /** Learned absolute positions (GPT-2), or 2-D rotary angles over the grid (LlamaGen). */
  positions: 'learned' | 'rope2d';
  /** Base of the rotary frequencies (10,000 as in RoFormer). */
  ropeBase: number;
}

export function checkGeneratorOptions(o: GeneratorOptions): void {
  for (const key of ['vocabSize', 'numClasses', 'width', 'depth', 'heads'] as const) {
    if (!(Number.isInteger(o[key]) && o[key] >= 1)) throw new RangeError(`generator: ${key} must be a positive integer, got ${o[key]}`);
  }
  const [h, w] = o.grid;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1)) throw new RangeError(`generator: grid must be two positive integers, got [${o.grid}]`);
  if (o.width % o.heads !== 0) throw new RangeError(`generator: width ${o.width} does not split into ${o.heads} heads`);
  if (o.positions !== 'learned' && o.positions !== 'rope2d') throw new RangeError(`generator: positions must be 'learned' or 'rope2d', got ${JSON.stringify(o.positions)}`);
  if (!(o.mlpRatio > 0)) throw new RangeError(`generator: mlpRatio must be > 0, got ${o.mlpRatio}`);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw new RangeError(`generator: dropout must be in [0, 1), got ${o.dropout}`);
  if (!(o.ropeBase > 0)) throw new RangeError(`generator: ropeBase must be > 0, got ${o.ropeBase}`);
  if (typeof o.qkNorm !== 'boolean' || typeof o.tieWeights !== 'boolean') throw new RangeError('generator: qkNorm and tieWeights must be true or false');
  if (o.positions === 'rope2d' && (o.width / o.heads) % 4 !== 0) {
    throw new RangeError(`generator: 2-D RoPE splits each head into row and column pairs, so the head width (${o.width / o.heads}) must be a multiple of 4`);
  }
}

/**
 * Rotary angles of the N input positions for a 2-D grid: position 0 (the
 * class) gets no rotation; position p ≥ 1 holds token p − 1 at row r and
 * column c, and the first half of each head's pairs turn with r, the second
 * half with c. Returns `[N, hd/2]` cos and sin tables.
 */
export function rope2dTables(grid: [number, number], headDim: number, base: number): Rotary {
  const [h, w] = grid;
  const quarter = headDim / 4;
  const freqs = Array.from({ length: quarter }, (_, j) => base ** (-j / quarter));
  const angles: number[][] = [new Array<number>(headDim / 2).fill(0)];  // the class position
  for (let token = 0; token < h * w - 1; token++) {
    const [r, c] = [Math.floor(token / w), token % w];
    angles.push([...freqs.map((f) => r * f), ...freqs.map((f) => c * f)]);
  }
  return tidy(() => {
    const table = tensor(angles, { dtype: 'float64' });
    return { cos: table.cos().to('float32').keep(), sin: table.sin().to('float32').keep() };
  });
}

export class ArGenerator extends Module {
  readonly tokEmb: Embedding;
  readonly clsEmb: Embedding;
  readonly posEmb: Tensor | null;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;
  readonly head: Linear | null;
  readonly #rotary: Rotary | null;

  constructor(readonly options: GeneratorOptions) {
    super();
    checkGeneratorOptions(options);
    const { vocabSize, numClasses, width, depth, heads, mlpRatio, dropout, qkNorm } = options;
    this.tokEmb = this.child('tok_emb', new Embedding(vocabSize, width));
    this.clsEmb = this.child('cls_emb', new Embedding(numClasses + 1, width));
    this.posEmb = options.positions === 'learned' ? this.param('pos_emb', empty([1, this.length, width])) : null;
    this.blocks = this.child('blocks', new ModuleList(Array.from({ length: depth }, () =>
      new TransformerBlock(width, { heads, mlpRatio, qkNorm, dropout, normEps: 1e-5 }))));
    this.norm = this.child('norm', new LayerNorm(width));
    this.head = options.tieWeights ? null : this.child('head', new Linear(width, vocabSize, { bias: false }));
    if (options.positions === 'rope2d') {
      const r = rope2dTables(options.grid, width / heads, options.ropeBase);
      this.#rotary = { cos: this.buffer('rope_cos', r.cos, false)!, sin: this.buffer('rope_sin', r.sin, false)! };
    } else {
      this.#rotary = null;
    }
    this.initWeights();
  }

  /** N, the tokens per image (and the input positions). */
  get length(): number {
    return this.options.grid[0] * this.options.grid[1];
  }

  /** The null class's id, C. */
  get nullClass(): number {
    return this.options.numClasses;
  }

  /**
   * GPT-2's initialisation: weights N(0, 0.02²), biases 0, and the output
   * projections of each residual branch scaled by 1/√(2·depth) so the
   * residual stream's variance does not grow with depth.
   */
  private initWeights(): void {
    const std = 0.02;
    for (const [name, t] of this.namedParameters()) {
      if (name.endsWith('bias')) init.zeros_(t);
      else if (name.includes('norm')) init.ones_(t);
      else if (name.endsWith('proj.weight') || name.endsWith('fc2.weight')) init.truncNormal_(t, std / Math.sqrt(2 * this.options.depth));
      else init.truncNormal_(t, std);
    }
  }

  /**
   * Token ids `[B, N]` checked against the codebook, by name. Called where ids
   * enter (the trainer's token set), not per step: reading min and max back
   * is a device sync, twice a step on a GPU.
   */
  checkIds(ids: Tensor): void {
    const N = this.length;
    if (ids.ndim !== 2 || ids.size(1) !== N) throw new RangeError(`generator: expected token ids [B, ${N}], got [${ids.shape}]`);
    const [low, high] = tidy(() => [ids.min().item(), ids.max().item()]);
    const K = this.options.vocabSize;
    if (low < 0 || high >= K) throw new RangeError(`generator: token ids must be in 0…${K - 1} (the tokenizer's codes), got ${low}…${high}`);
  }

  /**
   * Teacher-forced logits for whole sequences: ids `[B, N]` (int64, in range:
   * see checkIds), labels `[B]` (class ids, or the null class) → `[B, N, K]`,
   * where row p predicts ids[:, p].
   */
  forward(ids: Tensor, labels: Tensor): Tensor {
    const N = this.length;
    if (ids.ndim !== 2 || ids.size(1) !== N) throw new RangeError(`generator: expected token ids [B, ${N}], got [${ids.shape}]`);
    const inputs = cat([this.clsEmb.forward(labels).unsqueeze(1), this.tokEmb.forward(ids.narrow(1, 0, N - 1))], 1);
    return this.run(inputs, 0);
  }

  /** Embeddings of class ids `[B]` → `[B, 1, D]`: the input at position 0. */
  embedClass(labels: Tensor): Tensor {
    return this.clsEmb.forward(labels).unsqueeze(1);
  }

  /** Embeddings of token ids `[B, L]` → `[B, L, D]`. */
  embedTokens(ids: Tensor): Tensor {
    return this.tokEmb.forward(ids);
  }

  /**
   * The transformer over input embeddings `[B, L, D]` at positions
   * start … start + L − 1 → logits `[B, L, K]`. With `caches` (one per
   * block) earlier positions are read from them and these are appended:
   * sampling feeds one position at a time.
   */
  run(inputs: Tensor, start: number, caches?: KVCache[]): Tensor {
    const L = inputs.size(1);
    if (start < 0 || start + L > this.length) throw new RangeError(`generator: positions ${start}…${start + L - 1} outside 0…${this.length - 1}`);
    let x = this.posEmb ? inputs.add(this.posEmb.narrow(1, start, L)) : inputs;
    const p = this.options.dropout;
    if (this.training && p > 0) x = F.dropout(x, p, true);
    const rotary = this.#rotary ? { cos: this.#rotary.cos.narrow(0, start, L), sin: this.#rotary.sin.narrow(0, start, L) } : undefined;
    this.blocks.items.forEach((block, i) => {
      x = block.forward(x, { causal: true, cache: caches?.[i], rotary });
    });
    const h = this.norm.forward(x);
    return this.head ? this.head.forward(h) : F.linear(h, this.tokEmb.weight);
  }

  /** One empty KV cache per block, for `run` one position at a time. */
  newCaches(): KVCache[] {
    return this.blocks.items.map(() => new KVCache(this.length));
  }
}
