"""PyTorch side of robustok's tests for legacy (pre-1.6, non-zip) torch.save files.

Usage: legacy_oracle.py DIR; writes the test files into DIR and prints one
JSON document: {"loaded": {file: tree}, "keys": {file: [top-level keys]}},
where each tree is what torch.load gives back for that file, described as
checkpoint_oracle.py describes values (raw bytes in hex, values as float64).

Most files are written by PyTorch itself with
torch.save(..., _use_new_zipfile_serialization=False). What PyTorch 1.13 no
longer writes but older files hold (storage views, the pre-0.4
_rebuild_tensor, torch.Size, Python 2 byte strings) and the broken files are
written by `write_legacy`, which lays out the stream as
torch/serialization.py's _legacy_save does: the pickles of the magic number,
the version 1001 and the machine description, the value's pickle, the pickled
list of storage keys, then per key an 8-byte little-endian element count and
the raw bytes. torch.load is the reference for every file it can read.

Run with Debian's interpreter (/usr/bin/python3), where python3-torch lives.
"""
import io
import json
import pickle
import struct
import sys
import tarfile
from collections import OrderedDict

import torch
import torch.nn as nn

from checkpoint_oracle import describe_tree, raw_bytes

MAGIC = 0x1950A86A20F9469CFC6C


def save_legacy(value, path):
    torch.save(value, path, _use_new_zipfile_serialization=False)


def tensors():
    """A state dict of every dtype, 0-d tensors, a transposed view, overlapping views of one storage."""
    torch.manual_seed(0)
    specials = torch.tensor([0.0, -0.0, 1.5, -2.25, 65504.0, 1e-7, float("inf"), float("nan")])
    base = torch.randn(3, 4)
    rows = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    return OrderedDict([
        ("f32", torch.cat([specials, torch.randn(4)]).reshape(3, 4)),
        ("f64", torch.randn(2, 3, dtype=torch.float64)),
        ("f16", specials.to(torch.float16)),
        ("bf16", (specials * 3.3).to(torch.bfloat16)),
        ("i64", torch.tensor([0, -1, 2**62, -(2**62) - 5, 9007199254740993], dtype=torch.int64)),
        ("i32", torch.tensor([[-(2**31), 2**31 - 1, 7]], dtype=torch.int32)),
        ("i16", torch.tensor([-32768, 32767, 3], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255, 128], dtype=torch.uint8)),
        ("mask", torch.tensor([[True, False], [False, True]])),
        ("num_batches_tracked", torch.tensor(5, dtype=torch.int64)),
        ("scalar", torch.tensor(-0.75)),
        ("empty", torch.zeros(0, 3)),
        ("base", base),
        ("base_t", base.t()),  # shares base's storage, strides (1, 4)
        ("shared_a", rows[0:2]),  # offset 0
        ("shared_b", rows[1:4]),  # offset 3: its first row is shared_a's second
        ("param", nn.Parameter(torch.ones(2))),
    ])


def nested():
    return {"model": {"w": torch.tensor([1.0, 2.0]), "deep": {"er": [torch.tensor([3], dtype=torch.int32), None]}},
            "step": 3, "lr": 0.5, "tiny": -1.5e-300, "name": "h\u00e9llo \u2211", "none": None, "yes": True, "no": False,
            "pair": (1, -2.5), "list": [1, "two", [3, None]], "big": 2**40, "neg": -7, 7: "int key", "empty": {}}


class BasicConv2d(nn.Module):
    """pytorch-fid's Inception block: a convolution without bias, then BatchNorm with eps 0.001."""

    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class TinyInception(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 4, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(4, 6, kernel_size=3, padding=1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        x = self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))
        return self.fc(x.mean((2, 3)))


def convnet():
    torch.manual_seed(1)
    model = TinyInception()
    for _ in range(2):  # train-mode forwards: running stats move, num_batches_tracked counts 2
        model(torch.randn(2, 3, 9, 9))
    return model


class StorageRef:
    """Stands for a storage in the value's pickle: pickled as its persistent id."""

    def __init__(self, storage_class, key, numel, view=None):
        self.pid = ("storage", storage_class, key, "cpu", numel, view)


class Call:
    """Pickles as a call of `function` with `args` (REDUCE), as tensors pickle themselves."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class LegacyPickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table can be changed
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, f, python2_strings):
        super().__init__(f, protocol=2)
        self.python2_strings = python2_strings

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, StorageRef) else None

    def save_str(self, obj):
        """Python 2's str: SHORT_BINSTRING or BINSTRING of the bytes (UTF-8 here)."""
        if not self.python2_strings:
            return pickle._Pickler.save_str(self, obj)
        data = obj.encode("utf-8")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_str


