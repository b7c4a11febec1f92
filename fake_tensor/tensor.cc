#include "fake_tensor/tensor.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "fake_tensor/checked_arithmetic.h"
#include "fake_tensor/device_memory.h"
#include "fake_tensor/module_path.h"

namespace deferred {

int64_t Tensor::size(int64_t dim) const { return sizes()[WrapDim(dim, this->dim(), "size")]; }

int64_t Tensor::stride(int64_t dim) const {
  return strides()[WrapDim(dim, this->dim(), "stride")];
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (sizes()[d] == 1) continue;
    if (strides()[d] != expected) return false;
    expected *= sizes()[d];
  }
  return true;
}

std::string Tensor::ToString() const {
  if (!defined()) return "Tensor(undefined)";
  std::string out = absl::StrCat("Tensor(shape=", ShapeToString(sizes()),
                                 ", dtype=", DTypeName(dtype()), ", device=", device().ToString());
  if (!is_contiguous() || storage_offset() != 0) {
    absl::StrAppend(&out, ", strides=", ShapeToString(strides()), ", offset=", storage_offset());
  }
  if (is_fake()) absl::StrAppend(&out, ", fake");
  absl::StrAppend(&out, ")");
  return out;
}

void Tensor::CheckReadable(std::string_view what, DType expected) const {
  if (!defined()) ThrowError("%s: the tensor is undefined", what);
  if (!has_data()) {
    ThrowErrorWithCode(absl::StatusCode::kFailedPrecondition,
                       "%s: cannot access the data of %s: it has no storage bytes "
                       "(materialize it first)%s",
                       what, ToString(), ModulePathSuffix());
  }
  if (!device().is_cpu()) {
    ThrowErrorWithCode(absl::StatusCode::kFailedPrecondition,
                       "%s: the data of %s is on %s, which the host cannot address: copy it "
                       "with to(Device::CPU())%s",
                       what, ToString(), device().ToString(), ModulePathSuffix());
  }
  if (dtype() != expected) {
    ThrowError("%s: tensor has dtype %s, accessed as %s", what, DTypeName(dtype()),
               DTypeName(expected));
  }
}

int64_t Tensor::ElementOffset(std::string_view what, absl::Span<const int64_t> index) const {
  if (static_cast<int64_t>(index.size()) != dim()) {
    ThrowError("%s: %d indices given for a %d-d tensor", what, index.size(), dim());
  }
  int64_t offset = 0;
  for (int64_t d = 0; d < dim(); ++d) {
    if (index[d] < 0 || index[d] >= sizes()[d]) {
      ThrowError("%s: index %d is out of range for dim %d of size %d", what, index[d], d,
                 sizes()[d]);
    }
    offset += index[d] * strides()[d];
  }
  return offset;
}

std::string Tensor::to_bytes() const {
  if (OnAccelerator()) return to(Device::CPU()).to_bytes();
  CheckReadable("to_bytes", dtype());
  const int64_t element = ElementSize(dtype());
  const char* base =
      reinterpret_cast<const char*>(storage()->data()) + storage_offset() * element;
  std::string bytes;
  bytes.reserve(static_cast<size_t>(numel() * element));
  ForEachElementOffset([&](int64_t offset) { bytes.append(base + offset * element, element); });
  return bytes;
}

Tensor Tensor::to(Device target) const {
  if (!defined()) ThrowUndefined();
  if (!has_data()) {
    ThrowErrorWithCode(absl::StatusCode::kFailedPrecondition,
                       "to(%s): %s has no storage bytes (materialize it first)%s",
                       target.ToString(), ToString(), ModulePathSuffix());
  }
  if (device() == target) return *this;
  if (target.is_meta()) ThrowError("to(meta): the meta device holds no data");
  const Device source = device();
  if (!source.is_cpu() && !target.is_cpu()) return to(Device::CPU()).to(target);
  Storage copy = AllocateStorage(storage()->nbytes(), target);
  const std::byte* from = storage()->data();
  std::byte* to = copy->data();
  const int64_t nbytes = storage()->nbytes();
  const auto check = [&](const absl::Status& status) {
    if (!status.ok()) {
      ThrowErrorWithCode(status.code(), "to(%s) of %s: %s", target.ToString(), ToString(),
                         status.message());
    }
  };
  if (nbytes > 0 && source.is_cpu()) {
    check(DeviceMemoryOf(target.type())->CopyFromHost(target.index(), from, to, nbytes));
  } else if (nbytes > 0) {
    check(DeviceMemoryOf(source.type())->CopyToHost(source.index(), from, to, nbytes));
  }
  return Tensor(std::make_shared<TensorImpl>(std::move(copy), layout(), dtype()));
}

