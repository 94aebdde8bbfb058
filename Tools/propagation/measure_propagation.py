"""Propagation accuracy on the synthetic world (issue 13, item 4):

    python3 Tools/propagation/measure_propagation.py --split /work/synthdata/test_clean \
        --pipeline Models/posewarper-hrnet-w16-synth-128x96.yml --out accuracy/propagation

For every clip of the split, labels every k = 3, 5 and 7 frames (frames 0, k, 2k, … keep their
ground truth), then `posewarper propagate` with warp, interpolate and copy (--max-gap k - 1, so
every unlabelled frame has a labelled frame on each side), and `posewarper run` (per-frame
estimation with the same model on the ground-truth boxes) for comparison. Each is scored by
`posewarper evaluate` on the UNLABELLED frames only (PCK@0.2, PCK@0.1, COCO AP), per clip; the
table reports means over clips and, for warp - interpolate, a clip-level bootstrap 95% interval of
the PCK@0.1 difference. Needs the built binary (.build/release/posewarper) with the evaluate command.
"""
import argparse
import json
import os
import random
import subprocess
import sys
from collections import defaultdict

METHODS = ('warp', 'interpolate', 'copy')


def run(args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f'{" ".join(args)}\n{r.stderr}')
    return r.stdout


def clips(split):
    """Per video: its images (by frame) and annotations, from the split's COCO annotations.json."""
    with open(os.path.join(split, 'annotations.json')) as f:
        doc = json.load(f)
    videos = defaultdict(lambda: {'images': [], 'annotations': []})
    frame_of = {}
    for image in doc['images']:
        videos[image['vid_id']]['images'].append(image)
        frame_of[image['id']] = (image['vid_id'], image['frame_index'])
    for a in doc['annotations']:
        videos[frame_of[a['image_id']][0]]['annotations'].append(a)
    for v in videos.values():
        v['images'].sort(key=lambda im: im['frame_index'])
    return doc['categories'], dict(sorted(videos.items()))


def write(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f)
    return path


def score(binary, gt, pred):
    report = json.loads(run([binary, 'evaluate', '--gt', gt, '--pred', pred, '--json']))
    return {'PCK@0.2': report['pck']['PCK@0.2'], 'PCK@0.1': report['pck']['PCK@0.1'],
            'AP': (report.get('coco') or {}).get('AP')}


def bootstrap(differences, samples=10000, seed=0):
    rng = random.Random(seed)
    n = len(differences)
    means = sorted(sum(rng.choice(differences) for _ in range(n)) / n for _ in range(samples))
    return means[int(0.025 * samples)], means[int(0.975 * samples) - 1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--split', required=True, help='a synthetic-world split folder (annotations.json, videos/, gt_boxes.json)')
    p.add_argument('--pipeline', required=True)
    p.add_argument('--weights')
    p.add_argument('--binary', default='.build/release/posewarper')
    p.add_argument('--evaluator', help='the binary with the evaluate command (default: --binary)')
    p.add_argument('--out', default='accuracy/propagation')
    p.add_argument('--ks', default='3,5,7')
    p.add_argument('--clips', type=int, default=0, help='only the first N clips (0 = all)')
    a = p.parse_args()
    evaluator = a.evaluator or a.binary
    os.makedirs(a.out, exist_ok=True)
    model = ['--pipeline', a.pipeline] + (['--weights', a.weights] if a.weights else [])
    categories, videos = clips(a.split)
    if a.clips:
        videos = dict(list(videos.items())[:a.clips])
    ks = [int(k) for k in a.ks.split(',')]
    per_clip = defaultdict(dict)   # (k, method) -> {video: scores}
    for video, v in videos.items():
        clip = os.path.join(a.split, 'videos', f'{video:06d}.mp4')
        base = os.path.join(a.out, f'{video:06d}')
        # Per-frame estimation once per clip, on the ground-truth boxes.
        estimated = base + '.run.jsonl'
        run([a.binary, 'run', clip, *model, '--boxes', os.path.join(a.split, 'gt_boxes.json'), '--keypoints', estimated, '--quiet'])
        for k in ks:
            labelled = {im['id'] for im in v['images'] if im['frame_index'] % k == 0}
            # Labelled frames without persons stay labelled (is_labeled).
            sparse = {'images': [dict(im, is_labeled=im['id'] in labelled) for im in v['images']], 'categories': categories,
                      'annotations': [x for x in v['annotations'] if x['image_id'] in labelled]}
            labels = write(f'{base}.k{k}.sparse.json', sparse)
            hidden = {'images': [dict(im, is_labeled=True) for im in v['images'] if im['id'] not in labelled],
                      'categories': categories, 'annotations': [x for x in v['annotations'] if x['image_id'] not in labelled]}
            gt = write(f'{base}.k{k}.unlabelled.json', hidden)
            for method in METHODS:
                stream = f'{base}.k{k}.{method}.jsonl'
                run([a.binary, 'propagate', clip, '--labels', labels, '--out', f'{base}.k{k}.{method}.json',
                     '--method', method, '--max-gap', str(k - 1), '--keypoints', stream, '--quiet', *model])
                per_clip[(k, method)][video] = score(evaluator, gt, stream)
            per_clip[(k, 'per-frame')][video] = score(evaluator, gt, estimated)
        print(f'clip {video:06d} done', file=sys.stderr)

    lines = ['| k | method | PCK@0.2 | PCK@0.1 | AP |', '| --- | --- | --- | --- | --- |']
    summary = {}
    for k in ks:
        for method in METHODS + ('per-frame',):
            scores = list(per_clip[(k, method)].values())
            mean = {m: sum(s[m] for s in scores if s[m] is not None) / max(1, sum(s[m] is not None for s in scores))
                    for m in ('PCK@0.2', 'PCK@0.1', 'AP')}
            summary[f'k{k}.{method}'] = mean
            lines.append(f"| {k} | {method} | {mean['PCK@0.2']:.3f} | {mean['PCK@0.1']:.3f} | {mean['AP']:.3f} |")
        diffs = [100 * (per_clip[(k, 'warp')][c]['PCK@0.1'] - per_clip[(k, 'interpolate')][c]['PCK@0.1']) for c in videos]
        lo, hi = bootstrap(diffs)
        summary[f'k{k}.warp-interpolate.PCK@0.1'] = {'points': sum(diffs) / len(diffs), 'ci95': [lo, hi]}
        lines.append(f'| {k} | warp − interpolate, PCK@0.1 points | {sum(diffs) / len(diffs):+.2f} (95% CI {lo:+.2f} … {hi:+.2f}) | | |')
    table = '\n'.join(lines)
    print(table)
    write(os.path.join(a.out, 'summary.json'), summary)
    with open(os.path.join(a.out, 'table.md'), 'w') as f:
        f.write(table + '\n')


if __name__ == '__main__':
    main()