def write_legacy(path, value, storages, little_endian=True, python2_strings=False, count_error=0):
    """`storages`: key → 1-d tensor holding the storage's elements, written in this order."""
    out = io.BytesIO()
    info = {"protocol_version": 1001, "little_endian": little_endian, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for pickled in (MAGIC, 1001, info, value, list(storages)):
        LegacyPickler(out, python2_strings).dump(pickled)
    for key, elements in storages.items():
        out.write(struct.pack("<q", elements.numel() + count_error))
        out.write(raw_bytes(elements))
    with open(path, "wb") as f:
        f.write(out.getvalue())


def tensor_v2(ref, offset, size, stride):
    return Call(torch._utils._rebuild_tensor_v2, ref, offset, torch.Size(size), tuple(stride), False, OrderedDict())


def old_writers(path, python2_strings):
    """Storage views, the pre-0.4 _rebuild_tensor, torch.Size sizes and (optionally) Python 2 strings."""
    root = torch.arange(10, dtype=torch.float32) * 1.5
    steps = torch.tensor([7, -8, 2**40], dtype=torch.int64)
    value = OrderedDict([
        # a view of elements 2..7 of "root"; the tensor starts 1 element into it
        ("view_a", tensor_v2(StorageRef(torch.FloatStorage, "root", 10, ("root.v1", 2, 6)), 1, (2, 2), (2, 1))),
        ("view_b", tensor_v2(StorageRef(torch.FloatStorage, "root", 10, ("root.v2", 5, 5)), 0, (5,), (1,))),
        ("whole", Call(torch._utils._rebuild_tensor, StorageRef(torch.FloatStorage, "root", 10), 0, (2, 5), (5, 1))),
        ("steps", tensor_v2(StorageRef(torch.LongStorage, "steps", 3), 0, (3,), (1,))),
        ("name", "caf\u00e9"),
    ])
    write_legacy(path, value, {"root": root, "steps": steps}, python2_strings=python2_strings)


def small(path, **options):
    """One float tensor, for the broken variants."""
    value = {"w": tensor_v2(StorageRef(torch.FloatStorage, "0", 4), 0, (4,), (1,))}
    write_legacy(path, value, {"0": torch.tensor([1.0, 2.0, 3.0, 4.0])}, **options)


def write(directory):
    files = {
        "tensors.pt": tensors(),
        "nested.pt": nested(),
        "convnet.pt": convnet().state_dict(),
    }
    for name, value in files.items():
        save_legacy(value, f"{directory}/{name}")
    torch.save(files["convnet.pt"], f"{directory}/convnet_zip.pt")
    old_writers(f"{directory}/old_writers.pt", python2_strings=False)
    old_writers(f"{directory}/python2.pt", python2_strings=True)

    # Broken or unsupported files; torch.load is not asked about these.
    small(f"{directory}/big_endian.pt", little_endian=False)
    small(f"{directory}/wrong_count.pt", count_error=1)
    four = torch.tensor([1.0, 2.0, 3.0, 4.0])
    two = {"a": tensor_v2(StorageRef(torch.FloatStorage, "0", 4), 0, (4,), (1,)),
           "b": tensor_v2(StorageRef(torch.FloatStorage, "1", 4), 0, (4,), (1,))}
    write_legacy(f"{directory}/unlisted.pt", two, {"0": four})
    write_legacy(f"{directory}/extra_key.pt", two, {"0": four, "1": four, "9": four})
    save_legacy({"z": torch.zeros(2, dtype=torch.complex64)}, f"{directory}/complex.pt")
    save_legacy(convnet(), f"{directory}/whole_module.pt")
    with open(f"{directory}/plain_pickle.pt", "wb") as f:
        pickle.dump({"not": "a checkpoint"}, f, protocol=2)
    with tarfile.open(f"{directory}/tar.pt", "w") as tar:
        info = tarfile.TarInfo("pickle")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"\x80\x02N."))

    readable = ["tensors.pt", "nested.pt", "convnet.pt", "convnet_zip.pt", "old_writers.pt", "python2.pt"]
    loaded = {name: torch.load(f"{directory}/{name}") for name in readable}
    return {"loaded": {name: describe_tree(value) for name, value in loaded.items()},
            "keys": {name: [str(k) for k in value] for name, value in loaded.items()}}


if __name__ == "__main__":
    json.dump(write(sys.argv[1]), sys.stdout)
