// One rule for image files that do not decode, wherever robustok reads a
// list of them (preparing a dataset, `data info`, `reconstruct`, `encode`):
// skip them and say so once, with how many of how many and the first few by
// name; a strict caller stops at the first instead, with that file's error.
// A folder of thousands of photos with one bad download should not lose the
// run, and should not lose images without saying so either.
import { type UnreadableImageError, decodeFile } from './decode.js';
import type { RawImage } from './image.js';

/** How many skipped files a warning names before "…". */
export const SKIPPED_SHOWN = 3;

/**
 * The warning for skipped files. `where` names the source (a dataset, an
 * --input folder); `strictHint` says how to make it an error in that setting.
 */
export function skippedWarning(skipped: readonly string[], total: number, where: string, strictHint: string): string {
  const shown = skipped.slice(0, SKIPPED_SHOWN).join(', ');
  return `robustok: skipped ${skipped.length} unreadable image${skipped.length === 1 ? '' : 's'} of ${total} in ${where} ` +
    `(${shown}${skipped.length > SKIPPED_SHOWN ? ', …' : ''}); ${strictHint}`;
}

export interface DecodedFiles {
  /** The files that decoded, in input order, with their images. */
  files: string[];
  images: RawImage[];
  /** The files that did not, in input order, with why. */
  failures: UnreadableImageError[];
}

/**
 * Decodes `files` on this thread (a batch at a time, for callers that keep
 * memory bounded). Unreadable files are collected in `failures`; with
 * `strict`, the first of them (in input order) is thrown instead.
 */
export async function decodeFilesSkipping(files: readonly string[], strict: boolean): Promise<DecodedFiles> {
  const results = await Promise.allSettled(files.map(decodeFile));
  const out: DecodedFiles = { files: [], images: [], failures: [] };
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      out.files.push(files[i]!);
      out.images.push(result.value);
    } else if (result.reason instanceof Error && result.reason.name === 'UnreadableImageError') {
      out.failures.push(result.reason as UnreadableImageError);
    } else {
      throw result.reason;
    }
  });
  if (strict && out.failures.length > 0) throw out.failures[0]!;
  return out;
}
