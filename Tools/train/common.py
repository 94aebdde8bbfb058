"""Shared pieces of the training scripts: the world's data, mmpose-style crops and targets,
the wall-clock cosine schedule, checkpoints in mmpose layout, logging.
"""
import json
import math
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'reference'))
import posewarper_ref as R  # noqa: E402

FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
UPPER_BODY = list(range(11))

# The shipped architecture (mmpose `extra`): widths (16, 32, 64, 128), modules per stage (1, 2, 2),
# BasicBlocks per branch (2, 1, 1), and stage 1 as one Bottleneck of 16 channels (64 out, so no
# projection). At 128x96 the 64-channel stage 1 of the standard HRNets costs 3x the rest of the
# network (measured: 4.4 s vs 1.5 s per training step of 32 crops on this machine's 2 cores).
ARCH = dict(widths=[16, 32, 64, 128], blocks=[2, 1, 1], modules=[1, 2, 2], stage1_channels=16,
            stage1_blocks=1)
INPUT_SIZE = (96, 128)      # width, height
HEATMAP_SIZE = (24, 32)


def extra_config(arch=ARCH):
    return R.hrnet_config(arch['widths'], blocks=tuple(arch['blocks']), modules=tuple(arch['modules']),
                          stage1_channels=arch['stage1_channels'], stage1_blocks=arch['stage1_blocks'])


class Log:
    """Appends lines to a log file and echoes them."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def __call__(self, msg):
        line = time.strftime('%Y-%m-%dT%H:%M:%SZ ', time.gmtime()) + msg
        print(line, flush=True)
        with open(self.path, 'a') as f:
            f.write(line + '\n')


# ---------------------------------------------------------------------------------------------
# Data

def decode_video(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise RuntimeError(f'{path}: no frames decoded')
    return np.stack(frames)


class Split:
    """A split of the world: decoded frames per video and its COCO annotations."""

    def __init__(self, root, max_videos=None):
        """root: a split folder (its annotations.json), or a COCO ground-truth file whose images
        name their `video` relative to the file's folder."""
        gt = root if root.endswith('.json') else os.path.join(root, 'annotations.json')
        root = os.path.dirname(gt)
        self.root = root
        with open(gt) as f:
            self.coco = json.load(f)
        if max_videos:
            keep = sorted({im['vid_id'] for im in self.coco['images']})[:max_videos]
            keep = set(keep)
            self.coco['images'] = [im for im in self.coco['images'] if im['vid_id'] in keep]
            ids = {im['id'] for im in self.coco['images']}
            self.coco['annotations'] = [a for a in self.coco['annotations'] if a['image_id'] in ids]
        self.images = {im['id']: im for im in self.coco['images']}
        self.videos = {}
        for im in self.coco['images']:
            vid = im['vid_id']
            if vid not in self.videos:
                self.videos[vid] = decode_video(os.path.join(root, im['video']))
        self.anns = [a for a in self.coco['annotations'] if a['num_keypoints'] > 0]
        # (vid, track, frame) -> annotation, for neighbours in time.
        self.by_track = {}
        for a in self.anns:
            im = self.images[a['image_id']]
            self.by_track[(im['vid_id'], a['track_id'], im['frame_index'])] = a

    def frame(self, image_id, delta=0):
        """The frame of `image_id` moved by `delta`, clipped to the video's ends."""
        im = self.images[image_id]
        v = self.videos[im['vid_id']]
        return v[min(max(im['frame_index'] + delta, 0), len(v) - 1)]


def box_center_scale(bbox, padding=1.25):
    return R.xywh2cs(*bbox, image_size=INPUT_SIZE, padding=padding)


def half_body(kps, rng):
    """mmpose TopDownHalfBodyTransform: centre/scale of the upper or lower body's joints."""
    vis = kps[:, 2] > 0
    upper = [j for j in UPPER_BODY if vis[j]]
    lower = [j for j in range(11, 17) if vis[j]]
    chosen = upper if (rng.random() < 0.5 and len(upper) > 2) else lower
    if len(chosen) < 2:
        chosen = upper
    if len(chosen) < 2:
        return None
    pts = kps[chosen, :2]
    center = pts.mean(0)
    lo, hi = pts.min(0), pts.max(0)
    w, h = hi - lo
    aspect = INPUT_SIZE[0] / INPUT_SIZE[1]
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return center.astype(np.float32), np.array([w / 200.0, h / 200.0], np.float32) * 1.5


