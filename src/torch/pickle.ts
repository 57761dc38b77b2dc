// PyTorch's own checkpoint files (.pt/.pth): what torch.save writes and
// torch.load reads, as nested plain values with Tensors inside.
import { types } from 'node:util';
import { readFileWhole, writeFileAtomic } from './atomic_write.js';
import { type Handle, native as N } from './native.js';
import { Tensor, describe, wrap } from './tensor.js';

/**
 * A Python object the checkpoint pickles beside its weights that robustok
 * does not rebuild (an argparse.Namespace of run arguments, a Lightning
 * callback's state, a numpy scalar): its class name, what it was built from
 * (`contents`) and its pickled state (`state`, e.g. its attributes), both as
 * read. Tensors inside one are left out of state dicts (flattenStateDict).
 */
export class PickledObject {
  constructor(readonly className: string, readonly contents: PtValue, readonly state: PtValue) {}
}

/**
 * A checkpoint's contents. Python dicts (OrderedDicts included) become plain
 * objects, with integer keys as strings; lists, tuples and sets become
 * arrays; other Python objects become PickledObjects.
 */
export type PtValue = Tensor | number | boolean | string | null | PickledObject | PtValue[] | { [key: string]: PtValue };

/** The key of the addon's placeholder for a pickled object (pickle_reader.cc, kOpaqueKey). */
const OPAQUE_KEY = '__robustok.pickled_object__';

/** Zip files start with a local file header, "PK\x03\x04". */
const isZip = (bytes: Uint8Array): boolean =>
  bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/** Legacy torch.save files start with a binary pickle (PROTO opcode, 0x80); the addon checks the rest. */
const isPickle = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x80;

/** A tar archive names its format at byte 257: torch.save's layout in PyTorch's earliest releases. */
const isTar = (bytes: Uint8Array): boolean => Buffer.from(bytes.subarray(257, 262)).toString('latin1') === 'ustar';

function withTensors(value: unknown): PtValue {
  if (types.isExternal(value)) return wrap(value as Handle);
  if (Array.isArray(value)) return value.map(withTensors);
  if (value !== null && typeof value === 'object') {
    if (Object.hasOwn(value, OPAQUE_KEY)) {
      const { [OPAQUE_KEY]: className, contents, state } = value as Record<string, unknown>;
      return new PickledObject(String(className), withTensors(contents ?? null), withTensors(state ?? null));
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withTensors(item)]));
  }
  return value as PtValue;
}

/**
 * Reads a torch.save file, e.g. `{model: {...}, ema: {...}, step: 10}` or a
 * bare state_dict, in either of its layouts: the zip archive of PyTorch >= 1.6
 * or the legacy stream written before (and with
 * `_use_new_zipfile_serialization=False`), the layout of many released
 * weights files. Tensors land on the CPU whatever device they were saved
 * from; tensors that shared storage in PyTorch still share it.
 */
export function loadPt(file: string): PtValue {
  const bytes = readFileWhole(file, 'checkpoint');
  if (!isZip(bytes) && isTar(bytes)) {
    throw new Error(`${file} is a tar-format torch.save file, from PyTorch's earliest releases, which robustok does ` +
      'not read. Re-save it in PyTorch: torch.save(torch.load(path), path)');
  }
  if (!isZip(bytes) && !isPickle(bytes)) {
    throw new Error(`${file} is not a zip-format PyTorch checkpoint nor a legacy torch.save file: it starts with ` +
      'neither a zip header nor a pickle');
  }
  try {
    return withTensors(N.pickleLoad(bytes));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/** The value with Tensors replaced by their native handles, checked on the way. */
function toNative(value: unknown, at: string): unknown {
  if (value instanceof Tensor) {
    if (value.isDisposed) throw new TypeError(`savePt: the tensor at ${at} was disposed`);
    return value.handle;
  }
  if (value === null || ['number', 'boolean', 'string'].includes(typeof value)) return value;
  if (Array.isArray(value)) return value.map((item, i) => toNative(item, `${at}[${i}]`));
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toNative(item, `${at}.${key}`)]));
  }
  throw new TypeError(`savePt: cannot store ${describe(value)} at ${at}; checkpoints hold tensors, plain objects, ` +
    'arrays, numbers, strings, booleans and null');
}

/**
 * Writes `value` in torch.save's format, atomically (see writeFileAtomic), for
 * `torch.load` to read. Objects become dicts. A JS number cannot tell 1 from
 * 1.0, so integral numbers are stored as Python ints.
 */
export function savePt(file: string, value: PtValue): void {
  const bytes: Uint8Array = N.pickleSave(toNative(value, 'the top'));
  writeFileAtomic(file, [bytes]);
}

/** The tensors anywhere inside `value` (a PickledObject's contents and state included). */
function hasTensor(value: PtValue): boolean {
  if (value instanceof Tensor) return true;
  if (value instanceof PickledObject) return hasTensor(value.contents) || hasTensor(value.state);
  return value !== null && typeof value === 'object' && Object.values(value).some(hasTensor);
}

/**
 * The tensors of a nested checkpoint under PyTorch's dotted names: nested
 * objects join their keys with '.', arrays use indices (`blocks.0.attn`).
 * With a `prefix` (e.g. 'model', or DDP's 'module'), only names under it
 * are kept, with the prefix removed: `flattenStateDict(ckpt, 'model')` is
 * `ckpt.model`'s state dict. Non-tensor leaves (a step count) and pickled
 * Python objects (PickledObject: run arguments, callback states) are
 * skipped; when the tensors asked for lie only inside such an object, the
 * error names it, as robustok cannot tell its layout.
 */
export function flattenStateDict(nested: PtValue, prefix = ''): Record<string, Tensor> {
  const all: Record<string, Tensor> = {};
  const objects: [string, PickledObject][] = [];
  const visit = (value: PtValue, name: string): void => {
    if (value instanceof Tensor) {
      if (Object.hasOwn(all, name)) throw new Error(`flattenStateDict: two tensors are named '${name}'`);
      all[name] = value;
    } else if (value instanceof PickledObject) {
      if (hasTensor(value)) objects.push([name, value]);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, name === '' ? key : `${name}.${key}`);
    }
  };
  visit(nested, '');
  const hiddenUnder = (p: string): [string, PickledObject] | undefined =>
    objects.find(([name]) => p === '' || name === p || name.startsWith(`${p}.`) || p.startsWith(`${name}.`));
  const refuse = (what: string, [name, object]: [string, PickledObject]): never => {
    throw new Error(`flattenStateDict: ${what} lie inside a pickled Python object (${object.className} at '${name || 'the top'}'), ` +
      'which robustok does not rebuild; save its tensors as a plain dict (e.g. torch.save(obj.state_dict(), path))');
  };
  if (prefix === '') {
    const hidden = hiddenUnder('');
    if (Object.keys(all).length === 0 && hidden) refuse("the file's tensors", hidden);
    return all;
  }
  const under = `${prefix}.`;
  const picked = Object.fromEntries(Object.entries(all)
    .filter(([name]) => name.startsWith(under))
    .map(([name, tensor]) => [name.slice(under.length), tensor]));
  if (Object.keys(picked).length === 0) {
    const hidden = hiddenUnder(prefix);
    if (hidden) refuse(`the tensors under '${prefix}'`, hidden);
    const roots = [...new Set(Object.keys(all).map((name) => name.split('.')[0]))];
    throw new Error(`flattenStateDict: no tensors under '${prefix}' (the top-level names are: ${roots.join(', ') || 'none'})`);
  }
  return picked;
}
