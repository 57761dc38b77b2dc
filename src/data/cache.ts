// Preprocessed splits on disk as one uint8 file each, so later epochs and
// runs skip decoding. Layout: magic, uint32 LE header length, JSON header,
// int32 LE labels, then N×C×S×S uint8 pixels. Written atomically (a crashed
// run leaves the old file or none), named by a hash of everything that
// shapes the bytes: source fingerprint (paths, sizes, mtimes), preprocess
// config, split and subset limit.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../torch/index.js';

const magic = Buffer.from('RTOKDC01');
const formatVersion = 1;

/** A preprocessed split: `images` is N×C×S×S uint8, `labels` N int32. */
export interface PreparedSplit {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  channels: 1 | 3;
  size: number;
  /** Files that could not be decoded and were left out. */
  skipped: string[];
}

/** The first `count` samples of a split (the split itself when it has no more), sharing its memory. */
export function leadingSamples(split: PreparedSplit, count: number): PreparedSplit {
  if (count >= split.count) return split;
  const sample = split.channels * split.size * split.size;
  return { ...split, count, images: split.images.subarray(0, count * sample), labels: split.labels.subarray(0, count) };
}

interface Header {
  count: number;
  channels: 1 | 3;
  size: number;
  skipped: string[];
  key: string;
}

/** `ROBUSTOK_CACHE`, else `$XDG_CACHE_HOME/robustok`, else `~/.cache/robustok`. */
export function defaultCacheDir(): string {
  if (process.env.ROBUSTOK_CACHE) return path.resolve(process.env.ROBUSTOK_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'robustok');
}

export function cacheFile(dir: string, dataset: string, split: string, keyParts: unknown): { file: string; key: string } {
  const key = createHash('sha256').update(JSON.stringify({ formatVersion, dataset, split, keyParts })).digest('hex');
  const safe = dataset.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(-60);
  return { file: path.join(dir, 'data', `${safe}-${split}-${key.slice(0, 20)}.bin`), key };
}

/** The cached split, or null when absent or unreadable (then it is rebuilt). */
export function readCache(file: string, key: string): PreparedSplit | null {
  if (!existsSync(file)) return null;
  try {
    const bytes = readFileSync(file);
    if (!bytes.subarray(0, magic.length).equals(magic)) return null;
    const headerLength = bytes.readUInt32LE(magic.length);
    const start = magic.length + 4;
    const header = JSON.parse(bytes.subarray(start, start + headerLength).toString('utf8')) as Header;
    if (header.key !== key) return null;
    const labelsAt = start + headerLength;
    const imagesAt = labelsAt + 4 * header.count;
    const imageBytes = header.count * header.channels * header.size * header.size;
    if (bytes.length !== imagesAt + imageBytes) return null;
    const labels = new Int32Array(header.count);
    for (let i = 0; i < header.count; i++) labels[i] = bytes.readInt32LE(labelsAt + 4 * i);
    const images = new Uint8Array(bytes.buffer, bytes.byteOffset + imagesAt, imageBytes);
    return { images, labels, count: header.count, channels: header.channels, size: header.size, skipped: header.skipped };
  } catch {
    return null;
  }
}

export function writeCache(file: string, key: string, split: PreparedSplit): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const header: Header = { count: split.count, channels: split.channels, size: split.size, skipped: split.skipped, key };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const labels = Buffer.alloc(4 * split.count);
  for (let i = 0; i < split.count; i++) labels.writeInt32LE(split.labels[i]!, 4 * i);
  writeFileAtomic(file, [magic, length, json, labels, split.images]);
}