void Tensor::ThrowUndefined() {
  ThrowError("the tensor is undefined (a default-constructed Tensor has no metadata)");
}

int64_t CheckedByteSize(absl::Span<const int64_t> sizes, DType dtype, std::string_view what) {
  // One pass over the sizes, as every new tensor and every op's outputs come through here.
  // The largest contiguous stride, that of dim 0, is the product of the other sizes (a
  // size-0 dim counted as 1); the bytes are 0 with a size-0 dim, whatever the others.
  int64_t bytes = ElementSize(dtype);
  int64_t leading_stride = 1;
  bool empty = false, bytes_overflow = false, strides_overflow = false;
  for (size_t d = 0; d < sizes.size(); ++d) {
    const int64_t size = sizes[d];
    if (size < 0) CheckSizesNonNegative(sizes, what);  // throws, naming this size
    empty |= size == 0;
    bytes_overflow = bytes_overflow || __builtin_mul_overflow(bytes, size, &bytes);
    if (d > 0) {
      strides_overflow = strides_overflow ||
                         __builtin_mul_overflow(leading_stride, std::max<int64_t>(size, 1),
                                                &leading_stride);
    }
  }
  if (bytes_overflow && !empty) {
    ThrowError("%s: a tensor of shape %s and dtype %s would hold more than 2^63 - 1 bytes",
               what, ShapeToString(sizes), DTypeName(dtype));
  }
  if (strides_overflow) {
    ThrowError("%s: the strides of shape %s overflow int64", what, ShapeToString(sizes));
  }
  return empty ? 0 : bytes;
}

void CheckLayoutInStorage(const TensorLayout& layout, DType dtype, int64_t storage_nbytes,
                          std::string_view what) {
  if (layout.sizes.size() != layout.strides.size()) {
    ThrowError("%s: %d sizes but %d strides", what, layout.sizes.size(), layout.strides.size());
  }
  CheckedByteSize(layout.sizes, dtype, what);
  if (std::find(layout.sizes.begin(), layout.sizes.end(), 0) != layout.sizes.end()) return;
  // The lowest and highest element offsets the layout reaches, where computable.
  std::optional<int64_t> lo = layout.storage_offset, hi = layout.storage_offset;
  for (size_t d = 0; d < layout.sizes.size() && lo && hi; ++d) {
    const std::optional<int64_t> extent = CheckedMul(layout.sizes[d] - 1, layout.strides[d]);
    if (!extent) {
      lo.reset();
      break;
    }
    std::optional<int64_t>& bound = *extent < 0 ? lo : hi;
    bound = CheckedAdd(*bound, *extent);
  }
  const std::optional<int64_t> end_element = hi ? CheckedAdd(*hi, 1) : std::nullopt;
  const std::optional<int64_t> end_byte =
      end_element ? CheckedMul(*end_element, ElementSize(dtype)) : std::nullopt;
  if (!lo || !end_byte || *lo < 0 || *end_byte > storage_nbytes) {
    ThrowError("%s: the layout (sizes %s, strides %s, offset %d) of %s elements reaches "
               "outside its storage of %d bytes",
               what, ShapeToString(layout.sizes), ShapeToString(layout.strides),
               layout.storage_offset, DTypeName(dtype), storage_nbytes);
  }
}

Tensor MakeTensor(Storage storage, TensorLayout layout, DType dtype) {
  if (storage == nullptr) ThrowError("tensor: no storage");
  CheckLayoutInStorage(layout, dtype, storage->nbytes(), "tensor");
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), std::move(layout), dtype));
}

TensorLayout ContiguousLayout(absl::Span<const int64_t> sizes) {
  return TensorLayout{Shape(sizes.begin(), sizes.end()), ContiguousStrides(sizes), 0};
}

Tensor MakeView(const Tensor& base, TensorLayout layout) {
  return MakeTensor(base.storage(), std::move(layout), base.dtype());
}

Tensor AllocateTensor(absl::Span<const int64_t> sizes, DType dtype, Device device, bool fake) {
  const int64_t nbytes = CheckedByteSize(sizes, dtype, "allocate");
  Storage storage = (fake || device.is_meta()) ? FakeStorage(nbytes, device)
                                                : AllocateStorage(nbytes, device);
  // Not MakeTensor: a contiguous layout over exactly its byte size, which CheckedByteSize
  // has just checked, lies within its storage by construction.
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), ContiguousLayout(sizes), dtype));
}

}  // namespace deferred
