"""PyTorch reference of the two person-detector families posewarper reads (our own modules, written
from the upstream sources; parameter names and shapes equal the official checkpoints, loaded strictly):

- YOLOX (Megvii-BaseDetection/YOLOX and mmdet's port): Focus stem, CSPDarknet with an SPP bottleneck,
  PAFPN, decoupled head, SiLU, BatchNorm eps 1e-3; the depthwise variant (nano) swaps the 3x3 convs
  of the blocks, downsamplings and head for depthwise-separable pairs.
- RTMDet (mmdet 3.x): CSPNeXt (3-conv stem, CSPNeXt blocks with a depthwise 5x5, channel attention,
  SPP bottleneck), CSPNeXtPAFPN, RTMDetSepBNHead; BatchNorm eps 1e-3, SiLU.

The canonical names are mmdet's. `yolox_to_megvii_names` renames a YOLOX state dict to the layout of
Megvii's own release ({'model': ...}, `backbone.backbone.dark2.1.conv1...`, `head.cls_preds.0...`).
`postprocess` is each release's test-time decoding (grid/stride decode, scores, threshold, NMS).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-3   # both families: Megvii's init_yolo sets 1e-3, mmdet's norm_cfg says eps=0.001


class ConvModule(nn.Module):
    """conv (no bias) + BatchNorm + SiLU: Megvii's BaseConv, mmcv's ConvModule."""

    def __init__(self, cin, cout, k, stride=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        return F.silu(self.bn(self.conv(x)))


class DepthwiseSeparable(nn.Module):
    """depthwise kxk ConvModule then pointwise 1x1 ConvModule (Megvii DWConv, mmcv DepthwiseSeparableConvModule)."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.depthwise_conv = ConvModule(cin, cin, k, stride, groups=cin)
        self.pointwise_conv = ConvModule(cin, cout, 1)

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))


def conv_or_dw(depthwise):
    return DepthwiseSeparable if depthwise else ConvModule


class DarknetBottleneck(nn.Module):
    def __init__(self, c, add, depthwise):
        super().__init__()
        self.conv1 = ConvModule(c, c, 1)
        self.conv2 = conv_or_dw(depthwise)(c, c, 3)
        self.add = add

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return y + x if self.add else y


class CSPNeXtBlock(nn.Module):
    def __init__(self, c, add, depthwise):
        super().__init__()
        self.conv1 = conv_or_dw(depthwise)(c, c, 3)
        self.conv2 = DepthwiseSeparable(c, c, 5)
        self.add = add

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return y + x if self.add else y


class ChannelAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Conv2d(c, c, 1, bias=True)

    def forward(self, x):
        return x * F.hardsigmoid(self.fc(F.adaptive_avg_pool2d(x, 1)))


class CSPLayer(nn.Module):
    def __init__(self, cin, cout, n, add, depthwise, cspnext=False, attention=False):
        super().__init__()
        mid = cout // 2
        self.main_conv = ConvModule(cin, mid, 1)
        self.short_conv = ConvModule(cin, mid, 1)
        self.final_conv = ConvModule(2 * mid, cout, 1)
        block = CSPNeXtBlock if cspnext else DarknetBottleneck
        self.blocks = nn.Sequential(*[block(mid, add, depthwise) for _ in range(n)])
        if attention:
            self.attention = ChannelAttention(2 * mid)

    def forward(self, x):
        y = torch.cat((self.blocks(self.main_conv(x)), self.short_conv(x)), 1)
        if hasattr(self, 'attention'):
            y = self.attention(y)
        return self.final_conv(y)


