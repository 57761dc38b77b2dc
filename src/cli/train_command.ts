// What every training command shares: `--config FILE --out DIR [--set key=value ...] [--resume]`
// plus the command's own flags (one table: parsed and listed in the usage
// together, flags.ts), the config's keys under --help, the config resolved from the preset
// (or, resuming, from the run folder), progress bars and signals, and the
// ending ("interrupted at step N: continue with --resume", exit 130 / 143).
import { type Group, type Infer, describeConfig, loadConfigFile } from '../config/index.js';
import { type RunEnd, type RunEvents, resolveRunConfig } from '../runs/index.js';
import { threadDecision } from '../torch/index.js';
import { rankEnvFrom, resolveDevice } from '../train/index.js';
import { type FlagTable, type FlagValues, flagLines, flagTable, readFlags, wantsHelp } from './flags.js';
import { finishProfile, profileFlag, startProfile } from './profile_flag.js';
import { cliEvents } from './run_events.js';

export interface TrainCommand<G extends Group, F extends FlagTable> {
  name: string;
  /** Usage line(s) and description, before the list of flags and keys. */
  about: string;
  schema: G;
  /** The command's own flags: its inputs (required) and options its run reads, before those every training command takes. */
  flags: F;
  /** Flags that stand for a config key (`--pregenerate N` = `--set tokens.pregenerate=N`), by name. */
  aliases?: Record<string, string>;
  /** Settings the run takes from its inputs, below the preset, with a line saying what they are. */
  inherit?(flags: FlagValues<F>): { settings: object; note: string } | undefined;
  /** A preset to suggest when --config is missing. */
  preset: string;
  /** Summary of what will run, printed first. */
  plan(config: Infer<G>): string;
  run(config: Infer<G>, out: string, o: { flags: FlagValues<F>; resume: boolean; events: RunEvents }): Promise<RunEnd & { step: number }>;
  /** The line printed when the run is done. */
  done(result: never): string;
}

/** What every training command takes. --device stands for train.device, which each trainer's schema has. */
const trainFlags = flagTable({
  config: { value: 'FILE', help: 'the preset (not needed with --resume: DIR/config.json is read instead)' },
  out: { value: 'DIR', help: "the run's folder", required: true },
  set: { value: 'key=value', help: 'override a key (below); after the preset and the flags that stand for keys', multiple: true },
  resume: { help: "continue DIR's checkpoint exactly (or start one when DIR has none)" },
  device: { value: 'cpu|cuda|cuda:N|auto', help: 'the same as --set train.device=…' },
  ...profileFlag,
});

/** The command's whole table: its own flags, its aliases, then those of every training command. */
function commandFlags<F extends FlagTable>(c: Pick<TrainCommand<Group, F>, 'flags' | 'aliases'>) {
  const aliases = Object.fromEntries(Object.entries(c.aliases ?? {}).map(([name, key]) => [name, { value: 'V', help: `the same as --set ${key}=V` }]));
  return { ...c.flags, ...aliases, ...trainFlags };
}

export const trainUsage = <G extends Group, F extends FlagTable>(c: Pick<TrainCommand<G, F>, 'about' | 'schema' | 'flags' | 'aliases'>): string =>
  `${c.about}\n\n${flagLines(commandFlags(c))}\n\nKeys, defaults and ranges:\n\n${describeConfig(c.schema).map((l) => `  ${l}`).join('\n')}`;

export async function runTrainCommand<G extends Group, F extends FlagTable>(c: TrainCommand<G, F>, argv: string[]): Promise<void> {
  const usage = trainUsage(c);
  if (wantsHelp(argv)) {
    console.log(usage);
    return;
  }
  // Typed by hand: the aliases' names are the command's data, not types.
  const flags = readFlags(argv, commandFlags(c), usage) as FlagValues<typeof trainFlags> & FlagValues<F> & Record<string, unknown>;
  const aliased = Object.entries(c.aliases ?? {}).flatMap(([name, key]) => (flags[name] === undefined ? [] : [`${key}=${String(flags[name])}`]));
  const args = {
    config: flags.config, out: flags.out, resume: flags.resume,
    sets: [...(flags.device === undefined ? [] : [`train.device=${flags.device}`]), ...aliased, ...flags.set],
  };
  const inherited = args.resume ? undefined : c.inherit?.(flags);
  if (inherited) console.error(inherited.note);
  const config = resolveRunConfig(c.schema, args.out, {
    preset: args.config ? loadConfigFile(args.config) : undefined, sets: args.sets, resume: args.resume, inherited: inherited?.settings,
    missing: `--config FILE is required (try ${c.preset})\n\n${usage}`, log: (message) => console.error(message),
  });
  const events = cliEvents();
  // A GPU the build or machine lacks is refused before the run folder is touched.
  const device = resolveDevice((config as { train?: { device?: string } }).train?.device ?? 'cpu');
  console.error(`${c.name} → ${args.out}: ${c.plan(config)}; ${device === 'cpu' ? `threads: ${threadDecision().reason}` : `device ${device}`}`);
  startProfile(flags.profile, device);
  try {
    const r = await c.run(config, args.out, { flags, resume: args.resume, events });
    finishProfile(args.out, c.name);
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
