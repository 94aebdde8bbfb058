#!/usr/bin/env python3
"""Writes Tests/PipelineTests/Fixtures/window6/ (run from the package root):

    python3 Tools/reference/make_pipeline_fixtures.py

A 6-frame clip (lossless PNG frames), a frame-indexed boxes file with a different box per frame,
a pipeline file for the models helper's tiny PoseWarper checkpoint
(Tests/ModelsTests/Fixtures/tiny_posewarper.pth), and the keypoints mmpose's test-time pipeline
gives for every frame — computed here independently of the Swift code:

  * support frames t + [0, -2, -1, +1, +2], clipped to [0, 5] (TopDownPoseTrack18VideoDataset),
    every one cropped with frame t's box (_xywh2cs: aspect fix, padding 1.25, pixel_std 200);
  * TopDownAffine with OpenCV's fixed-point warpAffine (numpy re-implementation from
    make_op_fixtures.py, cv2 is not installed here), ToTensor + NormalizeTensor;
  * the PyTorch PoseWarper of posewarper_ref.py; keypoints_from_heatmaps ('default').

For each keypoint it also records whether the decision is robust (the argmax beats the runner-up
and the quarter-pixel neighbours differ by more than 1e-4 relative), so the Swift test can compare
decisions exactly without tripping over float32 ties.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import posewarper_ref as R  # noqa: E402  (models helper's reference networks and decoding)
from make_op_fixtures import warp_reference  # noqa: E402  (engine helper's cv2-exact warp)

OUT = os.path.join('Tests', 'PipelineTests', 'Fixtures', 'window6')
CHECKPOINT = os.path.join('Tests', 'ModelsTests', 'Fixtures', 'tiny_posewarper.pth')
FRAMES, FW, FH = 6, 96, 80
IN_W, IN_H = 32, 64                 # the tiny model's input (multiples of 32); heatmaps 8 x 16
OFFSETS = [0, -2, -1, 1, 2]
WEIGHTS = [0.3, 0.1, 0.25, 0.25, 0.1]
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def make_frames():
    """Smooth, textured frames with a bright blob moving right, so neighbours differ."""
    ys, xs = np.mgrid[0:FH, 0:FW].astype(np.float64)
    frames = []
    for t in range(FRAMES):
        r = 120 + 60 * np.sin(xs / 9 + t * 0.7) * np.cos(ys / 13)
        g = 110 + 50 * np.cos(xs / 17 - ys / 11 + t * 0.4)
        b = 100 + 40 * np.sin((xs + ys) / 7 - t * 0.9)
        blob = 90 * np.exp(-(((xs - 30 - 6 * t) / 8) ** 2 + ((ys - 40) / 14) ** 2))
        img = np.stack([r + blob, g + blob * 0.5, b - blob * 0.3], -1)
        frames.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return frames


def boxes():
    """One person box per frame, moving and growing, so 'cropped with frame t's box' matters."""
    return [[18.0 + 5 * t, 12.0 + t, 30.0 + 2 * t, 52.0 - t] for t in range(FRAMES)]


def crop(img, center, scale):
    m = R.get_affine_transform(center, scale, 0, (IN_W, IN_H))
    patch = warp_reference(img, m, IN_W, IN_H).astype(np.float32)
    return ((patch / np.float32(255) - MEAN) / STD).transpose(2, 0, 1)


def fnv1a64(path):
    """FNV-1a 64 of a file: lets the Swift test notice a regenerated checkpoint (no hashlib there)."""
    h = 0xcbf29ce484222325
    with open(path, 'rb') as f:
        for b in f.read():
            h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return f'{h:016x}'


def robust(hm, px, py):
    flat = np.sort(hm.reshape(-1))
    top, second = float(flat[-1]), float(flat[-2])
    scale = max(abs(top), 1e-6)
    if top - second <= 1e-4 * scale:
        return False
    h, w = hm.shape
    if 1 < px < w - 1 and 1 < py < h - 1:
        for d in (hm[py][px + 1] - hm[py][px - 1], hm[py + 1][px] - hm[py - 1][px]):
            if abs(d) <= 1e-4 * scale:
                return False
    return True


