// A user's image folder, `folder:PATH`, read by one rule:
// - Splits: PATH/train and PATH/test, when both are folders, are the train
//   and test splits; otherwise PATH's images are split: a seeded 10% slice
//   (at most 1,000; none below 10 images) is held out as the test split and
//   the rest is train (held_out.ts).
// - Classes: in a split folder, every sub-folder that holds images, at any
//   depth beneath it, is a class named after that sub-folder; images lying
//   directly in the split folder form one more class, named after PATH. A
//   folder without sub-folders is therefore a single class. Classes sort by
//   name; sub-folders without images are not classes.
// - Images are .png, .jpg, .jpeg and .webp files; names starting with '.'
//   (.DS_Store, .git) are passed over. Anything else that is not read (other
//   files, and with splits whatever lies beside train/ and test/) is counted
//   in one warning that names the first few: never a silent subset.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fingerprintFiles } from './fingerprint.js';
import { HELD_OUT_SEED, heldOutIndices } from './held_out.js';
import { type Dataset, type DatasetLoader, type FileSplit, type SplitName, applyLimit } from './source.js';

const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp']);
const extensionList = [...imageExtensions].join(', ');
const isImage = (name: string): boolean => imageExtensions.has(path.extname(name).toLowerCase());
const isDir = (p: string): boolean => statSync(p).isDirectory();
const SHOWN = 3;

/** `dir`'s entries (paths) in name order, hidden ones left out. */
const entries = (dir: string): string[] =>
  readdirSync(dir).filter((n) => !n.startsWith('.')).sort().map((n) => path.join(dir, n));

/** What a folder holds at any depth: images, and files that are not (folders linked into themselves are read once). */
function walk(dir: string, found: { images: string[]; other: string[] }, seen = new Set<string>()): typeof found {
  const real = realpathSync(dir);
  if (seen.has(real)) return found;
  seen.add(real);
  for (const entry of entries(dir)) {
    if (isDir(entry)) walk(entry, found, seen);
    else (isImage(entry) ? found.images : found.other).push(entry);
  }
  return found;
}

interface Scan {
  /** Class name → its image files, in path order; classes in name order. */
  byClass: Map<string, string[]>;
  /** Files that were not read because they are not images. */
  other: string[];
}

/** One split folder under the rule above; `looseClass` names the images lying directly in it. */
function scan(dir: string, looseClass: string): Scan {
  const byClass = new Map<string, string[]>();
  const other: string[] = [];
  const add = (name: string, files: string[]): void => void byClass.set(name, [...(byClass.get(name) ?? []), ...files]);
  for (const entry of entries(dir)) {
    if (isDir(entry)) {
      const found = walk(entry, { images: [], other });
      if (found.images.length > 0) add(path.basename(entry), found.images);
    } else if (isImage(entry)) {
      add(looseClass, [entry]);
    } else {
      other.push(entry);
    }
  }
  return { byClass: new Map([...byClass].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), other };
}

/** A split folder's images in class order, with their labels; none is an error naming the folder. */
function listImages(root: string, name: string, classes: string[], { byClass, other }: Scan): { files: string[]; labels: number[] } {
  const files: string[] = [];
  const labels: number[] = [];
  for (const [className, list] of byClass) {
    for (const file of list) {
      files.push(file);
      labels.push(classes.indexOf(className));
    }
  }
  if (files.length === 0) {
    const others = other.length ? ` (it has ${other.length} other file${other.length === 1 ? '' : 's'}, e.g. ${path.relative(root, other[0]!)})` : '';
    throw new Error(`${name} holds no images (${extensionList}), neither directly nor in sub-folders${others}: add images or point at the right folder`);
  }
  return { files, labels };
}

function split(classes: string[], { files, labels }: { files: string[]; labels: number[] }, limit: number | undefined): FileSplit {
  const n = applyLimit(files.length, limit);
  const chosen = files.slice(0, n);
  const chosenLabels = Int32Array.from(labels.slice(0, n));
  // The cache stores labels, so its key covers them: they hang on the whole class list (a class added to train/ renumbers test/'s).
  const fingerprint = createHash('sha256').update(fingerprintFiles(chosen)).update(JSON.stringify(classes)).update(chosenLabels).digest('hex');
  return { kind: 'files', total: files.length, labels: chosenLabels, files: chosen, fingerprint };
}

