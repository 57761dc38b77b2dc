// The class-conditional autoregressive generator over a tokenizer's codes
// (docs/method.md §5): model, token dataset, training, sampling, files.
export * from './guidance.js';
export * from './config.js';
export * from './model.js';
export * from './sample.js';
export * from './token_dataset.js';
export * from './trainer.js';
export * from './io.js';
