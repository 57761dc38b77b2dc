// The page's entry: tabs, the runs view, and the two labs, fed the run list.
import { byId } from './dom.js';
import { GeneratorLab } from './generator_lab.js';
import { RunsView } from './runs_view.js';
import { TokenizerLab } from './tokenizer_lab.js';

function showTab(name: string): void {
  for (const tab of document.querySelectorAll<HTMLElement>('[data-tab]')) tab.classList.toggle('active', tab.dataset.tab === name);
  for (const page of document.querySelectorAll<HTMLElement>('main > section.page')) page.hidden = page.id !== name;
  history.replaceState(null, '', `#${name}`);
}

for (const tab of document.querySelectorAll<HTMLElement>('[data-tab]')) tab.addEventListener('click', () => showTab(tab.dataset.tab!));
showTab(['runs', 'tokenizer-lab', 'generator-lab'].includes(location.hash.slice(1)) ? location.hash.slice(1) : 'runs');

const runs = new RunsView();
const tokenizerLab = new TokenizerLab();
const generatorLab = new GeneratorLab();
runs.onRuns = (list) => {
  tokenizerLab.setRuns(list);
  generatorLab.setRuns(list);
};
runs.start().then(() => byId('page-status').textContent = 'connected', (error: unknown) => byId('page-status').textContent = `cannot reach the server: ${String(error)}`);
