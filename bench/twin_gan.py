"""The GAN side of robustok's DecoderObjective (src/tokenizer/objective.ts) in
plain PyTorch, shared by the twins that train a decoder against it:
bench/tokenizer_torch.py (main training) and bench/posttrain_torch.py
(post-training). taming's PatchGAN (test/gan_ref.py) with its own AdamW,
DiffAugment, the hinge terms, VQGAN's adaptive weight and the LeCam
regulariser, in objective.ts's order: the decoder's term before the decoder's
update, the discriminator's step after it.

Imported by the twins after they put test/ on sys.path (gan_ref lives there).
"""
import torch

from gan_ref import AUGMENT_FNS, NLayerDiscriminator, rand_cutout


class Gan:
    def __init__(self, gan, channels, state, lecam=(0.0, 0.0)):
        """gan: the config's loss.gan; state: the discriminator's state dict (spectral-norm u, v
        included); lecam: LeCam's anchors (alpha_real, alpha_fake), 0 for a fresh discriminator."""
        self.config = gan
        self.discriminator = NLayerDiscriminator(channels, gan["baseChannels"], gan["layers"], gan["spectralNorm"])
        self.discriminator.load_state_dict(state, strict=True)
        self.optimizer = torch.optim.AdamW(self.discriminator.parameters(), lr=gan["lr"], betas=(0.9, 0.95), weight_decay=gan["weightDecay"])
        self.lecam_real, self.lecam_fake = lecam

    def augment(self, x):
        # DiffAugment_pytorch draws from the global generator; robustok from its trainer's
        # stream: the same distributions and amount of work.
        for family in self.config["diffaug"]:
            if family == "cutout":
                x = rand_cutout(x, self.config["cutoutRatio"])
            else:
                for f in AUGMENT_FNS[family]:
                    x = f(x)
        return x

    def adversarial(self, image, nll, last):
        """The decoder's hinge term -mean(D(aug(image))) and the weight it enters the loss with:
        gan.weight x VQGAN's adaptive weight |grad nll| / (|grad adv| + 1e-4) at the decoder's last
        weight `last`, clamped to [0, 1e4] and detached. Both graphs are kept for the backward
        that follows."""
        g_loss = -self.discriminator(self.augment(image)).mean()
        rec_grad = torch.autograd.grad(nll, last, retain_graph=True)[0]
        gan_grad = torch.autograd.grad(g_loss, last, retain_graph=True)[0]
        adaptive = (rec_grad.norm() / (gan_grad.norm() + 1e-4)).clamp(0, 1e4).detach() * self.config["weight"]
        return g_loss, adaptive

    def step(self, real, fake):
        """One discriminator step on real images and the decoder's output (detached here), after
        the decoder's update: hingeScale x hinge loss + lecamWeight x LeCam (its anchors moved by
        this batch's mean logits first), backward, AdamW. Returns the logged terms."""
        gan = self.config
        # set_to_none=True as robustok's zeroGrad: neither side spends time zeroing buffers.
        self.optimizer.zero_grad(set_to_none=True)
        real = self.discriminator(self.augment(real))
        fake = self.discriminator(self.augment(fake.detach()))
        with torch.no_grad():
            real_mean, fake_mean = real.mean().item(), fake.mean().item()
        decay = gan["lecamDecay"]
        self.lecam_real = decay * self.lecam_real + (1 - decay) * real_mean
        self.lecam_fake = decay * self.lecam_fake + (1 - decay) * fake_mean
        lecam = (real - self.lecam_fake).relu().square().mean() + (self.lecam_real - fake).relu().square().mean()
        d_loss = ((1 - real).relu().mean() + (1 + fake).relu().mean()) * gan["hingeScale"]
        (d_loss + lecam * gan["lecamWeight"]).backward()
        self.optimizer.step()
        return {"discriminator": d_loss.item(), "lecam": lecam.item()}

    def state(self):
        """The checkpoint's GAN parts: the discriminator, its optimizer and LeCam's anchors."""
        return {"discriminator": self.discriminator.state_dict(), "d_optimizer": self.optimizer.state_dict(), "lecam": (self.lecam_real, self.lecam_fake)}
