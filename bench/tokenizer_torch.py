"""The PyTorch side of bench/tokenizer: robustok's TokenizerTrainer.step
(src/tokenizer/trainer.ts) written in plain PyTorch, driven line by line from
the Node benchmark so both run interleaved on the same threads.

    tokenizer_torch.py THREADS INIT.pt COMMANDS ANSWERS

INIT.pt (written by bench/tokenizer.ts with savePt) holds the resolved config
as JSON, the step to start at, the tokenizer's and the discriminator's state
dicts and the image batch, so both sides start from the same weights and see
the same images. After printing "ready" on stdout it reads commands from the
named pipe COMMANDS and writes one answer line for each to the pipe ANSWERS:
  step      one training step, answers its milliseconds
  encode    images -> code ids without grad, answers milliseconds
  decode    code ids -> images without grad, answers milliseconds
  metrics   one training step, answers its logged numbers as JSON (untimed)
  loop      the training loop of a run (below), answers its milliseconds
  quit

With `loop` the init file also holds `loopConfig` (JSON) and `loopImages`
(the training images, uint8 [N, C, S, S]): the twin of robustok's
train-tokenizer loop (src/runs/training_loop.ts) as one writes it in
PyTorch — seeded epoch orders, uint8 batches scaled to [-1, 1], the step,
a metrics line every logEvery steps, a PNG grid of EMA reconstructions every
sampleEvery steps and at the end, an atomic checkpoint every checkpointEvery
steps and at the end — timed from its first step to its last checkpoint,
into a fresh folder each time.

The architectures come from the test references (test/tokenizer_ref.py,
test/gan_ref.py), the GAN's losses and discriminator step from
bench/twin_gan.py (shared with bench/posttrain_torch.py); what is written here
is the trainer around them: the quantizer, the perturbation, the losses and
the update order of trainer.ts.
"""
import json
import math
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tokenizer_ref import Decoder, Encoder  # noqa: E402
from twin_gan import Gan  # noqa: E402
from twin_protocol import TwinError, serve  # noqa: E402
from twin_training import ema_update, ema_weights, save_atomic, start_twin, warmup_cosine, write_rows  # noqa: E402


class Tokenizer(nn.Module):
    """encoder -> quant_conv -> L2-normalised VQ -> post_quant_conv -> decoder, with robustok's
    parameter names and registration order (so state dicts load strictly and the optimizer
    visits parameters in the same order)."""

    def __init__(self, config):
        super().__init__()
        m, c = config["model"], config["model"]["cnn"]
        channels = int(config["data"]["channels"])
        args = (channels, c["zChannels"], c["baseChannels"], c["channelMultipliers"], c["resBlocks"], c["attention"], c["normGroups"])
        self.commitment_weight = m["commitmentWeight"]
        self.encoder = Encoder(*args)
        self.quant_conv = nn.Conv2d(c["zChannels"], m["codeDim"], 1)
        self.quantize = nn.Module()
        self.quantize.embedding = nn.Embedding(m["codebookSize"], m["codeDim"])
        self.post_quant_conv = nn.Conv2d(m["codeDim"], c["zChannels"], 1)
        self.decoder = Decoder(*args)

    def codes(self):
        return F.normalize(self.quantize.embedding.weight, dim=-1)

    def encode(self, images):
        """[B, C, H, W] -> dict(zq [B, D, h, w], z [B, N, D], ids [B, N], losses)."""
        latent = self.quant_conv(self.encoder(images))
        b, d, h, w = latent.shape
        z = F.normalize(latent.flatten(2).transpose(1, 2), dim=-1)
        codes = self.codes()
        with torch.no_grad():
            ids = (z @ codes.T).argmax(-1)
        quantized = F.embedding(ids, codes)
        codebook = F.mse_loss(quantized, z.detach())
        commitment = F.mse_loss(quantized.detach(), z)
        straight = z + (quantized - z).detach()
        return {
            "zq": straight.transpose(1, 2).reshape(b, d, h, w), "z": z, "ids": ids,
            "codebook": codebook, "commitment": commitment, "loss": codebook + commitment * self.commitment_weight,
        }

    def decode_ids(self, ids, grid):
        """Code ids [B, N] -> images, through the normalised codebook."""
        b = ids.shape[0]
        vectors = F.embedding(ids, self.codes())
        return self.decoder(self.post_quant_conv(vectors.transpose(1, 2).reshape(b, -1, *grid)))


