#!/usr/bin/env python3
"""The PyTorch side of `npm run test:interop` (test-interop/*.test.ts spawn it).

Usage: /usr/bin/python3 scripts/interop/torch_side.py <command> <request.json>

Every exchange goes through files in a temp folder that the test owns: safetensors files for
tensors (read and written by st.py, no renaming anywhere) and one JSON request / result pair.
The model is described by a layer spec shared with the TypeScript side, so both build the same
`Sequential` in the same order and the state-dict keys ("0.weight", "1.running_mean", ...) agree
by construction:

  ["linear", in, out] ["conv2d", in, out, kernel, padding] ["batchnorm2d", channels]
  ["relu"] ["tanh"] ["dropout", p] ["maxpool2d", kernel] ["flatten"]

Commands (request fields in brackets):
  logits      [spec, dtype, weights, inputs, out, result] load `weights` with
              load_state_dict(strict=True), eval mode, write the logits of inputs["x"] to `out`.
  train       [spec, seed, steps, batch_size, lr, data, inputs, weights_out, logits_out, result]
              train in float32 with Adam from torch's own init, then write the state dict
              (torch's dtypes: num_batches_tracked is int64) and the eval logits of inputs["x"].
  trajectory  [spec, init, batches, optimizer, weights_out, result, dtype?] float64 (or the given
              dtype: the weights and batches are converted to it), train mode: load
              `init` strictly, take one optimizer step per batch (batches["x"][i], batches["y"][i])
              with cross-entropy, record every loss (before the step), write the final state dict.

The result JSON always lists the module's keys and dtypes after loading, so the test can see
exactly what torch did with the file.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

# NOTE: one thread makes torch's reductions run in one fixed order, so the figures the tests
# print are reproducible run to run.
torch.set_num_threads(1)

DTYPE = {"float32": torch.float32, "float64": torch.float64}


def build(spec):
    layers = []
    for entry in spec:
        kind, args = entry[0], entry[1:]
        if kind == "linear":
            layers.append(torch.nn.Linear(args[0], args[1]))
        elif kind == "conv2d":
            layers.append(torch.nn.Conv2d(args[0], args[1], args[2], padding=args[3]))
        elif kind == "batchnorm2d":
            layers.append(torch.nn.BatchNorm2d(args[0]))
        elif kind == "relu":
            layers.append(torch.nn.ReLU())
        elif kind == "tanh":
            layers.append(torch.nn.Tanh())
        elif kind == "dropout":
            layers.append(torch.nn.Dropout(args[0]))
        elif kind == "maxpool2d":
            layers.append(torch.nn.MaxPool2d(args[0]))
        elif kind == "flatten":
            layers.append(torch.nn.Flatten())
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return torch.nn.Sequential(*layers)


def describe(model):
    """Key -> [dtype, shape] of the module's state dict, in order."""
    return [[k, str(v.dtype).replace("torch.", ""), list(v.shape)] for k, v in model.state_dict().items()]


def nbt(model):
    """num_batches_tracked buffers: key -> [dtype, value]."""
    return {k: [str(v.dtype).replace("torch.", ""), int(v)] for k, v in model.state_dict().items() if k.endswith("num_batches_tracked")}


def load_strict(model, path):
    tensors, _ = st.load(path)
    file_keys = [[k, str(v.dtype).replace("torch.", ""), list(v.shape)] for k, v in tensors.items()]
    # strict=True raises (and this script exits non-zero) on any missing or unexpected key or
    # shape mismatch; torch copies values into its own buffers, converting the dtype (int32 ->
    # int64 for num_batches_tracked).
    result = model.load_state_dict(tensors, strict=True)
    return file_keys, {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)}


def cmd_logits(req):
    model = build(req["spec"]).to(DTYPE[req["dtype"]])
    file_keys, strict = load_strict(model, req["weights"])
    model.eval()
    x = st.load(req["inputs"])[0]["x"]
    with torch.no_grad():
        logits = model(x)
    st.save({"logits": logits}, req["out"])
    return {"file_keys": file_keys, "module_keys": describe(model), "load": strict, "num_batches_tracked": nbt(model)}


def cmd_train(req):
    torch.manual_seed(req["seed"])
    model = build(req["spec"])  # float32, torch's default init
    data = st.load(req["data"])[0]
    x, y = data["x"], data["y"].long()
    opt = torch.optim.Adam(model.parameters(), lr=req["lr"], foreach=False)
    b = req["batch_size"]
    n = x.shape[0]
    losses = []
    model.train()
    for i in range(req["steps"]):
        lo = (i * b) % n
        xb, yb = x[lo:lo + b], y[lo:lo + b]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits = model(st.load(req["inputs"])[0]["x"])
    st.save(model.state_dict(), req["weights_out"], {"format": "pt"})
    st.save({"logits": logits}, req["logits_out"])
    return {"module_keys": describe(model), "losses": losses, "num_batches_tracked": nbt(model)}


def make_optimizer(params, o):
    if o["name"] == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], dampening=o["dampening"],
                               nesterov=o["nesterov"], weight_decay=o["weight_decay"], foreach=False)
    if o["name"] == "adam":
        return torch.optim.Adam(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"],
                                weight_decay=o["weight_decay"], foreach=False)
    raise ValueError(f"unknown optimizer {o['name']!r}")


def cmd_trajectory(req):
    dtype = DTYPE[req.get("dtype", "float64")]
    model = build(req["spec"]).to(dtype)
    file_keys, strict = load_strict(model, req["init"])
    batches = st.load(req["batches"])[0]
    xs, ys = batches["x"].to(dtype), batches["y"].long()
    if batches["x"].dtype != torch.float64:
        raise ValueError(f"batches must be float64, got {batches['x'].dtype}")
    opt = make_optimizer(model.parameters(), req["optimizer"])
    model.train()
    losses = []
    for i in range(xs.shape[0]):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xs[i]), ys[i])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    st.save(model.state_dict(), req["weights_out"])
    return {"file_keys": file_keys, "module_keys": describe(model), "load": strict, "losses": losses, "num_batches_tracked": nbt(model)}


COMMANDS = {"logits": cmd_logits, "train": cmd_train, "trajectory": cmd_trajectory}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[2], encoding="utf-8") as f:
        req = json.load(f)
    out = COMMANDS[sys.argv[1]](req)
    out["torch"] = torch.__version__
    with open(req["result"], "w", encoding="utf-8") as f:
        json.dump(out, f, allow_nan=False)


if __name__ == "__main__":
    main()
