"""Stage 2: the PoseWarper neck on frame pairs, backbone frozen, as mmpose's stage-2 recipe.

    python Tools/train/train_neck.py --data /work/synthdata --stage1 Models/X.pth \
        --work /work/train/neck --export Models/Y.pth --budget-min 12

Each sample is a person at frame t and the same box's crop at t+d, d uniform in -2..2 (mmpose's
frame_index_rand over [-2, 2], frame_weight_train (0, 1)): the neck warps the neighbour's heatmap
with offsets computed from heat_t - heat_{t+d}, and the loss compares it with frame t's target.
Both crops share the top-down augmentation. Initialisation as mmpose's PoseWarperNeck: deform
convs the identity on the centre tap, offset layers zero, so training starts at "copy the
neighbour"; trans_layer is the stage-1 keypoint head, frozen with the backbone. The deformable
convolution runs through its grid_sample form (same function, far faster backward on the CPU).

--window (a fine-tune after the pair stage, with --init): each person brings its whole test window
(the frame offsets and weights of evaluate.py and the pipeline file), and the loss is on the
weighted sum of the five warped heatmaps, the output the product draws. Trained on pairs, each
warped neighbour only learns to imitate frame t on its own; on the window, the warps learn to
complement one another and frame t's own refinement, which pairs never show them.

On a GPU (--device, default cuda when available) the crops are the bottleneck: --workers N makes
them in N DataLoader processes (each with its own seeded generator, so the order differs from the
in-process CPU order), --videos degraded keeps the train clips of the hard splits' kind, and
--eval-split none --snapshots exports every --eval-min minutes without an eval split at hand.
"""
import argparse
import copy
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import evaluate as E  # noqa: E402
from common import R  # noqa: E402

# mmpose's neck (128 inner channels, 20 blocks, dilations 3..24) is sized for 96x72 heatmaps of
# W48; at 32x24 heatmaps dilations beyond 8 mostly sample outside the map, and the offset layers
# dominate the cost (9 * inner * 306 MACs per pixel each), so: 24 channels, 3 blocks, 3 dilations.
NECK = dict(inner=24, blocks=3, dilations=[2, 4, 8])


def build_posewarper(neck=NECK):
    return R.PoseWarperModel(C.extra_config(), inner=neck['inner'], blocks=neck['blocks'],
                             dilations=tuple(neck['dilations']))


def init_from_stage1(model, stage1_path):
    sd = torch.load(stage1_path, map_location='cpu')['state_dict']
    model.backbone.load_state_dict({k[len('backbone.'):]: v for k, v in sd.items() if k.startswith('backbone.')})
    model.neck.trans_layer.weight.data.copy_(sd['keypoint_head.final_layer.weight'])
    model.neck.trans_layer.bias.data.copy_(sd['keypoint_head.final_layer.bias'])
    with torch.no_grad():
        for conv in model.neck.offset_layers:
            conv.weight.zero_()
        for deform in model.neck.deform_conv_layers:
            deform.weight.zero_()
            for k in range(deform.weight.shape[0]):
                deform.weight[k, k, 1, 1] = 1.0


def make_crops(split, anns, rng, sigma, offsets_of):
    """Every person's crops at offsets_of(rng) (offset 0 first), all under the same augmentation, as
    one offset-major batch (frame t's crops first, as the inference path orders them), with frame t's
    targets. Pairs draw (0, d) per person; a window is the test config's fixed offsets."""
    crops, targets, weights = [], [], []
    for a in anns:
        center, scale, rot, flip = C.augment(a, rng, True)
        row = []
        for d in offsets_of(rng):
            img, m, _ = C.crop(split.frame(a['image_id'], d), center, scale, rot, flip)
            row.append(img)
        # every crop of a person shares one affine map: the frames of a clip have one size
        xy, vis = C.keypoints_in_crop(a, split.frame(a['image_id']).shape[1], m, flip)
        t, w = C.heatmap_target(xy, vis, sigma)
        crops.append(row)
        targets.append(t)
        weights.append(w)
    by_offset = [img for k in range(len(crops[0])) for img in (row[k] for row in crops)]
    return C.to_tensor(by_offset), torch.from_numpy(np.stack(targets)), torch.from_numpy(np.stack(weights))


def window_offsets(_rng):
    return E.OFFSETS


def pair_offsets(rng):
    # mmpose's frame_index_rand over [-2, 2] with frame_weight_train (0, 1)
    return 0, int(rng.integers(-2, 3))


def batches(split, anns, batch, sigma, offsets_of, rng):
    """Endless (crops, targets, weights, persons) batches: epochs of `rng` permutations of `anns`
    (a tail shorter than a batch is dropped), the crops drawn with the same `rng`."""
    while True:
        order = rng.permutation(len(anns))
        for i in range(0, len(order) - batch + 1, batch):
            picked = [anns[j] for j in order[i:i + batch]]
            yield make_crops(split, picked, rng, sigma, offsets_of) + (len(picked),)


