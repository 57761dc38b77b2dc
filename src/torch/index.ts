// robustok's engine: a PyTorch-like tensor library over libtorch.
export { type DType, type TypedArray, isDType, isFloatingPoint } from './dtype.js';
export { Tensor, type MemoryFormat, type Device, type TensorLike, type NestedArray, type BackwardOptions } from './tensor.js';
export { tidy, inScope } from './scope.js';
export * from './creation.js';
export { auditImplicitDevices } from './device_audit.js';
export * from './random.js';
export * from './ops.js';
export * from './autograd.js';
export * from './autocast.js';
export * from './runtime.js';
export { type PhaseRow, type ProfileReport, phase, profile, profileTable } from './phase_profile.js';
export { type ThreadAdjustment, type ThreadDecision, type ThreadGovernor, type ThreadSource } from './threads.js';
export * as F from './functional.js';
export * as linalg from './linalg.js';
export { type Safetensors, encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors, loadCached } from './safetensors.js';
export { type PtValue, PickledObject, loadPt, savePt, flattenStateDict } from './pickle.js';
export { namingFile, writeFileAtomic } from './atomic_write.js';
export {
  type Backend, type CollectiveOptions, type DistributedAvailability, type ProcessGroupOptions, type ReduceOp, type Rendezvous,
  GradientReducer, ProcessGroup, Work, distributedAvailability, requireDistributed,
} from './distributed.js';
export { type BackwardHook, addBackwardHook } from './backward_hooks.js';
