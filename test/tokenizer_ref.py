"""PyTorch twins of robustok's tokenizer architectures (src/architectures/cnn.ts
and vit.ts) with the same parameter names, for test/tokenizer_arch.test.ts.
The CNN follows taming-transformers' Encoder/Decoder (Esser et al., 2021);
published_ref.py renames its containers for LlamaGen's layout;
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


class Level(nn.Module):
    """One resolution level (vqgan_blocks.ts's Level): residual blocks under `blocks_name` (taming's `block`,
    LlamaGen's `res`), each followed by self-attention `attn.j` where the level has it, then an optional
    resampling (`downsample` / `upsample`), given as (name, class)."""

    def __init__(self, blocks_name, cin, cout, n_blocks, groups, attention, resample):
        super().__init__()
        self.blocks_name = blocks_name
        setattr(self, blocks_name, nn.ModuleList())
        self.attn = nn.ModuleList()
        for j in range(n_blocks):
            getattr(self, blocks_name).append(ResnetBlock(cin if j == 0 else cout, cout, groups))
            if attention:
                self.attn.append(AttnBlock(cout, groups))
        self.resample_name = resample[0] if resample else None
        if resample:
            setattr(self, resample[0], resample[1](cout))

    def forward(self, h):
        for j, block in enumerate(getattr(self, self.blocks_name)):
            h = block(h)
            if len(self.attn) > 0:
                h = self.attn[j](h)
        return getattr(self, self.resample_name)(h) if self.resample_name else h


class Layout:
    """The names of the Encoder's and Decoder's parts (cnn.ts's CnnLayout): taming's here, the level lists
    `down` / `up` (set on the classes), blocks `block` and a Mid; published_ref.py's LlamaGen twins override them."""
    levels_name, blocks_name = "down", "block"

    @property
    def levels(self):
        return getattr(self, self.levels_name)

    def middle(self, c, groups, attention):
        return Mid(c, groups, attention)


class Encoder(Layout, nn.Module):
    """conv_in -> levels (attention at `attn_levels`, 0 = full resolution) -> mid -> norm_out + SiLU -> conv_out."""

    def __init__(self, image_channels, z_channels, ch, ch_mult, num_res_blocks, attention=False, groups=32, attn_levels=()):
        super().__init__()
        self.conv_in = nn.Conv2d(image_channels, ch, 3, padding=1)
        levels, block_in = nn.ModuleList(), ch
        setattr(self, self.levels_name, levels)
        for i, m in enumerate(ch_mult):
            resample = ("downsample", Downsample) if i != len(ch_mult) - 1 else None
            levels.append(Level(self.blocks_name, block_in, ch * m, num_res_blocks, groups, i in attn_levels, resample))
            block_in = ch * m
        self.mid = self.middle(block_in, groups, attention)
        self.norm_out = Normalize(block_in, groups)
        self.conv_out = nn.Conv2d(block_in, z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.levels:
            h = level(h)
        return self.conv_out(F.silu(self.norm_out(self.mid(h))))


class Decoder(Layout, nn.Module):
    """conv_in -> mid -> levels from the lowest resolution up (taming lists them by level: `up.i` is level i)
    -> norm_out + SiLU -> conv_out."""
    levels_name = "up"
    lowest_first = False  # LlamaGen lists them in the order they run

    def __init__(self, image_channels, z_channels, ch, ch_mult, num_res_blocks, attention=False, groups=32, attn_levels=()):
        super().__init__()
        block_in = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, padding=1)
        self.mid = self.middle(block_in, groups, attention)
        levels = nn.ModuleList()
        setattr(self, self.levels_name, levels)
        for i in reversed(range(len(ch_mult))):
            resample = ("upsample", Upsample) if i != 0 else None
            level = Level(self.blocks_name, block_in, ch * ch_mult[i], num_res_blocks + 1, groups, i in attn_levels, resample)
            if self.lowest_first:
                levels.append(level)
            else:
                levels.insert(0, level)
            block_in = ch * ch_mult[i]
        self.norm_out = Normalize(block_in, groups)
        self.conv_out = nn.Conv2d(block_in, image_channels, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for level in (self.levels if self.lowest_first else reversed(self.levels)):
            h = level(h)
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
