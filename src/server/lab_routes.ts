// The labs' API: requests checked on the request thread (fields, ranges,
// runs, images), computed on the inference worker, answered with JSON whose
// images are PNG data URLs — one round trip per slider move.
import type { IncomingMessage } from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, resolveConfig } from '../config/index.js';
import { type RawImage, encodePng } from '../data/index.js';
import { readGeneratorInfo, samplingOf, samplingSchema } from '../generator/index.js';
import type { RunKind } from '../runs/index.js';
import { readImageSpec, readTokenizerLineage } from '../tokenizer/index.js';
import type { Neighbours, PreservedAnswer, ReconstructAnswer, SampleAnswer } from './api_types.js';
import { HttpError, badRequest } from './http_error.js';
import type { ImageSources } from './image_sources.js';
import type { InferenceWorker } from './inference.js';
import type { TokenOverride } from './lab_protocol.js';
import { numberField, readJsonBody } from './params.js';
import { readConfig, resolveRun } from './run_catalog.js';

export interface LabContext {
  root: string;
  images: ImageSources;
  worker: InferenceWorker;
}

const TOKENIZER_KINDS: RunKind[] = ['tokenizer', 'post-trained tokenizer'];
/** Perturbation draws are seeded with a 32-bit-safe integer (the page's seed box). */
const MAX_SEED = 2 ** 31 - 1;

/** A tokenizer run whose training has finished (its weights exist), else 409. */
function trainedTokenizer(root: string, id: unknown): string {
  const { dir } = resolveRun(root, id, TOKENIZER_KINDS);
  if (!existsSync(path.join(dir, 'tokenizer.safetensors'))) {
    throw new HttpError(409, `run '${String(id)}' has no trained tokenizer yet (tokenizer.safetensors appears when training ends)`);
  }
  return dir;
}

/**
 * The dataset a tokenizer run trained on, unless the request names one:
 * config.json's data.name, else tokenizer.json's lineage (post-train folders
 * written before their config named the dataset recorded it there).
 */
function datasetOf(dir: string, id: string, fields: Record<string, unknown>): string {
  if (fields.data !== undefined) {
    if (typeof fields.data !== 'string' || fields.data === '') throw badRequest(`'data' must name a dataset (fashion-mnist, mnist, emoji, folder:PATH), got ${JSON.stringify(fields.data)}`);
    return fields.data;
  }
  const recorded = (readConfig(dir)?.data as { name?: unknown } | undefined)?.name;
  const name = typeof recorded === 'string' && recorded !== '' ? recorded : readTokenizerLineage(dir)?.data;
  if (typeof name !== 'string' || name === '') throw badRequest(`run '${id}' does not record its dataset; pass 'data' (e.g. "fashion-mnist") with the image`);
  return name;
}

/**
 * `image`: `{ "test": INDEX }` or `{ "train": INDEX }` (an image of the
 * run's dataset; train is what post-training draws σ-tokens for) or
 * `{ "upload": ID }` (from POST /api/upload) → the image, its class (the
 * dataset's label; for an upload, the body's `class`, default 0) and its
 * index in its split (0 for an upload).
 */
async function imageOf(c: LabContext, fields: Record<string, unknown>, dir: string, id: string): Promise<{ image: RawImage; label: number; index: number }> {
  const image = fields.image as Record<string, unknown> | undefined;
  const shape = '{ "test": INDEX }, { "train": INDEX } or { "upload": ID }';
  if (image === null || typeof image !== 'object' || Array.isArray(image)) throw badRequest(`'image' must be ${shape}, got ${JSON.stringify(image ?? null)}`);
  if ('upload' in image) {
    if (typeof image.upload !== 'string') throw badRequest(`'image.upload' must be the id POST /api/upload returned, got ${JSON.stringify(image.upload)}`);
    return { image: c.images.uploaded(image.upload), label: numberField(fields, 'class', { min: 0, max: 1e6, integer: true, default: 0, doc: 'the class of the uploaded image' }), index: 0 };
  }
  for (const which of ['test', 'train'] as const) {
    if (!(which in image)) continue;
    const index = numberField(image, which, { min: 0, max: 1e9, integer: true, doc: `the index of a ${which} image` });
    const spec = readImageSpec(dir);
    const found = await c.images.splitImage(datasetOf(dir, id, fields), which, { size: spec.size, channels: spec.channels }, index);
    return { image: found.image, label: found.label, index };
  }
  throw badRequest(`'image' must be ${shape}, got ${JSON.stringify(image)}`);
}

function overridesOf(fields: Record<string, unknown>): TokenOverride[] {
  const list = fields.overrides ?? [];
  if (!Array.isArray(list) || list.length > 4096) throw badRequest(`'overrides' must be a list of { "index": TOKEN, "rank": R } (at most 4096), got ${JSON.stringify(list).slice(0, 80)}`);
  return list.map((o: unknown, i) => {
    if (o === null || typeof o !== 'object') throw badRequest(`overrides[${i}] must be { "index": TOKEN, "rank": R }, got ${JSON.stringify(o)}`);
    const f = o as Record<string, unknown>;
    return {
      index: numberField(f, 'index', { min: 0, max: 1e6, integer: true, doc: `overrides[${i}]: the token's position, row-major` }),
      rank: numberField(f, 'rank', { min: 0, max: 1e6, integer: true, doc: `overrides[${i}]: which of the token's nearest codes` }),
    };
  });
}

