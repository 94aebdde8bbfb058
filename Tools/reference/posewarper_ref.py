"""Independent PyTorch reference of the networks and decoding posewarper implements.

Written for this project from a reading of mmpose 0.x (backbones/hrnet.py, necks/posewarper_neck.py,
heads/topdown_heatmap_simple_head.py, core/evaluation/top_down_eval.py,
core/post_processing/post_transforms.py) and the 2019 PoseWarper release; state-dict keys, order and
shapes follow mmpose so the checkpoints it saves look like mmpose's own.

Used by make_model_fixtures.py (tiny fixtures for `swift test`), parity.py (`make parity`) and
bench_models_torch.py (`make bench`).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import deform_conv2d

# ---------------------------------------------------------------------------------------------
# Configurations

def hrnet_config(widths, blocks=4, modules=(1, 4, 3), stage1_channels=64, stage1_blocks=4):
    """mmpose `extra` for an HRNet with the given branch widths (W32: [32, 64, 128, 256]);
    `blocks` is one count for stages 2-4 or a tuple of three."""
    per_stage = tuple(blocks) if isinstance(blocks, (tuple, list)) else (blocks,) * 3
    return dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(stage1_blocks,),
                    num_channels=(stage1_channels,)),
        stage2=dict(num_modules=modules[0], num_branches=2, block='BASIC', num_blocks=(per_stage[0],) * 2,
                    num_channels=tuple(widths[:2])),
        stage3=dict(num_modules=modules[1], num_branches=3, block='BASIC', num_blocks=(per_stage[1],) * 3,
                    num_channels=tuple(widths[:3])),
        stage4=dict(num_modules=modules[2], num_branches=4, block='BASIC', num_blocks=(per_stage[2],) * 4,
                    num_channels=tuple(widths[:4])),
    )


def tiny_config():
    """Fixture-sized HRNet: every structural feature of the real one, few channels."""
    return hrnet_config([4, 8, 16, 32], blocks=1, modules=(1, 2, 1), stage1_channels=8, stage1_blocks=1)


DEFAULT_DILATIONS = (3, 6, 12, 18, 24)
DEFAULT_FRAME_WEIGHTS = (0.3, 0.1, 0.25, 0.25, 0.1)

# ---------------------------------------------------------------------------------------------
# Building blocks (mmpose names: conv1/bn1/..., downsample.0/1)

def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        skip = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + skip)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        mid = cout // self.expansion
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = conv3x3(mid, mid, stride)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        skip = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + skip)


BLOCKS = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}


def make_blocks(block, cin, cout, count, stride=1):
    """A sequence of `count` blocks; the first projects with a 1x1+BN downsample when shapes change."""
    downsample = None
    if stride != 1 or cin != cout:
        downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    layers = [block(cin, cout, stride, downsample)]
    layers += [block(cout, cout) for _ in range(1, count)]
    return nn.Sequential(*layers)


class HRModule(nn.Module):
    def __init__(self, block, num_blocks, channels, multiscale_output):
        super().__init__()
        n = len(channels)
        self.num_branches = n
        self.branches = nn.ModuleList(
            [make_blocks(block, channels[b], channels[b] * block.expansion, num_blocks[b]) for b in range(n)])
        channels = [c * block.expansion for c in channels]
        self.out_channels = channels
        fuse = []
        if n > 1:
            for i in range(n if multiscale_output else 1):
                row = []
                for j in range(n):
                    if j > i:
                        row.append(nn.Sequential(nn.Conv2d(channels[j], channels[i], 1, bias=False),
                                                 nn.BatchNorm2d(channels[i]),
                                                 nn.Upsample(scale_factor=2 ** (j - i), mode='nearest')))
                    elif j == i:
                        row.append(None)
                    else:
                        chain = []
                        for k in range(i - j):
                            last = k == i - j - 1
                            cout = channels[i] if last else channels[j]
                            steps = [conv3x3(channels[j], cout, 2), nn.BatchNorm2d(cout)]
                            if not last:
                                steps.append(nn.ReLU())
                            chain.append(nn.Sequential(*steps))
                        row.append(nn.Sequential(*chain))
                fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU()

    def forward(self, xs):
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        if self.num_branches == 1:
            return xs
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = 0
            for j in range(self.num_branches):
                y = y + (xs[j] if j == i else row[j](xs[j]))
            out.append(self.relu(y))
        return out


class HRNet(nn.Module):
    """mmpose 0.x HRNet (stem 64, layer1, transitions, stages 2-4); returns [branch-0 features]."""

    def __init__(self, extra):
        super().__init__()
        self.extra = extra
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        s1 = extra['stage1']
        block = BLOCKS[s1['block']]
        out1 = s1['num_channels'][0] * block.expansion
        self.layer1 = make_blocks(block, 64, out1, s1['num_blocks'][0])
        pre = [out1]
        for s in (2, 3, 4):
            cfg = extra[f'stage{s}']
            block = BLOCKS[cfg['block']]
            cur = [c * block.expansion for c in cfg['num_channels']]
            setattr(self, f'transition{s - 1}', self._transition(pre, cur))
            modules = []
            for m in range(cfg['num_modules']):
                multiscale = not (s == 4 and m == cfg['num_modules'] - 1
                                  and not cfg.get('multiscale_output', False))
                modules.append(HRModule(block, cfg['num_blocks'], cfg['num_channels'], multiscale))
            setattr(self, f'stage{s}', nn.Sequential(*modules))
            pre = cur
        self.out_channels = pre[0]

    @staticmethod
    def _transition(pre, cur):
        layers = []
        for i in range(len(cur)):
            if i < len(pre):
                if cur[i] != pre[i]:
                    layers.append(nn.Sequential(conv3x3(pre[i], cur[i]), nn.BatchNorm2d(cur[i]), nn.ReLU()))
                else:
                    layers.append(None)
            else:
                chain = []
                for j in range(i + 1 - len(pre)):
                    cout = cur[i] if j == i - len(pre) else pre[-1]
                    chain.append(nn.Sequential(conv3x3(pre[-1], cout, 2), nn.BatchNorm2d(cout), nn.ReLU()))
                layers.append(nn.Sequential(*chain))
        return nn.ModuleList(layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        ys = [self.layer1(x)]
        for s in (2, 3, 4):
            trans = getattr(self, f'transition{s - 1}')
            # mmpose quirk: every existing transition reads the LAST branch of the previous stage
            # (stage 2 has a single input, so it is the layer1 output there).
            xs = [ys[i] if t is None else t(ys[-1]) for i, t in enumerate(trans)]
            for module in getattr(self, f'stage{s}'):
                xs = module(xs)
            ys = xs
        return ys


class TopDownModel(nn.Module):
    """HRNet + TopdownHeatmapSimpleHead without deconvolutions (final_layer 1x1 with bias)."""

    def __init__(self, extra, num_joints=17):
        super().__init__()
        self.backbone = HRNet(extra)
        self.keypoint_head = nn.Module()
        self.keypoint_head.final_layer = nn.Conv2d(self.backbone.out_channels, num_joints, 1)

    def forward(self, x):
        return self.keypoint_head.final_layer(self.backbone(x)[0])


def deform_conv_grid_sample(x, offset, weight, dilation):
    """The same DCNv1 (3x3, stride 1, padding = dilation, one deform group per input channel) as
    torchvision's deform_conv2d, written with grid_sample: its CPU backward is far faster, which
    is what training the neck needs. Zero padding with align_corners=True gives mmcv's rule
    (out-of-image corners count 0, fully outside samples are 0)."""
    n, c, h, w = x.shape
    taps = weight.shape[2] * weight.shape[3]
    off = offset.view(n, c, taps, 2, h, w)
    ys = torch.arange(h, dtype=x.dtype, device=x.device).view(1, 1, 1, h, 1)
    xs = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, 1, 1, w)
    k = torch.arange(taps, device=x.device)
    ky = ((k // 3 - 1) * dilation).to(x.dtype).view(1, 1, taps, 1, 1)
    kx = ((k % 3 - 1) * dilation).to(x.dtype).view(1, 1, taps, 1, 1)
    py = ys + ky + off[:, :, :, 0]
    px = xs + kx + off[:, :, :, 1]
    grid = torch.stack((px * (2.0 / max(w - 1, 1)) - 1.0, py * (2.0 / max(h - 1, 1)) - 1.0), dim=-1)
    sampled = F.grid_sample(x.reshape(n * c, 1, h, w), grid.reshape(n * c, taps * h, w, 2),
                            mode='bilinear', padding_mode='zeros', align_corners=True)
    sampled = sampled.view(n, c * taps, h * w)
    return torch.matmul(weight.reshape(weight.shape[0], c * taps), sampled).view(n, -1, h, w)


class DeformConv(nn.Module):
    """mmcv DeformConv2d (v1, no bias) through torchvision's deform_conv2d (same offset layout),
    or through `deform_conv_grid_sample` when `use_grid_sample` is set (training)."""

    def __init__(self, channels, dilation, groups):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, channels // 1, 3, 3))
        self.dilation = dilation
        self.use_grid_sample = False

    def forward(self, x, offset):
        if self.use_grid_sample:
            return deform_conv_grid_sample(x, offset, self.weight, self.dilation)
        return deform_conv2d(x, offset, self.weight, None, stride=1, padding=self.dilation,
                             dilation=self.dilation)


class PoseWarperNeck(nn.Module):
    def __init__(self, in_channels, joints=17, inner=128, blocks=20, dilations=DEFAULT_DILATIONS):
        super().__init__()
        self.trans_layer = nn.Conv2d(in_channels, joints, 1)
        self.offset_feats = make_blocks(BasicBlock, joints, inner, blocks)
        self.offset_layers = nn.ModuleList(
            [nn.Conv2d(inner, 2 * 9 * joints, 3, 1, d, dilation=d, bias=False) for d in dilations])
        # Weight (out, in/groups, 3, 3) with groups = 1: mmcv's DeformConv2d has groups=1 and
        # deform_groups=joints; torchvision infers the deform groups from the offset channels.
        self.deform_conv_layers = nn.ModuleList([DeformConv(joints, d, joints) for d in dilations])
        self.dilations = list(dilations)

    def set_dilations(self, dilations):
        """Dilations are not stored in checkpoints: the conv modules only take them at call time."""
        assert len(dilations) == len(self.offset_layers)
        for conv, d in zip(self.offset_layers, dilations):
            conv.dilation = (d, d)
            conv.padding = (d, d)
        for conv, d in zip(self.deform_conv_layers, dilations):
            conv.dilation = d
        self.dilations = list(dilations)

    def offsets(self, reference, support):
        """Offsets per dilation that warp `support` heatmaps onto `reference` (from their
        difference reference - support, as forward computes them for every frame)."""
        diff = self.offset_feats(reference - support)
        return [layer(diff) for layer in self.offset_layers]

    def warp(self, heatmaps, offsets):
        """Any heatmaps through the deformable convs with given offsets, averaged over dilations."""
        warped = 0
        for deform, offset in zip(self.deform_conv_layers, offsets):
            warped = warped + deform(heatmaps, offset) / len(self.offset_layers)
        return warped

    def forward(self, features, frame_weights):
        heats = [self.trans_layer(f) for f in features]
        diffs = [self.offset_feats(heats[0] - h) for h in heats]
        out = 0
        for i, h in enumerate(heats):
            if frame_weights[i] == 0:
                continue
            warped = 0
            for offset_layer, deform in zip(self.offset_layers, self.deform_conv_layers):
                warped = warped + deform(h, offset_layer(diffs[i])) / len(self.offset_layers)
            out = out + warped * frame_weights[i]
        return out


class PoseWarperModel(nn.Module):
    """HRNet + PoseWarperNeck; the keypoint head of the stage-2 config is the identity (no keys)."""

    def __init__(self, extra, joints=17, inner=128, blocks=20, dilations=DEFAULT_DILATIONS):
        super().__init__()
        self.backbone = HRNet(extra)
        self.neck = PoseWarperNeck(self.backbone.out_channels, joints, inner, blocks, dilations)

    def forward(self, x, frame_weights=DEFAULT_FRAME_WEIGHTS):
        """x: [F*N, 3, H, W] frame-major (frames current, -2, -1, +1, +2); -> [N, K, H/4, W/4]."""
        frames = len(frame_weights)
        n = x.shape[0] // frames
        features = [self.backbone(x[i * n:(i + 1) * n])[0] for i in range(frames)]
        return self.neck(features, frame_weights)

# ---------------------------------------------------------------------------------------------
# Random initialisation with realistic statistics

def randomize(model, seed, calibration_input, residual_gain=0.35, fuse_gain=0.5, offset_std_px=2.0):
    """Random weights with realistic BN statistics (running_var ~ U(0.5, 2), running_mean small,
    so folding BN at load time is exercised), then one calibration pass (LSUV-like) that rescales
    each BN's weight and bias so its output std is 1 (residual-branch ends `residual_gain`, fuse
    paths `fuse_gain`): activations then stay O(1) through any depth, like a trained network's."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=g)

    def randn(*shape):
        return torch.randn(*shape, generator=g)

    targets = {}
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
                m.weight.copy_(randn(*m.weight.shape) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(randn(*m.bias.shape) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_var.copy_(0.5 + 1.5 * rand(c))
                m.running_mean.copy_(randn(c) * 0.1)
                m.weight.copy_(0.6 + 0.6 * rand(c))
                m.bias.copy_(randn(c) * 0.1)
                m.num_batches_tracked.fill_(int(1000 + 1000 * rand(1).item()))
                targets[m] = 1.0
            elif isinstance(m, DeformConv):
                c = m.weight.shape[0]
                w = randn(*m.weight.shape) * 0.05
                for k in range(c):
                    w[k, k, 1, 1] += 1.0  # mmpose's identity-like initialisation plus noise
                m.weight.copy_(w)
        for m in model.modules():
            if isinstance(m, (BasicBlock, Bottleneck)):
                targets[m.bn3 if isinstance(m, Bottleneck) else m.bn2] = residual_gain
            if isinstance(m, HRModule):
                for row in m.fuse_layers:
                    for path in row:
                        if path is not None:
                            targets[[b for b in path.modules() if isinstance(b, nn.BatchNorm2d)][-1]] = fuse_gain
        if isinstance(model, PoseWarperModel):
            neck = model.neck
            inner = neck.offset_layers[0].weight.shape[1]
            for conv in neck.offset_layers:
                # offsets of a few pixels, some reaching outside the heatmap
                conv.weight.copy_(randn(*conv.weight.shape) * offset_std_px / math.sqrt(9 * inner))
        model.eval()
        calibrated = set()

        def hook(m, inputs, out):
            if m in calibrated:
                return out
            calibrated.add(m)
            s = float(out.std()) / targets[m]
            m.weight.div_(s)
            m.bias.div_(s)
            return out / s

        handles = [m.register_forward_hook(hook) for m in targets]
        if isinstance(model, PoseWarperModel):
            # Calibrate the offset features on real (non-zero) frame differences, not on the
            # i = 0 difference that the neck happens to compute first.
            n = calibration_input.shape[0] // 5
            heats = [model.neck.trans_layer(model.backbone(calibration_input[i * n:(i + 1) * n])[0])
                     for i in range(5)]
            model.neck.offset_feats(torch.cat([heats[0] - h for h in heats[1:]]))
        else:
            model(calibration_input)
        for h in handles:
            h.remove()
    return model


def activation_std(model, x, **kw):
    with torch.no_grad():
        return float(model(x, **kw).std())

# ---------------------------------------------------------------------------------------------
# Checkpoints

def meta_for(kind, extra, **more):
    return dict(mmpose_version='0.29.0', config=dict(type=kind, extra=extra, **more))


def save_checkpoint(model, path, meta, legacy=False):
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    obj = {'meta': meta, 'state_dict': sd}
    if legacy:
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        torch.save(obj, path)


def to_official_2019_names(state_dict):
    """mmpose names -> the 2019 PoseWarper release (lib/models/pose_hrnet_PoseAgg.py): backbone
    keys lose `backbone.`, neck.trans_layer / keypoint_head.final_layer become `final_layer`,
    neck.offset_layers.j -> offsets{j+1}, neck.deform_conv_layers.j -> deform_conv{j+1},
    neck.offset_feats stays offset_feats."""
    out = {}
    for k, v in state_dict.items():
        if k.startswith('backbone.'):
            nk = k[len('backbone.'):]
        elif k.startswith('neck.trans_layer.') or k.startswith('keypoint_head.final_layer.'):
            nk = 'final_layer.' + k.split('.')[-1]
        elif k.startswith('neck.offset_layers.'):
            j = int(k.split('.')[2])
            nk = f'offsets{j + 1}.' + k.split('.', 3)[3]
        elif k.startswith('neck.deform_conv_layers.'):
            j = int(k.split('.')[2])
            nk = f'deform_conv{j + 1}.' + k.split('.', 3)[3]
        elif k.startswith('neck.'):
            nk = k[len('neck.'):]
        else:
            nk = k
        out[nk] = v
    return out

# ---------------------------------------------------------------------------------------------
# Crops and decoding (numpy, float32 where mmpose is float32)

def xywh2cs(x, y, w, h, image_size, padding=1.25):
    """mmpose _xywh2cs at test time: aspect ratio forced to image_size (w, h), pixel_std 200."""
    aspect = image_size[0] / image_size[1]
    center = np.array([x + w * 0.5, y + h * 0.5], dtype=np.float32)
    if w > aspect * h:
        h = w * 1.0 / aspect
    elif w < aspect * h:
        w = h * aspect
    scale = np.array([w / 200.0, h / 200.0], dtype=np.float32) * padding
    return center, scale


def _third_point(a, b):
    d = a - b
    return b + np.array([-d[1], d[0]], dtype=np.float32)


def _solve_affine(src, dst):
    """The 2x3 matrix mapping three src points onto three dst points (float64 solve, like
    cv2.getAffineTransform)."""
    a = np.zeros((6, 6))
    b = np.zeros(6)
    for i in range(3):
        a[2 * i, 0:2] = src[i]
        a[2 * i, 2] = 1
        a[2 * i + 1, 3:5] = src[i]
        a[2 * i + 1, 5] = 1
        b[2 * i] = dst[i][0]
        b[2 * i + 1] = dst[i][1]
    return np.linalg.solve(a, b).reshape(2, 3)


def get_affine_transform(center, scale, rot, output_size, inv=False):
    """mmpose get_affine_transform (shift 0): source -> output crop (or the inverse)."""
    scale_tmp = np.asarray(scale) * 200.0
    src_w = scale_tmp[0]
    dst_w, dst_h = output_size
    r = np.pi * rot / 180
    sn, cs = np.sin(r), np.cos(r)
    src_dir = np.array([0.0 * cs - (src_w * -0.5) * sn, 0.0 * sn + (src_w * -0.5) * cs])
    dst_dir = np.array([0.0, dst_w * -0.5])
    src = np.zeros((3, 2), dtype=np.float32)
    src[0] = center
    src[1] = np.asarray(center) + src_dir
    src[2] = _third_point(src[0], src[1])
    dst = np.zeros((3, 2), dtype=np.float32)
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5]) + dst_dir
    dst[2] = _third_point(dst[0], dst[1])
    return _solve_affine(dst.astype(np.float64), src.astype(np.float64)) if inv else \
        _solve_affine(src.astype(np.float64), dst.astype(np.float64))


