#ifndef DEFERRED_FAKE_TENSOR_DISPATCHER_H_
#define DEFERRED_FAKE_TENSOR_DISPATCHER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "fake_tensor/attrs.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// A way of running ops, selected per thread. With no mode pushed, ops run eagerly.
// Recording (deferred_init) is a mode: it sees every call, ops never know about it.
class DispatchMode {
 public:
  virtual ~DispatchMode() = default;
  // Runs `call`, whose inputs and attrs the dispatcher has already checked.
  virtual std::vector<Tensor> Run(OpCall& call) = 0;
};

// Pushes `mode` on this thread's mode stack for the scope's lifetime.
class ScopedDispatchMode {
 public:
  explicit ScopedDispatchMode(DispatchMode* mode);
  ~ScopedDispatchMode();
  ScopedDispatchMode(const ScopedDispatchMode&) = delete;
  ScopedDispatchMode& operator=(const ScopedDispatchMode&) = delete;
};

// The innermost mode of this thread, or null for eager execution.
DispatchMode* CurrentDispatchMode();

// Calls op `name` on `inputs` and returns its outputs: an op with a fake input goes to that
// input's recorder (whatever the mode); any other op goes through the current mode. Throws
// `Error` for an unknown op, undefined inputs, or inputs on different devices. A random
// op reserves its Philox blocks here, whatever the mode, and receives attrs "seed" and
// "offset".
// `site` is recorded with the op when it is recorded (public op functions pass their
// caller's).
std::vector<Tensor> Dispatch(std::string_view name, std::vector<Tensor> inputs, Attrs attrs,
                             CallSite site = CallSite::Unknown());

// Dispatch for ops with exactly one output.
Tensor DispatchOne(std::string_view name, std::vector<Tensor> inputs, Attrs attrs,
                   CallSite site = CallSite::Unknown());

// The checks Dispatch makes of every call before it runs or records it: attrs exactly the
// declared ones (CheckAttrs; a random op's coordinates "seed" and "offset" present),
// inputs defined and on one device, a factory's device valid and a non-factory's inputs
// present, an in-place op's inputs not partially overlapping its target. Throws `Error`.
// Loading a saved trace makes them too.
void ValidateCall(const OpCall& call);

// Throws `Error` naming the op and the attr unless `call`'s attrs are exactly those its
// OpDef declares, each of its declared type; a random op's call also carries "seed" and
// "offset" exactly when `with_rng_coordinates` (a recorded call, as a trace file holds;
// a live call must not, since the dispatcher sets them).
void CheckAttrs(const OpCall& call, bool with_rng_coordinates);

// Eager execution of a checked call: view ops compute a layout; other ops get outputs
// from the shape rule (meta outputs when any input or the factory device is meta, without
// running a kernel), then the kernel for the device runs. Throws `Error` for inputs without data or a device with no kernel.
std::vector<Tensor> RunEager(OpCall& call);

// The device a call's outputs live on: attr "device" for factories, else input 0's.
Device OutputDevice(const OpCall& call);

// The Philox blocks a random op's call draws: ceil(elements written x words per element
// / 4). Throws `Error` past 2^64 blocks.
uint64_t RngBlocksOf(const OpCall& call);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_DISPATCHER_H_
