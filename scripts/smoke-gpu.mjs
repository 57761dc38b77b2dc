// `npm run smoke:gpu`: checks, on a machine with a GPU and the addon built
// against a CUDA libtorch, that every trainer runs on `cuda` and that a
// training step there matches the same step on the CPU. Prints one JSON line
// ({"ok": …, "checks": […]}) and exits 0 only when every check passed. On a
// machine without CUDA it says so and exits 2 before doing anything.
//
// The checks: a few steps of train-tokenizer, train-generator and post-train
// with --device cuda on the tiny presets (Fashion-MNIST, 256 images); one
// tokenizer training step from the same weights and batch on cpu and cuda,
// compared (loss and every updated weight, within TF32/cuDNN tolerance);
// train-tokenizer with train.precision bf16 and fp16 (GAN on); with 2 GPUs,
// a few steps of train-tokenizer as 2 ranks of `launch`, one GPU each, over NCCL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => path.join(root, 'dist', 'src', p);
const { cuda, RandomStream, manualSeed, randn, tidy } = await import(dist('torch/index.js'));

// ROBUSTOK_SMOKE_DEVICE=cpu runs the same checks on the CPU: a check of this script, not of a GPU.
const device = process.env.ROBUSTOK_SMOKE_DEVICE ?? 'cuda';
if (device !== 'cpu' && !cuda.isAvailable()) {
  const reason = 'no CUDA device: this libtorch sees none (a CPU-only build such as Debian\'s libtorch-dev, or no GPU here). ' +
    'Build the addon against a CUDA libtorch (README, "GPUs") and run this again.';
  console.error(`smoke:gpu: ${reason}`);
  console.log(JSON.stringify({ ok: false, reason }));
  process.exit(2);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'robustok-smoke-gpu-'));
const checks = [];
const cli = (name, ...args) => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'main.js'), ...args], { encoding: 'utf8' });
  checks.push({ check: name, ok: r.status === 0, seconds: (Date.now() - started) / 1000, ...(r.status === 0 ? {} : { error: r.stderr.trim().split('\n').slice(-3).join(' | ') }) });
  return r.status === 0;
};

const few = ['--device', device, '--set', 'train.steps=4', '--set', 'data.limit=256'];
const tok = path.join(work, 'tok');
const gen = path.join(work, 'gen');
if (cli(`train-tokenizer on ${device}`, 'train-tokenizer', '--config', path.join(root, 'configs/tokenizer/tiny.yaml'), '--out', tok, ...few)) {
  if (cli(`train-generator on ${device}`, 'train-generator', '--tokenizer', tok, '--config', path.join(root, 'configs/generator/tiny.yaml'), '--out', gen, ...few)) {
    cli(`post-train on ${device}`, 'post-train', '--tokenizer', tok, '--generator', gen, '--config', path.join(root, 'configs/posttrain/tiny.yaml'),
      '--out', path.join(work, 'post'), ...few);
  }
}

// Mixed precision: bf16 anywhere, fp16 (with its loss scale) on the GPU only.
for (const precision of device === 'cpu' ? ['bf16'] : ['bf16', 'fp16']) {
  cli(`train-tokenizer on ${device}, train.precision=${precision}`, 'train-tokenizer', '--config', path.join(root, 'configs/tokenizer/tiny.yaml'),
    '--out', path.join(work, `tok-${precision}`), ...few, '--set', `train.precision=${precision}`, '--set', 'loss.gan.start=0');
}

if (device !== 'cpu' && cuda.deviceCount() >= 2) {
  cli('train-tokenizer, launch --nproc 2 (a GPU a rank, NCCL)', 'launch', '--nproc', '2', 'train-tokenizer', '--config', path.join(root, 'configs/tokenizer/tiny.yaml'),
    '--out', path.join(work, 'tok-2gpu'), ...few);
}

// One step from the same weights and batch on both devices.
{
  const { loadConfigFile, resolveConfig } = await import(dist('config/index.js'));
  const { TokenizerTrainer, tokenizerSchema } = await import(dist('tokenizer/index.js'));
  const sets = (device) => ['train.steps=2', 'train.batchSize=4', 'optim.warmupFraction=0', 'loss.gan.enabled=true', 'loss.gan.start=0', `train.device=${device}`];
  const step = (device) => {
    manualSeed(0);
    const trainer = new TokenizerTrainer(resolveConfig(tokenizerSchema, [loadConfigFile(path.join(root, 'configs/tokenizer/tiny.yaml'))], sets(device)));
    const images = tidy(() => randn([4, 1, 32, 32], { stream: new RandomStream(1), device: 'cpu' }).tanh());
    const { loss } = trainer.step(images);
    const weights = tidy(() => trainer.model.parameters().map((p) => Float32Array.from(p.toTypedArray())));
    images.dispose();
    trainer.dispose();
    return { loss, weights };
  };
  const [cpu, gpu] = [step('cpu'), step(device)];
  let worst = 0;
  cpu.weights.forEach((w, i) => w.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - gpu.weights[i][j])); }));
  const lossGap = Math.abs(cpu.loss - gpu.loss) / Math.max(1e-12, Math.abs(cpu.loss));
  // TF32 convolutions and cuDNN's algorithms differ from the CPU's in the 3rd–4th digit.
  checks.push({ check: `one training step, cpu vs ${device}`, ok: lossGap < 1e-2 && worst < 1e-3, lossRelativeGap: lossGap, largestWeightGap: worst });
}

rmSync(work, { recursive: true, force: true });
const ok = checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, device, cudaDevices: cuda.deviceCount(), checks }));
process.exit(ok ? 0 : 1);
