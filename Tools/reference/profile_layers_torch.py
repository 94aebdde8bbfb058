"""PyTorch CPU time per convolution shape for `posewarper-bench layers` (LayersBench.swift runs this in
the same run): the HRNet-W48 384x288 backbone and the HRNet-W32 256x192 top-down model, random weights
from posewarper_ref.py, one crop each.

    python3 Tools/reference/profile_layers_torch.py --threads 1 --runs 3
prints one JSON object {"threads", "torch", "models": {name: {"total_ms", "conv": {key: {"calls", "ms"}},
"other_ms"}}} with keys shaped like posewarper's ("3×3/2 48→96 48×36"), times the median over runs of
process CPU time (all threads), so the numbers stay comparable on a busy machine.
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


def key(conv, out):
    kh, kw = conv.kernel_size
    dil = '' if conv.dilation[0] == 1 else f' d{conv.dilation[0]}'
    return f'{kh}×{kw}/{conv.stride[0]}{dil} {conv.in_channels}→{conv.out_channels} {out.shape[2]}×{out.shape[3]}'


def profile(model, x, runs):
    """Per conv shape: calls and median CPU ms per forward; total and the rest (BN, ReLU, adds, upsampling)."""
    per_run, totals = [], []
    current = {}

    def pre(module, inputs):
        module._t0 = time.process_time()

    def post(module, inputs, out):
        k = key(module, out)
        calls, sec = current.get(k, (0, 0.0))
        current[k] = (calls + 1, sec + time.process_time() - module._t0)

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    with torch.no_grad():
        model(x)   # warm-up (allocator, oneDNN primitive cache)
        for _ in range(runs):
            current = {}
            t0 = time.process_time()
            model(x)
            totals.append((time.process_time() - t0) * 1000)
            per_run.append(current)
    for h in hooks:
        h.remove()
    conv = {k: dict(calls=per_run[0][k][0], ms=statistics.median(r[k][1] * 1000 for r in per_run)) for k in per_run[0]}
    total = statistics.median(totals)
    return dict(total_ms=total, conv=conv, other_ms=total - sum(v['ms'] for v in conv.values()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--runs', type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    x48 = torch.randn(1, 3, 384, 288)
    pw = R.randomize(R.PoseWarperModel(R.hrnet_config([48, 96, 192, 384])), 1, torch.randn(5, 3, 384, 288))
    x32 = torch.randn(1, 3, 256, 192)
    td = R.randomize(R.TopDownModel(R.hrnet_config([32, 64, 128, 256])), 2, x32)
    models = {'hrnet_w48_384x288': profile(pw.backbone, x48, args.runs),
              'hrnet_w32_256x192': profile(td, x32, args.runs)}
    print(json.dumps({'threads': args.threads, 'torch': torch.__version__, 'models': models}))


if __name__ == '__main__':
    main()
