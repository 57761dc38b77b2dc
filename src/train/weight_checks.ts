// Tensors read from (or about to be written to) a weights file are checked
// before they reach a model, because neither problem shows up later as an
// error:
//  - an integer tensor where a float one belongs is cast silently by
//    copy_(), giving a model that runs but reconstructs noise;
//  - a NaN or infinite value spreads through every forward pass, and a run
//    resumed from it trains on, exports NaN weights and reports "PSNR NaN".
// Both checks name the file and the first bad tensor. The finiteness check
// reads one flag for all tensors of a device (a host read per tensor would
// be hundreds of GPU syncs a checkpoint), and looks for the culprit only
// when that flag says there is one.
import { type Tensor, isFloatingPoint, stack, tidy } from '../torch/index.js';

/** A weights file that holds (or would hold) NaN or infinite values. */
export class NonFiniteWeightsError extends Error {
  constructor(readonly file: string, readonly tensor: string, message: string) {
    super(message);
    this.name = 'NonFiniteWeightsError';
  }
}

const INTEGER_FIX = 'export the weights as float32 (or float16/bfloat16)';

/**
 * Refuses the first of `tensors` (name → tensor) that is not floating point:
 * `expected` says why it must be ("a tokenizer's weights are all floating point").
 */
export function refuseIntegerWeights(file: string, tensors: Iterable<[string, Tensor]>, expected: string, fix = INTEGER_FIX): void {
  for (const [name, { dtype }] of tensors) {
    if (isFloatingPoint(dtype)) continue;
    throw new Error(`${file}: tensor '${name}' has dtype ${dtype}, but ${expected} ` +
      `(an integer copy would be cast silently and give a broken model) — ${fix}`);
  }
}

/** How many of `t`'s values are NaN or ±Infinity (0 for integer tensors). */
function nonFiniteCount(t: Tensor): number {
  if (!isFloatingPoint(t.dtype)) return 0;
  return tidy(() => (t.isfinite().all().item() ? 0 : t.isfinite().logicalNot().sum().item()));
}

/** Whether every floating-point value of `tensors` is finite: one host read per device. */
function allFinite(tensors: Tensor[]): boolean {
  return tidy(() => {
    const flags = new Map<string, Tensor[]>();
    for (const t of tensors.filter((x) => isFloatingPoint(x.dtype))) flags.set(t.device, [...(flags.get(t.device) ?? []), t.isfinite().all()]);
    return [...flags.values()].every((f) => stack(f).all().item() !== 0);
  });
}

/**
 * Throws NonFiniteWeightsError for the first of `tensors` holding a NaN or
 * infinite value. `verb` says what happened to the file ("was loaded",
 * "is not written"); `fix` what to do instead.
 */
export function refuseNonFiniteWeights(file: string, tensors: Iterable<[string, Tensor]>, verb: string, fix: string): void {
  const named = [...tensors];
  if (allFinite(named.map(([, t]) => t))) return;
  for (const [name, t] of named) {
    const bad = nonFiniteCount(t);
    if (bad === 0) continue;
    throw new NonFiniteWeightsError(file, name, `${file} ${verb}: tensor '${name}' holds ${bad} NaN or infinite value${bad === 1 ? '' : 's'} ` +
      `(of ${t.numel}) — ${fix}`);
  }
}
