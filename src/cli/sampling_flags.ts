// The sampling flags `robustok sample` and `eval-generator` share
// (docs/method.md §5), as entries of their flag tables (flags.ts), each
// checked as it is read so a bad value names its flag. A flag left out
// keeps the generator's own setting (its generator.json).
import { type Sampling, cfgSchedules } from '../generator/index.js';
import { type FlagValues, flagTable, oneOf, parseNumber, seed } from './flags.js';

const atLeastZero = (text: string, flag: string): number => parseNumber(flag, text, (v) => v >= 0, 'a number ≥ 0');

export const samplingFlags = flagTable({
  cfg: { value: 'G', help: 'classifier-free guidance scale g (1 = none; RAR-B: 6.0)', parse: atLeastZero },
  'cfg-schedule': { value: 'S', help: "constant | linear | cosine (the paper's cosine-power ramp)", parse: oneOf(cfgSchedules) },
  'cfg-power': { value: 'P', help: 'p of the cosine schedule (RAR-B: 1.15)', parse: (text, flag) => parseNumber(flag, text, (v) => v > 0, 'a number > 0') },
  temperature: { value: 'T', help: 'divides the logits; 0 = argmax (RAR-B: 1.02)', parse: atLeastZero },
  'top-k': { value: 'K', help: 'keep the K most likely tokens (0 = all)', parse: (text, flag) => parseNumber(flag, text, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0') },
  'top-p': { value: 'P', help: 'keep the most likely tokens up to mass P, in (0, 1] (1 = all)', parse: (text, flag) => parseNumber(flag, text, (v) => v > 0 && v <= 1, 'a number in (0, 1]') },
  seed: { value: 'S', help: 'seed of the draws', default: 0, parse: seed },
});

/** What the flags change of the generator's sampling settings (undefined: its own). */
export const samplingOverrides = (f: FlagValues<typeof samplingFlags>): Partial<Sampling> =>
  ({ cfg: f.cfg, schedule: f['cfg-schedule'], power: f['cfg-power'], temperature: f.temperature, topK: f['top-k'], topP: f['top-p'] });
