// Parity harness: runs each case in robustok and, in one batch, in PyTorch
// (test/oracle.py under Debian's python3-torch), then compares values and
// gradients elementwise: |ours − torch| ≤ atol + rtol·|torch|.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DType, Tensor, manualSeed, mulberry32, tensor, tidy } from '../../src/torch/index.js';

export interface InputSpec {
  shape: number[];
  dtype?: DType;
  requiresGrad?: boolean;
  /** 'normal' (default), 'uniform' [0,1), 'positive' [0.5, 2), 'int:K' (integers 0..K−1), or explicit values. */
  values?: 'normal' | 'uniform' | 'positive' | `int:${number}` | number[];
}

export interface Case {
  name: string;
  inputs: InputSpec[];
  /** robustok's computation over the inputs. */
  ts: (x: Tensor[]) => Tensor | Tensor[];
  /** The same in PyTorch, over x0, x1, ... (torch, F, math in scope). */
  py: string;
  /** Python statements run before `py` (e.g. to build a module). */
  setup?: string;
  /** Compare gradients of inputs with requiresGrad (default: true when any input requires grad). */
  grad?: boolean;
  rtol?: number;
  atol?: number;
  /** Compare only shapes of these outputs (e.g. indices of ties). */
  shapeOnly?: number[];
  /** Both sides seed the global generator with this before running (default 0): same libtorch, same draws. */
  seed?: number;
}

interface Flat {
  data: number[];
  shape: number[];
}

/** Deterministic values: a seeded generator shared by nothing but this harness. */
export { mulberry32 };

function makeValues(spec: InputSpec, random: () => number): number[] {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (Array.isArray(spec.values)) return spec.values;
  const kind = spec.values ?? 'normal';
  const float32 = (spec.dtype ?? 'float32') === 'float32';
  const round = (v: number): number => (float32 ? Math.fround(v) : v);
  return Array.from({ length: n }, () => {
    if (kind === 'uniform') return round(random());
    if (kind === 'positive') return round(0.5 + 1.5 * random());
    if (kind.startsWith('int:')) return Math.floor(random() * Number(kind.slice(4)));
    const u = Math.max(random(), 1e-12);
    return round(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random()));
  });
}

function flatOf(t: Tensor): Flat {
  const data = tidy(() => {
    const source = t.dtype === 'bool' || t.dtype.startsWith('int') || t.dtype === 'uint8' ? t.to('float64') : t.detach().to('float64');
    return Array.from(source.toTypedArray() as Float64Array);
  });
  return { data, shape: t.shape };
}

export interface Outcome {
  name: string;
  problems: string[];
}

