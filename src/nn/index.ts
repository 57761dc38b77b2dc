// Modules: PyTorch-named layers built on the engine.
export * from './module.js';
export * as init from './init.js';
export * from './linear.js';
export * from './conv.js';
export * from './norm.js';
export * from './embedding.js';
export * from './containers.js';
export * from './activations.js';
export * from './attention.js';
export * from './rotary.js';
export * from './mlp.js';
export * from './transformer.js';
export * from './layer_scale.js';
export { SpectralNorm, type SpectralNormOptions } from './spectral_norm.js';
export { WeightedLayer, type WeightedOptions } from './weighted.js';
