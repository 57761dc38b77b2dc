// Antialiased bilinear resampling of uint8 images (as PIL's BILINEAR with
// reducing_gap off): downscaling widens the triangle filter so that every
// source pixel contributes, which keeps small datasets free of aliasing.

/** Per output index: first source index and normalised weights. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/** Filter taps mapping the source span [from, from+span) of an axis onto `outSize` samples. */
function taps(from: number, span: number, inSize: number, outSize: number): Taps {
  const scale = span / outSize;
  const support = Math.max(1, scale);
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let o = 0; o < outSize; o++) {
    const centre = from + (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let total = 0;
    const n = Math.min(stride, hi - lo);
    for (let k = 0; k < n; k++) {
      const w = Math.max(0, 1 - Math.abs((lo + k + 0.5 - centre) / support));
      weights[o * stride + k] = w;
      total += w;
    }
    if (total === 0) {  // degenerate span: nearest pixel
      weights[o * stride] = 1;
      total = 1;
    }
    for (let k = 0; k < n; k++) weights[o * stride + k]! /= total;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, stride };
}

/** A crop box in source pixels (fractional allowed). */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Resamples the `box` of a CHW uint8 image (`channels × inH × inW`) to
 * `channels × outH × outW`. Separable: rows first into a float buffer, then columns.
 */
export function resampleChw(
  src: Uint8Array, channels: number, inH: number, inW: number,
  box: Box, outH: number, outW: number,
): Uint8Array {
  const out = new Uint8Array(channels * outH * outW);
  if (box.top === 0 && box.left === 0 && box.height === inH && box.width === inW && outH === inH && outW === inW) {
    out.set(src.subarray(0, out.length));
    return out;
  }
  const tx = taps(box.left, box.width, inW, outW);
  const ty = taps(box.top, box.height, inH, outH);
  const rows = new Float32Array(inH * outW);
  for (let c = 0; c < channels; c++) {
    const plane = c * inH * inW;
    for (let y = 0; y < inH; y++) {
      for (let o = 0; o < outW; o++) {
        let acc = 0;
        const s = plane + y * inW + tx.start[o]!;
        for (let k = 0; k < tx.count[o]!; k++) acc += src[s + k]! * tx.weights[o * tx.stride + k]!;
        rows[y * outW + o] = acc;
      }
    }
    const dst = c * outH * outW;
    for (let o = 0; o < outH; o++) {
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let k = 0; k < ty.count[o]!; k++) acc += rows[(ty.start[o]! + k) * outW + x]! * ty.weights[o * ty.stride + k]!;
        out[dst + o * outW + x] = acc < 0 ? 0 : acc > 255 ? 255 : Math.round(acc);
      }
    }
  }
  return out;
}
