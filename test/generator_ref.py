"""PyTorch twin of robustok's class-conditional autoregressive generator
(src/generator/model.ts, ArGenerator) with the same state-dict names, plus a
KV-cached sampler as src/generator/sample.ts, for test/generator_model.test.ts
and bench/generator_torch.py.

Written from the description in model.ts, not from its code, so that the
parity test checks the layout as well as the arithmetic:
  - input position 0 holds the class embedding (id C = the null class);
    position p >= 1 holds the embedding of token p - 1, so N inputs predict
    all N tokens of the raster order;
  - positions: a learned [1, N, D] table added to the inputs ('learned'), or
    2-D rotary angles applied to q and k after QK-norm ('rope2d'): per head,
    the first half of the (interleaved) pairs turn with the token's row, the
    second half with its column; the class position is not rotated;
  - pre-norm blocks in timm's layout (qkv / proj / q_norm / k_norm, fc1 / fc2,
    LayerNorm eps 1e-5), causal attention, a final LayerNorm, and a head
    without bias or tied to tok_emb.weight.

torch here is Debian's 1.13, which has no F.scaled_dot_product_attention:
attention is written out (softmax(q k^T / sqrt(hd)) v), which is what SDPA
computes.

Also a command-line side for the parity test:

    generator_ref.py IN.pt OUT.pt

IN.pt (robustok's savePt) holds {options: JSON string of GeneratorOptions,
state: the state dict, ids [B, N] int64, labels [B] int64, sample: {labels,
cfg, schedule, power}}. OUT.pt gets {logits [B, N, K], loss, grads: {name:
grad}, sampled [B', N]}: the teacher-forced logits, the cross-entropy's
gradient of every parameter, and greedy (temperature 0) guided samples from
this file's cached sampler.

Run with Debian's interpreter (/usr/bin/python3), where python3-torch lives.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def rope2d_tables(grid, head_dim, base):
    """cos and sin [N, hd/2] of the N input positions: row 0 (the class) zeros;
    row p >= 1 the angles of token p - 1 at (r, c) = divmod(p - 1, w): r * f_j
    for the first hd/4 pairs, c * f_j for the last hd/4, f_j = base^(-j/(hd/4))."""
    h, w = grid
    quarter = head_dim // 4
    freqs = base ** (-torch.arange(quarter, dtype=torch.float64) / quarter)
    tokens = torch.arange(h * w - 1)
    rows, cols = (tokens // w).to(torch.float64), (tokens % w).to(torch.float64)
    angles = torch.cat([rows[:, None] * freqs, cols[:, None] * freqs], dim=1)  # [N-1, hd/2]
    angles = torch.cat([torch.zeros(1, head_dim // 2, dtype=torch.float64), angles])
    return angles.cos().float(), angles.sin().float()


def apply_rotary(x, cos, sin):
    """Rotates the pairs (x[..., 2i], x[..., 2i+1]) of x [B, H, L, hd] by the angles of rows [L, hd/2]."""
    pairs = x.reshape(*x.shape[:-1], -1, 2)
    even, odd = pairs[..., 0], pairs[..., 1]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).reshape(x.shape)


class KVCache:
    """Keys and values [B, H, S, hd] of the positions fed so far, per block."""

    def __init__(self):
        self.k = self.v = None

    def __len__(self):
        return 0 if self.k is None else self.k.shape[2]

    def append(self, k, v):
        self.k = k if self.k is None else torch.cat([self.k, k], dim=2)
        self.v = v if self.v is None else torch.cat([self.v, v], dim=2)
        return self.k, self.v


class Attention(nn.Module):
    def __init__(self, dim, heads, qk_norm, dropout):
        super().__init__()
        self.heads, self.head_dim, self.dropout = heads, dim // heads, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        if qk_norm:
            self.q_norm = nn.LayerNorm(self.head_dim, eps=1e-5)
            self.k_norm = nn.LayerNorm(self.head_dim, eps=1e-5)
        self.qk_norm = qk_norm
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, rotary=None, cache=None):
        """x [B, L, D] at positions offset .. offset + L - 1 (offset = what the cache holds) -> [B, L, D]."""
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        if rotary is not None:
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        offset = 0 if cache is None else len(cache)
        if cache is not None:
            k, v = cache.append(k, v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # [B, H, L, S]
        # query i (absolute position offset + i) sees keys 0 .. offset + i
        keep = torch.ones(n, k.shape[2], dtype=torch.bool).tril(offset)
        weights = scores.masked_fill(~keep, float("-inf")).softmax(-1)
        weights = F.dropout(weights, self.dropout, self.training)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim, hidden, dropout):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.dropout = dropout

    def forward(self, x):
        h = F.dropout(F.gelu(self.fc1(x)), self.dropout, self.training)
        return F.dropout(self.fc2(h), self.dropout, self.training)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, qk_norm, dropout):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = Attention(dim, heads, qk_norm, dropout)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = Mlp(dim, round(dim * mlp_ratio), dropout)

    def forward(self, x, rotary=None, cache=None):
        x = x + self.attn(self.norm1(x), rotary, cache)
        return x + self.mlp(self.norm2(x))


class ArGenerator(nn.Module):
    """`options` is robustok's GeneratorOptions as a dict (camelCase keys)."""

    def __init__(self, options):
        super().__init__()
        o = options
        self.options = o
        d, h, w = o["width"], *o["grid"]
        self.length, self.null_class, self.dropout = h * w, o["numClasses"], o["dropout"]
        self.tok_emb = nn.Embedding(o["vocabSize"], d)
        self.cls_emb = nn.Embedding(o["numClasses"] + 1, d)
        if o["positions"] == "learned":
            self.pos_emb = nn.Parameter(torch.zeros(1, self.length, d))
        else:
            self.pos_emb = None
        self.blocks = nn.ModuleList(Block(d, o["heads"], o["mlpRatio"], o["qkNorm"], o["dropout"]) for _ in range(o["depth"]))
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.head = None if o["tieWeights"] else nn.Linear(d, o["vocabSize"], bias=False)
        if o["positions"] == "rope2d":
            cos, sin = rope2d_tables(o["grid"], d // o["heads"], o["ropeBase"])
            # Derived from the options, so not saved: robustok's rope_cos / rope_sin are non-persistent too.
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        else:
            self.rope_cos = self.rope_sin = None

    def forward(self, ids, labels):
        """Teacher forcing: ids [B, N] (int64), labels [B] -> logits [B, N, K]; row p predicts ids[:, p]."""
        inputs = torch.cat([self.cls_emb(labels)[:, None], self.tok_emb(ids[:, : self.length - 1])], dim=1)
        return self.run(inputs, 0)

    def run(self, inputs, start, caches=None):
        """Input embeddings [B, L, D] at positions start .. start + L - 1 -> logits [B, L, K]."""
        n = inputs.shape[1]
        x = inputs if self.pos_emb is None else inputs + self.pos_emb[:, start:start + n]
        x = F.dropout(x, self.dropout, self.training)
        rotary = None if self.rope_cos is None else (self.rope_cos[start:start + n], self.rope_sin[start:start + n])
        for i, block in enumerate(self.blocks):
            x = block(x, rotary, None if caches is None else caches[i])
        h = self.norm(x)
        return self.head(h) if self.head is not None else F.linear(h, self.tok_emb.weight)

    def new_caches(self):
        return [KVCache() for _ in self.blocks]


def cfg_scale(t, total, scale, schedule, power):
    """g_t at position t of T, as cfgScale in src/generator/guidance.ts."""
    if schedule == "constant":
        return scale
    progress = t / total
    if schedule == "linear":
        return 1 + (scale - 1) * progress
    return 1 + (scale - 1) * (1 - math.cos(math.pi * progress ** power)) / 2


def inverse_cdf(probabilities, uniform):
    """Per row of probabilities [B, K], the first token whose cumulative probability reaches
    (1 - u) * total for the row's uniform u [B] in [0, 1), as inverseCdf in src/generator/guidance.ts."""
    cdf = probabilities.cumsum(-1)
    target = (1 - uniform)[:, None] * cdf[:, -1:]
    return (cdf < target).sum(-1).clamp(0, cdf.shape[-1] - 1)


@torch.no_grad()
def sample_tokens(model, labels, cfg, schedule="constant", power=1.0, temperature=1.0, generator=None, uniforms=None, choose=None):
    """Class ids [B] -> token ids [B, N], one position at a time through a KV
    cache; with cfg != 1 the conditional rows and the null-class rows run as one
    doubled batch [2B] and combine as u + (c - u) g_t before the draw (softmax of
    logits / temperature, one multinomial draw; temperature 0 = argmax).
    No top-k / top-p: the benchmark samples with them off, as robustok's defaults.
    uniforms [B, N]: each row draws position t by the inverse CDF of its own
    uniforms[:, t] instead (pregenerated sigma-tokens, src/posttrain/image_draws.ts).
    choose(t, drawn [B]) -> the tokens kept at position t, which the next position
    is conditioned on (sigma-preserving sampling, src/posttrain/preserved_sampling.ts)."""
    was_training = model.training
    model.eval()
    b, n = labels.shape[0], model.length
    guided = cfg != 1
    rows = torch.cat([labels, torch.full_like(labels, model.null_class)]) if guided else labels
    caches = model.new_caches()
    inputs = model.cls_emb(rows)[:, None]  # [rows, 1, D]
    chosen = []
    for t in range(n):
        logits = model.run(inputs, t, caches)[:, 0]  # [rows, K]
        if guided:
            cond, uncond = logits[:b], logits[b:]
            logits = uncond + (cond - uncond) * cfg_scale(t, n, cfg, schedule, power)
        if temperature == 0:
            drawn = logits.argmax(-1)
        elif uniforms is not None:
            drawn = inverse_cdf((logits / temperature).softmax(-1), uniforms[:, t])
        else:
            drawn = torch.multinomial((logits / temperature).softmax(-1), 1, False, generator=generator)[:, 0]
        if choose is not None:
            drawn = choose(t, drawn)
        chosen.append(drawn)
        if t == n - 1:
            break  # nothing follows the last token (as robustok's sampler)
        inputs = model.tok_emb(torch.cat([drawn, drawn]) if guided else drawn)[:, None]
    model.train(was_training)
    return torch.stack(chosen, dim=1)


def parity(in_file, out_file):
    """The parity test's side: logits, loss and parameter gradients of one
    teacher-forced cross-entropy on robustok's weights, and greedy guided samples."""
    torch.set_num_threads(1)
    request = torch.load(in_file)
    model = ArGenerator(json.loads(request["options"]))
    model.load_state_dict(request["state"], strict=True)  # same names and shapes, nothing missing or extra
    model.eval()  # no dropout (the test also builds with dropout 0)
    ids, labels = request["ids"], request["labels"]
    logits = model(ids, labels)
    b, n, k = logits.shape
    loss = F.cross_entropy(logits.reshape(b * n, k), ids.reshape(b * n))
    loss.backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    s = request["sample"]
    sampled = sample_tokens(model, s["labels"], s["cfg"], s["schedule"], s["power"], temperature=0)
    torch.save({"logits": logits.detach(), "loss": loss.item(), "grads": grads, "sampled": sampled}, out_file)


if __name__ == "__main__":
    parity(sys.argv[1], sys.argv[2])
