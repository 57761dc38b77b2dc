// The tokenizer: quantizer, latent perturbation, architectures and GAN parts (docs/method.md §1–2, §4).
export * from './tokens.js';
export * from './quantizer.js';
export * from './perturbation.js';
export * from './gaussian_noise.js';
export * from './cnn.js';
export * from './llamagen.js';
export * from './vit.js';
export * from './robustok_vit.js';
export * from './discriminator.js';
export * from './diffaug.js';
export * from './gan_losses.js';
export * from './model.js';
export * from './config.js';
export * from './trainer.js';
export * from './io.js';
export * from './published.js';
export * from './open.js';
export * from './token_ids.js';
export * from './images.js';
export * from './perceptual.js';

export * from './objective.js';
export * from './feature_discriminator.js';
