// DIR/results.json: every number of a reproduction with what made it — the
// versions, the resolved preset, each tokenizer's numbers beside the configs
// of the stages that measured them, the analysis with its verdicts, and
// every stage's state and time. The report is drawn from this object only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchVersion } from '../torch/index.js';
import type { Analysis } from './analysis.js';
import { canonicalJson } from './hash.js';
import type { TokenizerRun } from './measurements.js';
import type { ReproduceConfig, ReproducePreset } from './preset.js';

export interface StageSummary {
  id: string;
  status: 'skipped' | 'done';
  /** Minutes the stage took in total (over resumed attempts), from its stage.json. */
  minutes: number;
}

export interface Results {
  versions: { robustok: string; libtorch: string; node: string };
  /**
   * The preset as registered: `hash` is the SHA-256 of the resolved config
   * (canonical JSON: hypotheses, tests, thresholds, seeds, every stage's
   * settings), `fileHash` of the preset file's bytes, so a reader can check
   * that the rule was not changed after the numbers were seen.
   */
  preset: { name: string; file: string; config: ReproduceConfig; hash: string; fileHash: string };
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

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** results.json's `preset`: the preset with the hashes that pin its registration. */
export const registeredPreset = (p: ReproducePreset): Results['preset'] => ({
  name: p.name, file: p.file, config: p.config, hash: sha256(canonicalJson(p.config)), fileHash: sha256(readFileSync(p.file)),
});
