// Raw images as they come out of a decoder, before any transform.

/** An 8-bit image in HWC order: `data.length === height * width * channels`. */
export interface RawImage {
  data: Uint8Array;
  height: number;
  width: number;
  /** 1 (grey) or 3 (RGB); alpha is composited away by the decoder. */
  channels: 1 | 3;
}

/** Converts between grey and RGB (ITU-R 601 luma), so every sample of a split has the same channel count. */
export function toChannels(image: RawImage, channels: 1 | 3): RawImage {
  if (image.channels === channels) return image;
  const pixels = image.height * image.width;
  const out = new Uint8Array(pixels * channels);
  if (channels === 3) {
    for (let p = 0; p < pixels; p++) out.fill(image.data[p]!, 3 * p, 3 * p + 3);
  } else {
    const d = image.data;
    for (let p = 0; p < pixels; p++) out[p] = Math.round(0.299 * d[3 * p]! + 0.587 * d[3 * p + 1]! + 0.114 * d[3 * p + 2]!);
  }
  return { data: out, height: image.height, width: image.width, channels };
}

/** HWC → CHW, the layout of the cache and of tensors. */
export function hwcToChw(image: RawImage): Uint8Array {
  const { data, height, width, channels } = image;
  if (channels === 1) return data;
  const plane = height * width;
  const out = new Uint8Array(plane * channels);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) out[c * plane + p] = data[p * channels + c]!;
  }
  return out;
}

/** CHW bytes (the cache's and tensors' layout) → an HWC RawImage, the inverse of hwcToChw. */
export function chwToHwc(chw: Uint8Array, height: number, width: number, channels: 1 | 3): RawImage {
  const plane = height * width;
  const data = new Uint8Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) data[p * channels + c] = chw[c * plane + p]!;
  }
  return { data, height, width, channels };
}
