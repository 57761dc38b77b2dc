// Evaluation math, model-free: Fréchet distance and its streaming statistics (FID,
// rFID, pFID), pixel metrics, codebook utilisation, Inception Score,
// precision and recall; and the δ nearest codes that the perturbation and
// the crowding statistic share (docs/method.md §2).
export { FRECHET_EPS, frechetDistance, traceSqrtProduct } from './frechet.js';
export { type FidNoise, type FidNoiseOptions, combinationError, fidNoise, gaussianOf, replicateError, resampledRows } from './frechet_noise.js';
export { FeatureStats, type GaussianStats } from './stats.js';
export { type ImageMetricOptions, type SsimOptions, psnr, psnrPerImage, ssim, ssimPerImage } from './image.js';
export type { CodeDistance } from './code_distance.js';
export { codeNeighbours, inCodeSpace, l2Normalize, nearestCodes } from './nearest_codes.js';
export { CodeHistogram, type CodebookReport, codebookReport, codebookUsage, neighbourCosine } from './codebook.js';
export { type InceptionScore, inceptionScore } from './inception_score.js';
export { type PrecisionRecallOptions, knnRadii, manifoldCoverage, precisionRecall } from './precision_recall.js';
export { type TSummary, incompleteBeta, studentTCdf, studentTQuantile, tSummary } from './student_t.js';
export { averageRanks, kendallTauB, spearman } from './ranks.js';
export { type MeanStd, meanStd } from './mean_std.js';
export { signTest } from './sign_test.js';
export { type BootstrapOptions, type Interval, bootstrapInterval, bootstrapMean, seededUniform } from './bootstrap.js';
export { type PermutationBlock, type PermutationOptions, type PermutationResult, blockPermutationTest, nthPermutation, referenceBlock, shuffleBlock } from './permutation.js';
export { detectableEffect } from './power.js';