def transform_preds(coords, center, scale, output_size):
    scale = np.asarray(scale, dtype=np.float32) * 200.0
    sx = scale[0] / output_size[0]
    sy = scale[1] / output_size[1]
    out = coords.copy()
    out[:, 0] = coords[:, 0] * sx + center[0] - scale[0] * 0.5
    out[:, 1] = coords[:, 1] * sy + center[1] - scale[1] * 0.5
    return out


def get_max_preds(heatmaps):
    n, k, _, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = np.argmax(flat, 2).reshape(n, k, 1)
    maxvals = np.amax(flat, 2).reshape(n, k, 1)
    preds = np.tile(idx, (1, 1, 2)).astype(np.float32)
    preds[:, :, 0] = preds[:, :, 0] % w
    preds[:, :, 1] = preds[:, :, 1] // w
    preds = np.where(np.tile(maxvals, (1, 1, 2)) > 0.0, preds, -1)
    return preds, maxvals


def gaussian_kernel_1d(size):
    """cv2.getGaussianKernel(size, sigma=0): fixed tables for sizes <= 7, else sampled Gaussian."""
    fixed = {1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
             7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]}
    if size in fixed:
        return np.array(fixed[size])
    sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    x = np.arange(size) - (size - 1) / 2
    k = np.exp(-(x * x) / (2 * sigma * sigma))
    return k / k.sum()


