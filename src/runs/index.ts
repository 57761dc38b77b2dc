// Runs: the library functions behind every robustok command — a typed
// config, a run folder, and events (progress, log lines, an AbortSignal) in;
// files and a result out. The CLI, the coming pipeline and the web server
// all call these; none of them prints.
export * from './events.js';
export * from './layout.js';
export * from './run_folder.js';
export { RUN_KINDS, type RunKind } from './run_kind.js';
export { YOUNG_LOCK_MS } from './lock.js';
export { bootId, processStartTime } from './process_identity.js';
export * from './run_config.js';
export { refuseNonFiniteResults } from './finite_results.js';
export * from './train_tokenizer.js';
export * from './train_classifier.js';
export * from './eval_tokenizer.js';
export * from './train_generator.js';
export * from './generator_pair.js';
export * from './eval_generator.js';
export * from './post_train.js';
export * from './post_train_compare.js';
export * from './loss_networks.js';
export { type EvalWork, type JobEstimate, evalWorkFor, estimateJob, describeJob, withJobEstimate } from './job_estimate.js';
