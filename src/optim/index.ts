// Optimizers, learning-rate schedules, gradient clipping and accumulation,
// and EMA of weights; everything checkpointable through Stateful.
export * from './state.js';
export * from './optimizer.js';
export * from './adamw.js';
export * from './sgd.js';
export * from './decay-groups.js';
export * from './schedule.js';
export * from './scheduler.js';
export * from './clip.js';
export * from './accumulate.js';
export * from './ema.js';
export * from './grad_scaler.js';
