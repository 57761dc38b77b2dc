// Random numbers: the global seed, independent generators, and the
// generator state that training checkpoints save for exact resume.
import { native as N } from './native.js';
import { type TensorOptions, dtypeArg, finish } from './creation.js';
import { Tensor, wrap } from './tensor.js';

/**
 * Mulberry32 on the host: a fast 32-bit-state stream of floats in [0, 1), for
 * draws that must not touch libtorch's generators (data order, bootstrap
 * resampling, test inputs), so that they stay put when a model draws more.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent CPU random stream (torch.Generator), seeded explicitly. */
export class Generator {
  /** @internal Read by the addon. */
  readonly _gen: unknown;
  constructor(seed: number) {
    this._gen = N.newGenerator(seed);
  }
  manualSeed(seed: number): this {
    N.generatorSeed(this, seed);
    return this;
  }
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** Seeds the global CPU (and CUDA) generators. */
export const manualSeed = (seed: number): void => N.manualSeed(seed);

/** Uniform on [0, 1). */
export const rand = (shape: number[], options: RandomOptions = {}): Tensor =>
  finish(wrap(N.rand(shape, dtypeArg(options), options.device, options.generator)), options);
/** Standard normal. */
export const randn = (shape: number[], options: RandomOptions = {}): Tensor =>
  finish(wrap(N.randn(shape, dtypeArg(options), options.device, options.generator)), options);
/** Integers uniform on [low, high); int64 unless a dtype is given. */
export const randint = (low: number, high: number, shape: number[], options: RandomOptions = {}): Tensor =>
  wrap(N.randint(low, high, shape, dtypeArg(options), options.device, options.generator));
/** A random permutation of 0..n−1 (int64). */
export const randperm = (n: number, options: RandomOptions = {}): Tensor =>
  wrap(N.randperm(n, dtypeArg(options), options.device, options.generator));
/** `numSamples` indices per row of `probabilities` `[..., K]`. */
export const multinomial = (probabilities: Tensor, numSamples: number, replacement = false, generator?: Generator): Tensor =>
  wrap(N.multinomial(probabilities.handle, numSamples, replacement, generator));
/** 0/1 draws: with probability `p` (shaped like `like`), or per element of `like` as probabilities. */
export const bernoulli = (like: Tensor, p?: number, generator?: Generator): Tensor =>
  wrap(N.bernoulli(like.handle, p, generator));
/** Fills in place with U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1, generator?: Generator): Tensor {
  N.uniform_(t.handle, low, high, generator);
  return t;
}
/** Fills in place with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  N.normal_(t.handle, mean, std, generator);
  return t;
}

/** The generator's full state (uint8), to save in a checkpoint. */
export const getRngState = (generator?: Generator): Tensor => wrap(N.getRngState(generator));
export function setRngState(state: Tensor, generator?: Generator): void {
  if (state.dtype !== 'uint8') throw new TypeError(`an RNG state is a uint8 tensor, got ${state.dtype}`);
  N.setRngState(state.handle, generator);
}

export const randLike = (t: Tensor, options: RandomOptions = {}): Tensor => rand(t.shape, { dtype: t.dtype, device: t.device, ...options });
export const randnLike = (t: Tensor, options: RandomOptions = {}): Tensor => randn(t.shape, { dtype: t.dtype, device: t.device, ...options });
