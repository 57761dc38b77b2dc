// Dataset names to loaders. A new dataset is one file exporting a
// DatasetLoader plus its line in `builtins` below.
import { emoji } from './emoji.js';
import { fashionMnist } from './fashion_mnist.js';
import { folder } from './folder.js';
import { mnist } from './mnist.js';
import type { Dataset, DatasetLoader, OpenOptions } from './source.js';

const builtins: DatasetLoader[] = [fashionMnist, mnist, emoji, folder];
const loaders = new Map<string, DatasetLoader>(builtins.map((l) => [l.name, l]));

/** Adds a loader (for datasets defined outside robustok); names must be new. */
export function registerDataset(loader: DatasetLoader): void {
  if (loaders.has(loader.name)) throw new Error(`dataset '${loader.name}' is already registered`);
  loaders.set(loader.name, loader);
}

export const listDatasets = (): DatasetLoader[] => [...loaders.values()];

/** Opens `fashion-mnist`, `mnist`, `emoji`, `folder:PATH`, ... */
export function openDataset(spec: string, options: OpenOptions = {}): Promise<Dataset> {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const loader = loaders.get(name);
  if (!loader || (colon >= 0) !== (loader.prefix === true)) {
    const known = listDatasets().map((l) => (l.prefix ? `${l.name}:PATH` : l.name)).join(', ');
    return Promise.reject(new Error(`unknown dataset '${spec}'; known: ${known}`));
  }
  return loader.open(colon < 0 ? '' : spec.slice(colon + 1), options);
}
