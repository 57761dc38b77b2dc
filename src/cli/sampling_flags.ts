// The sampling flags `robustok sample` and `eval-generator` share
// (docs/method.md §5), each checked as it is read so a bad value names its flag.
import { type CfgSchedule, type Sampling, cfgSchedules } from '../generator/index.js';
import { type FlagValue, parseNumber } from './flags.js';

export const samplingUsage = `  --cfg G                classifier-free guidance scale g (1 = none; RAR-B: 6.0)
  --cfg-schedule S       constant | linear | cosine (the paper's cosine-power ramp)
  --cfg-power P          p of the cosine schedule (RAR-B: 1.15)
  --temperature T        divides the logits; 0 = argmax (RAR-B: 1.02)
  --top-k K              keep the K most likely tokens (0 = all)
  --top-p P              keep the most likely tokens up to mass P, in (0, 1] (1 = all)
  --seed S               seed of the draws (default 0)
  (defaults: the sampling settings in the generator's generator.json)`;

/** Reads one sampling flag into `into`; false when `flag` is not one. */
export function readSamplingFlag(flag: string, read: FlagValue, into: Partial<Sampling> & { seed?: number }): boolean {
  if (flag === '--cfg') into.cfg = parseNumber(flag, read.value(), (v) => v >= 0, 'a number ≥ 0');
  else if (flag === '--cfg-schedule') {
    const s = read.value();
    if (!cfgSchedules.includes(s as CfgSchedule)) throw new Error(`--cfg-schedule must be one of ${cfgSchedules.join(', ')}, got '${s}'`);
    into.schedule = s as CfgSchedule;
  } else if (flag === '--cfg-power') into.power = parseNumber(flag, read.value(), (v) => v > 0, 'a number > 0');
  else if (flag === '--temperature') into.temperature = parseNumber(flag, read.value(), (v) => v >= 0, 'a number ≥ 0');
  else if (flag === '--top-k') into.topK = parseNumber(flag, read.value(), (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  else if (flag === '--top-p') into.topP = parseNumber(flag, read.value(), (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  else if (flag === '--seed') into.seed = read.seed();
  else return false;
  return true;
}
