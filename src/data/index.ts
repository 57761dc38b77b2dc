// The data layer: datasets, preprocessing with an on-disk cache, and batched loading.
export { type Dataset, type DatasetLoader, type OpenOptions, type SplitName, type SplitSource, splitNames } from './source.js';
export { openDataset, listDatasets, registerDataset } from './registry.js';
export { type PreprocessConfig, ImageSizeError, validatePreprocess } from './preprocess.js';
export { type AugmentConfig, validateAugment } from './augment.js';
export { type PreparedSplit, defaultCacheDir, leadingSamples } from './cache.js';
export { type Prepared, type PrepareOptions, prepareSplit, cacheEntry } from './prepare.js';
export { type Batch, type HostBatch, type LoaderOptions, DataLoader } from './loader.js';
export { Rng, mixSeed } from './rng.js';
export { type RawImage, chwToHwc } from './image.js';
export { UnreadableImageError, decodeFile, decodeImage } from './decode.js';
export { type DecodedFiles, decodeFilesSkipping, skippedWarning } from './decode_skips.js';
export { fitImage, imagesToTensor, readImageFiles, tensorToImages } from './image_tensors.js';
export { encodePng, writePng } from './png.js';
export { writeGrid, writeImageGrid, writeImageRows } from './grid.js';
export { imagesToBytes, unitFromByte } from './pixels.js';
export { packageDir } from './package_dir.js';
export { HELD_OUT_SEED, heldOutIndices, splitLabel } from './held_out.js';
export { datasetFields } from './schema.js';
