// `robustok eval-generator --generator DIR [--tokenizer DIR] [--data NAME] [--split test]
//                          [--features NAME] [--n N] [sampling flags] [--json]`
//
// flags → runs/eval_generator.ts; prints a table (or one JSON object). Every
// number names the feature network, the number of samples and the sampling.
import path from 'node:path';
import { type GeneratorEvalSummary, evalGenerator } from '../runs/index.js';
import { evalFlags, withError } from './eval_flags.js';
import { finishProfile, profileFlag, startProfile } from './profile_flag.js';
import { flagLines, flagTable, positiveInteger, readFlags, wantsHelp } from './flags.js';
import { cliEvents } from './run_events.js';
import { samplingFlags, samplingOverrides } from './sampling_flags.js';

const flags = flagTable({
  generator: { value: 'DIR', help: 'the trained generator', required: true },
  tokenizer: { value: 'DIR', help: 'decode with this tokenizer (same codebook) instead of the generator\'s own' },
  data: { value: 'NAME', help: 'dataset of the real images (default: the generator\'s)' },
  ...evalFlags,
  ...profileFlag,
  n: { value: 'N', help: 'samples (default 10000)', parse: positiveInteger },
  device: { value: 'D', help: 'cpu, cuda, cuda:N or auto: where sampling and decoding run (scoring stays on the CPU)', default: 'cpu' },
  ...samplingFlags,
  out: { value: 'FOLDER', help: 'where result.json, report.html and samples.png go (default DIR/eval)' },
});

export const evalGeneratorUsage = `usage: robustok eval-generator --generator DIR [options]

Samples class-balanced images from a trained generator and scores them against
a split's real images: gFID, Inception Score, precision and recall (k = 3).

${flagLines(flags)}
Sampling flags left out take the generator's own settings (its generator.json).
The sample ids are drawn once per sampling setting, seed and n, and cached in
DIR/eval/samples-*.safetensors: another decoder (--tokenizer) is scored on the same tokens.`;

export async function evalGeneratorCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(evalGeneratorUsage);
    return;
  }
  const f = readFlags(argv, flags, evalGeneratorUsage);
  const events = cliEvents({ signals: false });
  startProfile(f.profile, f.device);
  try {
    const { summary, report } = await evalGenerator({
      generator: f.generator, tokenizer: f.tokenizer, data: f.data, split: f.split, features: f.features, weights: f.weights, n: f.n, batchSize: f.batch,
      out: f.out, seed: f.seed, sampling: samplingOverrides(f), device: f.device, events,
      noise: f['fid-replicates'] > 0 ? { replicates: f['fid-replicates'], seed: f.seed } : undefined,
    });
    finishProfile(path.dirname(report), 'eval-generator');
    if (f.json) console.log(JSON.stringify(jsonOf(summary)));
    else printTable(summary);
    console.error(`report: ${report}`);
  } finally {
    events.close();
  }
}

/** The JSON line: the numbers and what they were measured with. */
function jsonOf(r: GeneratorEvalSummary): object {
  const { generator: _g, ...rest } = r;
  return { ...rest, is: r.is?.mean ?? null, isStd: r.is?.std ?? null };
}

function printTable(r: GeneratorEvalSummary): void {
  const s = r.sampling;
  const at = `${r.features}, ${r.n} samples vs ${r.real} real${r.biased ? ', biased' : ''}`;
  const lines: [string, string][] = [
    [`gFID (${at})`, withError(r.gfid, r.noise?.gfid)],
    [`Inception Score (${r.features}, ${r.n} samples)`, r.is ? `${r.is.mean.toFixed(3)} ± ${r.is.std.toFixed(3)}` : 'n/a (no classifier head)'],
    [`precision / recall (k = 3, ${at})`, `${r.precision.toFixed(3)} / ${r.recall.toFixed(3)}`],
    ['sampling', `cfg ${s.cfg} ${s.schedule}${s.schedule === 'cosine' ? ` p=${s.power}` : ''}, T ${s.temperature}, top-k ${s.topK}, top-p ${s.topP}, seed ${s.seed}`],
    ['time', `${r.minutes.toFixed(1)} min`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}
