// Random numbers: the global seed, independent seeded streams (each a
// torch.Generator), and the stream state that training checkpoints save for
// exact resume.
import { native as N } from './native.js';
import { type TensorOptions, dtypeArg, finish, onDevice } from './creation.js';
import { placed } from './device_audit.js';
import { dtypeCode } from './dtype.js';
import { type Device, Tensor, wrap } from './tensor.js';

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

/**
 * A seeded torch.Generator: an independent CPU random stream. Named for what
 * it is so that it is never confused with the autoregressive generator
 * (ArGenerator, src/generator/).
 */
export class RandomStream {
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
  stream?: RandomStream;
}

/** Seeds the global CPU (and CUDA) generators. */
export const manualSeed = (seed: number): void => N.manualSeed(seed);

/**
 * A RandomStream lives on the CPU, and CUDA kernels refuse a CPU generator. A
 * seeded draw for another device is therefore made on the CPU and copied
 * over: the run's named streams (rng_state.ts) give the same numbers on every
 * device, and CPU draws are exactly what they were. Unseeded draws (the
 * global generator) are made on the device itself.
 */
function seeded(device: Device | undefined, stream: RandomStream | undefined, draw: (device: Device | undefined) => Tensor): Tensor {
  if (stream === undefined || device === undefined || device === null || device === 'cpu') return draw(device);
  const host = draw('cpu');
  try {
    return host.to(device);
  } finally {
    host.dispose();
  }
}

/** Uniform on [0, 1). */
export const rand = (shape: number[], options: RandomOptions = {}): Tensor =>
  finish(seeded(placed(options.device, 'rand'), options.stream, (device) => wrap(N.rand(shape, dtypeArg(options), device, options.stream))), options);
/** Standard normal. */
export const randn = (shape: number[], options: RandomOptions = {}): Tensor =>
  finish(seeded(placed(options.device, 'randn'), options.stream, (device) => wrap(N.randn(shape, dtypeArg(options), device, options.stream))), options);
/** Integers uniform on [low, high); int64 unless a dtype is given. */
export const randint = (low: number, high: number, shape: number[], options: RandomOptions = {}): Tensor =>
  seeded(placed(options.device, 'randint'), options.stream, (device) => wrap(N.randint(low, high, shape, dtypeArg(options), device, options.stream)));
/** A random permutation of 0..n−1 (int64). */
export const randperm = (n: number, options: RandomOptions = {}): Tensor =>
  seeded(placed(options.device, 'randperm'), options.stream, (device) => wrap(N.randperm(n, dtypeArg(options), device, options.stream)));
/** `numSamples` indices per row of `probabilities` `[..., K]`, on their device. */
export const multinomial = (probabilities: Tensor, numSamples: number, replacement = false, stream?: RandomStream): Tensor =>
  seeded(probabilities.device, stream, (device) => {
    const p = onDevice(probabilities, device!);
    try {
      return wrap(N.multinomial(p.handle, numSamples, replacement, stream));
    } finally {
      if (p !== probabilities) p.dispose();
    }
  });
/** 0/1 draws on `like`'s device: with probability `p` (shaped like `like`), or per element of `like` as probabilities. */
export const bernoulli = (like: Tensor, p?: number, stream?: RandomStream): Tensor =>
  seeded(like.device, stream, (device) => {
    if (device === like.device) return wrap(N.bernoulli(like.handle, p, stream));
    // With p given only like's shape and dtype matter, so no values are copied.
    const host = p === undefined ? like.to(device!) : wrap(N.zeros(like.shape, dtypeCode(like.dtype), device));
    try {
      return wrap(N.bernoulli(host.handle, p, stream));
    } finally {
      host.dispose();
    }
  });
/** Fills `t` in place with a draw made by `fill` on a tensor of its shape (on the CPU for a seeded draw elsewhere). */
function fillSeeded(t: Tensor, stream: RandomStream | undefined, fill: (target: Tensor) => void): Tensor {
  if (stream === undefined || t.device === 'cpu') {
    fill(t);
    return t;
  }
  const host = wrap(N.empty(t.shape, dtypeCode(t.dtype), 'cpu'));
  try {
    fill(host);
    t.copy_(host);
  } finally {
    host.dispose();
  }
  return t;
}
/** Fills in place with U(low, high). */
export const uniform_ = (t: Tensor, low = 0, high = 1, stream?: RandomStream): Tensor =>
  fillSeeded(t, stream, (target) => N.uniform_(target.handle, low, high, stream));
/** Fills in place with N(mean, std²). */
export const normal_ = (t: Tensor, mean = 0, std = 1, stream?: RandomStream): Tensor =>
  fillSeeded(t, stream, (target) => N.normal_(target.handle, mean, std, stream));

/** The stream's full state (uint8; the global generator's without one), to save in a checkpoint. */
export const getRngState = (stream?: RandomStream): Tensor => wrap(N.getRngState(stream));
export function setRngState(state: Tensor, stream?: RandomStream): void {
  if (state.dtype !== 'uint8') throw new TypeError(`an RNG state is a uint8 tensor, got ${state.dtype}`);
  N.setRngState(state.handle, stream);
}

export const randLike = (t: Tensor, options: RandomOptions = {}): Tensor => rand(t.shape, { dtype: t.dtype, device: t.device, ...options });
export const randnLike = (t: Tensor, options: RandomOptions = {}): Tensor => randn(t.shape, { dtype: t.dtype, device: t.device, ...options });
