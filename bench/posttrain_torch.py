"""The PyTorch side of bench/posttrain: robustok's post-training
(src/posttrain/trainer.ts, PostTrainer) written in plain PyTorch, driven line
by line from the Node benchmark so both run interleaved on the same threads.

    posttrain_torch.py THREADS INIT.pt COMMANDS ANSWERS

INIT.pt (written by bench/posttrain.ts with savePt) holds the resolved
post-training config (JSON), the tokenizer's config (JSON) and state dict, the
discriminator's state dict and LeCam's anchors (continued from the tokenizer's
main training), the generator's options (JSON) and state dict, its sampling
settings (JSON); a step batch (`images` [B, C, S, S] in [-1, 1], `labels`, and
its sigma-tokens `ids` [B, N] with the `kept` / `changed` masks); a draw batch
(`drawImages`, `drawLabels`, `drawIndices`: images and their rows in the
split). After printing "ready" on stdout it reads commands from the named pipe
COMMANDS and writes one answer line for each to the pipe ANSWERS:
  step      one post-training step on the step batch, answers its milliseconds
  sigma     sigma-tokens of the draw batch as --pregenerate draws them (each
            image's uniforms from its own streams, encode, sigma-preserving
            sampling with the inverse CDF, the cache's dtypes), answers ms
  metrics   one step, answers its logged numbers as JSON (untimed)
  tokens    the draw batch's sigma-tokens as JSON {truth, ids, kept} (untimed)
  loop      the loop of a post-train run (below), answers its milliseconds
  quit

With `loop` the init file also holds `loopConfig` (JSON) and `loopImages` /
`loopLabels` (the run's tokens.pregenerate leading training images, uint8
[n, C, S, S], and their classes): the twin of robustok's postTrain
(src/runs/post_train.ts over src/runs/training_loop.ts) as one writes it in
PyTorch, into a fresh folder each time and from the init's weights: the
config file; sigma-tokens for every image, drawn and cached first; the grid's
sigma-tokens from streams of their own and their decoding by the old decoder;
then the loop, timed from its first step to its last checkpoint, as robustok's
run reports `minutes`: seeded epoch shuffles over the images, each batch's
pregenerated sigma-tokens, the step, a JSON metrics line every logEvery steps
and at the end, a grid (originals | old decoder | new decoder with the EMA
weights) every sampleEvery steps and at the end, an atomic torch.save
checkpoint every checkpointEvery steps and at the end. After the clock: the
tokenizer with the EMA weights, as robustok's run exports it.

The models come from the test references (test/tokenizer_ref.py through
bench/tokenizer_torch.py's Tokenizer, test/generator_ref.py's ArGenerator and
its KV-cached sampler, test/gan_ref.py through bench/twin_gan.py's Gan, shared
with bench/tokenizer_torch.py); what is written here is post-training around
them in trainer.ts's order.
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
import torch.nn.functional as F  # noqa: E402

from generator_ref import ArGenerator, sample_tokens  # noqa: E402
from tokenizer_torch import Tokenizer  # noqa: E402
from twin_gan import Gan  # noqa: E402
from twin_protocol import serve  # noqa: E402
from twin_training import ema_update, ema_weights, save_atomic, start_twin, warmup_cosine, write_rows  # noqa: E402

# Offsets of a run's named random streams (src/train/streams.ts).
STREAMS = {"trainDraws": 1, "sigmaCoins": 3, "gridSigmaDraws": 5, "gridSigmaCoins": 6, "pregenDraws": 7, "pregenCoins": 8}
# The batch --pregenerate draws sigma-tokens in (post_train.ts).
PREGENERATE_BATCH = 256
GRID_IMAGES = 8


def mix_seed(*parts):
    """mixSeed of src/data/rng.ts: 32-bit parts -> one 32-bit seed."""
    h = 0x9E3779B9
    for part in parts:
        h = ((h ^ (part & 0xFFFFFFFF)) * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & 0xFFFFFFFF
        h ^= h >> 16
    return h


def stream(seed, name, index=None):
    """Stream `name` of a run seeded `seed` (openStream), or image `index`'s own share of it
    (imageStream): a CPU generator, as robustok's RandomStream, so it draws the same numbers."""
    s = seed + STREAMS[name]
    return torch.Generator().manual_seed(s if index is None else mix_seed(s, index))


