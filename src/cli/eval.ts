// `robustok eval --tokenizer DIR --data NAME [--split test] [--features NAME] [--n N]
//                [--pfid-alpha A] [--pfid-delta D] [--curve LIST|none] [--delta-curve LIST] [--fid-replicates B] [--device D] [--json]`
//
// flags → runs/eval_tokenizer.ts; prints a table (or one JSON object). Every
// number names the feature network and the number of images behind it.
import path from 'node:path';
import { PFID_ALPHA, PFID_CURVE_ALPHAS } from '../eval/index.js';
import { type EvalSummary, evalTokenizer } from '../runs/index.js';
import { evalFlags, withError } from './eval_flags.js';
import { finishProfile, profileFlag, startProfile } from './profile_flag.js';
import { flagLines, flagTable, fraction, listOf, positiveInteger, readFlags, seed, wantsHelp } from './flags.js';
import { cliEvents } from './run_events.js';

/** A list of the pFID curve, or 'none' for no curve. */
const listOrNone = <T>(list: (text: string, flag: string) => T[]) => (text: string, flag: string): T[] => (text === 'none' ? [] : list(text, flag));

const flags = flagTable({
  tokenizer: { value: 'DIR|KIND:PATH', help: 'the tokenizer: a folder, or a published tokenizer\'s file', required: true },
  data: { value: 'NAME', help: 'the dataset whose images it reconstructs', required: true },
  ...evalFlags,
  ...profileFlag,
  n: { value: 'N', help: 'images to use (default: the whole split)', parse: positiveInteger },
  'pfid-alpha': { value: 'A', help: 'pFID level α, every image perturbed (β = 1)', default: PFID_ALPHA, parse: fraction },
  'pfid-delta': { value: 'D', help: 'pFID level δ (default max(2, round(K·100/4096)))', parse: positiveInteger },
  curve: { value: 'LIST|none', help: 'α values of the pFID curve', default: PFID_CURVE_ALPHAS, parse: listOrNone(listOf(fraction, 'numbers in [0, 1]')) },
  // Each δ's range against K is checked once the tokenizer is loaded.
  'delta-curve': { value: 'LIST', help: 'δ values of a pFID curve over δ at the level\'s α, e.g. 2,4,8,16 (default none)', parse: listOrNone(listOf(positiveInteger, 'positive integers')) },
  seed: { value: 'S', help: 'seed of the perturbation draws', default: 0, parse: seed },
  device: { value: 'D', help: 'cpu, cuda, cuda:N or auto: where the tokenizer runs (scoring stays on the CPU)', default: 'cpu' },
  out: { value: 'DIR', help: 'where report.html and result.json go (default TOKENIZER/eval,\nor PATH.eval beside a released file)' },
});

export const evalUsage = `usage: robustok eval --tokenizer DIR|KIND:PATH --data NAME [options]

${flagLines(flags)}
TOKENIZER is a tokenizer folder, or KIND:PATH for a published tokenizer's file
(robustok import --help lists the kinds).`;

export async function evalCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(evalUsage);
    return;
  }
  const f = readFlags(argv, flags, evalUsage);
  const events = cliEvents({ signals: false });
  startProfile(f.profile, f.device);
  try {
    const { summary, report, split } = await evalTokenizer({
      tokenizer: f.tokenizer, data: f.data, split: f.split, features: f.features, weights: f.weights, n: f.n, batchSize: f.batch,
      alpha: f['pfid-alpha'], delta: f['pfid-delta'], curve: f.curve, deltaCurve: f['delta-curve'], seed: f.seed, out: f.out, events,
      noise: f['fid-replicates'] > 0 ? { replicates: f['fid-replicates'], seed: f.seed } : undefined, device: f.device,
    });
    finishProfile(path.dirname(report), 'eval');
    if (f.json) console.log(JSON.stringify(summary));
    else printTable(summary, split);
    console.error(`report: ${report}`);
  } finally {
    events.close();
  }
}

function printTable(r: EvalSummary, split: string): void {
  const at = `${r.features}, n = ${r.n}${r.biased ? ', biased' : ''}`;
  const lines: [string, string][] = [
    ['split', split],
    [`rFID (${at})`, withError(r.rfid, r.noise?.rfid)],
    [`pFID α=${r.pfid.alpha} δ=${r.pfid.delta} (${at})`, withError(r.pfid.value, r.noise?.pfid)],
    ...r.curve.map((p): [string, string] => [`  pFID curve α=${p.alpha}`, p.value.toFixed(3)]),
    ...r.deltaCurve.map((p): [string, string] => [`  pFID curve δ=${p.delta} (α=${p.alpha})`, p.value.toFixed(3)]),
    [`sensitivity pFID(α=1 δ=${r.pfid.delta}) / rFID`, r.sensitivity.toFixed(3)],
    [`PSNR clean / at the pFID level (dB, n = ${r.n})`, `${r.psnr.toFixed(2)} / ${r.psnrPfidLevel.toFixed(2)}`],
    [`SSIM (n = ${r.n})`, r.ssim.toFixed(4)],
    ['codebook usage / perplexity', `${(100 * r.usage).toFixed(1)}% / ${r.perplexity.toFixed(1)}`],
    [`mean cosine of a used code to its ${r.pfid.delta - 1} nearest others`, r.neighbourCosine === null ? '— (δ = 1)' : r.neighbourCosine.toFixed(4)],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
}
