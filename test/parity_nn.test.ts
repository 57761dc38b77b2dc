// Neural-network functions (F.*) against PyTorch: values and gradients.
// Tolerances: elementwise-only functions (dropout, pad, pixel (un)shuffle,
// embedding, one-hot, nearest resize, max pooling) rtol 1e-5, atol 1e-6;
// convolutions, norms, losses and other reductions, softmax, resizing that
// mixes pixels, pooling that averages, and attention rtol 1e-4, atol 1e-5.
// Scaled dot-product attention has no PyTorch 1.13 function, so its reference
// is the explicit formula softmax(q·kᵀ·scale + mask)·v.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, tensor, zeros } from '../src/torch/index.js';
import { type Case, type InputSpec, runParity } from './helpers/oracle.js';

type Values = InputSpec['values'];
/** An input that requires grad. */
const g = (shape: number[], values?: Values): InputSpec => ({ shape, requiresGrad: true, values });
/** A constant input (no grad). */
const c = (shape: number[], values?: Values): InputSpec => ({ shape, values });
/** Integer class indices / token ids. */
const ints = (shape: number[], values: Values): InputSpec => ({ shape, dtype: 'int64', values });
/** Tolerance of reductions, convolutions, norms and attention. */
const R = { rtol: 1e-4, atol: 1e-5 };

const linearCases: Case[] = [
  { name: 'linear with bias', inputs: [g([3, 5]), g([4, 5]), g([4])], ...R,
    ts: ([x, w, b]) => F.linear(x!, w!, b!), py: 'F.linear(x0, x1, x2)' },
  { name: 'linear without bias (3-d input)', inputs: [g([2, 3, 5]), g([4, 5])], ...R,
    ts: ([x, w]) => F.linear(x!, w!), py: 'F.linear(x0, x1)' },
];

const convCases: Case[] = [
  { name: 'conv2d stride 2 padding 1', inputs: [g([2, 3, 9, 9]), g([4, 3, 3, 3]), g([4])], ...R,
    ts: ([x, w, b]) => F.conv2d(x!, w!, b!, { stride: 2, padding: 1 }), py: 'F.conv2d(x0, x1, x2, stride=2, padding=1)' },
  { name: 'conv2d dilation 2, asymmetric padding and stride', inputs: [g([1, 2, 10, 9]), g([3, 2, 3, 2]), g([3])], ...R,
    ts: ([x, w, b]) => F.conv2d(x!, w!, b!, { stride: [1, 2], padding: [2, 1], dilation: 2 }),
    py: 'F.conv2d(x0, x1, x2, stride=(1, 2), padding=(2, 1), dilation=2)' },
  { name: 'conv2d groups 2, no bias', inputs: [g([2, 4, 6, 6]), g([6, 2, 3, 3])], ...R,
    ts: ([x, w]) => F.conv2d(x!, w!, null, { groups: 2 }), py: 'F.conv2d(x0, x1, None, groups=2)' },
  { name: 'conv2d depthwise with padding', inputs: [g([1, 3, 5, 5]), g([3, 1, 3, 3]), g([3])], ...R,
    ts: ([x, w, b]) => F.conv2d(x!, w!, b!, { padding: 1, groups: 3 }), py: 'F.conv2d(x0, x1, x2, padding=1, groups=3)' },
  { name: 'convTranspose2d stride 2 outputPadding 1', inputs: [g([2, 4, 5, 5]), g([4, 3, 3, 3]), g([3])], ...R,
    ts: ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1 }),
    py: 'F.conv_transpose2d(x0, x1, x2, stride=2, padding=1, output_padding=1)' },
  { name: 'convTranspose2d stride 2 kernel 4 (VQGAN-style upsampling)', inputs: [g([1, 3, 4, 4]), g([3, 2, 4, 4]), g([2])], ...R,
    ts: ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1 }),
    py: 'F.conv_transpose2d(x0, x1, x2, stride=2, padding=1)' },
  { name: 'convTranspose2d groups 2, dilation 2, no bias', inputs: [g([1, 4, 4, 4]), g([4, 1, 3, 3])], ...R,
    ts: ([x, w]) => F.convTranspose2d(x!, w!, null, { groups: 2, dilation: 2 }),
    py: 'F.conv_transpose2d(x0, x1, None, groups=2, dilation=2)' },
];

