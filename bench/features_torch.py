"""The PyTorch side of bench/metrics' feature-network throughput
(bench/features.ts): robustok's `classifier` and `inception-fid` networks as
PyTorch modules, driven line by line from the Node benchmark so both sides
run interleaved on the same threads, with the same weights, on the same images.

    features_torch.py THREADS DIR

DIR/init.pt (written by bench/features.ts with savePt) holds the classifier's
options as JSON, its state dict (random weights drawn by robustok) and the
input batches, already at each network's input size. At start this script
draws random FID-Inception weights with test/inception_ref.py's `randomise`
(activations stay O(1) through the depth, so neither side meets denormals or
overflow) and writes them to DIR/inception.pth for robustok to load; then it
answers "ready VERSION". Commands on stdin, one answer line each on stdout:
  warmup NAME   one pass of network NAME (classifier, inception) that also
                writes its features to DIR/NAME_features.pt, so robustok can
                check that both sides compute the same thing; answers seconds
  time NAME     one pass, answers seconds
  quit
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from inception_ref import FidInception, randomise  # noqa: E402


class Classifier(nn.Module):
    """robustok's DatasetClassifier (src/features/classifier.ts) with its state-dict names:
    per stage conv3x3 (no bias) -> BatchNorm -> ReLU -> 2x2 max-pool in one Sequential,
    then `embed` (ReLU'd: the features) and `head` (the logits)."""

    def __init__(self, channels, size, widths, feature_size, num_classes):
        super().__init__()
        layers = []
        cin = channels
        for width in widths:
            layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
            cin = width
        self.stages = nn.Sequential(*layers)
        side = size >> len(widths)
        self.embed = nn.Linear(widths[-1] * side * side, feature_size)
        self.head = nn.Linear(feature_size, num_classes)

    def features(self, x):
        """[B, C, S, S] -> [B, feature_size]"""
        return F.relu(self.embed(self.stages(x).flatten(1)))


def build(threads, out_dir):
    torch.set_num_threads(threads)
    init = torch.load(os.path.join(out_dir, "init.pt"))
    o = json.loads(init["classifier_options"])
    classifier = Classifier(o["channels"], o["size"], o["widths"], o["featureSize"], o["numClasses"])
    classifier.load_state_dict(init["classifier"], strict=True)
    inception = FidInception()
    randomise(inception, seed=0)  # leaves it in eval mode
    # As the real FID files are stored (and test/inception_ref.py writes them): without num_batches_tracked.
    state = {k: v for k, v in inception.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, os.path.join(out_dir, "inception.pth"))
    forwards = {"classifier": classifier.eval().features, "inception": inception.pool_features}
    return forwards, init["inputs"]


def main():
    threads, out_dir = int(sys.argv[1]), sys.argv[2]
    forwards, inputs = build(threads, out_dir)
    print(f"ready {torch.__version__}", flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        if len(command) != 2 or command[0] not in ("warmup", "time") or command[1] not in forwards:
            print(f"error: unknown command {line.strip()!r}", flush=True)
            continue
        name = command[1]
        with torch.no_grad():
            start = time.perf_counter()
            features = forwards[name](inputs[name])
            seconds = time.perf_counter() - start
        if command[0] == "warmup":
            torch.save(features, os.path.join(out_dir, f"{name}_features.pt"))
        print(seconds, flush=True)


main()
