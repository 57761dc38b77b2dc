// `robustok reproduce --preset quick|small|emoji64|FILE --out DIR [--seeds 0,1,2] [--jobs N] [--device D] [--set key=value ...] [--resume]`:
// flags → preset → pipeline/reproduce.ts, which owns DIR. Prints the plan,
// one line per stage (skipped, continued, rerun and why, done), the claims'
// verdicts, and where results.json and report.html went.
import { availableParallelism } from 'node:os';
import { describeConfig } from '../config/index.js';
import { loadPreset, reproduce, reproduceSchema, threadsPerJob } from '../pipeline/index.js';
import { threadDecision } from '../torch/index.js';
import { flagLines, flagTable, positiveInteger, readFlags, seedList, wantsHelp } from './flags.js';
import { cliEvents } from './run_events.js';
import { StageBoard } from './stage_board.js';

const flags = flagTable({
  preset: { value: 'NAME|FILE', help: 'configs/reproduce/NAME.yaml (quick: CI plumbing in minutes; small: Fashion-MNIST; emoji64), or a file', required: true },
  out: { value: 'DIR', help: "the reproduction's folder", required: true },
  seeds: { value: 'LIST', help: "comma-separated seeds, replacing the preset's", parse: seedList },
  jobs: { value: 'N', help: 'stages run at once, each in its own process with cores/N threads (1: one after another, here)', default: 1, parse: positiveInteger },
  set: { value: 'key=value', help: 'override a key of the preset (below)', multiple: true },
  resume: { help: "continue DIR's reproduction" },
  device: { value: 'D', help: 'cpu, cuda, cuda:N or auto: where every stage computes (with --jobs N, the N slots take the GPUs in turn)', default: 'cpu' },
});

export const reproduceUsage = `usage: robustok reproduce --preset quick|small|emoji64|FILE --out DIR [--seeds 0,1,2] [--jobs N] [--device D] [--set key=value ...] [--resume]

Tests the paper's three claims (docs/method.md, last section) in one resumable
experiment: per seed, a sweep of tokenizers (with and without latent
perturbation), a generator on each, evaluations (rFID, pFID, gFID), and
post-training of the chosen decoders, evaluated again on the same tokens.
Every stage writes DIR/<stage>/<name>-s<seed>/ with a stage.json (its config
and a content hash of config and inputs). --resume skips finished stages,
continues interrupted ones from their checkpoint, and reruns those whose config
or inputs changed, saying why. At the end: DIR/results.json (every number with
its configs), DIR/report.html (self-contained), DIR/summary.md (the claims and
tokenizer tables in Markdown) and DIR/plots/ (gFID against rFID and pFID, SVG).

${flagLines(flags)}
Ctrl-C or SIGTERM stops after the current training step with a checkpoint (exit 130 / 143).

Preset keys, defaults and ranges:

${describeConfig(reproduceSchema).map((l) => `  ${l}`).join('\n')}`;

export async function reproduceCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(reproduceUsage);
    return;
  }
  const args = readFlags(argv, flags, reproduceUsage);
  const preset = loadPreset(args.preset, { seeds: args.seeds, sets: args.set });
  const c = preset.config;
  console.error(`reproduce ${preset.name} → ${args.out}: seeds ${c.seeds.join(', ')}; tokenizers ${c.tokenizer.sweep.map((v) => v.name).join(', ')}; ` +
    `post-training ${c.posttrain.tokenizers.join(', ')}; threads: ${args.jobs > 1 ? `${threadsPerJob(args.jobs, availableParallelism())} per stage, ${args.jobs} stages at once` : threadDecision().reason}${args.device === 'cpu' ? '' : `; device ${args.device}`}`);
  const board = new StageBoard({ jobs: args.jobs, tty: process.stderr.isTTY === true });
  const cli = cliEvents();
  // On a terminal the board draws progress; in a log, the usual progress lines stay.
  const events = { ...cli, log: (m: string) => board.log(m), ...(process.stderr.isTTY ? { progress: undefined } : {}) };
  try {
    const r = await reproduce(preset, args.out, { resume: args.resume, jobs: args.jobs, device: args.device, events, onStage: (u) => board.update(u) });
    if (r.status === 'interrupted') {
      console.error(`${r.reason}: stopped; continue with --resume`);
      process.exitCode = cli.exitCode(r.reason);
      return;
    }
    const claims = r.output!.analysis.claims;
    for (const [i, claim] of [claims.perturbation, claims.ranking, claims.posttraining].entries()) console.log(`claim ${i + 1} (${claim.claim}): ${claim.verdict}`);
    console.error(`results: ${r.results}\nreport: ${r.report}`);
  } finally {
    board.close();
    cli.close();
  }
}
