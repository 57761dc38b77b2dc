// Models the labs use, loaded once per run folder and kept while they fit
// a memory bound (the size of their weight files, which is what they hold
// in memory, float32 as saved). Past the bound the least recently used are
// disposed — never the one just asked for, so one model larger than the
// bound still works, alone.
import { statSync } from 'node:fs';

interface Entry {
  model: { dispose(): void };
  bytes: number;
}

export class ModelCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(readonly limitBytes: number) {}

  /**
   * The model stored under `key` (kind + folder), loaded by `load` on a miss;
   * `weights` is the file whose size counts against the bound.
   */
  get<M extends { dispose(): void }>(key: string, weights: string, load: () => M): M {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);  // re-inserted: Map order is recency order
      this.#entries.set(key, hit);
      return hit.model as M;
    }
    const model = load();
    const bytes = statSync(weights).size;
    this.#entries.set(key, { model, bytes });
    this.#bytes += bytes;
    for (const [oldKey, old] of this.#entries) {
      if (this.#bytes <= this.limitBytes || oldKey === key) break;
      old.model.dispose();
      this.#entries.delete(oldKey);
      this.#bytes -= old.bytes;
    }
    return model;
  }

  /** Keys of the models held, most recently used last (for /api/status and tests). */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    for (const { model } of this.#entries.values()) model.dispose();
    this.#entries.clear();
    this.#bytes = 0;
  }
}
