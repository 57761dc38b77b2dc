// Collectives between processes, over libtorch's c10d (native/src/distributed.cc):
// the process groups PyTorch's DistributedDataParallel runs on, Gloo on CPU
// and NCCL for CUDA tensors when libtorch has it. Every rank calls the same
// collectives in the same order, as in torch.distributed.
//
// A collective returns a Work at once; `wait()` blocks until it is done, so a
// caller can launch several (gradient buckets) and wait for them together.
import { native as N } from './native.js';
import { dtypeCode, dtypeName } from './dtype.js';
import { tensor } from './creation.js';
import { type Device, Tensor, wrapAll } from './tensor.js';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

export interface DistributedAvailability {
  /** Backends this addon can create; empty when it was built without process groups. */
  backends: Backend[];
  /** Why there are none (missing headers at build time), when there are none. */
  reason?: string;
}

/** What this build of the addon offers. */
export function distributedAvailability(): DistributedAvailability {
  return N.distAvailability() as DistributedAvailability;
}

/** Throws, saying why, when this addon cannot create `backend` process groups. */
export function requireDistributed(backend: Backend = 'gloo'): void {
  const { backends, reason } = distributedAvailability();
  if (backends.includes(backend)) return;
  throw new Error(`distributed training (${backend}) is unavailable in this build of the robustok addon: ` +
    (reason ?? `this libtorch offers ${backends.join(', ') || 'no backend'}`));
}

/** Where the ranks meet: a TCP store that rank 0 serves, or a file every rank can reach. */
export type Rendezvous = { kind: 'tcp'; host: string; port: number } | { kind: 'file'; path: string };

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  rendezvous: Rendezvous;
  /** Default gloo. */
  backend?: Backend;
  /** Where the group's own small tensors (the ranks' shape checks) live: the rank's GPU for NCCL, which reduces device tensors only. Default cpu. */
  device?: Device;
  /** Rendezvous and every collective fail after this long. Default 300 s. */
  timeoutMs?: number;
}

/** A launched collective. */
export class Work {
  /** @internal */
  constructor(private readonly handle: unknown, private readonly onDone: (gathered: Tensor[] | undefined) => Tensor[] | undefined = (g) => g) {}

  get isCompleted(): boolean {
    return N.distIsCompleted(this.handle) as boolean;
  }

  /** Blocks until done (or `timeoutMs`, then throws); an allGather's result: one tensor per rank. */
  wait(timeoutMs?: number): Tensor[] | undefined {
    const handles = N.distWait(this.handle, timeoutMs ?? null);
    return this.onDone(handles === undefined ? undefined : wrapAll(handles));
  }
}

/** Checks done before each collective unless the caller knows the shapes agree (`checkShapes: false`). */
export interface CollectiveOptions {
  checkShapes?: boolean;
}

/** Fixed-size description of a list of tensors, gathered to compare ranks: count, dtype, numel, ndim, 8 dims. */
const DESCRIPTOR = 12;

function describe(tensors: Tensor[]): BigInt64Array {
  const d = new BigInt64Array(DESCRIPTOR);
  const first = tensors[0];
  d[0] = BigInt(tensors.length);
  d[1] = BigInt(first ? dtypeCode(first.dtype) : -1);
  d[2] = BigInt(tensors.reduce((n, t) => n + t.numel, 0));
  d[3] = BigInt(first?.shape.length ?? 0);
  first?.shape.slice(0, 8).forEach((s, i) => { d[4 + i] = BigInt(s); });
  return d;
}

function descriptorText(d: BigInt64Array): string {
  const dims = Array.from(d.subarray(4, 4 + Math.min(8, Number(d[3]))), Number);
  return `${d[0]} tensor(s), ${d[1] < 0n ? '?' : dtypeName(Number(d[1]))}, first [${dims.join(', ')}], ${d[2]} elements`;
}

