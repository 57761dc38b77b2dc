// Shared by the checkpoint tests: the PyTorch side (test/checkpoint_oracle.py),
// tensor descriptions that compare bit for bit, and scratch folders.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DType, dtypeCode } from '../../src/torch/dtype.js';
import { type PtValue, Tensor, liveTensors, tidy } from '../../src/torch/index.js';
import { native as N } from '../../src/torch/native.js';
import { wrap } from '../../src/torch/tensor.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'checkpoint_oracle.py');

/** Runs one command of checkpoint_oracle.py on the files in `dir` and returns its JSON answer. */
export function oracle<T>(command: 'safetensors' | 'pt', dir: string): T {
  const run = spawnSync('/usr/bin/python3', [script, command, dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`checkpoint_oracle.py ${command} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** As checkpoint_oracle.py describes a tensor: raw bytes in C order, and values as float64. */
export interface Described {
  dtype: string;
  shape: number[];
  hex: string;
  values: (number | string)[];
}

const number = (v: number): number | string => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');

export const describeTensor = (t: Tensor): Described => tidy(() => ({
  dtype: t.dtype,
  shape: t.shape,
  hex: Buffer.from(N.toArrayBuffer(t.handle)).toString('hex'),
  values: Array.from(t.to('float64').toTypedArray() as Float64Array, number),
}));

/** A tensor of any dtype holding exactly `bytes` (half floats and booleans have no typed array). */
export const fromBytes = (bytes: Uint8Array, shape: number[], dtype: DType): Tensor =>
  wrap(N.fromData(bytes, shape, dtypeCode(dtype), null));

/** A fresh temporary folder, removed when the process exits. */
export function scratchDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-checkpoint-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `fn` in a scope and checks that it leaves no tensor alive. */
export function withoutLeaks(fn: () => void): void {
  const before = liveTensors();
  tidy(fn);
  assert.equal(liveTensors(), before, 'tensors left alive');
}

/** A checkpoint's tree as checkpoint_oracle.py describes it, less Python's type names. */
export type Tree =
  | { tensor: Described; requiresGrad: boolean }
  | { dict: [string, Tree][] }
  | { list: Tree[] }
  | { value: unknown };

const byKey = (a: [string, unknown], b: [string, unknown]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** A loaded value as a Tree: dict keys sorted, tensors described by value. */
export function describeTree(value: PtValue): Tree {
  if (value instanceof Tensor) return { tensor: describeTensor(value), requiresGrad: value.requiresGrad };
  if (Array.isArray(value)) return { list: value.map(describeTree) };
  if (value !== null && typeof value === 'object') {
    return { dict: Object.entries(value).map(([key, item]): [string, Tree] => [key, describeTree(item)]).sort(byKey) };
  }
  return { value };
}

/** Python's description made comparable: no type names, keys as strings (JS has no others), sorted. */
export function normalize(tree: Tree & { type?: string }): Tree {
  if ('tensor' in tree) return { tensor: tree.tensor, requiresGrad: tree.requiresGrad };
  if ('list' in tree) return { list: tree.list.map(normalize) };
  if ('dict' in tree) return { dict: tree.dict.map(([k, v]): [string, Tree] => [String(k), normalize(v)]).sort(byKey) };
  return { value: tree.value };
}
