#!/usr/bin/env python3
"""Writes test/fixtures/safetensors.json: small safetensors files laid out exactly as Hugging Face's
`safetensors` library writes them (its Rust `serialize`), with the values PyTorch reads from them.

The `safetensors` Python package is not installed here, so the bytes are built by hand following
the reference implementation (safetensors/src/tensor.rs, `prepare`): tensors sorted by dtype
(widest first, in the enum order BOOL < U8 < I8 < F8_E5M2 < F8_E4M3 < I16 < U16 < F16 < BF16 < I32 <
U32 < F32 < F64 < I64 < U64), then by name; the header is compact JSON (serde_json, no spaces,
non-ASCII kept as UTF-8) with "__metadata__" first, padded with spaces to a multiple of 8; then the
8-byte little-endian header length. Tensor bytes come from PyTorch (`tensor.numpy().tobytes()`, or
a reinterpreting view for bfloat16/fp8), and the expected values are what PyTorch gets converting
each to float32 (floats) or int64 (integers).

Run: /usr/bin/python3 tools/reference/make_safetensors_fixtures.py
"""
import base64
import json
import pathlib
import struct

import torch

ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
TORCH = {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "I32": torch.int32,
    "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64,
}


def raw_bytes(t: torch.Tensor, dtype: str) -> bytes:
    t = t.contiguous()
    if dtype == "BF16":
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def serialize(tensors, metadata=None):
    """tensors: {name: (dtype, shape, bytes)} -> the bytes the reference serializer writes."""
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(kv[1][0]), kv[0].encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape, data) in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(d for _, (_, _, d) in items)


def expected(t: torch.Tensor, dtype: str):
    if dtype in ("F16", "BF16", "F32"):
        return t.float().flatten().tolist(), "float32"
    if dtype == "F64":
        return t.flatten().tolist(), "float64"
    if dtype == "BOOL":
        return [int(v) for v in t.flatten().tolist()], "bool"
    return t.to(torch.int64).flatten().tolist(), "int32"


def finite_or_str(values):
    out = []
    for v in values:
        if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            out.append(str(v))
        else:
            out.append(v)
    return out


