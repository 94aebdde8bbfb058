"""Cross-check of detectors_ref against Megvii's own YOLOX modules: loads the Megvii-layout fixtures
strictly into upstream's YOLOPAFPN + YOLOXHead and compares raw outputs (measured: max abs diff 0).

    git -C YOLOX archive HEAD yolox/models | tar -x -C /tmp/yolox_src
    python3 Tools/reference/check_yolox_upstream.py /tmp/yolox_src
"""
import sys, types, torch, numpy as np
SRC = sys.argv[1]; sys.path.insert(0, SRC); sys.path.insert(0, 'Tools/reference')
lg = types.ModuleType('loguru'); lg.logger = None; sys.modules['loguru'] = lg
pkg = types.ModuleType('yolox'); pkg.__path__ = [SRC + '/yolox']; sys.modules['yolox'] = pkg
ut = types.ModuleType('yolox.utils')
for n in ['bboxes_iou', 'cxcywh2xyxy', 'meshgrid', 'visualize_assign']: setattr(ut, n, None)
sys.modules['yolox.utils'] = ut
mp = types.ModuleType('yolox.models'); mp.__path__ = [SRC + '/yolox/models']; sys.modules['yolox.models'] = mp
from yolox.models.yolo_pafpn import YOLOPAFPN
from yolox.models.yolo_head import YOLOXHead
from yolox.models.yolox import YOLOX
for name, f, dw, nc in [('yolox', 'yolox_megvii.pth', False, 3), ('yolox_dw', 'yolox_dw_megvii.pth', True, 80)]:
    m = YOLOX(YOLOPAFPN(0.33, 0.0625, depthwise=dw), YOLOXHead(nc, 0.0625, depthwise=dw))
    for b in m.modules():
        if isinstance(b, torch.nn.BatchNorm2d): b.eps = 1e-3
    sd = torch.load('Tests/DetectorTests/Fixtures/' + f)['model']
    print(m.load_state_dict(sd, strict=True))
    m.eval(); m.head.decode_in_inference = False
    x = torch.from_numpy(np.load('Tests/DetectorTests/Fixtures/input.npy'))
    with torch.no_grad(): out = m(x)  # [1, A, 4+1+nc], obj/cls sigmoided
    exp = []
    for l in range(3):
        c, r, o = [torch.from_numpy(np.load(f'Tests/DetectorTests/Fixtures/{name}_l{l}_{k}.npy')) for k in ('cls', 'reg', 'obj')]
        exp.append(torch.cat([r, o.sigmoid(), c.sigmoid()], 1).flatten(2))
    exp = torch.cat(exp, 2).permute(0, 2, 1)
    print(name, 'max abs diff vs Megvii modules', float((out - exp).abs().max()))
