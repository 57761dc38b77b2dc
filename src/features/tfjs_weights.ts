// Weights of a TF.js model: a manifest (one spec per tensor: name, shape,
// dtype, optional quantisation) over one byte stream, the shards of every
// manifest group concatenated in order. This is the format of `model.json`
// plus `group1-shardNofM` files that tensorflowjs_converter writes and
// TF.js's `io.decodeWeights` reads; tensors are packed back to back in spec
// order with no padding between them.
import { type Tensor, tensor } from '../torch/index.js';

/** One entry of a TF.js `weightsManifest[i].weights` list. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  /** Affine quantisation: value = q·scale + min, q stored as uint8 or uint16. */
  quantization?: { dtype: string; min?: number; scale?: number };
}

const bytesPer: Record<string, number> = { uint8: 1, uint16: 2 };

/**
 * Decodes every spec from `data` into a float32 tensor of the spec's shape
 * (Keras's own layout, e.g. a Conv2D kernel stays `[kh, kw, in, out]`).
 * `what` names the model in errors. Throws when the bytes do not match the
 * manifest (too few, or left over: a shard missing or from another model).
 */
export function decodeTfjsWeights(specs: TfjsWeightSpec[], data: Uint8Array, what: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  let offset = 0;
  try {
    for (const spec of specs) {
      if (out.has(spec.name)) throw new Error(`${what}: the weights manifest lists ${spec.name} twice`);
      if (spec.dtype !== 'float32') {
        throw new Error(`${what}: weight ${spec.name} has dtype ${spec.dtype}; only float32 weights are supported`);
      }
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const q = spec.quantization;
      const width = q === undefined ? 4 : bytesPer[q.dtype];
      if (width === undefined) {
        throw new Error(`${what}: weight ${spec.name} is quantised as ${q!.dtype}; only uint8 and uint16 quantisation are supported`);
      }
      const size = count * width;
      if (offset + size > data.byteLength) {
        throw new Error(`${what}: the weight data ends at byte ${data.byteLength}, but ${spec.name} needs bytes ` +
          `${offset}–${offset + size} (a missing or truncated shard?)`);
      }
      // Copying the slice aligns it, whatever the offset in the stream.
      const raw = data.slice(offset, offset + size).buffer;
      let values: Float32Array;
      if (q === undefined) {
        values = new Float32Array(raw);
      } else {
        if (typeof q.min !== 'number' || typeof q.scale !== 'number') {
          throw new Error(`${what}: weight ${spec.name} is quantised without numeric min and scale`);
        }
        const codes = q.dtype === 'uint8' ? new Uint8Array(raw) : new Uint16Array(raw);
        values = new Float32Array(count);
        // Same arithmetic as TF.js (a double product and sum, rounded once
        // to float32), so both dequantise to identical weights.
        for (let i = 0; i < count; i++) values[i] = codes[i]! * q.scale + q.min;
      }
      out.set(spec.name, tensor(values, { shape: spec.shape }).keep());
      offset += size;
    }
    if (offset !== data.byteLength) {
      throw new Error(`${what}: the manifest accounts for ${offset} bytes but the weight data has ${data.byteLength} ` +
        '(shards from another model?)');
    }
  } catch (error) {
    for (const t of out.values()) t.dispose();
    throw error;
  }
  return out;
}
