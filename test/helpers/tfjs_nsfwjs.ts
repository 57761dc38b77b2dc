// TensorFlow.js (@tensorflow/tfjs 4.22, a dev dependency) as the reference
// for robustok's Keras-graph networks: the same topology and weight bytes
// that robustok reads, loaded by tf.loadLayersModel, so TF.js dequantises
// the shipped uint8 weights itself. Shared by test/features_nsfwjs.test.ts
// (values) and bench/features.ts (throughput).
import * as tf from '@tensorflow/tfjs';
import type { KerasModelTopology } from '../../src/features/keras_graph.js';
import type { TfjsWeightSpec } from '../../src/features/tfjs_weights.js';

/**
 * Selects TF.js's pure-JS CPU backend: the only one that runs in Node
 * without downloads (tfjs-node fetches libtensorflow at install; the wasm
 * backend lacks kernels, docs/design.md §1). Single-threaded.
 */
export async function useTfjsCpu(): Promise<void> {
  tf.enableProdMode();  // silences TF.js's "install tfjs-node" banner
  await tf.setBackend('cpu');
}

/** A layers model from a Keras topology, its weight manifest and the weights' bytes (shards concatenated). */
export async function tfjsModel(topology: KerasModelTopology, specs: TfjsWeightSpec[], data: Uint8Array): Promise<tf.LayersModel> {
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology as unknown as object, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData }));
}
