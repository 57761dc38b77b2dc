// The generator's training data (docs/method.md §5): every training image
// encoded once by the frozen tokenizer, its ids and label cached in the run
// folder. Encoding is the costly part, so it happens once per run; the cache
// is keyed by a fingerprint of the tokenizer's files and of the images'
// transform, so a retrained or post-trained tokenizer (or another dataset,
// size or flip setting) is never silently paired with old tokens.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DataLoader, type PreparedSplit } from '../data/index.js';
import { type Tokenizer, tokenizerSourceFiles } from '../tokenizer/index.js';
import { type Device, type Tensor, cat, loadSafetensors, noGrad, saveSafetensors, stack, tensor, tidy } from '../torch/index.js';

/** A tokenized split: ids `[M, V, N]` (V = 1, or 2 with mirror images), labels `[M]` (int64). */
export interface TokenSet {
  ids: Tensor;
  labels: Tensor;
  /** The token grid [h, w] (N = h·w). */
  grid: [number, number];
  vocabSize: number;
  fingerprint: string;
  dispose(): void;
}

/**
 * sha256 over the tokenizer's files (options and weights) and a description
 * of the data (dataset, split fingerprint, preprocessing, limit, flips).
 */
export const tokenFingerprint = (tokenizer: string, data: object): string => filesFingerprint(tokenizerSourceFiles(tokenizer), data);

/** sha256 over the bytes of `files` and the JSON of `extra`: a cache key that changes with any of them. */
export function filesFingerprint(files: readonly string[], extra: object): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  hash.update(JSON.stringify(extra));
  return hash.digest('hex');
}

export interface TokenizeOptions {
  /** Encode each image's mirror image too (V = 2). */
  flip?: boolean;
  batchSize?: number;
  device?: Device;
  onProgress?: (done: number, total: number) => void;
}

/** The token grid of an encoding's ids (`[B, h, w]`, or `[B, N]` read as a square). */
export function gridOf(ids: Tensor): [number, number] {
  if (ids.ndim === 3) return [ids.size(1), ids.size(2)];
  const side = Math.round(Math.sqrt(ids.size(1)));
  if (side * side !== ids.size(1)) throw new RangeError(`${ids.size(1)} tokens per image do not form a square grid`);
  return [side, side];
}

/** Encodes a split without gradients, in batches → ids `[M, V, N]` (int16 when K ≤ 32,768, else int32). */
export function tokenizeSplit(tokenizer: Tokenizer, split: PreparedSplit, fingerprint: string, o: TokenizeOptions = {}): TokenSet {
  const K = tokenizer.options.codebookSize;
  const dtype = idDtype(K);
  const loader = new DataLoader(split, { batchSize: o.batchSize ?? 256, shuffle: false, device: o.device });
  const parts: Tensor[] = [];
  let grid: [number, number] = [0, 0];
  tokenizer.eval();
  try {
    for (let b = 0, done = 0; b < loader.batchesPerEpoch; b++) {
      const batch = loader.batch(0, b);
      try {
        parts.push(noGrad(() => tidy(() => {
          const views = o.flip ? [batch.images, batch.images.flip([3])] : [batch.images];
          const ids = views.map((images) => tokenizer.encode(images).ids);
          grid = gridOf(ids[0]!);
          return stack(ids.map((t) => t.reshape(t.size(0), -1)), 1).to({ dtype, device: 'cpu' });
        })).keep());
        done += batch.labels.size(0);
      } finally {
        batch.dispose();
      }
      o.onProgress?.(done, split.count);
    }
    const ids = cat(parts, 0).keep();
    const labels = tensor(Array.from(split.labels.subarray(0, split.count)), { dtype: 'int64' }).keep();
    return tokenSet(ids, labels, grid, K, fingerprint);
  } finally {
    for (const t of parts) t.dispose();
  }
}

function tokenSet(ids: Tensor, labels: Tensor, grid: [number, number], vocabSize: number, fingerprint: string): TokenSet {
  return { ids, labels, grid, vocabSize, fingerprint, dispose: () => { ids.dispose(); labels.dispose(); } };
}

/** The narrowest integer type that holds code ids below `vocabSize`: how token files are stored. */
export const idDtype = (vocabSize: number): 'int16' | 'int32' => (vocabSize <= 32768 ? 'int16' : 'int32');

/** Writes a token set to a safetensors file (atomically), its grid, K and fingerprint in the metadata. */
export function saveTokenSet(file: string, set: TokenSet): void {
  saveSafetensors(file, { ids: set.ids, labels: set.labels }, {
    robustok: JSON.stringify({ kind: 'token-set', grid: set.grid, vocabSize: set.vocabSize, fingerprint: set.fingerprint }),
  });
}

/** The token set in `file` when it exists and carries `fingerprint`; null otherwise (absent, stale or not a token set). */
export function loadTokenSet(file: string, fingerprint: string): TokenSet | null {
  if (!existsSync(file)) return null;
  const { tensors, metadata } = loadSafetensors(file);
  let meta: { kind?: string; grid?: [number, number]; vocabSize?: number; fingerprint?: string } = {};
  try {
    meta = JSON.parse(metadata.robustok ?? '{}') as typeof meta;
  } catch {
    // unreadable metadata: treated as stale below
  }
  const { ids, labels } = tensors;
  if (meta.kind !== 'token-set' || meta.fingerprint !== fingerprint || !ids || !labels || !meta.grid || !meta.vocabSize) {
    for (const t of Object.values(tensors)) t.dispose();
    return null;
  }
  return tokenSet(ids.keep(), labels.keep(), meta.grid, meta.vocabSize, fingerprint);
}

/**
 * sha256 of a tokenizer's codebook (`[K, D]` float32 values): tokens mean the
 * same to two tokenizers exactly when their codebooks are equal, so a
 * generator's tokens may be decoded by any decoder with this fingerprint
 * (e.g. the same tokenizer after post-training).
 */
export function codebookFingerprint(tokenizer: Tokenizer): string {
  const values = tidy(() => tokenizer.quantize.embedding.weight.detach().to({ dtype: 'float32', device: 'cpu' }).contiguous().toTypedArray());
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}
