// Data-parallel training, as PyTorch's DistributedDataParallel does it: every
// process (rank) holds the whole model, starts from rank 0's weights, trains
// on its own shard of each batch, and after each backward the gradients are
// averaged over the ranks, so every rank takes the same optimizer step. With
// B samples per rank on W ranks this is one process with batch W·B (for
// losses that are means over the batch, as ours are).
//
// Kept out of models and trainers: the training loop attaches a DataParallel
// to the trainer's checkpoint parts, and gradients are averaged from a hook
// around Tensor.backward (src/torch/backward_hooks.ts): bucket by bucket
// while backward still runs (torch's GradientReducer, the default), or in
// flat buckets once it is done. Rank 0 alone logs, draws samples and
// writes checkpoints.
import { Module } from '../nn/index.js';
import { type Backend, type Device, ProcessGroup, type Tensor, addBackwardHook, cat, noGrad, tensor, tidy } from '../torch/index.js';
import { setNonFiniteAgreement } from './non_finite.js';

/** torchrun's environment for one rank (what `robustok launch` sets). */
export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback?: number): number {
  const text = env[name];
  if (text === undefined || text === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`${name} is not set: start data-parallel runs with \`robustok launch\` (or set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun does)`);
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${text} is not a non-negative integer`);
  return value;
}

/** The rank's environment, or null when WORLD_SIZE is unset or 1 (a single process). */
export function rankEnvFrom(env: NodeJS.ProcessEnv = process.env): RankEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '' || env.WORLD_SIZE === '1') return null;
  const worldSize = intVar(env, 'WORLD_SIZE');
  const rank = intVar(env, 'RANK');
  if (rank >= worldSize) throw new Error(`RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  return {
    rank, worldSize, localRank: intVar(env, 'LOCAL_RANK', rank),
    masterAddr: env.MASTER_ADDR || '127.0.0.1', masterPort: intVar(env, 'MASTER_PORT', 29500),
  };
}

/**
 * How gradients are averaged: `robustok launch [--no-overlap-backward] [--bucket-mb N]`,
 * passed to the ranks as ROBUSTOK_OVERLAP_BACKWARD=0 and ROBUSTOK_BUCKET_MB.
 */
export interface GradientSync {
  /**
   * Launch each bucket's all-reduce while backward runs, as soon as its
   * gradients are ready (PyTorch DDP's way), instead of all of them after
   * backward. Same values either way. On by default, as in DDP: measured
   * (`npm run bench:distributed`, two runs) 1.36–1.48× faster where the
   * all-reduce is as long as backward, and within run-to-run spread where it
   * is negligible (the small preset).
   */
  overlapBackward: boolean;
  /** Bucket size in MiB: one collective per bucket (DDP's bucket_cap_mb, 25). */
  bucketMb: number;
}

export const defaultGradientSync: GradientSync = { overlapBackward: true, bucketMb: 25 };

/** The gradient sync that `robustok launch` asked for in `env`, checked. */
export function gradientSyncFrom(env: NodeJS.ProcessEnv = process.env): GradientSync {
  const overlap = env.ROBUSTOK_OVERLAP_BACKWARD ?? '';
  if (!['', '0', '1'].includes(overlap)) throw new Error(`ROBUSTOK_OVERLAP_BACKWARD=${overlap} must be 0 or 1`);
  const mb = env.ROBUSTOK_BUCKET_MB ? Number(env.ROBUSTOK_BUCKET_MB) : defaultGradientSync.bucketMb;
  if (!(mb > 0 && mb <= 4096)) throw new Error(`ROBUSTOK_BUCKET_MB=${env.ROBUSTOK_BUCKET_MB} must be a number of MiB in (0, 4096]`);
  return { overlapBackward: overlap === '' ? defaultGradientSync.overlapBackward : overlap === '1', bucketMb: mb };
}

/**
 * DDP's first bucket, which backward fills first (the last layers), is
 * small (1 MiB, `first_bucket_bytes_cap`), so that communication starts
 * early in backward rather than after a full 25 MiB.
 */
const FIRST_BUCKET_MB = 1;

export class DataParallel {
  readonly #removeHooks: (() => void)[] = [];
  #shapesChecked = false;
  #modules: Module[] = [];
  #buckets = 0;

  constructor(readonly group: ProcessGroup, readonly sync: GradientSync = defaultGradientSync) {}

