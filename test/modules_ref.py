"""PyTorch twins of robustok's nn layers that torch.nn lacks (timm's ViT
attention, MLP and pre-norm block), with the same parameter names, for the
module parity tests. Imported by oracle.py cases through `setup`."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim, heads, qkv_bias=True, qk_norm=False, context_dim=None):
        super().__init__()
        self.heads, self.head_dim, self.cross = heads, dim // heads, context_dim is not None
        if self.cross:
            self.q = nn.Linear(dim, dim, bias=qkv_bias)
            self.kv = nn.Linear(context_dim, 2 * dim, bias=qkv_bias)
        else:
            self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        if qk_norm:
            self.q_norm = nn.LayerNorm(self.head_dim)
            self.k_norm = nn.LayerNorm(self.head_dim)
        self.qk_norm = qk_norm
        self.proj = nn.Linear(dim, dim)

    def split(self, t, parts):
        b, n, _ = t.shape
        return t.reshape(b, n, parts, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)

    def forward(self, x, context=None, mask=None, causal=False):
        b, n, d = x.shape
        if self.cross:
            (q,) = self.split(self.q(x), 1)
            k, v = self.split(self.kv(context), 2)
        else:
            q, k, v = self.split(self.qkv(x), 3)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        scores = q @ k.transpose(-2, -1) / self.head_dim ** 0.5
        if causal:
            keep = torch.ones(n, k.shape[2], dtype=torch.bool).tril(k.shape[2] - n)
            scores = scores.masked_fill(~keep, float("-inf"))
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        out = scores.softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, qk_norm=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, qk_norm=qk_norm)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, round(dim * mlp_ratio))

    def forward(self, x, causal=False):
        x = x + self.attn(self.norm1(x), causal=causal)
        return x + self.mlp(self.norm2(x))
