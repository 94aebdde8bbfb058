#!/bin/sh
# A cluster job simulated on one machine (`make cluster-demo`): N processes each run one segment of
# the clip, exactly as N Slurm array tasks or N pods of a Kubernetes Indexed Job would (the segment
# number comes from POSEWARPER_SEGMENT here, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX there),
# then `posewarper merge` joins the parts, and the result is compared with a single run's stream.
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
rm -f "$OUT"/part-*.jsonl "$OUT/merged.jsonl" "$OUT/single.jsonl"
pids=""
i=0
while [ "$i" -lt "$N" ]; do
  POSEWARPER_SEGMENT=$i "$POSEWARPER" run "$INPUT" --pipeline "$PIPELINE" --segment "auto/$N" --threads 1 --quiet \
    --keypoints "$OUT/part-{segment}.jsonl" &
  pids="$pids $!"
  i=$((i + 1))
done
failed=0
for pid in $pids; do wait "$pid" || failed=$((failed + 1)); done
if [ "$failed" -ne 0 ]; then echo "cluster-demo: $failed of $N segments failed" >&2; exit 1; fi

"$POSEWARPER" merge "$OUT"/part-*.jsonl --keypoints "$OUT/merged.jsonl"
"$POSEWARPER" run "$INPUT" --pipeline "$PIPELINE" --quiet --keypoints "$OUT/single.jsonl"
if ! cmp "$OUT/merged.jsonl" "$OUT/single.jsonl"; then
  echo "cluster-demo: the merged stream differs from the single run's" >&2
  exit 1
fi
echo "cluster-demo: $N segments merged into $OUT/merged.jsonl, identical to the single run's stream"
