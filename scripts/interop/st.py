"""A small safetensors reader and writer for the interop tests (struct + json + torch only).

The `safetensors` pip package is not installed with Debian's python3-torch, so this follows the
format spec directly: an 8-byte little-endian header length N, N bytes of JSON (tensor name ->
{dtype, shape, data_offsets}, plus an optional "__metadata__" of strings), then the raw
little-endian row-major bytes. The reader checks what it relies on (offsets inside the data,
sizes matching dtype x shape) and fails loudly otherwise: a test tool must not guess.
"""
import json
import struct

import torch

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
# The reference writer's order: descending alignment, then name.
RANK = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "F64", "I64"]


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def load(path):
    """Returns (tensors: dict name -> torch.Tensor, in header order; metadata: dict or None)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {info['dtype']}")
        shape = [int(s) for s in info["shape"]]
        begin, end = info["data_offsets"]
        item = torch.empty((), dtype=dtype).element_size()
        if not (0 <= begin <= end <= len(data)) or end - begin != _numel(shape) * item:
            raise ValueError(f"{path}: tensor {name!r} has bad offsets {begin}..{end} for {info['dtype']} {shape}")
        chunk = bytearray(data[begin:end])  # a private, writable copy
        if len(chunk) == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(chunk, dtype=dtype).reshape(shape).clone()
        out[name] = t
    return out, metadata


def _bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    # NOTE: numpy reports its native byte order; every platform torch ships on is little-endian,
    # which the format requires. Refuse rather than write a wrong file elsewhere.
    a = t.numpy()
    if a.dtype.byteorder == ">":
        raise ValueError("big-endian platforms are not supported")
    return a.tobytes()


def save(tensors, path, metadata=None):
    """Writes tensors (dict name -> torch.Tensor) as the reference implementation lays them out."""
    items = sorted(tensors.items(), key=lambda kv: (-RANK.index(NAMES[kv[1].dtype]), kv[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, t in items:
        b = _bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
