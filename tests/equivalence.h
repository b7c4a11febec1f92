#ifndef DEFERRED_TESTS_EQUIVALENCE_H_
#define DEFERRED_TESTS_EQUIVALENCE_H_

#include <cstddef>
#include <string>

#include "deferred/nn/module.h"
#include "fake_tensor/region.h"
#include "fake_tensor/tensor.h"
#include "gtest/gtest.h"

namespace deferred {

// Whether two real tensors have the same sizes, dtype and element bytes (row-major,
// whatever their strides); NaNs compare by their bits.
::testing::AssertionResult TensorsBitwiseEqual(const Tensor& expected, const Tensor& actual);

// As TensorsBitwiseEqual, except that two NaNs are equal whatever their signs and
// payloads: the device-equivalence contract (docs/ARCHITECTURE.md). IEEE 754 leaves a NaN
// result's bits to the hardware (x86 passes an operand's payload on, NVIDIA GPUs return
// one canonical NaN), and even one CPU build's vectorized loops may pick either operand's.
::testing::AssertionResult TensorsEqualUpToNanBits(const Tensor& expected, const Tensor& actual);

// Whether the element of `dtype` at `bytes` is a NaN.
bool IsNanElement(const std::byte* bytes, DType dtype);

// The slice `region` of a tensor, as a view sharing its storage.
Tensor SliceOf(const Tensor& t, const Region& region);

// The SHA-256 (hex) of a real tensor's element bytes in row-major order: a value checksum
// that two processes can compare.
std::string TensorSha256(const Tensor& t);

// Whether two modules have the same parameter and buffer names, in the same order, with
// bitwise equal tensors; the failure names the first tensor that differs and where.
::testing::AssertionResult ModulesBitwiseEqual(const nn::Module& expected,
                                               const nn::Module& actual);

}  // namespace deferred

#endif  // DEFERRED_TESTS_EQUIVALENCE_H_
