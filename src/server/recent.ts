// A map bounded by the total weight of its values (bytes, or 1 each), that
// forgets the least recently used entries past its capacity — never the one
// just stored, so a single value over the capacity is still kept, alone.
// Uploads, prepared test splits and loaded models are all kept this way.

export class RecentMap<V> {
  readonly #entries = new Map<string, { value: V; weight: number }>();
  #total = 0;

  constructor(
    readonly capacity: number,
    readonly weigh: (value: V) => number = () => 1,
    /** Called for each value forgotten (e.g. to free a model's tensors). */
    readonly forget: (value: V) => void = () => {},
  ) {}

  /** The value under `key`, now the most recently used. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);  // re-inserted: Map order is recency order
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    const weight = this.weigh(value);
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#total -= old.weight;
    }
    this.#entries.set(key, { value, weight });
    this.#total += weight;
    for (const [oldKey, entry] of this.#entries) {
      if (this.#total <= this.capacity || oldKey === key) break;
      this.#entries.delete(oldKey);
      this.#total -= entry.weight;
      this.forget(entry.value);
    }
  }

  /** Keys held, least recently used first. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  get total(): number {
    return this.#total;
  }

  clear(): void {
    for (const { value } of this.#entries.values()) this.forget(value);
    this.#entries.clear();
    this.#total = 0;
  }
}
