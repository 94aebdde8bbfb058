"""One clip of the world: figures, camera, and (hard split) degradations, rendered frame by frame.

The scene and its degradations draw from separate random streams seeded by (seed, 0) and (seed, 1):
the clean and hard versions of a clip show exactly the same figures, motion and camera.
"""
import math

import cv2
import numpy as np

from figure import Action, ACTIONS, Body, COCO_SOURCE, skeleton
from render import (Canvas, KEYPOINT_PARTS, OCCLUDER, PART_IDS, PARTS, capsule, ellipse, polygon,
                    stripes, union, background)

W, H = 320, 240
FPS = 15
MARGIN = 200          # background canvas border for pans, shakes and zooms


class Figure:
    def __init__(self, rng, index, n_frames):
        self.body = Body(rng)
        self.action = Action(ACTIONS[rng.choice(len(ACTIONS), p=[0.2, 0.15, 0.1, 0.12, 0.18, 0.08, 0.09, 0.08])], rng)
        moving = self.action.kind in ('walk', 'run')
        if moving:
            self.yaw0 = rng.choice([-1, 1]) * rng.uniform(math.pi / 2 - 0.7, math.pi / 2 + 0.7)
        else:
            self.yaw0 = rng.normal(0, 0.9) if rng.random() < 0.75 else rng.uniform(-math.pi, math.pi)
        self.foot_v = rng.uniform(150, 250)                      # ground contact row at scale 1
        self.scale = max(70.0, 55 + (self.foot_v - 130) * 1.15 + rng.normal(0, 12))  # px per body unit
        self.drift = rng.normal(0, 1.2, 2) * (0 if moving else 1)  # slow wandering, px/frame
        # Place the clip's midpoint near the frame, so the figure is seen most of the time.
        speed = self.action.pose(0)['speed'] * self.scale / FPS
        vx = speed * math.sin(self.yaw0)
        self.u0 = rng.uniform(30, W - 30) - vx * n_frames / 2
        self.index = index

    def at(self, t):
        """Pose at frame t -> (3D joints, facing, base pixel position)."""
        p = self.action.pose(t / FPS)
        yaw = self.yaw0 + p['yaw_rate'] * t / FPS
        pts, facing = skeleton(self.body, p, yaw)
        # Ground position: integrate the speed along the initial heading (actions keep their speed).
        speed = p['speed'] * self.scale / FPS
        u = self.u0 + speed * math.sin(self.yaw0) * t + self.drift[0] * t
        v = self.foot_v + 0.15 * speed * math.cos(self.yaw0) * t + self.drift[1] * t * 0.3
        return pts, facing, np.array([u, v])


class Camera:
    """Per-frame similarity transform world pixels -> image pixels: pan, shake, zoom."""

    def __init__(self, rng, n_frames):
        pan = rng.random() < 0.6
        self.v = rng.uniform(-6, 6, 2) * [1, 0.35] if pan else np.zeros(2)
        self.shake = rng.uniform(1, 4) if rng.random() < 0.4 else 0.0
        self.zoom_rate = rng.uniform(-0.012, 0.012) if rng.random() < 0.3 else 0.0
        self.jitter = rng.normal(0, 1, (n_frames, 2))
        self.start = -self.v * n_frames / 2

    def matrix(self, t):
        s = 1.0 + self.zoom_rate * t
        off = self.start + self.v * t + self.shake * self.jitter[t]
        # Zoom about the image centre, then translate.
        c = np.array([W / 2, H / 2])
        return s, c - s * c - s * off


