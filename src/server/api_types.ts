// The HTTP API's routes and the JSON each answers, declared once: the
// server's route table is typed against `ApiAnswers` (a route missing from
// either side, or an answer of another shape, does not compile), and the
// page (web/) imports these with `import type`. Types only, importing only
// other import-free files, so the page's compile (web/tsconfig.json)
// reaches no server code and nothing of it ships to the browser.
import type { CodeDistance } from '../metrics/code_distance.js';
import type { RunKind } from '../runs/run_kind.js';

export type { RunKind };

export interface RunEntry {
  /** The folder relative to --runs, with '/' separators: the run's name in the API. */
  id: string;
  kind: RunKind;
  /** 'training' while a live process holds the folder's lock; 'done' once the model files exist; else 'stopped'. */
  status: 'training' | 'done' | 'stopped';
  /** Last change of metrics.jsonl (or of the folder), ms since the epoch: the page refetches a run when it moves. */
  updated: number;
}

export interface RunDetail {
  id: string;
  kind: RunKind;
  config: Record<string, unknown> | null;
  /** metrics.jsonl, one object per logged step. */
  metrics: Record<string, unknown>[];
  /** Files with results, by name (summary.json, eval/result.json, reproduce.json, results.json, generator.json, tokenizer.json). */
  results: Record<string, unknown>;
  /** Image files the run wrote, relative to its folder (sample grids, the eval grid), oldest step first. */
  images: string[];
}

// The labs' answers are generic in the image: the inference worker returns
// them with raw images (lab_protocol.ts), the routes with PNG data URLs.

export interface Reconstruction<I> {
  /** `[h, w]` of the token grid. */
  grid: [number, number];
  codebookSize: number;
  /** The image as the tokenizer sees it (fitted to its side and channels), its clean reconstruction, and the one from perturbed tokens. */
  images: { original: I; clean: I; perturbed: I };
  /** Code ids, row-major: the encoder's, and after perturbation and the overrides. */
  ids: number[];
  perturbedIds: number[];
  /** Per token: its δ nearest codes to the continuous latent, nearest first (what a redraw and a click choose from). */
  candidates: number[][];
  /** Milliseconds of model time (encode, perturb, decode twice), without queueing or PNG encoding. */
  ms: number;
}

export interface Neighbours {
  code: number;
  /** The codebook's metric, which ranks the neighbours (as it ranks a perturbed token's candidates, docs/method.md §2). */
  metric: CodeDistance;
  /** The nearest other codes by that metric, nearest first, each with its cosine to `code`. */
  neighbours: { code: number; cosine: number }[];
}

export interface Sample<I> {
  grid: [number, number];
  ids: number[];
  /** One image per decoder, in the order asked. */
  images: I[];
  ms: number;
}

export interface Preserved<I> {
  grid: [number, number];
  /** The σ-tokens, row-major. */
  ids: number[];
  /** Per position: whether the ground-truth token was kept. */
  kept: boolean[];
  /** Per decoder: the ground-truth tokens decoded, and the σ-tokens decoded. */
  truth: I[];
  images: I[];
  ms: number;
}

/** A lab answer as it crosses HTTP: images as PNG data URLs, with the settings it was computed at. */
export interface ReconstructAnswer extends Reconstruction<string> {
  run: string;
  alpha: number;
  delta: number;
  seed: number;
}

export interface SampleAnswer extends Sample<string> {
  run: string;
  className: string;
  /** The sampling settings used: the generator's, with the request's on top (src/generator/config.ts). */
  sampling: object;
}

export interface PreservedAnswer extends Preserved<string> {
  run: string;
  sigma: number;
  className: string;
}

/**
 * Every route and its answer. `Blob`: the route answers with a file's bytes
 * (the page points an <img> at it), not JSON. Query fields and request
 * bodies are checked by the server (lab_routes.ts), which names any it refuses.
 */
export interface ApiAnswers {
  'GET /api/runs': { root: string; runs: RunEntry[] };
  'GET /api/run': RunDetail;
  'GET /api/run/file': Blob;
  'POST /api/upload': { upload: string; width: number; height: number };
  'POST /api/tokenizer/reconstruct': ReconstructAnswer;
  'GET /api/tokenizer/neighbours': Neighbours;
  'POST /api/generator/sample': SampleAnswer;
  'POST /api/generator/preserved': PreservedAnswer;
}

export type ApiRoute = keyof ApiAnswers;

/** What the server adds to every JSON answer: its time on the request, ms. */
export interface Timed {
  serverMs: number;
}

/** A refused request's answer (4xx, 5xx). */
export interface ErrorAnswer {
  error: string;
}
