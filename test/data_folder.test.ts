// Folder datasets in a temporary directory: class sub-folders, the reading
// rule for mixed and nested folders (nothing left out silently),
// the cache (hit, invalidated by a touched file or a new size, atomic
// files), and the bad-input cases: corrupt files skipped with one warning or
// rejected under strict, empty and missing folders, images smaller than the crop.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { listDatasets, openDataset, prepareSplit } from '../src/data/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'robustok-data-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A solid `size`×`size` RGB image in `format`. */
async function image(file: string, value: number, size = 16, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.alloc(size * size * 3, value), { raw: { width: size, height: size, channels: 3 } }).toFormat(format).toFile(file);
}

/** `cats/` and `dogs/` with PNG, JPEG and WebP files. */
async function classFolder(name: string): Promise<string> {
  const dir = path.join(root, name);
  await image(path.join(dir, 'cats', 'a.png'), 10);
  await image(path.join(dir, 'cats', 'b.jpg'), 50, 16, 'jpeg');
  await image(path.join(dir, 'dogs', 'c.webp'), 200, 16, 'webp');
  await image(path.join(dir, 'dogs', 'd.png'), 250);
  return dir;
}

test('folder: class sub-folders in name order, PNG/JPEG/WebP decoded, flat folders as one class', async () => {
  const dir = await classFolder('classes');
  const dataset = await openDataset(`folder:${dir}`);
  assert.deepEqual(dataset.classes, ['cats', 'dogs']);
  const prepared = await prepareSplit(dataset, 'train', { cache: false, preprocess: { size: 8 } });
  assert.deepEqual([...prepared.labels], [0, 0, 1, 1]);
  assert.equal(prepared.images[0], 10, 'PNG is lossless');
  assert.equal(prepared.images[3 * 3 * 64], 250);
  assert.ok(Math.abs(prepared.images[3 * 64]! - 50) <= 3 && Math.abs(prepared.images[2 * 3 * 64]! - 200) <= 3, 'lossy formats decode close');
  const flat = await openDataset(`folder:${path.join(dir, 'cats')}`);
  assert.deepEqual(flat.classes, ['cats']);
  assert.equal(flat.splits.train!.total, 2);
});

/** Opens `folder:dir`, collecting its warnings. */
async function openWarned(dir: string): Promise<{ dataset: Awaited<ReturnType<typeof openDataset>>; warnings: string[] }> {
  const warnings: string[] = [];
  return { dataset: await openDataset(`folder:${dir}`, { warn: (m) => warnings.push(m) }), warnings };
}

test('a sub-folder no longer hides the images beside it: a.png, b.jpg + empty/ gives 2, + sub/c.png gives 3 of 3', async () => {
  const dir = path.join(root, 'mixed');
  await image(path.join(dir, 'a.png'), 10);
  await image(path.join(dir, 'b.jpg'), 50, 16, 'jpeg');
  mkdirSync(path.join(dir, 'empty'));
  const first = await openWarned(dir);
  assert.deepEqual(first.dataset.classes, ['mixed'], 'images directly in PATH: one class named after it; the empty sub-folder is no class');
  assert.equal(first.dataset.splits.train!.total, 2);
  assert.deepEqual(first.warnings, [], 'nothing was left out');

  await image(path.join(dir, 'sub', 'c.png'), 200);
  const second = await openWarned(dir);
  assert.deepEqual(second.dataset.classes, ['mixed', 'sub']);
  assert.equal(second.dataset.splits.train!.total, 3);
  assert.deepEqual(second.warnings, []);
  const prepared = await prepareSplit(second.dataset, 'train', { cache: false, preprocess: { size: 8 } });
  assert.equal(prepared.count, 3);
  assert.deepEqual([...prepared.labels], [0, 0, 1], 'a.png and b.jpg are class "mixed", c.png class "sub"');
});

test('folder rule: class folders are read at any depth; other files, and what lies beside train/ and test/, are counted in a warning', async () => {
  const dir = path.join(root, 'nested');
  await image(path.join(dir, 'cats', 'a.png'), 10);
  await image(path.join(dir, 'cats', 'indoor', 'b.png'), 20);
  await image(path.join(dir, 'cats', 'indoor', 'sofa', 'c.png'), 30);
  await image(path.join(dir, 'dogs', 'd.png'), 40);
  writeFileSync(path.join(dir, 'dogs', 'e.gif'), 'GIF89a');
  writeFileSync(path.join(dir, 'labels.csv'), 'a,cats\n');
  writeFileSync(path.join(dir, '.DS_Store'), '');
  const { dataset, warnings } = await openWarned(dir);
  assert.deepEqual(dataset.classes, ['cats', 'dogs']);
  assert.equal(dataset.splits.train!.total, 4);
  assert.deepEqual([...dataset.splits.train!.labels], [0, 0, 0, 1]);
  assert.deepEqual(warnings, [`robustok: folder:${dir}: left out 2 files (dogs/e.gif, labels.csv) that are not .png, .jpg, .jpeg, .webp images`],
    'hidden files are passed over without a word');

  const splits = path.join(root, 'splits');
  await image(path.join(splits, 'train', 'cats', 'a.png'), 10);
  await image(path.join(splits, 'train', 'b.png'), 20);
  await image(path.join(splits, 'test', 'cats', 'c.png'), 30);
  await image(path.join(splits, 'test', 'd.png'), 40);
  await image(path.join(splits, 'extra.png'), 50);
  await image(path.join(splits, 'val', 'e.png'), 60);
  const split = await openWarned(splits);
  assert.deepEqual(split.dataset.classes, ['cats', 'splits'], 'loose images in either split are one class, named after PATH');
  assert.deepEqual([...split.dataset.splits.train!.labels], [0, 1]);
  assert.deepEqual([...split.dataset.splits.test!.labels], [0, 1]);
  assert.deepEqual(split.warnings, [`robustok: folder:${splits}: left out 2 images (extra.png, val/e.png) beside train/ and test/, ` +
    'which are the splits; move them into train/ or test/ to use them']);
});

