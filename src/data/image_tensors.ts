// Images in and out of a model, outside the training loader: image files or
// raw 8-bit images → `[B, C, S, S]` float32 in [−1, 1], preprocessed as the
// training images were (the tokenizer's ImageSpec is a PreprocessConfig) and
// scaled exactly as the loader scales them (pixels.ts); and a model's output
// `[B, C, H, W]` in [−1, 1] → 8-bit images (png.ts writes them). Here in the
// data layer so that the CLI and the server read and write images without
// the tokenizer.
import { type Tensor, tensor } from '../torch/index.js';
import { decodeFile } from './decode.js';
import { type RawImage, chwToHwc } from './image.js';
import { imagesToBytes, unitFromByte } from './pixels.js';
import { ImageSizeError, type PreprocessConfig, preprocess } from './preprocess.js';

/**
 * One image → CHW uint8 at the spec's side and channels. The training
 * fit is used when the image can take it; an image that cannot (larger
 * than a 'pad' target, smaller than a 'crop') is resized and centre-cropped
 * instead, since a tokenizer given someone's photo should still read it.
 */
export function fitImage(image: RawImage, spec: PreprocessConfig, what = 'image'): Uint8Array {
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
export function imagesToTensor(images: readonly RawImage[], spec: PreprocessConfig, names?: readonly string[]): Tensor {
  if (images.length === 0) throw new Error('no images to convert');
  const sample = spec.channels * spec.size * spec.size;
  const out = new Float32Array(images.length * sample);
  images.forEach((image, i) => {
    const pixels = fitImage(image, spec, names?.[i] ?? `image ${i}`);
    for (let p = 0; p < sample; p++) out[i * sample + p] = unitFromByte[pixels[p]!]!;
  });
  return tensor(out, { shape: [images.length, spec.channels, spec.size, spec.size], device: 'cpu' });  // decoded on the host
}

/** Image files → `[B, C, S, S]` float32 in [−1, 1], a tokenizer's input; an UnreadableImageError names a file that does not decode. */
export async function readImageFiles(files: readonly string[], spec: PreprocessConfig): Promise<Tensor> {
  const images = await Promise.all(files.map(decodeFile));
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
