"""Articulated 3D figures in COCO-17 layout and the actions that move them.

A figure is a skeleton in body units (height 1), posed by joint angles that an action computes from
time, turned by a yaw angle and projected orthographically at a per-figure pixel scale. Everything
random comes from the numpy Generator handed in, so a seed fixes a figure and its whole motion.
"""
import math

import numpy as np

KEYPOINTS = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
             'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
             'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle']
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
            [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
ACTIONS = ['walk', 'run', 'wave', 'jacks', 'sinusoids', 'squat', 'turn', 'kick']


def rot_x(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else v


def limb_dir(flex, abduct, side):
    """Direction of a limb hanging down, raised `flex` forward (+z) and `abduct` outward (side ±1)."""
    d = np.array([0.0, -1.0, 0.0])
    d = rot_z(side * abduct) @ d      # outward: left side is +x
    d = rot_x(-flex) @ d              # forward: toward +z
    return d


def bend(upper, amount, twist):
    """Forearm/shin direction: `upper` bent by `amount`, toward forward (twist 0) or the midline."""
    fwd = np.array([0.0, 0.0, 1.0]) - upper[2] * upper
    if np.linalg.norm(fwd) < 1e-3:
        fwd = np.array([0.0, 1.0, 0.0]) - upper[1] * upper
    fwd = _unit(fwd)
    other = _unit(np.cross(upper, fwd))
    perp = math.cos(twist) * fwd + math.sin(twist) * other
    return _unit(math.cos(amount) * upper + math.sin(amount) * perp)


class Body:
    """Random proportions and clothing of one figure."""

    def __init__(self, rng):
        g = rng.uniform(0.92, 1.08)
        self.leg_up = 0.245 * g * rng.uniform(0.95, 1.05)
        self.leg_lo = 0.245 * g * rng.uniform(0.95, 1.05)
        self.arm_up = 0.17 * rng.uniform(0.93, 1.07)
        self.arm_lo = 0.155 * rng.uniform(0.93, 1.07)
        self.torso = 0.29 * rng.uniform(0.93, 1.07)
        self.shoulder_w = 0.125 * rng.uniform(0.88, 1.15)
        self.hip_w = 0.085 * rng.uniform(0.88, 1.15)
        self.head_r = 0.062 * rng.uniform(0.9, 1.1)
        self.bulk = rng.uniform(0.85, 1.25)        # limb thickness
        skin = np.array([rng.uniform(60, 240)] * 3) * np.array([1.0, 0.78, 0.62])
        self.skin = np.clip(skin + rng.normal(0, 10, 3), 20, 255)
        self.hair = rng.uniform(10, 120, 3) * rng.uniform(0.3, 1.0)
        self.shirt = rng.uniform(0, 255, 3)
        self.pants = rng.uniform(0, 255, 3) * rng.uniform(0.3, 1.0)
        self.shoes = rng.uniform(0, 90, 3)
        self.sleeves = rng.random() < 0.5           # long sleeves: forearms in shirt colour
        self.stripes = None if rng.random() < 0.5 else (rng.uniform(3, 9), rng.uniform(0, math.pi),
                                                        rng.uniform(0, 255, 3))


class Action:
    """Joint angles, bounce, lean and ground velocity as functions of time (seconds)."""

    def __init__(self, kind, rng):
        self.kind = kind
        self.phase = rng.uniform(0, 2 * math.pi)
        self.rng_params = rng.uniform(0, 1, 64)      # per-action constants, fixed per figure
        self.freq = {'walk': rng.uniform(0.9, 1.5), 'run': rng.uniform(1.8, 2.6),
                     'wave': rng.uniform(1.5, 3.0), 'jacks': rng.uniform(1.0, 1.8),
                     'sinusoids': rng.uniform(0.6, 1.6), 'squat': rng.uniform(0.6, 1.2),
                     'turn': rng.uniform(0.3, 0.8), 'kick': rng.uniform(0.8, 1.4)}[kind]
        self.amp = rng.uniform(0.8, 1.2)
        self.waving = rng.integers(1, 4)             # 1 left, 2 right, 3 both
        self.sin_amp = rng.uniform(0.3, 1.2, 16)
        self.sin_freq = rng.uniform(0.5, 2.5, 16)
        self.sin_phase = rng.uniform(0, 2 * math.pi, 16)
        self.sin_base = rng.uniform(-0.3, 0.6, 16)

    def pose(self, t):
        """-> dict of angles (radians), 'bounce' (body units), 'lean' (forward, radians),
        'speed' (body heights per second along the facing direction), 'yaw_rate' (rad/s)."""
        w = 2 * math.pi * self.freq
        ph = w * t + self.phase
        a = self.amp
        p = dict(lhf=0.0, rhf=0.0, lha=0.05, rha=0.05, lk=0.05, rk=0.05,
                 lsf=0.0, rsf=0.0, lsa=0.15, rsa=0.15, le=0.15, re=0.15, let=0.0, ret=0.0,
                 bounce=0.0, lean=0.0, side_lean=0.0, speed=0.0, yaw_rate=0.0, head_yaw=0.0)
        k = self.kind
        if k in ('walk', 'run'):
            run = k == 'run'
            A = (0.75 if run else 0.5) * a
            p['lhf'] = A * math.sin(ph)
            p['rhf'] = -A * math.sin(ph)
            kn = 1.6 if run else 0.8
            p['lk'] = 0.1 + kn * max(0.0, math.sin(ph - 1.2)) ** 1.5
            p['rk'] = 0.1 + kn * max(0.0, math.sin(ph + math.pi - 1.2)) ** 1.5
            arm = (0.9 if run else 0.5) * a
            p['lsf'] = -arm * math.sin(ph)
            p['rsf'] = arm * math.sin(ph)
            p['le'] = 1.5 if run else 0.25 + 0.2 * max(0.0, -math.sin(ph))
            p['re'] = 1.5 if run else 0.25 + 0.2 * max(0.0, math.sin(ph))
            p['bounce'] = (0.04 if run else 0.015) * abs(math.sin(ph))
            p['lean'] = 0.25 if run else 0.05
            p['speed'] = (1.3 if run else 0.7) * a
        elif k == 'wave':
            for side in ('l', 'r'):
                on = (self.waving & (1 if side == 'l' else 2)) != 0
                if on:
                    p[side + 'sa'] = 2.3 + 0.5 * math.sin(ph * 0.5)
                    p[side + 'e'] = 0.9 + 0.7 * math.sin(ph)
                    p[side + 'et'] = 1.57
            p['side_lean'] = 0.08 * math.sin(ph * 0.5)
            p['head_yaw'] = 0.4 * math.sin(ph * 0.3)
            p['lk'] = p['rk'] = 0.1
        elif k == 'jacks':
            s = 0.5 - 0.5 * math.cos(ph)
            p['lsa'] = p['rsa'] = 0.15 + 2.7 * s * a
            p['lha'] = p['rha'] = 0.05 + 0.4 * s
            p['lk'] = p['rk'] = 0.15 + 0.3 * (1 - s)
            p['bounce'] = 0.06 * abs(math.sin(ph))
        elif k == 'squat':
            s = 0.5 - 0.5 * math.cos(ph)
            p['lhf'] = p['rhf'] = 1.3 * s
            p['lk'] = p['rk'] = 2.2 * s
            p['lsf'] = p['rsf'] = 1.4 * s
            p['lean'] = 0.5 * s
            p['bounce'] = -0.22 * s
        elif k == 'turn':
            p['yaw_rate'] = 2 * math.pi * self.freq * (1 if self.rng_params[0] < 0.5 else -1)
            p['lsf'] = 0.6 * math.sin(ph * 2)
            p['rsf'] = -0.6 * math.sin(ph * 2)
            p['lsa'] = p['rsa'] = 0.4 + 0.3 * math.sin(ph)
            p['le'] = p['re'] = 0.6
        elif k == 'kick':
            s = max(0.0, math.sin(ph)) ** 2
            leg = 'l' if self.rng_params[1] < 0.5 else 'r'
            p[leg + 'hf'] = 1.5 * s * a
            p[leg + 'k'] = 1.4 * (1 - s) * max(0.0, math.sin(ph)) + 0.05
            p['lsa'] = p['rsa'] = 0.6 + 0.6 * s
            p['le'] = p['re'] = 1.0
            p['lean'] = -0.2 * s
        else:  # sinusoids: every joint on its own
            names = ['lhf', 'rhf', 'lha', 'rha', 'lk', 'rk', 'lsf', 'rsf', 'lsa', 'rsa', 'le', 're',
                     'lean', 'side_lean', 'head_yaw', 'let']
            scale = [1.0, 1.0, 0.4, 0.4, 1.2, 1.2, 1.8, 1.8, 1.8, 1.8, 1.6, 1.6, 0.3, 0.2, 0.8, 1.5]
            for i, n in enumerate(names):
                v = self.sin_base[i] + self.sin_amp[i] * math.sin(2 * math.pi * self.sin_freq[i] * t
                                                                   + self.sin_phase[i])
                p[n] = v * scale[i]
            for n in ('lk', 'rk', 'le', 're', 'lha', 'rha'):
                p[n] = abs(p[n])
            p['ret'] = p['let']
        return p


def skeleton(body, pose, yaw):
    """3D joints in camera-aligned body units (x right in the image, y up, z toward the camera),
    origin at the point between the feet on the ground. Returns (points dict, head facing vector)."""
    b = body
    R = rot_y(yaw)                                   # yaw 0: facing the camera
    lean = rot_x(pose['lean']) @ rot_z(pose['side_lean'])
    pelvis = np.array([0.0, b.leg_up + b.leg_lo + 0.035 + pose['bounce'], 0.0])
    pts = {}
    # Facing the camera, the figure's left appears on the image's right (+x).
    for side, sx in (('l', 1.0), ('r', -1.0)):
        hip = pelvis + np.array([sx * b.hip_w, 0.0, 0.0])
        thigh = limb_dir(pose[side + 'hf'], pose[side + 'ha'], sx)
        knee = hip + b.leg_up * thigh
        shin_dir = _unit(rot_x(pose[side + 'k']) @ thigh)  # knee bends backward
        ankle = knee + b.leg_lo * shin_dir
        toe = ankle + np.array([0.0, -0.02, 0.09])
        pts[side + '_hip'], pts[side + '_knee'], pts[side + '_ankle'], pts[side + '_toe'] = hip, knee, ankle, toe
    neck = pelvis + lean @ np.array([0.0, b.torso, 0.0])
    for side, sx in (('l', 1.0), ('r', -1.0)):
        sh = pelvis + lean @ np.array([sx * b.shoulder_w, b.torso - 0.02, 0.0])
        up = lean @ limb_dir(pose[side + 'sf'], pose[side + 'sa'], sx)
        elbow = sh + b.arm_up * up
        twist = pose[side + 'et'] * (-sx)
        lo = bend(up, pose[side + 'e'], twist)
        wrist = elbow + b.arm_lo * lo
        hand = wrist + 0.045 * lo
        pts[side + '_shoulder'], pts[side + '_elbow'], pts[side + '_wrist'], pts[side + '_hand'] = sh, elbow, wrist, hand
    pts['neck'] = neck
    head_c = neck + lean @ np.array([0.0, 0.035 + b.head_r, 0.0])
    H = lean @ rot_y(pose['head_yaw'])
    pts['head'] = head_c
    pts['nose'] = head_c + H @ np.array([0.0, -0.012, b.head_r * 1.02])
    for side, sx in (('l', 1.0), ('r', -1.0)):
        pts[side + '_eye'] = head_c + H @ np.array([sx * 0.45 * b.head_r, 0.22 * b.head_r, 0.86 * b.head_r])
        pts[side + '_ear'] = head_c + H @ np.array([sx * 1.0 * b.head_r, 0.0, -0.05 * b.head_r])
    pts['head_top'] = head_c + H @ np.array([0.0, b.head_r, 0.0])
    pts['pelvis'] = pelvis
    out = {k: R @ v for k, v in pts.items()}
    facing = R @ H @ np.array([0.0, 0.0, 1.0])
    return out, facing


COCO_SOURCE = ['nose', 'l_eye', 'r_eye', 'l_ear', 'r_ear', 'l_shoulder', 'r_shoulder', 'l_elbow',
               'r_elbow', 'l_wrist', 'r_wrist', 'l_hip', 'r_hip', 'l_knee', 'r_knee', 'l_ankle',
               'r_ankle']
