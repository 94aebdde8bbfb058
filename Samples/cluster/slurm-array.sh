#!/bin/bash
# One video split over a Slurm job array: task i runs segment i of N (`--segment auto/N` reads
# SLURM_ARRAY_TASK_ID; the array must be numbered from 0), then a merge job joins the parts.
#
#   sbatch --array=0-7 Samples/cluster/slurm-array.sh VIDEO PIPELINE OUTDIR      # the segments
#   sbatch --dependency=afterok:<that job id> --wrap \
#       "posewarper merge OUTDIR/part-*.jsonl --keypoints OUTDIR/merged.jsonl"   # the merge
#
# Exit codes: 1 is a bad input (a retry will not help), 2 an output not written or an internal
# failure (worth a retry: `scontrol requeue`), 130/143 stopped by a signal (e.g. the time limit; the
# stream is valid up to its last frame, but merge refuses an incomplete part, so rerun the task).
#SBATCH --job-name=posewarper-segments
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=posewarper-%A_%a.log
set -euo pipefail
VIDEO=$1
PIPELINE=$2
OUT=$3
mkdir -p "$OUT"
exec posewarper run "$VIDEO" --pipeline "$PIPELINE" --segment "auto/${SLURM_ARRAY_TASK_COUNT}" \
    --threads "${SLURM_CPUS_PER_TASK:-8}" --keypoints "$OUT/part-{segment}.jsonl" --quiet
