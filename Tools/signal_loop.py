#!/usr/bin/env python3
"""Signal loop for `posewarper run` (issue: nothing lost, nothing overwritten).

Runs a clip (default Samples/walker.mp4, 100 frames with AAC audio) with all four outputs, sends
SIGINT or SIGTERM at a random moment (sometimes twice), and checks what is left:
  * exit code 128 + signal (or 0 when the run finished first), never a death by signal;
  * no hidden temporary file in the output folder;
  * the keypoint stream is valid JSON Lines, frames 0..n-1;
  * the annotated video (absent only after a second signal) holds exactly n frames and its audio
    ends with its last frame;
  * the COCO and PoseTrack files exist only after a complete run, and then match the stream.

    python3 Tools/signal_loop.py --binary .build/release/posewarper --runs 50
"""
import argparse, collections, json, os, random, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def probe_video(path):
    """(decoded frame count, last frame time, last audio packet time or None)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=codec_type,pts_time", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout
    video, audio = [], []
    for line in out.split():
        fields = line.split(",")
        if len(fields) < 2 or fields[1] in ("", "N/A"):
            continue
        kind, t = fields[0], fields[1]
        if t in ("", "N/A"):
            continue
        (video if kind == "video" else audio).append(float(t))
    frames = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                             "stream=nb_read_frames", "-of", "csv=p=0", path], capture_output=True, text=True, check=True).stdout
    return int(frames.strip().split(",")[0]), max(video) if video else 0.0, max(audio) if audio else None


def check(dirpath, code, sig, twice, frames_total):
    problems = []
    k, c, p, v = (os.path.join(dirpath, n) for n in ("k.jsonl", "c.json", "p.json", "v.mp4"))
    debris = [n for n in os.listdir(dirpath) if n.startswith(".")]
    if debris:
        problems.append(f"temporary files left: {debris}")
    if code not in (0, 128 + sig):
        problems.append(f"exit code {code}")
    if not os.path.exists(k):
        if code != 128 + sig:
            problems.append("no keypoint stream after a finished run")
        return problems, "before-outputs", 0
    frames = []
    with open(k) as f:
        for i, line in enumerate(f):
            try:
                obj = json.loads(line)
            except ValueError:
                problems.append(f"stream line {i + 1} is not JSON")
                break
            if "frame" in obj:
                frames.append(obj["frame"])
    n = len(frames)
    if frames != list(range(n)):
        problems.append(f"stream frames not 0..{n - 1}")
    if os.path.exists(v):
        vf, vend, aend = probe_video(v)
        if vf != n:
            problems.append(f"video has {vf} frames, stream {n}")
        if aend is None:
            problems.append("video has no audio")
        elif aend > vend + 1 / 25 + 0.05:
            problems.append(f"audio ends at {aend:.3f} s, video at {vend:.3f} s")
    elif not twice and n > 0:
        problems.append("video missing after one signal")
    if code == 0:
        if n != frames_total:
            problems.append(f"exit 0 with {n} of {frames_total} frames")
        for path in (c, p):
            if not os.path.exists(path):
                problems.append(f"{os.path.basename(path)} missing after a complete run")
        if os.path.exists(c) and len(json.load(open(c))) != n:
            problems.append("COCO entries differ from the stream's frames")
        if os.path.exists(p) and len(json.load(open(p))["images"]) != n:
            problems.append("PoseTrack images differ from the stream's frames")
    else:
        # Present only if every frame was done before a second signal (which can come while the
        # video is being completed); then they must match the stream.
        for path in (c, p):
            if os.path.exists(path):
                if not (twice and n == frames_total):
                    problems.append(f"{os.path.basename(path)} written by a stopped run")
                elif path == c and len(json.load(open(c))) != n:
                    problems.append("COCO entries differ from the stream's frames")
                elif path == p and len(json.load(open(p))["images"]) != n:
                    problems.append("PoseTrack images differ from the stream's frames")
    return problems, ("complete" if code == 0 else "stopped"), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/posewarper"))
    ap.add_argument("--pipeline", default=os.path.join(ROOT, "Samples/demo.yml"))
    ap.add_argument("--input", default=os.path.join(ROOT, "Samples/walker.mp4"))
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--max-delay", type=float, default=4.0, help="latest signal, seconds after the start")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    total = probe_video(args.input)[0]
    counts = collections.Counter()
    failures = []
    frames_seen = []
    for run in range(args.runs):
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        twice = rng.random() < 0.4
        delay = rng.uniform(0, args.max_delay)
        with tempfile.TemporaryDirectory(prefix="signal-loop-") as d:
            cmd = [args.binary, "run", args.input, "--pipeline", args.pipeline, "--whole-frame", "--threads", "1", "--quiet",
                   "--keypoints", f"{d}/k.jsonl", "--coco", f"{d}/c.json", "--posetrack", f"{d}/p.json", "--video", f"{d}/v.mp4"]
            proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
            time.sleep(delay)
            proc.send_signal(sig)
            if twice:
                time.sleep(rng.uniform(0, 0.3))
                try:
                    proc.send_signal(sig)
                except ProcessLookupError:
                    pass
            _, err = proc.communicate()
            code = proc.returncode
            if code < 0:
                # Acceptable only before the handlers are installed (process start-up): nothing written.
                left = os.listdir(d)
                problems, kind, n = ([f"killed by signal {-code}, leaving {left}"] if left else []), "killed at start-up", 0
            else:
                problems, kind, n = check(d, code, int(sig), twice, total)
            name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
            counts[f"{name}{' x2' if twice else ''} -> exit {code} ({kind})"] += 1
            frames_seen.append(n)
            if problems:
                failures.append((run, name, twice, round(delay, 2), code, problems, err.decode()[-300:]))
            print(f"run {run + 1:3d}: {name}{' x2' if twice else '   '} after {delay:4.2f} s -> exit {code:3d}, {n:3d} frames, "
                  + ("OK" if not problems else "FAIL " + "; ".join(problems)), flush=True)
    print("\nsummary:")
    for key, value in sorted(counts.items()):
        print(f"  {value:3d}  {key}")
    print(f"  frames written per run: min {min(frames_seen)}, max {max(frames_seen)}")
    print(f"  {args.runs - len(failures)} of {args.runs} runs passed every check")
    for f in failures:
        print("  FAILED", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
