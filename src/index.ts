// The robustok package: the engine (`torch`) and every layer above it, each
// as a namespace named after its folder (imports in the code point down:
// server, pipeline → runs → eval → posttrain → generator → tokenizer → architectures/features → nn/optim/data/metrics/train → torch/config).
export * as torch from './torch/index.js';
export * as config from './config/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as metrics from './metrics/index.js';
export * as train from './train/index.js';
export * as features from './features/index.js';
export * as architectures from './architectures/index.js';
export * as tokenizer from './tokenizer/index.js';
export * as generator from './generator/index.js';
export * as posttrain from './posttrain/index.js';
export * as evaluation from './eval/index.js';
export * as runs from './runs/index.js';
export * as pipeline from './pipeline/index.js';
export * as server from './server/index.js';
// The names most scripts start from, at the top level too.
export { Tokenizer, latentPerturbation } from './tokenizer/index.js';
export { evaluateTokenizer, evaluateGenerator, pfidLevels } from './eval/index.js';
export { ArGenerator, loadGenerator, sampleTokens } from './generator/index.js';
export { preservedSampling } from './posttrain/index.js';
