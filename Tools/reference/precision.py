"""`make precision`: how much float32 precision `posewarper forward` loses, next to PyTorch's own float32.

For each full-size random checkpoint of `make parity` (same seeds, so the same checkpoints), the model
runs in PyTorch float64 (the reference), in PyTorch float32, and through `posewarper forward`; the
relative L2 error of each float32 output against float64 is printed with their ratio. Bounds (issue
#11): ours ≤ 1.5 × PyTorch float32's error, and ≤ 1e-4, in every case.

Cases: HRNet-W48 PoseWarper 384x288, HRNet-W32 top-down 256x192, YOLOX-s 640 and RTMDet-m 640
(`--all` adds the parity scripts' other cases). Written to ./parity/ (gitignored).
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detector_parity as D  # noqa: E402
import parity as P  # noqa: E402

RATIO_BOUND = 1.5
ABSOLUTE_BOUND = 1e-4
MAIN_CASES = ('posewarper_w48_384x288', 'topdown_w32_256x192', 'yolox_s_640_megvii', 'rtmdet_m_640_person')


def cases(include_all):
    """(name, build function, case, seed) for the pose and detector cases, seeded as `make parity` seeds them."""
    out = [(c[0], P.build, c, 100 + i) for i, c in enumerate(P.CASES)]
    out += [(c[0], D.build, c, 200 + i) for i, c in enumerate(D.CASES)]
    return [c for c in out if include_all or c[0] in MAIN_CASES]


def float64_output(name, model, x):
    model = model.double()
    with torch.no_grad():
        y = model(x.double())
    if name in {c[0] for c in D.CASES}:
        y = D.combined(y)
    return y.numpy()


def relative_l2(a, b):
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float('inf')
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', default='.build/release/posewarper')
    parser.add_argument('--out', default='parity')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--all', action='store_true', help='also the unseen-width cases of make parity')
    parser.add_argument('--only', default=None, help='run the cases whose name contains this')
    parser.add_argument('--reuse', action='store_true',
                        help='keep the checkpoints and reference outputs, and reuse those already in --out')
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    rows, ok = [], True
    selected = [c for c in cases(args.all) if args.only is None or args.only in c[0]]
    for name, build, case, seed in selected:
        paths = {k: os.path.join(args.out, f'{name}.{k}') for k in ('pth', 'input.npy', 'torch.npy', 'swift.npy')}
        f64_path = os.path.join(args.out, f'{name}.float64.npy')
        if args.reuse and all(os.path.exists(p) for p in (paths['pth'], paths['input.npy'], paths['torch.npy'], f64_path)):
            print(f'[{name}] reusing the checkpoint and PyTorch outputs in {args.out}', flush=True)
            reference = np.load(f64_path)
        else:
            print(f'[{name}] building the random checkpoint, the PyTorch float32 and float64 outputs ...', flush=True)
            paths, _, _, model, x = build(case, args.out, seed)
            reference = float64_output(name, model, x)
            np.save(f64_path, reference)
        run = subprocess.run([args.binary, 'forward', '--weights', paths['pth'], '--input', paths['input.npy'],
                              '--output', paths['swift.npy'], '--threads', str(args.threads)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f'[{name}] posewarper forward failed ({run.returncode}): {run.stderr.strip()}')
            ok = False
            continue
        ours = np.load(paths['swift.npy']).astype(np.float64)
        theirs = np.load(paths['torch.npy']).astype(np.float64)
        if ours.shape != reference.shape or theirs.shape != reference.shape:
            print(f'[{name}] shapes: ours {ours.shape}, torch {theirs.shape}, float64 {reference.shape}')
            ok = False
            continue
        e_ours, e_torch = relative_l2(ours, reference), relative_l2(theirs, reference)
        ratio = e_ours / e_torch if e_torch > 0 else float('inf')
        passed = e_ours <= ABSOLUTE_BOUND and ratio <= RATIO_BOUND
        ok &= passed
        rows.append((name, e_torch, e_ours, ratio, passed))
        print(f'[{name}] torch float32 {e_torch:.2e}, ours {e_ours:.2e} ({ratio:.2f}×)', flush=True)
        if not args.reuse:
            os.remove(paths['pth'])   # large; the npy files stay for inspection
    print()
    print(f'{"case":34} {"torch f32 vs f64":>17} {"ours vs f64":>12} {"ratio":>6}  result')
    for name, e_torch, e_ours, ratio, passed in rows:
        print(f'{name:34} {e_torch:17.2e} {e_ours:12.2e} {ratio:6.2f}  '
              f'{"ok" if passed else "FAIL"} (bounds {RATIO_BOUND}× and {ABSOLUTE_BOUND:g})')
    sys.exit(0 if ok and len(rows) == len(selected) else 1)


if __name__ == '__main__':
    main()
