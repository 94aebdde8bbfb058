#!/usr/bin/env python3
"""Keypoint deviation between two `posewarper run --keypoints` streams of the same input and the same
person boxes (e.g. --precision fp32 vs bf16): persons are paired by frame and position in the frame
(the detector and tracker are the same, so boxes match; a box mismatch is reported and skipped).
Prints mean, median, 95th percentile and max pixel distance, and the largest score change."""
import json
import math
import sys


def frames(path):
    out = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if "frame" in rec:
                out[rec["frame"]] = rec["persons"]
    return out


def main(a_path, b_path):
    a, b = frames(a_path), frames(b_path)
    if a.keys() != b.keys():
        sys.exit(f"{a_path} and {b_path} hold different frames")
    dists, score_diffs, skipped = [], [], 0
    for frame in sorted(a):
        pa, pb = a[frame], b[frame]
        if len(pa) != len(pb):
            skipped += 1
            continue
        for p, q in zip(pa, pb):
            if p["bbox"] != q["bbox"]:
                skipped += 1
                continue
            for (x0, y0, s0), (x1, y1, s1) in zip(p["keypoints"], q["keypoints"]):
                dists.append(math.hypot(x1 - x0, y1 - y0))
                score_diffs.append(abs(s1 - s0))
    if not dists:
        sys.exit("no persons to compare")
    dists.sort()
    n = len(dists)
    print(f"keypoints compared: {n} ({n // 17 if n % 17 == 0 else '?'} persons); skipped frames/persons: {skipped}")
    print(f"distance px: mean {sum(dists) / n:.4f}, median {dists[n // 2]:.4f}, p95 {dists[int(0.95 * (n - 1))]:.4f}, "
          f"max {dists[-1]:.4f}; identical {sum(d == 0 for d in dists) / n:.1%}")
    print(f"score change: mean {sum(score_diffs) / n:.5f}, max {max(score_diffs):.5f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compare_keypoints.py A.jsonl B.jsonl")
    main(sys.argv[1], sys.argv[2])