def main():
    os.makedirs(OUT, exist_ok=True)
    frames = make_frames()
    for t, f in enumerate(frames):
        Image.fromarray(f).save(os.path.join(OUT, f'{t:06d}.png'), optimize=True)
    bxs = boxes()
    with open(os.path.join(OUT, 'boxes.json'), 'w') as f:
        json.dump([{'image_id': t, 'bbox': b, 'score': 0.9, 'category_id': 1} for t, b in enumerate(bxs)], f)

    sd = torch.load(CHECKPOINT, map_location='cpu', weights_only=False)['state_dict']
    inner = sd['neck.offset_feats.0.conv1.weight'].shape[0]
    blocks = len({k.split('.')[2] for k in sd if k.startswith('neck.offset_feats.')})
    model = R.PoseWarperModel(R.tiny_config(), inner=inner, blocks=blocks)
    model.load_state_dict(sd)
    model.eval()

    def run(support_of, own_boxes=False):
        out = []
        for t in range(FRAMES):
            center, scale = R.xywh2cs(*bxs[t], (IN_W, IN_H), padding=1.25)
            if own_boxes:
                x = np.stack([crop(frames[s], *R.xywh2cs(*bxs[s], (IN_W, IN_H), padding=1.25)) for s in support_of(t)])
            else:
                x = np.stack([crop(frames[s], center, scale) for s in support_of(t)])
            with torch.no_grad():
                hm = model(torch.from_numpy(x), frame_weights=WEIGHTS).numpy()
            preds, maxvals = R.keypoints_from_heatmaps(hm, [center], [scale], post_process='default')
            rows = []
            for k in range(hm.shape[1]):
                flat = int(np.argmax(hm[0, k]))
                rows.append([float(preds[0, k, 0]), float(preds[0, k, 1]), float(maxvals[0, k, 0]),
                             robust(hm[0, k], flat % hm.shape[3], flat // hm.shape[3])])
            out.append(rows)
        return out

    def clip(t):
        return [min(max(t + o, 0), FRAMES - 1) for o in OFFSETS]

    def reflect(t):
        return [-(t + o) if t + o < 0 else 2 * (FRAMES - 1) - (t + o) if t + o >= FRAMES else t + o for o in OFFSETS]

    clipped = run(clip)
    # Plausible mistakes must change the first and last frames' keypoints, or the test would prove
    # nothing: reflecting at the ends instead of clipping, and cropping neighbours with their own box.
    for name, wrong in (('reflect-padding', run(reflect)), ('own-box crops', run(clip, own_boxes=True))):
        for t in (0, FRAMES - 1):
            changed = sum(abs(a[0] - b[0]) + abs(a[1] - b[1]) > 1e-3 for a, b in zip(clipped[t], wrong[t]))
            assert changed > 0, f'frame {t}: the {name} mistake changes no keypoint; the fixture would not test it'
            print(f'frame {t}: {changed}/17 keypoints differ under the {name} mistake')

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'checkpoint_fnv1a64': fnv1a64(CHECKPOINT), 'input_size': [IN_W, IN_H], 'offsets': OFFSETS, 'weights': WEIGHTS,
                   'boxes': bxs, 'keypoints': clipped}, f)
    with open(os.path.join(OUT, 'pipeline.yml'), 'w') as f:
        f.write(f"""# Test pipeline for the models helper's tiny PoseWarper (written by make_pipeline_fixtures.py).
model:
  weights: ../../../ModelsTests/Fixtures/tiny_posewarper.pth
  schema: posetrack18
  input_size: [{IN_W}, {IN_H}]
  flip_test: false
  post_process: default
temporal:
  frame_offsets: {OFFSETS}
  frame_weights: {WEIGHTS}
  dilations: [3, 6, 12, 18, 24]
persons:
  source: boxes_file
  boxes_file: boxes.json
  score_threshold: 0.2
""")
    robust_count = sum(r[3] for rows in clipped for r in rows)
    print(f'wrote {OUT}: {FRAMES} frames, {robust_count}/{FRAMES * 17} robust keypoint decisions')


if __name__ == '__main__':
    main()