export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: Backend;
  readonly device: Device;
  readonly #handle: unknown;

  private constructor(handle: unknown, o: Required<Pick<ProcessGroupOptions, 'rank' | 'worldSize' | 'backend' | 'device'>>) {
    this.#handle = handle;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.backend = o.backend;
    this.device = o.device;
  }

  /** Meets the other ranks (blocking) and creates the group. */
  static init(options: ProcessGroupOptions): ProcessGroup {
    const { rank, worldSize, rendezvous, backend = 'gloo', timeoutMs = 300_000, device = 'cpu' } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1) throw new RangeError(`world size must be a positive integer, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new RangeError(`rank must be an integer in [0, ${worldSize}), got ${rank}`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    if (backend === 'nccl' && device === 'cpu') throw new Error('an nccl process group reduces GPU tensors: give it the rank\'s device (cuda:N)');
    if (rendezvous.kind === 'tcp' && !(Number.isInteger(rendezvous.port) && rendezvous.port > 0 && rendezvous.port < 65536)) {
      throw new RangeError(`rendezvous port must be an integer in 1..65535, got ${rendezvous.port}`);
    }
    requireDistributed(backend);
    const store = rendezvous.kind === 'tcp' ? { store: 'tcp', host: rendezvous.host, port: rendezvous.port } : { store: 'file', path: rendezvous.path };
    const handle = N.distNewGroup({ ...store, backend, rank, worldSize, timeoutMs });
    return new ProcessGroup(handle, { rank, worldSize, backend, device });
  }

  /** Reduces `tensors` in place over all ranks (`avg`: the sum divided by the world size). */
  allReduce(tensors: Tensor | Tensor[], op: ReduceOp = 'sum', options: CollectiveOptions = {}): Work {
    const list = this.#checked('allReduce', tensors, options);
    return new Work(N.distAllReduce(this.#handle, list.map((t) => t.handle), op));
  }

  /** Copies rank `root`'s `tensors` into every rank's, in place. */
  broadcast(tensors: Tensor | Tensor[], root = 0, options: CollectiveOptions = {}): Work {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize) throw new RangeError(`broadcast: root must be a rank in [0, ${this.worldSize}), got ${root}`);
    const list = this.#checked('broadcast', tensors, options);
    return new Work(N.distBroadcast(this.#handle, list.map((t) => t.handle), root));
  }

  /** Every rank's `input`, in rank order (its wait() returns them; the caller disposes them). */
  allGather(input: Tensor, options: CollectiveOptions = {}): Work {
    const [t] = this.#checked('allGather', input, options);
    return new Work(N.distAllGather(this.#handle, t!.handle));
  }

  /** Returns once every rank has reached it (wait()). */
  barrier(): Work {
    return new Work(N.distBarrier(this.#handle));
  }

  /**
   * Averages the gradients of `params` while backward runs (PyTorch DDP's
   * overlap): see GradientReducer. `buckets` lists parameter indices, each
   * parameter in one bucket, in the order the buckets are to be launched
   * (the order backward reaches them: the last layers first). Every rank must
   * pass the same parameters and buckets.
   */
  gradientReducer(params: Tensor[], buckets: number[][]): GradientReducer {
    this.#checked('gradientReducer', params, {});
    return new GradientReducer(N.distReducerNew(this.#handle, params.map((t) => t.handle), buckets));
  }

  /** Leaves the group; its collectives fail afterwards. */
  destroy(): void {
    N.distDestroyGroup(this.#handle);
  }

  /**
   * The tensors as a list, after checking that every rank passes the same
   * count, dtype and shapes: a mismatch would otherwise hang in the backend
   * until the timeout, or mix unrelated values.
   */
  #checked(op: string, tensors: Tensor | Tensor[], options: CollectiveOptions): Tensor[] {
    const list = Array.isArray(tensors) ? tensors : [tensors];
    if (list.length === 0) throw new Error(`${op}: no tensors given`);
    const notDense = list.findIndex((t) => !t.isContiguous());
    if (notDense >= 0) throw new Error(`${op}: tensor ${notDense} is not contiguous; pass t.contiguous()`);
    if (options.checkShapes === false || this.worldSize === 1) return list;
    const mine = describe(list);
    const local = tensor(mine, { shape: [DESCRIPTOR], device: this.device });
    const gathered = new Work(N.distAllGather(this.#handle, local.handle)).wait()!;
    local.dispose();
    const all = gathered.map((t) => t.toTypedArray() as BigInt64Array);
    gathered.forEach((t) => t.dispose());
    if (all.every((d) => d.every((v, i) => v === mine[i]))) return list;
    const lines = all.map((d, r) => `rank ${r}: ${descriptorText(d)}`).join('; ');
    throw new Error(`${op}: the tensors differ across ranks (${lines}); every rank must pass the same shapes and dtypes`);
  }
}

/**
 * Gradient averaging overlapped with backward (native/src/grad_reducer.cc):
 * hooks on the parameters' gradient accumulators launch each bucket's
 * all-reduce as soon as backward has produced all of its gradients, so the
 * communication of the last layers runs while backward computes the first.
 * `arm()` before a backward, `finish()` after it.
 */
export class GradientReducer {
  /** @internal */
  constructor(private readonly handle: unknown) {}

  /** The next backward's gradients are to be averaged. */
  arm(): void {
    N.distReducerArm(this.handle);
  }

  /**
   * Launches the buckets backward left, waits, and writes the means into
   * `.grad`; says how many gradients it averaged and how many buckets were
   * already launched during backward (the overlap).
   */
  finish(): { gradients: number; bucketsDuringBackward: number } {
    return N.distReducerFinish(this.handle) as { gradients: number; bucketsDuringBackward: number };
  }

  /** Removes the hooks. */
  dispose(): void {
    N.distReducerDispose(this.handle);
  }
}
