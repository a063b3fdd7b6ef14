// onnxruntime (npm's onnxruntime-node, on Debian's nodejs) runs every model `onnx_tool export DIR` wrote
// on the real Fashion-MNIST images beside it and compares its outputs with loom's predict:
//
//     node tests/onnx/run_onnxruntime.js DIR
//
// Fails (status 1) when any output differs by more than 1e-5 or a model does not load or run.
// onnxruntime-node is installed into tests/onnx/node_modules by cmake/install-deps.sh.
'use strict';
const fs = require('fs');
const path = require('path');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error('onnxruntime-node is missing: run cmake/install-deps.sh (it installs it into tests/onnx/node_modules)');
  process.exit(1);
}

function values(file, type) {
  const bytes = fs.readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return type === 'float64' ? new Float64Array(buffer) : new Float32Array(buffer);
}

async function main() {
  const dir = process.argv[2];
  const lines = fs.readFileSync(path.join(dir, 'manifest.txt'), 'utf8').split('\n').filter((l) => l.trim());
  if (lines.length < 8) throw new Error(`manifest lists ${lines.length} models, expected 8`);
  let failed = false;
  for (const line of lines) {
    const [model, input, inputShape, expected, outputShape, type] = line.split(' ');
    const session = await ort.InferenceSession.create(path.join(dir, model));
    const dims = inputShape.split(',').map(Number);
    const x = new ort.Tensor(type, values(path.join(dir, input), type), dims);
    const result = await session.run({ input: x });
    const y = result.output;
    const want = values(path.join(dir, expected), type);
    if (y.dims.join(',') !== outputShape || y.data.length !== want.length) {
      console.log(`${model}: output shape ${y.dims} but loom's is ${outputShape}  FAILED`);
      failed = true;
      continue;
    }
    let diff = 0;
    for (let i = 0; i < want.length; ++i) diff = Math.max(diff, Math.abs(y.data[i] - want[i]));
    const pass = diff <= 1e-5;
    failed = failed || !pass;
    console.log(`${model}: onnxruntime ${ort.env.versions ? ort.env.versions.common : ''} vs loom predict on ` +
                `${dims[0]} images: max abs diff ${diff.toExponential(2)}${pass ? '' : '  FAILED'}`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
