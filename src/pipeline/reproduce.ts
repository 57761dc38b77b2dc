// `robustok reproduce` as a library function: the stage graph of a preset run
// stage by stage into DIR (each skipped, continued or rerun by its record,
// runner.ts), then the numbers gathered from the stage folders, the claims
// analysed, and DIR/results.json + DIR/report.html written. Run again with
// `resume` after any interruption: finished stages are skipped, an
// interrupted trainer continues from its checkpoint, and a stage whose
// config or inputs changed reruns with a line saying why.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type RunEnd, type RunEvents, abortReason } from '../runs/index.js';
import { writeFileAtomic } from '../torch/index.js';
import { analyse } from './analysis.js';
import { type PostTrainStages, type TokenizerStages, measuredPfid, orderOf, postTrainStages, postTrainTargets, tokenizerStages } from './graph.js';
import { layerConfigs } from './layer_configs.js';
import { gatherRuns } from './measurements.js';
import type { ReproducePreset } from './preset.js';
import { reproduceReportHtml } from './report.js';
import { type Results, type StageSummary, versions } from './results.js';
import { type StageOutcome, runStage } from './runner.js';
import { type StageSpec, readRecord } from './stage.js';
import type { StageFactory } from './stages.js';

export interface ReproduceOptions {
  /** Continue DIR's reproduction (required when DIR already holds one). */
  resume?: boolean;
  /** Stages run at once; only 1 for now. */
  jobs?: number;
  events?: RunEvents;
}

export type ReproduceResult = RunEnd & { dir: string; stages: StageOutcome[]; results?: string; report?: string; output?: Results };

/** DIR's marker: the preset of the latest start (and, by existing, a refusal of a second start without --resume). */
export const markerFile = (dir: string): string => path.join(dir, 'reproduce.json');

export async function reproduce(preset: ReproducePreset, dir: string, o: ReproduceOptions = {}): Promise<ReproduceResult> {
  const jobs = o.jobs ?? 1;
  // Parallel stages need each stage's own thread count and core split (docs/design.md §9); not built yet.
  if (jobs !== 1) throw new Error(`--jobs ${jobs}: --jobs > 1 is not implemented yet; run with --jobs 1 (stages one after another)`);
  const events = o.events ?? {};
  const log = (m: string) => events.log?.(m);
  const layers = layerConfigs(preset);  // every config resolved before anything trains
  if (existsSync(markerFile(dir)) && !o.resume) {
    throw new Error(`${dir} already holds a reproduction: pass --resume to continue it (finished stages are skipped), or choose another --out`);
  }
  const f: StageFactory = { dir: path.resolve(dir), config: preset.config, layers };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(markerFile(dir), [Buffer.from(`${JSON.stringify({ preset: preset.name, file: preset.file, config: preset.config, lastStartedAt: new Date().toISOString() }, null, 2)}\n`)]);

  const outcomes: StageOutcome[] = [];
  const tokenizers: TokenizerStages[] = [];
  const posts: PostTrainStages[] = [];
  const interrupted = (): ReproduceResult => ({ status: 'interrupted', reason: abortReason(events.signal), dir, stages: outcomes });
  /** Runs stages in order; false when one was interrupted (or an abort arrived between stages). */
  const runAll = async (stages: readonly StageSpec[]): Promise<boolean> => {
    for (const stage of stages) {
      if (events.signal?.aborted) return false;
      const outcome = await runStage(stage, events);
      outcomes.push(outcome);
      if (outcome.status === 'interrupted') return false;
    }
    return true;
  };

  const { sweep, baseline } = preset.config.tokenizer;
  for (const seed of preset.config.seeds) {
    const seedStages = sweep.map((v) => tokenizerStages(f, v.name, seed));
    tokenizers.push(...seedStages);
    for (const t of seedStages) if (!(await runAll(orderOf(t)))) return interrupted();
    const pfids = new Map(seedStages.map((t) => [t.name, measuredPfid(t.eval)]));
    const targets = postTrainTargets(preset.config.posttrain.tokenizers, baseline, pfids);
    log(`seed ${seed}: post-training ${targets.join(', ')} (${preset.config.posttrain.tokenizers.join(', ')})`);
    for (const name of targets) {
      const p = postTrainStages(f, seedStages.find((t) => t.name === name)!);
      posts.push(p);
      if (!(await runAll([p.post, p.eval]))) return interrupted();
    }
  }

  const runs = gatherRuns(f.dir, tokenizers, posts, layers.perturbed);
  const analysis = analyse(runs, { ...preset.config.analysis, baseline });
  const stages: StageSummary[] = outcomes.map((s) => ({ id: s.id, status: s.status === 'skipped' ? 'skipped' : 'done', minutes: readRecord(path.join(f.dir, s.id))?.minutes ?? s.minutes }));
  const output: Results = {
    versions: versions(), preset: { name: preset.name, file: preset.file, config: preset.config }, data: layers.data, runs, analysis, stages,
    minutes: stages.reduce((a, s) => a + s.minutes, 0), writtenAt: new Date().toISOString(),
  };
  const results = path.join(dir, 'results.json');
  const report = path.join(dir, 'report.html');
  writeFileAtomic(results, [Buffer.from(`${JSON.stringify(output, null, 2)}\n`)]);
  writeFileSync(report, reproduceReportHtml(output, f.dir));
  for (const claim of [analysis.claims.perturbation, analysis.claims.ranking, analysis.claims.posttraining]) log(`${claim.claim}: ${claim.line}`);
  return { status: 'done', dir, stages: outcomes, results, report, output };
}
