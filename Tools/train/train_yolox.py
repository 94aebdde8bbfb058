"""A one-class YOLOX-nano person detector on the synthetic world, saved in Megvii's release layout.

    python Tools/train/train_yolox.py --data /work/synthdata --work /work/train/yolox \
        --export Models/yolox_nano_synth_person.pth --budget-min 60

Megvii's recipe, scaled to a wall-clock budget: 320x240 frames letterboxed into 320x320 (top-left,
pad 114, BGR 0-255 as Megvii's ValTransform with legacy=False), random flip, colour jitter and a
random scale/translate affine; SimOTA assignment (centre prior 2.5 strides, dynamic k from the top
10 IoUs), IoU loss (1 - IoU^2, weight 5) + objectness BCE + class BCE against the IoU, normalised
by the foreground count; AdamW with weight decay 0.05, one cosine over the budget, EMA of the
weights (decay 0.9998 with Megvii's ramp). Resumes from WORK/state.pt. Exports {'model': EMA
state dict with Megvii names} and logs AP50/AP on val_clean (pycocotools bbox evaluation).
Needs Tools/reference/detectors_ref.py (the detector reference modules).
"""
import argparse
import contextlib
import copy
import io
import json
import math
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import detectors_ref as D  # noqa: E402  (Tools/reference is on the path through common)

SIZE = 320
STRIDES = (8, 16, 32)


def letterbox(frame_rgb):
    """Megvii ValTransform: resize by min ratio (1 here), top-left, pad 114, BGR float 0-255."""
    h, w = frame_rgb.shape[:2]
    r = min(SIZE / h, SIZE / w)
    img = cv2.resize(frame_rgb, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR) if r != 1 else frame_rgb
    out = np.full((SIZE, SIZE, 3), 114, np.uint8)
    out[:img.shape[0], :img.shape[1]] = img[..., ::-1]
    return out, r


class Frames:
    """Frames of a split with their person boxes (x1, y1, x2, y2)."""

    def __init__(self, split):
        self.split = split
        self.ids = [im['id'] for im in split.coco['images']]
        self.boxes = {i: [] for i in self.ids}
        for a in split.coco['annotations']:
            x, y, w, h = a['bbox']
            self.boxes[a['image_id']].append([x, y, x + w, y + h])


def augment(frame, boxes, rng):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    h, w = frame.shape[:2]
    if rng.random() < 0.5:
        frame = frame[:, ::-1]
        boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
    s = rng.uniform(0.6, 1.5)
    tx, ty = rng.uniform(-0.2, 0.2) * w, rng.uniform(-0.2, 0.2) * h
    m = np.array([[s, 0, tx + (1 - s) * w / 2], [0, s, ty + (1 - s) * h / 2]], np.float32)
    frame = cv2.warpAffine(np.ascontiguousarray(frame), m, (w, h), borderValue=(114, 114, 114))
    boxes = boxes * s + np.array([m[0, 2], m[1, 2]] * 2, np.float32)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
    keep = ((boxes[:, 2] - boxes[:, 0]) > 4) & ((boxes[:, 3] - boxes[:, 1]) > 4)
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + rng.integers(-5, 6)) % 180
    hsv[..., 1:] = np.clip(hsv[..., 1:] * rng.uniform(0.7, 1.3, 2), 0, 255)
    frame = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    return frame, boxes[keep]


def flatten(outputs):
    cls = torch.cat([o[0].flatten(2) for o in outputs], 2).transpose(1, 2)   # [B, A, 1]
    reg = torch.cat([o[1].flatten(2) for o in outputs], 2).transpose(1, 2)   # [B, A, 4]
    obj = torch.cat([o[2].flatten(2) for o in outputs], 2).transpose(1, 2)   # [B, A, 1]
    return cls, reg, obj


def grid_priors(outputs):
    return D.priors([o[0].shape[-2:] for o in outputs], list(STRIDES))    # [A, 3]: x, y, stride


def decode(reg, pri):
    xy = (reg[..., :2] + pri[:, :2]) * pri[:, 2:]
    wh = torch.exp(reg[..., 2:].clamp(max=10)) * pri[:, 2:]
    return torch.cat([xy - wh / 2, xy + wh / 2], -1)


def box_iou(a, b):
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).clamp(min=0).prod(-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None] - inter + 1e-9)


