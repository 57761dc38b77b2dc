// Models the labs use, loaded once per run folder and kept while they fit
// a memory bound: the size of their weight files, which is what they hold
// in memory (float32 as saved). Past the bound the least recently used are
// disposed; one model larger than the bound still works, alone.
import { statSync } from 'node:fs';
import { RecentMap } from './recent.js';

interface Loaded {
  model: { dispose(): void };
  bytes: number;
}

export class ModelCache {
  readonly #models: RecentMap<Loaded>;

  constructor(readonly limitBytes: number) {
    this.#models = new RecentMap<Loaded>(limitBytes, (m) => m.bytes, (m) => m.model.dispose());
  }

  /**
   * The model stored under `key` (kind + folder), loaded by `load` on a miss;
   * `weights` is the file whose size counts against the bound.
   */
  get<M extends { dispose(): void }>(key: string, weights: string, load: () => M): M {
    const hit = this.#models.get(key);
    if (hit) return hit.model as M;
    const model = load();
    this.#models.set(key, { model, bytes: statSync(weights).size });
    return model;
  }

  /** Keys of the models held, most recently used last. */
  keys(): string[] {
    return this.#models.keys();
  }

  /** Bytes of weights held. */
  get bytes(): number {
    return this.#models.total;
  }

  clear(): void {
    this.#models.clear();
  }
}