/** A folder without train/ and test/: its images less a held-out slice (held_out.ts) as train, the slice as test. */
function splitHeldOut(images: { files: string[]; labels: number[] }): { train: typeof images; test: typeof images } | null {
  const held = new Set(heldOutIndices(images.files.length));
  if (held.size === 0) return null;
  const part = (keep: (i: number) => boolean) => ({ files: images.files.filter((_, i) => keep(i)), labels: images.labels.filter((_, i) => keep(i)) });
  return { train: part((i) => !held.has(i)), test: part((i) => held.has(i)) };
}

/** "N files (a, b, c, …)" relative to `root`. */
function listed(root: string, files: readonly string[], what: string): string {
  const shown = files.slice(0, SHOWN).map((f) => path.relative(root, f)).join(', ');
  return `${files.length} ${what}${files.length === 1 ? '' : 's'} (${shown}${files.length > SHOWN ? ', …' : ''})`;
}

export const folder: DatasetLoader = {
  name: 'folder',
  prefix: true,
  description: 'your images: PATH/train and PATH/test as splits when both exist, else a seeded 10% of the images held out as test; ' +
    'each sub-folder with images (at any depth) ' +
    'is a class, images directly in PATH one more class named after PATH; other files are left out with a warning',
  async open(argument, options) {
    const root = path.resolve(argument);
    const name = `folder:${argument}`;
    if (argument === '') throw new Error('folder: give a path, as folder:PATH');
    if (!existsSync(root)) throw new Error(`${name}: ${root} does not exist; give an existing folder of images`);
    if (!isDir(root)) throw new Error(`${name}: ${root} is not a folder; give the folder that holds the images`);
    const looseClass = path.basename(root) || 'images';
    const [train, test] = [path.join(root, 'train'), path.join(root, 'test')];
    const hasSplits = existsSync(train) && isDir(train) && existsSync(test) && isDir(test);
    const splitDirs: [SplitName, string][] = hasSplits ? [['train', train], ['test', test]] : [['train', root]];
    const scans = splitDirs.map(([which, dir]) => [which, scan(dir, looseClass)] as const);
    const classes = [...new Set(scans.flatMap(([, s]) => [...s.byClass.keys()]))].sort();
    const splits: Partial<Record<SplitName, FileSplit>> = {};
    const images = scans.map(([which, s]) => [which, listImages(root, hasSplits ? `${name} (${which}/)` : name, classes, s)] as const);
    const held = hasSplits ? null : splitHeldOut(images[0]![1]);
    for (const [which, list] of held ? Object.entries(held) as [SplitName, typeof held.train][] : images) splits[which] = split(classes, list, options.limit);

    // Everything not read is counted, so a folder never turns silently into a subset of itself.
    const warn = options.warn ?? ((message: string) => console.warn(message));
    const other = scans.flatMap(([, s]) => s.other);
    const beside = hasSplits ? walk(root, { images: [], other: [] }, new Set([realpathSync(train), realpathSync(test)])) : null;
    if (beside && beside.images.length > 0) {
      warn(`robustok: ${name}: left out ${listed(root, beside.images, 'image')} beside train/ and test/, which are the splits; ` +
        'move them into train/ or test/ to use them');
    }
    other.push(...(beside?.other ?? []));
    if (other.length > 0) {
      warn(`robustok: ${name}: left out ${listed(root, other, 'file')} that ${other.length === 1 ? 'is' : 'are'} not ${extensionList} images`);
    }
    const dataset: Dataset = {
      name, classes, splits, defaults: { size: 64, fit: 'resize', channels: 3, padValue: 255 },
      ...(held ? { heldOut: { count: held.test.files.length, seed: HELD_OUT_SEED } } : {}),
    };
    return dataset;
  },
};
