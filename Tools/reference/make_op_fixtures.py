#!/usr/bin/env python3
"""Per-op fixtures for EngineTests: conv variants, deformable conv, upsampling, affine warp.

References are computed in float64 from float32 inputs (so they are the exact answer up to
float64 rounding), with torch.nn.functional.conv2d + batch_norm and torchvision.ops.deform_conv2d
(mmcv DeformConv2d layout). The affine warp reference is a numpy re-implementation of OpenCV's
fixed-point warpAffine (INTER_LINEAR, BORDER_CONSTANT 0) — cv2 is not installed here.
Writes Tests/EngineTests/Fixtures/<case>.<tensor>.npy and a cases.txt manifest.
Usage: python3 Tools/reference/make_op_fixtures.py
"""
import os
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import deform_conv2d

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures")
rng = np.random.default_rng(20191)
manifest = []


def save(case, name, a, dtype=np.float32):
    np.save(os.path.join(OUT, f"{case}.{name}.npy"), np.ascontiguousarray(a, dtype=dtype))


def f32(a):
    return np.asarray(a, dtype=np.float32)


def conv_case(case, n, cin, cout, h, w, k, stride=1, pad=0, dil=1, groups=1, bias=True, bn=False,
              residual=False, relu=False, act_scale=1.0, positive_input=False):
    kh, kw = (k, k) if isinstance(k, int) else k
    fan_in = cin // groups * kh * kw
    x = rng.standard_normal((n, cin, h, w)) * act_scale
    if positive_input:  # post-ReLU activations, like HRNet's
        x = np.maximum(x, 0)
    x = f32(x)
    wt = f32(rng.standard_normal((cout, cin // groups, kh, kw)) * np.sqrt(2.0 / fan_in))
    b = f32(rng.standard_normal(cout) * 0.1) if bias else None
    xt = torch.from_numpy(x).double()
    y = F.conv2d(xt, torch.from_numpy(wt).double(), None if b is None else torch.from_numpy(b).double(),
                 stride=stride, padding=pad, dilation=dil, groups=groups)
    params = dict(n=n, cin=cin, cout=cout, h=h, w=w, kh=kh, kw=kw, stride=stride, pad=pad, dil=dil,
                  groups=groups, bias=int(bias), bn=int(bn), residual=int(residual), relu=int(relu))
    save(case, "x", x)
    save(case, "weight", wt)
    if b is not None:
        save(case, "bias", b)
    if bn:
        gamma = f32(rng.uniform(0.5, 1.5, cout))
        beta = f32(rng.standard_normal(cout) * 0.2)
        mean = f32(rng.standard_normal(cout) * 0.3)
        var = f32(rng.uniform(0.3, 2.0, cout))
        for nm, a in (("bn_weight", gamma), ("bn_bias", beta), ("bn_mean", mean), ("bn_var", var)):
            save(case, nm, a)
        y = F.batch_norm(y, torch.from_numpy(mean).double(), torch.from_numpy(var).double(),
                         torch.from_numpy(gamma).double(), torch.from_numpy(beta).double(), False, 0.0, 1e-5)
    if residual:
        r = f32(rng.standard_normal(tuple(y.shape)))
        save(case, "residual", r)
        y = y + torch.from_numpy(r).double()
    if relu:
        y = torch.relu(y)
    save(case, "y", y.numpy())
    manifest.append("conv " + case + " " + " ".join(f"{k}={v}" for k, v in params.items()))


def deform_case(case, n, cin, cout, h, w, pad, dil, dg, stride=1, groups=1, bias=False, offset_scale=2.0,
                special=False):
    k = 3
    ho = (h + 2 * pad - dil * (k - 1) - 1) // stride + 1
    wo = (w + 2 * pad - dil * (k - 1) - 1) // stride + 1
    x = f32(rng.standard_normal((n, cin, h, w)))
    wt = f32(rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / (cin // groups * 9)))
    b = f32(rng.standard_normal(cout) * 0.1) if bias else None
    off = rng.standard_normal((n, 2 * dg * 9, ho, wo)) * offset_scale
    if special:
        # Integer offsets, samples landing exactly on the -1/H/W borders, and far-outside samples.
        flat = off.reshape(-1)
        m = flat.size
        idx = rng.choice(m, m // 3, replace=False)
        flat[idx[: m // 9]] = np.round(flat[idx[: m // 9]])
        flat[idx[m // 9: 2 * m // 9]] = rng.choice([-h - 1.0, h + 1.0, -1.0, float(h), 40.0, -40.0], m // 9)
        flat[idx[2 * m // 9:]] = rng.uniform(-0.999, 0.999, len(idx[2 * m // 9:])) + rng.choice([-1, 0, 1], len(idx[2 * m // 9:]))
    off = f32(off)
    y = deform_conv2d(torch.from_numpy(x).double(), torch.from_numpy(off).double(), torch.from_numpy(wt).double(),
                      None if b is None else torch.from_numpy(b).double(), stride=stride, padding=pad, dilation=dil)
    save(case, "x", x)
    save(case, "weight", wt)
    save(case, "offset", off)
    if b is not None:
        save(case, "bias", b)
    save(case, "y", y.numpy())
    manifest.append(f"deform {case} n={n} cin={cin} cout={cout} h={h} w={w} stride={stride} pad={pad} dil={dil} "
                    f"groups={groups} dg={dg} bias={int(bias)}")


def cv_round(v):
    return np.rint(v).astype(np.int64)  # cvRound: nearest, ties to even


def warp_reference(img, M, out_w, out_h):
    """OpenCV (<= 4.10) warpAffine INTER_LINEAR on uint8 with BORDER_CONSTANT 0, in integers."""
    m = np.array(M, dtype=np.float64).reshape(6).copy()
    d = m[0] * m[4] - m[1] * m[3]
    d = 1.0 / d if d != 0 else 0.0
    a11, a22 = m[4] * d, m[0] * d
    m[0] = a11; m[1] *= -d; m[3] *= -d; m[4] = a22
    b1 = -m[0] * m[2] - m[1] * m[5]
    b2 = -m[3] * m[2] - m[4] * m[5]
    m[2], m[5] = b1, b2
    H, W, _ = img.shape
    xs = np.arange(out_w, dtype=np.float64)
    ys = np.arange(out_h, dtype=np.float64)
    X0 = cv_round((m[1] * ys + m[2]) * 1024) + 16
    Y0 = cv_round((m[4] * ys + m[5]) * 1024) + 16
    X = (X0[:, None] + cv_round(m[0] * xs * 1024)[None, :]) >> 5
    Y = (Y0[:, None] + cv_round(m[3] * xs * 1024)[None, :]) >> 5
    sx, sy, fx, fy = X >> 5, Y >> 5, X & 31, Y & 31
    out = np.zeros((out_h, out_w, 3), np.int64)
    pad = np.zeros((H + 2, W + 2, 3), np.int64)
    pad[1:-1, 1:-1] = img

    def at(yy, xx):
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        v = pad[np.clip(yy + 1, 0, H + 1), np.clip(xx + 1, 0, W + 1)]
        return v * inside[..., None]
    w00 = ((32 - fy) * (32 - fx) * 32)[..., None]
    w01 = ((32 - fy) * fx * 32)[..., None]
    w10 = (fy * (32 - fx) * 32)[..., None]
    w11 = (fy * fx * 32)[..., None]
    out = (at(sy, sx) * w00 + at(sy, sx + 1) * w01 + at(sy + 1, sx) * w10 + at(sy + 1, sx + 1) * w11 + (1 << 14)) >> 15
    return np.clip(out, 0, 255).astype(np.uint8)


def warp_float_bilinear(img, M, out_w, out_h):
    """Exact float bilinear warp (what newer OpenCV's float path approximates), for the tolerance note."""
    A = np.vstack([np.array(M, np.float64).reshape(2, 3), [0, 0, 1]])
    inv = np.linalg.inv(A)
    H, W, _ = img.shape
    gx, gy = np.meshgrid(np.arange(out_w, dtype=np.float64), np.arange(out_h, dtype=np.float64))
    sx = inv[0, 0] * gx + inv[0, 1] * gy + inv[0, 2]
    sy = inv[1, 0] * gx + inv[1, 1] * gy + inv[1, 2]
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    ax, ay = (sx - x0)[..., None], (sy - y0)[..., None]
    pad = np.zeros((H + 2, W + 2, 3))
    pad[1:-1, 1:-1] = img

    def at(yy, xx):
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        return pad[np.clip(yy + 1, 0, H + 1), np.clip(xx + 1, 0, W + 1)] * inside[..., None]
    v = (at(y0, x0) * (1 - ax) * (1 - ay) + at(y0, x0 + 1) * ax * (1 - ay) + at(y0 + 1, x0) * (1 - ax) * ay
         + at(y0 + 1, x0 + 1) * ax * ay)
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


def affine(center, scale, rot_deg, out_w, out_h):
    """mmpose get_affine_transform (shift 0): source → destination 2x3 via three point pairs."""
    src_w = scale[0]
    rot = np.pi * rot_deg / 180
    sn, cs = np.sin(rot), np.cos(rot)
    src_dir = np.array([0 * cs - (src_w * -0.5) * sn, 0 * sn + (src_w * -0.5) * cs])
    dst_dir = np.array([0.0, out_w * -0.5])
    src = np.zeros((3, 2)); dst = np.zeros((3, 2))
    src[0] = center; src[1] = center + src_dir
    dst[0] = [out_w * 0.5, out_h * 0.5]; dst[1] = dst[0] + dst_dir

    def third(a, b):
        d = a - b
        return b + np.array([-d[1], d[0]])
    src[2] = third(src[0], src[1]); dst[2] = third(dst[0], dst[1])
    P = np.hstack([src, np.ones((3, 1))])
    return np.linalg.solve(P, dst).T  # 2x3


def warp_case(case, img_w, img_h, center, scale, rot, out_w, out_h):
    img = rng.integers(0, 256, (img_h, img_w, 3), dtype=np.uint8)
    M = affine(np.array(center, float), np.array(scale, float), rot, out_w, out_h)
    ref = warp_reference(img, M, out_w, out_h)
    flt = warp_float_bilinear(img, M, out_w, out_h)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    t = ref.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    norm = (t - mean[:, None, None]) / std[:, None, None]
    save(case, "rgb", img, np.uint8)
    save(case, "matrix", M.reshape(6), np.float64)
    save(case, "y", norm)
    lsb = np.abs(ref.astype(int) - flt.astype(int))
    manifest.append(f"warp {case} w={img_w} h={img_h} ow={out_w} oh={out_h} "
                    f"fixed_vs_float_max_lsb={lsb.max()} fixed_vs_float_frac_diff={np.mean(lsb > 0):.4f}")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy") or f == "cases.txt":
            os.remove(os.path.join(OUT, f))
    conv_case("conv1x1_bn_relu", 1, 16, 8, 9, 7, 1, bn=True, bias=False, relu=True)
    conv_case("conv1x1_bias", 2, 12, 17, 6, 5, 1, bias=True)
    conv_case("conv1x1_s2_bn", 1, 8, 16, 11, 9, 1, stride=2, bias=False, bn=True)
    conv_case("conv3x3_s1_bias_res_relu", 1, 8, 12, 11, 9, 3, pad=1, bias=True, residual=True, relu=True)
    conv_case("conv3x3_s2_bn_relu_odd", 1, 6, 10, 13, 11, 3, stride=2, pad=1, bias=False, bn=True, relu=True)
    conv_case("conv3x3_s2_stem", 1, 3, 8, 32, 24, 3, stride=2, pad=1, bias=False, bn=True, relu=True)
    conv_case("conv3x3_dil3", 1, 16, 24, 20, 15, 3, pad=3, dil=3, bias=False)
    conv_case("conv3x3_dil12", 1, 8, 14, 30, 26, 3, pad=12, dil=12, bias=False)
    conv_case("conv3x3_groups4", 1, 16, 8, 10, 9, 3, pad=1, groups=4, bias=True)
    conv_case("conv3x3_n2_bn_res_relu", 2, 32, 32, 12, 10, 3, pad=1, bias=False, bn=True, residual=True, relu=True)
    conv_case("conv5x3_s1_p2", 1, 5, 7, 9, 11, (5, 3), pad=2, bias=True)
    conv_case("conv3x3_nopad", 1, 7, 5, 8, 8, 3, pad=0, bias=False)
    # Realistic magnitudes for the Winograd accuracy check: post-ReLU input, BN, residual, ReLU.
    conv_case("conv3x3_48_realistic", 1, 48, 48, 24, 18, 3, pad=1, bias=False, bn=True, residual=True, relu=True,
              act_scale=1.5, positive_input=True)
    conv_case("conv3x3_dil6_realistic", 1, 32, 54, 24, 18, 3, pad=6, dil=6, bias=False, act_scale=1.0,
              positive_input=True)
    deform_case("deform_dg1_random", 1, 4, 6, 9, 8, pad=1, dil=1, dg=1, offset_scale=2.0)
    deform_case("deform_dg2_s2_bias_special", 1, 6, 4, 11, 10, pad=1, dil=1, dg=2, stride=2, bias=True, special=True)
    deform_case("deform_dg17_dil6_large", 1, 17, 17, 13, 11, pad=6, dil=6, dg=17, offset_scale=8.0)
    deform_case("deform_dg17_dil12_n2", 2, 17, 17, 13, 12, pad=12, dil=12, dg=17, offset_scale=3.0, special=True)
    deform_case("deform_groups2_dg2", 1, 8, 6, 9, 9, pad=2, dil=2, dg=2, groups=2, offset_scale=1.5)
    # Nearest upsampling as mmpose's fuse layers use it.
    x = f32(rng.standard_normal((2, 3, 5, 4)))
    for fct in (2, 4):
        save(f"upsample_x{fct}", "x", x)
        save(f"upsample_x{fct}", "y", F.interpolate(torch.from_numpy(x), scale_factor=fct, mode="nearest").numpy())
        manifest.append(f"upsample upsample_x{fct} factor={fct}")
    warp_case("warp_rot30", 61, 47, (30.0, 22.0), (40.0, 53.3), 30.0, 24, 32)
    warp_case("warp_partly_outside", 40, 30, (5.0, 27.0), (60.0, 80.0), -15.0, 36, 48)
    warp_case("warp_upscale", 23, 17, (11.3, 8.1), (12.0, 16.0), 0.0, 48, 64)
    with open(os.path.join(OUT, "cases.txt"), "w") as fh:
        fh.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(manifest)} cases, {total / 1e6:.2f} MB to {OUT}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
