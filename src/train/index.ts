// Training infrastructure shared by the tokenizer, generator and post-training loops.
export * from './checkpoint.js';
export * from './rng_state.js';
export * from './non_finite.js';
export * from './weight_checks.js';
export * from './distributed.js';
export * from './config_groups.js';
export * from './optimisation.js';
export * from './device.js';
