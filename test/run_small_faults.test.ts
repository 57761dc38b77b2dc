// Small run-folder faults: `data info --strict` exists as its warning
// says; a full disk names the file being written and leaves no empty PNG; a
// metrics.jsonl that is a folder is named; `--resume --set` may not change
// the seed, batch size or data a checkpoint continues with.
import assert from 'node:assert/strict';
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { loadConfigFile } from '../src/config/index.js';
import { writeGrid } from '../src/data/index.js';
import { RunFolder, resolveRunConfig, runPaths } from '../src/runs/index.js';
import { tokenizerSchema } from '../src/tokenizer/index.js';
import { writeFileAtomic } from '../src/torch/index.js';
import { presets, robustok } from './helpers/runs.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'robustok-small-faults-'));
after(() => rmSync(root, { recursive: true, force: true }));

const noSpace = (): never => {
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
};

/** Runs `body` with `fs[name]` failing as a full disk does (named imports see it too). */
async function withFullDisk(name: 'writeSync' | 'appendFileSync', body: () => unknown): Promise<void> {
  const original = fs[name];
  (fs as unknown as Record<string, unknown>)[name] = noSpace;
  syncBuiltinESMExports();
  try {
    await body();
  } finally {
    (fs as unknown as Record<string, unknown>)[name] = original;
    syncBuiltinESMExports();
  }
}

test('data info: the skipped-images warning names --strict, and --strict makes them an error', async () => {
  const dir = path.join(root, 'images');
  mkdirSync(dir);
  for (const name of ['a.png', 'b.png']) await sharp(Buffer.alloc(8 * 8 * 3, 90), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(dir, name));
  writeFileSync(path.join(dir, 'broken.png'), 'not a png');
  const lenient = robustok('data', 'info', `folder:${dir}`, '--no-cache');
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.ok(lenient.stderr.includes(`\`robustok data info folder:${dir} --strict\` stops at them instead`), lenient.stderr);
  const strict = robustok('data', 'info', `folder:${dir}`, '--strict');
  assert.equal(strict.status, 1, strict.stderr);
  assert.match(strict.stderr, /1 of 3 images could not be decoded \(strict\): .*broken\.png/);
});

test('a full disk: the error names the file being written, keeps its code, and leaves neither the file nor a temporary one', async () => {
  const dir = path.join(root, 'full');
  mkdirSync(path.join(dir, 'samples'), { recursive: true });
  const file = path.join(dir, 'config.json');
  await withFullDisk('writeSync', () => {
    assert.throws(() => writeFileAtomic(file, [Buffer.from('{}')]), { message: `cannot write ${file}: ENOSPC: no space left on device, write`, code: 'ENOSPC' });
  });
  const png = path.join(dir, 'samples', 'step-5.png');
  const split = { images: new Uint8Array(4 * 4), labels: new Int32Array(1), count: 1, channels: 1 as const, size: 4, skipped: [] };
  await withFullDisk('writeSync', () => assert.rejects(writeGrid(split, png), /cannot write .*step-5\.png: ENOSPC/));
  assert.deepEqual(readdirSync(path.join(dir, 'samples')), [], 'no 0-byte step-5.png, no temporary file');
  assert.ok(!existsSync(file));

  const folder = RunFolder.open(path.join(dir, 'run'));
  try {
    folder.resetMetrics();
    await withFullDisk('appendFileSync', () => {
      assert.throws(() => folder.appendMetrics({ step: 1 }), { message: `cannot append to ${folder.paths.metrics}: ENOSPC: no space left on device, write` });
    });
  } finally {
    folder.release();
  }
});

test('a metrics.jsonl that is a folder is named, with what belongs there', () => {
  const dir = path.join(root, 'metrics-folder');
  const folder = RunFolder.open(dir);
  try {
    mkdirSync(folder.paths.metrics);
    assert.throws(() => folder.resetMetrics(5), {
      message: `${folder.paths.metrics} is a folder, but a run keeps its metrics there (one JSON line per logged step): move it away, or choose another --out`,
    });
  } finally {
    folder.release();
  }
});

test('--resume --set: a changed seed or data setting is refused naming the key and both values; other changes, the batch size\'s with what keeps it exact, are said', () => {
  const dir = path.join(root, 'resumed');
  const preset = loadConfigFile(presets.tokenizer);
  mkdirSync(dir);
  writeFileSync(runPaths(dir).config, JSON.stringify(resolveRunConfig(tokenizerSchema, dir, { preset, missing: '' })));
  writeFileSync(runPaths(dir).checkpoint, '');  // only its presence matters here
  const resume = (...sets: string[]) => {
    const logs: string[] = [];
    resolveRunConfig(tokenizerSchema, dir, { preset, sets, resume: true, missing: '', log: (m) => logs.push(m) });
    return logs;
  };
  assert.throws(() => resume('train.seed=5'), {
    message: `--resume --set train.seed=5: ${runPaths(dir).config} trained with train.seed = 0, and the checkpoint continues exactly only with ` +
      'the seeds and data it started with; drop that --set, or start a new run in another --out',
  });
  assert.throws(() => resume('data.limit=100'), /--set data\.limit=100: .* trained with data\.limit = 512/);
  assert.throws(() => resume('data.name=mnist'), /--set data\.name="mnist": .* trained with data\.name = "fashion-mnist"/);
  assert.deepEqual(resume('train.steps=60', 'train.seed=0'), ['resuming with changed settings: train.steps 30 → 60']);
  // 2 ranks × 8 continue exactly as 1 process × 16, and config.json does not record the ranks: said, not refused.
  assert.deepEqual(resume('train.batchSize=32'),
    ['resuming with changed settings: train.batchSize 16 → 32 (exact only if ranks × batch size, the global batch, is unchanged)']);
  assert.deepEqual(resume(), []);
});
