// The robustok package: the engine (`torch`) and, as they land, the layers above it.
export * as torch from './torch/index.js';
