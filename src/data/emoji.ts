// Emoji from the npm packages emoji-datasource-google and -twitter: 64×64
// PNGs (skin-tone variants included), the metadata's categories as classes.
// The split is by emoji code point, so one emoji's drawings from both
// vendors (and all its skin tones) land in the same split: a test image is
// never a recolouring of a training image.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprintFiles } from './fingerprint.js';
import { packageDir } from './package_dir.js';
import { hashUnit } from './rng.js';
import { type DatasetLoader, type FileSplit, type SplitName, applyLimit } from './source.js';

const vendors = ['google', 'twitter'] as const;
/** Fixed so that the split never moves between runs or machines. */
const splitSeed = 2509;
const testFraction = 0.1;

interface EmojiEntry {
  unified: string;
  image: string;
  category: string;
  skin_variations?: Record<string, { unified: string; image: string } & Record<string, unknown>>;
  [key: string]: unknown;
}

interface Item {
  file: string;
  label: number;
  /** The base emoji's code point: the unit of the split. */
  group: string;
}

function listVendor(vendor: (typeof vendors)[number], classes: string[]): Item[] {
  const dir = packageDir(`emoji-datasource-${vendor}`, 'emoji');
  const entries = JSON.parse(readFileSync(path.join(dir, 'emoji.json'), 'utf8')) as EmojiEntry[];
  const items: Item[] = [];
  const flag = `has_img_${vendor}`;
  for (const entry of entries) {
    let label = classes.indexOf(entry.category);
    if (label < 0) label = classes.push(entry.category) - 1;
    const variants = [entry, ...Object.values(entry.skin_variations ?? {})];
    for (const variant of variants) {
      if (variant[flag] !== true) continue;
      const file = path.join(dir, 'img', vendor, '64', variant.image);
      if (existsSync(file)) items.push({ file, label, group: entry.unified });
    }
  }
  return items;
}

/** Keeps the first of byte-identical files (some variants reuse one drawing). */
function dropDuplicates(items: Item[]): Item[] {
  const seen = new Set<string>();
  return items.filter(({ file }) => {
    const digest = createHash('sha1').update(readFileSync(file)).digest('hex');
    if (seen.has(digest)) return false;
    seen.add(digest);
    return true;
  });
}

export const emoji: DatasetLoader = {
  name: 'emoji',
  description: 'Google and Twitter emoji, 64×64 RGB on white, categories as classes, seeded 90/10 split (npm emoji-datasource-*)',
  async open(_argument, options) {
    const categoriesFile = path.join(packageDir('emoji-datasource-google', 'emoji'), 'categories.json');
    const classes = Object.keys(JSON.parse(readFileSync(categoriesFile, 'utf8')) as object);
    const items = dropDuplicates(vendors.flatMap((vendor) => listVendor(vendor, classes)));
    const splits: Partial<Record<SplitName, FileSplit>> = {};
    for (const split of ['train', 'test'] as const) {
      const all = items.filter((item) => (hashUnit(item.group, splitSeed) < testFraction) === (split === 'test'));
      const chosen = all.slice(0, applyLimit(all.length, options.limit));
      const files = chosen.map((item) => item.file);
      splits[split] = { kind: 'files', total: all.length, labels: Int32Array.from(chosen, (item) => item.label), files, fingerprint: fingerprintFiles(files) };
    }
    return { name: 'emoji', classes, splits, defaults: { size: 64, fit: 'resize', channels: 3, padValue: 255 } };
  },
};
