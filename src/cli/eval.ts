// `robustok eval --tokenizer DIR --data NAME [--split test] [--features NAME] [--n N]
//                [--pfid-alpha A] [--pfid-delta D] [--curve LIST|none] [--delta-curve LIST] [--json]`
//
// flags → runs/eval_tokenizer.ts; prints a table (or one JSON object). Every
// number names the feature network and the number of images behind it.
import type { SplitName } from '../data/index.js';
import { PFID_ALPHA, PFID_CURVE_ALPHAS } from '../eval/index.js';
import { type EvalSummary, evalTokenizer } from '../runs/index.js';
import { type EvalFlags, readEvalFlag } from './eval_flags.js';
import { parseFraction, readFlags } from './flags.js';
import { cliEvents } from './run_events.js';

export const evalUsage = `usage: robustok eval --tokenizer DIR|KIND:PATH --data NAME [options]

  --split train|test     split to evaluate (default test)
  --features NAME        feature network: classifier:DATASET (default classifier:NAME,
                         trained on first use), nsfwjs-inception, nsfwjs-mobilenet,
                         inception-fid (needs --weights pt_inception-2015-12-05-6726825d.pth)
  --weights FILE         weights of the feature network
  --n N                  images to use (default: the whole split)
  --batch N              images per batch (default 100)
  --pfid-alpha A         pFID level α (default ${PFID_ALPHA}); every image perturbed (β = 1)
  --pfid-delta D         pFID level δ (default max(2, round(K·100/4096)))
  --curve LIST|none      α values of the pFID curve (default ${PFID_CURVE_ALPHAS.join(',')})
  --delta-curve LIST     δ values of a pFID curve over δ at the level's α, e.g. 2,4,8,16 (default none)
  --seed S               seed of the perturbation draws (default 0)
  --out DIR              where report.html and result.json go (default TOKENIZER/eval,
                         or PATH.eval beside a released file)
  --json                 print one JSON object instead of the table
TOKENIZER is a tokenizer folder, or KIND:PATH for a published tokenizer's file
(robustok import --help lists the kinds).`;

interface EvalArgs extends EvalFlags {
  split: SplitName;
  batchSize: number;
  json: boolean;
  alpha?: number;
  delta?: number;
  curve?: number[];
  deltaCurve?: number[];
  seed: number;
}

function parseEvalArgs(argv: string[]): EvalArgs {
  const args: EvalArgs = { split: 'test', batchSize: 100, seed: 0, json: false };
  readFlags(argv, evalUsage, (flag, read) => {
    if (flag === '--pfid-alpha') args.alpha = read.fraction();
    else if (flag === '--pfid-delta') args.delta = read.integer();
    else if (flag === '--curve') {
      const v = read.value();
      args.curve = v === 'none' ? [] : v.split(',').map((a) => parseFraction(flag, a));
    } else if (flag === '--delta-curve') {
      const v = read.value();
      args.deltaCurve = v === 'none' ? [] : v.split(',').map((d) => positiveInteger(flag, d));
    } else if (flag === '--seed') args.seed = read.seed();
    else return readEvalFlag(flag, read, args);
    return true;
  });
  if (!args.tokenizer) throw new Error(`--tokenizer DIR is required\n\n${evalUsage}`);
  if (!args.data) throw new Error(`--data NAME is required\n\n${evalUsage}`);
  return args;
}

export async function evalCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(evalUsage);
    return;
  }
  const args = parseEvalArgs(argv);
  const events = cliEvents({ signals: false });
  try {
    const { summary, report, split } = await evalTokenizer({
      tokenizer: args.tokenizer!, data: args.data!, split: args.split, features: args.features, weights: args.weights,
      n: args.n, batchSize: args.batchSize, alpha: args.alpha, delta: args.delta, curve: args.curve, deltaCurve: args.deltaCurve, seed: args.seed, out: args.out, events,
    });
    if (args.json) console.log(JSON.stringify(summary));
    else printTable(summary, split);
    console.error(`report: ${report}`);
  } finally {
    events.close();
  }
}

/** One δ of --delta-curve: a positive integer (its range against K is checked with the tokenizer loaded). */
function positiveInteger(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 1) throw new Error(`${flag} takes positive integers separated by commas, got '${text}'`);
  return v;
}

function printTable(r: EvalSummary, split: string): void {
  const at = `${r.features}, n = ${r.n}${r.biased ? ', biased' : ''}`;
  const lines: [string, string][] = [
    ['split', split],
    [`rFID (${at})`, r.rfid.toFixed(3)],
    [`pFID α=${r.pfid.alpha} δ=${r.pfid.delta} (${at})`, r.pfid.value.toFixed(3)],
    ...r.curve.map((p): [string, string] => [`  pFID curve α=${p.alpha}`, p.value.toFixed(3)]),
    ...r.deltaCurve.map((p): [string, string] => [`  pFID curve δ=${p.delta} (α=${p.alpha})`, p.value.toFixed(3)]),
    [`sensitivity pFID(α=1 δ=${r.pfid.delta}) / rFID`, r.sensitivity.toFixed(3)],
    [`PSNR clean / perturbed (dB, n = ${r.n})`, `${r.psnr.toFixed(2)} / ${r.psnrPerturbed.toFixed(2)}`],
    [`SSIM (n = ${r.n})`, r.ssim.toFixed(4)],
    ['codebook usage / perplexity', `${(100 * r.usage).toFixed(1)}% / ${r.perplexity.toFixed(1)}`],
    [`mean cosine of a used code to its ${r.pfid.delta - 1} nearest others`, r.neighbourCosine === null ? '— (δ = 1)' : r.neighbourCosine.toFixed(4)],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}
