// The inference worker: a thread of its own that holds the models and runs
// every lab computation, one request at a time, so the request thread never
// waits on libtorch and the page stays responsive while a model works.
// (libtorch's own threads do the parallel work; a second worker would only
// fight them for the same cores, docs/design.md §9.)
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { type ArGenerator, type GeneratorInfo, loadGenerator } from '../generator/index.js';
import { decoderMismatch } from '../runs/index.js';
import { Tokenizer, readImageSpec } from '../tokenizer/index.js';
import type { Device } from '../torch/index.js';
import { preservedImage, sampleClass } from './generator_lab.js';
import { badRequest, errorAnswer } from './http_error.js';
import type { LabOp, LabOps, LabReply, LabRequest } from './lab_protocol.js';
import { ModelCache } from './model_cache.js';
import { neighboursOfCode, reconstructImage } from './tokenizer_lab.js';

const { cacheBytes, device } = workerData as { cacheBytes: number; device: Device };
const cache = new ModelCache(cacheBytes);

// Models move to `serve --device` once, as loaded; the labs create their tensors beside them.
const tokenizerAt = (dir: string): Tokenizer =>
  cache.get(`tokenizer:${dir}`, path.join(dir, 'tokenizer.safetensors'), () => Tokenizer.load(dir).to(device));

interface LoadedGenerator {
  model: ArGenerator;
  info: GeneratorInfo;
  dispose(): void;
}

const generatorAt = (dir: string): LoadedGenerator => cache.get(`generator:${dir}`, path.join(dir, 'generator.safetensors'), () => {
  const { model, info } = loadGenerator(dir);
  model.to(device);
  return { model, info, dispose: () => model.dispose() };
});

/** The decoders asked for, each checked to share the generator's codebook. */
function decodersOf(generator: LoadedGenerator, dirs: readonly string[]): Tokenizer[] {
  return dirs.map((dir) => {
    const tokenizer = tokenizerAt(dir);
    const problem = decoderMismatch(tokenizer, generator.model, generator.info);
    if (problem) throw badRequest(`decoder ${path.basename(dir)} ${problem}`);
    return tokenizer;
  });
}

const handlers: { [O in LabOp]: (args: LabOps[O][0]) => LabOps[O][1] } = {
  reconstruct: (a) => reconstructImage(tokenizerAt(a.dir), readImageSpec(a.dir), a),
  neighbours: (a) => neighboursOfCode(tokenizerAt(a.dir), a.code, a.count),
  sample: (a) => {
    const generator = generatorAt(a.dir);
    return sampleClass(generator.model, decodersOf(generator, a.decoders), a);
  },
  preserved: (a) => {
    const generator = generatorAt(a.dir);
    return preservedImage(generator.model, decodersOf(generator, a.decoders), readImageSpec(a.decoders[0]!), a);
  },
};

parentPort!.on('message', (request: LabRequest) => {
  let reply: LabReply;
  try {
    const handle = handlers[request.op] as (args: unknown) => unknown;
    reply = { id: request.id, result: handle(request.args) };
  } catch (error) {
    // A RangeError from a layer below is a value the client chose (a library check caught it first).
    const answer = error instanceof RangeError ? { status: 400, message: error.message } : errorAnswer(error);
    reply = { id: request.id, error: answer };
  }
  parentPort!.postMessage(reply);
});
