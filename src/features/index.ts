// Feature networks: what FID-style metrics and perceptual losses look through.
export { type FeatureNetwork } from './network.js';
export { type NetworkInput, runOnImages, toNetworkInput } from './preprocess.js';
export * from './classifier.js';
export * from './classifier_training.js';
export * from './inception_blocks.js';
export * from './inception_fid.js';
export * from './vgg16.js';
export * from './lpips.js';
export * from './tfjs_weights.js';
export * from './keras_layers.js';
export * from './keras_graph.js';
export * from './nsfwjs.js';
export * from './registry.js';
