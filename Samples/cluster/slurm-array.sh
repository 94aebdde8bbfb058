#!/bin/bash
# Videos split over a Slurm job array: task i runs segment i of N (`--segment auto/N` reads
# SLURM_ARRAY_TASK_ID; the array must be numbered from 0), then a merge job joins the parts.
# INPUT is one video or an input list (`--inputs` format: one video a line); with a list the N
# segments split the frames of all the videos together, so every task gets about the same work.
#
#   sbatch --array=0-7 Samples/cluster/slurm-array.sh INPUT PIPELINE OUTDIR      # the segments
#   sbatch --dependency=afterok:<that job id> --wrap \
#       "mkdir -p OUTDIR/merged && posewarper merge OUTDIR/parts/*.jsonl --keypoints 'OUTDIR/merged/{stem}.jsonl' \
#        --coco 'OUTDIR/merged/{stem}.json' --video 'OUTDIR/merged/{stem}.mp4'"     # the merge, per video
#
# Exit codes: 1 is a bad input (a retry will not help; a broken video in a list fails one task
# only), 2 an output not written or an internal failure (worth a retry: `scontrol requeue`),
# 130/143 stopped by a signal (e.g. the time limit; the stream is valid up to its last frame, but
# merge refuses an incomplete part, so rerun the task).
#SBATCH --job-name=posewarper-segments
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=posewarper-%A_%a.log
set -euo pipefail
INPUT=$1
PIPELINE=$2
OUT=$3
mkdir -p "$OUT/parts"
case "$INPUT" in
  *.txt|*.list) inputs=(--inputs "$INPUT") ;;
  *) inputs=("$INPUT") ;;
esac
exec posewarper run "${inputs[@]}" --pipeline "$PIPELINE" --segment "auto/${SLURM_ARRAY_TASK_COUNT}" \
    --threads "${SLURM_CPUS_PER_TASK:-8}" --quiet \
    --keypoints "$OUT/parts/{stem}-{segment}.jsonl" --coco "$OUT/parts/{stem}-{segment}.json" \
    --video "$OUT/parts/{stem}-{segment}.mp4"
