// `robustok reproduce` as a library function: the stage graph of a preset run
// stage by stage into DIR (each skipped, continued or rerun by its record,
// runner.ts), then the numbers gathered from the stage folders, the claims
// analysed, and DIR/results.json, DIR/report.html, DIR/summary.md and
// DIR/plots/*.svg written. Run again with
// `resume` after any interruption: finished stages are skipped, an
// interrupted trainer continues from its checkpoint, and a stage whose
// config or inputs changed reruns with a line saying why.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type ProgressEvent, type RunEnd, type RunEvents, abortReason } from '../runs/index.js';
import { writeFileAtomic } from '../torch/index.js';
import { analyse } from './analysis.js';
import { runStageInChild } from './child_stage.js';
import { entriesOn, posttrainSeeds } from './design.js';
import { stageDevices } from './stage_devices.js';
import { type PostTrainStages, type TokenizerStages, measuredPfid, orderOf, postOrderOf, postTrainStages, postTrainTargets, tokenizerStages } from './graph.js';
import { layerConfigs } from './layer_configs.js';
import { gatherRuns } from './measurements.js';
import type { ReproducePreset } from './preset.js';
import { reproduceReportHtml } from './report.js';
import { rankingPlots, reproduceMarkdown } from './summary_md.js';
import { type Results, type StageSummary, registeredPreset, versions } from './results.js';
import { type StageOutcome, runStage } from './runner.js';
import { runScheduled } from './scheduler.js';
import { type StageKind, type StageSpec, readRecord } from './stage_record.js';
import type { StageFactory } from './stage_builders.js';

export interface ReproduceOptions {
  /** Continue DIR's reproduction (required when DIR already holds one). */
  resume?: boolean;
  /**
   * Stages run at once (default 1, in this process). Above 1 each stage runs in
   * a child process with ⌊cores / jobs⌋ libtorch threads; at most the core count.
   */
  jobs?: number;
  /** The cores to divide between jobs (default: os.availableParallelism()). */
  cores?: number;
  /** cpu (default), cuda, cuda:N or auto: where the stages compute; --jobs slots take the GPUs in turn (stage_devices.ts). */
  device?: string;
  events?: RunEvents;
  /** Each stage's state as it changes, and its progress: what a live view draws. */
  onStage?(update: StageUpdate): void;
}

export type StageState = 'waiting' | 'running' | 'done' | 'skipped' | 'interrupted' | 'failed';

export interface StageUpdate {
  id: string;
  kind: StageKind;
  state: StageState;
  /** The latest progress of a running stage. */
  progress?: ProgressEvent;
}

export type ReproduceResult = RunEnd & { dir: string; stages: StageOutcome[]; results?: string; report?: string; output?: Results };

/** DIR's marker: the preset of the latest start (and, by existing, a refusal of a second start without --resume). */
export const markerFile = (dir: string): string => path.join(dir, 'reproduce.json');

/** libtorch threads of each of `jobs` parallel stages: the cores shared out, never more threads than cores. */
export function threadsPerJob(jobs: number, cores: number): number {
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new RangeError(`--jobs must be a positive integer, got ${jobs}`);
  if (jobs > cores) {
    throw new RangeError(`--jobs ${jobs} is more than the ${cores} cores here: each stage needs a core of its own ` +
      '(OpenMP threads that outnumber the cores cost up to 20×); use at most ' + cores);
  }
  return Math.floor(cores / jobs);
}

