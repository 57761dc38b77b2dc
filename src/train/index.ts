// Training infrastructure shared by the tokenizer, generator and post-training loops.
export * from './checkpoint.js';
