#!/usr/bin/env python3
"""Writes a ~286 MB HRNet-W48-PoseWarper-sized checkpoint (2010 tensors: 333 conv+BN groups plus
heads; mmpose layout with meta) in zip and legacy formats, for timing `posewarper inspect` and
full loads. Not committed.   usage: make_large_checkpoint.py OUT_DIR
"""
import collections
import os
import sys

import torch


def main(out):
    torch.manual_seed(0)
    widths = [48, 96, 192, 384]
    sd = collections.OrderedDict()
    # 333 conv + BN groups whose widths cycle like HRNet branches; 3x3 convs dominate the bytes.
    for i in range(333):
        c = widths[i % 4]
        cin = widths[(i // 4) % 4]
        k = 3 if i % 2 else 1
        prefix = f"backbone.stage{2 + i % 3}.{i // 12}.branches.{i % 4}.{i % 6}"
        sd[f"{prefix}.conv.weight"] = torch.randn(c, cin, k, k) * 0.05
        sd[f"{prefix}.bn.weight"] = torch.rand(c) + 0.5
        sd[f"{prefix}.bn.bias"] = torch.randn(c) * 0.1
        sd[f"{prefix}.bn.running_mean"] = torch.randn(c) * 0.1
        sd[f"{prefix}.bn.running_var"] = torch.rand(c) + 0.5
        sd[f"{prefix}.bn.num_batches_tracked"] = torch.tensor(100000, dtype=torch.int64)
    sd["neck.trans_layer.weight"] = torch.randn(17, 48, 1, 1)
    sd["neck.trans_layer.bias"] = torch.randn(17)
    for j in range(5):
        sd[f"neck.offset_layers.{j}.weight"] = torch.randn(306, 128, 3, 3) * 0.01
        sd[f"neck.deform_conv_layers.{j}.weight"] = torch.randn(17, 1, 3, 3)
    # Pad to the real file's size with large 3x3 convs (the real backbone's 384-wide blocks).
    total = sum(t.numel() for t in sd.values())
    n = len(sd)
    assert n == 2010, n
    missing = max(0, 71_500_000 - total)  # ~286 MB of float32 in all
    big = [k for k in sd if k.endswith("conv.weight") and sd[k].shape[0] == 384 and sd[k].shape[2] == 3]
    per = missing // len(big) // (384 * 9)  # extra input channels per big conv
    for k in big:
        sd[k] = torch.randn(384, sd[k].shape[1] + per, 3, 3) * 0.05
    obj = {"meta": {"mmpose_version": "0.26.0", "epoch": 20, "config": "synthetic"}, "state_dict": sd}
    os.makedirs(out, exist_ok=True)
    torch.save(obj, os.path.join(out, "large_zip.pth"))
    torch.save(obj, os.path.join(out, "large_legacy.pth"), _use_new_zipfile_serialization=False)
    print(len(sd), "tensors,", sum(t.numel() for t in sd.values()), "elements")


if __name__ == "__main__":
    main(sys.argv[1])
