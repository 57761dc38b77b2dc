// Image files to RawImage through sharp (PNG, JPEG, WebP, ...). Transparent
// pixels are composited on white: emoji and icons are drawn for a light page.
//
// A file sharp cannot read is reported as an UnreadableImageError that names
// the file and what it looks like (empty, a cut-off or damaged PNG/JPEG/WebP,
// or no image format at all), since sharp's own messages ("vipspng: libpng
// read error", sometimes "(Unknown error)") name neither.
import { closeSync, openSync, readSync } from 'node:fs';
import sharp, { type OutputInfo } from 'sharp';
import type { RawImage } from './image.js';

/** A file that does not decode to an image; `reason` is the message without the file name. */
export class UnreadableImageError extends Error {
  override name = 'UnreadableImageError';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

/** Decodes an image file. */
export const decodeFile = (file: string): Promise<RawImage> => decodeImage(file, file);

/**
 * Decodes an image file or the bytes of one (an upload); `name` is what an
 * UnreadableImageError calls it.
 */
export async function decodeImage(input: string | Buffer, name: string): Promise<RawImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(input, { failOn: 'error' })
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
    throw new UnreadableImageError(name, `not a readable image (${describeBytes(input)}): ${message || 'no reason given'}`);
  }
  const { data, info } = decoded;
  const channels = info.channels;
  if (channels === 1 || channels === 3) {
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width, channels };
  }
  throw new UnreadableImageError(name, `decoded to ${channels} channels; expected grey or RGB`);
}

/** The first 12 bytes of a file, or why it cannot be opened. */
function fileHead(file: string): Buffer | string {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(12);
      return head.subarray(0, readSync(fd, head, 0, 12, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return `cannot open it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
}

/** What a file (or bytes) that failed to decode looks like, from its first bytes: the likely cause for the message. */
function describeBytes(input: string | Buffer): string {
  const head = Buffer.isBuffer(input) ? input.subarray(0, 12) : fileHead(input);
  if (typeof head === 'string') return head;
  if (head.length === 0) return 'the file is empty';
  const format = head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) ? 'PNG'
    : head[0] === 0xff && head[1] === 0xd8 ? 'JPEG'
      : head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP' ? 'WebP'
        : null;
  return format ? `truncated or corrupt ${format}` : 'its bytes are not PNG, JPEG or WebP';
}
