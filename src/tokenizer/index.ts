// The tokenizer: quantizer and latent perturbation (METHOD §1–2).
export * from './tokens.js';
export * from './quantizer.js';
export * from './perturbation.js';
export * from './gaussian_noise.js';
