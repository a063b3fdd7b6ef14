#pragma once
// ONNX in and out: loom::onnx::save(net, "model.onnx", options) and loom::onnx::load<float>("model.onnx").
// Header-only like the rest of loom: the protobuf wire format is read and written by wire.hpp, so this
// adds no link dependency. See docs/onnx.md for the operators, layouts and opsets.
#include "loom/onnx/export.hpp"
#include "loom/onnx/import.hpp"
