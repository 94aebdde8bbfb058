#!/usr/bin/env python3
"""Makes Samples/walker.mp4, the bundled demo clip: 4 s, 320x240, 25 fps, H.264 + AAC audio.

A stick figure walks across a plain background while swinging its arms and legs; a quiet tone
plays under it so the annotated output shows that audio is passed through. Needs Pillow, numpy
and the ffmpeg command. Re-running gives the same pixels (no randomness).
"""
import math
import os
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw

W, H, FPS, SECONDS = 320, 240, 25, 4
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "walker.mp4")


def figure(draw, cx, phase):
    """A person ~150 px tall centred at cx: head, torso, arms and legs swinging with `phase`."""
    top = 45
    head = (cx, top + 12)
    neck = (cx, top + 26)
    hip = (cx, top + 85)
    swing = 0.5 * math.sin(phase)
    def limb(origin, length, angle):
        return (origin[0] + length * math.sin(angle), origin[1] + length * math.cos(angle))
    skin, shirt, trousers = (230, 190, 160), (40, 90, 200), (50, 50, 60)
    draw.ellipse([head[0] - 11, head[1] - 13, head[0] + 11, head[1] + 13], fill=skin)
    draw.line([neck, hip], fill=shirt, width=14)
    for sign in (1, -1):
        elbow = limb(neck, 32, sign * swing)
        hand = limb(elbow, 30, sign * swing * 1.4 + 0.2)
        draw.line([neck, elbow, hand], fill=shirt if sign > 0 else (30, 70, 170), width=7)
        knee = limb(hip, 38, -sign * swing)
        foot = limb(knee, 38, -sign * swing * 0.6 - 0.1 * (1 + sign * math.cos(phase)))
        draw.line([hip, knee, foot], fill=trousers, width=9)


def main():
    cmd = ["ffmpeg", "-v", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-",
           "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=44100:duration={SECONDS}",
           "-filter:a", "volume=0.2",
           "-c:v", "libx264", "-preset", "slow", "-crf", "26", "-pix_fmt", "yuv420p", "-g", "25",
           "-c:a", "aac", "-b:a", "48k", "-shortest", "-movflags", "+faststart", OUT]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for i in range(FPS * SECONDS):
        img = Image.new("RGB", (W, H), (200, 215, 190))
        draw = ImageDraw.Draw(img)
        draw.rectangle([0, 200, W, H], fill=(150, 140, 120))      # floor
        figure(draw, 70 + i * 1.8, i * 0.35)
        proc.stdin.write(np.asarray(img, dtype=np.uint8).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit("ffmpeg failed")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