const normCases: Case[] = [
  { name: 'groupNorm 3 groups, affine', inputs: [g([2, 6, 4, 4]), g([6]), g([6])], ...R,
    ts: ([x, w, b]) => F.groupNorm(x!, 3, w!, b!), py: 'F.group_norm(x0, 3, x1, x2)' },
  { name: 'groupNorm without affine, eps 1e-3', inputs: [g([2, 4, 3, 5])], ...R,
    ts: ([x]) => F.groupNorm(x!, 2, null, null, 1e-3), py: 'F.group_norm(x0, 2, eps=1e-3)' },
  { name: 'layerNorm last dim, affine', inputs: [g([2, 5, 8]), g([8]), g([8])], ...R,
    ts: ([x, w, b]) => F.layerNorm(x!, [8], w!, b!), py: 'F.layer_norm(x0, [8], x1, x2)' },
  { name: 'layerNorm weight without bias', inputs: [g([4, 6]), g([6])], ...R,
    ts: ([x, w]) => F.layerNorm(x!, [6], w!), py: 'F.layer_norm(x0, [6], x1)' },
  { name: 'layerNorm last two dims, no affine, eps 1e-6', inputs: [g([3, 4, 6])], ...R,
    ts: ([x]) => F.layerNorm(x!, [4, 6], null, null, 1e-6), py: 'F.layer_norm(x0, [4, 6], eps=1e-6)' },
  { name: 'batchNorm training: output and running stats updated in place',
    inputs: [g([4, 3, 5, 5]), c([3]), c([3], 'positive'), g([3]), g([3])], ...R,
    ts: ([x, rm, rv, w, b]) => [F.batchNorm(x!, rm!, rv!, { weight: w, bias: b, training: true, momentum: 0.2 }), rm!, rv!],
    setup: 'out = F.batch_norm(x0, x1, x2, x3, x4, training=True, momentum=0.2)',
    py: '(out, x1, x2)' },
  { name: 'batchNorm training without running stats or affine, eps 1e-3', inputs: [g([6, 4])], ...R,
    ts: ([x]) => F.batchNorm(x!, null, null, { training: true, eps: 1e-3 }),
    py: 'F.batch_norm(x0, None, None, training=True, eps=1e-3)' },
  { name: 'batchNorm eval: uses and keeps the running stats',
    inputs: [g([3, 4, 2, 3]), c([4]), c([4], 'positive'), g([4]), g([4])], ...R,
    ts: ([x, rm, rv, w, b]) => [F.batchNorm(x!, rm!, rv!, { weight: w, bias: b }), rm!, rv!],
    setup: 'out = F.batch_norm(x0, x1, x2, x3, x4, training=False)',
    py: '(out, x1, x2)' },
];

const embeddingAndDropout: Case[] = [
  { name: 'embedding', inputs: [ints([2, 5], 'int:6'), g([6, 4])],
    ts: ([i, w]) => F.embedding(i!, w!), py: 'F.embedding(x0, x1)' },
  { name: 'embedding paddingIdx (no gradient into the padding row)',
    inputs: [ints([2, 5], [0, 3, 1, 0, 5, 2, 2, 0, 4, 1]), g([6, 4])],
    ts: ([i, w]) => F.embedding(i!, w!, 0), py: 'F.embedding(x0, x1, padding_idx=0)' },
  { name: 'embedding negative paddingIdx counts from the end',
    inputs: [ints([2, 5], [0, 3, 1, 0, 5, 2, 2, 0, 4, 5]), g([6, 4])],
    ts: ([i, w]) => F.embedding(i!, w!, -1), py: 'F.embedding(x0, x1, padding_idx=-1)' },
  { name: 'dropout p 0.3 training, seed 7 (same mask as PyTorch)', inputs: [g([4, 50])], seed: 7,
    ts: ([x]) => F.dropout(x!, 0.3, true), py: 'F.dropout(x0, 0.3, training=True)' },
  { name: 'dropout p 0.5 training, seed 123, float64', inputs: [{ shape: [3, 40], dtype: 'float64', requiresGrad: true }], seed: 123,
    ts: ([x]) => F.dropout(x!), py: 'F.dropout(x0)' },
  { name: 'dropout p 1 training zeroes everything', inputs: [g([3, 7])],
    ts: ([x]) => F.dropout(x!, 1, true), py: 'F.dropout(x0, 1.0, training=True)' },
  { name: 'dropout p 0 training is the identity', inputs: [g([3, 7])],
    ts: ([x]) => F.dropout(x!, 0, true), py: 'x0 * 1' },
  { name: 'dropout eval is the identity', inputs: [g([3, 7])],
    ts: ([x]) => F.dropout(x!, 0.5, false), py: 'x0 * 1' },
];

