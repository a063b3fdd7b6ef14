#!/usr/bin/env python3
"""The ONNX checker of Debian's python3-onnx on every model `onnx_tool export DIR` wrote.

    /usr/bin/python3 tests/onnx/check_models.py DIR

Each model must pass onnx.checker.check_model(m, full_check=True) (which includes strict shape
inference), declare IR version 7 and opset 13, and have one input named `input` and one output named
`output` whose batch dimension is symbolic. Exits with status 1 otherwise.
"""
import sys
from pathlib import Path

import onnx


def main():
    directory = Path(sys.argv[1])
    lines = (directory / "manifest.txt").read_text().split()
    models = [w for w in lines if w.endswith(".onnx")]
    if len(models) < 8:
        sys.exit(f"{directory}/manifest.txt lists {len(models)} models, expected 8")
    for name in models:
        model = onnx.load(str(directory / name))
        onnx.checker.check_model(model, full_check=True)
        problems = []
        if model.ir_version != 7:
            problems.append(f"IR version {model.ir_version}")
        opsets = {o.domain: o.version for o in model.opset_import}
        if opsets != {"": 13}:
            problems.append(f"opsets {opsets}")
        graph = model.graph
        if [i.name for i in graph.input] != ["input"] or [o.name for o in graph.output] != ["output"]:
            problems.append("input/output names")
        for value in list(graph.input) + list(graph.output):
            if not value.type.tensor_type.shape.dim[0].dim_param:
                problems.append(f"{value.name}: fixed batch dimension")
        if problems:
            sys.exit(f"{name}: " + ", ".join(problems))
        print(f"{name}: onnx {onnx.__version__} checker (full_check) passed; nodes "
              + " ".join(n.op_type for n in graph.node))


if __name__ == "__main__":
    main()
