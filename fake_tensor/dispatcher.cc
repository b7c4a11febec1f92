#include "fake_tensor/dispatcher.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <string>
#include <utility>

#include "fake_tensor/device_memory.h"
#include "fake_tensor/error.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/recorder.h"

namespace deferred {
namespace {

thread_local std::vector<DispatchMode*> mode_stack;

void CheckInputs(const OpCall& call) {
  const std::string& op = call.def->name;
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    if (!call.inputs[i].defined()) ThrowError("%s: input %d is an undefined tensor", op, i);
    if (call.inputs[i].device() != call.inputs[0].device()) {
      ThrowError("%s: inputs are on different devices (input 0 on %s, input %d on %s)", op,
                 call.inputs[0].device().ToString(), i, call.inputs[i].device().ToString());
    }
  }
  if (call.def->kind == OpKind::kFactory) {
    if (!call.inputs.empty()) ThrowError("%s: a factory takes no tensor inputs", op);
    const absl::Status device = call.attrs.Get<Device>("device").Validate();
    if (!device.ok()) ThrowError("%s: %s", op, device.message());
  } else if (call.inputs.empty()) {
    ThrowError("%s: expected at least one tensor input", op);
  }
}

// The smallest and largest element offsets a layout touches in its storage.
std::pair<int64_t, int64_t> Footprint(const TensorLayout& layout) {
  int64_t lo = layout.storage_offset, hi = layout.storage_offset;
  for (size_t d = 0; d < layout.sizes.size(); ++d) {
    const int64_t extent = (layout.sizes[d] - 1) * layout.strides[d];
    (extent < 0 ? lo : hi) += extent;
  }
  return {lo, hi};
}

// An in-place op may read the tensor it writes only element for element (same layout) or
// from a disjoint part of the same storage; a partial overlap would make the result depend
// on the kernel's iteration order, which eager and replayed execution cannot share.
void CheckNoPartialOverlap(const OpCall& call) {
  const Tensor& self = call.inputs[0];
  if (self.numel() == 0) return;
  const auto [self_lo, self_hi] = Footprint(self.layout());
  for (size_t i = 1; i < call.inputs.size(); ++i) {
    const Tensor& input = call.inputs[i];
    if (input.storage() != self.storage() || input.numel() == 0) continue;
    if (input.layout().sizes == self.sizes() && input.layout().strides == self.strides() &&
        input.storage_offset() == self.storage_offset()) {
      continue;
    }
    const auto [lo, hi] = Footprint(input.layout());
    if (hi < self_lo || lo > self_hi) continue;
    ThrowError("%s: input %d partially overlaps the tensor written in place (%s); clone "
               "the input first",
               call.def->name, i, self.ToString());
  }
}

// Reserves the call's Philox blocks and records where they start in its attrs. Done here,
// before any mode runs the call, so that every mode (and every device, meta included)
// advances the generator identically. The shape rule validates the call first (in
// RngBlocksOf), so misuse reserves nothing.
void ReserveRng(OpCall& call) {
  const RngState start = ReserveRngBlocks(RngBlocksOf(call));
  call.attrs.Set("seed", std::bit_cast<int64_t>(start.seed));
  call.attrs.Set("offset", std::bit_cast<int64_t>(start.offset));
}

// The recorder of the call's fake inputs, or null when all inputs are real. Throws `Error`
// when fake inputs come from different recorders (different deferred_init calls).
OpRecorder* RecorderOf(const OpCall& call) {
  OpRecorder* recorder = nullptr;
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    OpRecorder* r = call.inputs[i].storage()->recorder().get();
    if (r == nullptr) continue;
    if (recorder != nullptr && r != recorder) {
      ThrowError("%s: input %d was recorded by another deferred_init than input 0's fake "
                 "inputs; tensors of different deferred models cannot be combined",
                 call.def->name, i);
    }
    recorder = r;
  }
  return recorder;
}

// The context of a kernel writing on `device` (which holds its outputs, so is usable): an
// accelerator's stream from its memory.
KernelContext KernelContextOf(Device device) {
  KernelContext context{device, nullptr};
  if (device.type() == DeviceType::kCPU) return context;
  absl::StatusOr<void*> stream = DeviceMemoryOf(device.type())->StreamOf(device.index());
  if (!stream.ok()) throw Error(std::string(stream.status().message()), stream.status().code());
  context.stream = *stream;
  return context;
}

}  // namespace

ScopedDispatchMode::ScopedDispatchMode(DispatchMode* mode) { mode_stack.push_back(mode); }
ScopedDispatchMode::~ScopedDispatchMode() { mode_stack.pop_back(); }

DispatchMode* CurrentDispatchMode() { return mode_stack.empty() ? nullptr : mode_stack.back(); }

