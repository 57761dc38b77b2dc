// Multi-head attention (Vaswani et al., 2017) with timm's layout and names
// (`qkv`, `proj`, `q_norm`, `k_norm`), so ViT checkpoints map one to one.
// Self- or cross-attention, optional QK-norm (Dehghani et al., 2023), causal
// masking, rotary positions (rotary.ts), and a KV cache for autoregressive sampling (docs/method.md §5).
import { F, type Tensor, empty, noGrad, ones } from '../torch/index.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { LayerNorm } from './norm.js';
import { type Rotary, applyRotary } from './rotary.js';

export interface AttentionOptions {
  heads: number;
  /** Bias on the q/k/v projections (timm's qkv_bias, default true). */
  qkvBias?: boolean;
  /** LayerNorm on queries and keys per head: steadier logits at scale. */
  qkNorm?: boolean;
  /** Width of the context for cross-attention; absent = self-attention. */
  contextDim?: number;
  /** Dropout on the attention weights in training. */
  dropout?: number;
}

/**
 * Keys and values of earlier positions, `[B, H, S, hd]`, grown one call at a
 * time so each new token attends to all before it without recomputing them.
 * They are written into buffers with room for `capacity` positions (doubled
 * when full), so a step copies only its own keys, not the whole prefix as a
 * concatenation would (N²/2 positions copied per layer over a grid of N).
 * For inference: the writes are not recorded by autograd. Its buffers
 * outlive scopes; dispose the cache when sampling ends.
 */
export class KVCache {
  #k: Tensor | null = null;
  #v: Tensor | null = null;
  #length = 0;

  /** `capacity`: the positions to make room for at the first append (a sampler's sequence length). */
  constructor(readonly capacity = 0) {}

  get length(): number {
    return this.#length;
  }
  /** Appends `[B, H, N, hd]` keys/values; returns views of all of them so far. */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const n = k.size(2);
    const end = this.#length + n;
    noGrad(() => {
      if (!this.#k || end > this.#k.size(2)) {
        const room = Math.max(this.capacity, 2 * end);
        this.#k = this.#grown(this.#k, k, room);
        this.#v = this.#grown(this.#v, v, room);
      }
      this.#k.narrow(2, this.#length, n).copy_(k);
      this.#v!.narrow(2, this.#length, n).copy_(v);
    });
    this.#length = end;
    return [this.#k!.narrow(2, 0, end), this.#v!.narrow(2, 0, end)];
  }
  /** A buffer like `like` with room for `room` positions, holding `old`'s first `length` (kept; `old` disposed). */
  #grown(old: Tensor | null, like: Tensor, room: number): Tensor {
    const [B, H, , hd] = like.shape as [number, number, number, number];
    const next = empty([B, H, room, hd], { dtype: like.dtype, device: like.device }).keep();
    if (old) {
      next.narrow(2, 0, this.#length).copy_(old.narrow(2, 0, this.#length));
      old.dispose();
    }
    return next;
  }
  dispose(): void {
    this.#k?.dispose();
    this.#v?.dispose();
    this.#k = this.#v = null;
    this.#length = 0;
  }
}

export interface AttentionCall {
  /** `[B, M, contextDim]` for cross-attention. */
  context?: Tensor;
  /** Boolean (true = may attend) or additive mask, broadcast to `[B, H, N, S]`. */
  attnMask?: Tensor;
  /** Each position attends only to itself and earlier ones (offset by the cache). */
  causal?: boolean;
  cache?: KVCache;
  /** Rotary angles of this call's positions (`[N, hd/2]`), applied to q and k after QK-norm, before caching. */
  rotary?: Rotary;
}

export class Attention extends Module {
  readonly headDim: number;
  readonly qkv: Linear | null;
  readonly q: Linear | null;
  readonly kv: Linear | null;
  readonly qNorm: LayerNorm | null;
  readonly kNorm: LayerNorm | null;
  readonly proj: Linear;

  constructor(readonly dim: number, readonly options: AttentionOptions) {
    super();
    const { heads } = options;
    if (dim % heads !== 0) throw new Error(`Attention: width ${dim} does not split into ${heads} heads`);
    this.headDim = dim / heads;
    const bias = options.qkvBias ?? true;
    const cross = options.contextDim !== undefined;
    this.qkv = cross ? null : this.child('qkv', new Linear(dim, 3 * dim, { bias }));
    this.q = cross ? this.child('q', new Linear(dim, dim, { bias })) : null;
    this.kv = cross ? this.child('kv', new Linear(options.contextDim!, 2 * dim, { bias })) : null;
    this.qNorm = options.qkNorm ? this.child('q_norm', new LayerNorm(this.headDim)) : null;
    this.kNorm = options.qkNorm ? this.child('k_norm', new LayerNorm(this.headDim)) : null;
    this.proj = this.child('proj', new Linear(dim, dim));
  }

  /** `[B, N, D] → [B, N, D]` */
  forward(x: Tensor, call: AttentionCall = {}): Tensor {
    const [B, N] = x.shape as [number, number, number];
    const { heads } = this.options;
    // [B, L, parts·D] → parts × [B, H, L, hd]
    const splitHeads = (t: Tensor, parts: number): Tensor[] =>
      t.reshape(B, t.size(1), parts, heads, this.headDim).permute(2, 0, 3, 1, 4).chunk(parts, 0).map((p) => p.squeeze(0));
    let q: Tensor, k: Tensor, v: Tensor;
    if (this.qkv) {
      [q, k, v] = splitHeads(this.qkv.forward(x), 3) as [Tensor, Tensor, Tensor];
    } else {
      if (!call.context) throw new Error('cross-attention needs a context');
      [q] = splitHeads(this.q!.forward(x), 1) as [Tensor];
      [k, v] = splitHeads(this.kv!.forward(call.context), 2) as [Tensor, Tensor];
    }
    if (this.qNorm && this.kNorm) {
      q = this.qNorm.forward(q);
      k = this.kNorm.forward(k);
    }
    if (call.rotary) {
      q = applyRotary(q, call.rotary);
      k = applyRotary(k, call.rotary);
    }
    const offset = call.cache?.length ?? 0;
    if (call.cache) [k, v] = call.cache.append(k, v);
    let mask = call.attnMask ?? null;
    let isCausal = false;
    if (call.causal) {
      if (offset === 0 && !mask) {
        isCausal = true;
      } else if (N === 1 && !mask) {
        // One new query after the cached keys: it may see all of them, so no mask is needed (the sampling hot path).
      } else {
        // query i (absolute position offset + i) sees keys 0..offset + i
        const causal = ones([N, k.size(2)], { dtype: 'bool', device: x.device }).tril(offset);
        mask = mask ? (mask.dtype === 'bool' ? mask.logicalAnd(causal) : mask.maskedFill(causal.logicalNot(), -Infinity)) : causal;
      }
    }
    const out = F.scaledDotProductAttention(q, k, v, {
      attnMask: mask, isCausal, dropoutP: this.training ? this.options.dropout ?? 0 : 0,
    });
    return this.proj.forward(out.transpose(1, 2).reshape(B, N, this.dim));
  }
}
