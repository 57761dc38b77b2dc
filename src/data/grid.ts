// A PNG contact sheet of prepared samples, for eyeballing a dataset.
import { type Tensor, cat, tidy, writeFileAtomic } from '../torch/index.js';
import type { PreparedSplit } from './cache.js';
import { imagesToBytes } from './pixels.js';
import { encodePng } from './png.js';

/** Writes the first `columns × rows` samples (CHW uint8) as one PNG, 2-pixel white gutters. */
export async function writeGrid(split: PreparedSplit, file: string, columns = 8, rows = 8): Promise<number> {
  const { channels, size } = split;
  const n = Math.min(split.count, columns * rows);
  const gap = 2;
  const cell = size + gap;
  const width = columns * cell + gap;
  const height = Math.ceil(n / columns) * cell + gap;
  const canvas = new Uint8Array(width * height * 3).fill(255);
  const plane = size * size;
  for (let i = 0; i < n; i++) {
    const sample = split.images.subarray(i * channels * plane, (i + 1) * channels * plane);
    const x0 = gap + (i % columns) * cell;
    const y0 = gap + Math.floor(i / columns) * cell;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const at = ((y0 + y) * width + x0 + x) * 3;
        for (let c = 0; c < 3; c++) canvas[at + c] = sample[(channels === 1 ? 0 : c) * plane + y * size + x]!;
      }
    }
  }
  // Encoded first, then written atomically: a full disk leaves no empty or partial PNG behind (a 0-byte samples/step-N.png).
  writeFileAtomic(file, [await encodePng({ data: canvas, width, height, channels: 3 })]);
  return n;
}

/**
 * Rows of images `[N, C, S, S]` in [−1, 1] (e.g. originals, reconstructions,
 * perturbed reconstructions) as one PNG, a row each, of the first `columns`
 * images (default all N).
 */
export async function writeImageRows(rows: Tensor[], file: string, columns = rows[0]!.size(0)): Promise<void> {
  const [n, channels, size] = rows[0]!.shape as [number, 1 | 3, number];
  const shown = Math.min(columns, n);
  const images = tidy(() => imagesToBytes(cat(rows.map((r) => r.slice(0, 0, shown).detach().to('cpu')), 0)));
  await writeGrid({ images, labels: new Int32Array(0), count: rows.length * shown, channels, size, skipped: [] }, file, shown, rows.length);
}

/** Images `[N, C, S, S]` in [−1, 1] as one PNG, `columns` to a row (the last row may be short). */
export async function writeImageGrid(images: Tensor, file: string, columns: number): Promise<void> {
  const [n, channels, size] = images.shape as [number, 1 | 3, number];
  const bytes = tidy(() => imagesToBytes(images.detach().to('cpu')));
  await writeGrid({ images: bytes, labels: new Int32Array(0), count: n, channels, size, skipped: [] }, file, columns, Math.ceil(n / columns));
}