function compare(label: string, ours: Flat, theirs: Flat, rtol: number, atol: number, problems: string[]): void {
  if (ours.shape.join(',') !== theirs.shape.join(',')) {
    problems.push(`${label}: shape [${ours.shape}] vs PyTorch [${theirs.shape}]`);
    return;
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < ours.data.length; i++) {
    const a = ours.data[i]!;
    const b = theirs.data[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    problems.push(`${label}: element ${worst} is ${ours.data[worst]} vs PyTorch ${theirs.data[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * JSON.parse for Python's json.dump output, which writes non-finite floats as
 * the bare tokens NaN, Infinity and -Infinity (not JSON). They are quoted
 * outside strings, then turned back into numbers.
 */
function parseOracleJson(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text);
  const tokens = ['NaN', 'Infinity', '-Infinity'];
  const values: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity };
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    const token = ch === '"' ? undefined : tokens.find((t) => text.startsWith(t, i));
    if (ch === '"') inString = true;
    if (token) {
      out += `"\\u0000${token}"`;
      i += token.length - 1;
    } else {
      out += ch;
    }
  }
  return JSON.parse(out, (_key, value: unknown) =>
    (typeof value === 'string' && value[0] === '\u0000' && value.slice(1) in values ? values[value.slice(1)] : value));
}

const oracleScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'oracle.py');

/** Runs all cases here and in PyTorch; returns the problems found per case. */
export function runParity(cases: Case[], defaults: { rtol: number; atol: number }): Outcome[] {
  const random = mulberry32(1234);
  const prepared = cases.map((c) => {
    const inputs = c.inputs.map((spec) => ({ spec, data: makeValues(spec, random) }));
    const wantGrad = c.grad ?? c.inputs.some((s) => s.requiresGrad);
    // Run robustok's side, keeping plain numbers only.
    const ours = tidy(() => {
      const xs = inputs.map(({ spec, data }) =>
        tensor(data, { shape: spec.shape, dtype: spec.dtype ?? 'float32', requiresGrad: spec.requiresGrad }));
      manualSeed(c.seed ?? 0);
      const out = c.ts(xs);
      const outs = Array.isArray(out) ? out : [out];
      const outputs = outs.map(flatOf);
      let weights: (number[] | null)[] | undefined;
      let grads: (Flat | null)[] | undefined;
      if (wantGrad) {
        weights = outs.map((o) => (o.requiresGrad ? makeValues({ shape: o.shape }, random) : null));
        let loss: Tensor | null = null;
        outs.forEach((o, i) => {
          if (weights![i] === null) return;
          const term = o.mul(tensor(weights![i]!, { shape: o.shape, dtype: o.dtype })).sum();
          loss = loss === null ? term : loss.add(term);
        });
        if (loss === null) throw new Error(`${c.name}: no output requires grad`);
        (loss as Tensor).backward();
        grads = xs.map((x) => {
          const g = x.requiresGrad ? x.grad : null;
          return g === null ? null : flatOf(g);
        });
      }
      return { outputs, weights, grads };
    });
    return { c, inputs, ours };
  });

  const request = {
    cases: prepared.map(({ c, inputs, ours }) => ({
      name: c.name,
      expr: c.py,
      setup: c.setup ?? '',
      seed: c.seed ?? 0,
      inputs: inputs.map(({ spec, data }) => ({ data, shape: spec.shape, dtype: spec.dtype ?? 'float32', requiresGrad: !!spec.requiresGrad })),
      gradWeights: ours.weights ?? null,
    })),
  };
  const run = spawnSync('/usr/bin/python3', [oracleScript], {
    input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (run.status !== 0) throw new Error(`PyTorch oracle failed (is python3-torch installed?):\n${run.stderr}`);
  const { results } = parseOracleJson(run.stdout) as { results: { outputs?: Flat[]; grads?: (Flat | null)[]; error?: string }[] };

  return prepared.map(({ c, ours }, k) => {
    const theirs = results[k]!;
    const problems: string[] = [];
    const rtol = c.rtol ?? defaults.rtol;
    const atol = c.atol ?? defaults.atol;
    if (theirs.error) return { name: c.name, problems: [`PyTorch raised ${theirs.error}`] };
    if (theirs.outputs!.length !== ours.outputs.length) {
      problems.push(`${ours.outputs.length} outputs vs PyTorch ${theirs.outputs!.length}`);
    }
    ours.outputs.forEach((o, i) => {
      const t = theirs.outputs![i];
      if (!t) return;
      if (c.shapeOnly?.includes(i)) {
        if (o.shape.join() !== t.shape.join()) problems.push(`output ${i}: shape [${o.shape}] vs [${t.shape}]`);
      } else {
        compare(`output ${i}`, o, t, rtol, atol, problems);
      }
    });
    ours.grads?.forEach((g, i) => {
      const t = theirs.grads?.[i] ?? null;
      if ((g === null) !== (t === null)) problems.push(`grad of input ${i}: ${g === null ? 'missing here' : 'missing in PyTorch'}`);
      else if (g && t) compare(`grad of input ${i}`, g, t, rtol, atol, problems);
    });
    return { name: c.name, problems };
  });
}

/**
 * A node:test test that runs `cases` here and in PyTorch, one subtest per
 * case (so a failure names its op), after checking the case names are unique.
 */
export function parityTest(title: string, cases: Case[], tolerance: { rtol: number; atol: number }): void {
  test(title, async (t) => {
    const names = cases.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, 'case names are unique');
    for (const outcome of runParity(cases, tolerance)) {
      await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
    }
  });
}
