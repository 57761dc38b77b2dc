"""PyTorch twin of robustok's inception-fid (src/features/inception_fid.ts),
written from the architecture: InceptionV3 (Szegedy et al., CVPR 2016) in
torchvision's state-dict layout with the pooling of the 2015 TF graph that
pytorch-fid and torch-fidelity port (average pools that skip padded pixels,
a max pool in Mixed_7c's pool branch), 1008 classes, no auxiliary head.

`python3 inception_ref.py DIR` writes into DIR:
  weights.pth  a random state dict in that layout (torch.save, zip format),
               without num_batches_tracked, as the real FID files are;
  ref.pt       test images and this model's features and logits for them,
               preprocessed as pytorch-fid does (float32), and the same
               network in float64 on a 139×139 network input, for a check
               of the architecture below float32's rounding noise.
Used by test/features_inception.test.ts.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Unit(nn.Module):
    """conv without bias, BatchNorm with TF's eps 0.001, ReLU (torchvision's BasicConv2d)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


def one_by(cin, cout, n):
    return Unit(cin, cout, (1, n), padding=(0, n // 2))


def by_one(cin, cout, n):
    return Unit(cin, cout, (n, 1), padding=(n // 2, 0))


def tf_avg(x):
    # TF divides by the number of real pixels under the window.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = Unit(cin, 64, 1)
        self.branch5x5_1 = Unit(cin, 48, 1)
        self.branch5x5_2 = Unit(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = Unit(cin, 64, 1)
        self.branch3x3dbl_2 = Unit(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Unit(96, 96, 3, padding=1)
        self.branch_pool = Unit(cin, pool_features, 1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(tf_avg(x))
        return torch.cat([a, b, c, d], dim=1)


class BlockB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = Unit(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = Unit(cin, 64, 1)
        self.branch3x3dbl_2 = Unit(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Unit(96, 96, 3, stride=2)

    def forward(self, x):
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], dim=1)


class BlockC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = Unit(cin, 192, 1)
        self.branch7x7_1 = Unit(cin, c7, 1)
        self.branch7x7_2 = one_by(c7, c7, 7)
        self.branch7x7_3 = by_one(c7, 192, 7)
        self.branch7x7dbl_1 = Unit(cin, c7, 1)
        self.branch7x7dbl_2 = by_one(c7, c7, 7)
        self.branch7x7dbl_3 = one_by(c7, c7, 7)
        self.branch7x7dbl_4 = by_one(c7, c7, 7)
        self.branch7x7dbl_5 = one_by(c7, 192, 7)
        self.branch_pool = Unit(cin, 192, 1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = x
        for name in ['branch7x7dbl_1', 'branch7x7dbl_2', 'branch7x7dbl_3', 'branch7x7dbl_4', 'branch7x7dbl_5']:
            c = getattr(self, name)(c)
        d = self.branch_pool(tf_avg(x))
        return torch.cat([a, b, c, d], dim=1)


class BlockD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = Unit(cin, 192, 1)
        self.branch3x3_2 = Unit(192, 320, 3, stride=2)
        self.branch7x7x3_1 = Unit(cin, 192, 1)
        self.branch7x7x3_2 = one_by(192, 192, 7)
        self.branch7x7x3_3 = by_one(192, 192, 7)
        self.branch7x7x3_4 = Unit(192, 192, 3, stride=2)

    def forward(self, x):
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], dim=1)


class BlockE(nn.Module):
    def __init__(self, cin, last):
        super().__init__()
        self.last = last
        self.branch1x1 = Unit(cin, 320, 1)
        self.branch3x3_1 = Unit(cin, 384, 1)
        self.branch3x3_2a = one_by(384, 384, 3)
        self.branch3x3_2b = by_one(384, 384, 3)
        self.branch3x3dbl_1 = Unit(cin, 448, 1)
        self.branch3x3dbl_2 = Unit(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = one_by(384, 384, 3)
        self.branch3x3dbl_3b = by_one(384, 384, 3)
        self.branch_pool = Unit(cin, 192, 1)

    def forward(self, x):
        t = self.branch3x3_1(x)
        u = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        # The TF graph's last block max-pools here (Mixed_7c); Mixed_7b averages.
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.last else tf_avg(x)
        parts = [self.branch1x1(x), self.branch3x3_2a(t), self.branch3x3_2b(t),
                 self.branch3x3dbl_3a(u), self.branch3x3dbl_3b(u), self.branch_pool(pooled)]
        return torch.cat(parts, dim=1)


class FidInception(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = Unit(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = Unit(32, 32, 3)
        self.Conv2d_2b_3x3 = Unit(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = Unit(64, 80, 1)
        self.Conv2d_4a_3x3 = Unit(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, last=False)
        self.Mixed_7c = BlockE(2048, last=True)
        self.fc = nn.Linear(2048, 1008)

    def pool_features(self, x):
        """[B, 3, 299, 299] in [-1, 1] -> [B, 2048]"""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ['Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e',
                     'Mixed_7a', 'Mixed_7b', 'Mixed_7c']:
            x = getattr(self, name)(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


def preprocess(images):
    """robustok images [B, 1|3, H, W] in [-1, 1] -> network input, the pytorch-fid way:
    grey repeated to RGB, then [0, 1] resized to 299 bilinearly and mapped to 2x - 1."""
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    unit = (images + 1) / 2
    unit = F.interpolate(unit, size=(299, 299), mode='bilinear', align_corners=False)
    return 2 * unit - 1


def randomise(model, seed):
    """Random weights that keep activations O(1) through all 94 conv + BN layers.

    Random conv weights alone let the activation scale drift by a constant
    factor per layer, which compounds over the depth into overflow or
    underflow. Instead each BatchNorm's running statistics are set to the
    statistics its input actually has on a calibration batch (data-dependent
    initialisation, as LSUV, Mishkin & Matas 2016): one training-mode forward
    with momentum 1 copies the batch statistics into running_mean/var, so in
    eval mode every BN output is standardised before its (random) affine
    weights, whatever the depth. The calibration images are drawn like the
    test images (small random images upsampled to 299, whose statistics differ
    a lot from 299×299 noise) but are not them, so the test inputs are nothing
    special to the network.
    """
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            m.momentum = 1.0
    # PyTorch's default fc bias (±1/√2048) would hide a dropped bias in the logits.
    nn.init.uniform_(model.fc.bias, -1, 1)
    calibration = torch.cat([preprocess(torch.rand(1, 1, 64, 64) * 2 - 1), preprocess(torch.rand(1, 3, 50, 70) * 2 - 1)])
    model.train()
    with torch.no_grad():
        model.pool_features(calibration)
    model.eval()


def main(out_dir):
    model = FidInception()
    randomise(model, seed=0)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    torch.save(state, f'{out_dir}/weights.pth')

    torch.manual_seed(1)
    grey = torch.rand(2, 1, 64, 64) * 2 - 1
    rgb = torch.rand(2, 3, 50, 70) * 2 - 1
    ref = {'grey': grey, 'rgb': rgb}
    with torch.no_grad():
        for name, images in [('grey', grey), ('rgb', rgb)]:
            features = model.pool_features(preprocess(images))
            ref[f'{name}_features'] = features
            ref[f'{name}_logits'] = model.fc(features)
            ref[f'{name}_logits_unbiased'] = features @ model.fc.weight.t()
        # 139×139 is the smallest size whose last blocks still see a 3×3 grid,
        # so padding at every pool stays in play, at a fifth of 299's cost;
        # upsampled like the calibration images, so activations stay O(1).
        model.double()
        small = torch.rand(1, 3, 32, 32, dtype=torch.float64) * 2 - 1
        ref['f64_input'] = F.interpolate(small, size=(139, 139), mode='bilinear', align_corners=False)
        ref['f64_features'] = model.pool_features(ref['f64_input'])
        ref['f64_logits'] = model.fc(ref['f64_features'])
    torch.save(ref, f'{out_dir}/ref.pt')


if __name__ == '__main__':
    main(sys.argv[1])
