#ifndef DEFERRED_FAKE_TENSOR_RECORDER_H_
#define DEFERRED_FAKE_TENSOR_RECORDER_H_

#include <memory>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// Where ops on fake tensors go: the trace of a deferred_init (replay/trace.h implements
// it). Every fake storage points to the recorder that made it, so an op with a fake input
// is recorded wherever and whenever it runs — also after deferred_init has returned.
class OpRecorder {
 public:
  virtual ~OpRecorder() = default;
  // Appends `call` and returns its outputs as fake tensors (views share their input's fake
  // storage; in-place ops return input 0). Throws `Error` on misuse.
  virtual std::vector<Tensor> Record(OpCall& call) = 0;
};

// The dispatch mode of deferred_init: factories make fake tensors recorded by `recorder`,
// except on the meta device, whose tensors stay meta (shapes only, never materialized);
// ops whose inputs are all real run eagerly (ops with fake inputs never reach a mode: the
// dispatcher sends them to their recorder).
class RecordingMode : public DispatchMode {
 public:
  explicit RecordingMode(std::shared_ptr<OpRecorder> recorder) : recorder_(std::move(recorder)) {}

  std::vector<Tensor> Run(OpCall& call) override;
  const std::shared_ptr<OpRecorder>& recorder() const { return recorder_; }

 private:
  std::shared_ptr<OpRecorder> recorder_;
};

// The innermost RecordingMode of this thread, or null when not recording.
RecordingMode* CurrentRecordingMode();

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_RECORDER_H_
