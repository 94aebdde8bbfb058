#!/usr/bin/env python3
"""Writes the EvaluationTests fixtures and the numbers the upstream tools compute on them.

Run from the package root:
    python3 Tools/evaluation/make_fixtures.py [--poseval DIR]
Needs numpy and pycocotools; with --poseval (a checkout of leonid-pishchulin/poseval, plus
py-motmetrics and shapely) the tracking numbers come from poseval's own code, else the committed
tracking numbers are kept. Outputs (Tests/EvaluationTests/Fixtures):
  coco_gt.json            COCO keypoints ground truth: 12 images (ids = frame indices), crowd and
                          num_keypoints == 0 persons, small/medium/large areas, boxes over the edge,
                          an annotation with id 0, an image without persons
  coco_stream.jsonl       predictions as a keypoint stream (frame = image id)
  coco_results.json       the same predictions as COCO results (score = mean keypoint score above
                          0.2 × box score, as `posewarper run --coco` writes it)
  coco_results_bbox.json  the same with boxes (pycocotools then takes areas from the boxes)
  posetrack_gt.json       PoseTrack18 ground truth: 2 videos, head boxes, track ids, unannotated
                          joints, an ignore region, unlabelled frames
  posetrack_pred.json     tracked predictions (switches, false positives, a frame without any)
  posetrack_stream_000001.jsonl  video 000001's predictions as a keypoint stream
  expected.json           pycocotools / mmpose-PCK / poseval numbers for all of the above
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "EvaluationTests", "Fixtures")
COCO17 = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
          "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
          "right_knee", "left_ankle", "right_ankle"]
PT18 = ["nose", "head_bottom", "head_top", "left_ear", "right_ear"] + COCO17[5:]
# A standing person's keypoints in a unit box (x right, y down).
TEMPLATE = np.array([[.5, .08], [.55, .06], [.45, .06], [.6, .08], [.4, .08], [.68, .22], [.32, .22], [.75, .4],
                     [.25, .4], [.78, .55], [.22, .55], [.62, .56], [.38, .56], [.63, .77], [.37, .77], [.64, .97],
                     [.36, .97]])


def r4(x):
    return float(round(float(x), 4))


def person(rng, x, y, w, h):
    k = TEMPLATE * [w, h] + [x, y] + rng.normal(0, 0.02, TEMPLATE.shape) * [w, h]
    return k


def coco_fixtures(rng):
    images, anns, stream, results = [], [], [], []
    ann_id = 0   # the first annotation has id 0: pycocotools then treats its matches as misses
    sizes = [(320, 240)] * 12
    for img_id in range(12):
        W, H = sizes[img_id]
        images.append({"id": img_id, "file_name": "%06d.jpg" % img_id, "width": W, "height": H})
        persons = []
        n = [3, 2, 4, 1, 0, 3, 2, 5, 1, 2, 3, 2][img_id]
        for p in range(n):
            scale = rng.choice([0.12, 0.3, 0.6, 0.9])   # small, medium, large
            h = float(H * scale) * rng.uniform(0.8, 1.1)
            w = h * rng.uniform(0.35, 0.6)
            x = float(rng.uniform(-0.1 * w, W - 0.8 * w))   # some boxes cross the frame edge
            y = float(rng.uniform(-0.05 * h, H - 0.9 * h))
            k = person(rng, x, y, w, h)
            v = rng.choice([0, 1, 2], size=17, p=[0.15, 0.25, 0.6])
            kp = []
            for (kx, ky), vis in zip(k, v):
                kp += [0, 0, 0] if vis == 0 else [r4(kx), r4(ky), int(vis)]
            ann = {"id": ann_id, "image_id": img_id, "category_id": 1, "bbox": [r4(x), r4(y), r4(w), r4(h)],
                   "area": r4(w * h * rng.uniform(0.5, 0.8)), "iscrowd": 0, "keypoints": kp,
                   "num_keypoints": int((v > 0).sum())}
            ann_id += 1
            if img_id == 5 and p == 2:   # a crowd region
                ann.update(iscrowd=1, keypoints=[0] * 51, num_keypoints=0)
            if img_id == 7 and p == 4:   # a labelled box without keypoints
                ann.update(keypoints=[0] * 51, num_keypoints=0)
            anns.append(ann)
            persons.append((k, w, h, x, y))
        # Predictions: a noisy copy of most persons, plus false positives; image 10 gets 23 (> 20).
        frame = []
        for i, (k, w, h, x, y) in enumerate(persons):
            if rng.uniform() < 0.15:
                continue
            noise = rng.choice([0.002, 0.008, 0.02, 0.05])
            pk = k + rng.normal(0, noise, k.shape) * [w, h]
            frame.append((pk, [x, y, w, h]))
        extra = 20 if img_id == 10 else int(rng.integers(0, 3))
        for _ in range(extra):
            h = float(H * rng.uniform(0.15, 0.7))
            w = h * 0.45
            x, y = float(rng.uniform(0, W - w)), float(rng.uniform(0, H - h))
            frame.append((person(rng, x, y, w, h), [x, y, w, h]))
        people = []
        for pk, box in frame:
            scores = rng.uniform(0.05, 1.0, 17)
            kps = [[r4(a), r4(b), r4(s)] for (a, b), s in zip(pk, scores)]
            bscore = r4(rng.uniform(0.3, 1.0))
            people.append({"bbox": [r4(b) for b in box], "bbox_score": bscore,
                           "score": r4(np.mean([s for _, _, s in kps])), "keypoints": kps})
        if img_id == 3 and len(people) >= 2:   # equal scores: ties resolved by file order
            people[1]["keypoints"] = [list(k) for k in people[0]["keypoints"]]
            people[1]["bbox_score"] = people[0]["bbox_score"]
        stream.append({"frame": img_id, "time": img_id / 25, "persons": people})
        for p in people:
            kept = [s for _, _, s in p["keypoints"] if s > 0.2]
            score = (sum(kept) / len(kept) if kept else 0) * p["bbox_score"]
            results.append({"image_id": img_id, "category_id": 1, "keypoints": [c for k in p["keypoints"] for c in k],
                            "score": score, "bbox": p["bbox"]})
    categories = [{"id": 1, "name": "person", "supercategory": "person", "keypoints": COCO17, "skeleton": []}]
    gt = {"images": images, "annotations": anns, "categories": categories}
    header = {"schema": {"name": "coco17", "keypoints": COCO17, "skeleton": []},
              "video": {"width": 320, "height": 240, "fps": 25, "frames": 12}}
    return gt, stream, results, header


def posetrack_fixtures(rng):
    images, anns, preds = [], [], []
    categories = [{"id": 1, "name": "person", "supercategory": "person", "keypoints": PT18, "skeleton": []}]
    W, H = 640, 360
    streams = {}
    ann_id = 1
    for video in (1, 2):
        seq = "%06d_mpii_test" % video
        n_frames = 9
        tracks = {}   # GT track id -> (x, y, w, h, vx)
        for t in range(3):
            h = float(rng.uniform(140, 260))
            tracks[t] = [float(rng.uniform(20, W - 200)), float(rng.uniform(20, H - h - 10)), h * 0.45, h,
                         float(rng.uniform(-8, 8))]
        stream = []
        for f in range(n_frames):
            img_id = 10000000000 + video * 10000 + f
            labelled = f not in (1, 4)          # unlabelled frames carry no persons
            img = {"id": img_id, "file_name": "images/val/%s/%06d.jpg" % (seq, f), "vid_id": "%06d" % video,
                   "frame_id": img_id, "nframes": n_frames, "is_labeled": labelled, "width": W, "height": H}
            if video == 1 and f == 5:
                img["ignore_regions_x"] = [[0, 120, 120, 0]]
                img["ignore_regions_y"] = [[0, 0, H, H]]
            images.append(img)
            people = []
            for t, (x, y, w, h, vx) in tracks.items():
                x += vx * f
                if not labelled:
                    continue
                if video == 2 and t == 2 and f < 3:     # enters late
                    continue
                k = person(rng, x, y, w, h)
                kp = []
                for i, (a, b) in enumerate(k):
                    unannotated = i in (3, 4) or rng.uniform() < 0.1
                    kp += [0, 0, 0] if unannotated else [r4(a), r4(b), 1]
                head = [r4(x + 0.35 * w), r4(y), r4(0.3 * w), r4(0.14 * h)]
                anns.append({"id": ann_id, "image_id": img_id, "category_id": 1, "track_id": t,
                             "bbox": [r4(x), r4(y), r4(w), r4(h)], "bbox_head": head, "keypoints": kp})
                ann_id += 1
                people.append((t, k, w, h, x, y))
            # Predictions (on every frame, labelled or not).
            frame_preds = []
            if not (video == 1 and f == 6):          # a frame with no predictions at all
                for t, k, w, h, x, y in people:
                    if rng.uniform() < 0.1:
                        continue
                    pid = t + 1
                    if video == 1 and t == 0 and f >= 3:   # identity switch to a new id
                        pid = 7
                    if video == 2 and f >= 5 and t in (0, 1):   # two tracks swap ids
                        pid = 2 - t
                    noise = rng.choice([0.01, 0.03, 0.08])
                    pk = k + rng.normal(0, noise, k.shape) * [w, h]
                    frame_preds.append((pid, pk, [x, y, w, h]))
                if f % 3 == 0:   # a false positive person
                    fh = 150.0
                    fx = float(rng.uniform(0, W - 80))
                    frame_preds.append((9, person(rng, fx, 100, fh * 0.45, fh), [fx, 100, fh * 0.45, fh]))
            sp = []
            for pid, pk, box in frame_preds:
                scores = rng.uniform(0.1, 1.0, 17)
                kps = [[r4(a), r4(b), r4(s)] for (a, b), s in zip(pk, scores)]
                if rng.uniform() < 0.3:
                    kps[int(rng.integers(5, 17))] = [0, 0, 0]   # a joint not predicted
                mean = r4(np.mean([s for _, _, s in kps]))
                preds.append({"image_id": img_id, "track_id": pid, "category_id": 1,
                              "keypoints": [c for k in kps for c in k], "scores": [s for _, _, s in kps],
                              "score": mean, "bbox": [r4(b) for b in box]})
                sp.append({"track_id": pid, "bbox": [r4(b) for b in box], "score": mean, "keypoints": kps})
            stream.append({"frame": f, "time": f / 25, "persons": sp})
        streams[video] = stream
    gt = {"images": images, "annotations": anns, "categories": categories}
    pred = {"annotations": preds, "images": images, "categories": categories}
    return gt, pred, streams


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def write_stream(name, header, frames):
    with open(os.path.join(OUT, name), "w") as f:
        if header:
            f.write(json.dumps(header, separators=(",", ":")) + "\n")
        for fr in frames:
            f.write(json.dumps(fr, separators=(",", ":")) + "\n")


def reference(*args):
    out = subprocess.run([sys.executable, os.path.join(HERE, "reference.py")] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poseval", help="checkout of leonid-pishchulin/poseval (with motmetrics, shapely installed)")
    ap.add_argument("--poseval-python", default=sys.executable, help="python that can import motmetrics and shapely")
    ap.add_argument("--seed", type=int, default=20191208, help="another seed gives another fixture set (for stress checks)")
    ap.add_argument("--out", help="write there instead of Tests/EvaluationTests/Fixtures")
    args = ap.parse_args()
    global OUT
    OUT = args.out or OUT
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    gt, stream, results, header = coco_fixtures(rng)
    write_json("coco_gt.json", gt)
    write_stream("coco_stream.jsonl", header, stream)
    write_json("coco_results.json", [{k: v for k, v in r.items() if k != "bbox"} for r in results])
    write_json("coco_results_bbox.json", results)
    pt_gt, pt_pred, streams = posetrack_fixtures(rng)
    write_json("posetrack_gt.json", pt_gt)
    write_json("posetrack_pred.json", pt_pred)
    pt_header = {"schema": {"name": "posetrack18", "keypoints": PT18, "skeleton": []},
                 "video": {"width": 640, "height": 360, "fps": 25, "frames": 9}}
    write_stream("posetrack_stream_000001.jsonl", pt_header, streams[1])

    path = lambda n: os.path.join(OUT, n)
    expected_path = path("expected.json")
    old = json.load(open(expected_path)) if os.path.exists(expected_path) else {}
    expected = {
        "how": "coco: pycocotools COCOeval; pck: Tools/evaluation/reference.py (mmpose 0.x PCK restated); "
               "tracking: poseval's own assignGTmulti + py-motmetrics accumulators (Tools/evaluation/reference.py)",
        "coco_results": reference("coco", path("coco_gt.json"), path("coco_results.json")),
        "coco_results_bbox": reference("coco", path("coco_gt.json"), path("coco_results_bbox.json")),
        "pck": reference("pck", path("coco_gt.json"), path("coco_results.json")),
    }
    if args.poseval:
        def tracking(gt_file, pred_file):
            out = subprocess.run([args.poseval_python, os.path.join(HERE, "reference.py"), "tracking", gt_file, pred_file,
                                  args.poseval], check=True, capture_output=True, text=True).stdout
            return json.loads(out)
        expected["tracking"] = tracking(path("posetrack_gt.json"), path("posetrack_pred.json"))
        # Video 000001 alone (what the stream holds).
        v1 = {"images": [i for i in pt_gt["images"] if i["vid_id"] == "000001"], "categories": pt_gt["categories"]}
        ids = {i["id"] for i in v1["images"]}
        v1["annotations"] = [a for a in pt_gt["annotations"] if a["image_id"] in ids]
        p1 = dict(pt_pred, images=v1["images"], annotations=[a for a in pt_pred["annotations"] if a["image_id"] in ids])
        import tempfile
        d = tempfile.mkdtemp()
        json.dump(v1, open(os.path.join(d, "gt.json"), "w"))
        json.dump(p1, open(os.path.join(d, "pred.json"), "w"))
        expected["tracking_000001"] = tracking(os.path.join(d, "gt.json"), os.path.join(d, "pred.json"))
    else:
        for key in ("tracking", "tracking_000001"):
            if key in old:
                expected[key] = old[key]
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({k: v for k, v in expected.items() if k.startswith("coco")}, indent=1))


if __name__ == "__main__":
    main()
