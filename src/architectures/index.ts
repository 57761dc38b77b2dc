// The networks a tokenizer is built from, apart from the method that trains
// them (docs/method.md §1: RobusTok is architecture-agnostic), as
// taming-transformers keeps its modules apart from its models: VQGAN's CNN
// under robustok's/taming's and LlamaGen's names, the TiTok-style ViT and the
// RobusTok release's DINOv2 ViT; and what the GAN side trains against them
// (PatchGAN, the feature-network discriminator, DiffAugment). None of them
// knows about quantizers, perturbation or losses.
export * from './cnn.js';
export * from './llamagen.js';
export * from './vit.js';
export * from './robustok_vit.js';
export * from './discriminator.js';
export * from './feature_discriminator.js';
export * from './diffaug.js';
