"""PyTorch timings for `make bench`'s detector rows (DetectorBench.swift runs this in the same run):
median ms of the forward of random YOLOX / RTMDet models (detectors_ref.py) at the same sizes and
thread count.

    python3 Tools/reference/bench_detectors_torch.py --threads 2 --runs 3
prints one JSON object {"threads": n, "torch": version, "rows": {name: median_ms}}.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors_ref as R  # noqa: E402

MODELS = {
    'yolox_nano_416': (lambda: R.YOLOX(0.33, 0.25, 80, depthwise=True), 416),
    'yolox_s_640': (lambda: R.YOLOX(0.33, 0.5, 80), 640),
    'rtmdet_tiny_640': (lambda: R.RTMDet(0.167, 0.375, 1, classes=80), 640),
    'rtmdet_m_640': (lambda: R.RTMDet(0.67, 0.75, 2, classes=80), 640),
}


def median_ms(fn, runs):
    fn()  # warm-up (allocator, oneDNN primitive cache)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--runs', type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = {}
    with torch.no_grad():
        for name, (make, side) in MODELS.items():
            x = torch.randn(1, 3, side, side)
            model = R.randomize(make(), 1, x)
            rows[name] = median_ms(lambda: model(x), args.runs)
    print(json.dumps({'threads': args.threads, 'torch': torch.__version__, 'rows': rows}))


if __name__ == '__main__':
    main()
