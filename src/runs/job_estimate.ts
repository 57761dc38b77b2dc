// The expected total of a tokenizer training followed by `robustok eval`
// (the `npm start` job). The training's progress bar has an ETA for the
// training only, yet eval trains the dataset classifier on first use (when
// its file is missing) and scores every test image: on a slow 2-vCPU machine
// that was half of the job (issue #23: training 10.0 min, classifier 6.5 min,
// eval of 10,000 images 2.5 min). Printed once, after two logged steps.
//
// An estimate: this run's own time per step, measured between its first two
// progress lines (GAN off, warm-up excluded), times per-step cost ratios
// taken from the small preset's measured runs:
//  - a training step with the GAN on costs GAN_STEP_COST of one with it off
//    (issue #23: 193 against 260 images/s);
//  - a classifier step (batch 128) costs CLASSIFIER_STEP_COST of a GAN-off
//    tokenizer step (issue #23: 5.2 it/s against ~2.8 in the real run);
//  - eval costs EVAL_IMAGE_COST GAN-off tokenizer steps per test image
//    (encode, decode, perturbed decode, features: 150 s for 10,000).
// With a GAN-off step of 0.355 s they give 17.4 min for the three
// parts (measured 19 min); with the README machine's ~0.115 s, 5.6 min
// (measured 5 min 35 s for the whole job).
// Another preset's steps cost otherwise against the classifier and eval.
import { existsSync } from 'node:fs';
import { resolveConfig } from '../config/index.js';
import { openDataset } from '../data/index.js';
import { classifierSchema, classifierToRead } from '../features/index.js';
import type { ProgressEvent, RunEvents } from './events.js';

export const GAN_STEP_COST = 1.35;
export const CLASSIFIER_STEP_COST = 0.54;
export const EVAL_IMAGE_COST = 0.042;

/** What `robustok eval --data NAME` will do after the training. */
export interface EvalWork {
  data: string;
  /** The classifier's training steps; 0 when its file exists (eval then only loads it). */
  classifierSteps: number;
  /** Test images eval scores (its default: the whole test split). */
  evalImages: number;
}

/** `classifier`: the file eval would read (default: the cache's, else the shipped one, features/registry.ts). */
export async function evalWorkFor(data: string, classifier = classifierToRead(data)): Promise<EvalWork> {
  const dataset = await openDataset(data);
  const train = resolveConfig(classifierSchema, [{ data: { name: data } }], []).train;
  const missing = !existsSync(classifier);
  const classifierSteps = missing ? train.epochs * Math.floor((dataset.splits.train?.total ?? 0) / train.batchSize) : 0;
  return { data, classifierSteps, evalImages: dataset.splits.test?.total ?? 0 };
}

/** The training's steps: where it is, its total, and the step at which the GAN comes on (null: never). */
export interface TrainingSteps {
  done: number;
  total: number;
  ganStart: number | null;
}

export interface JobEstimate {
  trainingS: number;
  classifierS: number;
  evalS: number;
  totalS: number;
}

/** Seconds left in the job, from `stepS` seconds a step measured at `at` (GAN on or off there). */
export function estimateJob(stepS: number, at: TrainingSteps, work: EvalWork): JobEstimate {
  const ganFrom = at.ganStart ?? at.total;
  const ganOnNow = at.done >= ganFrom;
  const offS = ganOnNow ? stepS / GAN_STEP_COST : stepS;
  const offSteps = Math.max(0, Math.min(ganFrom, at.total) - at.done);
  const onSteps = at.total - at.done - offSteps;
  const trainingS = offS * (offSteps + GAN_STEP_COST * onSteps);
  const classifierS = offS * CLASSIFIER_STEP_COST * work.classifierSteps;
  const evalS = offS * EVAL_IMAGE_COST * work.evalImages;
  return { trainingS, classifierS, evalS, totalS: trainingS + classifierS + evalS };
}

const minutes = (s: number): string => `${(s / 60).toFixed(s < 600 ? 1 : 0)} min`;

export function describeJob(e: JobEstimate, work: EvalWork): string {
  const classifier = work.classifierSteps > 0 ? `classifier ${minutes(e.classifierS)}` : 'classifier already trained';
  return `expected total of this training and robustok eval --data ${work.data}: ~${minutes(e.totalS)} from now (training ${minutes(e.trainingS)}, ${classifier}, ` +
    `eval of ${work.evalImages} images ${minutes(e.evalS)}; an estimate from this run's step time and cost ratios measured on the small preset)`;
}

/**
 * `events` plus one log line with the job's expected total, once the
 * training's second progress line after its start has come (the first
 * includes warm-up; the two give the time per step).
 */
export function withJobEstimate(events: RunEvents, work: EvalWork, ganStart: number | null, now = () => performance.now()): RunEvents {
  let first: { done: number; ms: number } | undefined;
  let started = false;
  let said = false;
  const progress = (e: ProgressEvent) => {
    events.progress?.(e);
    if (said || e.label !== 'train') return;
    if (!started) { started = true; return; }  // the start event: the clock of the rate, no step yet
    if (!first) { first = { done: e.done, ms: now() }; return; }
    if (e.done <= first.done) return;
    said = true;
    const stepS = (now() - first.ms) / 1000 / (e.done - first.done);
    events.log?.(describeJob(estimateJob(stepS, { done: e.done, total: e.total, ganStart }, work), work));
  };
  return { ...events, progress };
}
