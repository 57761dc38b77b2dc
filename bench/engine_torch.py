"""The PyTorch side of bench/engine: the same tiny conv autoencoder and the
same per-op loop, driven line by line from the Node benchmark so both run
interleaved on the same threads. Commands on stdin: `step`, `adds N`, `quit`;
each answers one number (ms per step, µs per op) on stdout."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(3, 64, 3, padding=1)
        self.enc2 = nn.Conv2d(64, 128, 4, stride=2, padding=1)
        self.enc3 = nn.Conv2d(128, 128, 4, stride=2, padding=1)
        self.dec1 = nn.Conv2d(128, 128, 3, padding=1)
        self.dec2 = nn.Conv2d(128, 64, 3, padding=1)
        self.dec3 = nn.Conv2d(64, 3, 3, padding=1)

    def forward(self, x):
        z = self.enc3(F.relu(self.enc2(F.relu(self.enc1(x)))))
        y = F.relu(self.dec1(F.interpolate(z, scale_factor=2, mode="nearest")))
        y = F.relu(self.dec2(F.interpolate(y, scale_factor=2, mode="nearest")))
        return self.dec3(y)


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)
    model = Autoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(16, 3, 32, 32)
    a, b = torch.randn(4), torch.randn(4)
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "step":
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), x)
            loss.backward()
            optimizer.step()
            print((time.perf_counter() - start) * 1e3, flush=True)
        elif command[0] == "adds":
            n = int(command[1])
            start = time.perf_counter()
            for _ in range(n):
                c = a + b
            print((time.perf_counter() - start) * 1e6 / n, flush=True)
        else:
            break


main()
