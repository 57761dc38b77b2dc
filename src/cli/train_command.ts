// What every training command shares: `--config FILE --out DIR [--set key=value ...] [--resume]`
// plus the command's own input flags, the config resolved from the preset
// (or, resuming, from the run folder), progress bars and signals, and the
// ending ("interrupted at step N: continue with --resume", exit 130 / 143).
import { type Group, type Infer, describeConfig, loadConfigFile } from '../config/index.js';
import { type RunEnd, type RunEvents, resolveRunConfig } from '../runs/index.js';
import { threadDecision } from '../torch/index.js';
import { rankEnvFrom, resolveDevice } from '../train/index.js';
import { readFlags } from './flags.js';
import { cliEvents } from './run_events.js';

export interface TrainCommand<G extends Group> {
  name: string;
  /** Usage line(s) and description, before the list of keys. */
  about: string;
  schema: G;
  /** Input folders the command requires (flag → what to say when it is missing). */
  inputs: Record<string, string>;
  /** Optional flags with a value that the command's run reads (flag → what it does, for the usage). */
  options?: Record<string, string>;
  /** Flags that stand for a config key (`--pregenerate N` = `--set tokens.pregenerate=N`). */
  aliases?: Record<string, string>;
  /** Settings the run takes from its inputs, below the preset, with a line saying what they are. */
  inherit?(inputs: Record<string, string>): { settings: object; note: string } | undefined;
  /** A preset to suggest when --config is missing. */
  preset: string;
  /** Summary of what will run, printed first. */
  plan(config: Infer<G>): string;
  run(config: Infer<G>, out: string, o: { inputs: Record<string, string>; options: Record<string, string>; resume: boolean; events: RunEvents }): Promise<RunEnd & { step: number }>;
  /** The line printed when the run is done. */
  done(result: never): string;
}

export const trainUsage = <G extends Group>(c: Pick<TrainCommand<G>, 'about' | 'schema' | 'options'>): string =>
  `${c.about}\n${Object.entries(c.options ?? {}).map(([flag, what]) => `${flag} ${what}\n`).join('')}` +
  `--device cpu|cuda|cuda:N|auto  the same as --set train.device=…\nKeys, defaults and ranges:\n\n${describeConfig(c.schema).map((l) => `  ${l}`).join('\n')}`;

export async function runTrainCommand<G extends Group>(c: TrainCommand<G>, argv: string[]): Promise<void> {
  const usage = trainUsage(c);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return;
  }
  const args = { config: undefined as string | undefined, out: undefined as string | undefined, sets: [] as string[], resume: false, inputs: {} as Record<string, string>, options: {} as Record<string, string> };
  readFlags(argv, usage, (flag, read) => {
    if (flag === '--config') args.config = read.value();
    else if (flag === '--out') args.out = read.value();
    else if (flag === '--set') args.sets.push(read.value());
    else if (flag === '--resume') args.resume = true;
    else if (flag === '--device') args.sets.push(`train.device=${read.value()}`);
    else if (flag in c.inputs) args.inputs[flag] = read.value();
    else if (c.options && flag in c.options) args.options[flag] = read.value();
    else if (c.aliases && flag in c.aliases) args.sets.push(`${c.aliases[flag]}=${read.value()}`);
    else return false;
    return true;
  });
  for (const [flag, what] of Object.entries(c.inputs)) {
    if (!args.inputs[flag]) throw new Error(`${flag} DIR is required (${what})\n\n${usage}`);
  }
  if (!args.out) throw new Error(`--out DIR is required\n\n${usage}`);
  const inherited = args.resume ? undefined : c.inherit?.(args.inputs);
  if (inherited) console.error(inherited.note);
  const config = resolveRunConfig(c.schema, args.out, {
    preset: args.config ? loadConfigFile(args.config) : undefined, sets: args.sets, resume: args.resume, inherited: inherited?.settings,
    missing: `--config FILE is required (try ${c.preset})\n\n${usage}`, log: (message) => console.error(message),
  });
  const events = cliEvents();
  // A GPU the build or machine lacks is refused before the run folder is touched.
  const device = resolveDevice((config as { train?: { device?: string } }).train?.device ?? 'cpu');
  if (device !== 'cpu' && rankEnvFrom() !== null) {
    throw new Error(`device ${device} under robustok launch: ranks do not pick their own GPU or use NCCL yet; train data-parallel on CPUs, or on one GPU without launch`);
  }
  console.error(`${c.name} → ${args.out}: ${c.plan(config)}; ${device === 'cpu' ? `threads: ${threadDecision().reason}` : `device ${device}`}`);
  try {
    const r = await c.run(config, args.out, { inputs: args.inputs, options: args.options, resume: args.resume, events });
    if (r.status === 'interrupted') {
      console.error(`${r.reason} at step ${r.step}${r.note ? ` ${r.note}` : ''}: checkpoint saved; continue with --resume`);
      process.exitCode = events.exitCode(r.reason);
      return;
    }
    // Rank 0 of a data-parallel run (robustok launch) writes the results the done line names.
    const rank = rankEnvFrom()?.rank ?? 0;
    console.error(rank === 0 ? c.done(r as never) : `rank ${rank}: done at step ${r.step}`);
  } finally {
    events.close();
  }
}
