"""PyTorch timings for `make bench` (ModelsBench.swift runs this in the same run): median ms of the
same four forwards with the same thread count, on random models built from posewarper_ref.py.

    python3 Tools/reference/bench_models_torch.py --threads 2 --runs 3
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
import posewarper_ref as R  # noqa: E402


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
        x48 = torch.randn(5, 3, 384, 288)
        pw = R.randomize(R.PoseWarperModel(R.hrnet_config([48, 96, 192, 384])), 1, x48)
        one = x48[:1].contiguous()
        rows['hrnet_w48_384x288'] = median_ms(lambda: pw.backbone(one), args.runs)
        feats = [pw.backbone(x48[i:i + 1])[0] for i in range(5)]
        rows['posewarper_neck_5_frames'] = median_ms(lambda: pw.neck(feats, R.DEFAULT_FRAME_WEIGHTS), args.runs)
        rows['posewarper_full'] = median_ms(lambda: pw(x48), args.runs)
        x32 = torch.randn(1, 3, 256, 192)
        td = R.randomize(R.TopDownModel(R.hrnet_config([32, 64, 128, 256])), 2, x32)
        rows['hrnet_w32_256x192'] = median_ms(lambda: td(x32), max(args.runs, 5))
    print(json.dumps({'threads': args.threads, 'torch': torch.__version__, 'rows': rows}))


if __name__ == '__main__':
    main()
