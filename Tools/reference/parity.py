"""`make parity`: full-size random checkpoints built with PyTorch, run through `posewarper forward`,
compared with PyTorch's own output (relative L2 and max-abs; bound 1e-4 on the final heatmaps).

Cases: HRNet-W48 PoseWarper 384x288 (mmpose stage-2 layout), HRNet-W32 top-down 256x192, and
widths no test has seen: HRNet-W18 top-down and an HRNet-W40 PoseWarper with a 64-channel,
10-block neck at 256x192. Everything is written to ./parity/ (gitignored).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import posewarper_ref as R  # noqa: E402

BOUND = 1e-4

CASES = [
    # name, family, widths, (H, W), persons, neck (inner, blocks)
    ('posewarper_w48_384x288', 'PoseWarper', [48, 96, 192, 384], (384, 288), 1, (128, 20)),
    ('topdown_w32_256x192', 'TopDown', [32, 64, 128, 256], (256, 192), 2, None),
    ('unseen_topdown_w18_256x192', 'TopDown', [18, 36, 72, 144], (256, 192), 1, None),
    ('unseen_posewarper_w40_256x192', 'PoseWarper', [40, 80, 160, 320], (256, 192), 1, (64, 10)),
]


def make_model(case, seed):
    """The case's random model (BN calibrated) and its input; the same for a given seed."""
    name, family, widths, (h, w), persons, neck = case
    extra = R.hrnet_config(widths)
    frames = 5 if family == 'PoseWarper' else 1
    g = torch.Generator().manual_seed(seed)
    calibration = torch.randn(frames * persons, 3, h, w, generator=g)
    x = torch.randn(frames * persons, 3, h, w, generator=g)
    if family == 'PoseWarper':
        model = R.PoseWarperModel(extra, inner=neck[0], blocks=neck[1])
    else:
        model = R.TopDownModel(extra)
    R.randomize(model, seed, calibration)
    return model, x


def build(case, out, seed):
    """Writes the case's checkpoint, input and PyTorch output; returns their paths, the forward's
    seconds, the output's std and the model and input (for a float64 run)."""
    name, family, widths, _, _, _ = case
    extra = R.hrnet_config(widths)
    model, x = make_model(case, seed)
    t0 = time.time()
    with torch.no_grad():
        y = model(x)
    torch_seconds = time.time() - t0
    paths = {k: os.path.join(out, f'{name}.{k}') for k in ('pth', 'input.npy', 'torch.npy', 'swift.npy')}
    R.save_checkpoint(model, paths['pth'], R.meta_for(family, extra))
    np.save(paths['input.npy'], x.numpy().astype(np.float32))
    np.save(paths['torch.npy'], y.numpy().astype(np.float32))
    return paths, torch_seconds, float(y.std()), model, x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', default='.build/release/posewarper')
    parser.add_argument('--out', default='parity')
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    rows = []
    ok = True
    for i, case in enumerate(CASES):
        name = case[0]
        print(f'[{name}] building the random checkpoint and the PyTorch output ...', flush=True)
        paths, torch_seconds, std, _, _ = build(case, args.out, 100 + i)
        t0 = time.time()
        run = subprocess.run([args.binary, 'forward', '--weights', paths['pth'], '--input', paths['input.npy'],
                              '--output', paths['swift.npy'], '--threads', str(args.threads)],
                             capture_output=True, text=True)
        swift_seconds = time.time() - t0
        if run.returncode != 0:
            print(f'[{name}] posewarper forward failed ({run.returncode}): {run.stderr.strip()}')
            ok = False
            continue
        a = np.load(paths['swift.npy']).astype(np.float64)
        b = np.load(paths['torch.npy']).astype(np.float64)
        if a.shape != b.shape:
            print(f'[{name}] shape {a.shape} != torch {b.shape}')
            ok = False
            continue
        finite = np.isfinite(a).all() and np.isfinite(b).all()
        rel = np.linalg.norm(a - b) / np.linalg.norm(b) if finite else float('inf')
        max_abs = np.abs(a - b).max() if finite else float('inf')
        passed = finite and rel <= BOUND
        ok &= passed
        rows.append((name, a.shape, std, rel, max_abs, torch_seconds, swift_seconds, passed))
    print()
    print(f'{"case":34} {"output":18} {"out std":>8} {"rel L2":>10} {"max abs":>10} {"torch s":>8} {"swift s*":>8}  result')
    for name, shape, std, rel, max_abs, ts, ss, passed in rows:
        print(f'{name:34} {str(list(shape)):18} {std:8.3f} {rel:10.2e} {max_abs:10.2e} {ts:8.2f} {ss:8.2f}  '
              f'{"ok" if passed else "FAIL"} (bound {BOUND:g})')
    print('* swift time includes process start and checkpoint loading; see `make bench` for timings.')
    sys.exit(0 if ok and len(rows) == len(CASES) else 1)


if __name__ == '__main__':
    main()