class Batches(torch.utils.data.IterableDataset):
    """`batches` from DataLoader workers (--workers > 0), each worker with its own generator seeded
    by (seed, start step, worker): on a GPU the crops, not the network, are the bottleneck (about
    6 ms of one core per 5-frame window)."""

    def __init__(self, split, anns, batch, sigma, offsets_of, seed, start_step):
        super().__init__()
        self.split, self.anns, self.batch, self.sigma = split, anns, batch, sigma
        self.offsets_of, self.seed, self.start_step = offsets_of, seed, start_step

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        if info is not None:
            C.cv2.setNumThreads(1)   # one core per worker; OpenCV's pool does not survive fork well
        rng = np.random.default_rng([self.seed, self.start_step, info.id if info else 0])
        return batches(self.split, self.anns, self.batch, self.sigma, self.offsets_of, rng)


@torch.no_grad()
def quick_eval(model, split):
    if next(model.parameters()).device.type != 'cpu':
        # evaluate.py's path is CPU tensors end to end; a copy keeps the trained model in place
        return quick_eval(copy.deepcopy(model).cpu(), split)
    model.eval()
    backbone = lambda x: model.backbone(x.contiguous(memory_format=torch.channels_last))  # noqa: E731
    hms, c, s = E.heatmaps(split, backbone, model.neck.trans_layer, model.neck)
    model.neck.train()
    return {k: E.metrics(split, v, c, s) for k, v in hms.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='/work/synthdata')
    ap.add_argument('--stage1', required=True)
    ap.add_argument('--init', help='continue from the neck of a PoseWarper checkpoint trained on the same stage-1 backbone')
    ap.add_argument('--adapt', action='store_true',
                    help="with --init: take only the neck's trained layers, for a --stage1 that continued the backbone --init was trained on")
    ap.add_argument('--work', default='/work/train/neck')
    ap.add_argument('--export', required=True)
    ap.add_argument('--log')
    ap.add_argument('--budget-min', type=float, default=12)
    ap.add_argument('--eval-min', type=float, default=6)
    ap.add_argument('--eval-split', default='val_hard', help="'none': no evaluation, export only")
    ap.add_argument('--eval-videos', type=int, default=6, help='clips of the eval split used (cost)')
    ap.add_argument('--skip-initial-eval', action='store_true')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--steps', type=int, help='schedule over this many steps instead of the wall-clock budget (reruns)')
    ap.add_argument('--sigma', type=float, default=2.0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                    help='where the network runs (default: cuda when available)')
    ap.add_argument('--workers', type=int, default=0,
                    help='crop-making processes (0: in the training process, the reproducible CPU order)')
    ap.add_argument('--videos', choices=['all', 'degraded'], default='all',
                    help="the train split's clips used: all, or only those with degradations (the hard splits' kind)")
    ap.add_argument('--snapshots', action='store_true',
                    help='keep every export as <export>.step<N> besides the latest')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--inner', type=int, default=NECK['inner'], help='the neck\'s inner channels')
    ap.add_argument('--blocks', type=int, default=NECK['blocks'], help='residual blocks of the offset features')
    ap.add_argument('--dilations', default=','.join(map(str, NECK['dilations'])),
                    help='comma-separated dilations of the offset and deformable layers')
    ap.add_argument('--window', action='store_true',
                    help='train on the test window (5 frames, the test frame weights) instead of pairs: '
                         'a fine-tune after the pair stage, with the loss on the aggregate the product outputs')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    log = C.Log(a.log or os.path.join(a.work, 'train.log'))
    log('args ' + json.dumps(vars(a)))
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    train = C.Split(os.path.join(a.data, 'train'))
    if a.videos == 'degraded':
        degraded = set(train.coco['info']['degraded_videos'])
        train.anns = [x for x in train.anns if train.images[x['image_id']]['vid_id'] in degraded]
        log(f'{len(train.anns)} persons of {len(degraded)} degraded clips')
    val = None if a.eval_split == 'none' else C.Split(os.path.join(a.data, a.eval_split), a.eval_videos)
    neck = dict(inner=a.inner, blocks=a.blocks, dilations=[int(d) for d in a.dilations.split(',')])
    model = build_posewarper(neck)
    init_from_stage1(model, a.stage1)
    if a.init:
        sd = torch.load(a.init, map_location='cpu')['state_dict']
        frozen_prefixes = ('backbone.', 'neck.trans_layer.')
        for k in frozen_prefixes:
            # the frozen parts must be the stage-1 weights this run is given, not an older backbone's
            stale = [n for n, v in sd.items() if n.startswith(k) and not torch.equal(v, model.state_dict()[n])]
            if stale and not a.adapt:
                sys.exit(f'{a.init}: its {k[:-1]} differs from {a.stage1} ({stale[0]}); train the neck from scratch, '
                         'or pass --adapt when --stage1 is a continuation of its backbone')
        if a.adapt:
            # the neck's own layers only; the frozen parts stay --stage1's
            sd = {n: v for n, v in sd.items() if not n.startswith(frozen_prefixes)}
            missing, unexpected = model.load_state_dict(sd, strict=False)
            if unexpected or any(not n.startswith(frozen_prefixes) for n in missing):
                sys.exit(f'{a.init}: not a neck of this shape (missing {missing[:3]}, unexpected {unexpected[:3]})')
        else:
            model.load_state_dict(sd)
        log(f'initialised the neck from {a.init}' + (' (its trained layers only: --adapt)' if a.adapt else ''))
    for m in model.neck.deform_conv_layers:
        m.use_grid_sample = True
    model = model.to(device=a.device, memory_format=torch.channels_last)
    torch.backends.cudnn.benchmark = True   # fixed shapes every step
    frozen = list(model.backbone.parameters()) + list(model.neck.trans_layer.parameters())
    for p in frozen:
        p.requires_grad_(False)
    trainable = [p for p in model.neck.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=a.lr)
    state_path = os.path.join(a.work, 'state.pt')
    elapsed, step, seen, best = 0.0, 0, 0, -1.0
    if os.path.exists(state_path):
        st = torch.load(state_path, map_location='cpu', weights_only=False)
        model.load_state_dict(st['model'])
        opt.load_state_dict(st['opt'])
        elapsed, step, seen, best = st['elapsed'], st['step'], st['seen'], st['best']
        rng = np.random.default_rng([a.seed, step])
        log(f'resumed at step {step}, {elapsed / 60:.1f} min elapsed')
    log(f'neck {json.dumps(neck)}: {sum(p.numel() for p in trainable)} trainable parameters')
    if step == 0 and not a.skip_initial_eval and val is not None:
        m = quick_eval(model, val)
        log(f'eval step 0 {a.eval_split} ' + json.dumps({k: {mk: round(mv, 4) for mk, mv in v.items()} for k, v in m.items()}))
    budget = a.budget_min * 60
    last_eval = elapsed
    t0 = time.time() - elapsed
    window = (time.time(), seen)
    model.backbone.eval()
    model.neck.train()
    done = lambda: step >= a.steps if a.steps else elapsed >= budget  # noqa: E731
    offsets_of, frame_weights = (window_offsets, list(E.WEIGHTS)) if a.window else (pair_offsets, [0.0, 1.0])
    if a.workers > 0:
        loader = iter(torch.utils.data.DataLoader(
            Batches(train, train.anns, a.batch, a.sigma, offsets_of, a.seed, step),
            batch_size=None, num_workers=a.workers, prefetch_factor=4, persistent_workers=True))
    else:
        loader = batches(train, train.anns, a.batch, a.sigma, offsets_of, rng)
    while not done():
        x, target, weight, n = next(loader)
        x, target, weight = (v.to(a.device, non_blocking=True) for v in (x, target, weight))
        with torch.no_grad():
            feats = model.backbone(x.contiguous(memory_format=torch.channels_last))[0]
        lr = C.cosine_lr(a.lr, step, a.steps, warmup_s=10) if a.steps else C.cosine_lr(a.lr, elapsed, budget, warmup_s=20.0)
        for g in opt.param_groups:
            g['lr'] = lr
        out = model.neck([feats[k * n:(k + 1) * n] for k in range(len(frame_weights))], frame_weights)
        loss = C.joints_mse(out, target, weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        seen += n
        elapsed = time.time() - t0
        if step % 20 == 0:
            now = time.time()
            rate = (seen - window[1]) / (now - window[0])
            window = (now, seen)
            log(f'step {step} seen {seen} loss {loss.item():.6f} lr {lr:.2e} {rate:.1f} pairs/s '
                f'elapsed {elapsed / 60:.1f}/{a.budget_min:.0f} min')
        if elapsed - last_eval >= a.eval_min * 60 or done():
            last_eval = elapsed
            m = {}
            if val is not None:
                m = quick_eval(model, val)
                log(f'eval step {step} {a.eval_split} ' + json.dumps({k: {mk: round(mv, 4) for mk, mv in v.items()} for k, v in m.items()}))
            torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), elapsed=elapsed, step=step,
                            seen=seen, best=best), state_path + '.tmp')
            os.replace(state_path + '.tmp', state_path)
            C.export_mmpose(model.state_dict(), a.export, 'PoseWarper',
                            dict(extra=C.extra_config(), neck=dict(type='PoseWarperNeck', **neck),
                                 input_size=list(C.INPUT_SIZE), heatmap_size=list(C.HEATMAP_SIZE),
                                 stage1=os.path.basename(a.stage1), step=step, seen=seen,
                                 **({a.eval_split: m} if m else {})))
            log(f'exported {a.export}')
            if a.snapshots:
                shutil.copyfile(a.export, f'{a.export}.step{step}')
            t0 = time.time() - elapsed
    log(f'done: {step} steps, {seen} pairs, {elapsed / 60:.1f} min')


if __name__ == '__main__':
    main()
