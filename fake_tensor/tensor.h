#ifndef DEFERRED_FAKE_TENSOR_TENSOR_H_
#define DEFERRED_FAKE_TENSOR_TENSOR_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "fake_tensor/call_site.h"
#include "fake_tensor/device.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/error.h"
#include "fake_tensor/scalar.h"
#include "fake_tensor/shape.h"
#include "fake_tensor/storage.h"

namespace deferred {

// Sizes, strides (in elements) and storage offset: where a tensor's elements lie in its
// storage. View ops compute a new layout over the same storage.
struct TensorLayout {
  Shape sizes;
  Shape strides;
  int64_t storage_offset = 0;
};

// The shared state behind Tensor handles: a layout over a storage, and a dtype.
class TensorImpl {
 public:
  TensorImpl(Storage storage, TensorLayout layout, DType dtype)
      : storage_(std::move(storage)), layout_(std::move(layout)), dtype_(dtype) {}

  const Storage& storage() const { return storage_; }
  const TensorLayout& layout() const { return layout_; }
  DType dtype() const { return dtype_; }

 private:
  Storage storage_;
  TensorLayout layout_;
  DType dtype_;
};

// A cheap, copyable handle to a TensorImpl: copies share the same tensor (as in PyTorch).
// A tensor is real (its storage has bytes), fake (no bytes, reports the device it is meant
// for) or meta (no bytes, on the meta device). Data access on a tensor without bytes throws
// `Error` (FailedPrecondition).
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }

  // Metadata. Each accessor throws `Error` (InvalidArgument) on an undefined tensor.
  const Shape& sizes() const { return Impl().layout().sizes; }
  const Shape& strides() const { return Impl().layout().strides; }
  int64_t storage_offset() const { return Impl().layout().storage_offset; }
  const TensorLayout& layout() const { return Impl().layout(); }
  // Size and stride of a possibly negative dim.
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(sizes().size()); }
  int64_t numel() const { return NumElements(sizes()); }
  DType dtype() const { return Impl().dtype(); }
  Device device() const { return Impl().storage()->device(); }
  const Storage& storage() const { return Impl().storage(); }

  // True when the strides are row-major for the sizes (dims of size 1 ignored), or there
  // are no elements.
  bool is_contiguous() const;
  bool has_data() const { return storage()->has_data(); }
  bool is_meta() const { return device().is_meta(); }
  // No bytes yet, but meant for a real device: a tensor recorded by deferred_init.
  bool is_fake() const { return !has_data() && !is_meta(); }
  // Same TensorImpl: one tensor, not merely equal values.
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // Pointer to the first element, on the host. Throws if there is no data, the data is on
  // an accelerator (copy it with to(Device::CPU())), or T is not the dtype.
  template <typename T>
  T* data_ptr() const {
    return DataPtr<T>("data_ptr");
  }

  // The element at `index` (one coordinate per dim). Throws like data_ptr, or if `index`
  // has the wrong length or is out of range. Reading (at, item, to_vector, to_bytes) a
  // tensor on an accelerator copies it to the host first; writing (set) refuses it.
  template <typename T>
  T at(absl::Span<const int64_t> index) const {
    if (OnAccelerator()) return to(Device::CPU()).at<T>(index);
    return DataPtr<T>("at")[ElementOffset("at", index)];
  }
  template <typename T>
  void set(absl::Span<const int64_t> index, T value) const {
    DataPtr<T>("set")[ElementOffset("set", index)] = value;
  }

  // The single element of a one-element tensor.
  template <typename T>
  T item() const {
    if (OnAccelerator()) return to(Device::CPU()).item<T>();
    const T* data = DataPtr<T>("item");
    if (numel() != 1) {
      ThrowError("item: tensor of shape %s has %d elements, expected 1", ShapeToString(sizes()),
                 numel());
    }
    return data[0];
  }

  // All elements in row-major order of the sizes, whatever the strides.
  template <typename T>
  std::vector<T> to_vector() const {
    if (OnAccelerator()) return to(Device::CPU()).to_vector<T>();
    const T* base = DataPtr<T>("to_vector");
    std::vector<T> out;
    out.reserve(numel());
    ForEachElementOffset([&](int64_t offset) { out.push_back(base[offset]); });
    return out;
  }

  // The bytes of all elements in row-major order of the sizes, whatever the strides.
  // Throws like data_ptr when there is no data.
  std::string to_bytes() const;

  // This tensor on `device`: itself when it is there, else a tensor of the same layout
  // over a copy of its whole storage (a view's copy holds the bytes around it too).
  // Throws `Error`: FailedPrecondition without data, InvalidArgument for the meta device,
  // Unavailable for a device this process cannot use.
  Tensor to(Device device) const;

  // "Tensor(shape=[2, 3], dtype=float32, device=cpu)", with ", fake" or ", strides=..."
  // where they apply. Metadata only: never reads data.
  std::string ToString() const;

  // Calls fn(offset) with each element's offset from data_ptr(), in row-major order.
  template <typename Fn>
  void ForEachElementOffset(Fn&& fn) const {
    const int64_t n = numel();
    if (n == 0) return;
    const int64_t ndim = dim();
    std::vector<int64_t> index(ndim, 0);
    int64_t offset = 0;
    for (int64_t i = 0; i < n; ++i) {
      fn(offset);
      for (int64_t d = ndim - 1; d >= 0; --d) {
        if (++index[d] < sizes()[d]) {
          offset += strides()[d];
          break;
        }
        offset -= strides()[d] * (sizes()[d] - 1);
        index[d] = 0;
      }
    }
  }

  // The ops as methods, in PyTorch's spelling: `w.narrow(0, 8, 16).normal_(0, 0.5)`
  // records and runs exactly as `normal_(narrow(w, 0, 8, 16), 0, 0.5)` does, with the
  // caller's line as its call site. Each method is its free function in
  // fake_tensor/ops/, whose header documents it. They are defined by
  // //fake_tensor/ops:tensor_methods, which a program calling them links (//deferred
  // does), as PyTorch's Tensor methods are defined by its operator library.

  // Elementwise arithmetic (fake_tensor/ops/elementwise.h).
  Tensor add(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor add(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor sub(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor sub(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor mul(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor mul(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor div(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor div(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor pow(const Tensor& exponent, CallSite site = CallSite::Here()) const;
  Tensor pow(Scalar exponent, CallSite site = CallSite::Here()) const;
  Tensor maximum(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor minimum(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor add_(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor add_(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor sub_(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor sub_(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor mul_(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor mul_(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor div_(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor div_(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor pow_(const Tensor& exponent, CallSite site = CallSite::Here()) const;
  Tensor pow_(Scalar exponent, CallSite site = CallSite::Here()) const;

  // Elementwise functions and their in-place forms.
  Tensor neg(CallSite site = CallSite::Here()) const;
  Tensor abs(CallSite site = CallSite::Here()) const;
  Tensor exp(CallSite site = CallSite::Here()) const;
  Tensor log(CallSite site = CallSite::Here()) const;
  Tensor sqrt(CallSite site = CallSite::Here()) const;
  Tensor rsqrt(CallSite site = CallSite::Here()) const;
  Tensor sin(CallSite site = CallSite::Here()) const;
  Tensor cos(CallSite site = CallSite::Here()) const;
  Tensor tanh(CallSite site = CallSite::Here()) const;
  Tensor sigmoid(CallSite site = CallSite::Here()) const;
  Tensor erf(CallSite site = CallSite::Here()) const;
  Tensor log2(CallSite site = CallSite::Here()) const;
  Tensor exp2(CallSite site = CallSite::Here()) const;
  Tensor expm1(CallSite site = CallSite::Here()) const;
  Tensor log1p(CallSite site = CallSite::Here()) const;
  Tensor reciprocal(CallSite site = CallSite::Here()) const;
  Tensor floor(CallSite site = CallSite::Here()) const;
  Tensor ceil(CallSite site = CallSite::Here()) const;
  Tensor round(CallSite site = CallSite::Here()) const;
  Tensor sign(CallSite site = CallSite::Here()) const;
  Tensor neg_(CallSite site = CallSite::Here()) const;
  Tensor abs_(CallSite site = CallSite::Here()) const;
  Tensor exp_(CallSite site = CallSite::Here()) const;
  Tensor log_(CallSite site = CallSite::Here()) const;
  Tensor sqrt_(CallSite site = CallSite::Here()) const;
  Tensor rsqrt_(CallSite site = CallSite::Here()) const;
  Tensor sin_(CallSite site = CallSite::Here()) const;
  Tensor cos_(CallSite site = CallSite::Here()) const;
  Tensor tanh_(CallSite site = CallSite::Here()) const;
  Tensor sigmoid_(CallSite site = CallSite::Here()) const;
  Tensor erf_(CallSite site = CallSite::Here()) const;
  Tensor log2_(CallSite site = CallSite::Here()) const;
  Tensor exp2_(CallSite site = CallSite::Here()) const;
  Tensor expm1_(CallSite site = CallSite::Here()) const;
  Tensor log1p_(CallSite site = CallSite::Here()) const;
  Tensor reciprocal_(CallSite site = CallSite::Here()) const;
  Tensor floor_(CallSite site = CallSite::Here()) const;
  Tensor ceil_(CallSite site = CallSite::Here()) const;
  Tensor round_(CallSite site = CallSite::Here()) const;
  Tensor sign_(CallSite site = CallSite::Here()) const;
  Tensor clamp(Scalar min, Scalar max, CallSite site = CallSite::Here()) const;
  Tensor clamp_(Scalar min, Scalar max, CallSite site = CallSite::Here()) const;

  // Comparisons (bool results).
  Tensor eq(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor eq(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor ne(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor ne(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor lt(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor lt(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor le(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor le(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor gt(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor gt(Scalar other, CallSite site = CallSite::Here()) const;
  Tensor ge(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor ge(Scalar other, CallSite site = CallSite::Here()) const;

  // Casts, fills and copies.
  Tensor masked_fill(const Tensor& mask, Scalar value, CallSite site = CallSite::Here()) const;
  Tensor masked_fill_(const Tensor& mask, Scalar value, CallSite site = CallSite::Here()) const;
  Tensor to(DType dtype, CallSite site = CallSite::Here()) const;
  Tensor fill_(Scalar value, CallSite site = CallSite::Here()) const;
  Tensor zero_(CallSite site = CallSite::Here()) const;
  Tensor copy_(const Tensor& src, CallSite site = CallSite::Here()) const;

  // Random fills in place (fake_tensor/ops/random.h).
  Tensor uniform_(double from = 0.0, double to = 1.0, CallSite site = CallSite::Here()) const;
  Tensor normal_(double mean = 0.0, double std = 1.0, CallSite site = CallSite::Here()) const;
  Tensor random_(int64_t from, int64_t to, CallSite site = CallSite::Here()) const;
  Tensor random_(int64_t to, CallSite site = CallSite::Here()) const;
  Tensor random_(CallSite site = CallSite::Here()) const;
  Tensor bernoulli_(double p = 0.5, CallSite site = CallSite::Here()) const;

  // Views (fake_tensor/ops/views.h).
  Tensor view(const Shape& sizes, CallSite site = CallSite::Here()) const;
  Tensor reshape(const Shape& sizes, CallSite site = CallSite::Here()) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length,
                CallSite site = CallSite::Here()) const;
  Tensor select(int64_t dim, int64_t index, CallSite site = CallSite::Here()) const;
  Tensor transpose(int64_t dim0, int64_t dim1, CallSite site = CallSite::Here()) const;
  Tensor permute(const Shape& dims, CallSite site = CallSite::Here()) const;
  Tensor unsqueeze(int64_t dim, CallSite site = CallSite::Here()) const;
  Tensor squeeze(CallSite site = CallSite::Here()) const;
  Tensor squeeze(int64_t dim, CallSite site = CallSite::Here()) const;
  Tensor expand(const Shape& sizes, CallSite site = CallSite::Here()) const;
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1,
                  CallSite site = CallSite::Here()) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1,
                 CallSite site = CallSite::Here()) const;
  Tensor t(CallSite site = CallSite::Here()) const;
  Tensor contiguous(CallSite site = CallSite::Here()) const;
  Tensor clone(CallSite site = CallSite::Here()) const;

  // Shape ops and linear algebra (fake_tensor/ops/shape_ops.h).
  Tensor repeat(const Shape& repeats, CallSite site = CallSite::Here()) const;
  Tensor tril(int64_t diagonal = 0, CallSite site = CallSite::Here()) const;
  Tensor triu(int64_t diagonal = 0, CallSite site = CallSite::Here()) const;
  Tensor tril_(int64_t diagonal = 0, CallSite site = CallSite::Here()) const;
  Tensor triu_(int64_t diagonal = 0, CallSite site = CallSite::Here()) const;
  Tensor outer(const Tensor& other, CallSite site = CallSite::Here()) const;
  Tensor matmul(const Tensor& other, CallSite site = CallSite::Here()) const;

  // Reductions (fake_tensor/ops/reductions.h): over all elements, or over `dims`.
  Tensor sum(CallSite site = CallSite::Here()) const;
  Tensor sum(const Shape& dims, bool keepdim = false, CallSite site = CallSite::Here()) const;
  Tensor mean(CallSite site = CallSite::Here()) const;
  Tensor mean(const Shape& dims, bool keepdim = false, CallSite site = CallSite::Here()) const;
  Tensor var(int64_t correction = 1, CallSite site = CallSite::Here()) const;
  Tensor var(const Shape& dims, bool keepdim = false, int64_t correction = 1,
             CallSite site = CallSite::Here()) const;
  // So that `t.var({1})` reduces dim 1 rather than reading {1} as the correction.
  Tensor var(std::initializer_list<int64_t> dims, bool keepdim = false, int64_t correction = 1,
             CallSite site = CallSite::Here()) const;
  Tensor std(int64_t correction = 1, CallSite site = CallSite::Here()) const;
  Tensor std(const Shape& dims, bool keepdim = false, int64_t correction = 1,
             CallSite site = CallSite::Here()) const;
  Tensor std(std::initializer_list<int64_t> dims, bool keepdim = false, int64_t correction = 1,
             CallSite site = CallSite::Here()) const;
  Tensor min(CallSite site = CallSite::Here()) const;
  Tensor min(const Shape& dims, bool keepdim = false, CallSite site = CallSite::Here()) const;
  Tensor max(CallSite site = CallSite::Here()) const;
  Tensor max(const Shape& dims, bool keepdim = false, CallSite site = CallSite::Here()) const;
  Tensor norm(double p = 2.0, CallSite site = CallSite::Here()) const;
  Tensor norm(double p, const Shape& dims, bool keepdim = false,
              CallSite site = CallSite::Here()) const;
  Tensor cumsum(int64_t dim, CallSite site = CallSite::Here()) const;
  Tensor argsort(int64_t dim = -1, bool descending = false,
                 CallSite site = CallSite::Here()) const;

  TensorImpl* impl() const { return impl_.get(); }

 private:
  const TensorImpl& Impl() const {
    if (impl_ == nullptr) ThrowUndefined();
    return *impl_;
  }
  [[noreturn]] static void ThrowUndefined();
  // Has data, on a device other than the host.
  bool OnAccelerator() const { return defined() && has_data() && !device().is_cpu(); }
  // Throws unless the tensor has data of dtype `expected`; `what` names the accessor.
  void CheckReadable(std::string_view what, DType expected) const;
  // data_ptr for the accessor `what`.
  template <typename T>
  T* DataPtr(std::string_view what) const {
    CheckReadable(what, DTypeOf<T>());
    return reinterpret_cast<T*>(storage()->data()) + storage_offset();
  }
  // Offset from data_ptr() of the element at `index`; throws naming `what` if invalid.
  int64_t ElementOffset(std::string_view what, absl::Span<const int64_t> index) const;

  std::shared_ptr<TensorImpl> impl_;
};

// The bytes of a contiguous tensor of `sizes` and `dtype`. Throws `Error`
// (InvalidArgument) naming `what` when a size is negative, the bytes do not fit in int64,
// or the contiguous strides overflow (possible only with a size-0 dim): the checks every
// new tensor passes, so that no size, stride or byte count of a tensor can wrap.
int64_t CheckedByteSize(absl::Span<const int64_t> sizes, DType dtype, std::string_view what);

// Throws `Error` (InvalidArgument) naming `what` unless `layout` is a valid layout of
// elements of `dtype` within a storage of `storage_nbytes` bytes: as many strides as
// sizes, CheckedByteSize passes for the sizes, and (for a layout with elements) every
// element offset is within the storage, computed without overflow.
void CheckLayoutInStorage(const TensorLayout& layout, DType dtype, int64_t storage_nbytes,
                          std::string_view what);

// A tensor over `storage` with `layout`. Throws `Error` for a null storage or unless
// CheckLayoutInStorage passes.
Tensor MakeTensor(Storage storage, TensorLayout layout, DType dtype);

// A contiguous layout of `sizes` at offset 0.
TensorLayout ContiguousLayout(absl::Span<const int64_t> sizes);

// A view sharing `base`'s storage with another layout; throws like MakeTensor.
Tensor MakeView(const Tensor& base, TensorLayout layout);

// A new contiguous tensor of `sizes`: with uninitialized bytes on a real device, without
// bytes on the meta device, or fake (no bytes, reporting `device`) when `fake` is true.
// Throws `Error` when CheckedByteSize fails or the bytes cannot be allocated.
Tensor AllocateTensor(absl::Span<const int64_t> sizes, DType dtype, Device device,
                      bool fake = false);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_TENSOR_H_
