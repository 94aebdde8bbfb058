"""Accuracy of the trained models on a split of the world, with ground-truth boxes.

    python Tools/train/evaluate.py --data /work/synthdata --splits test_clean,test_hard \
        --topdown Models/X.pth --posewarper Models/Y.pth [--json out.json]
    python Tools/train/evaluate.py --gt Samples/synth-demo.gt.json --results coco_results.json

Variants (all cropped with frame t's box, 'default' decoding, no flip test):
  single      the top-down model on frame t alone
  unwarped    the PoseWarper frame weights applied to the neighbours' heatmaps without warping
  neck_t      the neck on frame t alone (zero difference: refinement without time)
  posewarper  the neck on frames [t, t-2, t-1, t+1, t+2] weighted (0.3, 0.1, 0.25, 0.25, 0.1)
Metrics: PCK@0.2 / PCK@0.1 as mmpose's keypoint_pck_accuracy with bbox normalisation (per-axis
distances divided by the box width and height, labelled joints only, per-keypoint accuracy then
the mean over keypoints), and COCO keypoint AP / AP50 / AP75 / AR from pycocotools' COCOeval
(instance score = mean keypoint score above 0.2, as mmpose's rescoring with box score 1).
"""
import argparse
import contextlib
import io
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
from common import R  # noqa: E402

OFFSETS = (0, -2, -1, 1, 2)
WEIGHTS = (0.3, 0.1, 0.25, 0.25, 0.1)


def crops_for(split, anns, deltas):
    """Input tensors [len(deltas) * N, 3, H, W] (delta-major), centers, scales."""
    imgs, centers, scales = [], [], []
    for a in anns:
        c, s = C.box_center_scale(a['bbox'])
        centers.append(c)
        scales.append(s)
    for d in deltas:
        for a, c, s in zip(anns, centers, scales):
            img, _, _ = C.crop(split.frame(a['image_id'], d), c, s, 0.0, False)
            imgs.append(img)
    return C.to_tensor(imgs), np.array(centers), np.array(scales)


@torch.no_grad()
def heatmaps(split, backbone, head, neck=None, batch=64):
    """{variant: heatmaps [N, 17, h, w]} for every annotation of the split."""
    out = {k: [] for k in (['single'] if neck is None else ['single', 'unwarped', 'neck_t', 'posewarper'])}
    centers, scales = [], []
    for i in range(0, len(split.anns), batch):
        anns = split.anns[i:i + batch]
        deltas = (0,) if neck is None else OFFSETS
        x, c, s = crops_for(split, anns, deltas)
        centers.append(c)
        scales.append(s)
        n = len(anns)
        feats = backbone(x)[0]
        if neck is None:
            out['single'].append(head(feats))
            continue
        per = [feats[k * n:(k + 1) * n] for k in range(len(deltas))]
        out['single'].append(head(per[0]))
        heats = [neck.trans_layer(f) for f in per]
        out['unwarped'].append(sum(w * h for w, h in zip(WEIGHTS, heats)))
        out['neck_t'].append(neck([per[0]], [1.0]))
        out['posewarper'].append(neck(per, WEIGHTS))
    return {k: torch.cat(v).numpy() for k, v in out.items()}, np.concatenate(centers), np.concatenate(scales)


def pck(split, preds, thr):
    """mmpose keypoint_pck_accuracy, normalised by each box's (w, h)."""
    gts = np.array([a['keypoints'] for a in split.anns], np.float32).reshape(-1, 17, 3)
    wh = np.array([a['bbox'][2:] for a in split.anns], np.float32)
    mask = gts[:, :, 2] > 0
    dist = np.linalg.norm((preds - gts[:, :, :2]) / wh[:, None, :], axis=-1)
    accs = [(dist[mask[:, j], j] < thr).mean() for j in range(17) if mask[:, j].any()]
    return float(np.mean(accs))


def coco_ap(split, preds, scores):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    results = []
    for a, p, s in zip(split.anns, preds, scores):
        s = s.reshape(-1)
        kept = s[s > 0.2]
        inst = float(kept.mean()) if len(kept) else 0.0
        kps = np.concatenate([p, s[:, None]], 1).reshape(-1)
        results.append(dict(image_id=a['image_id'], category_id=1, keypoints=[float(v) for v in kps],
                            score=inst))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = split.coco
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, 'keypoints')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    st = ev.stats
    return dict(AP=float(st[0]), AP50=float(st[1]), AP75=float(st[2]), AR=float(st[5]))


