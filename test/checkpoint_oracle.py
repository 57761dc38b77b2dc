"""PyTorch side of robustok's checkpoint tests (safetensors and torch.save).

Usage: checkpoint_oracle.py COMMAND DIR; prints one JSON document. Each
command does both directions at once (importing torch takes seconds):
  safetensors DIR  parse DIR/robustok.safetensors by hand, check its layout
                   against the reference writer's and describe its tensors;
                   write DIR/python.safetensors with a hand-written writer
  pt DIR           torch.load DIR/robustok.pt and describe it; torch.save
                   the test checkpoints into DIR

Tensors are described as {"dtype", "shape", "hex" (raw bytes, C order),
"values" (float64 list, non-finite values as strings)}. The Python
`safetensors` package is not installed here, so the format is written and
read by hand: 8-byte little-endian header length, JSON header padded with
spaces to 8 bytes, raw little-endian data.

Run with Debian's interpreter (/usr/bin/python3), where python3-torch lives.
"""
import argparse
import json
import math
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

# safetensors names in the reference's order of increasing alignment.
FORMATS = [("BOOL", torch.bool), ("U8", torch.uint8), ("I8", torch.int8), ("I16", torch.int16),
           ("F16", torch.float16), ("BF16", torch.bfloat16), ("I32", torch.int32), ("F32", torch.float32),
           ("F64", torch.float64), ("I64", torch.int64)]
NAME_OF = {dtype: name for name, dtype in FORMATS}
DTYPE_OF = dict(FORMATS)
RANK = {name: i for i, (name, _) in enumerate(FORMATS)}


def raw_bytes(t):
    flat = t.detach().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes()


def number(v):
    return v if math.isfinite(v) else str(v)


def describe(t):
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "hex": raw_bytes(t).hex(),
            "values": [number(v) for v in t.detach().to(torch.float64).reshape(-1).tolist()]}


def describe_tree(value):
    if isinstance(value, torch.Tensor):
        return {"tensor": describe(value), "requiresGrad": value.requires_grad}
    if isinstance(value, dict):
        return {"dict": [[k, describe_tree(v)] for k, v in value.items()], "type": type(value).__name__}
    if isinstance(value, (list, tuple)):
        return {"list": [describe_tree(v) for v in value], "type": type(value).__name__}
    return {"value": number(value) if isinstance(value, float) else value, "type": type(value).__name__}


def encode_safetensors(tensors, metadata=None):
    """The reference writer's layout: sorted by descending alignment, then name."""
    order = sorted(tensors, key=lambda n: (-RANK[NAME_OF[tensors[n].dtype]], n.encode()))
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in order:
        data = raw_bytes(tensors[name])
        header[name] = {"dtype": NAME_OF[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(raw_bytes(tensors[n]) for n in order)


def decode_safetensors(data):
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n], object_pairs_hook=OrderedDict)
    metadata = header.pop("__metadata__", None)
    body = data[8 + n:]
    tensors = OrderedDict()
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPE_OF[info["dtype"]]
        if end > begin:
            t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype).reshape(info["shape"])
        else:
            t = torch.empty(info["shape"], dtype=dtype)
        tensors[name] = t
    return tensors, metadata


def python_tensors():
    torch.manual_seed(0)
    specials = torch.tensor([0.0, -0.0, 1.5, -2.25, 65504.0, 1e-7, float("inf"), float("nan")])
    return {
        "weights.f32": torch.cat([specials, torch.randn(4)]).reshape(3, 4),
        "weights.f64": torch.randn(2, 3, dtype=torch.float64),
        "half": specials.to(torch.float16),
        "brain": (specials * 3.3).to(torch.bfloat16).reshape(2, 2, 2),
        "steps": torch.tensor([0, -1, 2**62, -(2**62) - 5, 9007199254740993], dtype=torch.int64),
        "i32": torch.tensor([[-(2**31), 2**31 - 1, 7]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 3], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0, 5], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 128], dtype=torch.uint8),
        "mask": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "empty.i64": torch.zeros(0, dtype=torch.int64),
    }


def write_safetensors(path):
    tensors = python_tensors()
    metadata = {"format": "pt", "note": "h\u00e9llo"}
    with open(path, "wb") as f:
        f.write(encode_safetensors(tensors, metadata))
    return {"tensors": {n: describe(t) for n, t in tensors.items()}, "metadata": metadata}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    tensors, metadata = decode_safetensors(data)
    again = encode_safetensors(tensors, metadata)
    return {"tensors": {n: describe(t) for n, t in tensors.items()}, "metadata": metadata,
            "sameAsReferenceWriter": again == data}


def trained_state_dict(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 3 * 3, 2))
    for _ in range(3):  # train-mode forwards: running stats move, num_batches_tracked counts 3
        model(torch.randn(2, 3, 5, 5))
    return model.state_dict()


class Callback:
    """Stands in for a training callback's state (Lightning pickles such objects into last.ckpt)."""

    def __init__(self):
        self.monitor = "val/rec_loss"
        self.best = 0.25
        self.seen = {2, 1}


class Holder:
    """An object with tensors inside: robustok must refuse to take weights from it."""

    def __init__(self, weights):
        self.weights = weights


def save_pt(directory):
    sd, ema = trained_state_dict(0), trained_state_dict(1)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    files = {
        "state_dict.pt": sd,
        "nested.pt": {"model": sd, "ema": ema, "step": 3},
        "extras.pt": {"transposed": base.t(), "row": base[1], "same": base, "half": base.to(torch.float16),
                      "brain": base.to(torch.bfloat16), "flags": base > 5, "scalar": torch.tensor(7, dtype=torch.int64),
                      "param": nn.Parameter(torch.ones(2)), "lr": 0.5, "name": "run", "none": None, "yes": True,
                      "pair": (1, -2.5), "list": [1, "two", [3]], "big": 2**40, 7: "int key", "__proto__": "own key"},
    }
    for name, value in files.items():
        torch.save(value, f"{directory}/{name}")
    torch.save(sd, f"{directory}/legacy.pt", _use_new_zipfile_serialization=False)
    torch.save({"opt": {1, 2}}, f"{directory}/set.pt")
    # a released checkpoint's extras: its run's argparse.Namespace (LlamaGen, RobusTok), callback states, an object holding tensors
    args = argparse.Namespace(lr=1e-4, ch_mult=[1, 1, 2], resume=None, type=int)
    torch.save({"model": sd, "args": args, "callbacks": {"checkpoint": Callback()}, "holder": Holder({"w": torch.ones(2)}), "step": 3},
               f"{directory}/objects.pt")
    torch.save({"z": torch.zeros(2, dtype=torch.complex64)}, f"{directory}/complex.pt")
    return {name: describe_tree(value) for name, value in files.items()}


def load_pt(path):
    return describe_tree(torch.load(path))


COMMANDS = {
    "safetensors": lambda d: {"read": read_safetensors(f"{d}/robustok.safetensors"),
                              "written": write_safetensors(f"{d}/python.safetensors")},
    "pt": lambda d: {"loaded": load_pt(f"{d}/robustok.pt"), "saved": save_pt(d)},
}

if __name__ == "__main__":
    json.dump(COMMANDS[sys.argv[1]](sys.argv[2]), sys.stdout)
