// The tokenizer: quantizer, latent perturbation, the model that joins them to
// an architecture, GAN losses and the training step (docs/method.md §1–2, §4).
export * from './tokens.js';
export * from './quantizer.js';
export * from './perturbation.js';
export * from './gaussian_noise.js';
export * from './gan_losses.js';
export * from './model.js';
export * from './config.js';
export * from './trainer.js';
export * from './io.js';
export * from './published.js';
export * from './open.js';
export * from './token_ids.js';
export * from './perceptual.js';
export * from './objective.js';
// The architectures moved to src/architectures and image files in and out to
// src/data; both stay on this namespace too (`robustok.tokenizer.CnnEncoder`,
// `tokenizer.readImageFiles`), where scripts found them before the split.
export * from '../architectures/index.js';
export {
  type RawImage, decodeFile as readImageFile, encodePng, fitImage, imagesToTensor, readImageFiles, tensorToImages, writePng,
} from '../data/index.js';
