"""PyTorch twin of the RobusTok release's tokenizer (qiuk2/RobusTok,
tokenizer/tokenizer_image/xqgan_model.py with enc_type = dec_type = dinov2,
abs_pos_embed, v_patch_nums [16]; dino_enc/dinov2.py, dino_enc/to_pixel.py;
timm's DINOv2 VisionTransformer), for test/published_robustok.test.ts.

It follows the upstream module structure and state-dict names: the encoder
and decoder wrap a timm ViT under `model` (`patch_embed.proj`, `cls_token`,
`pos_embed` with the class token's entry, `blocks.i` with LayerScale
`ls1`/`ls2`, `norm`), the encoder adds `latent_tokens`, `lvl_embed` and the
`lvl1LC` buffer (built with upstream's own formula, patch_size² + 1 image
tokens), the decoder `mask_token`, `lvl_embed`, `lvl1LC` and
`to_pixel.model`, and has no patch embedding (upstream deletes it). The
frozen guides of the training losses (`semantic_model`, `detail_model`) and
the quantizer's usage EMA sit in the state dict as upstream's do.

The geometry is the release's (256² images, patch 16, 256 latent tokens,
4,096 codes of width 64); width (128, two heads of DINOv2's 64) and depth
(2) are a test's choice. The file is saved as xqgan_train.py saves its
checkpoints: {"model", "optimizer", "discriminator", "optimizer_disc",
"steps", "args", "ema"}, `args` the argparse.Namespace of the run; the
expected outputs come from the "ema" weights, which upstream's loaders prefer.

usage: published_robustok_ref.py OUTDIR  writes robustok.pt and robustok.expected.pt
(input images in [-1, 1], code ids [B, 16, 16], decoded images, the number of training-only tensors)."""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4).unbind(0)
        # timm's unfused path (this torch predates scaled_dot_product_attention)
        attn = ((q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)
        self.ls2 = LayerScale(dim)

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, embed_dim):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(3, embed_dim, patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """timm's ViT as vit_*_patch14_dinov2 builds it (num_classes 0: no head; init_values 1e-5)."""

    def __init__(self, img_size, patch_size, embed_dim, depth, num_heads):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_prefix_tokens = 1
        self.patch_embed = PatchEmbed(img_size, patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.patch_embed.num_patches + 1, embed_dim) * 0.02)
        self.norm_pre = nn.Identity()
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def _pos_embed(self, x):
        # x [B, L, C], or [B, H, W, C] at the patch grid's own size (no resampling needed)
        x = x.reshape(x.shape[0], -1, x.shape[-1])
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.pos_embed


class DINOv2Encoder(nn.Module):
    def __init__(self, num_latent_tokens, img_size, patch_size, embed_dim, depth, num_heads):
        super().__init__()
        self.model = VisionTransformer(img_size, patch_size, embed_dim, depth, num_heads)
        self.num_latent_tokens = num_latent_tokens
        self.latent_tokens = nn.Parameter(torch.zeros(1, num_latent_tokens, embed_dim))
        self.lvl_embed = nn.Embedding(2, embed_dim)
        lvl1LC = torch.cat([torch.full((patch_size * patch_size + 1,), 0), torch.full((num_latent_tokens,), 1)]).view(1, -1)
        self.register_buffer('lvl1LC', lvl1LC)

    def forward(self, x):
        x = self.model._pos_embed(self.model.patch_embed(x))
        H = W = int(math.sqrt(self.num_latent_tokens))
        z = self.latent_tokens.expand(x.size(0), -1, -1).reshape(x.size(0), H, W, -1)
        z = self.model._pos_embed(z)[:, 1:]
        x = torch.cat([x, z], dim=1)
        x = x + self.lvl_embed(self.lvl1LC.expand(x.size(0), -1))
        x = self.model.norm(self.model.blocks(self.model.norm_pre(x)))
        return x[:, -self.num_latent_tokens:]


class ToPixel(nn.Module):
    def __init__(self, img_size, in_dim, patch_size):
        super().__init__()
        self.patch_size = patch_size
        self.model = nn.Linear(in_dim, 3 * patch_size * patch_size)

    def forward(self, x):
        x = self.model(x)
        p, h = self.patch_size, int(x.shape[1] ** 0.5)
        x = torch.einsum('nhwpqc->nchpwq', x.reshape(x.shape[0], h, h, p, p, 3))
        return x.reshape(x.shape[0], 3, h * p, h * p)