def perturb(q, codebook, alpha, beta, delta, generator):
    """Latent perturbation as src/tokenizer/perturbation.ts ('first' selection), same draws in
    the same order: redraw a token with probability alpha among the delta codes nearest its
    continuous latent, in the first floor(beta*B) images, straight-through to the encoder."""
    tokens, zq = q["z"], q["zq"]
    b, n, d = tokens.shape
    quantized = zq.flatten(2).transpose(1, 2)
    codes = F.normalize(codebook, dim=-1).detach()
    with torch.no_grad():
        candidates = (F.normalize(tokens, dim=-1) @ codes.T).topk(delta, -1)[1]
        pick = torch.randint(0, delta, (b, n, 1), generator=generator)
        drawn = candidates.gather(2, pick).squeeze(2)
        images = (torch.arange(b) < math.floor(beta * b)).reshape(b, 1)
        redrawn = torch.zeros(b, n).bernoulli_(alpha, generator=generator).bool() & images
        ids = torch.where(redrawn, drawn, q["ids"])
    e = codes.index_select(0, ids.flatten()).reshape(b, n, d)
    latent = torch.where(redrawn.unsqueeze(-1), tokens + (e - tokens).detach(), quantized)
    return latent.transpose(1, 2).reshape(zq.shape)


@torch.no_grad()
def code_usage(ids, k):
    """Fraction of the K codes used and exp(entropy) of their histogram, as codebook_usage.ts."""
    flat = ids.flatten().to(torch.int64)
    lo, hi = flat.min().item(), flat.max().item()
    assert 0 <= lo and hi < k
    counts = torch.zeros(k, dtype=torch.float64)
    counts.add_(torch.zeros(k, dtype=torch.float64).scatter_add(0, flat, torch.ones(flat.numel(), dtype=torch.float64)))
    p = counts / counts.sum().item()
    plogp = torch.where(p > 0, p * p.log(), torch.zeros((), dtype=torch.float64))
    return (counts > 0).sum().item() / k, math.exp(-plogp.sum().item())


def annealed(step, total, p):
    """alpha, delta at `step` (docs/method.md §2), as annealedPerturbation in perturbation.ts."""
    if not p["anneal"]:
        return p["alpha"], p["delta"]
    progress = min(max(step / total, 0.0), 1.0) if total > 0 else 0.0
    start, end, floor = p["annealStart"], p["annealEnd"], p["annealFloor"]
    ratio = 1.0 if progress <= start else floor if progress >= end else 1 - (progress - start) / (end - start) * (1 - floor)
    return ratio * p["alpha"], max(1, math.floor(ratio * p["delta"]))


class Trainer:
    def __init__(self, config, start_step, model_state, discriminator_state):
        if config["model"]["architecture"] != "cnn" or config["perturbation"]["select"] != "first":
            raise SystemExit("tokenizer_torch.py twins the CNN tokenizer with perturbation.select=first only")
        if config["loss"].get("perceptual", {}).get("kind", "none") != "none":
            raise SystemExit("tokenizer_torch.py has no perceptual loss: run it with loss.perceptual.kind=none")
        self.config = config
        self.step_count = start_step
        self.schedule_step = 0
        self.model = Tokenizer(config)
        self.model.load_state_dict(model_state, strict=True)
        o = config["optim"]
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=o["lr"], betas=(0.9, 0.95), weight_decay=o["weightDecay"])
        self.set_lr()
        self.ema = [p.detach().clone() for p in self.model.parameters()]
        self.ema_updates = 0
        self.generator = torch.Generator().manual_seed(config["train"]["seed"] + 1)
        self.gan = Gan(config["loss"]["gan"], int(config["data"]["channels"]), discriminator_state)

    def set_lr(self):
        lr = warmup_cosine(self.schedule_step, self.config["optim"], self.config["train"]["steps"])
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def step(self, images):
        c = self.config
        gan = c["loss"]["gan"]
        p = c["perturbation"]
        gan_on = c["loss"]["gan"]["enabled"] and self.step_count >= round(gan["start"] * c["train"]["steps"])
        self.model.train()
        q = self.model.encode(images)
        latent = q["zq"]
        alpha = delta = 0
        if p["enabled"]:
            alpha, delta = annealed(self.step_count, c["train"]["steps"], p)
            latent = perturb(q, self.model.quantize.embedding.weight, alpha, p["beta"], delta, self.generator)
        image = self.model.decoder(self.model.post_quant_conv(latent))
        reconstruction = F.l1_loss(image, images) if c["loss"]["reconstruction"] == "l1" else F.mse_loss(image, images)
        loss = reconstruction + q["loss"]
        if gan_on:
            g_loss, adaptive = self.gan.adversarial(image, reconstruction, self.model.decoder.conv_out.weight)
            loss = loss + g_loss * adaptive
        # set_to_none=True as robustok's zeroGrad: neither side spends time zeroing buffers.
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c["optim"]["clipNorm"] > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), c["optim"]["clipNorm"])
        lr = self.optimizer.param_groups[0]["lr"]
        self.optimizer.step()
        self.schedule_step += 1
        self.set_lr()
        self.ema_updates += 1
        ema_update(self.ema, self.model.parameters(), self.config["optim"]["emaDecay"], self.ema_updates)
        metrics = {}
        if gan_on:
            metrics["gan"] = {"adversarial": g_loss.item(), "adaptiveWeight": adaptive.item(), **self.gan.step(images, image)}
        usage, perplexity = code_usage(q["ids"], c["model"]["codebookSize"])
        self.step_count += 1
        metrics.update({
            "step": self.step_count, "loss": loss.item(), "reconstruction": reconstruction.item(), "codebook": q["codebook"].item(),
            "commitment": q["commitment"].item(), "lr": lr, "usage": usage, "perplexity": perplexity, "alpha": alpha, "delta": delta,
        })
        return metrics


