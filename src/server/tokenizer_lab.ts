// The tokenizer lab's computations, run on the inference worker: one image
// through a tokenizer clean and with perturbed tokens (docs/method.md §2),
// the candidate codes of every token, and the nearest codes of a code —
// both ranked by the codebook's own metric, as the perturbation ranks them
// (metrics/nearest_codes.ts).
//
// "The same perturbation draw" for two tokenizers: the draw is a stream of
// randint (which of the δ candidates) then bernoulli (which tokens), both
// from a RandomStream seeded with `seed`. Two tokenizers with the same grid
// given the same seed, α and δ redraw the same positions with the same
// candidate rank — each among its own nearest codes.
import { type RawImage, imagesToTensor, tensorToImages } from '../data/index.js';
import { codeNeighbours, inCodeSpace } from '../metrics/index.js';
import { type ImageSpec, type Tokenizer, tokenGrid } from '../tokenizer/index.js';
import { RandomStream, type Tensor, noGrad, onDevice, tensor, tidy } from '../torch/index.js';
import { badRequest } from './http_error.js';
import type { NeighboursResult, ReconstructArgs, ReconstructResult } from './lab_protocol.js';

/** `[1, C, H, W]` in [−1, 1] → one 8-bit image. */
const toImage = (images: Tensor): RawImage => tensorToImages(images.clamp(-1, 1))[0]!;

function checkLevels(tokenizer: Tokenizer, grid: [number, number], a: ReconstructArgs): void {
  const K = tokenizer.options.codebookSize;
  if (!(Number.isInteger(a.delta) && a.delta >= 1 && a.delta <= K)) {
    throw badRequest(`'delta' (δ, the nearest codes a redraw picks from) must be an integer in [1, ${K}] (this tokenizer's codebook size), got ${a.delta}`);
  }
  const N = grid[0] * grid[1];
  for (const o of a.overrides) {
    if (!(Number.isInteger(o.index) && o.index >= 0 && o.index < N)) throw badRequest(`override index ${o.index} is outside the ${grid[0]} × ${grid[1]} token grid [0, ${N - 1}]`);
    if (!(Number.isInteger(o.rank) && o.rank >= 0 && o.rank < a.delta)) throw badRequest(`override rank ${o.rank} at token ${o.index} must be an integer in [0, ${a.delta - 1}] (δ = ${a.delta})`);
  }
}

export function reconstructImage(tokenizer: Tokenizer, spec: ImageSpec, a: ReconstructArgs): ReconstructResult {
  const grid = tokenGrid(tokenizer.options, spec.size);
  checkLevels(tokenizer, grid, a);
  const started = performance.now();
  return noGrad(() => tidy(() => {
    const x = onDevice(imagesToTensor([a.image], spec), tokenizer.device);            // [1, C, S, S]
    const q = tokenizer.encode(x);
    const clean = tokenizer.decode(q.zq);
    const perturbed = tokenizer.perturb(q, { alpha: a.alpha, beta: 1, delta: a.delta, stream: new RandomStream(a.seed) });
    const candidates = tokenizer.candidates(q, a.delta).squeeze(0);                   // [N, δ]: what the perturbation drew from
    const candidateRows = candidates.tolist() as number[][];
    const ids = perturbed.ids.flatten().tolist() as number[];
    for (const o of a.overrides) ids[o.index] = candidateRows[o.index]![o.rank]!;
    const decoded = tokenizer.decodeIds(tensor(ids, { dtype: 'int64', device: tokenizer.device }).reshape(q.ids.shape));
    return {
      grid, codebookSize: tokenizer.options.codebookSize,
      images: { original: toImage(x), clean: toImage(clean), perturbed: toImage(decoded) },
      ids: q.ids.flatten().tolist() as number[], perturbedIds: ids, candidates: candidateRows,
      ms: performance.now() - started,
    };
  }));
}

/** The `count` codes nearest `code` by the codebook's metric (what a token on it can be redrawn to), with their cosines. */
export function neighboursOfCode(tokenizer: Tokenizer, code: number, count: number): NeighboursResult {
  const K = tokenizer.options.codebookSize;
  if (!(Number.isInteger(code) && code >= 0 && code < K)) throw badRequest(`'code' must be an integer in [0, ${K - 1}] (this tokenizer has ${K} codes), got ${code}`);
  return noGrad(() => tidy(() => {
    const metric = tokenizer.quantize.distance;
    const order = codeNeighbours(tokenizer.quantize.codes(), metric, Math.min(count, K - 1), tensor([code], { dtype: 'int64', device: tokenizer.device })).flatten();
    const unit = inCodeSpace(tokenizer.quantize.embedding.weight, 'cosine');         // codes() itself for a cosine codebook
    const c = unit.matmul(unit.select(0, code)).indexSelect(0, order).tolist() as number[];
    const neighbours = (order.tolist() as number[]).map((id, i) => ({ code: id, cosine: c[i]! }));
    return { code, metric, neighbours };
  }));
}
