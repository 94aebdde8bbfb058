#!/usr/bin/env python3
"""Smoothing and tracking on a clip with ground truth (issue: steady skeletons, measured tracks).

For each smoothing method (none, one_euro, gaussian, savitzky_golay) and tracking method (iou, oks),
runs `posewarper run` with ground-truth boxes and reports, from `posewarper evaluate`:
PCK@0.2 / PCK@0.1 and MOTA / ID switches (`--tracking`), plus jitter: the mean magnitude of the
frame-to-frame acceleration |x(t+1) − 2x(t) + x(t−1)| of labelled keypoints along ground-truth
tracks, for the predictions and for the ground truth itself (predictions are paired with the
ground-truth person whose box they were run on: same frame, highest box IoU).

    python3 Tools/accuracy/smoothing_tracking.py --video Samples/synth-demo.mp4 \
        --gt Samples/synth-demo.gt.json --boxes Samples/synth-demo.boxes.json \
        --pipeline Models/posewarper-hrnet-w16-synth-128x96.yml
Standard library only.
"""
import argparse, json, os, subprocess, sys, tempfile


def iou(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0.0, min(ax2, bx2) - max(a[0], b[0])); h = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def tracks_from_gt(gt):
    frame_of = {im['id']: im.get('frame_index', im['id']) for im in gt['images']}
    tracks = {}
    for a in gt['annotations']:
        tracks.setdefault(a['track_id'], {})[frame_of[a['image_id']]] = a
    return tracks


def accel(series):
    """Mean |x(t+1) − 2x(t) + x(t−1)| over joints labelled in three consecutive frames."""
    total, n = 0.0, 0
    for track in series.values():
        for t, kp in track.items():
            if t - 1 in track and t + 1 in track:
                p, q = track[t - 1], track[t + 1]
                for j in range(len(kp)):
                    if kp[j] is None or p[j] is None or q[j] is None:
                        continue
                    ax = q[j][0] - 2 * kp[j][0] + p[j][0]
                    ay = q[j][1] - 2 * kp[j][1] + p[j][1]
                    total += (ax * ax + ay * ay) ** 0.5
                    n += 1
    return total / max(n, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--video', required=True)
    ap.add_argument('--gt', required=True)
    ap.add_argument('--boxes', required=True)
    ap.add_argument('--pipeline', required=True)
    ap.add_argument('--binary', default='.build/release/posewarper')
    ap.add_argument('--smoothing-threshold', type=float, default=0.1, help="the pipeline's smoothing.score_threshold")
    ap.add_argument('--json', help='write the rows here too')
    args = ap.parse_args()
    gt = json.load(open(args.gt))
    gt_tracks = tracks_from_gt(gt)
    labelled = lambda a: [(a['keypoints'][3 * j], a['keypoints'][3 * j + 1]) if a['keypoints'][3 * j + 2] > 0 else None
                          for j in range(len(a['keypoints']) // 3)]
    gt_series = {tid: {t: labelled(a) for t, a in fr.items()} for tid, fr in gt_tracks.items()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tracking in ['iou', 'oks']:
            pipeline = os.path.join(tmp, f'p-{tracking}.yml')
            text = open(args.pipeline).read().replace('method: iou', f'method: {tracking}')
            # Relative weights resolve against the pipeline file's folder: point at the original.
            weights_dir = os.path.dirname(os.path.abspath(args.pipeline))
            text = '\n'.join(l.replace('weights: ', f'weights: {weights_dir}/', 1) if l.strip().startswith('weights:') else l
                             for l in text.split('\n'))
            # Smooth every joint the model reports at all (this small model's keypoint scores are low).
            text += f'\nsmoothing:\n  score_threshold: {args.smoothing_threshold}\n'
            open(pipeline, 'w').write(text)
            for smooth in ['none', 'one_euro', 'gaussian', 'savitzky_golay']:
                if tracking == 'oks' and smooth != 'none':
                    continue
                out = os.path.join(tmp, f'{tracking}-{smooth}.jsonl')
                subprocess.run([args.binary, 'run', args.video, '--pipeline', pipeline, '--boxes', args.boxes,
                                '--keypoints', out, '--smooth', smooth, '--quiet'], check=True)
                ev = json.loads(subprocess.run([args.binary, 'evaluate', '--gt', args.gt, '--pred', out, '--pck-only', '--json'],
                                               check=True, capture_output=True, text=True).stdout)
                tr = json.loads(subprocess.run([args.binary, 'evaluate', '--tracking', '--gt', args.gt, '--pred', out, '--json'],
                                               check=True, capture_output=True, text=True).stdout)
                # Pair predictions with the ground-truth person of the same box, along GT tracks.
                series = {}
                for line in open(out):
                    d = json.loads(line)
                    if 'persons' not in d:
                        continue
                    t = d['frame']
                    for p in d['persons']:
                        best = max(((iou(p['bbox'], fr[t]['bbox']), tid) for tid, fr in gt_tracks.items() if t in fr), default=None)
                        if best is None or best[0] < 0.5:
                            continue
                        g = gt_series[best[1]][t]
                        series.setdefault(best[1], {})[t] = [(k[0], k[1]) if g[j] is not None else None
                                                             for j, k in enumerate(p['keypoints'])]
                total = tr['tracking']['total']
                rows.append({'tracking': tracking, 'smoothing': smooth, 'PCK@0.2': ev['pck']['PCK@0.2'], 'PCK@0.1': ev['pck']['PCK@0.1'],
                             'jitter_px': accel(series), 'gt_jitter_px': accel(gt_series), 'MOTA': total['MOTA'],
                             'id_switches': total['id_switches']})
    print('| tracking | smoothing | PCK@0.2 | PCK@0.1 | jitter (px/frame², GT in brackets) | MOTA | ID switches |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['tracking']} | {r['smoothing']} | {r['PCK@0.2']:.3f} | {r['PCK@0.1']:.3f} | {r['jitter_px']:.2f} ({r['gt_jitter_px']:.2f}) "
              f"| {r['MOTA']:.1f} | {r['id_switches']} |")
    if args.json:
        json.dump(rows, open(args.json, 'w'), indent=1)


if __name__ == '__main__':
    sys.exit(main())
