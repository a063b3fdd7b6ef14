#!/usr/bin/env python3
"""The seed notebook's LeNet in PyTorch, for a side-by-side with loom's examples/lenet.

Same data (Debian's dataset-fashion-mnist, read from the .gz IDX files), same architecture
(conv 20@5x5 tanh same -> maxpool 2 -> conv 50@5x5 tanh same -> maxpool 2 -> dense 500 tanh ->
dense 10), Adam 1e-3, batch 128, shuffled, the test set as validation after every epoch. Prints the
time per epoch, 10,000-image inference time, test accuracy and peak memory, like loom's example.

    apt-get install python3-torch python3-numpy
    python3 bench/pytorch_lenet.py --epochs 10 --threads 2
    python3 bench/pytorch_lenet.py --epochs 10 --save-onnx pytorch_lenet.onnx   # then: build/examples/onnx_import
"""
import argparse
import gzip
import resource
import struct
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(directory, prefix):
    images = read_idx(Path(directory) / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(Path(directory) / f"{prefix}-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(50 * 7 * 7, 500), nn.Tanh(), nn.Linear(500, 10))


def accuracy(model, x, y, batch):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i : i + batch])
            loss += nn.functional.cross_entropy(out, y[i : i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i : i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-size", type=int, default=60000, help="train on the first N images (as lenet's option)")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--save-onnx", metavar="PATH", help="export the trained model to this ONNX file")
    parser.add_argument("--opset", type=int, default=13, help="ONNX opset of --save-onnx")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    x_train, y_train = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "t10k")
    x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]
    print(f"PyTorch {torch.__version__}, {args.threads} thread(s); data loaded in {time.perf_counter() - start:.2f} s")

    model = lenet()
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    epoch_times = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t = time.perf_counter()
        order = torch.randperm(len(x_train))
        total, correct = 0.0, 0
        for i in range(0, len(x_train), args.batch_size):
            idx = order[i : i + args.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            optimizer.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        val_loss, val_acc = accuracy(model, x_test, y_test, args.batch_size)
        epoch_times.append(time.perf_counter() - t)
        print(f"epoch {epoch}/{args.epochs}: {epoch_times[-1]:.1f} s - loss {total / len(x_train):.4f} - "
              f"accuracy {correct / len(x_train):.4f} - val_loss {val_loss:.4f} - val_accuracy {val_acc:.4f}", flush=True)

    t = time.perf_counter()
    accuracy(model, x_test, y_test, args.batch_size)
    inference = time.perf_counter() - t
    if args.save_onnx:
        model.eval()
        torch.onnx.export(model, x_test[:1], args.save_onnx, opset_version=args.opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
        print(f"saved {args.save_onnx} (opset {args.opset}); test accuracy {accuracy(model, x_test, y_test, args.batch_size)[1]:.4f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mean epoch {sum(epoch_times) / len(epoch_times):.1f} s (each including the validation pass); "
          f"inference of {len(x_test)} images {inference:.2f} s; peak memory {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
