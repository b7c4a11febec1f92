#ifndef DEFERRED_FAKE_TENSOR_OP_REGISTRY_H_
#define DEFERRED_FAKE_TENSOR_OP_REGISTRY_H_

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "fake_tensor/attrs.h"
#include "fake_tensor/call_site.h"
#include "fake_tensor/device.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/region.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// How an op relates its outputs to its inputs; the dispatcher treats each kind uniformly.
enum class OpKind {
  kFactory,     // no tensor inputs; one new output on the device named by attr "device"
  kFunctional,  // new outputs computed from the inputs
  kInPlace,     // writes into input 0, which is also its output
  kView,        // output shares input 0's storage with another layout; no kernel
};

// What an op will produce, known without data.
struct TensorSpec {
  Shape sizes;
  DType dtype;
  Device device;
};

// The specs of an op's outputs. Nearly every op has one output, which is held inline.
using TensorSpecs = absl::InlinedVector<TensorSpec, 1>;

// The type of an attr's value: the alternative of AttrValue it holds, in AttrValue's order.
enum class AttrType { kBool, kInt, kDouble, kScalar, kShape, kDType, kDevice, kBytes };

// "int64", "Shape", ...: for messages.
const char* AttrTypeName(AttrType type);

// A named non-tensor argument that every call of an op passes.
struct AttrSpec {
  std::string name;
  AttrType type;
};

struct OpDef;

// One invocation of an op: what the dispatcher hands to rules and kernels.
struct OpCall {
  const OpDef* def = nullptr;
  std::vector<Tensor> inputs;
  Attrs attrs;
  CallSite site = CallSite::Unknown();  // where model code asked for it (recorded with it)
};

// Validates a call and returns its outputs' specs (for kInPlace: input 0's spec). Throws
// `Error` on misuse. Never touches data, so it serves eager, meta and fake tensors alike.
using ShapeRule = std::function<TensorSpecs(const OpCall&)>;
// The layout of a view op's output within input 0's storage. Throws `Error` on misuse.
using ViewRule = std::function<TensorLayout(const OpCall&)>;
// Fills `outputs` (allocated from the shape rule's specs, or input 0 for kInPlace).
// Where a kernel runs: the device that holds its outputs and, on an accelerator, the queue
// its work goes on (the device runtime's stream, opaque here: a cudaStream_t for CUDA; null
// on the CPU and on devices that order work otherwise). An accelerator's kernel enqueues
// its work there and returns; later work on the queue sees it done.
struct KernelContext {
  Device device = Device::CPU();
  void* stream = nullptr;
};

using Kernel = std::function<void(const KernelContext& context, const OpCall&,
                                  absl::Span<const Tensor> outputs)>;
// For random ops: 32-bit Philox words consumed per output element. The dispatcher reserves
// ceil(numel * words / 4) counter blocks and passes attrs "seed" and "offset" (int64 bit
// patterns of the unsigned values) to the kernel.
using RngWordsRule = std::function<int64_t(const OpCall&)>;

// How to compute only part of an op's outputs: the region of each input to read (in that
// input's index space) and the attrs with which the op, run on inputs restricted to those
// regions, produces exactly the requested output regions.
struct RegionPlan {
  std::vector<Region> inputs;
  Attrs attrs;
};
// Given the needed region of each output (for kInPlace: the region of input 0 written),
// returns the plan, or nullopt when the op must compute its whole output from whole
// inputs (correct, only costlier). Never touches data.
using RegionRule =
    std::function<std::optional<RegionPlan>(const OpCall&, absl::Span<const Region> outputs)>;

// Everything known about one op, reached from its name in one hop.
struct OpDef {
  std::string name;
  OpKind kind = OpKind::kFunctional;
  // kInPlace only: the op writes every element of its target without reading it (fills,
  // random samplers, copy_), so what the target held before is dead where it writes and
  // replay never computes it there.
  bool overwrites = false;
  // The attrs of every call, in any order: the dispatcher refuses a call whose attrs are
  // not exactly these (CheckAttrs). Besides them, a recorded random op carries the Philox
  // coordinates "seed" and "offset", and a region rule may add "region_start" and
  // "full_sizes" to the calls replay makes; no op declares those names.
  std::vector<AttrSpec> attrs;
  ShapeRule shape_rule;            // every kind but kView
  ViewRule view_rule;              // kView only
  RngWordsRule rng_words_per_element;  // set only for random ops
  RegionRule region_rule;          // unset: the op computes whole outputs only
  std::array<Kernel, 3> kernels;   // indexed by DeviceType; empty where none is registered
  // Indexed by DeviceType: the device's kernel computes on the host and copies its outputs
  // to the device (a host fallback: RegisterHostFallbackKernel).
  std::array<bool, 3> host_fallbacks{};

  bool is_random() const { return static_cast<bool>(rng_words_per_element); }
  const Kernel& kernel(DeviceType type) const { return kernels[static_cast<int>(type)]; }
  bool is_host_fallback(DeviceType type) const { return host_fallbacks[static_cast<int>(type)]; }
};

// The call's output specs from its op's shape rule, each checked with CheckedByteSize so
// that no op can describe a tensor whose element count, byte size or strides overflow
// int64, whatever its own rule checks. Every caller of a shape rule goes through this.
// Throws `Error` naming the op.
TensorSpecs OutputSpecsOf(const OpCall& call);

// The layout of a kView call's output from its op's view rule, checked to lie within
// input 0's storage (CheckLayoutInStorage). Throws `Error` naming the op.
TensorLayout ViewLayoutOf(const OpCall& call);

// The one table of ops. Op definitions (fake_tensor/ops/) and kernels (replay/kernels/)
// register themselves during static initialization in any order.
class OpRegistry {
 public:
  static OpRegistry& Global();

  // Registers an op's definition; its name must be new. Returns true (for static init).
  bool RegisterOp(OpDef def);
  // Registers the kernel of op `name` for `device`, before or after the op itself.
  bool RegisterKernel(std::string_view name, DeviceType device, Kernel kernel);
  // Registers as RegisterKernel a kernel for an accelerator `device` that computes on the
  // host and copies its outputs up, marked so that replay can report it
  // (ReplaySession::host_fallbacks).
  bool RegisterHostFallbackKernel(std::string_view name, DeviceType device, Kernel kernel);

  // The op named `name`; throws `Error` (NotFound) if no definition was registered.
  const OpDef& Get(std::string_view name) const;
  bool Contains(std::string_view name) const;
  // The names of all defined ops, sorted.
  std::vector<std::string> OpNames() const;

 private:
  // Requires mutex_.
  OpDef& Entry(std::string_view name);

  // A std::mutex, not absl::Mutex: ThreadSanitizer sees only the locks of instrumented
  // code, and Debian's Abseil is not instrumented (docs/BUILDING.md).
  mutable std::mutex mutex_;
  // Guarded by mutex_. Each OpDef has its own allocation and is never removed, so
  // references handed out stay valid as the map grows.
  absl::flat_hash_map<std::string, std::unique_ptr<OpDef>> ops_;
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_OP_REGISTRY_H_
