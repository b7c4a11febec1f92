#ifndef DEFERRED_FAKE_TENSOR_TENSOR_H_
#define DEFERRED_FAKE_TENSOR_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "fake_tensor/device.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/error.h"
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

  const Shape& sizes() const { return impl_->layout().sizes; }
  const Shape& strides() const { return impl_->layout().strides; }
  int64_t storage_offset() const { return impl_->layout().storage_offset; }
  const TensorLayout& layout() const { return impl_->layout(); }
  // Size and stride of a possibly negative dim.
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(sizes().size()); }
  int64_t numel() const { return NumElements(sizes()); }
  DType dtype() const { return impl_->dtype(); }
  Device device() const { return impl_->storage()->device(); }
  const Storage& storage() const { return impl_->storage(); }

  // True when the strides are row-major for the sizes (dims of size 1 ignored), or there
  // are no elements.
  bool is_contiguous() const;
  bool has_data() const { return storage()->has_data(); }
  bool is_meta() const { return device().is_meta(); }
  // No bytes yet, but meant for a real device: a tensor recorded by deferred_init.
  bool is_fake() const { return !has_data() && !is_meta(); }
  // Same TensorImpl: one tensor, not merely equal values.
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // Pointer to the first element. Throws if there is no data or T is not the dtype.
  template <typename T>
  T* data_ptr() const {
    return DataPtr<T>("data_ptr");
  }

  // The element at `index` (one coordinate per dim). Throws like data_ptr, or if `index`
  // has the wrong length or is out of range.
  template <typename T>
  T at(absl::Span<const int64_t> index) const {
    return DataPtr<T>("at")[ElementOffset("at", index)];
  }
  template <typename T>
  void set(absl::Span<const int64_t> index, T value) const {
    DataPtr<T>("set")[ElementOffset("set", index)] = value;
  }

  // The single element of a one-element tensor.
  template <typename T>
  T item() const {
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
    const T* base = DataPtr<T>("to_vector");
    std::vector<T> out;
    out.reserve(numel());
    ForEachElementOffset([&](int64_t offset) { out.push_back(base[offset]); });
    return out;
  }

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

  TensorImpl* impl() const { return impl_.get(); }

 private:
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

// A tensor over `storage` with `layout`.
Tensor MakeTensor(Storage storage, TensorLayout layout, DType dtype);

// A contiguous layout of `sizes` at offset 0.
TensorLayout ContiguousLayout(absl::Span<const int64_t> sizes);

// A view sharing `base`'s storage with another layout.
Tensor MakeView(const Tensor& base, TensorLayout layout);

// A new contiguous tensor of `sizes`: with uninitialized bytes on a real device, without
// bytes on the meta device, or fake (no bytes, reporting `device`) when `fake` is true.
Tensor AllocateTensor(absl::Span<const int64_t> sizes, DType dtype, Device device,
                      bool fake = false);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_TENSOR_H_
