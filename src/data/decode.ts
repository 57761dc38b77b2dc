// Image files to RawImage through sharp (PNG, JPEG, WebP, ...). Transparent
// pixels are composited on white: emoji and icons are drawn for a light page.
import sharp from 'sharp';
import type { RawImage } from './image.js';

export async function decodeFile(file: string): Promise<RawImage> {
  const { data, info } = await sharp(file, { failOn: 'error' })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels;
  if (channels === 1 || channels === 3) {
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width, channels };
  }
  throw new Error(`${file}: decoded to ${channels} channels; expected grey or RGB`);
}
