// Hooks around every `Tensor.backward`, the point where PyTorch's
// DistributedDataParallel averages gradients across processes (it registers
// autograd hooks on the parameters; here one hook sees the whole backward).
// Generic: the hook decides what to do with which gradients.

/** `before` runs just before a backward, `after` once it has filled `.grad`. */
export interface BackwardHook {
  before(): void;
  after(): void;
}

const hooks = new Set<BackwardHook>();

/** Adds a hook; returns its removal. */
export function addBackwardHook(hook: BackwardHook): () => void {
  hooks.add(hook);
  return () => { hooks.delete(hook); };
}

/** @internal Runs one backward between the hooks. */
export function aroundBackward(run: () => void): void {
  if (hooks.size === 0) {
    run();
    return;
  }
  for (const hook of hooks) hook.before();
  run();
  for (const hook of hooks) hook.after();
}
