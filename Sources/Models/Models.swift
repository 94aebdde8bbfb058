// Models: HRNet and PoseWarper built from checkpoints, and heatmap decoding.
