#!/usr/bin/env python3
"""Writes the Checkpoints test fixtures (small torch zip/legacy/safetensors files, corrupt and
malicious files) and manifest.json with the expected names, dtypes, shapes and checksums.

Run from the package root:  python3 Tools/reference/make_checkpoint_fixtures.py
Needs torch (not needed by `make test`; the outputs are committed).
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "CheckpointsTests", "Fixtures")
torch.manual_seed(2019)

DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
               torch.float64: "float64", torch.int64: "int64", torch.int32: "int32", torch.int16: "int16",
               torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool"}

MMPOSE_META = {
    "mmpose_version": "0.15.0",
    "config": "model = dict(type='TopDown', backbone=dict(type='HRNet'))\n",
    "CLASSES": None,
    "epoch": 210,
    "iter": 73710,
    "mmcv_version": "1.3.8",
    "time": "Wed Jul  8 12:00:00 2020",
    "hook_msgs": {"best_score": 0.744, "last_ckpt": "work_dirs/epoch_210.pth"},
    "seed": 42,
    "stats": {"ap": 0.25, "iters": -3, "count": 7, "flag": True},
    "flip_pairs": [(1, 2), (3, 4)],
}


def state_dict():
    """A small HRNet-like state dict exercising every dtype and view kind."""
    sd = collections.OrderedDict()
    sd["backbone.conv1.weight"] = torch.randn(4, 3, 3, 3)
    sd["backbone.bn1.weight"] = torch.rand(4) + 0.5
    sd["backbone.bn1.bias"] = torch.randn(4)
    sd["backbone.bn1.running_mean"] = torch.randn(4)
    sd["backbone.bn1.running_var"] = torch.rand(4) + 0.1
    sd["backbone.bn1.num_batches_tracked"] = torch.tensor(1234, dtype=torch.int64)
    # A transposed view saved as-is: non-contiguous strides over a shared storage.
    base = torch.randn(5, 7)
    sd["head.transposed.weight"] = base.t()
    # A slice with a non-zero storage offset into a larger storage.
    big = torch.randn(6, 4)
    sd["head.slice.weight"] = big[2:5]
    sd["head.strided.weight"] = big[:, ::2]
    sd["head.half.weight"] = torch.randn(3, 5).half()
    sd["head.bfloat.weight"] = torch.randn(2, 3).to(torch.bfloat16)
    sd["head.double.weight"] = torch.randn(2, 2, dtype=torch.float64)
    sd["head.int32.index"] = torch.arange(-3, 3, dtype=torch.int32)
    sd["head.int16.index"] = torch.tensor([-300, 0, 300], dtype=torch.int16)
    sd["head.int8.index"] = torch.tensor([-7, 7], dtype=torch.int8)
    sd["head.uint8.mask"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["head.bool.mask"] = torch.tensor([True, False, True])
    sd["head.empty"] = torch.zeros(0, 3)
    return sd


def expected(sd, strip_module=False):
    out = []
    for name, t in sd.items():
        if strip_module and name.startswith("module."):
            name = name[len("module."):]
        d = t.detach().to(torch.float64)
        flat = t.detach().reshape(-1).to(torch.float32)
        out.append({"name": name, "dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                    "sum": float(d.sum()), "sumsq": float((d * d).sum()),
                    "first": [float(v) for v in flat[:8]]})
    return out


def nested(sd):
    """{'model': {'module.backbone': {...}, 'module.head.x': t}} -> flattened, module. stripped."""
    inner = collections.OrderedDict()
    backbone = collections.OrderedDict((k[len("backbone."):], v) for k, v in sd.items() if k.startswith("backbone."))
    inner["module.backbone"] = backbone
    for k, v in sd.items():
        if not k.startswith("backbone."):
            inner["module." + k] = v
    flat = collections.OrderedDict()
    for k, v in backbone.items():
        flat["backbone." + k] = v
    for k, v in sd.items():
        if not k.startswith("backbone."):
            flat[k] = v
    return {"model": inner, "epoch": 3}, flat


def write_safetensors(path, tensors, metadata):
    """The safetensors layout, written directly: u64 header length, JSON header, packed data."""
    codes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
             torch.float64: "F64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.dtype != torch.bool else t.numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return text


class FakeStorage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class FakeTensor:
    """Pickles exactly like a float tensor with the given storage/offset/size/stride."""
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def write_torch_like_zip(path, obj, records, byteorder="little"):
    """A torch-layout zip (archive/data.pkl, archive/data/<key>) with hand-made contents."""
    buf = io.BytesIO()
    StoragePickler(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", byteorder)
        for key, raw in records.items():
            z.writestr("archive/data/" + key, raw)


def legacy_with_object_pickle(path, object_pickle, magic=0x1950A86A20F9469CFC6C):
    """A legacy stream whose object pickle is given verbatim (no storages)."""
    with open(path, "wb") as f:
        f.write(pickle.dumps(magic, protocol=2))
        f.write(pickle.dumps(1001, protocol=2))
        f.write(pickle.dumps({"protocol_version": 1001, "little_endian": True,
                              "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))
        f.write(object_pickle)
        f.write(pickle.dumps([], protocol=2))


class EvalEverything:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned')",))


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    sd = state_dict()
    import numpy as np
    # mmcv runners store numpy scalars in meta (e.g. hook_msgs best_score): pickled via numpy globals.
    meta = dict(MMPOSE_META)
    meta["hook_msgs"] = {"best_score": np.float64(0.744), "last_ckpt": "work_dirs/epoch_210.pth"}
    meta["seed"] = np.int64(42)
    meta["stats"] = {"ap": np.float32(0.25), "iters": np.int32(-3), "count": np.uint8(7), "flag": np.bool_(True)}
    mm = {"meta": meta, "state_dict": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 0.001}]}}
    torch.save(mm, os.path.join(OUT, "mmpose_zip.pth"))
    torch.save(mm, os.path.join(OUT, "mmpose_legacy.pth"), _use_new_zipfile_serialization=False)
    for name, fmt in (("mmpose_zip.pth", "zip"), ("mmpose_legacy.pth", "legacy")):
        manifest[name] = {"format": fmt, "tensors": expected(sd), "meta": MMPOSE_META}

    obj, flat = nested(sd)
    torch.save(obj, os.path.join(OUT, "nested_module_zip.pth"))
    torch.save(obj, os.path.join(OUT, "nested_module_legacy.pth"), _use_new_zipfile_serialization=False)
    for name, fmt in (("nested_module_zip.pth", "zip"), ("nested_module_legacy.pth", "legacy")):
        manifest[name] = {"format": fmt, "tensors": expected(flat), "meta": None}

    bare = collections.OrderedDict(("module." + k, v) for k, v in list(sd.items())[:6])
    torch.save(bare, os.path.join(OUT, "bare_dataparallel_zip.pth"))
    manifest["bare_dataparallel_zip.pth"] = {"format": "zip", "tensors": expected(bare, strip_module=True), "meta": None}

    # Newer pickle protocols (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE, BINBYTES8 ...).
    torch.save(mm, os.path.join(OUT, "mmpose_protocol4_zip.pth"), pickle_protocol=4)
    manifest["mmpose_protocol4_zip.pth"] = {"format": "zip", "tensors": expected(sd), "meta": MMPOSE_META}
    torch.save(bare, os.path.join(OUT, "bare_protocol5_legacy.pth"), pickle_protocol=5,
               _use_new_zipfile_serialization=False)
    manifest["bare_protocol5_legacy.pth"] = {"format": "legacy", "tensors": expected(bare, strip_module=True), "meta": None}

    st = collections.OrderedDict()
    for k in ("backbone.conv1.weight", "backbone.bn1.num_batches_tracked", "head.half.weight",
              "head.bfloat.weight", "head.double.weight", "head.int32.index", "head.uint8.mask", "head.bool.mask"):
        st[k] = sd[k].contiguous()
    st["head.transposed.weight"] = sd["head.transposed.weight"].contiguous()
    meta_st = {"format": "pt", "source": "make_checkpoint_fixtures"}
    write_safetensors(os.path.join(OUT, "weights.safetensors"), st, meta_st)
    manifest["weights.safetensors"] = {"format": "safetensors", "tensors": expected(st), "meta": meta_st}

    # A big-endian writer's file (byteorder record "big"): elements must be byte-swapped on read.
    values = [1.5, -2.25, 3.0, 1e-3, -7.0, 65504.0]
    write_torch_like_zip(os.path.join(OUT, "bigendian_zip.pth"),
                         {"state_dict": {"w": FakeTensor(FakeStorage("0", 6), 0, (2, 3), (3, 1))}},
                         {"0": struct.pack(">6f", *values)}, byteorder="big")
    manifest["bigendian_zip.pth"] = {"format": "zip", "meta": None,
                                     "tensors": expected({"w": torch.tensor(values).reshape(2, 3)})}

    # ---- bad input ----
    raw = open(os.path.join(OUT, "mmpose_zip.pth"), "rb").read()
    open(os.path.join(OUT, "bad_truncated_zip.pth"), "wb").write(raw[: len(raw) // 2])
    raw = open(os.path.join(OUT, "mmpose_legacy.pth"), "rb").read()
    open(os.path.join(OUT, "bad_truncated_legacy.pth"), "wb").write(raw[: len(raw) - 100])
    small = {"w": torch.ones(2)}
    buf = io.BytesIO()
    torch.save(small, buf, _use_new_zipfile_serialization=False)
    good_magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    bad = buf.getvalue().replace(good_magic, pickle.dumps(0x1950A86A20F9469CFC6D, protocol=2), 1)
    open(os.path.join(OUT, "bad_magic_legacy.pth"), "wb").write(bad)
    # os.system named through GLOBAL (protocol 2), exactly as a hostile torch.save would write it.
    os_system = b"\x80\x02}q\x00X\x06\x00\x00\x00attackq\x01cos\nsystem\nq\x02X\n\x00\x00\x00echo pwnedq\x03\x85q\x04Rq\x05s."
    legacy_with_object_pickle(os.path.join(OUT, "bad_os_system_legacy.pth"), os_system)
    # builtins.eval through STACK_GLOBAL (protocol 4) inside the state dict of a zip checkpoint.
    with zipfile.ZipFile(os.path.join(OUT, "bad_eval_zip.pth"), "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"state_dict": {"w": EvalEverything()}}, protocol=4))
    # An unlisted global: a numpy array in the state dict.
    torch.save({"state_dict": {"w": np.zeros(3, dtype=np.float32)}}, os.path.join(OUT, "bad_numpy_global_zip.pth"))
    # A storage declared as 10 floats whose record holds only 4.
    write_torch_like_zip(os.path.join(OUT, "bad_short_storage_zip.pth"),
                         {"state_dict": {"w": FakeTensor(FakeStorage("0", 10), 0, (10,), (1,))}},
                         {"0": struct.pack("<4f", 1, 2, 3, 4)})
    # A tensor whose view (offset 2, 3x2 with stride 2) runs past a declared-and-present 6-float storage.
    write_torch_like_zip(os.path.join(OUT, "bad_view_past_storage_zip.pth"),
                         {"state_dict": {"w": FakeTensor(FakeStorage("0", 6), 2, (3, 2), (2, 1))}},
                         {"0": struct.pack("<6f", *range(6))})
    # safetensors headers that lie: offsets past the data, and two entries overlapping.
    def lying(path, header, data):
        text = json.dumps(header).encode()
        open(os.path.join(OUT, path), "wb").write(struct.pack("<Q", len(text)) + text + data)
    lying("bad_offsets_past_end.safetensors",
          {"a": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}, b"\0" * 40)
    lying("bad_offsets_overlap.safetensors",
          {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
           "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, b"\0" * 24)
    lying("bad_offsets_size_mismatch.safetensors",
          {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, b"\0" * 16)
    # A list that contains itself (legal Python, a cycle for a naive decoder) in meta.
    cyclic = []
    cyclic.append(cyclic)
    torch.save({"state_dict": {"w": torch.ones(2)}, "meta": {"loop": cyclic}}, os.path.join(OUT, "bad_cyclic_meta_zip.pth"))
    open(os.path.join(OUT, "bad_not_a_checkpoint.txt"), "w").write("model = dict(type='TopDown')\n")

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