const softmaxCases: Case[] = [
  { name: 'softmax dim 1', inputs: [g([3, 4, 5])], ...R, ts: ([x]) => F.softmax(x!, 1), py: 'F.softmax(x0, 1)' },
  { name: 'logSoftmax dim -1', inputs: [g([3, 4, 5])], ...R, ts: ([x]) => F.logSoftmax(x!, -1), py: 'F.log_softmax(x0, -1)' },
  { name: 'oneHot numClasses 5', inputs: [ints([2, 3], [0, 2, 1, 4, 3, 2])],
    ts: ([i]) => F.oneHot(i!, 5), py: 'F.one_hot(x0, 5)' },
  { name: 'oneHot inferred classes', inputs: [ints([4], [1, 3, 0, 3])],
    ts: ([i]) => F.oneHot(i!), py: 'F.one_hot(x0)' },
];

const targets = [2, 0, 1, 2, 4, 3];
const lossCases: Case[] = [
  { name: 'crossEntropy class indices, mean', inputs: [g([6, 5]), ints([6], targets)], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!), py: 'F.cross_entropy(x0, x1)' },
  { name: 'crossEntropy reduction sum', inputs: [g([6, 5]), ints([6], targets)], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!, { reduction: 'sum' }), py: "F.cross_entropy(x0, x1, reduction='sum')" },
  { name: 'crossEntropy reduction none', inputs: [g([6, 5]), ints([6], targets)], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!, { reduction: 'none' }), py: "F.cross_entropy(x0, x1, reduction='none')" },
  { name: 'crossEntropy class weights', inputs: [g([6, 5]), ints([6], targets), c([5], 'positive')], ...R,
    ts: ([l, t, w]) => F.crossEntropy(l!, t!, { weight: w }), py: 'F.cross_entropy(x0, x1, weight=x2)' },
  { name: 'crossEntropy labelSmoothing 0.1', inputs: [g([6, 5]), ints([6], targets)], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!, { labelSmoothing: 0.1 }), py: 'F.cross_entropy(x0, x1, label_smoothing=0.1)' },
  { name: 'crossEntropy ignoreIndex 2', inputs: [g([6, 5]), ints([6], targets)], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!, { ignoreIndex: 2 }), py: 'F.cross_entropy(x0, x1, ignore_index=2)' },
  { name: 'crossEntropy default ignoreIndex -100, reduction none',
    inputs: [g([4, 3]), ints([4], [1, -100, 0, 2])], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!, { reduction: 'none' }), py: "F.cross_entropy(x0, x1, reduction='none')" },
  { name: 'crossEntropy weight + labelSmoothing + ignoreIndex, sum',
    inputs: [g([6, 5]), ints([6], targets), c([5], 'positive')], ...R,
    ts: ([l, t, w]) => F.crossEntropy(l!, t!, { weight: w, labelSmoothing: 0.1, ignoreIndex: 2, reduction: 'sum' }),
    py: "F.cross_entropy(x0, x1, weight=x2, label_smoothing=0.1, ignore_index=2, reduction='sum')" },
  { name: 'crossEntropy weight + labelSmoothing, mean', inputs: [g([6, 5]), ints([6], targets), c([5], 'positive')], ...R,
    ts: ([l, t, w]) => F.crossEntropy(l!, t!, { weight: w, labelSmoothing: 0.1 }),
    py: 'F.cross_entropy(x0, x1, weight=x2, label_smoothing=0.1)' },
  { name: 'crossEntropy spatial [B, C, H, W] logits', inputs: [g([2, 4, 3, 3]), ints([2, 3, 3], 'int:4')], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!), py: 'F.cross_entropy(x0, x1)' },
  { name: 'crossEntropy probability targets', inputs: [g([6, 5]), g([6, 5])], ...R,
    ts: ([l, t]) => F.crossEntropy(l!, t!.softmax(1)), py: 'F.cross_entropy(x0, x1.softmax(1))' },
  { name: 'crossEntropy probability targets, weight, labelSmoothing, none',
    inputs: [g([6, 5]), c([6, 5], 'uniform'), c([5], 'positive')], ...R,
    ts: ([l, t, w]) => F.crossEntropy(l!, t!, { weight: w, labelSmoothing: 0.1, reduction: 'none' }),
    py: "F.cross_entropy(x0, x1, weight=x2, label_smoothing=0.1, reduction='none')" },
  { name: 'mseLoss mean', inputs: [g([3, 4]), g([3, 4])], ...R, ts: ([a, b]) => F.mseLoss(a!, b!), py: 'F.mse_loss(x0, x1)' },
  { name: 'mseLoss sum', inputs: [g([3, 4]), g([3, 4])], ...R,
    ts: ([a, b]) => F.mseLoss(a!, b!, 'sum'), py: "F.mse_loss(x0, x1, reduction='sum')" },
  { name: 'mseLoss none', inputs: [g([3, 4]), g([3, 4])], ...R,
    ts: ([a, b]) => F.mseLoss(a!, b!, 'none'), py: "F.mse_loss(x0, x1, reduction='none')" },
  { name: 'l1Loss mean', inputs: [g([3, 4]), g([3, 4])], ...R, ts: ([a, b]) => F.l1Loss(a!, b!), py: 'F.l1_loss(x0, x1)' },
  { name: 'l1Loss sum', inputs: [g([3, 4]), g([3, 4])], ...R,
    ts: ([a, b]) => F.l1Loss(a!, b!, 'sum'), py: "F.l1_loss(x0, x1, reduction='sum')" },
  { name: 'l1Loss none', inputs: [g([3, 4]), g([3, 4])], ...R,
    ts: ([a, b]) => F.l1Loss(a!, b!, 'none'), py: "F.l1_loss(x0, x1, reduction='none')" },
  { name: 'binaryCrossEntropyWithLogits mean', inputs: [g([4, 3]), c([4, 3], 'uniform')], ...R,
    ts: ([l, t]) => F.binaryCrossEntropyWithLogits(l!, t!), py: 'F.binary_cross_entropy_with_logits(x0, x1)' },
  { name: 'binaryCrossEntropyWithLogits weight, sum', inputs: [g([4, 3]), c([4, 3], 'uniform'), c([4, 3], 'positive')], ...R,
    ts: ([l, t, w]) => F.binaryCrossEntropyWithLogits(l!, t!, { weight: w, reduction: 'sum' }),
    py: "F.binary_cross_entropy_with_logits(x0, x1, weight=x2, reduction='sum')" },
  { name: 'binaryCrossEntropyWithLogits posWeight, none', inputs: [g([4, 3]), g([4, 3], 'uniform'), c([3], 'positive')], ...R,
    ts: ([l, t, p]) => F.binaryCrossEntropyWithLogits(l!, t!, { posWeight: p, reduction: 'none' }),
    py: "F.binary_cross_entropy_with_logits(x0, x1, pos_weight=x2, reduction='none')" },
  { name: 'binaryCrossEntropyWithLogits weight + posWeight, mean',
    inputs: [g([4, 3]), c([4, 3], 'uniform'), c([3], 'positive'), c([3], 'positive')], ...R,
    ts: ([l, t, w, p]) => F.binaryCrossEntropyWithLogits(l!, t!, { weight: w, posWeight: p }),
    py: 'F.binary_cross_entropy_with_logits(x0, x1, weight=x2, pos_weight=x3)' },
];

