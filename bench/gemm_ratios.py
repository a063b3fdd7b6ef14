#!/usr/bin/env python3
"""loom against OpenBLAS (and Eigen) per GEMM shape, from one bench_gemm run, fastest and median.

On a shared machine (a cloud guest whose host lends its cores to others) a run is only ever slowed
down, by amounts that change from one second to the next, so the median of a few repetitions moves by
10-30% between runs. The fastest repetition of each benchmark is what the code does when nothing
interferes, and it is far steadier; this script prints both, as ratios against OpenBLAS measured in
the same process (random interleaving spreads every library's repetitions over the whole run).

    ./build/bench/bench_gemm --benchmark_repetitions=10 --benchmark_min_time=0.1 \\
        --benchmark_enable_random_interleaving=true --benchmark_filter='/threads:2/' \\
        --benchmark_out=gemm.json --benchmark_out_format=json
    python3 bench/gemm_ratios.py gemm.json

Set LOOM_ISA=avx2 and OPENBLAS_CORETYPE=Haswell (or SkylakeX for AVX-512) on the bench_gemm command to
choose the paths compared.
"""
import argparse
import json
import statistics
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json", help="what bench_gemm wrote with --benchmark_out_format=json ('-' for stdin)")
    args = parser.parse_args()
    with (sys.stdin if args.json == "-" else open(args.json)) as f:
        report = json.load(f)

    # name: library/shape/threads:N/real_time; one entry per repetition (aggregates skipped).
    times = {}
    for run in report["benchmarks"]:
        if run.get("run_type", "iteration") != "iteration":
            continue
        library, shape, threads = run["name"].split("/")[:3]
        times.setdefault((shape, threads), {}).setdefault(library, []).append(run["real_time"])
    if not times:
        sys.exit("no repetitions in the report: run bench_gemm without --benchmark_report_aggregates_only")

    context = report.get("context", {})
    print(f"{context.get('host_name', '')} {context.get('date', '')}: loom time against each library's, "
          "ratio > 1 means loom is faster")
    print(f"{'shape':<22} {'threads':<10} {'reps':>4}  {'fastest':>8} {'median':>8}  library")
    below = []
    for (shape, threads), by_library in sorted(times.items()):
        loom = by_library.get("loom")
        if not loom:
            continue
        for library, other in sorted(by_library.items()):
            if library == "loom":
                continue
            fastest = min(other) / min(loom)
            median = statistics.median(other) / statistics.median(loom)
            print(f"{shape:<22} {threads:<10} {len(loom):>4}  {fastest:>8.2f} {median:>8.2f}  {library}")
            if library == "openblas" and fastest < 1.0:
                below.append(f"{shape} ({threads}) {fastest:.2f}")
    print("fastest below OpenBLAS: " + (", ".join(below) if below else "none"))


if __name__ == "__main__":
    main()
