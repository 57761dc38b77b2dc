// Batches for training: a seeded shuffle per epoch, augmentation, conversion
// to float in [−1, 1], and a few batches assembled ahead of the consumer.
import { tensor } from '../torch/index.js';
import type { Device, Tensor } from '../torch/index.js';
import { type AugmentConfig, augmentSample, validateAugment } from './augment.js';
import type { PreparedSplit } from './cache.js';
import { unitFromByte } from './pixels.js';
import { Rng, mixSeed } from './rng.js';

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (seeded by seed and epoch). Default true. */
  shuffle?: boolean;
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  augment?: Partial<AugmentConfig>;
  /** Batches assembled ahead of the consumer. Default 2. */
  prefetch?: number;
  device?: Device;
  /**
   * Data-parallel training: this process is `rank` of `worldSize`. Step b's
   * global batch is `worldSize × batchSize` consecutive samples of the epoch's
   * order (the same seed on every rank), and each rank takes its own
   * `batchSize` of them, so the ranks together see exactly what one process
   * with the global batch would (PyTorch's DistributedSampler shards too, but
   * by stride). Needs dropLast, so every rank has the same number of batches.
   */
  shard?: { rank: number; worldSize: number };
}

/** Host-side batch: `images` B×C×S×S float32 in [−1, 1], `labels` B int64. */
export interface HostBatch {
  images: Float32Array;
  labels: BigInt64Array;
  /** Positions in the split, in batch order. */
  indices: Uint32Array;
  shape: [number, number, number, number];
}

/** `images` [B, C, S, S] float32 in [−1, 1]; `labels` [B] int64. The consumer disposes them (dispose() or tidy). */
export interface Batch {
  images: Tensor;
  labels: Tensor;
  indices: Uint32Array;
  dispose(): void;
}

export class DataLoader {
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropLast: boolean;
  private readonly augment: AugmentConfig;
  private readonly prefetch: number;
  private readonly device: Device | undefined;
  private readonly shard: { rank: number; worldSize: number };

  constructor(private readonly split: PreparedSplit, options: LoaderOptions) {
    const { batchSize, shuffle = true, seed = 0, dropLast = false, prefetch = 2 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new RangeError(`prefetch must be a non-negative integer, got ${prefetch}`);
    const shard = options.shard ?? { rank: 0, worldSize: 1 };
    if (!Number.isInteger(shard.worldSize) || shard.worldSize < 1 || !Number.isInteger(shard.rank) || shard.rank < 0 || shard.rank >= shard.worldSize) {
      throw new RangeError(`shard must be a rank in [0, worldSize) of a positive worldSize, got rank ${shard.rank} of ${shard.worldSize}`);
    }
    if (shard.worldSize > 1 && !dropLast) throw new RangeError('a sharded loader needs dropLast, so that every rank has as many batches');
    this.shard = shard;
    if (dropLast && split.count < batchSize * shard.worldSize) {
      throw new RangeError(`dropLast with batchSize ${batchSize}${shard.worldSize > 1 ? ` on each of ${shard.worldSize} ranks` : ''} leaves no batch from ${split.count} samples`);
    }
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    this.augment = validateAugment(options.augment);
    this.prefetch = prefetch;
    this.device = options.device;
  }

  get batchesPerEpoch(): number {
    const n = this.split.count / (this.batchSize * this.shard.worldSize);
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The sample order of `epoch`. */
  order(epoch: number): Uint32Array {
    if (!this.shuffle) return Uint32Array.from({ length: this.split.count }, (_, i) => i);
    return new Rng(mixSeed(this.seed, epoch)).permutation(this.split.count);
  }

  /** Batch `b` of `epoch` on the host: the pure function that the iterator prefetches. */
  hostBatch(epoch: number, b: number, order = this.order(epoch)): HostBatch {
    const { channels, size, images, labels } = this.split;
    const start = (b * this.shard.worldSize + this.shard.rank) * this.batchSize;
    const indices = order.subarray(start, Math.min(order.length, start + this.batchSize));
    const sample = channels * size * size;
    const out = new Float32Array(indices.length * sample);
    const outLabels = new BigInt64Array(indices.length);
    indices.forEach((index, k) => {
      const pixels = augmentSample(images.subarray(index * sample, (index + 1) * sample), channels, size, this.augment, this.seed, epoch, index);
      const base = k * sample;
      for (let p = 0; p < sample; p++) out[base + p] = unitFromByte[pixels[p]!]!;
      outLabels[k] = BigInt(labels[index]!);
    });
    return { images: out, labels: outLabels, indices: Uint32Array.from(indices), shape: [indices.length, channels, size, size] };
  }

  /** Batch `b` of `epoch` as tensors, synchronously (evaluation loops; the consumer disposes it). */
  batch(epoch: number, b: number, order?: Uint32Array): Batch {
    return this.#toTensors(this.hostBatch(epoch, b, order));
  }

  #toTensors(host: HostBatch): Batch {
    const images = tensor(host.images, { shape: host.shape, device: this.device });
    const labels = tensor(host.labels, { shape: [host.shape[0]], device: this.device });
    return { images, labels, indices: host.indices, dispose: () => { images.dispose(); labels.dispose(); } };
  }

  /**
   * The batches of `epoch`. While the consumer awaits (or between its steps),
   * up to `prefetch` next batches are assembled on the event loop.
   */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const count = this.batchesPerEpoch;
    const queue: Promise<HostBatch>[] = [];
    let next = 0;
    const schedule = (): void => {
      while (next < count && queue.length <= this.prefetch) {
        const b = next++;
        queue.push(new Promise((resolve, reject) => setImmediate(() => {
          try {
            resolve(this.hostBatch(epoch, b, order));
          } catch (error) {
            reject(error);
          }
        })));
      }
    };
    schedule();
    while (queue.length > 0) {
      const host = await queue.shift()!;
      schedule();
      yield this.#toTensors(host);
    }
  }
}
