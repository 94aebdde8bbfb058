#!/usr/bin/env python3
"""Reference numbers for `posewarper evaluate`, computed by the upstream tools themselves.

  coco GT RESULTS            pycocotools COCOeval(iouType="keypoints") on a COCO results file
  pck GT RESULTS             PCK@0.2 / PCK@0.1 the way mmpose 0.x computes it (an independent numpy
                             re-statement of `_calc_distances` / `_distance_acc` /
                             `keypoint_pck_accuracy` and the top-down loader's box sanitising), with
                             the product's pairing rule (greedy highest OKS)
  tracking GT PRED POSEVAL   PoseTrack poseval's own code (POSEVAL is a checkout of
                             leonid-pishchulin/poseval, never copied here; needs py-motmetrics and
                             shapely): its assignGTmulti, then motmetrics accumulators per joint fed
                             exactly as its computeMetrics does

Each prints one JSON object on stdout. Used by Tools/evaluation/make_fixtures.py and by the
EvaluationTests that re-run the references when they are installed.
"""
import contextlib
import io
import json
import os
import sys
import tempfile

import numpy as np


def coco(gt_path, results_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        # The product leaves PoseTrack's unlabelled frames out; pycocotools is told the same.
        labelled = [i["id"] for i in gt.dataset["images"] if i.get("is_labeled", True)]
        dt = gt.loadRes(results_path)
        ev = COCOeval(gt, dt, "keypoints")
        ev.params.imgIds = sorted(labelled)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    names = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    return {n: float(v) for n, v in zip(names, ev.stats)}


SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0


def oks(d, g):
    """pycocotools computeOks for one detection and one ground-truth person."""
    g_k = np.array(g["keypoints"], dtype=float)
    xg, yg, vg = g_k[0::3], g_k[1::3], g_k[2::3]
    d_k = np.array(d, dtype=float)
    xd, yd = d_k[0::3], d_k[1::3]
    area = g.get("area", g["bbox"][2] * g["bbox"][3])
    var = (SIGMAS * 2) ** 2
    if np.count_nonzero(vg > 0) > 0:
        dx, dy = xd - xg, yd - yg
    else:
        bb = g["bbox"]
        x0, x1, y0, y1 = bb[0] - bb[2], bb[0] + bb[2] * 2, bb[1] - bb[3], bb[1] + bb[3] * 2
        z = np.zeros(len(SIGMAS))
        dx = np.max((z, x0 - xd), axis=0) + np.max((z, xd - x1), axis=0)
        dy = np.max((z, y0 - yd), axis=0) + np.max((z, yd - y1), axis=0)
    e = (dx ** 2 + dy ** 2) / var / (area + np.spacing(1)) / 2
    if np.count_nonzero(vg > 0) > 0:
        e = e[vg > 0]
    return float(np.sum(np.exp(-e)) / e.shape[0])


def pck(gt_path, results_path):
    with open(gt_path) as f:
        gt = json.load(f)
    with open(results_path) as f:
        res = json.load(f)
    images = {i["id"]: i for i in gt["images"] if i.get("is_labeled", True)}
    preds = {}
    for r in res:
        if r.get("category_id", 1) == 1:
            preds.setdefault(r["image_id"], []).append(r)
    outputs, targets, masks, norms = [], [], [], []
    persons = unmatched = 0
    by_image = {}
    for a in gt["annotations"]:
        if a.get("category_id", 1) == 1 and a["image_id"] in images:
            by_image.setdefault(a["image_id"], []).append(a)
    for image_id in [i["id"] for i in gt["images"] if i["id"] in images]:
        img = images[image_id]
        people = []
        for obj in by_image.get(image_id, []):
            # mmpose 0.x TopDownCocoDataset._load_coco_keypoint_annotation_kernel
            if obj.get("iscrowd", 0):
                continue
            x, y, w, h = obj["bbox"]
            x1, y1 = max(0, x), max(0, y)
            x2 = x1 + max(0, w - 1)
            y2 = y1 + max(0, h - 1)
            if "width" in img:
                x2 = min(img["width"] - 1, x2)
            if "height" in img:
                y2 = min(img["height"] - 1, y2)
            if not (("area" not in obj or obj["area"] > 0) and x2 > x1 and y2 > y1):
                continue
            if max(obj["keypoints"]) == 0:
                continue
            if "num_keypoints" in obj and obj["num_keypoints"] == 0:
                continue
            people.append((obj, [x1, y1, x2 - x1, y2 - y1]))
        cands = preds.get(image_id, [])
        pairs = sorted(((oks(c["keypoints"], p), gi, di) for gi, (p, _) in enumerate(people) for di, c in enumerate(cands)),
                       key=lambda t: (-t[0], t[1], t[2]))
        chosen, used = {}, set()
        for _, gi, di in pairs:
            if gi not in chosen and di not in used:
                chosen[gi] = di
                used.add(di)
        for gi, (obj, clean) in enumerate(people):
            persons += 1
            k = np.array(obj["keypoints"], dtype=np.float32).reshape(-1, 3)
            if gi in chosen:
                outputs.append(np.array(cands[chosen[gi]]["keypoints"]).reshape(-1, 3)[:, :2])
            else:
                unmatched += 1
                outputs.append(np.full((len(k), 2), np.inf))
            targets.append(k[:, :2])
            masks.append(np.minimum(1, k[:, 2]) > 0)
            side = np.max(np.array(clean)[2:])
            norms.append(np.array([side, side]))
    outputs, targets, masks, norms = map(np.array, (outputs, targets, masks, norms))
    result = {"persons": persons, "unmatched": unmatched}
    for thr in (0.2, 0.1):
        # mmpose.core.evaluation.top_down_eval.keypoint_pck_accuracy, restated
        n, kk, _ = outputs.shape
        m = masks.copy()
        m[np.where((norms == 0).sum(1))[0], :] = False
        dist = np.full((n, kk), -1, dtype=np.float32)
        nn = norms.copy()
        nn[np.where(nn <= 0)] = 1e6
        dist[m] = np.linalg.norm(((outputs - targets) / nn[:, None, :])[m], axis=-1)
        acc = []
        for d in dist.T:
            valid = d != -1
            acc.append((d[valid] < thr).sum() / valid.sum() if valid.sum() > 0 else -1)
        acc = np.array(acc)
        good = acc[acc >= 0]
        result["PCK@%s" % thr] = float(good.mean()) if len(good) else 0.0
        result["per_keypoint@%s" % thr] = [None if a < 0 else float(a) for a in acc]
    return result


def tracking(gt_path, pred_path, poseval_dir):
    """poseval on a (possibly multi-video) PoseTrack18 GT file and prediction file."""
    sys.path.insert(0, poseval_dir)
    import motmetrics as mm
    from poseval import eval_helpers, evaluateTracking

    with open(gt_path) as f:
        gt = json.load(f)
    with open(pred_path) as f:
        pred = json.load(f)
    gt_dir, pred_dir, out_dir = tempfile.mkdtemp(), tempfile.mkdtemp(), tempfile.mkdtemp()
    # poseval reads one file per video, named alike on both sides, frames aligned by position.
    videos = []
    for img in gt["images"]:
        if img["vid_id"] not in videos:
            videos.append(img["vid_id"])
    for v in videos:
        imgs = [i for i in gt["images"] if i["vid_id"] == v]
        ids = {i["id"] for i in imgs}
        name = os.path.basename(os.path.dirname(imgs[0]["file_name"])) + ".json"
        for src, folder in ((gt, gt_dir), (pred, pred_dir)):
            part = {"images": imgs, "categories": gt["categories"],
                    "annotations": [a for a in src["annotations"] if a["image_id"] in ids]}
            with open(os.path.join(folder, name), "w") as f:
                json.dump(part, f)
    with contextlib.redirect_stdout(io.StringIO()):
        gt_frames, pr_frames = eval_helpers.load_data_dir([None, gt_dir + "/", pred_dir + "/"])
        # computeMetrics mutates nothing it reads twice; run it for poseval's own totals first.
        import copy
        official = evaluateTracking.evaluateTracking(copy.deepcopy(gt_frames), copy.deepcopy(pr_frames), out_dir, False, False)
        _, _, _, mot = eval_helpers.assignGTmulti(gt_frames, pr_frames, 0.5)
    n_joints = eval_helpers.Joint().count
    seq = np.array([f["seq_id"] for f in gt_frames])
    counts = {k: np.zeros(n_joints) for k in ("MATCH", "SWITCH", "MISS", "FP", "D", "frames")}
    for s in np.unique(seq):
        acc = [mm.MOTAccumulator(auto_id=True) for _ in range(n_joints)]
        frames = np.argwhere(seq == s)[:-1, 0]    # poseval leaves each video's last frame out
        for idx in frames:
            for j in range(n_joints):
                acc[j].update(mot[idx][j]["trackidxGT"], mot[idx][j]["trackidxPr"], mot[idx][j]["dist"])
        for j in range(n_joints):
            ev = acc[j].mot_events
            for t in ("MATCH", "SWITCH", "MISS", "FP"):
                counts[t][j] += int((ev.Type == t).sum())
            d = ev[ev.Type.isin(["MATCH", "SWITCH"])].D.sum()
            counts["D"][j] += 0 if np.isnan(d) else d
        counts["frames"] += len(frames)
    joints = []
    names = eval_helpers.Joint().name
    for j in range(n_joints):
        match, switch, miss, fp, dsum = (counts[k][j] for k in ("MATCH", "SWITCH", "MISS", "FP", "D"))
        objects, det = match + switch + miss, match + switch
        joints.append({
            "joint": names[j], "matched": int(det), "id_switches": int(switch), "misses": int(miss),
            "false_positives": int(fp), "gt_joints": int(objects),
            "MOTA": 100 * (1 - (miss + switch + fp) / objects) if objects else None,
            "MOTP": 0.0 if det == 0 else 100 * (1 - dsum / det),
            "precision": 100 * det / (fp + det) if fp + det else None,
            "recall": 100 * det / objects if objects else None,
        })

    def mean(key):
        v = [r[key] for r in joints if r[key] is not None]
        return sum(v) / len(v) if v else None

    total = {k: mean(k) for k in ("MOTA", "MOTP", "precision", "recall")}
    for k in ("matched", "id_switches", "misses", "false_positives", "gt_joints"):
        total[k] = sum(r[k] for r in joints)
    return {"joints": joints, "total": total, "frames": int(counts["frames"][0]),
            "poseval_computeMetrics": {k: [None if np.isnan(x) else float(x) for x in official[k][0]] for k in ("mota", "motp", "pre", "rec")}}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "coco":
        out = coco(sys.argv[2], sys.argv[3])
    elif kind == "pck":
        out = pck(sys.argv[2], sys.argv[3])
    elif kind == "tracking":
        out = tracking(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: reference.py coco|pck|tracking GT PRED [POSEVAL_DIR]")
    print(json.dumps(out, sort_keys=True))
