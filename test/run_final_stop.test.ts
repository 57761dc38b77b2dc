// A stop asked for after the last training step, while the final test
// evaluation runs: the run ends as interrupted (the CLI exits
// 143 for SIGTERM), says what it saved, and writes no summary.json; --resume
// then finishes the evaluation.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { trainTokenizer } from '../src/runs/index.js';
import { tokenizerSchema } from '../src/tokenizer/index.js';
import { presets } from './helpers/runs.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'robustok-final-stop-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('SIGTERM during the final test evaluation ends the run as interrupted, not done; --resume writes the summary', async () => {
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)],
    ['train.steps=2', 'train.batchSize=4', 'train.checkpointEvery=2', 'train.sampleEvery=2', 'data.limit=64']);
  const out = path.join(root, 'run');
  const controller = new AbortController();
  const logs: string[] = [];
  const events = {
    signal: controller.signal,
    log: (m: string) => logs.push(m),
    // The signal arrives once the test phase has begun, as a SIGTERM from `timeout` or docker would.
    progress: (e: { label: string }) => { if (e.label === 'test') controller.abort('SIGTERM'); },
  };
  const stopped = await trainTokenizer(config, out, { events });
  assert.equal(stopped.status, 'interrupted');
  assert.ok(stopped.status === 'interrupted' && stopped.reason === 'SIGTERM');
  assert.ok(stopped.status === 'interrupted' && stopped.note?.startsWith('during the final evaluation (tokenizer saved'), JSON.stringify(stopped));
  assert.equal(stopped.step, 2);
  assert.ok(existsSync(path.join(out, 'tokenizer.safetensors')) && existsSync(path.join(out, 'checkpoint.safetensors')), 'what it had is saved');
  assert.ok(!existsSync(path.join(out, 'summary.json')), 'no summary for a stopped evaluation');

  const resumed = await trainTokenizer(config, out, { resume: true, events: { log: (m) => logs.push(m) } });
  assert.equal(resumed.status, 'done');
  assert.ok(existsSync(path.join(out, 'summary.json')));
});
