#!/usr/bin/env python3
"""Soak run: a long 1080p video with audio through the full pipeline with all four outputs.

Generates a 1920x1080 video (the bundled synthetic-world clip Samples/synth-demo.mp4, looped and
scaled up, letterboxed to 16:9) with a sine audio track, and a boxes file for it (the clip's boxes,
scaled the same way); runs `posewarper run` on it with the shipped synthetic PoseWarper
(Models/posewarper-hrnet-w16-synth-128x96.yml) writing the keypoint stream, COCO results, PoseTrack
results and the annotated video; samples the process's resident memory (VmRSS of /proc/PID/status)
every --interval seconds. Writes the curve as CSV (seconds, rss_mib, frames_written) and prints a
summary: start / peak / end RSS, the slope after warm-up in MiB per minute, frames per second. Then
checks every output: the stream's frames, the COCO and PoseTrack files, the annotated video's frame
count and its audio trimmed to the video. Exit status 1 when an output is wrong, the run failed, or
memory keeps growing after warm-up (the median RSS of the last quarter of the samples after
--warmup-frames more than --max-growth-mib above that of the first quarter).

The shipped synthetic model predicts COCO-17 keypoints, and a PoseTrack18 file needs a PoseTrack18
model: the soak's copy of the pipeline file declares schema posetrack18 for the same checkpoint
(both schemas have 17 slots; the network, its cost and every output's size are the same, only the
names of slots 1 and 2 differ). The soak measures memory and speed, not accuracy.

    python3 Tools/soak.py                    # 10 minutes (make soak); not part of make test
    python3 Tools/soak.py --minutes 1 --out soak-1min
Standard library only; needs the ffmpeg and ffprobe CLIs (make deps installs them).
"""
import argparse, json, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP = os.path.join(ROOT, 'Samples', 'synth-demo.mp4')
CLIP_BOXES = os.path.join(ROOT, 'Samples', 'synth-demo.boxes.json')
PIPELINE = os.path.join(ROOT, 'Models', 'posewarper-hrnet-w16-synth-128x96.yml')
WIDTH, HEIGHT = 1920, 1080


def probe(path, *entries, stream='v:0', count=False):
    args = ['ffprobe', '-v', 'error', '-select_streams', stream, '-show_entries', 'stream=' + ','.join(entries), '-of', 'json']
    if count:
        args.insert(1, '-count_packets')
    out = json.loads(subprocess.run(args + [path], check=True, capture_output=True, text=True).stdout)
    return out['streams'][0] if out.get('streams') else None


def make_inputs(out, seconds):
    """The looped 1080p video with audio, its boxes file and the soak's pipeline file."""
    info = probe(CLIP, 'width', 'height', 'r_frame_rate', 'nb_read_packets', count=True)
    w, h, clip_frames = int(info['width']), int(info['height']), int(info['nb_read_packets'])
    num, den = (int(v) for v in info['r_frame_rate'].split('/'))
    fps = num / den
    scale = HEIGHT / h
    pad_x = (WIDTH - round(w * scale)) / 2
    video = os.path.join(out, 'soak-input.mp4')
    if not os.path.exists(video):
        print(f'soak: generating {seconds:.0f} s of {WIDTH}x{HEIGHT} video at {fps:g} fps with audio → {video}', flush=True)
        subprocess.run(['ffmpeg', '-v', 'error', '-y', '-stream_loop', '-1', '-i', CLIP,
                        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:beep_factor=4',
                        '-t', str(seconds), '-map', '0:v', '-map', '1:a',
                        '-vf', f'scale={round(w * scale)}:{HEIGHT}:flags=bicubic,pad={WIDTH}:{HEIGHT}:{pad_x:g}:0',
                        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-g', str(round(fps * 2)),
                        '-c:a', 'aac', '-b:a', '96k', video + '.part.mp4'], check=True)
        os.replace(video + '.part.mp4', video)
    frames = int(probe(video, 'nb_read_packets', count=True)['nb_read_packets'])

    by_frame = {}
    for b in json.load(open(CLIP_BOXES)):
        by_frame.setdefault(int(b['image_id']), []).append(b)
    boxes = []
    for f in range(frames):
        for b in by_frame.get(f % clip_frames, []):
            x, y, bw, bh = b['bbox']
            boxes.append({'image_id': f, 'category_id': 1, 'score': b['score'],
                          'bbox': [round(x * scale + pad_x, 2), round(y * scale, 2), round(bw * scale, 2), round(bh * scale, 2)]})
    boxes_path = os.path.join(out, 'soak-boxes.json')
    json.dump(boxes, open(boxes_path, 'w'))

    text = open(PIPELINE).read()
    weights = os.path.join(ROOT, 'Models', 'posewarper_hrnet_w16_synth_128x96.pth')
    assert 'weights: posewarper_hrnet_w16_synth_128x96.pth' in text and 'schema: coco17' in text
    text = text.replace('weights: posewarper_hrnet_w16_synth_128x96.pth', f'weights: {weights}')
    text = text.replace('schema: coco17', 'schema: posetrack18    # soak only: same 17 slots, see Tools/soak.py')
    pipeline = os.path.join(out, 'soak-pipeline.yml')
    open(pipeline, 'w').write(text)
    return video, boxes_path, pipeline, frames, fps


