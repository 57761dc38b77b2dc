// Evaluation of trained models, above the model layers: a tokenizer's rFID,
// pFID (the protocol in pfid.ts) and pixel metrics, and their HTML report.
// The math itself (Fréchet distance, statistics) is in ../metrics.
export * from './pfid.js';
export * from './tokenizer_eval.js';
export * from './generator_eval.js';
export { curveSvg, escape, fmt, gridHtml, htmlPage, reportHtml, tableHtml } from './report.js';
export { type GeneratorReportInput, generatorReportHtml } from './generator_report.js';
