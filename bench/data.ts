// Images per second delivered as training batches ([B, C, H, W] float
// tensors), cold (decode + preprocess + cache write, then one epoch) and warm
// (cache read, then one epoch), for fashion-mnist at 32×32 and emoji at 64×64.
// Uses a fresh temporary cache so "cold" is really cold. Prints a table and a
// JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataLoader, openDataset, prepareSplit } from '../src/data/index.js';

const cases = [
  { name: 'fashion-mnist', size: 32, batchSize: 256 },
  { name: 'emoji', size: 64, batchSize: 64 },
];
const cache = mkdtempSync(path.join(tmpdir(), 'robustok-bench-data-'));

async function run(name: string, size: number, batchSize: number): Promise<{ images: number; seconds: number }> {
  const start = performance.now();
  const dataset = await openDataset(name);
  const split = await prepareSplit(dataset, 'train', { cache, preprocess: { size } });
  const loader = new DataLoader(split, { batchSize, seed: 0, augment: { hflip: true } });
  let images = 0;
  for await (const batch of loader.epoch(0)) {
    images += batch.indices.length;
    batch.dispose();
  }
  return { images, seconds: (performance.now() - start) / 1000 };
}

const results: Record<string, number> = {};
try {
  for (const { name, size, batchSize } of cases) {
    for (const phase of ['cold', 'warm']) {
      const { images, seconds } = await run(name, size, batchSize);
      const rate = images / seconds;
      results[`${name}_${size}_${phase}`] = Math.round(rate);
      console.log(`${`${name} ${size}×${size} ${phase}`.padEnd(28)} ${String(images).padStart(6)} images ${seconds.toFixed(2).padStart(7)} s ${Math.round(rate).toString().padStart(8)} images/s`);
    }
  }
} finally {
  rmSync(cache, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'data', images_per_s: results }));
