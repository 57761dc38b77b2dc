// A user's image folder: `PATH/<class>/*.png|jpg|jpeg|webp` (classes sorted by
// name), or images directly in PATH (one class). `PATH/train` and `PATH/test`,
// when both exist, are the splits; otherwise everything is `train`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fingerprintFiles } from './fingerprint.js';
import { type Dataset, type DatasetLoader, type FileSplit, type SplitName, applyLimit } from './source.js';

const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp']);
const isImage = (name: string): boolean => imageExtensions.has(path.extname(name).toLowerCase());
const sortedEntries = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
const isDir = (p: string): boolean => statSync(p).isDirectory();

/** Class folders and their files, or one unnamed class for a flat folder. */
function scan(root: string): Map<string, string[]> {
  const classDirs = sortedEntries(root).filter((n) => isDir(path.join(root, n)));
  const byClass = new Map<string, string[]>();
  if (classDirs.length === 0) {
    byClass.set(path.basename(root), sortedEntries(root).filter(isImage).map((n) => path.join(root, n)));
  } else {
    for (const name of classDirs) {
      const dir = path.join(root, name);
      byClass.set(name, sortedEntries(dir).filter(isImage).map((n) => path.join(dir, n)));
    }
  }
  return byClass;
}

function split(root: string, classes: string[], byClass: Map<string, string[]>, limit: number | undefined): FileSplit {
  const files: string[] = [];
  const labels: number[] = [];
  for (const [name, list] of byClass) {
    for (const file of list) {
      files.push(file);
      labels.push(classes.indexOf(name));
    }
  }
  if (files.length === 0) {
    throw new Error(`folder:${root} holds no images (.png, .jpg, .jpeg, .webp), neither directly nor in class sub-folders: add images or point at the right folder`);
  }
  const n = applyLimit(files.length, limit);
  const chosen = files.slice(0, n);
  return { kind: 'files', total: files.length, labels: Int32Array.from(labels.slice(0, n)), files: chosen, fingerprint: fingerprintFiles(chosen) };
}

export const folder: DatasetLoader = {
  name: 'folder',
  prefix: true,
  description: 'your images, one sub-folder per class (or flat); PATH/train and PATH/test as splits when present',
  async open(argument, options) {
    const root = path.resolve(argument);
    if (argument === '') throw new Error('folder: give a path, as folder:PATH');
    if (!existsSync(root)) throw new Error(`folder:${argument}: ${root} does not exist; give an existing folder of images`);
    if (!isDir(root)) throw new Error(`folder:${argument}: ${root} is not a folder; give the folder that holds the images`);
    const splitRoots: Partial<Record<SplitName, string>> =
      existsSync(path.join(root, 'train')) && existsSync(path.join(root, 'test'))
        ? { train: path.join(root, 'train'), test: path.join(root, 'test') }
        : { train: root };
    const scans = Object.entries(splitRoots).map(([name, dir]) => [name as SplitName, dir, scan(dir)] as const);
    const classes = [...new Set(scans.flatMap(([, , byClass]) => [...byClass.keys()]))].sort();
    const splits: Partial<Record<SplitName, FileSplit>> = {};
    for (const [name, dir, byClass] of scans) splits[name] = split(dir, classes, byClass, options.limit);
    const dataset: Dataset = { name: `folder:${argument}`, classes, splits, defaults: { size: 64, fit: 'resize', channels: 3, padValue: 255 } };
    return dataset;
  },
};
