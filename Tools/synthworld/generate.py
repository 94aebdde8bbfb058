"""Render the synthetic video world: clips as MP4 plus COCO / PoseTrack18-style ground truth.

    python Tools/synthworld/generate.py --out DIR [--train 148 --val 16 --test 64 --frames 24 --jobs 2]
    python Tools/synthworld/generate.py --demo Samples/synth-demo   # the held-out demo clip

Splits (every clip seeded by its video id, so any clip can be re-rendered alone):
  train       video ids 0..          half of the clips degraded (own random stream)
  val_clean   val_hard   ids 100000..  the same scenes without / with degradations
  test_clean  test_hard  ids 200000..
Each split folder holds videos/VVVVVV.mp4, annotations.json (COCO keypoints; image ids
1VVVVVVFFFF as PoseTrack's, amodal boxes clipped to the frame, silhouette areas, track ids),
gt_boxes.json (COCO detections from the ground-truth boxes), posetrack/VVVVVV.json
(PoseTrack18 layout: slots 1 and 2 are head_bottom and head_top, ears unlabelled) and stats.json
(the motion statistic).
"""
import argparse
import json
import os
import pickle
import subprocess
import sys
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure import KEYPOINTS, SKELETON  # noqa: E402
from scene import FPS, H, W, Scene  # noqa: E402

POSETRACK_KEYPOINTS = ['nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear'] + KEYPOINTS[5:]
MIN_BOX_AREA = 300.0


def image_id(vid, frame):
    return 10_000_000_000 + vid * 10_000 + frame


def encode(frames, path, crf=18):
    """Write RGB uint8 frames as H.264 MP4 through the ffmpeg CLI."""
    cmd = ['ffmpeg', '-y', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{W}x{H}',
           '-r', str(FPS), '-i', '-', '-c:v', 'libx264', '-preset', 'medium', '-crf', str(crf),
           '-pix_fmt', 'yuv420p', '-threads', '1', path]
    proc = subprocess.run(cmd, input=b''.join(f.tobytes() for f in frames), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f'ffmpeg failed for {path}: {proc.stderr.decode()}')


def render_clip(args):
    """-> (vid, per-frame list of annotation dicts); writes the MP4 (and a cache of the clip's
    ground truth next to it, so an interrupted split resumes where it stopped)."""
    vid, n_frames, degrade, path = args
    cache = path[:-4] + '.gt.pkl'
    if os.path.exists(cache) and os.path.exists(path):
        with open(cache, 'rb') as f:
            return vid, pickle.load(f)
    scene = Scene(vid, n_frames, degrade)
    frames, anns = [], []
    for t in range(n_frames):
        frame, a = scene.render(t)
        frames.append(frame)
        anns.append(a)
    encode(frames, path)
    with open(cache + '.tmp', 'wb') as f:
        pickle.dump(anns, f)
    os.replace(cache + '.tmp', cache)
    return vid, anns


def kept(a):
    if a['bbox'] is None or a['bbox'][2] * a['bbox'][3] < MIN_BOX_AREA:
        return False
    return int((a['keypoints'][:, 2] > 0).sum()) > 0


def coco_and_posetrack(results, n_frames, video_dir, frame_ids=False):
    """COCO keypoints dict, COCO detections list and {vid: PoseTrack18 dict} for rendered clips."""
    images, annotations, boxes, posetrack = [], [], [], {}
    for vid, anns in results:
        pt_images, pt_anns = [], []
        for t, frame_anns in enumerate(anns):
            iid = t if frame_ids else image_id(vid, t)
            name = f'{video_dir}/{vid:06d}.mp4'
            images.append(dict(id=iid, file_name=f'{vid:06d}/{t:06d}.jpg', video=name, vid_id=vid,
                               frame_index=t, nframes=n_frames, width=W, height=H))
            pt_images.append(dict(file_name=f'images/{vid:06d}/{t:06d}.jpg', id=image_id(vid, t),
                                  frame_id=image_id(vid, t), vid_id=f'{vid:06d}', nframes=n_frames,
                                  is_labeled=True))
            for a in frame_anns:
                if not kept(a):
                    continue
                k = a['keypoints']
                flat = [round(float(v), 2) for v in k.reshape(-1)]
                for j in range(17):
                    if k[j, 2] == 0:
                        flat[3 * j: 3 * j + 3] = [0, 0, 0]
                    else:
                        flat[3 * j + 2] = int(k[j, 2])
                bbox = [round(v, 2) for v in a['bbox']]
                annotations.append(dict(id=len(annotations) + 1, image_id=iid, category_id=1, iscrowd=0,
                                        keypoints=flat, num_keypoints=int((k[:, 2] > 0).sum()), bbox=bbox,
                                        area=a['area'], track_id=a['track_id']))
                boxes.append(dict(image_id=iid, category_id=1, bbox=bbox, score=1.0))
                pt = list(flat)
                for slot, name2 in ((1, 'neck'), (2, 'head_top')):
                    x, y, v = a['extra'][name2]
                    pt[3 * slot: 3 * slot + 3] = [round(x, 2), round(y, 2), 1 if v > 0 else 0] if v else [0, 0, 0]
                pt[9:15] = [0] * 6
                for j in range(17):
                    if pt[3 * j + 2] > 0:
                        pt[3 * j + 2] = 1      # PoseTrack18 marks labelled joints with 1
                pt_anns.append(dict(id=len(pt_anns) + 1, image_id=image_id(vid, t), track_id=a['track_id'],
                                    keypoints=pt, bbox=bbox, category_id=1))
        posetrack[vid] = dict(
            images=pt_images, annotations=pt_anns,
            categories=[dict(id=1, name='person', supercategory='person', keypoints=POSETRACK_KEYPOINTS,
                             skeleton=SKELETON)])
    coco = dict(info=dict(description='posewarper synthetic video world', fps=FPS),
                images=images, annotations=annotations,
                categories=[dict(id=1, name='person', supercategory='person', keypoints=KEYPOINTS,
                                 skeleton=SKELETON)])
    return coco, boxes, posetrack