class Occluder:
    """A moving shape on top of everything, timed to sweep over one figure for 1-3 frames."""

    def __init__(self, rng, target_uv, t0, n_frames):
        self.kind = rng.integers(0, 3)
        self.colour = rng.uniform(0, 255, 3)
        self.size = rng.uniform(18, 55) if self.kind == 0 else rng.uniform(25, 60)
        speed = rng.uniform(22, 45)
        ang = rng.uniform(-0.4, 0.4) + (0 if rng.random() < 0.5 else math.pi)
        self.v = speed * np.array([math.cos(ang), math.sin(ang)])
        self.t0 = t0
        self.p0 = np.asarray(target_uv, float)
        self.tex = stripes(rng.uniform(4, 12), rng.uniform(0, math.pi), rng.uniform(0, 255, 3), self.colour) \
            if rng.random() < 0.5 else None

    def shape(self, t):
        c = self.p0 + self.v * (t - self.t0)
        if self.kind == 0:    # a pole
            return polygon([c + [-self.size / 2, -H], c + [self.size / 2, -H], c + [self.size / 2, H],
                            c + [-self.size / 2, H]])
        if self.kind == 1:    # a blob
            return ellipse(c, (self.size, self.size * 1.4), 0)
        return polygon([c + [-self.size, -self.size], c + [self.size, -self.size],
                        c + [self.size * 0.6, self.size * 1.2], c + [-self.size * 0.8, self.size]])


