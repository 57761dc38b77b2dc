// The tokenizer: quantizer, latent perturbation and architectures (METHOD §1–2).
export * from './tokens.js';
export * from './quantizer.js';
export * from './perturbation.js';
export * from './gaussian_noise.js';
export * from './cnn.js';
export * from './vit.js';
