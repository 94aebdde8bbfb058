"""Painting figures, backgrounds and occluders into a frame plus an id map for visibility.

Every shape is drawn as an anti-aliased mask inside its bounding box, blended into the frame and
written into an id map (pixel owner = figure * PARTS + part + 1; occluders OCCLUDER) wherever the
mask covers at least half the pixel, so visibility is decided by what is actually painted on top.
"""
import math

import cv2
import numpy as np

SHIFT = 4
ONE = 1 << SHIFT
PARTS = 16
OCCLUDER = 65000
PART_IDS = {'torso': 0, 'neck': 1, 'head': 2, 'l_upper_arm': 3, 'r_upper_arm': 4, 'l_forearm': 5,
            'r_forearm': 6, 'l_hand': 7, 'r_hand': 8, 'l_thigh': 9, 'r_thigh': 10, 'l_shin': 11,
            'r_shin': 12, 'l_foot': 13, 'r_foot': 14}
# Parts whose paint counts as the keypoint itself (visible) when found on top at its pixel.
KEYPOINT_PARTS = {
    'l_shoulder': ('torso', 'l_upper_arm'), 'r_shoulder': ('torso', 'r_upper_arm'),
    'l_elbow': ('l_upper_arm', 'l_forearm'), 'r_elbow': ('r_upper_arm', 'r_forearm'),
    'l_wrist': ('l_forearm', 'l_hand'), 'r_wrist': ('r_forearm', 'r_hand'),
    'l_hip': ('torso', 'l_thigh'), 'r_hip': ('torso', 'r_thigh'),
    'l_knee': ('l_thigh', 'l_shin'), 'r_knee': ('r_thigh', 'r_shin'),
    'l_ankle': ('l_shin', 'l_foot'), 'r_ankle': ('r_shin', 'r_foot'),
    'nose': ('head',), 'l_eye': ('head',), 'r_eye': ('head',), 'l_ear': ('head',), 'r_ear': ('head',),
}


def _pts(p):
    return np.round(np.asarray(p, dtype=np.float64) * ONE).astype(np.int32)


class Canvas:
    """A frame (float32 RGB) and its id map (uint16)."""

    def __init__(self, image):
        self.img = image.astype(np.float32)
        self.h, self.w = image.shape[:2]
        self.ids = np.zeros((self.h, self.w), np.uint16)

    def paint(self, draw, bbox, colour, owner, texture=None):
        """draw(mask, offset) paints 255 into a uint8 mask whose origin is `offset` in the frame."""
        x0, y0, x1, y1 = [int(v) for v in (math.floor(bbox[0]) - 2, math.floor(bbox[1]) - 2,
                                           math.ceil(bbox[2]) + 2, math.ceil(bbox[3]) + 2)]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, self.w), min(y1, self.h)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        draw(mask, np.array([x0, y0], np.float64))
        alpha = mask.astype(np.float32)[..., None] / 255.0
        region = self.img[y0:y1, x0:x1]
        fill = np.broadcast_to(np.asarray(colour, np.float32), region.shape) if texture is None \
            else texture(x0, y0, x1, y1)
        region[:] = region * (1 - alpha) + fill * alpha
        self.ids[y0:y1, x0:x1][mask >= 128] = owner


