"""`make parity`, detectors: full-size random YOLOX / RTMDet checkpoints built with PyTorch
(detectors_ref.py), run through `posewarper forward`, compared with PyTorch's raw head outputs
(relative L2 and max-abs; bound 1e-4).

Cases: YOLOX-s 640 (Megvii layout, 80 classes), RTMDet-m 640 (mmdet, person-only as mmpose's
rtmdet_m_640-8xb32_coco-person), and sizes no test has seen: YOLOX-nano 416 (depthwise, mmdet layout),
YOLOX-l 640, RTMDet-tiny 640 and RTMDet-nano 320 (depthwise, person; also with the dense neck
blocks of an earlier mmdet 3.x CSPNeXtPAFPN). Written to ./parity/ (gitignored).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors_ref as R  # noqa: E402

BOUND = 1e-4
RTM_MEAN = torch.tensor([103.53, 116.28, 123.675]).view(1, 3, 1, 1)
RTM_STD = torch.tensor([57.375, 57.12, 58.395]).view(1, 3, 1, 1)

CASES = [
    # name, constructor, layout, side
    ('yolox_s_640_megvii', lambda: R.YOLOX(0.33, 0.5, 80), 'megvii', 640),
    ('rtmdet_m_640_person', lambda: R.RTMDet(0.67, 0.75, 2, classes=1), 'mmdet', 640),
    ('unseen_yolox_nano_416_mmdet', lambda: R.YOLOX(0.33, 0.25, 80, depthwise=True), 'mmdet', 416),
    ('unseen_yolox_l_640_megvii', lambda: R.YOLOX(1.0, 1.0, 80), 'megvii', 640),
    ('unseen_rtmdet_tiny_640', lambda: R.RTMDet(0.167, 0.375, 1, classes=80), 'mmdet', 640),
    ('unseen_rtmdet_nano_320_person', lambda: R.RTMDet(0.33, 0.25, 1, classes=1, depthwise=True, share_conv=False), 'mmdet', 320),
    ('unseen_rtmdet_nano_320_dev_neck', lambda: R.RTMDet(0.33, 0.25, 1, classes=1, depthwise=True, share_conv=False,
                                                         dev_neck=True), 'mmdet', 320),
]


def image(side, g):
    """A smooth random 0-255 image (upsampled noise), like a photo's statistics more than white noise."""
    small = torch.rand(1, 3, side // 16, side // 16, generator=g) * 255
    return F.interpolate(small, size=(side, side), mode='bilinear', align_corners=False) + torch.randn(1, 3, side, side, generator=g) * 8


def combined(outs):
    return torch.cat([torch.cat(list(o[1:2]) + list(o[2:3]) + [o[0]], 1).flatten(2) for o in outs], 2)


def build(case, out, seed):
    """Writes the case's checkpoint, input and PyTorch head outputs; returns their paths, the forward's
    seconds, the outputs' std and the model and input (for a float64 run)."""
    name, make, layout, side = case
    g = torch.Generator().manual_seed(seed)
    model = make()
    x = image(side, g)
    if isinstance(model, R.RTMDet):
        x = (x - RTM_MEAN) / RTM_STD
    R.randomize(model, seed, image(side, g) if isinstance(model, R.YOLOX) else (image(side, g) - RTM_MEAN) / RTM_STD)
    t0 = time.time()
    with torch.no_grad():
        y = combined(model(x))
    torch_seconds = time.time() - t0
    paths = {k: os.path.join(out, f'{name}.{k}') for k in ('pth', 'input.npy', 'torch.npy', 'swift.npy')}
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if layout == 'megvii':
        torch.save({'model': R.yolox_to_megvii_names(sd), 'start_epoch': 300}, paths['pth'])
    else:
        torch.save({'meta': {'mmdet_version': '3.3.0'}, 'state_dict': sd}, paths['pth'])
    np.save(paths['input.npy'], x.numpy().astype(np.float32))
    np.save(paths['torch.npy'], y.numpy().astype(np.float32))
    return paths, torch_seconds, float(y.std()), model, x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', default='.build/release/posewarper')
    parser.add_argument('--out', default='parity')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--only', default=None, help='run the cases whose name contains this')
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    cases = [c for c in CASES if args.only is None or args.only in c[0]]
    rows, ok = [], True
    for i, case in enumerate(cases):
        name = case[0]
        print(f'[{name}] building the random checkpoint and the PyTorch output ...', flush=True)
        paths, torch_seconds, std, _, _ = build(case, args.out, 200 + CASES.index(case))
        t0 = time.time()
        run = subprocess.run([args.binary, 'forward', '--weights', paths['pth'], '--input', paths['input.npy'],
                              '--output', paths['swift.npy'], '--threads', str(args.threads)], capture_output=True, text=True)
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
        for p in ('pth',):
            os.remove(paths[p])   # large; the npy files stay for inspection
    print()
    print(f'{"case":34} {"output":18} {"out std":>8} {"rel L2":>10} {"max abs":>10} {"torch s":>8} {"swift s*":>8}  result')
    for name, shape, std, rel, max_abs, ts, ss, passed in rows:
        print(f'{name:34} {str(list(shape)):18} {std:8.3f} {rel:10.2e} {max_abs:10.2e} {ts:8.2f} {ss:8.2f}  '
              f'{"ok" if passed else "FAIL"} (bound {BOUND:g})')
    print('* swift time includes process start and checkpoint loading; see `make bench` for timings.')
    sys.exit(0 if ok and len(rows) == len(cases) else 1)


if __name__ == '__main__':
    main()
