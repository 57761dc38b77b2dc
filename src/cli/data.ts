// `robustok data list` and `robustok data info NAME [--grid FILE] [--size N] [--limit N] [--no-cache] [--strict]`.
import { existsSync } from 'node:fs';
import { cacheEntry, listDatasets, openDataset, prepareSplit, splitNames, writeGrid } from '../data/index.js';
import { readFlags } from './flags.js';

export const dataUsage = `usage: robustok data list
       robustok data info NAME [--grid FILE] [--size N] [--limit N] [--no-cache] [--strict]

NAME: fashion-mnist, mnist, emoji or folder:PATH. info counts samples per
split and class and reports the cache; --grid writes a PNG of training samples;
--strict makes an image that does not decode an error (naming the first few)
instead of a skip with a warning (it reads the files: no cache).`;

interface InfoFlags {
  grid?: string;
  size?: number;
  limit?: number;
  noCache: boolean;
  strict: boolean;
}

function parseFlags(args: string[]): InfoFlags {
  const flags: InfoFlags = { noCache: false, strict: false };
  readFlags(args, dataUsage, (flag, read) => {
    if (flag === '--grid') flags.grid = read.value();
    else if (flag === '--size') flags.size = read.integer();
    else if (flag === '--limit') flags.limit = read.integer();
    else if (flag === '--no-cache') flags.noCache = true;
    else if (flag === '--strict') flags.strict = true;
    else return false;
    return true;
  });
  return flags;
}

async function info(name: string, flags: InfoFlags): Promise<void> {
  const dataset = await openDataset(name, { limit: flags.limit });
  // Strict decodes every file (a cached split would hide which ones fail).
  const options = { preprocess: flags.size ? { size: flags.size } : {}, cache: flags.noCache || flags.strict ? (false as const) : undefined, strict: flags.strict };
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
    if (split === 'train' && flags.grid) {
      const shown = await writeGrid(prepared, flags.grid);
      console.error(`wrote ${shown} samples to ${flags.grid}`);
    }
  }
  const config = { ...dataset.defaults, ...options.preprocess };
  console.log(JSON.stringify({ name: dataset.name, classes: dataset.classes, resolution: `${config.channels}×${config.size}×${config.size}`, fit: config.fit, splits }, null, 2));
}

export async function dataCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    for (const loader of listDatasets()) console.log(`${(loader.prefix ? `${loader.name}:PATH` : loader.name).padEnd(16)} ${loader.description}`);
  } else if (sub === 'info' && rest[0] && !rest[0].startsWith('--')) {
    await info(rest[0], parseFlags(rest.slice(1)));
  } else {
    throw new Error(dataUsage);
  }
}