def write_grid(trainer, fixed, path):
    """Originals, EMA reconstructions and perturbed ones, one row each (robustok's writeSamples)."""
    with torch.no_grad(), ema_weights(trainer.model, trainer.ema):
        trainer.model.eval()
        q = trainer.model.encode(fixed)
        clean = trainer.model.decoder(trainer.model.post_quant_conv(q["zq"]))
        p = trainer.config["perturbation"]
        perturbed = None
        if p["enabled"]:
            alpha, delta = annealed(trainer.step_count, trainer.config["train"]["steps"], p)
            shown = torch.Generator().manual_seed(trainer.config["train"]["seed"] + 2)
            perturbed = trainer.model.decoder(trainer.model.post_quant_conv(perturb(q, trainer.model.quantize.embedding.weight, alpha, 1, delta, shown)))
    write_rows(path, [x for x in (fixed, clean, perturbed) if x is not None])


def save_checkpoint(trainer, order_state, path):
    state = {
        "model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(), "ema": trainer.ema, **trainer.gan.state(),
        "rng": trainer.generator.get_state(), "order_rng": order_state, "step": trainer.step_count,
    }
    save_atomic(state, path)


def train_loop(config, init, images):
    """The run's loop (see the top of the file); returns its milliseconds."""
    t = config["train"]
    trainer = Trainer(config, 0, init["model"], init["discriminator"])
    out = tempfile.mkdtemp(prefix="robustok-twin-loop-")
    try:
        os.makedirs(os.path.join(out, "samples"))
        fixed = images[:8].float() / 127.5 - 1
        n, batch = images.shape[0], t["batchSize"]
        per_epoch = n // batch
        order_rng = torch.Generator().manual_seed(t["seed"])
        start = time.perf_counter()
        with open(os.path.join(out, "metrics.jsonl"), "w") as log:
            for step in range(t["steps"]):
                epoch, b = divmod(step, per_epoch)
                if b == 0:
                    order = torch.randperm(n, generator=order_rng)
                step_start = time.perf_counter()
                m = trainer.step(images.index_select(0, order[b * batch:(b + 1) * batch]).float().div_(127.5).sub_(1))
                last = m["step"] == t["steps"]
                if m["step"] % t["logEvery"] == 0 or last:
                    log.write(json.dumps({**m, "epoch": epoch, "imagesPerSecond": batch / (time.perf_counter() - step_start)}) + "\n")
                    log.flush()
                if m["step"] % t["sampleEvery"] == 0 or last:
                    write_grid(trainer, fixed, os.path.join(out, "samples", f"step-{m['step']}.png"))
                if m["step"] % t["checkpointEvery"] == 0:
                    save_checkpoint(trainer, order_rng.get_state(), os.path.join(out, "checkpoint.pt"))
        save_checkpoint(trainer, order_rng.get_state(), os.path.join(out, "checkpoint.pt"))
        return (time.perf_counter() - start) * 1e3
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    init, config = start_twin()
    trainer = Trainer(config, init["startStep"], init["model"], init["discriminator"])
    images = init["images"]
    with torch.no_grad():
        trainer.model.eval()
        grid = trainer.model.encode(images)["zq"].shape[2:]
    ids = None

    def encode():
        nonlocal ids
        with torch.no_grad():
            trainer.model.eval()
            ids = trainer.model.encode(images)["ids"]

    def decode():
        if ids is None:
            raise TwinError("decode before encode")
        with torch.no_grad():
            trainer.model.eval()
            trainer.model.decode_ids(ids, grid)

    def loop():
        if "loopConfig" not in init:
            raise TwinError("loop needs loopConfig and loopImages in the init file")
        return train_loop(json.loads(init["loopConfig"]), init, init["loopImages"])

    serve(sys.argv[3], sys.argv[4], timed={"step": lambda: trainer.step(images), "encode": encode, "decode": decode},
          untimed={"metrics": lambda: json.dumps(trainer.step(images)), "loop": loop})


# Run as a script; bench/generator_torch.py imports the Tokenizer to decode its samples.
if __name__ == "__main__":
    main()
