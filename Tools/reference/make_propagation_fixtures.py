"""Writes Tests/PipelineTests/Fixtures/propagation/ (run from the package root):

    /work/venv/bin/python Tools/reference/make_propagation_fixtures.py

The `propagate --method warp` path on the tiny random PoseWarper of the model fixtures
(Tests/ModelsTests/Fixtures/tiny_posewarper.pth): one target crop and two labelled source crops,
the sources' label heatmaps in the target's crop, the warped and weighted heatmaps, and their
decoded keypoints, computed with posewarper_ref.py. Also `clip_labels.json`: hand-placed PoseTrack18
labels of two players on frames 0 and 4 of the real clip in ../shared/data/posetrack18-clip.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import posewarper_ref as R  # noqa: E402

OUT = os.path.join('Tests', 'PipelineTests', 'Fixtures', 'propagation')
MODEL = os.path.join('Tests', 'ModelsTests', 'Fixtures', 'tiny_posewarper.pth')
INPUT_W, INPUT_H = 32, 64          # the tiny model's input; heatmaps 8 x 16
SIGMA = 2.0
NECK_INNER, NECK_BLOCKS = 4, 2     # as make_model_fixtures.py


def main():
    os.makedirs(OUT, exist_ok=True)
    model = R.PoseWarperModel(R.tiny_config(), inner=NECK_INNER, blocks=NECK_BLOCKS)
    model.load_state_dict(torch.load(MODEL, weights_only=False)['state_dict'])
    model.eval()

    rng = np.random.default_rng(21)
    crops = rng.normal(0, 1, (3, 3, INPUT_H, INPUT_W)).astype(np.float32)
    box = [20.0, 30.0, 40.0, 80.0]
    center, scale = R.xywh2cs(*box, (INPUT_W, INPUT_H))
    # Two labelled sources (1 frame before, 2 after): keypoints in and around the box; slot 3
    # unlabelled on both sides, slot 4 on the later one, slot 9 on the earlier one.
    base = np.stack([rng.uniform(box[0] - 5, box[0] + box[2] + 5, 17),
                     rng.uniform(box[1] - 5, box[1] + box[3] + 5, 17)], 1)
    sources = []
    for shift in (-3.0, 4.5):
        kp = np.concatenate([base + shift + rng.normal(0, 1, base.shape), np.full((17, 1), 2.0)], 1)
        sources.append(kp)
    sources[0][3, 2] = sources[1][3, 2] = 0
    sources[1][4, 2] = 0
    sources[0][9, 2] = 0
    distances = [1, 2]
    weights = np.zeros((2, 17), dtype=np.float32)
    for k in range(17):
        labelled = [i for i in range(2) if sources[i][k, 2] > 0]
        total = sum(1.0 / distances[i] for i in labelled)
        for i in labelled:
            weights[i, k] = (1.0 / distances[i]) / total

    heatmap_size = (INPUT_W // 4, INPUT_H // 4)
    labels = np.stack([R.label_heatmaps(s.tolist(), center, scale, heatmap_size, SIGMA) for s in sources])
    with torch.no_grad():
        out = R.propagate_warp(model, torch.from_numpy(crops), torch.from_numpy(labels), torch.from_numpy(weights))
    out = out.numpy()
    preds, maxvals = R.keypoints_from_heatmaps(out, center[None], scale[None], post_process='default')

    np.save(os.path.join(OUT, 'crops.npy'), crops)
    np.save(os.path.join(OUT, 'labels.npy'), labels)
    np.save(os.path.join(OUT, 'output.npy'), out.astype(np.float32))
    with open(os.path.join(OUT, 'case.json'), 'w') as f:
        json.dump({'box': box, 'center': center.tolist(), 'scale': scale.tolist(), 'sigma': SIGMA,
                   'heatmapSize': heatmap_size, 'sources': [s.tolist() for s in sources],
                   'distances': distances, 'weights': weights.tolist(),
                   'decoded': np.concatenate([preds[0], maxvals[0]], 1).tolist()}, f)
    print(f'wrote {OUT}: output std {out.std():.4f}, label max {labels.max():.4f}')


# Hand-placed on the 1280x720 frames (half-resolution pixels, doubled below): the white player (#3)
# and the blue player, in PoseTrack18 slot order; None = not labelled (ears; the blue player's
# ankles are hidden behind the falling defender).
CLIP_LABELS = {
    0: {3: [(233, 150), (234, 158), (231, 140), None, None, (245, 168), (222, 167), (255, 185), (219, 186),
            (270, 188), (222, 200), (248, 207), (228, 207), (258, 235), (213, 235), (268, 270), (190, 252)],
        5: [(366, 140), (366, 150), (368, 132), None, None, (372, 158), (352, 155), (378, 178), (330, 148),
            (372, 195), (308, 140), (378, 197), (362, 197), (395, 210), (370, 215), None, None]},
    4: {3: [(205, 155), (206, 163), (203, 145), None, None, (218, 172), (192, 172), (232, 188), (186, 190),
            (255, 185), (190, 205), (218, 212), (200, 212), (222, 245), (200, 245), (205, 288), (190, 275)],
        5: [(312, 152), (316, 160), (316, 143), None, None, (324, 168), (304, 166), (330, 185), (300, 185),
            (338, 200), (296, 200), (332, 200), (316, 200), (355, 215), (335, 220), None, None]},
}


def clip_labels():
    images, annotations = [], []
    for f in range(5):
        image_id = 10000010000 + f
        images.append({'file_name': f'images/val/000001_mpiinew_test/{f:06d}.jpg', 'id': image_id,
                       'frame_id': image_id, 'vid_id': '000001', 'nframes': 5, 'is_labeled': f in CLIP_LABELS})
        for track, points in CLIP_LABELS.get(f, {}).items():
            keypoints, xs, ys = [], [], []
            for p in points:
                if p is None:
                    keypoints += [0, 0, 0]
                else:
                    keypoints += [2 * p[0], 2 * p[1], 1]
                    xs.append(2 * p[0])
                    ys.append(2 * p[1])
            # A box around the labelled keypoints with some margin, as annotators draw them.
            x0, x1, y0, y1 = min(xs) - 16, max(xs) + 16, min(ys) - 24, max(ys) + 16
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'track_id': track,
                                'category_id': 1, 'keypoints': keypoints, 'bbox': [x0, y0, x1 - x0, y1 - y0]})
    names = ['nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
             'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
             'right_knee', 'left_ankle', 'right_ankle']
    doc = {'images': images, 'annotations': annotations,
           'categories': [{'id': 1, 'name': 'person', 'supercategory': 'person', 'keypoints': names}]}
    with open(os.path.join(OUT, 'clip_labels.json'), 'w') as f:
        json.dump(doc, f, indent=1)


if __name__ == '__main__':
    main()
    clip_labels()
