// The images the labs work on: a test or training image of a dataset by
// index, or an
// image the user uploaded. Uploads are checked before they are decoded —
// at most 10 MB and 4096 px a side, PNG, JPEG or WebP — since a decoder
// handed a 40000 × 40000 PNG would take the server's memory with it.
// Decoded images are kept (a few, oldest dropped first) so that moving a
// slider re-sends settings, not the image.
import sharp from 'sharp';
import { type PreparedSplit, type RawImage, chwToHwc, decodeImage, openDataset, prepareSplit } from '../data/index.js';
import { HttpError, badRequest } from './http_error.js';
import { RecentMap } from './recent.js';

export const UPLOAD_BYTES_LIMIT = 10 << 20;
export const UPLOAD_SIDE_LIMIT = 4096;
const UPLOAD_FORMATS = new Set(['png', 'jpeg', 'webp']);
/**
 * Decoded uploads kept at once, in bytes of pixels: a 4096 × 4096 RGB upload
 * is 48 MB decoded, so a count alone would not bound the memory.
 */
const KEPT_UPLOAD_BYTES = 256 << 20;
/** Prepared splits kept at once (one per dataset, split and tokenizer geometry). */
const KEPT_SPLITS = 4;

export class ImageSources {
  readonly #uploads = new RecentMap<RawImage>(KEPT_UPLOAD_BYTES, (image) => image.data.length);
  readonly #splits = new RecentMap<Promise<PreparedSplit>>(KEPT_SPLITS);
  #nextUpload = 1;

  /** Checks and decodes an upload's bytes; returns its id for later requests. 415 for a non-image, 413 for one too large. */
  async upload(bytes: Buffer): Promise<{ upload: string; width: number; height: number }> {
    if (bytes.length === 0) throw badRequest('the upload is empty; send the bytes of a PNG, JPEG or WebP image as the request body');
    let format: string | undefined;
    let width = 0;
    let height = 0;
    try {
      ({ format, width = 0, height = 0 } = await sharp(bytes).metadata());
    } catch {
      format = undefined;
    }
    if (!format || !UPLOAD_FORMATS.has(format)) {
      throw new HttpError(415, `the upload is not a PNG, JPEG or WebP image (${format ? `it is ${format}` : 'its bytes are no image format sharp knows'})`);
    }
    if (width > UPLOAD_SIDE_LIMIT || height > UPLOAD_SIDE_LIMIT) {
      throw new HttpError(413, `the uploaded image is ${width} × ${height} px; the limit is ${UPLOAD_SIDE_LIMIT} px a side`);
    }
    let image: RawImage;
    try {
      image = await decodeImage(bytes, 'the upload');
    } catch (error) {
      throw new HttpError(415, error instanceof Error ? error.message : String(error));
    }
    const id = `u${this.#nextUpload++}`;
    this.#uploads.set(id, image);
    return { upload: id, width: image.width, height: image.height };
  }

  uploaded(id: string): RawImage {
    const image = this.#uploads.get(id);
    if (!image) throw new HttpError(404, `no upload '${id}' (the server keeps the latest uploads, up to ${KEPT_UPLOAD_BYTES >> 20} MB of pixels, until it stops); upload the image again`);
    return image;
  }

  /**
   * Image `index` of a split of `dataset` (the test split, or train: the
   * images post-training draws σ-tokens for) at the given side and channels,
   * prepared as training prepares it, with its class.
   */
  async splitImage(dataset: string, which: 'train' | 'test', geometry: { size: number; channels: 1 | 3 }, index: number): Promise<{ image: RawImage; label: number; count: number }> {
    const key = `${dataset}/${which}/${geometry.size}/${geometry.channels}`;
    let split = this.#splits.get(key);
    if (!split) {
      split = openDataset(dataset)
        .then((d) => prepareSplit(d, which, { preprocess: geometry, warn: () => {} }))
        .catch((error: unknown) => {
          throw badRequest(`cannot read the ${which} images of dataset '${dataset}': ${error instanceof Error ? error.message : String(error)}`);
        });
      this.#splits.set(key, split);
    }
    const s = await split;
    if (!(Number.isInteger(index) && index >= 0 && index < s.count)) {
      throw badRequest(`'index' (a ${which} image of ${dataset}) must be an integer in [0, ${s.count - 1}], got ${index}`);
    }
    const sample = s.channels * s.size * s.size;
    const image = chwToHwc(s.images.subarray(index * sample, (index + 1) * sample), s.size, s.size, s.channels);
    return { image, label: s.labels[index]!, count: s.count };
  }
}
