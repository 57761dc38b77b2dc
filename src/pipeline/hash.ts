// Content hashes that decide whether a stage's outputs still hold: a stage
// is identified by its kind, its resolved config and the hashes of the files
// it reads (its input stages' outputs). File contents are hashed, not
// times, so a copied or re-run folder with the same bytes still counts as
// the same input, and an edited weights file does not.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** JSON with object keys sorted at every level: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 of named files' contents in `dir` (names included, so a renamed output changes it). Throws naming a missing file. */
export function filesHash(dir: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(dir, file)));
  }
  return hash.digest('hex');
}

/** The identity of a stage run: kind, resolved config and its inputs' output hashes (by input stage id). */
export const stageHash = (kind: string, config: unknown, inputs: Record<string, string>): string =>
  createHash('sha256').update(canonicalJson({ kind, config, inputs })).digest('hex');
