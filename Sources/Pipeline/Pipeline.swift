// Pipeline: the staged video → keypoints job.
