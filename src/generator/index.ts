// The class-conditional autoregressive generator over a tokenizer's codes
// (docs/method.md §5). So far: classifier-free guidance and the token draw.
export * from './guidance.js';
