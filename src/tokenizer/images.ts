// Images in and out of a trained tokenizer. In: image files or raw 8-bit
// images → `[B, C, S, S]` float32 in [−1, 1], preprocessed as the training
// images were (the tokenizer's ImageSpec) and scaled exactly as the training
// loader scales them (src/data/pixels.ts). Out: `[B, C, H, W]` in [−1, 1] → 8-bit images → PNG.
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { decodeFile } from '../data/decode.js';
import { type RawImage, chwToHwc } from '../data/image.js';
import { imagesToBytes, unitFromByte } from '../data/pixels.js';
import { ImageSizeError, preprocess } from '../data/preprocess.js';
import { type Tensor, tensor } from '../torch/index.js';
import type { ImageSpec } from './io.js';

export type { RawImage } from '../data/image.js';

/**
 * One image → CHW uint8 at the tokenizer's side and channels. The training
 * fit is used when the image can take it; an image that cannot (larger
 * than a 'pad' target, smaller than a 'crop') is resized and centre-cropped
 * instead, since a tokenizer given someone's photo should still read it.
 */
export function fitImage(image: RawImage, spec: ImageSpec, what = 'image'): Uint8Array {
  try {
    return preprocess(image, spec, what);
  } catch (error) {
    if (!(error instanceof ImageSizeError)) throw error;
    return preprocess(image, { ...spec, fit: 'resize' }, what);
  }
}

/**
 * Raw images (any size, grey or RGB) → `[B, C, S, S]` float32 in [−1, 1].
 * The scaling is the DataLoader's table, so a training image and the same
 * image given here are the same tensor.
 */
export function imagesToTensor(images: readonly RawImage[], spec: ImageSpec, names?: readonly string[]): Tensor {
  if (images.length === 0) throw new Error('no images to convert');
  const sample = spec.channels * spec.size * spec.size;
  const out = new Float32Array(images.length * sample);
  images.forEach((image, i) => {
    const pixels = fitImage(image, spec, names?.[i] ?? `image ${i}`);
    for (let p = 0; p < sample; p++) out[i * sample + p] = unitFromByte[pixels[p]!]!;
  });
  return tensor(out, { shape: [images.length, spec.channels, spec.size, spec.size] });
}

/** Decodes one image file (PNG, JPEG, WebP, ...); an UnreadableImageError names the file and why it failed. */
export const readImageFile = (file: string): Promise<RawImage> => decodeFile(file);

/** Image files → `[B, C, S, S]` float32 in [−1, 1], the tokenizer's input. */
export async function readImageFiles(files: readonly string[], spec: ImageSpec): Promise<Tensor> {
  const images = await Promise.all(files.map(readImageFile));
  return imagesToTensor(images, spec, files);
}

/** `[B, C, H, W]` in [−1, 1] (C = 1 or 3) → 8-bit images in HWC order. */
export function tensorToImages(images: Tensor): RawImage[] {
  const [B, C, H, W] = images.shape as [number, number, number, number];
  if (C !== 1 && C !== 3) throw new Error(`images must have 1 or 3 channels, got [${images.shape}]`);
  const bytes = imagesToBytes(images);
  const plane = H * W;
  return Array.from({ length: B }, (_, b) => chwToHwc(bytes.subarray(b * C * plane, (b + 1) * C * plane), H, W, C));
}

/** An 8-bit image as PNG bytes (grey stays one channel). */
export function encodePng(image: RawImage): Promise<Buffer> {
  const { data, width, height, channels } = image;
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}

/** Writes an 8-bit image as a PNG (grey stays one channel). */
export async function writePng(image: RawImage, file: string): Promise<void> {
  writeFileSync(file, await encodePng(image));
}
