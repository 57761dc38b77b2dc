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
The blocks, levels, Encoder and Decoder are tokenizer_ref.py's (taming's, as
in both upstreams; LlamaGen's under its own names), with GroupNorm(32) as
upstream, and both share one VQModel. Widths are a test's choice (tiny), the level
structure and codebooks are the released models'.

usage: published_ref.py OUTDIR   writes KIND.pt / KIND.ckpt and KIND.expected.pt
(input images in [-1, 1], code ids [B, h, w], decoded images) for each twin."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from tokenizer_ref import AttnBlock, Decoder, Encoder, Layout, ResnetBlock

GROUPS = 32


class VQModel(nn.Module):
    """Both upstreams' VQModel: encoder -> quant_conv -> quantize -> post_quant_conv -> decoder, returning the
    code ids [B, h, w] and the decoded image. The parts come built, in the order each upstream builds them."""

    def __init__(self, z_channels, embed_dim, encoder, decoder, quantize, loss=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        if loss is not None:  # taming's training-only module, registered before the quantizer as there
            self.loss = loss
        self.quantize = quantize
        self.quant_conv = nn.Conv2d(z_channels, embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, z_channels, 1)

    def forward(self, x):
        zq, ids = self.quantize(self.quant_conv(self.encoder(x)))
        return ids, self.decoder(self.post_quant_conv(zq))


def nearest_codes(z, codes):
    """z [B, h, w, D], codes [K, D] -> (the nearest codes by Euclidean distance as [B, D, h, w], their ids [B, h, w]).
    Both quantizers expand |z - e|^2 as |z|^2 + |e|^2 - 2 z.e, as upstream."""
    flat = z.reshape(-1, z.shape[-1])
    ids = (flat.pow(2).sum(1, keepdim=True) + codes.pow(2).sum(1) - 2 * flat @ codes.t()).argmin(1)
    return codes[ids].view(z.shape).permute(0, 3, 1, 2), ids.view(z.shape[:3])


# ---- LlamaGen ---------------------------------------------------------------------

class LlamaGenLayout(Layout):
    """vq_model.py's names: `conv_blocks.i.res.j`, and the middle as a list `mid.0`, `mid.1`, `mid.2`."""
    levels_name, blocks_name = "conv_blocks", "res"

    def middle(self, c, groups, attention):
        return nn.Sequential(ResnetBlock(c, c, groups), AttnBlock(c, groups), ResnetBlock(c, c, groups))


class LlamaGenEncoder(LlamaGenLayout, Encoder):
    """Attention after every residual block of the lowest level only."""

    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, in_channels=3):
        super().__init__(in_channels, z_channels, ch, ch_mult, num_res_blocks, groups=GROUPS, attn_levels=[len(ch_mult) - 1])


class LlamaGenDecoder(LlamaGenLayout, Decoder):
    """As the encoder; conv_blocks.0 is the lowest resolution."""
    lowest_first = True

    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, out_channels=3):
        super().__init__(out_channels, z_channels, ch, ch_mult, num_res_blocks, groups=GROUPS, attn_levels=[len(ch_mult) - 1])


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
        codes = F.normalize(self.embedding.weight, p=2, dim=-1)
        return nearest_codes(z, codes)


class LlamaGenVQ(VQModel):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, codebook_size=16384, embed_dim=8):
        dd = (ch, ch_mult, num_res_blocks, z_channels)
        super().__init__(z_channels, embed_dim, LlamaGenEncoder(*dd), LlamaGenDecoder(*dd), LlamaGenQuantizer(codebook_size, embed_dim))


# ---- taming-transformers ---------------------------------------------------------
# Its Encoder and Decoder are tokenizer_ref.py's, with attention in the middle and at attn_resolutions.

class TamingQuantizer(nn.Module):
    """VectorQuantizer2: nearest code by Euclidean distance, raw vectors."""

    def __init__(self, n_e, e_dim):
        super().__init__()
        self.embedding = nn.Embedding(n_e, e_dim)

    def forward(self, z):
        return nearest_codes(z.permute(0, 2, 3, 1), self.embedding.weight)


class TamingLoss(nn.Module):
    """Stands in for VQLPIPSWithDiscriminator: training-only weights under `loss.`."""

    def __init__(self):
        super().__init__()
        self.discriminator = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1))
        self.perceptual_loss = nn.Module()
        self.perceptual_loss.lin0 = nn.Conv2d(8, 1, 1, bias=False)


class TamingVQ(VQModel):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, n_embed, embed_dim):
        attn_levels = [i for i in range(len(ch_mult)) if resolution // 2 ** i in attn_resolutions]  # level i is at resolution / 2^i
        dd = (3, z_channels, ch, ch_mult, num_res_blocks, True, GROUPS, attn_levels)
        # Python evaluates the arguments in order: encoder, decoder, loss, quantizer, as taming builds them
        super().__init__(z_channels, embed_dim, Encoder(*dd), Decoder(*dd), loss=TamingLoss(), quantize=TamingQuantizer(n_embed, embed_dim))


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
