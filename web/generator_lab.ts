// The Generator lab: a class sampled with the chosen CFG scale, schedule,
// temperature, top-k/top-p and seed, its tokens decoded by the generator's
// own tokenizer and, if chosen, a second decoder of the same codebook (the
// post-trained one); and σ-preserving sampling of a test image at the σ
// slider — the tokens post-training teaches the decoder to read.
import type { RunEntry, RunKind } from '../src/server/api_types.js';
import { ApiError, call, latestOnly } from './api.js';
import { byId, fill, h } from './dom.js';

const value = (id: string): string => byId<HTMLInputElement>(id).value;

export class GeneratorLab {
  readonly #sample = latestOnly(() => this.#drawSample());
  readonly #preserved = latestOnly(() => this.#drawPreserved());
  /** Whether the σ preview has been drawn once: the lab opens showing it, not an empty panel. */
  #previewed = false;

  constructor() {
    byId('sample-button').addEventListener('click', () => this.#sample(undefined));
    for (const id of ['sigma', 'sigma-index']) byId(id).addEventListener('input', () => this.#preserved(undefined));
  }

  setRuns(runs: RunEntry[]): void {
    const done = (kinds: RunKind[]) => runs.filter((r) => kinds.includes(r.kind) && r.status === 'done').map((r) => r.id);
    const generators = done(['generator']);
    byId('generator-lab').classList.toggle('empty', generators.length === 0);
    for (const [id, options, blank] of [['gen-run', generators, null], ['gen-decoder-b', done(['tokenizer', 'post-trained tokenizer']), '— none —']] as const) {
      const select = byId<HTMLSelectElement>(id);
      const keep = select.value;
      fill(select, blank ? h('option', { value: '' }, blank) : null, ...options.map((o) => h('option', { value: o }, o)));
      if (keep && (options as readonly string[]).includes(keep)) select.value = keep;
    }
    if (!this.#previewed && generators.length > 0) {
      this.#previewed = true;
      this.#preserved(undefined);
    }
  }

  #settings(): Record<string, unknown> {
    const decoderB = value('gen-decoder-b');
    return {
      run: value('gen-run'),
      // The generator's own tokenizer first (an empty list means just that one).
      decoders: decoderB ? [null, decoderB] : [],
      class: Number(value('gen-class')), cfg: Number(value('gen-cfg')), schedule: value('gen-schedule'),
      temperature: Number(value('gen-temperature')), topK: Number(value('gen-topk')), topP: Number(value('gen-topp')), seed: Number(value('gen-seed')),
    };
  }

  #say(error: unknown): void {
    byId('gen-status').textContent = error instanceof ApiError ? `${error.status}: ${error.message}` : String(error);
    byId('gen-status').classList.add('error');
  }

  #captions(): string[] {
    return ["generator's tokenizer", value('gen-decoder-b')];
  }

  async #drawSample(): Promise<void> {
    try {
      const r = await call('POST /api/generator/sample', { body: this.#settings() });
      const captions = this.#captions();
      fill(byId('gen-samples'), ...r.images.map((src, i) => h('figure', {}, h('img', { src, class: 'pixelated', alt: captions[i]! }), h('figcaption', {}, `${r.className} · ${captions[i]}`))));
      byId('gen-status').classList.remove('error');
      byId('gen-status').textContent = `sampled in ${r.ms.toFixed(0)} ms`;
    } catch (error) {
      this.#say(error);
    }
  }

  async #drawPreserved(): Promise<void> {
    byId('sigma-value').textContent = Number(value('sigma')).toFixed(2);
    const { class: _class, ...settings } = this.#settings();
    try {
      const r = await call('POST /api/generator/preserved', { body: { ...settings, image: { test: Number(value('sigma-index')) }, sigma: Number(value('sigma')) } });
      const captions = this.#captions();
      const kept = r.kept.filter(Boolean).length;
      fill(byId('gen-preserved'),
        ...r.images.flatMap((src, i) => [
          h('figure', {}, h('img', { src: r.truth[i]!, class: 'pixelated', alt: 'ground-truth tokens' }), h('figcaption', {}, `its tokens · ${captions[i]}`)),
          h('figure', {}, h('img', { src, class: 'pixelated', alt: 'σ-tokens' }), h('figcaption', {}, `σ-tokens · ${captions[i]}`)),
        ]),
        h('p', { class: 'hint' }, `${r.className}: ${kept} of ${r.kept.length} tokens kept from the image, the rest drawn by the generator`));
      byId('gen-status').classList.remove('error');
    } catch (error) {
      this.#say(error);
    }
  }
}
