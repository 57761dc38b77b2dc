// Comparing the numbers a training step logs on two sides (robustok and a
// benchmark's PyTorch twin): the GAN's terms flattened to `gan.NAME`, every
// number within rtol relative (plus atol for terms near zero, such as a hinge
// loss crossing 0), and the same names on both sides.
import assert from 'node:assert/strict';

/** The logged numbers of one step, flattened to name → value. */
function flat(m: object): Record<string, number> {
  const { gan, ...rest } = m as { gan?: Record<string, number> };
  assert.ok(gan, 'the GAN is on');
  return { ...rest, ...Object.fromEntries(Object.entries(gan).map(([k, v]) => [`gan.${k}`, v])) } as Record<string, number>;
}

export function compareStepMetrics(label: string, ours: object, theirs: object, rtol: number, atol: number): void {
  const a = flat(ours);
  const b = flat(theirs);
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${label}: the same numbers are logged`);
  const off = Object.keys(a).filter((k) => !(Math.abs(a[k]! - b[k]!) <= atol + rtol * Math.abs(b[k]!)))
    .map((k) => `${k}: robustok ${a[k]} vs PyTorch ${b[k]}`);
  assert.deepEqual(off, [], `${label} (rtol ${rtol}, atol ${atol})`);
}
