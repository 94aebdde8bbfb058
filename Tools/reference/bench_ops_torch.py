#!/usr/bin/env python3
"""PyTorch side of the engine op bench: the same layers as Sources/Bench/EngineBench.swift.
Prints one JSON object {name: median milliseconds}. Usage: bench_ops_torch.py [threads] [repeats]"""
import json
import sys
import time
import torch
import torch.nn.functional as F
from torchvision.ops import deform_conv2d


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e3


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}
    with torch.inference_mode():
        def conv(name, cin, cout, h, w, dil=1, n=1):
            x = torch.randn(n, cin, h, w)
            wt = torch.randn(cout, cin, 3, 3) * 0.05
            out[name] = median_ms(lambda: F.conv2d(x, wt, None, 1, dil, dil), repeats)
        conv("conv3x3_128_96x72", 128, 128, 96, 72)
        conv("conv3x3_128_96x72_n5", 128, 128, 96, 72, n=5)
        conv("conv3x3_48_96x72", 48, 48, 96, 72)
        conv("conv3x3_384_12x9", 384, 384, 12, 9)
        conv("conv3x3_128_306_d12_96x72", 128, 306, 96, 72, dil=12)
        x = torch.randn(1, 17, 96, 72)
        off = torch.randn(1, 306, 96, 72) * 3
        wt = torch.randn(17, 17, 3, 3) * 0.1
        out["deform_17_dg17_d12_96x72"] = median_ms(lambda: deform_conv2d(x, off, wt, None, 1, 12, 12), repeats)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
