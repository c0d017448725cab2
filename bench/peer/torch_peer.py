"""Peer timings for bench/kernels.ts: PyTorch (OpenBLAS) f32 GEMM and f32 matrix-vector.

Usage: python3 torch_peer.py THREADS MIN_SECONDS
Prints one JSON object: {"torch": version, "threads": n, "results": {case: value}} where GEMM cases
are GFLOP/s (torch.mm) and matrix-vector cases GB/s of weight bytes read (torch.mv). Same timing rule as the TS side:
batches of calls lasting at least MIN_SECONDS / 7, best batch of 7.
"""
import json
import sys
import time

import torch


def best_rate(fn, work):
    fn()
    fn()
    t = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t, 1e-7)
    budget = float(sys.argv[2]) / 7
    reps = max(1, int(budget / one))
    best = 0.0
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = (time.perf_counter() - t) / reps
        best = max(best, work / dt / 1e9)
    return best


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    res = {}
    for n in (256, 1024, 2048):
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        c = torch.empty(n, n)
        res[f"gemm {n}"] = best_rate(lambda: torch.mm(a, b, out=c), 2 * n ** 3)
    for n, k in ((4096, 4096), (11008, 4096)):
        w = torch.randn(n, k)
        x = torch.randn(1, k)
        y = torch.empty(1, n)
        # y = x · Wᵀ, the Linear layout; bytes = weight bytes read.
        res[f"gemm 1x{k}x{n}"] = best_rate(lambda: torch.mm(x, w.t(), out=y), 2 * n * k)
        # torch.mv is torch's fastest f32 matrix-vector path (sgemv); torch.mm with M = 1 is slower.
        xv = x.view(k)
        yv = y.view(n)
        res[f"matvec {n}x{k}"] = best_rate(lambda: torch.mv(w, xv, out=yv), 4 * n * k)
    print(json.dumps({"torch": torch.__version__, "threads": threads, "results": res}))


if __name__ == "__main__":
    main()