class SPPBottleneck(nn.Module):
    def __init__(self, cin, cout, kernels=(5, 9, 13)):
        super().__init__()
        mid = cin // 2
        self.conv1 = ConvModule(cin, mid, 1)
        self.kernels = kernels
        self.conv2 = ConvModule(mid * (len(kernels) + 1), cout, 1)

    def forward(self, x):
        x = self.conv1(x)
        return self.conv2(torch.cat([x] + [F.max_pool2d(x, k, 1, k // 2) for k in self.kernels], 1))


class Focus(nn.Module):
    def __init__(self, cout):
        super().__init__()
        self.conv = ConvModule(12, cout, 3)

    def forward(self, x):
        return self.conv(torch.cat((x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]), 1))


STAGES = [(64, 128, 3, True, False), (128, 256, 9, True, False), (256, 512, 9, True, False), (512, 1024, 3, False, True)]
CSPNEXT_STAGES = [(64, 128, 3, True, False), (128, 256, 6, True, False), (256, 512, 6, True, False), (512, 1024, 3, False, True)]


class Backbone(nn.Module):
    """CSPDarknet (YOLOX) or CSPNeXt (RTMDet); returns the outputs of stages 2, 3, 4."""

    def __init__(self, deepen, widen, depthwise, cspnext):
        super().__init__()
        if cspnext:
            c = int(64 * widen // 2)
            self.stem = nn.Sequential(ConvModule(3, c, 3, 2), ConvModule(c, c, 3), ConvModule(c, int(64 * widen), 3))
        else:
            self.stem = Focus(int(64 * widen))
        for i, (cin, cout, n, add, spp) in enumerate(CSPNEXT_STAGES if cspnext else STAGES):
            cin, cout, n = int(cin * widen), int(cout * widen), max(round(n * deepen), 1)
            layers = [conv_or_dw(depthwise)(cin, cout, 3, 2)]
            if spp:
                layers.append(SPPBottleneck(cout, cout))
            layers.append(CSPLayer(cout, cout, n, add, depthwise, cspnext=cspnext, attention=cspnext))
            self.add_module(f'stage{i + 1}', nn.Sequential(*layers))

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i in range(4):
            x = getattr(self, f'stage{i + 1}')(x)
            if i >= 1:
                outs.append(x)
        return outs


class PAFPN(nn.Module):
    """YOLOXPAFPN (1x1 out convs) / CSPNeXtPAFPN (3x3 out convs, CSPNeXt blocks). mmdet 3.x's released
    CSPNeXtPAFPN makes its CSP blocks and out convs depthwise-separable too when `use_depthwise`;
    an earlier dev version did not (`cspnext_dev_neck`)."""

    def __init__(self, cins, cout, n, depthwise, cspnext, cspnext_dev_neck=False):
        super().__init__()
        blocks_dw = depthwise and not (cspnext and cspnext_dev_neck)
        out_dw = depthwise and cspnext and not cspnext_dev_neck
        self.reduce_layers = nn.ModuleList([ConvModule(cins[i], cins[i - 1], 1) for i in (2, 1)])
        self.top_down_blocks = nn.ModuleList([CSPLayer(2 * cins[i - 1], cins[i - 1], n, False, blocks_dw, cspnext)
                                              for i in (2, 1)])
        self.downsamples = nn.ModuleList([conv_or_dw(depthwise)(cins[i], cins[i], 3, 2) for i in (0, 1)])
        self.bottom_up_blocks = nn.ModuleList([CSPLayer(2 * cins[i], cins[i + 1], n, False, blocks_dw, cspnext)
                                               for i in (0, 1)])
        self.out_convs = nn.ModuleList([conv_or_dw(out_dw)(c, cout, 3 if cspnext else 1) for c in cins])

    def forward(self, xs):
        inner = [xs[2]]
        for j, i in enumerate((2, 1)):
            high = self.reduce_layers[j](inner[0])
            inner[0] = high
            inner.insert(0, self.top_down_blocks[j](torch.cat([F.interpolate(high, scale_factor=2, mode='nearest'), xs[i - 1]], 1)))
        outs = [inner[0]]
        for i in (0, 1):
            outs.append(self.bottom_up_blocks[i](torch.cat([self.downsamples[i](outs[-1]), inner[i + 1]], 1)))
        return [conv(o) for conv, o in zip(self.out_convs, outs)]


class YOLOXHead(nn.Module):
    def __init__(self, classes, c, depthwise, levels=3):
        super().__init__()
        conv = conv_or_dw(depthwise)
        self.multi_level_cls_convs = nn.ModuleList([nn.Sequential(conv(c, c, 3), conv(c, c, 3)) for _ in range(levels)])
        self.multi_level_reg_convs = nn.ModuleList([nn.Sequential(conv(c, c, 3), conv(c, c, 3)) for _ in range(levels)])
        self.multi_level_conv_cls = nn.ModuleList([nn.Conv2d(c, classes, 1) for _ in range(levels)])
        self.multi_level_conv_reg = nn.ModuleList([nn.Conv2d(c, 4, 1) for _ in range(levels)])
        self.multi_level_conv_obj = nn.ModuleList([nn.Conv2d(c, 1, 1) for _ in range(levels)])

    def forward(self, xs):
        out = []
        for l, x in enumerate(xs):
            cls_feat = self.multi_level_cls_convs[l](x)
            reg_feat = self.multi_level_reg_convs[l](x)
            out.append((self.multi_level_conv_cls[l](cls_feat), self.multi_level_conv_reg[l](reg_feat),
                        self.multi_level_conv_obj[l](reg_feat)))
        return out


class RTMDetHead(nn.Module):
    """RTMDetSepBNHead: per-level BN (conv weights shared across levels in the release; stored per level)."""

    def __init__(self, classes, cin, c, depthwise, share_conv=True, levels=3, stacked=2):
        super().__init__()
        conv = conv_or_dw(depthwise)
        self.cls_convs = nn.ModuleList([nn.ModuleList([conv(cin if i == 0 else c, c, 3) for i in range(stacked)])
                                        for _ in range(levels)])
        self.reg_convs = nn.ModuleList([nn.ModuleList([conv(cin if i == 0 else c, c, 3) for i in range(stacked)])
                                        for _ in range(levels)])
        self.rtm_cls = nn.ModuleList([nn.Conv2d(c, classes, 1) for _ in range(levels)])
        self.rtm_reg = nn.ModuleList([nn.Conv2d(c, 4, 1) for _ in range(levels)])
        if share_conv and not depthwise:
            for n in range(1, levels):
                for i in range(stacked):
                    self.cls_convs[n][i].conv = self.cls_convs[0][i].conv
                    self.reg_convs[n][i].conv = self.reg_convs[0][i].conv

    def forward(self, xs):
        out = []
        for l, x in enumerate(xs):
            cls_feat, reg_feat = x, x
            for m in self.cls_convs[l]:
                cls_feat = m(cls_feat)
            for m in self.reg_convs[l]:
                reg_feat = m(reg_feat)
            out.append((self.rtm_cls[l](cls_feat), self.rtm_reg[l](reg_feat)))
        return out


class YOLOX(nn.Module):
    """mmdet names: backbone.*, neck.*, bbox_head.*. forward -> per level (cls logits, reg, obj logits)."""

    def __init__(self, deepen, widen, classes=80, depthwise=False):
        super().__init__()
        cins = [int(256 * widen), int(512 * widen), int(1024 * widen)]
        self.backbone = Backbone(deepen, widen, depthwise, cspnext=False)
        self.neck = PAFPN(cins, int(256 * widen), round(3 * deepen), depthwise, cspnext=False)
        self.bbox_head = YOLOXHead(classes, int(256 * widen), depthwise)

    def forward(self, x):
        return self.bbox_head(self.neck(self.backbone(x)))


class RTMDet(nn.Module):
    """mmdet 3.x names. forward -> per level (cls logits, reg distances before exp/stride)."""

    def __init__(self, deepen, widen, neck_blocks, classes=80, depthwise=False, share_conv=True, dev_neck=False):
        super().__init__()
        cins = [int(256 * widen), int(512 * widen), int(1024 * widen)]
        out = int(256 * widen)
        self.backbone = Backbone(deepen, widen, depthwise, cspnext=True)
        self.neck = PAFPN(cins, out, neck_blocks, depthwise, cspnext=True, cspnext_dev_neck=dev_neck)
        self.bbox_head = RTMDetHead(classes, out, out, depthwise, share_conv)

    def forward(self, x):
        return self.bbox_head(self.neck(self.backbone(x)))


# ---------------------------------------------------------------------------------------------
# Megvii names

_MEGVII_NECK = {'reduce_layers.0': 'lateral_conv0', 'top_down_blocks.0': 'C3_p4', 'reduce_layers.1': 'reduce_conv1',
                'top_down_blocks.1': 'C3_p3', 'downsamples.0': 'bu_conv2', 'bottom_up_blocks.0': 'C3_n3',
                'downsamples.1': 'bu_conv1', 'bottom_up_blocks.1': 'C3_n4'}
_MEGVII_HEAD = {'multi_level_cls_convs': 'cls_convs', 'multi_level_reg_convs': 'reg_convs',
                'multi_level_conv_cls': 'cls_preds', 'multi_level_conv_reg': 'reg_preds',
                'multi_level_conv_obj': 'obj_preds'}
_MEGVII_TOKENS = {'main_conv': 'conv1', 'short_conv': 'conv2', 'final_conv': 'conv3', 'blocks': 'm',
                  'depthwise_conv': 'dconv', 'pointwise_conv': 'pconv'}


def megvii_name(name):
    parts = name.split('.')
    if parts[0] == 'backbone':
        if parts[1] == 'stem':
            rest = ['backbone', 'backbone', 'stem'] + parts[2:]
        else:
            k = int(parts[1][len('stage'):])
            rest = ['backbone', 'backbone', f'dark{k + 1}'] + parts[2:]
    elif parts[0] == 'neck':
        key = '.'.join(parts[1:3])
        if parts[1] == 'out_convs':
            rest = ['head', 'stems', parts[2]] + parts[3:]
        else:
            rest = ['backbone', _MEGVII_NECK[key]] + parts[3:]
    else:
        rest = ['head', _MEGVII_HEAD[parts[1]]] + parts[2:]
    return '.'.join(_MEGVII_TOKENS.get(p, p) for p in rest)


def yolox_to_megvii_names(state_dict):
    return {megvii_name(k): v for k, v in state_dict.items()}


# ---------------------------------------------------------------------------------------------
# Random calibrated weights

def randomize(model, seed, x, score_bias=(-1.5, -1.0), person_boost=0.0):
    """Random weights with realistic BN statistics, then one calibration pass that rescales each BN so
    its output std is 1 (0.5 at residual ends), so activations stay O(1) like a trained network's. The
    prediction biases are set so that some but not all priors pass a 0.3 score threshold."""
    g = torch.Generator().manual_seed(seed)
    targets = {}
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
                m.weight.copy_(torch.randn(*m.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(torch.randn(*m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=g))
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.weight.copy_(0.6 + 0.6 * torch.rand(c, generator=g))
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.num_batches_tracked.fill_(int(1000 + 1000 * torch.rand(1, generator=g).item()))
                targets[m] = 1.0
        for m in model.modules():
            if isinstance(m, (DarknetBottleneck, CSPNeXtBlock)) and m.add:
                targets[[b for b in m.conv2.modules() if isinstance(b, nn.BatchNorm2d)][-1]] = 0.5
        model.eval()
        done = set()

        def hook(m, inputs, out):
            if m in done:
                return out
            done.add(m)
            s = float(out.std()) / targets[m]
            m.weight.div_(s)
            m.bias.div_(s)
            return out / s

        handles = [m.register_forward_hook(hook) for m in targets]
        model(x)
        for h in handles:
            h.remove()
        # Prediction layers: small weights, biases that leave a few confident priors.
        head = model.bbox_head
        cls = head.multi_level_conv_cls if isinstance(head, YOLOXHead) else head.rtm_cls
        reg = head.multi_level_conv_reg if isinstance(head, YOLOXHead) else head.rtm_reg
        for conv in cls:
            conv.weight.mul_(0.5)
            conv.bias.fill_(score_bias[0]).add_(torch.randn(*conv.bias.shape, generator=g) * 0.3)
            conv.bias[0] += person_boost
        for conv in reg:
            conv.weight.mul_(0.3)
            if isinstance(head, RTMDetHead):
                conv.bias.fill_(1.0)  # distances of about one stride before the stride factor
            else:
                conv.bias[2:].fill_(1.0)  # boxes about 3 strides wide, so neighbours overlap
        if isinstance(head, YOLOXHead):
            for conv in head.multi_level_conv_obj:
                conv.weight.mul_(0.5)
                conv.bias.fill_(score_bias[1])
    return model


# ---------------------------------------------------------------------------------------------
# Post-processing (test time), on the raw head outputs of one image

def iou_matrix(b):
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(b[:, None, :2], b[None, :, :2])
    rb = torch.min(b[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area[:, None] + area[None, :] - inter)


def nms(boxes, scores, threshold):
    """Greedy NMS as torchvision.ops.nms: by descending score, drop boxes with IoU > threshold."""
    order = torch.sort(scores, descending=True, stable=True).indices
    iou = iou_matrix(boxes.double())
    keep, removed = [], torch.zeros(len(order), dtype=torch.bool)
    for i in order.tolist():
        if removed[i]:
            continue
        keep.append(i)
        removed |= iou[i] > threshold
    return torch.tensor(keep, dtype=torch.long)


def priors(sizes, strides):
    pts = []
    for (h, w), s in zip(sizes, strides):
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
        pts.append(torch.stack([xs.reshape(-1), ys.reshape(-1), torch.full((h * w,), s)], 1).float())
    return torch.cat(pts)


def postprocess(family, outputs, input_size, person_class=0, score_threshold=0.3, nms_threshold=0.45,
                max_detections=100, exp_on_reg=False):
    """Person boxes (x1, y1, x2, y2, score) in network-input pixels, one image (batch index 0).

    YOLOX: score = sigmoid(obj) * sigmoid(cls) of the best class; kept when the best class is the person
    class and score >= threshold; box = ((dx, dy) + grid) * stride, exp(dw, dh) * stride.
    RTMDet: score = sigmoid(cls[person]) (multi-label), kept when > threshold; distances (exp first when
    exp_on_reg) * stride from the prior point (offset 0), clamped to the input; empty boxes dropped."""
    strides = [8, 16, 32]
    sizes = [o[0].shape[-2:] for o in outputs]
    p = priors(sizes, strides)
    flat = lambda t: t[0].permute(1, 2, 0).reshape(-1, t.shape[1])
    cls = torch.cat([flat(o[0]) for o in outputs]).sigmoid()
    reg = torch.cat([flat(o[1]) for o in outputs])
    if family == 'yolox':
        obj = torch.cat([flat(o[2]) for o in outputs])[:, 0].sigmoid()
        best, label = cls.max(1)
        score = obj * best
        keep = (label == person_class) & (score >= score_threshold)
        xy = (reg[:, :2] + p[:, :2]) * p[:, 2:]
        wh = torch.exp(reg[:, 2:]) * p[:, 2:]
        boxes = torch.cat([xy - wh / 2, xy + wh / 2], 1)
    else:
        score = cls[:, person_class]
        keep = score > score_threshold
        d = (reg.exp() if exp_on_reg else reg) * p[:, 2:]
        pt = p[:, :2] * p[:, 2:]
        boxes = torch.cat([pt - d[:, :2], pt + d[:, 2:]], 1)
        h, w = input_size
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
        keep &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, score = boxes[keep], score[keep]
    k = nms(boxes, score, nms_threshold)[:max_detections]
    return torch.cat([boxes[k], score[k, None]], 1)


# ---------------------------------------------------------------------------------------------
# Pre-processing (test time): letterbox an HxWx3 RGB uint8 frame into the network input

def letterbox(rgb, input_w, input_h, channel_order='bgr', mean=(0, 0, 0), std=(1, 1, 1), letterbox='top_left',
              pad_value=114.0, scale_rounding='floor'):
    """Aspect-preserving resize (OpenCV INTER_LINEAR convention: source (d + 0.5)·src/dst − 0.5, edges
    clamped, rounded to 8 bits as cv2.resize on uint8), padding, channel order, (v − mean) / std.
    Returns the [1, 3, H, W] float32 input and (scale_x, scale_y, offset_x, offset_y): input = frame·scale + offset."""
    import numpy as np
    h, w = rgb.shape[:2]
    r = min(input_w / w, input_h / h)
    if scale_rounding == 'floor':
        nw, nh = int(w * r), int(h * r)
    else:
        nw, nh = int(w * r + 0.5), int(h * r + 0.5)
    nw, nh = max(1, min(nw, input_w)), max(1, min(nh, input_h))
    ox = (input_w - nw) // 2 if letterbox == 'center' else 0
    oy = (input_h - nh) // 2 if letterbox == 'center' else 0
    sx, sy = (r, r) if scale_rounding == 'floor' else (nw / w, nh / h)

    def taps(dst, src):
        out = []
        for d in range(dst):
            f = (d + 0.5) * (src / dst) - 0.5
            i = math.floor(f)
            t = f - i
            if i < 0:
                i, t = 0, 0.0
            if i >= src - 1:
                i, t = src - 1, 0.0
            out.append((i, min(i + 1, src - 1), np.float32(t)))
        return out

    xs, ys = taps(nw, w), taps(nh, h)
    order = [0, 1, 2] if channel_order == 'rgb' else [2, 1, 0]
    x = np.empty((1, 3, input_h, input_w), np.float32)
    one = np.float32(1)
    for c in range(3):
        src = rgb[:, :, order[c]].astype(np.float32)
        m, s = np.float32(mean[c]), np.float32(std[c])
        x[0, c] = (np.float32(pad_value) - m) / s
        for yy, (y0, y1, ty) in enumerate(ys):
            for xx, (x0, x1, tx) in enumerate(xs):
                top = src[y0, x0] * (one - tx) + src[y0, x1] * tx
                bottom = src[y1, x0] * (one - tx) + src[y1, x1] * tx
                v = top * (one - ty) + bottom * ty
                v = np.float32(math.floor(v + 0.5)) if v >= 0 else np.float32(-math.floor(-v + 0.5))
                v = min(max(v, np.float32(0)), np.float32(255))
                x[0, c, yy + oy, xx + ox] = (v - m) / s
    return torch.from_numpy(x), (sx, sy, ox, oy)


def to_frame(boxes, transform):
    """Boxes (x1, y1, x2, y2, score) from input pixels back to frame pixels (computed in float64)."""
    sx, sy, ox, oy = transform
    b = boxes.double().clone()
    b[:, 0] = (b[:, 0] - ox) / sx
    b[:, 2] = (b[:, 2] - ox) / sx
    b[:, 1] = (b[:, 1] - oy) / sy
    b[:, 3] = (b[:, 3] - oy) / sy
    return b.float()
