#include "fake_tensor/tensor.h"

#include "absl/strings/str_cat.h"
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

Tensor MakeTensor(Storage storage, TensorLayout layout, DType dtype) {
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), std::move(layout), dtype));
}

TensorLayout ContiguousLayout(absl::Span<const int64_t> sizes) {
  return TensorLayout{Shape(sizes.begin(), sizes.end()), ContiguousStrides(sizes), 0};
}

Tensor MakeView(const Tensor& base, TensorLayout layout) {
  return MakeTensor(base.storage(), std::move(layout), base.dtype());
}

Tensor AllocateTensor(absl::Span<const int64_t> sizes, DType dtype, Device device, bool fake) {
  const int64_t nbytes = NumElements(sizes) * ElementSize(dtype);
  Storage storage = (fake || device.is_meta()) ? FakeStorage(nbytes, device)
                                                : AllocateStorage(nbytes, device);
  return MakeTensor(std::move(storage), ContiguousLayout(sizes), dtype);
}

}  // namespace deferred
