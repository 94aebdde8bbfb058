"""Writes the small fixtures of Tests/DetectorTests/Fixtures (run from the package root):

    python3 Tools/reference/make_detector_fixtures.py

Tiny random calibrated YOLOX and RTMDet checkpoints (official names; YOLOX in both Megvii's and mmdet's
layout), one 64x96 input (0-255 for YOLOX, normalised for RTMDet), the raw head outputs per level (cls / reg / obj logits,
computed in float64) and the person boxes
after each family's post-processing (detectors_ref.postprocess), plus `cases.json` describing them; and one small RGB frame taken end to end (letterbox input, boxes in
frame pixels; `frames.json`).
"""
import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detectors_ref as R  # noqa: E402

OUT = os.path.join('Tests', 'DetectorTests', 'Fixtures')
H, W = 64, 96


def save_npy(name, t):
    np.save(os.path.join(OUT, name + '.npy'), np.ascontiguousarray(t.detach().numpy(), dtype=np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    x = torch.randn(1, 3, H, W) * 50 + 110      # 0-255-like values, as YOLOX's unnormalised input
    save_npy('input', x)
    # (RTMDet at width 0.125: narrower random CSPNeXt nets amplify float32 rounding past 1e-5.)
    # RTMDet's input is normalised with its mean/std (BGR); YOLOX's stays on 0-255.
    x_rtm = (x - torch.tensor([103.53, 116.28, 123.675]).view(1, 3, 1, 1)) / torch.tensor([57.375, 57.12, 58.395]).view(1, 3, 1, 1)
    save_npy('input_rtmdet', x_rtm)
    cases = []

    def case(name, family, model, seed, post, files, half=False, **rand):
        xin = x if family == 'yolox' else x_rtm
        R.randomize(model, seed, xin, **rand)
        if half:
            # Stored as float16 to keep the file small: the network runs on the rounded values.
            with torch.no_grad():
                for t in model.state_dict().values():
                    if t.is_floating_point():
                        t.copy_(t.half().float())
        # The references are computed in float64 (then stored as float32): these narrow random nets
        # amplify float32 rounding to ~1e-5, so a float32 PyTorch run would be no reference at that bound.
        with torch.no_grad():
            outs = copy.deepcopy(model).double()(xin.double())
        kinds = ['cls', 'reg', 'obj'] if family == 'yolox' else ['cls', 'reg']
        for l, o in enumerate(outs):
            for kind, t in zip(kinds, o):
                save_npy(f'{name}_l{l}_{kind}', t)
        boxes = R.postprocess(family, outs, (H, W), **post)
        before = R.postprocess(family, outs, (H, W), **dict(post, nms_threshold=1.0, max_detections=10**6))
        save_npy(f'{name}_boxes', boxes)
        sd = {k: (v.half() if half and v.is_floating_point() else v).detach().clone().contiguous()
              for k, v in model.state_dict().items()}
        for layout, fname in files:
            path = os.path.join(OUT, fname)
            if layout == 'megvii':
                torch.save({'model': R.yolox_to_megvii_names(sd), 'start_epoch': 300}, path)
            else:
                torch.save({'meta': {'mmdet_version': '3.3.0'}, 'state_dict': sd}, path)
        cases.append(dict(name=name, family=family, files=[f for _, f in files], post=post,
                          boxes=int(boxes.shape[0]), levels=len(outs)))
        print(name, 'candidates', before.shape[0], 'boxes', boxes.shape[0], 'cls std', float(outs[0][0].std()))

    case('yolox', 'yolox', R.YOLOX(0.33, 0.0625, classes=3), 21,
         dict(score_threshold=0.35, nms_threshold=0.45, max_detections=100),
         [('megvii', 'yolox_megvii.pth'), ('mmdet', 'yolox_mmdet.pth')], score_bias=(0.0, 0.3), person_boost=0.5)
    case('yolox_dw', 'yolox', R.YOLOX(0.33, 0.0625, classes=80, depthwise=True), 22,
         dict(score_threshold=0.2, nms_threshold=0.45, max_detections=100),
         [('megvii', 'yolox_dw_megvii.pth')], score_bias=(-2.5, 0.5), person_boost=1.8)
    case('rtmdet', 'rtmdet', R.RTMDet(0.167, 0.125, 1, classes=1), 23,
         dict(score_threshold=0.3, nms_threshold=0.45, max_detections=300, exp_on_reg=False),
         [('mmdet', 'rtmdet_person.pth')], half=True)
    case('rtmdet_dw', 'rtmdet', R.RTMDet(0.167, 0.125, 1, classes=2, depthwise=True, share_conv=False), 24,
         dict(score_threshold=0.3, nms_threshold=0.45, max_detections=5, exp_on_reg=True),
         [('mmdet', 'rtmdet_dw.pth')], half=True, score_bias=(-0.5, 0.0))
    # End to end on a small frame: letterbox pre-processing, network, post-processing, boxes in frame
    # pixels, for YOLOX (Megvii defaults) and RTMDet with the other choices (RGB, centred, round).
    g = torch.Generator().manual_seed(99)
    small = torch.rand(1, 3, 6, 9, generator=g) * 255
    frame = torch.nn.functional.interpolate(small, size=(45, 70), mode='bilinear', align_corners=False)
    frame = (frame + torch.randn(1, 3, 45, 70, generator=g) * 10).clamp(0, 255).round().to(torch.uint8)
    frame = frame[0].permute(1, 2, 0).contiguous().numpy()
    np.save(os.path.join(OUT, 'frame_rgb.npy'), frame)
    ends = []
    for name, file, family, settings, post in [
            ('frame_yolox', 'yolox_megvii.pth', 'yolox', dict(), dict(score_threshold=0.35, nms_threshold=0.45, max_detections=100)),
            ('frame_rtmdet', 'rtmdet_person.pth', 'rtmdet',
             dict(channel_order='rgb', mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375), letterbox='center',
                  pad_value=0.0, scale_rounding='round'),
             dict(score_threshold=0.3, nms_threshold=0.45, max_detections=300, exp_on_reg=False))]:
        ck = torch.load(os.path.join(OUT, file))
        model = R.YOLOX(0.33, 0.0625, classes=3) if family == 'yolox' else R.RTMDet(0.167, 0.125, 1, classes=1)
        sd = ck.get('state_dict')
        if family == 'yolox':
            inverse = {R.megvii_name(k): k for k in model.state_dict()}
            sd = {inverse[k]: v for k, v in ck['model'].items()}
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=True)
        model.eval()
        xin, transform = R.letterbox(frame, W, H, **settings)
        with torch.no_grad():
            outs = model(xin)
        boxes = R.to_frame(R.postprocess(family, outs, (H, W), **post), transform)
        save_npy(f'{name}_input', xin)
        save_npy(f'{name}_boxes', boxes)
        ends.append(dict(name=name, file=file, settings=settings, post=post, boxes=int(boxes.shape[0])))
        print(name, 'boxes', boxes.shape[0])
    with open(os.path.join(OUT, 'frames.json'), 'w') as f:
        json.dump(dict(frame=[45, 70], input=[H, W], cases=ends), f, indent=1)
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump(dict(input=[1, 3, H, W], cases=cases), f, indent=1)


if __name__ == '__main__':
    main()