def motion_stat(coco):
    """Median over labelled keypoints of |p(t) - p(t±2)| / box height at t, same track."""
    by = {}
    for a in coco['annotations']:
        img = a['image_id']
        vid, t = (img // 10_000) % 1_000_000, img % 10_000
        by[(vid, a['track_id'], t)] = a
    ratios = []
    for (vid, tr, t), a in by.items():
        k = np.array(a['keypoints'], float).reshape(17, 3)
        for d in (-2, 2):
            b = by.get((vid, tr, t + d))
            if b is None:
                continue
            kb = np.array(b['keypoints'], float).reshape(17, 3)
            ok = (k[:, 2] > 0) & (kb[:, 2] > 0)
            ratios += list(np.linalg.norm(k[ok, :2] - kb[ok, :2], axis=1) / a['bbox'][3])
    ratios = np.array(ratios)
    return dict(median_displacement_t_pm2_over_box_height=float(np.median(ratios)),
                mean=float(ratios.mean()), p25=float(np.percentile(ratios, 25)),
                p75=float(np.percentile(ratios, 75)), pairs=int(len(ratios)))


def write_split(out, split, vids, n_frames, degrade_of, jobs):
    root = os.path.join(out, split)
    os.makedirs(os.path.join(root, 'videos'), exist_ok=True)
    os.makedirs(os.path.join(root, 'posetrack'), exist_ok=True)
    tasks = [(v, n_frames, degrade_of(v), os.path.join(root, 'videos', f'{v:06d}.mp4')) for v in vids]
    with Pool(jobs) as pool:
        results = sorted(pool.map(render_clip, tasks, chunksize=1))
    coco, boxes, posetrack = coco_and_posetrack(results, n_frames, 'videos')
    coco['info']['degraded_videos'] = [v for v in vids if degrade_of(v)]
    stats = motion_stat(coco)
    stats.update(videos=len(vids), frames=len(vids) * n_frames, persons=len(coco['annotations']))
    with open(os.path.join(root, 'annotations.json'), 'w') as f:
        json.dump(coco, f)
    with open(os.path.join(root, 'gt_boxes.json'), 'w') as f:
        json.dump(boxes, f)
    for vid, pt in posetrack.items():
        with open(os.path.join(root, 'posetrack', f'{vid:06d}.json'), 'w') as f:
            json.dump(pt, f)
    with open(os.path.join(root, 'stats.json'), 'w') as f:
        json.dump(stats, f, indent=1)
    print(f'{split}: {stats}', flush=True)


def train_degraded(vid):
    return bool(np.random.default_rng([vid, 2]).random() < 0.5)


def write_demo(prefix, vid, n_frames):
    """One held-out multi-person clip with frame-index image ids (what `posewarper run` uses)."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    result = render_clip((vid, n_frames, False, prefix + '.mp4'))
    os.remove(prefix + '.gt.pkl')
    coco, boxes, _ = coco_and_posetrack([result], n_frames, '.', frame_ids=True)
    for im in coco['images']:
        im['video'] = os.path.basename(prefix) + '.mp4'
        im['file_name'] = f'{im["frame_index"]:06d}.jpg'
    with open(prefix + '.gt.json', 'w') as f:
        json.dump(coco, f)
    with open(prefix + '.boxes.json', 'w') as f:
        json.dump(boxes, f)
    print('demo', prefix, motion_stat_frames(coco))


def motion_stat_frames(coco):
    fixed = dict(coco)
    fixed['annotations'] = [dict(a, image_id=image_id(0, a['image_id'])) for a in coco['annotations']]
    return motion_stat(fixed)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='/work/synthdata')
    ap.add_argument('--train', type=int, default=148)
    ap.add_argument('--val', type=int, default=16)
    ap.add_argument('--test', type=int, default=64)
    ap.add_argument('--frames', type=int, default=24)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--splits', default='val,test,train')
    ap.add_argument('--demo', help='write only the demo clip to PREFIX.mp4/.gt.json/.boxes.json')
    ap.add_argument('--demo-video', type=int, default=300_004)
    ap.add_argument('--demo-frames', type=int, default=60)
    a = ap.parse_args()
    if a.demo:
        write_demo(a.demo, a.demo_video, a.demo_frames)
        return
    for split in a.splits.split(','):
        if split == 'train':
            write_split(a.out, 'train', range(a.train), a.frames, train_degraded, a.jobs)
        else:
            base = 100_000 if split == 'val' else 200_000
            count = a.val if split == 'val' else a.test
            vids = range(base, base + count)
            write_split(a.out, f'{split}_clean', vids, a.frames, lambda v: False, a.jobs)
            write_split(a.out, f'{split}_hard', vids, a.frames, lambda v: True, a.jobs)


if __name__ == '__main__':
    main()