@torch.no_grad()
def simota(pred_boxes, cls_logit, obj_logit, pri, gt):
    """-> (foreground mask [A], matched gt index per foreground anchor, IoU per foreground anchor)."""
    centers = (pri[:, :2] + 0.5) * pri[:, 2:]
    inside = ((centers[:, None, 0] > gt[None, :, 0]) & (centers[:, None, 0] < gt[None, :, 2])
              & (centers[:, None, 1] > gt[None, :, 1]) & (centers[:, None, 1] < gt[None, :, 3]))
    gc = (gt[:, :2] + gt[:, 2:]) / 2
    r = 2.5 * pri[:, 2:]
    near = ((centers[:, None, :] - gc[None]).abs() < r[:, None, :]).all(-1)
    cand = (inside | near).any(1)
    fg = torch.zeros(len(pri), dtype=torch.bool)
    if not cand.any():
        return fg, torch.zeros(0, dtype=torch.long), torch.zeros(0)
    ious = box_iou(gt, pred_boxes[cand])                                   # [G, Ac]
    score = (cls_logit[cand, 0].sigmoid() * obj_logit[cand, 0].sigmoid()).sqrt().clamp(1e-6, 1 - 1e-6)
    cls_cost = F.binary_cross_entropy(score[None].expand_as(ious), torch.ones_like(ious), reduction='none')
    both = (inside & near)[cand].T
    cost = cls_cost + 3.0 * -torch.log(ious + 1e-8) + 1e5 * (~both)
    match = torch.zeros_like(cost)
    k = torch.clamp(ious.topk(min(10, ious.shape[1]), 1).values.sum(1).int(), min=1)
    for g in range(len(gt)):
        idx = torch.topk(cost[g], min(int(k[g]), cost.shape[1]), largest=False).indices
        match[g, idx] = 1
    multi = match.sum(0) > 1
    if multi.any():
        best = cost[:, multi].argmin(0)
        match[:, multi] = 0
        match[best, multi.nonzero()[:, 0]] = 1
    fg_c = match.sum(0) > 0
    gt_idx = match[:, fg_c].argmax(0)
    fg[cand.nonzero()[:, 0][fg_c]] = True
    return fg, gt_idx, (match * ious).sum(0)[fg_c]


def loss_fn(outputs, targets):
    cls, reg, obj = flatten(outputs)
    pri = grid_priors(outputs)
    boxes = decode(reg, pri)
    obj_t = torch.zeros_like(obj)
    iou_losses, cls_losses, n_fg = [], [], 0
    for b, gt in enumerate(targets):
        if len(gt) == 0:
            continue
        fg, gi, ious = simota(boxes[b].detach(), cls[b].detach(), obj[b].detach(), pri, gt)
        if fg.sum() == 0:
            continue
        n_fg += int(fg.sum())
        obj_t[b, fg] = 1
        iou = box_iou(boxes[b][fg], gt[gi]).diagonal()
        iou_losses.append(1 - iou ** 2)
        cls_losses.append(F.binary_cross_entropy_with_logits(cls[b][fg, 0], ious, reduction='none'))
    n = max(n_fg, 1)
    l_obj = F.binary_cross_entropy_with_logits(obj, obj_t, reduction='sum') / n
    l_iou = 5.0 * torch.cat(iou_losses).sum() / n if iou_losses else reg.sum() * 0
    l_cls = torch.cat(cls_losses).sum() / n if cls_losses else cls.sum() * 0
    return l_iou + l_obj + l_cls, (l_iou.item(), l_obj.item(), l_cls.item(), n_fg)


def to_input(imgs):
    return torch.from_numpy(np.stack(imgs).transpose(0, 3, 1, 2).astype(np.float32))


