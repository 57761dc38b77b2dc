// One run as the page shows it: its config, its metrics.jsonl (the curves:
// loss, codebook usage, α and δ, images/s, …), its test summary and eval
// results, and the sample grids it wrote. Read fresh on each request, so a
// run still training shows its latest lines; a torn last line (a write in
// progress) is left out rather than failing the request.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { type RunKind, runPaths } from '../runs/index.js';
import type { RunDetail } from './api_types.js';
import { HttpError, badRequest } from './http_error.js';
import { readConfig } from './run_catalog.js';

/** Result files shown when present. */
const RESULT_FILES = ['summary.json', 'eval/result.json', 'reproduce.json', 'results.json', 'generator.json', 'tokenizer.json'];

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;  // absent, or being rewritten
  }
}

function readMetrics(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try {
      const record: unknown = JSON.parse(line);
      return record !== null && typeof record === 'object' ? [record as Record<string, unknown>] : [];
    } catch {
      return [];  // the empty last line, or one being appended
    }
  });
}

const stepOf = (name: string): number => Number(/step-(\d+)\.png$/.exec(name)?.[1] ?? Infinity);

function imagesOf(dir: string): string[] {
  const paths = runPaths(dir);
  const samples = existsSync(paths.samples) ? readdirSync(paths.samples).filter((f) => f.endsWith('.png')) : [];
  samples.sort((a, b) => stepOf(a) - stepOf(b) || a.localeCompare(b));
  const images = samples.map((f) => `samples/${f}`);
  if (existsSync(paths.eval.samples)) images.push('eval/samples.png');
  return images;
}

export function runDetail(id: string, dir: string, kind: RunKind): RunDetail {
  const results = Object.fromEntries(RESULT_FILES.map((f) => [f, readJson(path.join(dir, f))]).filter(([, v]) => v !== undefined));
  return { id, kind, config: readConfig(dir), metrics: readMetrics(runPaths(dir).metrics), results, images: imagesOf(dir) };
}

/** Image files a client may fetch from a run: sample grids and the eval grid, nothing else. */
const SERVABLE = /^(samples\/[A-Za-z0-9_.-]+\.png|eval\/samples\.png)$/;

/** A run's image file by its name in `RunDetail.images`; 400 for any other name, 404 when it is gone. */
export function runImageFile(dir: string, name: unknown): string {
  if (typeof name !== 'string' || !SERVABLE.test(name) || name.includes('..')) {
    throw badRequest(`'file' must be one of the run's images (samples/NAME.png or eval/samples.png), got ${JSON.stringify(name ?? null)}`);
  }
  const file = path.join(dir, name);
  if (!existsSync(file)) throw new HttpError(404, `the run has no ${name}`);
  return file;
}