def rss_mib(pid):
    try:
        for line in open(f'/proc/{pid}/status'):
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def lines_in(path):
    try:
        with open(path, 'rb') as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def slope_per_minute(samples):
    """Least-squares slope of rss over time, MiB per minute (0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    ts = [s[0] for s in samples]
    rs = [s[1] for s in samples]
    mt, mr = sum(ts) / len(ts), sum(rs) / len(rs)
    var = sum((t - mt) ** 2 for t in ts)
    return 60 * sum((t - mt) * (r - mr) for t, r in zip(ts, rs)) / var if var > 0 else 0.0


def check_outputs(out, frames, fps, video_in):
    """Problems with the four outputs (empty list when all are right)."""
    problems = []
    kp = os.path.join(out, 'keypoints.jsonl')
    lines = [json.loads(l) for l in open(kp)]
    header, stream = lines[0], lines[1:]
    if 'schema' not in json.dumps(header):
        problems.append(f'{kp}: the first line is not the stream header')
    indices = [l.get('frame') for l in stream]
    if indices != list(range(frames)):
        problems.append(f'{kp}: {len(indices)} frames, expected 0…{frames - 1} in order')
    persons = sum(len(l.get('persons', [])) for l in stream)
    if persons == 0:
        problems.append(f'{kp}: no persons')

    coco = json.load(open(os.path.join(out, 'coco.json')))
    coco_images = {r['image_id'] for r in coco}
    if len(coco) != persons or len(coco_images) != len({i for i, l in zip(indices, stream) if l.get('persons')}):
        problems.append(f'coco.json: {len(coco)} results on {len(coco_images)} images; the stream has {persons} persons')

    pt = json.load(open(os.path.join(out, 'posetrack.json')))
    if len(pt.get('images', [])) != frames or len(pt.get('annotations', [])) != persons:
        problems.append(f"posetrack.json: {len(pt.get('images', []))} images, {len(pt.get('annotations', []))} annotations; "
                        f'expected {frames} and {persons}')

    annotated = os.path.join(out, 'annotated.mp4')
    v = probe(annotated, 'width', 'height', 'nb_read_packets', 'duration', count=True)
    a = probe(annotated, 'duration', 'nb_read_packets', stream='a:0', count=True)
    if v is None or int(v['nb_read_packets']) != frames or (int(v['width']), int(v['height'])) != (WIDTH, HEIGHT):
        problems.append(f'annotated.mp4: video stream {v}, expected {frames} frames of {WIDTH}x{HEIGHT}')
    if a is None or int(a['nb_read_packets']) == 0:
        problems.append('annotated.mp4: the audio was not copied')
    elif v is not None and float(a['duration']) > float(v['duration']) + 0.1:
        problems.append(f"annotated.mp4: audio {a['duration']} s is longer than the video {v['duration']} s")
    return problems


def summarize(samples, frames, seconds, warmup_frames, max_growth):
    """Prints the RSS summary; returns the problem with the curve, if any."""
    rss = [s[1] for s in samples]
    if not rss:
        return 'no RSS sample was taken'
    # Warm-up: until the first frames are through (model loaded, queues, temporal windows and the
    # encoder's lookahead filled), then a plateau is expected; medians resist allocator spikes.
    settled = [(t, r) for t, r, n in samples if n >= warmup_frames]
    quarter = max(1, len(settled) // 4)
    first = statistics.median(r for _, r in settled[:quarter]) if settled else 0.0
    last = statistics.median(r for _, r in settled[-quarter:]) if settled else 0.0
    print(f'soak: {frames} frames in {seconds:.1f} s ({frames / seconds:.2f} frames/s)')
    print(f'soak: RSS start {rss[0]:.1f} MiB, peak {max(rss):.1f} MiB, end {rss[-1]:.1f} MiB; '
          f'slope {slope_per_minute([(t, r) for t, r, _ in samples]):+.2f} MiB/min over the run')
    if len(settled) < 8:
        print(f'soak: too few samples after the first {warmup_frames} frames to judge growth ({len(settled)})')
        return None
    growth = last - first
    print(f'soak: after {warmup_frames} frames ({settled[0][0]:.0f} s on, {len(settled)} samples): slope '
          f'{slope_per_minute(settled):+.2f} MiB/min; median RSS {first:.1f} MiB in the first quarter, '
          f'{last:.1f} MiB in the last ({growth:+.1f} MiB)')
    if growth > max_growth:
        return f'RSS grew by {growth:.1f} MiB after warm-up (limit {max_growth:g} MiB)'
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--minutes', type=float, default=10, help='length of the generated video (default 10)')
    ap.add_argument('--out', default='soak', help='folder for the inputs, outputs, rss.csv and run.log (default soak/)')
    ap.add_argument('--binary', default=os.path.join(ROOT, '.build', 'release', 'posewarper'))
    ap.add_argument('--interval', type=float, default=10, help='seconds between RSS samples (default 10)')
    ap.add_argument('--threads', type=int, help="posewarper run --threads (default: all cores)")
    ap.add_argument('--warmup-frames', type=int, default=150,
                    help='frames written before the growth check starts (default 150)')
    ap.add_argument('--max-growth-mib', type=float, default=64,
                    help='fail when the median RSS of the last quarter after warm-up exceeds that of the first by more (default 64)')
    ap.add_argument('--check-only', action='store_true',
                    help="no run: summarize OUT/rss.csv and check OUT's outputs again")
    args = ap.parse_args()
    for tool in ('ffmpeg', 'ffprobe'):
        if shutil.which(tool) is None:
            sys.exit(f'soak: the {tool} CLI is needed (make deps installs it)')
    if not args.check_only and not os.access(args.binary, os.X_OK):
        sys.exit(f'soak: {args.binary} is not built (make build)')
    os.makedirs(args.out, exist_ok=True)
    video, boxes, pipeline, frames, fps = make_inputs(args.out, args.minutes * 60)

    outputs = {name: os.path.join(args.out, name) for name in ('keypoints.jsonl', 'coco.json', 'posetrack.json', 'annotated.mp4')}
    log_path = os.path.join(args.out, 'run.log')
    csv_path = os.path.join(args.out, 'rss.csv')
    problems = []
    if args.check_only:
        rows = [l.strip().split(',') for l in open(csv_path).readlines()[1:]]
        samples = [(float(t), float(r), int(n)) for t, r, n in rows]
        seconds = samples[-1][0] if samples else 0.0
        returncode = 0
    else:
        for path in outputs.values():
            if os.path.exists(path):
                os.remove(path)
        command = [args.binary, 'run', video, '--pipeline', pipeline, '--boxes', boxes,
                   '--keypoints', outputs['keypoints.jsonl'], '--coco', outputs['coco.json'],
                   '--posetrack', outputs['posetrack.json'], '--video', outputs['annotated.mp4']]
        if args.threads:
            command += ['--threads', str(args.threads)]
        print(f'soak: {frames} frames ({frames / fps / 60:.1f} min at {fps:g} fps): ' + ' '.join(command), flush=True)
        samples = []
        start = time.monotonic()
        with open(log_path, 'w') as log, open(csv_path, 'w') as csv:
            csv.write('seconds,rss_mib,frames_written\n')
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
            next_sample = start
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    rss = rss_mib(process.pid)
                    if rss is not None and process.poll() is None:
                        written = max(lines_in(outputs['keypoints.jsonl']) - 1, 0)
                        samples.append((now - start, rss, written))
                        csv.write(f'{now - start:.1f},{rss:.1f},{written}\n')
                        csv.flush()
                        print(f'soak: {now - start:7.1f} s  RSS {rss:8.1f} MiB  {written} frames', flush=True)
                    next_sample += args.interval
                if process.poll() is not None:
                    break
                time.sleep(min(0.2, max(0.0, next_sample - time.monotonic())))
        seconds = time.monotonic() - start
        returncode = process.returncode
        print(f'soak: RSS curve → {csv_path}')
        if returncode != 0:
            problems.append(f'posewarper run exited {returncode}: ' + open(log_path).read()[-2000:])

    curve = summarize(samples, frames, seconds, args.warmup_frames, args.max_growth_mib)
    if curve:
        problems.append(curve)
    if returncode == 0:
        problems += check_outputs(args.out, frames, fps, video)
    for p in problems:
        print('soak: FAILED: ' + p, file=sys.stderr)
    if not problems:
        print('soak: outputs valid (stream, COCO, PoseTrack, annotated video with audio trimmed to it)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
