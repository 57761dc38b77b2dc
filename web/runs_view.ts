// The Runs page: every run under --runs, and the selected one's curves,
// results, sample grids and config. Polls the list every 2 s; a run whose
// metrics.jsonl moved (one still training) is fetched and redrawn.
import type { RunEntry } from '../src/server/api_types.js';
import { call, routeUrl } from './api.js';
import { byId, fill, h } from './dom.js';
import { metricCharts } from './plot.js';

const POLL_MS = 2000;

export class RunsView {
  runs: RunEntry[] = [];
  #selected: string | null = null;
  #shownUpdate = -1;
  /** Told when the list changes, so the labs can offer the runs. */
  onRuns: (runs: RunEntry[]) => void = () => {};

  async start(): Promise<void> {
    await this.refresh();
    setInterval(() => void this.refresh().catch(() => {}), POLL_MS);
  }

  async refresh(): Promise<void> {
    const { runs, root } = await call('GET /api/runs');
    const changed = JSON.stringify(runs) !== JSON.stringify(this.runs);
    this.runs = runs;
    if (changed) {
      byId('runs-root').textContent = root;
      this.#drawList();
      this.onRuns(runs);
    }
    const selected = runs.find((r) => r.id === this.#selected) ?? runs[0];
    if (selected && (selected.id !== this.#selected || selected.updated !== this.#shownUpdate)) await this.select(selected.id);
  }

  #drawList(): void {
    fill(byId('runs-list'), ...this.runs.map((r) => h('li', { 'data-run': r.id, class: r.id === this.#selected ? 'selected' : undefined, onclick: () => void this.select(r.id) },
      h('span', { class: 'run-id' }, r.id), ' ', h('span', { class: 'kind' }, r.kind), ' ', h('span', { class: `status ${r.status}` }, r.status))));
    if (this.runs.length === 0) fill(byId('runs-list'), h('li', {}, 'no runs yet: train one with robustok train-tokenizer --out DIR inside --runs'));
  }

  async select(id: string): Promise<void> {
    this.#selected = id;
    const entry = this.runs.find((r) => r.id === id);
    this.#shownUpdate = entry?.updated ?? -1;
    for (const li of byId('runs-list').querySelectorAll('li')) li.classList.toggle('selected', li.dataset.run === id);
    const run = await call('GET /api/run', { query: { run: id } });
    const live = entry?.status === 'training' ? h('span', { class: 'status training' }, 'training — updating live') : null;
    fill(byId('run-detail'),
      h('h2', {}, run.id, ' ', h('span', { class: 'kind' }, run.kind), ' ', live),
      run.metrics.length > 0 ? h('section', {}, h('h3', {}, `Curves (${run.metrics.length} logged steps)`), h('div', { class: 'charts' }, ...metricCharts(run.metrics))) : null,
      run.images.length > 0 ? h('section', {}, h('h3', {}, 'Sample grids'), h('div', { class: 'grids' },
        ...run.images.map((name) => h('figure', {}, h('img', { src: routeUrl('GET /api/run/file', { run: id, file: name }), alt: name, class: 'grid' }), h('figcaption', {}, name))))) : null,
      ...Object.entries(run.results).map(([name, value]) => h('details', { open: name !== 'tokenizer.json' && name !== 'generator.json' }, h('summary', {}, name), h('pre', {}, JSON.stringify(value, null, 2)))),
      run.config ? h('details', {}, h('summary', {}, 'config.json'), h('pre', {}, JSON.stringify(run.config, null, 2))) : null);
  }
}
