#!/usr/bin/env python3
"""Writes the joint positions of Samples/walker.mp4's stick figure as a COCO-17 keypoint stream.

The positions come from the same geometry Samples/make_sample_video.py draws (no model involved),
so `posewarper render Samples/walker.mp4 --keypoints walker.jsonl` shows the overlay on a known
pose. Side view: both shoulders sit at the neck and both hips at the hip joint; the far ear and eye
get a low score. The figure's +1 limbs are called "right", the -1 limbs "left".

    python3 Tools/overlay/walker_keypoints.py [--scale S] > walker.jsonl

--scale multiplies every coordinate (for the clip scaled to another size, e.g. 3 for 960x720).
docs/overlay-walker.png is frame 60 of:
    ffmpeg -i Samples/walker.mp4 -vf scale=960:720 -c:a copy walker-720.mp4
    python3 Tools/overlay/walker_keypoints.py --scale 3 > walker-720.jsonl
    posewarper render walker-720.mp4 --keypoints walker-720.jsonl -o out.mp4 --trails 12 --label id-score
    ffmpeg -i out.mp4 -vf "select=eq(n\\,60)" -frames:v 1 docs/overlay-walker.png
"""
import argparse
import json
import math

W, H, FPS, SECONDS = 320, 240, 25, 4   # as make_sample_video.py


def joints(cx, phase):
    """COCO-17 [x, y, score] for the figure at cx, mirroring make_sample_video.figure."""
    top = 45
    head = (cx, top + 12)
    neck = (cx, top + 26)
    hip = (cx, top + 85)
    swing = 0.5 * math.sin(phase)

    def limb(origin, length, angle):
        return (origin[0] + length * math.sin(angle), origin[1] + length * math.cos(angle))

    side = {}
    for name, sign in (("right", 1), ("left", -1)):
        elbow = limb(neck, 32, sign * swing)
        hand = limb(elbow, 30, sign * swing * 1.4 + 0.2)
        knee = limb(hip, 38, -sign * swing)
        foot = limb(knee, 38, -sign * swing * 0.6 - 0.1 * (1 + sign * math.cos(phase)))
        side[name] = dict(shoulder=neck, elbow=elbow, wrist=hand, hip=hip, knee=knee, ankle=foot)
    # The figure walks right: its face is on the right of the head ellipse.
    nose = (head[0] + 9, head[1] + 2)
    near_eye, far_eye = (head[0] + 6, head[1] - 3), (head[0] + 8, head[1] - 3)
    near_ear, far_ear = (head[0] - 3, head[1]), (head[0] - 1, head[1])
    k = [nose + (0.95,), far_eye + (0.4,), near_eye + (0.9,), far_ear + (0.35,), near_ear + (0.85,)]
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        for name in ("left", "right"):
            k.append(side[name][part] + (0.9,))
    return k


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    s = parser.parse_args().scale
    for i in range(FPS * SECONDS):
        cx = 70 + i * 1.8
        k = [[round(x * s, 2), round(y * s, 2), score] for x, y, score in joints(cx, i * 0.35)]
        xs, ys = [p[0] for p in k], [p[1] for p in k]
        pad = 8 * s
        bbox = [round(min(xs) - pad, 2), round(min(ys) - 2 * pad, 2),
                round(max(xs) - min(xs) + 2 * pad, 2), round(max(ys) - min(ys) + 3 * pad, 2)]
        person = {"track_id": 1, "bbox": bbox, "score": 0.92, "keypoints": k}
        print(json.dumps({"frame": i, "time": round(i / FPS, 6), "persons": [person]}, separators=(",", ":")))


if __name__ == "__main__":
    main()
