"""What the benchmarks' trainer twins (bench/tokenizer_torch.py,
bench/generator_torch.py) share with robustok's training loop: the
learning-rate schedule and the EMA of the weights."""
import math

import torch


def warmup_cosine(step, o, total):
    """Learning rate at `step`, as warmupCosine in src/optim/schedule.ts (o: the config's optim section)."""
    warmup = round(o["warmupFraction"] * total)
    lr, lr_min = o["lr"], min(o["lrMin"], o["lr"])
    if step < warmup:
        return lr * step / warmup
    progress = min(step - warmup, total - warmup) / (total - warmup)
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * progress)) / 2


@torch.no_grad()
def ema_update(shadow, live, decay, t):
    """The EMA's t-th update, as Ema in src/optim/ema.ts: decay ramped as min(d, (1 + t) / (10 + t)),
    shadow.lerp_(live, 1 - d) for each (shadow, live) pair of tensors."""
    weight = 1 - min(decay, (1 + t) / (10 + t))
    for s, p in zip(shadow, live):
        s.lerp_(p, weight)
