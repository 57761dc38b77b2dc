// The one place a `--tokenizer` argument becomes a model: either a robustok
// tokenizer folder (tokenizer.json + tokenizer.safetensors, what
// train-tokenizer, post-train and `robustok import` write) or `KIND:PATH`,
// a published tokenizer's released file read as it is (published.ts).
// Every command that takes a tokenizer goes through here, so both forms
// work wherever one does.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type ImageSpec, readImageSpec } from './io.js';
import { Tokenizer } from './model.js';
import { type PublishedKind, isPublishedKind, loadPublished, publishedKinds, publishedSpec } from './published.js';

export type TokenizerRef = { folder: string } | { kind: PublishedKind; file: string };

/** `KIND:PATH` (KIND a published kind) or a folder; an unknown `word:` prefix on a path that is no folder is an error naming the kinds. */
export function parseTokenizerRef(ref: string): TokenizerRef {
  const match = /^([a-z][a-z0-9-]*):(.+)$/.exec(ref);
  if (!match) return { folder: ref };
  const [, kind, file] = match as unknown as [string, string, string];
  if (isPublishedKind(kind)) return { kind, file };
  if (existsSync(ref)) return { folder: ref };
  throw new Error(`--tokenizer ${ref}: '${kind}' is not a tokenizer kind (${publishedKinds.join(', ')}) and ${ref} is not a folder`);
}

export interface OpenedTokenizer {
  model: Tokenizer;
  /** The images it reads: its training size and channels. */
  image: ImageSpec;
}

/** The tokenizer named by `ref` (folder or KIND:PATH), in eval mode, with its image geometry. */
export function openTokenizer(ref: string): OpenedTokenizer {
  const parsed = parseTokenizerRef(ref);
  if ('folder' in parsed) {
    const model = Tokenizer.load(parsed.folder);
    try {
      return { model, image: readImageSpec(parsed.folder) };
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  const { model, image } = loadPublished(parsed.kind, parsed.file);
  return { model, image };
}

/** The image geometry of `ref` without loading its weights. */
export function tokenizerImageSpec(ref: string): ImageSpec {
  const parsed = parseTokenizerRef(ref);
  return 'folder' in parsed ? readImageSpec(parsed.folder) : publishedSpec(parsed.kind).image;
}

/** The files whose bytes make the tokenizer (for cache fingerprints): the folder's two, or the released file. */
export function tokenizerSourceFiles(ref: string): string[] {
  const parsed = parseTokenizerRef(ref);
  return 'folder' in parsed ? ['tokenizer.json', 'tokenizer.safetensors'].map((f) => path.join(parsed.folder, f)) : [parsed.file];
}

/** `ref` with its path made absolute (a run records it, to find the tokenizer again from elsewhere). */
export function absoluteTokenizerRef(ref: string): string {
  const parsed = parseTokenizerRef(ref);
  return 'folder' in parsed ? path.resolve(parsed.folder) : `${parsed.kind}:${path.resolve(parsed.file)}`;
}
