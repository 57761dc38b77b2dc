// The generator lab's computations, run on the inference worker: a class
// sampled with chosen settings and decoded by one or two decoders of the
// same codebook (before and after post-training), and σ-preserving sampling
// of a given image (docs/method.md §6) — what post-training feeds its
// decoder. Two decoders see the very same token ids.
import { type RawImage, imagesToTensor, tensorToImages } from '../data/index.js';
import { type ArGenerator, sampleTokens } from '../generator/index.js';
import { imageDraws, preservedSampling } from '../posttrain/index.js';
import type { ImageSpec, Tokenizer } from '../tokenizer/index.js';
import { RandomStream, type Tensor, noGrad, onDevice, tensor, tidy } from '../torch/index.js';
import { badRequest } from './http_error.js';
import type { PreservedArgs, PreservedResult, SampleArgs, SampleResult } from './lab_protocol.js';

/** Token ids `[1, N]` → one image per decoder. */
function decodeWith(decoders: readonly Tokenizer[], ids: Tensor, grid: [number, number]): RawImage[] {
  return decoders.map((d) => tensorToImages(d.decodeIds(ids.reshape(1, grid[0], grid[1])).clamp(-1, 1))[0]!);
}

function checkClass(model: ArGenerator, classId: number): void {
  const C = model.options.numClasses;
  if (!(Number.isInteger(classId) && classId >= 0 && classId < C)) throw badRequest(`'class' must be an integer in [0, ${C - 1}] (the generator's classes), got ${classId}`);
}

export function sampleClass(model: ArGenerator, decoders: readonly Tokenizer[], a: SampleArgs): SampleResult {
  checkClass(model, a.classId);
  const started = performance.now();
  const grid = model.options.grid;
  return noGrad(() => tidy(() => {
    const ids = sampleTokens(model, tensor([a.classId], { dtype: 'int64', device: model.device }), { ...a.sampling, stream: new RandomStream(a.seed) });
    return { grid, ids: ids.flatten().tolist() as number[], images: decodeWith(decoders, ids, grid), ms: performance.now() - started };
  }));
}

/**
 * σ-preserving sampling of one image (docs/method.md §6): its tokens under
 * the first decoder's encoder are the ground truth, and the draws and the
 * keep/replace coins are the image's own uniforms (posttrain/image_draws.ts)
 * for its split index and `seed` — exactly what post-training's pregeneration
 * draws for that image in a run with train.seed = seed, whatever batch it
 * fell in (test/lab_sigma_tokens.test.ts checks the two agree).
 */
export function preservedImage(model: ArGenerator, decoders: readonly Tokenizer[], spec: ImageSpec, a: PreservedArgs): PreservedResult {
  checkClass(model, a.classId);
  const started = performance.now();
  const grid = model.options.grid;
  return noGrad(() => tidy(() => {
    const truth = decoders[0]!.encode(onDevice(imagesToTensor([a.image], spec), model.device)).ids.reshape(1, -1);   // [1, N]
    const { ids, kept } = preservedSampling(model, truth, tensor([a.classId], { dtype: 'int64', device: model.device }), {
      ...a.sampling, sigma: a.sigma, ...imageDraws(a.seed, [a.index], model.length),
    });
    return {
      grid, ids: ids.flatten().tolist() as number[], kept: kept.flatten().tolist() as boolean[],
      truth: decodeWith(decoders, truth, grid), images: decodeWith(decoders, ids, grid), ms: performance.now() - started,
    };
  }));
}
