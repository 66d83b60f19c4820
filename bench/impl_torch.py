"""The bench workloads on PyTorch (CPU, one thread), driven by bench/impl-torch.ts.

Reads one JSON command per line on stdin: {"case": {...}, "runs": N, "budgetMs": B, "file": path,
"arrays": {name: [byteOffset, shape, dtype]}}; the inputs (the same deterministic values as the
other implementations) are in `file`. Times the case with the harness's rule (warm-up: up to 10
runs or 1 s, at least 2 runs unless one takes a third of the budget; then the median of `runs`
timed runs, fewer when one run exceeds the budget) and answers one JSON line
{"ms", "runs", "rssMiB"} (or {"error"}).
"""
import json
import math
import os
import resource
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)


def load(cmd):
    raw = open(cmd["file"], "rb").read()
    out = {}
    for name, (off, shape, dtype) in cmd["arrays"].items():
        n = int(np.prod(shape)) if shape else 1
        dt = np.float32 if dtype == "float32" else np.int32
        a = np.frombuffer(raw, dtype=dt, count=n, offset=off).reshape(shape).copy()
        out[name] = torch.from_numpy(a if dt == np.float32 else a.astype(np.int64))
    return out


def prepare(c, A):
    w = c["workload"]
    p = c["params"]
    if w == "W1":
        a, b = A["a"], A["b"]
        return lambda: torch.matmul(a, b)
    if w == "W2":
        a, b = A["a"], A["b"]
        return {"add": lambda: a + b, "mul": lambda: a * b, "exp": lambda: torch.exp(a), "relu": lambda: torch.relu(a)}[p["op"]]
    if w == "W3":
        if p["op"] == "sum":
            a = A["a"]
            return lambda: a.sum()
        x = A["x"]
        return lambda: torch.softmax(x, 1)
    if w == "W4":
        ps = [A[f"p{i}"].requires_grad_() for i in range(6)]
        x, y = A["x"], A["y"]
        opt = torch.optim.Adam(ps, lr=1e-3)

        def step():
            opt.zero_grad()
            h = x
            for l in range(3):
                h = F.linear(h, ps[2 * l], ps[2 * l + 1])
                if l < 2:
                    h = torch.relu(h)
            loss = F.cross_entropy(h, y)
            loss.backward()
            opt.step()
            return loss.item()

        return step
    if w == "W5":
        x = A["x"].requires_grad_()
        wt = A["w"].requires_grad_()
        gy = A["gy"]

        def conv():
            y = F.conv2d(x, wt, None, padding=1)
            return torch.autograd.grad([y], [x, wt], [gy])

        return conv
    if w == "W6":
        return w6(c, A)
    raise ValueError(f"unknown workload {w}")


def w6(c, A):
    cfg = c["params"]
    B, T, V, d, H, ff, L = cfg["batch"], cfg["seq"], cfg["vocab"], cfg["d"], cfg["heads"], cfg["ff"], cfg["layers"]

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = torch.nn.Embedding(V, d)
            self.pos = torch.nn.Parameter(torch.zeros(T, d))
            layer = torch.nn.TransformerEncoderLayer(d, H, ff, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, L, norm=torch.nn.LayerNorm(d), enable_nested_tensor=False)
            self.head = torch.nn.Linear(d, V)

        def forward(self, ids, mask):
            return self.head(self.encoder(self.tok(ids) + self.pos, mask=mask))

    m = Model()
    m.load_state_dict({k[len("param:"):]: v for k, v in A.items() if k.startswith("param:")})
    mask = torch.triu(torch.full((T, T), float("-inf")), 1)
    ids, y = A["x"], A["y"].reshape(-1)
    opt = torch.optim.Adam(m.parameters(), lr=cfg["lr"])

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(m(ids, mask).reshape(B * T, V), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def measure(run, runs_wanted, budget):
    once = math.inf
    w0 = time.perf_counter()
    w = 0
    while w < 10 and (w < 2 or (time.perf_counter() - w0) * 1000 < 1000) and (w < 1 or once * 3 < budget):
        t0 = time.perf_counter()
        run()
        once = min(once, (time.perf_counter() - t0) * 1000)
        w += 1
    runs = max(1, min(runs_wanted, int(budget // max(once, 1e-3))))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    k = len(times) // 2
    med = times[k] if len(times) % 2 else (times[k - 1] + times[k]) / 2
    return med, runs


def main():
    print(json.dumps({"ready": torch.__version__, "blas": torch.__config__.show().count("BLAS")}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if "losses" in cmd:
                run = prepare(cmd["case"], load(cmd))
                print(json.dumps({"losses": [run() for _ in range(cmd["losses"])]}), flush=True)
                continue
            run = prepare(cmd["case"], load(cmd))
            ms, runs = measure(run, cmd["runs"], cmd["budgetMs"])
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({"ms": ms, "runs": runs, "rssMiB": rss}), flush=True)
        except Exception as e:  # noqa: BLE001
            print(json.dumps({"error": f"{type(e).__name__}: {e}".split("\n")[0]}), flush=True)


main()
