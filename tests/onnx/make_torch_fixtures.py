#!/usr/bin/env python3
"""PyTorch-trained models exported to ONNX, for `onnx_tool import DIR` (loom's importer) to check.

    /usr/bin/python3 tests/onnx/make_torch_fixtures.py DIR [--data-dir /usr/share/datasets/fashion-mnist]

Trains the seed's LeNet (bench/pytorch_lenet.py) and an MLP briefly on real Fashion-MNIST (so the
weights are not random noise), exports each with torch.onnx.export at opsets 11, 13 and 17 (batch axis
dynamic), and writes PyTorch's outputs on the 10,000 test images and its number of correct answers.
DIR/manifest.txt lists: onnx-file outputs-file correct-count image-count.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pytorch_lenet import lenet, load  # noqa: E402  (the seed's LeNet and its Fashion-MNIST reader)

OPSETS = (11, 13, 17)


class Affine(nn.Module):
    """x @ W + b with explicit parameters: exports as MatMul followed by Add (nn.Linear exports as Gemm)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * (1.0 / n_in) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), Affine(128, 64),
                         nn.Sigmoid(), nn.Linear(64, 10), nn.Softmax(dim=1))


def train(model, x, y, steps, batch=64):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for step in range(steps):
        i = (step * batch) % len(x)
        optimizer.zero_grad()
        out = model(x[i : i + batch])
        # The MLP ends in Softmax, LeNet in logits.
        loss = nn.functional.nll_loss(torch.log(out + 1e-9), y[i : i + batch]) if isinstance(model[-1], nn.Softmax) \
            else nn.functional.cross_entropy(out, y[i : i + batch])
        loss.backward()
        optimizer.step()
    model.eval()


class TinyCnn(nn.Module):
    """Conv (pads 1), ReLU, MaxPool, a reshape (Constant + Reshape), MatMul + Add and Softmax on (N, 2, 4, 4)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.affine = Affine(12, 4)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return torch.softmax(self.affine(x.reshape(-1, 12)), dim=1)


def write_fuzz_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    model = TinyCnn().eval()
    for opset in (11, 17):
        torch.onnx.export(model, torch.zeros(1, 2, 4, 4), str(out / f"torch_tiny_opset{opset}.onnx"),
                          opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--steps", type=int, default=100, help="Adam steps of 64 images per model")
    parser.add_argument("--fuzz-seeds", action="store_true",
                        help="instead, write tiny untrained exports (opsets 11 and 17) as seeds for tests/fuzz/corpus/onnx")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.fuzz_seeds:
        return write_fuzz_seeds(Path(args.out_dir))
    torch.set_num_threads(1)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_train, y_train = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "t10k")

    lines = []
    for name, model in (("lenet", lenet()), ("mlp", mlp())):
        train(model, x_train, y_train, args.steps)
        with torch.no_grad():
            y = model(x_test)
        correct = int((y.argmax(1) == y_test).sum())
        y.numpy().astype("<f4").tofile(out / f"{name}.torch")
        print(f"{name}: PyTorch {torch.__version__} test accuracy {correct / len(x_test):.4f} ({correct}/{len(x_test)})")
        for opset in OPSETS:
            path = out / f"{name}_opset{opset}.onnx"
            torch.onnx.export(model, x_test[:1], str(path), opset_version=opset, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
            lines.append(f"{path.name} {name}.torch {correct} {len(x_test)}")
    (out / "manifest.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
