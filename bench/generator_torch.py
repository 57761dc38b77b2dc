"""The PyTorch side of bench/generator: robustok's GeneratorTrainer.step
(src/generator/trainer.ts) and KV-cached sampling (src/generator/sample.ts)
in plain PyTorch, driven line by line from the Node benchmark so both run
interleaved on the same threads.

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
  quit

The model and the cached sampler come from the test twin (test/generator_ref.py);
what is written here is the trainer around them, in trainer.ts's order:
batch rows, class dropout, forward, cross-entropy, backward, clipping, AdamW,
learning-rate schedule, EMA.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from generator_ref import ArGenerator, sample_tokens  # noqa: E402
from twin_protocol import serve  # noqa: E402
from twin_training import ema_update, warmup_cosine  # noqa: E402


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


def main():
    torch.set_num_threads(int(sys.argv[1]))
    init = torch.load(sys.argv[2])
    config = json.loads(init["config"])
    s = config["sample"]
    if s["topK"] != 0 or s["topP"] != 1:
        raise SystemExit("generator_torch.py samples without top-k / top-p: run it with sample.topK=0 and sample.topP=1")
    torch.manual_seed(config["train"]["seed"])
    trainer = Trainer(config, json.loads(init["options"]), init["model"], init["ids"], init["labels"])
    sample_labels = init["sampleLabels"]
    draws = torch.Generator().manual_seed(0)
    serve(sys.argv[3], sys.argv[4], timed={
        "step": trainer.step,
        "sample": lambda: sample_tokens(trainer.model, sample_labels, s["cfg"], s["schedule"], s["power"], s["temperature"], draws),
    }, untimed={
        "metrics": lambda: json.dumps(trainer.step()),
    })


main()
