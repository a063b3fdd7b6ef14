#!/usr/bin/env python3
"""PyTorch's conv2d on LeNet's two convolutions, for a side-by-side with bench_layers' conv rows.

The same cases as bench/bench_layers.cpp: 5x5 windows, stride 1, same padding (2), float, on
28x28x1 -> 20 filters (conv:0) and 14x14x20 -> 50 filters (conv:1), batches 64 and 128. Forward is
torch.nn.functional.conv2d with bias; backward is the call autograd makes for it
(aten::convolution_backward), asked for what loom's Conv2D::backward computes in LeNet: the weight and
bias gradients, and the input gradient for conv:1 only (the first layer needs none). Rows are named
like Google Benchmark's (torch_conv_forward/conv:0/batch:64/real_time), wall time per call in ms, with
the same GFLOP/s count, so they can be put next to bench_layers' output.

    apt-get install python3-torch
    OMP_NUM_THREADS=1 ./build/bench/bench_layers --benchmark_filter='^(eigen_)?conv_(forward|backward)/'
    /usr/bin/python3 bench/pytorch_conv.py --threads 1
    /usr/bin/python3 bench/pytorch_conv.py --threads 2 --channels-last --filter backward

Torch itself reads two environment variables that decide which SIMD code runs; set them before
starting Python to compare ISAs: ATEN_CPU_CAPABILITY (default, avx2, avx512: ATen's own kernels, read
when torch is imported; 1.13 uses AVX2 unless told avx512) and ONEDNN_MAX_CPU_ISA (e.g. AVX2,
AVX512_CORE: the cap for oneDNN, which runs these convolutions; read on its first use). ONEDNN_VERBOSE=1
makes oneDNN print the kernel, e.g. jit:avx512_core, that each call runs.
"""
import argparse
import os
import re
import time

import torch
import torch.nn.functional as F

# (height = width, input channels, filters): bench_layers' conv_cases, indexed by the conv: argument.
CASES = [(28, 1, 20), (14, 20, 50)]
BATCHES = [64, 128]
KERNEL, PAD = 5, 2


def conv_flops(h, c, f, batch):
    """Multiply-adds of one 5x5 same convolution, counted as in bench_layers (2 per multiply-add)."""
    return 2.0 * batch * h * h * KERNEL * KERNEL * c * f


def cpu_capability():
    # torch.backends.cpu.get_cpu_capability() arrived after 1.13; older versions list it in their config.
    get = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    if get is not None:
        return get()
    match = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return match.group(1) if match else "unknown"


def conv_backend(x, w, b):
    # A private helper (1.11+) that names the implementation conv2d dispatches to, e.g. Mkldnn (oneDNN).
    select = getattr(torch._C, "_select_conv_backend", None)
    if select is None:
        return "unknown"
    return str(select(x, w, b, [1, 1], [PAD, PAD], [1, 1], False, [0, 0], 1)).split(".")[-1]


def time_per_call(fn, min_time):
    """Mean wall time of fn over at least min_time seconds, like Google Benchmark's real time."""
    fn()
    fn()  # warm-up: oneDNN generates its kernels and reorders on the first calls of a shape
    calls, elapsed, n = 0, 0.0, 1
    while elapsed < min_time:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed += time.perf_counter() - start
        calls += n
        n *= 2
    return elapsed / calls, calls


def default_threads():
    # What loom's kernels use by default: OpenMP's OMP_NUM_THREADS, else the CPUs this process may run on.
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else len(os.sched_getaffinity(0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="torch.set_num_threads (default: OMP_NUM_THREADS, else the CPU count, as loom)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds of timed calls per row")
    parser.add_argument("--filter", default="", help="only rows whose name matches this regular expression")
    parser.add_argument("--channels-last", action="store_true",
                        help="NHWC tensors (torch.channels_last) instead of PyTorch's default NCHW")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layout = torch.channels_last if args.channels_last else torch.contiguous_format
    x0 = torch.rand(1, CASES[1][1], CASES[1][0], CASES[1][0])
    w0 = torch.rand(CASES[1][2], CASES[1][1], KERNEL, KERNEL)
    env = " ".join(f"{name}={os.environ.get(name, 'unset')}" for name in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA"))
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU capability {cpu_capability()}, "
          f"conv backend {conv_backend(x0, w0, torch.rand(CASES[1][2]))}, "
          f"{'channels_last (NHWC)' if args.channels_last else 'contiguous (NCHW)'}; {env}")

    cases = [(kind, index, batch) for kind in ("forward", "backward") for index in range(len(CASES)) for batch in BATCHES]
    names = {case: f"torch_conv_{case[0]}/conv:{case[1]}/batch:{case[2]}/real_time" for case in cases}
    cases = [case for case in cases if re.search(args.filter, names[case])]
    if not cases:
        print(f"no row matches --filter {args.filter!r}")
        return
    width = max(len(names[case]) for case in cases) + 2
    rule = "-" * (width + 44)
    print(rule, f"{'Benchmark':<{width}}{'Time':>12}{'Iterations':>13}  UserCounters...", rule, sep="\n")
    for kind, index, batch in cases:
        h, c, f = CASES[index]
        x = (torch.rand(batch, c, h, h) * 2 - 1).contiguous(memory_format=layout)
        w = (torch.rand(f, c, KERNEL, KERNEL) * 2 - 1).contiguous(memory_format=layout)
        b = torch.rand(f) * 2 - 1
        if kind == "forward":
            def call():
                return F.conv2d(x, w, b, padding=PAD)
            flops = conv_flops(h, c, f, batch)
        else:
            g = (torch.rand(batch, f, h, h) * 2 - 1).contiguous(memory_format=layout)
            need_dx = index != 0  # as bench_layers' conv_backward: LeNet's first layer needs no dX
            mask = [need_dx, True, True]  # input, weight, bias gradients

            def call():
                return torch.ops.aten.convolution_backward(g, x, w, [f], [1, 1], [PAD, PAD], [1, 1], False, [0, 0],
                                                           1, mask)
            flops = (2 if need_dx else 1) * conv_flops(h, c, f, batch)
        with torch.no_grad():
            seconds, calls = time_per_call(call, args.min_time)
        print(f"{names[(kind, index, batch)]:<{width}}{seconds * 1e3:>9.3g} ms{calls:>13}  "
              f"GFLOP/s={flops / seconds / 1e9:.6g}/s", flush=True)

if __name__ == "__main__":
    main()
