// The reproduction layer (docs/design.md §10): one resumable experiment over a
// run folder that tests the paper's three claims (docs/method.md, last
// section) with the same run functions as the single commands — a preset,
// a stage graph with hashed records, the analysis and the report.
export * from './preset.js';
export * from './sweep_field.js';
export * from './layer_configs.js';
export * from './hash.js';
export * from './stage_record.js';
export * from './decision.js';
export * from './runner.js';
export * from './scheduler.js';
export * from './child_stage.js';
export * from './stage_builders.js';
export * from './graph.js';
export * from './measurements.js';
export * from './verdict.js';
export * from './design.js';
export * from './format.js';
export * from './seed_part.js';
export * from './claim_perturbation.js';
export * from './claim_ranking.js';
export * from './claim_posttraining.js';
export * from './analysis.js';
export * from './results.js';
export * from './scatter_svg.js';
export * from './report.js';
export * from './summary_md.js';
export * from './stage_devices.js';
export * from './reproduce.js';
