// Training infrastructure shared by the tokenizer, generator and post-training
// loops, and this machine's reference figures for a training step (`robustok
// info --bench`), here so that info loads no model layer.
export * from './checkpoint.js';
export * from './rng_state.js';
export * from './streams.js';
export * from './non_finite.js';
export * from './weight_checks.js';
export * from './distributed.js';
export * from './config_groups.js';
export * from './optimisation.js';
export * from './precision.js';
export * from './device.js';
export { type MachineFigures, describeMachine, loadWarning, measureMachine } from './machine_bench.js';
export { type ReferenceStep, referenceConvStep } from './reference_step.js';
