"""PyTorch side of the module checkpoint tests: PyTorch twins of robustok
layers exchange state dicts with robustok through torch.save files and
safetensors, and the outputs on the same input must agree.

Usage: module_checkpoint_oracle.py export DIR | import DIR (prints JSON).
  export: for each model, torch.manual_seed(0), save its state_dict as
          DIR/NAME.pt and DIR/NAME.safetensors, and DIR/NAME.io.safetensors
          with an input x, the output y and d(sum y)/dx.
  import: load DIR/NAME.robustok.pt and DIR/NAME.robustok.safetensors (written
          by robustok) strictly into fresh twins, run them on the x in
          DIR/NAME.robustok-io.safetensors and report the largest difference
          from the y robustok stored there.
"""
import json
import sys

import torch
import torch.nn as nn

from checkpoint_oracle import decode_safetensors, encode_safetensors
from modules_ref import Block

MODELS = {
    "block": (lambda: Block(16, 4, qk_norm=True), (2, 5, 16)),
    "convs": (lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.SiLU(),
                                    nn.Conv2d(8, 4, 4, stride=2, padding=1)), (2, 3, 8, 8)),
    "deconv": (lambda: nn.Sequential(nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), nn.BatchNorm2d(3)), (2, 4, 5, 5)),
    "spectral": (lambda: torch.nn.utils.spectral_norm(nn.Linear(6, 4)), (3, 6)),
}


def write(path, tensors):
    with open(path, "wb") as f:
        f.write(encode_safetensors({k: v.detach().contiguous() for k, v in tensors.items()}))


def read(path):
    with open(path, "rb") as f:
        return decode_safetensors(f.read())[0]


def export(directory):
    for name, (build, shape) in MODELS.items():
        torch.manual_seed(0)
        model = build().eval()
        torch.save(model.state_dict(), f"{directory}/{name}.pt")
        write(f"{directory}/{name}.safetensors", model.state_dict())
        x = torch.randn(*shape, requires_grad=True)
        y = model(x)
        y.sum().backward()
        write(f"{directory}/{name}.io.safetensors", {"x": x, "y": y, "xgrad": x.grad})
    return {"models": list(MODELS)}


def import_(directory):
    report = {}
    for name, (build, _) in MODELS.items():
        io = read(f"{directory}/{name}.robustok-io.safetensors")
        for kind, state in (("pt", torch.load(f"{directory}/{name}.robustok.pt")),
                            ("safetensors", read(f"{directory}/{name}.robustok.safetensors"))):
            model = build().eval()
            model.load_state_dict(state, strict=True)
            with torch.no_grad():
                report[f"{name}.{kind}"] = (model(io["x"]) - io["y"]).abs().max().item()
    return report


if __name__ == "__main__":
    command, directory = sys.argv[1], sys.argv[2]
    print(json.dumps(export(directory) if command == "export" else import_(directory)))