def augment(ann, rng, train=True, rot_factor=40.0, rot_prob=0.6, scale_factor=0.35):
    """mmpose 0.x top-down training augmentation -> (center, scale, rotation, flip); the defaults
    are mmpose's COCO config (rot_factor 40, rotation p 0.6, scale_factor 0.35)."""
    kps = np.array(ann['keypoints'], np.float32).reshape(17, 3)
    center, scale = box_center_scale(ann['bbox'])
    if not train:
        return center, scale, 0.0, False
    if rng.random() < 0.3:       # TopDownRandomShiftBboxCenter(shift_factor=0.16, prob=0.3)
        center = center + rng.uniform(-1, 1, 2).astype(np.float32) * 0.16 * scale * 200
    if (kps[:, 2] > 0).sum() > 8 and rng.random() < 0.3:   # TopDownHalfBodyTransform
        hb = half_body(kps, rng)
        if hb is not None:
            center, scale = hb
    s = np.clip(rng.normal() * scale_factor + 1, 1 - scale_factor, 1 + scale_factor)  # TopDownGetRandomScaleRotation
    r = np.clip(rng.normal() * rot_factor, -2 * rot_factor, 2 * rot_factor) if rng.random() <= rot_prob else 0.0
    flip = rng.random() < 0.5
    return center, scale * s, float(r), flip


def crop(frame, center, scale, rot, flip):
    """The affine crop as mmpose's TopDownAffine (flip by mirroring the image first)."""
    if flip:
        frame = frame[:, ::-1]
        center = np.array([frame.shape[1] - 1 - center[0], center[1]], np.float32)
    m = R.get_affine_transform(center, scale, rot, INPUT_SIZE)
    img = cv2.warpAffine(np.ascontiguousarray(frame), m, INPUT_SIZE, flags=cv2.INTER_LINEAR)
    return img, m, center


def keypoints_in_crop(ann, frame_width, m, flip):
    kps = np.array(ann['keypoints'], np.float32).reshape(17, 3).copy()
    if flip:
        kps[:, 0] = frame_width - 1 - kps[:, 0]
        swapped = kps.copy()
        for a, b in FLIP_PAIRS:
            swapped[a], swapped[b] = kps[b], kps[a]
        kps = swapped
    xy = kps[:, :2] @ m[:, :2].T + m[:, 2]
    return xy, kps[:, 2]


def heatmap_target(xy, vis, sigma):
    """mmpose MSRA Gaussian targets at stride 4 and weights (0 for unlabelled or outside)."""
    w, h = HEATMAP_SIZE
    stride = INPUT_SIZE[0] / w
    target = np.zeros((17, h, w), np.float32)
    weight = (vis > 0).astype(np.float32)
    ys, xs = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    rad = sigma * 3
    for j in range(17):
        mu = xy[j] / stride
        # mmpose: joints whose Gaussian would lie wholly outside get weight 0; centres are rounded.
        mx, my = int(mu[0] + 0.5), int(mu[1] + 0.5)
        if mx - rad >= w or my - rad >= h or mx + rad + 1 < 0 or my + rad + 1 < 0:
            weight[j] = 0
        if weight[j] > 0:
            target[j] = np.exp(-((xs - mx) ** 2 + (ys - my) ** 2) / (2 * sigma ** 2))
    return target, weight


def to_tensor(imgs):
    x = (np.stack(imgs).astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def joints_mse(out, target, weight):
    """mmpose JointsMSELoss(use_target_weight=True): mean over joints of 0.5 * weighted MSE."""
    w = weight[:, :, None, None]
    return 0.5 * ((out * w - target * w) ** 2).mean()


# ---------------------------------------------------------------------------------------------
# Schedule and checkpoints

def cosine_lr(base, elapsed, budget, warmup_s=60.0):
    """One cosine from base to 0 over `budget` with a linear warm-up (seconds, or steps with --steps)."""
    f = min(elapsed / budget, 1.0)
    lr = base * 0.5 * (1 + math.cos(math.pi * f))
    return lr * min(1.0, 0.001 + elapsed / warmup_s)


def export_mmpose(state_dict, path, kind, meta_extra):
    """An mmpose-layout checkpoint {'meta', 'state_dict'} with only model tensors."""
    sd = {k: v.detach().clone().contiguous().cpu() for k, v in state_dict.items()}
    meta = dict(mmpose_version='0.29.0', config=dict(type=kind, **meta_extra))
    tmp = path + '.tmp'
    torch.save({'meta': meta, 'state_dict': sd}, tmp)
    os.replace(tmp, path)