class DINOv2Decoder(nn.Module):
    def __init__(self, num_latent_tokens, img_size, patch_size, embed_dim, depth, num_heads):
        super().__init__()
        self.model = VisionTransformer(img_size, patch_size, embed_dim, depth, num_heads)
        self.num_img_tokens = self.model.patch_embed.num_patches
        self.num_latent_tokens = num_latent_tokens
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.lvl_embed = nn.Embedding(2, embed_dim)
        lvl1LC = torch.cat([torch.full((patch_size * patch_size + 1,), 0), torch.full((num_latent_tokens + 1,), 1)]).view(1, -1)
        self.register_buffer('lvl1LC', lvl1LC)
        self.to_pixel = ToPixel(img_size, embed_dim, patch_size)
        del self.model.patch_embed.proj.bias
        del self.model.patch_embed.proj.weight

    def forward(self, z):
        x = self.model._pos_embed(self.mask_token.expand(z.size(0), self.num_img_tokens, -1))
        H = W = int(math.sqrt(self.num_latent_tokens))
        z = self.model._pos_embed(z.reshape(z.size(0), H, W, -1))
        x = torch.cat([x, z], dim=1)
        x = x + self.lvl_embed(self.lvl1LC.expand(x.size(0), -1))
        x = self.model.norm(self.model.blocks(self.model.norm_pre(x)))
        return self.to_pixel(x[:, 1:self.num_img_tokens + 1])


class VectorQuantizer(nn.Module):
    """xqgan_model.py's VectorQuantizer with codebook_norm: nearest code between l2-normalised vectors."""

    def __init__(self, vocab_size, z_channels):
        super().__init__()
        self.z_channels = z_channels
        self.embedding = nn.Embedding(vocab_size, z_channels)
        self.register_buffer("ema_vocab_hit_SV", torch.full((vocab_size,), fill_value=0.0))

    def forward(self, z):
        z = F.normalize(z.permute(0, 2, 3, 1), p=2, dim=-1)
        flat = z.reshape(-1, self.z_channels)
        codes = F.normalize(self.embedding.weight, p=2, dim=-1)
        d = flat.pow(2).sum(1, keepdim=True) + codes.pow(2).sum(1) - 2 * flat @ codes.t()
        ids = d.argmin(1)
        zq = F.normalize(self.embedding(ids), p=2, dim=-1).view(z.shape).permute(0, 3, 1, 2)
        return zq, ids.view(z.shape[:3])


class VQModel(nn.Module):
    def __init__(self, width, depth, heads, img_size=256, patch_size=16, num_latent_tokens=256, codebook_size=4096, embed_dim=64):
        super().__init__()
        geometry = (num_latent_tokens, img_size, patch_size, width, depth, heads)
        self.encoder = DINOv2Encoder(*geometry)
        self.quant_conv = nn.Conv2d(width, embed_dim, 1)
        self.decoder = DINOv2Decoder(*geometry)
        self.post_quant_conv = nn.Conv2d(embed_dim, width, 1)
        self.quantize = VectorQuantizer(codebook_size, embed_dim)
        # the frozen guides of the semantic and detail losses (a DINOv2 and a CLIP ViT upstream): training only
        self.semantic_model = VisionTransformer(img_size, patch_size, 32, 1, 1)
        self.detail_model = VisionTransformer(img_size, patch_size, 32, 1, 1)

    def forward(self, x):
        h = self.encoder(x)
        b, l, c = h.shape
        h = h.view(b, int(math.sqrt(l)), int(math.sqrt(l)), c).permute(0, 3, 1, 2)
        zq, ids = self.quantize(self.quant_conv(h))
        return ids, self.decoder(self.post_quant_conv(zq).flatten(2).permute(0, 2, 1))


def randomise(model, scale):
    """Random values everywhere a fresh model has constants (tokens, LayerScale, norms), so each is tested."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('gamma'):
                p.normal_(0.5, 0.1)
            elif p.dim() == 1 and 'norm' in name:
                p.normal_(1.0 if name.endswith('weight') else 0.0, 0.1)
            elif name.endswith(('latent_tokens', 'mask_token', 'cls_token', 'pos_embed')):
                p.normal_(0.0, scale)


def main(out):
    torch.manual_seed(0)
    model = VQModel(width=128, depth=2, heads=2)
    randomise(model, 0.5)
    ema = VQModel(width=128, depth=2, heads=2)
    ema.load_state_dict(model.state_dict())
    randomise(ema, 0.5)  # the EMA differs from the raw weights: the test sees which one is read
    ema.eval()
    x = torch.rand(2, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        ids, image = ema(x)
    discriminator = nn.Conv2d(3, 8, 4, 2, 1)
    args = argparse.Namespace(vq_model='VQ-16', enc_type='dinov2', dec_type='dinov2', codebook_size=4096,
                              codebook_embed_dim=64, num_latent_tokens=256, v_patch_nums=[16], abs_pos_embed=True)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": torch.optim.AdamW(model.parameters()).state_dict(),
        "discriminator": discriminator.state_dict(),
        "optimizer_disc": torch.optim.AdamW(discriminator.parameters()).state_dict(),
        "steps": 10000,
        "args": args,
        "ema": ema.state_dict(),
    }
    torch.save(checkpoint, os.path.join(out, "robustok.pt"))
    training_only = sum(1 for k in ema.state_dict() if k.startswith(("semantic_model.", "detail_model.")) or k == "quantize.ema_vocab_hit_SV")
    torch.save({"input": x, "ids": ids, "image": image, "training_only": torch.tensor(training_only)},
               os.path.join(out, "robustok.expected.pt"))


if __name__ == "__main__":
    main(sys.argv[1])