@torch.no_grad()
def evaluate(model, frames, max_images=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    model.eval()
    ids = frames.ids[:max_images] if max_images else frames.ids
    results = []
    for i in range(0, len(ids), 32):
        chunk = ids[i:i + 32]
        x = to_input([letterbox(frames.split.frame(j))[0] for j in chunk])
        out = model(x)
        for b, j in enumerate(chunk):
            det = D.postprocess('yolox', [tuple(t[b:b + 1] for t in o) for o in out], (SIZE, SIZE),
                                score_threshold=0.01, nms_threshold=0.65)
            for x1, y1, x2, y2, s in det.tolist():
                results.append(dict(image_id=j, category_id=1, bbox=[x1, y1, x2 - x1, y2 - y1], score=s))
    model.train()
    if not results:
        return dict(AP=0.0, AP50=0.0, AP75=0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = dict(frames.split.coco, images=[im for im in frames.split.coco['images'] if im['id'] in set(ids)])
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(results), 'bbox')
        ev.params.imgIds = ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(AP=float(ev.stats[0]), AP50=float(ev.stats[1]), AP75=float(ev.stats[2]))


def init_biases(model):
    """Megvii's YOLOXHead.initialize_biases(prior_prob=0.01) and BN eps/momentum (1e-3, 0.03)."""
    b = -math.log((1 - 0.01) / 0.01)
    for conv in list(model.bbox_head.multi_level_conv_cls) + list(model.bbox_head.multi_level_conv_obj):
        conv.bias.data.fill_(b)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eps, m.momentum = 1e-3, 0.03


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='/work/synthdata')
    ap.add_argument('--work', default='/work/train/yolox')
    ap.add_argument('--export', required=True)
    ap.add_argument('--log')
    ap.add_argument('--budget-min', type=float, default=60)
    ap.add_argument('--eval-min', type=float, default=15)
    ap.add_argument('--eval-images', type=int, default=192)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--init', help='start a new cosine from a Megvii-layout checkpoint (e.g. Models/...pth); '
                                   'ignored when WORK/state.pt exists')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    log = C.Log(a.log or os.path.join(a.work, 'train.log'))
    log('args ' + json.dumps(vars(a)))
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    train = Frames(C.Split(os.path.join(a.data, 'train')))
    val = None
    model = D.YOLOX(0.33, 0.25, classes=1, depthwise=True)
    init_biases(model)
    ema = copy.deepcopy(model).eval()
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.05), dict(params=no_decay, weight_decay=0.0)], lr=a.lr)
    state_path = os.path.join(a.work, 'state.pt')
    elapsed, step, seen = 0.0, 0, 0
    if os.path.exists(state_path):
        st = torch.load(state_path, map_location='cpu', weights_only=False)
        model.load_state_dict(st['model'])
        ema.load_state_dict(st['ema'])
        opt.load_state_dict(st['opt'])
        elapsed, step, seen = st['elapsed'], st['step'], st['seen']
        rng = np.random.default_rng([a.seed, step])
        log(f'resumed at step {step}, {elapsed / 60:.1f} min elapsed')
    elif a.init:
        # The release layout names parameters the Megvii way; map ours onto them through the same
        # renaming the export uses, so there is one mapping.
        theirs = torch.load(a.init, map_location='cpu', weights_only=False)['model']
        ours = {k: theirs[D.megvii_name(k)] for k in model.state_dict()}
        model.load_state_dict(ours)
        ema.load_state_dict(ours)
        log(f'initialised from {a.init} (model and EMA)')
    log(f'YOLOX-nano, 1 class: {sum(p.numel() for p in model.parameters())} parameters')
    budget = a.budget_min * 60
    last_eval = elapsed
    t0 = time.time() - elapsed
    window = (time.time(), seen)
    model.train()
    while elapsed < budget:
        ids = rng.choice(train.ids, a.batch)
        imgs, targets = [], []
        for j in ids:
            frame, boxes = augment(train.split.frame(int(j)), train.boxes[int(j)], rng)
            img, r = letterbox(frame)
            imgs.append(img)
            targets.append(torch.from_numpy(boxes * r))
        lr = C.cosine_lr(a.lr, elapsed, budget, warmup_s=120.0)
        for g in opt.param_groups:
            g['lr'] = lr
        loss, parts = loss_fn(model(to_input(imgs)), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        seen += len(ids)
        d = 0.9998 * (1 - math.exp(-step / 2000))
        with torch.no_grad():
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
                else:
                    pe.copy_(pm)
        elapsed = time.time() - t0
        if step % 25 == 0:
            now = time.time()
            rate = (seen - window[1]) / (now - window[0])
            window = (now, seen)
            log(f'step {step} seen {seen} loss {loss.item():.4f} (iou {parts[0]:.3f} obj {parts[1]:.3f} '
                f'cls {parts[2]:.3f} fg {parts[3]}) lr {lr:.2e} {rate:.1f} img/s elapsed {elapsed / 60:.1f}/{a.budget_min:.0f} min')
        if elapsed - last_eval >= a.eval_min * 60 or elapsed >= budget:
            last_eval = elapsed
            if val is None:
                val = Frames(C.Split(os.path.join(a.data, 'val_clean')))
            m = evaluate(ema, val, a.eval_images)
            log(f'eval step {step} val_clean (first {a.eval_images} frames, EMA) ' + json.dumps({k: round(v, 4) for k, v in m.items()}))
            torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), elapsed=elapsed,
                            step=step, seen=seen), state_path + '.tmp')
            os.replace(state_path + '.tmp', state_path)
            sd = {k: v.detach().clone().contiguous() for k, v in D.yolox_to_megvii_names(ema.state_dict()).items()}
            torch.save({'model': sd}, a.export + '.tmp')
            os.replace(a.export + '.tmp', a.export)
            log(f'exported {a.export}')
            t0 = time.time() - elapsed
    log(f'done: {step} steps, {seen} images, {elapsed / 60:.1f} min')


if __name__ == '__main__':
    main()
