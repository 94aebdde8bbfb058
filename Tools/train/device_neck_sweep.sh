#!/bin/bash
# Window fine-tunes of the shipped neck side by side on one GPU machine, as the 2026-12-04 12:24 neck
# was trained (Models/README.md). Run from the repository root with the train split's MP4s under
# .devdata/train/videos and its annotations as .devdata/train/annotations.json.gz (an ignored folder
# carried to the device; 39 MB); every run's snapshots come back neck-only (2.6 MB each) as
# $OUT/NAME.pt ({step: state_dict}), to be scored here on val_hard. Each argument is one run:
# "NAME train_neck.py-arguments" (the default --init is the shipped checkpoint; the 12:24 neck's first
# sweep started from the one before it, `git show e364e7b:Models/posewarper_hrnet_w16_synth_128x96.pth`), e.g.
#   B=6.5 EVERY=1.65 Tools/train/device_neck_sweep.sh "deg_lr1e-3 --lr 1e-3 --videos degraded" ...
#   B=3 EVERY=1.5 Tools/train/device_neck_sweep.sh \
#       "deg_cont2e-3 --lr 2e-3 --videos degraded --seed 2 --init NECK_ONLY.pth --adapt" ...
B=${B:-6}; WORKERS=${WORKERS:-2}; EVERY=${EVERY:-2}; OUTD=${OUT:-/tmp/out}; PY=${PY:-python3}
export PYTHONUNBUFFERED=1
mkdir -p /tmp/data/train /tmp/w "$OUTD"
cp -r .devdata/train/videos /tmp/data/train/ && gunzip -c .devdata/train/annotations.json.gz > /tmp/data/train/annotations.json || exit 1
COMMON="--data /tmp/data --stage1 Models/hrnet_w16_synth_128x96.pth --init Models/posewarper_hrnet_w16_synth_128x96.pth
  --window --inner 48 --blocks 3 --dilations 1,2,4,8 --eval-split none --snapshots --eval-min $EVERY
  --budget-min $B --workers $WORKERS --batch 32"
for spec in "$@"; do
    set -- $spec; n=$1; shift
    # a later --init overrides the shipped one (argparse keeps the last)
    timeout "${TO:-500}" $PY Tools/train/train_neck.py $COMMON --work /tmp/w/$n --export /tmp/w/$n/pw.pth \
        --log /tmp/w/$n.log "$@" > /tmp/w/$n.out 2>&1 &
done
wait
for f in /tmp/w/*.out; do echo "== $f"; tail -3 "$f"; done
$PY - "$OUTD" <<'PYEOF'
import glob, os, sys, torch
out = sys.argv[1]
for d in sorted(glob.glob('/tmp/w/*/')):
    name = os.path.basename(d.rstrip('/'))
    snaps = {}
    for f in glob.glob(d + 'pw.pth.step*'):
        sd = torch.load(f, map_location='cpu')['state_dict']
        snaps[int(f.rsplit('step', 1)[1])] = {k: v for k, v in sd.items()
                                               if k.startswith('neck.') and not k.startswith('neck.trans_layer.')}
    torch.save(snaps, os.path.join(out, name + '.pt'))
    print(name, sorted(snaps))
PYEOF
tar czf "$OUTD/logs.tgz" -C /tmp/w $(cd /tmp/w && ls *.log *.out)
