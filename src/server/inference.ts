// The request thread's handle on the inference worker: `call` posts a
// request and resolves with the worker's answer; a 4xx the worker raised
// comes back as the same HttpError. A worker that dies (out of memory, a
// native crash) fails the requests it held with a 500 and is started again
// on the next call, so the server keeps serving.
import { Worker } from 'node:worker_threads';
import type { Device } from '../torch/index.js';
import { HttpError } from './http_error.js';
import type { LabOp, LabOps, LabReply, LabRequest } from './lab_protocol.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class InferenceWorker {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(readonly cacheBytes: number, readonly device: Device = 'cpu') {}

  /** Starts the worker now (it loads libtorch), so the first request does not wait for it. */
  start(): void {
    if (this.#worker) return;
    const worker = new Worker(new URL('./inference_worker.js', import.meta.url), { workerData: { cacheBytes: this.cacheBytes, device: this.device } });
    worker.on('message', (reply: LabReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if ('error' in reply) pending.reject(new HttpError(reply.error.status, reply.error.message));
      else pending.resolve(reply.result);
    });
    const fail = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      for (const p of this.#pending.values()) p.reject(new HttpError(500, `the inference worker stopped (${why}); try again`));
      this.#pending.clear();
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    worker.unref();  // an idle worker does not keep the process alive; the server does
    this.#worker = worker;
  }

  call<O extends LabOp>(op: O, args: LabOps[O][0]): Promise<LabOps[O][1]> {
    this.start();
    const request: LabRequest<O> = { id: this.#nextId++, op, args };
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker!.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker) await worker.terminate();
  }
}
