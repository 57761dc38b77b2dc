// `robustok data list` and `robustok data info NAME [--grid FILE] [--size N] [--limit N] [--no-cache] [--strict]`.
import { existsSync } from 'node:fs';
import { cacheEntry, listDatasets, openDataset, prepareSplit, splitNames, writeGrid } from '../data/index.js';
import { type FlagValues, flagLines, flagTable, positiveInteger, readFlags, wantsHelp } from './flags.js';

const flags = flagTable({
  grid: { value: 'FILE', help: 'write a PNG of training samples' },
  size: { value: 'N', help: 'resize the images to N×N (default: the dataset\'s size)', parse: positiveInteger },
  limit: { value: 'N', help: 'load at most N samples of each split', parse: positiveInteger },
  'no-cache': { help: 'read the files, neither using nor writing the cache' },
  strict: { help: 'an image that does not decode is an error (naming the first few), not a skip\nwith a warning (it reads the files: no cache)' },
});

export const dataUsage = `usage: robustok data list
       robustok data info NAME [--grid FILE] [--size N] [--limit N] [--no-cache] [--strict]

NAME: fashion-mnist, mnist, emoji or folder:PATH. info counts samples per
split and class and reports the cache.

${flagLines(flags)}`;

type InfoFlags = FlagValues<typeof flags>;

async function info(name: string, f: InfoFlags): Promise<void> {
  const dataset = await openDataset(name, { limit: f.limit });
  // Strict decodes every file (a cached split would hide which ones fail).
  const options = { preprocess: f.size ? { size: f.size } : {}, cache: f['no-cache'] || f.strict ? (false as const) : undefined, strict: f.strict };
  const splits: Record<string, unknown> = {};
  for (const split of splitNames) {
    const source = dataset.splits[split];
    if (!source) continue;
    const entry = cacheEntry(dataset, split, options);
    const cached = entry !== null && existsSync(entry.file);
    const prepared = await prepareSplit(dataset, split, options);
    const perClass: Record<string, number> = {};
    for (const label of prepared.labels) perClass[dataset.classes[label]!] = (perClass[dataset.classes[label]!] ?? 0) + 1;
    splits[split] = {
      total: source.total, loaded: prepared.count, skipped: prepared.skipped.length, perClass,
      cache: entry ? { file: entry.file, state: cached ? 'hit' : 'written now' } : 'off',
    };
    if (split === 'train' && f.grid) {
      const shown = await writeGrid(prepared, f.grid);
      console.error(`wrote ${shown} samples to ${f.grid}`);
    }
  }
  const config = { ...dataset.defaults, ...options.preprocess };
  console.log(JSON.stringify({ name: dataset.name, classes: dataset.classes, resolution: `${config.channels}×${config.size}×${config.size}`, fit: config.fit, splits }, null, 2));
}

export async function dataCommand(args: string[]): Promise<void> {
  if (wantsHelp(args)) {
    console.log(dataUsage);
    return;
  }
  const [sub, ...rest] = args;
  if (sub === 'list') {
    for (const loader of listDatasets()) console.log(`${(loader.prefix ? `${loader.name}:PATH` : loader.name).padEnd(16)} ${loader.description}`);
  } else if (sub === 'info' && rest[0] && !rest[0].startsWith('--')) {
    await info(rest[0], readFlags(rest.slice(1), flags, dataUsage));
  } else {
    throw new Error(dataUsage);
  }
}