class Scene:
    def __init__(self, seed, n_frames, degrade):
        rng = np.random.default_rng([seed, 0])
        self.n = n_frames
        self.bg = background(rng, W + 2 * MARGIN, H + 2 * MARGIN)
        count = rng.choice([1, 2, 3, 4], p=[0.2, 0.35, 0.3, 0.15])
        self.figures = [Figure(rng, i, n_frames) for i in range(count)]
        self.camera = Camera(rng, n_frames)
        self.light = rng.uniform(0.75, 1.2)
        self.cast = rng.uniform(0.9, 1.1, 3)
        self.degrade = None
        if degrade:
            self.degrade = Degradations(np.random.default_rng([seed, 1]), self)

    def project(self, fig, t):
        """Image-plane 2D points (dict), depths and the figure's pixel scale at frame t."""
        pts, facing, base = fig.at(t)
        s, off = self.camera.matrix(t)
        scale = fig.scale * s
        uv = {k: s * base + off + scale * np.array([p[0], -p[1]]) for k, p in pts.items()}
        depth = {k: p[2] for k, p in pts.items()}
        return uv, depth, facing, scale, s * base[1] + off[1]

    def render(self, t):
        """-> (RGB uint8 frame, list of per-figure annotations)."""
        s, off = self.camera.matrix(t)
        m = np.array([[s, 0, off[0] - s * MARGIN * 0 + s * 0], [0, s, off[1]]], np.float64)
        # Background lives in world pixels with its origin at (-MARGIN, -MARGIN).
        m[:, 2] -= s * MARGIN
        frame = cv2.warpAffine(self.bg, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        canvas = Canvas(frame)
        projected = [self.project(f, t) for f in self.figures]
        order = sorted(range(len(self.figures)), key=lambda i: projected[i][4])  # farther (higher) first
        masks = {}
        for i in order:
            masks[i] = self._paint_figure(canvas, self.figures[i], projected[i])
        if self.degrade is not None:
            self.degrade.occlude(canvas, t)
        img = canvas.img * self.light * self.cast
        if self.degrade is not None:
            img = self.degrade.apply(img, t)
        frame = np.clip(img, 0, 255).astype(np.uint8)
        anns = [self._annotation(canvas, self.figures[i], projected[i], masks[i]) for i in range(len(self.figures))]
        return frame, anns

    def _paint_figure(self, canvas, fig, proj):
        uv, depth, facing, scale, _ = proj
        b = fig.body
        k = b.bulk * scale
        shirt_tex = stripes(b.stripes[0] * scale / 100, b.stripes[1], b.stripes[2], b.shirt) if b.stripes else None
        parts = []
        for side in ('l', 'r'):
            arm_col = b.shirt if b.sleeves else b.skin
            parts += [
                (side + '_upper_arm', capsule(uv[side + '_shoulder'], uv[side + '_elbow'], 0.040 * k, 0.032 * k),
                 b.shirt, shirt_tex, (depth[side + '_shoulder'] + depth[side + '_elbow']) / 2),
                (side + '_forearm', capsule(uv[side + '_elbow'], uv[side + '_wrist'], 0.031 * k, 0.024 * k),
                 arm_col, None, (depth[side + '_elbow'] + depth[side + '_wrist']) / 2 + 0.001),
                (side + '_hand', ellipse(uv[side + '_hand'], (0.03 * scale, 0.03 * scale), 0), b.skin, None,
                 depth[side + '_hand'] + 0.002),
                (side + '_thigh', capsule(uv[side + '_hip'], uv[side + '_knee'], 0.062 * k, 0.046 * k),
                 b.pants, None, (depth[side + '_hip'] + depth[side + '_knee']) / 2),
                (side + '_shin', capsule(uv[side + '_knee'], uv[side + '_ankle'], 0.044 * k, 0.032 * k),
                 b.pants, None, (depth[side + '_knee'] + depth[side + '_ankle']) / 2 + 0.001),
                (side + '_foot', capsule(uv[side + '_ankle'], uv[side + '_toe'], 0.03 * k, 0.026 * k),
                 b.shoes, None, (depth[side + '_ankle'] + depth[side + '_toe']) / 2 + 0.002),
            ]
        torso_poly = polygon([uv['l_shoulder'], uv['r_shoulder'], uv['r_hip'], uv['l_hip']])
        torso = union(torso_poly, capsule(uv['pelvis'], (uv['l_shoulder'] + uv['r_shoulder']) / 2,
                                          0.08 * k, 0.085 * k),
                      capsule(uv['l_hip'], uv['r_hip'], 0.055 * k, 0.055 * k))
        parts.append(('torso', torso, b.shirt, shirt_tex, depth['pelvis']))
        parts.append(('neck', capsule(uv['neck'], uv['head'], 0.032 * scale, 0.032 * scale), b.skin, None,
                      depth['neck'] - 0.01))
        parts.append(('head', None, None, None, depth['head'] + 0.01))
        parts.sort(key=lambda p: p[4])
        owner0 = fig.index * PARTS + 1
        full = np.zeros((canvas.h, canvas.w), np.uint8)  # the amodal silhouette
        for name, shape, col, tex, d in parts:
            # Parts on the far side of the body are in shadow.
            shade = 1.0 - 0.3 * float(np.clip(-d / 0.15, 0, 1))
            if name == 'head':
                self._paint_head(canvas, uv, facing, b, scale, owner0 + PART_IDS['head'], full)
                continue
            texture = None if tex is None else (lambda x0, y0, x1, y1, tex=tex, shade=shade: tex(x0, y0, x1, y1) * shade)
            canvas.paint(*shape, np.asarray(col) * shade, owner0 + PART_IDS[name], texture)
            shape[0](full, np.zeros(2))
        return full

    @staticmethod
    def _paint_head(canvas, uv, facing, b, scale, owner, full):
        r = b.head_r * scale
        c = uv['head']
        f2 = np.array([facing[0], -facing[1]])
        hair = ellipse(c - f2 * 0.25 * r + [0, -0.12 * r], (r * 1.02, r * 1.05), 0)
        face = ellipse(c + f2 * 0.3 * r + [0, 0.08 * r], (r * 0.82, r * 0.9), 0)
        layers = [(hair, b.hair), (face, b.skin)] if facing[2] > 0 else [(face, b.skin), (hair, b.hair)]
        for shape, col in layers:
            canvas.paint(*shape, col, owner)
            shape[0](full, np.zeros(2))
        if facing[2] > 0.15:
            for e in ('l_eye', 'r_eye'):
                canvas.paint(*ellipse(uv[e], (0.16 * r, 0.16 * r), 0), (20, 20, 20), owner)
            canvas.paint(*ellipse(uv['nose'], (0.14 * r, 0.12 * r), 0), b.skin * 0.7, owner)

    def _annotation(self, canvas, fig, proj, full):
        uv, depth, facing, scale, _ = proj
        kps = np.zeros((17, 3))
        head_pid = fig.index * PARTS + 1 + PART_IDS['head']
        for j, name in enumerate(COCO_SOURCE):
            x, y = uv[name]
            kps[j, :2] = x, y
            xi, yi = int(math.floor(x)), int(math.floor(y))
            if not (0 <= x < W and 0 <= y < H):
                kps[j, 2] = 0
                continue
            if j <= 4:
                # Face points are labelled only where the face shows them: nose and eyes need a
                # face turned toward the camera, an ear a head not turned that ear away.
                if j <= 2:
                    if facing[2] < 0.0:
                        kps[j, 2] = 0
                        continue
                else:
                    side = 1.0 if j == 3 else -1.0
                    ear_out = np.array([side * math.cos(math.atan2(facing[0], facing[2])), 0,
                                        -side * math.sin(math.atan2(facing[0], facing[2]))])
                    if ear_out[2] < -0.35:
                        kps[j, 2] = 0
                        continue
            owners = [fig.index * PARTS + 1 + PART_IDS[p] for p in KEYPOINT_PARTS[name]]
            kps[j, 2] = 2 if canvas.ids[yi, xi] in owners else 1
        # PoseTrack18's head_bottom (the neck) and head_top, for the PoseTrack-style ground truth.
        extra = {}
        near = [fig.index * PARTS + 1 + PART_IDS[p] for p in ('head', 'neck', 'torso')]
        for name in ('neck', 'head_top'):
            x, y = uv[name]
            v = 0 if not (0 <= x < W and 0 <= y < H) else (2 if canvas.ids[int(y), int(x)] in near else 1)
            extra[name] = (float(x), float(y), v)
        ys, xs = np.nonzero(full)
        if len(xs) == 0:
            return dict(keypoints=kps, bbox=None, area=0.0, track_id=fig.index, extra=extra)
        bbox = [float(xs.min()), float(ys.min()), float(xs.max() + 1 - xs.min()), float(ys.max() + 1 - ys.min())]
        return dict(keypoints=kps, bbox=bbox, area=float(len(xs)), track_id=fig.index, extra=extra)


class Degradations:
    """The hard split: moving occluders, motion blur, defocus, noise, dimming bursts, light drift."""

    def __init__(self, rng, scene):
        self.rng_seed = int(rng.integers(0, 2 ** 31))
        n = scene.n
        self.occluders = []
        for _ in range(rng.integers(1, 4)):
            fig = scene.figures[rng.integers(0, len(scene.figures))]
            t0 = int(rng.integers(2, n - 2))
            uv, _, _, scale, _ = scene.project(fig, t0)
            target = uv['pelvis'] + [0, -0.2 * scale] + rng.normal(0, 0.1 * scale, 2)
            self.occluders.append(Occluder(rng, target, t0, n))
        if rng.random() < 0.3:   # a slow big occluder
            occ = Occluder(rng, rng.uniform([0, 0], [W, H]), n // 2, n)
            occ.v *= 0.15
            occ.size *= 1.6
            self.occluders.append(occ)
        self.blur = rng.random(n) < 0.25
        self.blur_len = rng.integers(3, 12, n)
        self.blur_ang = rng.uniform(0, 180, n)
        self.defocus = np.zeros(n)
        for _ in range(rng.integers(0, 3)):
            t = rng.integers(0, n)
            self.defocus[t:t + rng.integers(2, 5)] = rng.uniform(1.2, 2.5)
        self.noise = rng.uniform(2, 12)
        self.gain = np.linspace(1.0, 1.0 + rng.uniform(-0.35, 0.35), n)
        for _ in range(rng.integers(0, 3)):
            t = rng.integers(0, n)
            self.gain[t:t + rng.integers(2, 5)] *= rng.uniform(0.3, 0.6)
        self.cast = np.linspace(np.ones(3), rng.uniform(0.85, 1.15, 3), n)

    def occlude(self, canvas, t):
        for occ in self.occluders:
            canvas.paint(*occ.shape(t), occ.colour, OCCLUDER, occ.tex)

    def apply(self, img, t):
        if self.blur[t]:
            k = int(self.blur_len[t])
            kern = np.zeros((k, k), np.float32)
            kern[k // 2, :] = 1.0 / k
            rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), float(self.blur_ang[t]), 1.0)
            kern = cv2.warpAffine(kern, rot, (k, k))
            kern /= max(kern.sum(), 1e-6)
            img = cv2.filter2D(img, -1, kern, borderType=cv2.BORDER_REFLECT)
        if self.defocus[t] > 0:
            img = cv2.GaussianBlur(img, (0, 0), float(self.defocus[t]))
        img = img * self.gain[t] * self.cast[t]
        noise = np.random.default_rng([self.rng_seed, t]).standard_normal(img.shape, dtype=np.float32)
        return img + noise * np.float32(self.noise)