const dataUrl = async (image: RawImage): Promise<string> => `data:image/png;base64,${(await encodePng(image)).toString('base64')}`;
const dataUrls = (images: readonly RawImage[]): Promise<string[]> => Promise.all(images.map(dataUrl));

const seedOf = (fields: Record<string, unknown>) => numberField(fields, 'seed', { min: 0, max: MAX_SEED, integer: true, default: 0, doc: 'the seed of the draws' });

/** POST /api/tokenizer/reconstruct: clean and perturbed reconstructions, the token grid and each token's candidates. */
export async function reconstruct(c: LabContext, request: IncomingMessage): Promise<ReconstructAnswer> {
  const fields = await readJsonBody(request);
  const id = String(fields.run);
  const dir = trainedTokenizer(c.root, fields.run);
  const alpha = numberField(fields, 'alpha', { min: 0, max: 1, doc: 'α, the probability that a token is redrawn' });
  const delta = numberField(fields, 'delta', { min: 1, max: 1 << 20, integer: true, doc: 'δ, how many nearest codes a redraw picks from' });
  const seed = seedOf(fields);
  const overrides = overridesOf(fields);
  const { image } = await imageOf(c, fields, dir, id);
  const r = await c.worker.call('reconstruct', { dir, image, alpha, delta, seed, overrides });
  const [original, clean, perturbed] = await dataUrls([r.images.original, r.images.clean, r.images.perturbed]);
  return { run: id, alpha, delta, seed, ...r, images: { original, clean, perturbed } };
}

/** GET /api/tokenizer/neighbours?run=&code=&count=: a code's nearest codes by the codebook's metric. */
export function neighbours(c: LabContext, query: Record<string, unknown>): Promise<Neighbours> {
  const dir = trainedTokenizer(c.root, query.run);
  const code = numberField(query, 'code', { min: 0, max: 1 << 20, integer: true, doc: 'a code id' });
  const count = numberField(query, 'count', { min: 1, max: 64, integer: true, default: 8, doc: 'how many neighbours' });
  return c.worker.call('neighbours', { dir, code, count });
}

/** A trained generator run, its decoders (default: its own tokenizer), and its sampling with the body's settings on top. */
function generatorRequest(c: LabContext, fields: Record<string, unknown>) {
  const { dir } = resolveRun(c.root, fields.run, ['generator']);
  if (!existsSync(path.join(dir, 'generator.safetensors'))) throw new HttpError(409, `run '${String(fields.run)}' has no trained generator yet (generator.safetensors appears when training ends)`);
  const info = readGeneratorInfo(dir);
  const asked = fields.decoders ?? [];
  if (!Array.isArray(asked) || asked.length > 2) throw badRequest(`'decoders' must list one or two tokenizer runs (null: the generator's own), got ${JSON.stringify(asked)}`);
  const decoders = asked.length === 0 ? [info.tokenizer] : asked.map((d) => (d === null ? info.tokenizer : trainedTokenizer(c.root, d)));
  const settings = Object.fromEntries(Object.keys(samplingSchema.fields).filter((k) => fields[k] !== undefined).map((k) => [k, fields[k]]));
  let sampling;
  try {
    sampling = samplingOf(resolveConfig(samplingSchema, [info.sampling, settings]));
  } catch (error) {
    if (error instanceof ConfigError) throw badRequest(error.message);
    throw error;
  }
  const classId = numberField(fields, 'class', { min: 0, max: info.classes.length - 1, integer: true, default: 0, doc: `a class of the generator (${info.classes.slice(0, 3).join(', ')}, …)` });
  return { id: String(fields.run), dir, info, decoders, sampling, classId, seed: seedOf(fields) };
}

/** POST /api/generator/sample: one sample of a class, decoded by each decoder. */
export async function sample(c: LabContext, request: IncomingMessage): Promise<SampleAnswer> {
  const fields = await readJsonBody(request);
  const g = generatorRequest(c, fields);
  const r = await c.worker.call('sample', { dir: g.dir, decoders: g.decoders, classId: g.classId, sampling: g.sampling, seed: g.seed });
  return { run: g.id, className: g.info.classes[g.classId], sampling: g.sampling, ...r, images: await dataUrls(r.images) };
}

/**
 * POST /api/generator/preserved: σ-preserving sampling of an image
 * (post-training's tokens). With `image: { "train": i }` and `seed` a
 * post-training run's train.seed (and its σ and sampling), the answer's ids
 * and kept mask are that run's pregenerated σ-tokens of image i.
 */
export async function preserved(c: LabContext, request: IncomingMessage): Promise<PreservedAnswer> {
  const fields = await readJsonBody(request);
  const g = generatorRequest(c, fields);
  const sigma = numberField(fields, 'sigma', { min: 0, max: 1, doc: 'σ, the probability of keeping each ground-truth token' });
  const { image, label, index } = await imageOf(c, { data: g.info.data, ...fields }, g.decoders[0]!, g.id);
  const classId = fields.class === undefined ? label : g.classId;
  const r = await c.worker.call('preserved', { dir: g.dir, decoders: g.decoders, image, index, classId, sigma, sampling: g.sampling, seed: g.seed });
  return { run: g.id, sigma, className: g.info.classes[classId], ...r, truth: await dataUrls(r.truth), images: await dataUrls(r.images) };
}
