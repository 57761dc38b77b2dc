// The Tokenizer lab: one image through one or two tokenizers — the image as
// the tokenizer sees it, its clean reconstruction, the reconstruction from
// perturbed tokens at the α, δ and seed of the controls, and the token-id
// grid. Hovering a token shows its code and the code's nearest codes;
// clicking it cycles it through its δ nearest codes. Both tokenizers get
// the same settings, so the same perturbation draw (see the server's
// tokenizer_lab.ts).
import type { ReconstructAnswer, RunEntry } from '../src/server/api_types.js';
import { ApiError, call, latestOnly } from './api.js';
import { byId, fill, h } from './dom.js';

type Image = { test: number } | { upload: string };

export class TokenizerLab {
  #image: Image = { test: 0 };
  /** Per panel: token index → rank among its nearest codes, from clicks. */
  readonly #overrides: Map<number, number>[] = [new Map(), new Map()];
  readonly #neighbours = new Map<string, string>();
  readonly #update = latestOnly(() => this.#draw());

  constructor() {
    for (const id of ['tok-a', 'tok-b', 'alpha', 'delta', 'seed', 'test-index']) {
      byId(id).addEventListener('input', () => {
        if (id === 'test-index') this.#image = { test: Number(byId<HTMLInputElement>('test-index').value) };
        if (id === 'tok-a' || id === 'tok-b' || id === 'delta' || id === 'test-index') this.#overrides.forEach((o) => o.clear());
        this.#showValues();
        this.#update(undefined);
      });
    }
    byId<HTMLInputElement>('upload').addEventListener('change', () => void this.#upload());
    this.#showValues();
  }

  /** Offers the trained tokenizers; draws once one exists. */
  setRuns(runs: RunEntry[]): void {
    const tokenizers = runs.filter((r) => r.kind.endsWith('tokenizer') && r.status === 'done').map((r) => r.id);
    for (const [id, blank] of [['tok-a', null], ['tok-b', '— none —']] as const) {
      const select = byId<HTMLSelectElement>(id);
      const keep = select.value;
      fill(select, blank !== null ? h('option', { value: '' }, blank) : null, ...tokenizers.map((t) => h('option', { value: t }, t)));
      if (keep && tokenizers.includes(keep)) select.value = keep;
    }
    if (tokenizers.length > 0) this.#update(undefined);
  }

  #showValues(): void {
    byId('alpha-value').textContent = Number(byId<HTMLInputElement>('alpha').value).toFixed(2);
    byId('delta-value').textContent = byId<HTMLInputElement>('delta').value;
  }

  async #upload(): Promise<void> {
    const file = byId<HTMLInputElement>('upload').files?.[0];
    if (!file) return;
    try {
      const { upload } = await call('POST /api/upload', { body: file });
      this.#image = { upload };
      this.#overrides.forEach((o) => o.clear());
      byId('image-source').textContent = `uploaded: ${file.name}`;
      this.#update(undefined);
    } catch (error) {
      this.#say(error);
    }
  }

  #say(error: unknown): void {
    byId('lab-status').textContent = error instanceof ApiError ? `${error.status}: ${error.message}` : String(error);
    byId('lab-status').classList.add('error');
  }

  async #draw(): Promise<void> {
    const runs = [byId<HTMLSelectElement>('tok-a').value, byId<HTMLSelectElement>('tok-b').value].filter((r) => r !== '');
    if (runs.length === 0) return;
    const settings = {
      image: this.#image,
      alpha: Number(byId<HTMLInputElement>('alpha').value),
      delta: Number(byId<HTMLInputElement>('delta').value),
      seed: Number(byId<HTMLInputElement>('seed').value),
    };
    try {
      const results = await Promise.all(runs.map((run, i) => call('POST /api/tokenizer/reconstruct', {
        body: { run, ...settings, overrides: [...this.#overrides[i]!].map(([index, rank]) => ({ index, rank })) },
      })));
      fill(byId('lab-panels'), ...results.map((r, i) => this.#panel(runs[i]!, i, r)));
      byId<HTMLInputElement>('delta').max = String(Math.min(...results.map((r) => r.codebookSize)));
      byId('lab-status').classList.remove('error');
      byId('lab-status').textContent = `updated in ${results.map((r) => `${r.serverMs.toFixed(0)} ms`).join(' + ')} on the server (model ${results.map((r) => `${r.ms.toFixed(0)} ms`).join(' + ')})`;
      if ('test' in this.#image) byId('image-source').textContent = `test image ${this.#image.test}`;
    } catch (error) {
      this.#say(error);
    }
  }

  #panel(run: string, slot: number, r: ReconstructAnswer): HTMLElement {
    const [rows, columns] = r.grid;
    const image = (kind: keyof ReconstructAnswer['images'], title: string) =>
      h('figure', {}, h('img', { id: `img-${kind}-${slot}`, class: 'pixelated', src: r.images[kind], alt: title }), h('figcaption', {}, title));
    const cells = r.ids.map((id, index) => {
      const now = r.perturbedIds[index]!;
      const rank = r.candidates[index]!.indexOf(now);
      return h('div', {
        class: `token${now !== id ? ' changed' : ''}${this.#overrides[slot]!.has(index) ? ' clicked' : ''}`,
        'data-index': index,
        title: `row ${Math.floor(index / columns)}, column ${index % columns}: code ${id}${now !== id ? ` → ${now} (its nearest code no. ${rank})` : ''}`,
        onmouseenter: () => void this.#hover(run, index, columns, id, now),
        onclick: () => {
          const overrides = this.#overrides[slot]!;
          overrides.set(index, ((overrides.get(index) ?? rank) + 1) % r.candidates[index]!.length);
          this.#update(undefined);
        },
      }, now);
    });
    return h('section', { class: 'panel', 'data-run': run },
      h('h3', {}, run),
      h('div', { class: 'images' }, image('original', 'input'), image('clean', 'clean reconstruction'), image('perturbed', 'perturbed tokens')),
      h('div', { class: 'token-grid', style: `grid-template-columns: repeat(${columns}, 1fr)`, 'data-rows': rows }, ...cells),
      h('p', { class: 'hint' }, `${r.perturbedIds.filter((id, i) => id !== r.ids[i]).length} of ${r.ids.length} tokens differ from the encoder's codes`));
  }

  async #hover(run: string, index: number, columns: number, code: number, now: number): Promise<void> {
    const key = `${run}/${now}`;
    if (!this.#neighbours.has(key)) {
      try {
        const { metric, neighbours } = await call('GET /api/tokenizer/neighbours', { query: { run, code: now, count: 6 } });
        // Ranked by the codebook's metric, as the perturbation ranks a token's candidates; the number shown is the cosine.
        const by = metric === 'cosine' ? 'cosine' : 'Euclidean distance (cosine shown)';
        this.#neighbours.set(key, `${by}: ${neighbours.map((n) => `${n.code} (${n.cosine.toFixed(2)})`).join(', ')}`);
      } catch (error) {
        return this.#say(error);
      }
    }
    byId('token-info').textContent = `${run} · token row ${Math.floor(index / columns)}, column ${index % columns}: code ${code}` +
      `${now !== code ? ` → ${now}` : ''} · nearest codes of ${now} by ${this.#neighbours.get(key)}`;
  }
}
