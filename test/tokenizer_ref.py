"""PyTorch twins of robustok's tokenizer architectures (src/tokenizer/cnn.ts
and vit.ts) with the same parameter names, for test/tokenizer_arch.test.ts.
The CNN follows taming-transformers' Encoder/Decoder (Esser et al., 2021);
the ViT follows TiTok's latent-token layout with an MAE-style decoder.
Imported by oracle.py cases through `setup`."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from modules_ref import Block


def Normalize(c, groups):
    return nn.GroupNorm(min(groups, c), c, eps=1e-6)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = Normalize(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = Normalize(cout, groups)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)
        self.changes = cin != cout

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.nin_shortcut(x) if self.changes else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = Normalize(c, groups)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)  # b, hw, c
        k = k.reshape(b, c, hh * ww)  # b, c, hw
        w = torch.softmax(torch.bmm(q, k) * c ** -0.5, dim=2)  # b, hw(q), hw(k)
        h = torch.bmm(v.reshape(b, c, hh * ww), w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Mid(nn.Module):
    def __init__(self, c, groups, attention):
        super().__init__()
        self.block_1 = ResnetBlock(c, c, groups)
        if attention:
            self.attn_1 = AttnBlock(c, groups)
        self.attention = attention
        self.block_2 = ResnetBlock(c, c, groups)

    def forward(self, x):
        h = self.block_1(x)
        if self.attention:
            h = self.attn_1(h)
        return self.block_2(h)


class Encoder(nn.Module):
    def __init__(self, image_channels, z_channels, ch, ch_mult, num_res_blocks, attention=False, groups=32):
        super().__init__()
        self.conv_in = nn.Conv2d(image_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        block_in = ch
        for i, m in enumerate(ch_mult):
            level = nn.Module()
            level.block = nn.ModuleList()
            block_out = ch * m
            for _ in range(num_res_blocks):
                level.block.append(ResnetBlock(block_in, block_out, groups))
                block_in = block_out
            if i != len(ch_mult) - 1:
                level.downsample = Downsample(block_in)
            self.down.append(level)
        self.mid = Mid(block_in, groups, attention)
        self.norm_out = Normalize(block_in, groups)
        self.conv_out = nn.Conv2d(block_in, z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for i, level in enumerate(self.down):
            for block in level.block:
                h = block(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        h = self.mid(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, image_channels, z_channels, ch, ch_mult, num_res_blocks, attention=False, groups=32):
        super().__init__()
        block_in = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, padding=1)
        self.mid = Mid(block_in, groups, attention)
        self.up = nn.ModuleList()
        for i in reversed(range(len(ch_mult))):
            level = nn.Module()
            level.block = nn.ModuleList()
            block_out = ch * ch_mult[i]
            for _ in range(num_res_blocks + 1):
                level.block.append(ResnetBlock(block_in, block_out, groups))
                block_in = block_out
            if i != 0:
                level.upsample = Upsample(block_in)
            self.up.insert(0, level)
        self.norm_out = Normalize(block_in, groups)
        self.conv_out = nn.Conv2d(block_in, image_channels, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for i in reversed(range(len(self.up))):
            for block in self.up[i].block:
                h = block(h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VitEncoder(nn.Module):
    def __init__(self, image_size, patch_size, image_channels, width, depth, heads, num_latent_tokens, code_dim, mlp_ratio=4.0):
        super().__init__()
        self.patches = (image_size // patch_size) ** 2
        self.blocks = nn.ModuleList([Block(width, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.patch_embed = nn.Conv2d(image_channels, width, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patches, width))
        self.latent_tokens = nn.Parameter(torch.zeros(1, num_latent_tokens, width))
        self.head = nn.Linear(width, code_dim)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed
        x = torch.cat([x, self.latent_tokens.expand(x.shape[0], -1, -1)], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, self.patches:])


class VitDecoder(nn.Module):
    def __init__(self, image_size, patch_size, image_channels, width, depth, heads, num_latent_tokens, code_dim, mlp_ratio=4.0):
        super().__init__()
        self.p, self.c, self.g = patch_size, image_channels, image_size // patch_size
        self.patches = self.g ** 2
        self.blocks = nn.ModuleList([Block(width, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.decoder_embed = nn.Linear(code_dim, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patches, width))
        self.latent_pos_embed = nn.Parameter(torch.zeros(1, num_latent_tokens, width))
        self.head = nn.Linear(width, patch_size * patch_size * image_channels)

    def forward(self, tokens):
        b = tokens.shape[0]
        masks = (self.mask_token + self.pos_embed).expand(b, -1, -1)
        x = torch.cat([masks, self.decoder_embed(tokens) + self.latent_pos_embed], dim=1)
        for block in self.blocks:
            x = block(x)
        x = self.head(self.norm(x)[:, :self.patches])
        # MAE's unpatchify
        x = x.reshape(b, self.g, self.g, self.p, self.p, self.c)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(b, self.c, self.g * self.p, self.g * self.p)
