#pragma once

namespace loom {

// Whether a GEMM operand is used as stored (No) or transposed (Yes), as cblas' CblasNoTrans/CblasTrans.
enum class Transpose { No, Yes };

}  // namespace loom