void CheckAttrs(const OpCall& call, bool with_rng_coordinates) {
  const OpDef& def = *call.def;
  const bool coordinates = with_rng_coordinates && def.is_random();
  size_t expected = def.attrs.size() + (coordinates ? 2 : 0);
  for (const AttrSpec& spec : def.attrs) {
    if (!call.attrs.Has(spec.name)) ThrowError("%s: missing attr '%s'", def.name, spec.name);
    for (const auto& [name, value] : call.attrs.entries()) {
      if (name == spec.name && value.index() != static_cast<size_t>(spec.type)) {
        ThrowError("%s: attr '%s' must be of type %s", def.name, spec.name,
                   AttrTypeName(spec.type));
      }
    }
  }
  if (coordinates) {
    call.attrs.Get<int64_t>("seed");
    call.attrs.Get<int64_t>("offset");
  }
  if (call.attrs.entries().size() == expected) return;
  for (const auto& entry : call.attrs.entries()) {
    const std::string& name = entry.first;
    const bool declared =
        std::any_of(def.attrs.begin(), def.attrs.end(),
                    [&name](const AttrSpec& spec) { return spec.name == name; }) ||
        (coordinates && (name == "seed" || name == "offset"));
    if (!declared) ThrowError("%s: unknown attr '%s'", def.name, name);
  }
  ThrowError("%s: an attr is given more than once", def.name);
}

uint64_t RngBlocksOf(const OpCall& call) {
  const TensorSpecs specs = OutputSpecsOf(call);
  unsigned __int128 numel = 0;  // each output's count fits in int64; their sum may not
  if (call.def->kind == OpKind::kInPlace) {
    numel = call.inputs[0].numel();
  } else {
    for (const TensorSpec& spec : specs) numel += NumElements(spec.sizes);
  }
  const unsigned __int128 blocks =
      (numel * static_cast<uint64_t>(call.def->rng_words_per_element(call)) + 3) / 4;
  if (blocks > std::numeric_limits<uint64_t>::max()) {
    ThrowError("%s: needs more than 2^64 Philox blocks", call.def->name);
  }
  return static_cast<uint64_t>(blocks);
}

Device OutputDevice(const OpCall& call) {
  if (call.def->kind == OpKind::kFactory) return call.attrs.Get<Device>("device");
  return call.inputs[0].device();
}

void ValidateCall(const OpCall& call) {
  CheckAttrs(call, /*with_rng_coordinates=*/true);
  CheckInputs(call);
  if (call.def->kind == OpKind::kInPlace) CheckNoPartialOverlap(call);
}

std::vector<Tensor> Dispatch(std::string_view name, std::vector<Tensor> inputs, Attrs attrs,
                             CallSite site) {
  OpCall call{&OpRegistry::Global().Get(name), std::move(inputs), std::move(attrs), site};
  CheckAttrs(call, /*with_rng_coordinates=*/false);
  CheckInputs(call);
  if (call.def->kind == OpKind::kInPlace) CheckNoPartialOverlap(call);
  if (call.def->is_random()) ReserveRng(call);
  if (OpRecorder* recorder = RecorderOf(call)) return recorder->Record(call);
  DispatchMode* mode = CurrentDispatchMode();
  return mode != nullptr ? mode->Run(call) : RunEager(call);
}

Tensor DispatchOne(std::string_view name, std::vector<Tensor> inputs, Attrs attrs,
                   CallSite site) {
  std::vector<Tensor> outputs = Dispatch(name, std::move(inputs), std::move(attrs), site);
  if (outputs.size() != 1) ThrowError("%s: expected one output, got %d", name, outputs.size());
  return std::move(outputs[0]);
}

std::vector<Tensor> RunEager(OpCall& call) {
  const OpDef& def = *call.def;
  if (def.kind == OpKind::kView) {
    return {MakeView(call.inputs[0], ViewLayoutOf(call))};
  }
  const TensorSpecs specs = OutputSpecsOf(call);
  const Device device = OutputDevice(call);

  std::vector<Tensor> outputs;
  if (def.kind == OpKind::kInPlace) {
    outputs.push_back(call.inputs[0]);
  } else {
    for (const TensorSpec& spec : specs) {
      outputs.push_back(AllocateTensor(spec.sizes, spec.dtype, spec.device));
    }
  }
  if (device.is_meta()) return outputs;
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    if (!call.inputs[i].has_data()) {
      ThrowErrorWithCode(absl::StatusCode::kFailedPrecondition,
                         "%s: input %d is %s, which has no data; ops on fake tensors run "
                         "only while recording (deferred_init) or after materializing",
                         def.name, i, call.inputs[i].ToString());
    }
  }
  const Kernel& kernel = def.kernel(device.type());
  if (!kernel) {
    ThrowErrorWithCode(absl::StatusCode::kUnimplemented, "%s: no kernel for device %s",
                       def.name, device.ToString());
  }
  kernel(KernelContextOf(device), call, outputs);
  return outputs;
}

}  // namespace deferred
