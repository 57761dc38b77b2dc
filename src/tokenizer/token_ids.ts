// Token ids as they leave and re-enter a trained tokenizer: the shape of
// one image's grid, and a check of ids that come from outside (a file, a
// generator) before they reach the codebook lookup, whose own error for a bad
// id names neither the image nor the position.
import { cnnDownsampleFactor } from '../architectures/index.js';
import { type TokenizerOptions, cnnOptionsOf } from './model.js';

/**
 * The `[h, w]` grid of one image's tokens at side `imageSize`: the CNN's
 * latent map (side / 2^(levels − 1)); the ViT's N latent tokens read out as
 * √N × √N (RobusTok: 256 → 16×16, docs/method.md §1), or as 1 × N when N is not a square;
 * the release's ViT's N tokens as their √N × √N grid.
 */
export function tokenGrid(options: TokenizerOptions, imageSize: number): [number, number] {
  if (options.architecture === 'vit' || options.architecture === 'robustok-vit') {
    const n = options.architecture === 'vit' ? options.vit.numLatentTokens : options['robustok-vit'].numLatentTokens;
    const side = Math.round(Math.sqrt(n));
    return side * side === n ? [side, side] : [1, n];
  }
  const f = cnnDownsampleFactor(cnnOptionsOf(options)!);
  if (imageSize % f !== 0) throw new Error(`image side ${imageSize} is not a multiple of the CNN's downsampling factor ${f}`);
  return [imageSize / f, imageSize / f];
}

/**
 * Throws unless every id of `ids` (row-major `[N, h, w]`) is an integer in
 * [0, K); the message names the image (by `names[i]` when given), the row and
 * column, and the value.
 */
export function checkTokenIds(ids: ArrayLike<number | bigint>, grid: [number, number], codebookSize: number, names?: readonly string[]): void {
  const [h, w] = grid;
  for (let i = 0; i < ids.length; i++) {
    const v = Number(ids[i]);
    if (Number.isInteger(v) && v >= 0 && v < codebookSize) continue;
    const image = Math.floor(i / (h * w));
    const at = i % (h * w);
    const which = names?.[image] ? `image ${image} (${names[image]})` : `image ${image}`;
    throw new RangeError(`token id ${String(ids[i])} at ${which}, row ${Math.floor(at / w)}, column ${at % w} is outside [0, ${codebookSize}): ` +
      `this tokenizer has ${codebookSize} codes`);
  }
}