def capsule(p0, p1, r0, r1):
    """A tapered capsule from p0 (radius r0) to p1 (radius r1), in pixels."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    n = np.linalg.norm(d)
    perp = np.array([-d[1], d[0]]) / n if n > 1e-6 else np.array([1.0, 0.0])

    def draw(mask, off):
        a, b = p0 - off, p1 - off
        poly = np.array([a + perp * r0, b + perp * r1, b - perp * r1, a - perp * r0])
        cv2.fillConvexPoly(mask, _pts(poly), 255, cv2.LINE_AA, SHIFT)
        cv2.circle(mask, tuple(_pts(a)), int(round(r0 * ONE)), 255, -1, cv2.LINE_AA, SHIFT)
        cv2.circle(mask, tuple(_pts(b)), int(round(r1 * ONE)), 255, -1, cv2.LINE_AA, SHIFT)

    r = max(r0, r1)
    bbox = (min(p0[0], p1[0]) - r, min(p0[1], p1[1]) - r, max(p0[0], p1[0]) + r, max(p0[1], p1[1]) + r)
    return draw, bbox


def polygon(points):
    points = np.asarray(points, float)

    def draw(mask, off):
        cv2.fillPoly(mask, [_pts(points - off)], 255, cv2.LINE_AA, SHIFT)

    return draw, (points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max())


def ellipse(c, axes, angle_deg):
    c = np.asarray(c, float)

    def draw(mask, off):
        cv2.ellipse(mask, tuple(_pts(c - off)), (int(round(axes[0] * ONE)), int(round(axes[1] * ONE))),
                    angle_deg, 0, 360, 255, -1, cv2.LINE_AA, SHIFT)

    r = max(axes)
    return draw, (c[0] - r, c[1] - r, c[0] + r, c[1] + r)


def union(*shapes):
    def draw(mask, off):
        for d, _ in shapes:
            d(mask, off)
    boxes = np.array([b for _, b in shapes])
    return draw, (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())


def stripes(period, angle, colour, base):
    """A texture: `base` with stripes of `colour` every `period` pixels at `angle`."""
    c, s = math.cos(angle), math.sin(angle)

    def tex(x0, y0, x1, y1):
        ys, xs = np.mgrid[y0:y1, x0:x1]
        on = ((xs * c + ys * s) % period) < period * 0.45
        out = np.empty((y1 - y0, x1 - x0, 3), np.float32)
        out[:] = base
        out[on] = colour
        return out

    return tex


# ---------------------------------------------------------------------------------------------
# Backgrounds

def background(rng, w, h):
    """A random textured background with limb-like clutter, RGB uint8 of size (h, w)."""
    kind = rng.integers(0, 4)
    if kind == 0:   # smooth colour noise
        small = rng.uniform(0, 255, (rng.integers(3, 9), rng.integers(3, 9), 3)).astype(np.float32)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    elif kind == 1:  # stripes
        ys, xs = np.mgrid[0:h, 0:w]
        a = rng.uniform(0, math.pi)
        period = rng.uniform(8, 60)
        on = ((xs * math.cos(a) + ys * math.sin(a)) % period) < period / 2
        img = np.where(on[..., None], rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)).astype(np.float32)
    elif kind == 2:  # checkers
        ys, xs = np.mgrid[0:h, 0:w]
        p = rng.uniform(10, 60)
        on = ((xs // p).astype(int) + (ys // p).astype(int)) % 2 == 0
        img = np.where(on[..., None], rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)).astype(np.float32)
    else:            # floor and wall with a horizon
        img = np.empty((h, w, 3), np.float32)
        horizon = int(h * rng.uniform(0.3, 0.6))
        img[:horizon] = rng.uniform(0, 255, 3)
        img[horizon:] = rng.uniform(0, 255, 3)
        grad = np.linspace(0.7, 1.2, h, dtype=np.float32)[:, None, None]
        img *= grad
    img += rng.normal(0, rng.uniform(2, 14), img.shape).astype(np.float32)
    canvas = Canvas(np.clip(img, 0, 255))
    for _ in range(rng.integers(5, 30)):  # clutter: capsules, ellipses, boxes
        col = rng.uniform(0, 255, 3)
        c = rng.uniform([0, 0], [w, h])
        t = rng.integers(0, 3)
        if t == 0:
            shape = capsule(c, c + rng.normal(0, 40, 2), rng.uniform(2, 10), rng.uniform(2, 10))
        elif t == 1:
            shape = ellipse(c, rng.uniform(4, 40, 2), rng.uniform(0, 180))
        else:
            s = rng.uniform(5, 60, 2)
            shape = polygon([c, c + [s[0], 0], c + s, c + [0, s[1]]])
        canvas.paint(*shape, col, 0)
    img = cv2.GaussianBlur(canvas.img, (0, 0), rng.uniform(0.3, 1.2))
    return np.clip(img, 0, 255).astype(np.uint8)
