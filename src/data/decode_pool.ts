// A fixed pool of decode workers with a shared queue.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest } from './decode_worker.js';
import { ImageSizeError, type PreprocessConfig } from './preprocess.js';

interface Pending {
  resolve: (data: Uint8Array) => void;
  reject: (error: Error) => void;
}

export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private turn = 0;

  constructor(size = Math.max(1, Math.min(8, availableParallelism() - 1))) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./decode_worker.js', import.meta.url));
      worker.on('message', (reply: DecodeReply) => this.settle(reply));
      worker.on('error', (error) => this.failAll(error));
      this.workers.push(worker);
    }
  }

  /** Decodes `file` and preprocesses it to CHW uint8. Rejects with ImageSizeError when it cannot fit. */
  decode(file: string, config: PreprocessConfig): Promise<Uint8Array> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, file, config } satisfies DecodeRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('decode pool closed'));
  }

  private settle(reply: DecodeReply): void {
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    if ('data' in reply) entry.resolve(reply.data);
    else entry.reject(reply.sizeError ? new ImageSizeError(reply.error) : new Error(reply.error));
  }

  private failAll(error: Error): void {
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }
}
