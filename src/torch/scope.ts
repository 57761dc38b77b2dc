// Native tensors are invisible to V8's garbage collector until it runs out
// of JS heap, so memory is freed explicitly: `dispose()`, `using`, or a
// scope that frees every tensor created inside it except what it returns.
import { native as N } from './native.js';
import type { Tensor } from './tensor.js';

const stack: Tensor[][] = [];

/**
 * The garbage collector's safety net for tensors outside every scope: when
 * such a Tensor object is collected, its native memory is freed. Tensors in
 * a scope skip it (the scope frees them), which keeps the per-op cost of a
 * training loop free of weak references. Disposing a tensor that the
 * registry later reports is harmless: its handle is stale by then.
 */
const collected = new FinalizationRegistry<unknown>((handle) => N.dispose(handle));

/**
 * Hands a tensor to the GC safety net (tensors that outlive scopes), and
 * only then tells V8 how much native memory it holds, so that scoped
 * tensors, freed deterministically, never prompt a collection.
 */
export function escape(tensor: Tensor): void {
  collected.register(tensor, tensor.handle);
  N.reportMemory(tensor.handle);
}

/** Records a new tensor in the innermost open scope, or hands it to the GC safety net. */
export function track(tensor: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1]!.push(tensor);
  else escape(tensor);
}

/**
 * Forgets a tensor that was just disposed if it is the scope's newest: the
 * common "create, use, dispose" pattern then leaves nothing for the scope to
 * hold, so a long loop inside one scope keeps no dead Tensor objects alive.
 */
export function untrackNewest(tensor: Tensor): void {
  const top = stack[stack.length - 1];
  if (top !== undefined && top[top.length - 1] === tensor) top.pop();
}

function collectReturned(value: unknown, into: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectReturned(item, into, isTensor, depth + 1);
  } else if (value instanceof Map) {
    for (const item of value.values()) collectReturned(item, into, isTensor, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collectReturned(item, into, isTensor, depth + 1);
  }
}

let tensorCheck: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
/** @internal Set by tensor.ts, which this module cannot import (cycle). */
export function setTensorCheck(check: (v: unknown) => v is Tensor): void {
  tensorCheck = check;
}

/**
 * Runs `fn` and disposes every tensor created during it, except the tensors
 * in its result (found in arrays, Maps and plain objects), which move to the
 * enclosing scope. `fn` must be synchronous: an awaited promise would let
 * other work create tensors inside the scope.
 */
export function tidy<T>(fn: () => T): T {
  const created: Tensor[] = [];
  stack.push(created);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy() takes a synchronous function; await outside the scope');
  } catch (error) {
    stack.pop();
    for (const tensor of created) if (!tensor.kept) tensor.dispose();
    throw error;
  }
  stack.pop();
  const returned = new Set<Tensor>();
  collectReturned(result, returned, tensorCheck);
  for (const tensor of created) {
    if (returned.has(tensor)) track(tensor);
    else if (!tensor.kept) tensor.dispose();
  }
  return result;
}

/** Whether a scope is open (tensors created now will be freed by it). */
export const inScope = (): boolean => stack.length > 0;
