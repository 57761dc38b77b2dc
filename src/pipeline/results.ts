// DIR/results.json: every number of a reproduction with what made it — the
// versions, the resolved preset, each tokenizer's numbers beside the configs
// of the stages that measured them, the analysis with its verdicts, and
// every stage's state and time. The report is drawn from this object only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchVersion } from '../torch/index.js';
import type { Analysis } from './analysis.js';
import type { TokenizerRun } from './measurements.js';
import type { ReproduceConfig } from './preset.js';

export interface StageSummary {
  id: string;
  status: 'skipped' | 'done';
  /** Minutes the stage took in total (over resumed attempts), from its stage.json. */
  minutes: number;
}

export interface Results {
  versions: { robustok: string; libtorch: string; node: string };
  preset: { name: string; file: string; config: ReproduceConfig };
  /** The dataset every tokenizer trained on and every FID was measured on. */
  data: string;
  runs: TokenizerRun[];
  analysis: Analysis;
  stages: StageSummary[];
  /** Sum of the stages' minutes (the compute the numbers cost, not this call's wall time). */
  minutes: number;
  writtenAt: string;
}

/** robustok's version from its package.json (dist/src/pipeline/ → three levels up). */
function packageVersion(): string {
  try {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const versions = (): Results['versions'] => ({ robustok: packageVersion(), libtorch: torchVersion, node: process.version });