export async function reproduce(preset: ReproducePreset, dir: string, o: ReproduceOptions = {}): Promise<ReproduceResult> {
  const jobs = o.jobs ?? 1;
  const threads = threadsPerJob(jobs, o.cores ?? availableParallelism());
  const events = o.events ?? {};
  const log = (m: string) => events.log?.(m);
  const layers = layerConfigs(preset);  // every config resolved before anything trains
  const devices = stageDevices(o.device ?? 'cpu', jobs);  // a missing GPU is refused before DIR is touched
  if (existsSync(markerFile(dir)) && !o.resume) {
    throw new Error(`${dir} already holds a reproduction: pass --resume to continue it (finished stages are skipped), or choose another --out`);
  }
  const f: StageFactory = { dir: path.resolve(dir), config: preset.config, layers };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(markerFile(dir), [Buffer.from(`${JSON.stringify({ preset: preset.name, file: preset.file, config: preset.config, lastStartedAt: new Date().toISOString() }, null, 2)}\n`)]);

  const update = (spec: StageSpec, state: StageState, progress?: ProgressEvent) => o.onStage?.({ id: spec.id, kind: spec.kind, state, progress });
  const freeSlots = devices.map((_, k) => k);  // a running stage holds a slot, and with it the slot's device
  /** One stage, in this process (jobs = 1) or a child; its states and progress reported as they change. */
  const start = async (spec: StageSpec): Promise<StageOutcome> => {
    update(spec, 'running');
    const watched: RunEvents = { ...events, progress: (e) => { events.progress?.(e); update(spec, 'running', e); } };
    const slot = freeSlots.shift()!;  // the scheduler runs at most `jobs` stages, so one is free
    const device = devices[slot]!;
    try {
      const outcome = jobs === 1 ? await runStage(spec, watched, device) : await runStageInChild({ preset, dir: f.dir, device }, spec, threads, watched);
      update(spec, outcome.status);
      return outcome;
    } catch (error) {
      update(spec, 'failed');
      throw error;
    } finally {
      freeSlots.push(slot);
    }
  };
  const outcomes: StageOutcome[] = [];
  /** Schedules `stages`; false when one was interrupted or an abort arrived. */
  const runAll = async (stages: readonly StageSpec[]): Promise<boolean> => {
    for (const s of stages) update(s, 'waiting');
    const r = await runScheduled(stages, jobs, start, () => events.signal?.aborted === true);
    outcomes.push(...r.outcomes);
    return !r.interrupted;
  };
  const interrupted = (): ReproduceResult => ({ status: 'interrupted', reason: abortReason(events.signal), dir, stages: outcomes });

  // Every seed's tokenizers and generators first, then post-training: which
  // decoders are post-trained depends on the seed's measured pFIDs (graph.ts).
  const { baseline } = preset.config.tokenizer;
  const tokenizers: TokenizerStages[] = preset.config.seeds.flatMap((seed) => entriesOn(preset.config, seed).map((v) => tokenizerStages(f, v.name, seed)));
  if (!(await runAll(tokenizers.flatMap(orderOf)))) return interrupted();
  const posts: PostTrainStages[] = [];
  for (const seed of posttrainSeeds(preset.config)) {
    const seedStages = tokenizers.filter((t) => t.seed === seed);
    const targets = postTrainTargets(preset.config.posttrain.tokenizers, baseline, new Map(seedStages.map((t) => [t.name, measuredPfid(t.eval)])));
    log(`seed ${seed}: post-training ${targets.join(', ')} (${preset.config.posttrain.tokenizers.join(', ')})`);
    posts.push(...targets.map((name) => postTrainStages(f, seedStages.find((t) => t.name === name)!)));
  }
  if (!(await runAll(posts.flatMap(postOrderOf)))) return interrupted();

  const runs = gatherRuns(f.dir, tokenizers, posts, layers.perturbed);
  const analysis = analyse(runs, { ...preset.config.analysis, baseline });
  const stages: StageSummary[] = outcomes.map((s) => ({ id: s.id, status: s.status === 'skipped' ? 'skipped' : 'done', minutes: readRecord(path.join(f.dir, s.id))?.minutes ?? s.minutes }));
  const output: Results = {
    versions: versions(), preset: registeredPreset(preset), data: layers.data, runs, analysis, stages,
    minutes: stages.reduce((a, s) => a + s.minutes, 0), writtenAt: new Date().toISOString(),
  };
  const results = path.join(dir, 'results.json');
  const report = path.join(dir, 'report.html');
  writeFileAtomic(results, [Buffer.from(`${JSON.stringify(output, null, 2)}\n`)]);
  writeFileSync(report, reproduceReportHtml(output, f.dir));
  writeFileSync(path.join(dir, 'summary.md'), reproduceMarkdown(output));
  const plots = rankingPlots(output);
  mkdirSync(path.join(dir, 'plots'), { recursive: true });
  writeFileSync(path.join(dir, 'plots', 'gfid-vs-rfid.svg'), plots.rfid);
  writeFileSync(path.join(dir, 'plots', 'gfid-vs-pfid.svg'), plots.pfid);
  for (const claim of [analysis.claims.perturbation, analysis.claims.ranking, analysis.claims.posttraining]) log(`${claim.claim}: ${claim.line}`);
  return { status: 'done', dir, stages: outcomes, results, report, output };
}