def metrics(split, hm, centers, scales, post_process='default', kernel=11):
    preds, maxvals = R.keypoints_from_heatmaps(hm, centers, scales, post_process=post_process, kernel=kernel)
    m = {'PCK@0.2': pck(split, preds, 0.2), 'PCK@0.1': pck(split, preds, 0.1)}
    m.update(coco_ap(split, preds, maxvals))
    return m


class GroundTruth:
    """A COCO ground-truth file alone (no videos): what scoring a results file needs."""

    def __init__(self, path):
        with open(path) as f:
            self.coco = json.load(f)
        self.anns = [a for a in self.coco['annotations'] if a['num_keypoints'] > 0]


def oks(gt, kps):
    sig = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0
    g = np.array(gt['keypoints'], float).reshape(17, 3)
    vis = g[:, 2] > 0
    d2 = ((kps[:, :2] - g[:, :2]) ** 2).sum(1) / (2 * (2 * sig) ** 2 * (gt['area'] + np.spacing(1)))
    return float(np.exp(-d2[vis]).mean()) if vis.any() else 0.0


def score_results(gt_path, results_path):
    """PCK and AP of a COCO keypoint results file (e.g. `posewarper run --coco`). For PCK each
    ground-truth person takes the result in its image with the highest OKS (one result each)."""
    gt = GroundTruth(gt_path)
    with open(results_path) as f:
        results = json.load(f)
    by_image = {}
    for r in results:
        by_image.setdefault(r['image_id'], []).append(np.array(r['keypoints'], float).reshape(17, 3))
    preds, missing = [], 0
    for a in gt.anns:
        cands = by_image.get(a['image_id'], [])
        if not cands:
            missing += 1
            preds.append(np.full((17, 2), -1e6))
            continue
        best = max(range(len(cands)), key=lambda i: oks(a, cands[i]))
        preds.append(cands.pop(best)[:, :2])
    m = {'PCK@0.2': pck(gt, np.array(preds), 0.2), 'PCK@0.1': pck(gt, np.array(preds), 0.1)}
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO()
        g.dataset = gt.coco
        g.createIndex()
        ev = COCOeval(g, g.loadRes(results), 'keypoints')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    m.update(AP=float(ev.stats[0]), AP50=float(ev.stats[1]), AP75=float(ev.stats[2]), AR=float(ev.stats[5]),
             unmatched=missing)
    return m


def load_models(topdown_path, posewarper_path):
    from train_topdown import build_topdown
    from train_neck import build_posewarper
    td = build_topdown()
    sd = torch.load(topdown_path, map_location='cpu')['state_dict']
    td.load_state_dict(sd)
    td.eval()
    neck = None
    if posewarper_path:
        pw = build_posewarper()
        pw.load_state_dict(torch.load(posewarper_path, map_location='cpu')['state_dict'])
        pw.eval()
        neck = pw.neck
    return td, neck


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='/work/synthdata')
    ap.add_argument('--splits', default='test_clean,test_hard')
    ap.add_argument('--topdown')
    ap.add_argument('--gt', help='with --results: score a COCO keypoint results file against this GT')
    ap.add_argument('--results')
    ap.add_argument('--modulate-kernel', type=int, default=11)
    ap.add_argument('--posewarper')
    ap.add_argument('--post-process', default='default', help="comma-separated: default,unbiased")
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--max-videos', type=int, help='the first N clips of each split only')
    ap.add_argument('--json')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.results:
        m = score_results(a.gt, a.results)
        print(' '.join(f'{k} {v:.4f}' for k, v in m.items()))
        return
    td, neck = load_models(a.topdown, a.posewarper)
    report = {}
    for name in a.splits.split(','):
        split = C.Split(name if name.endswith('.json') else os.path.join(a.data, name), a.max_videos)
        hms, centers, scales = heatmaps(split, td.backbone, td.keypoint_head.final_layer, neck)
        for pp in a.post_process.split(','):
            key = name if pp == 'default' else f'{name}/{pp}'
            report[key] = {k: metrics(split, v, centers, scales, pp, a.modulate_kernel) for k, v in hms.items()}
            for k, m in report[key].items():
                print(f'{key:21s} {k:11s} ' + ' '.join(f'{mk} {mv:.4f}' for mk, mv in m.items()), flush=True)
        report[name + '/persons'] = len(split.anns)
        report[name + '/videos'] = len(split.videos)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
