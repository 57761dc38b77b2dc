"""What the benchmarks' trainer twins (bench/tokenizer_torch.py,
bench/generator_torch.py) share with robustok's training loop: the
learning-rate schedule and the EMA of the weights, and the files a run's loop
writes (PNG sample grids drawn with the EMA weights, atomic checkpoints), so
both loop twins write them the same way."""
import contextlib
import json
import math
import os
import struct
import sys
import zlib

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
def ema_update(shadow, live, decay, t, warmup=True):
    """The EMA's t-th update, as Ema in src/optim/ema.ts: decay ramped as min(d, (1 + t) / (10 + t))
    (d itself with warmup=False, as post-training's EMA), shadow.lerp_(live, 1 - d) for each
    (shadow, live) pair of tensors."""
    weight = 1 - (min(decay, (1 + t) / (10 + t)) if warmup else decay)
    for s, p in zip(shadow, live):
        s.lerp_(p, weight)


@contextlib.contextmanager
def ema_weights(module, shadow):
    """`module`'s parameters hold the EMA values `shadow` inside the block, their own after it
    (as Ema.withEmaWeights)."""
    params = list(module.parameters())
    with torch.no_grad():
        live = [p.detach().clone() for p in params]
        for p, e in zip(params, shadow):
            p.copy_(e)
    try:
        yield
    finally:
        with torch.no_grad():
            for p, v in zip(params, live):
                p.copy_(v)


def write_png(path, pixels):
    """uint8 pixels [H, W, C] (C = 1 or 3) as an 8-bit PNG, as sharp writes robustok's grids."""
    h, w, c = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].contiguous().numpy().tobytes() for y in range(h))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", w, h, 8, 0 if c == 1 else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def write_rows(path, rows):
    """Rows of images [n, C, H, W] in [-1, 1] as one PNG, a row each."""
    lines = [torch.cat(list(x.clamp(-1, 1)), dim=2) for x in rows]
    write_png(path, ((torch.cat(lines, dim=1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0))


def save_atomic(state, path):
    """torch.save to a temporary file, then renamed over `path`: a kill never leaves half a checkpoint."""
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def start_twin():
    """A twin's start, from `X_torch.py THREADS INIT.pt ...`: torch on THREADS
    threads and seeded with the run's train.seed; returns the init file's
    contents and its resolved config (JSON)."""
    torch.set_num_threads(int(sys.argv[1]))
    init = torch.load(sys.argv[2])
    config = json.loads(init["config"])
    torch.manual_seed(config["train"]["seed"])
    return init, config
