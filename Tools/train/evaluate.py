"""Accuracy of the trained models on a split of the world, with ground-truth boxes.

    python Tools/train/evaluate.py --data /work/synthdata --splits test_clean,test_hard \
        --topdown Models/X.pth --posewarper Models/Y.pth [--json out.json]
    python Tools/train/evaluate.py --gt Samples/synth-demo.gt.json --results coco_results.json

Variants (all cropped with frame t's box; no flip test unless named):
  single      the top-down model on frame t alone
  single_flip the same with mmpose's flip test (flipped crop's heatmaps flipped back, shifted one
              pixel, averaged), as mmpose's single-frame HRNet configs test; --flip-test only
  unwarped    the PoseWarper frame weights applied to the neighbours' heatmaps without warping
  neck_t      the neck on frame t alone (zero difference: refinement without time)
  posewarper  the neck on frames [t, t-2, t-1, t+1, t+2] weighted (0.3, 0.1, 0.25, 0.25, 0.1)
Metrics: PCK@0.2 / PCK@0.1 as mmpose 0.x top-down datasets compute them (keypoint_pck_accuracy with
each axis's distance divided by max(w, h) of the ground-truth box, labelled joints only,
per-keypoint accuracy then the mean over keypoints; `--pck-norm per-axis` divides by w and h
instead, which is stricter for tall boxes), and COCO keypoint AP / AP50 / AP75 / AR from pycocotools' COCOeval
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
def heatmaps(split, backbone, head, neck=None, batch=64, persons=None, flip_test=False):
    """{variant: heatmaps [N, 17, h, w]} for every person of `persons` (dicts with image_id and
    bbox; default: the split's ground-truth annotations)."""
    persons = split.anns if persons is None else persons
    out = {k: [] for k in (['single'] if neck is None else ['single', 'unwarped', 'neck_t', 'posewarper'])}
    if flip_test:
        out['single_flip'] = []
    centers, scales = [], []
    for i in range(0, len(persons), batch):
        anns = persons[i:i + batch]
        deltas = (0,) if neck is None else OFFSETS
        x, c, s = crops_for(split, anns, deltas)
        centers.append(c)
        scales.append(s)
        n = len(anns)
        feats = backbone(x)[0]
        single = head(feats[:n])   # frame t's crops come first (delta 0)
        out['single'].append(single)
        if flip_test:
            mirrored = head(backbone(torch.flip(x[:n], dims=[3]))[0]).numpy()
            back = torch.from_numpy(R.shift_heatmap(R.flip_back(mirrored, C.FLIP_PAIRS)))
            out['single_flip'].append((single + back) * 0.5)
        if neck is None:
            continue
        per = [feats[k * n:(k + 1) * n] for k in range(len(deltas))]
        heats = [neck.trans_layer(f) for f in per]
        out['unwarped'].append(sum(w * h for w, h in zip(WEIGHTS, heats)))
        out['neck_t'].append(neck([per[0]], [1.0]))
        out['posewarper'].append(neck(per, WEIGHTS))
    if not persons:
        return {k: np.zeros((0, 17) + tuple(C.HEATMAP_SIZE[::-1]), np.float32) for k in out}, np.zeros((0, 2)), np.zeros((0, 2))
    return {k: torch.cat(v).numpy() for k, v in out.items()}, np.concatenate(centers), np.concatenate(scales)


# 'max' (mmpose 0.x: both axes divided by max(w, h) of the box) or 'per-axis' (w and h)
PCK_NORM = 'max'


def pck_hits(split, preds, thr, norm=None):
    """(hits, labelled) [N, 17] booleans: mmpose's per-joint PCK test, distances per axis divided
    by each ground-truth box's max(w, h) (or its (w, h) under norm / PCK_NORM 'per-axis')."""
    gts = np.array([a['keypoints'] for a in split.anns], np.float32).reshape(-1, 17, 3)
    wh = np.array([a['bbox'][2:] for a in split.anns], np.float32)
    if (norm or PCK_NORM) == 'max':
        wh = np.repeat(wh.max(axis=1, keepdims=True), 2, axis=1)
    mask = gts[:, :, 2] > 0
    dist = np.linalg.norm((preds - gts[:, :, :2]) / wh[:, None, :], axis=-1)
    return (dist < thr) & mask, mask


def pck(split, preds, thr, norm=None):
    """mmpose keypoint_pck_accuracy with bbox normalisation (norm, default PCK_NORM): per-joint
    accuracy over the labelled joints, then the mean over joints."""
    hits, mask = pck_hits(split, preds, thr, norm)
    accs = [hits[mask[:, j], j].mean() for j in range(17) if mask[:, j].any()]
    return float(np.mean(accs))


def clip_counts(split, hits, mask):
    """Per-clip hit and labelled counts [clips, 17], for a clip-level bootstrap."""
    vids = sorted(split.videos)
    row = {v: i for i, v in enumerate(vids)}
    h = np.zeros((len(vids), 17))
    n = np.zeros((len(vids), 17))
    for a, hi, mi in zip(split.anns, hits, mask):
        r = row[split.images[a['image_id']]['vid_id']]
        h[r] += hi
        n[r] += mi
    return h, n


def bootstrap_difference(counts_a, counts_b, samples=2000, seed=0):
    """PCK(a) - PCK(b) and its 95% percentile interval from resampling whole clips with
    replacement (paired: both variants see the same resampled clips)."""
    (ha, na), (hb, nb) = counts_a, counts_b
    rng = np.random.default_rng(seed)
    clips = ha.shape[0]
    w = rng.multinomial(clips, np.full(clips, 1.0 / clips), size=samples).astype(float)

    def pck_of(h, n, weights):
        hits, lab = weights @ h, weights @ n
        with np.errstate(invalid='ignore', divide='ignore'):
            acc = np.where(lab > 0, hits / np.maximum(lab, 1), np.nan)
        return np.nanmean(acc, axis=-1)

    one = np.ones((1, clips))
    point = float(pck_of(ha, na, one)[0] - pck_of(hb, nb, one)[0])
    diffs = pck_of(ha, na, w) - pck_of(hb, nb, w)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return point, float(lo), float(hi)


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


def scored(split, hm, centers, scales, post_process='default', kernel=11):
    """(metrics, predictions [N, 17, 2]) of heatmaps for the split's ground-truth persons."""
    preds, maxvals = R.keypoints_from_heatmaps(hm, centers, scales, post_process=post_process, kernel=kernel)
    m = {'PCK@0.2': pck(split, preds, 0.2), 'PCK@0.1': pck(split, preds, 0.1)}
    m.update(coco_ap(split, preds, maxvals))
    # the other normalisation too, so tables made under either stay comparable
    other = 'per-axis' if PCK_NORM == 'max' else 'max'
    m.update({f'PCK@0.2/{other}': pck(split, preds, 0.2, other), f'PCK@0.1/{other}': pck(split, preds, 0.1, other)})
    return m, preds


def metrics(split, hm, centers, scales, post_process='default', kernel=11):
    return scored(split, hm, centers, scales, post_process, kernel)[0]


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


def score_result_list(gt, results):
    """PCK and AP of COCO keypoint results against `gt` (anything with .coco and .anns). For PCK
    each ground-truth person takes the result in its image with the highest OKS (one result each;
    none left counts as a miss). Returns (metrics, predictions [N, 17, 2] in gt.anns order)."""
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
    preds = np.array(preds).reshape(-1, 17, 2)
    m = {'PCK@0.2': pck(gt, preds, 0.2), 'PCK@0.1': pck(gt, preds, 0.1)}
    if results:
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
        m.update(AP=float(ev.stats[0]), AP50=float(ev.stats[1]), AP75=float(ev.stats[2]), AR=float(ev.stats[5]))
    else:
        m.update(AP=0.0, AP50=0.0, AP75=0.0, AR=0.0)
    m['unmatched'] = missing
    return m, preds


def score_results(gt_path, results_path):
    """PCK and AP of a COCO keypoint results file (e.g. `posewarper run --coco`)."""
    with open(results_path) as f:
        results = json.load(f)
    return score_result_list(GroundTruth(gt_path), results)[0]


def detect_split(binary, pipeline, split, workdir, score_threshold=0.01):
    """COCO detection results for every frame of the split from the product's own detector
    (`posewarper detect`, the pipeline file's persons.detector section), with the split's image ids."""
    import subprocess
    os.makedirs(workdir, exist_ok=True)
    dets = []
    for vid in sorted(split.videos):
        ims = sorted((im for im in split.coco['images'] if im['vid_id'] == vid), key=lambda im: im['frame_index'])
        out = os.path.join(workdir, f'{vid}.boxes.json')
        subprocess.run([binary, 'detect', os.path.join(split.root, ims[0]['video']), '--pipeline', pipeline,
                        '--boxes-out', out, '--score-threshold', str(score_threshold), '--quiet'], check=True)
        with open(out) as f:
            for d in json.load(f):
                dets.append(dict(image_id=ims[d['image_id']]['id'], category_id=1, bbox=d['bbox'], score=d['score']))
    return dets


def detector_ap(split, dets):
    """COCO bbox AP / AP50 / AP75 / AR@100 of person detections against the split's amodal boxes."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    if not dets:
        return dict(AP=0.0, AP50=0.0, AP75=0.0, AR=0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = split.coco
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(AP=float(ev.stats[0]), AP50=float(ev.stats[1]), AP75=float(ev.stats[2]), AR=float(ev.stats[8]))


def keypoint_results(persons, preds, maxvals, rescore_threshold=0.2):
    """COCO keypoint results with mmpose's rescoring: box score times the mean keypoint score over
    the keypoints scoring above the threshold."""
    out = []
    for d, p, s in zip(persons, preds, maxvals):
        s = s.reshape(-1)
        kept = s[s > rescore_threshold]
        inst = float(kept.mean()) if len(kept) else 0.0
        kps = np.concatenate([p, s[:, None]], 1).reshape(-1)
        out.append(dict(image_id=d['image_id'], category_id=1, keypoints=[float(v) for v in kps],
                        score=inst * d.get('score', 1.0)))
    return out


def load_models(topdown_path, posewarper_path):
    from train_topdown import build_topdown
    from train_neck import build_posewarper
    td = build_topdown()
    sd = torch.load(topdown_path, map_location='cpu')['state_dict']
    td.load_state_dict(sd)
    td.eval()
    neck = None
    if posewarper_path:
        ck = torch.load(posewarper_path, map_location='cpu')
        # the neck's shape as its training run recorded it (train_neck.py --inner/--blocks/--dilations)
        shape = ck.get('meta', {}).get('config', {}).get('neck')
        pw = build_posewarper(shape) if shape else build_posewarper()
        pw.load_state_dict(ck['state_dict'])
        pw.eval()
        neck = pw.neck
    return td, neck


DIFFERENCES = (('posewarper', 'unwarped'), ('posewarper', 'single'), ('posewarper', 'neck_t'),
               ('posewarper', 'single_flip'))


def table_rows(name, boxes, metrics_by_variant, diffs):
    """Markdown rows: one per variant, then the paired differences with their intervals."""
    rows = []
    for k, m in metrics_by_variant.items():
        rows.append(f"| {name} | {boxes} | {k} | {m['PCK@0.2']:.3f} | {m['PCK@0.1']:.3f} | {m['AP']:.3f} | {m['AP50']:.3f} |")
    for (a, b), d in diffs.items():
        cells = ' | '.join(f"{100 * v[0]:+.2f} [{100 * v[1]:+.2f}, {100 * v[2]:+.2f}]" for v in (d['PCK@0.2'], d['PCK@0.1']))
        rows.append(f"| {name} | {boxes} | {a} − {b} (points, 95% CI) | {cells} | | |")
    return rows


def differences(split, preds_by_variant, samples):
    """Paired PCK differences (points as fractions) with clip-level bootstrap intervals."""
    out = {}
    if 'posewarper' not in preds_by_variant:
        return out
    counts = {}
    for k, p in preds_by_variant.items():
        counts[k] = {thr: clip_counts(split, *pck_hits(split, p, thr)) for thr in (0.2, 0.1)}
    for a, b in (d for d in DIFFERENCES if d[1] in counts):
        out[(a, b)] = {f'PCK@{thr}': bootstrap_difference(counts[a][thr], counts[b][thr], samples)
                       for thr in (0.2, 0.1)}
    return out


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
    ap.add_argument('--bootstrap', type=int, default=2000, help='clip-level bootstrap resamples for the paired differences')
    ap.add_argument('--detector-pipeline', help="a pipeline file with a persons.detector section: the table is repeated with that detector's boxes")
    ap.add_argument('--binary', default='.build/release/posewarper', help='the posewarper binary (runs the detector)')
    ap.add_argument('--work', default='accuracy/detections', help='where the detector boxes are written')
    ap.add_argument('--flip-test', action='store_true', help="add the single frame with mmpose's flip test (variant single_flip)")
    ap.add_argument('--pck-norm', choices=('max', 'per-axis'), default='max',
                    help="PCK's box normalisation: max(w, h) as mmpose 0.x (default) or per axis")
    ap.add_argument('--json')
    ap.add_argument('--markdown', help='write the results table (markdown) here too')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    global PCK_NORM
    PCK_NORM = a.pck_norm
    if a.results:
        m = score_results(a.gt, a.results)
        print(' '.join(f'{k} {v:.4f}' for k, v in m.items()))
        return
    td, neck = load_models(a.topdown, a.posewarper)
    head = td.keypoint_head.final_layer
    report = {}
    rows = ['| split | boxes | variant | PCK@0.2 | PCK@0.1 | AP | AP50 |', '| --- | --- | --- | --- | --- | --- | --- |']
    det_rows = ['| split | detector AP50 | AP | AP75 | AR@100 |', '| --- | --- | --- | --- | --- |']

    def show(key, ms, diffs):
        for k, m in ms.items():
            print(f'{key:30s} {k:11s} ' + ' '.join(f'{mk} {mv:.4f}' for mk, mv in m.items()), flush=True)
        for (x, y), d in diffs.items():
            print(f'{key:30s} {x} - {y}: ' + ' '.join(
                f'{mk} {100 * v[0]:+.2f} [{100 * v[1]:+.2f}, {100 * v[2]:+.2f}] points' for mk, v in d.items()), flush=True)

    for name in a.splits.split(','):
        split = C.Split(name if name.endswith('.json') else os.path.join(a.data, name), a.max_videos)
        hms, centers, scales = heatmaps(split, td.backbone, head, neck, flip_test=a.flip_test)
        for pp in a.post_process.split(','):
            key = name if pp == 'default' else f'{name}/{pp}'
            ms, preds = {}, {}
            for k, hm in hms.items():
                ms[k], preds[k] = scored(split, hm, centers, scales, pp, a.modulate_kernel)
            diffs = differences(split, preds, a.bootstrap)
            report[key] = dict(ms, differences={f'{x}-{y}': d for (x, y), d in diffs.items()})
            show(key, ms, diffs)
            rows += table_rows(name, f'GT, {pp}', ms, diffs)
        if a.detector_pipeline:
            dets = detect_split(a.binary, a.detector_pipeline, split, os.path.join(a.work, os.path.basename(name)))
            d = detector_ap(split, dets)
            report[name + '/detector'] = d
            print(f"{name:30s} detector AP50 {d['AP50']:.4f} AP {d['AP']:.4f} AP75 {d['AP75']:.4f} AR {d['AR']:.4f}", flush=True)
            det_rows.append(f"| {name} | {d['AP50']:.3f} | {d['AP']:.3f} | {d['AP75']:.3f} | {d['AR']:.3f} |")
            threshold = detector_score_threshold(a.detector_pipeline)
            persons = [p for p in dets if p['score'] >= threshold]
            dhms, dcenters, dscales = heatmaps(split, td.backbone, head, neck, persons=persons, flip_test=a.flip_test)
            for pp in a.post_process.split(','):
                key = f'{name}/detector' + ('' if pp == 'default' else f'/{pp}')
                ms, preds = {}, {}
                for k, hm in dhms.items():
                    if persons:
                        p, maxvals = R.keypoints_from_heatmaps(hm, dcenters, dscales, post_process=pp, kernel=a.modulate_kernel)
                    else:
                        p, maxvals = np.zeros((0, 17, 2)), np.zeros((0, 17, 1))
                    ms[k], preds[k] = score_result_list(split, keypoint_results(persons, p, maxvals))
                diffs = differences(split, preds, a.bootstrap)
                report[key] = dict(ms, differences={f'{x}-{y}': dd for (x, y), dd in diffs.items()})
                show(key, ms, diffs)
                rows += table_rows(name, f'detector, {pp}', ms, diffs)
        report[name + '/persons'] = len(split.anns)
        report[name + '/videos'] = len(split.videos)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, 'w') as f:
            json.dump(report, f, indent=1)
    text = '\n'.join(rows) + ('\n\n' + '\n'.join(det_rows) if a.detector_pipeline else '') + '\n'
    print(text)
    if a.markdown:
        with open(a.markdown, 'w') as f:
            f.write(text)


def detector_score_threshold(pipeline):
    """persons.detector.score_threshold of a pipeline file (the family default 0.3 when absent):
    the boxes the pose table uses are those the product's run would keep."""
    block = None
    with open(pipeline) as f:
        for line in f:
            text = line.split('#')[0].rstrip()
            if not text.strip():
                continue
            indent = len(text) - len(text.lstrip())
            if text.strip() == 'detector:':
                block = indent
            elif block is not None and indent <= block:
                block = None
            elif block is not None and text.strip().startswith('score_threshold:'):
                return float(text.split(':', 1)[1])
    return 0.3


if __name__ == '__main__':
    main()