def gaussian_blur(heatmaps, kernel=11):
    """mmpose _gaussian_blur: zero-pad by the radius, blur, crop, rescale to the original max."""
    border = (kernel - 1) // 2
    k1 = gaussian_kernel_1d(kernel)
    out = heatmaps.copy()
    n, kk, h, w = heatmaps.shape
    for i in range(n):
        for j in range(kk):
            origin_max = np.max(heatmaps[i, j])
            dr = np.zeros((h + 2 * border, w + 2 * border), dtype=np.float64)
            dr[border:-border, border:-border] = heatmaps[i, j]
            # Every output pixel kept after cropping only reads the zero-padded area, so the
            # image border mode of cv2.GaussianBlur never matters here.
            rows = np.zeros_like(dr)
            for t in range(kernel):
                rows[:, border:-border] += k1[t] * dr[:, t:t + w]
            cols = np.zeros((h, w))
            for t in range(kernel):
                cols += k1[t] * rows[t:t + h, border:-border]
            blurred = cols.astype(np.float32)
            out[i, j] = blurred * (origin_max / np.max(blurred))
    return out


def taylor(heatmap, coord):
    h, w = heatmap.shape
    px, py = int(coord[0]), int(coord[1])
    if 1 < px < w - 2 and 1 < py < h - 2:
        dx = 0.5 * (heatmap[py][px + 1] - heatmap[py][px - 1])
        dy = 0.5 * (heatmap[py + 1][px] - heatmap[py - 1][px])
        dxx = 0.25 * (heatmap[py][px + 2] - 2 * heatmap[py][px] + heatmap[py][px - 2])
        dxy = 0.25 * (heatmap[py + 1][px + 1] - heatmap[py - 1][px + 1]
                      - heatmap[py + 1][px - 1] + heatmap[py - 1][px - 1])
        dyy = 0.25 * (heatmap[py + 2][px] - 2 * heatmap[py][px] + heatmap[py - 2][px])
        if dxx * dyy - dxy ** 2 != 0:
            hessian = np.array([[dxx, dxy], [dxy, dyy]])
            offset = -np.linalg.inv(hessian) @ np.array([dx, dy])
            coord = coord + offset
    return coord


