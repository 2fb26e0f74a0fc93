"""PyTorch side of `npm run bench`: builds each workload on request and times it.

Reads one JSON command per line on stdin and answers one JSON line on stdout, so the Node driver can
interleave PyTorch samples with the other frameworks' in a single invocation.
Run with Debian's /usr/bin/python3 (python3-torch, OpenBLAS); two threads as on the target machine.
"""
import json
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
work = {}


def build(w):
    kind = w["kind"]
    if kind == "sgemm":
        a = torch.rand(w["m"], w["k"])
        b = torch.rand(w["k"], w["n"])
        return lambda: torch.mm(a, b)
    if kind in ("conv", "convBackward"):
        n, c, h = w["n"], w["c"], w["h"]
        x = torch.randn(n, c, h, h, requires_grad=kind == "convBackward")
        wt = torch.randn(c, c, 3, 3, requires_grad=kind == "convBackward")
        if kind == "conv":
            def f():
                with torch.no_grad():
                    return torch.nn.functional.conv2d(x, wt, padding=1)
            return f
        gy = torch.randn(n, c, h, h)

        def fb():
            y = torch.nn.functional.conv2d(x, wt, padding=1)
            gx, gw = torch.autograd.grad(y, (x, wt), gy)
            return gx
        return fb
    if kind == "add":
        a = torch.rand(w["size"])
        b = torch.rand(w["size"])
        return lambda: a + b
    if kind in ("softmax", "softmaxBackward"):
        x = torch.randn(w["rows"], w["cols"], requires_grad=kind == "softmaxBackward")
        if kind == "softmax":
            def s():
                with torch.no_grad():
                    return torch.softmax(x, -1)
            return s
        gy = torch.randn(w["rows"], w["cols"])

        def sb():
            y = torch.softmax(x, -1)
            (gx,) = torch.autograd.grad(y, (x,), gy)
            return gx
        return sb
    raise ValueError(kind)


for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "setup":
        work[cmd["id"]] = build(cmd["workload"])
        reply = {"ok": True}
    elif cmd["op"] == "run":
        f = work[cmd["id"]]
        clock = time.process_time if cmd.get("cpu") else time.perf_counter
        t0 = clock()
        for _ in range(cmd["reps"]):
            f()
        reply = {"seconds": (clock() - t0) / cmd["reps"]}
    elif cmd["op"] == "info":
        reply = {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "blas": next((l.strip() for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l), ""),
        }
    else:
        reply = {"error": "unknown op"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