test('folder rule: the dataset description states it', () => {
  const description = listDatasets().find((l) => l.name === 'folder')!.description;
  assert.match(description, /PATH\/train and PATH\/test as splits/);
  assert.match(description, /each sub-folder with images \(at any depth\) is a class, images directly in PATH one more class named after PATH/);
  assert.match(description, /other files are left out with a warning/);
});

test('cache: second prepare reads back; a touched file or another size re-caches', async () => {
  const dir = await classFolder('cached');
  const cache = path.join(root, 'cache');
  const first = await prepareSplit(await openDataset(`folder:${dir}`), 'train', { cache, preprocess: { size: 8 } });
  assert.equal(first.fromCache, false);
  const second = await prepareSplit(await openDataset(`folder:${dir}`), 'train', { cache, preprocess: { size: 8 } });
  assert.equal(second.fromCache, true);
  assert.deepEqual(second.images, first.images);
  assert.deepEqual(second.labels, first.labels);
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(dir, 'dogs', 'd.png'), later, later);
  assert.equal((await prepareSplit(await openDataset(`folder:${dir}`), 'train', { cache, preprocess: { size: 8 } })).fromCache, false);
  assert.equal((await prepareSplit(await openDataset(`folder:${dir}`), 'train', { cache, preprocess: { size: 4 } })).fromCache, false);
  const files = readdirSync(path.join(cache, 'data'));
  assert.equal(files.length, 3, 'one entry per source state and config');
  assert.ok(files.every((f) => f.endsWith('.bin')), 'no temporary files left');
});

test('corrupt files are skipped with one warning naming them; strict makes it an error', async () => {
  const dir = await classFolder('corrupt');
  writeFileSync(path.join(dir, 'cats', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really a png'));
  writeFileSync(path.join(dir, 'dogs', 'empty.jpg'), Buffer.alloc(0));
  const warnings: string[] = [];
  const dataset = await openDataset(`folder:${dir}`);
  const prepared = await prepareSplit(dataset, 'train', { cache: false, preprocess: { size: 8 }, warn: (m) => warnings.push(m) });
  assert.equal(prepared.count, 4);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /skipped 2 unreadable images of 6 in folder:.*broken\.png.*empty\.jpg.*strict/);
  await assert.rejects(prepareSplit(dataset, 'train', { cache: false, strict: true, preprocess: { size: 8 } }), /2 of 6 images could not be decoded \(strict\)/);
});

test('a truncated PNG in a dataset is named, as "not a readable image (truncated or corrupt PNG)"', async () => {
  const dir = await classFolder('truncated');
  const whole = readFileSync(path.join(dir, 'cats', 'a.png'));
  const cut = path.join(dir, 'cats', 'cut.png');
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  const dataset = await openDataset(`folder:${dir}`);
  const warnings: string[] = [];
  assert.equal((await prepareSplit(dataset, 'train', { cache: false, preprocess: { size: 8 }, warn: (m) => warnings.push(m) })).count, 4);
  assert.match(warnings[0]!, /skipped 1 unreadable image of 5 in folder:.*cut\.png/);
  await assert.rejects(prepareSplit(dataset, 'train', { cache: false, strict: true, preprocess: { size: 8 } }), (error: Error) => {
    assert.ok(error.message.includes(`${cut}: not a readable image (truncated or corrupt PNG): `), error.message);
    assert.ok(!error.message.includes(`${cut}: ${cut}`), 'the file is named once');
    return true;
  });
});

test('empty folder, missing path and images smaller than the crop give errors that say what to do', async () => {
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(openDataset(`folder:${empty}`), /holds no images .* add images or point at the right folder/);
  await assert.rejects(openDataset(`folder:${path.join(root, 'nope')}`), /does not exist; give an existing folder/);
  const dir = await classFolder('small');
  await assert.rejects(prepareSplit(await openDataset(`folder:${dir}`), 'train', { cache: false, preprocess: { size: 32, fit: 'crop' } }),
    /is 16×16, smaller than the 32×32 crop: use fit 'resize'/);
});
