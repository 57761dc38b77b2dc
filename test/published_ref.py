"""PyTorch twins of the published tokenizers robustok reads (src/tokenizer/
published.ts), for test/published.test.ts. Each follows its upstream
repository's module structure and state-dict names:
  - LlamaGen's VQModel (FoundationVision/LlamaGen,
    tokenizer/tokenizer_image/vq_model.py): levels in `conv_blocks.i` with
    `res`/`attn`/`downsample`, the middle as a list, the decoder's levels
    listed from the lowest resolution, an l2-normalised codebook and a
    `codebook_used` buffer; saved as {"model": state_dict} as its trainer does;
  - taming-transformers' VQModel (CompVis/taming-transformers,
    taming/models/vqgan.py and taming/modules/diffusionmodules/model.py):
    `down.i.block.j`/`down.i.attn.j` at attn_resolutions, `mid.block_1`/
    `attn_1`/`block_2`, `up.i` = level i, a Euclidean codebook, and a
    `loss` module beside the model; saved as a Lightning checkpoint,
    {"state_dict": ..., "global_step": ..., "epoch": ...}.
The blocks are tokenizer_ref.py's (taming's blocks, as in both upstreams),
with GroupNorm(32) as upstream. Widths are a test's choice (tiny), the level
structure and codebooks are the released models'.

usage: published_ref.py OUTDIR   writes KIND.pt / KIND.ckpt and KIND.expected.pt
(input images in [-1, 1], code ids [B, h, w], decoded images) for each twin."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from tokenizer_ref import AttnBlock, Downsample, Normalize, ResnetBlock, Upsample

GROUPS = 32


# ---- LlamaGen ---------------------------------------------------------------------

class LlamaGenEncoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, in_channels=3):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.conv_blocks = nn.ModuleList()
        block_in = ch
        for i, m in enumerate(ch_mult):
            level = nn.Module()
            level.res, level.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks):
                level.res.append(ResnetBlock(block_in, ch * m, GROUPS))
                block_in = ch * m
                if i == len(ch_mult) - 1:
                    level.attn.append(AttnBlock(block_in, GROUPS))
            if i != len(ch_mult) - 1:
                level.downsample = Downsample(block_in)
            self.conv_blocks.append(level)
        self.mid = nn.ModuleList([ResnetBlock(block_in, block_in, GROUPS), AttnBlock(block_in, GROUPS),
                                  ResnetBlock(block_in, block_in, GROUPS)])
        self.norm_out = Normalize(block_in, GROUPS)
        self.conv_out = nn.Conv2d(block_in, z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.conv_blocks:
            for j, block in enumerate(level.res):
                h = block(h)
                if len(level.attn) > 0:
                    h = level.attn[j](h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        for block in self.mid:
            h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class LlamaGenDecoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, out_channels=3):
        super().__init__()
        block_in = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, padding=1)
        self.mid = nn.ModuleList([ResnetBlock(block_in, block_in, GROUPS), AttnBlock(block_in, GROUPS),
                                  ResnetBlock(block_in, block_in, GROUPS)])
        self.conv_blocks = nn.ModuleList()
        for i in reversed(range(len(ch_mult))):  # conv_blocks.0 is the lowest resolution
            level = nn.Module()
            level.res, level.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                level.res.append(ResnetBlock(block_in, ch * ch_mult[i], GROUPS))
                block_in = ch * ch_mult[i]
                if i == len(ch_mult) - 1:
                    level.attn.append(AttnBlock(block_in, GROUPS))
            if i != 0:
                level.upsample = Upsample(block_in)
            self.conv_blocks.append(level)
        self.norm_out = Normalize(block_in, GROUPS)
        self.conv_out = nn.Conv2d(block_in, out_channels, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        for block in self.mid:
            h = block(h)
        for level in self.conv_blocks:
            for j, block in enumerate(level.res):
                h = block(h)
                if len(level.attn) > 0:
                    h = level.attn[j](h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class LlamaGenQuantizer(nn.Module):
    """Nearest code by distance between l2-normalised latent and codes."""

    def __init__(self, n_e, e_dim):
        super().__init__()
        self.embedding = nn.Embedding(n_e, e_dim)
        self.embedding.weight.data.uniform_(-1.0 / n_e, 1.0 / n_e)
        self.embedding.weight.data = F.normalize(self.embedding.weight.data, p=2, dim=-1)
        self.register_buffer("codebook_used", torch.zeros(65536))

    def forward(self, z):
        z = F.normalize(z.permute(0, 2, 3, 1), p=2, dim=-1)  # b h w c
        flat = z.reshape(-1, z.shape[-1])
        codes = F.normalize(self.embedding.weight, p=2, dim=-1)
        d = flat.pow(2).sum(1, keepdim=True) + codes.pow(2).sum(1) - 2 * flat @ codes.t()
        ids = d.argmin(1)
        zq = codes[ids].view(z.shape).permute(0, 3, 1, 2)
        return zq, ids.view(z.shape[:3])


class LlamaGenVQ(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, codebook_size=16384, embed_dim=8):
        super().__init__()
        self.encoder = LlamaGenEncoder(ch, ch_mult, num_res_blocks, z_channels)
        self.decoder = LlamaGenDecoder(ch, ch_mult, num_res_blocks, z_channels)
        self.quantize = LlamaGenQuantizer(codebook_size, embed_dim)
        self.quant_conv = nn.Conv2d(z_channels, embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, z_channels, 1)

    def forward(self, x):
        zq, ids = self.quantize(self.quant_conv(self.encoder(x)))
        return ids, self.decoder(self.post_quant_conv(zq))


# ---- taming-transformers ---------------------------------------------------------

class TamingMid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1 = ResnetBlock(c, c, GROUPS)
        self.attn_1 = AttnBlock(c, GROUPS)
        self.block_2 = ResnetBlock(c, c, GROUPS)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class TamingEncoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, in_channels=3):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        block_in, res = ch, resolution
        for i, m in enumerate(ch_mult):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks):
                level.block.append(ResnetBlock(block_in, ch * m, GROUPS))
                block_in = ch * m
                if res in attn_resolutions:
                    level.attn.append(AttnBlock(block_in, GROUPS))
            if i != len(ch_mult) - 1:
                level.downsample = Downsample(block_in)
                res //= 2
            self.down.append(level)
        self.mid = TamingMid(block_in)
        self.norm_out = Normalize(block_in, GROUPS)
        self.conv_out = nn.Conv2d(block_in, z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.down:
            for j, block in enumerate(level.block):
                h = block(h)
                if len(level.attn) > 0:
                    h = level.attn[j](h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        return self.conv_out(F.silu(self.norm_out(self.mid(h))))


class TamingDecoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, out_ch=3):
        super().__init__()
        block_in = ch * ch_mult[-1]
        res = resolution // 2 ** (len(ch_mult) - 1)
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, padding=1)
        self.mid = TamingMid(block_in)
        self.up = nn.ModuleList()
        for i in reversed(range(len(ch_mult))):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                level.block.append(ResnetBlock(block_in, ch * ch_mult[i], GROUPS))
                block_in = ch * ch_mult[i]
                if res in attn_resolutions:
                    level.attn.append(AttnBlock(block_in, GROUPS))
            if i != 0:
                level.upsample = Upsample(block_in)
                res *= 2
            self.up.insert(0, level)  # up.i is level i
        self.norm_out = Normalize(block_in, GROUPS)
        self.conv_out = nn.Conv2d(block_in, out_ch, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            for j, block in enumerate(level.block):
                h = block(h)
                if len(level.attn) > 0:
                    h = level.attn[j](h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class TamingQuantizer(nn.Module):
    """VectorQuantizer2: nearest code by Euclidean distance, raw vectors."""

    def __init__(self, n_e, e_dim):
        super().__init__()
        self.embedding = nn.Embedding(n_e, e_dim)

    def forward(self, z):
        z = z.permute(0, 2, 3, 1)
        flat = z.reshape(-1, z.shape[-1])
        w = self.embedding.weight
        d = flat.pow(2).sum(1, keepdim=True) + w.pow(2).sum(1) - 2 * torch.einsum("bd,dn->bn", flat, w.t())
        ids = d.argmin(1)
        zq = self.embedding(ids).view(z.shape).permute(0, 3, 1, 2)
        return zq, ids.view(z.shape[:3])


class TamingLoss(nn.Module):
    """Stands in for VQLPIPSWithDiscriminator: training-only weights under `loss.`."""

    def __init__(self):
        super().__init__()
        self.discriminator = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1))
        self.perceptual_loss = nn.Module()
        self.perceptual_loss.lin0 = nn.Conv2d(8, 1, 1, bias=False)


class TamingVQ(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, n_embed, embed_dim):
        super().__init__()
        dd = (ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels)
        self.encoder = TamingEncoder(*dd)
        self.decoder = TamingDecoder(*dd)
        self.loss = TamingLoss()
        self.quantize = TamingQuantizer(n_embed, embed_dim)
        self.quant_conv = nn.Conv2d(z_channels, embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, z_channels, 1)

    def forward(self, x):
        zq, ids = self.quantize(self.quant_conv(self.encoder(x)))
        return ids, self.decoder(self.post_quant_conv(zq))


# ---- the files ------------------------------------------------------------------

def jitter_norms(model):
    """GroupNorm starts at weight 1, bias 0; random affine parameters test that they are read."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.GroupNorm):
                m.weight.normal_(1.0, 0.1)
                m.bias.normal_(0.0, 0.1)


