// The runs under --runs: every folder a robustok command wrote (tokenizer,
// generator, post-trained tokenizer, reproduce experiment and its stages),
// found by the kind each records (run.json) or the files it leaves, named
// by its path relative to --runs.
// Run names come from clients, so each is resolved here and only here:
// a name that leads outside --runs (`..`, an absolute path, a symbolic
// link pointing out) is refused with 403, one that names no run with 404.
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { type RunKind, isBeingWritten, recordedRunKind, runPaths } from '../runs/index.js';
import type { RunEntry } from './api_types.js';
import { HttpError, badRequest } from './http_error.js';

/** Folders a run keeps its own outputs in, never runs themselves. */
const NOT_RUNS = new Set(['samples', 'eval', 'node_modules']);
/** Reproduce folders nest their stages two levels down (DIR/KIND/NAME-sSEED, src/pipeline/stage_builders.ts); deeper is not looked at. */
const MAX_DEPTH = 4;

/**
 * What kind of run `dir` holds, null when none: the reproduction's own
 * record (reproduce.json, written before its stages start), else the kind
 * its trainer recorded in run.json, else what its files say.
 */
export function runKind(dir: string): RunKind | null {
  if (existsSync(path.join(dir, 'reproduce.json'))) return 'reproduce';
  return recordedRunKind(dir) ?? guessedKind(dir);
}

/**
 * The kind of a folder without run.json: a tokenizer written by `robustok
 * import` or by hand (tokenizer.json), or a run written before trainers
 * recorded their kind, told apart by its model files and, while it was
 * still training, by guessing at its config's keys. Kept so those folders
 * stay listed; a new kind of run needs no rule here, its writer records it.
 */
function guessedKind(dir: string): RunKind | null {
  if (existsSync(path.join(dir, 'generator.json'))) return 'generator';
  const config = readConfig(dir);
  if (config && 'sigma' in config) return 'post-trained tokenizer';  // only post-training's config has σ
  if (existsSync(path.join(dir, 'tokenizer.json')) || (config && 'perturbation' in config)) return 'tokenizer';
  if (config && 'sampling' in config) return 'generator';  // a generator still training (no generator.json yet)
  return null;
}

/** DIR/config.json as an object, or null when absent or unreadable (a run being started). */
export function readConfig(dir: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(readFileSync(runPaths(dir).config, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

function runStatus(dir: string, kind: RunKind): RunEntry['status'] {
  if (isBeingWritten(dir)) return 'training';
  const final = { tokenizer: 'tokenizer.safetensors', 'post-trained tokenizer': 'tokenizer.safetensors', generator: 'generator.safetensors', reproduce: 'results.json' }[kind];
  return existsSync(path.join(dir, final)) ? 'done' : 'stopped';
}

function updatedAt(dir: string): number {
  const metrics = runPaths(dir).metrics;
  return statSync(existsSync(metrics) ? metrics : dir).mtimeMs;
}

/** Every run under `root`, sorted by name. */
export function listRuns(root: string): RunEntry[] {
  const found: RunEntry[] = [];
  const visit = (dir: string, depth: number): void => {
    const kind = depth > 0 ? runKind(dir) : null;
    if (kind) found.push({ id: path.relative(root, dir).split(path.sep).join('/'), kind, status: runStatus(dir, kind), updated: updatedAt(dir) });
    if (depth >= MAX_DEPTH || (kind !== null && kind !== 'reproduce')) return;  // only a reproduce folder holds runs
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;  // removed or unreadable while scanning
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && !NOT_RUNS.has(entry.name)) visit(path.join(dir, entry.name), depth + 1);
    }
  };
  visit(root, 0);
  return found.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * A run name from a client → its folder, checked: inside `root` (after
 * following links), existing, and a run. 403 for a name that leads out,
 * 404 for one that names nothing.
 */
export function resolveRun(root: string, id: unknown, kinds?: readonly RunKind[]): { dir: string; kind: RunKind } {
  if (typeof id !== 'string' || id === '') throw badRequest(`'run' must name a run under --runs (e.g. "small"), got ${id === undefined ? 'nothing' : JSON.stringify(id)}`);
  const outside = new HttpError(403, `run '${id}' is outside --runs (${root}); runs are named by their path inside it`);
  if (path.isAbsolute(id) || id.includes('\0') || id.split(/[\\/]/).includes('..')) throw outside;
  const dir = path.join(root, id);
  if (!existsSync(dir)) throw new HttpError(404, `no run '${id}' under --runs (${root}); GET /api/runs lists them`);
  const real = realpathSync(dir);
  if (real !== root && !real.startsWith(`${root}${path.sep}`)) throw outside;
  const kind = statSync(real).isDirectory() ? runKind(real) : null;
  if (!kind) throw new HttpError(404, `'${id}' under --runs holds no run (no config.json, tokenizer.json, generator.json or reproduce.json)`);
  if (kinds && !kinds.includes(kind)) throw badRequest(`run '${id}' is a ${kind}; this needs a ${kinds.join(' or ')}`);
  return { dir: real, kind };
}
