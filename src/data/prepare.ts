// A dataset split → its preprocessed uint8 tensor-to-be, from the cache when
// a matching entry exists, else by decoding (file datasets on worker threads)
// and then writing the cache.
import { type PreparedSplit, cacheFile, defaultCacheDir, readCache, writeCache } from './cache.js';
import { DecodePool } from './decode_pool.js';
import type { RawImage } from './image.js';
import { ImageSizeError, type PreprocessConfig, preprocess, validatePreprocess } from './preprocess.js';
import type { Dataset, FileSplit, MemorySplit, SplitName } from './source.js';
import { skippedWarning } from './decode_skips.js';

export interface PrepareOptions {
  /** Defaults to the dataset's own (e.g. fashion-mnist: 32, pad, 1 channel). */
  preprocess?: Partial<PreprocessConfig>;
  /** Cache directory, or false to neither read nor write one. Default: defaultCacheDir(). */
  cache?: string | false;
  /** Throw on an undecodable file instead of skipping it with a warning. */
  strict?: boolean;
  /** Where the skipped-files warning goes (default console.warn). */
  warn?: (message: string) => void;
  /** Decode workers for file datasets (default: cores − 1, at most 8). */
  workers?: number;
}

export interface Prepared extends PreparedSplit {
  /** Whether the samples came from the cache (no decoding). */
  fromCache: boolean;
  cacheFile: string | null;
}

/** The cache entry a split would use, for `data info`. */
export function cacheEntry(dataset: Dataset, split: SplitName, options: PrepareOptions = {}): { file: string; key: string } | null {
  const source = dataset.splits[split];
  if (!source || options.cache === false) return null;
  const config = validatePreprocess({ ...dataset.defaults, ...options.preprocess });
  return cacheFile(options.cache ?? defaultCacheDir(), dataset.name, split, { fingerprint: source.fingerprint, count: source.labels.length, config });
}

export async function prepareSplit(dataset: Dataset, split: SplitName, options: PrepareOptions = {}): Promise<Prepared> {
  const source = dataset.splits[split];
  if (!source) throw new Error(`${dataset.name} has no '${split}' split (it has: ${Object.keys(dataset.splits).join(', ')})`);
  const config = validatePreprocess({ ...dataset.defaults, ...options.preprocess });
  const entry = cacheEntry(dataset, split, options);
  const warn = options.warn ?? ((message: string) => console.warn(message));
  if (entry) {
    const cached = readCache(entry.file, entry.key);
    if (cached) {
      if (cached.skipped.length > 0) warnSkipped(warn, dataset.name, cached.skipped, cached.count + cached.skipped.length);
      return { ...cached, fromCache: true, cacheFile: entry.file };
    }
  }
  const built = source.kind === 'memory'
    ? prepareMemory(source, await source.loadImages(), config, dataset.name)
    : await prepareFiles(source, config, dataset.name, options, warn);
  if (entry) writeCache(entry.file, entry.key, built);
  return { ...built, fromCache: false, cacheFile: entry?.file ?? null };
}

function prepareMemory(source: MemorySplit, image: (i: number) => RawImage, config: PreprocessConfig, name: string): PreparedSplit {
  const count = source.labels.length;
  const sample = config.channels * config.size * config.size;
  const images = new Uint8Array(count * sample);
  for (let i = 0; i < count; i++) images.set(preprocess(image(i), config, `${name} sample ${i}`), i * sample);
  return { images, labels: source.labels, count, channels: config.channels, size: config.size, skipped: [] };
}

/** Keeps a window of decodes in flight so memory stays bounded on large folders. */
async function prepareFiles(
  source: FileSplit, config: PreprocessConfig, name: string, options: PrepareOptions, warn: (m: string) => void,
): Promise<PreparedSplit> {
  const n = source.files.length;
  const decoded: (Uint8Array | null)[] = new Array(n).fill(null);
  const failures: { file: string; reason: string }[] = [];
  const pool = new DecodePool(options.workers);
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        try {
          decoded[i] = await pool.decode(source.files[i]!, config);
        } catch (error) {
          if (error instanceof ImageSizeError) throw error;
          failures.push({ file: source.files[i]!, reason: error instanceof Error ? error.message : String(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
  } finally {
    await pool.close();
  }
  if (failures.length > 0 && options.strict) {
    throw new Error(`${name}: ${failures.length} of ${n} images could not be decoded (strict): ` +
      failures.slice(0, 3).map((f) => `${f.file}: ${f.reason}`).join('; '));
  }
  const kept = decoded.flatMap((d, i) => (d ? [i] : []));
  if (kept.length === 0) throw new Error(`${name}: none of its ${n} images could be decoded; check that they are PNG, JPEG or WebP files`);
  const sample = config.channels * config.size * config.size;
  const images = new Uint8Array(kept.length * sample);
  kept.forEach((src, dst) => images.set(decoded[src]!, dst * sample));
  const skipped = failures.map((f) => f.file).sort();
  if (skipped.length > 0) warnSkipped(warn, name, skipped, n);
  return { images, labels: Int32Array.from(kept, (i) => source.labels[i]!), count: kept.length, channels: config.channels, size: config.size, skipped };
}

function warnSkipped(warn: (m: string) => void, name: string, skipped: string[], total: number): void {
  warn(skippedWarning(skipped, total, name, `\`robustok data info ${name} --strict\` stops at them instead, naming each`));
}
