"""PyTorch references for the tokenizer's GAN parts, for tokenizer_gan.test.ts:
taming-transformers' NLayerDiscriminator (with a spectral-norm variant that
drops batch norm) and DiffAugment_pytorch.py of Zhao et al. (2020), copied in
their computation and order of random draws. Imported by oracle.py cases
through `setup`."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def NLayerDiscriminator(input_nc=3, ndf=64, n_layers=3, spectral_norm=False):
    """taming's layout as a bare nn.Sequential named `main` (so keys read main.0.weight, ...)."""
    def conv(cin, cout, stride, bias):
        c = nn.Conv2d(cin, cout, kernel_size=4, stride=stride, padding=1, bias=bias)
        return torch.nn.utils.spectral_norm(c) if spectral_norm else c

    def block(cin, cout, stride):
        if spectral_norm:
            return [conv(cin, cout, stride, True), nn.LeakyReLU(0.2, True)]
        return [conv(cin, cout, stride, False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]

    sequence = [conv(input_nc, ndf, 2, True), nn.LeakyReLU(0.2, True)]
    nf_mult = 1
    for n in range(1, n_layers):
        nf_mult_prev, nf_mult = nf_mult, min(2 ** n, 8)
        sequence += block(ndf * nf_mult_prev, ndf * nf_mult, 2)
    nf_mult_prev, nf_mult = nf_mult, min(2 ** n_layers, 8)
    sequence += block(ndf * nf_mult_prev, ndf * nf_mult, 1)
    sequence += [conv(ndf * nf_mult, 1, 1, True)]
    d = nn.Module()
    d.main = nn.Sequential(*sequence)
    d.forward = d.main.forward
    return d


def DiffAugment(x, policy='color,translation,cutout'):
    for p in policy.split(','):
        for f in AUGMENT_FNS[p]:
            x = f(x)
    return x.contiguous()


def rand_brightness(x):
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def rand_saturation(x):
    x_mean = x.mean(dim=1, keepdim=True)
    return (x - x_mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + x_mean


def rand_contrast(x):
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - x_mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + x_mean


def rand_translation(x, ratio=0.125):
    shift_x, shift_y = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    translation_x = torch.randint(-shift_x, shift_x + 1, size=[x.size(0), 1, 1], device=x.device)
    translation_y = torch.randint(-shift_y, shift_y + 1, size=[x.size(0), 1, 1], device=x.device)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long, device=x.device),
        torch.arange(x.size(2), dtype=torch.long, device=x.device),
        torch.arange(x.size(3), dtype=torch.long, device=x.device),
        indexing='ij',
    )
    grid_x = torch.clamp(grid_x + translation_x + 1, 0, x.size(2) + 1)
    grid_y = torch.clamp(grid_y + translation_y + 1, 0, x.size(3) + 1)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)


def rand_cutout(x, ratio=0.5):
    cutout_size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    offset_x = torch.randint(0, x.size(2) + (1 - cutout_size[0] % 2), size=[x.size(0), 1, 1], device=x.device)
    offset_y = torch.randint(0, x.size(3) + (1 - cutout_size[1] % 2), size=[x.size(0), 1, 1], device=x.device)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long, device=x.device),
        torch.arange(cutout_size[0], dtype=torch.long, device=x.device),
        torch.arange(cutout_size[1], dtype=torch.long, device=x.device),
        indexing='ij',
    )
    grid_x = torch.clamp(grid_x + offset_x - cutout_size[0] // 2, min=0, max=x.size(2) - 1)
    grid_y = torch.clamp(grid_y + offset_y - cutout_size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype, device=x.device)
    mask[grid_batch, grid_x, grid_y] = 0
    return x * mask.unsqueeze(1)


AUGMENT_FNS = {
    'color': [rand_brightness, rand_saturation, rand_contrast],
    'translation': [rand_translation],
    'cutout': [rand_cutout],
}