  /**
   * Joins the other ranks (blocking until all have arrived). `device`: where
   * this rank trains; on a GPU the ranks talk over NCCL (PyTorch DDP's choice
   * for CUDA tensors), on the CPU over Gloo.
   */
  static init(env: RankEnv, options: { device?: Device; timeoutMs?: number; sync?: GradientSync } = {}): DataParallel {
    const device = options.device ?? 'cpu';
    return new DataParallel(ProcessGroup.init({
      rank: env.rank, worldSize: env.worldSize, backend: backendFor(device), device, timeoutMs: options.timeoutMs,
      rendezvous: { kind: 'tcp', host: env.masterAddr, port: env.masterPort },
    }), options.sync);
  }

  get rank(): number { return this.group.rank; }
  get worldSize(): number { return this.group.worldSize; }
  /** Rank 0 logs, samples and checkpoints. */
  get isMain(): boolean { return this.group.rank === 0; }

  /**
   * Starts data-parallel training of `parts` (a trainer's checkpoint parts):
   * every module's parameters and buffers become rank 0's, and each module's
   * gradients are averaged over the ranks after every backward that touched
   * them. Other state (optimizers, EMA, schedules) is a function of the
   * weights, the gradients and the step, so it stays equal by itself.
   * Loss checks (checkFinite) become collective, so that a non-finite loss
   * on one rank makes every rank skip or stop at that step.
   */
  attach(parts: Record<string, unknown>): void {
    const modules = Object.values(parts).filter((p): p is Module => p instanceof Module);
    this.#modules = modules;
    noGrad(() => {
      for (const m of modules) {
        const tensors = [...m.parameters(), ...m.namedBuffers().map(([, b]) => b)];
        this.#broadcastFlat(tensors);
      }
    });
    for (const m of modules) this.#averageGradients(m.parameters());
    setNonFiniteAgreement((flag) => this.firstRankWhere(flag));
    this.#removeHooks.push(() => setNonFiniteAgreement(null));
  }

  /** One line on how this run averages gradients, for the log (after attach). */
  describe(): string {
    return `data-parallel over ${this.worldSize} ranks (${this.group.backend}): gradients averaged ` +
      `${this.sync.overlapBackward ? 'during backward' : 'after backward'} in ${this.#buckets} bucket(s) of at most ${this.sync.bucketMb} MiB`;
  }

