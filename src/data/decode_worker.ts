// Worker thread body: decodes and preprocesses one file per message, so that
// the main thread (which drives libtorch) never waits on image codecs.
import { parentPort } from 'node:worker_threads';
import { UnreadableImageError, decodeFile } from './decode.js';
import { type PreprocessConfig, preprocess } from './preprocess.js';

export interface DecodeRequest {
  id: number;
  file: string;
  config: PreprocessConfig;
}

export type DecodeReply = { id: number; data: Uint8Array } | { id: number; error: string; sizeError: boolean };

parentPort?.on('message', async ({ id, file, config }: DecodeRequest) => {
  try {
    const data = preprocess(await decodeFile(file), config, file);
    parentPort!.postMessage({ id, data } satisfies DecodeReply, [data.buffer as ArrayBuffer]);
  } catch (error) {
    // The file's own failure without its name: prepare.ts names the file itself.
    const message = error instanceof UnreadableImageError ? error.reason : error instanceof Error ? error.message : String(error);
    const sizeError = error instanceof Error && error.name === 'ImageSizeError';
    parentPort!.postMessage({ id, error: message, sizeError } satisfies DecodeReply);
  }
});