def keypoints_from_heatmaps(heatmaps, center, scale, post_process='default', kernel=11):
    """mmpose keypoints_from_heatmaps without UDP: 'default' (quarter-pixel shift), 'unbiased'
    (DARK) or None; returns image coordinates [N, K, 2] and scores [N, K, 1]."""
    heatmaps = heatmaps.astype(np.float32).copy()
    n, k, h, w = heatmaps.shape
    preds, maxvals = get_max_preds(heatmaps)
    if post_process == 'unbiased':
        logs = np.log(np.maximum(gaussian_blur(heatmaps, kernel), 1e-10))
        for a in range(n):
            for b in range(k):
                preds[a][b] = taylor(logs[a][b], preds[a][b])
    elif post_process is not None:
        for a in range(n):
            for b in range(k):
                hm = heatmaps[a][b]
                px, py = int(preds[a][b][0]), int(preds[a][b][1])
                if 1 < px < w - 1 and 1 < py < h - 1:
                    diff = np.array([hm[py][px + 1] - hm[py][px - 1], hm[py + 1][px] - hm[py - 1][px]])
                    preds[a][b] += np.sign(diff) * .25
    for a in range(n):
        preds[a] = transform_preds(preds[a], center[a], scale[a], [w, h])
    return preds, maxvals