  /**
   * Copies rank 0's buffers of the attached modules (batch norm's running
   * statistics) to every rank, after a step: each rank's forward updated
   * them from its own images. PyTorch's DDP does the same before each
   * forward (broadcast_buffers). One collective when there are buffers,
   * none otherwise.
   */
  syncBuffers(): void {
    const buffers = this.#modules.flatMap((m) => m.namedBuffers().map(([, b]) => b));
    if (buffers.length > 0) noGrad(() => this.#broadcastFlat(buffers, false));  // attach checked their shapes
  }

  /** Means of the numbers in `record` (nested ones too) over the ranks; other fields as they are. */
  averageNumbers<T extends object>(record: T): T {
    const paths: string[][] = [];
    const walk = (o: object, at: string[]) => {
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === 'number') paths.push([...at, k]);
        else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as object, [...at, k]);
      }
    };
    walk(record, []);
    const read = (p: string[]) => p.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], record) as number;
    const values = tensor(Float64Array.from(paths, read), { device: this.group.device });
    this.group.allReduce(values, 'avg').wait();
    const means = values.toTypedArray() as Float64Array;
    values.dispose();
    const out = structuredClone(record) as Record<string, unknown>;
    paths.forEach((p, i) => {
      const parent = p.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, out);
      parent[p[p.length - 1]!] = means[i];
    });
    return out as T;
  }

  /** Whether any rank says yes (a stop asked on one rank stops all at the same step). */
  any(flag: boolean): boolean {
    return this.firstRankWhere(flag) !== null;
  }

  /** The lowest rank that says yes, or null when none does. */
  firstRankWhere(flag: boolean): number | null {
    const t = tensor([flag ? this.rank : this.worldSize], { device: this.group.device });
    this.group.allReduce(t, 'min').wait();
    const first = t.item();
    t.dispose();
    return first < this.worldSize ? first : null;
  }

  get #bucketFloats(): number {
    return mbToFloats(this.sync.bucketMb);
  }

  barrier(): void {
    this.group.barrier().wait();
  }

  /** Removes the gradient hooks and leaves the group. */
  dispose(): void {
    for (const remove of this.#removeHooks) remove();
    this.group.destroy();
  }

  #averageGradients(params: Tensor[]): void {
    // A parameter frozen when training starts (post-training's encoder) has
    // no gradient accumulator to hook: should it get a gradient all the
    // same, it is averaged once backward is done.
    const hooked = this.sync.overlapBackward ? params.filter((p) => p.requiresGrad) : [];
    if (hooked.length > 0) this.#averageDuringBackward(hooked);
    const isHooked = new Set(hooked);
    const rest = params.filter((p) => !isHooked.has(p));
    if (rest.length > 0) this.#averageAfterBackward(rest);
  }

  #averageDuringBackward(params: Tensor[]): void {
    // Backward reaches the parameters roughly in reverse order of registration.
    const reversed = params.map((_, i) => params.length - 1 - i);
    const buckets = bucketsOf(reversed.map((i) => params[i]!), this.#bucketFloats, mbToFloats(Math.min(FIRST_BUCKET_MB, this.sync.bucketMb)))
      .map((bucket) => bucket.map((k) => reversed[k]!));
    const reducer = this.group.gradientReducer(params, buckets);
    this.#buckets += buckets.length;
    this.#removeHooks.push(addBackwardHook({ before: () => reducer.arm(), after: () => { reducer.finish(); } }), () => reducer.dispose());
  }

  #averageAfterBackward(params: Tensor[]): void {
    if (!this.sync.overlapBackward) this.#buckets += bucketsOf(params, this.#bucketFloats).length;
    let before: number[] = [];
    this.#removeHooks.push(addBackwardHook({
      before: () => { before = params.map((p) => p.gradVersion); },
      after: () => {
        // Only gradients this backward wrote (a discriminator's backward leaves the model's alone).
        const touched = params.filter((p, i) => p.gradVersion !== before[i] && p.gradVersion >= 0);
        if (touched.length > 0) this.#allReduceGradients(touched);
      },
    }));
  }

  /**
   * Averages the gradients of `params` in flat buckets: one collective per
   * ~25 MiB instead of one per tensor, all launched before any is waited for.
   */
  #allReduceGradients(params: Tensor[]): void {
    noGrad(() => tidy(() => {
      const grads = params.map((p) => p.grad!);
      const buckets = tensorBuckets(grads, this.#bucketFloats);
      const flats = buckets.map((b) => cat(b.map((g) => g.flatten())));
      const works = flats.map((f) => this.group.allReduce(f, 'avg', { checkShapes: !this.#shapesChecked }));
      this.#shapesChecked = true;
      works.forEach((w) => w.wait());
      buckets.forEach((b, i) => unflattenInto(flats[i]!, b));
    }));
  }

  /** Copies rank 0's values of `tensors` into every rank's, through flat buckets. */
  #broadcastFlat(tensors: Tensor[], checkShapes = true): void {
    tidy(() => {
      for (const bucket of tensorBuckets(tensors, this.#bucketFloats)) {
        const flat = cat(bucket.map((t) => t.flatten()));
        this.group.broadcast(flat, 0, { checkShapes }).wait();
        unflattenInto(flat, bucket);
      }
    });
  }
}

/** The process-group backend for ranks that train on `device`: NCCL between GPUs, Gloo between CPUs. */
export const backendFor = (device: Device): Backend => (device === 'cpu' ? 'gloo' : 'nccl');

const mbToFloats = (mb: number): number => Math.floor((mb * 2 ** 20) / 4);

/**
 * Consecutive groups of tensors of one dtype, as index lists: each at most
 * `capFloats` elements (or one larger tensor); the first at most `firstCapFloats`.
 */
function bucketsOf(tensors: Tensor[], capFloats: number, firstCapFloats = capFloats): number[][] {
  const buckets: number[][] = [];
  let size = 0;
  tensors.forEach((t, i) => {
    const last = buckets[buckets.length - 1];
    const cap = buckets.length === 1 ? firstCapFloats : capFloats;
    if (last && size + t.numel <= cap && tensors[last[0]!]!.dtype === t.dtype) {
      last.push(i);
      size += t.numel;
    } else {
      buckets.push([i]);
      size = t.numel;
    }
  });
  return buckets;
}

/** bucketsOf as the tensors themselves. */
const tensorBuckets = (tensors: Tensor[], capFloats: number): Tensor[][] =>
  bucketsOf(tensors, capFloats).map((bucket) => bucket.map((i) => tensors[i]!));

/** Copies consecutive slices of `flat` `[Σ numel]` back into `tensors`, in place. */
function unflattenInto(flat: Tensor, tensors: Tensor[]): void {
  let offset = 0;
  for (const t of tensors) {
    t.copy_(flat.narrow(0, offset, t.numel).view(t.shape));
    offset += t.numel;
  }
}