const interpolateCases: Case[] = [
  { name: 'interpolate nearest up by size', inputs: [g([1, 2, 4, 5])],
    ts: ([x]) => F.interpolate(x!, { size: [7, 9] }), py: "F.interpolate(x0, size=(7, 9), mode='nearest')" },
  { name: 'interpolate nearest up by scaleFactor 2', inputs: [g([2, 2, 3, 4])],
    ts: ([x]) => F.interpolate(x!, { scaleFactor: 2, mode: 'nearest' }), py: "F.interpolate(x0, scale_factor=2, mode='nearest')" },
  { name: 'interpolate nearest down by scaleFactor 0.5', inputs: [g([1, 2, 8, 6])],
    ts: ([x]) => F.interpolate(x!, { scaleFactor: 0.5 }), py: 'F.interpolate(x0, scale_factor=0.5)' },
  { name: 'interpolate nearest down by size', inputs: [g([1, 1, 9, 7])],
    ts: ([x]) => F.interpolate(x!, { size: [4, 3] }), py: 'F.interpolate(x0, size=(4, 3))' },
  { name: 'interpolate bilinear up by size', inputs: [g([1, 2, 4, 5])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: [7, 9], mode: 'bilinear' }),
    py: "F.interpolate(x0, size=(7, 9), mode='bilinear', align_corners=False)" },
  { name: 'interpolate bilinear alignCorners by size', inputs: [g([1, 2, 4, 5])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: [7, 9], mode: 'bilinear', alignCorners: true }),
    py: "F.interpolate(x0, size=(7, 9), mode='bilinear', align_corners=True)" },
  { name: 'interpolate bilinear by scaleFactor 1.5', inputs: [g([1, 2, 4, 6])], ...R,
    ts: ([x]) => F.interpolate(x!, { scaleFactor: 1.5, mode: 'bilinear' }),
    py: "F.interpolate(x0, scale_factor=1.5, mode='bilinear', align_corners=False)" },
  { name: 'interpolate bilinear by scaleFactor [2, 0.5], alignCorners', inputs: [g([1, 1, 4, 6])], ...R,
    ts: ([x]) => F.interpolate(x!, { scaleFactor: [2, 0.5], mode: 'bilinear', alignCorners: true }),
    py: "F.interpolate(x0, scale_factor=(2, 0.5), mode='bilinear', align_corners=True)" },
  { name: 'interpolate bilinear by a single size number', inputs: [g([1, 2, 4, 5])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: 6, mode: 'bilinear' }),
    py: "F.interpolate(x0, size=6, mode='bilinear', align_corners=False)" },
  { name: 'interpolate bicubic up by size', inputs: [g([1, 2, 4, 5])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: [8, 7], mode: 'bicubic' }),
    py: "F.interpolate(x0, size=(8, 7), mode='bicubic', align_corners=False)" },
  { name: 'interpolate bicubic alignCorners by scaleFactor 2', inputs: [g([1, 2, 4, 5])], ...R,
    ts: ([x]) => F.interpolate(x!, { scaleFactor: 2, mode: 'bicubic', alignCorners: true }),
    py: "F.interpolate(x0, scale_factor=2, mode='bicubic', align_corners=True)" },
  { name: 'interpolate bilinear down (no antialias) by size', inputs: [g([1, 2, 9, 11])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: [3, 4], mode: 'bilinear' }),
    py: "F.interpolate(x0, size=(3, 4), mode='bilinear', align_corners=False)" },
  { name: 'interpolate bilinear antialias down by size', inputs: [g([1, 2, 9, 11])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: [3, 4], mode: 'bilinear', antialias: true }),
    py: "F.interpolate(x0, size=(3, 4), mode='bilinear', align_corners=False, antialias=True)" },
  { name: 'interpolate bilinear antialias down by scaleFactor 0.5', inputs: [g([2, 1, 8, 10])], ...R,
    ts: ([x]) => F.interpolate(x!, { scaleFactor: 0.5, mode: 'bilinear', antialias: true }),
    py: "F.interpolate(x0, scale_factor=0.5, mode='bilinear', align_corners=False, antialias=True)" },
  { name: 'interpolate bicubic antialias down by size', inputs: [g([1, 2, 12, 10])], ...R,
    ts: ([x]) => F.interpolate(x!, { size: [5, 3], mode: 'bicubic', antialias: true }),
    py: "F.interpolate(x0, size=(5, 3), mode='bicubic', align_corners=False, antialias=True)" },
  { name: 'interpolate bicubic antialias down by scaleFactor 0.25', inputs: [g([1, 1, 16, 12])], ...R,
    ts: ([x]) => F.interpolate(x!, { scaleFactor: 0.25, mode: 'bicubic', antialias: true }),
    py: "F.interpolate(x0, scale_factor=0.25, mode='bicubic', align_corners=False, antialias=True)" },
];

