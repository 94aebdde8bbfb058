#!/bin/sh
# A cluster job simulated on one machine (`make cluster-demo`): N processes each run one segment of
# the clip, exactly as N Slurm array tasks or N pods of a Kubernetes Indexed Job would (the segment
# number comes from POSEWARPER_SEGMENT here, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX there),
# then `posewarper merge` joins the parts (keypoint stream, COCO and PoseTrack files, annotated video),
# and the results are compared with a single run's.
#
#   POSEWARPER  the binary            (default .build/release/posewarper)
#   N           number of segments    (default 4)
#   INPUT       the video             (default Samples/walker.mp4)
#   PIPELINE    the pipeline file     (default Samples/demo.yml: tiny random weights, whole frame)
#   OUT         folder for the parts, the merged and the single-run stream (default out/cluster)
set -eu
POSEWARPER=${POSEWARPER:-.build/release/posewarper}
N=${N:-4}
INPUT=${INPUT:-Samples/walker.mp4}
PIPELINE=${PIPELINE:-Samples/demo.yml}
OUT=${OUT:-out/cluster}

mkdir -p "$OUT"
rm -f "$OUT"/part-* "$OUT"/merged.* "$OUT"/single.*
# Each task writes every output of its segment; the stream's header names the others for merge.
outputs() { echo --keypoints "$1.jsonl" --coco "$1.coco.json" --posetrack "$1.pt.json" --video "$1.mp4"; }
pids=""
i=0
while [ "$i" -lt "$N" ]; do
  # shellcheck disable=SC2046
  POSEWARPER_SEGMENT=$i "$POSEWARPER" run "$INPUT" --pipeline "$PIPELINE" --segment "auto/$N" --threads 1 --quiet \
    $(outputs "$OUT/part-{segment}") &
  pids="$pids $!"
  i=$((i + 1))
done
failed=0
for pid in $pids; do wait "$pid" || failed=$((failed + 1)); done
if [ "$failed" -ne 0 ]; then echo "cluster-demo: $failed of $N segments failed" >&2; exit 1; fi

# shellcheck disable=SC2046
"$POSEWARPER" merge "$OUT"/part-*.jsonl $(outputs "$OUT/merged")
# shellcheck disable=SC2046
"$POSEWARPER" run "$INPUT" --pipeline "$PIPELINE" --quiet $(outputs "$OUT/single")
for f in jsonl coco.json pt.json; do
  if ! cmp "$OUT/merged.$f" "$OUT/single.$f"; then
    echo "cluster-demo: the merged $f differs from the single run's" >&2
    exit 1
  fi
done
frames() { "$POSEWARPER" probe --json --count "$1" | tr ',' '\n' | sed -n 's/.*"counted_frames" *: *\([0-9]*\).*/\1/p'; }
merged_frames=$(frames "$OUT/merged.mp4")
single_frames=$(frames "$OUT/single.mp4")
if [ -z "$merged_frames" ] || [ "$merged_frames" != "$single_frames" ]; then
  echo "cluster-demo: the joined video has ${merged_frames:-?} frames, the single run's ${single_frames:-?}" >&2
  exit 1
fi
echo "cluster-demo: $N segments merged into $OUT/merged.{jsonl,coco.json,pt.json}, identical to the single run's,"
echo "cluster-demo: and $OUT/merged.mp4, joined by stream copy: $merged_frames frames, as the single run's video"