def main(out):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    twins = {
        # tiny widths (ch 32, one residual block, 16 latent channels); the released level structure and codebooks
        "llamagen-vq16": (LlamaGenVQ(32, [1, 1, 2, 2, 4], 1, 16), lambda sd: {"model": sd}, "pt"),
        "llamagen-vq8": (LlamaGenVQ(32, [1, 2, 2, 4], 1, 16), lambda sd: {"model": sd}, "pt"),
        # attn_resolutions [2] at resolution 32 is the last level, as [16] at 256 in the released f16 models
        "taming-f16-1024": (TamingVQ(32, [1, 1, 2, 2, 4], 1, [2], 32, 16, 1024, 256),
                            lambda sd: {"state_dict": sd, "global_step": 3, "epoch": 1}, "ckpt"),
    }
    for kind, (model, wrap, ext) in twins.items():
        jitter_norms(model)
        if isinstance(model, TamingVQ):
            with torch.no_grad():  # codes at the latents' scale, so the Euclidean lookup uses many of them
                model.quantize.embedding.weight.normal_(0.0, 0.3)
        model.eval()
        with torch.no_grad():
            ids, image = model(x)
        torch.save(wrap(model.state_dict()), os.path.join(out, f"{kind}.{ext}"))
        torch.save({"input": x, "ids": ids, "image": image}, os.path.join(out, f"{kind}.expected.pt"))


if __name__ == "__main__":
    main(sys.argv[1])
