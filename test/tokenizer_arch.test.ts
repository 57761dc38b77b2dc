// The tokenizer architectures (src/architectures/cnn.ts, vit.ts) against their
// PyTorch twins in test/tokenizer_ref.py: robustok's state dict is loaded
// into the twin strictly (same names, same shapes), both run on the same
// input, and outputs and input gradients must agree (rtol 1e-4, atol 1e-5).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Module } from '../src/nn/index.js';
import { type Tensor, liveTensors, manualSeed, randn, tidy } from '../src/torch/index.js';
import { CnnDecoder, CnnEncoder, type CnnOptions, VitDecoder, VitEncoder, type VitOptions } from '../src/tokenizer/index.js';
import { type Case, runParity } from './helpers/oracle.js';

type Forward = Module & { forward(x: Tensor): Tensor };

const cnn: CnnOptions = { imageChannels: 3, zChannels: 4, baseChannels: 8, channelMultipliers: [1, 2, 2], resBlocks: 2, attention: true, normGroups: 4 };
const cnnPy = (cls: string, o: CnnOptions): string =>
  `${cls}(${o.imageChannels}, ${o.zChannels}, ${o.baseChannels}, ${JSON.stringify(o.channelMultipliers)}, ${o.resBlocks}, ` +
  `attention=${o.attention ? 'True' : 'False'}, groups=${o.normGroups ?? 32})`;

const vit: VitOptions = { imageSize: 8, patchSize: 4, imageChannels: 3, width: 16, depth: 2, heads: 2, mlpRatio: 2, numLatentTokens: 6, codeDim: 5 };
const vitPy = (cls: string, o: VitOptions): string =>
  `${cls}(${o.imageSize}, ${o.patchSize}, ${o.imageChannels}, ${o.width}, ${o.depth}, ${o.heads}, ${o.numLatentTokens}, ${o.codeDim}, mlp_ratio=${o.mlpRatio ?? 4})`;

/** A parity case: the module's weights become oracle inputs, loaded by name on both sides. */
function moduleCase(name: string, module: Forward, py: string, inputShape: number[]): Case {
  const entries = Object.entries(module.stateDict());
  const weights = entries.map(([, t]) => ({ shape: t.shape, values: Array.from(t.toTypedArray() as Float32Array) }));
  const loadPy = entries.map(([n], i) => `'${n}': x${i + 1}`).join(', ');
  return {
    name,
    inputs: [{ shape: inputShape, requiresGrad: true }, ...weights],
    ts: ([x, ...ws]) => {
      module.loadStateDict(Object.fromEntries(entries.map(([n], i) => [n, ws[i]!])));
      return module.forward(x!);
    },
    setup: `from tokenizer_ref import *\nm = ${py}\nm.load_state_dict({${loadPy}}, strict=True)\nm.eval()`,
    py: 'm(x0)',
  };
}

test('encoders and decoders match their PyTorch twins on the same state dict (outputs and input gradients)', async (t) => {
  manualSeed(11);
  const plainCnn: CnnOptions = { ...cnn, channelMultipliers: [1, 2], resBlocks: 1, attention: false, normGroups: undefined };
  const modules: [string, Forward, string, number[]][] = [
    ['CNN encoder, 3 levels, attention, normGroups 4', new CnnEncoder(cnn), cnnPy('Encoder', cnn), [2, 3, 16, 16]],
    ['CNN decoder, 3 levels, attention, normGroups 4', new CnnDecoder(cnn), cnnPy('Decoder', cnn), [2, 4, 4, 4]],
    ['CNN encoder, 2 levels, no attention, default groups', new CnnEncoder(plainCnn), cnnPy('Encoder', plainCnn), [1, 3, 8, 12]],
    ['CNN decoder, 2 levels, no attention, default groups', new CnnDecoder(plainCnn), cnnPy('Decoder', plainCnn), [1, 4, 4, 6]],
    ['ViT encoder with latent tokens', new VitEncoder(vit), vitPy('VitEncoder', vit), [2, 3, 8, 8]],
    ['ViT decoder with mask tokens and patch head', new VitDecoder(vit), vitPy('VitDecoder', vit), [2, 6, 5]],
  ];
  const outcomes = runParity(modules.map(([name, m, py, shape]) => moduleCase(name, m, py, shape)), { rtol: 1e-4, atol: 1e-5 });
  for (const [, m] of modules) m.dispose();
  for (const outcome of outcomes) await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
});

