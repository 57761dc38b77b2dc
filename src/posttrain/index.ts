// Post-training (docs/method.md §6): the decoder fitted to the tokens a
// trained generator produces — σ-preserving sampling, the per-image draws of
// pregenerated σ-tokens, and the decoder trainer.
export * from './config.js';
export * from './preserved_sampling.js';
export * from './image_draws.js';
export * from './trainer.js';
