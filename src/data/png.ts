// 8-bit images out as PNG, the one format robustok writes: lossless, so a
// saved reconstruction holds exactly the bytes the model's output rounds to.
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import type { RawImage } from './image.js';

/** An 8-bit image as PNG bytes (grey stays one channel). */
export function encodePng(image: RawImage): Promise<Buffer> {
  const { data, width, height, channels } = image;
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}

/** Writes an 8-bit image as a PNG (grey stays one channel). */
export async function writePng(image: RawImage, file: string): Promise<void> {
  writeFileSync(file, await encodePng(image));
}
