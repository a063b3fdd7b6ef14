#!/usr/bin/env python3
"""The seed notebook's nnet fit in PyTorch, for a side-by-side with loom's examples/nnet.

Same data (Debian's dataset-fashion-mnist), same model and criterion as R's nnet and loom's example:
a 784-50-10 MLP with logistic hidden units and softmax outputs, every weight and bias drawn from
uniform(-0.7, 0.7), minimising the summed cross-entropy + decay * (sum of squares of all 39,760
parameters) over the whole training set (full batch) with torch.optim.LBFGS (history 10, strong Wolfe
line search), float32. Prints the fit time, the iterations and function evaluations, the final
criterion, the test accuracy and the peak memory.

    apt-get install python3-torch python3-numpy
    python3 bench/pytorch_nnet.py --decay 0.5 --maxit 300 --threads 2
    python3 bench/pytorch_nnet.py --mode cv --decays 0.001,0.1,1 --maxit 100   # a (reduced) CV grid

--mode cv runs caret's 5-fold cross-validation over the decays (folds stratified by class, one fit per
decay and fold, one at a time with all threads), then refits the best decay on all training images.
"""
import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pytorch_lenet import read_idx


def load(directory, prefix):
    images = read_idx(Path(directory) / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(Path(directory) / f"{prefix}-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def mlp(size, rang, generator):
    model = nn.Sequential(nn.Linear(784, size), nn.Sigmoid(), nn.Linear(size, 10))
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-rang, rang, generator=generator)
    return model


def fit(x, y, decay, maxit, history, size, seed):
    """One full-batch L-BFGS fit; returns the model, seconds, iterations, evaluations and criterion."""
    model = mlp(size, 0.7, torch.Generator().manual_seed(seed))
    params = list(model.parameters())
    # Zero tolerances and a generous evaluation budget: run maxit iterations, as nnet and loom do.
    optimizer = torch.optim.LBFGS(params, lr=1, max_iter=maxit, max_eval=25 * maxit,
                                  history_size=history, tolerance_grad=0.0, tolerance_change=0.0,
                                  line_search_fn="strong_wolfe")

    def criterion():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y, reduction="sum")
        loss = loss + decay * sum((p * p).sum() for p in params)
        loss.backward()
        return loss

    start = time.perf_counter()
    optimizer.step(criterion)
    seconds = time.perf_counter() - start
    state = optimizer.state[params[0]]
    with torch.no_grad():
        final = nn.functional.cross_entropy(model(x), y, reduction="sum") + decay * sum((p * p).sum() for p in params)
    return model, seconds, state["n_iter"], state["func_evals"], final.item()


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def stratified_folds(y, k, seed):
    """Fold index per sample: each class dealt round-robin over the folds in a shuffled order."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), dtype=np.int64)
    labels = y.numpy()
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        folds[members] = np.arange(len(members)) % k
    return torch.from_numpy(folds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["single", "cv"], default="single")
    parser.add_argument("--decay", type=float, default=0.5, help="weight decay for --mode single")
    parser.add_argument("--decays", default="", help="comma-separated decays for --mode cv "
                                                     "(default 10^seq(-3, 0, by = 0.25))")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--maxit", type=int, default=300)
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    x_train, y_train = load(args.data_dir, "train")
    x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]
    x_test, y_test = load(args.data_dir, "t10k")
    capability = os.environ.get("ATEN_CPU_CAPABILITY", "default")
    print(f"PyTorch {torch.__version__}, {args.threads} thread(s), ATEN_CPU_CAPABILITY {capability}; "
          f"{len(x_train)} training images")

    decay = args.decay
    if args.mode == "cv":
        decays = ([float(d) for d in args.decays.split(",")] if args.decays
                  else [10 ** (-3 + 0.25 * i) for i in range(13)])
        folds = stratified_folds(y_train, args.folds, args.seed)
        start = time.perf_counter()
        means = []
        for d in decays:
            scores = []
            for k in range(args.folds):
                held = folds == k
                model, seconds, iters, _, _ = fit(x_train[~held], y_train[~held], d, args.maxit, args.history,
                                                  args.size, args.seed + k)
                scores.append(accuracy(model, x_train[held], y_train[held]))
                print(f"decay {d:.6g} fold {k + 1}/{args.folds}: {seconds:.1f} s, {iters} iterations, "
                      f"accuracy {scores[-1]:.4f}", flush=True)
            means.append(float(np.mean(scores)))
        grid_seconds = time.perf_counter() - start
        decay = decays[int(np.argmax(means))]
        print(f"CV grid: {len(decays)} decays x {args.folds} folds in {grid_seconds:.1f} s; best decay {decay:.6g} "
              f"(accuracy {max(means):.4f})")

    model, seconds, iters, evals, final = fit(x_train, y_train, decay, args.maxit, args.history, args.size, args.seed)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fit: {seconds:.1f} s, {iters} iterations, {evals} evaluations, criterion {final:.6f} (decay {decay:g}); "
          f"test accuracy {accuracy(model, x_test, y_test):.4f}; peak memory {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
