// `robustok eval-generator --generator DIR [--tokenizer DIR] [--data NAME] [--split test]
//                          [--features NAME] [--n N] [sampling flags] [--json]`
//
// flags → runs/eval_generator.ts; prints a table (or one JSON object). Every
// number names the feature network, the number of samples and the sampling.
import { type GeneratorEvalSummary, evalGenerator } from '../runs/index.js';
import { type EvalFlags, readEvalFlag } from './eval_flags.js';
import { readFlags } from './flags.js';
import { cliEvents } from './run_events.js';
import { readSamplingFlag, samplingUsage } from './sampling_flags.js';

export const evalGeneratorUsage = `usage: robustok eval-generator --generator DIR [options]

Samples class-balanced images from a trained generator and scores them against
a split's real images: gFID, Inception Score, precision and recall (k = 3).

  --tokenizer DIR        decode with this tokenizer (same codebook) instead of the generator's own
  --data NAME            dataset of the real images (default: the generator's)
  --split train|test     split of the real images (default test)
  --features NAME        feature network (default classifier:DATA, trained on first use;
                         nsfwjs-inception, nsfwjs-mobilenet, inception-fid with --weights)
  --weights FILE         weights of the feature network
  --n N                  samples (default 10000)
  --batch N              samples per batch (default 100)
  --device D             cpu (default), cuda, cuda:N or auto: where sampling and decoding run (scoring stays on the CPU)
${samplingUsage}
  --json                 print one JSON object instead of the table
  --out FOLDER           where result.json, report.html and samples.png go (default DIR/eval)
The sample ids are drawn once per sampling setting, seed and n, and cached in
DIR/eval/samples-*.safetensors: another decoder (--tokenizer) is scored on the same tokens.`;

export async function evalGeneratorCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(evalGeneratorUsage);
    return;
  }
  let generator = '';
  const flags: EvalFlags = {};
  let device = 'cpu';
  const sampling: Parameters<typeof readSamplingFlag>[2] = {};
  readFlags(argv, evalGeneratorUsage, (flag, read) => {
    if (flag === '--generator') generator = read.value();
    else if (flag === '--device') device = read.value();
    else return readEvalFlag(flag, read, flags) || readSamplingFlag(flag, read, sampling);
    return true;
  });
  if (!generator) throw new Error(`--generator DIR is required\n\n${evalGeneratorUsage}`);
  const { json, ...o } = flags;
  const { seed, ...overrides } = sampling;
  const events = cliEvents({ signals: false });
  try {
    const { summary, report } = await evalGenerator({ ...o, generator, seed, sampling: overrides, device, events });
    if (json) console.log(JSON.stringify(jsonOf(summary)));
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
    [`gFID (${at})`, r.gfid.toFixed(3)],
    [`Inception Score (${r.features}, ${r.n} samples)`, r.is ? `${r.is.mean.toFixed(3)} ± ${r.is.std.toFixed(3)}` : 'n/a (no classifier head)'],
    [`precision / recall (k = 3, ${at})`, `${r.precision.toFixed(3)} / ${r.recall.toFixed(3)}`],
    ['sampling', `cfg ${s.cfg} ${s.schedule}${s.schedule === 'cosine' ? ` p=${s.power}` : ''}, T ${s.temperature}, top-k ${s.topK}, top-p ${s.topP}, seed ${s.seed}`],
    ['time', `${r.minutes.toFixed(1)} min`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}