def main():
    torch.manual_seed(0)
    files = []

    # 1. Every dtype PyTorch has, with awkward values (subnormals, infinities, extremes).
    specs = {}
    specs["f32"] = ("F32", torch.tensor([[1.5, -2.25, 3e-39], [float("inf"), -0.0, 65504.0]], dtype=torch.float32))
    specs["f64"] = ("F64", torch.tensor([1e-310, -1.0 / 3.0, 2.0**60], dtype=torch.float64))
    specs["f16"] = ("F16", torch.tensor([1.0, -2.5, 6.1e-5, 5.96e-8, 65504.0, float("-inf"), 0.1], dtype=torch.float16))
    specs["bf16"] = ("BF16", torch.tensor([1.0, -3.140625, 1e-38, 3.0e38, float("inf"), 0.1], dtype=torch.bfloat16))
    specs["i64"] = ("I64", torch.tensor([[0, -1], [2**31 - 1, -(2**31)]], dtype=torch.int64))
    specs["i32"] = ("I32", torch.tensor([7, -7, 2**31 - 1], dtype=torch.int32))
    specs["i16"] = ("I16", torch.tensor([-32768, 32767, 5], dtype=torch.int16))
    specs["i8"] = ("I8", torch.tensor([-128, 127, 0], dtype=torch.int8))
    specs["u8"] = ("U8", torch.tensor([[0, 255, 128]], dtype=torch.uint8))
    specs["bool"] = ("BOOL", torch.tensor([True, False, True, True]))
    specs["scalar"] = ("F32", torch.tensor(4.0))
    specs["empty"] = ("F32", torch.zeros(0, 3))
    specs["weight.ünïcode"] = ("F32", torch.randn(2, 3))
    tensors = {k: (d, list(t.shape), raw_bytes(t, d)) for k, (d, t) in specs.items()}
    exp = {}
    for k, (d, t) in specs.items():
        values, read_as = expected(t, d)
        exp[k] = {"fileDType": d, "dtype": read_as, "shape": list(t.shape), "values": finite_or_str(values)}
    files.append({
        "name": "all_dtypes",
        "bytes": base64.b64encode(serialize(tensors, {"framework": "pt", "note": "written by hand like safetensors.torch.save_file"})).decode(),
        "metadata": {"framework": "pt", "note": "written by hand like safetensors.torch.save_file"},
        "tensors": exp,
    })

    # 2. Unsigned types PyTorch lacks (U16, U32, U64), built with struct, and FP8 bytes.
    u16 = [0, 65535, 1234]
    u32 = [0, 2**31 - 1, 77]
    u64 = [0, 2**31 - 1, 5]
    tensors = {
        "u16": ("U16", [3], struct.pack("<3H", *u16)),
        "u32": ("U32", [3], struct.pack("<3I", *u32)),
        "u64": ("U64", [3], struct.pack("<3Q", *u64)),
    }
    exp = {
        "u16": {"fileDType": "U16", "dtype": "int32", "shape": [3], "values": u16},
        "u32": {"fileDType": "U32", "dtype": "int32", "shape": [3], "values": u32},
        "u64": {"fileDType": "U64", "dtype": "int32", "shape": [3], "values": u64},
    }
    if hasattr(torch, "float8_e4m3fn"):
        fp8 = torch.tensor([0.0, 1.0, -1.5, 448.0, 0.013671875, -0.001953125], dtype=torch.float32)
        for name, d, tdt in [("e4m3", "F8_E4M3", torch.float8_e4m3fn), ("e5m2", "F8_E5M2", torch.float8_e5m2)]:
            q = fp8.to(tdt)
            tensors[name] = (d, [6], q.view(torch.uint8).numpy().tobytes())
            exp[name] = {"fileDType": d, "dtype": "float32", "shape": [6], "values": finite_or_str(q.float().tolist())}
    files.append({"name": "unsigned_and_fp8", "bytes": base64.b64encode(serialize(tensors)).decode(), "metadata": None, "tensors": exp})

    # 3. Only the dtypes milestones writes (F32, F64, I32, BOOL), with names whose order differs
    #    between UTF-16 and UTF-8 ('\uff21' sorts after '\U0001d538' in UTF-16, before it in UTF-8)
    #    and metadata keys in sorted order: re-encoding this file must give these exact bytes.
    specs = {
        "z": ("F32", torch.tensor([1.0, 2.0])),
        "\u00e9": ("F32", torch.tensor([3.0])),
        "\uff21": ("I32", torch.tensor([4], dtype=torch.int32)),
        "\U0001d538": ("I32", torch.tensor([5], dtype=torch.int32)),
        "a": ("BOOL", torch.tensor([True, False])),
        "m": ("F64", torch.tensor([[0.5]], dtype=torch.float64)),
    }
    tensors = {k: (d, list(t.shape), raw_bytes(t, d)) for k, (d, t) in specs.items()}
    exp = {}
    for k, (d, t) in specs.items():
        values, read_as = expected(t, d)
        exp[k] = {"fileDType": d, "dtype": read_as, "shape": list(t.shape), "values": values}
    meta = {"b": "2", "a": "1", "\u00e9": "\"quoted\"\n"}
    meta = dict(sorted(meta.items(), key=lambda kv: kv[0].encode("utf-8")))
    files.append({"name": "canonical", "bytes": base64.b64encode(serialize(tensors, meta)).decode(), "metadata": meta, "tensors": exp, "canonical": True})

    out = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "safetensors.json"
    out.write_text(json.dumps({"generator": "tools/reference/make_safetensors_fixtures.py", "torch": torch.__version__, "files": files}, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
