"""Writes the small fixtures of Tests/ModelsTests/Fixtures (run from the package root):

    python3 Tools/reference/make_model_fixtures.py

Tiny random HRNet top-down and PoseWarper checkpoints in mmpose naming (zip format), the same
PoseWarper under the 2019 release's names, a legacy-format (pre-1.6 torch.save) top-down copy,
three broken checkpoints (missing / mis-shaped / unexpected key), their inputs and PyTorch outputs,
and decoding fixtures (box -> center/scale, affine matrices, keypoints_from_heatmaps default and
unbiased, flip_back, shift_heatmap).
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import posewarper_ref as R  # noqa: E402

OUT = os.path.join('Tests', 'ModelsTests', 'Fixtures')
H, W = 64, 32          # top-down input: multiples of 32; heatmaps 16 x 8
PW_H, PW_W = 64, 32    # PoseWarper input (5 frames x 2 persons); heatmaps 16 x 8
NECK_INNER, NECK_BLOCKS = 4, 2


def save_npy(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


def models():
    torch.manual_seed(1234)
    extra = R.tiny_config()

    x_td = torch.randn(2, 3, H, W)
    td = R.randomize(R.TopDownModel(extra), 11, x_td)
    with torch.no_grad():
        y_td = td(x_td)
    meta = R.meta_for('TopDown', extra)
    R.save_checkpoint(td, os.path.join(OUT, 'tiny_topdown.pth'), meta)
    save_npy('tiny_topdown_input.npy', x_td)
    save_npy('tiny_topdown_output.npy', y_td)

    x_pw = torch.randn(5 * 2, 3, PW_H, PW_W)  # frame-major: 5 frames x 2 persons
    pw = R.randomize(R.PoseWarperModel(extra, inner=NECK_INNER, blocks=NECK_BLOCKS), 12, x_pw)
    with torch.no_grad():
        y_pw = pw(x_pw)
        features = pw.backbone(x_pw[:2])[0]
        # Non-default options: a zero-weight frame (skipped) and other dilations.
        weights2 = (0.5, 0.0, 0.2, 0.3, 0.0)
        dil2 = (1, 2, 3, 4, 5)
        pw.neck.set_dilations(dil2)
        y_pw2 = pw(x_pw, frame_weights=weights2)
        pw.neck.set_dilations(R.DEFAULT_DILATIONS)
    meta = R.meta_for('PoseWarper', extra, neck_inner=NECK_INNER, neck_blocks=NECK_BLOCKS)
    R.save_checkpoint(pw, os.path.join(OUT, 'tiny_posewarper.pth'), meta)
    # The 2019 release predates torch 1.6, so its renamed copy is also the legacy-format fixture.
    official = R.to_official_2019_names(pw.state_dict())
    torch.save({'state_dict': official}, os.path.join(OUT, 'tiny_posewarper_official2019_legacy.pth'),
               _use_new_zipfile_serialization=False)
    save_npy('tiny_posewarper_input.npy', x_pw)
    save_npy('tiny_posewarper_output.npy', y_pw)
    save_npy('tiny_posewarper_features.npy', features)
    save_npy('tiny_posewarper_output_options.npy', y_pw2)
    with open(os.path.join(OUT, 'tiny_posewarper_options.json'), 'w') as f:
        json.dump({'frameWeights': weights2, 'dilations': dil2}, f)

    # Broken checkpoints, from a micro top-down net (small files; the error lists are what matter).
    micro = R.randomize(R.TopDownModel(R.hrnet_config([2, 4, 8, 16], blocks=1, modules=(1, 1, 1),
                                                      stage1_channels=4, stage1_blocks=1)), 13,
                        torch.randn(1, 3, 32, 32))
    # float16 storage keeps them small; key and shape checks come before any tensor is read.
    sd = {k: (v.half() if v.is_floating_point() else v.clone()) for k, v in micro.state_dict().items()}
    missing = dict(sd)
    del missing['backbone.stage3.0.fuse_layers.2.0.1.0.weight']
    del missing['keypoint_head.final_layer.bias']
    torch.save({'state_dict': missing}, os.path.join(OUT, 'broken_missing.pth'))
    misshaped = dict(sd)
    misshaped['backbone.stage2.0.branches.1.0.conv2.weight'] = torch.zeros(4, 4, 1, 1, dtype=torch.float16)
    torch.save({'state_dict': misshaped}, os.path.join(OUT, 'broken_misshaped.pth'))
    extra_key = dict(sd)
    extra_key['backbone.stage2.0.fuse_layers.0.1.2.weight'] = torch.zeros(2, 4, 1, 1, dtype=torch.float16)
    extra_key['keypoint_head.deconv_layers.0.weight'] = torch.zeros(2, 2, 4, 4, dtype=torch.float16)
    torch.save({'state_dict': extra_key}, os.path.join(OUT, 'broken_unexpected.pth'))


def gaussian_peaks(rng, n, k, h, w):
    ys, xs = np.mgrid[0:h, 0:w]
    maps = np.zeros((n, k, h, w), dtype=np.float32)
    for a in range(n):
        for b in range(k):
            cx, cy = rng.uniform(-1, w), rng.uniform(-1, h)
            amp = rng.uniform(0.2, 1.0)
            maps[a, b] = amp * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 2.0 ** 2))
            maps[a, b] += rng.normal(0, 0.01, (h, w))
    # Border and degenerate cases mmpose treats specially.
    maps[0, 0] = -np.abs(maps[0, 0]) - 0.1              # max <= 0 -> (-1, -1), no shift
    maps[0, 1] = 0
    maps[0, 1, 0, 0] = 1                                 # corner peak
    maps[0, 2] = 0
    maps[0, 2, 5, 1] = 1                                 # px = 1: mmpose does not shift (1 < px)
    maps[0, 2, 5, 0] = 0.5
    maps[0, 3] = 0
    maps[0, 3, h - 2, 7] = 1                             # py = h - 2: shifted for default
    maps[0, 3, h - 1, 7] = 0.3
    maps[0, 4] = 0.5                                     # ties: first index wins
    maps[0, 5] = 0
    maps[0, 5, 10, 8] = 1                                # equal neighbours: sign 0
    maps[0, 5, 10, 7] = 0.5
    maps[0, 5, 10, 9] = 0.5
    return maps


def decoding():
    rng = np.random.default_rng(7)
    image_size = (64, 96)        # (w, h) of the model input
    boxes = [[10.0, 20.0, 50.0, 120.0], [100.5, 40.25, 200.0, 80.0], [0.0, 0.0, 64.0, 96.0]]
    cases = []
    centers, scales = [], []
    for box in boxes:
        c, s = R.xywh2cs(*box, image_size)
        centers.append(c)
        scales.append(s)
        cases.append({'box': box, 'center': c.tolist(), 'scale': s.tolist(),
                      'matrix': R.get_affine_transform(c, s, 0, image_size).reshape(-1).tolist(),
                      'inverse': R.get_affine_transform(c, s, 0, image_size, inv=True).reshape(-1).tolist()})
    centers, scales = np.array(centers), np.array(scales)
    hm = gaussian_peaks(rng, 3, 17, 16, 12)
    save_npy('decode_heatmaps.npy', hm)
    out = {'imageSize': image_size, 'boxes': cases}
    for mode in ('default', 'unbiased', None):
        preds, maxvals = R.keypoints_from_heatmaps(hm, centers, scales, post_process=mode, kernel=11)
        out[str(mode)] = {'coords': preds.reshape(-1).tolist(), 'scores': maxvals.reshape(-1).tolist()}
    preds, _ = R.keypoints_from_heatmaps(hm, centers, scales, post_process='unbiased', kernel=7)
    out['unbiased7'] = {'coords': preds.reshape(-1).tolist()}
    coco_pairs = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]]
    posetrack_pairs = [[3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]]
    save_npy('decode_flip_back_posetrack18.npy', R.flip_back(hm, posetrack_pairs))
    save_npy('decode_flip_back_shifted_coco17.npy', R.shift_heatmap(R.flip_back(hm, coco_pairs)))
    with open(os.path.join(OUT, 'decode_expected.json'), 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    models()
    decoding()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'fixtures written to {OUT}: {total / 1e6:.2f} MB')
