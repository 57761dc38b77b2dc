// Shared by the `robustok serve` tests (API and browser): a --runs folder
// with a tokenizer trained on the tiny preset (so its reconstructions look
// like the images and α visibly changes them), a random-weight tokenizer of
// the same shape (another codebook, no config.json: it names no dataset),
// a generator trained a few steps on the first, the first post-trained a
// few steps on that generator's tokens, and a reproduce folder with one
// stage just started.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile, resolveConfig } from '../../src/config/index.js';
import { generatorSchema } from '../../src/generator/index.js';
import { posttrainSchema } from '../../src/posttrain/index.js';
import { postTrain, trainGenerator, trainTokenizer } from '../../src/runs/index.js';
import { tokenizerSchema } from '../../src/tokenizer/index.js';
import { scratchDir } from './checkpoint.js';
import { presets, saveTinyTokenizer } from './runs.js';

export interface ServeRuns {
  root: string;
  /** A folder outside root that holds a tokenizer, and a link to it inside root. */
  outside: string;
}

export async function makeServeRuns(o: { generator?: boolean } = {}): Promise<ServeRuns> {
  const work = scratchDir();
  const root = path.join(work, 'runs');
  const quiet = { log: () => {} };
  const tokenizer = resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)], ['train.steps=30', 'data.limit=256']);
  const trained = await trainTokenizer(tokenizer, path.join(root, 'tok'), { events: quiet });
  if (trained.status !== 'done') throw new Error('the test tokenizer did not finish training');
  saveTinyTokenizer(path.join(root, 'tok-random'), 1);
  if (o.generator ?? true) {
    const generator = resolveConfig(generatorSchema, [loadConfigFile(presets.generator)], ['data.limit=32', 'train.steps=2', 'train.sampleEvery=100', 'train.checkpointEvery=100']);
    const done = await trainGenerator(generator, path.join(root, 'gen'), { tokenizer: path.join(root, 'tok'), events: quiet });
    if (done.status !== 'done') throw new Error('the test generator did not finish training');
    const post = resolveConfig(posttrainSchema, [loadConfigFile(presets.posttrain)], ['train.steps=2', 'train.sampleEvery=100', 'train.checkpointEvery=100']);
    const posted = await postTrain(post, path.join(root, 'post'), { tokenizer: path.join(root, 'tok'), generator: path.join(root, 'gen'), events: quiet });
    if (posted.status !== 'done') throw new Error('the test post-training did not finish');
  }
  mkdirSync(path.join(root, 'repro'), { recursive: true });
  writeFileSync(path.join(root, 'repro', 'reproduce.json'), '{"preset":"quick"}\n');
  // A stage of the reproduction that has only started (its config written, nothing trained).
  mkdirSync(path.join(root, 'repro', 'tokenizer', 'base-s0'), { recursive: true });
  writeFileSync(path.join(root, 'repro', 'tokenizer', 'base-s0', 'config.json'), '{"perturbation":{"enabled":false}}\n');
  const outside = saveTinyTokenizer(path.join(work, 'outside'), 2);
  return { root, outside };
}

/** A request to the server: status and parsed JSON body. */
export async function api(base: string, route: string, body?: unknown, init: RequestInit = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(new URL(route, base), body === undefined ? init : { method: 'POST', body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body), ...init });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
}
