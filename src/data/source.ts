// What a dataset loader hands to the rest of the data layer.
import type { RawImage } from './image.js';

export type SplitName = 'train' | 'test';
export const splitNames: readonly SplitName[] = ['train', 'test'];

/** A split whose decoded images are already in memory (IDX files). */
export interface MemorySplit {
  kind: 'memory';
  /** Samples in the full split, even when `limit` loaded fewer. */
  total: number;
  /** Labels of the loaded samples, in [0, classes.length). */
  labels: Int32Array;
  /** Inflates the pixels only when a split is prepared, so a warm cache skips it. */
  loadImages(): Promise<(index: number) => RawImage>;
  /** Identifies the source bytes (paths, sizes, mtimes) for the cache key. */
  fingerprint: string;
}

/** A split of image files, decoded (off the main thread) when first prepared. */
export interface FileSplit {
  kind: 'files';
  total: number;
  labels: Int32Array;
  files: string[];
  fingerprint: string;
}

export type SplitSource = MemorySplit | FileSplit;

export interface Dataset {
  name: string;
  classes: readonly string[];
  splits: Partial<Record<SplitName, SplitSource>>;
  /** Set when the test split is a seeded slice held out of the training images (held_out.ts). */
  heldOut?: { count: number; seed: number };
  /** The preprocessing that suits this dataset when the caller gives none. */
  defaults: { size: number; fit: 'resize' | 'crop' | 'pad'; channels: 1 | 3; padValue: number };
}

export interface OpenOptions {
  /** Load at most this many samples per split (tiny subsets for tests and quick looks). */
  limit?: number;
  /** Where a loader's warnings go (what it left out of a folder); default console.warn. */
  warn?: (message: string) => void;
}

/** A loader: from the part of the name after `prefix:` (for `folder:PATH`) to a dataset. */
export interface DatasetLoader {
  name: string;
  description: string;
  /** True for parametric names such as `folder:PATH`: the registry matches `name:` as a prefix. */
  prefix?: boolean;
  open(argument: string, options: OpenOptions): Promise<Dataset>;
}

/** Cuts a list to `limit`, validating it. */
export function applyLimit(total: number, limit: number | undefined): number {
  if (limit === undefined) return total;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return Math.min(total, limit);
}
