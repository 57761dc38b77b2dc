"""The PyTorch side of bench/generator: robustok's GeneratorTrainer.step
(src/generator/trainer.ts) and KV-cached sampling (src/generator/sample.ts)
in plain PyTorch, driven line by line from the Node benchmark so both run
interleaved on the same threads; and the loop of a train-generator run
around them, as one writes it in PyTorch.

    generator_torch.py THREADS INIT.pt COMMANDS ANSWERS

INIT.pt (written by bench/generator.ts with savePt) holds the resolved config
and the model options as JSON, the model's state dict, the token set (ids
[M, V, N] int16, labels [M] int64) and the class ids to sample [S], so both
sides start from the same weights and train on the same tokens. After
printing "ready" on stdout it reads commands from the named pipe COMMANDS and
writes one answer line for each to the pipe ANSWERS:
  step      one training step, answers its milliseconds
  sample    S token grids with the config's sampling settings (guidance as a
            doubled batch, KV cache), answers milliseconds
  metrics   one training step, answers its logged numbers as JSON (untimed)
  loop      the training loop of a run (below), answers its milliseconds
  loop-log  the same loop, answers JSON: its milliseconds, its metrics lines
            and the files it wrote (for the twin test)
  quit

With `loop` the init file also holds what a train-generator run starts from:
`loopConfig` and `loopOptions` (JSON), `loopModel` (the generator's weights
at step 0, as the run seeds and builds them), `loopIds` / `loopLabels` (the
tokens robustok's run trains on, from its token cache), and the tokenizer
whose decoder draws the sample grids: `tokenizerConfig` (JSON) and
`tokenizer` (its state dict). The loop is the twin of robustok's
(src/runs/training_loop.ts with train_generator.ts's grid) as one writes it in
PyTorch: a fresh trainer and folder, seeded epoch shuffles, the step, a JSON
metrics line every logEvery steps and at the end, a grid of a row per class
sampled with the EMA weights and decoded every sampleEvery steps and at the
end, an atomic checkpoint (model, optimizer, EMA, rng, step) every
checkpointEvery steps and at the end — timed from its first step to its last
checkpoint. Tokenizing the images is not part of it, as robustok's run
tokenizes before its loop starts.

The model and the cached sampler come from the test twin (test/generator_ref.py),
the tokenizer from bench/tokenizer_torch.py; what is written here is the
trainer around them, in trainer.ts's order: batch rows, class dropout,
forward, cross-entropy, backward, clipping, AdamW, learning-rate schedule, EMA.
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
from twin_protocol import TwinError, serve  # noqa: E402
from twin_training import ema_update, ema_weights, save_atomic, start_twin, warmup_cosine, write_rows  # noqa: E402


class Trainer:
    def __init__(self, config, options, state, ids, labels):
        self.config, self.ids, self.labels = config, ids, labels
        self.model = ArGenerator(options)
        self.model.load_state_dict(state, strict=True)
        o = config["optim"]
        # decayGroups (src/optim/decay-groups.ts): matrices and embeddings decay, vectors (biases, norm gains) do not.
        params = list(self.model.parameters())
        self.optimizer = torch.optim.AdamW([
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": o["weightDecay"]},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ], lr=o["lr"], betas=(0.9, o["beta2"]))
        self.step_count = 0
        self.set_lr()
        self.ema = [p.detach().clone() for p in params]
        self.sampler = torch.Generator().manual_seed(config["train"]["seed"] + 1)
        self.order = None

    def set_lr(self):
        lr = warmup_cosine(self.step_count, self.config["optim"], self.config["train"]["steps"])
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def batch_rows(self):
        """A shuffle per epoch, cut into full batches (robustok shuffles with its own JS stream: the same work)."""
        b = self.config["train"]["batchSize"]
        per_epoch = self.labels.shape[0] // b
        epoch, index = divmod(self.step_count, per_epoch)
        if self.order is None or self.order[0] != epoch:
            self.order = (epoch, torch.randperm(self.labels.shape[0], generator=torch.Generator().manual_seed(epoch)))
        return self.order[1][index * b:(index + 1) * b]

    def step(self):
        c = self.config
        model = self.model
        model.train()
        rows = self.batch_rows()
        variants = self.ids.index_select(0, rows)  # [B, V, N]
        b, v, n = variants.shape
        if v == 1:
            pick = variants[:, 0]
        else:
            pick = variants.gather(1, torch.randint(0, v, (b, 1, 1), generator=self.sampler).expand(b, 1, n)).squeeze(1)
        ids = pick.to(torch.int64)
        labels = self.labels.index_select(0, rows)
        # Class dropout: each label becomes the null class with probability classDropout.
        dropped = torch.zeros(b).bernoulli_(c["model"]["classDropout"], generator=self.sampler).bool()
        conditioned = torch.where(dropped, torch.full_like(labels, model.null_class), labels)
        logits = model(ids, conditioned)  # [B, N, K]
        loss = F.cross_entropy(logits.reshape(b * n, -1), ids.reshape(b * n))
        value = loss.item()
        if not math.isfinite(value):
            raise SystemExit(f"non-finite loss at step {self.step_count + 1}")
        # set_to_none=True as robustok's zeroGrad: neither side spends time zeroing buffers.
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = c["optim"]["clipNorm"]
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item() if clip > 0 else float("nan")
        lr = self.optimizer.param_groups[0]["lr"]
        self.optimizer.step()
        self.step_count += 1
        self.set_lr()
        ema_update(self.ema, self.model.parameters(), self.config["optim"]["emaDecay"], self.step_count)
        accuracy = (logits.detach().argmax(-1) == ids).float().mean().item()
        return {"step": self.step_count, "loss": value, "accuracy": accuracy, "lr": lr, "gradNorm": grad_norm}


def write_class_grid(trainer, tokenizer, per_class, path):
    """A row per class, `per_class` samples each, drawn with the EMA weights from a fixed seed and
    decoded (train_generator.ts's writeClassGrid)."""
    s = trainer.config["sample"]
    labels = torch.arange(trainer.model.null_class).repeat_interleave(per_class)  # the null class's id is the class count
    draws = torch.Generator().manual_seed(trainer.config["train"]["seed"] + 2)
    with torch.no_grad(), ema_weights(trainer.model, trainer.ema):
        ids = sample_tokens(trainer.model, labels, s["cfg"], s["schedule"], s["power"], s["temperature"], draws)
        images = tokenizer.decode_ids(ids, trainer.model.options["grid"]).clamp(-1, 1)
    write_rows(path, list(images.split(per_class)))


def save_checkpoint(trainer, path):
    save_atomic({
        "model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(), "ema": trainer.ema,
        "rng": trainer.sampler.get_state(), "step": trainer.step_count, "config": trainer.config,
    }, path)


def train_loop(init):
    """The run's loop (see the top of the file) → its milliseconds, its metrics lines and the files it wrote."""
    config = json.loads(init["loopConfig"])
    t, batch = config["train"], config["train"]["batchSize"]
    trainer = Trainer(config, json.loads(init["loopOptions"]), init["loopModel"], init["loopIds"], init["loopLabels"])
    tokenizer = Tokenizer(json.loads(init["tokenizerConfig"]))
    tokenizer.load_state_dict(init["tokenizer"], strict=True)
    tokenizer.eval()
    per_epoch = trainer.labels.shape[0] // batch
    tokens_per_step = batch * trainer.model.length
    out = tempfile.mkdtemp(prefix="robustok-twin-loop-")
    try:
        os.makedirs(os.path.join(out, "samples"))
        checkpoint = os.path.join(out, "checkpoint.pt")
        start = time.perf_counter()
        with open(os.path.join(out, "metrics.jsonl"), "w") as log:
            while trainer.step_count < t["steps"]:
                step_start = time.perf_counter()
                m = trainer.step()
                step = m["step"]
                last = step == t["steps"]
                if step % t["logEvery"] == 0 or last:
                    line = {**m, "epoch": (step - 1) // per_epoch, "tokensPerSecond": tokens_per_step / (time.perf_counter() - step_start),
                            "threads": torch.get_num_threads()}
                    log.write(json.dumps(line) + "\n")
                    log.flush()
                if step % t["sampleEvery"] == 0 or last:
                    write_class_grid(trainer, tokenizer, t["samplesPerClass"], os.path.join(out, "samples", f"step-{step}.png"))
                if step % t["checkpointEvery"] == 0:
                    save_checkpoint(trainer, checkpoint)
        save_checkpoint(trainer, checkpoint)
        ms = (time.perf_counter() - start) * 1e3
        with open(os.path.join(out, "metrics.jsonl")) as log:
            metrics = [json.loads(line) for line in log]
        files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, names in os.walk(out) for f in names)
        return ms, {"metrics": metrics, "files": files}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    init, config = start_twin()
    s = config["sample"]
    if s["topK"] != 0 or s["topP"] != 1:
        raise SystemExit("generator_torch.py samples without top-k / top-p: run it with sample.topK=0 and sample.topP=1")
    trainer = Trainer(config, json.loads(init["options"]), init["model"], init["ids"], init["labels"])
    sample_labels = init["sampleLabels"]
    draws = torch.Generator().manual_seed(0)

    def loop():
        if "loopConfig" not in init:
            raise TwinError("loop needs the loop's config, weights, tokens and tokenizer in the init file")
        return train_loop(init)

    def loop_log():
        ms, record = loop()
        return json.dumps({"ms": ms, **record})

    serve(sys.argv[3], sys.argv[4], timed={
        "step": trainer.step,
        "sample": lambda: sample_tokens(trainer.model, sample_labels, s["cfg"], s["schedule"], s["power"], s["temperature"], draws),
    }, untimed={
        "metrics": lambda: json.dumps(trainer.step()),
        "loop": lambda: loop()[0],
        "loop-log": loop_log,
    })


if __name__ == "__main__":
    main()