const poolCases: Case[] = [
  { name: 'avgPool2d kernel 2', inputs: [g([2, 3, 6, 6])], ...R,
    ts: ([x]) => F.avgPool2d(x!, 2), py: 'F.avg_pool2d(x0, 2)' },
  { name: 'avgPool2d kernel 3 stride 2 padding 1', inputs: [g([1, 2, 7, 6])], ...R,
    ts: ([x]) => F.avgPool2d(x!, 3, { stride: 2, padding: 1 }), py: 'F.avg_pool2d(x0, 3, stride=2, padding=1)' },
  { name: 'avgPool2d countIncludePad false, ceilMode', inputs: [g([1, 2, 7, 6])], ...R,
    ts: ([x]) => F.avgPool2d(x!, [3, 2], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    py: 'F.avg_pool2d(x0, (3, 2), stride=2, padding=1, ceil_mode=True, count_include_pad=False)' },
  { name: 'maxPool2d kernel 2', inputs: [g([2, 3, 6, 6])],
    ts: ([x]) => F.maxPool2d(x!, 2), py: 'F.max_pool2d(x0, 2)' },
  { name: 'maxPool2d kernel 3 stride 2 padding 1', inputs: [g([1, 2, 7, 8])],
    ts: ([x]) => F.maxPool2d(x!, 3, { stride: 2, padding: 1 }), py: 'F.max_pool2d(x0, 3, stride=2, padding=1)' },
  { name: 'maxPool2d dilation 2, ceilMode', inputs: [g([1, 2, 9, 8])],
    ts: ([x]) => F.maxPool2d(x!, 2, { stride: 2, dilation: 2, ceilMode: true }),
    py: 'F.max_pool2d(x0, 2, stride=2, dilation=2, ceil_mode=True)' },
  { name: 'adaptiveAvgPool2d to [3, 2]', inputs: [g([2, 2, 7, 5])], ...R,
    ts: ([x]) => F.adaptiveAvgPool2d(x!, [3, 2]), py: 'F.adaptive_avg_pool2d(x0, (3, 2))' },
  { name: 'adaptiveAvgPool2d to 1 (global)', inputs: [g([2, 3, 4, 5])], ...R,
    ts: ([x]) => F.adaptiveAvgPool2d(x!, 1), py: 'F.adaptive_avg_pool2d(x0, 1)' },
];

const padCases: Case[] = [
  { name: 'pad constant 0 (default)', inputs: [g([1, 2, 3, 4])],
    ts: ([x]) => F.pad(x!, [1, 2, 0, 1]), py: 'F.pad(x0, (1, 2, 0, 1))' },
  { name: 'pad constant value 0.5', inputs: [g([1, 2, 3, 4])],
    ts: ([x]) => F.pad(x!, [1, 2, 2, 1], 'constant', 0.5), py: "F.pad(x0, (1, 2, 2, 1), mode='constant', value=0.5)" },
  { name: 'pad reflect', inputs: [g([2, 2, 4, 5])],
    ts: ([x]) => F.pad(x!, [2, 1, 1, 3], 'reflect'), py: "F.pad(x0, (2, 1, 1, 3), mode='reflect')" },
  { name: 'pad replicate', inputs: [g([1, 2, 3, 4])],
    ts: ([x]) => F.pad(x!, [1, 3, 2, 0], 'replicate'), py: "F.pad(x0, (1, 3, 2, 0), mode='replicate')" },
  { name: 'pad circular', inputs: [g([1, 2, 3, 4])],
    ts: ([x]) => F.pad(x!, [1, 2, 2, 1], 'circular'), py: "F.pad(x0, (1, 2, 2, 1), mode='circular')" },
  { name: 'pad constant with negative pads (crop)', inputs: [g([1, 2, 5, 6])],
    ts: ([x]) => F.pad(x!, [-1, 2, 1, -2]), py: 'F.pad(x0, (-1, 2, 1, -2))' },
  { name: 'pad reflect on a 3-d input', inputs: [g([2, 3, 6])],
    ts: ([x]) => F.pad(x!, [3, 2], 'reflect'), py: "F.pad(x0, (3, 2), mode='reflect')" },
  { name: 'pixelShuffle 2', inputs: [g([2, 8, 3, 3])],
    ts: ([x]) => F.pixelShuffle(x!, 2), py: 'F.pixel_shuffle(x0, 2)' },
  { name: 'pixelUnshuffle 2', inputs: [g([1, 2, 6, 4])],
    ts: ([x]) => F.pixelUnshuffle(x!, 2), py: 'F.pixel_unshuffle(x0, 2)' },
  { name: 'pixelUnshuffle then pixelShuffle round trip', inputs: [g([1, 3, 6, 9])],
    ts: ([x]) => F.pixelShuffle(F.pixelUnshuffle(x!, 3), 3), py: 'F.pixel_shuffle(F.pixel_unshuffle(x0, 3), 3)' },
];

// q [B, H, L, E], k [B, H, S, E], v [B, H, S, Ev]; L = 4, S = 6.
const qkv = (): InputSpec[] => [g([2, 3, 4, 8]), g([2, 3, 6, 8]), g([2, 3, 6, 5])];
// A boolean mask [L, S] (true = may attend) with at least one true per row.
const boolMask = [
  1, 0, 0, 1, 0, 0,
  0, 1, 1, 0, 0, 1,
  1, 1, 1, 1, 1, 1,
  0, 0, 0, 0, 1, 0,
];
const attention = (scale: string, mask = ''): string =>
  `torch.softmax(x0 @ x1.transpose(-2, -1) * ${scale}${mask}, -1) @ x2`;
const attentionCases: Case[] = [
  { name: 'scaledDotProductAttention plain', inputs: qkv(), ...R,
    ts: ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!), py: attention('(1 / math.sqrt(8))') },
  { name: 'scaledDotProductAttention custom scale 0.3', inputs: qkv(), ...R,
    ts: ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!, { scale: 0.3 }), py: attention('0.3') },
  { name: 'scaledDotProductAttention isCausal (L = S)', inputs: [g([2, 5, 8]), g([2, 5, 8]), g([2, 5, 3])], ...R,
    ts: ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!, { isCausal: true }),
    setup: "causal = torch.ones(5, 5, dtype=torch.bool).tril()\nneg = torch.zeros(5, 5).masked_fill(~causal, float('-inf'))",
    py: attention('(1 / math.sqrt(8))', ' + neg') },
  { name: 'scaledDotProductAttention isCausal (L < S, top-left aligned)', inputs: qkv(), ...R,
    ts: ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!, { isCausal: true }),
    setup: "causal = torch.ones(4, 6, dtype=torch.bool).tril()\nneg = torch.zeros(4, 6).masked_fill(~causal, float('-inf'))",
    py: attention('(1 / math.sqrt(8))', ' + neg') },
  { name: 'scaledDotProductAttention boolean mask (true = attend)',
    inputs: [...qkv(), { shape: [4, 6], dtype: 'bool', values: boolMask }], ...R,
    ts: ([q, k, v, m]) => F.scaledDotProductAttention(q!, k!, v!, { attnMask: m }),
    setup: "neg = torch.zeros(4, 6).masked_fill(~x3, float('-inf'))",
    py: attention('(1 / math.sqrt(8))', ' + neg') },
  { name: 'scaledDotProductAttention additive float mask (with its gradient), scale 0.5',
    inputs: [...qkv(), g([1, 3, 4, 6])], ...R,
    ts: ([q, k, v, m]) => F.scaledDotProductAttention(q!, k!, v!, { attnMask: m, scale: 0.5 }),
    py: attention('0.5', ' + x3') },
  { name: 'scaledDotProductAttention broadcast boolean mask [B, 1, L, S]',
    inputs: [...qkv(), { shape: [2, 1, 4, 6], dtype: 'bool', values: [...boolMask, ...boolMask.slice(12), ...boolMask.slice(0, 12)] }], ...R,
    ts: ([q, k, v, m]) => F.scaledDotProductAttention(q!, k!, v!, { attnMask: m }),
    setup: "neg = torch.zeros(2, 1, 4, 6).masked_fill(~x3, float('-inf'))",
    py: attention('(1 / math.sqrt(8))', ' + neg') },
  { name: 'scaledDotProductAttention dropoutP 0.2, seed 5 (dropout after the softmax)', inputs: qkv(), ...R, seed: 5,
    ts: ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!, { dropoutP: 0.2 }),
    py: 'F.dropout(torch.softmax(x0 @ x1.transpose(-2, -1) / math.sqrt(8), -1), 0.2) @ x2' },
];

const cases: Case[] = [
  ...linearCases, ...convCases, ...normCases, ...embeddingAndDropout, ...softmaxCases, ...lossCases,
  ...interpolateCases, ...poolCases, ...padCases, ...attentionCases,
];

test('nn functions match PyTorch', async (t) => {
  for (const outcome of runParity(cases, { rtol: 1e-5, atol: 1e-6 })) {
    await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
  }
});

test('bad arguments that PyTorch rejects are rejected here too', () => {
  const w = zeros([3, 2]);
  assert.throws(() => F.embedding(tensor([0], { dtype: 'int64' }), w, 5), /paddingIdx 5 is outside the 3 embeddings/);
  assert.throws(() => F.interpolate(zeros([1, 1, 4, 4]), { size: 8, mode: 'nearest', alignCorners: true }), /alignCorners/);
  w.dispose();
});