def flip_back(flipped, flip_pairs):
    out = flipped.copy()
    for left, right in flip_pairs:
        out[:, left] = flipped[:, right]
        out[:, right] = flipped[:, left]
    return out[..., ::-1].copy()


def shift_heatmap(heatmaps):
    out = heatmaps.copy()
    out[:, :, :, 1:] = heatmaps[:, :, :, :-1]
    return out

# ---------------------------------------------------------------------------------------------
# Pose propagation (`posewarper propagate --method warp`)

def label_heatmaps(keypoints, center, scale, heatmap_size, sigma):
    """[K, h, w] float32 label heatmaps of one person in a crop: an unnormalised Gaussian (peak 1)
    at each labelled keypoint's exact heatmap position (the inverse of transform_preds, not rounded
    to a pixel as mmpose's training targets are); unlabelled keypoints (flag <= 0) stay zero."""
    w, h = heatmap_size
    sw = float(np.float32(scale[0]) * np.float32(200.0))
    sh = float(np.float32(scale[1]) * np.float32(200.0))
    left = float(np.float32(center[0])) - sw * 0.5
    top = float(np.float32(center[1])) - sh * 0.5
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)
    den = 2 * sigma * sigma
    out = np.zeros((len(keypoints), h, w), dtype=np.float32)
    for k, (x, y, flag) in enumerate(keypoints):
        if flag <= 0:
            continue
        mx = (x - left) * w / sw
        my = (y - top) * h / sh
        gx = np.exp(-(xs - mx) ** 2 / den)
        gy = np.exp(-(ys - my) ** 2 / den)
        out[k] = (gy[:, None] * gx[None, :]).astype(np.float32)
    return out


def propagate_warp(model, crops, labels, weights):
    """PoseWarper's reversed application for one target: crops [1 + S, 3, H, W] (the target, then
    its S labelled sources, all cropped with the target's box), labels [S, K, h, w] (the sources'
    label heatmaps in that crop), weights [S, K] (each source's share per joint; 0 where the source
    does not label the joint). Offsets come from the heatmap difference target - source, as the neck
    computes them; the label heatmaps are warped with them and summed with the weights -> [1, K, h, w]."""
    s = crops.shape[0] - 1
    heats = model.neck.trans_layer(model.backbone(crops)[0])
    reference = heats[:1].expand(s, -1, -1, -1)
    warped = model.neck.warp(labels, model.neck.offsets(reference, heats[1:]))
    return (warped * weights[:, :, None, None]).sum(0, keepdim=True)