def image_draws(seed, indices, positions):
    """The uniforms [B, N] of the draws and of the keep coins of the images at `indices`
    (src/posttrain/image_draws.ts): row b from image indices[b]'s own streams."""
    rows = lambda name: torch.stack([torch.rand(positions, generator=stream(seed, name, int(i))) for i in indices])
    return rows("pregenDraws"), rows("pregenCoins")


class PostTrainer:
    def __init__(self, config, init):
        if config["roundTrip"] or config["trainable"]["postQuant"]:
            raise SystemExit("posttrain_torch.py twins post-training of the decoder alone (roundTrip=false, trainable.postQuant=false)")
        loss = config["loss"]
        if loss["perceptual"]["kind"] != "none" or loss["gan"]["network"] or not loss["gan"]["enabled"]:
            raise SystemExit("posttrain_torch.py twins the PatchGAN without a perceptual term (loss.perceptual.kind=none, loss.gan.network='')")
        self.config = config
        self.sampling = json.loads(init["sampling"])
        if self.sampling["topK"] != 0 or self.sampling["topP"] != 1:
            raise SystemExit("posttrain_torch.py samples without top-k / top-p")
        tokenizer_config = json.loads(init["tokenizerConfig"])
        self.model = Tokenizer(tokenizer_config)
        self.model.load_state_dict(init["tokenizer"], strict=True)
        self.generator = ArGenerator(json.loads(init["generatorOptions"]))
        self.generator.load_state_dict(init["generator"], strict=True)
        self.generator.eval()
        for p in self.generator.parameters():
            p.requires_grad_(False)
        # The decoder alone is trained; encoder, quantizer and codebook are frozen.
        self.params = []
        for name, p in self.model.named_parameters():
            p.requires_grad_(name.startswith("decoder."))
            if name.startswith("decoder."):
                self.params.append(p)
        o, t = config["optim"], config["train"]
        self.optimizer = torch.optim.AdamW(self.params, lr=o["lr"], betas=(0.9, 0.95), weight_decay=o["weightDecay"])
        # The EMA starts as the trained weights, at a fixed decay (a half-life in steps), no warm-up.
        self.ema = [p.detach().clone() for p in self.params]
        self.ema_decay = 0.5 ** (1 / o["emaHalfLife"]) if o["emaHalfLife"] > 0 else o["emaDecay"]
        lecam = json.loads(init["lecam"])
        self.gan = Gan(loss["gan"], int(tokenizer_config["data"]["channels"]), init["discriminator"], (lecam[0], lecam[1]))
        # The discriminator's rate on the decoder's schedule shape, its floor in the same ratio to its peak.
        floor = min(o["lrMin"], o["lr"])
        self.d_schedule = {**o, "lr": loss["gan"]["lr"], "lrMin": loss["gan"]["lr"] * floor / o["lr"] if o["lr"] > 0 else 0}
        self.sampler = stream(t["seed"], "trainDraws")
        self.coins = stream(t["seed"], "sigmaCoins")
        self.step_count = 0
        self.grid = (math.isqrt(self.generator.length),) * 2
        self.set_lr()

    def set_lr(self):
        steps = self.config["train"]["steps"]
        for optimizer, o in ((self.optimizer, self.config["optim"]), (self.gan.optimizer, self.d_schedule)):
            lr = warmup_cosine(self.step_count, o, steps)
            for group in optimizer.param_groups:
                group["lr"] = lr

    @torch.no_grad()
    def sigma_tokens(self, images, labels, uniforms=None, coin_uniforms=None, draws=None, coins=None):
        """Images -> their ground-truth ids, sigma-tokens [B, N] and the kept mask: each position keeps
        its ground truth with probability sigma, else takes the generator's draw (preserved_sampling.ts),
        from per-image uniforms or from the streams `draws` / `coins`."""
        self.model.eval()
        truth = self.model.encode(images)["ids"]
        sigma = self.config["sigma"]
        kept = coin_uniforms < sigma if coin_uniforms is not None else torch.zeros(truth.shape).bernoulli_(sigma, generator=coins).bool()
        if sigma == 1:
            return truth, truth.clone(), kept
        s = self.sampling
        ids = sample_tokens(self.generator, labels, s["cfg"], s["schedule"], s["power"], s["temperature"], draws, uniforms,
                            choose=lambda t, drawn: torch.where(kept[:, t], truth[:, t], drawn))
        return truth, ids, kept

    def pregenerate_batch(self, images, labels, indices):
        """One batch of --pregenerate: the images' own uniforms, sigma-tokens, the cache's dtypes
        (ids int16, kept and changed uint8)."""
        uniforms, coin_uniforms = image_draws(self.config["train"]["seed"], indices.tolist(), self.generator.length)
        truth, ids, kept = self.sigma_tokens(images, labels, uniforms, coin_uniforms)
        return ids.to(torch.int16), kept.to(torch.uint8), ids.ne(truth).to(torch.uint8)

    def step(self, images, given):
        """One step on images [B, C, S, S] with their pregenerated sigma-tokens (ids, kept, changed)."""
        c = self.config
        ids, kept, changed = given
        gan_on = self.step_count >= round(c["loss"]["gan"]["start"] * c["train"]["steps"])
        self.model.train()
        image = self.model.decode_ids(ids, self.grid)
        reconstruction = F.l1_loss(image, images) if c["loss"]["reconstruction"] == "l1" else F.mse_loss(image, images)
        loss = reconstruction
        if gan_on:
            g_loss, adaptive = self.gan.adversarial(image, reconstruction, self.model.decoder.conv_out.weight)
            loss = loss + g_loss * adaptive
        terms = {"loss": loss.item(), "reconstruction": reconstruction.item()}
        gan_terms = {"adversarial": g_loss.item(), "adaptiveWeight": adaptive.item()} if gan_on else {}
        if not all(math.isfinite(v) for v in [*terms.values(), *gan_terms.values()]):
            raise SystemExit(f"non-finite loss at step {self.step_count + 1}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c["optim"]["clipNorm"] > 0:
            torch.nn.utils.clip_grad_norm_(self.params, c["optim"]["clipNorm"])
        lr = self.optimizer.param_groups[0]["lr"]
        self.optimizer.step()
        ema_update(self.ema, self.params, self.ema_decay, self.step_count + 1, warmup=False)
        if gan_on:
            gan_terms.update(self.gan.step(images, image))
        self.step_count += 1
        self.set_lr()
        metrics = {"step": self.step_count, **terms, "lr": lr, "kept": kept.float().mean().item(), "changed": changed.float().mean().item()}
        return {**metrics, "gan": gan_terms} if gan_on else metrics

    @torch.no_grad()
    def decode(self, ids, ema=False):
        """ids -> images in [-1, 1] without grad, with the live weights or the EMA's."""
        self.model.eval()
        if not ema:
            return self.model.decode_ids(ids, self.grid).clamp(-1, 1)
        with ema_weights(self.model.decoder, self.ema):
            return self.model.decode_ids(ids, self.grid).clamp(-1, 1)


def save_checkpoint(trainer, order_rng, path):
    save_atomic({
        "tokenizer": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(), "ema": trainer.ema, **trainer.gan.state(),
        "sampler": trainer.sampler.get_state(), "coins": trainer.coins.get_state(), "order_rng": order_rng.get_state(),
        "step": trainer.step_count, "config": trainer.config,
    }, path)


def pregenerate(trainer, images, labels, path):
    """Sigma-tokens of every image (uint8 [n, C, S, S]), in batches of 256 in split order, cached to `path`."""
    parts = []
    for start in range(0, images.shape[0], PREGENERATE_BATCH):
        batch = images[start:start + PREGENERATE_BATCH].float().div_(127.5).sub_(1)
        rows = torch.arange(start, start + batch.shape[0])
        parts.append(trainer.pregenerate_batch(batch, labels[start:start + batch.shape[0]], rows))
    ids, kept, changed = (torch.cat(p) for p in zip(*parts))
    save_atomic({"ids": ids, "kept": kept, "changed": changed}, path)
    return ids, kept, changed


def post_train(config, init):
    """The run (see the top of the file); returns its loop's milliseconds."""
    t = config["train"]
    batch = t["batchSize"]
    trainer = PostTrainer(config, init)
    out = tempfile.mkdtemp(prefix="robustok-twin-posttrain-")
    try:
        os.makedirs(os.path.join(out, "samples"))
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        images, labels = init["loopImages"], init["loopLabels"]
        n = images.shape[0]
        cache = pregenerate(trainer, images, labels, os.path.join(out, "tokens-sigma.pt"))
        per_epoch = n // batch
        order_rng = torch.Generator().manual_seed(t["seed"])
        order = torch.randperm(n, generator=order_rng)
        # The grid: the first images of the first batch, their sigma-tokens drawn once from streams of their own.
        shown_rows = order[:GRID_IMAGES]
        shown = images.index_select(0, shown_rows).float().div_(127.5).sub_(1)
        _, shown_ids, _ = trainer.sigma_tokens(shown, labels.index_select(0, shown_rows),
                                               draws=stream(t["seed"], "gridSigmaDraws"), coins=stream(t["seed"], "gridSigmaCoins"))
        before = trainer.decode(shown_ids)
        checkpoint = os.path.join(out, "checkpoint.pt")
        start = time.perf_counter()
        with open(os.path.join(out, "metrics.jsonl"), "w") as log:
            for step in range(t["steps"]):
                epoch, b = divmod(step, per_epoch)
                if b == 0 and epoch > 0:
                    order = torch.randperm(n, generator=order_rng)
                step_start = time.perf_counter()
                rows = order[b * batch:(b + 1) * batch]
                x = images.index_select(0, rows).float().div_(127.5).sub_(1)
                given = (cache[0].index_select(0, rows).long(), cache[1].index_select(0, rows).bool(), cache[2].index_select(0, rows).bool())
                m = trainer.step(x, given)
                last = m["step"] == t["steps"]
                if m["step"] % t["logEvery"] == 0 or last:
                    line = {**m, "epoch": epoch, "imagesPerSecond": batch / (time.perf_counter() - step_start), "threads": torch.get_num_threads()}
                    log.write(json.dumps(line) + "\n")
                    log.flush()
                if m["step"] % t["sampleEvery"] == 0 or last:
                    write_rows(os.path.join(out, "samples", f"step-{m['step']}.png"), [shown, before, trainer.decode(shown_ids, ema=True)])
                if m["step"] % t["checkpointEvery"] == 0:
                    save_checkpoint(trainer, order_rng, checkpoint)
        save_checkpoint(trainer, order_rng, checkpoint)
        ms = (time.perf_counter() - start) * 1e3
        with torch.no_grad(), ema_weights(trainer.model.decoder, trainer.ema):
            save_atomic(trainer.model.state_dict(), os.path.join(out, "tokenizer.pt"))
        return ms
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    init, config = start_twin()
    trainer = PostTrainer(config, init)
    images, given = init["images"], (init["ids"], init["kept"], init["changed"])
    draw = (init["drawImages"], init["drawLabels"], init["drawIndices"])

    def tokens():
        seed, indices = config["train"]["seed"], draw[2].tolist()
        uniforms, coin_uniforms = image_draws(seed, indices, trainer.generator.length)
        truth, ids, kept = trainer.sigma_tokens(draw[0], draw[1], uniforms, coin_uniforms)
        return json.dumps({"truth": truth.tolist(), "ids": ids.tolist(), "kept": kept.tolist()})

    def loop():
        return post_train(json.loads(init["loopConfig"]), init)

    serve(sys.argv[3], sys.argv[4], timed={"step": lambda: trainer.step(images, given), "sigma": lambda: trainer.pregenerate_batch(*draw)},
          untimed={"metrics": lambda: json.dumps(trainer.step(images, given)), "tokens": tokens, "loop": loop})


main()
