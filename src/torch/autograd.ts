// Gradient mode and torch.autograd.grad.
import { native as N } from './native.js';
import { Tensor, wrapAll } from './tensor.js';

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = N.setGradEnabled(enabled) as boolean;
  try {
    return fn();
  } finally {
    N.setGradEnabled(previous);
  }
}

/** Runs `fn` without recording operations for autograd (torch.no_grad). */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);
/** Runs `fn` with recording on, even inside `noGrad` (torch.enable_grad). */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);
export const isGradEnabled = (): boolean => N.isGradEnabled();

export interface GradOptions {
  /** Upstream gradients, one per output (default: ones for scalar outputs). */
  gradOutputs?: Tensor[];
  /** Keep the graph for another backward pass (default: createGraph). */
  retainGraph?: boolean;
  /** Build a graph of the gradient itself, for higher-order terms (gradient penalties). */
  createGraph?: boolean;
  /** Return null for inputs that the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

/**
 * d(outputs)/d(inputs) without accumulating into `.grad` (torch.autograd.grad).
 * The VQGAN adaptive weight takes the gradient norms of two losses at the
 * decoder's last layer this way.
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  return wrapAll(N.autogradGrad(
    outs.map((t) => t.handle), ins.map((t) => t.handle), options.gradOutputs?.map((t) => t.handle) ?? null,
    options.retainGraph ?? null, options.createGraph ?? false, options.allowUnused ?? false,
  ));
}
