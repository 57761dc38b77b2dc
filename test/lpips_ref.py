"""PyTorch reference for src/features/lpips.ts (test/features_lpips.test.ts).

LPIPS-VGG as defined by Zhang et al. 2018 and computed by the lpips package
(v0.1 heads): VGG16 features in torchvision's layout, lpips' input scaling,
unit-length features along the channels, squared differences, a 1x1 head per
tap, spatial mean, sum over taps. Written out here with plain torch.nn (no
torchvision in Debian's python3-torch) and random weights from a fixed seed.

usage: lpips_ref.py DIR
Writes to DIR:
  vgg.pth       torchvision-style VGG16 state dict (features.N.*, plus a
                stray classifier key that a loader must ignore)
  lin.pth       the five heads as lpips' vgg.pth names them (linK.model.1.weight)
  combined.pth  the same weights as one LPIPS checkpoint nested the way a
                taming-transformers training checkpoint holds its loss module:
                {'state_dict': {'loss.perceptual_loss.net.sliceB.N.*', ...linK...}}
  io.pth        inputs and expected outputs: rgb0, rgb1 [2,3,64,64],
                grey0, grey1 [2,1,32,32] in [-1, 1]; for each pair the
                distance [B] and the gradients of its sum w.r.t. both inputs
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

CONVS_PER_BLOCK = [2, 2, 3, 3, 3]
WIDTHS = [64, 128, 256, 512, 512]
# lpips' ScalingLayer constants.
SHIFT = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
SCALE = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)


def build_trunk():
    """VGG16 configuration D as one Sequential whose indices are torchvision's."""
    modules, channels = [], 3
    for count, width in zip(CONVS_PER_BLOCK, WIDTHS):
        for _ in range(count):
            conv = nn.Conv2d(channels, width, 3, padding=1)
            # torchvision's VGG init keeps activations at a usable scale
            # through 13 layers; a small random bias checks bias loading.
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.normal_(conv.bias, std=0.01)
            modules += [conv, nn.ReLU()]
            channels = width
        modules.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*modules)


def tap_indices(trunk):
    """Index of the ReLU that ends each block (the module just before each pool)."""
    pools = [i for i, m in enumerate(trunk) if isinstance(m, nn.MaxPool2d)]
    return [p - 1 for p in pools]


def distance(trunk, heads, x0, x1):
    taps = tap_indices(trunk)

    def activations(x):
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        h = (x - SHIFT) / SCALE
        found = []
        for i, module in enumerate(trunk):
            h = module(h)
            if i in taps:
                found.append(h)
            if i == taps[-1]:
                break
        return found

    def unit(f):
        return f / (torch.sqrt((f ** 2).sum(dim=1, keepdim=True)) + 1e-10)

    total = None
    for a, b, w in zip(activations(x0), activations(x1), heads):
        term = F.conv2d((unit(a) - unit(b)) ** 2, w).mean(dim=[2, 3])
        total = term if total is None else total + term
    return total.flatten()


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    trunk = build_trunk().eval()
    # lpips' trained heads are non-negative.
    heads = [torch.rand(1, w, 1, 1) * 0.1 for w in WIDTHS]

    features = {f"features.{k}": v for k, v in trunk.state_dict().items()}
    torch.save({**features, "classifier.0.weight": torch.zeros(4, 8)}, os.path.join(out, "vgg.pth"))
    torch.save({f"lin{k}.model.1.weight": w for k, w in enumerate(heads)}, os.path.join(out, "lin.pth"))

    # lpips/taming split the trunk into slice1..slice5, keeping torchvision's indices.
    ends = tap_indices(trunk)
    combined = {"loss.perceptual_loss.scaling_layer.shift": SHIFT.clone(),
                "loss.perceptual_loss.scaling_layer.scale": SCALE.clone()}
    for name, value in trunk.state_dict().items():
        index = int(name.split(".")[0])
        block = next(b for b, end in enumerate(ends) if index <= end) + 1
        combined[f"loss.perceptual_loss.net.slice{block}.{name}"] = value
    for k, w in enumerate(heads):
        combined[f"loss.perceptual_loss.lin{k}.model.1.weight"] = w
    combined["loss.discriminator.main.0.weight"] = torch.zeros(2, 3, 4, 4)
    torch.save({"state_dict": combined, "global_step": 7}, os.path.join(out, "combined.pth"))

    io = {}
    for name, shape in [("rgb", (2, 3, 64, 64)), ("grey", (2, 1, 32, 32))]:
        x0 = torch.randn(shape).tanh().requires_grad_(True)
        # The second image is a perturbed copy, as a reconstruction would be.
        x1 = (x0.detach() + 0.3 * torch.randn(shape)).clamp(-1, 1).requires_grad_(True)
        d = distance(trunk, heads, x0, x1)
        g0, g1 = torch.autograd.grad(d.sum(), [x0, x1])
        io.update({f"{name}0": x0.detach(), f"{name}1": x1.detach(), f"{name}_d": d.detach(),
                   f"{name}_g0": g0, f"{name}_g1": g1})
    torch.save(io, os.path.join(out, "io.pth"))


if __name__ == "__main__":
    main()