test('state dicts use taming-transformers / ViT names', () => {
  const enc = new CnnEncoder(cnn);
  const dec = new CnnDecoder(cnn);
  const venc = new VitEncoder(vit);
  const vdec = new VitDecoder(vit);
  const keys = (m: Module) => Object.keys(m.stateDict());
  for (const k of ['conv_in.weight', 'down.0.block.1.norm1.weight', 'down.0.downsample.conv.weight', 'down.1.block.0.nin_shortcut.weight',
    'mid.attn_1.proj_out.weight', 'mid.block_2.conv2.bias', 'norm_out.weight', 'conv_out.weight']) assert.ok(keys(enc).includes(k), k);
  assert.ok(!keys(enc).includes('down.2.downsample.conv.weight'), 'the last level does not downsample');
  for (const k of ['up.0.block.2.conv1.weight', 'up.2.upsample.conv.weight', 'up.1.block.0.norm1.weight']) assert.ok(keys(dec).includes(k), k);
  assert.ok(!keys(dec).includes('up.0.upsample.conv.weight'), 'level 0 does not upsample');
  for (const k of ['patch_embed.weight', 'pos_embed', 'latent_tokens', 'blocks.1.attn.qkv.weight', 'norm.weight', 'head.weight']) {
    assert.ok(keys(venc).includes(k), k);
  }
  for (const k of ['decoder_embed.weight', 'mask_token', 'pos_embed', 'latent_pos_embed', 'blocks.0.mlp.fc1.weight', 'head.bias']) {
    assert.ok(keys(vdec).includes(k), k);
  }
  for (const m of [enc, dec, venc, vdec]) m.dispose();
});

test('shapes: CNN [B, C, H, W] → [B, z, H/f, W/f] → back; ViT [B, C, S, S] → [B, N, D] → back; nothing leaks', () => {
  const before = liveTensors();
  tidy(() => {
    const enc = new CnnEncoder(cnn);
    const dec = new CnnDecoder(cnn);
    const z = enc.forward(randn([2, 3, 16, 8]));
    assert.deepEqual(z.shape, [2, 4, 4, 2]);
    assert.deepEqual(dec.forward(z).shape, [2, 3, 16, 8]);
    const venc = new VitEncoder({ ...vit, imageSize: 12 });
    const vdec = new VitDecoder({ ...vit, imageSize: 12 });
    const tokens = venc.forward(randn([2, 3, 12, 12]));
    assert.deepEqual(tokens.shape, [2, 6, 5]);
    assert.deepEqual(vdec.forward(tokens).shape, [2, 3, 12, 12]);
    for (const m of [enc, dec, venc, vdec]) m.dispose();
  });
  assert.equal(liveTensors(), before);
});

test('bad configurations and inputs are rejected naming the option', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new VitEncoder({ ...vit, imageSize: 10 }), /imageSize 10 is not divisible by patchSize 4/],
    [() => new VitDecoder({ ...vit, heads: 3 }), /width 16 does not split into heads 3/],
    [() => new VitEncoder({ ...vit, numLatentTokens: 0 }), /numLatentTokens must be a positive integer/],
    [() => new CnnEncoder({ ...cnn, baseChannels: 12, normGroups: 8 }), /normGroups 8 does not divide 12 channels/],
    [() => new CnnDecoder({ ...cnn, channelMultipliers: [] }), /channelMultipliers must list at least one level/],
    [() => new CnnEncoder({ ...cnn, channelMultipliers: [1, 1.5] }), /channelMultipliers\[1\] must be a positive integer/],
    [() => new CnnEncoder({ ...cnn, resBlocks: 0 }), /resBlocks must be a positive integer/],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
  const enc = new CnnEncoder(cnn);
  const venc = new VitEncoder(vit);
  const vdec = new VitDecoder(vit);
  tidy(() => {
    assert.throws(() => enc.forward(randn([1, 3, 14, 14])), /14×14 is not divisible by the downsampling factor 4/);
    assert.throws(() => enc.forward(randn([1, 1, 16, 16])), /imageChannels/);
    assert.throws(() => venc.forward(randn([1, 3, 12, 12])), /imageSize/);
    assert.throws(() => vdec.forward(randn([1, 4, 5])), /numLatentTokens, codeDim/);
  });
  for (const m of [enc, venc, vdec]) m.dispose();
});
