# Reference values for test/parity_metrics and bench/metrics, from NumPy and
# SciPy (Debian's python3-numpy / python3-scipy). Reads one JSON request on
# stdin, writes one JSON answer on stdout.
#   {"task": "fid", "cases": [{"seed", "dim", "n1", "n2", "shift"}]}
#   {"task": "stats", "seed", "n", "dim", "offset"}
#   {"task": "ssim", "seed", "shape": [B, C, H, W], "noise", "data_range", "lo", "hi"}
#   {"task": "fid_files", "dim", "files": [mu1, sigma1, mu2, sigma2]}  (raw float64; timed)
import json
import sys
import time

import numpy as np
from scipy import linalg
from scipy.ndimage import gaussian_filter


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's fid_score.calculate_frechet_distance, verbatim in logic."""
    mu1 = np.atleast_1d(mu1)
    mu2 = np.atleast_1d(mu2)
    sigma1 = np.atleast_2d(sigma1)
    sigma2 = np.atleast_2d(sigma2)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component {}".format(np.max(np.abs(covmean.imag))))
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def features(rng, n, dim, shift):
    """Correlated features: a random mixing matrix, a random mean."""
    mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    return rng.standard_normal((n, dim)) @ mix + shift * rng.standard_normal(dim)


def fid_case(c):
    rng = np.random.default_rng(c["seed"])
    x1 = features(rng, c["n1"], c["dim"], c["shift"])
    x2 = features(rng, c["n2"], c["dim"], c["shift"])
    mu1, mu2 = x1.mean(0), x2.mean(0)
    s1, s2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    return {"mu1": mu1.tolist(), "sigma1": s1.ravel().tolist(), "mu2": mu2.tolist(), "sigma2": s2.ravel().tolist(),
            "rank1": int(np.linalg.matrix_rank(s1)), "rank2": int(np.linalg.matrix_rank(s2)),
            "fid": calculate_frechet_distance(mu1, s1, mu2, s2)}


def ssim_skimage(x, y, data_range, sigma=1.5, k1=0.01, k2=0.03):
    """skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=...) for one 2-d channel, following
    skimage 0.19-0.22's _structural_similarity.py line by line."""
    truncate = 3.5
    win_size = 2 * int(truncate * sigma + 0.5) + 1
    x = x.astype(np.float64)
    y = y.astype(np.float64)

    def filt(a):
        return gaussian_filter(a, sigma=sigma, truncate=truncate, mode="reflect")

    ux, uy = filt(x), filt(y)
    uxx, uyy, uxy = filt(x * x), filt(y * y), filt(x * y)
    cov_norm = 1.0  # use_sample_covariance=False
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    a1, a2, b1, b2 = 2 * ux * uy + c1, 2 * vxy + c2, ux ** 2 + uy ** 2 + c1, vx + vy + c2
    s = (a1 * a2) / (b1 * b2)
    pad = (win_size - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())


def main():
    req = json.load(sys.stdin)
    task = req["task"]
    if task == "fid":
        out = {"cases": [fid_case(c) for c in req["cases"]]}
    elif task == "stats":
        rng = np.random.default_rng(req["seed"])
        x = features(rng, req["n"], req["dim"], 1.0) + req["offset"]
        out = {"x": x.ravel().tolist(), "mu": x.mean(0).tolist(), "sigma": np.cov(x, rowvar=False).ravel().tolist()}
    elif task == "ssim":
        rng = np.random.default_rng(req["seed"])
        b, c, h, w = req["shape"]
        lo, hi = req["lo"], req["hi"]
        x = rng.uniform(lo, hi, (b, c, h, w))
        # Smooth structure plus noise, so SSIM is far from both 0 and 1.
        x = gaussian_filter(x, sigma=(0, 0, 2, 2))
        x = lo + (x - x.min()) / (x.max() - x.min()) * (hi - lo)
        y = np.clip(x + req["noise"] * (hi - lo) * rng.standard_normal(x.shape), lo, hi)
        per_image = [float(np.mean([ssim_skimage(x[i, j], y[i, j], req["data_range"]) for j in range(c)])) for i in range(b)]
        out = {"x": x.ravel().tolist(), "y": y.ravel().tolist(), "ssim": per_image}
    elif task == "fid_files":
        dim = req["dim"]
        mu1, s1, mu2, s2 = (np.fromfile(f, dtype=np.float64) for f in req["files"])
        s1, s2 = s1.reshape(dim, dim), s2.reshape(dim, dim)
        times = []
        for _ in range(req.get("repeats", 1)):
            start = time.perf_counter()
            fid = calculate_frechet_distance(mu1, s1, mu2, s2)
            times.append(time.perf_counter() - start)
        out = {"fid": fid, "seconds": times}
    else:
        raise ValueError(f"unknown task {task}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
